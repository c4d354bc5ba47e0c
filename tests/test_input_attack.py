"""The crawl attacked as a hostile or broken website would: real crawls through the real Scrapy
engine against the loopback replay server (a recorded feed beside each attack, which must still be
read), and the pure decisions those crawls rest on."""

from __future__ import annotations

from pathlib import Path

import pytest
from listings import listing_read
from statusjson import changes_json, status_json
from test_legistar import baseline_state, shifted_ics, write_config

from spiders.middlewares import address_kind, redirect_refusal
from tracker.config import Config, load_config
from tracker.crawl import run_crawls
from tracker.demo.legistar_api import LegistarApi
from tracker.demo.replay import ReplayServer
from tracker.report import SourceReport
from tracker.store import Store

NOW = "2023-06-01T12:00:00Z"  # shifted_ics() is the Detroit feed moved around this day
METADATA = "http://169.254.169.254/latest/meta-data/iam/security-credentials/"


def two_feeds(tmp_path: Path, replay: ReplayServer, attacked: str, kind: str = "ical") -> Config:
    """A recorded feed ("good") and the listing under attack ("bad", of `kind`), each its own source."""
    replay.add("/good.ics", shifted_ics())
    path = tmp_path / "tracker.toml"
    path.write_text('[crawl]\ndelay_seconds = 0\ntimeout_seconds = 10\n'
                    '[[meetings]]\nid = "good"\nname = "Detroit Board of Education"\n'
                    f'timezone = "America/Detroit"\nical = "{replay.url}/good.ics"\n'
                    '[[meetings]]\nid = "bad"\nname = "Attacked Board"\n'
                    f'timezone = "America/Detroit"\n{kind} = "{replay.url}{attacked}"\n')
    return load_config(path, env={})


def crawled(config: Config) -> tuple[Store, dict[str, SourceReport]]:
    store = Store(config.database_url)
    return store, {report.source_id: report for report in run_crawls(config, store)}


def good_read(reports: dict[str, SourceReport]) -> None:
    good = reports["ical:good"]
    assert good.ok and (good.items > 5 or good.not_modified == 1), good.errors


# -- where a redirect may lead ----------------------------------------------------------------------


@pytest.mark.parametrize("how", ["302", "meta refresh"])
def test_a_redirect_to_the_cloud_metadata_address_is_refused_in_one_line(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    """A feed's site answers with a redirect (or an HTML page whose meta refresh leads) to the cloud
    metadata service: not followed, one line naming where it led; the other feed is read. (Scrapy
    followed both: on a cloud machine the instance's credentials would have been read as the feed.)"""
    monkeypatch.setenv("TRACKER_NOW", NOW)
    if how == "302":
        replay.add("/bad.ics", b"moved\n", status=302, headers={"Location": METADATA})
    else:
        replay.add("/bad.ics", f'<html><head><meta http-equiv="refresh" content="0;url={METADATA}"></head>'
                               '<body>Sign in</body></html>', content_type="text/html; charset=utf-8")
    _, reports = crawled(two_feeds(tmp_path, replay, "/bad.ics"))
    good_read(reports)
    (line,) = reports["ical:bad"].errors
    assert line.startswith("ical:bad: feed: redirected from 127.0.0.1 to a link-local address "
                           "(169.254.169.254): not followed"), line


def test_a_redirect_to_a_file_address_is_said_as_such(tmp_path: Path, replay: ReplayServer,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A redirect to `file:///etc/passwd` is never followed (Scrapy's rule); the line says why,
    where it said only "HTTP 302"."""
    monkeypatch.setenv("TRACKER_NOW", NOW)
    replay.add("/bad.ics", b"moved\n", status=302, headers={"Location": "file:///etc/passwd"})
    _, reports = crawled(two_feeds(tmp_path, replay, "/bad.ics"))
    good_read(reports)
    (line,) = reports["ical:bad"].errors
    assert "HTTP 302 redirected to a file: address: not followed (only http and https are)" in line, line


def test_a_site_on_this_machine_may_redirect_within_it(tmp_path: Path, replay: ReplayServer,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The operator's own address on this machine (127.0.0.1) redirecting to another name of it
    (localhost) is followed: only a redirect to somewhere more private than where it began is refused."""
    monkeypatch.setenv("TRACKER_NOW", NOW)
    replay.add("/bad.ics", b"moved\n", status=301, headers={"Location": f"http://localhost:{replay.port}/moved.ics"})
    replay.add("/moved.ics", shifted_ics())
    _, reports = crawled(two_feeds(tmp_path, replay, "/bad.ics"))
    good_read(reports)
    assert reports["ical:bad"].ok and reports["ical:bad"].items == reports["ical:good"].items


@pytest.mark.parametrize(("address", "kind"), [
    ("8.8.8.8", "public"), ("2606:4700::1111", "public"), ("10.1.2.3", "private"), ("192.168.0.9", "private"),
    ("172.16.0.1", "private"), ("fd00::1", "private"), ("127.0.0.1", "loopback"), ("127.9.9.9", "loopback"),
    ("::1", "loopback"), ("169.254.169.254", "link-local"), ("::ffff:169.254.169.254", "link-local"),
    ("fe80::1%eth0", "link-local"), ("0.0.0.0", "reserved"), ("::", "reserved"), ("224.0.0.1", "reserved"),
    ("not an address", "reserved"),
])
def test_what_an_address_is(address: str, kind: str) -> None:
    assert address_kind(address) == kind


@pytest.mark.parametrize(("origin", "target", "refused"), [
    ({"public"}, {"93.184.215.14": "public"}, None),
    ({"public"}, {"127.0.0.1": "loopback"}, "a loopback address (127.0.0.1)"),
    ({"public"}, {"10.0.0.5": "private"}, "a private address (10.0.0.5)"),
    ({"public"}, {"93.184.215.14": "public", "10.0.0.5": "private"}, "a private address (10.0.0.5)"),
    ({"private"}, {"10.0.0.6": "private"}, None),
    ({"private"}, {"127.0.0.1": "loopback"}, "a loopback address (127.0.0.1)"),
    ({"loopback"}, {"10.0.0.6": "private"}, None),
    ({"loopback"}, {"169.254.169.254": "link-local"}, "a link-local address (169.254.169.254)"),
    ({"link-local"}, {"169.254.1.2": "link-local"}, None),
    ({"loopback"}, {"0.0.0.0": "reserved"}, "a reserved address (0.0.0.0)"),
])
def test_where_a_redirect_may_lead(origin: set[str], target: dict[str, str], refused: str | None) -> None:
    """A site may send the crawler to the public web and to addresses as private as its own (a site on
    this machine into the operator's network too), never further in."""
    assert redirect_refusal(origin, target) == refused


# -- a listing of more meetings than any body holds --------------------------------------------------


def flood(events: int) -> bytes:
    """derived: a feed of `events` single meetings, every one in the crawl's window."""
    rows = b"".join(b"BEGIN:VEVENT\r\nUID:flood-%d\r\nDTSTART:20230615T180000Z\r\nSUMMARY:Meeting %d\r\n"
                    b"END:VEVENT\r\n" % (i, i) for i in range(events))
    return b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//x//EN\r\n" + rows + b"END:VCALENDAR\r\n"


def test_a_feed_of_more_meetings_than_any_body_holds_is_refused_and_keeps_what_was_stored(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """A feed read well once, then answering with 12,000 meetings in the window (a broken export,
    or a hostile one: a 50 MB feed holds 500,000, each a row, a page and an alert): one line, nothing
    stored from it, the meetings stored before neither lost nor noted missing, the other feed read.
    (Every one was stored: minutes of the worker's time and a gigabyte of memory for the parse.)"""
    monkeypatch.setenv("TRACKER_NOW", NOW)
    replay.add("/bad.ics", shifted_ics())
    config = two_feeds(tmp_path, replay, "/bad.ics")
    store, reports = crawled(config)
    assert reports["ical:bad"].ok
    before = {m["entity"] for m in status_json(store, config)["meetings"] if m["entity"].startswith("meeting:ical:bad:")}
    replay.replace("/bad.ics", flood(12_000))
    _, reports = crawled(config)
    good_read(reports)
    (line,) = reports["ical:bad"].errors
    assert "refused: 12,000 meetings in the crawl's window, more than a body's calendar holds" in line, line
    assert reports["ical:bad"].items == 0
    after = {m["entity"]: m for m in status_json(store, config)["meetings"] if m["entity"].startswith("meeting:ical:bad:")}
    assert set(after) == before and all(m["status"] != "missing" for m in after.values())
    assert changes_json(store) == []


# -- XML whose encoding hides its DTD -----------------------------------------------------------------


def utf16_feed(subset: str, title: str = "Council 2023-06-15") -> bytes:
    """derived: an RSS feed in UTF-16 (its "<!DOCTYPE" is "<\\0!\\0D\\0..." in its bytes) declaring `subset`."""
    return (f'<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE rss [{subset}]><rss version="2.0"><channel>'
            f"<title>Board</title><item><title>{title}</title><link>https://example.org/a</link>"
            "<pubDate>Thu, 01 Jun 2023 10:00:00 GMT</pubDate></item></channel></rss>").encode("utf-16")


def test_a_utf16_feed_declaring_an_entity_is_refused_never_expanded(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """A feed in UTF-16 hides its DTD from the bytes' check: lxml refused it as malformed and
    feedparser then read it, expanding its entity into the meeting's title. One line; the other feed
    is read."""
    monkeypatch.setenv("TRACKER_NOW", NOW)
    replay.add("/bad.xml", utf16_feed('<!ENTITY e "ENTITYLEAK">', "Council &e; 2023-06-15"),
               content_type="application/rss+xml")
    store, reports = crawled(two_feeds(tmp_path, replay, "/bad.xml", "feed"))
    good_read(reports)
    (line,) = reports["feed:bad"].errors
    assert "refused: the feed declares a DTD in an encoding that hides it" in line, line
    assert "ENTITYLEAK" not in repr(status_json(store, two_feeds(tmp_path, replay, "/bad.xml", "feed")))


def test_xml_in_utf16_never_has_a_file_read_for_it(tmp_path: Path) -> None:
    """A parameter entity naming a local file: libxml2 read it for the document (lxml's
    `no_network` shuts out addresses, not files): a BILLSTATUS file's error line said the file's
    name and line, and a server could have any file read. Now nothing outside the document is read;
    the document is refused in the same words as one whose DTD its bytes show."""
    from tracker.bills.billstatus import BillParseError, parse_billstatus

    local_dtd = tmp_path / "local.dtd"
    local_dtd.write_text("this is no DTD\n")
    for encoding in ("utf-16", "utf-16-le", "utf-32"):
        document = (f'<?xml version="1.0" encoding="{encoding.upper()}"?><!DOCTYPE billStatus '
                    f'[<!ENTITY % d SYSTEM "{local_dtd.as_uri()}"> %d;]><billStatus><bill/></billStatus>')
        with pytest.raises(BillParseError) as raised:
            parse_billstatus(document.encode(encoding))
        assert "refused: the document declares a DTD or entities" in str(raised.value)
        assert "local.dtd" not in str(raised.value)


def test_xml_in_utf16_whose_dtd_reads_dev_zero_is_refused_at_once() -> None:
    """`<!ENTITY % z SYSTEM "file:///dev/zero"> %z;` in a UTF-16 sitemap, BILLSTATUS file or feed:
    libxml2 read /dev/zero for ever (the ingest worker, or the reactor thread every source shares,
    held until the run was killed). Each XML reader refuses it at once."""
    import threading

    from tracker.bills.billstatus import parse_billstatus
    from tracker.meetings.agendas import parse_feed
    from tracker.meetings.normalize import SourceParseError
    from tracker.safexml import parse_xml

    zero = '<!ENTITY % z SYSTEM "file:///dev/zero"> %z;'
    said: list[str] = []

    def read_all() -> None:
        for read in (lambda: parse_xml(utf16_feed(zero), ValueError, "a sitemap"),
                     lambda: parse_billstatus(utf16_feed(zero)),
                     lambda: listing_read(parse_feed, utf16_feed(zero))):
            try:
                read()
            except (ValueError, SourceParseError) as exc:
                said.append(str(exc))

    reader = threading.Thread(target=read_all, daemon=True)
    reader.start()
    reader.join(10)
    assert not reader.is_alive(), "an XML reader is reading /dev/zero"
    assert len(said) == 3 and all(line.startswith("refused: ") for line in said), said


# -- a token in an address never leaves for another host ----------------------------------------------


def test_a_legistar_token_is_never_sent_to_the_host_a_redirect_names(
        tmp_path: Path, replay: ReplayServer, legistar: LegistarApi, monkeypatch: pytest.MonkeyPatch) -> None:
    """The API answers an event's items with a redirect to another host: Scrapy sent that host the
    request's whole address as its Referer, the client's token in it. No Referer leaves for another
    host now (`REFERRER_POLICY`); the token still never shows in a line."""
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T12:00:00Z")
    secret = "Zq8uVtoken4471"
    baseline_state(legistar)
    legistar.client("nyc").token = secret
    replay.add("/detroit.ics", shifted_ics())
    other = ReplayServer(host="localhost").start()
    try:
        other.add("/elsewhere", b"[]", content_type="application/json")
        replay.add("/v1/nyc/events/20111/eventitems", b"moved\n", status=302,
                   headers={"Location": f"http://localhost:{other.port}/elsewhere"})
        config = load_config(write_config(tmp_path, replay, token=secret), env={"LEGISTAR_TOKEN": secret})
        run_crawls(config, Store(config.database_url))
        arrived = [request for request in other.requests if request.path == "/elsewhere"]
    finally:
        other.stop()
    assert arrived, "the redirect was followed"
    assert all(secret not in str(dict(request.headers)) for request in arrived), arrived[0].headers


def test_any_listing_of_more_meetings_than_any_body_holds_is_refused(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """derived: an RSS feed of 10,001 agendas in the window (each its own meeting): refused by the
    listing spider whatever the kind, in the same line."""
    monkeypatch.setenv("TRACKER_NOW", NOW)
    items = b"".join(b"<item><title>Council %d 2023-06-15</title><link>https://example.org/a/%d</link>"
                     b"<pubDate>Thu, 01 Jun 2023 10:00:00 GMT</pubDate></item>" % (i, i) for i in range(10_001))
    replay.add("/bad.xml", b'<?xml version="1.0"?><rss version="2.0"><channel><title>Board</title>' + items
               + b"</channel></rss>", content_type="application/rss+xml")
    _, reports = crawled(two_feeds(tmp_path, replay, "/bad.xml", "feed"))
    good_read(reports)
    (line,) = reports["feed:bad"].errors
    assert "refused: 10,001 meetings in the crawl's window" in line, line
    assert reports["feed:bad"].items == 0


# -- Open States' error answer nested past Python's limit ---------------------------------------------


def test_an_open_states_error_nested_100000_deep_is_its_http_line_not_a_spider_error(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """A 500 whose JSON body is nested 100,000 deep: its `detail` is read for the line, and the
    recursion error raised in the callback (a spider error: the run's cursor change dropped, no
    line naming the answer). Now the 500 is the query's one line, as any 500 is."""
    from recorded import serve_openstates
    from test_openstates_cursor_faults import new_york_bills, state_config
    from test_state_bills import KEY

    api, base = serve_openstates(replay, keys={KEY}, per_minute=1000)

    def upstream(path: str, query: object, headers: object) -> object:
        if path.endswith("/bills"):
            return 500, b'{"detail":' + b"[" * 100_000 + b"]" * 100_000 + b"}", "application/json"
        return api(path, query, headers)

    replay.mount("/openstates", upstream)
    new_york_bills(api, 1, "")
    monkeypatch.setenv("TRACKER_NOW", "2021-03-05T12:00:00Z")
    config = state_config(tmp_path, base, [{"id": "qi-ny", "name": "QI in New York", "state": "ny",
                                             "keywords": ["qualified immunity"]}])
    (report,) = run_crawls(config, Store(config.database_url))
    assert report.errors and all("HTTP 500" in line for line in report.errors), report.errors
    assert all("spider error" not in line and "Recursion" not in line for line in report.errors)


# -- a robots.txt of millions of rules ------------------------------------------------------------------


def test_a_robots_txt_of_20_mb_is_read_to_its_first_500_kib(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """A robots.txt of 700,000 rules (20 MB, under the download cap): the robots.txt parser took 6 s
    to read it and a quarter of a second to match each request against it, in the reactor thread
    every source shares. Read as Google reads one (RFC 9309 lets a crawler stop at 500 KiB): its
    first 500 KiB, so the rules past that are not applied, and the feeds are read at once."""
    import time

    monkeypatch.setenv("TRACKER_NOW", NOW)
    replay.add("/bad.ics", shifted_ics())
    rules = "".join(f"Disallow: /nothing-here/{i}/*a*b*c\n" for i in range(700_000))
    replay.robots("User-agent: *\n" + rules + "Disallow: /bad.ics\n")
    started = time.monotonic()
    _, reports = crawled(two_feeds(tmp_path, replay, "/bad.ics"))
    good_read(reports)
    assert reports["ical:bad"].ok and reports["ical:bad"].items == reports["ical:good"].items
    assert time.monotonic() - started < 5


# -- a line a site can make as long as it likes --------------------------------------------------------


def test_a_redirect_to_an_address_of_15_kb_is_a_line_of_a_line_s_length(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """A feed redirected to an address 15,000 characters long (about what a header line may hold)
    that answers 404: the error line named it whole, stored with the run, printed by `status` and
    sent in the operator's alert. The line keeps its start (the source, what failed) and is cut at
    `LINE_STORED` characters, masked first."""
    from spiders.base import LINE_STORED

    monkeypatch.setenv("TRACKER_NOW", NOW)
    replay.add("/bad.ics", b"moved\n", status=302, headers={"Location": "/" + "a" * 15_000 + "?token=" + "s" * 50})
    config = two_feeds(tmp_path, replay, "/bad.ics")
    store, reports = crawled(config)
    good_read(reports)
    (line,) = reports["ical:bad"].errors
    assert line.startswith("ical:bad: feed: HTTP 404 (") and len(line) == LINE_STORED, line[:200]
    (bad,) = [s for s in status_json(store, config)["sources"] if s["id"] == "ical:bad"]
    assert len(bad["error"]) == LINE_STORED
