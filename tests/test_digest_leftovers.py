"""What organizers open (the digest, its calendars and feeds), checked where earlier reviews left
questions: each test here failed before its fix (found by a review)."""

from __future__ import annotations

import json
import mimetypes
import re
from pathlib import Path
from typing import Any

import pytest
import requests
from icalendar import Calendar
from lxml import etree, html
from servers import Mailbox
from test_legistar import shifted_ics

from tracker.config import Config, load_config
from tracker.crawl import run_crawls
from tracker.demo.replay import ReplayServer
from tracker.digest import write_site
from tracker.store import Store
from tracker.words import meeting_page


def detroit(tmp_path: Path, replay: ReplayServer, db_url: str) -> Config:
    """The Detroit board's real feed on loopback (tests/test_legistar.py `shifted_ics`)."""
    path = tmp_path / "tracker.toml"
    path.write_text(f'[storage]\nurl = "{db_url}"\n[crawl]\ndelay_seconds = 0\n[[meetings]]\nid = "dpscd"\nname = "Detroit Board of Education"\n'
                    f'timezone = "America/Detroit"\nical = "{replay.url}/detroit.ics"\n'
                    f"keywords = {json.dumps(['budget'])}\n")
    return load_config(path, env={})


def tentative_ics(ref: str) -> bytes:
    """derived: the feed with one event marked STATUS:TENTATIVE (RFC 5545: not yet confirmed)."""
    def mark(block: re.Match[bytes]) -> bytes:
        event = block.group(0)
        return event.replace(b"STATUS:CONFIRMED", b"STATUS:TENTATIVE") if f"UID:{ref}\r\n".encode() in event else event

    return re.sub(rb"BEGIN:VEVENT\r\n.*?END:VEVENT\r\n", mark, shifted_ics(), flags=re.S)


def test_a_meeting_not_known_to_be_on_is_tentative_in_calendars(
        tmp_path: Path, replay: ReplayServer, db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The board's feed drops its June 18 meeting, lists it again, marks it tentative, then calls
    it off. Dropped or tentative, the event said STATUS:CONFIRMED in meetings.ics and in its own
    "add to calendar" file, so a calendar app showed it as certain; and going missing and coming
    back did not raise SEQUENCE, so a calendar app would ignore the change of status."""
    assert b"STATUS:CONFIRMED" in shifted_ics() and tentative_ics("7858") != shifted_ics()
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T12:00:00Z")
    replay.add("/detroit.ics", shifted_ics())
    config = detroit(tmp_path, replay, db_url)
    store = Store(config.database_url)
    seen: list[tuple[int, str]] = []
    feeds = [shifted_ics(), shifted_ics(without="7858"), shifted_ics(), tentative_ics("7858"),
             shifted_ics(cancel="7858")]
    for hour, feed in enumerate(feeds, start=12):
        replay.replace("/detroit.ics", feed)
        monkeypatch.setenv("TRACKER_NOW", f"2023-06-01T{hour}:00:00Z")
        (report,) = run_crawls(config, store)
        assert report.ok, report.errors
        site = write_site(store, config, tmp_path / "site")
        events = []
        for path in (f"{meeting_page('meeting:ical:dpscd:7858')}.ics", "meetings.ics", "watches/dpscd/meetings.ics"):
            events += [event for event in Calendar.from_ical((site / path).read_bytes()).walk("VEVENT")
                       if str(event["UID"]) == "meeting:ical:dpscd:7858@tracker"]
        assert len(events) == 3 and len({(int(e["SEQUENCE"]), str(e["STATUS"])) for e in events}) == 1, events
        seen.append((int(events[0]["SEQUENCE"]), str(events[0]["STATUS"])))
    assert [status for _, status in seen] == ["CONFIRMED", "TENTATIVE", "CONFIRMED", "TENTATIVE", "CANCELLED"], seen
    sequences = [sequence for sequence, _ in seen]
    assert sequences == sorted(set(sequences)), seen  # each state a higher SEQUENCE than the one before


ATOM = "{http://www.w3.org/2005/Atom}"


def atom_problems(feed: bytes, url: str) -> list[str]:
    """What RFC 4287 (section 4.1) requires of a feed and its entries and this one lacks: a strict
    reader refuses such a feed. `url` is where the feed is read from, which its self link names."""
    root = etree.fromstring(feed)
    problems = [f"feed lacks atom:{name}" for name in ("id", "title", "updated") if root.find(ATOM + name) is None]
    links = {link.get("rel", "alternate"): link.get("href") for link in root.findall(ATOM + "link")}
    if links.get("self") != url:
        problems.append(f"feed's self link is {links.get('self')!r}, not {url!r}")
    if "alternate" not in links:
        problems.append("feed lacks a link to the digest it is the feed of")
    entries = root.findall(ATOM + "entry")
    if root.find(f"{ATOM}author/{ATOM}name") is None and not all(
            entry.find(f"{ATOM}author/{ATOM}name") is not None for entry in entries):
        problems.append("neither the feed nor every entry has an atom:author with its name")
    for entry in entries:
        problems += [f"entry lacks atom:{name}" for name in ("id", "title", "updated") if entry.find(ATOM + name) is None]
        if entry.find(ATOM + "content") is None and not any(
                link.get("rel", "alternate") == "alternate" for link in entry.findall(ATOM + "link")):
            problems.append(f"entry {entry.findtext(ATOM + 'id')} has neither atom:content nor an alternate link")
    return problems


@pytest.mark.parametrize("published", [None, "https://tracker.example.org/"])
def test_the_feeds_have_what_atom_requires(tmp_path: Path, frozen_now: Any, published: str | None) -> None:
    """changes.atom and each watch's had no atom:author (required on the feed or on every entry),
    no self link, no link to the digest, and a change without a link of its own was an entry with
    neither content nor an alternate link: strict feed readers refuse such a feed."""
    from test_digest_this_week import bill_change, one_bill_store

    config, store = one_bill_store(tmp_path)
    if published:  # the site's public address: `[digest] url`
        path = tmp_path / "tracker.toml"
        path.write_text(path.read_text().replace('out = "site"\n', f'out = "site"\nurl = "{published}"\n'))
        config = load_config(path, env={})
    bill_change(store, "Baseline title", 0)
    bill_change(store, "Police Act", 1)  # a change with no link of its own
    site = write_site(store, config, tmp_path / "site")
    base = (published or "").rstrip("/")
    for path in ("changes.atom", "watches/x/changes.atom"):
        feed = (site / path).read_bytes()
        assert b"H.R. 1 is now titled Police Act" in feed
        assert atom_problems(feed, f"{base}/{path}" if published else path.rsplit("/", 1)[-1]) == [], path
        root = etree.fromstring(feed)
        home = next(link.get("href") for link in root.findall(ATOM + "link") if link.get("rel") == "alternate")
        home = home.split("#")[0]  # a watch's feed: its campaign's section of the front page
        if published:
            assert home == f"{base}/"
        else:  # relative to the feed: the site's front page
            assert (site / path).parent.joinpath(home).resolve() == (site / "index.html").resolve()


def test_a_quiet_meetings_page_keeps_its_changes_when_the_site_is_busy(tmp_path: Path, frozen_now: Any) -> None:
    """A meeting's page ("Changes") and a bill's ("Recent changes") were cut from the site's newest
    200 changes of all: a week of cosponsors on another campaign's bill emptied them, the meeting's
    agenda posted and its bill's new title gone from their pages."""
    from test_digest_this_week import MEETINGS, bill_change, one_bill_store

    from tracker.changes import Change, dedupe_key
    from tracker.records import Bill, Item, Meeting
    from tracker.store import ensure_watches, ingest

    config, store = one_bill_store(tmp_path, MEETINGS + '[[bills]]\nid = "busy"\nname = "Busy"\nnumbers = ["hr2-119"]\n')
    with store.session() as session:
        ensure_watches(session, [("busy", "bill", "Busy")])
    bill_change(store, "Baseline title", 0)
    bill_change(store, "Police Act", 1)
    key = "meeting:ical:nyc:1"
    for agenda in (None, "https://council.example/agenda.pdf"):
        meeting = Meeting(source="ical", source_ref="1", body="Committee on Public Safety", title="Oversight hearing",
                          start="2026-12-10T15:00:00+00:00", date="2026-12-10", timezone="America/New_York",
                          agenda_url=agenda)
        ingest(store, Item(key=key, kind="meeting", source_id="ical:nyc", watch_ids=["nyc"], content=meeting),
               lambda old, new, key: [Change("meeting.agenda_posted", key, "Agenda posted: Oversight hearing",
                                             dedupe_key(key, "agenda"))])
    for n in range(2):  # a baseline, then 250 cosponsors at once
        busy = Bill(number="hr2-119", display="H.R. 2", congress=119, type="hr", title=f"Busy Act {n}",
                    stage="introduced")
        ingest(store, Item(key="bill:hr2-119", kind="bill", source_id="govinfo", watch_ids=["busy"], content=busy),
               lambda old, new, key: [Change("bill.cosponsor_added", key, f"H.R. 2: cosponsor {i} joined",
                                             dedupe_key(key, str(i))) for i in range(250)])
    site = write_site(store, config, tmp_path / "site")
    page = html.parse(str(site / f"{meeting_page(key)}.html")).getroot()
    assert [li.text_content() for li in page.cssselect("ul.changes li") if "Agenda posted" in li.text_content()]
    bill = html.parse(str(site / "bills" / "hr1-119.html")).getroot()
    assert [li.text_content() for li in bill.cssselect("ul.changes li") if "Police Act" in li.text_content()]
    busy = html.parse(str(site / "bills" / "hr2-119.html")).getroot()
    assert len(busy.cssselect("ul.changes li")) == 200  # a busy bill's page keeps its newest 200


# (tracker's zone, the body's, now, {date-only meeting's day: the section it belongs in})
WEEKS = {
    # 9:30 PM Monday in Los Angeles is 12:30 AM Tuesday in New York: for the council, next Monday
    # is the seventh day from today and December 23 the thirtieth.
    "west-coast tracker, New York body": ("America/Los_Angeles", "America/New_York", "2026-11-24T05:30:00Z",
                                          {"2026-11-24": "this-week", "2026-11-30": "this-week",
                                           "2026-12-01": "coming-up", "2026-12-23": "coming-up"}),
    # 12:30 AM Monday October 26, the week clocks fall back: 7 x 24 hours on is 11:30 PM Sunday.
    "the week clocks fall back": ("America/New_York", "America/New_York", "2026-10-26T04:30:00Z",
                                  {"2026-10-26": "this-week", "2026-11-01": "this-week", "2026-11-02": "coming-up",
                                   "2026-11-24": "coming-up"}),
}


@pytest.mark.parametrize("case", sorted(WEEKS))
def test_a_meeting_with_no_time_yet_is_in_the_week_of_its_body(case: str, tmp_path: Path, frozen_now: Any) -> None:
    """A meeting whose time is not announced is "This week" from today to six days on, "Coming up"
    to the thirtieth day, where its body meets. Those days were counted in the tracker's zone and
    as 7 x 24 hours: a New York council's Monday meeting, seen by a tracker set to Los Angeles late
    on a Monday, was put under "Coming up", and its December 23 meeting, in the next 30 days,
    under "Later" with those past them; so was next Sunday's in the week clocks fall back."""
    from test_digest_this_week import one_bill_store

    tracker_zone, body_zone, now, expected = WEEKS[case]
    frozen_now(now)
    watch = (f'[[meetings]]\nid = "body"\nname = "The body"\ntimezone = "{body_zone}"\n'
             'ical = "https://example.org/c.ics"\n')
    config, store = one_bill_store(tmp_path, watch + f'[tracker]\ntimezone = "{tracker_zone}"\n')
    from tracker.records import Item, Meeting
    from tracker.store import ingest

    for day in expected:
        meeting = Meeting(source="ical", source_ref=day, body="Board", title=f"Meeting of {day}", date=day,
                          time_tbd=True, timezone=body_zone)
        ingest(store, Item(key=f"meeting:ical:body:{day}", kind="meeting", source_id="ical:body",
                           watch_ids=["body"], content=meeting), lambda old, new, key: [])
    site = write_site(store, config, tmp_path / "site")
    page = html.parse(str(site / "index.html")).getroot()
    found = {}
    for section in ("this-week", "coming-up"):
        for card in page.cssselect(f"section[aria-labelledby='{section}'] article h3 a"):
            found[card.text_content().rsplit(" ", 1)[-1]] = section
    assert found == expected


def test_a_meeting_with_a_time_and_one_without_on_the_same_day_are_in_the_same_section(
        tmp_path: Path, frozen_now: Any) -> None:
    """Timed meetings were "This week" within 7 x 24 hours, those without a time by calendar days:
    seen at 2 PM on a Tuesday, next Tuesday's 9 AM meeting was under "This week" and the same
    day's meeting with no time yet under "Coming up" (found by a review). Both are its day where
    the body meets: the seventh day from today is "Coming up"; the sixth, late at night, this week."""
    from test_digest_this_week import one_bill_store

    from tracker.records import Item, Meeting
    from tracker.store import ingest

    frozen_now("2026-11-24T19:00:00Z")  # Tuesday, 2 PM in New York
    watch = ('[[meetings]]\nid = "body"\nname = "The body"\ntimezone = "America/New_York"\n'
             'ical = "https://example.org/c.ics"\n')
    config, store = one_bill_store(tmp_path, watch + '[tracker]\ntimezone = "America/New_York"\n')
    meetings = {"timed-9am-day7": ("2026-12-01", "2026-12-01T09:00:00-05:00"),
                "untimed-day7": ("2026-12-01", None),
                "timed-11pm-day6": ("2026-11-30", "2026-11-30T23:00:00-05:00"),
                "timed-later-today": ("2026-11-24", "2026-11-24T18:00:00-05:00")}
    for ref, (day, start) in meetings.items():
        meeting = Meeting(source="ical", source_ref=ref, body="Board", title=f"Meeting {ref}", date=day, start=start,
                          time_tbd=start is None, timezone="America/New_York")
        ingest(store, Item(key=f"meeting:ical:body:{ref}", kind="meeting", source_id="ical:body",
                           watch_ids=["body"], content=meeting), lambda old, new, key: [])
    page = html.parse(str(write_site(store, config, tmp_path / "site") / "index.html")).getroot()
    found = {}
    for section in ("this-week", "coming-up"):
        for card in page.cssselect(f"section[aria-labelledby='{section}'] article h3 a"):
            found[card.text_content().rsplit(" ", 1)[-1]] = section
    assert found == {"timed-9am-day7": "coming-up", "untimed-day7": "coming-up", "timed-11pm-day6": "this-week",
                     "timed-later-today": "this-week"}, found


def test_tracker_serve_says_a_calendar_is_a_calendar_on_any_host(tmp_path: Path, sqlite_url: str, mailbox: Mailbox,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """`tracker serve` named the digest's files' types from the host's /etc/mime.types. A host
    without it (a slim container image) served meetings.ics and changes.atom as text/plain, with
    nosniff: a phone showed "add to calendar" as a page of text instead of offering to add it."""
    from serving import free_port, running, serve_config

    from tracker.store import Store

    config = serve_config(tmp_path, sqlite_url, mailbox.port, free_port())
    store = Store(config.database_url)
    write_site(store, config, config.digest_dir)
    store.dispose()
    monkeypatch.setattr(mimetypes, "knownfiles", [])  # Python's own table only, as on such a host
    mimetypes.init()
    try:
        with running(config):
            base = f"http://127.0.0.1:{config.serve.port}"
            types = {path: requests.get(f"{base}/{path}", timeout=10).headers["Content-Type"]
                     for path in ("meetings.ics", "changes.atom", "digest.txt")}
    finally:
        monkeypatch.undo()
        mimetypes.init()  # the host's table again
    assert types == {"meetings.ics": "text/calendar; charset=utf-8", "changes.atom": "application/atom+xml",
                     "digest.txt": "text/plain; charset=utf-8"}


def test_a_meetings_page_says_when_as_its_card_does(tmp_path: Path, frozen_now: Any) -> None:
    """A meeting's own page gave a meeting whose time is not announced as "2026-11-26" (its card:
    "Thu Nov 26, 2026, time to be announced"), and one called off with the source's "Cancelled"
    as "Cancelled (Cancelled)"."""
    from test_digest_this_week import MEETINGS, meeting_of, one_bill_store

    config, store = one_bill_store(tmp_path, MEETINGS)
    meeting_of(store, "thursday", "Budget hearing", date="2026-11-26", time_tbd=True)
    meeting_of(store, "friday", "Oversight hearing", date="2026-11-27", start="2026-11-27T15:00:00+00:00",
               status="cancelled", status_text="Cancelled")
    site = write_site(store, config, tmp_path / "site")
    index = html.parse(str(site / "index.html")).getroot()
    for card in index.cssselect("section[aria-labelledby='this-week'] article"):
        when = card.cssselect("p.when")[0].text_content()
        page = html.parse(str(site / card.cssselect("h3 a")[0].get("href"))).getroot()
        assert page.xpath("//main/p[not(@class)]")[0].text_content() == when
    assert len(index.cssselect("section[aria-labelledby='this-week'] article")) == 2


def test_an_alerts_links_to_a_meeting_still_open_once_it_has_begun(tmp_path: Path, frozen_now: Any) -> None:
    """An alert about a meeting with no page of its own links to its page in the digest and to its
    calendar entry there. Both were written only while the meeting was ahead: an organizer opening
    the alert as the hearing began (to find the stream, the agenda) got "not found", and so did the
    alert of its minutes posted the week after. They stay while `status` lists it (30 days)."""
    from test_digest_this_week import MEETINGS, meeting_of, one_bill_store

    from tracker.alerts.render import meeting_facts
    from tracker.queries import watch_entities

    config, store = one_bill_store(tmp_path, MEETINGS)
    path = tmp_path / "tracker.toml"
    path.write_text(path.read_text().replace('out = "site"\n', 'out = "site"\nurl = "https://tracker.example.org"\n'))
    config = load_config(path, env={})
    meeting_of(store, "today", "Oversight hearing", date="2026-11-24", start="2026-11-24T13:00:00+00:00",
               livestream_url="https://council.example/live")
    frozen_now("2026-11-24T13:20:00Z")  # twenty minutes in
    site = write_site(store, config, tmp_path / "site")
    with store.session() as session:
        (watched,) = watch_entities(session, "nyc", "meeting")
    facts = meeting_facts(watched.record, watched.key, "nyc", config)
    assert facts is not None and facts.link_label == "Meeting page"
    for link in (facts.link, facts.calendar):
        assert link and link.startswith("https://tracker.example.org/")
        assert (site / link.removeprefix("https://tracker.example.org/")).is_file(), link
    page = html.parse(str(site / facts.link.removeprefix("https://tracker.example.org/"))).getroot()
    assert "Tue Nov 24, 2026, 8:00 AM EST" in page.text_content()
    assert "Oversight hearing" not in html.parse(str(site / "index.html")).getroot().cssselect(
        "section[aria-labelledby='this-week']")[0].text_content()  # no longer ahead: not on the front page


def test_an_evening_meeting_comes_before_the_next_days(tmp_path: Path, frozen_now: Any) -> None:
    """Wednesday's 7:30 PM hearing in New York is 00:30 Thursday in UTC: it was listed after
    Thursday's meeting whose time is not announced, under "This week", in digest.txt and in
    `status`, its "Wed" after a "Thu"."""
    from test_digest_this_week import MEETINGS, meeting_of, one_bill_store

    from tracker.views import collect_status

    config, store = one_bill_store(tmp_path, MEETINGS)
    meeting_of(store, "thursday", "Budget hearing", date="2026-11-26", time_tbd=True)
    meeting_of(store, "wednesday", "Evening hearing", date="2026-11-25", start="2026-11-26T00:30:00+00:00")
    meeting_of(store, "friday", "Oversight hearing", date="2026-11-27", start="2026-11-27T15:00:00+00:00")
    site = write_site(store, config, tmp_path / "site")
    page = html.parse(str(site / "index.html")).getroot()
    week = [card.cssselect("p.when")[0].text_content() for card in
            page.cssselect("section[aria-labelledby='this-week'] article")]
    assert week == ["Wed Nov 25, 2026, 7:30 PM EST", "Thu Nov 26, 2026, time to be announced",
                    "Fri Nov 27, 2026, 10:00 AM EST"]
    text = (site / "digest.txt").read_text().split("== This week ==")[1]
    assert text.index("Evening hearing") < text.index("Budget hearing") < text.index("Oversight hearing")
    assert [mt.title for mt in collect_status(store, config).meetings] == [
        "Evening hearing", "Budget hearing", "Oversight hearing"]
