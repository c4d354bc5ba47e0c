"""What organizers open, round 3: each test here failed before its fix.

1. Atom ids were the same in every installation (`tag:tracker,2026:change/17`): a reader holding two
   organizations' feeds dedupes entries by id and showed one's change 17 for both.
2. Each campaign's own feed and calendar were written but linked from nowhere.
3. A hearing on a watched bill was put in "This week" or "Coming up" by its UTC date, not by its
   day in Washington, as meetings are by their day where the body meets.
4. Found walking the demo's digest on a phone and a desktop: members' email addresses and phone
   numbers were text, not links a phone taps; a meeting's link refused as unsafe became `href=""`,
   a link that reloads the page; a bill's stage bar drew the steps not reached as "This week"
   cards (`.todo`); a line break in a source's title forged a line of digest.txt; a hearing on a
   bill two campaigns watch was two cards.

Real parts: SQLite and PostgreSQL stores, the demo's recorded sources, the built site served on
127.0.0.1 and opened in headless Chromium (Debian's, driven by playwright).
"""

from __future__ import annotations

import http.server
import os
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import feedparser
import pytest
from icalendar import Calendar
from lxml import html

from tracker.changes import Change, dedupe_key
from tracker.config import Config, load_config
from tracker.digest import write_site
from tracker.health import NewsMark, record_digest
from tracker.records import Bill, Document, Item, Meeting
from tracker.store import Store, ensure_watches, ingest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
PHONE, DESKTOP = (390, 844), (1280, 800)

MEETINGS = '''[[meetings]]
id = "nyc"
name = "NYC Council"
timezone = "America/New_York"
ical = "https://example.org/c.ics"
keywords = ["police"]
'''


def installation(folder: Path, url: str | None = None, extra: str = "") -> tuple[Config, Store]:
    """A tracker watching H.R. 1 (and whatever `extra` adds) in `folder`, its store at `url`."""
    folder.mkdir(parents=True, exist_ok=True)
    storage = f'[storage]\nurl = "{url}"\n' if url else ""
    (folder / "tracker.toml").write_text(f'{storage}[digest]\nout = "site"\n[[bills]]\nid = "x"\nname = "Campaign X"\n'
                                         f'numbers = ["hr1-119"]\n{extra}')
    config = load_config(folder / "tracker.toml", env={})
    store = Store(config.database_url)
    with store.session() as session:
        ensure_watches(session, [(w.id, "bill", w.name) for w in config.bills]
                       + [(w.id, "meeting", w.name) for w in config.meetings])
    return config, store


def bill_change(store: Store, title: str, n: int, **fields: Any) -> None:
    content = Bill(number="hr1-119", display="H.R. 1", congress=119, type="hr", title=title, stage="introduced",
                   latest_action={"date": "2026-11-20", "text": "Introduced"}, **fields)
    ingest(store, Item(key="bill:hr1-119", kind="bill", source_id="govinfo", watch_ids=["x"], content=content),
           lambda old, new, key: [Change("bill.title", key, f"H.R. 1 is now titled {title}", dedupe_key(key, str(n)),
                                         {"from": None, "to": title})])


def feed_ids(site: Path, path: str = "changes.atom") -> tuple[str, list[str]]:
    feed = feedparser.parse((site / path).read_bytes())
    return feed.feed.id, [entry.id for entry in feed.entries]


# -- 1. each installation's own Atom ids -------------------------------------------------------------

def test_two_organizations_feeds_share_no_id_in_one_reader(tmp_path: Path, db_url: str, frozen_now: Any) -> None:
    """Two organizations' trackers (one on PostgreSQL or SQLite, one on SQLite), each with its changes
    1 and 2: a reader subscribed to both must see four entries, so no id is shared, and each keeps
    its ids from one write to the next (a reader would otherwise show them all again)."""
    sites = []
    for name, url in (("tenants-union", db_url), ("school-parents", None)):
        config, store = installation(tmp_path / name, url)
        for n in range(3):  # a baseline, then changes 1 and 2
            bill_change(store, f"{name} title {n}", n)
        first = feed_ids(write_site(store, config, config.digest_dir))
        frozen_now("2026-11-24T15:00:00Z")
        again = feed_ids(write_site(store, config, config.digest_dir))
        assert again == first  # stable across runs
        watch = feed_ids(config.digest_dir, "watches/x/changes.atom")
        store.dispose()
        assert len(first[1]) == 2 and watch[1] == first[1]  # a change is one entry in every feed it is in
        sites.append((first, watch))
    (feed_a, watch_a), (feed_b, watch_b) = sites
    assert feed_a[0] != feed_b[0] and watch_a[0] != watch_b[0]
    assert not set(feed_a[1]) & set(feed_b[1]), (feed_a, feed_b)


def test_an_upgraded_installation_shows_its_readers_nothing_twice(tmp_path: Path, frozen_now: Any) -> None:
    """An installation whose digest readers have already read changes 1-2 under the old shared ids
    (its last digest showed through change 2, as the `digest` state row records): those keep their
    ids, so a reader shows nothing again; change 3, which no reader has seen, gets an id of its own."""
    config, store = installation(tmp_path / "org")
    for n in range(3):
        bill_change(store, f"title {n}", n)
    record_digest(store, news=NewsMark(after=0, since=None, through=2))  # what the old version's write left
    bill_change(store, "title 3", 3)
    _, ids = feed_ids(write_site(store, config, config.digest_dir))
    assert ids[1:] == ["tag:tracker,2026:change/2", "tag:tracker,2026:change/1"]
    assert ids[0].startswith("tag:tracker,2026:") and ids[0] != "tag:tracker,2026:change/3"
    frozen_now("2026-11-25T15:00:00Z")
    bill_change(store, "title 4", 4)
    _, later = feed_ids(write_site(store, config, config.digest_dir))
    assert later[1:] == ids  # kept as they were
    store.dispose()


# -- 2. each campaign's feed and calendar, linked and resolving --------------------------------------

@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`tracker demo --out DIR`: the recorded bills, NYC hearings and Detroit's school board."""
    from tracker.demo import run_demo

    folder = tmp_path_factory.mktemp("demo")
    assert run_demo(folder, say=lambda _line: None, error=lambda _line: None) == 0
    return folder / "site"


@pytest.fixture(scope="module")
def served(demo: Path) -> Iterator[str]:
    """The built site on a real HTTP server on 127.0.0.1, as a static host serves it."""
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(demo))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("chromium is required under CI=true")
        pytest.skip("chromium not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def fetched(page: Any, href: str) -> bytes:
    """What a reader or calendar app gets from a link of the page (the browser's own request)."""
    answer = page.request.get(href)
    assert answer.status == 200, (href, answer.status)
    return answer.body()


@pytest.mark.browser
def test_each_campaigns_feed_and_calendar_are_linked_and_resolve(demo: Path, served: str, browser: Any) -> None:
    page = browser.new_page(viewport={"width": DESKTOP[0], "height": DESKTOP[1]})
    try:
        page.goto(f"{served}/index.html")
        # the page head names every campaign's feed, for a reader's "subscribe" button
        heads = page.eval_on_selector_all("head link[rel=alternate][type='application/atom+xml']",
                                          "links => links.map(l => [l.title, l.href])")
        campaigns = page.eval_on_selector_all("section.campaign h3.campaign-name", "names => names.map(h => h.id)")
        assert len(heads) == 1 + len(campaigns) == 9, heads
        for title, href in heads[1:]:
            feed = feedparser.parse(fetched(page, href))
            assert not feed.bozo and f"tracker: {title.removesuffix(': changes')}" == feed.feed.title
        # each campaign's section links its feed, and a meeting campaign its calendar
        for section in page.locator("section.campaign").all():
            name = section.locator("h3.campaign-name").text_content()
            feed_link = section.get_by_role("link", name="Atom feed")
            feed = feedparser.parse(fetched(page, feed_link.evaluate("a => a.href")))
            assert feed.feed.title == f"tracker: {name}"
            calendar = section.get_by_role("link", name="its meetings' calendar")
            if name in ("New York City Council", "Detroit Board of Education"):
                events = Calendar.from_ical(fetched(page, calendar.evaluate("a => a.href"))).walk("VEVENT")
                assert len(events) >= 5, name
            else:
                assert calendar.count() == 0  # a bill campaign's is its hearings' calendar (test_digest_hearings_calendar)
        # a bill's page and a meeting's page name their campaign's feed too
        page.goto(f"{served}/bills/hr2471-117.html")
        (title, href), = page.eval_on_selector_all(
            "head link[rel=alternate][href*='watches/']", "links => links.map(l => [l.title, l.href])")
        assert title == "Appropriations and tax bills: changes"
        assert feedparser.parse(fetched(page, href)).feed.title == "tracker: Appropriations and tax bills"
        assert page.locator("p.follow").text_content().startswith("Campaign: Appropriations and tax bills")
        page.goto(f"{served}/meetings/meeting-legistar-nyc-20180.html")
        ics = page.get_by_role("link", name="its meetings' calendar").evaluate("a => a.href")
        assert any(str(event["UID"]) == "meeting:legistar:nyc:20180@tracker"
                   for event in Calendar.from_ical(fetched(page, ics)).walk("VEVENT"))
        # the campaign name leads back to its section of the front page
        page.get_by_role("link", name="New York City Council").click()
        assert page.url.endswith("/index.html#w-nyc-council")
        assert page.locator("#w-nyc-council").is_visible()
    finally:
        page.close()


def test_a_campaigns_feed_leads_back_to_its_campaign(demo: Path) -> None:
    """The feed's own alternate link (a reader's "open website") goes to the campaign's section."""
    feed = feedparser.parse((demo / "watches" / "nyc-council" / "changes.atom").read_bytes())
    home = next(link.href for link in feed.feed.links if link.rel == "alternate")
    assert home == "../../index.html#w-nyc-council"


# -- 3. a hearing's day where the committee meets ----------------------------------------------------

def test_a_late_evening_hearing_is_in_the_week_of_its_day_in_washington(tmp_path: Path, frozen_now: Any) -> None:
    """Monday noon in New York; a hearing at 8 PM next Sunday in Washington is 01:00 Monday in UTC.
    It is the sixth day on, "This week", and shown on Sunday; it was put in "Coming up" on Monday."""
    frozen_now("2026-11-30T17:00:00Z")
    config, store = installation(tmp_path / "org", extra=MEETINGS)
    hearing = {"name": "Committee on the Judiciary", "chamber": "House", "code": "hsju00",
               "activities": [{"name": "Referred to", "date": "2026-11-01T15:00:00Z"},
                              {"name": "Hearings by", "date": "2026-12-07T01:00:00Z"}]}
    bill_change(store, "Police Act", 0, committees=[hearing])
    site = write_site(store, config, config.digest_dir)
    store.dispose()
    page = html.parse(str(site / "index.html")).getroot()
    week = page.cssselect("section[aria-labelledby='this-week'] article.hearing")
    assert [card.cssselect("h3 a")[0].text_content() for card in week] == ["Hearing on H.R. 1"]
    assert "Sun Dec 6, 2026" in week[0].text_content()
    assert not page.cssselect("section[aria-labelledby='coming-up'] article.hearing")
    assert "- Sun Dec 6, 2026: hearing on H.R. 1 (Committee on the Judiciary)" in (site / "digest.txt").read_text()


# -- 4. what the walk through the demo found ---------------------------------------------------------

@pytest.mark.browser
def test_a_phone_calls_or_mails_a_member_with_one_tap(demo: Path, served: str, browser: Any) -> None:
    """On a phone, "Write to the members" listed each member's email address and phone number as
    text to copy by hand; they are mailto: and tel: links (and a member's web page a link)."""
    page = browser.new_page(viewport={"width": PHONE[0], "height": PHONE[1]})
    try:
        page.goto(f"{served}/meetings/meeting-legistar-nyc-20180.html")
        chair = page.locator("#contacts ~ ul.contacts li").first
        assert chair.text_content() == "Chair: Marcus Ortega, d07@council.nyc.example, 212-555-0107"
        links = chair.locator("a")
        assert [links.nth(i).get_attribute("href") for i in range(links.count())] == [
            "mailto:d07@council.nyc.example", "tel:+12125550107"]
        page.goto(f"{served}/index.html")
        card = page.locator("section[aria-labelledby='this-week'] ul.contacts").first
        assert card.get_by_role("link", name="212-555-0107").get_attribute("href") == "tel:+12125550107"
        assert card.get_by_role("link", name="https://council.nyc.example/district-35/").is_visible()
        page.goto(f"{served}/bills/hr2471-117.html")
        sponsor = page.locator("ul.contacts li").first
        assert sponsor.get_by_role("link", name="202-225-5936").get_attribute("href") == "tel:+12022255936"
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE[0]
    finally:
        page.close()


def test_contact_lines_stay_escaped_text_around_their_links() -> None:
    """A contact line is a source's words: markup in it is text; a link that reads as another
    address is no link."""
    from tracker.digest import contact_links

    line = contact_links("<b>Chair</b>: A & B, https://nyc.legistar.com@evil.example/x, a@b.org")
    assert str(line) == ("&lt;b&gt;Chair&lt;/b&gt;: A &amp; B, https://nyc.legistar.com@evil.example/x, "
                         '<a href="mailto:a@b.org">a@b.org</a>')


def test_a_meeting_link_refused_as_unsafe_is_no_link(tmp_path: Path, frozen_now: Any) -> None:
    """A meeting whose source gives `javascript:` links: its page offered "Meeting page" and
    "Agenda" links to `href=""`, which reload the page; they are not links at all."""
    config, store = installation(tmp_path / "org", extra=MEETINGS)
    meeting = Meeting(source="ical", source_ref="1", body="City Council", title="Stated meeting",
                      start="2026-12-01T15:00:00+00:00", date="2026-12-01", timezone="America/New_York",
                      url="javascript:alert(1)", agenda_url="javascript:alert(2)")
    ingest(store, Item(key="meeting:ical:nyc:1", kind="meeting", source_id="ical:nyc", watch_ids=["nyc"],
                       content=meeting), lambda old, new, key: [])
    site = write_site(store, config, config.digest_dir)
    store.dispose()
    for path in ("meetings/meeting-ical-nyc-1.html", "index.html"):
        page = html.parse(str(site / path)).getroot()
        empty = [a.text_content() for a in page.iter("a") if not (a.get("href") or "").strip()]
        assert empty == [], (path, empty)


HOSTILE_TITLE = 'Budget <script>alert(1)</script> & "Police"\r\n- Mon Dec 7, 2026, 9:00 AM EST: forged meeting'
HOSTILE_PLACE = 'Room 1, City Hall; 2nd floor\r\nATTENDEE:mailto:evil@example.org'


def test_a_sources_markup_and_line_breaks_stay_its_words_in_every_format(tmp_path: Path, frozen_now: Any) -> None:
    """A meeting whose source writes markup, commas, semicolons and CRLF into its title and place:
    the page shows the words, the feed and the calendar give them back as written (CRLF as a space),
    the calendar event gains no property; and digest.txt kept the line break, so a source could
    forge a line of it ("- Mon Dec 7 ...: forged meeting") under "This week"."""
    frozen_now("2026-11-28T14:00:00Z")
    config, store = installation(tmp_path / "org", extra=MEETINGS)
    for n, title in enumerate(["Stated meeting", HOSTILE_TITLE]):
        meeting = Meeting(source="ical", source_ref="1", body="City Council", title=title,
                          start="2026-12-01T15:00:00+00:00", date="2026-12-01", timezone="America/New_York",
                          location=HOSTILE_PLACE)
        ingest(store, Item(key="meeting:ical:nyc:1", kind="meeting", source_id="ical:nyc", watch_ids=["nyc"],
                           content=meeting),
               lambda old, new, key, n=n: [Change("meeting.added", key, f"{new.title} scheduled",
                                                  dedupe_key(key, str(n)), {})] if n else [])
    site = write_site(store, config, config.digest_dir)
    store.dispose()
    one_line = lambda text: " ".join(text.split())  # noqa: E731
    page = html.parse(str(site / "meetings" / "meeting-ical-nyc-1.html")).getroot()
    assert page.xpath("//script") == [] and one_line(HOSTILE_TITLE) in one_line(page.cssselect("h1")[0].text_content())
    assert one_line(HOSTILE_PLACE) in one_line(page.cssselect("main")[0].text_content())
    feed = feedparser.parse((site / "changes.atom").read_bytes())
    assert not feed.bozo and feed.entries[0].title == f"{one_line(HOSTILE_TITLE)} scheduled"
    raw = (site / "meetings.ics").read_bytes()
    assert b"Room 1\\, City Hall\\; 2nd floor ATTENDEE:mailto:evil@example.org" in raw.replace(b"\r\n ", b"")
    (event,) = Calendar.from_ical(raw).walk("VEVENT")
    assert "ATTENDEE" not in event and str(event["LOCATION"]) == one_line(HOSTILE_PLACE)
    assert all(line.count(":") >= 1 for line in raw.decode().split("\r\n") if line and not line.startswith(" "))
    text = (site / "digest.txt").read_text()
    week = text.split("== This week ==")[1].split("== Coming up")[0]
    assert not any(line.startswith("- Mon Dec 7") for line in week.splitlines()), week
    (entry,) = [line for line in week.splitlines() if line.startswith("- ")]
    assert entry == f"- Tue Dec 1, 2026, 10:00 AM EST: City Council {one_line(HOSTILE_TITLE)}, {one_line(HOSTILE_PLACE)}"


@pytest.mark.browser
def test_a_bills_stage_bar_is_one_even_row(demo: Path, served: str, browser: Any) -> None:
    """The steps a bill has not reached (`li.todo`) took the "This week" cards' style (`.todo`: a
    blue left border, padding, margins): on S. 35's page "House" and "President" sat lower than
    the steps done, edged in blue, as if they were links or warnings."""
    for width, height in (PHONE, DESKTOP):
        page = browser.new_page(viewport={"width": width, "height": height})
        try:
            page.goto(f"{served}/bills/s35-117.html")
            steps = page.locator("main ol.tracker li")
            boxes = [box for i in range(steps.count()) if (box := steps.nth(i).bounding_box()) is not None]
            assert len(boxes) == 6
            assert {(round(box["y"]), round(box["height"])) for box in boxes} == {
                (round(boxes[0]["y"]), round(boxes[0]["height"]))}, boxes  # one row, one height
            borders = steps.evaluate_all("steps => steps.map(s => getComputedStyle(s).borderLeftWidth)")
            assert set(borders) == {"0px"}, borders
        finally:
            page.close()


def test_a_hearing_on_a_bill_two_campaigns_watch_is_one_card(tmp_path: Path, frozen_now: Any) -> None:
    """H.R. 1 watched by two campaigns: its hearing was two identical cards in "This week", one per
    campaign; it is one naming both, as a meeting two watches hold is."""
    frozen_now("2026-11-30T17:00:00Z")
    config, store = installation(tmp_path / "org", extra='[[bills]]\nid = "y"\nname = "Campaign Y"\n'
                                                         'numbers = ["hr1-119"]\n')
    hearing = {"name": "Committee on the Judiciary", "chamber": "House", "code": "hsju00",
               "activities": [{"name": "Hearings by", "date": "2026-12-02T15:00:00Z"}]}
    content = Bill(number="hr1-119", display="H.R. 1", congress=119, type="hr", title="Police Act", stage="referred",
                   latest_action={"date": "2026-11-20", "text": "Referred"}, committees=[hearing])
    ingest(store, Item(key="bill:hr1-119", kind="bill", source_id="govinfo", watch_ids=["x", "y"], content=content),
           lambda old, new, key: [])
    site = write_site(store, config, config.digest_dir)
    store.dispose()
    page = html.parse(str(site / "index.html")).getroot()
    (card,) = page.cssselect("section[aria-labelledby='this-week'] article.hearing")
    assert card.cssselect("p.campaign")[0].text_content() == "Campaign X, Campaign Y"
    assert (site / "digest.txt").read_text().count("hearing on H.R. 1") == 1


def test_the_footer_says_which_zone_times_other_than_meetings_are_in(tmp_path: Path, frozen_now: Any) -> None:
    """"Generated", "detected" and "Last success" are in `[tracker] timezone`; the footer said every
    time was in each body's own zone."""
    config, store = installation(tmp_path / "org", extra='[tracker]\ntimezone = "America/Chicago"\n' + MEETINGS)
    site = write_site(store, config, config.digest_dir)
    store.dispose()
    for path in ("index.html", "changes/index.html"):
        if (site / path).exists():
            footer = html.parse(str(site / path)).getroot().find(".//footer").text_content()
            assert "meetings' times in each body's own time zone, other times in America/Chicago" in footer, footer


def test_a_calendar_entry_carries_what_to_do(tmp_path: Path, frozen_now: Any) -> None:
    """An organizer's calendar app shows the event alone: it says how to take part, the agenda
    items that match, the agenda and the meeting's pages, and its page in the tracker (only under
    `[digest] url`: a relative link means nothing in a calendar). Before, only a time to be
    announced was said."""
    _, store = installation(tmp_path / "org", extra=MEETINGS)
    toml = tmp_path / "org" / "tracker.toml"
    toml.write_text(toml.read_text().replace('out = "site"\n', 'out = "site"\nurl = "https://tracker.example.org/digest/"\n'))
    config = load_config(toml, env={})
    meeting = Meeting(source="ical", source_ref="7", body="Committee on Public Safety", title="Hearing",
                      start="2026-12-01T15:00:00+00:00", date="2026-12-01", timezone="America/New_York",
                      url="https://council.example.gov/m/7",
                      documents=[Document("agenda", "https://council.example.gov/a/7.pdf", "Agenda"),
                                 Document("video", "javascript:alert(1)", "Video")],
                      comment="To testify, register at https://council.example.gov/testify by 5:00 PM the day before.",
                      items=[{"key": "1", "title": "ShotSpotter contract\r\nATTENDEE:mailto:evil@example.org",
                              "keywords": ["police"]},
                             {"key": "2", "title": "Parks budget", "keywords": []}])
    ingest(store, Item(key="meeting:ical:nyc:7", kind="meeting", source_id="ical:nyc", watch_ids=["nyc"],
                       content=meeting), lambda old, new, key: [])
    site = write_site(store, config, config.digest_dir)
    store.dispose()
    for path in ("meetings.ics", "watches/nyc/meetings.ics", "meetings/meeting-ical-nyc-7.ics"):
        (event,) = Calendar.from_ical((site / path).read_bytes()).walk("VEVENT")
        assert "ATTENDEE" not in event
        assert str(event["DESCRIPTION"]).splitlines() == [
            "How to take part (by 5:00 PM the day before): To testify, register at https://council.example.gov/testify "
            "by 5:00 PM the day before.",
            "Matching agenda items:",
            "- police: ShotSpotter contract ATTENDEE:mailto:evil@example.org",
            "Agenda: https://council.example.gov/a/7.pdf",
            "Meeting page: https://council.example.gov/m/7",
            "In the tracker: https://tracker.example.org/digest/meetings/meeting-ical-nyc-7.html",
        ], path
