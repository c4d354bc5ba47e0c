"""The store on SQLite and PostgreSQL: migrations, snapshots, baselines, dedupe, one transaction."""

from __future__ import annotations

import json
import zlib
from typing import Any

import pytest
from sqlalchemy import func, select

from tracker import models as m
from tracker.changes import Change, dedupe_key
from tracker.records import Bill, Item, Validators, load_record
from tracker.runs import mark_baselines
from tracker.store import Store, ensure_watches, ingest, migration_heads, newest_migration


def test_alembic_has_exactly_one_head_and_it_is_the_newest_file() -> None:
    """The store's start-up check (`current_revision` against `newest_migration`) reads the head from
    the files' names."""
    assert migration_heads() == [newest_migration()]


def test_models_match_migrations(db_url: str) -> None:
    """Autogenerate against the migrated database finds nothing to add: models and migrations agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    store = Store(db_url)
    with store.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), m.Base.metadata)
    # Type comparisons of our UTC wrapper against DateTime are not differences in storage.
    real = [d for d in diffs if not (isinstance(d, list) and d and d[0][0] == "modify_type")]
    assert real == []


def state_differ(old: Bill | None, new: Bill, key: str) -> list[Change]:
    """A tiny differ: one change per new value of `stage`."""
    if old is not None and old.stage == new.stage:
        return []
    return [Change("bill.stage", key, f"now {new.stage}", dedupe_key(key, "bill.stage", new.stage), {"to": new.stage})]


def make_item(state: str, *, raw: bytes = b"<xml/>", key: str = "bill:hr1-117", discovered: bool = False,
              parser_version: str = "1") -> Item:
    bill = Bill(number=key.removeprefix("bill:"), congress=117, type="hr", display="H.R. 1",
                title="Ending Qualified Immunity Act", stage=state)
    return Item(key=key, kind="bill", source_id="govinfo", watch_ids=["w"], content=bill,
                url="https://x/?token=abc123secret", raw=raw, discovered=discovered, parser_version=parser_version,
                validators=Validators("https://x/?token=abc123secret", etag='"e1"'))


@pytest.fixture
def store(db_url: str, frozen_now: Any) -> Store:
    store = Store(db_url)
    with store.session() as session:
        ensure_watches(session, [("w", "bill", "Watch")])
    yield store
    store.dispose()


def count(store: Store, model: Any) -> int:
    with store.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_first_snapshot_is_a_baseline_then_changes_once(store: Store) -> None:
    first = ingest(store, make_item("referred"), state_differ)
    assert first.baseline and first.new_snapshot and first.changes == []
    again = ingest(store, make_item("referred"), state_differ)
    assert not again.new_snapshot and again.changes == []
    moved = ingest(store, make_item("passed_house"), state_differ)
    assert [c.summary for c in moved.changes] == ["now passed_house"]
    # Back and forth: the snapshot already exists; the change's dedupe key is already recorded.
    ingest(store, make_item("referred"), state_differ)
    repeat = ingest(store, make_item("passed_house"), state_differ)
    assert repeat.changes == []
    assert count(store, m.Change) == 2  # passed_house once, referred once
    assert count(store, m.Snapshot) == 2


def test_snapshot_keeps_canonical_json_and_compressed_raw(store: Store) -> None:
    item = make_item("referred", raw=b"<billStatus>raw</billStatus>")
    ingest(store, item, state_differ)
    with store.session() as session:
        snap = session.scalars(select(m.Snapshot)).one()
        assert json.loads(snap.content) == item.content.dump()
        assert snap.content == json.dumps(item.content.dump(), sort_keys=True, separators=(",", ":"))
        assert load_record("bill", snap.content) == item.content
        assert zlib.decompress(snap.raw) == b"<billStatus>raw</billStatus>"
        assert "abc123secret" not in (snap.raw_url or "")
        validator = session.scalars(select(m.HttpValidator)).one()
        assert validator.etag == '"e1"' and "abc123secret" not in validator.url


def test_discovered_entity_is_news_only_after_the_watch_baseline(store: Store) -> None:
    calls: list[Any] = []

    def differ(old: Any, new: Any, key: str) -> list[Change]:
        calls.append(old)
        return [Change("bill.introduced", key, "found", dedupe_key(key, "bill.introduced"))]

    ingest(store, make_item("introduced", key="bill:hr2-117", discovered=True), differ)
    assert calls == []  # watch has no baseline yet: silent
    mark_baselines(store, ["w"])
    result = ingest(store, make_item("introduced", key="bill:hr3-117", discovered=True), differ)
    assert calls == [None] and [c.kind for c in result.changes] == ["bill.introduced"]


def test_failing_hook_rolls_back_the_whole_entity(store: Store) -> None:
    ingest(store, make_item("referred"), state_differ)

    def broken_hook(session: Any, change: m.Change) -> None:
        raise RuntimeError("outbox write failed")

    with pytest.raises(RuntimeError):
        ingest(store, make_item("passed_house"), state_differ, on_change=broken_hook)
    # Nothing half-written: no change, the old snapshot still current.
    assert count(store, m.Change) == 0
    with store.session() as session:
        entity = session.get(m.Entity, "bill:hr1-117")
        snap = session.get(m.Snapshot, entity.current_snapshot_id)
        assert json.loads(snap.content)["stage"] == "referred"
    # The next crawl records it.
    assert [c.kind for c in ingest(store, make_item("passed_house"), state_differ).changes] == ["bill.stage"]


def test_a_new_parser_versions_first_snapshot_is_a_baseline(store: Store) -> None:
    """What appears only because a parser changed is not news; the next real change is."""
    ingest(store, make_item("referred"), state_differ)
    upgraded = ingest(store, make_item("reported", parser_version="2"), state_differ)
    assert upgraded.new_snapshot and upgraded.baseline and upgraded.changes == []
    assert [c.kind for c in ingest(store, make_item("passed_house", parser_version="2"), state_differ).changes] == [
        "bill.stage"]


def test_a_new_parser_that_says_the_same_leaves_the_next_change_news(store: Store) -> None:
    ingest(store, make_item("referred"), state_differ)
    same = ingest(store, make_item("referred", parser_version="2"), state_differ)
    assert not same.new_snapshot and same.changes == []
    assert [c.kind for c in ingest(store, make_item("passed_house", parser_version="2"), state_differ).changes] == [
        "bill.stage"]


def test_an_entity_a_second_watch_comes_upon_changes_as_news_and_one_no_watch_held_is_a_baseline(
        store: Store) -> None:
    """A matter on two committees' agendas (two watches of one Legistar client) stays news when the
    second watch first carries it; an entity back after no watch held it (a meeting of a body its
    watch had let go) is a baseline, its next change news."""
    with store.session() as session:
        ensure_watches(session, [("w2", "bill", "Second watch")])
    ingest(store, make_item("referred"), state_differ)

    def seen_by(watch: str, state: str) -> Item:
        item = make_item(state)
        item.watch_ids = [watch]
        return item

    assert [c.kind for c in ingest(store, seen_by("w2", "reported"), state_differ).changes] == ["bill.stage"]
    with store.session() as session:
        session.execute(m.WatchEntity.__table__.delete())  # what runs.finish_runs does for an unfollowed body
    back = ingest(store, seen_by("w", "passed_house"), state_differ)
    assert back.baseline and back.changes == []
    assert [c.kind for c in ingest(store, seen_by("w", "enacted"), state_differ).changes] == ["bill.stage"]


def test_change_ids_only_grow(store: Store) -> None:
    ids = []
    for state in ["a", "b", "c", "d"]:
        ids += [c.id for c in ingest(store, make_item(state), state_differ).changes]
    assert ids == sorted(ids) and len(set(ids)) == 3


def test_store_reopens_without_migrating_again(db_url: str) -> None:
    Store(db_url).dispose()
    from tracker.store import current_revision

    store = Store(db_url)
    assert current_revision(store.engine) == migration_heads()[0]
    assert current_revision(store.engine) == newest_migration()
