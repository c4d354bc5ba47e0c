"""Many runners, one PostgreSQL (issue 16, item 3): `tracker run --cluster` processes split the
source groups (one per host) through lease rows taken with SKIP LOCKED; a runner killed with -9
keeps its groups only until its leases run out, and the next cycle's runner crawls them; no change
is recorded twice and no delivery sent twice.

Real parts: `tracker run` as separate OS processes, the real Scrapy engine against loopback servers
on 127.0.0.2-5 (two meeting watches each), the real PostgreSQL, a real HTTP receiver for alerts.
The cycles are moved with TRACKER_NOW (the tracker's one clock), not by waiting 15 minutes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from recorded import local
from servers import Receiver, answered_now
from sqlalchemy import func, select
from test_host_pace import replay_on

from tracker import models as m
from tracker.demo.replay import Fault, ReplayServer
from tracker.store import Store

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

ICS = local("ics/detroit_k12_board_of_education.ics")
FINANCE = (b"SUMMARY:Finance Sub-Committee Meeting (Open)\r\nCLASS:PUBLIC\r\nLOCATION:3011 W. Grand Blvd., "
           b"Fisher Building 12th Floor Conference\r\nSTATUS:")
CANCELLED = ICS.replace(FINANCE + b"CONFIRMED", FINANCE + b"CANCELLED", 1)  # derived: the Finance meeting cancelled
CYCLES = ["2019-04-10T12:00:00Z", "2019-04-10T12:15:00Z", "2019-04-10T12:30:00Z"]  # cron every 15 minutes


@pytest.fixture
def hosts() -> Iterator[list[ReplayServer]]:
    servers = [replay_on(f"127.0.0.{n}") for n in range(2, 6)]
    for server in servers:
        server.add("/a.ics", ICS)
        server.add("/b.ics", ICS)
        server.start()
    yield servers
    for server in servers:
        server.stop()


@pytest.fixture
def hook() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.stop()


def write_config(tmp_path: Path, pg_url: str, hosts: list[ReplayServer], hook: Receiver) -> Path:
    watches = "".join(
        f'[[meetings]]\nid = "h{n}{w}"\nname = "Board {n}{w}"\ntimezone = "America/Detroit"\n'
        f'ical = "{server.url}/{w}.ics"\n'
        for n, server in enumerate(hosts, 2) for w in "ab")
    path = tmp_path / "tracker.toml"
    path.write_text(f'[storage]\nurl = "{pg_url}"\n[crawl]\ndelay_seconds = 0.1\n'
                    f'[digest]\nout = "site"\n{watches}'
                    f'[[subscribers]]\nid = "org"\nnotify = ["{hook.url}"]\n')
    return path


def start_run(path: Path, runner: str, now: str) -> subprocess.Popen[str]:
    env = {**os.environ, "TRACKER_NOW": now}
    env.pop("TRACKER_CONFIG", None)
    return subprocess.Popen([sys.executable, "-m", "tracker.cli", "--config", str(path), "run", "--cluster",
                             "--runner", runner, "--cycle-minutes", "15"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def finish(proc: subprocess.Popen[str]) -> str:
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, out + err
    return out


def owners(store: Store) -> dict[str, str | None]:
    with store.session() as session:
        return dict(session.execute(select(m.RunnerLease.name, m.RunnerLease.owner)).all())


def finished_runs(store: Store) -> dict[str, int]:
    """Crawls that finished well, per source (a killed runner's are marked interrupted, not ok)."""
    with store.session() as session:
        return dict(session.execute(select(m.Run.source_id, func.count()).where(m.Run.ok.is_(True))
                                    .group_by(m.Run.source_id)).all())


def group_of(server: ReplayServer) -> str:
    return "group:" + server.url.split("//", 1)[1]


@pytest.mark.timeout(400)  # three cycles of real runner processes: ~25 s alone, far more beside other tests
def test_runners_split_the_groups_and_a_killed_runners_groups_are_crawled_next_cycle(
        tmp_path: Path, pg_url: str, hosts: list[ReplayServer], hook: Receiver) -> None:
    path = write_config(tmp_path, pg_url, hosts, hook)
    store = Store(pg_url)
    sources = sorted(f"ical:h{n}{w}" for n in range(2, 6) for w in "ab")

    # -- cycle 1: two runners started together split the four groups; each crawled once -------------
    for server in hosts:  # slow answers, so the two runners overlap whatever their start-up times
        server.set_fault("/a.ics", Fault.delay(0.8))
    runs = [start_run(path, "a", CYCLES[0]), start_run(path, "b", CYCLES[0])]
    outputs = [finish(proc) for proc in runs]
    leased = owners(store)
    groups = {name: owner for name, owner in leased.items() if name.startswith("group:")}
    assert sorted(groups) == sorted(group_of(s) for s in hosts)
    assert set(groups.values()) == {"a", "b"}, (groups, outputs)  # split, not all taken by the first
    assert sum(int(o.split(" crawled ")[1].split(" of ")[0]) for o in outputs) == 4, outputs
    assert finished_runs(store) == dict.fromkeys(sources, 1)  # every source crawled exactly once
    for server in hosts:
        assert server.count("/a.ics") == 1 and server.count("/b.ics") == 1
    assert leased["digest"] in ("a", "b") and (tmp_path / "site" / "index.html").exists()

    # -- cycle 2: the Finance meeting is cancelled everywhere; runner a is killed mid-crawl -----------
    for server in hosts:
        server.replace("/a.ics", CANCELLED)
        server.replace("/b.ics", CANCELLED)
        server.set_fault("/a.ics", None)
    slow = hosts[0]  # the first group in lease order: the one a takes first
    slow.set_fault("/a.ics", Fault.delay(30))
    a = start_run(path, "a", CYCLES[1])
    deadline = time.monotonic() + 60
    # a's crawl of that host is under way: its robots.txt read, a feed asked for and not yet answered
    while answered_now(slow, "/robots.txt") < 2 or slow._inflight == 0:
        assert time.monotonic() < deadline and a.poll() is None, "runner a never reached its first group"
        time.sleep(0.05)
    assert owners(store)[group_of(slow)] == "a"
    a.send_signal(signal.SIGKILL)
    a.wait(timeout=30)
    b_out = finish(start_run(path, "b", CYCLES[1]))
    assert "runner b crawled 3 of 4 source groups" in b_out  # a's group stays a's for this cycle
    done = finished_runs(store)
    assert done["ical:h2a"] == 1 and done["ical:h2b"] == 1 and all(done[s] == 2 for s in sources[2:])
    slow.set_fault("/a.ics", None)

    # -- cycle 3: a's leases have run out; b crawls its group too ---------------------------------------
    b_out = finish(start_run(path, "b", CYCLES[2]))
    assert "runner b crawled 4 of 4 source groups" in b_out
    done = finished_runs(store)
    assert done["ical:h2a"] == 2 and done["ical:h2b"] == 2

    with store.session() as session:
        changes = session.execute(select(m.Change.entity_key, m.Change.kind)).all()
        sent = session.scalar(select(func.count()).select_from(m.Delivery).where(m.Delivery.status == "sent"))
        total = session.scalar(select(func.count()).select_from(m.Delivery))
    # one cancellation per watch, recorded once, delivered once (the killed runner's group included)
    assert sorted(changes) == sorted((f"meeting:ical:h{n}{w}:7848", "meeting.cancelled")
                                     for n in range(2, 6) for w in "ab"), changes
    assert sent == total == 8
    assert len(hook.titles) == 8, hook.titles
