"""Benchmark: a national network on one PostgreSQL, on loopback (issue 16).

1. Crawl: `--sources` meeting watches (iCal feeds) spread over `--hosts` loopback hosts
   (127.0.0.2 ...), one `tracker crawl` process, `[crawl] delay_seconds` scaled down to `--delay`.
   Every host is paced on its own, hosts go side by side, so the run takes about the busiest host's
   requests x delay; with the real 1 s delay that is computed from the requests each host got.
   Gaps between two requests to one host are counted by the kernel's receive stamps (when the bytes
   reached a server's socket: the 50 servers' threads share this process's GIL and can run late) and,
   for comparison, by the server threads' clocks.
2. Notify: `--messages` owed deliveries (one per subscriber per change) sent by `tracker notify` to a
   real SMTP server that takes 50 ms a message, with 1, 4 and 8 notifier workers; each message must
   arrive exactly once. The time for `--subscribers` daily messages is projected from the rate.
3. Cluster: three `tracker run --cluster` processes on the crawl's sources; one is killed (`kill -9`)
   mid-run; the next cycle (the clock moved 15 minutes) the two others take its groups. Every source
   must be crawled exactly once per cycle, no change recorded twice, no delivery sent twice.
4. Database growth: the bytes one unchanged cycle and one cycle where every feed changed add,
   made a month of 15-minute cycles with each feed changing weekly.
5. Bills: `--bills` named bills spread over the eight bill types of one Congress, behind GovInfo
   BILLSTATUS packages and sitemaps (bench/federal.py's `write_congress`: derived real files) on a
   loopback server; one `tracker crawl` process (`[sources.govinfo] base_url` at that server, the
   same `--delay`) takes the baseline (the packages), a second one runs with nothing new (the sitemap
   index, maybe a few sitemaps). Requests, bytes and time as the server saw them, peak memory of the
   crawler and its ingest workers; with the real 1 s delay (GovInfo is one host) a run takes about
   its requests x 1 s. Needs no meeting server: runs alone with `--skip crawl,notify,cluster`.

Loopback only, bounded (every process has a timeout), stops by itself; PostgreSQL at 127.0.0.1:5432
(a database `tracker_bench_scale` is created and dropped). Prints one table.

    python bench/scale.py [--sources 1000] [--hosts 50] [--delay 0.5] [--messages 400] [--bills 5000]
                          [--skip crawl,notify,cluster,bills]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import itertools
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


from aiosmtpd.controller import Controller  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402

from bench.federal import CONGRESS, vm_hwm_mb, write_congress  # noqa: E402
from tracker import clock  # noqa: E402
from tracker import models as m  # noqa: E402
from tracker.billnumbers import BILL_TYPES  # noqa: E402
from tracker.demo.packages import package_path  # noqa: E402
from tracker.demo.replay import Logged, ReplayServer  # noqa: E402
from tracker.store import Store  # noqa: E402

ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
DB = "tracker_bench_scale"
URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{DB}"
CYCLES = ["2026-11-24T14:00:00Z", "2026-11-24T14:15:00Z", "2026-11-24T14:30:00Z", "2026-11-24T14:45:00Z"]
CYCLES_PER_MONTH = 30 * 24 * 4  # cron every 15 minutes
TIMEOUT = 900  # seconds, per process


def feed(n: int, status: str = "CONFIRMED") -> bytes:
    """A small real-shaped iCal feed: one board meeting in the window."""
    return (f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//scale//EN\r\nBEGIN:VEVENT\r\nUID:meeting-{n}\r\n"
            f"DTSTAMP:20261101T000000Z\r\nSUMMARY:Board meeting {n}\r\nSTATUS:{status}\r\n"
            f"DTSTART:20261203T230000Z\r\nDTEND:20261204T010000Z\r\nLOCATION:City Hall\r\nEND:VEVENT\r\n"
            f"END:VCALENDAR\r\n").encode()


def replay_on(host: str) -> ReplayServer:
    """A replay server on another loopback address."""
    return ReplayServer(host=host).start()


# -- processes and their peak memory ------------------------------------------------------------------


def descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return found


def process_kind(pid: int) -> str:
    """What a process under a `tracker` command is: multiprocessing's resource tracker, a spawned
    worker (an ingest or notifier worker), or something else (its program name)."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "gone"
    if "resource_tracker" in command:
        return "resource tracker"
    if "spawn_main" in command:
        return "worker"
    return command.split(" ", 1)[0].rsplit("/", 1)[-1] or "?"


class Watched:
    """A `tracker` command as its own process; the peak memory of it and of every process it starts."""

    def __init__(self, config: Path, args: list[str], now: str) -> None:
        env = {**os.environ, "TRACKER_NOW": now}
        env.pop("TRACKER_CONFIG", None)
        self.started = time.monotonic()
        self.proc = subprocess.Popen([sys.executable, "-m", "tracker.cli", "--config", str(config), *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
        self.peaks: dict[int, float] = {}
        self.kinds: dict[int, str] = {}
        self.lock = threading.Lock()
        self.stop = threading.Event()
        threading.Thread(target=self._watch, daemon=True).start()

    def _watch(self) -> None:
        while not self.stop.is_set():
            for pid in descendants(self.proc.pid):
                peak = vm_hwm_mb(pid)
                if self.kinds.get(pid) not in ("worker", "resource tracker"):  # a child seen before its exec
                    self.kinds[pid] = process_kind(pid)
                with self.lock:
                    self.peaks[pid] = max(self.peaks.get(pid, 0.0), peak)
            self.stop.wait(0.1)

    def wait(self) -> tuple[int, str, str, float]:
        try:
            out, err = self.proc.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
        self.stop.set()
        return self.proc.returncode, out, err, time.monotonic() - self.started

    def peak_main(self) -> float:
        return self.peaks.get(self.proc.pid, 0.0)

    def peak_others(self) -> list[float]:
        return [v for pid, v in self.peaks.items() if pid != self.proc.pid]

    def peak_by_kind(self, kind: str) -> list[float]:
        """Peaks of the child processes of one kind (see `process_kind`), largest first."""
        return sorted((v for pid, v in self.peaks.items() if pid != self.proc.pid and self.kinds.get(pid) == kind),
                      reverse=True)


# -- the database -----------------------------------------------------------------------------------


def fresh_database() -> None:
    import psycopg

    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB}"')


def drop_database() -> None:
    import psycopg

    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')


def database_bytes(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_database_size(current_database())")).scalar() or 0)


def arrival(request: Logged) -> float:
    """When a request reached the host: the kernel's receive stamp, else the server thread's time."""
    return request.arrived if request.arrived is not None else request.time


def gap_summary(servers: list[ReplayServer], when: Callable[[Logged], float], delay: float) -> str:
    """Median and smallest gap between consecutive requests to one host, and how many fall below 95%
    of the delay."""
    gaps = []
    for server in servers:
        times = sorted(when(r) for r in server.requests)
        gaps += [b - a for a, b in itertools.pairwise(times)]
    short = sum(1 for g in gaps if g < delay * 0.95)
    return (f"median {sorted(gaps)[len(gaps) // 2]:.3f} s; {short} of {len(gaps)} below 95% of the delay "
            f"(smallest {min(gaps):.3f} s)")


def write_config(path: Path, servers: list[ReplayServer], per_host: int, delay: float, extra: str = "") -> None:
    lines = [f'[storage]\nurl = "{URL}"\n[crawl]\ndelay_seconds = {delay}\n[digest]\nout = "site"\n']
    for h, server in enumerate(servers):
        for s in range(per_host):
            lines.append(f'[[meetings]]\nid = "h{h}s{s}"\nname = "Board {h}-{s}"\ntimezone = "America/Chicago"\n'
                         f'ical = "{server.url}/s{s}.ics"\n')
    path.write_text("".join(lines) + extra)


# -- 1. crawl ---------------------------------------------------------------------------------------


def crawl_part(work: Path, args: argparse.Namespace, rows: list[tuple[str, str]]) -> tuple[list[ReplayServer], int]:
    per_host = args.sources // args.hosts
    servers = [replay_on(f"127.0.0.{2 + h}") for h in range(args.hosts)]
    for h, server in enumerate(servers):
        for s in range(per_host):
            server.add(f"/s{s}.ics", feed(h * per_host + s))
    config = work / "crawl.toml"
    write_config(config, servers, per_host, args.delay)
    store = Store(URL)
    before = database_bytes(store)
    crawl = Watched(config, ["--quiet", "crawl"], CYCLES[0])
    code, _out, err, took = crawl.wait()
    if code != 0:
        print(err[-2000:], file=sys.stderr)
    counts = [len(server.requests) for server in servers]
    stamped = all(r.arrived is not None for server in servers for r in server.requests)
    times = [arrival(r) for server in servers for r in server.requests]
    span = max(times) - min(times)  # first request to last: the crawl itself, without start-up
    busiest = max(counts)
    ideal = busiest * args.delay
    rows.append(("crawl: sources / hosts", f"{per_host * args.hosts} / {args.hosts}"))
    rows.append(("crawl: requests per host (min / max)", f"{min(counts)} / {busiest}"))
    rows.append((f"crawl: run time at {args.delay} s delay", f"{took:.1f} s with start-up; first to last request "
                 f"{span:.1f} s (busiest host's requests x delay = {ideal:.1f} s; ratio {span / ideal:.2f})"))
    rows.append(("crawl: run time at the real 1 s delay", f"about {busiest * 1.0 / 60:.1f} min ({busiest} requests "
                 "to the busiest host; hosts side by side)"))
    # Gaps between two requests to one host: by the kernel's receive stamps (when the bytes reached
    # the server's socket, whatever its thread was doing) and, for comparison, by the server threads'
    # clocks, which can run late when 50 servers share this process's GIL.
    measures = [("kernel receive time", arrival)] if stamped else []
    for label, when in [*measures, ("server thread time", lambda r: r.time)]:
        rows.append((f"crawl: gaps between two requests to one host ({label})", gap_summary(servers, when, args.delay)))
    rows.append(("crawl: peak memory (crawler / ingest worker)",
                 f"{crawl.peak_main():.0f} MB / {max(crawl.peak_others() or [0]):.0f} MB"))
    first = database_bytes(store) - before

    # Database growth: an unchanged cycle (304s, Run rows) and a cycle where every feed changed.
    size = database_bytes(store)
    code, _out, err, _ = Watched(config, ["--quiet", "crawl"], CYCLES[1]).wait()
    unchanged = database_bytes(store) - size
    for h, server in enumerate(servers):
        for s in range(per_host):
            server.replace(f"/s{s}.ics", feed(h * per_host + s, "CANCELLED"))
    size = database_bytes(store)
    code, _out, err, _ = Watched(config, ["--quiet", "crawl"], CYCLES[2]).wait()
    changed = database_bytes(store) - size
    with store.session() as session:
        changes = session.scalar(select(func.count()).select_from(m.Change))
    month = 4 * changed + (CYCLES_PER_MONTH - 4) * unchanged
    rows.append(("db: first crawl (baselines)", f"{first / 1e6:.1f} MB"))
    rows.append(("db: one unchanged cycle / one all-changed cycle",
                 f"{unchanged / 1e3:.0f} KB / {changed / 1e3:.0f} KB ({changes} changes)"))
    rows.append(("db: growth per month (15-min cycles, weekly changes)", f"about {month / 1e9:.2f} GB"))
    store.engine.dispose()
    return servers, per_host


# -- 2. notify --------------------------------------------------------------------------------------


class SlowMailbox:
    """A real SMTP server on loopback that takes 50 ms to accept each message."""

    def __init__(self, seconds: float = 0.05) -> None:
        self.seconds = seconds
        self.subjects: collections.Counter[str] = collections.Counter()
        self.times: list[float] = []  # when each message was accepted
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        sock.close()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(self.seconds)
        from email import message_from_bytes

        self.subjects[str(message_from_bytes(envelope.content)["Subject"]) + " " + envelope.rcpt_tos[0]] += 1
        self.times.append(time.monotonic())
        return "250 OK"


def owe_messages(config_path: Path, subscribers: int, changes: int) -> int:
    """`changes` bill changes owed to each subscriber, one message each (as instant alerts of
    separate crawls)."""
    from tracker.changes import Change, dedupe_key
    from tracker.config import load_config
    from tracker.outbox import owe_instant, sync_subscribers
    from tracker.records import Bill, Item
    from tracker.store import ensure_watches, ingest

    config = load_config(config_path, env={})
    store = Store(URL)
    with store.session() as session:
        ensure_watches(session, [("bills", "bill", "Bills")])
        sync_subscribers(session, config)

    def differ(old: Bill | None, new: Bill, key: str) -> list[Change]:
        if old is None:
            return []
        return [Change("bill.stage", key, f"{new.display} {new.stage}", dedupe_key(key, "s", new.stage),
                       {"from": old.stage, "to": new.stage}, "https://www.congress.gov/", "2026-11-24")]

    stages = ["referred", "passed_house", "passed_senate", "passed_both", "to_president", "enacted"][: changes + 1]
    for stage in stages:
        content = Bill(number="hr1-119", congress=119, type="hr", display="H.R. 1", title="A bill", stage=stage)
        ingest(store, Item(key="bill:hr1-119", kind="bill", source_id="govinfo", watch_ids=["bills"], content=content),
               differ, on_change=lambda session, change: owe_instant(session, change, config))
    with store.session() as session:
        owed = int(session.scalar(select(func.count()).select_from(m.Delivery).where(m.Delivery.status == "pending")))
    store.engine.dispose()
    return owed


def notify_part(work: Path, args: argparse.Namespace, rows: list[tuple[str, str]]) -> None:
    box = SlowMailbox()
    box.controller.start()
    try:
        subscribers = max(1, args.messages // 4)
        rates = {}
        for workers in (1, 4, 8):
            fresh_database()
            subs = "".join(f'[[subscribers]]\nid = "s{n}"\nnotify = ["mailto://127.0.0.1:{box.port}?smtp=127.0.0.1'
                           f'&from=tracker@example.org&to=s{n}@example.org"]\n' for n in range(subscribers))
            path = work / f"notify{workers}.toml"
            path.write_text(f'[storage]\nurl = "{URL}"\n[alerts]\nworkers = {workers}\nlease_seconds = 600\n'
                            f'[[bills]]\nid = "bills"\nname = "Bills"\nnumbers = ["hr1-119"]\n{subs}')
            owed = owe_messages(path, subscribers, 4)
            box.subjects.clear()
            box.times.clear()
            run = Watched(path, ["notify"], CYCLES[0])
            code, _out, _err, took = run.wait()
            twice = sum(1 for c in box.subjects.values() if c > 1)
            # Sending, from the first message to the last: process and worker start-up left out, as
            # they are once per run whatever the number of messages.
            sending = max(box.times) - min(box.times) if len(box.times) > 1 else took
            rates[workers] = (len(box.times) - 1) / sending if len(box.times) > 1 else 0.0
            rows.append((f"notify: {workers} worker{'s' if workers > 1 else ''}, 50 ms SMTP",
                         f"{rates[workers]:.1f} deliveries/s sending ({owed} in {took:.1f} s with start-up; "
                         f"received {sum(box.subjects.values())}, "
                         f"{twice} twice; peak {run.peak_main():.0f} MB + {len(run.peak_others())} x "
                         f"{max(run.peak_others() or [0]):.0f} MB)" + ("" if code == 0 else f" exit {code}")))
        rows.append(("notify: speed-up with 4 / 8 workers", f"{rates[4] / rates[1]:.2f}x / {rates[8] / rates[1]:.2f}x"))
        rows.append((f"notify: {args.subscribers:,} daily messages", " / ".join(
            f"{w} worker{'s' if w > 1 else ''}: {args.subscribers / rates[w] / 60:.0f} min" for w in (1, 4, 8))))
    finally:
        box.controller.stop()


# -- 3. three runners, one killed -------------------------------------------------------------------


def cluster_part(work: Path, args: argparse.Namespace, servers: list[ReplayServer], per_host: int,
                 rows: list[tuple[str, str]]) -> None:
    fresh_database()
    for h, server in enumerate(servers):
        for s in range(per_host):
            server.replace(f"/s{s}.ics", feed(h * per_host + s))
        server.clear_log()
    path = work / "cluster.toml"
    write_config(path, servers, per_host, args.delay)
    store = Store(URL)
    run_args = ["run", "--cluster", "--cycle-minutes", "15"]
    # cycle 1: three runners; runner c is killed once it has leased groups and is crawling them
    runners = {name: Watched(path, [*run_args, "--runner", name], CYCLES[0]) for name in "abc"}
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with store.session() as session:
            taken = session.scalar(select(func.count()).select_from(m.RunnerLease).where(m.RunnerLease.owner == "c"))
        if taken:
            break
        time.sleep(0.05)
    time.sleep(1.0)
    runners["c"].proc.send_signal(signal.SIGKILL)
    results = {name: run.wait() for name, run in runners.items()}
    for name, (code, _out, err, _took) in results.items():
        if code and name != "c":
            print(f"runner {name} exited {code}: {err[-1500:]}", file=sys.stderr)
    with store.session() as session:
        killed_groups = session.scalar(select(func.count()).select_from(m.RunnerLease).where(m.RunnerLease.owner == "c"))
        ok_runs = dict(session.execute(select(m.Run.source_id, func.count()).where(m.Run.ok.is_(True))
                                       .group_by(m.Run.source_id)).all())
    first = {name: r[1].split(" crawled ")[1].split(" of ")[0] if " crawled " in r[1] else f"exit {r[0]}"
             for name, r in results.items()}
    twice = sum(1 for n in ok_runs.values() if n > 1)
    rows.append(("cluster cycle 1: groups crawled by a / b / c (c killed)",
                 f"{first['a']} / {first['b']} / {first['c']} ({killed_groups} leased by c; "
                 f"{len(ok_runs)} sources done, {twice} twice)"))
    # cycle 2: the feeds changed; a and b take every group, c's included
    for h, server in enumerate(servers):
        for s in range(per_host):
            server.replace(f"/s{s}.ics", feed(h * per_host + s, "CANCELLED"))
    started = time.monotonic()
    runners = {name: Watched(path, [*run_args, "--runner", name], CYCLES[1]) for name in "ab"}
    results = {name: run.wait() for name, run in runners.items()}
    took = time.monotonic() - started
    second = {name: r[1].split(" crawled ")[1].split(" of ")[0] if " crawled " in r[1] else f"exit {r[0]}"
              for name, r in results.items()}
    with store.session() as session:
        changes = session.scalar(select(func.count()).select_from(m.Change))
        keys = session.scalar(select(func.count(func.distinct(m.Change.entity_key))))
        sources_done = session.scalar(select(func.count(func.distinct(m.Run.source_id))).where(
            m.Run.ok.is_(True), m.Run.started_at >= clock.parse_instant(CYCLES[1])))
    rows.append(("cluster cycle 2: groups crawled by a / b",
                 f"{second['a']} / {second['b']} of {len(servers)} in {took:.1f} s; "
                 f"{sources_done} of {len(servers) * per_host} sources done"))
    rows.append(("cluster: changes recorded / distinct meetings changed", f"{changes} / {keys}"))
    peaks = [run.peak_main() for run in runners.values()]
    rows.append(("cluster: peak memory per runner", f"{max(peaks):.0f} MB"))
    store.engine.dispose()


# -- 5. bills behind packages and sitemaps ----------------------------------------------------------


def bills_part(work: Path, args: argparse.Namespace, rows: list[tuple[str, str]]) -> None:
    """`--bills` named bills over the eight types of one Congress: a package baseline, then a crawl
    with nothing new, each a `tracker crawl` process against one loopback GovInfo."""
    fresh_database()
    per = max(1, args.bills // len(BILL_TYPES))
    sizes = {t: per + 50 for t in BILL_TYPES}  # as bench/federal.py (c): packages hold a few unwatched bills too
    numbers = [f"{t}{n}-{CONGRESS}" for t in BILL_TYPES for n in range(1, per + 1)]
    server = replay_on("127.0.0.1")
    try:
        folder = work / "govinfo"
        folder.mkdir()
        started = time.monotonic()
        write_congress(folder, server.url, sizes, {}, {})
        mb = sum((folder / package_path(CONGRESS, t).lstrip("/")).stat().st_size for t in sizes) / 1_048_576
        server.add_dir("/", folder)
        rows.append(("bills: named bills / types / package members",
                     f"{len(numbers):,} / {len(sizes)} / {sum(sizes.values()):,} ({mb:.1f} MB of packages, "
                     f"written in {time.monotonic() - started:.0f} s)"))
        config = work / "bills.toml"
        config.write_text(f'[storage]\nurl = "{URL}"\n[crawl]\ndelay_seconds = {args.delay}\n'
                          f'[sources.govinfo]\nbase_url = "{server.url}"\n'
                          f'[[bills]]\nid = "named"\nname = "Named bills"\nnumbers = [{", ".join(repr(n) for n in numbers)}]\n')
        store = Store(URL)
        for label, now in (("baseline", CYCLES[0]), ("no change", CYCLES[1])):
            server.clear_log()
            run = Watched(config, ["crawl"], now)
            code, out, err, took = run.wait()
            logged = server.requests
            statuses = collections.Counter(r.status for r in logged)
            sent = sum(r.bytes for r in logged)
            times = [arrival(r) for r in logged]
            span = max(times) - min(times) if times else 0.0
            line = next((x for x in out.splitlines() if x.startswith("govinfo")), f"exit {code}")
            rows.append((f"bills {label}: requests / bytes / time at {args.delay} s delay",
                         f"{len(logged)} req ({', '.join(f'{n} x {s}' for s, n in sorted(statuses.items()))}), "
                         f"{sent:,} B; {took:.1f} s with start-up, first to last request {span:.1f} s"))
            rows.append((f"bills {label}: the tracker's report", line + ("" if code == 0 else f"; exit {code}")))
            rows.append((f"bills {label}: at the real 1 s delay (one host)",
                         f"about {len(logged) * 1.0:.0f} s ({len(logged)} requests x 1 s)"))
            workers = run.peak_by_kind("worker")
            rest = ", ".join(f"{run.kinds.get(pid, '?')} {v:.0f} MB" for pid, v in run.peaks.items()
                             if pid != run.proc.pid and run.kinds.get(pid) != "worker")
            rows.append((f"bills {label}: peak memory (crawler / ingest workers / other children)",
                         f"{run.peak_main():.0f} MB / {len(workers)} worker{'' if len(workers) == 1 else 's'} "
                         + (" + ".join(f"{v:.0f}" for v in workers) or "0") + f" MB / {rest or 'none'}"))
            if code != 0 or err.strip():
                print(f"bills {label}: exit {code}\n{err[-2000:]}", file=sys.stderr)
        with store.session() as session:
            stored = session.scalar(select(func.count()).select_from(m.Entity).where(m.Entity.kind == "bill"))
        rows.append(("bills: bills stored", f"{stored:,} of {len(numbers):,} named"))
        store.engine.dispose()
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=int, default=1000)
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--delay", type=float, default=0.5, help="scaled-down [crawl] delay_seconds")
    parser.add_argument("--messages", type=int, default=400, help="deliveries sent per worker count")
    parser.add_argument("--subscribers", type=int, default=50_000, help="daily messages to project a time for")
    parser.add_argument("--bills", type=int, default=5000, help="named bills over the eight types of one Congress")
    parser.add_argument("--skip", default="", help="comma-separated parts to skip: crawl,notify,cluster,bills")
    args = parser.parse_args()
    if not 1 <= args.hosts <= 250:
        parser.error("--hosts: 1 to 250 (127.0.0.2 ... 127.0.0.251)")
    skip = set(filter(None, args.skip.split(",")))
    rows: list[tuple[str, str]] = []
    started = time.monotonic()
    os.environ["TRACKER_NOW"] = CYCLES[0]  # rows owed here are due at the notifiers' time
    with tempfile.TemporaryDirectory(prefix="tracker-scale-") as folder:
        work = Path(folder)
        fresh_database()
        servers: list[ReplayServer] = []
        try:
            if "crawl" not in skip or "cluster" not in skip:
                servers, per_host = crawl_part(work, args, rows) if "crawl" not in skip else ([], 0)
            if "notify" not in skip:
                notify_part(work, args, rows)
            if "cluster" not in skip and servers:
                cluster_part(work, args, servers, per_host, rows)
            if "bills" not in skip:
                bills_part(work, args, rows)
        finally:
            for server in servers:
                server.stop()
            drop_database()
    width = max(len(k) for k, _ in rows)
    print(f"{'measure':<{width}} | value")
    print(f"{'-' * width}-|-{'-' * 60}")
    for key, value in rows:
        print(f"{key:<{width}} | {value}")
    print(f"(bench took {time.monotonic() - started:.0f} s on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
