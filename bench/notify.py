"""Benchmark: the outbox and apprise dispatch, 1,000 changes x 50 subscribers.

Each subscriber's target is a custom apprise notification registered in-process (`bench://`): real
apprise dispatch, no socket, so the figure is our bookkeeping plus apprise's own overhead. Changes
come `--per-crawl` at a time from one crawl of one bill, so each subscriber gets one message per
crawl (the rows of a message are claimed together and marked sent together).
Prints deliveries/s (rows) and messages/s for owing and for sending, each phase's CPU time (the
figure to compare on a shared machine), and peak memory. `--code CHECKOUT` runs another checkout's
code on the same data (an A/B of a change; run the two in turn, more than once).

    python bench/notify.py [--changes 1000] [--subscribers 50] [--per-crawl 4] [--code CHECKOUT]
    python bench/notify.py --people 1000 [--per-change]

With `--people N`, N self-service subscribers (active people, mailed through `[alerts] mail_url`)
follow the watch too and only owing is measured: people loaded once for the run as a crawl does
(`--per-change`: read again for every change, as `owe_instant` does without them).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# The code under test: this checkout, or the one `--code` names (read before the first import).
CODE = Path(sys.argv[sys.argv.index("--code") + 1]).resolve() if "--code" in sys.argv[:-1] else ROOT
sys.path.insert(0, str(CODE))

import apprise  # noqa: E402
from apprise.decorators import notify as apprise_notify  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from tracker import clock  # noqa: E402
from tracker import models as m  # noqa: E402
from tracker.alerts.notifier import notify  # noqa: E402
from tracker.changes import Change, dedupe_key  # noqa: E402
from tracker.config import load_config  # noqa: E402
from tracker.outbox import active_people, owe_instant, sync_subscribers  # noqa: E402
from tracker.records import Bill, Item  # noqa: E402
from tracker.store import Store, ensure_watches, ingest  # noqa: E402

RECEIVED: list[str] = []


@apprise_notify(on="bench")
def bench_target(body: str, title: str, notify_type: str, *args: Any, **kwargs: Any) -> bool:
    RECEIVED.append(title)
    return True


def bill(n: int) -> Bill:
    return Bill(number="hr1-119", congress=119, type="hr", display="H.R. 1", title=f"state {n}", stage="referred")


def differ(old: Bill | None, new: Bill, key: str) -> list[Change]:
    if old is None:
        return []
    return [Change("bill.action", key, f"{key}: action {new.title}", dedupe_key(key, "a", new.title),
                   {"date": "2026-11-24", "code": None, "text": f"action {new.title}", "chamber": "House"},
                   "https://www.congress.gov/", "2026-11-24")]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--changes", type=int, default=1000)
    parser.add_argument("--subscribers", type=int, default=50)
    parser.add_argument("--per-crawl", type=int, default=4, help="changes of one bill found by one crawl")
    parser.add_argument("--people", type=int, default=0, help="active people following the watch (owing only)")
    parser.add_argument("--per-change", action="store_true", help="with --people: read them for every change")
    parser.add_argument("--code", type=Path, help="a checkout whose code to run (default: this one)")
    args = parser.parse_args()
    os.environ.setdefault("TRACKER_NOW", "2026-11-24T14:00:00Z")
    with tempfile.TemporaryDirectory() as tmp:
        subs = "".join(f'[[subscribers]]\nid = "s{i}"\nnotify = ["bench://target/{i}"]\n' for i in range(args.subscribers))
        path = Path(tmp) / "tracker.toml"
        people = ('[alerts]\nmail_url = "mailto://127.0.0.1:9?smtp=127.0.0.1&from=t@example.org"\n'
                  '[serve]\npublic_url = "https://alerts.example.org"\n') if args.people else ""
        path.write_text(f'[storage]\nurl = "sqlite:///bench.db"\n{people}[[bills]]\nid = "w"\nname = "W"\n'
                        f'numbers = ["hr1-119"]\n{subs}')
        config = load_config(path, env={})
        store = Store(config.database_url)
        with store.session() as session:
            ensure_watches(session, [("w", "bill", "W")])
            now = clock.now()
            session.add_all(m.Person(address=f"p{i}@example.org", status="active", mode="instant", bounces=0,
                                     created_at=now, updated_at=now, confirmed_at=now) for i in range(args.people))
            session.flush()
            sync_subscribers(session, config)
            loaded = active_people(session, config)
        ingest(store, Item(key="bill:hr1-119", kind="bill", source_id="govinfo", watch_ids=["w"], content=bill(-1)),
               differ)
        with store.session() as session:
            runs = [m.Run(source_id="govinfo", started_at=clock.now()) for _ in range(-(-args.changes // args.per_crawl))]
            session.add_all(runs)
            session.flush()
            run_ids = [run.id for run in runs]

        def owe(session: Any, change: Any) -> None:
            owe_instant(session, change, config, None if args.per_change else loaded)

        started, cpu = time.perf_counter(), time.process_time()
        for n in range(args.changes):
            ingest(store, Item(key="bill:hr1-119", kind="bill", source_id="govinfo", watch_ids=["w"], content=bill(n)),
                   differ, on_change=owe, run_id=run_ids[n // args.per_crawl])
        owing, owing_cpu = time.perf_counter() - started, time.process_time() - cpu
        total = args.changes * (args.subscribers + args.people)
        print(f"apprise {apprise.__version__}; SQLite; {args.changes} changes x {args.subscribers} subscribers"
              + (f" + {args.people} people ({'read every change' if args.per_change else 'read once'})"
                 if args.people else ""))
        print(f"owe:  {total / owing:8.0f} deliveries/s  {owing:6.2f} s  ({owing / total * 1e3:.3f} ms each, "
              f"{owing / args.changes * 1e3:.1f} ms a change, in the changes' own transactions; CPU {owing_cpu:.2f} s)")
        if args.people:
            return  # people are mailed over SMTP: sending them is tests/test_people_mail.py's
        started, cpu = time.perf_counter(), time.process_time()
        report = notify(store, config)
        sending, sending_cpu = time.perf_counter() - started, time.process_time() - cpu
        messages = len(run_ids) * args.subscribers
        assert report.sent == messages == len(RECEIVED), (report, len(RECEIVED))
        with store.session() as session:
            assert session.scalar(select(func.count()).where(m.Delivery.status == "sent")) == total
        print(f"send: {total / sending:8.0f} deliveries/s  {sending:6.2f} s  ({messages / sending:.0f} messages/s of "
              f"{args.per_crawl} changes each: claim + render + apprise + one commit per message; CPU {sending_cpu:.2f} s, "
              f"{total / sending_cpu:.0f} deliveries/s of CPU)")
        print(f"peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB; target >= 1,000 deliveries/s")


if __name__ == "__main__":
    main()
