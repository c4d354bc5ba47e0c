"""NovusAGENDA meetings pages: two real recordings (tests/data/local/corpus/novusagenda: Dinuba's
`meetingsgeneral.aspx` RadGrid and South Fulton's `meetingsresponsive.aspx` table, each copied byte
for byte from a City Scrapers repository's test files), later states derived from them (labelled), `tracker
sources detect` naming the platform through the real engine on loopback (not Legistar's web calendar,
whose grid is the same Telerik control), and a watch crawled through the real spider."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from listings import listing_of
from statusjson import changes_json, status_json

from tracker.cli import main
from tracker.config import load_config
from tracker.crawl import run_crawls
from tracker.demo.replay import Fault, ReplayServer
from tracker.meetings.normalize import SourceParseError
from tracker.meetings.novusagenda import parse_meetings
from tracker.store import Store

CORPUS = Path(__file__).parent / "data" / "local" / "corpus"
DINUBA = (CORPUS / "novusagenda" / "dinuba_meetingsgeneral.html").read_bytes()
SOUTH_FULTON = (CORPUS / "novusagenda" / "southfulton_meetingsresponsive.html").read_bytes()
NYC_CALENDAR = (CORPUS / "legistar_calendar" / "nyc_calendar.html").read_bytes()
DINUBA_URL = "https://dinuba.novusagenda.com/agendapublic/meetingsgeneral.aspx?MeetingType=1&Date=6ms"
SOUTH_FULTON_URL = "https://southfulton.novusagenda.com/agendapublic/meetingsresponsive.aspx"
PAGE = "/agendapublic/meetingsgeneral.aspx"
QUERY = {"MeetingType": "1", "Date": "6ms"}


def read(data: bytes, url: str = DINUBA_URL, **more: Any) -> tuple[dict[str, dict[str, Any]], list[str]]:
    meetings, problems = listing_of(parse_meetings, data, url=url, body="Body", timezone="America/Los_Angeles", **more)
    return {mt["source_ref"]: mt for mt in meetings}, problems


def documents(meeting: dict[str, Any]) -> list[tuple[str, str | None, str]]:
    return [(doc["kind"], doc.get("label"), doc["url"]) for doc in meeting["documents"]]


def test_a_radgrid_page_one_meeting_a_row_by_its_meeting_id() -> None:
    """Dinuba's page: four rows, each known by the MeetingID its links carry, titled and bodied by
    its "Meeting Type", dated by "Meeting Date" (MM/DD/YY), and at no time: the page states none (the
    owner's spider adds 18:30 itself)."""
    meetings, problems = read(DINUBA)
    assert problems == [] and list(meetings) == ["365", "354", "353", "352"]
    first = meetings["365"]
    assert (first["title"], first["body"], first["date"]) == ("Council Meeting", "Council Meeting", "2022-09-27")
    assert first["time_tbd"] is True and first["start"] is None
    assert first["location"] == "405 E El Monte Way, Dinuba CA 93618"
    assert first["status"] == "confirmed"
    base = "https://dinuba.novusagenda.com/agendapublic/"
    assert documents(first) == [
        ("agenda", "Online Agenda", f"{base}MeetingView.aspx?MeetingID=365&MinutesMeetingID=302&doctype=Agenda"),
        ("agenda", "Download Agenda", f"{base}DisplayAgendaPDF.ashx?MeetingID=365")]
    assert first["url"] == f"{base}MeetingView.aspx?MeetingID=365&MinutesMeetingID=302&doctype=Agenda"
    assert first["minutes_url"] is None
    # the minutes (the ID of the minutes, never read as the meeting's), typed and labelled
    assert ("minutes", "Legal Minutes", f"{base}DisplayAgendaPDF.ashx?MinutesMeetingID=298") in documents(meetings["353"])
    assert meetings["353"]["minutes_url"] == f"{base}DisplayAgendaPDF.ashx?MinutesMeetingID=298"
    # the agenda items grid below it (same dates, "Meeting Type" column, links with MeetingID=) is no meeting
    assert all(mt["title"] == "Council Meeting" for mt in meetings.values())


def test_the_responsive_page_reads_the_same_rows() -> None:
    """South Fulton's `meetingsresponsive.aspx`: the type written twice (for a phone and a screen) is
    one title, each row's collapsed repeat is passed over, a link that opens nothing is no document."""
    meetings, problems = read(SOUTH_FULTON, SOUTH_FULTON_URL)
    assert problems == [] and len(meetings) == 12
    regular = meetings["468"]
    assert (regular["title"], regular["date"], regular["time_tbd"]) == ("Council Regular Meeting", "2022-08-23", True)
    assert regular["location"] == ("REGULAR COUNCIL MEETING - Welcome All Park Multipurpose Center 4255 Will Lee Road, "
                                   "South Fulton, GA ,30349")
    assert ("agenda", "Download Agenda", "https://southfulton.novusagenda.com/agendapublic/DisplayAgendaPDF.ashx?"
            "MeetingID=468") in documents(regular)
    special = meetings["467"]  # its "Minutes Recap" icon links nowhere
    assert special["title"] == "Council Special Meeting" and [kind for kind, _, _ in documents(special)] == [
        "agenda", "agenda"]
    assert {mt["body"] for mt in meetings.values()} == {"Council Regular Meeting", "Council Special Meeting",
                                                        "Council Work Session"}


def test_a_row_that_cannot_be_read_is_its_one_line() -> None:
    """(Derived: the second row's date made impossible.) The other rows are read."""
    broken = DINUBA.replace(b">09/13/22</td>", b">13/45/22</td>", 1)
    meetings, problems = read(broken)
    assert list(meetings) == ["365", "353", "352"]
    assert problems == ["meeting row 2 (Council Meeting): unreadable: date '13/45/22' is not a date"]


def test_a_row_linking_no_meeting_yet_is_known_by_its_day_and_type() -> None:
    """(Derived: the first row's agenda links taken away, as before an agenda is posted.)"""
    row = re.search(rb'<tr class="rgRow" id="SearchAgendasMeetings_radGridMeetings_ctl00__0">.*?</tr>', DINUBA, re.S)
    assert row is not None
    bare = re.sub(rb"<a [^>]*>.*?</a>", b"", row.group(0), flags=re.S)
    meetings, problems = read(DINUBA.replace(row.group(0), bare))
    assert problems == [] and "2022-09-27-Council-Meeting" in meetings
    unlinked = meetings["2022-09-27-Council-Meeting"]
    assert unlinked["documents"] == [] and unlinked["url"] == DINUBA_URL


def test_a_type_saying_cancelled_is_a_cancelled_meeting() -> None:
    """(Derived: the first row's type "Council Meeting - CANCELLED", as clerks retitle one.)"""
    cancelled = DINUBA.replace(b'<td align="left" style="width:20%;">Council Meeting</td>',
                               b'<td align="left" style="width:20%;">Council Meeting - CANCELLED</td>', 1)
    meetings, _ = read(cancelled)
    assert meetings["365"]["status"] == "cancelled" and meetings["354"]["status"] == "confirmed"


def test_a_page_without_the_meetings_table_is_one_line() -> None:
    with pytest.raises(SourceParseError) as raised:
        read(NYC_CALENDAR)
    said = str(raised.value)
    assert said.startswith("no NovusAGENDA meeting list (a table headed Meeting Date, Meeting Type): the page (")
    assert "\n" not in said


def test_only_the_window_is_kept() -> None:
    meetings, _ = read(DINUBA, window_start=datetime(2022, 8, 21, tzinfo=UTC), window_end=datetime(2023, 1, 18, tzinfo=UTC))
    assert list(meetings) == ["365", "354"]


# -- detect and crawl through the real engine ---------------------------------------------------------


def config_for(tmp_path: Path) -> Path:
    path = tmp_path / "tracker.toml"
    path.write_text("[crawl]\ndelay_seconds = 0\n")
    return path


def detect(tmp_path: Path, url: str, proxy: str | None = None) -> Result:
    env = {"http_proxy": proxy, "no_proxy": "", "NO_PROXY": ""} if proxy else None
    return CliRunner(env=env).invoke(main, ["--config", str(config_for(tmp_path)), "sources", "detect", url],
                                     catch_exceptions=False)


def printed_block(output: str) -> str:
    start = output.index("[[meetings]]\n")
    end = output.find("\n\n", start)
    return output[start:] if end < 0 else output[start:end + 1]


def assert_valid_watch(block: str, tmp_path: Path, kind: str = "novusagenda") -> None:
    """The watch `detect` printed, pasted as a config: `config check` passes and it is a `kind` watch."""
    pasted = tmp_path / "pasted.toml"
    pasted.write_text(block)
    checked = CliRunner().invoke(main, ["--config", str(pasted), "config", "check"], catch_exceptions=False)
    assert checked.exit_code == 0, checked.output
    (watch,) = load_config(pasted, env={}).meetings
    assert watch.source_kind == kind


def test_detect_names_novusagenda_not_legistar(replay: ReplayServer, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The held-out page that was told as "Legistar web calendar": NovusAGENDA by its own marks, the
    block watching the page itself, its meetings read by their meeting type."""
    monkeypatch.setenv("TRACKER_NOW", "2022-09-20T12:00:00Z")
    replay.add(PAGE, DINUBA, query=QUERY, content_type="text/html")
    url = f"{replay.url}{PAGE}?MeetingType=1&Date=6ms"
    result = detect(tmp_path, url)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("NovusAGENDA: told by its content (a NovusAGENDA meetings page)\n")
    block = printed_block(result.stdout)
    assert f'novusagenda = "{url}"' in block and "legistar" not in block
    assert_valid_watch(block, tmp_path)
    assert re.search(rf"^Read {re.escape(url)}: 4 meetings listed, 2 in the window", result.stdout, re.M)
    upcoming = result.stdout.split("The next meetings it would read:", 1)[1]
    assert "2022-09-27, time TBA  Council Meeting" in upcoming and "Body" not in upcoming


def test_detect_follows_a_city_pages_frame_to_its_novusagenda_site(replay: ReplayServer, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A city's page framing its NovusAGENDA site (derived page; the site's answer the recorded one):
    the platform by the frame's host, the block naming the site's meetings page."""
    monkeypatch.setenv("TRACKER_NOW", "2022-09-20T12:00:00Z")
    replay.add("/council/agendas", b"<!DOCTYPE html><html><head><title>City Council Agendas</title></head><body>"
               b"<iframe src='http://dinuba.novusagenda.com/agendapublic/meetingsgeneral.aspx?MeetingType=1&amp;"
               b"Date=6ms'></iframe></body></html>", content_type="text/html")
    replay.add(PAGE, DINUBA, content_type="text/html")
    result = detect(tmp_path, f"{replay.url}/council/agendas", proxy=replay.url)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("NovusAGENDA: told by a link on the page"), result.stdout
    block = printed_block(result.stdout)
    assert 'novusagenda = "http://dinuba.novusagenda.com/agendapublic/meetingsgeneral.aspx?MeetingType=1&Date=6ms"' \
        in block
    assert_valid_watch(block, tmp_path)
    assert "2022-09-27, time TBA  Council Meeting" in result.stdout


def test_a_watch_crawled_through_the_real_spider(tmp_path: Path, replay: ReplayServer,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The watched page asked for as written (one conditional GET a run), the window's meetings stored
    as a baseline, an unchanged page a 304, a later state's news told once, a broken answer one line."""
    monkeypatch.setenv("TRACKER_NOW", "2022-09-20T12:00:00Z")
    replay.add(PAGE, DINUBA, query=QUERY, content_type="text/html")
    config_path = tmp_path / "tracker.toml"
    config_path.write_text('[crawl]\ndelay_seconds = 0\n[[meetings]]\nid = "dinuba"\nname = "Dinuba City Council"\n'
                           f'timezone = "America/Los_Angeles"\nnovusagenda = "{replay.url}{PAGE}?MeetingType=1&Date=6ms"\n')
    config = load_config(config_path, env={})
    store = Store(config.database_url)
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    asked = [(r.path, dict(r.query)) for r in replay.requests if r.path != "/robots.txt"]
    assert asked == [(PAGE, QUERY)]
    stored = {mt["entity"].rsplit(":", 1)[1]: mt for mt in status_json(store, config)["meetings"]}
    assert sorted(stored) == ["354", "365"] and changes_json(store) == []  # the window's, a baseline
    assert all(mt["entity"].startswith("meeting:novusagenda:dinuba:") for mt in stored.values())
    assert (stored["365"]["date"], stored["365"]["start"], stored["365"]["time_tbd"]) == ("2022-09-27", None, True)
    # unchanged: a 304, nothing new
    (report,) = run_crawls(config, store)
    assert report.ok and report.not_modified >= 1 and changes_json(store) == []
    # (derived) later: 365 cancelled, its legal minutes posted for 354
    later = DINUBA.replace(b'<td align="left" style="width:20%;">Council Meeting</td>',
                           b'<td align="left" style="width:20%;">Council Meeting - CANCELLED</td>', 1)
    row = re.search(rb'id="SearchAgendasMeetings_radGridMeetings_ctl00__1">.*?</tr>', later, re.S)
    assert row is not None
    cut = row.group(0).rindex(b"<center></center>")  # its last cell, "Legal Minutes", empty
    with_minutes = row.group(0)[:cut] + (
        b'<center><a href="DisplayAgendaPDF.ashx?MinutesMeetingID=300" target="_blank">'
        b'<img src="images/ico_pdf.gif" alt="Legal Minutes"></a></center>') + row.group(0)[cut + len(b"<center></center>"):]
    replay.replace(PAGE, later.replace(row.group(0), with_minutes), query=QUERY)
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    found = sorted((c["kind"], c["entity"].rsplit(":", 1)[1]) for c in changes_json(store))
    assert found == [("meeting.cancelled", "365"), ("meeting.minutes_posted", "354")]
    # an HTML error page with 200: one clear line, what is stored stays
    before = status_json(store, config)["meetings"]
    replay.set_fault(PAGE, Fault.html_error(), query=QUERY)
    (report,) = run_crawls(config, store)
    assert len(report.errors) == 1 and "novusagenda:dinuba" in report.errors[0]
    assert status_json(store, config)["meetings"] == before
