"""Benchmark: write the digest for 200 bills, 2,000 meetings and 20,000 changes (SQLite).

Bills are the real fixtures parsed once and stored under varied numbers; meetings and changes are
generated rows. Prints the seconds (wall and CPU: on a shared machine the CPU time is the figure to
compare) and peak memory (ru_maxrss) of `write_site`.

    python bench/digest.py [--shared N] [--hours H] [--code CHECKOUT]

`--shared N` adds N more meeting watches holding every meeting (campaigns sharing a council: one
card a meeting, each watch its own feed and calendar); `--hours H` spaces the meetings H hours
apart (6: about 120 in the next 30 days; 0.5: about 960), where a step quadratic in the meetings
shown would show. `--code` runs another checkout's digest (A/B of a change, same data).
"""

from __future__ import annotations

import argparse
import copy
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The code under test: this checkout, or the one `--code` names (read before the first import).
CODE = Path(sys.argv[sys.argv.index("--code") + 1]).resolve() if "--code" in sys.argv[:-1] else ROOT
sys.path.insert(0, str(CODE))

from sqlalchemy import insert  # noqa: E402

from tracker import models as m  # noqa: E402
from tracker.bills.billstatus import parse_billstatus  # noqa: E402
from tracker.config import load_config  # noqa: E402
from tracker.digest import write_site  # noqa: E402
from tracker.records import canonical_json, content_hash  # noqa: E402
from tracker.store import Store, ensure_watches  # noqa: E402

BILLS, MEETINGS, CHANGES = 200, 2000, 20000


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    args.add_argument("--shared", type=int, default=0, help="more meeting watches holding every meeting")
    args.add_argument("--hours", type=float, default=6.0, help="hours between two meetings")
    args.add_argument("--code", type=Path, help="a checkout whose digest to run (default: this one)")
    opts = args.parse_args()
    shared = [f"campaign{n}" for n in range(opts.shared)]
    fixtures = [parse_billstatus(p.read_bytes()).dump() for p in sorted((ROOT / "tests/data/federal").glob("BILLSTATUS-*.xml"))]
    now = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
    with tempfile.TemporaryDirectory() as tmp:
        numbers = [f"hr{30000 + i}-117" for i in range(BILLS)]
        path = Path(tmp) / "tracker.toml"
        path.write_text('[storage]\nurl = "sqlite:///bench.db"\n'
                        f'[[bills]]\nid = "bills"\nname = "Bills"\nnumbers = {numbers!r}\n'.replace("'", '"')
                        + "".join(f'[[meetings]]\nid = "{w}"\nname = "{w.title()}"\nical = "https://example.org/c.ics"\n'
                                  for w in ["council", *shared]))
        config = load_config(path, env={})
        store = Store(config.database_url)
        with store.session() as session:
            ensure_watches(session, [("bills", "bill", "Bills"), ("council", "meeting", "Council"),
                                     *((w, "meeting", w.title()) for w in shared)])
        entities, snapshots, links, changes = [], [], [], []
        for i, number in enumerate(numbers):
            bill = copy.deepcopy(fixtures[i % len(fixtures)])
            bill.update(number=number, display=f"H.R. {30000 + i}", congress=117, type="hr")
            key = f"bill:{number}"
            entities.append({"key": key, "kind": "bill", "source_id": "govinfo", "first_seen": now, "last_seen": now,
                             "current_snapshot_id": i + 1})
            snapshots.append({"id": i + 1, "entity_key": key, "hash": content_hash(bill), "content": canonical_json(bill),
                              "fetched_at": now, "parser": "bench"})
            links.append({"watch_id": "bills", "entity_key": key})
        for j in range(MEETINGS):
            key = f"meeting:ical:council:{j}"
            start = now + timedelta(hours=opts.hours * j - 24 * 20)
            meeting = {"source": "ical", "source_ref": str(j), "body": "City Council", "title": f"Meeting {j}",
                       "start": start.isoformat(), "date": start.date().isoformat(), "time_tbd": False,
                       "timezone": "America/New_York", "location": "City Hall", "status": "cancelled" if j % 17 == 0 else "confirmed",
                       "items": [{"title": f"Police budget item {j}", "keywords": ["police"], "matter": f"Int {j}"}]}
            sid = BILLS + j + 1
            entities.append({"key": key, "kind": "meeting", "source_id": "ical:council", "first_seen": now,
                             "last_seen": now, "current_snapshot_id": sid})
            snapshots.append({"id": sid, "entity_key": key, "hash": content_hash(meeting),
                              "content": canonical_json(meeting), "fetched_at": now, "parser": "bench"})
            links += [{"watch_id": w, "entity_key": key} for w in ["council", *shared]]
        for k in range(CHANGES):
            key = f"bill:{numbers[k % BILLS]}"
            changes.append({"dedupe_key": f"bench-{k}", "kind": "bill.action", "entity_key": key, "watch_id": "bills",
                            "summary": f"H.R. {30000 + k % BILLS} (117th): action {k}", "data": {"date": "2026-11-24"},
                            "url": "https://www.congress.gov/", "detected_at": now - timedelta(minutes=k),
                            "occurred_at": "2026-11-24"})
        with store.session() as session:
            session.execute(insert(m.Entity), entities)
            session.execute(insert(m.Snapshot), snapshots)
            session.execute(insert(m.WatchEntity), links)
            session.execute(insert(m.Change), changes)
        import os

        os.environ["TRACKER_NOW"] = now.isoformat()
        started, cpu = time.perf_counter(), time.process_time()
        if os.environ.get("BENCH_PROFILE"):
            import cProfile
            import pstats

            with cProfile.Profile() as profile:
                site = write_site(store, config, config.digest_dir)
            pstats.Stats(profile).sort_stats(os.environ.get("BENCH_PROFILE", "cumulative")).print_stats(45)
        else:
            site = write_site(store, config, config.digest_dir)  # `[digest] out`: the news mark is recorded too
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        files = sum(1 for _ in site.rglob("*") if _.is_file())
        print(f"{BILLS} bills, {MEETINGS} meetings ({1 + opts.shared} watch{'es' if opts.shared else ''}, {opts.hours:g} h apart), {CHANGES} changes -> {files} files in {seconds:.2f} s "
              f"({cpu:.2f} s CPU: the machine may be shared); "
              f"peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB (target < 5 s, < 300 MB)")


if __name__ == "__main__":
    main()
