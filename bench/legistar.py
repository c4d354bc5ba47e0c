"""Benchmark: Legistar sync through the real engine against the loopback Legistar API.

20,000 events across 50 bodies, made from the real NYC 2023 records (re-numbered, re-dated over
four years, each body a real NYC body name), each with agenda items made from NYC's recorded
eventitems. Politeness is OFF (no download delay, no AutoThrottle, 16 concurrent requests). Runs a
full sync (first crawl of the watch), then an incremental run after 20 events changed (moved,
agenda posted, deferred, an item added). Prints requests, seconds and peak memory for each.
Target: the incremental run < 30 requests (robots.txt and matters included) and < 2 s.

    python bench/legistar.py [--events 20000] [--bodies 50] [--changed 20]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.federal import descendant_pids, vm_hwm_mb  # noqa: E402
from tracker.config import load_config  # noqa: E402
from tracker.crawl import run_crawls  # noqa: E402
from tracker.demo.legistar_api import LegistarApi  # noqa: E402
from tracker.demo.replay import serve  # noqa: E402
from tracker.store import Store  # noqa: E402
from tracker.views import list_changes  # noqa: E402

DATA = ROOT / "tests" / "data" / "local" / "legistar"
NOW = "2026-11-25T12:00:00Z"


def peak_mb() -> tuple[float, float]:
    """Peak resident memory of this process (engine) and of every process it started (the ingest
    worker and multiprocessing's resource tracker), VmHWM."""
    return vm_hwm_mb(), sum(vm_hwm_mb(pid) for pid in descendant_pids())


def make_events(api: LegistarApi, count: int, bodies: int) -> list[int]:
    """Events spread evenly from 2023 to 2026; returns the ids of those in the crawl window."""
    templates = json.loads((DATA / "nyc_events_2023.json").read_text())
    names = sorted({e["EventBodyName"] for e in templates})[:bodies]
    item_rows = json.loads((DATA / "nyc_event_7_eventitems.json").read_text())
    nyc = api.client("nyc")
    first, span = date(2023, 1, 1), (date(2026, 12, 31) - date(2023, 1, 1)).days
    in_window = []
    for i in range(count):
        event = copy.deepcopy(templates[i % len(templates)])
        day = first + timedelta(days=i * span // count)
        event_id = 100000 + i
        event.update(EventId=event_id, EventBodyId=1000 + i % bodies, EventBodyName=names[i % len(names)],
                     EventDate=f"{day.isoformat()}T00:00:00", EventAgendaStatusName="Final")
        nyc.events[event_id] = event
        items = []
        for n, row in enumerate(item_rows * 2):
            item = dict(row, EventItemId=event_id * 10 + n, EventItemEventId=event_id, EventItemAgendaSequence=n + 1,
                        EventItemMatterId=50000 + i % 500)
            if n == 0 and i % 10 == 0:
                item["EventItemTitle"] = "Oversight - NYPD crisis response"  # one in ten meetings matches
            items.append(item)
        nyc.eventitems[event_id] = items
        if date(2026, 10, 26) <= day <= date(2027, 3, 25):
            in_window.append(event_id)
    matter = json.loads((DATA / "nyc_matter_17071.json").read_text())
    histories = json.loads((DATA / "nyc_matter_17071_histories.json").read_text())
    for k in range(500):
        # the status the recorded eventitems show for their matter ("Filed"), as Legistar keeps them in step
        nyc.matters[50000 + k] = dict(matter, MatterId=50000 + k, MatterStatusName=item_rows[0]["EventItemMatterStatus"])
        nyc.histories[50000 + k] = histories
    return in_window


def change_events(api: LegistarApi, ids: list[int], changed: int) -> None:
    """Later state: `changed` meetings moved, deferred, given an agenda or a new matching item."""
    nyc = api.client("nyc")
    step = max(1, len(ids) // changed)
    for n, event_id in enumerate(ids[::step][:changed]):
        event = nyc.events[event_id]
        kind = n % 4
        if kind == 0:
            event["EventTime"] = "6:00 PM"
        elif kind == 1:
            event["EventAgendaStatusName"] = "Deferred"
        elif kind == 2:
            event["EventAgendaFile"] = f"https://nyc.legistar1.com/nyc/meetings/{event_id}_A_Agenda.pdf"
            event["EventAgendaLastPublishedUTC"] = "2026-11-25T11:30:00"
        else:
            event["EventAgendaLastPublishedUTC"] = "2026-11-25T11:45:00"
            extra = dict(nyc.eventitems[event_id][0], EventItemId=event_id * 10 + 9, EventItemAgendaSequence=99,
                         EventItemTitle="Int 0999-2026 - ShotSpotter contract")
            nyc.eventitems[event_id].append(extra)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--bodies", type=int, default=50)
    parser.add_argument("--changed", type=int, default=20)
    args = parser.parse_args()
    os.environ["TRACKER_NOW"] = NOW
    with tempfile.TemporaryDirectory() as tmp, serve() as server:
        api = LegistarApi("/v1")
        server.mount("/v1", api)
        server.robots("User-agent: *\nAllow: /\n")
        in_window = make_events(api, args.events, args.bodies)
        path = Path(tmp) / "tracker.toml"
        path.write_text(f'[storage]\nurl = "sqlite:///bench.db"\n[crawl]\ndelay_seconds = 0\n'
                        f'[sources.legistar]\nbase_url = "{server.url}/v1"\n'
                        f'[[meetings]]\nid = "nyc"\nname = "NYC"\ntimezone = "America/New_York"\n'
                        f'legistar = {{ client = "nyc" }}\nkeywords = ["NYPD", "ShotSpotter", "crisis response"]\n')
        config = load_config(path, env={})
        store = Store(config.database_url)
        print(f"politeness OFF; {args.events:,} events across {args.bodies} bodies, "
              f"{len(in_window):,} in the window (30 days back, 120 ahead)")
        for label in ("full sync", "incremental"):
            if label == "incremental":
                change_events(api, in_window, args.changed)
                os.environ["TRACKER_NOW"] = "2026-11-25T13:00:00Z"
            server.clear_log()
            before = len(list_changes(store))
            started = time.perf_counter()
            (report,) = run_crawls(config, store, polite=False)
            seconds = time.perf_counter() - started
            requests = server.count()
            kinds: dict[str, int] = {}
            for change in list_changes(store)[before:]:
                kinds[change.kind] = kinds.get(change.kind, 0) + 1
            engine, worker = peak_mb()
            print(f"{label:>12}: {requests} requests ({sum(1 for r in server.requests if r.path.endswith('/eventitems'))}"
                  f" eventitems, {sum(1 for r in server.requests if '/matters/' in r.path)} matters, "
                  f"{server.count('/robots.txt')} robots.txt)  {seconds:.2f} s  items {report.items}  "
                  f"errors {len(report.errors)}  peak engine {engine:.0f} MB, every process it started (ingest worker, resource tracker) {worker:.0f} MB")
            if label == "incremental":
                print(f"{'':>12}  changes: {dict(sorted(kinds.items()))}")
                verdict = "met" if requests < 30 and seconds < 2 else "NOT met"
                print(f"target: incremental < 30 requests and < 2 s: {verdict}")


if __name__ == "__main__":
    main()
