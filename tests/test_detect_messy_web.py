"""`tracker sources detect` against the web as an organizer meets it: pages that keep dead links in
HTML comments, link to several platforms, send the reader on, refuse to answer, speak another
encoding, are very large, hold an empty feed, or carry a key in the address the person pasted. The
real command, the crawl's real engine, real recordings (tests/data/local) served on loopback."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from test_detect import config_for, detect, one_problem, printed_block

import tracker.demo
from tracker.cli import main
from tracker.demo.replay import ReplayServer

LOCAL = Path(__file__).parent / "data" / "local"
CORPUS = LOCAL / "corpus"
DEMO = Path(tracker.demo.__file__).parent / "data"
DETROIT = DEMO / "ics" / "detroit_k12_board_of_education.ics"


# -- what an HTML comment holds is not on the page ----------------------------------------------


COMMENTED = {
    "an old Legistar link": b"<!-- <a href='https://springfield.legistar.com/Calendar.aspx'>Calendar</a> -->",
    "an old Legistar address in words": b"<!-- moved from https://springfield.legistar.com/Calendar.aspx -->",
    "an old iframe": b"<!--\n<iframe src='https://springfield.granicus.com/ViewPublisher.php?view_id=2'></iframe>\n-->",
    "a PrimeGov script kept for later": b"<!-- <script>PrimeGov.Views.PublicPortal.init();</script> -->",
    "a conditional comment": b"<!--[if lt IE 9]><a href='https://springfield.legistar.com/Calendar.aspx'>x</a>"
                             b"<![endif]-->",
    "a comment never closed": b"<p>Agendas are posted here.</p><!-- <a href='https://x.legistar.com/Calendar.aspx'>",
}


@pytest.mark.parametrize("comment", COMMENTED.values(), ids=COMMENTED.keys())
def test_a_link_in_an_html_comment_names_no_platform(comment: bytes, replay: ReplayServer, tmp_path: Path) -> None:
    """A city that left its old platform's link in a comment when it moved on: the page names no
    platform, and the line says so rather than watching a dead source."""
    replay.add("/council.html", b"<!DOCTYPE html><html><head><title>City Council</title></head><body>"
               b"<h1>City Council</h1>" + comment + b"<p>Agendas are posted before each meeting.</p></body></html>")
    line = one_problem(detect(config_for(tmp_path, replay), f"{replay.url}/council.html"))
    assert line == f'{replay.url}/council.html: an HTML page with no meeting listing recognised (title "City Council")'
    assert [r.path for r in replay.requests if r.path != "/robots.txt"] == ["/council.html"]


def test_a_commented_link_does_not_outrank_the_live_one(replay: ReplayServer, tmp_path: Path) -> None:
    """The old Legistar link in a comment, the new calendar feed live: the feed is the watch, and the
    dead link is not offered as another platform the page links to."""
    replay.add("/calendar.ics", DETROIT, content_type="text/calendar")
    replay.add("/council.html", b"<!DOCTYPE html><html><head><title>Board of Education</title></head><body>"
               b"<!-- <a href='https://detroit.legistar.com/Calendar.aspx'>old calendar</a> -->"
               b"<a href='/calendar.ics'>Subscribe to the board's calendar</a></body></html>")
    result = detect(config_for(tmp_path, replay), f"{replay.url}/council.html")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"iCalendar feed: told by a link on the page ({replay.url}/calendar.ics)")
    assert "legistar" not in result.stdout.lower()


def test_a_script_between_comment_markers_inside_a_script_still_counts(replay: ReplayServer,
                                                                        tmp_path: Path) -> None:
    """`<script><!-- ... //--></script>`, the old way of hiding a script from browsers without
    scripts: a script's text is no comment, so the PrimeGov portal its code names is still told."""
    replay.add("/portal", b"<!DOCTYPE html><html><head><title>Meetings</title><script><!--\n"
               b"PrimeGov.Views.PublicPortal.init();\n//--></script></head><body></body></html>")
    replay.add("/api/v2/PublicPortal/ListUpcomingMeetings", CORPUS / "primegov" / "clayton_upcoming_meetings.json",
               content_type="application/json")
    result = detect(config_for(tmp_path, replay), f"{replay.url}/portal")
    assert result.stdout.startswith("PrimeGov: told by its content (a PrimeGov portal page)"), result.output


# -- a page that links to several platforms -----------------------------------------------------


SCHOOL_BOARDDOCS = "http://go.boarddocs.com/oh/akron/Board.nsf/Public"


def city_page(title: bytes, *links: bytes) -> bytes:
    return (b"<!DOCTYPE html><html><head><title>" + title + b"</title></head><body><h1>" + title + b"</h1><ul>"
            + b"".join(b"<li>" + link + b"</li>" for link in links) + b"</ul></body></html>")


def test_a_city_page_linking_its_school_boards_boarddocs_watches_the_citys_own_calendar(
        replay: ReplayServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """BoardDocs ranks above a calendar feed, but on a city's page a link labelled as the school
    board's is the schools', not the council's: the city's own feed is the watch, and the note names
    the school board's BoardDocs as the other platform linked, with its words."""
    monkeypatch.setenv("TRACKER_NOW", "2019-04-01T12:00:00Z")
    replay.add("/calendar.ics", DETROIT, content_type="text/calendar")
    replay.add("/council.html", city_page(
        b"City Council Meetings", f"<a href='{SCHOOL_BOARDDOCS}'>Board of Education agendas</a>".encode(),
        b"<a href='/calendar.ics'>Council meeting calendar</a>"))
    result = detect(config_for(tmp_path, replay), f"{replay.url}/council.html")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"iCalendar feed: told by a link on the page ({replay.url}/calendar.ics)")
    block = printed_block(result.stdout)
    assert (f'# the page also links to: BoardDocs "Board of Education agendas" ({SCHOOL_BOARDDOCS}): '
            "if one of those is the body you follow, run detect on its address") in block.splitlines()


def test_the_school_boards_own_page_still_watches_its_boarddocs(replay: ReplayServer, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The same links on the school board's page: its BoardDocs is the watch (real export: Akron
    Public Schools'), the feed named as the other platform linked."""
    monkeypatch.setenv("TRACKER_NOW", "2019-04-01T12:00:00Z")
    replay.add("/oh/akron/Board.nsf/XML-ActiveMeetings", CORPUS / "boarddocs" / "akron_public_schools_meetings.xml",
               content_type="application/xml")
    replay.add("/board.html", city_page(
        b"Board of Education", f"<a href='{SCHOOL_BOARDDOCS}'>Board of Education agendas</a>".encode(),
        b"<a href='/calendar.ics'>District calendar</a>"))
    result = detect(config_for(tmp_path, replay), f"{replay.url}/board.html", proxy=replay.url)
    assert result.stdout.startswith(f"BoardDocs: told by a link on the page ({SCHOOL_BOARDDOCS})"), result.output
    block = printed_block(result.stdout)
    assert 'boarddocs = "http://go.boarddocs.com/oh/akron/Board.nsf/XML-ActiveMeetings"' in block
    assert '# the page also links to: iCalendar feed "District calendar"' in block


def test_a_city_page_linking_its_legistar_and_the_school_boards_boarddocs_says_both(
        replay: ReplayServer, tmp_path: Path) -> None:
    """The council's Legistar is the watch; the block says the page also links the school board's
    BoardDocs, so a person who meant the schools knows where to look."""
    from tracker.demo.legistar_api import LegistarApi

    api = LegistarApi("/v1")
    api.client("akron")
    replay.mount("/v1", api)
    replay.add("/council.html", city_page(
        b"City Council", f"<a href='{SCHOOL_BOARDDOCS}'>Akron Public Schools board</a>".encode(),
        b"<a href='https://akron.legistar.com/Calendar.aspx'>Council calendar</a>"))
    result = detect(config_for(tmp_path, replay), f"{replay.url}/council.html")
    assert result.stdout.startswith("Legistar: told by a link on the page (https://akron.legistar.com/Calendar.aspx)"), \
        result.output
    assert f'# the page also links to: BoardDocs "Akron Public Schools board" ({SCHOOL_BOARDDOCS})' in result.stdout


# -- a page that is not where it says, or refuses ------------------------------------------------


def test_a_login_wall_says_so(replay: ReplayServer, tmp_path: Path) -> None:
    replay.add("/members/meetings", b"<html><head><title>Sign in</title></head><body>Sign in</body></html>",
               status=401, headers={"WWW-Authenticate": 'Basic realm="staff"'})
    replay.add("/intranet/meetings", b"<html><head><title>Forbidden</title></head><body>No</body></html>", status=403)
    line = one_problem(detect(config_for(tmp_path, replay), f"{replay.url}/members/meetings"))
    assert line.startswith(f"{replay.url}/members/meetings: HTTP 401 (the page asks for a login: tracker reads "
                           "only public pages")
    line = one_problem(detect(config_for(tmp_path, replay), f"{replay.url}/intranet/meetings"))
    assert line.startswith(f"{replay.url}/intranet/meetings: HTTP 403 (forbidden: the site refuses the page to tracker")


def test_a_redirect_to_a_login_page_says_where_it_went_and_what_it_is(replay: ReplayServer, tmp_path: Path) -> None:
    replay.add("/council/agendas", b"", status=302, headers={"Location": f"{replay.url}/sso/login?next=/council"})
    replay.add("/sso/login", b"<html><head><title>Portal</title></head><body><form method=post>"
               b"<input name=user><input type=PASSWORD name=pw></form></body></html>")
    line = one_problem(detect(config_for(tmp_path, replay), f"{replay.url}/council/agendas"))
    assert line == (f"{replay.url}/council/agendas, sent on to {replay.url}/sso/login?next=/council: a login page "
                    "(it asks for a password), not a listing of meetings: tracker reads only public pages; give "
                    "the address of the meetings as the public sees them")


def test_a_redirect_chain_too_long_says_where_it_got_to(replay: ReplayServer, tmp_path: Path) -> None:
    for n in range(6):
        replay.add(f"/hop{n}", b"", status=302, headers={"Location": f"{replay.url}/hop{n + 1}"})
    replay.add("/hop6", DETROIT, content_type="text/calendar")
    line = one_problem(detect(config_for(tmp_path, replay), f"{replay.url}/hop0"))
    assert line.startswith(f"{replay.url}/hop0, sent on to {replay.url}/hop")
    assert line.endswith(": too many redirects (open it in a browser and give the address it ends at)")


# -- another encoding, a very large page, an empty feed -----------------------------------------


@pytest.mark.parametrize("encoding", ["windows-1252", "utf-16"])
def test_a_page_in_another_encoding_is_read_in_it(encoding: str, replay: ReplayServer, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The encoding named only by the HTTP header (no `<meta>`): the block's name is the title's
    words, not the replacement characters of a UTF-8 reading."""
    monkeypatch.setenv("TRACKER_NOW", "2019-04-01T12:00:00Z")
    replay.add("/calendar.ics", DETROIT, content_type="text/calendar")
    page = ("<!DOCTYPE html><html><head><title>Conseil municipal de Montréal – Séances</title></head><body>"
            "<a href='/calendar.ics'>Calendrier des séances</a></body></html>")
    body = page.encode(encoding) if encoding != "utf-16" else page.encode("utf-16")  # with its BOM
    replay.add("/seances.html", body, content_type=f"text/html; charset={encoding}")
    result = detect(config_for(tmp_path, replay), f"{replay.url}/seances.html")
    assert result.exit_code == 0, result.output
    assert 'name = "Conseil municipal de Montréal – Séances"' in printed_block(result.stdout)


@pytest.mark.parametrize("meta", ["utf-16", "iso-8859-1"])
def test_a_pages_meta_charset_is_read_as_a_browser_reads_it(meta: str, replay: ReplayServer, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A `<meta>` naming UTF-16 over the page's own UTF-8 bytes (a browser reads them as UTF-8: the
    page read as CJK characters, no link found), or ISO-8859-1 over UTF-8 (Burbank's Granicus page
    does: the name read "SÃ©ances"): read as the crawl's pages are (`pages.page_text`)."""
    monkeypatch.setenv("TRACKER_NOW", "2019-04-01T12:00:00Z")
    replay.add("/calendar.ics", DETROIT, content_type="text/calendar")
    page = (f"<!DOCTYPE html><html><head><meta charset='{meta}'><title>Conseil municipal de Montréal – Séances"
            "</title></head><body><a href='/calendar.ics'>Calendrier des séances</a></body></html>")
    replay.add("/seances.html", page.encode("utf-8"), content_type="text/html")
    result = detect(config_for(tmp_path, replay), f"{replay.url}/seances.html")
    assert result.exit_code == 0, result.output
    assert 'name = "Conseil municipal de Montréal – Séances"' in printed_block(result.stdout)


def test_a_very_large_page_reads_only_the_links_that_can_name_a_platform(
        replay: ReplayServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Walnut Creek's real meetings page grown to 8 MB by a news archive of 120,000 links and 20,000
    links to other Legistar clients: each ordinary link is passed over unread, at most MAX_LINKS are
    read as addresses, and the platform is still named."""
    import tracker.detect

    monkeypatch.setenv("TRACKER_NOW", "2026-04-20T12:00:00Z")
    page = (Path(__file__).parent / "data" / "detect" / "walnutcreeksd_civicweb_meetings.html").read_bytes()
    archive = b"".join(b"<li><a href='/news/%d.html'>News %d</a></li>" % (n, n) for n in range(120_000))
    others = b"".join(b"<a href='https://c%d.legistar.com/Calendar.aspx'>x</a>" % n for n in range(20_000))
    big = page.replace(b"</body>", b"<ul>" + archive + b"</ul>" + others + b"</body>")
    assert len(big) > 7_000_000
    replay.add("/board/meetings.html", big, content_type="text/html")
    replay.add("/Services/MeetingsService.svc/meetings", CORPUS / "civicweb" / "dallasisd_meetings.json",
               content_type="application/json")
    read: list[str] = []
    by_address = tracker.detect.by_address
    monkeypatch.setattr(tracker.detect, "by_address", lambda url, *a: read.append(url) or by_address(url, *a))
    result = detect(config_for(tmp_path, replay), f"{replay.url}/board/meetings.html", proxy=replay.url)
    assert result.stdout.startswith("Legistar: told by a link on the page (https://c0.legistar.com/Calendar.aspx)")
    assert not any("/news/" in url for url in read)
    assert len(read) <= tracker.detect.MAX_LINKS + 5  # (the CivicWeb host, and the page's own address)
    assert "CivicWeb (Diligent Community)" in result.stdout  # the other platform it links to


EMPTY = {
    "an iCalendar feed": ("/empty.ics", b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//City//EN\r\nEND:VCALENDAR\r\n",
                          "text/calendar"),
    "an RSS feed": ("/agendas.rss", b"<?xml version='1.0'?><rss version='2.0'><channel><title>Agendas</title>"
                                    b"<link>http://example.gov/</link></channel></rss>", "application/rss+xml"),
}


@pytest.mark.parametrize(("path", "body", "kind"), EMPTY.values(), ids=EMPTY.keys())
def test_an_empty_feed_says_it_lists_nothing(path: str, body: bytes, kind: str, replay: ReplayServer,
                                             tmp_path: Path) -> None:
    replay.add(path, body, content_type=kind)
    result = detect(config_for(tmp_path, replay), f"{replay.url}{path}")
    assert result.exit_code == 0, result.output
    assert "0 meetings listed" in result.stdout
    assert result.stdout.rstrip().splitlines()[-1].startswith("It lists no meeting at all: a crawl stores nothing")


# -- the address as pasted ---------------------------------------------------------------------


def test_an_address_pasted_with_a_line_break_is_read_as_a_browser_reads_it(replay: ReplayServer,
                                                                           tmp_path: Path) -> None:
    replay.add("/board/calendar.ics", DETROIT, content_type="text/calendar")
    result = detect(config_for(tmp_path, replay), f"{replay.url}/board/cal\nendar.ics \n")
    assert result.exit_code == 0, result.output
    assert f'ical = "{replay.url}/board/calendar.ics"' in printed_block(result.stdout)
    # spaces before it too (a paste from a mail's indented line): the command took it for no address
    result = detect(config_for(tmp_path, replay), f"  \t{replay.url}/board/calendar.ics")
    assert result.exit_code == 0, result.output
    assert f'ical = "{replay.url}/board/calendar.ics"' in printed_block(result.stdout)


KEYED = {
    "token": "token=Zq7xW2mP9kLr4TnB",
    "client_secret and sig": "client_secret=Zq7xW2mP9kLr4TnB&sig=Hh83kdLs02",
    "an api key beside a public parameter": "view=all&api_key=Zq7xW2mP9kLr4TnB",
}


@pytest.mark.parametrize("query", KEYED.values(), ids=KEYED.keys())
def test_an_address_holding_a_key_is_never_printed_and_the_block_reads_it_from_the_environment(
        query: str, replay: ReplayServer, tmp_path: Path) -> None:
    """A private calendar's address (a key in its query): the key is in no line printed, of stdout,
    stderr or --json; the block reads the address from the environment, so it pastes, and checks,
    with the address set there (not `token=***`, an address that reads nothing)."""
    replay.add("/private/calendar.ics", DETROIT, content_type="text/calendar")
    url = f"{replay.url}/private/calendar.ics?{query}"
    secrets_in = [value for pair in query.split("&") for value in [pair.split("=")[1]] if value != "all"]
    config = config_for(tmp_path, replay)
    for args in ([url], [url, "--json"], [url, "--quiet"]):
        result = detect(config, *args)
        assert result.exit_code == 0, result.output
        assert not any(value in result.output for value in secrets_in), result.output
        assert "***" not in result.stdout
    result = detect(config, url)
    block = printed_block(result.stdout)
    (line,) = [line for line in block.splitlines() if line.startswith("ical = ")]
    variable = line.split("${", 1)[1].split("}", 1)[0]
    assert line == f'ical = "${{{variable}}}"' and variable.endswith("_URL")
    assert f"# {variable}: set it in the environment to the address you gave, which holds a key" in block
    assert f"Read {replay.url}/private/calendar.ics" in result.stdout and "(its key left out)" in result.stdout
    pasted = tmp_path / "pasted.toml"
    pasted.write_text(block)
    checked = CliRunner(env={variable: url}).invoke(main, ["--config", str(pasted), "config", "check"])
    assert checked.exit_code == 0, checked.output
    assert "source ical:" in checked.stdout
    # a key in an address that fails is not printed in the failure either, nor does the line lose its colon
    line = one_problem(detect(config, f"{replay.url}/gone.ics?{query}"))
    assert not any(value in line for value in secrets_in)
    assert line.startswith(f"{replay.url}/gone.ics") and line.endswith("(its key left out): HTTP 404 (not found)")


def test_a_legistar_web_api_address_with_its_token_reads_with_it_and_writes_none(
        replay: ReplayServer, tmp_path: Path) -> None:
    """A Web API address copied with the token the clerk gave: the window's events are asked for
    with it (the API refuses without), and the block reads it from the environment."""
    import json

    from tracker.demo.legistar_api import LegistarApi

    token = "clerk-gave-Zq7xW2mP9k"
    api = LegistarApi("/v1")
    api.client("nyc").token = token
    api.client("nyc").add_events(json.loads((LOCAL / "legistar" / "nyc_events_2023.json").read_bytes()))
    replay.mount("/v1", api)
    config = config_for(tmp_path, replay)
    result = detect(config, f"{replay.url}/v1/nyc/events?token={token}")
    assert token not in result.output
    assert result.stdout.startswith("Legistar: told by its content"), result.output
    block = printed_block(result.stdout)
    assert 'legistar = { client = "nyc", token = "${LEGISTAR_TOKEN}" }' in block
    assert "# LEGISTAR_TOKEN: set it in the environment to the token of the address you gave" in block
    assert "# token = " not in block
    windows = [r for r in replay.requests if r.path == "/v1/nyc/events" and "$filter" in r.query]
    assert windows and all(r.query.get("token") == token for r in windows)
    assert result.exit_code == 0, result.output


def test_an_empty_answer_is_called_empty_whatever_its_type_says(replay: ReplayServer, tmp_path: Path) -> None:
    replay.add("/meetings", b"\r\n  \n", content_type="text/html; charset=utf-8")
    line = one_problem(detect(config_for(tmp_path, replay), f"{replay.url}/meetings"))
    assert line == f"{replay.url}/meetings: an empty answer (HTTP 200)"


def test_a_key_in_an_address_the_page_links_to_is_not_printed(replay: ReplayServer, tmp_path: Path) -> None:
    """A board's page embedding its private calendar feed: the feed is the watch, read from the
    environment, and its key is in no line printed."""
    replay.add("/calendar.ics", DETROIT, content_type="text/calendar")
    replay.add("/board.html", city_page(b"Board meetings", b"<a href='/calendar.ics?client_secret=Zq7xW2mP9kLr'>"
                                                           b"Subscribe</a>"))
    result = detect(config_for(tmp_path, replay), f"{replay.url}/board.html")
    assert result.exit_code == 0, result.output
    assert "Zq7xW2mP9kLr" not in result.output and "***" not in result.output
    assert result.stdout.startswith(f"iCalendar feed: told by a link on the page ({replay.url}/calendar.ics "
                                    "(its key left out))")
    assert 'ical = "${BOARD_MEETINGS_URL}"' in printed_block(result.stdout)


def test_relative_links_follow_the_pages_base(replay: ReplayServer, tmp_path: Path) -> None:
    """A page declaring `<base href>` (a CMS serving one template at many addresses): its relative
    feed link is where a browser opens it, not beside the page's own address."""
    replay.add("/feeds/board.ics", DETROIT, content_type="text/calendar")
    replay.add("/en/government/board/meetings", b"<html><head><title>Board</title><base href='/feeds/'></head><body>"
               b"<a href='board.ics'>Subscribe to the board's meetings</a></body></html>")
    result = detect(config_for(tmp_path, replay), f"{replay.url}/en/government/board/meetings")
    assert result.exit_code == 0, result.output
    assert f'ical = "{replay.url}/feeds/board.ics"' in printed_block(result.stdout)


@pytest.mark.parametrize(("url", "kept", "left_out"), [
    ("https://clerk:hunter2pass@city.example.gov/cal.ics", "https://city.example.gov/cal.ics", ["hunter2pass"]),
    ("https://calendar.google.com/calendar/ical/board%40group.calendar.google.com/private-0123456789abcdef0123/"
     "basic.ics", "https://calendar.google.com/calendar/ical/board%40group.calendar.google.com/private-…/basic.ics",
     ["0123456789abcdef0123"]),
    ("https://city.example.gov/meetings#access_token=Zq7xW2mP9kLr&view=list", "https://city.example.gov/meetings#view=list",
     ["Zq7xW2mP9kLr"]),
    ("https://city.example.gov/feed.rss?CID=4&Auth_Token=a%2Bb%3Dcc", "https://city.example.gov/feed.rss?CID=4",
     ["a%2Bb%3Dcc", "a+b=cc"]),
])
def test_the_keys_an_address_holds_are_left_out_where_it_is_shown(url: str, kept: str, left_out: list[str]) -> None:
    from tracker.detect import shown
    from tracker.secrets import url_secrets

    assert shown(url) == f"{kept} (its key left out)"
    assert set(left_out) <= set(url_secrets(url))
    public = "https://city.example.gov/AgendaCenter/Search/?term=&CIDs=4,"
    assert shown(public) == public and url_secrets(public) == []


def test_an_address_sent_on_to_a_missing_or_refused_page_says_where_it_was_sent(replay: ReplayServer,
                                                                                tmp_path: Path) -> None:
    """A city that moved its site: the old address sends the reader on to a page that is gone (or
    closed); the line names where it was sent, the address that failed, not only the one given."""
    replay.add("/meetings", b"", status=301, headers={"Location": f"{replay.url}/en/government/meetings"})
    replay.add("/agendas", b"", status=302, headers={"Location": f"{replay.url}/staff/agendas"})
    replay.add("/staff/agendas", b"<html><body>Forbidden</body></html>", status=403)
    line = one_problem(detect(config_for(tmp_path, replay), f"{replay.url}/meetings"))
    assert line == f"{replay.url}/meetings, sent on to {replay.url}/en/government/meetings: HTTP 404 (not found)"
    line = one_problem(detect(config_for(tmp_path, replay), f"{replay.url}/agendas"))
    assert line.startswith(f"{replay.url}/agendas, sent on to {replay.url}/staff/agendas: HTTP 403 (forbidden")


def test_a_city_page_whose_only_platform_link_is_the_school_boards_warns(replay: ReplayServer, tmp_path: Path) -> None:
    """Nothing else on the city's page names a platform: the school board's BoardDocs is what it
    found, and the block says whose it looks like before anyone pastes it."""
    replay.add("/oh/akron/Board.nsf/XML-ActiveMeetings", CORPUS / "boarddocs" / "akron_public_schools_meetings.xml",
               content_type="application/xml")
    replay.add("/council.html", city_page(b"City Council", f"<a href='{SCHOOL_BOARDDOCS}'>Board of Education "
                                                           f"agendas</a>".encode()))
    result = detect(config_for(tmp_path, replay), f"{replay.url}/council.html", proxy=replay.url)
    assert result.stdout.startswith("BoardDocs: told by a link on the page"), result.output
    assert ('# its link says "Board of Education agendas", a school body, on a page that is not a school\'s: '
            "check that this is the body you follow") in printed_block(result.stdout).splitlines()


def test_a_page_title_of_any_length_makes_a_name_of_one_short_line(replay: ReplayServer, tmp_path: Path) -> None:
    """A title stuffed for search engines (here 20,000 characters over many lines): the block's
    guessed name is one line of at most 100 characters, not the whole title."""
    replay.add("/calendar.ics", DETROIT, content_type="text/calendar")
    title = b"Board Meetings | " + b"agendas minutes video\n" * 900
    replay.add("/board.html", b"<html><head><title>" + title + b"</title></head><body><a href='/calendar.ics'>"
               b"Calendar</a></body></html>")
    result = detect(config_for(tmp_path, replay), f"{replay.url}/board.html")
    assert result.exit_code == 0, result.output
    (name,) = [line for line in printed_block(result.stdout).splitlines() if line.startswith("name = ")]
    assert name.startswith('name = "Board Meetings | agendas minutes video agendas') and len(name) <= 110


@pytest.mark.parametrize("declared", ["xml", "header"])
def test_a_feed_in_another_encoding_is_named_in_it(declared: str, replay: ReplayServer, tmp_path: Path) -> None:
    """A feed written in ISO-8859-1, said by its XML declaration or only by its header: the block's
    name is its title's words."""
    prolog = "<?xml version='1.0' encoding='iso-8859-1'?>" if declared == "xml" else "<?xml version='1.0'?>"
    feed = (prolog + "<rss version='2.0'><channel><title>Séances du conseil municipal</title>"
            "<link>http://example.gov/</link><item><title>Séance ordinaire</title>"
            "<link>http://example.gov/agenda/1</link><pubDate>Mon, 02 Nov 2026 18:00:00 GMT</pubDate></item>"
            "</channel></rss>").encode("iso-8859-1")
    kind = "application/rss+xml" + ("; charset=iso-8859-1" if declared == "header" else "")
    replay.add("/seances.rss", feed, content_type=kind)
    result = detect(config_for(tmp_path, replay), f"{replay.url}/seances.rss")
    assert result.stdout.startswith("RSS/Atom feed"), result.output
    assert 'name = "Séances du conseil municipal"' in printed_block(result.stdout)


def test_a_page_linking_two_legistar_clients_names_the_other(replay: ReplayServer, tmp_path: Path) -> None:
    """A city's page linking the county board's Legistar and its own: one is watched, and the note
    names the other client, which a person who meant it would otherwise never hear of."""
    from tracker.demo.legistar_api import LegistarApi

    api = LegistarApi("/v1")
    api.client("cook-county")
    api.client("chicago")
    replay.mount("/v1", api)
    replay.add("/council.html", city_page(
        b"City Council", b"<a href='https://cook-county.legistar.com/Calendar.aspx'>Cook County Board</a>",
        b"<a href='https://chicago.legistar.com/Calendar.aspx'>City Council calendar</a>"))
    result = detect(config_for(tmp_path, replay), f"{replay.url}/council.html")
    assert result.stdout.startswith("Legistar: told by a link on the page"), result.output
    block = printed_block(result.stdout)
    watched = "cook-county" if 'client = "cook-county"' in block else "chicago"
    other = {"cook-county": "chicago", "chicago": "cook-county"}[watched]
    assert "# the page also links to: Legistar " in block and f"https://{other}.legistar.com/Calendar.aspx" in block


def test_a_public_parameter_named_like_a_session_is_no_key(replay: ReplayServer, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """`?session=2019` is a legislature's session, not a login: the address is written as given, and
    the year is not masked wherever it is said."""
    monkeypatch.setenv("TRACKER_NOW", "2019-04-01T12:00:00Z")
    replay.add("/calendar.ics", DETROIT, content_type="text/calendar")
    result = detect(config_for(tmp_path, replay), f"{replay.url}/calendar.ics?session=2019&code=4")
    assert result.exit_code == 0, result.output
    assert f'ical = "{replay.url}/calendar.ics?session=2019&code=4"' in printed_block(result.stdout)
    assert "Tue Apr 16, 2019" in result.stdout and "***" not in result.stdout


def test_an_xml_comment_names_no_platform_but_words_of_a_json_string_do(replay: ReplayServer,
                                                                        tmp_path: Path) -> None:
    """An XML export whose only Legistar address is in a comment names none; a JSON document whose
    text holds `<!--` in a string still names the client its later fields link to."""
    from tracker.demo.legistar_api import LegistarApi

    api = LegistarApi("/v1")
    api.client("nyc")
    replay.mount("/v1", api)
    replay.add("/export.xml", b"<?xml version='1.0'?><export><!-- was https://nyc.legistar.com/Calendar.aspx -->"
               b"<item>Parks</item></export>", content_type="application/xml")
    line = one_problem(detect(config_for(tmp_path, replay), f"{replay.url}/export.xml"))
    assert line == f"{replay.url}/export.xml: an XML document (<export>) with no meeting listing recognised"
    replay.add("/export.json", b'{"note": "html kept: <!-- draft", "calendar": "https://nyc.legistar.com/Calendar.aspx"}',
               content_type="application/json")
    result = detect(config_for(tmp_path, replay), f"{replay.url}/export.json")
    assert result.stdout.startswith("Legistar: told by a link in it (https://nyc.legistar.com/Calendar.aspx)"), \
        result.output


def test_an_address_without_its_scheme_is_refused_without_printing_its_key(replay: ReplayServer,
                                                                           tmp_path: Path) -> None:
    """Refused before it was read (no scheme), the address was printed whole, its key with it."""
    result = detect(config_for(tmp_path, replay), "nyc.legistar.com/Calendar.aspx?view=all&token=Zq7xW2mP9kLr4TnB")
    assert result.exit_code == 2, result.output
    assert "is not an http(s) address: try https://nyc.legistar.com/Calendar.aspx?view=all" in result.output
    assert "Zq7xW2mP9kLr4TnB" not in result.output


def test_a_key_in_a_path_segments_parameters_is_never_printed(replay: ReplayServer, tmp_path: Path) -> None:
    """A feed address carrying its key as a path parameter (`/calendar.ics;token=…`, which `urlsplit`
    leaves in the path): left out of every line printed, and the block reads the address from the
    environment, as with a key in the query."""
    key = "Zq7xW2mP9kLr4TnB"
    replay.add(f"/private/calendar.ics;token={key}", DETROIT, content_type="text/calendar")
    url = f"{replay.url}/private/calendar.ics;token={key}"
    config = config_for(tmp_path, replay)
    for args in ([url], [url, "--json"]):
        result = detect(config, *args)
        assert result.exit_code == 0, result.output
        assert key not in result.output and "***" not in result.stdout
    block = printed_block(result_text := detect(config, url).stdout)
    assert f"Read {replay.url}/private/calendar.ics (its key left out)" in result_text
    (line,) = [line for line in block.splitlines() if line.startswith("ical = ")]
    assert line.startswith('ical = "${') and key not in block


@pytest.mark.parametrize(("url", "kept"), [
    ("https://city.example.gov/cal.ics;token=Zq7xW2mP9kLr", "https://city.example.gov/cal.ics"),
    ("https://city.example.gov/a;view=1;api_key=Zq7xW2mP9kLr/b.ics?CID=4", "https://city.example.gov/a;view=1/b.ics?CID=4"),
])
def test_a_path_parameter_naming_a_key_is_left_out_where_it_is_shown(url: str, kept: str) -> None:
    from tracker.detect import shown
    from tracker.secrets import url_secrets

    assert shown(url) == f"{kept} (its key left out)" and url_secrets(url) == ["Zq7xW2mP9kLr"]
    public = "https://city.example.gov/a;view=1/b.ics"
    assert shown(public) == public and url_secrets(public) == []


def test_a_word_given_as_a_key_is_not_masked_wherever_it_is_said(replay: ReplayServer, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """`?token=Finance` on a calendar's address: left out of the address as shown, but a word is no
    key, and the meetings' names saying it are printed whole ("*** Sub-Committee Meeting" before);
    a real key is still masked wherever it would be said."""
    monkeypatch.setenv("TRACKER_NOW", "2019-04-01T12:00:00Z")
    replay.add("/calendar.ics", DETROIT, content_type="text/calendar")
    config = config_for(tmp_path, replay)
    result = detect(config, f"{replay.url}/calendar.ics?token=Finance")
    assert result.exit_code == 0, result.output
    assert "Fri Apr 26, 2019, 9:00 AM EDT  Finance Sub-Committee Meeting (Open)" in result.stdout
    assert f"Read {replay.url}/calendar.ics (its key left out)" in result.stdout and "***" not in result.stdout
    from tracker import secrets

    for key in ("Zq7xW2mP9k", "zq7xw2mp9k", "ABCDEFGHIJKLMNOPQ"):
        detect(config, f"{replay.url}/calendar.ics?token={key}")
        assert secrets.mask(f"said {key}") == "said ***"
