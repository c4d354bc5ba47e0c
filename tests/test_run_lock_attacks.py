"""The run lock and `tracker run --cluster` under attack, as an operator meets them: the real
command line in its own process, the real PostgreSQL (its backends terminated as a restart or an
idle-connection timeout does), real loopback sources."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest
from recorded import federal
from sqlalchemy import func, select
from test_cluster import ICS
from test_host_pace import replay_on

from tracker import models as m
from tracker.demo.replay import Fault, ReplayServer
from tracker.store import Store

BILLS = {"s35-117": "/bulkdata/BILLSTATUS/117/s/BILLSTATUS-117s35.xml",
         "hr2471-117": "/bulkdata/BILLSTATUS/117/hr/BILLSTATUS-117hr2471.xml"}


def write_config(tmp_path: Path, base_url: str, db_url: str) -> Path:
    """A run of two bills. Its requests may wait (a bill held in flight by a test until it has done
    what it must meanwhile, on a loaded machine) longer than the default 10 s timeout."""
    path = tmp_path / "tracker.toml"
    path.write_text(f"""
[tracker]
log_file = "tracker.log"
[storage]
url = "{db_url}"
[crawl]
delay_seconds = 0
retries = 0
timeout_seconds = 60
[sources.govinfo]
base_url = "{base_url}"
[[bills]]
id = "police"
name = "Police accountability"
numbers = ["s35-117", "hr2471-117"]
""")
    return path


def start(config: Path, *args: str) -> subprocess.Popen[str]:
    env = dict(os.environ)
    env.pop("TRACKER_CONFIG", None)
    return subprocess.Popen([sys.executable, "-m", "tracker.cli", "--config", str(config), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def snapshots(store: Store) -> int:
    with store.session() as session:
        return session.scalar(select(func.count()).select_from(m.Snapshot)) or 0


def terminate_backends(db_url: str) -> int:
    """What a database restart does to a run's connections: every one but ours is cut (and gone
    before this returns: pg_terminate_backend only signals them)."""
    name = db_url.rsplit("/", 1)[1]
    with psycopg.connect(f"host=127.0.0.1 port=5432 user=postgres dbname={name}", autocommit=True) as conn:
        row = conn.execute("SELECT array_agg(pid) FROM (SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE datname = current_database() AND pid <> pg_backend_pid()) AS cut").fetchone()
        cut = list(row[0] or []) if row else []
        deadline = time.monotonic() + 30
        while conn.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", (cut,)).fetchone()[0]:
            assert time.monotonic() < deadline, "the cut backends never exited"
            time.sleep(0.02)
    return len(cut)


@pytest.mark.postgres
@pytest.mark.timeout(180)
@pytest.mark.parametrize("command", [["run"], ["run", "--cluster"]], ids=["run", "cluster"])
def test_a_run_whose_lock_connection_the_database_cut_still_ends_well_and_quiet(
        tmp_path: Path, pg_url: str, replay: ReplayServer, command: list[str]) -> None:
    """The lock's session sits idle for the whole run: a database restart (or an idle-connection
    timeout) ends it, and the lock with it. The run's own work reconnects and is stored; releasing
    the lock that is already gone failed the run (exit 1 and a crash line in cron's mail) after
    everything was done."""
    for path in BILLS.values():
        replay.add(path, federal(path.rsplit("/", 1)[1]))
    gate = threading.Event()
    replay.set_fault(BILLS["hr2471-117"], Fault.hold(gate))  # in flight while the database goes
    config = write_config(tmp_path, replay.url, pg_url)
    store = Store(pg_url)
    run = start(config, "--quiet", *command)
    try:
        deadline = time.monotonic() + 60
        while snapshots(store) == 0:  # the fast bill is stored: the run holds its lock and is crawling
            assert time.monotonic() < deadline and run.poll() is None, "the run never stored its first bill"
            time.sleep(0.1)
        store.dispose()  # our own pooled connections are cut too
        assert terminate_backends(pg_url) >= 1
        assert run.poll() is None  # the slow bill is still on its way: the run is mid-crawl as they go
    finally:
        gate.set()  # the slow bill arrives only now, after the cut
    out, err = run.communicate(timeout=120)
    assert (run.returncode, out, err) == (0, "", "")
    assert snapshots(store) == 2  # nothing lost: the slow bill was stored after the cut
    assert "the database connection holding the lock was lost" in (tmp_path / "tracker.log").read_text()

    again = start(config, "--quiet", *command)  # the next run takes the lock as usual
    out, err = again.communicate(timeout=120)
    assert (again.returncode, out, err) == (0, "", "")


# -- --cluster: a group's lease lasts the cycle it was crawled in -------------------------------------


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.timeout(240)
def test_a_group_leased_late_in_a_cycle_is_crawled_again_the_next_cycle(tmp_path: Path, pg_url: str) -> None:
    """A runner takes its groups a share at a time: a group taken once the first share was crawled
    (a slow host: minutes into the cycle) was leased for a whole cycle from then, so at the next
    cron tick it was still taken, and nobody crawled it that cycle ("crawled 1 of 2"). Real time
    here, no TRACKER_NOW: a cycle of 30 seconds (its lease 27), the first host's feed 12 s slow."""
    servers = [replay_on(f"127.0.0.{n}") for n in (2, 3)]
    for server in servers:
        server.add("/a.ics", ICS)
        server.start()
    try:
        watches = "".join(f'[[meetings]]\nid = "h{n}"\nname = "Board {n}"\ntimezone = "America/Detroit"\n'
                          f'ical = "{server.url}/a.ics"\n' for n, server in enumerate(servers, 2))
        config = tmp_path / "tracker.toml"
        config.write_text(f'[storage]\nurl = "{pg_url}"\n[crawl]\ndelay_seconds = 0\n[digest]\nout = "site"\n{watches}')
        servers[0].set_fault("/a.ics", Fault.delay(12))  # the first group in lease order: taken first
        cycle = ["run", "--cluster", "--runner", "a", "--cycle-minutes", "0.5"]
        first_tick = time.monotonic()
        first = start(config, *cycle)
        out, err = first.communicate(timeout=120)
        assert first.returncode == 0 and "runner a crawled 2 of 2 source groups" in out, out + err
        assert time.monotonic() - first_tick < 30, "the first cycle outlasted its 30 seconds"

        servers[0].set_fault("/a.ics", None)
        time.sleep(30 - (time.monotonic() - first_tick))  # cron's next tick
        second = start(config, *cycle)
        out, err = second.communicate(timeout=120)
        assert second.returncode == 0, out + err
        assert "runner a crawled 2 of 2 source groups" in out, out
        assert [server.count("/a.ics") for server in servers] == [2, 2]
    finally:
        for server in servers:
            server.stop()


def namesake(argv: list[str]) -> list[str]:
    """`argv` as on another machine of the same host name (or a container sharing the host's
    name): in a PID namespace of its own, it sees none of this host's processes."""
    return ["unshare", "--pid", "--fork", "--mount-proc", *argv]


def can_unshare() -> bool:
    try:
        return subprocess.run(namesake(["true"]), capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.timeout(240)
@pytest.mark.skipif(not can_unshare(), reason="needs unshare --pid (root)")
def test_a_runner_on_a_namesake_host_does_not_hide_a_live_runners_failure(tmp_path: Path, pg_url: str) -> None:
    """Runs are told killed by their host name and pid. A runner on another machine of the same
    name (`--runner` is for that case) cannot see this one's process, so it marks this one's live
    crawl interrupted; that crawl then finished failing, and its failure, kept marked interrupted,
    was skipped by `status --check` ("ok") and by the operator's failure count."""
    servers = [replay_on(f"127.0.0.{n}") for n in (2, 3)]
    for server in servers:
        server.add("/a.ics", ICS)
        server.start()
    try:
        watches = "".join(f'[[meetings]]\nid = "h{n}"\nname = "Board {n}"\ntimezone = "America/Detroit"\n'
                          f'ical = "{server.url}/a.ics"\n' for n, server in enumerate(servers, 2))
        config = tmp_path / "tracker.toml"
        config.write_text(f'[storage]\nurl = "{pg_url}"\n[crawl]\ndelay_seconds = 0\nretries = 0\n'
                          f'timeout_seconds = 10\n[digest]\nout = "site"\n{watches}')
        servers[0].set_fault("/a.ics", Fault.delay(60))  # never answers in time: runner a's crawl fails
        store = Store(pg_url)
        a = start(config, "--quiet", "run", "--cluster", "--runner", "a")
        deadline = time.monotonic() + 60
        while True:  # a has taken the first group and is crawling it
            with store.session() as session:
                if session.scalar(select(m.Run).where(m.Run.source_id == "ical:h2")) is not None:
                    break
            assert time.monotonic() < deadline and a.poll() is None, "runner a never started its crawl"
            time.sleep(0.1)
        env = {k: v for k, v in os.environ.items() if k != "TRACKER_CONFIG"}
        b = subprocess.run(namesake([sys.executable, "-m", "tracker.cli", "--config", str(config), "--quiet", "run",
                                     "--cluster", "--runner", "b"]), capture_output=True, text=True, env=env,
                           timeout=120)
        assert (b.returncode, b.stdout, b.stderr) == (0, "", "")  # b crawled the other group
        out, err = a.communicate(timeout=120)
        assert a.returncode == 1 and "ical:h2" in err, out + err  # a's source timed out: one line
        check = subprocess.run([sys.executable, "-m", "tracker.cli", "--config", str(config), "status", "--check"],
                               capture_output=True, text=True, env=env, timeout=60)
        assert check.returncode == 1 and "source ical:h2: failing (1 run in a row" in check.stdout, check.stdout
        with store.session() as session:
            states = [r.state for r in session.scalars(select(m.Run).order_by(m.Run.id))]
        assert states == [None, None]
        store.dispose()
    finally:
        for server in servers:
            server.stop()


def keepalive_seconds(db_url: str) -> list[float]:
    """The server's keepalive timer on each session holding an advisory lock, as the system shows
    it (`ss`): how long until the server first probes that session's client."""
    import re
    import shutil

    if shutil.which("ss") is None:
        pytest.skip("ss (iproute2) is not installed")
    name = db_url.rsplit("/", 1)[1]
    with psycopg.connect(f"host=127.0.0.1 port=5432 user=postgres dbname={name}", autocommit=True) as conn:
        ports = [row[0] for row in conn.execute(
            "SELECT a.client_port FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND a.datname = current_database()")]
    assert ports, "no session holds an advisory lock"
    timers = []
    for port in ports:
        shown = subprocess.run(["ss", "-tno", "state", "established", f"( sport = :5432 and dport = :{port} )"],
                               capture_output=True, text=True, check=True).stdout
        found = re.search(r"timer:\(keepalive,(?:(\d+)min)?(?:(\d+)sec)?(?:(\d+)ms)?", shown)
        assert found, shown
        minutes, seconds, millis = (int(part or 0) for part in found.groups())
        timers.append(minutes * 60 + seconds + millis / 1000)
    return timers


@pytest.mark.postgres
@pytest.mark.timeout(180)
@pytest.mark.parametrize("command", [["run"], ["run", "--cluster"]], ids=["run", "cluster"])
@pytest.mark.slow
def test_a_lock_whose_machine_died_is_found_gone_within_minutes(
        tmp_path: Path, pg_url: str, replay: ReplayServer, command: list[str]) -> None:
    """A runner's machine that loses its power (or its network) sends no goodbye: PostgreSQL kept
    its session, and the run lock with it, until the system's keepalive found the client gone, two
    hours and more later: no run anywhere for two hours. The sessions holding a lock ask the server
    to probe their client after a minute idle (then every 10 s, 6 times)."""
    for path in BILLS.values():
        replay.add(path, federal(path.rsplit("/", 1)[1]))
    gate = threading.Event()
    replay.set_fault(BILLS["hr2471-117"], Fault.hold(gate))  # the run holds its lock meanwhile
    config = write_config(tmp_path, replay.url, pg_url)
    store = Store(pg_url)
    run = start(config, "--quiet", *command)
    try:
        deadline = time.monotonic() + 60
        while snapshots(store) == 0:
            assert time.monotonic() < deadline and run.poll() is None, "the run never stored its first bill"
            time.sleep(0.1)
        timers = keepalive_seconds(pg_url)
        assert timers and all(timer <= 60 for timer in timers), timers  # before: about 7,200 s
    finally:
        gate.set()  # the slow bill is answered once the lock's session was looked at
        out, err = run.communicate(timeout=120)
        store.dispose()
    assert (run.returncode, out, err) == (0, "", "")


@pytest.mark.postgres
@pytest.mark.timeout(180)
@pytest.mark.parametrize(("offset", "said"), [("+150s", "150 s ahead of"), ("-150s", "150 s behind"), ("+5s", None)])
def test_a_runner_whose_clock_is_off_says_so_even_under_quiet(
        tmp_path: Path, pg_url: str, replay: ReplayServer, offset: str, said: str | None) -> None:
    """Runners time their leases by their own clocks: a machine whose clock is minutes off takes a
    group another runner still holds (crawled twice), or a delivery another notifier is sending
    (sent twice), and nothing said why. Its `tracker run --cluster` now says so, even under --quiet,
    each cycle until the clock is right; a few seconds off is no problem. The machine's clock is
    really off here: the command runs under libfaketime (Debian's faketime), the database's is not."""
    import shutil

    if shutil.which("faketime") is None:
        if os.environ.get("CI"):
            pytest.fail("faketime is required under CI=true (.ci/run installs it)")
        pytest.skip("faketime (libfaketime) is not installed")
    for path in BILLS.values():
        replay.add(path, federal(path.rsplit("/", 1)[1]))
    config = write_config(tmp_path, replay.url, pg_url)
    env = {k: v for k, v in os.environ.items() if k not in ("TRACKER_CONFIG", "TRACKER_NOW")}
    run = subprocess.run(["faketime", "-f", offset, sys.executable, "-m", "tracker.cli", "--config", str(config),
                          "--quiet", "run", "--cluster"], capture_output=True, text=True, env=env, timeout=150)
    assert run.returncode == 0, run.stderr
    lines = run.stderr.splitlines()
    if said is None:
        assert lines == [], lines
    else:
        (line,) = lines
        assert line.startswith("cluster: runner ") and f"clock is {said} the database's" in line.replace(
            "149 s", "150 s").replace("151 s", "150 s"), line
