"""The digest opens on what to do this week: seen in headless Chromium (playwright driving Debian's
chromium) at a desktop's and a phone's first screen, on the demo's real recorded sources; then each
section as an organizer reads it: what is new since the last digest, campaigns most recently moved
first with finished bills folded, the Sources table in the tracker's zone, alerts counted in
messages, digest.txt in words."""

from __future__ import annotations

import os
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from lxml import html

from tracker import clock
from tracker.changes import Change, dedupe_key
from tracker.config import Config, load_config
from tracker.demo import NYC_ANCHOR, days_since, nyc_events
from tracker.records import Bill, Item, Meeting
from tracker.store import Store, ensure_watches, ingest
from tracker.views import collect_status

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SIZES = {"desktop": (1280, 800), "phone": (390, 844)}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`tracker demo --out DIR`: real recorded bills, NYC hearings and Detroit's school board, with
    meeting dates moved to fall around today."""
    from tracker.demo import run_demo

    folder = tmp_path_factory.mktemp("demo")
    assert run_demo(folder, say=lambda _line: None, error=lambda _line: None) == 0
    return folder


def demo_config(demo: Path) -> tuple[Config, Store]:
    config = load_config(demo / "tracker.toml", env={})
    return config, Store(config.database_url)


def meetings_this_week(demo: Path) -> list[str]:
    """The demo's meetings from now to the sixth day on where each body meets, from what `status`
    knows (their pages' names)."""
    from zoneinfo import ZoneInfo

    config, store = demo_config(demo)
    now = clock.now()
    status = collect_status(store, config)
    store.dispose()
    week = []
    for mt in status.meetings:
        today = now.astimezone(ZoneInfo(mt.zone)).date()
        day = mt.start[:10] if mt.start else mt.date
        if (mt.start and clock.parse_instant(mt.start) < now) or not day or mt.over:
            continue
        if today.isoformat() <= day < (today + timedelta(days=7)).isoformat():
            week.append(mt.page)
    return week


@pytest.mark.browser
@pytest.mark.slow
def test_this_week_is_on_the_first_screen_at_desktop_and_phone_sizes(demo: Path, tmp_path: Path) -> None:
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("chromium is required under CI=true")
        pytest.skip("chromium not installed")
    from playwright.sync_api import sync_playwright

    expected = meetings_this_week(demo)
    assert len(expected) >= 3  # the demo puts a hearing, a deferred one and a posted agenda in this week
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for label, (width, height) in SIZES.items():
                page = browser.new_page(viewport={"width": width, "height": height})
                page.goto((demo / "site" / "index.html").as_uri())
                heading = page.locator("h2#this-week")
                assert heading.text_content() == "This week"
                box = heading.bounding_box()
                assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height, (label, box)
                assert box["x"] >= 0 and box["x"] + box["width"] <= width, (label, box)
                # it lists the demo's meetings of the next 7 days, soonest first, each linking to its page
                links = page.locator("section[aria-labelledby='this-week'] article h3 a")
                assert [links.nth(i).get_attribute("href") for i in range(links.count())] == expected
                # the first meeting's card starts on the first screen too
                first = page.locator("section[aria-labelledby='this-week'] article").first.bounding_box()
                assert first is not None and first["y"] < height, (label, first)
                # no horizontal scrolling on a phone
                assert page.evaluate("document.documentElement.scrollWidth") <= width
                page.screenshot(path=str(tmp_path / f"digest-this-week-{label}.png"))
                page.close()
        finally:
            browser.close()
    assert (tmp_path / "digest-this-week-desktop.png").stat().st_size > 10_000
    assert (tmp_path / "digest-this-week-phone.png").stat().st_size > 10_000


@pytest.mark.browser
def test_no_page_of_the_digest_is_cut_off_on_a_phone(demo: Path) -> None:
    """Every page at a phone's width, its folded parts opened: nothing wider than the screen. A
    senator's contact form address in "Who to contact" on S. 35's page ran past the screen's edge,
    cut off unless one scrolled sideways (found by a review)."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("chromium is required under CI=true")
        pytest.skip("chromium not installed")
    from playwright.sync_api import sync_playwright

    site = demo / "site"
    pages = sorted(site.rglob("*.html"))
    assert site / "bills" / "s35-117.html" in pages
    width, height = SIZES["phone"]
    wide = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            for path in pages:
                page.goto(path.as_uri())
                page.evaluate("document.querySelectorAll('details').forEach(folded => { folded.open = true; })")
                if (scrolled := page.evaluate("document.documentElement.scrollWidth")) > width:
                    wide.append(f"{path.relative_to(site)}: {scrolled}px")
        finally:
            browser.close()
    assert wide == []


def test_each_meeting_says_why_it_matters_and_what_to_do(demo: Path) -> None:
    page = html.parse(str(demo / "site" / "index.html")).getroot()
    week = page.cssselect("section[aria-labelledby='this-week'] article")
    soon = page.cssselect("section[aria-labelledby='coming-up'] article")
    cards = {card.cssselect("h3 a")[0].get("href"): card for card in [*week, *soon]}
    # the deferred hearing (derived) says so in words, and offers no calendar entry
    deferred = next(card for card in week if "Cancelled (Deferred)" in card.text_content())
    assert "add to calendar" not in deferred.text_content()
    # the hearing whose agenda was just posted: attend (its calendar entry is written), whom to write
    posted = next(card for card in week if "Agenda just posted" in card.text_content())
    calendar = posted.xpath(".//a[text()='add to calendar']")[0].get("href")
    assert (demo / "site" / calendar).read_text().startswith("BEGIN:VCALENDAR")
    assert posted.cssselect("ul.contacts li")[0].text_content() == (
        "Chair: Marcus Ortega, d07@council.nyc.example, 212-555-0107")
    # the moved hearing says from when; the ShotSpotter one highlights its matching items
    assert any("Moved from" in card.text_content() for card in cards.values())
    shotspotter = next(card for card in soon if "ShotSpotter" in card.text_content())
    assert [m.text for m in shotspotter.cssselect("ul.reasons mark")] == ["NYPD", "ShotSpotter"]
    assert "New York City Council" in shotspotter.cssselect("p.campaign")[0].text_content()
    # "Jointly with ..." is a note, never how to take part
    assert "Testify or comment" not in page.text_content()


def test_every_link_between_the_digests_pages_leads_where_it_says(demo: Path) -> None:
    """Each link from one page of the digest to another opens a file the site has, at the place it
    names: "Write to the 4 members of the Committee on Public Safety" (a card of "Coming up") went
    to the meeting's page#contacts, which had no such place, so a phone opened it at its top
    (found by a review)."""
    site = demo / "site"
    broken = []
    for path in site.rglob("*.html"):
        for link in html.parse(str(path)).getroot().xpath("//a[@href]"):
            href = link.get("href")
            if re.match(r"[a-z]+:", href):
                continue
            file, _, place = href.partition("#")
            target = (path.parent / file).resolve() if file else path
            if not target.is_file():
                broken.append(f"{path.relative_to(site)}: {href}")
            elif place and not html.parse(str(target)).getroot().xpath(f"//*[@id='{place}']"):
                broken.append(f"{path.relative_to(site)}: {href} (no such place)")
    assert broken == []
    assert any("#contacts" in link.get("href") for link in html.parse(str(site / "index.html")).getroot().xpath(
        "//a[@href]"))


def test_sources_show_times_in_the_trackers_zone(demo: Path) -> None:
    page = html.parse(str(demo / "site" / "index.html")).getroot()
    rows = page.cssselect("section[aria-labelledby='health'] table tbody tr")
    assert rows
    for row in rows:
        when = row.cssselect("td")[1].text_content()
        assert not re.search(r"\d{4}-\d\d-\d\dT", when), when  # no UTC stamp
        assert re.fullmatch(r"[A-Z][a-z]{2} \d{1,2}, \d{4} \d{1,2}:\d\d [AP]M E[SD]T", when), when  # New York's zone


def test_alerts_are_counted_in_messages(demo: Path) -> None:
    page = html.parse(str(demo / "site" / "index.html")).getroot()
    # every alert the demo's subscriber received is one message, whatever number of changes it carries
    received = (demo / "alerts.txt").read_text().count("\n== ") + 1
    line = page.xpath("//p[starts-with(normalize-space(.), 'Alerts:')]")[0].text_content()
    assert line.startswith(f"Alerts: {received} sent,"), line


def test_campaigns_fold_finished_and_stale_bills(demo: Path) -> None:
    page = html.parse(str(demo / "site" / "index.html")).getroot()
    campaigns = page.cssselect("section.campaign")
    budget = next(c for c in campaigns if c.findtext(".//h3") == "Appropriations and tax bills")
    folded = budget.cssselect("details.finished article.card h3 a")
    # H.R. 2471 became law; H.R. 6658 has had no action since 2022: both under the fold
    assert sorted(a.text_content() for a in folded) == ["H.R. 2471 (117th Congress)", "H.R. 6658 (117th Congress)"]
    # campaigns whose news came in on the same crawl: the one where something happened last comes first
    names = [c.findtext(".//h3") for c in campaigns]
    assert names.index("Appropriations and tax bills") < names.index("Adoptive Family Relief Act")  # 2022 before 2015


def write(store: Store, config: Config, folder: Path) -> Any:
    from tracker.digest import write_site

    site = write_site(store, config, folder)
    return html.parse(str(site / "index.html")).getroot(), (site / "digest.txt").read_text()


def one_bill_store(tmp_path: Path, extra: str = "") -> tuple[Config, Store]:
    path = tmp_path / "tracker.toml"
    path.write_text(f'[digest]\nout = "site"\n[[bills]]\nid = "x"\nname = "Campaign X"\nnumbers = ["hr1-119"]\n{extra}')
    config = load_config(path, env={})
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


def test_new_since_the_last_digest_keeps_its_news_until_newer_news(tmp_path: Path, frozen_now: Any) -> None:
    config, store = one_bill_store(tmp_path)
    bill_change(store, "Baseline title", 0)  # the first snapshot is a baseline: no news
    bill_change(store, "First title", 1)
    page, _ = write(store, config, config.digest_dir)
    new = page.cssselect("section[aria-labelledby='new']")[0]
    assert "since tracking began" in new.text_content() and "First title" in new.text_content()

    frozen_now("2026-11-24T15:00:00Z")
    bill_change(store, "Second title", 2)
    page, text = write(store, config, config.digest_dir)
    new = page.cssselect("section[aria-labelledby='new']")[0]
    # only what came after the last digest (of 9:00 AM New York time), said as of when
    assert "Second title" in new.text_content() and "First title" not in new.text_content()
    assert "since the digest of Nov 24, 2026 9:00 AM EST" in new.text_content()
    assert "== New since the digest of Nov 24, 2026 9:00 AM EST ==" in text

    frozen_now("2026-11-24T15:15:00Z")  # rewritten with nothing new: the news stays, and says since when
    page, _ = write(store, config, config.digest_dir)
    new = page.cssselect("section[aria-labelledby='new']")[0]
    assert "Second title" in new.text_content() and "since the digest of Nov 24, 2026 9:00 AM EST" in new.text_content()

    # a digest written elsewhere (`tracker digest --out`) shows the same news and moves no mark
    write(store, config, tmp_path / "elsewhere")
    frozen_now("2026-11-24T16:00:00Z")
    bill_change(store, "Third title", 3)
    page, _ = write(store, config, config.digest_dir)
    new = page.cssselect("section[aria-labelledby='new']")[0]
    assert "Third title" in new.text_content() and "Second title" not in new.text_content()
    assert "since the digest of Nov 24, 2026 10:15 AM EST" in new.text_content()


MEETINGS = '''[[meetings]]
id = "nyc"
name = "NYC Council"
timezone = "America/New_York"
ical = "https://example.org/c.ics"
keywords = ["police"]
'''


def test_this_week_shows_hearings_and_agenda_items_naming_watched_bills(tmp_path: Path, frozen_now: Any) -> None:
    """Derived records: a committee hearing on the watched H.R. 1 dated ahead, and a council meeting in
    the next 30 days whose agenda (no keyword of the watch) names H.R. 1."""
    config, store = one_bill_store(tmp_path, MEETINGS)
    hearing = {"name": "Committee on the Judiciary", "chamber": "House", "code": "hsju00",
               "activities": [{"name": "Referred to", "date": "2026-11-01T15:00:00Z"},
                              {"name": "Hearings by", "date": "2026-11-26T15:00:00Z"}]}
    bill_change(store, "Police Act", 0, committees=[hearing])
    meeting = Meeting(source="ical", source_ref="1", body="City Council", title="Stated meeting",
                      start="2026-12-10T15:00:00+00:00", date="2026-12-10", timezone="America/New_York",
                      location="City Hall", comment="Sign up to testify by 5:00 PM the day before at council.example/testify",
                      items=[{"title": "Res 12 - calling on Congress to pass H.R. 1", "matter": "Res 0012-2026",
                              "keywords": []}])
    ingest(store, Item(key="meeting:ical:nyc:1", kind="meeting", source_id="ical:nyc", watch_ids=["nyc"],
                       content=meeting), lambda old, new, key: [])
    page, text = write(store, config, tmp_path / "site")
    week = page.cssselect("section[aria-labelledby='this-week'] article")
    assert [a.text_content() for a in week[0].cssselect("h3 a")] == ["Hearing on H.R. 1"]
    assert "Thu Nov 26, 2026" in week[0].text_content() and "Committee on the Judiciary" in week[0].text_content()
    (council,) = page.cssselect("section[aria-labelledby='coming-up'] article")
    assert [m.text for m in council.cssselect("ul.reasons mark")] == ["H.R. 1"]
    assert council.cssselect(".deadline")[0].text_content() == "by 5:00 PM the day before"
    assert "Testify or comment" in council.text_content()
    assert "- Thu Nov 26, 2026: hearing on H.R. 1 (Committee on the Judiciary)" in text
    assert "Testify or comment (by 5:00 PM the day before): Sign up to testify" in text


def test_digest_txt_says_times_and_cancellations_in_words(tmp_path: Path, frozen_now: Any) -> None:
    config, store = one_bill_store(tmp_path, MEETINGS)
    meeting = Meeting(source="ical", source_ref="1", body="Committee on Public Safety", title="Oversight hearing",
                      start="2026-12-01T18:00:00+00:00", date="2026-12-01", timezone="America/New_York",
                      status="cancelled", status_text="Deferred", location="250 Broadway")
    ingest(store, Item(key="meeting:ical:nyc:1", kind="meeting", source_id="ical:nyc", watch_ids=["nyc"],
                       content=meeting), lambda old, new, key: [])
    _, text = write(store, config, tmp_path / "site")
    line = next(line for line in text.splitlines() if "Oversight hearing" in line)
    assert line.startswith("- Tue Dec 1, 2026, 1:00 PM EST: ")  # the body's zone, in words
    assert 'cancelled (the source says "Deferred")' in line
    assert "(CANCELLED)" not in text and "2026-12-01T" not in text


@pytest.mark.parametrize("day", range(7))
@pytest.mark.parametrize("hour", [0, 12, 23])
def test_the_demos_week_holds_its_hearings_whatever_the_weekday(day: int, hour: int) -> None:
    """On every weekday and at any hour (UTC), the demo's next seven days hold the hearing whose
    agenda was just posted, the deferred one and the Council meeting before them."""
    now = datetime(2026, 11, 30, hour, 30, tzinfo=UTC) + timedelta(days=day)
    starts = {}
    for event in nyc_events(days_since(NYC_ANCHOR, now.date()), later=True):
        start = datetime.strptime(f"{event['EventDate'][:10]} {event['EventTime']}", "%Y-%m-%d %I:%M %p")
        starts[event["EventId"]] = start.replace(tzinfo=ZoneInfo("America/New_York"))
    week = {ref for ref, start in starts.items() if now <= start < now + timedelta(days=7)}
    assert {20178, 20115, 20180} <= week, (now, sorted(week))


def meeting_of(store: Store, ref: str, title: str, **fields: Any) -> None:
    """A meeting of the NYC Council watch (MEETINGS), stored as its source would list it."""
    meeting = Meeting(source="ical", source_ref=ref, body="Committee on Public Safety", title=title,
                      timezone="America/New_York", **fields)
    ingest(store, Item(key=f"meeting:ical:nyc:{ref}", kind="meeting", source_id="ical:nyc", watch_ids=["nyc"],
                       content=meeting), lambda old, new, key: [])


def test_a_meeting_whose_day_has_gone_by_is_not_this_weeks(tmp_path: Path, frozen_now: Any) -> None:
    """Tue Nov 24, 9:00 AM in New York. A meeting whose time was never announced, dated last Friday,
    was shown first under "This week" ("Fri Nov 20, 2026, time to be announced") and counted among
    the campaign's meetings ahead (found by a review); one dated today still may be held."""
    config, store = one_bill_store(tmp_path, MEETINGS)
    meeting_of(store, "friday", "Budget hearing", date="2026-11-20", time_tbd=True)
    meeting_of(store, "today", "Oversight hearing", date="2026-11-24", time_tbd=True)
    page, text = write(store, config, tmp_path / "site")
    week = page.cssselect("section[aria-labelledby='this-week']")[0].text_content()
    assert "Oversight hearing" in week and "Tue Nov 24, 2026, time to be announced" in week
    assert "Budget hearing" not in week and "Nov 20" not in week
    assert "Budget hearing" not in page.cssselect("section[aria-labelledby='coming-up']")[0].text_content()
    campaign = next(c for c in page.cssselect("section.campaign") if c.findtext(".//h3") == "NYC Council")
    assert "1 meeting in the next 30 days" in campaign.text_content()
    assert "Budget hearing" not in text.split("== New since")[0]


def test_a_meeting_called_off_last_week_is_not_listed_as_later(tmp_path: Path, frozen_now: Any) -> None:
    """A meeting cancelled for last Friday was listed first under its campaign's "Later:" (past the
    next 30 days) on the front page and in digest.txt (found by a review)."""
    config, store = one_bill_store(tmp_path, MEETINGS)
    meeting_of(store, "friday", "Budget hearing", date="2026-11-20", start="2026-11-20T15:00:00+00:00",
               status="cancelled", status_text="Cancelled")
    meeting_of(store, "january", "Oversight hearing", date="2027-01-12", start="2027-01-12T15:00:00+00:00")
    page, text = write(store, config, tmp_path / "site")
    campaign = next(c for c in page.cssselect("section.campaign") if c.findtext(".//h3") == "NYC Council")
    later = [li.text_content() for li in campaign.cssselect("ul.later li")]
    assert len(later) == 1 and "Oversight hearing" in later[0], later
    council = text.split("== NYC Council ==")[1]
    assert "Oversight hearing" in council and "Budget hearing" not in council


def test_a_meeting_with_no_time_yet_is_added_to_calendars_on_its_day(tmp_path: Path, frozen_now: Any) -> None:
    """A meeting whose time is to be announced offers "add to calendar", whose file held no event at
    all, and the calendar organizers subscribe to (meetings.ics) left it out (found by a review):
    it is an all-day event of its day, the same event (UID) it stays once its time is known."""
    from icalendar import Calendar

    config, store = one_bill_store(tmp_path, MEETINGS)
    meeting_of(store, "thursday", "Budget hearing", date="2026-11-26", time_tbd=True)
    page, _ = write(store, config, tmp_path / "site")
    card = page.cssselect("section[aria-labelledby='this-week'] article")[0]
    assert "Thu Nov 26, 2026, time to be announced" in card.text_content()
    link = card.xpath(".//a[text()='add to calendar']")[0].get("href")
    for path in (link, "meetings.ics", "watches/nyc/meetings.ics"):
        (event,) = Calendar.from_ical((tmp_path / "site" / path).read_bytes()).walk("VEVENT")
        assert str(event["UID"]) == "meeting:ical:nyc:thursday@tracker"
        assert "Budget hearing" in str(event["SUMMARY"])
        assert event.decoded("DTSTART") == date(2026, 11, 26) and event.decoded("DTEND") == date(2026, 11, 27)


def test_a_quiet_campaigns_feed_keeps_its_news_when_another_campaign_is_busy(tmp_path: Path, frozen_now: Any) -> None:
    """A watch's feed (watches/<id>/changes.atom) was cut from the site's newest 200 changes of all
    watches: a week of cosponsors on another campaign's bill left the quiet campaign's feed empty,
    its one change gone before a feed reader came by (found by a review)."""
    import feedparser

    config, store = one_bill_store(tmp_path, '[[bills]]\nid = "busy"\nname = "Busy campaign"\nnumbers = ["hr2-119"]\n')
    with store.session() as session:
        ensure_watches(session, [("busy", "bill", "Busy campaign")])
    bill_change(store, "Baseline title", 0)
    bill_change(store, "Police Act", 1)  # the quiet campaign's news
    for n in range(2):  # a baseline, then 250 cosponsors at once
        busy = Bill(number="hr2-119", display="H.R. 2", congress=119, type="hr", title=f"Busy Act {n}",
                    stage="introduced")
        ingest(store, Item(key="bill:hr2-119", kind="bill", source_id="govinfo", watch_ids=["busy"], content=busy),
               lambda old, new, key: [Change("bill.cosponsor_added", key, f"H.R. 2: cosponsor {i} joined",
                                             dedupe_key(key, str(i))) for i in range(250)])
    write(store, config, tmp_path / "site")
    quiet = feedparser.parse((tmp_path / "site" / "watches" / "x" / "changes.atom").read_bytes())
    assert [entry.title for entry in quiet.entries] == ["H.R. 1 is now titled Police Act"]
    assert len(feedparser.parse((tmp_path / "site" / "watches" / "busy" / "changes.atom").read_bytes()).entries) == 200


def test_a_meeting_given_its_time_says_the_day_it_was_on(tmp_path: Path, frozen_now: Any) -> None:
    """A meeting listed for Thursday with its time to be announced, then at 10:00 AM that Thursday:
    the card said "Moved from Wed Nov 25, 2026, 7:00 PM EST", a day and time it never had (the day
    alone read as midnight UTC; found by a review)."""
    config, store = one_bill_store(tmp_path, MEETINGS)
    fields = {"source": "ical", "source_ref": "1", "body": "Committee on Public Safety", "title": "Oversight hearing",
              "timezone": "America/New_York", "date": "2026-11-26"}
    for meeting in (Meeting(**fields, time_tbd=True), Meeting(**fields, start="2026-11-26T15:00:00+00:00")):
        ingest(store, Item(key="meeting:ical:nyc:1", kind="meeting", source_id="ical:nyc", watch_ids=["nyc"],
                           content=meeting))
    page, text = write(store, config, tmp_path / "site")
    (card,) = page.cssselect("section[aria-labelledby='this-week'] article")
    assert "Thu Nov 26, 2026, 10:00 AM EST" in card.text_content()
    flags = card.cssselect("p.flags")[0].text_content()
    assert "Moved from Thu Nov 26, 2026, time to be announced" in flags and "Nov 25" not in flags, flags
    assert "moved from Thu Nov 26, 2026, time to be announced" in text and "Nov 25" not in text
