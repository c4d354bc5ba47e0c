"""CivicPlus AgendaCenter and Granicus ViewPublisher pages (real recorded files), RSS agenda feeds (a
derived sample: tests/data/local/derived/README.md), and each spider through the real engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from tracker.config import load_config
from tracker.crawl import run_crawls
from tracker.meetings.agendas import find_date, find_time, parse_civicplus, parse_feed, parse_granicus
from tracker.meetings.ical import SourceParseError
from tracker.replay import Fault, ReplayServer
from tracker.status import collect_status, list_changes
from tracker.store import Store

DATA = Path(__file__).parent / "data" / "local"
CIVICPLUS = (DATA / "civicplus" / "lascruces_agendacenter_search.html").read_bytes()
GRANICUS = (DATA / "granicus" / "rta_chicago_viewpublisher_upcoming.html").read_bytes()
RSS = (DATA / "derived" / "civicplus_agendacenter_rss.xml").read_bytes()
CP_URL = "https://nm-lascruces.civicplus.com/AgendaCenter/Search/?term=&CIDs=all"


def test_dates_and_times_in_text() -> None:
    assert str(find_date("Agenda for November 19, 2020 ")) == "2020-11-19"
    assert str(find_date("Finance Committee on 2018-11-28  - 9:00 a.m.")) == "2018-11-28"
    assert str(find_date("Meeting 12/02/2020")) == "2020-12-02"
    assert str(find_time("Finance Committee on 2018-06-21 - (8:30 a.m.)")) == "08:30:00"
    assert str(find_time("at 6 PM")) == "18:00:00" and find_time("following Committee meetings") is None


def test_civicplus_real_page() -> None:
    meetings = {mt["source_ref"]: mt for mt in parse_civicplus(CIVICPLUS, url=CP_URL, body="Las Cruces",
                                                               timezone="America/Denver", keywords=[])}
    assert len(meetings) == 28
    airport = meetings["808"]
    assert (airport["body"], airport["date"], airport["time_tbd"]) == ("Airport Advisory Board", "2020-11-19", True)
    assert airport["agenda_url"] == "https://nm-lascruces.civicplus.com/AgendaCenter/ViewFile/Agenda/_11192020-808"
    assert airport["agenda_posted"] == "2020-11-16T11:47:00"
    assert meetings["791"]["minutes_url"] == "https://nm-lascruces.civicplus.com/AgendaCenter/ViewFile/Minutes/_11122020-791"
    cancelled = {ref: mt["status_text"] for ref, mt in meetings.items() if mt["status"] == "cancelled"}
    assert len(cancelled) == 7 and cancelled["817"] == "CANCELLED" and cancelled["806"] == "Cancelled"


def test_granicus_real_page() -> None:
    meetings = {mt["source_ref"]: mt for mt in parse_granicus(
        GRANICUS, url="http://rtachicago.granicus.com/ViewPublisher.php?view_id=5", body="RTA",
        timezone="America/Chicago", keywords=[])}
    finance = meetings["326"]
    assert finance["title"] == "Finance Committee" and finance["start"] == "2018-06-21T13:30:00+00:00"  # 8:30 CDT
    assert finance["agenda_url"] == "http://rtachicago.granicus.com/AgendaViewer.php?view_id=5&event_id=326"
    board = meetings["row:Board-of-Directors-on-2018-07-19----(following-Committee-meetings)"]
    assert board["time_tbd"] and board["agenda_url"] is None
    assert len(meetings) == 10  # the page lists the 21 June board meeting twice: one meeting


def test_rss_feed() -> None:
    meetings = parse_feed(RSS, url="https://nm-lascruces.civicplus.com/", body="Las Cruces", timezone="America/Denver",
                          keywords=["police", "crisis response"])
    council = next(mt for mt in meetings if mt["source_ref"] == "AgendaCenter-812")
    assert council["date"] == "2020-11-23" and council["start"] == "2020-11-23T20:00:00+00:00"
    assert council["items"][0]["keywords"] == ["police", "crisis response"]
    assert [mt["status_text"] for mt in meetings] == [None, None, "CANCELLED"]


@pytest.mark.parametrize(("parser", "data", "words"), [
    (parse_civicplus, b"<html><body><p>Nothing scheduled</p></body></html>", "no meeting rows"),
    (parse_granicus, b"<html><body><div id='upcoming'></div></body></html>", "no meeting rows"),
    (parse_feed, b"<!DOCTYPE html><html><body>Service Unavailable</body></html>", "HTML page"),
    (parse_feed, b"this is not a feed at all", "not"),
])
def test_bad_pages(parser, data: bytes, words: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SourceParseError, match=words):
        parser(data, url="https://x.example/", body="B", timezone="UTC", keywords=[])


CASES = {
    # derived earlier states: the DRC meeting of 2 Dec not yet cancelled; 812 not yet in the feed and
    # 825 not yet cancelled; the audit committee's time not yet set
    "civicplus": ("/AgendaCenter/Search", CIVICPLUS.replace(b"DRC Meeting on December 2, 2020 - CANCELLED",
                                                             b"DRC Meeting on December 2, 2020"), CIVICPLUS,
                  "2020-11-20T12:00:00Z", [("meeting.cancelled", "817")]),
    "feed": ("/AgendaCenter/RSSFeed.aspx", RSS[:RSS.index(b"<item>\n<title>City Council")]
             + RSS[RSS.index(b"<item>\n<title>CANCELLED"):].replace(b"CANCELLED - ", b"").replace(
                 b"This meeting has been cancelled.", b"Regular meeting."), RSS,
             "2020-11-20T12:00:00Z", [("meeting.added", "AgendaCenter-812"), ("meeting.cancelled", "AgendaCenter-825")]),
    "granicus": ("/ViewPublisher.php", GRANICUS.replace(b"Audit Committee on 2018-06-21  - (following Finance Committee)",
                                                        b"Audit Committee on 2018-06-21  - (time to be announced)"),
                 GRANICUS.replace(b"Audit Committee on 2018-06-21  - (following Finance Committee)",
                                  b"Audit Committee on 2018-06-21  - (9:30 a.m.)"),
                 "2018-06-01T12:00:00Z", [("meeting.rescheduled", "325")]),
}


@pytest.mark.parametrize("kind", sorted(CASES))
def test_through_the_engine(kind: str, tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    path, first, later, now, expected = CASES[kind]
    monkeypatch.setenv("TRACKER_NOW", now)
    replay.add(path, first, content_type="application/rss+xml" if kind == "feed" else "text/html")
    config_path = tmp_path / "tracker.toml"
    config_path.write_text(f'[crawl]\ndelay_seconds = 0\n[[meetings]]\nid = "city"\nname = "City"\n'
                           f'timezone = "America/Denver"\nkeywords = ["police"]\n{kind} = "{replay.url}{path}"\n')
    config = load_config(config_path, env={})
    store = Store(config.database_url)
    (report,) = run_crawls(config, store)
    assert report.ok and report.items >= 2 and list_changes(store) == []
    replay.replace(path, later)
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    assert sorted((c["kind"], c["entity"].rsplit(":", 1)[1]) for c in list_changes(store)) == expected
    (report,) = run_crawls(config, store)
    assert report.not_modified == 1 and len(list_changes(store)) == len(expected)
    # a 429 is waited out; then an HTML page with no rows is one clear line and nothing is lost
    replay.set_fault(path, Fault.retry_after(1, times=1))
    (report,) = run_crawls(config, store)
    assert report.ok and replay.count(path, status=429) == 1
    before = collect_status(store, config)["meetings"]
    replay.set_fault(path, Fault.html_error())
    (report,) = run_crawls(config, store)
    assert len(report.errors) == 1 and f"{kind}:city" in report.errors[0]
    assert collect_status(store, config)["meetings"] == before
