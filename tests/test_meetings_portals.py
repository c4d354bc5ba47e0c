"""PrimeGov, CivicClerk and BoardDocs listings: the real recorded files (tests/data/local), later
states derived from them (labelled), and each spider through the real engine."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from datetime import time as clock
from pathlib import Path
from typing import Any

import pytest
from listings import meetings_of
from statusjson import changes_json, status_json

from tracker.config import load_config
from tracker.crawl import run_crawls
from tracker.demo.replay import Fault, ReplayServer
from tracker.meetings.normalize import SourceParseError, find_time
from tracker.meetings.portals import parse_boarddocs, parse_civicclerk, parse_primegov
from tracker.records import ListingContext
from tracker.store import Store

DATA = Path(__file__).parent / "data" / "local"
PRIMEGOV = (DATA / "primegov" / "claytoncountyga_list_meetings.json").read_bytes()
CIVICCLERK = (DATA / "civicclerk" / "southfultonga_events.json").read_bytes()
BOARDDOCS = (DATA / "boarddocs" / "ctpf_chicago_boarddocs_meetings.xml").read_bytes()
PRIMEGOV_URL = "https://claytoncountyga.primegov.com/api/v2/PublicPortal/ListArchivedMeetings?year=2026"
CIVICCLERK_URL = "https://southfultonga.api.civicclerk.com/v1/Events"


def by_ref(meetings: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {mt["source_ref"]: mt for mt in meetings}


def test_primegov_real_list() -> None:
    meetings = by_ref(meetings_of(parse_primegov, PRIMEGOV, url=PRIMEGOV_URL, body="Clayton County Board of Commissioners",
                                     timezone="America/New_York", keywords=["budget"]))
    assert len(meetings) == 18
    work = meetings["558"]
    assert work["title"] == "Work Session" and work["start"] == "2026-01-13T22:30:00+00:00"  # 5:30 PM EST
    assert work["agenda_url"] == ("https://claytoncountyga.primegov.com/Public/CompiledDocument?"
                                  "meetingTemplateId=" + str(json.loads(PRIMEGOV)[2]["documentList"][1]["templateId"])
                                  + "&compileOutputType=1")
    assert work["minutes_url"] and "compileOutputType=1" in work["minutes_url"]
    assert meetings["554"]["agenda_url"] is None and meetings["554"]["minutes_url"]  # minutes only
    assert meetings["695"]["items"] == [{"key": "title", "title": "Budget Meetings", "matter": None,
                                         "keywords": ["budget"]}]
    assert meetings["554"]["livestream_url"] == "https://claytoncountyga.granicus.com/MediaPlayer.php?clip_id=34"


def test_a_primegov_meeting_with_only_a_recess_notice_is_cancelled() -> None:
    """Los Angeles' council in recess keeps its regular meetings listed, each with only a "Recess
    Notice" (the real archived list another project captured, tests/data/packaged, served as
    PrimeGov serves it): no meeting is held. The committees' "Notice of Cancellation" cancels
    theirs as before, and a notice names neither as moved."""
    packaged = json.loads((Path(__file__).parent / "data" / "packaged" / "lacity_primegov_archived_2026.json").read_bytes())
    answer = json.dumps(packaged["meetings"]).encode()  # the list PrimeGov answered, outside the envelope
    meetings = by_ref(meetings_of(parse_primegov, answer, url=packaged["_captured_from"], body="Los Angeles City Council",
                                  timezone="America/Los_Angeles"))
    assert len(meetings) == 5
    council = [mt for mt in meetings.values() if mt["title"] == "City Council Meeting"]
    assert [(mt["date"], mt["status"], mt["status_text"]) for mt in council] == [
        ("2026-01-02", "cancelled", "Recess Notice"), ("2026-01-06", "cancelled", "Recess Notice")]
    assert council[0]["start"] == "2026-01-02T18:00:00+00:00"  # 10 AM in Los Angeles, as listed
    committees = [mt for mt in meetings.values() if mt["title"] != "City Council Meeting"]
    assert len(committees) == 3 and all(mt["status"] == "cancelled" for mt in committees)
    # Derived: the council's January 6 row with an agenda posted beside its notice (the last meeting
    # before a recess may carry both): it is held.
    rows = packaged["meetings"]
    (held,) = [row for row in rows if row["id"] == 17647]
    held["documentList"].append({**held["documentList"][0], "id": 1, "templateName": "Agenda", "compileOutputType": 1})
    again = by_ref(meetings_of(parse_primegov, json.dumps(rows).encode(), url=packaged["_captured_from"],
                               body="Los Angeles City Council", timezone="America/Los_Angeles"))
    assert (again["17647"]["status"], again["17647"]["status_text"]) == ("confirmed", None)
    assert again["17654"]["status"] == "cancelled"


def test_a_primegov_meeting_keeps_the_place_its_list_names() -> None:
    """Worcester's PrimeGov list (fourteenth held-out check) names a meeting's room or address in
    its `location` where one is set, and leaves it empty where none is: the room is the meeting's
    place, and an empty one names none."""
    upcoming = (DATA / "corpus" / "primegov" / "worcester_upcoming_meetings.json").read_bytes()
    meetings = by_ref(meetings_of(parse_primegov, upcoming, timezone="America/New_York",
                                  url="https://worcesterma.primegov.com/api/v2/PublicPortal/ListUpcomingMeetings"))
    assert meetings["12834"]["location"] == "Esther Howland (South) Chamber"
    assert meetings["12802"]["location"] == "Worcester Arts Magnet School, 315 Saint Nicholas Avenue"
    assert meetings["12835"]["location"] == "Virtual Meeting"
    assert meetings["12831"]["location"] is None  # "location": ""


def test_civicclerk_local_time_despite_the_z() -> None:
    meetings = by_ref(meetings_of(parse_civicclerk, CIVICCLERK, url=CIVICCLERK_URL, body="South Fulton City Council",
                                       timezone="America/New_York", keywords=[]))
    assert len(meetings) == 16
    regular = meetings["1747"]
    assert regular["title"] == "City Council Regular Meeting"
    assert regular["start"] == "2026-04-28T23:00:00+00:00"  # 7 PM in Georgia, not 3 PM
    first = meetings["1744"]
    assert first["location"] == "5440 Fulton Industrial Blvd, South Fulton, Georgia 30336"  # with its zip
    assert first["agenda_url"] == ("https://southfultonga.api.civicclerk.com/stream/SOUTHFULTONGA/"
                                   "913fd1f3-3145-4a61-97e7-965015e1719b.pdf")
    assert first["url"] == "https://southfultonga.portal.civicclerk.com/event/1744/overview"


def test_boarddocs_meetings_with_items() -> None:
    meetings = meetings_of(parse_boarddocs, BOARDDOCS, url="https://go.boarddocs.com/il/ctpf/Board.nsf/XML-ActiveMeetings",
                               body="CTPF", timezone="America/Chicago", keywords=["divestment", "cybersecurity"])
    assert len(meetings) == 28
    first = by_ref(meetings)["B55S995DF24B"]
    assert first["title"] == "Investment Committee Meeting" and first["date"] == "2018-10-25"
    assert first["time_tbd"] is True and first["start"] is None and first["body"] == "Board of Trustees"
    matching = [(i["title"], i["keywords"]) for mt in meetings for i in mt["items"] if i["keywords"]]
    assert ("A. Education Session-Divestment", ["divestment"]) in matching
    assert all("Cyber Security" not in title for title, _ in matching)  # "cybersecurity" is one word


@pytest.mark.parametrize("bad", [
    b"<!DOCTYPE html><html><body>Error</body></html>",
    b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><meetings>&b;</meetings>',
    BOARDDOCS[:5000],
])
def test_boarddocs_bad_input(bad: bytes) -> None:
    with pytest.raises(SourceParseError):
        meetings_of(parse_boarddocs, bad, url="https://x.example/", body="B", timezone="UTC", keywords=[])


NOT_LISTINGS = Path(__file__).parent / "data" / "not_listings"


def test_a_boarddocs_single_meetings_page_is_one_line_naming_it() -> None:
    """BoardDocs' answer for one meeting (real: Columbus' `BD-GetMeeting`) is an HTML fragment:
    the line says what it is and what to watch, not an XML parser's complaint about `&nbsp;`."""
    page = (NOT_LISTINGS / "columbus_boarddocs_meeting.html").read_bytes()
    with pytest.raises(SourceParseError) as raised:
        meetings_of(parse_boarddocs, page, url="https://go.boarddocs.com/oh/columbus/Board.nsf/BD-GetMeeting?open",
                    body="B", timezone="America/New_York", keywords=[])
    said = str(raised.value)
    assert "its first element is <div>, an HTML page or part of one (a single meeting's page?)" in said
    assert "watch the site's XML export or its meeting list" in said and "\n" not in said and "EntityRef" not in said


def test_an_export_opening_with_many_comments_is_read_at_once() -> None:
    """Comments before the export's root are passed over one way each: dozens of them (a head cut
    in the middle of one, or followed by a processing instruction) cost no time."""
    started = time.monotonic()
    for head in (b"<!-- generated -->\n" * 30, b"<!---->" * 70 + b"<?xml-stylesheet href='a.xsl'?>"):
        listing = parse_boarddocs(head + BOARDDOCS[BOARDDOCS.index(b"<meetings"):],
                                  ListingContext(watch_id="w", url="https://go.boarddocs.com/il/ctpf/Board.nsf/x",
                                                 body="B", timezone="America/Chicago", keywords=(),
                                                 window_start=datetime(1990, 1, 1, tzinfo=UTC),
                                                 window_end=datetime(2100, 1, 1, tzinfo=UTC)))
        assert len(listing.meetings) == 28
    assert time.monotonic() - started < 5  # a backtracking match took minutes on the first head


def test_another_platforms_meeting_list_is_one_line_not_a_problem_per_row() -> None:
    """Diligent Community's JSON meeting list (real: Kansas City Kansas schools) given as a BoardDocs
    list: one line naming what its rows are and the key to watch it with, not "no meeting id" once
    per row."""
    rows = (DATA / "corpus" / "civicweb" / "kckps_meetings.json").read_bytes()
    assert len(json.loads(rows)) > 3
    with pytest.raises(SourceParseError) as raised:
        meetings_of(parse_boarddocs, rows, url="https://go.boarddocs.com/ks/kckps/Board.nsf/BD-GetMeetingsList?open",
                    body="B", timezone="America/Chicago", keywords=[])
    said = str(raised.value)
    assert said.startswith("not a BoardDocs meeting list: no row has BoardDocs' meeting id ('unique')")
    assert "MeetingDateTime" in said and \
        said.endswith("(a CivicWeb / Diligent Community meeting list, by its keys: watch it as civicweb)")
    odd = json.dumps([{"Id": 1, "Meeting\nName": "x", "MeetingTypeName": "y", "MeetingDateTime": "z"}]).encode()
    with pytest.raises(SourceParseError) as raised:
        meetings_of(parse_boarddocs, odd, url="https://x.example/", body="B", timezone="UTC", keywords=[])
    assert "\n" not in str(raised.value) and "Meeting Name" in str(raised.value)  # the source's keys, on one line


def test_a_boarddocs_time_glued_to_the_zip_code_before_it_is_read() -> None:
    """BoardDocs' list for search engines drops the line breaks of a meeting's description, so the
    line holding its time runs on from the address line's zip code (real: St. Louis County
    Library's "Eureka, MO 630253:30 p.m." of May 21, 2012): the time after a state's two letters
    and a five-digit zip is the meeting's start. Digits glued to a time elsewhere are still none."""
    rows = (DATA / "corpus" / "boarddocs" / "stlouiscountylibrary_meetings_seo.json").read_bytes()
    meetings = by_ref(meetings_of(parse_boarddocs, rows, body="B", keywords=[], timezone="America/Chicago",
                                  url="https://go.boarddocs.com/mo/slcl/Board.nsf/BD-GETMeetingsListForSEO?open"))
    eureka = meetings["8T8LQ9579EF8"]
    assert eureka["date"] == "2012-05-21" and eureka["time_tbd"] is False
    assert eureka["start"] == "2012-05-21T20:30:00+00:00"  # 3:30 PM, Central daylight time
    assert meetings["8T8PSA65C581"]["start"] == "2012-06-25T20:30:00+00:00"  # "Auditorium3:30 p.m.", as before
    assert find_time("Room 12345 6:00 PM") == clock(18, 0)
    assert find_time("Eureka, MO 630253:30 p.m.") == clock(15, 30)
    assert find_time("Item 630253:30 p.m.") is None and find_time("mo 630253:30 p.m.") is None


def test_a_civicclerk_event_without_a_name_is_titled_by_its_agenda() -> None:
    """derived: the recorded South Fulton list with the 28 April meeting's name left empty, as an
    owner's recording of Tulsa's events has one (its agenda named "Budget Workshop")."""
    payload = json.loads(CIVICCLERK)
    for row in payload["value"]:
        if row["id"] == 1747:
            row["eventName"], row["agendaName"] = "", "Budget Workshop"
    meetings = by_ref(meetings_of(parse_civicclerk, json.dumps(payload).encode(), url=CIVICCLERK_URL,
                                  body="South Fulton City Council", timezone="America/New_York", keywords=["budget"]))
    assert meetings["1747"]["title"] == "Budget Workshop"
    assert meetings["1747"]["items"][0]["keywords"] == ["budget"]
    assert meetings["1744"]["title"] == "Alcohol License and Zoning Public Hearings"  # a named event keeps its name


def test_json_portals_bad_input() -> None:
    with pytest.raises(SourceParseError, match="HTML page"):
        meetings_of(parse_primegov, b"<html><body>Oops</body></html>", url=PRIMEGOV_URL, body="B", timezone="UTC", keywords=[])
    with pytest.raises(SourceParseError, match="not a readable"):
        meetings_of(parse_civicclerk, CIVICCLERK[:300], url=CIVICCLERK_URL, body="B", timezone="UTC", keywords=[])


# -- through the engine -----------------------------------------------------------------------

def primegov_later() -> bytes:
    """derived: the recorded list with the 7 April meeting moved to 7 PM and 21 April's retitled CANCELLED"""
    rows = json.loads(PRIMEGOV)
    for row in rows:
        if row["id"] == 639:
            row["dateTime"] = "2026-04-07T19:00:00"
        if row["id"] == 646:
            row["title"] = "CANCELLED - Regular Business Meeting"
    return json.dumps(rows).encode()


def civicclerk_later() -> bytes:
    """derived: the recorded list with an agenda published for the 28 April regular meeting"""
    payload = json.loads(CIVICCLERK)
    for row in payload["value"]:
        if row["id"] == 1747:
            row["publishedFiles"] = [{"type": "Agenda", "url": "stream/SOUTHFULTONGA/derived-agenda.pdf",
                                      "publishOn": "2026-04-20T12:00:00Z"}]
    return json.dumps(payload).encode()


def boarddocs_later() -> bytes:
    """derived: the recorded export with the 25 October investment committee moved to the 26th"""
    return BOARDDOCS.replace(b'<date format="yyyy-mm-dd">2018-10-25</date>', b'<date format="yyyy-mm-dd">2018-10-26</date>', 1)


CASES = {
    "boarddocs": ("/il/ctpf/Board.nsf/XML-ActiveMeetings", BOARDDOCS, boarddocs_later, "2018-10-20T12:00:00Z",
                  [("meeting.rescheduled", "B55S995DF24B")]),
    "primegov": ("/api/v2/PublicPortal/ListArchivedMeetings", PRIMEGOV, primegov_later, "2026-04-01T12:00:00Z",
                 [("meeting.cancelled", "646"), ("meeting.rescheduled", "639")]),
    "civicclerk": ("/v1/Events", CIVICCLERK, civicclerk_later, "2026-04-01T12:00:00Z",
                   [("meeting.agenda_posted", "1747")]),
}


@pytest.mark.parametrize("kind", sorted(CASES))
def test_portal_through_the_engine(kind: str, tmp_path: Path, replay: ReplayServer,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    path, first, later, now, expected = CASES[kind]
    monkeypatch.setenv("TRACKER_NOW", now)
    replay.add(path, first, content_type="application/xml" if kind == "boarddocs" else "application/json")
    config_path = tmp_path / "tracker.toml"
    config_path.write_text(f'[crawl]\ndelay_seconds = 0\n[[meetings]]\nid = "city"\nname = "City Council"\n'
                           f'timezone = "America/New_York"\n{kind} = "{replay.url}{path}"\n')
    config = load_config(config_path, env={})
    store = Store(config.database_url)
    (report,) = run_crawls(config, store)
    assert report.ok and report.items > 3 and changes_json(store) == []
    replay.replace(path, later())
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    found = sorted((c["kind"], c["entity"].rsplit(":", 1)[1]) for c in changes_json(store))
    assert found == expected
    assert all(c["entity"].startswith(f"meeting:{kind}:city:") for c in changes_json(store))
    (report,) = run_crawls(config, store)
    assert report.not_modified == 1 and len(changes_json(store)) == len(expected)
    # an HTML error page with 200 is one clear line; what is stored stays
    replay.set_fault(path, Fault.html_error())
    before = status_json(store, config)["meetings"]
    (report,) = run_crawls(config, store)
    assert len(report.errors) == 1 and "HTML page" in report.errors[0] and f"{kind}:city" in report.errors[0]
    assert status_json(store, config)["meetings"] == before


def clayton(tmp_path: Path, replay: ReplayServer, path: str, listing: bytes) -> tuple[Any, Store]:
    """Clayton County's board watched through the PrimeGov list served at `path`."""
    replay.add(path, listing, content_type="application/json")
    config_path = tmp_path / "tracker.toml"
    config_path.write_text(f'[crawl]\ndelay_seconds = 0\n[[meetings]]\nid = "clayton"\nname = "Clayton County BOC"\n'
                           f'timezone = "America/New_York"\nprimegov = "{replay.url}{path}"\n')
    config = load_config(config_path, env={})
    return config, Store(config.database_url)


def test_primegov_moved_meeting_has_local_times(tmp_path: Path, replay: ReplayServer,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_NOW", "2026-04-01T12:00:00Z")
    path = "/api/v2/PublicPortal/ListArchivedMeetings"
    config, store = clayton(tmp_path, replay, path, PRIMEGOV)
    run_crawls(config, store)
    replay.replace(path, primegov_later())
    run_crawls(config, store)
    moved = next(c for c in changes_json(store) if c["kind"] == "meeting.rescheduled")
    assert moved["data"] == {"from": "2026-04-07T18:00:00-04:00", "to": "2026-04-07T19:00:00-04:00"}
    cancelled = next(c for c in changes_json(store) if c["kind"] == "meeting.cancelled")
    assert cancelled["data"]["status_text"] == "CANCELLED"


UPCOMING = (DATA / "corpus" / "primegov" / "clayton_upcoming_meetings.json").read_bytes()


@pytest.mark.parametrize(("now", "missing"), [
    ("2026-04-27T20:00:00Z", False),  # the April 27 budget meeting was held this morning: it left the list
    ("2026-04-26T12:00:00Z", True),   # the day before it: taken off the list while still ahead
])
def test_a_meeting_that_leaves_the_upcoming_list_is_missing_only_while_still_ahead(
        now: str, missing: bool, tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Clayton County's real `ListUpcomingMeetings` (April 27 and 28, 2026), then the same list
    without the 27th (derived)."""
    path = "/api/v2/PublicPortal/ListUpcomingMeetings"
    monkeypatch.setenv("TRACKER_NOW", "2026-04-20T12:00:00Z")
    config, store = clayton(tmp_path, replay, path, UPCOMING)
    assert run_crawls(config, store)[0].ok
    monkeypatch.setenv("TRACKER_NOW", now)
    replay.replace(path, json.dumps([row for row in json.loads(UPCOMING) if row["id"] != 696]).encode())
    assert run_crawls(config, store)[0].ok
    meetings = {mt["entity"].rsplit(":", 1)[1]: mt["missing"] for mt in status_json(store, config)["meetings"]}
    assert meetings == {"696": missing, "697": False}
