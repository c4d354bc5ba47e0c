"""Running tracker as a service, as an operator meets it: cron's `--quiet` output, `status --check`
for monitoring, the run lock's holder, and `kill -9` leaving nothing behind.

Everything runs through real `tracker` processes (python -m tracker.cli), real loopback servers,
real closed ports and real SIGKILL, on SQLite and (where the lock is concerned) PostgreSQL.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from recorded import federal
from servers import Receiver
from sqlalchemy import select

from tracker import models as m
from tracker.config import load_config
from tracker.demo.replay import Fault, ReplayServer
from tracker.store import Store

BILLS = {"s35-117": "/bulkdata/BILLSTATUS/117/s/BILLSTATUS-117s35.xml",
         "hr2471-117": "/bulkdata/BILLSTATUS/117/hr/BILLSTATUS-117hr2471.xml"}
T0 = "2026-11-24T14:00:00Z"


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port nobody listens on: connections are refused at once. The socket stays bound
    (never listening) for the test, so no other process on this busy machine can take the port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def tracker(config: Path, *args: str, env: dict[str, str] | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The real command line in its own process, as cron runs it."""
    return subprocess.run([sys.executable, "-m", "tracker.cli", "--config", str(config), *args],
                          capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})})


def serve_bills(replay: ReplayServer) -> None:
    for path in BILLS.values():
        replay.add(path, federal(path.rsplit("/", 1)[1]))


def write_config(tmp_path: Path, base_url: str, extra: str = "", db_url: str | None = None) -> Path:
    path = tmp_path / "tracker.toml"
    storage = f'[storage]\nurl = "{db_url}"\n' if db_url else ""
    path.write_text(f"""
[tracker]
log_file = "logs/tracker.log"
{storage}
[crawl]
delay_seconds = 0
retries = 2
[sources.govinfo]
base_url = "{base_url}"
[[bills]]
id = "police"
name = "Police accountability"
numbers = {json.dumps(list(BILLS))}
{extra}
""")
    return path


@pytest.fixture
def receiver() -> Iterator[tuple[int, list[dict[str, Any]]]]:
    """An operator's webhook on loopback, recording what it is sent."""
    receiver = Receiver()
    yield receiver.port, receiver.posts
    receiver.server.shutdown()


# -- quiet means quiet -----------------------------------------------------------------------------


@pytest.mark.slow
def test_quiet_crawl_of_an_unreachable_source_then_check_then_healthy(tmp_path: Path, replay: ReplayServer,
                                                                     closed_port: int) -> None:
    config = write_config(tmp_path, f"http://127.0.0.1:{closed_port}")
    started = time.monotonic()
    crawl = tracker(config, "--quiet", "crawl")
    elapsed = time.monotonic() - started
    lines = crawl.stderr.splitlines()
    assert crawl.returncode == 1 and elapsed < 60, crawl.stderr
    assert crawl.stdout == ""
    assert 1 <= len(lines) <= 3, crawl.stderr
    assert "Traceback" not in crawl.stderr
    for line in lines:
        assert len(line) <= 200 and line.startswith("govinfo: "), line
        assert "scrapy" not in line and "twisted" not in line.lower(), line
    assert "refused" in lines[0] or "unreachable" in lines[0]
    # Both bills' requests were refused by one host: one line that counts them.
    assert len(lines) == 1 and "2 requests failed" in lines[0]

    # The detail is in the log file: Scrapy's own lines and the traceback, after the retries.
    detail = (tmp_path / "logs" / "tracker.log").read_text()
    assert "Gave up retrying" in detail and "Traceback" in detail and "s35-117" in detail

    verbose = tracker(config, "--verbose", "crawl")  # the full story, for a person at a terminal
    assert verbose.returncode == 1 and "Gave up retrying" in verbose.stderr and "Traceback" in verbose.stderr

    check = tracker(config, "status", "--check")
    assert check.returncode == 1
    assert [line for line in check.stdout.splitlines() if line.startswith("source govinfo: failing")], check.stdout

    serve_bills(replay)
    write_config(tmp_path, replay.url)
    again = tracker(config, "--quiet", "crawl")
    assert (again.returncode, again.stdout, again.stderr) == (0, "", "")
    healthy = tracker(config, "status", "--check")
    assert (healthy.returncode, healthy.stdout.strip()) == (0, "ok")
    assert tracker(config, "--quiet", "status", "--check").stdout == ""


@pytest.mark.slow
def test_check_and_status_say_times_in_the_tracker_zone_and_json_stays_utc(tmp_path: Path,
                                                                          closed_port: int) -> None:
    """An operator reads `status --check` and `status` in the tracker's zone, in the words the alerts
    use; monitors reading `--json` keep the UTC stamps."""
    from tracker.health import problems
    from tracker.status import check_lines, status_lines
    from tracker.views import collect_status

    config = write_config(tmp_path, f"http://127.0.0.1:{closed_port}")
    config.write_text(config.read_text().replace("[tracker]\n", '[tracker]\ntimezone = "America/Los_Angeles"\n', 1))
    at = {"TRACKER_NOW": T0}  # 14:00 UTC is 6:00 AM in Los Angeles
    assert tracker(config, "--quiet", "crawl", env=at).returncode == 1

    as_json = json.loads(tracker(config, "status", "--check", "--json", env=at).stdout)
    (problem,) = as_json["problems"]
    assert problem.startswith(f"source govinfo: failing (1 run in a row, last {T0}): "), problem
    assert json.loads(tracker(config, "status", "--json", env=at).stdout)["sources"][0]["last_run"] == T0

    loaded = load_config(config)
    store = Store(loaded.database_url)
    try:
        (line,) = check_lines(problems(store, loaded, loaded.base_dir), loaded)
        assert line.startswith("source govinfo: failing (1 run in a row, last Tue Nov 24, 6:00 AM PST): "), line
        assert len(line) <= 200
        text = status_lines(collect_status(store, loaded), loaded)
    finally:
        store.dispose()
    (source,) = [row for row in text if row.startswith("source govinfo: ")]
    assert "(1 run in a row, last run Tue Nov 24, 6:00 AM PST): " in source, source  # the source named once
    assert not [row for row in text if T0 in row], text

    # The command prints exactly these lines.
    check = tracker(config, "status", "--check", env=at)
    assert (check.returncode, check.stdout.splitlines()) == (1, [line])
    assert tracker(config, "--quiet", "status", "--check", env=at).stdout.splitlines() == [line]
    assert source in tracker(config, "status", env=at).stdout.splitlines()


def test_smtp_outage_is_one_line_per_target_with_a_count(tmp_path: Path, closed_port: int) -> None:
    """96 owed mails to a mail server that is down: one line per recipient, not 192 lines."""
    port = closed_port
    config_path = write_config(tmp_path, "http://127.0.0.1:9", extra=f"""
[alerts]
max_tries = 8
[operator]
notify = ["mailto://tracker:pw@127.0.0.1:{port}?smtp=127.0.0.1&from=t@example.org&to=a@example.org,b@example.org"]
""")
    config = load_config(config_path, env={})
    from tracker.outbox import owe_operator
    from tracker.records import OperatorNotice

    store = Store(config.database_url)
    with store.session() as session:
        for i in range(48):
            owe_operator(session, config, OperatorNotice(f"test:{i}", f"message {i}", "body"))
    store.dispose()
    result = tracker(config_path, "--quiet", "notify")
    lines = result.stderr.splitlines()
    assert result.returncode == 1 and result.stdout == ""
    assert len(lines) == 2, result.stderr
    for line, recipient in zip(lines, ("a@example.org", "b@example.org"), strict=True):
        assert line.startswith("subscriber operator (") and "48 deliveries failed (will retry)" in line, line
        assert recipient in line and len(line) <= 200 and ":pw@" not in line, line
    detail = (tmp_path / "logs" / "tracker.log").read_text()
    assert detail.count("failed, retry after") == 96  # every delivery in full in the log file
    assert ":pw@" not in detail


# -- the lock's holder ------------------------------------------------------------------------------


def hold_lock(config: Path, now: str) -> subprocess.Popen[str]:
    """A `tracker run` stand-in that takes the run lock (at `now` by its clock) and hangs."""
    script = (
        "import sys, time\nfrom pathlib import Path\n"
        "from tracker.config import load_config\nfrom tracker.store import Store\nfrom tracker.lock import run_lock\n"
        f"config = load_config({str(config)!r})\n"
        "with run_lock(Store(config.database_url), config.base_dir) as held:\n"
        "    print('held' if held else 'busy', flush=True)\n    time.sleep(120)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "TRACKER_NOW": now})
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


@pytest.mark.slow
def test_lock_held_too_long_is_one_line_and_one_operator_alert(
    tmp_path: Path, db_url: str, receiver: tuple[int, list[dict[str, Any]]]
) -> None:
    port, posts = receiver
    config = write_config(tmp_path, "http://127.0.0.1:9", db_url=db_url, extra=f"""
[operator]
notify = ["json://127.0.0.1:{port}/ops"]
""")
    holder = hold_lock(config, T0)
    try:
        # Within the limit: the usual "in progress", nothing under --quiet.
        soon = tracker(config, "--quiet", "run", env={"TRACKER_NOW": "2026-11-24T15:00:00Z"})
        assert (soon.returncode, soon.stdout, soon.stderr) == (0, "", "")
        assert tracker(config, "status", "--check", env={"TRACKER_NOW": "2026-11-24T15:00:00Z"}).returncode == 0

        late = {"TRACKER_NOW": "2026-11-24T17:00:00Z"}  # 180 minutes, past the default 120
        for _ in range(2):
            run = tracker(config, "--quiet", "run", env=late)
            assert run.returncode == 1 and run.stdout == ""
            (line,) = run.stderr.splitlines()
            assert line.startswith("run lock held for 180 minutes (limit 120) by pid "), line
            # since when, in the tracker's zone, as every line people read says a time
            assert f"pid {holder.pid} on {socket.gethostname()} since Tue Nov 24, 9:00 AM EST" in line
            assert len(line) <= 200
        assert [p["title"] for p in posts] == ["tracker: a run holds the lock too long"]
        assert f"pid {holder.pid} on {socket.gethostname()} since Tue Nov 24, 9:00 AM EST" in posts[0]["message"]

        check = tracker(config, "status", "--check", env=late)
        assert check.returncode == 1
        (line,) = [line for line in check.stdout.splitlines() if line.startswith("run lock held for 180 minutes")]
        assert line.endswith(f"pid {holder.pid} on {socket.gethostname()} since Tue Nov 24, 9:00 AM EST"), line
    finally:
        holder.kill()
        holder.wait()
    # The holder is gone (killed): the lock went with it, and nothing reports it any more.
    assert tracker(config, "status", "--check", env={"TRACKER_NOW": "2026-11-24T17:00:00Z"}).returncode == 0


# -- no orphans -------------------------------------------------------------------------------------


def session_members(sid: int) -> list[str]:
    """Live processes of a session (the killed crawl and whatever it started), from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text.rsplit(")", 1)[-1].split()
        if int(fields[3]) == sid and fields[0] != "Z":
            found.append(f"{stat.parent.name} {text[:80]}")
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
@pytest.mark.slow
def test_kill_9_of_a_crawl_leaves_no_process_and_the_next_crawl_marks_it_interrupted(
    tmp_path: Path, replay: ReplayServer
) -> None:
    serve_bills(replay)
    replay.set_fault(BILLS["hr2471-117"], Fault.delay(30))  # mid-flight for 30 s
    config = write_config(tmp_path, replay.url)
    crawl = subprocess.Popen([sys.executable, "-m", "tracker.cli", "--config", str(config), "--quiet", "crawl"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    database = tmp_path / "tracker.db"
    try:
        deadline = time.monotonic() + 60
        stored = 0
        while stored == 0 and time.monotonic() < deadline:  # the fast bill is stored: the worker is busy
            time.sleep(0.2)
            try:
                with sqlite3.connect(database) as db:
                    stored = db.execute("select count(*) from snapshots").fetchone()[0]
            except sqlite3.Error:
                pass
        assert stored == 1
        members = session_members(crawl.pid)
        assert len(members) >= 2, members  # the crawl and its ingest worker (and the resource tracker)
        os.kill(crawl.pid, signal.SIGKILL)
        crawl.wait()
        killed_at = time.monotonic()
        while session_members(crawl.pid) and time.monotonic() - killed_at < 10:
            time.sleep(0.2)
        assert session_members(crawl.pid) == []
    finally:
        for line in session_members(crawl.pid):  # never leave them behind, even on failure
            os.kill(int(line.split()[0]), signal.SIGKILL)

    replay.set_fault(BILLS["hr2471-117"], None)
    again = tracker(config, "--quiet", "crawl")
    assert (again.returncode, again.stderr) == (0, "")
    store = Store(f"sqlite:///{database}")
    with store.session() as session:
        runs = session.scalars(select(m.Run).order_by(m.Run.id)).all()
    store.dispose()
    assert [(r.state, r.ok, r.pid) for r in runs] == [("interrupted", False, crawl.pid), (None, True, runs[1].pid)]
    assert runs[0].host == socket.gethostname() and runs[0].finished_at is not None
    check = tracker(config, "status", "--check")
    assert (check.returncode, check.stdout.strip()) == (0, "ok")


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
@pytest.mark.slow
def test_ctrl_c_of_a_crawl_prints_no_traceback_and_leaves_no_process(tmp_path: Path, replay: ReplayServer) -> None:
    """Ctrl-C in a terminal sends SIGINT to the whole foreground process group: the crawl and its
    ingest worker alike. Only the command answers it (one line); the worker, which exits by itself
    when its parent goes, printed a KeyboardInterrupt traceback under --quiet."""
    serve_bills(replay)
    replay.set_fault(BILLS["hr2471-117"], Fault.delay(30))  # mid-flight for 30 s
    config = write_config(tmp_path, replay.url)
    crawl = subprocess.Popen([sys.executable, "-m", "tracker.cli", "--config", str(config), "--quiet", "crawl"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    database = tmp_path / "tracker.db"
    try:
        deadline = time.monotonic() + 60
        stored = 0
        while stored == 0 and time.monotonic() < deadline:  # the fast bill is stored: the worker is up
            time.sleep(0.2)
            try:
                with sqlite3.connect(database) as db:
                    stored = db.execute("select count(*) from snapshots").fetchone()[0]
            except sqlite3.Error:
                pass
        assert stored == 1
        assert len(session_members(crawl.pid)) >= 2  # the crawl and its ingest worker
        os.killpg(crawl.pid, signal.SIGINT)  # what the terminal does on Ctrl-C
        out, err = crawl.communicate(timeout=30)
        stopped_at = time.monotonic()
        while session_members(crawl.pid) and time.monotonic() - stopped_at < 10:
            time.sleep(0.2)
        assert session_members(crawl.pid) == []
    finally:
        for line in session_members(crawl.pid):
            os.kill(int(line.split()[0]), signal.SIGKILL)
    assert crawl.returncode != 0 and out == ""
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert len([line for line in err.splitlines() if line.strip()]) <= 1, err  # click's "Aborted!"

    replay.set_fault(BILLS["hr2471-117"], None)
    again = tracker(config, "--quiet", "crawl")
    assert (again.returncode, again.stderr) == (0, "")


def test_mark_interrupted_spares_live_crawls_and_other_hosts(db_url: str, frozen_now: Any) -> None:
    """Only runs whose process is gone from this host are marked, on SQLite and PostgreSQL."""
    from tracker.clock import now
    from tracker.runs import mark_interrupted

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        store = Store(db_url)
        with store.session() as session:
            session.add_all([
                m.Run(source_id="dead", started_at=now(), pid=gone.pid),
                m.Run(source_id="live", started_at=now(), pid=live.pid),
                m.Run(source_id="elsewhere", started_at=now(), pid=gone.pid, host="another-host"),
                m.Run(source_id="mine", started_at=now()),  # this process: pid and host by default
                m.Run(source_id="done", started_at=now(), finished_at=now(), ok=True, pid=gone.pid),
            ])
        with store.session() as session:
            marked = mark_interrupted(session)
        with store.session() as session:
            states = {r.source_id: (r.state, r.ok) for r in session.scalars(select(m.Run))}
            assert len(marked) == 1 and session.get(m.Run, marked[0]).source_id == "dead"
        assert states == {"dead": ("interrupted", False), "live": (None, None), "elsewhere": (None, None),
                          "mine": (None, None), "done": (None, True)}
        with store.session() as session:
            assert mark_interrupted(session) == []  # once
        store.dispose()
    finally:
        live.kill()
        live.wait()


def test_problem_lines_are_collapsed_and_short() -> None:
    """The shapes `notify` and `crawl` print, as cron would get them under --quiet."""
    from tracker.logs import collapse_deliveries, collapse_source_errors, shorten

    notify_lines = [
        "delivery 7 to core (mailtos://mail.example.org/… to a@example.org) failed, retry after Wed Nov 25, 8:20 AM EST: "
        "the service refused or was unreachable",
        "delivery 8 to core (mailtos://mail.example.org/… to a@example.org) is dead after 8 tries: "
        "the service refused or was unreachable",
        "delivery 9 to core (mailtos://mail.example.org/… to a@example.org) failed, retry after Wed Nov 25, 8:21 AM EST: "
        "the service refused or was unreachable",
        "delivery 10 to gone: subscriber or target no longer in the config",
        "delivery 11 to core: sent, but its lease had passed to another notifier, which may send it again",
    ]
    assert collapse_deliveries(notify_lines) == [
        "subscriber core (mailtos://mail.example.org/… to a@example.org): 2 deliveries failed (will retry), "
        "1 delivery dead: the service refused or was unreachable",
        "subscriber gone: 1 delivery dead: subscriber or target no longer in the config",
        notify_lines[-1],
    ]
    once = [f"delivery {n} to core (json://hooks.example.org/…) is dead after 1 try: refused" for n in (1, 2)]
    assert collapse_deliveries(once) == ["subscriber core (json://hooks.example.org/…): 2 deliveries dead: refused"]
    crawl_lines = [f"legistar:nyc: event {i}: HTTP 500 (https://webapi.legistar.com/v1/nyc/events/{i}/eventitems"
                   f"?AgendaNote=1&MinutesNote=1&Attachments=1&token=***)" for i in range(40)]
    crawl_lines.append("govinfo: bill hr1-117: HTTP 404 (https://www.govinfo.gov/bulkdata/BILLSTATUS/117/hr/x.xml)")
    collapsed = collapse_source_errors(crawl_lines)
    assert len(collapsed) == 2 and all(len(line) <= 200 for line in collapsed)
    assert collapsed[0].startswith("legistar:nyc: 40 requests failed at https://webapi.legistar.com: HTTP 500 "
                                   "(event 0, event 1,")
    assert collapsed[1] == crawl_lines[-1]
    long = "legistar:nyc: event 5: " + "x" * 300 + " (https://webapi.legistar.com/v1/nyc/events/5)"
    assert shorten(long).startswith("legistar:nyc: event 5: xxx") and len(shorten(long)) == 200


def test_a_crash_under_quiet_is_one_line_and_the_traceback_is_in_the_log_file(tmp_path: Path) -> None:
    """A database whose tables are gone (migrated by its version mark, then damaged by hand)."""
    from tracker.store import migration_heads

    config = write_config(tmp_path, "http://127.0.0.1:9")
    with sqlite3.connect(tmp_path / "tracker.db") as db:
        db.execute("create table alembic_version (version_num varchar(32) primary key)")
        db.execute("insert into alembic_version values (?)", (migration_heads()[0],))
    result = tracker(config, "--quiet", "status")
    assert result.returncode == 1 and result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("tracker status: failed: OperationalError: ") and "no such table" in line, line
    detail = (tmp_path / "logs" / "tracker.log").read_text()
    assert "tracker status crashed" in detail and "Traceback" in detail


@pytest.mark.slow
def test_dead_deliveries_to_a_corrected_target_are_sent_there_by_retry_dead(
        tmp_path: Path, closed_port: int, frozen_now: Any) -> None:
    """The operator's first week: a subscriber's URL was wrong, its deliveries died; the URL is
    corrected. `status --check` names the dead deliveries and says `tracker notify --retry-dead`
    queues them again; run as told, they died again at once ("no longer in the config") and
    `status --check` failed for ever. Later they were closed unsent, so the team never heard of
    the four stages. Now they go to the corrected URL, once each, and the check is clean; a
    subscriber taken out of the config has theirs closed unsent, saying so."""
    from alerting import core_team, fresh_store, walk_stages
    from alerting import write_config as alerts_config

    receiver = Receiver()
    try:
        wrong = f"json://127.0.0.1:{closed_port}/hook"
        path = alerts_config(tmp_path, db_url=f"sqlite:///{tmp_path / 'tracker.db'}", alerts={"max_tries": 1},
                             subscribers=[core_team(wrong), {"id": "gone", "notify": [wrong], "follow": ["police"]}])
        store = fresh_store(load_config(path, env={}))
        assert walk_stages(store, load_config(path, env={}), bills=1) == 4
        store.dispose()
        assert tracker(path, "--quiet", "notify").returncode == 1
        assert tracker(path, "status", "--check").returncode == 1  # the dead deliveries, named

        alerts_config(tmp_path, db_url=f"sqlite:///{tmp_path / 'tracker.db'}", alerts={"max_tries": 1},
                      subscribers=[core_team(receiver.url)])
        retried = tracker(path, "notify", "--retry-dead")
        assert "4 closed unsent: subscriber no longer in the config" in retried.stdout, retried.stdout
        assert "4 deliveries owed through a subscriber's current target" in retried.stdout, retried.stdout
        assert len(set(receiver.titles)) == 4, receiver.titles  # the four stages, each once
        check = tracker(path, "status", "--check")
        assert (check.returncode, check.stdout.strip()) == (0, "ok"), check.stdout
        status = json.loads(tracker(path, "status", "--json").stdout)
        assert status["deliveries"]["dead"] == 0 and status["dead_deliveries"] == []
        assert "sent" not in tracker(path, "notify").stdout.replace("0 sent", "")  # nothing twice
        assert len(receiver.titles) == 4
    finally:
        receiver.server.shutdown()
