"""CivicPlus Municode (Drupal) meetings pages: three real recordings (tests/data/local/corpus/municode:
the "Upcoming Meetings" pages of Eagle Lake, Polk City and Mulberry, FL, byte for byte from
abrhinehart/CountyData2's evidence captures), later states derived from them (labelled), `tracker
sources detect` naming the platform through the real engine on loopback (and not the site's
`/rss.xml`, which dates meetings by when their pages were made), and a watch crawled through the real
spider."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from listings import listing_of
from statusjson import changes_json, status_json
from test_novusagenda import assert_valid_watch, detect, printed_block

from tracker.config import load_config
from tracker.crawl import run_crawls
from tracker.demo.replay import Fault, ReplayServer
from tracker.detect import PLATFORMS
from tracker.meetings.municode import parse_meetings
from tracker.meetings.normalize import SourceParseError
from tracker.store import Store

CORPUS = Path(__file__).parent / "data" / "local" / "corpus"
EAGLE_LAKE = (CORPUS / "municode" / "eaglelake_meetings.html").read_bytes()
POLK_CITY = (CORPUS / "municode" / "polkcity_meetings.html").read_bytes()
MULBERRY = (CORPUS / "municode" / "mulberry_meetings.html").read_bytes()
NYC_CALENDAR = (CORPUS / "legistar_calendar" / "nyc_calendar.html").read_bytes()
EAGLE_LAKE_URL = "https://www.eaglelakefl.gov/meetings"
POLK_CITY_URL = "https://www.mypolkcity.org/meetings"
MULBERRY_URL = "https://www.cityofmulberryfl.org/meetings"
PAGE = "/meetings"
ZONE = "America/New_York"
PLANNING = "/bc-pc/meeting/regular-planning-commission-meeting-5"
COMMISSION = "/city/meeting/regular-city-commission-meeting-38"
CRA = "/community-redevelopment-agency-cra/meeting/cra-board-commissioners-meeting-"
NAME = "CivicPlus Municode (Drupal) meetings page"


def read(data: bytes, url: str = EAGLE_LAKE_URL, **more: Any) -> tuple[dict[str, dict[str, Any]], list[str]]:
    meetings, problems = listing_of(parse_meetings, data, url=url, body="Body", timezone=ZONE, **more)
    return {mt["source_ref"]: mt for mt in meetings}, problems


def local(meeting: dict[str, Any]) -> str | None:
    """The meeting's start on the body's wall clock ("2026-04-20T19:00"), None when time TBD."""
    start = meeting["start"]
    return datetime.fromisoformat(start).astimezone(ZoneInfo(ZONE)).strftime("%Y-%m-%dT%H:%M") if start else None


def documents(meeting: dict[str, Any]) -> list[tuple[str, str | None, str]]:
    return [(doc["kind"], doc.get("label"), doc["url"]) for doc in meeting["documents"]]


def test_eagle_lakes_rows_by_their_own_pages() -> None:
    """Each row known by its "View Details" page's path, titled and bodied by its name, at the start
    its smart-date cell writes ("6pm" is 18:00, "7pm - 8pm" 19:00), its agenda typed by its link."""
    meetings, problems = read(EAGLE_LAKE)
    assert problems == [] and list(meetings) == [PLANNING, COMMISSION]
    commission = meetings[COMMISSION]
    assert (commission["title"], commission["body"], commission["date"]) == (
        "Regular City Commission Meeting", "Regular City Commission Meeting", "2026-04-20")
    assert local(commission) == "2026-04-20T19:00" and commission["time_tbd"] is False
    assert commission["status"] == "confirmed" and commission["status_text"] is None
    assert commission["url"] == f"https://www.eaglelakefl.gov{COMMISSION}"
    assert documents(commission) == [("agenda", "Agendas", "https://www.eaglelakefl.gov/media/3251")]
    assert commission["agenda_url"] == "https://www.eaglelakefl.gov/media/3251" and commission["minutes_url"] is None
    planning = meetings[PLANNING]
    assert (planning["title"], local(planning)) == ("Regular Planning Commission Meeting", "2026-04-20T18:00")
    assert documents(planning) == [("agenda", "Agendas", "https://www.eaglelakefl.gov/media/3226")]


def test_polk_citys_packet_is_its_agenda() -> None:
    """A packet under "Agenda Packets" and no agenda: the packet is the meeting's agenda link."""
    meetings, problems = read(POLK_CITY, POLK_CITY_URL)
    assert problems == [] and list(meetings) == ["/administration/meeting/city-commission-meeting-0"]
    (meeting,) = meetings.values()
    assert (meeting["title"], meeting["date"], local(meeting)) == ("City Commission Meeting", "2026-04-21",
                                                                   "2026-04-21T18:00")
    assert documents(meeting) == [("packet", "Agenda Packets", "https://www.mypolkcity.org/media/7111")]
    assert meeting["agenda_url"] == "https://www.mypolkcity.org/media/7111"


def test_every_mulberry_row_on_its_day_and_at_its_time() -> None:
    """All 28 rows: the CRA board's at 17:00 on the fourth Tuesday (Aug 25 at 17:01, as written),
    the City Commission's at 18:00; two CRA meetings on Aug 4 at 5pm are two pages, two meetings."""
    meetings, problems = read(MULBERRY, MULBERRY_URL)
    assert problems == [] and len(meetings) == 28
    assert all(mt["status"] == "confirmed" and mt["time_tbd"] is False and mt["documents"] == []
               for mt in meetings.values())
    cra = sorted(local(mt) or "" for mt in meetings.values() if mt["title"] == "CRA Board of Commissioners Meeting")
    assert cra == ["2026-04-28T17:00", "2026-05-26T17:00", "2026-06-23T17:00", "2026-07-28T17:00", "2026-08-04T17:00",
                   "2026-08-04T17:00", "2026-08-25T17:01", "2026-09-22T17:00", "2026-10-27T17:00", "2026-11-24T17:00",
                   "2026-12-22T17:00"]
    commission = [mt for mt in meetings.values() if mt["title"] == "City Commission Meeting"]
    assert len(commission) == 17 and {(local(mt) or "")[11:] for mt in commission} == {"18:00"}
    assert local(meetings[f"{CRA}12"]) == "2026-08-25T17:01"
    assert {meetings[f"{CRA}4"]["date"], meetings[f"{CRA}11"]["date"]} == {"2026-08-04"}
    assert {mt["body"] for mt in meetings.values()} == {"City Commission Meeting", "CRA Board of Commissioners Meeting"}


def test_a_row_writing_no_time_is_time_tbd() -> None:
    """(Derived: the first row's cell gives only its day.)"""
    meetings, _ = read(EAGLE_LAKE.replace(b">Apr 20, 2026 | 6pm - 6:30pm ", b">Apr 20, 2026 ", 1))
    assert (meetings[PLANNING]["date"], meetings[PLANNING]["start"], meetings[PLANNING]["time_tbd"]) == (
        "2026-04-20", None, True)
    assert local(meetings[COMMISSION]) == "2026-04-20T19:00"


def test_a_title_saying_canceled_is_a_cancelled_meeting() -> None:
    """(Derived: a row retitled "CANCELED: ...", as these sites' clerks write it.)"""
    cancelled = MULBERRY.replace(b">CRA Board of Commissioners Meeting ", b">CANCELED: CRA Board of Commissioners Meeting ", 1)
    meetings, _ = read(cancelled, MULBERRY_URL)
    assert (meetings[f"{CRA}7"]["status"], meetings[f"{CRA}7"]["status_text"]) == ("cancelled", "CANCELED")
    assert sum(mt["status"] == "cancelled" for mt in meetings.values()) == 1


def test_a_row_that_cannot_be_read_is_its_one_line() -> None:
    """(Derived: the second row's date made impossible.) The other row is read."""
    meetings, problems = read(EAGLE_LAKE.replace(b">Apr 20, 2026 | 7pm - 8pm ", b">Apr 45, 2026 | 7pm - 8pm ", 1))
    assert list(meetings) == [PLANNING]
    assert problems == ["meeting row 2 (Regular City Commission Meeting): unreadable: date 'Apr 45, 2026 | 7pm - 8pm' "
                        "is not a date"]


def test_a_page_without_the_meetings_table_is_one_line() -> None:
    with pytest.raises(SourceParseError) as raised:
        read(NYC_CALENDAR)
    said = str(raised.value)
    assert said.startswith("no CivicPlus Municode meeting list (a views table with a smart-date column): the page (")
    assert "\n" not in said


def test_only_the_window_is_kept() -> None:
    meetings, _ = read(MULBERRY, MULBERRY_URL, window_start=datetime(2026, 3, 19, tzinfo=UTC),
                       window_end=datetime(2026, 5, 10, tzinfo=UTC))
    assert sorted(mt["date"] for mt in meetings.values()) == ["2026-04-21", "2026-04-28", "2026-05-05"]


# -- detect and crawl through the real engine ---------------------------------------------------------


@pytest.mark.parametrize(("page", "site", "listed", "shown"), [
    (EAGLE_LAKE, "Eagle Lake FL", 2, "Regular City Commission Meeting"),
    (POLK_CITY, "Polk City FL", 1, "City Commission Meeting"),
    (MULBERRY, "Mulberry, FL", 28, "CRA Board of Commissioners Meeting"),
], ids=["eaglelake", "polkcity", "mulberry"])
def test_detect_names_the_platform(page: bytes, site: str, listed: int, shown: str, replay: ReplayServer,
                                   tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each page served on loopback: the platform told by its content, the block watching the page
    itself, its meetings read."""
    monkeypatch.setenv("TRACKER_NOW", "2026-04-18T12:00:00Z")
    replay.add(PAGE, page, content_type="text/html; charset=UTF-8")
    url = f"{replay.url}{PAGE}"
    result = detect(tmp_path, url)
    assert result.exit_code == 0, result.output
    assert PLATFORMS["municode"] == NAME
    assert result.stdout.startswith(f"{NAME}: told by its content (a CivicPlus Municode meetings table)\n"), result.stdout
    block = printed_block(result.stdout)
    assert f'municode = "{url}"' in block and f'name = "{site}"' in block
    assert_valid_watch(block, tmp_path, "municode")
    assert re.search(rf"^Read {re.escape(url)}: {listed} meetings? listed", result.stdout, re.M), result.stdout
    assert shown in result.stdout.split("The next meetings it would read:", 1)[1]


def test_detect_prefers_the_page_to_the_sites_feed(replay: ReplayServer, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """(Derived: the page declaring the site's `/rss.xml` of meetings, which is served too.) The
    feed dates its entries by when pages were made: the page is what is watched."""
    monkeypatch.setenv("TRACKER_NOW", "2026-04-18T12:00:00Z")
    linked = EAGLE_LAKE.replace(b"</head>", b'<link rel="alternate" type="application/rss+xml" title="Meetings" '
                                b'href="/rss.xml" />\n</head>', 1)
    assert linked != EAGLE_LAKE
    replay.add(PAGE, linked, content_type="text/html")
    replay.add("/rss.xml", b'<?xml version="1.0"?><rss version="2.0"><channel><title>Eagle Lake FL</title>'
               b"<item><title>Regular City Commission Meeting</title><link>/city/meeting/regular-city-commission-"
               b"meeting-38</link><pubDate>Mon, 13 Apr 2026 15:21:00 -0400</pubDate></item></channel></rss>",
               content_type="application/rss+xml")
    url = f"{replay.url}{PAGE}"
    result = detect(tmp_path, url)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"{NAME}: "), result.stdout
    block = printed_block(result.stdout)
    assert f'municode = "{url}"' in block and "feed =" not in block
    assert not any(r.path == "/rss.xml" for r in replay.requests)


def test_a_watch_crawled_through_the_real_spider(tmp_path: Path, replay: ReplayServer,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The watched page asked for as written (one conditional GET a run), its meetings stored as a
    baseline, an unchanged page a 304, a later state's news told once (a meeting moved a day, one
    cancelled), a broken answer one line."""
    monkeypatch.setenv("TRACKER_NOW", "2026-04-18T12:00:00Z")
    replay.add(PAGE, EAGLE_LAKE, content_type="text/html; charset=UTF-8")
    config_path = tmp_path / "tracker.toml"
    config_path.write_text('[crawl]\ndelay_seconds = 0\n[[meetings]]\nid = "eaglelake"\nname = "Eagle Lake"\n'
                           f'timezone = "{ZONE}"\nmunicode = "{replay.url}{PAGE}"\n')
    config = load_config(config_path, env={})
    store = Store(config.database_url)
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    assert [r.path for r in replay.requests if r.path != "/robots.txt"] == [PAGE]
    stored = {mt["entity"].split(":", 3)[3]: mt for mt in status_json(store, config)["meetings"]}
    assert sorted(stored) == [PLANNING, COMMISSION] and changes_json(store) == []  # a baseline
    assert all(mt["entity"].startswith("meeting:municode:eaglelake:") for mt in stored.values())
    assert (stored[COMMISSION]["date"], stored[COMMISSION]["time_tbd"]) == ("2026-04-20", False)
    assert stored[COMMISSION]["start"] == "2026-04-20T19:00:00-04:00"
    # unchanged: a 304, nothing new
    (report,) = run_crawls(config, store)
    assert report.ok and report.not_modified >= 1 and changes_json(store) == []
    # (derived) later: the Planning Commission moved to the next day, the City Commission cancelled
    later = EAGLE_LAKE.replace(b">Apr 20, 2026 | 6pm - 6:30pm ", b">Apr 21, 2026 | 6pm - 6:30pm ", 1).replace(
        b">Regular City Commission Meeting ", b">CANCELED: Regular City Commission Meeting ", 1)
    assert later.count(b"CANCELED:") == 1 and b">Apr 21, 2026 |" in later
    replay.replace(PAGE, later)
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    found = sorted((c["kind"], c["entity"].split(":", 3)[3]) for c in changes_json(store))
    assert found == [("meeting.cancelled", COMMISSION), ("meeting.rescheduled", PLANNING)]
    # an HTML error page with 200: one clear line, what is stored stays
    before = status_json(store, config)["meetings"]
    replay.set_fault(PAGE, Fault.html_error())
    (report,) = run_crawls(config, store)
    assert len(report.errors) == 1 and "municode:eaglelake" in report.errors[0]
    assert status_json(store, config)["meetings"] == before
