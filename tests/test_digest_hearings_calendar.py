"""A bill campaign's calendar, and the news list's headlines on a phone: each test here failed before
its fix.

1. Committee hearings on a campaign's bills were shown under "This week" but written into no
   calendar: a bill campaign's calendar (watches/<id>/meetings.ics) was empty and linked from
   nowhere, and the site's meetings.ics left them out. Now each hearing is an event (its UID kept
   across runs, SEQUENCE the bill's revision as a meeting's is its own, DTSTART in Washington's
   zone, whom to contact in its description), one no longer on the bill's record is CANCELLED
   (postponed, when the record shows the committee's hearing on another day), and the campaign's
   section links "its hearings' calendar".
2. "New since the last digest" folds each bill's changes in a `<details>` whose `<summary>` held
   the link to the bill's page: tapping the headline on a phone opened the page, never the list.

Real parts: S. 832 (116th)'s recorded BILLSTATUS file (a Senate Indian Affairs hearing on May 1,
2019) crawled from the loopback replay server by the govinfo spider, congress-legislators served
the same way, the site written by `write_site`, every calendar parsed by icalendar, the front page
opened in headless Chromium (Debian's, driven by playwright) at a phone's size with touch.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from lxml import etree, html
from recorded import federal, serve_legislators

from tracker.config import Config, load_config
from tracker.crawl import run_crawls
from tracker.demo.derive import billstatus_before
from tracker.demo.replay import ReplayServer
from tracker.digest import write_site
from tracker.store import Store

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
S832 = "/bulkdata/BILLSTATUS/116/s/BILLSTATUS-116s832.xml"
WASHINGTON = ZoneInfo("America/New_York")
BEFORE = "2019-04-27"  # four days before the Indian Affairs Committee's hearing on S. 832
# The spider asks again for a bill it read within a day only when a sitemap says it moved: each
# crawl after the first is a day later.
DAYS_ON = ["2019-04-28T15:00:00Z", "2019-04-29T16:00:00Z", "2019-04-30T17:00:00Z"]


def as_of(cutoff: str, hearing: str | None = "2019-05-01T18:30:04Z", committee: str | None = None,
          title: str | None = None) -> bytes:
    """derived: S. 832's real file as it stood before `cutoff` (actions, cosponsors and committee
    activities dated then or later removed), its Indian Affairs hearing kept, dated `hearing` (None:
    no longer on the record); `committee`/`title` replace the committee's name and the bill's title."""
    tree = etree.fromstring(billstatus_before(federal("BILLSTATUS-116s832.xml"), cutoff))
    for committee_node in list(tree.iter("item")):  # listed first: items are removed on the way
        activities = committee_node.find("activities")
        if activities is None:
            continue
        for item in list(activities.findall("item")):
            name, when = item.findtext("name") or "", item.findtext("date") or ""
            if name == "Hearings by" and committee_node.findtext("systemCode") == "slia00":
                if hearing is None:
                    activities.remove(item)
                else:
                    item.find("date").text = hearing  # type: ignore[union-attr]
            elif when >= cutoff:
                activities.remove(item)
        if committee and committee_node.findtext("systemCode") == "slia00":
            committee_node.find("name").text = committee  # type: ignore[union-attr]
    if title:
        for node in tree.iter("title"):
            node.text = title
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8")


@pytest.fixture
def backend() -> str:
    """The store's database: SQLite, unless a test asks for both."""
    return "sqlite"


def watching_s832(tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch,
                  url: str) -> tuple[Config, Store]:
    """A tracker on the database at `url` whose campaign "Tribal lands" watches S. 832, crawled from
    the loopback server on April 27, 2019 (its May 1 hearing on)."""
    monkeypatch.setenv("TRACKER_NOW", f"{BEFORE}T14:00:00Z")
    replay.add(S832, as_of(BEFORE))
    path = tmp_path / "tracker.toml"
    path.write_text(f'[storage]\nurl = "{url}"\n[digest]\nout = "site"\n[crawl]\ndelay_seconds = 0\n'
                    f'[sources.govinfo]\nbase_url = "{replay.url}"\n'
                    f'[sources.legislators]\nbase_url = "{serve_legislators(replay)}"\n'
                    '[[bills]]\nid = "tribal"\nname = "Tribal lands"\nnumbers = ["s832-116"]\n'
                    '[[subscribers]]\nid = "organizer"\nnotify = ["json://127.0.0.1:9/"]\n')
    config = load_config(path, env={})
    store = Store(config.database_url)
    run_crawls(config, store)
    return config, store


@pytest.fixture
def tracker(tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch, backend: str,
            request: pytest.FixtureRequest) -> Iterator[tuple[Config, Store]]:
    """`watching_s832` on the test's `backend`."""
    url = request.getfixturevalue("pg_url") if backend == "postgresql" else f"sqlite:///{tmp_path / 'tracker.db'}"
    config, store = watching_s832(tmp_path, replay, monkeypatch, url)
    yield config, store
    store.dispose()


def crawl_again(config: Config, store: Store, replay: ReplayServer, body: bytes, now: str,
                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_NOW", now)
    replay.replace(S832, body)
    run_crawls(config, store)


def events(site: Path, path: str) -> dict[str, Any]:
    """A calendar's events by UID, as a calendar app reads the file."""
    calendar = Calendar.from_ical((site / path).read_bytes())
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


def hearing_events(site: Path, path: str) -> list[Any]:
    return [event for uid, event in events(site, path).items() if uid.startswith("hearing:")]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_bill_campaigns_calendar_holds_its_hearings(tracker: tuple[Config, Store], replay: ReplayServer,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    config, store = tracker
    site = write_site(store, config, config.digest_dir)
    (event,) = hearing_events(site, "watches/tribal/meetings.ics")
    # what a calendar app shows: the committee and the bill, at 2:30 PM in Washington, confirmed
    summary = str(event["SUMMARY"])
    assert "Indian Affairs Committee" in summary and "S. 832" in summary, summary
    start = event.decoded("DTSTART")
    assert start == datetime(2019, 5, 1, 14, 30, 4, tzinfo=WASHINGTON)
    assert event["DTSTART"].params["TZID"] == "America/New_York"
    assert event.decoded("DTEND") > start
    assert str(event["STATUS"]) == "CONFIRMED"
    description = str(event["DESCRIPTION"])
    assert "Whom to contact" in description and "Sponsor: " in description, description
    assert str(event.get("URL", "")).startswith("https://www.congress.gov/bill/116th-congress/senate-bill/832")
    # the file declares the zone it names (RFC 5545: a VTIMEZONE for each TZID)
    zones = Calendar.from_ical((site / "watches/tribal/meetings.ics").read_bytes()).walk("VTIMEZONE")
    assert [str(zone["TZID"]) for zone in zones] == ["America/New_York"]
    # the site's whole calendar holds it too, as the same event
    (whole,) = hearing_events(site, "meetings.ics")
    assert (str(whole["UID"]), whole["SEQUENCE"]) == (str(event["UID"]), event["SEQUENCE"])
    # the campaign's section links its calendar, which resolves to that file
    page = html.parse(str(site / "index.html")).getroot()
    section = page.cssselect("section.campaign")[0]
    (link,) = section.xpath(".//a[text()=\"its hearings' calendar\"]")
    assert (site / link.get("href")).resolve() == (site / "watches/tribal/meetings.ics").resolve()
    bill_page = html.parse(str(site / "bills" / "s832-116.html")).getroot()
    assert bill_page.xpath(".//a[text()=\"its hearings' calendar\"]")
    # its card under "This week" adds it alone to a calendar: the same event
    (card,) = page.cssselect("section[aria-labelledby='this-week'] article.hearing")
    (own,) = events(site, card.xpath(".//a[text()='add to calendar']")[0].get("href")).values()
    assert (str(own["UID"]), own["SEQUENCE"], own.decoded("DTSTART")) == (str(event["UID"]), event["SEQUENCE"], start)
    assert card.xpath(".//a[text()='whom to contact']")[0].get("href") == "bills/s832-116.html#contacts"

    # the next run, nothing changed: the same UID and SEQUENCE (a calendar app takes nothing as new)
    monkeypatch.setenv("TRACKER_NOW", DAYS_ON[0])
    run_crawls(config, store)
    site = write_site(store, config, config.digest_dir)
    (again,) = hearing_events(site, "watches/tribal/meetings.ics")
    assert (str(again["UID"]), again["SEQUENCE"]) == (str(event["UID"]), event["SEQUENCE"])

    # postponed a week: the May 1 event is cancelled, saying to when, with a higher SEQUENCE; May 8 is on
    crawl_again(config, store, replay, as_of(BEFORE, hearing="2019-05-08T18:30:00Z"), DAYS_ON[1],
                monkeypatch)
    site = write_site(store, config, config.digest_dir)
    found = {event.decoded("DTSTART").date(): event for event in hearing_events(site, "watches/tribal/meetings.ics")}
    assert set(found) == {date(2019, 5, 1), date(2019, 5, 8)}
    off, on = found[date(2019, 5, 1)], found[date(2019, 5, 8)]
    assert str(off["UID"]) == str(event["UID"])
    assert str(off["STATUS"]) == "CANCELLED" and off["SEQUENCE"] > event["SEQUENCE"]
    assert str(off["DESCRIPTION"]).startswith("Postponed"), off["DESCRIPTION"]
    assert "Wed May 8, 2019" in str(off["DESCRIPTION"])
    assert "Whom to contact" not in str(off["DESCRIPTION"])
    assert str(on["STATUS"]) == "CONFIRMED" and str(on["UID"]) != str(event["UID"])
    assert on.decoded("DTSTART") == datetime(2019, 5, 8, 14, 30, tzinfo=WASHINGTON)
    # the front page and digest.txt say it too
    page = html.parse(str(site / "index.html")).getroot()
    week = page.cssselect("section[aria-labelledby='this-week']")[0].text_content()
    assert "Postponed to Wed May 8, 2019" in week and "Wed May 1, 2019" in week, week
    called_off = page.cssselect("section[aria-labelledby='this-week'] article.hearing.off")
    assert len(called_off) == 1 and not called_off[0].xpath(".//a[text()='add to calendar']")
    assert "postponed" in (site / "digest.txt").read_text()

    # then off the record altogether: the May 8 event is cancelled too, and stays in the calendar
    crawl_again(config, store, replay, as_of(BEFORE, hearing=None), DAYS_ON[2], monkeypatch)
    site = write_site(store, config, config.digest_dir)
    found = {event.decoded("DTSTART").date(): event for event in hearing_events(site, "watches/tribal/meetings.ics")}
    assert set(found) == {date(2019, 5, 1), date(2019, 5, 8)}
    assert {str(event["STATUS"]) for event in found.values()} == {"CANCELLED"}
    assert str(found[date(2019, 5, 8)]["DESCRIPTION"]).startswith("Cancelled or postponed")
    assert found[date(2019, 5, 8)]["SEQUENCE"] > on["SEQUENCE"]


def test_a_line_break_in_a_committee_or_title_forges_no_calendar_line(
        tracker: tuple[Config, Store], replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """A source's committee name or bill title carrying CR/LF (XML character references survive the
    parser) must not start a property of its own in any calendar."""
    forged = "Indian Affairs Committee&#13;&#10;DTSTART:20300101T000000Z&#10;STATUS:CONFIRMED"
    body = as_of(BEFORE, committee="COMMITTEE", title="TITLE")
    body = body.replace(b"COMMITTEE", forged.encode()).replace(b"TITLE", b"Act&#13;&#10;ATTENDEE:mailto:x@evil.example")
    crawl_again(config := tracker[0], tracker[1], replay, body, DAYS_ON[0], monkeypatch)
    site = write_site(tracker[1], config, config.digest_dir)
    for path in ("meetings.ics", "watches/tribal/meetings.ics"):
        lines = (site / path).read_bytes().replace(b"\r\n ", b"").split(b"\r\n")  # unfolded
        assert not [line for line in lines if line.startswith((b"DTSTART:2030", b"ATTENDEE"))], path
        hearings = hearing_events(site, path)
        assert hearings
        for event in hearings:
            assert "ATTENDEE" not in event and event.decoded("DTSTART").year == 2019
            assert "Indian Affairs Committee" in str(event["SUMMARY"])


@pytest.mark.browser
def test_tapping_a_news_headline_opens_its_list_and_its_page_stays_a_tap_away(
        tracker: tuple[Config, Store], replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("chromium is required under CI=true")
        pytest.skip("chromium not installed")
    from playwright.sync_api import sync_playwright

    config, store = tracker
    # the real file a month on: its new actions are the news, grouped under S. 832's headline
    crawl_again(config, store, replay, federal("BILLSTATUS-116s832.xml"), "2019-12-04T14:00:00Z", monkeypatch)
    site = write_site(store, config, config.digest_dir)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
            page = context.new_page()
            index = (site / "index.html").as_uri()
            page.goto(index)
            item = page.locator("ul.news > li").first
            folded = item.locator("details")
            assert folded.evaluate("d => d.open") is False
            assert not item.locator("ul.changes").is_visible()
            headline = item.locator("summary strong")
            assert "S. 832" in (headline.text_content() or "")
            headline.tap()  # where a thumb lands: on the headline's words
            page.wait_for_timeout(300)
            assert page.url == index  # still the front page, not the bill's
            assert folded.evaluate("d => d.open") is True
            assert item.locator("ul.changes li").first.is_visible()
            # the bill's page is still one tap away, on a target of its own outside the summary
            link = item.locator("a[href='bills/s832-116.html']").first
            assert link.is_visible()
            assert link.evaluate("a => a.closest('summary') === null")
            headline.tap()  # and the headline folds it again
            page.wait_for_timeout(300)
            assert folded.evaluate("d => d.open") is False
            assert item.locator("a[href='bills/s832-116.html']").first.is_visible()  # reachable folded, too
            link.tap()
            page.wait_for_url("**/bills/s832-116.html")
            context.close()
        finally:
            browser.close()
