"""iCalendar meetings: the real Detroit board feed (tests/data/local/ics), derived later states, and
the spider through the real engine."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from listings import listing_of
from recorded import local
from statusjson import changes_json, status_json

from tracker.config import load_config
from tracker.crawl import run_crawls
from tracker.demo.replay import ReplayServer
from tracker.meetings.diff import diff_meeting
from tracker.meetings.ical import parse_ical
from tracker.meetings.normalize import (
    SourceParseError,
    cancellation,
    keywords_each,
    match_keywords,
    moved_in_name,
)
from tracker.records import Meeting
from tracker.store import Store

ICS = local("ics/detroit_k12_board_of_education.ics")
WINDOW = (datetime(2019, 3, 11, tzinfo=UTC), datetime(2019, 8, 8, tzinfo=UTC))


def parse(data: bytes, zone: str = "America/Detroit") -> tuple[list[dict[str, Any]], list[str]]:
    return listing_of(parse_ical, data, watch_id="dpscd", body="Detroit Board of Education", timezone=zone,
                      window_start=WINDOW[0], window_end=WINDOW[1])


def test_real_feed() -> None:
    meetings, problems = parse(ICS)
    assert problems == [] and len(meetings) > 10
    board = next(mt for mt in meetings if mt["source_ref"] == "7856")
    assert board["title"] == "DPSCD Regular Board Meeting (Open)"
    assert board["start"] == "2019-04-16T21:30:00+00:00" and board["date"] == "2019-04-16"
    assert board["location"] == "Renaissance High School, Detroit, MI 48235, USA"
    assert board["status"] == "confirmed"


@pytest.mark.parametrize(
    ("status", "title", "comment", "word"),
    [("Deferred", "Committee on Public Safety", None, "Deferred"),
     ("Canceled", "x", None, "Canceled"),
     ("CANCELLED", "Board meeting", None, "CANCELLED"),
     ("CONFIRMED", "CANCELLED - Finance Sub-Committee Meeting", None, "CANCELLED"),
     (None, "Regular meeting", "This meeting has been postponed.", "postponed"),
     ("Final", "Regular meeting", "Jointly with the Committee on Finance", None),
     (None, "Deferred Compensation Board of Control Regular Meeting", None, None),
     (None, "Regular meeting - deferred", None, "deferred"),
     (None, "03-17-26 City Council Agenda (No Meeting)", None, "No Meeting"),
     (None, "THE OVERSIGHT BOARD WILL NOT MEET ON JULY 10, 2012", None, "WILL NOT MEET"),
     (None, "Council agenda - 10/13/20 - reg rescheduled from 10/6", None, None),
     (None, "Regular meeting", "There will be no meeting of the subcommittee.", None),
     (None, "City Council Special Meeting_Cancellation Notice", None, "Cancellation"),  # Temple City's AgendaCenter
     (None, "Deferred_Compensation_Committee", None, None)],
)
def test_cancellation_spellings(status: str | None, title: str, comment: str | None, word: str | None) -> None:
    assert cancellation(status=status, title=title, comment=comment) == word


# Saint Paul Public Schools' notices, as its calendar feed writes them on the meeting that is held
# (tests/data/local/corpus/ical/st_paul_schools_full.ics).
MOVED = ("the Regular Meeting of the Board of Education of Independent School District No. 625, Saint Paul Public "
         "Schools, scheduled to be held and convened on Tuesday, April 14, 2020, is canceled and shall now commence "
         "on Tuesday, April 21, 2020 at 6:05 p.m.")
OTHER_HELD = ("to be held and convened on Tuesday, October 11, 2022 for the purpose of a Regular Meeting of the Board of "
              "Education. The Regular Meeting of the Board of Education of October 18, 2022 has been canceled. "
              "Dated: September 20, 2022")
TO_ACT_ON = ("to be held and convened on Monday, December 15, 2025 in Conference Room 5A. The special meeting shall "
             "begin at 4:30 p.m., and the Board will discuss and act on the cancellation of the Tuesday, December 16, "
             "2025 Regular Meeting of the Board of Education")
# a heading naming no day above a notice of another day's meeting
HEADED = "CANCELLATION NOTICE: The Regular Meeting of October 18, 2022 has been canceled."


@pytest.mark.parametrize(
    ("comment", "day", "word"),
    [(MOVED, date(2020, 4, 21), None), (MOVED, date(2020, 4, 14), "canceled"),
     (OTHER_HELD, date(2022, 10, 11), None), (OTHER_HELD, date(2022, 10, 18), "canceled"),
     (TO_ACT_ON, date(2025, 12, 15), None), (TO_ACT_ON, date(2025, 12, 16), "cancellation"),
     # naming no day for the word, a notice cancels its own meeting
     ("Posted 10/01/2022: This meeting has been cancelled.", date(2022, 10, 11), "cancelled"),
     ("Cancelled - rescheduled to 10/25/2022", date(2022, 10, 18), "Cancelled"),
     ("Rescheduled from the canceled meeting of October 4, 2022.", date(2022, 10, 11), None),
     ("The October 18, 2022 meeting is cancelled.", date(2022, 10, 18), "cancelled"),
     ("Meeting of March 3, 2026 cancelled; rescheduled to March 10, 2026", date(2026, 3, 10), None),
     ("Meeting of March 3, 2026 cancelled; rescheduled to March 10, 2026", date(2026, 3, 3), "cancelled"),
     # a date saying when the notice was written or the meeting called off, or the new day: its own is off
     ("This meeting was cancelled on 2/27/2026.", date(2026, 3, 3), "cancelled"),
     ("Meeting cancelled on February 27, 2026 due to lack of quorum", date(2026, 3, 3), "cancelled"),
     ("POSTPONED on 3/1/2026 until further notice", date(2026, 3, 3), "POSTPONED"),
     ("Postponed for March 10, 2026", date(2026, 3, 3), "Postponed"),
     ("Posted 02/27/2026\nCANCELLED", date(2026, 3, 3), "CANCELLED"),
     ("Updated 02/27/2026, CANCELLED", date(2026, 3, 3), "CANCELLED"),
     ("02/27/2026 CANCELLED", date(2026, 3, 3), "CANCELLED"),
     ("Posted 02/27/2026 The Regular Meeting has been cancelled", date(2026, 3, 3), "cancelled"),
     # the meeting's name between its date and the verbs
     ("The March 10, 2026 Regular Meeting is cancelled.", date(2026, 3, 3), None),
     ("The March 10, 2026 Regular Meeting is cancelled.", date(2026, 3, 10), "cancelled"),
     ("The Tuesday, March 10, 2026 Special Board Meeting has been postponed.", date(2026, 3, 3), None),
     ("The Tuesday, March 10, 2026 Special Board Meeting has been postponed.", date(2026, 3, 10), "postponed"),
     # a heading naming no day goes with the notice's words that all name another day
     (HEADED, date(2022, 10, 11), None), (HEADED, date(2022, 10, 18), "CANCELLATION"),
     (HEADED.replace(": ", "\n"), date(2022, 10, 11), None),
     (HEADED.replace(": ", "\n"), date(2022, 10, 18), "CANCELLATION"),
     ("This meeting has been cancelled. The March 17, 2026 meeting has also been cancelled.", date(2026, 3, 10),
      "cancelled"),
     ("The Regular Meeting is cancelled", date(2026, 3, 10), "cancelled"),
     ("Cancelled: the March 10 meeting moved to March 17", date(2026, 3, 10), "Cancelled"),
     # a heading's word followed by the day it heads
     ("Cancelled: the March 10 meeting moved to March 17", date(2026, 3, 17), None),
     ("CANCELLED - Tuesday, March 10, 2026", date(2026, 3, 10), "CANCELLED"),
     ("CANCELLED - Tuesday, March 10, 2026", date(2026, 3, 17), None),
     ("MEETING CANCELLED\nMarch 10 meeting moved to March 17", date(2026, 3, 17), None),
     ("Cancellation notice: March 17, 2026 Regular Meeting", date(2026, 3, 17), "Cancellation"),
     ("Cancelled - rescheduled to March 17", date(2026, 3, 10), "Cancelled"),
     # ... a "cancelled" heading only, and a date heading a meeting called off or moved, not one held
     ("POSTPONED - March 17, 2026", date(2026, 3, 10), "POSTPONED"),
     ("Postponed \u2013 Tuesday, March 17, 2026 at 6 PM", date(2026, 3, 10), "Postponed"),
     ("DEFERRED - April 14, 2026", date(2026, 4, 7), "DEFERRED"),
     ("Cancelled - March 17 meeting will be held instead", date(2026, 3, 10), "Cancelled"),
     ("MEETING CANCELLED\nMarch 17, 2026 Regular Meeting will be held as scheduled", date(2026, 3, 10), "CANCELLED"),
     ("CANCELLED: the March 10 Regular Meeting has been moved to March 17.", date(2026, 3, 17), None),
     # a date with no year is read in the year nearest the meeting's day
     ("The March 10 Regular Meeting is cancelled", date(2026, 3, 3), None),
     ("The March 10 Regular Meeting is cancelled", date(2026, 3, 10), "cancelled"),
     ("Meeting of October 18 has been canceled", date(2022, 10, 11), None),
     ("CANCELLATION NOTICE: Meeting of October 18 has been canceled.", date(2022, 10, 11), None),
     ("CANCELLATION NOTICE: Meeting of October 18 has been canceled.", date(2022, 10, 18), "CANCELLATION"),
     ("The January 5th Regular Meeting is cancelled", date(2025, 12, 29), None),
     ("The January 5th Regular Meeting is cancelled", date(2026, 1, 5), "cancelled"),
     ("act on the cancellation of the Tuesday, December 16 Regular Meeting", date(2025, 12, 15), None),
     ("Mayor 5 cancelled", date(2026, 3, 3), "cancelled"),
     # a word naming no day in a sentence (no heading) is the meeting's own, whatever else is called off
     ("CANCELLED. Note: the March 24, 2026 meeting has been cancelled as well.", date(2026, 3, 10), "CANCELLED"),
     ("Meeting cancelled due to weather. The March 3 meeting was also cancelled.", date(2026, 3, 10), "cancelled"),
     ("Cancelled.\nThe March 24, 2026 Regular Meeting is postponed.", date(2026, 3, 10), "Cancelled"),
     ("This Regular Meeting has been cancelled. The March 24, 2026 meeting is also cancelled.", date(2026, 3, 10),
      "cancelled"),
     ("MEETING CANCELLED\nThe Regular Meeting has been cancelled. The next meeting of March 24, 2026 has also been "
      "cancelled.", date(2026, 3, 10), "cancelled"),
     # a date after "posted on" is the notice's, not a meeting's
     ("Posted on March 3 CANCELLED", date(2026, 3, 10), "CANCELLED"),
     ("Updated on March 3, 2026, CANCELED", date(2026, 3, 10), "CANCELED"),
     # "of the" inside the meeting's name; the meeting's own day with the year mistyped as it turns
     ("The March 17, 2026 Committee of the Whole Meeting is cancelled.", date(2026, 3, 10), None),
     ("The March 17, 2026 Committee of the Whole Meeting is cancelled.", date(2026, 3, 17), "cancelled"),
     ("The January 6, 2025 Regular Meeting is cancelled.", date(2026, 1, 6), "cancelled")],
)
def test_a_notice_cancelling_another_days_meeting_does_not_cancel_its_own(comment: str, day: date,
                                                                          word: str | None) -> None:
    assert cancellation(title="Regular Board of Education Meeting", comment=comment, day=day) == word


@pytest.mark.parametrize(
    ("title", "day", "word"),
    [("Library Agenda - 2/18/2020 - Rescheduled to 2/27/20", date(2020, 2, 18), "Rescheduled to 2/27/20"),
     ("Library Agenda - Rescheduled to 2/27/20", date(2020, 2, 27), None),  # the moved meeting's own entry
     ("City Council Meeting Rescheduled to August 3", date(2021, 8, 4), "Rescheduled to August 3"),
     ("City Council Meeting Rescheduled to August 3", date(2021, 8, 3), None),
     ("AUDIT COMMITTEE MEETING - RESCHEDULED FOR SEPTEMBER 2, 2021", date(2021, 8, 26), "RESCHEDULED FOR SEPTEMBER 2"),
     ("Council agenda - 10/13/20 - reg rescheduled from 10/6", date(2020, 10, 13), None),
     ("Rescheduled to 2/27/2020/B", date(2020, 2, 18), None),  # no date: not read as one
     # Bartow, FL's Agenda Center names its agendas "<the meeting's day> Agenda ...": the row of 6 August
     # holds "2025-08-20 RESCHEDULED Agenda ..." (moved to 20 August); the 20 August entry is the meeting
     ("2025-08-20 RESCHEDULED Agenda Beautification Advisory Board Meeting", date(2025, 8, 6), "2025-08-20 RESCHEDULED"),
     ("2025-08-20 RESCHEDULED Agenda Beautification Advisory Board Meeting", date(2025, 8, 20), None),
     ("2025-08-20 Agenda Beautification Advisory Board Meeting", date(2025, 8, 6), None),  # no move said
     ("Project 2025-08-20 rescheduled-items review", date(2025, 8, 6), None),  # not the word on its own
     # a name opening with the day it moved from, then the day it moved to: the new day's entry is held,
     # the old day's is the cancelled one (read the other way round before)
     ("2025-07-30 RESCHEDULED TO 2025-08-06 Agenda Beautification Advisory Board Meeting", date(2025, 8, 6), None),
     ("2025-07-30 RESCHEDULED TO 2025-08-06 Agenda Beautification Advisory Board Meeting", date(2025, 7, 30),
      "RESCHEDULED TO 2025-08-06"),
     ("2025-07-30 Agenda Beautification Advisory Board - Rescheduled to 2025-08-06", date(2025, 7, 30),
      "Rescheduled to 2025-08-06")],
)
def test_a_name_moving_its_meeting_to_another_day(title: str, day: date, word: str | None) -> None:
    assert moved_in_name(title, day) == word


def test_keywords_are_whole_words() -> None:
    assert match_keywords(["Amend police procedures"], ["police"]) == ["police"]
    assert match_keywords(["New policies for parks"], ["police"]) == []
    assert match_keywords(["Shotspotter contract renewal"], ["ShotSpotter"]) == ["ShotSpotter"]
    assert match_keywords(["Mental health crisis  response teams"], ["crisis response", "NYPD"]) == ["crisis response"]


def test_keywords_of_many_texts_are_each_texts_own() -> None:
    """A meeting's agenda items are tested together first (BoardDocs: thousands of items): each
    item still gets exactly the keywords it holds itself."""
    texts = ["Roll Call", "Police budget", "New policies", "Crisis\nresponse", "Café police", ""]
    keywords = ["police", "budget", "crisis response"]
    assert keywords_each(texts, keywords) == [match_keywords([t], keywords) for t in texts] == [
        [], ["police", "budget"], [], ["crisis response"], ["police"], []]
    assert keywords_each(["Roll Call", "Pledge"], keywords) == [[], []]
    ascii_only = ["Police Budget", "policies", "POLICE", "Crisis  response plan", "budgetary police-review", ""]
    assert keywords_each(ascii_only, keywords) == [match_keywords([t], keywords) for t in ascii_only] == [
        ["police", "budget"], [], ["police"], ["crisis response"], ["police"], []]
    assert keywords_each(["Police"], []) == [[]]


def test_one_broken_event_is_reported_and_the_rest_read() -> None:
    # derived: one event's DTSTART replaced by garbage
    broken = ICS.replace(b"DTSTART:20190416T213000Z", b"DTSTART:not-a-time", 1)
    meetings, problems = parse(broken)
    assert len(problems) == 1 and "7856" in problems[0]
    assert len(meetings) == len(parse(ICS)[0]) - 1


def test_html_error_page_is_refused() -> None:
    with pytest.raises(SourceParseError, match="HTML page"):
        parse(b"<!DOCTYPE html><html><body>Error</body></html>")


SERIES = b"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:derived test feed
BEGIN:VEVENT
UID:council-weekly
SUMMARY:City Council
DTSTART;TZID=America/Detroit:20190401T180000
DTEND;TZID=America/Detroit:20190401T200000
RRULE:FREQ=WEEKLY;COUNT=4
LOCATION:Council Chambers
END:VEVENT
%s
END:VCALENDAR
"""
MOVED = b"""BEGIN:VEVENT
UID:council-weekly
RECURRENCE-ID;TZID=America/Detroit:20190408T180000
SUMMARY:City Council
DTSTART;TZID=America/Detroit:20190409T100000
DTEND;TZID=America/Detroit:20190409T120000
LOCATION:Council Chambers
END:VEVENT"""


def test_recurring_event_with_one_instance_moved() -> None:
    # derived: a weekly series, then the same series with its 8 April instance moved to 9 April
    before, _ = parse(SERIES % b"")
    after, _ = parse(SERIES % MOVED)
    assert [mt["source_ref"] for mt in before] == [mt["source_ref"] for mt in after]
    changed = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    assert len(changed) == 1
    old, new = changed[0]
    assert old["source_ref"] == "council-weekly@20190408T220000Z"
    (change,) = diff_meeting(Meeting.load(old), Meeting.load(new), f"meeting:ical:dpscd:{old['source_ref']}")
    assert change.kind == "meeting.rescheduled"
    assert change.data == {"from": "2019-04-08T18:00:00-04:00", "to": "2019-04-09T10:00:00-04:00"}
    assert change.summary == "Detroit Board of Education City Council on Mon Apr 8, 6:00 PM moved to Tue Apr 9, 10:00 AM"


def test_daylight_saving_is_respected() -> None:
    july = SERIES.replace(b"20190401T", b"20190701T").replace(b"COUNT=4", b"COUNT=1") % b""
    november = SERIES.replace(b"20190401T", b"20191104T").replace(b"COUNT=4", b"COUNT=1") % b""
    (summer,), _ = listing_of(parse_ical, july, watch_id="x", body="B", timezone="America/Detroit",
                              window_start=datetime(2019, 6, 1, tzinfo=UTC), window_end=datetime(2019, 12, 1, tzinfo=UTC))
    (winter,), _ = listing_of(parse_ical, november, watch_id="x", body="B", timezone="America/Detroit",
                              window_start=datetime(2019, 6, 1, tzinfo=UTC), window_end=datetime(2019, 12, 1, tzinfo=UTC))
    assert summer["start"] == "2019-07-01T22:00:00+00:00" and winter["start"] == "2019-11-04T23:00:00+00:00"


def test_feed_through_the_engine(tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Baseline, then a later state with a new meeting, a move and a cancellation, then nothing."""
    monkeypatch.setenv("TRACKER_NOW", "2019-04-10T12:00:00Z")
    # derived: the real feed without event 7848, and with event 7856 an hour earlier
    earlier = ICS.replace(b"DTSTART:20190416T213000Z", b"DTSTART:20190416T203000Z", 1)
    start = earlier.index(b"UID:7848")
    begin, end = earlier.rindex(b"BEGIN:VEVENT", 0, start), earlier.index(b"END:VEVENT", start) + len(b"END:VEVENT\r\n")
    earlier = earlier[:begin] + earlier[end:]
    replay.add("/feed.ics", earlier)
    path = tmp_path / "tracker.toml"
    path.write_text(f'[crawl]\ndelay_seconds = 0\n[[meetings]]\nid = "dpscd"\nname = "Detroit Board of Education"\n'
                    f'timezone = "America/Detroit"\nical = "{replay.url}/feed.ics"\n')
    config = load_config(path, env={})
    store = Store(config.database_url)
    (first,) = run_crawls(config, store)
    assert first.ok and first.items > 10 and changes_json(store) == []
    # the later state: the real feed, and the Finance meeting of 26 April cancelled
    later = ICS.replace(b"SUMMARY:Finance Sub-Committee Meeting (Open)\r\nCLASS:PUBLIC\r\nLOCATION:3011 W. Grand Blvd., Fisher Building 12th Floor Conference\r\nSTATUS:CONFIRMED",
                        b"SUMMARY:Finance Sub-Committee Meeting (Open)\r\nCLASS:PUBLIC\r\nLOCATION:3011 W. Grand Blvd., Fisher Building 12th Floor Conference\r\nSTATUS:CANCELLED", 1)
    assert later != ICS
    replay.replace("/feed.ics", later)
    (second,) = run_crawls(config, store)
    assert second.ok and second.changes == 2
    kinds = sorted((c["kind"], c["entity"]) for c in changes_json(store))
    assert kinds == [("meeting.added", "meeting:ical:dpscd:7848"), ("meeting.rescheduled", "meeting:ical:dpscd:7856")]
    moved = next(c for c in changes_json(store) if c["kind"] == "meeting.rescheduled")
    assert moved["data"] == {"from": "2019-04-16T16:30:00-04:00", "to": "2019-04-16T17:30:00-04:00"}
    added = next(c for c in changes_json(store) if c["kind"] == "meeting.added")
    assert added["data"]["start"] == "2019-04-26T09:00:00-04:00"
    # 7848 arrived already cancelled in this state: it is added, with its status shown
    status = {mt["entity"]: mt for mt in status_json(store, config)["meetings"]}
    assert status["meeting:ical:dpscd:7848"]["status"] == "cancelled"
    assert status["meeting:ical:dpscd:7856"]["start"] == "2019-04-16T17:30:00-04:00"
    (third,) = run_crawls(config, store)
    assert third.not_modified == 1 and len(changes_json(store)) == 2


def test_a_known_meeting_cancelled(tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_NOW", "2019-04-10T12:00:00Z")
    replay.add("/feed.ics", ICS)
    path = tmp_path / "tracker.toml"
    path.write_text(f'[crawl]\ndelay_seconds = 0\n[[meetings]]\nid = "dpscd"\nname = "Detroit Board of Education"\n'
                    f'timezone = "America/Detroit"\nical = "{replay.url}/feed.ics"\n')
    config = load_config(path, env={})
    store = Store(config.database_url)
    run_crawls(config, store)
    # derived: the real feed with the 16 April board meeting marked STATUS:CANCELLED
    block = ICS.index(b"UID:7856")
    cut = ICS.index(b"STATUS:CONFIRMED", block)
    replay.replace("/feed.ics", ICS[:cut] + b"STATUS:CANCELLED" + ICS[cut + len(b"STATUS:CONFIRMED"):])
    run_crawls(config, store)
    (change,) = changes_json(store)
    assert change["kind"] == "meeting.cancelled" and change["entity"] == "meeting:ical:dpscd:7856"
    assert change["data"] == {"start": "2019-04-16T17:30:00-04:00", "body": "Detroit Board of Education",
                              "status_text": "CANCELLED"}
    run_crawls(config, store)
    assert len(changes_json(store)) == 1


def test_feed_validators_wait_for_a_clean_crawl(tmp_path: Path, replay: ReplayServer,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A feed with one unreadable event is fetched whole again next run (never a 304 that would hide
    the event once it is fixed); a clean crawl saves the validators and the next run gets a 304."""
    monkeypatch.setenv("TRACKER_NOW", "2019-04-10T12:00:00Z")
    # derived: one event's DTSTART replaced by garbage
    replay.add("/feed.ics", ICS.replace(b"DTSTART:20190416T213000Z", b"DTSTART:not-a-time", 1))
    path = tmp_path / "tracker.toml"
    path.write_text(f'[crawl]\ndelay_seconds = 0\n[[meetings]]\nid = "dpscd"\nname = "Detroit Board of Education"\n'
                    f'timezone = "America/Detroit"\nical = "{replay.url}/feed.ics"\n')
    config = load_config(path, env={})
    store = Store(config.database_url)
    for _ in range(2):
        (report,) = run_crawls(config, store)
        assert len(report.errors) == 1 and "7856" in report.errors[0] and report.not_modified == 0
    replay.replace("/feed.ics", ICS)
    (report,) = run_crawls(config, store)
    assert report.ok and report.not_modified == 0
    (report,) = run_crawls(config, store)
    assert report.ok and report.not_modified == 1


def ical_watch(tmp_path: Path, replay: ReplayServer, keywords: str = '["Finance"]') -> Any:
    path = tmp_path / "tracker.toml"
    path.write_text(f'[crawl]\ndelay_seconds = 0\n[[meetings]]\nid = "dpscd"\nname = "Detroit Board of Education"\n'
                    f'timezone = "America/Detroit"\nical = "{replay.url}/feed.ics"\nkeywords = {keywords}\n')
    return load_config(path, env={})


def test_an_ical_watch_with_keywords_marks_the_meetings_whose_titles_match(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_NOW", "2019-04-10T12:00:00Z")
    replay.add("/feed.ics", ICS)
    config = ical_watch(tmp_path, replay)
    store = Store(config.database_url)
    (report,) = run_crawls(config, store)
    assert report.ok
    meetings = status_json(store, config)["meetings"]
    marked = [mt for mt in meetings if mt["items"]]
    assert marked and all("Finance" in mt["title"] for mt in marked)
    assert all(mt["items"] == [{"title": mt["title"], "matter": None, "keywords": ["Finance"]}] for mt in marked)
    assert not [mt for mt in meetings if "Finance" in mt["title"] and not mt["items"]]


def test_upgrading_the_ical_parser_is_not_news(tmp_path: Path, replay: ReplayServer,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Snapshots stored by the parser that ignored keywords: the first crawl with the new parser marks
    the matching meetings without a single alert; a later matching meeting is news as ever."""
    from dataclasses import replace

    from tracker.sources import SOURCES

    monkeypatch.setenv("TRACKER_NOW", "2019-04-10T12:00:00Z")
    # derived: the real feed without one Finance meeting (7848), which appears later
    start = ICS.index(b"UID:7848")
    begin, end = ICS.rindex(b"BEGIN:VEVENT", 0, start), ICS.index(b"END:VEVENT", start) + len(b"END:VEVENT\r\n")
    replay.add("/feed.ics", ICS[:begin] + ICS[end:])
    config = ical_watch(tmp_path, replay)
    store = Store(config.database_url)
    current = SOURCES["ical"]

    def ignoring_keywords(data: bytes, ctx: Any) -> Any:  # what the old parser did
        return current.listing(data, replace(ctx, keywords=()))  # type: ignore[misc]

    monkeypatch.setitem(SOURCES, "ical", replace(current, listing=ignoring_keywords, parser_version="1"))
    run_crawls(config, store)
    run_crawls(config, store)  # the watch has its baseline: from now on what appears is news

    assert not [mt for mt in status_json(store, config)["meetings"] if mt["items"]]
    assert replay.count("/feed.ics", status=304) == 1  # the unchanged feed cost a 304
    monkeypatch.setitem(SOURCES, "ical", current)
    (upgraded,) = run_crawls(config, store)  # the feed has not changed, the parser has: read it whole
    assert replay.count("/feed.ics", status=200) == 2
    assert upgraded.ok and upgraded.new_snapshots > 0 and changes_json(store) == []
    assert [mt for mt in status_json(store, config)["meetings"] if mt["items"]]
    replay.replace("/feed.ics", ICS)
    run_crawls(config, store)
    assert [(c["kind"], c["entity"]) for c in changes_json(store)] == [("meeting.added", "meeting:ical:dpscd:7848")]


# -- plain events read without the library's whole-feed parse: the same meetings, the same lines --

_EDGE_EVENTS = [
    "UID:z\nDTSTART:20190416T213000Z\nDTEND:20190416T233000Z\nSUMMARY:Regular Board Meeting",
    "UID:tz\nDTSTART;TZID=America/Chicago:20190417T180000\nDTEND;TZID=America/Chicago:20190417T200000\nSUMMARY:Finance",
    'UID:tzq\nDTSTART;TZID="America/New_York":20190418T090000\nSUMMARY:Quoted zone',
    "UID:day\nDTSTART;VALUE=DATE:20190419\nSUMMARY:Board Meeting - 6:30 PM",
    "UID:day2\nDTSTART;VALUE=DATE:20190420\nDTEND;VALUE=DATE:20190421\nSUMMARY:Retreat",
    "UID:bare-day\nDTSTART:20190422\nSUMMARY:Work session",
    "UID:floating\nDTSTART:20190423T190000\nSUMMARY:Floating time",
    "UID:backwards\nDTSTART:20190424T200000Z\nDTEND:20190424T180000Z\nSUMMARY:Ends before it starts",
    "UID:mixed\nDTSTART;VALUE=DATE:20190425\nDTEND:20190425T230000Z\nSUMMARY:Date to a time",
    "UID:dur\nDTSTART:20190426T150000Z\nDURATION:PT2H\nSUMMARY:Two hours",
    "UID:dur-day\nDTSTART;VALUE=DATE:20190427\nDURATION:P1D\nSUMMARY:A day",
    "UID:dur-hour-on-day\nDTSTART;VALUE=DATE:20190428\nDURATION:PT1H\nSUMMARY:An hour on a day",
    "UID:at-start\nDTSTART:20190311T000000Z\nSUMMARY:At the window's start",
    "UID:at-end\nDTSTART:20190808T000000Z\nSUMMARY:At the window's end",
    "UID:day-at-end\nDTSTART;VALUE=DATE:20190808\nSUMMARY:All day at the window's end",
    "UID:day-before-start\nDTSTART;VALUE=DATE:20190310\nSUMMARY:All day before the window",
    "UID:escaped\nDTSTART:20190429T170000Z\nSUMMARY:Budget\\, hearing\\; public\\nsession\\\\x\n"
    "DESCRIPTION:Line one\\NLine two: at 9:30 A.M.\\, room 2\nLOCATION:City Hall\\, Room 3",
    "UID:attach\nDTSTART:20190430T170000Z\nSUMMARY:With documents\n"
    'ATTACH;FMTTYPE=application/pdf;FILENAME="Agenda.pdf":https://example.gov/a.pdf\n'
    "ATTACH:https://example.gov/packet.pdf\nATTACH;X-FILENAME=Minutes.pdf:https://example.gov/m.pdf\n"
    "URL:https://example.gov/meeting?id=1\\,2",
    "UID:bad-url\nDTSTART:20190501T170000Z\nSUMMARY:Broken link\nURL:https://example.gov/a\\nb",
    "UID:cancelled\nDTSTART:20190502T170000Z\nSUMMARY:CANCELLED - Finance Committee\nSTATUS:CANCELLED",
    "UID:tentative\nDTSTART:20190503T170000Z\nSUMMARY:Maybe\nSTATUS:TENTATIVE",
    "UID:twin\nDTSTART:20190504T170000Z\nSUMMARY:First twin",
    "UID:twin\nDTSTART:20190505T170000Z\nSUMMARY:Second twin",
    "UID:weekly\nDTSTART:20190506T170000Z\nRRULE:FREQ=WEEKLY;COUNT=4\nSUMMARY:Weekly",
    "UID:weekly\nRECURRENCE-ID:20190513T170000Z\nDTSTART:20190514T170000Z\nSUMMARY:Weekly (moved)",
    "UID:rdate\nDTSTART:20190507T170000Z\nRDATE:20190508T170000Z\nSUMMARY:Twice",
    "DTSTART:20190509T170000Z\nSUMMARY:No UID",
    "UID:\nDTSTART:20190510T170000Z\nSUMMARY:Empty UID",
    "UID:broken-start\nDTSTART:2019-05-11\nSUMMARY:Unreadable start",
    "UID:two-starts\nDTSTART:20190512T170000Z\nDTSTART:20190512T180000Z\nSUMMARY:Two starts",
    "UID:windows-zone\nDTSTART;TZID=Eastern Standard Time:20190513T090000\nSUMMARY:Outlook zone",
    "UID:custom-zone\nDTSTART;TZID=Custom/Board:20190514T090000\nSUMMARY:Custom zone",
    "UID:folded\nDTSTART:20190515T1\n 70000Z\nSUMMARY:A long title that is fol\n ded across lines\nDESCRIPTION:x",
    "UID:alarm\nDTSTART:20190516T170000Z\nSUMMARY:With an alarm\nBEGIN:VALARM\nACTION:DISPLAY\nTRIGGER:-PT15M\n"
    "END:VALARM",
    "UID:lang\nDTSTART:20190517T170000Z\nSUMMARY;LANGUAGE=en-US:With a language",
    "UID:two-titles\nDTSTART:20190518T170000Z\nSUMMARY:One\nSUMMARY:Two",
    "uid:lower\ndtstart:20190519T170000Z\nsummary:lower case names",
    "UID:no-colon\nDTSTART:20190520T170000Z\nSUMMARY:A stray line\nTHIS LINE HAS NO COLON",
    "UID:old\nDTSTART:18500101T120000Z\nSUMMARY:Long ago",
    "UID:bad-end\nDTSTART:20190521T170000Z\nDTEND:not-a-time\nSUMMARY:Unreadable end",
    "UID:bad-duration\nDTSTART:20190522T170000Z\nDURATION:two hours\nSUMMARY:Unreadable duration",
    "UID:esc\\,uid\nDTSTART:20190523T170000Z\nSUMMARY:Escaped UID",
    "UID:keyword\nDTSTART:20190524T170000Z\nSUMMARY:Police budget hearing",
]
_CUSTOM_ZONE = ("BEGIN:VTIMEZONE\nTZID:Custom/Board\nBEGIN:STANDARD\nDTSTART:19700101T000000\nTZOFFSETFROM:-0500\n"
                "TZOFFSETTO:-0600\nTZNAME:CST\nEND:STANDARD\nEND:VTIMEZONE")
_BROKEN_ZONE = "BEGIN:VTIMEZONE\nTZID:America/Chicago\nTZID:America/Chicago\nEND:VTIMEZONE"


def _edge_feed(events: list[str], *, head: str = "", zones: str = "") -> bytes:
    body = "".join(f"BEGIN:VEVENT\n{event}\nEND:VEVENT\n" for event in events)
    text = f"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//test//EN\n{head}{zones}\n{body}END:VCALENDAR\n"
    return text.replace("\n", "\r\n").encode()


@pytest.mark.parametrize("feed", ["plain", "x-wr-timezone", "broken-zone", "custom-zone", "many"])
def test_plain_events_read_as_the_library_reads_them(feed: str) -> None:
    """The plain-event reading is an optimisation: on every edge a feed has (times, zones, ends,
    durations, escapes, documents, twins, recurrences, broken values, folds, windows that start or
    end on an event), the meetings and the problem lines are those of the library's whole-feed
    reading, whatever the window and the watch's zone."""
    from tracker.meetings.ical import _parse
    from tracker.records import ListingContext

    events = list(_EDGE_EVENTS)
    head = zones = ""
    if feed == "x-wr-timezone":
        head = "X-WR-TIMEZONE:America/Los_Angeles\n"
    elif feed == "broken-zone":
        zones = _BROKEN_ZONE
    elif feed == "custom-zone":
        zones = _CUSTOM_ZONE
    elif feed == "many":  # enough events that the far ones are dropped before either reading
        events += [f"UID:far-{n}\nDTSTART:2015{n % 12 + 1:02d}01T170000Z\nSUMMARY:Far {n}" for n in range(40)]
        events += [f"UID:near-{n}\nDTSTART:201904{n % 28 + 1:02d}T1{n % 10}0000Z\nSUMMARY:Near {n}" for n in range(30)]
    data = _edge_feed(events, head=head, zones=zones)
    instants = [datetime(2019, 3, 11, tzinfo=UTC), datetime(2019, 4, 16, 21, 30, tzinfo=UTC),
                datetime(2019, 4, 19, tzinfo=UTC), datetime(2019, 4, 23, 19, tzinfo=UTC),
                datetime(2019, 4, 26, 17, tzinfo=UTC), datetime(2019, 8, 8, tzinfo=UTC)]
    windows = [(WINDOW[0], WINDOW[1]), (datetime(1990, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))]
    windows += [(at, at + (WINDOW[1] - WINDOW[0])) for at in instants] + [(at - (WINDOW[1] - WINDOW[0]), at)
                                                                         for at in instants]
    plain_read = 0
    for zone in ("America/Detroit", "Asia/Tokyo"):
        for start, end in windows:
            ctx = ListingContext("w", "https://example.gov/cal.ics", "Board", zone, ("police",), start, end)
            fast, whole = _parse(data, ctx, plain=True), _parse(data, ctx, plain=False)
            assert [m.dump() for m in fast.meetings] == [m.dump() for m in whole.meetings], (zone, start, end)
            assert fast.problems == whole.problems, (zone, start, end)
            plain_read += len(fast.meetings)
    assert plain_read > 100 and any("unreadable" in line for line in whole.problems)


# An Outlook (Exchange) UID as Office 365's published calendars write them: 112 hex digits.
OUTLOOK_UID = ("040000008200E00074C5B7101A82E00800000000C0A6A3D35F3BD60100000000000000001000000"
               "0A4A5E2E0B0E5D34C8F3F2D1E4B6C7A8B")


def test_each_meeting_of_a_series_with_a_long_uid_has_its_own_page_and_calendar(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """derived: Bethel Park's recorded feed, its monthly Parks & Recreation Board series given an
    Outlook UID. Each meeting of the series is its UID and its day; their digest pages and calendar
    files were named by the key's first 120 characters, which the day no longer reached: every
    month's "add to calendar" gave one and the same meeting, and each page showed it (found by a
    review)."""
    from icalendar import Calendar
    from lxml import html

    from tracker.digest import write_site

    monkeypatch.setenv("TRACKER_NOW", "2020-08-20T12:00:00Z")
    replay.add("/bethel.ics", local("corpus/ical/bethel_park.ics").replace(
        b"UID:ai1ec-13388@bethelpark.net", b"UID:" + OUTLOOK_UID.encode()))
    path = tmp_path / "tracker.toml"
    path.write_text(f'[crawl]\ndelay_seconds = 0\n[[meetings]]\nid = "bethel-park"\nname = "Bethel Park boards"\n'
                    f'timezone = "America/New_York"\nical = "{replay.url}/bethel.ics"\n')
    config = load_config(path, env={})
    store = Store(config.database_url)
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    site = write_site(store, config, tmp_path / "site")
    index = html.parse(str(site / "index.html")).getroot()
    # the series' meetings ahead as the front page lists them: the card of this month's, then "Later:"
    listed = [(item.cssselect("time")[0].get("datetime"), item.xpath(".//a[contains(., 'Parks & Recreation')]")[0])
              for item in [*index.cssselect("article.card"), *index.cssselect("ul.later li")]
              if "Parks & Recreation" in item.text_content()]
    assert len(listed) >= 3
    for when, link in listed:
        page = site / link.get("href")
        assert html.parse(str(page)).getroot().xpath("//main/p[1]/time")[0].get("datetime") == when
        calendar = html.parse(str(page)).getroot().xpath("//a[text()='Add to calendar']")[0].get("href")
        (event,) = Calendar.from_ical((page.parent / calendar).read_bytes()).walk("VEVENT")
        assert event.decoded("DTSTART") == datetime.fromisoformat(when), (when, event.decoded("DTSTART"))
    assert len({when for when, _ in listed}) == len(listed)


def test_an_event_whose_end_comes_before_its_start_is_read_from_its_start() -> None:
    """A VEVENT with DTEND an hour before DTSTART (RFC 5545 has it later; derived from a feed's
    event): the expansion library reads it as running from its end to its start, and the meeting
    was stored an hour early, at its DTEND. Read from its DTSTART, with one warning; an event with
    its end after its start, and an all-day one ending on its own day, are read as before."""
    from listings import listing_read

    from tracker.meetings.ical import parse_ical

    def feed(*events: str) -> bytes:
        return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//y//EN\r\n" + "".join(
            f"BEGIN:VEVENT\r\n{event}END:VEVENT\r\n" for event in events) + "END:VCALENDAR\r\n").encode()

    listing = listing_read(parse_ical, feed(
        "UID:early\r\nDTSTART:20260310T180000Z\r\nDTEND:20260310T170000Z\r\nSUMMARY:Council\r\n",
        "UID:right\r\nDTSTART:20260311T180000Z\r\nDTEND:20260311T200000Z\r\nSUMMARY:Council\r\n",
        "UID:day\r\nDTSTART;VALUE=DATE:20260312\r\nDTEND;VALUE=DATE:20260312\r\nSUMMARY:Board retreat\r\n"))
    starts = {meeting.source_ref: (meeting.start, meeting.date) for meeting in listing.meetings}
    assert starts["early"] == ("2026-03-10T18:00:00+00:00", "2026-03-10")
    assert starts["right"] == ("2026-03-11T18:00:00+00:00", "2026-03-11")
    assert starts["day"][1] == "2026-03-12"
    assert listing.problems == []
    assert listing.warnings == ["event early (Council): its DTEND is before its DTSTART: read from its DTSTART"]
