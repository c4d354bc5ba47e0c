"""What the eighteenth held-out check found wrong (tests/data/local/corpus/SOURCES.md), as an
organizer meets it: a CivicPlus calendar feed crawled through the real engine from a loopback server,
its changes read with `tracker status --json`. The values each recording holds are in
tests/data/local/corpus/expected.toml (the table test)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from listings import listing_read
from recorded import local
from statusjson import changes_json

from tracker.config import load_config
from tracker.crawl import run_crawls
from tracker.demo.replay import ReplayServer
from tracker.meetings.agendas import parse_feed
from tracker.meetings.normalize import time_for_day
from tracker.store import Store

LAKE_WALES = local("corpus/feed/lakewales_calendar_rss.xml")
AUBURNDALE = local("corpus/ical/auburndale_events.ics")


def edited(feed: bytes) -> bytes:
    """The feed after the city moved its iNaturalist class an hour later (DERIVED from the real
    feed): the event's times, its description's and its pubDate changed, and with them its guid's
    last part, the edit's time in .NET ticks, as CivicPlus writes it."""
    item = re.search(rb"<item>(?:(?!</item>).)*EID=11729(?:(?!</item>).)*</item>", feed, re.S)
    assert item is not None
    new = (item.group(0).replace(b"05:00 PM - 06:00 PM", b"06:00 PM - 07:00 PM")
           .replace(b"Sat, 14 Mar 2026 09:49:41 -0500", b"Mon, 20 Apr 2026 10:00:00 -0500")
           .replace(b"EID=11729/639090785810000000", b"EID=11729/639122328000000000"))
    assert new.count(b"06:00 PM - 07:00 PM") == 2 and b"639122328000000000" in new
    return feed.replace(item.group(0), new)


def test_an_edited_calendar_event_is_the_same_meeting_moved(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """FAILED before: the meeting was keyed by the item's guid, which ends with when the event was
    last edited, so the city's edit of its time made a new meeting ("scheduled") and left the old
    one standing at the old time, never "moved". Now the event is its address without that stamp:
    one meeting, moved from 5 to 6 PM (its own time fields', not the 5:30 its title says)."""
    monkeypatch.setenv("TRACKER_NOW", "2026-04-18T15:00:00Z")
    path = tmp_path / "tracker.toml"
    path.write_text(f'[crawl]\ndelay_seconds = 0\n[[meetings]]\nid = "lakewales"\nname = "Lake Wales"\n'
                    f'timezone = "America/New_York"\nfeed = "{replay.url}/RSSFeed.aspx"\n')
    config = load_config(path, env={})
    store = Store(config.database_url)
    replay.add("/RSSFeed.aspx", LAKE_WALES, content_type="application/rss+xml")
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    assert changes_json(store) == []  # the first reading is a baseline
    replay.add("/RSSFeed.aspx", edited(LAKE_WALES), content_type="application/rss+xml")
    monkeypatch.setenv("TRACKER_NOW", "2026-04-20T15:30:00Z")
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    told = [(change["kind"], change["summary"]) for change in changes_json(store)]
    assert [kind for kind, _ in told] == ["meeting.rescheduled"], told
    assert "5:00 PM" in told[0][1] and "6:00 PM" in told[0][1], told


def test_a_revised_agenda_in_an_agenda_center_feed_is_the_same_meeting() -> None:
    """FAILED before: Lake Wales' Agenda Center RSS gives each agenda the guid
    ".../AgendaCenter/PreviousVersions/1693/639120423760000000", its last edit in .NET ticks, so a
    revised agenda (DERIVED: the same item edited an hour later) was a new meeting and the first
    one left standing. Every item is now the same meeting before and after its edit."""
    feed = local("corpus/feed/lakewales_agendacenter_rss.xml")
    assert feed.count(b"/639120423760000000</guid>") == 1
    revised = feed.replace(b"/639120423760000000</guid>", b"/639120459760000000</guid>")

    def refs(data: bytes) -> list[str]:
        return [mt.source_ref for mt in listing_read(parse_feed, data, url="https://www.lakewalesfl.gov/RSSFeed.aspx"
                                                     "?ModID=65&CID=All-0", timezone="America/New_York").meetings]

    assert refs(revised) == refs(feed)
    assert "https://www.lakewalesfl.gov/AgendaCenter/PreviousVersions/1693" in refs(feed)


def test_an_events_calendar_meeting_moved_an_hour_is_the_same_meeting_moved(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """FAILED before: The Events Calendar (WordPress) writes a UID of the event's post, start and
    end ("10814-1776711600-1776718800@auburndalefl.com"), so Auburndale moving its commission
    meeting from 7 to 6 PM (DERIVED: its DTSTART, DTEND and UID as the plugin writes them then) made
    a new meeting, "scheduled", the old one left at 7 PM. Now the meeting is its post: one
    `meeting.rescheduled`."""
    monkeypatch.setenv("TRACKER_NOW", "2026-04-18T15:00:00Z")
    path = tmp_path / "tracker.toml"
    path.write_text(f'[crawl]\ndelay_seconds = 0\n[[meetings]]\nid = "auburndale"\nname = "Auburndale"\n'
                    f'timezone = "America/New_York"\nical = "{replay.url}/events/ical"\n')
    config = load_config(path, env={})
    store = Store(config.database_url)
    replay.add("/events/ical", AUBURNDALE, content_type="text/calendar")
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    moved = (AUBURNDALE.replace(b"DTSTART;TZID=America/New_York:20260420T190000",
                                b"DTSTART;TZID=America/New_York:20260420T180000")
             .replace(b"DTEND;TZID=America/New_York:20260420T210000", b"DTEND;TZID=America/New_York:20260420T200000")
             .replace(b"UID:10814-1776711600-1776718800@", b"UID:10814-1776708000-1776715200@"))
    assert moved.count(b"1776708000") == 1 and moved.count(b"T180000") == 1
    replay.add("/events/ical", moved, content_type="text/calendar")
    monkeypatch.setenv("TRACKER_NOW", "2026-04-19T15:00:00Z")
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    told = [(change["kind"], change["summary"]) for change in changes_json(store)]
    assert [kind for kind, _ in told] == ["meeting.rescheduled"], told
    assert "7:00 PM" in told[0][1] and "6:00 PM" in told[0][1], told


def test_a_time_before_an_aside_naming_another_day_is_the_meeting_s() -> None:
    """FAILED before: Grand Rapids Public Schools' "Board Meeting @ 5:30 p.m. (Reconvening of
    Recessed Meeting - September 8, 2025)" of September 15 read as time TBD: a name naming another
    day gave only a time written after the meeting's own date, which it never writes. An aside in
    brackets naming only other days is left out; one naming this day too is read."""
    day = date(2025, 9, 15)
    name = "Board Meeting @ 5:30 p.m. (Reconvening of Recessed Meeting - September 8, 2025) @ Ottawa Hills High School"
    assert time_for_day(day, name) is not None and time_for_day(day, name).isoformat() == "17:30:00"
    moved = "Board Meeting (moved from September 8, 2025 to September 15, 2025 at 6 p.m.)"
    assert str(time_for_day(day, moved)) == "18:00:00"
    assert time_for_day(day, "Board Meeting (recessed from September 8, 2025 at 6 p.m.)") is None
