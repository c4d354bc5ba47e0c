"""What a listing source remembers between runs (`ListingCursor`) when the watch changes or a store
fails: new keywords read the listing whole though it answers 304, and a whole read (new bodies, new
keywords, a parser upgrade) whose meetings could not all be stored is read whole again next run,
never hidden behind the listing's (or a CivicWeb meeting's documents') still-valid validators.
Real crawls against the loopback replay server; a store failure is a real SQLite trigger refusing a
snapshot (the failure a full disk gives)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from statusjson import changes_json, status_json
from test_civicweb import DALLAS_ISD, LIST, served_documents
from test_legistar import shifted_ics
from test_legistar_cursor_faults import rewrite_snapshot

from tracker import models as m
from tracker.config import load_config
from tracker.crawl import run_crawls
from tracker.demo.replay import ReplayServer
from tracker.records import canonical_json, text_hash
from tracker.sources import SOURCES
from tracker.store import Store

FEED = "/detroit.ics"


def detroit(tmp_path: Path, replay: ReplayServer, keywords: list[str], bodies: list[str] | None = None) -> Path:
    """The Detroit board's feed (`shifted_ics`: its 2019 meetings in 2023) as one watch."""
    path = tmp_path / "tracker.toml"
    path.write_text(f'[crawl]\ndelay_seconds = 0\n[[meetings]]\nid = "dpscd"\nname = "Detroit Board of Education"\n'
                    f'timezone = "America/Detroit"\nical = "{replay.url}{FEED}"\n'
                    f"keywords = {json.dumps(keywords)}\n"
                    + (f"bodies = {json.dumps(bodies)}\n" if bodies is not None else ""))
    return path


def refuse_snapshots(store: Store, like: str | None) -> None:
    """A real SQLite trigger refusing every new snapshot whose content holds `like`; None drops it."""
    from sqlalchemy import text

    with store.engine.begin() as connection:
        connection.execute(text("DROP TRIGGER IF EXISTS refuse_some"))
        if like is not None:
            connection.execute(text(
                "CREATE TRIGGER refuse_some BEFORE INSERT ON snapshots "
                f"WHEN NEW.content LIKE '%{like}%' BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"))


def feed_answers(replay: ReplayServer, since: int) -> list[int]:
    """The feed's answers (200, 304) since the `since`-th request."""
    return [r.status for r in replay.requests[since:] if r.path == FEED]


def curriculum(store: Store, config: Any) -> list[dict[str, Any]]:
    """The watch's Curriculum committee meetings (there are several in the window)."""
    found = [mt for mt in status_json(store, config)["meetings"] if "Curriculum" in (mt["title"] or "")]
    assert found, "the window holds Curriculum committee meetings"
    return found


def test_new_keywords_read_the_listing_whole_though_it_answers_304(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The watch adds "curriculum" to its keywords; the feed has not changed. It is read whole all
    the same, so the Curriculum committee's meetings carry their match at once (status, digest,
    reminders), and each is news (`agenda.item_added`), as a match the district's own edit brings
    is; the next run is conditional again (304)."""
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T12:00:00Z")
    replay.add(FEED, shifted_ics())
    config = load_config(detroit(tmp_path, replay, ["budget"]), env={})
    store = Store(config.database_url)
    (report,) = run_crawls(config, store)
    assert report.ok and changes_json(store) == [], report.errors

    config = load_config(detroit(tmp_path, replay, ["budget", "curriculum"]), env={})
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T13:00:00Z")
    asked = len(replay.requests)
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    assert feed_answers(replay, asked) == [200]
    meetings = curriculum(store, config)
    assert all(mt["items"] and mt["items"][0]["keywords"] == ["curriculum"] for mt in meetings), \
        [(mt["title"], mt["date"], mt["items"]) for mt in meetings]
    added = changes_json(store)
    assert {c["kind"] for c in added} == {"agenda.item_added"}
    assert sorted(c["entity"] for c in added) == sorted(mt["entity"] for mt in meetings)
    assert all(c["data"]["keywords"] == ["curriculum"] for c in added)

    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T14:00:00Z")
    asked = len(replay.requests)
    (report,) = run_crawls(config, store)
    assert report.ok and report.not_modified == 1, report.errors
    assert feed_answers(replay, asked) == [304] and changes_json(store) == added


def test_a_cursor_written_before_keywords_were_kept_reads_the_listing_whole_once(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """A listing cursor without `keywords` (an earlier version's) does not know what the stored
    meetings were matched with: the listing is read whole once (nothing is news when nothing
    changed), then conditionally as before."""
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T12:00:00Z")
    replay.add(FEED, shifted_ics())
    config = load_config(detroit(tmp_path, replay, ["budget"]), env={})
    store = Store(config.database_url)
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    with store.session() as session:
        state = session.get(m.SourceState, "ical:dpscd")
        assert state is not None and "keywords" in state.cursor
        state.cursor = {k: v for k, v in state.cursor.items() if k != "keywords"}

    for hour, answer in ((13, 200), (14, 304)):
        monkeypatch.setenv("TRACKER_NOW", f"2023-06-01T{hour}:00:00Z")
        asked = len(replay.requests)
        (report,) = run_crawls(config, store)
        assert report.ok, report.errors
        assert feed_answers(replay, asked) == [answer]
    assert changes_json(store) == []


@pytest.mark.parametrize("whole_read", ["new bodies", "new keywords"])
def test_a_meeting_whose_store_failed_in_a_whole_read_is_stored_next_run(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch, whole_read: str) -> None:
    """The watch follows the Curriculum committee too (or adds "curriculum" to its keywords): the
    feed is read whole, but the database refuses the Curriculum meetings' snapshots (a full disk,
    once). What the listing was read with is not recorded, so the next run reads it whole again
    (not a 304 behind the old, still-valid validators) and stores them, a baseline for a new body
    and news for a new keyword's match, as it would have been."""
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T12:00:00Z")
    replay.add(FEED, shifted_ics())
    before, after = ((([], ["Finance"]), ([], ["Finance", "Curriculum"])) if whole_read == "new bodies"
                     else ((["budget"], None), (["budget", "curriculum"], None)))
    config = load_config(detroit(tmp_path, replay, *before), env={})
    store = Store(config.database_url)
    (report,) = run_crawls(config, store)
    assert report.ok and changes_json(store) == [], report.errors

    config = load_config(detroit(tmp_path, replay, *after), env={})
    refuse_snapshots(store, "Curriculum")
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T13:00:00Z")
    (report,) = run_crawls(config, store)
    assert any("could not store" in line for line in report.errors), report.errors

    refuse_snapshots(store, None)  # the disk has room again
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T14:00:00Z")
    asked = len(replay.requests)
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    assert feed_answers(replay, asked) == [200]
    meetings = curriculum(store, config)
    kinds = sorted({c["kind"] for c in changes_json(store)})
    if whole_read == "new bodies":
        assert kinds == []  # a body followed from now on: its meetings are a baseline
    else:
        assert all(mt["items"] and mt["items"][0]["keywords"] == ["curriculum"] for mt in meetings)
        assert kinds == ["agenda.item_added"]

    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T15:00:00Z")
    asked = len(replay.requests)
    (report,) = run_crawls(config, store)
    assert report.ok and feed_answers(replay, asked) == [304], report.errors


def test_civicweb_documents_whose_store_failed_in_a_parser_upgrade_are_read_afresh_next_run(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """A CivicWeb list is read whole every run, but each meeting's documents are asked for
    conditionally, unconditionally in an upgrade's run. When the database refuses meeting 826's
    snapshot in that run, the next run must not send its documents' old validators (a 304 would
    carry the old reading's documents on, labelled with the new parser, for good): the version is
    recorded only once every meeting was stored."""
    current = SOURCES["civicweb"]
    monkeypatch.setitem(SOURCES, "civicweb", replace(current, parser_version="civicweb-old"))
    monkeypatch.setenv("TRACKER_NOW", "2026-04-20T12:00:00Z")
    replay.add(LIST, DALLAS_ISD, content_type="application/json")
    served_documents(replay)
    path = tmp_path / "tracker.toml"
    path.write_text('[crawl]\ndelay_seconds = 0\n[[meetings]]\nid = "disd"\nname = "Dallas ISD Board"\n'
                    f'timezone = "America/Chicago"\ncivicweb = "{replay.url}/Portal/MeetingSchedule.aspx"\n')
    config = load_config(path, env={})
    store = Store(config.database_url)
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    key = "meeting:civicweb:disd:826"
    read = {mt["entity"]: mt for mt in status_json(store, config)["meetings"]}[key]
    assert read["agenda_url"] and "49668" in read["agenda_url"]
    with store.session() as session:  # the old parser read no documents for 826
        entity = session.get(m.Entity, key)
        assert entity is not None
        snapshot = session.get(m.Snapshot, entity.current_snapshot_id)
        assert snapshot is not None
        content = json.loads(snapshot.content)
        content.update(documents=None, agenda_url=None)
        snapshot.content = canonical_json(content)
        snapshot.hash = text_hash(snapshot.content)

    monkeypatch.setitem(SOURCES, "civicweb", current)  # the upgrade
    refuse_snapshots(store, "49668")  # 826's documents, as the new parser reads them
    monkeypatch.setenv("TRACKER_NOW", "2026-04-20T13:00:00Z")
    (report,) = run_crawls(config, store)
    assert any("826" in line and "could not store" in line for line in report.errors), report.errors

    refuse_snapshots(store, None)
    monkeypatch.setenv("TRACKER_NOW", "2026-04-20T14:00:00Z")
    asked = len(replay.requests)
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    assert [r.status for r in replay.requests[asked:] if r.path == f"{LIST}/826/meetingDocuments"] == [200]
    stored = {mt["entity"]: mt for mt in status_json(store, config)["meetings"]}[key]
    assert stored["agenda_url"] == read["agenda_url"] and stored["documents"] == read["documents"]
    assert changes_json(store) == []  # an upgrade's reading is a baseline


def test_a_meeting_added_the_run_after_an_upgrade_whose_store_failed_is_told(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The iCal parser is upgraded; in the upgrade's run the database refuses the Curriculum
    committee's snapshots (a full disk, once). The parser not recorded then, the next run counted
    as the upgrade's and the meeting the board scheduled between the two runs went untold (found by
    a second review). Now the unstored meetings are kept with their verdict (`unsaved`), the parser
    recorded: the next run reads the listing whole, stores them as the baseline they were, and a
    meeting new then is news."""
    from dataclasses import replace

    from tracker.sources import SOURCES

    current = SOURCES["ical"]
    monkeypatch.setitem(SOURCES, "ical", replace(current, parser_version="ical-old"))
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T12:00:00Z")
    replay.add(FEED, shifted_ics(without="7858"))
    config = load_config(detroit(tmp_path, replay, ["budget"]), env={})
    store = Store(config.database_url)
    (report,) = run_crawls(config, store)
    assert report.ok and changes_json(store) == [], report.errors

    for meeting in curriculum(store, config):  # as the old parser read them (the new one differs)
        rewrite_snapshot(store, meeting["entity"], lambda content: content.update(location="old reading"))
    monkeypatch.setitem(SOURCES, "ical", current)  # the upgrade
    refuse_snapshots(store, "Curriculum")
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T13:00:00Z")
    (report,) = run_crawls(config, store)
    assert any("could not store" in line for line in report.errors), report.errors

    refuse_snapshots(store, None)
    replay.replace(FEED, shifted_ics())  # 7858 scheduled
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T14:00:00Z")
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    assert [c["entity"] for c in changes_json(store) if c["kind"] == "meeting.added"] == [
        "meeting:ical:dpscd:7858"]
