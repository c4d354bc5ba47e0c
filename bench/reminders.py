"""Benchmark: owing reminders, the step every `tracker notify` runs before it claims.

A watched body with `--meetings` stored meetings (a third ahead, the rest held in the past years, as
a long-running tracker keeps them), each with a matching agenda item, and `--subscribers`
subscribers asking for ["2d", "morning"]. Prints the time of a pass with nothing due (most notify
runs), of a pass owing one reminder per subscriber and meeting due, and of the pass after it (all
already owed: ON CONFLICT DO NOTHING), and the rows owed.

    python bench/reminders.py [--meetings 2000] [--subscribers 20] [--db-url postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tracker.config import load_config  # noqa: E402
from tracker.outbox import sync_subscribers  # noqa: E402
from tracker.records import Item, Meeting  # noqa: E402
from tracker.reminders import owe_reminders  # noqa: E402
from tracker.store import Store, ensure_watches, ingest  # noqa: E402

NOW = datetime(2026, 12, 2, 14, 0, tzinfo=UTC)


def meeting(n: int, start: datetime) -> Meeting:
    return Meeting(source="legistar", source_ref=str(n), body="Committee on Public Safety",
                   title="Committee on Public Safety", date=start.date().isoformat(), timezone="America/New_York",
                   start=start.isoformat(), location="City Hall", url=f"https://nyc.legistar.com/MeetingDetail.aspx?ID={n}",
                   items=[{"key": str(n), "title": f"Oversight - NYPD item {n}", "keywords": ["NYPD"]}])


def timed(store: Store, config: object, now: datetime, repeat: int = 1) -> tuple[float, int]:
    """The median time of `repeat` passes at `now`, and what the first one owed."""
    os.environ["TRACKER_NOW"] = now.isoformat().replace("+00:00", "Z")
    times, owed = [], 0
    for n in range(repeat):
        began = time.perf_counter()
        count = owe_reminders(store, config)  # type: ignore[arg-type]
        times.append(time.perf_counter() - began)
        owed = count if n == 0 else owed
    return statistics.median(times), owed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--meetings", type=int, default=2000)
    parser.add_argument("--subscribers", type=int, default=20)
    parser.add_argument("--db-url", default=None)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-reminders-"))
    url = args.db_url or f"sqlite:///{folder / 'tracker.db'}"
    subscribers = "".join(f'[[subscribers]]\nid = "p{n}"\nnotify = ["json://127.0.0.1:9/p{n}"]\n'
                          f'reminders = ["2d", "morning"]\n' for n in range(args.subscribers))
    (folder / "tracker.toml").write_text(f'''[storage]
url = "{url}"
[[meetings]]
id = "safety"
name = "Stop ShotSpotter"
timezone = "America/New_York"
legistar = {{ client = "nyc", bodies = ["Committee on Public Safety"] }}
keywords = ["NYPD"]
{subscribers}''')
    config = load_config(folder / "tracker.toml", env={})
    store = Store(config.database_url)
    with store.session() as session:
        ensure_watches(session, [("safety", "meeting", "Stop ShotSpotter")])
        sync_subscribers(session, config)
    ahead = args.meetings // 3
    for n in range(args.meetings):
        # the ones ahead: one every 7 hours from 3 days out; the rest: one a day back over the years
        start = NOW + timedelta(days=3, hours=7 * n) if n < ahead else NOW - timedelta(days=n - ahead + 1)
        ingest(store, Item(key=f"meeting:legistar:nyc:{n}", kind="meeting", source_id="legistar:safety",
                           watch_ids=["safety"], content=meeting(n, start)), lambda old, new, key: [])
    idle, none = timed(store, config, NOW, 7)
    due_at = NOW + timedelta(days=2)  # the 2d reminders of the meetings in the next ~day are due
    busy, owed = timed(store, config, due_at)
    again, more = timed(store, config, due_at, 7)
    print(f"{args.meetings} meetings ({ahead} ahead), {args.subscribers} subscribers asking for 2 reminders, "
          f"{'PostgreSQL' if url.startswith('postgresql') else 'SQLite'}")
    print(f"  nothing due (median of 7): {idle * 1000:7.1f} ms ({none} owed)")
    print(f"  reminders due:             {busy * 1000:7.1f} ms ({owed} owed)")
    print(f"  the pass after (median):   {again * 1000:7.1f} ms ({more} owed)")


if __name__ == "__main__":
    main()
