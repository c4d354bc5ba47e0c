"""Benchmark: the digest's reading of bills' earlier states for hearings since called off
(`digest._earlier_states`), on a store with history: 20 bills, each with 60 earlier states of a
100 KB record naming a committee hearing (the real H.R. 1155 of the 114th Congress, its actions
repeated to a busy bill's size), stored in the last 180 days.

Prints the fastest of 3 reads (wall seconds: the database does most of the work) on SQLite and, when
it answers, PostgreSQL at 127.0.0.1:5432 (a database made and dropped for the run). `--code` reads
with another checkout's digest (A/B of a change, same data).

    python bench/hearing_history.py [--code CHECKOUT]
"""

from __future__ import annotations

import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CODE = Path(sys.argv[sys.argv.index("--code") + 1]).resolve() if "--code" in sys.argv[:-1] else ROOT
sys.path.insert(0, str(CODE))

from tracker import digest  # noqa: E402
from tracker import models as m  # noqa: E402
from tracker.bills.billstatus import parse_billstatus  # noqa: E402
from tracker.records import canonical_json, text_hash  # noqa: E402
from tracker.store import Store  # noqa: E402

BILLS, STATES, SIZE = 20, 60, 100_000
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def record() -> dict[str, object]:
    """H.R. 1155 (it names a committee hearing) as stored, its actions repeated to about SIZE bytes."""
    bill = parse_billstatus((ROOT / "tests/data/federal/BILLSTATUS-114hr1155.xml").read_bytes())
    data = bill.dump()
    actions = list(data.get("actions") or [])
    data["actions"] = actions * max(1, SIZE // len(canonical_json(actions)))
    return data


def fill(store: Store) -> list[str]:
    data, keys = record(), []
    with store.session() as session:
        for b in range(BILLS):
            key = f"bill:hr{b + 1}-118"
            keys.append(key)
            session.add(m.Entity(key=key, kind="bill", source_id="govinfo", first_seen=NOW, last_seen=NOW))
            session.flush()
            last = None
            for state in range(STATES + 1):
                data["title"] = f"state {state}"  # each state its own text, as a cosponsor more makes it
                text = canonical_json(data)
                snapshot = m.Snapshot(entity_key=key, content=text, hash=text_hash(text),
                                      fetched_at=NOW - timedelta(days=1), parser="bench")
                session.add(snapshot)
                session.flush()
                last = snapshot.id
            session.get(m.Entity, key).current_snapshot_id = last
    return keys


def measure(url: str) -> float:
    store = Store(url)
    keys = fill(store)
    times = []
    for _ in range(3):
        with store.session() as session:
            started = time.perf_counter()
            digest._earlier_states(session, keys, NOW - digest.HEARINGS_LOOKBACK)
            times.append(time.perf_counter() - started)
    store.dispose()
    return min(times)


def main() -> None:
    print(f"{BILLS} bills x {STATES} earlier states of {SIZE // 1000} KB, code {CODE}")
    with tempfile.TemporaryDirectory() as folder:
        print(f"SQLite: {measure(f'sqlite:///{folder}/bench.db'):.2f} s")
    try:
        import psycopg

        name = f"tracker_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres", autocommit=True,
                             connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except Exception as exc:  # no server here: SQLite's figure alone
        print(f"PostgreSQL: not measured ({type(exc).__name__})")
        return
    try:
        print(f"PostgreSQL: {measure(f'postgresql+psycopg://postgres@127.0.0.1:5432/{name}'):.2f} s")
    finally:
        with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
