"""The digest as organizers' tools read it: HTML parsed, Atom through feedparser, iCalendar through
icalendar, and the page opened in headless Chromium."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import feedparser
import pytest
from icalendar import Calendar
from lxml import html
from recorded import federal

from tracker.changes import Change, dedupe_key
from tracker.config import Config, load_config
from tracker.crawl import run_crawls
from tracker.demo.derive import billstatus_before
from tracker.demo.replay import ReplayServer
from tracker.digest import build_calendar, write_site
from tracker.queries import Watched
from tracker.records import Bill, Item, Meeting, MeetingStatus
from tracker.store import Store, ensure_watches, ingest
from tracker.views import MeetingView

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
S35 = "/bulkdata/BILLSTATUS/117/s/BILLSTATUS-117s35.xml"
HR2471 = "/bulkdata/BILLSTATUS/117/hr/BILLSTATUS-117hr2471.xml"


@pytest.fixture
def crawled(tmp_path: Path, replay: ReplayServer) -> tuple[Config, Store]:
    """Two crawls: a derived earlier state (newest actions removed), then the real files."""
    real_s35, real_2471 = federal("BILLSTATUS-117s35.xml"), federal("BILLSTATUS-117hr2471.xml")
    replay.add(S35, billstatus_before(real_s35, "2021-02-12"))
    replay.add(HR2471, billstatus_before(real_2471, "2022-03-09"))
    path = tmp_path / "tracker.toml"
    path.write_text(f'[crawl]\ndelay_seconds = 0\n[sources.govinfo]\nbase_url = "{replay.url}"\n'
                    '[[bills]]\nid = "police"\nname = "Police accountability"\nnumbers = ["s35-117", "hr2471-117"]\n')
    config = load_config(path, env={})
    store = Store(config.database_url)
    run_crawls(config, store)
    replay.replace(S35, real_s35)
    replay.replace(HR2471, real_2471)
    run_crawls(config, store)
    return config, store


def test_index_shows_bills_stages_and_changes(crawled: tuple[Config, Store], tmp_path: Path) -> None:
    config, store = crawled
    site = write_site(store, config, tmp_path / "site")
    page = html.parse(str(site / "index.html")).getroot()
    cards = {c.findtext(".//h3/a"): c for c in page.cssselect("article.card")}
    assert set(cards) == {"S. 35 (117th Congress)", "H.R. 2471 (117th Congress)"}
    s35 = cards["S. 35 (117th Congress)"]
    assert s35.cssselect(".stage")[0].text_content() == "Passed the Senate"
    assert [li.text_content() for li in s35.cssselect("ol.tracker li.done")] == ["Introduced", "Committee", "Senate"]
    law = cards["H.R. 2471 (117th Congress)"]
    assert "Public Law 117-103" in law.text_content()
    recent = [li.text_content() for li in page.cssselect("ul.changes li")]
    assert any("S. 35 (117th) passed the Senate" in r for r in recent)
    assert any("H.R. 2471 (117th) became law" in r for r in recent)
    assert "govinfo" in page.cssselect("table")[0].text_content()
    # Works from disk: no external scripts, styles or fonts.
    assert not page.xpath("//script[@src] | //link[@rel='stylesheet'] | //img[starts-with(@src, 'http')]")
    assert "@import" not in (site / "index.html").read_text() and "url(" not in (site / "index.html").read_text()
    bill_page = html.parse(str(site / "bills" / "s35-117.html")).getroot()
    from tracker.bills.billstatus import parse_billstatus

    actions = parse_billstatus(federal("BILLSTATUS-117s35.xml")).actions
    rows = bill_page.cssselect("table")[0].cssselect("tbody tr")
    assert [r.cssselect("td")[2].text_content() for r in rows] == [a["text"] for a in reversed(actions)]
    assert "Officer Eugene Goodman" in bill_page.findtext(".//title")


def test_feeds_parse_and_keep_stable_ids(crawled: tuple[Config, Store], tmp_path: Path) -> None:
    config, store = crawled
    site = write_site(store, config, tmp_path / "site")
    feed = feedparser.parse((site / "changes.atom").read_bytes())
    assert not feed.bozo and feed.entries
    ids = [e.id for e in feed.entries]
    assert all(i.startswith("tag:tracker,2026:") and "/change/" in i for i in ids) and len(set(ids)) == len(ids)
    site = write_site(store, config, tmp_path / "site")
    assert [e.id for e in feedparser.parse((site / "changes.atom").read_bytes()).entries] == ids
    per_watch = feedparser.parse((site / "watches" / "police" / "changes.atom").read_bytes())
    assert len(per_watch.entries) == len(ids)
    calendar = Calendar.from_ical((site / "meetings.ics").read_bytes())
    assert calendar.get("prodid")


def test_calendar_keeps_cancelled_meetings_and_raises_sequence() -> None:
    record = Meeting(source="legistar", source_ref="7", body="Committee on Public Safety", title="Hearing",
                     date="2026-12-01", timezone="America/New_York", start="2026-12-01T18:00:00Z",
                     status=MeetingStatus.CANCELLED, location="250 Broadway")
    meeting = MeetingView.of("nyc", Watched("meeting:legistar:nyc:7", record), ZoneInfo("America/New_York"),
                             datetime(2026, 11, 24, tzinfo=UTC))
    cal = Calendar.from_ical(build_calendar([meeting], {"meeting:legistar:nyc:7": 2}, "x"))
    (event,) = cal.walk("VEVENT")
    assert str(event["STATUS"]) == "CANCELLED" and int(event["SEQUENCE"]) == 2
    assert str(event["UID"]) == "meeting:legistar:nyc:7@tracker"
    assert event.decoded("DTSTART").isoformat() == "2026-12-01T18:00:00+00:00"


def test_scraped_text_is_escaped(tmp_path: Path) -> None:
    path = tmp_path / "tracker.toml"
    path.write_text('[[bills]]\nid = "x"\nname = "X"\nnumbers = ["hr1-119"]\n')
    config = load_config(path, env={})
    store = Store(config.database_url)
    with store.session() as session:
        ensure_watches(session, [("x", "bill", "X")])
    evil = "<script>alert('x')</script> Act"
    ingest(store, Item(key="bill:hr1-119", kind="bill", source_id="govinfo", watch_ids=["x"],
                       content=Bill(number="hr1-119", display="H.R. 1", congress=119, type="hr", title=evil,
                                    stage="introduced")),
           lambda old, new, key: [Change("bill.title", key, evil, dedupe_key(key, "t"))])
    site = write_site(store, config, tmp_path / "site")
    text = (site / "index.html").read_text()
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert html.parse(str(site / "index.html")).getroot().xpath("//script") == []


def test_a_failed_write_leaves_the_old_site_whole(crawled: tuple[Config, Store], tmp_path: Path) -> None:
    config, store = crawled
    site = write_site(store, config, tmp_path / "site")
    before = (site / "index.html").read_text()
    override = tmp_path / "override" / "digest"
    override.mkdir(parents=True)
    (override / "bill.html.j2").write_text('{% include "no_such_template.j2" %}')  # index renders, bills fail
    broken = config.model_copy(update={"digest": config.digest.model_copy(update={"templates": str(tmp_path / "override")})})
    with pytest.raises(Exception, match="no_such_template"):
        write_site(store, broken, site)
    assert (site / "index.html").read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".site")) == []


def test_templates_can_be_overridden(crawled: tuple[Config, Store], tmp_path: Path) -> None:
    config, store = crawled
    override = tmp_path / "brand" / "digest"
    override.mkdir(parents=True)
    (override / "base.html.j2").write_text(
        (Path(__file__).resolve().parent.parent / "templates" / "digest" / "base.html.j2").read_text()
        .replace("Campaign tracker", "Justice Coalition watch"))
    branded = config.model_copy(update={"digest": config.digest.model_copy(update={"templates": str(tmp_path / "brand")})})
    site = write_site(store, branded, tmp_path / "site")
    assert html.parse(str(site / "index.html")).getroot().findtext(".//h1") == "Justice Coalition watch"


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.browser
@pytest.mark.parametrize(("label", "width"), [("desktop", 1280), ("phone", 390)])
def test_page_renders_in_headless_chromium(crawled: tuple[Config, Store], tmp_path: Path, label: str, width: int) -> None:
    browser = _chromium()
    if browser is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("chromium is required under CI=true")
        pytest.skip("chromium not installed")
    config, store = crawled
    site = write_site(store, config, tmp_path / "site")
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / f"digest-{label}.png"
    shot.unlink(missing_ok=True)
    dom: Any = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'chromium'}", f"--window-size={width},2000", f"--screenshot={shot}",
         (site / "index.html").as_uri()], capture_output=True, timeout=90)
    assert shot.exists() and shot.stat().st_size > 10_000, dom.stderr[-500:]
    dumped = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'chromium2'}", f"--window-size={width},2000", "--dump-dom",
         (site / "index.html").as_uri()], capture_output=True, text=True, timeout=90)
    assert "Passed the Senate" in dumped.stdout and "Became law" in dumped.stdout


def test_upcoming_meeting_shows_local_time_items_and_how_to_take_part(tmp_path: Path, frozen_now: Any) -> None:
    path = tmp_path / "tracker.toml"
    path.write_text('[[meetings]]\nid = "nyc"\nname = "NYC Council"\ntimezone = "America/New_York"\n'
                    'ical = "https://example.org/c.ics"\nkeywords = ["police"]\n')
    config = load_config(path, env={})
    store = Store(config.database_url)
    with store.session() as session:
        ensure_watches(session, [("nyc", "meeting", "NYC Council")])
    meeting = Meeting(source="ical", source_ref="1", body="Committee on Public Safety", title="Oversight hearing",
                      start="2026-12-01T18:00:00+00:00", date="2026-12-01", timezone="America/New_York",
                      status="cancelled", status_text="Deferred", location="250 Broadway",
                      comment="Register to testify at council.nyc.gov/testify", agenda_url="https://example.org/agenda.pdf",
                      items=[{"title": "NYPD <b>budget</b>", "matter": "Int 0123-2026", "keywords": ["police"]},
                             {"title": "Parks", "matter": None, "keywords": []}])
    ingest(store, Item(key="meeting:ical:nyc:1", kind="meeting", source_id="ical:nyc", watch_ids=["nyc"],
                       content=meeting), lambda old, new, key: [])
    site = write_site(store, config, tmp_path / "site")
    card = html.parse(str(site / "index.html")).getroot().cssselect("article.card")[0]
    text = card.text_content()
    assert "Tue Dec 1, 2026, 1:00 PM EST" in text
    assert "Cancelled (Deferred)" in text and "250 Broadway" in text
    assert "Register to testify" in text
    assert [li.text_content() for li in card.cssselect("li")] == ["police NYPD <b>budget</b> (Int 0123-2026)"]
    page = html.parse(str(site / card.cssselect("h3 a")[0].get("href"))).getroot()
    assert "Register to testify" in page.text_content() and "Tue Dec 1, 2026, 1:00 PM EST" in page.text_content()
    calendar = Calendar.from_ical((site / "watches" / "nyc" / "meetings.ics").read_bytes())
    (event,) = calendar.walk("VEVENT")
    assert str(event["STATUS"]) == "CANCELLED"


def test_stale_data_banner(crawled: tuple[Config, Store], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config, store = crawled
    fresh = html.parse(str(write_site(store, config, tmp_path / "site") / "index.html")).getroot()
    assert not fresh.cssselect("p.banner")
    monkeypatch.setenv("TRACKER_NOW", "2099-01-01T00:00:00Z")  # long after the last successful crawl
    stale = html.parse(str(write_site(store, config, tmp_path / "site") / "index.html")).getroot()
    assert "Data may be out of date" in stale.cssselect("p.banner")[0].text_content()


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's digest: real recorded bills, NYC hearings and the congress-legislators data."""
    from tracker.demo import run_demo

    folder = tmp_path_factory.mktemp("demo")
    assert run_demo(folder, say=lambda _line: None, error=lambda _line: None) == 0
    return folder / "site"


@pytest.mark.browser
@pytest.mark.parametrize(("label", "width"), [("desktop", 1280), ("phone", 390)])
@pytest.mark.slow
def test_bill_and_meeting_pages_say_whom_to_contact_in_chromium(demo_site: Path, tmp_path: Path, label: str,
                                                                 width: int) -> None:
    browser = _chromium()
    if browser is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("chromium is required under CI=true")
        pytest.skip("chromium not installed")
    ARTIFACTS.mkdir(exist_ok=True)
    pages = {"bill": demo_site / "bills" / "s35-117.html",
             "meeting": next(p for p in (demo_site / "meetings").glob("*.html")
                             if "ShotSpotter" in p.read_text()),
             "statebill": demo_site / "statebills" / "ny-2021-2022-a99901.html"}
    for name, page in pages.items():
        shot = ARTIFACTS / f"digest-{name}-{label}.png"
        shot.unlink(missing_ok=True)
        flags = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 f"--window-size={width},2400"]
        subprocess.run([*flags, f"--user-data-dir={tmp_path / name}", f"--screenshot={shot}", page.as_uri()],
                       capture_output=True, timeout=90)
        assert shot.exists() and shot.stat().st_size > 10_000
        dom = subprocess.run([*flags, f"--user-data-dir={tmp_path / (name + '-dom')}", "--dump-dom", page.as_uri()],
                             capture_output=True, text=True, timeout=90).stdout
        root = html.fromstring(dom)
        if name == "bill":
            contacts = [li.text_content() for li in root.cssselect("ul.contacts li")]
            assert any(line.startswith("Sponsor: Sen. Chris Van Hollen (D-MD): 202-224-4654") for line in contacts)
            seats = root.cssselect("table.seats tbody tr")
            assert len(seats) > 500  # every seat of Congress, findable by state without any script
            assert any("Ayanna Pressley" in row.text_content() and "202-225-5111" in row.text_content()
                       for row in seats)
            assert root.cssselect("script") == []
        elif name == "statebill":  # passed the Assembly, now in the Senate's Codes Committee
            assert root.findtext(".//h1") == "New York A 99901 (2021-2022)"
            steps = [(li.text_content(), li.get("class")) for li in root.cssselect("ol.tracker li")]
            assert steps == [("Introduced", "done"), ("Committee", "done"), ("Assembly", "done"), ("Senate", "todo"),
                             ("Governor", "todo"), ("Law", "todo")]
            contacts = [li.text_content() for li in root.cssselect("ul.contacts li")]
            assert contacts[0] == "In committee now: the Senate Codes Committee; its chair:"
            assert contacts[1].strip() == "Chair Jamaal T. Bailey (no phone known)"  # "committee chair" in the file
            assert any(line.startswith("Sponsor: Jeffrey Dinowitz (Democratic, Assembly District 81): 518-455-5965")
                       for line in contacts)
            assert root.cssselect("script") == []
        else:
            title = root.findtext(".//h1")
            assert title == "Committee on Public Safety"  # the body once, never "X: X"
            assert "Add to calendar" in root.text_content()
            assert "How to take part" not in root.text_content()  # its note is about a joint hearing
            assert "Note: Jointly with the Committee" in root.text_content()
            members = [li.text_content() for li in root.cssselect("ul.contacts li")]
            assert members[0] == "Chair: Marcus Ortega, d07@council.nyc.example, 212-555-0107"
            assert not [m for m in members if "Dana Whitfield" in m]  # a former chair is never named
            assert "agenda.item_added" not in root.text_content() and "on the agenda" in root.text_content()
