"""The Legistar spider's memory between runs under faults and changes of the watch: a matter
whose history failed once, matters that fail every day, a body added to or dropped from the watch,
a parser upgrade, a person's record that keeps failing. Each test failed on the code before its
fix (found by a review). Real crawls against the loopback Legistar API (tracker/demo/legistar_api.py);
a snapshot an older parser stored is written as it stored it."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from recorded import local
from statusjson import changes_json, status_json
from test_legistar import (
    KEYWORDS,
    baseline_state,
    derived_item,
    later_state,
    shifted_ics,
    stored_cursor,
)
from test_legistar import write_config as legistar_config

from tracker import models as m
from tracker.config import load_config
from tracker.crawl import run_crawls
from tracker.demo.legistar_api import LegistarApi
from tracker.demo.replay import ReplayServer
from tracker.outbox import close_bundles
from tracker.records import canonical_json, text_hash
from tracker.sources import SOURCES
from tracker.store import Store

NYC = "meeting:legistar:nyc:"



def nyc_watches(tmp_path: Path, replay: ReplayServer, *watches: tuple[str, list[str], list[str]]) -> Path:
    """Legistar watches of the one NYC client: (id, bodies, keywords) each."""
    text = f'[crawl]\ndelay_seconds = 0\n[sources.legistar]\nbase_url = "{replay.url}/v1"\n'
    for watch_id, bodies, keywords in watches:
        text += (f'[[meetings]]\nid = "{watch_id}"\nname = "NYC {watch_id}"\ntimezone = "America/New_York"\n'
                 f'legistar = {{ client = "nyc", bodies = {json.dumps(bodies)} }}\n'
                 f"keywords = {json.dumps(keywords)}\n")
    path = tmp_path / "tracker.toml"
    path.write_text(text)
    return path


BOTH = ["City Council", "Committee on Public Safety"]


def rewrite_snapshot(store: Store, key: str, change: Any) -> None:
    """The entity's current snapshot as an older reading stored it: `change(content)` edits the
    stored JSON, whose hash follows (as the store computes it)."""
    with store.session() as session:
        entity = session.get(m.Entity, key)
        assert entity is not None and entity.current_snapshot_id is not None
        snapshot = session.get(m.Snapshot, entity.current_snapshot_id)
        assert snapshot is not None
        content = json.loads(snapshot.content)
        change(content)
        snapshot.content = canonical_json(content)
        snapshot.hash = text_hash(snapshot.content)


def test_legistar_matter_whose_history_failed_once_is_followed_later(
        tmp_path: Path, replay: ReplayServer, legistar: LegistarApi, monkeypatch: pytest.MonkeyPatch) -> None:
    """Matter 17071 comes up on hearing 20111 with a matching item; its history request fails once
    (HTTP 500). The hearing's fingerprint is recorded all the same (the meeting was stored), so its
    items are not asked for again while it is unchanged: the matter was never followed, and its
    adoption never told. It is now followed from the failure (asked for next run)."""
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T12:00:00Z")
    baseline_state(legistar)
    replay.add("/detroit.ics", shifted_ics())
    replay.add("/v1/nyc/matters/17071/histories", status=500, body=b"")
    config = load_config(legistar_config(tmp_path, replay), env={})
    store = Store(config.database_url)
    (nyc, _) = run_crawls(config, store)
    assert any("history of matter 17071: HTTP 500" in line for line in nyc.errors), nyc.errors

    replay.remove("/v1/nyc/matters/17071/histories")  # the API answers again; nothing changed upstream
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T13:00:00Z")
    (nyc, _) = run_crawls(config, store)
    assert nyc.ok, nyc.errors

    later_state(legistar)  # 17071 adopted (and 20111 republished with it)
    monkeypatch.setenv("TRACKER_NOW", "2023-06-02T13:00:00Z")
    (nyc, _) = run_crawls(config, store)
    assert nyc.ok, nyc.errors
    assert [c["data"] for c in changes_json(store) if c["kind"] == "matter.status"] == [
        {"matter": "LU 1505-1997", "from": "Committee", "to": "Adopted"}]


def test_legistar_following_one_more_body_is_a_baseline_not_a_flood(
        tmp_path: Path, replay: ReplayServer, legistar: LegistarApi, monkeypatch: pytest.MonkeyPatch) -> None:
    """A watch that followed the Committee on Public Safety adds the City Council to its bodies.
    Every council meeting of the window, those held weeks ago included, was "scheduled" news, one
    alert each; now a baseline, as a listing source's new choice of bodies is."""
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T12:00:00Z")
    baseline_state(legistar)
    path = nyc_watches(tmp_path, replay, ("council", ["Committee on Public Safety"], KEYWORDS))
    config = load_config(path, env={})
    store = Store(config.database_url)
    (report,) = run_crawls(config, store)
    assert report.ok and changes_json(store) == []

    config = load_config(nyc_watches(tmp_path, replay, ("council", BOTH, KEYWORDS)), env={})
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T13:00:00Z")
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    added = [(c["summary"]) for c in changes_json(store) if c["kind"] == "meeting.added"]
    assert added == []


def test_legistar_parser_upgrade_is_a_baseline(
        tmp_path: Path, replay: ReplayServer, legistar: LegistarApi, monkeypatch: pytest.MonkeyPatch) -> None:
    """`legistar-3` reads a minutes status "Cancelled" as a cancelled meeting (legistar-2 did not).
    The registry says a new parser version's first snapshot is a baseline; the Legistar spider did
    not put the version on its items (every snapshot said parser "1"), so the upgrade itself went
    out as "cancelled" news about a meeting nothing happened to."""
    current = SOURCES["legistar"]
    monkeypatch.setitem(SOURCES, "legistar", replace(current, parser_version="legistar-2"))
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T12:00:00Z")
    baseline_state(legistar)
    legistar.client("nyc").events[20188]["EventMinutesStatusName"] = "Cancelled"  # derived: Seattle's word
    config = load_config(nyc_watches(tmp_path, replay, ("council", BOTH, KEYWORDS)), env={})
    store = Store(config.database_url)
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors

    def as_legistar_2_read_it(content: dict[str, Any]) -> None:  # the agenda is "Final": confirmed
        content.update(status="confirmed", status_text=None)

    rewrite_snapshot(store, NYC + "20188", as_legistar_2_read_it)
    monkeypatch.setitem(SOURCES, "legistar", current)  # the upgrade
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T13:00:00Z")
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    assert [c["summary"] for c in changes_json(store)] == []


def test_legistar_parser_upgrade_reads_unchanged_meetings_items_anew(
        tmp_path: Path, replay: ReplayServer, legistar: LegistarApi, monkeypatch: pytest.MonkeyPatch) -> None:
    """An upgrade of how items are read (here: an older reading that missed the "NYPD" match on
    hearing 20111's item) must reach a meeting whose own fields did not change: the fingerprint held
    no parser version, so the old reading's items were carried for good (a listing source is
    fetched whole once after an upgrade)."""
    current = SOURCES["legistar"]
    monkeypatch.setitem(SOURCES, "legistar", replace(current, parser_version="legistar-2"))
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T12:00:00Z")
    baseline_state(legistar)
    config = load_config(nyc_watches(tmp_path, replay, ("council", BOTH, KEYWORDS)), env={})
    store = Store(config.database_url)
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors

    def as_the_old_reading_had_it(content: dict[str, Any]) -> None:
        for item in content["items"]:
            item["keywords"] = []

    rewrite_snapshot(store, NYC + "20111", as_the_old_reading_had_it)
    monkeypatch.setitem(SOURCES, "legistar", current)
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T13:00:00Z")
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    hearing = {mt["entity"]: mt for mt in status_json(store, config)["meetings"]}[NYC + "20111"]
    assert [i["keywords"] for i in hearing["items"]] == [["NYPD"]]


def test_legistar_matters_whose_records_fail_do_not_starve_the_others(
        tmp_path: Path, replay: ReplayServer, legistar: LegistarApi, monkeypatch: pytest.MonkeyPatch) -> None:
    """Eleven matters are followed from hearing 20111; ten of them are later gone from the API
    (their records answer 404, as a deleted or merged matter's does). The daily re-check takes the
    ten matters checked longest ago; a failed check left a matter's last check as it was, so the
    same ten were taken every day and matter 17071 never re-checked: its adoption, off any agenda,
    was never told. A 404'd matter is now dropped, another failure goes to the back of the queue."""
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T12:00:00Z")
    baseline_state(legistar)
    nyc = legistar.client("nyc")
    record = copy.deepcopy(nyc.matters[17071])
    for n in range(1, 11):  # derived: ten more NYPD matters on the same hearing
        matter_id = 17000 + n
        nyc.eventitems[20111].append(derived_item(900100 + n, f"Oversight - NYPD precinct {n}", "Committee", 1 + n)
                                     | {"EventItemMatterId": matter_id, "EventItemMatterFile": f"T2023-{n}"})
        nyc.matters[matter_id] = record | {"MatterId": matter_id, "MatterFile": f"T2023-{n}"}
        nyc.histories[matter_id] = []
    config = load_config(nyc_watches(tmp_path, replay, ("council", BOTH, KEYWORDS)), env={})
    store = Store(config.database_url)
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    assert len(stored_cursor(store, "legistar:council")["matters"]) == 11

    for n in range(1, 11):
        del nyc.matters[17000 + n]  # gone upstream: 404
    nyc.matters[17071] = record | {"MatterStatusName": "Adopted"}  # adopted, on no agenda of the window
    nyc.histories[17071] = [*nyc.histories[17071], *later_histories()]
    for day in ("2023-06-02", "2023-06-03", "2023-06-04"):
        monkeypatch.setenv("TRACKER_NOW", f"{day}T13:00:00Z")
        run_crawls(config, store)
    assert [c["data"]["to"] for c in changes_json(store) if c["kind"] == "matter.status"] == ["Adopted"]


def later_histories() -> list[dict[str, Any]]:
    """The recorded history rows after the fourth (the adoption)."""
    from test_legistar import load

    return load("nyc_matter_17071_histories.json")[4:]


def test_legistar_meetings_of_a_body_no_longer_followed_leave_the_watch(
        tmp_path: Path, replay: ReplayServer, legistar: LegistarApi, monkeypatch: pytest.MonkeyPatch) -> None:
    """The watch drops the City Council from its bodies. A listing source's meetings of a body let
    go leave the watch (its digest, status, reminders); the Legistar watch kept the council's
    meetings, shown as "missing" from their source though the council still holds them."""
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T12:00:00Z")
    baseline_state(legistar)
    config = load_config(nyc_watches(tmp_path, replay, ("council", BOTH, KEYWORDS)), env={})
    store = Store(config.database_url)
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    assert any(mt["body"] == "City Council" for mt in status_json(store, config)["meetings"])

    config = load_config(nyc_watches(tmp_path, replay, ("council", ["Committee on Public Safety"], KEYWORDS)), env={})
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T13:00:00Z")
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    kept = [(mt["date"], mt["missing"]) for mt in status_json(store, config)["meetings"] if mt["body"] == "City Council"]
    assert kept == []


def test_legistar_one_persons_failing_record_does_not_keep_a_bodys_roster_unread(
        tmp_path: Path, replay: ReplayServer, legistar: LegistarApi, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Committee on Public Safety's members: one person's record answers HTTP 500 (a broken
    record, every time). Persons are asked one after another and a failure other than a 404 ended
    the chain, so the body's roster was never stored and alerts about its meetings never named
    whom to write; any failure there is now one warning, as a 404 was, and the roster is stored."""
    monkeypatch.setenv("TRACKER_NOW", "2026-11-24T12:00:00Z")
    baseline_state(legistar)
    nyc = legistar.client("nyc")
    a_hearing_of_public_safety(legistar, 40001, "2026-12-10")
    nyc.officerecords[19] = json.loads(local("legistar/officerecords_body19.json"))
    persons = json.loads(local("legistar/persons_body19.json"))
    nyc.persons.update({p["PersonId"]: p for p in persons})
    replay.add("/v1/nyc/persons/7703", status=500, body=b"")
    config = load_config(nyc_watches(tmp_path, replay, ("council", ["Committee on Public Safety"], KEYWORDS)),
                         env={})
    store = Store(config.database_url)
    for day in ("2026-11-24", "2026-11-25", "2026-11-26"):
        monkeypatch.setenv("TRACKER_NOW", f"{day}T12:00:00Z")
        run_crawls(config, store)
    with store.session() as session:
        assert session.get(m.Entity, "body:legistar:nyc:19") is not None


def a_hearing_of_public_safety(api: LegistarApi, event_id: int, day: str) -> None:
    """derived: a Public Safety hearing (a copy of 20188) on another day, in the crawl's window."""
    nyc = api.client("nyc")
    nyc.add_events([copy.deepcopy(nyc.events[20188]) | {
        "EventId": event_id, "EventDate": f"{day}T00:00:00", "EventLastModifiedUtc": f"{day}T09:00:00"}])


def test_legistar_meeting_moved_past_the_window_is_told_as_moved(
        tmp_path: Path, replay: ReplayServer, legistar: LegistarApi, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hearing 20188 (20 June) is put off to 1 December, past the 120 days ahead the listing asks
    for; Legistar does not bump `EventLastModifiedUtc` for a move (the spider's own docstring), so
    the listing no longer shows it, and it was only noted "missing": nobody heard it moved until
    December's meeting entered the window in August. A meeting held in the window that a complete
    listing no longer shows is now asked for by its id."""
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T12:00:00Z")
    baseline_state(legistar)
    hearing = legistar.client("nyc").events[20188]
    # derived: the hearing as it stood on 1 June (last modified in May, no agenda or minutes yet)
    hearing.update(EventLastModifiedUtc="2023-05-10T10:00:00", EventAgendaLastPublishedUTC=None,
                   EventMinutesLastPublishedUTC=None, EventAgendaFile=None, EventMinutesFile=None)
    config = load_config(nyc_watches(tmp_path, replay, ("council", BOTH, KEYWORDS)), env={})
    store = Store(config.database_url)
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors

    hearing["EventDate"] = "2023-12-01T00:00:00"  # put off; the stamp unmoved
    monkeypatch.setenv("TRACKER_NOW", "2023-06-02T12:00:00Z")
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    assert [c["entity"] for c in changes_json(store) if c["kind"] == "meeting.rescheduled"] == [NYC + "20188"]
    status = {mt["entity"]: mt for mt in status_json(store, config)["meetings"]}
    assert status[NYC + "20188"]["date"] == "2023-12-01" and not status[NYC + "20188"]["missing"]
    legistar.client("nyc").events.pop(20111)  # deleted upstream: its id answers 404, noted missing
    monkeypatch.setenv("TRACKER_NOW", "2023-06-03T12:00:00Z")
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    status = {mt["entity"]: mt for mt in status_json(store, config)["meetings"]}
    assert status[NYC + "20111"]["missing"] and not status[NYC + "20188"]["missing"]
    replay.clear_log()
    monkeypatch.setenv("TRACKER_NOW", "2023-06-04T12:00:00Z")
    (report,) = run_crawls(config, store)
    assert report.ok and not [r for r in replay.requests if r.path.startswith("/v1/nyc/events/2")]


def test_legistar_new_bodys_meetings_whose_store_failed_are_no_flood_next_run(
        tmp_path: Path, replay: ReplayServer, legistar: LegistarApi, monkeypatch: pytest.MonkeyPatch) -> None:
    """The watch adds the City Council to its bodies; in that run the database refuses the council's
    snapshots (a full disk, once). `LegistarCursor.followed` was recorded anyway, so the next run no
    longer counted the council as newly followed and every council meeting of the window went out
    as "scheduled" news (found by a second review); it is now recorded only once every meeting
    handed to the store was stored, as a listing's bodies are."""
    from test_listing_cursor_faults import refuse_snapshots

    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T12:00:00Z")
    baseline_state(legistar)
    config = load_config(nyc_watches(tmp_path, replay, ("council", ["Committee on Public Safety"], KEYWORDS)),
                         env={})
    store = Store(config.database_url)
    (report,) = run_crawls(config, store)
    assert report.ok and changes_json(store) == []

    config = load_config(nyc_watches(tmp_path, replay, ("council", BOTH, KEYWORDS)), env={})
    refuse_snapshots(store, '"body":"City Council"')
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T13:00:00Z")
    (report,) = run_crawls(config, store)
    assert any("could not store" in line for line in report.errors), report.errors

    refuse_snapshots(store, None)
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T14:00:00Z")
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    assert [c["summary"] for c in changes_json(store) if c["kind"] == "meeting.added"] == []


def test_legistar_first_run_after_the_upgrade_tells_a_real_cancellation(
        tmp_path: Path, replay: ReplayServer, legistar: LegistarApi, monkeypatch: pytest.MonkeyPatch) -> None:
    """A database of the previous release: every Legistar snapshot says parser "1" (the spider put
    no version on its items), at schema revision 0007. Between its last run and its first on this
    release, hearing 20188 is cancelled upstream. The store's migration labels those snapshots with
    the Legistar reading they were made by, so the first run is no upgrade's baseline and the
    cancellation is told (it was swallowed: found by a second review). The release it migrates to
    reads Legistar as 0008 labels them ("legistar-3"): a later version's first run is a baseline
    whatever the migration did, as every parser version's is."""
    from sqlalchemy import text, update

    monkeypatch.setitem(SOURCES, "legistar", replace(SOURCES["legistar"], parser_version="legistar-3"))
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T12:00:00Z")
    baseline_state(legistar)
    path = nyc_watches(tmp_path, replay, ("council", BOTH, KEYWORDS))
    path.write_text(path.read_text() + '[[subscribers]]\nid = "ana"\nnotify = ["json://127.0.0.1:9/"]\n'
                    'follow = ["council"]\n')
    config = load_config(path, env={})
    store = Store(config.database_url)
    assert all(r.ok for r in run_crawls(config, store))
    with store.session() as session:  # as the previous release left it
        session.execute(update(m.Snapshot).where(m.Snapshot.entity_key.like("meeting:legistar:%")).values(parser="1"))
        session.execute(text("UPDATE alembic_version SET version_num = '0007'"))
        session.execute(text("DROP INDEX ix_changes_run_id"))  # 0009's, which that release did not have
        session.execute(text("DROP INDEX ix_runs_source_id"))  # 0010's, and the index it replaced
        session.execute(text("DROP INDEX ix_runs_open"))  # 0014's
        session.execute(text("CREATE INDEX ix_runs_source_started ON runs (source_id, started_at)"))
        session.execute(text("ALTER TABLE people DROP COLUMN returning_choices"))  # 0011's
        session.execute(text("ALTER TABLE entities DROP COLUMN revision"))  # 0012's
        session.commit()

    store = Store(config.database_url)  # the new release migrates it
    legistar.client("nyc").events[20188].update(EventAgendaStatusName="Canceled",
                                                EventLastModifiedUtc="2023-06-01T12:30:00")
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T13:00:00Z")
    assert all(r.ok for r in run_crawls(config, store))
    assert [(c["kind"], c["entity"]) for c in changes_json(store)] == [("meeting.cancelled", NYC + "20188")]


def test_legistar_watch_is_not_alerted_for_another_watchs_keywords(
        tmp_path: Path, replay: ReplayServer, legistar: LegistarApi, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two watches of the NYC client follow different bodies: "safety" the Public Safety committee
    with police words, "parks" the Parks committee with "parks". A parks item is put on the Public
    Safety hearing 20111, a meeting only "safety" holds: safety's subscriber, who asked for police
    words, is not told of it, and the hearing's items carry no "parks" match. (Matching every watch's
    items with every watch's keywords of the client did both; tried and reverted, found by a review.)"""
    from sqlalchemy import select

    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T12:00:00Z")
    baseline_state(legistar)
    path = nyc_watches(tmp_path, replay, ("safety", ["Committee on Public Safety"], KEYWORDS),
                       ("parks", ["Committee on Parks and Recreation"], ["parks"]))
    path.write_text(path.read_text() + '[[subscribers]]\nid = "ana"\nnotify = ["json://127.0.0.1:9/"]\n'
                    'follow = ["safety"]\n')
    config = load_config(path, env={})
    store = Store(config.database_url)
    assert all(r.ok for r in run_crawls(config, store))
    assert changes_json(store) == []

    nyc = legistar.client("nyc")
    nyc.events[20111]["EventLastModifiedUtc"] = "2023-06-01T12:30:00"
    nyc.eventitems[20111] = [*nyc.eventitems[20111],
                             derived_item(900003, "Parks maintenance policies", "Committee", 3)
                             | {"EventItemMatterId": None}]
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T13:00:00Z")
    assert all(r.ok for r in run_crawls(config, store))
    with store.session() as session:
        owed = session.scalars(select(m.Change.kind).join(m.Delivery, m.Delivery.change_id == m.Change.id)
                               .where(m.Delivery.subscriber_id == "ana")).all()
    assert "agenda.item_added" not in owed
    hearing = {mt["entity"]: mt for mt in status_json(store, config)["meetings"]}[NYC + "20111"]
    assert not any("parks" in i["keywords"] for i in hearing["items"])


def test_legistar_an_unlisted_meeting_answered_null_is_taken_as_gone(
        tmp_path: Path, replay: ReplayServer, legistar: LegistarApi, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hearing 20111 leaves the listing and its own address answers 200 with `null` (how some OData
    services say "no such entity"), not a 404: taken as gone, as a 404 is (noted missing, not asked
    for again), never an error line every run (a review's suspicion)."""
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T12:00:00Z")
    baseline_state(legistar)
    config = load_config(nyc_watches(tmp_path, replay, ("council", BOTH, KEYWORDS)), env={})
    store = Store(config.database_url)
    assert all(r.ok for r in run_crawls(config, store))
    legistar.client("nyc").events.pop(20111)
    replay.add("/v1/nyc/events/20111", b"null", content_type="application/json")
    for hour in (13, 14):
        replay.clear_log()
        monkeypatch.setenv("TRACKER_NOW", f"2023-06-01T{hour}:00:00Z")
        (report,) = run_crawls(config, store)
        assert report.ok, report.errors
    assert replay.count("/v1/nyc/events/20111") == 0  # asked once, the run before, then forgotten
    status = {mt["entity"]: mt for mt in status_json(store, config)["meetings"]}
    assert status[NYC + "20111"]["missing"]


def _owed(store: Store, subscriber: str) -> list[tuple[str, str]]:
    """(kind, summary) of every change owed to the subscriber, in order."""
    from sqlalchemy import select

    with store.session() as session:
        return [(kind, summary) for kind, summary in session.execute(
            select(m.Change.kind, m.Change.summary).join(m.Delivery, m.Delivery.change_id == m.Change.id)
            .where(m.Delivery.subscriber_id == subscriber).order_by(m.Change.id))]


def test_two_watches_of_one_meeting_are_each_told_of_their_own_items_only(
        tmp_path: Path, replay: ReplayServer, legistar: LegistarApi, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two campaigns watch the same Public Safety committee of the NYC client: "safety" for police
    words, "budget" for "budget". Its hearing 20111 gets a police item and a budget item. Each
    campaign's subscriber is told of its own item, once, and its meeting shows its own items only;
    the record is the same whichever watch stores it, so a quiet run stores nothing new. (Each
    watch's crawl rewrote the items' matches with its own keywords: the watch storing second was
    never told of its item, and each run's two crawls made two new snapshots.)"""
    from sqlalchemy import func, select

    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T12:00:00Z")
    baseline_state(legistar)
    safety = ["Committee on Public Safety"]
    path = nyc_watches(tmp_path, replay, ("safety", safety, KEYWORDS), ("budget", safety, ["budget"]))
    path.write_text(path.read_text()
                    + '[[subscribers]]\nid = "ana"\nnotify = ["json://127.0.0.1:9/"]\nfollow = ["safety"]\n'
                    + '[[subscribers]]\nid = "bo"\nnotify = ["json://127.0.0.1:9/"]\nfollow = ["budget"]\n'
                    + '[[subscribers]]\nid = "cy"\nnotify = ["json://127.0.0.1:9/"]\nfollow = ["budget"]\n'
                    + 'mode = "daily"\n')
    config = load_config(path, env={})
    store = Store(config.database_url)
    assert all(r.ok for r in run_crawls(config, store))
    assert changes_json(store) == []

    nyc = legistar.client("nyc")
    nyc.events[20111]["EventLastModifiedUtc"] = "2023-06-01T12:30:00"
    nyc.eventitems[20111] = [
        *nyc.eventitems[20111],
        derived_item(900004, "Oversight of NYPD overtime", "Committee", 3) | {"EventItemMatterId": None},
        derived_item(900005, "Participatory budget hearing", "Committee", 4) | {"EventItemMatterId": None}]
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T13:00:00Z")
    assert all(r.ok for r in run_crawls(config, store))

    assert [kind for kind, _ in _owed(store, "ana")] == ["agenda.item_added"]
    assert "Oversight of NYPD overtime (NYPD)" in _owed(store, "ana")[0][1]
    assert [kind for kind, _ in _owed(store, "bo")] == ["agenda.item_added"]
    assert "Participatory budget hearing (budget)" in _owed(store, "bo")[0][1]
    assert [c["data"]["title"] for c in changes_json(store, watch="budget")] == ["Participatory budget hearing"]
    assert [c["data"]["title"] for c in changes_json(store, watch="safety")] == ["Oversight of NYPD overtime"]

    hearings = {(mt["watch"], mt["entity"]): mt for mt in status_json(store, config)["meetings"]}
    assert [(i["title"], i["keywords"]) for i in hearings[("budget", NYC + "20111")]["items"]] == [
        ("Participatory budget hearing", ["budget"])]
    safety_items = [(i["title"], i["keywords"]) for i in hearings[("safety", NYC + "20111")]["items"]]
    assert ("Oversight of NYPD overtime", ["NYPD"]) in safety_items
    assert not any("budget" in keywords for _, keywords in safety_items)

    with store.session() as session:
        snapshots = session.scalar(select(func.count()).select_from(m.Snapshot)
                                   .where(m.Snapshot.entity_key == NYC + "20111"))
    nyc.events[20111]["EventLastModifiedUtc"] = "2023-06-01T14:30:00"  # read again, nothing else moved
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T15:00:00Z")
    assert all(r.ok for r in run_crawls(config, store))
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(m.Snapshot)
                              .where(m.Snapshot.entity_key == NYC + "20111")) == snapshots
    assert len(_owed(store, "ana")) == 1 and len(_owed(store, "bo")) == 1

    monkeypatch.setenv("TRACKER_NOW", "2023-06-02T23:00:00Z")  # cy's daily bundle: the budget item alone
    assert close_bundles(store, config) == 1
    with store.session() as session:
        bundled = session.scalars(select(m.Change.summary).join(m.DeliveryChange, m.DeliveryChange.change_id == m.Change.id)
                                  .join(m.Delivery, m.Delivery.id == m.DeliveryChange.delivery_id)
                                  .where(m.Delivery.subscriber_id == "cy")).all()
    assert len(bundled) == 1 and "Participatory budget hearing (budget)" in bundled[0]


HEARING = NYC + "20111"  # the Public Safety hearing of June 26, on "NYPD Response to Mental Health Crises"


def test_a_keyword_added_to_a_legistar_watch_tells_the_items_it_now_matches(
        tmp_path: Path, replay: ReplayServer, legistar: LegistarApi, monkeypatch: pytest.MonkeyPatch) -> None:
    """The watch adds "mental health" to its keywords: the hearing already held in the window with
    an item on it is told once (`agenda.item_added`, the new keyword), as a listing's new match is;
    the next run is quiet. (Every item of a Legistar meeting is stored, matching or not: an item
    already seen was never news again, so the new keyword's matches were never told.)"""
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T12:00:00Z")
    baseline_state(legistar)
    safety = ["Committee on Public Safety"]
    config = load_config(nyc_watches(tmp_path, replay, ("safety", safety, ["ShotSpotter"])), env={})
    store = Store(config.database_url)
    assert all(r.ok for r in run_crawls(config, store)) and changes_json(store) == []

    config = load_config(nyc_watches(tmp_path, replay, ("safety", safety, ["ShotSpotter", "mental health"])), env={})
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T13:00:00Z")
    assert all(r.ok for r in run_crawls(config, store))
    told = changes_json(store)
    assert [(c["kind"], c["entity"], c["data"]["keywords"]) for c in told] == [
        ("agenda.item_added", HEARING, ["mental health"])]

    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T14:00:00Z")
    assert all(r.ok for r in run_crawls(config, store))
    assert changes_json(store) == told


def test_a_new_watch_of_a_held_meeting_is_told_only_what_comes_after_it(
        tmp_path: Path, replay: ReplayServer, legistar: LegistarApi, monkeypatch: pytest.MonkeyPatch) -> None:
    """A third campaign starts watching the Public Safety committee two others follow, for "mental
    health". The hearing's item on it was on the agenda before the campaign looked: not told (though
    its page shows it at once). An item put on the agenda later is told to it alone."""
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T12:00:00Z")
    baseline_state(legistar)
    safety = ["Committee on Public Safety"]
    subscribers = ('[[subscribers]]\nid = "ana"\nnotify = ["json://127.0.0.1:9/"]\nfollow = ["safety"]\n'
                   '[[subscribers]]\nid = "bo"\nnotify = ["json://127.0.0.1:9/"]\nfollow = ["crisis"]\n')
    path = nyc_watches(tmp_path, replay, ("safety", safety, ["ShotSpotter"]), ("budget", safety, ["budget"]))
    config = load_config(path, env={})
    store = Store(config.database_url)
    assert all(r.ok for r in run_crawls(config, store)) and changes_json(store) == []

    path = nyc_watches(tmp_path, replay, ("safety", safety, ["ShotSpotter"]), ("budget", safety, ["budget"]),
                       ("crisis", safety, ["mental health"]))
    path.write_text(path.read_text() + subscribers)
    config = load_config(path, env={})
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T13:00:00Z")
    assert all(r.ok for r in run_crawls(config, store))
    assert changes_json(store) == []
    hearings = {(mt["watch"], mt["entity"]): mt for mt in status_json(store, config)["meetings"]}
    assert [i["keywords"] for i in hearings[("crisis", HEARING)]["items"]] == [["mental health"]]
    assert hearings[("safety", HEARING)]["items"] == []

    nyc = legistar.client("nyc")
    nyc.events[20111]["EventLastModifiedUtc"] = "2023-06-01T13:30:00"
    nyc.eventitems[20111] = [*nyc.eventitems[20111],
                             derived_item(900006, "Mental health crisis teams", "Committee", 5) | {"EventItemMatterId": None}]
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T14:00:00Z")
    assert all(r.ok for r in run_crawls(config, store))
    assert [summary for _, summary in _owed(store, "bo")] == [
        "Committee on Public Safety on Mon Jun 26, 10:00 AM: Mental health crisis teams (mental health)"]
    assert _owed(store, "ana") == []


def test_a_body_taken_up_by_a_second_watch_brings_no_old_items(
        tmp_path: Path, replay: ReplayServer, legistar: LegistarApi, monkeypatch: pytest.MonkeyPatch) -> None:
    """A campaign following the City Council for "mental health" takes up the Public Safety
    committee two other campaigns follow: the hearing's item on it, on the agenda before, is not
    news to it (as a body a watch takes up brings its meetings in unalerted)."""
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T12:00:00Z")
    baseline_state(legistar)
    safety = ["Committee on Public Safety"]
    config = load_config(nyc_watches(tmp_path, replay, ("safety", safety, KEYWORDS), ("budget", safety, ["budget"]),
                                     ("crisis", ["City Council"], ["mental health"])), env={})
    store = Store(config.database_url)
    assert all(r.ok for r in run_crawls(config, store)) and changes_json(store) == []

    config = load_config(nyc_watches(tmp_path, replay, ("safety", safety, KEYWORDS), ("budget", safety, ["budget"]),
                                     ("crisis", BOTH, ["mental health"])), env={})
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T13:00:00Z")
    assert all(r.ok for r in run_crawls(config, store))
    assert changes_json(store) == []
    hearings = {(mt["watch"], mt["entity"]): mt for mt in status_json(store, config)["meetings"]}
    assert [i["keywords"] for i in hearings[("crisis", HEARING)]["items"]] == [["mental health"]]
