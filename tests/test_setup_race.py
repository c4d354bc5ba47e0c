"""Runners starting together on a new config: `ensure_watches` and `sync_subscribers` run at once
in separate processes (spawned, released together by a barrier) on SQLite and on the real
PostgreSQL. None may fail, each watch, follow and bundle mark must exist once, and a follow that
was already recorded keeps where it started (a later writer never moves it)."""

from __future__ import annotations

import multiprocessing as mp
import traceback
from multiprocessing.synchronize import Barrier
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tracker import models as m
from tracker.changes import Change, dedupe_key
from tracker.config import Config, load_config
from tracker.outbox import sync_subscribers
from tracker.records import Bill, Item
from tracker.store import Store, ensure_watches, ingest, max_change_id, newest_migration

PROCESSES = 6
ROUNDS = 3  # each round adds new watches and subscribers, so each round is a fresh race
NOTIFY = 'notify = ["json://127.0.0.1:9/hook"]'


def write_config(tmp_path: Path, db_url: str, rounds: int) -> Path:
    """The first watch and subscriber ("police", "early"), plus three watches and two subscribers
    (one instant, one daily: a bundle mark) for each round; "early" follows every watch."""
    parts = [f'[storage]\nurl = "{db_url}"\n',
             '[[bills]]\nid = "police"\nname = "Police"\nnumbers = ["s35-117"]\n',
             f'[[subscribers]]\nid = "early"\n{NOTIFY}\nmode = "daily"\n']
    for r in range(rounds):
        for w in range(3):
            parts.append(f'[[bills]]\nid = "r{r}-w{w}"\nname = "Round {r} watch {w}"\nnumbers = ["hr{100 + 10 * r + w}-117"]\n')
        parts.append(f'[[subscribers]]\nid = "r{r}-instant"\n{NOTIFY}\nfollow = ["police", "r{r}-w0", "r{r}-w1"]\n')
        parts.append(f'[[subscribers]]\nid = "r{r}-daily"\n{NOTIFY}\nmode = "daily"\n')
    path = tmp_path / f"tracker-{rounds}.toml"
    path.write_text("\n".join(parts))
    return path


def setup(session_config: Config, store: Store) -> None:
    """What `run_crawls` and `cluster.prepare` do first (without the cluster's advisory lock)."""
    with store.session() as session:
        ensure_watches(session, [(w.id, "bill", w.name) for w in session_config.bills])
        sync_subscribers(session, session_config)


def racer(paths: list[str], barrier: Barrier, errors: mp.Queue) -> None:  # type: ignore[type-arg]
    """One runner: for each round, wait for the others, then record that round's config."""
    store = Store(load_config(paths[0]).database_url, migrate=False)
    try:
        for path in paths:
            config = load_config(path)
            barrier.wait(timeout=60)
            try:
                setup(config, store)
            except Exception:
                errors.put(traceback.format_exc(limit=3))
    finally:
        store.dispose()


def stage_differ(old: Bill | None, new: Bill, key: str) -> list[Change]:
    if old is None or old.stage == new.stage:
        return []
    return [Change("bill.stage", key, f"S. 35 {new.stage}", dedupe_key(key, "bill.stage", new.stage),
                   {"from": old.stage, "to": new.stage}, "https://www.congress.gov/", "2021-02-12")]


def record_change(store: Store) -> None:
    """One real change of the "police" watch, so follows recorded after it start later."""
    for stage in ("introduced", "passed_senate"):
        bill = Bill(number="s35-117", display="S. 35", congress=117, type="s", stage=stage, title="Gold Medal Act")
        ingest(store, Item(key="bill:s35-117", kind="bill", source_id="govinfo", watch_ids=["police"], content=bill),
               stage_differ)


def run_race(tmp_path: Path, db_url: str) -> None:
    first = load_config(write_config(tmp_path, db_url, 0))
    store = Store(first.database_url)  # the schema exists before the runners start (as after `tracker init`)
    setup(first, store)  # "early" follows "police" from change 0...
    record_change(store)  # ...and a change is recorded after that
    with store.session() as session:
        start = max_change_id(session)
    assert start > 0

    paths = [str(write_config(tmp_path, db_url, r + 1)) for r in range(ROUNDS)]
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(PROCESSES)
    errors = ctx.Queue()
    procs = [ctx.Process(target=racer, args=(paths, barrier, errors)) for _ in range(PROCESSES)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=180)
    failures = []
    while not errors.empty():
        failures.append(errors.get())
    assert failures == [], "a runner failed:\n" + "\n".join(failures)
    assert [p.exitcode for p in procs] == [0] * PROCESSES

    config = load_config(paths[-1])
    with store.session() as session:
        watches = [(w, n) for w, n in session.execute(select(m.Watch.id, func.count()).group_by(m.Watch.id))]
        assert sorted(watches) == sorted((w.id, 1) for w in config.bills)
        follows = {(f.subscriber_id, f.watch_id): f.since_change_id for f in session.scalars(select(m.Follow))}
        marks = {b.subscriber_id: b.last_change_id for b in session.scalars(select(m.BundleMark))}
    # Every follow once (primary key), none missing, none extra.
    expected = {(s.id, w) for s in config.subscribers for w in (s.follow or config.watch_ids)}
    assert set(follows) == expected
    # The follow recorded before the change keeps its start; the racers' rows start at the change.
    assert follows.pop(("early", "police")) == 0
    assert set(follows.values()) == {start}
    assert marks.pop("early") == 0
    assert marks == {f"r{r}-daily": start for r in range(ROUNDS)}
    store.dispose()


@pytest.mark.slow
def test_runners_starting_together_record_each_row_once(tmp_path: Path, db_url: str) -> None:
    run_race(tmp_path, db_url)


def opener(url: str, barrier: Barrier, errors: mp.Queue) -> None:  # type: ignore[type-arg]
    """One process opening the store (creating or migrating its schema) as the others do."""
    barrier.wait(timeout=60)
    try:
        Store(url).dispose()
    except Exception:
        errors.put(traceback.format_exc(limit=3))


@pytest.mark.slow
def test_processes_opening_a_new_database_at_once_all_start(db_url: str) -> None:
    """Cluster runners started together on a new database each create its schema: on PostgreSQL
    all but one failed on its catalogue (a unique violation in pg_type; found by a review), so one
    migrates while the others wait, then find the schema made."""
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(PROCESSES)
    errors = ctx.Queue()
    procs = [ctx.Process(target=opener, args=(db_url, barrier, errors)) for _ in range(PROCESSES)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=180)
    failures = []
    while not errors.empty():
        failures.append(errors.get())
    assert failures == [], "a process failed:\n" + "\n".join(failures)
    assert [p.exitcode for p in procs] == [0] * PROCESSES
    store = Store(db_url)
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalars().all() == [newest_migration()]
    store.dispose()
