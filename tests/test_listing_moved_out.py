"""A meeting a listing source moves out of the watch window (a council meeting put off by months,
or moved back into the past) is told as moved when it moves, not months later when its new day
enters the window: the listing's answer is read again over a wider span only when a meeting held in
the window is missing from it, the move is one `meeting.rescheduled`, and the meeting is not looked
for again. Real crawls through the Scrapy engine against the loopback replay server, from real
recordings (the Detroit board's feed, Tulsa's Granicus page) with the moved row's day rewritten in
a copy served in its place."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from recorded import local
from statusjson import changes_json
from test_legistar import shifted_ics
from test_listing_cursor_faults import refuse_snapshots

from tracker import models as m
from tracker.config import Config, load_config
from tracker.crawl import run_crawls
from tracker.demo.replay import ReplayServer
from tracker.records import Listing, ListingContext
from tracker.sources import SOURCES
from tracker.store import Store

FEED = "/detroit.ics"
PAGE = "/ViewPublisher.php"
TULSA = local("corpus/granicus/tulsa_council_viewpublisher.html")


def moved_ics(uid: str, day: str) -> bytes:
    """derived: the shifted Detroit feed with event `uid` set on `day` (YYYYMMDD), same hours."""
    data = shifted_ics()
    begin = data.index(f"UID:{uid}\r\n".encode())
    end = data.index(b"END:VEVENT", begin)
    block = re.sub(rb"((?:DTSTART|DTEND)[^:\r\n]*:)\d{8}", rb"\g<1>" + day.encode(), data[begin:end])
    return data[:begin] + block + data[end:]


def detroit(tmp_path: Path, replay: ReplayServer) -> Config:
    path = tmp_path / "tracker.toml"
    path.write_text('[crawl]\ndelay_seconds = 0\n[[meetings]]\nid = "dpscd"\nname = "Detroit Board of Education"\n'
                    f'timezone = "America/Detroit"\nical = "{replay.url}{FEED}"\n')
    return load_config(path, env={})


def tulsa(tmp_path: Path, replay: ReplayServer) -> Config:
    path = tmp_path / "tracker.toml"
    path.write_text('[crawl]\ndelay_seconds = 0\n[[meetings]]\nid = "council"\nname = "Tulsa City Council"\n'
                    f'timezone = "America/Chicago"\ngranicus = "{replay.url}{PAGE}"\n')
    return load_config(path, env={})


def counted_parses(monkeypatch: pytest.MonkeyPatch, kind: str) -> list[ListingContext]:
    """The contexts the source kind's real parser is called with, one per reading of an answer."""
    calls: list[ListingContext] = []
    current = SOURCES[kind]
    parse: Callable[[bytes, ListingContext], Listing] | None = current.listing
    assert parse is not None

    def counting(data: bytes, ctx: ListingContext) -> Listing:
        calls.append(ctx)
        return parse(data, ctx)

    from dataclasses import replace
    monkeypatch.setitem(SOURCES, kind, replace(current, listing=counting))
    return calls


def held(store: Store, source_id: str) -> dict[str, str]:
    with store.session() as session:
        state = session.get(m.SourceState, source_id)
        assert state is not None
        return dict(state.cursor.get("held") or {})


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


def meeting(store: Store, config: Config, entity: str) -> dict[str, Any]:
    """The meeting as stored, with `missing` (noted missing or not): status shows only some days."""
    with store.session() as session:
        row = session.get(m.Entity, entity)
        assert row is not None
        snapshot = session.get(m.Snapshot, row.current_snapshot_id)
        assert snapshot is not None
        return {**json.loads(snapshot.content), "missing": row.missing_since is not None}


@pytest.mark.parametrize(("uid", "was", "day", "moved_to"), [
    ("7858", "2023-06-18T17:30:00-04:00", "20231119", "2023-11-19T16:30:00-05:00"),  # put off by five months
    ("8975", "2023-07-16T17:30:00-04:00", "20230416", "2023-04-16T17:30:00-04:00"),  # back before the window
])
def test_a_feed_meeting_moved_out_of_the_window_is_told_at_once_and_once(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch,
        uid: str, was: str, day: str, moved_to: str) -> None:
    """The district moves one board meeting of the window to a day outside it. The next crawl
    tells the move (from its old day to its new one), nothing else; the meeting is not noted
    missing, and the feed's later whole reads do not look for it again (one parse each)."""
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T12:00:00Z")
    replay.add(FEED, shifted_ics())
    config = detroit(tmp_path, replay)
    store = Store(config.database_url)
    (report,) = run_crawls(config, store)
    assert report.ok and changes_json(store) == [], report.errors
    entity = f"meeting:ical:dpscd:{uid}"
    assert instant(meeting(store, config, entity)["start"]) == instant(was)

    replay.add(FEED, moved_ics(uid, day))
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T13:00:00Z")
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    (change,) = changes_json(store)
    assert (change["kind"], change["entity"]) == ("meeting.rescheduled", entity)
    assert (change["data"]["from"], change["data"]["to"]) == (was, moved_to)
    moved = meeting(store, config, entity)
    assert instant(moved["start"]) == instant(moved_to) and not moved["missing"]
    assert held(store, "ical:dpscd")[uid] == f"{day[:4]}-{day[4:6]}-{day[6:]}"

    parses = counted_parses(monkeypatch, "ical")
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T14:00:00Z")
    (report,) = run_crawls(config, store)  # the feed unchanged: 304
    assert report.ok and report.not_modified == 1 and parses == [], report.errors
    replay.add(FEED, moved_ics(uid, day).replace(b"DTSTAMP:20190430T152859Z", b"DTSTAMP:20190501T152859Z"))
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T15:00:00Z")
    (report,) = run_crawls(config, store)  # another edit: read whole, the moved meeting not looked for
    assert report.ok and report.not_modified == 0, report.errors
    assert len(parses) == 1
    assert changes_json(store) == [change]
    assert not meeting(store, config, entity)["missing"]


def test_a_feed_meeting_gone_from_the_feed_stays_noted_missing(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """A meeting the feed no longer holds on any day is looked for once and not found: noted
    missing as before, no alert, and not looked for again."""
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T12:00:00Z")
    replay.add(FEED, shifted_ics())
    config = detroit(tmp_path, replay)
    store = Store(config.database_url)
    run_crawls(config, store)
    parses = counted_parses(monkeypatch, "ical")
    replay.add(FEED, shifted_ics(without="7858"))
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T13:00:00Z")
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    assert changes_json(store) == []
    assert meeting(store, config, "meeting:ical:dpscd:7858")["missing"]
    assert len(parses) == 2  # the window's reading, and one wider since a held meeting was missing
    assert "7858" not in held(store, "ical:dpscd")

    replay.add(FEED, shifted_ics(without="7858").replace(b"DTSTAMP:20190430T152859Z", b"DTSTAMP:20190501T152859Z"))
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T14:00:00Z")
    (report,) = run_crawls(config, store)  # another edit: read whole, the window's reading only
    assert report.ok and report.not_modified == 0, report.errors
    assert len(parses) == 3 and changes_json(store) == []
    assert meeting(store, config, "meeting:ical:dpscd:7858")["missing"]


def test_a_granicus_meeting_put_off_past_the_window_is_told_at_once_and_once(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tulsa's council puts its 19 November meeting off to 15 April, past the window's end (18
    March): the next crawl tells the move, nothing else; a later whole read of the page is quiet."""
    monkeypatch.setenv("TRACKER_NOW", "2025-11-18T18:00:00Z")
    replay.add(PAGE, TULSA, content_type="text/html")
    config = tulsa(tmp_path, replay)
    store = Store(config.database_url)
    (report,) = run_crawls(config, store)
    assert report.ok and changes_json(store) == [], report.errors
    entity = "meeting:granicus:council:clip-7169"
    assert instant(meeting(store, config, entity)["start"]) == instant("2025-11-19T17:00:00-06:00")

    row = b"November&nbsp;19,&nbsp;2025 - 5:00&nbsp;PM"
    assert TULSA.count(row) == 1
    moved_page = TULSA.replace(row, b"April&nbsp;15,&nbsp;2026 - 5:00&nbsp;PM")  # derived: the row's day rewritten
    replay.add(PAGE, moved_page, content_type="text/html")
    monkeypatch.setenv("TRACKER_NOW", "2025-11-18T19:00:00Z")
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    (change,) = changes_json(store)
    assert (change["kind"], change["entity"]) == ("meeting.rescheduled", entity)
    assert (change["data"]["from"], change["data"]["to"]) == ("2025-11-19T17:00:00-06:00", "2026-04-15T17:00:00-05:00")
    assert "moved to" in change["summary"] and not meeting(store, config, entity)["missing"]
    assert held(store, "granicus:council")["clip-7169"] == "2026-04-15"

    parses = counted_parses(monkeypatch, "granicus")
    replay.add(PAGE, moved_page.replace(b"</body>", b"<!-- edited --></body>"), content_type="text/html")
    monkeypatch.setenv("TRACKER_NOW", "2025-11-18T20:00:00Z")
    (report,) = run_crawls(config, store)
    assert report.ok and report.not_modified == 0, report.errors
    assert len(parses) == 1 and changes_json(store) == [change]


def test_a_moved_meeting_whose_store_failed_is_looked_for_again_and_told_once(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The database refuses the moved meeting's snapshot (a full disk, once): its held day stays the
    old one, so the next run (a whole read, `unsaved`) looks for it again and tells the move then."""
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T12:00:00Z")
    replay.add(FEED, shifted_ics())
    config = detroit(tmp_path, replay)
    store = Store(config.database_url)
    run_crawls(config, store)
    replay.add(FEED, moved_ics("7858", "20231119"))
    refuse_snapshots(store, "2023-11-19")
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T13:00:00Z")
    (report,) = run_crawls(config, store)
    assert any("could not store" in line for line in report.errors), report.errors
    assert changes_json(store) == [] and held(store, "ical:dpscd")["7858"] == "2023-06-18"

    refuse_snapshots(store, None)  # the disk has room again
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T14:00:00Z")
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    (change,) = changes_json(store)
    assert (change["kind"], change["data"]["to"]) == ("meeting.rescheduled", "2023-11-19T16:30:00-05:00")
    assert held(store, "ical:dpscd")["7858"] == "2023-11-19"


ATLANTA = local("corpus/iqm2/atlanta_calendar_list.html")
CALENDAR = "/Citizens/Calendar.aspx"


def atlanta_row(page: bytes, meeting_id: str) -> tuple[int, int]:
    """Where the recorded calendar's row of one meeting starts and ends."""
    at = page.index(f"Detail_Meeting.aspx?ID={meeting_id}\"".encode())
    start = page.rindex(b'<div class="Row MeetingRow', 0, at)
    end = page.index(b'<div class="Row ', at)
    return start, end


def test_a_meeting_moved_past_a_window_the_site_is_asked_for_is_found_by_asking_wider(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """An IQM2 calendar is asked for the window's weeks only, so a meeting put off past the window
    is not in its answer at all (reading that answer again finds nothing). The committee on
    council's 20 April meeting (4392) is put off to 21 September: the calendar is asked once more,
    for the wider span, and the move is told at once, once; the next run asks nothing more."""
    monkeypatch.setenv("TRACKER_NOW", "2026-04-01T12:00:00Z")
    replay.add(CALENDAR, ATLANTA, content_type="text/html")
    path = tmp_path / "tracker.toml"
    path.write_text('[crawl]\ndelay_seconds = 0\n[[meetings]]\nid = "atl"\nname = "Atlanta City Council"\n'
                    f'timezone = "America/New_York"\niqm2 = "{replay.url}/Citizens/default.aspx"\n')
    config = load_config(path, env={})
    store = Store(config.database_url)
    (report,) = run_crawls(config, store)
    assert report.ok and changes_json(store) == [], report.errors

    start, end = atlanta_row(ATLANTA, "4392")
    row = ATLANTA[start:end].replace(b"APRIL 20, 2026", b"SEPTEMBER 21, 2026").replace(b"Apr 20, 2026", b"Sep 21, 2026")
    replay.add(CALENDAR, ATLANTA[:start] + ATLANTA[end:], query={"From": "3/2/2026"}, content_type="text/html")
    replay.add(CALENDAR, ATLANTA[:start] + row + ATLANTA[end:], query={"From": "2/24/2025"}, content_type="text/html")
    replay.clear_log()
    monkeypatch.setenv("TRACKER_NOW", "2026-04-01T13:00:00Z")
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    assert [(r.query.get("From"), r.query.get("To")) for r in replay.requests if r.path == CALENDAR] == [
        ("3/2/2026", "8/9/2026"), ("2/24/2025", "7/30/2028")]
    (change,) = changes_json(store)
    assert (change["kind"], change["entity"]) == ("meeting.rescheduled", "meeting:iqm2:atl:4392")
    assert (change["data"]["from"], change["data"]["to"]) == ("2026-04-20T11:30:00-04:00", "2026-09-21T11:30:00-04:00")
    assert held(store, "iqm2:atl")["4392"] == "2026-09-21"

    replay.clear_log()
    monkeypatch.setenv("TRACKER_NOW", "2026-04-01T14:00:00Z")
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    assert [r.query.get("From") for r in replay.requests if r.path == CALENDAR] == ["3/2/2026"]
    assert changes_json(store) == [change]
