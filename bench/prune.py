"""Benchmark: Run rows at scale (`[storage] keep_runs_days`). A database holds the runs of SOURCES
meeting sources crawled every 15 minutes for DAYS days (one run per source per cycle, as crawls
write them). Measured: the first prune, which lets go of all but the last 30 days (the one after
an upgrade to a version that prunes), and how long another writer waits meanwhile (a thread
writing one small transaction after another, as a second crawl or `notify` would); then, with 30
days of runs held (what a database holds from then on), a crawl's prune and `status`'s reading of
every source's health (`tracker status`, `status --check`).

    python bench/prune.py [--sources 200] [--days 60] [--postgres]

`--postgres` uses a new database on 127.0.0.1:5432 (user postgres), dropped at the end.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text

from tracker import models as m
from tracker.config import Config, load_config
from tracker.health import problems
from tracker.runs import prune_runs
from tracker.store import Store
from tracker.views import source_health

NOW = datetime(2026, 12, 1, tzinfo=UTC)
CYCLE = timedelta(minutes=15)
KEEP = timedelta(days=30)


def fill(store: Store, sources: int, days: int) -> int:
    """A run of every source each cycle, all finished; every tenth cycle's failed."""
    cycles = int(timedelta(days=days) / CYCLE)
    for n in range(cycles):
        started = NOW - CYCLE * (cycles - n)
        with store.session() as session:
            session.execute(insert(m.Run), [
                {"source_id": f"source-{s}", "started_at": started, "finished_at": started + timedelta(seconds=20),
                 "ok": n % 10 != 0, "items": 30, "pid": 1, "host": "bench"} for s in range(sources)])
    return cycles * sources


def writer(store: Store, stop: threading.Event, waits: list[float]) -> None:
    """One small write transaction after another; how long each took from asking to commit."""
    while not stop.is_set():
        asked = time.perf_counter()
        with store.session() as session:
            session.execute(text("UPDATE runs SET items = items WHERE id = (SELECT MAX(id) FROM runs)"))
        waits.append(time.perf_counter() - asked)
        time.sleep(0.02)


def timed(step: Callable[[], object], times: int = 3) -> float:
    """The fastest of a few runs, in seconds."""
    best = float("inf")
    for _ in range(times):
        started = time.perf_counter()
        step()
        best = min(best, time.perf_counter() - started)
    return best


def measure(url: str, work: Path, sources: int, days: int) -> None:
    config_file = work / "tracker.toml"
    config_file.write_text(f'[storage]\nurl = "{url}"\n' + "".join(
        f'[[meetings]]\nid = "source-{s}"\nname = "Board {s}"\ntimezone = "America/Detroit"\n'
        f'ical = "http://127.0.0.1:1/{s}.ics"\n' for s in range(sources)))
    config = load_config(config_file, env={})
    store = Store(url)
    rows = fill(store, sources, days)
    ids = [f"source-{n}" for n in range(sources)]
    waits: list[float] = []
    stop = threading.Event()
    other = threading.Thread(target=writer, args=(store, stop, waits))
    other.start()
    started = time.perf_counter()
    deleted = prune_runs(store, ids, NOW - KEEP, 3)
    took = time.perf_counter() - started
    stop.set()
    other.join()
    print(f"{store.engine.dialect.name}: {rows:,} runs of {sources} sources over {days} days")
    print(f"  first prune: {deleted:,} deleted in {took:.1f} s; another writer meanwhile: {len(waits)} "
          f"transactions, longest wait {max(waits):.2f} s, median {statistics.median(waits) * 1000:.1f} ms")
    print(f"  then, with 30 days held: a crawl's prune {timed(lambda: prune_runs(store, ids, NOW - KEEP, 3)):.2f} s; "
          f"status's source health {timed(lambda: _health(store, config)):.2f} s; "
          f"status --check {timed(lambda: problems(store, config, work)):.2f} s (fastest of 3)")
    store.dispose()


def _health(store: Store, config: Config) -> None:
    with store.session() as session:
        source_health(session, config)


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    args.add_argument("--sources", type=int, default=200)
    args.add_argument("--days", type=int, default=60)
    args.add_argument("--postgres", action="store_true", help="a new database on 127.0.0.1:5432")
    opts = args.parse_args()
    with tempfile.TemporaryDirectory() as work:
        if not opts.postgres:
            measure(f"sqlite:///{Path(work) / 'bench.db'}", Path(work), opts.sources, opts.days)
            return
        import psycopg

        name = f"tracker_bench_{uuid.uuid4().hex[:10]}"
        admin = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            measure(f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}", Path(work), opts.sources, opts.days)
        finally:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
