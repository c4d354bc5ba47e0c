"""A meeting called off, put back on, called off again: each is told (found by a review: there was
no "back on" change, and the second cancellation had the first one's dedupe key, so it was dropped).
A real crawl of the Detroit board's feed on loopback; its event 7858 is what changes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from statusjson import changes_json, status_json
from test_legistar import shifted_ics

from tracker import models as m
from tracker.changes import Change
from tracker.config import load_config
from tracker.crawl import run_crawls
from tracker.demo.replay import ReplayServer
from tracker.meetings.diff import diff_meeting
from tracker.records import Meeting, MeetingStatus
from tracker.store import Store
from tracker.words import headline


def detroit(tmp_path: Path, replay: ReplayServer) -> Path:
    path = tmp_path / "tracker.toml"
    path.write_text(f'[crawl]\ndelay_seconds = 0\n[[meetings]]\nid = "dpscd"\nname = "Detroit Board of Education"\n'
                    f'timezone = "America/Detroit"\nical = "{replay.url}/detroit.ics"\n'
                    f"keywords = {json.dumps(['budget'])}\n")
    return path


def test_a_meeting_cancelled_back_on_and_cancelled_again_is_told_each_time(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T12:00:00Z")
    replay.add("/detroit.ics", shifted_ics())
    config = load_config(detroit(tmp_path, replay), env={})
    store = Store(config.database_url)
    assert run_crawls(config, store)[0].ok
    states = [shifted_ics(cancel="7858"), shifted_ics(), shifted_ics(cancel="7858"), shifted_ics(cancel="7858")]
    for hour, feed in enumerate(states, start=13):
        replay.replace("/detroit.ics", feed)
        monkeypatch.setenv("TRACKER_NOW", f"2023-06-01T{hour}:00:00Z")
        (report,) = run_crawls(config, store)
        assert report.ok, report.errors
    status = {mt["entity"]: mt for mt in status_json(store, config)["meetings"]}
    assert status["meeting:ical:dpscd:7858"]["status"] == "cancelled"
    told = [c["kind"] for c in changes_json(store) if c["entity"] == "meeting:ical:dpscd:7858"]
    # in order; the last crawl (still cancelled) tells nothing
    assert told == ["meeting.cancelled", "meeting.restored", "meeting.cancelled"], told
    back = next(c for c in changes_json(store) if c["kind"] == "meeting.restored")
    assert "back on" in back["summary"] and back["data"]["was"] == "CANCELLED"


def test_back_on_is_said_plainly() -> None:
    """The differ and the headline: "Back on: <meeting>, <when>" (an alert's title)."""
    old = Meeting(source="ical", source_ref="1", title="Regular Board Meeting", date="2026-12-10",
                  start="2026-12-10T22:00:00+00:00", timezone="America/Detroit", body="Board",
                  status=MeetingStatus.CANCELLED, status_text="Postponed")
    new = Meeting(source="ical", source_ref="1", title="Regular Board Meeting", date="2026-12-10",
                  start="2026-12-10T22:00:00+00:00", timezone="America/Detroit", body="Board")
    (change,) = diff_meeting(old, new, "meeting:ical:x:1")
    assert isinstance(change, Change) and change.kind == "meeting.restored"
    assert change.summary.endswith("back on (was postponed)")
    assert headline([change], new).startswith("Back on: ")
    assert diff_meeting(new, new, "meeting:ical:x:1") == []


@pytest.mark.postgres
def test_two_ingests_of_one_cancellation_at_once_tell_it_once(pg_url: str) -> None:
    """Two processes store the same meeting, now called off, at the same time (`tracker crawl
    --watch` beside a scheduled run, or two watches' crawls of one Legistar client). With the
    cancellation's key counting the entity's earlier ones, both diffing against "scheduled" told it
    twice (found by a review); the entity's row is now locked by each ingest, so the second diffs
    against what the first stored. A third connection holds the row lock until both are waiting on
    it, then lets them go one after the other, as they would under load."""
    import threading

    import psycopg

    from tracker.records import Item, Meeting, MeetingStatus
    from tracker.store import ingest

    store = Store(pg_url)
    key = "meeting:ical:board:1"

    def item(status: str) -> Item:
        meeting = Meeting(source="ical", source_ref="1", title="Regular Board Meeting", date="2026-12-10",
                          start="2026-12-10T22:00:00+00:00", timezone="America/Detroit", body="Board", status=status,
                          status_text="CANCELLED" if status == MeetingStatus.CANCELLED else None)
        return Item(key=key, kind="meeting", source_id="ical:board", watch_ids=[], content=meeting)

    ingest(store, item(MeetingStatus.CONFIRMED))  # the baseline
    plain = pg_url.replace("postgresql+psycopg://", "postgresql://")
    errors: list[BaseException] = []

    def store_cancelled() -> None:
        try:
            ingest(store, item(MeetingStatus.CANCELLED))
        except BaseException as exc:
            errors.append(exc)

    with psycopg.connect(plain) as holder:
        holder.execute("SELECT 1 FROM entities WHERE key = %s FOR UPDATE", (key,))
        racers = [threading.Thread(target=store_cancelled) for _ in range(2)]
        for racer in racers:
            racer.start()
        for _ in range(100):  # both have read the entity and wait on its row
            waiting = holder.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                                     ).fetchone()
            if waiting and waiting[0] >= 2:
                break
            threading.Event().wait(0.05)
        holder.commit()
    for racer in racers:
        racer.join(timeout=30)
    assert not errors, errors
    with store.session() as session:
        told = list(session.scalars(select(m.Change.dedupe_key).where(m.Change.kind == "meeting.cancelled")))
    assert len(told) == 1, told


def test_each_state_of_a_meeting_reaches_calendars_with_a_higher_sequence(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Called off, back on, called off again: each state is a new SEQUENCE of the meeting's event in
    its own calendar ("add to calendar") and meetings.ics. SEQUENCE counted the meeting's distinct
    states, and a state come back reuses its stored one: back on, the event said CONFIRMED with the
    SEQUENCE of its CANCELLED form, an update a calendar app ignores, so the meeting stayed
    cancelled in every calendar it was added to (found by a review)."""
    from icalendar import Calendar

    from tracker.digest import write_site
    from tracker.words import meeting_page

    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T12:00:00Z")
    replay.add("/detroit.ics", shifted_ics())
    config = load_config(detroit(tmp_path, replay), env={})
    store = Store(config.database_url)
    seen: list[tuple[int, str]] = []
    for hour, feed in enumerate([shifted_ics(), shifted_ics(cancel="7858"), shifted_ics(),
                                 shifted_ics(cancel="7858")], start=12):
        replay.replace("/detroit.ics", feed)
        monkeypatch.setenv("TRACKER_NOW", f"2023-06-01T{hour}:00:00Z")
        (report,) = run_crawls(config, store)
        assert report.ok, report.errors
        site = write_site(store, config, tmp_path / "site")
        events = []
        for path in (f"{meeting_page('meeting:ical:dpscd:7858')}.ics", "meetings.ics"):
            events += [event for event in Calendar.from_ical((site / path).read_bytes()).walk("VEVENT")
                       if str(event["UID"]) == "meeting:ical:dpscd:7858@tracker"]
        assert len(events) == 2 and len({(int(e["SEQUENCE"]), str(e["STATUS"])) for e in events}) == 1
        seen.append((int(events[0]["SEQUENCE"]), str(events[0]["STATUS"])))
    assert [status for _, status in seen] == ["CONFIRMED", "CANCELLED", "CONFIRMED", "CANCELLED"]
    sequences = [sequence for sequence, _ in seen]
    assert sequences == sorted(set(sequences)), seen  # each one higher than the one before


def test_a_meeting_the_feed_no_longer_lists_says_so_in_the_digest(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The board's feed drops its meeting of June 18 (deleted, as calendars often call a meeting
    off). It is noted missing, never cancelled (only the source's word cancels), and `status` says
    so; the digest showed it as any meeting ahead, with "add to calendar" (found by a review)."""
    from lxml import html

    from tracker.digest import write_site

    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T12:00:00Z")
    replay.add("/detroit.ics", shifted_ics())
    config = load_config(detroit(tmp_path, replay), env={})
    store = Store(config.database_url)
    assert run_crawls(config, store)[0].ok
    replay.replace("/detroit.ics", shifted_ics(without="7858"))
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T13:00:00Z")
    assert run_crawls(config, store)[0].ok
    status = {mt["entity"]: mt for mt in status_json(store, config)["meetings"]}
    assert status["meeting:ical:dpscd:7858"]["missing"] and status["meeting:ical:dpscd:7858"]["status"] != "cancelled"
    site = write_site(store, config, tmp_path / "site")
    page = html.parse(str(site / "index.html")).getroot()
    (card,) = [card for card in page.cssselect("article.card")
               if card.cssselect("h3 a")[0].get("href").endswith("7858.html")]
    assert "No longer listed by its source" in card.text_content()
    meeting_page = html.parse(str(site / card.cssselect("h3 a")[0].get("href"))).getroot()
    assert "No longer listed by its source" in meeting_page.xpath("//main/p[1]")[0].text_content()
    assert "no longer listed by its source" in next(
        line for line in (site / "digest.txt").read_text().split("\n- ") if "Jun 18" in line)
