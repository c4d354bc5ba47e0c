"""`tracker sources detect URL` as a person uses it: the real command, the crawl's real engine, the
recordings served on loopback.

Every recording of a council's meetings under tests/data/local is detected (and the Detroit feed the
demo ships, which tests/data/local/SOURCES.md lists as the iCalendar recording): the platform a file
belongs to is its folder (`<platform>/...`, `corpus/<platform>/...`; `ics/` is `ical`), so a
recording added there is covered with no edit here. Files in `derived/` count when
`derived/README.md` says which format they are written in (the table DERIVED). A Legistar Web API
answer is served where the API serves it (`/v1/<client>/...`, the client being the file name's
first word), with a loopback Legistar Web API answering the events query detect follows on to.
For each: the first line names the platform, and the printed block, saved as a config file, passes
`tracker config check` as a watch of that platform.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from calendar_answers import LIST, answer, view_state
from click.testing import CliRunner, Result
from statusjson import status_json

import tracker.demo
from tracker.cli import main
from tracker.config import load_config
from tracker.crawl import run_crawls
from tracker.demo.legistar_api import LegistarApi
from tracker.demo.replay import Fault, ReplayServer, serve
from tracker.detect import PLATFORMS, civicplus_value, meeting_line
from tracker.meetings.ical import parse_ical
from tracker.meetings.normalize import titled_body
from tracker.records import ListingContext, Meeting, MeetingStatus
from tracker.store import Store

LOCAL = Path(__file__).parent / "data" / "local"
CORPUS = LOCAL / "corpus"
NYC = (CORPUS / "legistar_calendar" / "nyc_calendar.html").read_bytes()
NYC_STATE = view_state(NYC)
MWRD = Path(__file__).parent / "data" / "detect" / "mwrd_legistar_calendar.html"  # see its SOURCES.md
LA_PORTAL = Path(__file__).parent / "data" / "detect" / "lacity_primegov_portal.html"  # see its SOURCES.md
WALNUT_CREEK = Path(__file__).parent / "data" / "detect" / "walnutcreeksd_civicweb_meetings.html"  # see its SOURCES.md
DEMO = Path(tracker.demo.__file__).parent / "data"
FOLDER_PLATFORM = {**{name: name for name in PLATFORMS}, "ics": "ical"}
# derived/README.md: both are written in the shape of RSS 2.0 agenda feeds.
DERIVED = {"civicplus_agendacenter_rss.xml": "feed", "granicus_viewpublisher_rss.xml": "feed"}
NOT_RECORDINGS = {".md", ".txt", ".py", ".toml", ".yaml", ".yml", ".csv"}


def recordings() -> list[tuple[str, Path]]:
    """(platform, file) for every recording of a known platform."""
    found: list[tuple[str, Path]] = []
    files = sorted(LOCAL.rglob("*")) + sorted((DEMO / "ics").glob("*"))
    for path in files:
        if not path.is_file() or path.suffix.lower() in NOT_RECORDINGS:
            continue
        parts = path.relative_to(LOCAL).parts if path.is_relative_to(LOCAL) else ("ics", path.name)
        folder = parts[1] if parts[0] == "corpus" and len(parts) > 2 else parts[0]
        platform = DERIVED.get(path.name) if folder == "derived" else FOLDER_PLATFORM.get(folder)
        if platform:
            found.append((platform, path))
    return found


RECORDINGS = recordings()


def legistar_client(path: Path) -> str:
    return re.split(r"[_.-]", path.stem)[0].lower()


def is_legistar_api(path: Path) -> bool:
    return path.suffix.lower() == ".json"


@pytest.fixture(scope="module")
def corpus() -> Iterator[ReplayServer]:
    """One server for the whole table: every file at /files/<its path>, Legistar API answers at
    /v1/<client>/<name>, and a Legistar Web API holding each client's recorded events."""
    api = LegistarApi("/v1")
    with serve() as server:
        server.add_dir("/files", LOCAL)
        server.add_dir("/demo", DEMO)
        server.mount("/v1", api)
        for platform, path in RECORDINGS:
            if platform == "legistar":
                client = legistar_client(path)
                # Known to the Web API (with the events recorded for it, maybe none): the client its
                # address names, and any `<client>.legistar.com` it links to.
                for name in {client} | set(re.findall(r"([a-z0-9-]+)\.legistar\.com", path.read_text("utf-8", "replace"))):
                    api.client(name)
            if platform == "legistar" and is_legistar_api(path):
                server.add(f"/v1/{client}/{path.stem}", path, content_type="application/json")
                rows = json.loads(path.read_bytes())
                events = [r for r in (rows if isinstance(rows, list) else [rows]) if "EventId" in r and "EventDate" in r]
                api.client(client).add_events(events)
        yield server


def served_at(server: ReplayServer, path: Path) -> str:
    if FOLDER_PLATFORM.get(path.parent.name) == "legistar" and not is_legistar_api(path):
        return f"http://{legistar_client(path)}.legistar.com/files/{path.relative_to(LOCAL)}"  # by the proxy
    if path.is_relative_to(DEMO):
        return f"{server.url}/demo/{path.relative_to(DEMO)}"
    if FOLDER_PLATFORM.get(path.parent.name) == "legistar" and is_legistar_api(path):
        return f"{server.url}/v1/{legistar_client(path)}/{path.stem}"
    return f"{server.url}/files/{path.relative_to(LOCAL)}"


def config_for(tmp_path: Path, server: ReplayServer, extra: str = "") -> Path:
    path = tmp_path / "tracker.toml"
    path.write_text(f'[crawl]\ndelay_seconds = 0\n{extra}\n[sources.legistar]\nbase_url = "{server.url}/v1"\n')
    return path


def detect(config: Path, *args: str, proxy: str | None = None) -> Result:
    """The command; with `proxy`, plain-http requests go through that server (Scrapy reads
    `http_proxy`), so an address on any host can be served on loopback."""
    env = {"http_proxy": proxy, "no_proxy": "", "NO_PROXY": ""} if proxy else None
    return CliRunner(env=env).invoke(main, ["--config", str(config), "sources", "detect", *args],
                                     catch_exceptions=False)


def printed_block(output: str) -> str:
    """The `[[meetings]]` block as printed: from its header to the first blank line."""
    start = output.index("[[meetings]]\n")
    end = output.find("\n\n", start)
    return output[start:] if end < 0 else output[start:end + 1]


def assert_valid_watch(block: str, platform: str, tmp_path: Path) -> None:
    pasted = tmp_path / "pasted.toml"
    pasted.write_text(block)
    checked = CliRunner().invoke(main, ["--config", str(pasted), "config", "check"], catch_exceptions=False)
    assert checked.exit_code == 0, checked.output
    (watch,) = load_config(pasted, env={}).meetings
    assert watch.source_kind == platform
    assert f"source {platform}:{watch.id}" in checked.stdout


def test_every_platform_has_a_recording() -> None:
    assert {platform for platform, _ in RECORDINGS} >= set(PLATFORMS)


@pytest.mark.parametrize(("platform", "path"), RECORDINGS,
                         ids=[str(p.relative_to(LOCAL) if p.is_relative_to(LOCAL) else p.name) for _, p in RECORDINGS])
def test_every_recording_is_named_and_its_block_pastes(platform: str, path: Path, corpus: ReplayServer,
                                                       tmp_path: Path) -> None:
    url = served_at(corpus, path)
    result = detect(config_for(tmp_path, corpus), url, proxy=corpus.url if "legistar.com" in url else None)
    first = result.stdout.splitlines()[0] if result.stdout else ""
    assert first.startswith(PLATFORMS[platform] + ":") or first.startswith(PLATFORMS[platform] + " ("), \
        f"{path.name}: {result.output}"
    assert_valid_watch(printed_block(result.stdout), platform, tmp_path)
    # The listing was read; a parser that cannot read a layout says so in one line (its own fault).
    assert result.exit_code == 0 or (
        result.exit_code == 1 and "its parser cannot read it" in result.stderr
        and len(result.stderr.splitlines()) == 1), result.output
    if result.exit_code == 0:
        assert re.search(r"^Read .+: \d+ meetings? listed", result.stdout, re.M), result.stdout


# -- a person's page that leads to the listing -------------------------------------------------


def test_a_page_linking_its_calendar_feed_reads_the_feed(replay: ReplayServer, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_NOW", "2019-04-01T12:00:00Z")
    feed = (DEMO / "ics" / "detroit_k12_board_of_education.ics").read_bytes()
    replay.add("/board/calendar.ics", feed, content_type="text/calendar")
    replay.add("/board/meetings.html", b'<!DOCTYPE html><html><head><title>Board of Education Meetings</title>'
               b'<link rel="alternate" type="text/calendar" href="calendar.ics" title="Board meetings"></head>'
               b"<body><h1>Board meetings</h1><p>Meetings are open to the public.</p></body></html>")
    config = config_for(tmp_path, replay, '[tracker]\ncontact = "mailto:organizer@example.org"')
    result = detect(config, f"{replay.url}/board/meetings.html")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("iCalendar feed: told by a link on the page")
    block = printed_block(result.stdout)
    assert f'ical = "{replay.url}/board/calendar.ics"' in block
    assert 'name = "Board of Education Meetings"' in block  # the feed has no name: the page's title
    assert "# timezone = " in block  # the feed names no zone: a placeholder, not a guess
    assert_valid_watch(block, "ical", tmp_path)
    # The next meetings are the parser's own, said in the tracker's words, soonest first.
    now = datetime.fromisoformat("2019-04-01T12:00:00+00:00")
    ctx = ListingContext("x", "u", "Board", "America/New_York", (), now - timedelta(days=30), now + timedelta(days=120))
    ahead = sorted((m for m in parse_ical(feed, ctx).meetings if m.start and m.start >= "2019-04-01"),
                   key=lambda m: m.start or "")
    shown = result.stdout.split("The next meetings it would read:\n", 1)[1].splitlines()
    assert shown[0].strip().startswith("Tue Apr 16, 2019, 5:30 PM EDT")  # DTSTART:20190416T213000Z
    assert ahead[0].title in shown[0]
    # Two answers read (the page, then its feed), after robots.txt; the tool named in each request.
    asked = [r.path for r in replay.requests]
    assert asked == ["/robots.txt", "/board/meetings.html", "/board/calendar.ics"]
    (agent,) = {r.headers.get("User-Agent") for r in replay.requests}
    assert agent.startswith("tracker/") and "mailto:organizer@example.org" in agent


def test_a_page_linking_a_legistar_calendar_reads_the_clients_web_api(replay: ReplayServer, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_NOW", "2023-03-01T12:00:00Z")
    events = json.loads((LOCAL / "legistar" / "nyc_events_2023.json").read_bytes())
    api = LegistarApi("/v1")
    api.client("nyc").add_events(events)
    replay.mount("/v1", api)
    replay.add("/council.html", b"<html><head><title>City Council</title></head><body><p>Hearings are listed on "
               b'<a href="https://nyc.legistar.com/Calendar.aspx">the Council\'s calendar</a>.</p></body></html>')
    result = detect(config_for(tmp_path, replay), f"{replay.url}/council.html")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Legistar: told by a link on the page (https://nyc.legistar.com/Calendar.aspx)")
    block = printed_block(result.stdout)
    assert 'legistar = { client = "nyc" }' in block
    assert_valid_watch(block, "legistar", tmp_path)
    (listing,) = [r for r in replay.requests if r.path == "/v1/nyc/events"]
    assert listing.headers["Accept"] == "application/json" and "EventDate ge datetime'2023-01-30" in listing.query["$filter"]
    soonest = min((e for e in events if e["EventDate"][:10] >= "2023-03-01"), key=lambda e: (e["EventDate"], e["EventTime"] or ""))
    shown = result.stdout.split("The next meetings it would read:\n", 1)[1].splitlines()
    assert soonest["EventBodyName"].strip() in shown[0]
    assert shown[0].strip().startswith(datetime.fromisoformat(soonest["EventDate"]).strftime("%a %b %-d, 2023"))
    assert replay.count("/council.html") == 1 and len([r for r in replay.requests if r.path != "/robots.txt"]) == 2


def test_a_legistar_calendar_page_by_its_address(replay: ReplayServer, tmp_path: Path) -> None:
    """The real MWRD calendar page: every link relative, so `mwrd` comes from the address alone. The
    loopback server stands for both hosts (as the HTTP proxy): mwrd.legistar.com and the Web API."""
    api = LegistarApi("/v1")
    api.client("mwrd")  # a client with no meeting in the window: an empty list, still Legistar's
    replay.mount("/v1", api)
    replay.add("/Calendar.aspx", MWRD)
    result = detect(config_for(tmp_path, replay), "http://mwrd.legistar.com/Calendar.aspx", proxy=replay.url)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Legistar: told by its address")
    block = printed_block(result.stdout)
    assert 'legistar = { client = "mwrd" }' in block
    assert_valid_watch(block, "legistar", tmp_path)
    assert "0 meetings listed" in result.stdout
    host = replay.url.removeprefix("http://")
    assert [(r.headers["Host"], r.path) for r in replay.requests] == [
        ("mwrd.legistar.com", "/robots.txt"), ("mwrd.legistar.com", "/Calendar.aspx"),
        (host, "/robots.txt"), (host, "/v1/mwrd/events")]  # each host's robots.txt first
    # Served at an address that does not name its client, the page's own grid is the listing: the
    # web calendar source watches it.
    replay.add("/council/calendar.html", MWRD)
    result = detect(config_for(tmp_path, replay), f"{replay.url}/council/calendar.html")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Legistar web calendar: told by its content (Legistar's web calendar grid)")
    block = printed_block(result.stdout)
    assert f'legistar_calendar = "{replay.url}/council/calendar.html"' in block
    assert_valid_watch(block, "legistar_calendar", tmp_path)


@pytest.mark.parametrize("answered", [True, False])
def test_a_legistar_calendar_whose_web_api_asks_for_a_token_is_read_from_the_page(
        answered: bool, replay: ReplayServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """NYC's real calendar page at its own address, showing this month's first rows; the client's
    Web API (on loopback) refuses without a token (403): the block watches the calendar page. Detect
    then asks for the window's years as a crawl does (answers derived from the real page: 2019 holds
    all its rows, 2018 none), and shows what they hold; when they cannot be had (`answered` False,
    404), the page's own meetings, and why."""
    monkeypatch.setenv("TRACKER_NOW", "2019-01-15T12:00:00Z")
    api = LegistarApi("/v1")
    api.client("nyc").token = "secret"
    replay.mount("/v1", api)
    replay.add("/Calendar.aspx", answer(NYC, "This Month", NYC_STATE, slice(0, 5)), content_type="text/html")
    if answered:
        for year, rows in (("2019", slice(0, 40)), ("2018", None)):
            replay.add("/Calendar.aspx", answer(NYC, year, f"year-{year}", rows), content_type="text/html",
                       form={"__EVENTTARGET": LIST, LIST: year, "__VIEWSTATE": NYC_STATE})
    result = detect(config_for(tmp_path, replay), "http://nyc.legistar.com/Calendar.aspx", proxy=replay.url)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Legistar web calendar: told by its content")
    block = printed_block(result.stdout)
    assert 'legistar_calendar = "http://nyc.legistar.com/Calendar.aspx"' in block
    assert "answers HTTP 403" in block and 'legistar = { client = "nyc", token = "..." }' in block
    assert_valid_watch(block, "legistar_calendar", tmp_path)
    assert f"{40 if answered else 5} meetings listed" in result.stdout
    shown = result.stdout.split("The next meetings it would read:\n", 1)[1].splitlines()
    assert shown[0].strip().startswith("Tue Jan 15, 2019") if answered else "Jan 15" not in result.stdout
    # The page shows January's first rows only: a crawl asks for the years of its window (December
    # 16 to May 15), and so does detect.
    if answered:
        assert ("The page shows 'This Month'; asked for '2018' and '2019' as a crawl does, and read them too."
                in result.stdout.splitlines())
    else:
        (said,) = [line for line in result.stdout.splitlines() if line.startswith("The page shows 'This Month'")]
        assert said.startswith("The page shows 'This Month'; a crawl also asks for '2018' and '2019'")
        assert "Asking for '2018' and '2019' here failed: " in said and "HTTP 404" in said
    calls = [(r.method, r.path) for r in replay.requests if r.path != "/robots.txt"]
    assert calls[:2] == [("GET", "/Calendar.aspx"), ("GET", "/v1/nyc/events")]
    assert sorted(calls[2:]) == [("GET", "/Calendar.aspx"), ("POST", "/Calendar.aspx"), ("POST", "/Calendar.aspx")]


def test_a_page_linking_a_calendar_whose_web_api_asks_for_a_token_says_what_to_give(
        replay: ReplayServer, tmp_path: Path) -> None:
    api = LegistarApi("/v1")
    api.client("nyc").token = "secret"
    replay.mount("/v1", api)
    replay.add("/council.html", b'<html><head><title>City Council</title></head><body><p>Hearings: '
               b'<a href="https://nyc.legistar.com/Calendar.aspx">the calendar</a>.</p></body></html>')
    result = detect(config_for(tmp_path, replay), f"{replay.url}/council.html")
    assert result.exit_code == 1 and 'legistar = { client = "nyc" }' in printed_block(result.stdout)
    (line,) = result.stderr.splitlines()
    assert "HTTP 403" in line and "needs a token" in line
    assert line.endswith("or run detect on its web calendar page, https://nyc.legistar.com/Calendar.aspx)")


def test_a_legistar_calendar_playing_granicus_video_is_legistar(replay: ReplayServer, tmp_path: Path) -> None:
    """A county's Legistar calendar (Ramsey County's layout) whose meetings' video plays from Granicus:
    its meetings are Legistar's, not a Granicus listing."""
    api = LegistarApi("/v1")
    api.client("ramseycountymn")
    replay.mount("/v1", api)
    rows = "".join(
        f'<tr class="rgRow"><td><a href="MeetingDetail.aspx?ID={n}&amp;GUID=B3FC5F55">Board</a></td>'
        f'<td><a href="#" onclick="window.open(\'https://ramseycountymn.granicus.com/MediaPlayer.php?view_id=2&amp;'
        f'clip_id={n}\')">Video</a></td></tr>' for n in (1336457, 1336458))
    replay.add("/county/meetings.html", f'<html><head><title>Ramsey County - Calendar</title></head><body>'
               f'<form action="./Calendar.aspx"><table class="rgMasterTable">{rows}</table></form>'
               f'<a href="https://ramseycountymn.legistar.com/Calendar.aspx">Legistar</a></body></html>'.encode())
    result = detect(config_for(tmp_path, replay), f"{replay.url}/county/meetings.html")
    assert result.stdout.startswith("Legistar: told by a link on the page (https://ramseycountymn.legistar.com"), \
        result.output
    assert 'legistar = { client = "ramseycountymn" }' in printed_block(result.stdout)


def test_legistar_client_from_the_records_own_links(replay: ReplayServer, tmp_path: Path) -> None:
    """An events answer served at an address without `/v1/<client>`: the client is the one its
    records' InSite links name."""
    replay.mount("/v1", LegistarApi("/v1"))
    replay.add("/export/events.json", LOCAL / "legistar" / "nyc_events_top5.json", content_type="application/json")
    result = detect(config_for(tmp_path, replay), f"{replay.url}/export/events.json")
    assert 'legistar = { client = "nyc" }' in result.stdout, result.output


def test_a_boarddocs_meeting_list_on_its_site_is_watched_by_the_sites_xml_export(
        replay: ReplayServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The JSON meeting list a BoardDocs page asks for (a form POST of one committee, names and
    dates only), answered to detect's GET at its real address: the watch is the site's XML export
    (a plain GET, agenda items included), which detect reads; the block says why."""
    monkeypatch.setenv("TRACKER_NOW", "2017-02-01T12:00:00Z")  # the export's meetings are of early 2017
    replay.add("/wa/cvsd/Board.nsf/BD-GetMeetingsList", CORPUS / "boarddocs" / "central_valley_schools_meetings_list.json",
               content_type="application/json")
    replay.add("/wa/cvsd/Board.nsf/XML-ActiveMeetings", CORPUS / "boarddocs" / "cleveland_metro_schools_meetings.xml",
               content_type="application/xml")
    url = "http://go.boarddocs.com/wa/cvsd/Board.nsf/BD-GetMeetingsList?open&0.320616755508751"
    result = detect(config_for(tmp_path, replay), url, proxy=replay.url)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("BoardDocs: told by its content (a BoardDocs meeting list)")
    block = printed_block(result.stdout)
    assert 'boarddocs = "http://go.boarddocs.com/wa/cvsd/Board.nsf/XML-ActiveMeetings"' in block
    assert "# a BoardDocs meeting list (BD-GetMeetingsList) is a form POST of one committee" in block
    assert_valid_watch(block, "boarddocs", tmp_path)
    listed = re.search(r"^Read http://go.boarddocs.com/wa/cvsd/Board.nsf/XML-ActiveMeetings: (\d+) meetings listed",
                       result.stdout, re.M)
    assert listed and int(listed.group(1)) > 0, result.stdout
    asked = [(r.method, r.path) for r in replay.requests if r.path != "/robots.txt"]
    assert asked == [("GET", "/wa/cvsd/Board.nsf/BD-GetMeetingsList"), ("GET", "/wa/cvsd/Board.nsf/XML-ActiveMeetings")]


def test_primegov_search_results_on_the_portal_are_watched_by_its_meeting_list(replay: ReplayServer,
                                                                               tmp_path: Path) -> None:
    """PrimeGov search results (a form POST of one committee and dates) at the portal's address:
    the watch is the portal's meeting list, a plain GET; never the search address again."""
    replay.add("/api/v2/PublicPortal/search", CORPUS / "primegov" / "middlesex_planning_search.json",
               content_type="application/json")
    replay.add("/api/v2/PublicPortal/ListUpcomingMeetings", CORPUS / "primegov" / "clayton_upcoming_meetings.json",
               content_type="application/json")
    result = detect(config_for(tmp_path, replay), "http://middlesexcountynj.primegov.com/api/v2/PublicPortal/search",
                    proxy=replay.url)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("PrimeGov: told by its content (PrimeGov search results)")
    block = printed_block(result.stdout)
    assert 'primegov = "http://middlesexcountynj.primegov.com/api/v2/PublicPortal/ListUpcomingMeetings"' in block
    assert "# PrimeGov search results (api/v2/PublicPortal/search) are a form POST" in block
    assert_valid_watch(block, "primegov", tmp_path)
    asked = [r.path for r in replay.requests if r.path != "/robots.txt"]
    assert asked == ["/api/v2/PublicPortal/search", "/api/v2/PublicPortal/ListUpcomingMeetings"]


def test_a_primegov_year_archive_on_the_portal_is_watched_by_its_meeting_list(replay: ReplayServer, tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Los Angeles' real meeting list of 2025 given at the address of that year's archive
    (`ListArchivedMeetings?year=2025`, as a browser shows the portal asking for it): that list holds
    only the year's meetings already held, so a watch of it would tell of no meeting before it is held
    and of none at all from January on. The watch is the portal's meeting list, and the block says why."""
    monkeypatch.setenv("TRACKER_NOW", "2026-04-20T12:00:00Z")  # the upcoming list served is Clayton County's of April 2026
    replay.add("/api/v2/PublicPortal/ListArchivedMeetings", CORPUS / "primegov" / "lacity_recent_meetings_2025.json",
               content_type="application/json")
    replay.add("/api/v2/PublicPortal/ListUpcomingMeetings", CORPUS / "primegov" / "clayton_upcoming_meetings.json",
               content_type="application/json")
    result = detect(config_for(tmp_path, replay),
                    "http://lacity.primegov.com/api/v2/PublicPortal/ListArchivedMeetings?year=2025", proxy=replay.url)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("PrimeGov: told by its content (PrimeGov meetings)")
    block = printed_block(result.stdout)
    assert 'primegov = "http://lacity.primegov.com/api/v2/PublicPortal/ListUpcomingMeetings"' in block
    assert "year=2025" not in block.split("# ", 1)[0]
    assert "# a PrimeGov archive (api/v2/PublicPortal/ListArchivedMeetings?year=...) holds one year's meetings" in block
    assert_valid_watch(block, "primegov", tmp_path)
    assert re.search(r"^Read http://lacity.primegov.com/api/v2/PublicPortal/ListUpcomingMeetings: 2 meetings listed",
                     result.stdout, re.M), result.stdout
    asked = [r.path for r in replay.requests if r.path != "/robots.txt"]
    assert asked == ["/api/v2/PublicPortal/ListArchivedMeetings", "/api/v2/PublicPortal/ListUpcomingMeetings"]


def test_a_list_of_every_committee_offers_the_bodies_its_titles_name(replay: ReplayServer, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Los Angeles' PrimeGov list holds the council and its committees, its rows naming no body: the
    block offers the bodies the titles name, most meetings first, and a name pasted into `bodies`
    keeps that committee's meetings (its special agenda packet's included) and no other."""
    monkeypatch.setenv("TRACKER_NOW", "2024-10-01T12:00:00Z")
    replay.add("/api/v2/PublicPortal/ListArchivedMeetings", CORPUS / "primegov" / "lacity_council_meetings.json",
               content_type="application/json")
    result = detect(config_for(tmp_path, replay), f"{replay.url}/api/v2/PublicPortal/ListArchivedMeetings")
    assert result.exit_code == 0, result.output
    (line,) = [line for line in printed_block(result.stdout).splitlines() if line.startswith("# bodies = ")]
    offered = json.loads(line.removeprefix("# bodies = ").split("]", 1)[0] + "]")
    assert offered[:3] == ["City Council", "Personnel, Audits, and Hiring Committee",
                           "Planning and Land Use Management Committee"]
    assert "Housing and Homelessness Committee" in offered and len(offered) == 8
    assert "to follow only some of the 8 bodies in the window" in line
    chosen = printed_block(result.stdout).replace(line, f"bodies = {json.dumps(offered[2:3])}")
    config_path = tmp_path / "chosen.toml"
    config_path.write_text(f"[crawl]\ndelay_seconds = 0\n{chosen}")
    config = load_config(config_path, env={})
    store = Store(config.database_url)
    (report,) = run_crawls(config, store)
    assert report.ok and not report.warnings, (report.errors, report.warnings)
    assert sorted(m["title"] for m in status_json(store, config)["meetings"]) == [
        "Planning and Land Use Management Committee", "SAP - Planning and Land Use Management Committee"]


@pytest.mark.parametrize(("title", "body"), [
    # real titles: La Habra Heights, LADWP, St. Paul schools, Los Angeles, Duarte, Burbank (Granicus,
    # iCalendar, PrimeGov), Dallas ISD (CivicWeb), Detroit schools (iCalendar), Baldwin Park
    ("Regular Public Safety and Emergency Preparedness Committee Meeting",
     "Public Safety and Emergency Preparedness Committee"),
    ("Board of Commissioners Special Meeting 1:30 PM", "Board of Commissioners"),
    ("BOE | Regular Board of Education Meeting", "Board of Education"),
    ("COB | Committee of the Board", "Committee of the Board"),
    ("SAP - Personnel, Audits, and Hiring Committee", "Personnel, Audits, and Hiring Committee"),
    ("SPECIAL MEETING - CITY COUNCIL CLOSED SESSION", "CITY COUNCIL"),
    ("Art in Public Places Committee", "Art in Public Places Committee"),
    ("Called Board Meeting-Public Facility Corporation Organizational Meeting", "Board"),
    ("Curriculum/Academics Sub-Committee Meeting (Open)", "Curriculum/Academics Sub-Committee"),
    ("THE OVERSIGHT BOARD WILL NOT MEET ON JULY 10, 2012 DUE TO A LACK OF SCHEDULED AGENDA ITEMS.",
     "OVERSIGHT BOARD"),
    ("Board of Education Work Session", "Board of Education"),
    # titles naming no body (Clayton County, San Diego, Tulsa schools): nothing to offer
    ("Regular Business Meeting", None), ("Work Session", None),
    ("Public Safety and Neighborhood Services (PS&NS)", None), ("Regular Meeting (DRAFT AGENDA)", None),
])
def test_the_body_a_title_names(title: str, body: str | None) -> None:
    assert titled_body(title) == body


@pytest.mark.parametrize("host", ["loopback", "lacity.primegov.com"])
def test_a_primegov_portal_page_is_watched_by_its_meeting_list(host: str, replay: ReplayServer, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Los Angeles' PrimeGov portal page holds no meeting (its scripts load them from the portal's
    meeting list): at an address that does not name PrimeGov (a city's own domain; here loopback)
    its content tells it, at `<city>.primegov.com` its address does; either way the watch is the
    meeting list on the same host, which detect reads."""
    replay.add("/public/portal", LA_PORTAL, content_type="text/html")
    monkeypatch.setenv("TRACKER_NOW", "2021-10-15T12:00:00Z")  # LA's recorded meeting list is of October 2021
    replay.add("/api/v2/PublicPortal/ListUpcomingMeetings", CORPUS / "primegov" / "lacity_government_upcoming_meetings.json",
               content_type="application/json")
    site = replay.url if host == "loopback" else f"http://{host}"
    result = detect(config_for(tmp_path, replay), f"{site}/public/portal", proxy=None if host == "loopback" else replay.url)
    assert result.exit_code == 0, result.output
    said = "its content (a PrimeGov portal page)" if host == "loopback" else "its address"
    assert result.stdout.startswith(f"PrimeGov: told by {said}"), result.stdout
    block = printed_block(result.stdout)
    assert f'primegov = "{site}/api/v2/PublicPortal/ListUpcomingMeetings"' in block
    assert_valid_watch(block, "primegov", tmp_path)
    listed = re.search(r"^Read \S+/api/v2/PublicPortal/ListUpcomingMeetings: (\d+) meetings listed", result.stdout, re.M)
    assert listed and int(listed.group(1)) > 0, result.stdout
    asked = [r.path for r in replay.requests if r.path != "/robots.txt"]
    assert asked == ["/public/portal", "/api/v2/PublicPortal/ListUpcomingMeetings"]


@pytest.mark.parametrize("told_by", ["content", "address"])
def test_an_agendacenter_category_page_is_watched_as_a_search_of_that_category(
        told_by: str, replay: ReplayServer, tmp_path: Path) -> None:
    """A person gives the page of one body in a CivicPlus AgendaCenter (`/AgendaCenter/<Name>-<id>`,
    the id its category's: Inglewood's real page has `category-panel-15`, the Citizen Police
    Oversight Commission): the watch keeps that body only, the center's search of category 15 (the
    crawl fills in its window's dates), whether the page's rows or its address told the platform."""
    page = CORPUS / "civicplus" / "inglewood_agendacenter.html"
    assert b'aria-controls="category-panel-15">Citizen Police Oversight Commission' in page.read_bytes()
    served = page.read_bytes() if told_by == "content" else b"<html><head><title>Agenda Center</title></head><body></body></html>"
    replay.add("/AgendaCenter/Citizen-Police-Oversight-Commission-15", served, content_type="text/html")
    replay.add("/AgendaCenter/Search/", CORPUS / "civicplus" / "columbuswi_agendacenter_search.html", content_type="text/html")
    result = detect(config_for(tmp_path, replay), f"{replay.url}/AgendaCenter/Citizen-Police-Oversight-Commission-15")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"CivicPlus AgendaCenter: told by its {told_by}"), result.stdout
    block = printed_block(result.stdout)
    assert f'civicplus = "{replay.url}/AgendaCenter/Search/?term=&CIDs=15"' in block
    assert_valid_watch(block, "civicplus", tmp_path)
    searched = [r for r in replay.requests if r.path == "/AgendaCenter/Search/"]
    assert [r.query.get("CIDs") for r in searched] == ([] if told_by == "content" else ["15"])


def test_only_a_category_page_or_a_search_keeps_some_bodies_of_an_agendacenter() -> None:
    center = "https://x.gov/AgendaCenter"
    kept = {f"{center}/City-Council-4": f"{center}/Search/?term=&CIDs=4",
            f"{center}/Search-and-Rescue-Board-9/": f"{center}/Search/?term=&CIDs=9",  # a body named "Search ..."
            f"{center}/Search/?term=budget&CIDs=4,7": f"{center}/Search/?term=budget&CIDs=4,7",
            f"{center}/Search/?CIDs=all": center, center: center,
            f"{center}/ViewFile/Agenda/_08202026-3554": center,  # one document, not a body
            f"{center}/PreviousVersions/_08202026-3554": center, f"{center}/_01012020-123": center}
    assert {url: civicplus_value(url, center) for url in kept} == kept


def test_a_copy_of_a_form_answer_elsewhere_is_watched_where_it_is(corpus: ReplayServer, tmp_path: Path) -> None:
    """A BoardDocs meeting list or PrimeGov search results served by GET off the platform's host
    (a copy, a mirror): a crawl's GET reads it as detect's did, so the block watches that address,
    and the comment names the platform's own listing."""
    for name, platform, said in (("boarddocs/goddard_schools_meetings_list.json", "boarddocs", "a BoardDocs meeting list"),
                                 ("primegov/middlesex_planning_search.json", "primegov", "PrimeGov search results")):
        url = f"{corpus.url}/files/corpus/{name}"
        result = detect(config_for(tmp_path, corpus), url)
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith(f"{PLATFORMS[platform]}: told by its content ({said})")
        block = printed_block(result.stdout)
        assert f'{platform} = "{url}"' in block and "a form POST of one committee" in block
        assert re.search(r"^Read .+: \d+ meetings? listed", result.stdout, re.M)


@pytest.mark.parametrize(("path", "query", "said"), [
    ("corpus/feed/gainesville_civicmedia_rss.xml", {"ModID": "68", "CID": "City-Council-2"},
     "published by CivicPlus Media Center (its videos)"),
    ("derived/civicplus_agendacenter_rss.xml", {"ModID": "65", "CID": "all-0"}, "published by CivicPlus AgendaCenter"),
])
def test_a_civicplus_feed_says_which_module_publishes_it(path: str, query: dict[str, str], said: str,
                                                          replay: ReplayServer, tmp_path: Path) -> None:
    """A CivicPlus site's feeds all come from `RSSFeed.aspx`: the AgendaCenter's (`ModID=65`) holds
    agendas, the Media Center's (real: Gainesville, TX) the meetings' videos."""
    replay.add("/RSSFeed.aspx", LOCAL / path, query=query)
    result = detect(config_for(tmp_path, replay), f"{replay.url}/RSSFeed.aspx?{urlencode(query)}")
    assert result.exit_code == 0, result.output
    assert said in result.stdout.splitlines()[0], result.stdout


def test_json_output(replay: ReplayServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_NOW", "2018-06-01T12:00:00Z")
    replay.add("/ViewPublisher.php", LOCAL / "granicus" / "rta_chicago_viewpublisher_upcoming.html", query={"view_id": "5"})
    url = f"{replay.url}/ViewPublisher.php?view_id=5"
    result = detect(config_for(tmp_path, replay), url, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["platform"] == "granicus" and data["config"]["granicus"] == url and data["problem"] is None
    assert data["meetings"] and all(m["source"] == "granicus" for m in data["meetings"])
    assert data["meetings"] == sorted(data["meetings"], key=lambda m: (m["date"], m["start"] or ""))
    assert_valid_watch(data["block"], "granicus", tmp_path)


# -- the block as printed, pasted and crawled ---------------------------------------------------


def crawl_pasted(block: str, tmp_path: Path, extra: str = "") -> tuple[Any, list[dict[str, Any]]]:
    """The block saved as a config file and crawled once: the source's report and its meetings."""
    path = tmp_path / "pasted.toml"
    path.write_text(f"[crawl]\ndelay_seconds = 0\n{extra}\n{block}")
    config = load_config(path, env={})
    store = Store(config.database_url)
    (report,) = run_crawls(config, store)
    return report, status_json(store, config)["meetings"]


def test_an_address_ending_in_a_slash_is_crawled_as_detect_read_it(replay: ReplayServer, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """HACC's events feed is at `/feed/` (WordPress), and `/feed` is another address (here a 404):
    the block keeps the address as given, and the crawl reads the meetings detect showed."""
    monkeypatch.setenv("TRACKER_NOW", "2018-06-01T15:00:00Z")
    replay.add("/hacc/feed/", CORPUS / "feed" / "hacc_events_rss.xml", content_type="application/rss+xml")
    result = detect(config_for(tmp_path, replay), f"{replay.url}/hacc/feed/")
    assert result.exit_code == 0, result.output
    block = printed_block(result.stdout)
    assert f'feed = "{replay.url}/hacc/feed/"' in block
    shown = int(re.search(r"meetings listed, (\d+) in the window", result.stdout).group(1))
    report, meetings = crawl_pasted(block, tmp_path)
    assert report.ok, report.errors
    assert len(meetings) == shown > 0
    assert [r.path for r in replay.requests if r.path.startswith("/hacc")] == ["/hacc/feed/", "/hacc/feed/"]


def test_a_feed_of_past_meetings_says_how_many_it_holds_and_the_latest(replay: ReplayServer, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The Great Lakes Water Authority's feed holds 7 meetings of 2018: detect today says it holds 7,
    none in the window, and which is the latest (not "0 meetings listed")."""
    monkeypatch.setenv("TRACKER_NOW", "2026-12-03T15:00:00Z")
    replay.add("/glwa.ics", CORPUS / "ical" / "glwa.ics", content_type="text/calendar")
    result = detect(config_for(tmp_path, replay), f"{replay.url}/glwa.ics")
    assert result.exit_code == 0, result.output
    assert "7 meetings listed, 0 in the window a crawl keeps" in result.stdout
    assert "None in the window now; the latest listed: Wed Jul 25, 2018, 6:00 PM EDT" in result.stdout
    data = json.loads(detect(config_for(tmp_path, replay), f"{replay.url}/glwa.ics", "--json").stdout)
    assert data["listed"] == 7 and data["meetings"] == []


def test_a_legistar_block_says_each_thing_once_and_its_bodies_paste_into_its_table(
        corpus: ReplayServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ann Arbor's events, at an address of a Web API other than the configured one: each comment
    once, the bodies offered as the Web API names them (`Greenbelt Advisory Commission (GAC)`), and
    only inside `legistar = {...}`, where one pasted keeps that body's meetings and no other."""
    monkeypatch.setenv("TRACKER_NOW", "2026-09-01T15:00:00Z")
    path = CORPUS / "legistar" / "a2gov_events.json"
    config = tmp_path / "other.toml"
    config.write_text("[crawl]\ndelay_seconds = 0\n")  # the Web API served here is not the configured one
    result = detect(config, served_at(corpus, path))
    assert result.exit_code == 0, result.output
    block = printed_block(result.stdout)
    comments = [line for line in block.splitlines() if line.startswith("#")]
    assert len(comments) == len(set(comments)), block
    assert not any(line.startswith("# bodies =") for line in comments), block
    (offer,) = [line for line in comments if "bodies in the window" in line]
    assert offer == ('# to follow only some of the 3 bodies in the window, inside legistar = {...}: bodies = '
                     '["City Council", "Elizabeth Dean Fund Committee", "Greenbelt Advisory Commission (GAC)"]')
    chosen = block.replace('legistar = { client = "a2gov" }',
                           'legistar = { client = "a2gov", bodies = ["Greenbelt Advisory Commission (GAC)"] }')
    report, meetings = crawl_pasted(chosen, tmp_path, f'[sources.legistar]\nbase_url = "{corpus.url}/v1"')
    assert report.ok, report.errors
    assert [m["title"] for m in meetings] == ["Greenbelt Advisory Commission (GAC)"]


def test_a_feed_whose_time_zone_block_is_broken_is_read_whole_with_one_warning(
        replay: ReplayServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Chicago's Low-Income Housing Trust Fund names two zones in one VTIMEZONE; every event names
    its own (`TZID=America/Chicago`), so no meeting is lost: detect and the crawl say so in one
    warning, and the source is ok (not failed on every run for what its meetings do not suffer)."""
    monkeypatch.setenv("TRACKER_NOW", "2024-06-15T15:00:00Z")
    replay.add("/lihtf.ics", CORPUS / "ical" / "chicago_lihtf.ics", content_type="text/calendar")
    result = detect(config_for(tmp_path, replay), f"{replay.url}/lihtf.ics")
    assert result.exit_code == 0, result.output
    assert "1 parts of the listing could not be read, e.g.: time zone UTC: unreadable: it names 2 zones" in result.stdout
    report, meetings = crawl_pasted(printed_block(result.stdout), tmp_path)
    assert report.ok and report.errors == [], report.errors
    (warning,) = report.warnings
    assert warning == ("ical:clihtf: time zone UTC: unreadable: it names 2 zones (UTC, America/Chicago); its events "
                       f"use the zone their TZID names: every meeting was read ({replay.url}/lihtf.ics)")
    shown = int(re.search(r"meetings listed, (\d+) in the window", result.stdout).group(1))
    assert len(meetings) == shown > 0
    assert report.complete_listing  # whole: a stored meeting it no longer shows would be noted missing


@pytest.mark.parametrize(("title", "said", "line_ends"), [
    ("GLWA Audit Committee Meeting (CANCELLED)", "CANCELLED", "GLWA Audit Committee Meeting (CANCELLED)"),
    ("City Council (No Meeting)", "No Meeting", "City Council (No Meeting)"),
    ("Plan Commission - Cancelled", "Cancelled", "Plan Commission - Cancelled"),
    ("Regular Board Meeting", "Notice of Cancellation", "Regular Board Meeting (Notice of Cancellation)"),
])
def test_a_cancelled_meeting_says_so_once(title: str, said: str, line_ends: str) -> None:
    """The preview adds the source's word on a cancellation only where the title does not say it."""
    meeting = Meeting(source="ical", source_ref="1", body="Body", title=title, date="2026-12-08", timezone="UTC",
                      time_tbd=True, status=MeetingStatus.CANCELLED, status_text=said)
    assert meeting_line(meeting, "Body").endswith(f"  {line_ends}")


# -- what it cannot tell, and what it will not fetch --------------------------------------------


def one_problem(result: Result) -> str:
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_a_page_with_no_listing_is_one_line(replay: ReplayServer, tmp_path: Path) -> None:
    replay.add("/parks.html", b"<!DOCTYPE html><html><head><title>Parks and Recreation</title></head><body>"
               b"<p>Summer camps open in June.</p><a href='/pools.html'>Pools</a></body></html>")
    line = one_problem(detect(config_for(tmp_path, replay), f"{replay.url}/parks.html"))
    assert line == (f'{replay.url}/parks.html: an HTML page with no meeting listing recognised '
                    f'(title "Parks and Recreation")')
    replay.add("/data.json", b'{"parks": 12}')
    line = one_problem(detect(config_for(tmp_path, replay), f"{replay.url}/data.json"))
    assert line.endswith("a JSON document with no meeting listing recognised")


def test_a_civicweb_site_is_read_from_its_list_of_the_window(replay: ReplayServer, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A school board's Diligent Community portal page (real list: Dallas ISD's): the platform by its
    address, its meeting list asked for the crawl's window, the block watching the site."""
    monkeypatch.setenv("TRACKER_NOW", "2026-04-20T12:00:00Z")
    replay.add("/Services/MeetingsService.svc/meetings", CORPUS / "civicweb" / "dallasisd_meetings.json",
               content_type="application/json")
    replay.add("/Portal/MeetingSchedule.aspx", b"<!DOCTYPE html><html><head><title>Dallas ISD - Meeting Schedule"
               b"</title></head><body><div id='calendar'></div></body></html>")
    result = detect(config_for(tmp_path, replay), "http://dallasisd.community.highbond.com/Portal/MeetingSchedule.aspx",
                    proxy=replay.url)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("CivicWeb (Diligent Community): told by its address")
    block = printed_block(result.stdout)
    assert 'civicweb = "http://dallasisd.community.highbond.com"' in block
    assert_valid_watch(block, "civicweb", tmp_path)
    asked = [(r.path, r.query.get("from"), r.query.get("to")) for r in replay.requests if r.path != "/robots.txt"]
    assert asked == [("/Portal/MeetingSchedule.aspx", None, None),
                     ("/Services/MeetingsService.svc/meetings", "2026-03-21", "2026-08-18")]
    assert "Board Meeting Agenda and Notice" in result.stdout.split("The next meetings it would read:", 1)[1]


def test_a_civicweb_portal_page_elsewhere_is_told_by_the_host_its_scripts_name(replay: ReplayServer, tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Walnut Creek School District's real Meetings page at an address that does not name the
    platform (a district's own domain; here loopback): its links are all relative, the portal's host
    is named only in its scripts' data, and that is enough to watch the site and read its list of the
    window (real list: Dallas ISD's, served for it)."""
    monkeypatch.setenv("TRACKER_NOW", "2026-04-20T12:00:00Z")
    replay.add("/board/meetings.html", WALNUT_CREEK, content_type="text/html")
    replay.add("/Services/MeetingsService.svc/meetings", CORPUS / "civicweb" / "dallasisd_meetings.json",
               content_type="application/json")
    result = detect(config_for(tmp_path, replay), f"{replay.url}/board/meetings.html", proxy=replay.url)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("CivicWeb (Diligent Community): told by a link on the page "
                                    "(http://walnutcreeksd.community.highbond.com/Portal/MeetingTypeList.aspx)")
    block = printed_block(result.stdout)
    assert 'civicweb = "http://walnutcreeksd.community.highbond.com"' in block
    assert_valid_watch(block, "civicweb", tmp_path)
    asked = [(r.path, r.query.get("from"), r.query.get("to")) for r in replay.requests if r.path != "/robots.txt"]
    assert asked == [("/board/meetings.html", None, None),
                     ("/Services/MeetingsService.svc/meetings", "2026-03-21", "2026-08-18")]


def test_one_granicus_meeting_says_which_listing_to_give(replay: ReplayServer, tmp_path: Path) -> None:
    """People copy the address of the agenda they were reading: one meeting's page on Granicus is
    named as such, with the ViewPublisher listing of the same view to give instead."""
    agenda = (b"<!DOCTYPE html><html><head><title>Council Meeting Agenda</title></head><body><h1>AGENDA</h1>"
              b"<a href='/MediaPlayer.php?view_id=3&clip_id=1345'>Video</a>"
              b"<a href='/MinutesViewer.php?view_id=3&clip_id=1345'>Minutes</a></body></html>")
    replay.add("/AgendaViewer.php", agenda)
    replay.add("/MediaPlayer.php", b"<!DOCTYPE html><html><head><title>Player</title></head><body></body></html>")
    url = f"{replay.url}/AgendaViewer.php?view_id=3&event_id=1314"
    assert one_problem(detect(config_for(tmp_path, replay), url)) == (
        f"{url}: one meeting's agenda on Granicus, not a listing of meetings: give the body's ViewPublisher "
        f"listing instead, {replay.url}/ViewPublisher.php?view_id=3")
    url = f"{replay.url}/MediaPlayer.php?view_id=8&clip_id=913"
    assert one_problem(detect(config_for(tmp_path, replay), url)).endswith(
        f": one meeting's video player on Granicus, not a listing of meetings: give the body's ViewPublisher "
        f"listing instead, {replay.url}/ViewPublisher.php?view_id=8")
    # an agenda address that sends the reader on to its PDF is still that meeting's agenda
    replay.add("/agenda-link", b"", status=302,
               headers={"Location": f"{replay.url}/AgendaViewer.php?view_id=5&clip_id=2"})
    line = one_problem(detect(config_for(tmp_path, replay), f"{replay.url}/agenda-link"))
    assert line.startswith(f"{replay.url}/agenda-link: one meeting's agenda on Granicus") and \
        line.endswith(f"{replay.url}/ViewPublisher.php?view_id=5")
    # the listing it names is what detect reads
    replay.add("/ViewPublisher.php", CORPUS / "granicus" / "spokanevalley_viewpublisher.html")
    result = detect(config_for(tmp_path, replay), f"{replay.url}/ViewPublisher.php?view_id=3")
    assert result.exit_code == 0, result.output
    assert f'granicus = "{replay.url}/ViewPublisher.php?view_id=3"' in printed_block(result.stdout)


def test_robots_txt_is_obeyed(replay: ReplayServer, tmp_path: Path) -> None:
    replay.robots("User-agent: *\nDisallow: /private/\n")
    replay.add("/private/calendar.ics", DEMO / "ics" / "detroit_k12_board_of_education.ics")
    line = one_problem(detect(config_for(tmp_path, replay), f"{replay.url}/private/calendar.ics"))
    assert "robots.txt" in line and "does not allow it" in line
    assert replay.count("/private/calendar.ics") == 0 and replay.count("/robots.txt") == 1


def test_not_found_and_refused_are_one_line(replay: ReplayServer, tmp_path: Path) -> None:
    line = one_problem(detect(config_for(tmp_path, replay), f"{replay.url}/no/such/page"))
    assert line == f"{replay.url}/no/such/page: HTTP 404 (not found)"
    with serve() as gone:
        closed = gone.url
    line = one_problem(detect(config_for(tmp_path, replay), f"{closed}/meetings"))
    assert "connection refused" in line


def test_an_oversized_answer_is_not_read(replay: ReplayServer, tmp_path: Path) -> None:
    size = 32 * 1024 * 1024
    replay.add("/huge.ics", b"", fault=Fault.huge(size))
    config = config_for(tmp_path, replay, f"max_bytes = {1024 * 1024}")
    line = one_problem(detect(config, f"{replay.url}/huge.ics"))
    assert "larger than 1 MB" in line
    (asked,) = [r for r in replay.requests if r.path == "/huge.ics"]
    assert asked.bytes < size / 2  # the download was abandoned, not read whole


def test_a_gzip_bomb_is_not_read(replay: ReplayServer, tmp_path: Path) -> None:
    """49 KB on the wire, 50 MB once unpacked: cut off at the cap while it unpacks, one line."""
    replay.add("/bomb.ics", gzip.compress(b"\0" * 50_000_000, compresslevel=9), headers={"Content-Encoding": "gzip"})
    line = one_problem(detect(config_for(tmp_path, replay, f"max_bytes = {1024 * 1024}"), f"{replay.url}/bomb.ics"))
    assert "the answer is larger than 1 MB, the download cap: not read" in line


def test_a_redirect_is_followed_and_the_block_names_where_it_ended(replay: ReplayServer, tmp_path: Path) -> None:
    replay.add("/old-calendar", b"", status=301, headers={"Location": f"{replay.url}/calendar.ics"})
    replay.add("/calendar.ics", DEMO / "ics" / "detroit_k12_board_of_education.ics")
    result = detect(config_for(tmp_path, replay), f"{replay.url}/old-calendar")
    assert result.exit_code == 0, result.output
    assert f'ical = "{replay.url}/calendar.ics"' in printed_block(result.stdout)


def test_not_an_address_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--config", str(tmp_path / "none.toml"), "sources", "detect", "ftp://x/y"])
    assert result.exit_code == 2 and "not an http(s) address" in result.stderr


@pytest.mark.parametrize("url", ["nyc.legistar.com", "www.boarddocs.com/ca/sfusd/Board.nsf/Public"])
def test_a_host_without_its_scheme_is_refused_naming_the_address_to_try(tmp_path: Path, url: str) -> None:
    """Copied from an address bar as shown, without `https://`: still a usage error, and the line says
    what to type instead."""
    result = CliRunner().invoke(main, ["--config", str(tmp_path / "none.toml"), "sources", "detect", url])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: {url!r} is not an http(s) address: try https://{url}"
