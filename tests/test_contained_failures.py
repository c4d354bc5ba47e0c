"""One bad record is that record's error (issue 13, item 6): a calendar event with a broken DTEND,
RRULE or DURATION, or a portal row with a date that is no date, is skipped with one error line; the
rest of the listing is stored; the source is reported failing (`tracker crawl` exits 1, `status
--json` shows it not ok) until the source is fixed.

The crawls run the real `tracker` command in its own process against the loopback replay server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from listings import listing_of
from recorded import local

from tracker.demo.replay import ReplayServer
from tracker.meetings.agendas import parse_civicplus
from tracker.meetings.ical import parse_ical
from tracker.meetings.portals import parse_boarddocs, parse_civicclerk, parse_primegov

ICS = local("ics/detroit_k12_board_of_education.ics")
ICAL_NOW = "2019-04-10T12:00:00Z"
PRIMEGOV = local("primegov/claytoncountyga_list_meetings.json")
PRIMEGOV_NOW = "2026-04-01T12:00:00Z"


def tracker(tmp_path: Path, now: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The real command line, in its own process, with the tracker's clock set."""
    env = {**os.environ, "TRACKER_NOW": now}
    env.pop("TRACKER_CONFIG", None)
    return subprocess.run([sys.executable, "-m", "tracker.cli", "--config", str(tmp_path / "tracker.toml"), *args],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=180)


def watch(tmp_path: Path, kind: str, url: str, zone: str) -> None:
    (tmp_path / "tracker.toml").write_text(
        f'[crawl]\ndelay_seconds = 0\n[[meetings]]\nid = "city"\nname = "City Board"\n'
        f'timezone = "{zone}"\n{kind} = "{url}"\n')


def window(now: str) -> dict[str, Any]:
    """The listing window the spiders use (30 days back, 120 ahead)."""
    at = datetime.fromisoformat(now.replace("Z", "+00:00"))
    return {"window_start": at - timedelta(days=30), "window_end": at + timedelta(days=120)}


def status(tmp_path: Path, now: str) -> dict[str, Any]:
    result = tracker(tmp_path, now, "status", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def crawl_fails_on_one_record(tmp_path: Path, now: str, expected_refs: set[str], record: str,
                              reason: str) -> dict[str, Any]:
    """Crawl once: exit 1, one error line naming the record and the reason, no traceback; every other
    meeting stored; the source not ok in `status --json`. Returns that status."""
    result = tracker(tmp_path, now, "crawl")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    named = [line for line in result.stderr.splitlines() if record in line]
    assert len(named) == 1, result.stderr
    assert reason in named[0] and named[0].removeprefix("error: ").split(": ", 1)[0] in ("ical:city", "primegov:city")
    state = status(tmp_path, now)
    (source,) = state["sources"]
    assert source["ok"] is False and record in source["error"] and reason in source["error"]
    stored = {mt["entity"].rsplit(":", 1)[1] for mt in state["meetings"]}
    assert stored == expected_refs - {record}
    return state


# -- calendars: DTEND, RRULE, DURATION ------------------------------------------------------------------

# derived: the real Detroit feed with event 7856's DTEND line broken or followed by a broken line
BREAKS = {
    "DTEND": (b"DTEND:20190416T233000Z", b"DTEND:not-a-time", "DTEND 'not-a-time' is not a date or time"),
    "DURATION": (b"DTEND:20190416T233000Z", b"DURATION:two hours", "DURATION 'two hours' is not a duration"),
    "RRULE": (b"DTEND:20190416T233000Z", b"DTEND:20190416T233000Z\r\nRRULE:FREQ=SOMETIMES;COUNT=x",
              "RRULE 'FREQ=SOMETIMES;COUNT=x' is not a recurrence rule"),
    # INTERVAL=0 parses, then makes dateutil's expansion loop for ever: refused before expansion
    "RRULE-INTERVAL": (b"DTEND:20190416T233000Z", b"DTEND:20190416T233000Z\r\nRRULE:FREQ=WEEKLY;INTERVAL=0",
                       "INTERVAL must be a whole number of at least 1"),
}


def clean_ical_refs(now: str) -> set[str]:
    meetings, problems = listing_of(parse_ical, ICS, timezone="America/Detroit", **window(now))
    assert problems == []
    return {mt["source_ref"] for mt in meetings}


@pytest.mark.parametrize("broken", sorted(BREAKS))
@pytest.mark.slow
def test_a_feed_with_one_broken_event_stores_the_rest_and_fails_the_source(
        broken: str, tmp_path: Path, replay: ReplayServer) -> None:
    find, put, reason = BREAKS[broken]
    assert ICS.count(find) == 1
    replay.add("/feed.ics", ICS.replace(find, put), content_type="text/calendar")
    watch(tmp_path, "ical", f"{replay.url}/feed.ics", "America/Detroit")
    expected = clean_ical_refs(ICAL_NOW)
    assert "7856" in expected and len(expected) == 16
    crawl_fails_on_one_record(tmp_path, ICAL_NOW, expected, "7856", reason)
    # the source fixes its feed: the next crawl is whole and ok, the event is stored
    replay.replace("/feed.ics", ICS)
    result = tracker(tmp_path, ICAL_NOW, "crawl")
    assert result.returncode == 0, result.stderr
    state = status(tmp_path, ICAL_NOW)
    assert state["sources"][0]["ok"] is True
    assert {mt["entity"].rsplit(":", 1)[1] for mt in state["meetings"]} == expected


def test_quiet_crawl_of_a_broken_event_prints_one_short_line(tmp_path: Path, replay: ReplayServer) -> None:
    find, put, _ = BREAKS["DTEND"]
    replay.add("/feed.ics", ICS.replace(find, put), content_type="text/calendar")
    watch(tmp_path, "ical", f"{replay.url}/feed.ics", "America/Detroit")
    result = tracker(tmp_path, ICAL_NOW, "--quiet", "crawl")
    assert result.returncode == 1
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert "7856" in line and "DTEND" in line and len(line) <= 200


SERIES = b"""BEGIN:VEVENT\r
UID:derived-weekly\r
SUMMARY:Derived Weekly Committee\r
DTSTART:20190402T220000Z\r
DTEND:20190402T230000Z\r
RRULE:FREQ=WEEKLY;COUNT=4\r
END:VEVENT\r
"""


def test_a_series_whose_expansion_fails_is_dropped_and_the_rest_expanded() -> None:
    """A fault the checks before expansion do not catch (an RDATE period that ends before it starts)
    makes recurring-ical-events raise: that series alone is dropped with one line."""
    # derived: the real feed plus a valid weekly series, and event 7856 given a reversed RDATE period
    feed = ICS.replace(b"END:VCALENDAR", SERIES + b"END:VCALENDAR").replace(
        b"DTEND:20190416T233000Z",
        b"DTEND:20190416T233000Z\r\nRDATE;VALUE=PERIOD:20190420T100000Z/20190419T100000Z", 1)
    meetings, problems = listing_of(parse_ical, feed, timezone="America/Detroit", **window(ICAL_NOW))
    assert len(problems) == 1 and problems[0].startswith("event 7856 (DPSCD Regular Board Meeting (Open)): "
                                                         "cannot expand its recurrences")
    refs = {mt["source_ref"] for mt in meetings}
    assert refs == (clean_ical_refs(ICAL_NOW) - {"7856"}) | {
        f"derived-weekly@201904{day:02d}T220000Z" for day in (2, 9, 16, 23)}


def test_every_broken_event_is_its_own_line() -> None:
    # derived: three events broken three ways
    feed = (ICS.replace(b"DTEND:20190416T233000Z", b"DTEND:not-a-time", 1)
            .replace(b"DTEND:20190426T143000Z", b"DURATION:PT-forever", 1)
            .replace(b"UID:7860", b"UID:7860\r\nRRULE:FREQ=WEEKLY;BYMONTH=13", 1))
    meetings, problems = listing_of(parse_ical, feed, timezone="America/Detroit", **window(ICAL_NOW))
    assert sorted(p.split(" ", 2)[1] for p in problems) == ["7848", "7856", "7860"]
    assert {mt["source_ref"] for mt in meetings} == clean_ical_refs(ICAL_NOW) - {"7848", "7856", "7860"}


# -- portals and pages: one bad row ---------------------------------------------------------------------

def primegov_with_bad_row() -> bytes:
    """derived: the recorded Clayton County list with meeting 639's dateTime made unreadable"""
    rows = json.loads(PRIMEGOV)
    (row,) = [r for r in rows if r["id"] == 639]
    row["dateTime"] = "TBD"
    return json.dumps(rows).encode()


def test_a_portal_listing_with_one_bad_row_stores_the_rest_and_fails_the_source(
        tmp_path: Path, replay: ReplayServer) -> None:
    path = "/api/v2/PublicPortal/ListArchivedMeetings"
    replay.add(path, primegov_with_bad_row(), content_type="application/json")
    watch(tmp_path, "primegov", f"{replay.url}{path}", "America/New_York")
    meetings, problems = listing_of(parse_primegov, PRIMEGOV, url=f"{replay.url}{path}", timezone="America/New_York")
    assert problems == []
    start, end = (w.date().isoformat() for w in window(PRIMEGOV_NOW).values())
    expected = {mt["source_ref"] for mt in meetings if start <= mt["date"] <= end}
    assert "639" in expected and len(expected) > 3
    crawl_fails_on_one_record(tmp_path, PRIMEGOV_NOW, expected, "639", "Invalid isoformat string: 'TBD'")


def test_civicclerk_row_with_a_bad_date_is_its_own_problem() -> None:
    payload = json.loads(local("civicclerk/southfultonga_events.json"))
    payload["value"][0]["startDateTime"] = "soon"  # derived: one row's date made unreadable
    del payload["value"][1]["id"]  # derived: one row without its id
    meetings, problems = listing_of(parse_civicclerk, json.dumps(payload).encode(),
                                    url="https://southfultonga.api.civicclerk.com/v1/Events")
    assert len(meetings) == 16 - 2
    assert problems == [
        "meeting 1744 (Alcohol License and Zoning Public Hearings): unreadable: Invalid isoformat string: 'soon'",
        "meeting row 2 (City Council Work Session): unreadable: no event id",
    ]


def test_boarddocs_meeting_with_a_bad_date_is_its_own_problem() -> None:
    data = local("boarddocs/ctpf_chicago_boarddocs_meetings.xml")
    clean, _ = listing_of(parse_boarddocs, data)
    # derived: the 25 October meeting's date made impossible
    broken = data.replace(b'<date format="yyyy-mm-dd">2018-10-25</date>', b'<date format="yyyy-mm-dd">2018-10-45</date>', 1)
    meetings, problems = listing_of(parse_boarddocs, broken)
    assert len(meetings) == len(clean) - 1
    assert len(problems) == 1 and "start date '2018-10-45' is not a date" in problems[0]


def test_civicplus_row_whose_agenda_link_has_no_real_date_is_its_own_problem() -> None:
    data = local("civicplus/lascruces_agendacenter_search.html")
    url = "https://nm-lascruces.civicplus.com/AgendaCenter/Search/?term=&CIDs=all"
    clean, _ = listing_of(parse_civicplus, data, url=url)
    # derived: agenda 808's link dated the 45th of the 13th month
    meetings, problems = listing_of(parse_civicplus, data.replace(b"_11192020-808", b"_13452020-808"), url=url)
    assert {mt["source_ref"] for mt in meetings} == {mt["source_ref"] for mt in clean} - {"808"}
    assert len(problems) == 1 and "_13452020-808" in problems[0] and "is not a date" in problems[0]


def test_a_known_meeting_whose_event_breaks_is_not_marked_missing(tmp_path: Path, replay: ReplayServer) -> None:
    """The event is still in the feed, only unreadable this time: `missing` would tell the user it
    vanished from its source."""
    replay.add("/feed.ics", ICS, content_type="text/calendar")
    watch(tmp_path, "ical", f"{replay.url}/feed.ics", "America/Detroit")
    assert tracker(tmp_path, ICAL_NOW, "crawl").returncode == 0
    find, put, _ = BREAKS["DTEND"]
    replay.replace("/feed.ics", ICS.replace(find, put))
    assert tracker(tmp_path, ICAL_NOW, "crawl").returncode == 1
    (meeting,) = [mt for mt in status(tmp_path, ICAL_NOW)["meetings"] if mt["entity"].endswith(":7856")]
    assert not meeting["missing"]
