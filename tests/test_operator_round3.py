"""An operator's day with `tracker status`, `tracker sources detect` and runs (round 3): each test
here failed before its fix. Real parts: `tracker` as its own process, the real Scrapy engine against
recorded answers on 127.0.0.1, SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from recorded import local, serve_openstates
from servers import answered_now
from sqlalchemy import select, text
from test_host_pace import replay_on

from tracker import models as m
from tracker.demo.replay import Fault, ReplayServer
from tracker.store import Store

ROOT = Path(__file__).resolve().parent.parent
ICS = local("ics/detroit_k12_board_of_education.ics")  # 16 meetings in the window on 10 April 2019
NOW = "2019-04-10T12:00:00Z"


def tracker(config: Path, *args: str, now: str = NOW, env: dict[str, str] | None = None,
            cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """The `tracker` command as cron or an operator runs it, its clock set by TRACKER_NOW."""
    run_env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "TRACKER_NOW": now, **(env or {})}
    run_env.pop("TRACKER_CONFIG", None)
    return subprocess.run([sys.executable, "-m", "tracker.cli", "--config", str(config), *args],
                          capture_output=True, text=True, env=run_env, cwd=cwd, timeout=180)


def meetings_config(tmp_path: Path, db_url: str, replay: ReplayServer) -> Path:
    """Three meeting watches of one school board's feed: one as it is, one following a body the
    feed never names (the usual typo), one whose feed is gone (404)."""
    replay.add("/board.ics", ICS)
    config = tmp_path / "tracker.toml"
    config.write_text(
        f'[tracker]\ntimezone = "America/Detroit"\n[storage]\nurl = "{db_url}"\n[crawl]\ndelay_seconds = 0\n'
        f'[[meetings]]\nid = "board"\nname = "Detroit Board of Education"\nical = "{replay.url}/board.ics"\n'
        f'[[meetings]]\nid = "trustees"\nname = "Board of Trustees"\nical = "{replay.url}/board.ics"\n'
        'bodies = ["Board of Trustees"]\n'
        f'[[meetings]]\nid = "council"\nname = "City Council"\nical = "{replay.url}/council.ics"\n',
        encoding="utf-8")
    return config


def test_status_says_which_watch_holds_nothing_though_its_source_reads_fine(
        tmp_path: Path, replay: ReplayServer, db_url: str) -> None:
    """A watch following a body its feed never names (`bodies = ["Board of Trustees"]`) read fine
    and held nothing: the digest said "No upcoming meetings known" under it, but `tracker status`
    printed no line of it at all, so the operator reading status took silence for a quiet month.
    Now one calm line says so and what to check; a failing source is not also called empty, and
    `status --check` (failures only) is unchanged by it."""
    config = meetings_config(tmp_path, db_url, replay)
    assert tracker(config, "--quiet", "run").returncode == 1  # the council's feed: 404
    status = tracker(config, "status")
    assert status.returncode == 0, status.stderr
    lines = status.stdout.splitlines()
    assert sum(line.startswith("[board] ") for line in lines) >= 10  # its meetings, as before
    assert [line for line in lines if line.startswith("[trustees]")] == [
        '[trustees] no meetings: ical:trustees reads fine but lists none from 30 days back on; '
        'check its bodies ("Board of Trustees")']
    assert not any(line.startswith("[council]") for line in lines)  # its failing source says it
    assert "source ical:trustees: ok (last run Wed Apr 10, 8:00 AM EDT)" in lines
    check = tracker(config, "status", "--check")
    assert check.returncode == 1 and "trustees" not in check.stdout


@pytest.mark.slow
def test_status_names_a_failing_source_once_in_its_line(
        tmp_path: Path, replay: ReplayServer, db_url: str) -> None:
    """`tracker status` printed a failing source as
    `source ical:council: failing x2: ical:council: feed: HTTP 404 ... (last run ...)`: the source
    named twice, "x2" for its runs in a row. Now each thing once, in the words of `status --check`."""
    config = meetings_config(tmp_path, db_url, replay)
    for now in (NOW, "2019-04-10T12:30:00Z"):
        assert tracker(config, "--quiet", "run", now=now).returncode == 1
    status = tracker(config, "status", now="2019-04-10T12:31:00Z")
    (line,) = [line for line in status.stdout.splitlines() if line.startswith("source ical:council")]
    assert line.startswith("source ical:council: failing (2 runs in a row, last run Wed Apr 10, 8:30 AM EDT): "
                           "feed: "), line
    assert "HTTP 404" in line and line.count("ical:council") == 1 and " x2" not in line


def test_sources_detect_runs_with_the_configs_secrets_unset(tmp_path: Path, replay: ReplayServer) -> None:
    """An operator trying an address at their desk, without /etc/tracker/env loaded: `sources
    detect` refused with `error: ...: environment variable SMTP_PASSWORD is not set` (exit 2),
    though detecting a page reads no subscriber, operator or API key. Now it detects, and says
    once per variable (not per place) that it is unset; one in a table detect reads is still the
    error it was."""
    replay.add("/board.ics", ICS)
    config = tmp_path / "tracker.toml"
    mail = "mailtos://alerts:${SMTP_PASSWORD}@mail.example.org?to="
    config.write_text(
        '[tracker]\ntimezone = "America/Detroit"\ncontact = "https://example.org/about"\n'
        '[sources.openstates]\napi_key = "${OPENSTATES_API_KEY}"\n'
        f'[operator]\nnotify = ["{mail}ops@example.org"]\n'
        f'[[subscribers]]\nid = "core-team"\nnotify = ["{mail}team@example.org"]\n', encoding="utf-8")
    env = {name: value for name, value in os.environ.items() if name not in ("SMTP_PASSWORD", "OPENSTATES_API_KEY")}
    detected = subprocess.run(
        [sys.executable, "-m", "tracker.cli", "--config", str(config), "sources", "detect", f"{replay.url}/board.ics"],
        capture_output=True, text=True, env={**env, "TRACKER_NOW": NOW}, cwd=ROOT, timeout=180)
    assert detected.returncode == 0, detected.stderr
    assert f'ical = "{replay.url}/board.ics"' in detected.stdout
    assert "16 in the window a crawl keeps" in detected.stdout
    assert detected.stderr.splitlines() == [
        f"warning: {config}: environment variable OPENSTATES_API_KEY is not set (sources.openstates.api_key): "
        "detect does not need it; `tracker run` will",
        f"warning: {config}: environment variable SMTP_PASSWORD is not set (operator.notify[0], "
        "subscribers[core-team].notify[0]): detect does not need it; `tracker run` will"]
    quiet = subprocess.run(
        [sys.executable, "-m", "tracker.cli", "--config", str(config), "sources", "detect", "--quiet",
         f"{replay.url}/board.ics"], capture_output=True, text=True, env={**env, "TRACKER_NOW": NOW}, cwd=ROOT,
        timeout=180)
    assert quiet.returncode == 0 and quiet.stderr == "" and quiet.stdout.startswith("[[meetings]]"), quiet

    # A variable detect itself reads ([tracker] contact goes into its User-Agent) still matters.
    config.write_text(config.read_text().replace('"https://example.org/about"', '"${CONTACT_URL}"'))
    refused = subprocess.run(
        [sys.executable, "-m", "tracker.cli", "--config", str(config), "sources", "detect", f"{replay.url}/board.ics"],
        capture_output=True, text=True, env={**env, "TRACKER_NOW": NOW}, cwd=ROOT, timeout=180)
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.splitlines() == [
        f"error: {config}: tracker.contact: environment variable CONTACT_URL is not set"]


def validator_urls(db_url: str) -> list[str]:
    with Store(db_url).session() as session:
        return sorted(session.scalars(select(m.HttpValidator.url)))


@pytest.mark.slow
def test_validators_of_urls_no_watch_asks_are_pruned_and_those_asked_kept(
        tmp_path: Path, replay: ReplayServer, db_url: str) -> None:
    """`http_validators` (an ETag and Last-Modified per URL and watch) were never deleted: a watch
    taken out of the config (or a listing moved) left its row forever. Now a row no crawl asked
    with for 30 days goes after a crawl, as old runs do; one still asked with stays, however long
    its URL answered 304 (the next request is still conditional: `1 unchanged (304)`)."""
    replay.add("/board.ics", ICS)
    replay.add("/old.ics", ICS)
    config = tmp_path / "tracker.toml"
    board = (f'[storage]\nurl = "{db_url}"\n[crawl]\ndelay_seconds = 0\n'
             f'[[meetings]]\nid = "board"\nname = "Board"\ntimezone = "America/Detroit"\nical = "{replay.url}/board.ics"\n')
    config.write_text(board + f'[[meetings]]\nid = "old"\nname = "Old"\nical = "{replay.url}/old.ics"\n')
    assert tracker(config, "--quiet", "crawl").returncode == 0
    assert validator_urls(db_url) == [f"{replay.url}/board.ics", f"{replay.url}/old.ics"]

    config.write_text(board)  # the "old" watch taken out
    for day in (20, 29):  # the board's feed unchanged for weeks: 304 each crawl
        crawled = tracker(config, "crawl", now=f"2019-04-{day}T12:00:00Z")
        assert crawled.returncode == 0 and "1 unchanged (304)" in crawled.stdout, crawled
    assert len(validator_urls(db_url)) == 2  # within 30 days of its last use, the old row is kept
    crawled = tracker(config, "crawl", now="2019-05-12T12:00:00Z")
    assert crawled.returncode == 0 and "1 unchanged (304)" in crawled.stdout, crawled
    assert validator_urls(db_url) == [f"{replay.url}/board.ics"]
    crawled = tracker(config, "crawl", now="2019-05-13T12:00:00Z")
    assert "1 unchanged (304)" in crawled.stdout and replay.requests[-1].headers.get("If-None-Match")


def test_a_failing_prune_of_validators_says_so_and_the_crawl_stands(
        tmp_path: Path, replay: ReplayServer, pg_url: str) -> None:
    """A prune the database refuses (here a trigger: in life a lock timeout or a permission) is one
    plain warning naming what could not be pruned and the database's own words, not SQLAlchemy's
    statement and link; the crawl it follows is kept and its exit code untouched."""
    replay.add("/board.ics", ICS)
    replay.add("/old.ics", ICS)
    config = tmp_path / "tracker.toml"
    board = (f'[storage]\nurl = "{pg_url}"\n[crawl]\ndelay_seconds = 0\n'
             f'[[meetings]]\nid = "board"\nname = "Board"\ntimezone = "America/Detroit"\nical = "{replay.url}/board.ics"\n')
    config.write_text(board + f'[[meetings]]\nid = "old"\nname = "Old"\nical = "{replay.url}/old.ics"\n')
    assert tracker(config, "--quiet", "crawl").returncode == 0
    config.write_text(board)
    store = Store(pg_url)
    with store.engine.begin() as conn:
        conn.execute(text("CREATE FUNCTION keep_validators() RETURNS trigger LANGUAGE plpgsql AS "
                          "$$ BEGIN RAISE EXCEPTION 'validators are read-only here'; END $$"))
        conn.execute(text("CREATE TRIGGER keep_validators BEFORE DELETE ON http_validators "
                          "FOR EACH ROW EXECUTE FUNCTION keep_validators()"))
    crawled = tracker(config, "crawl", now="2019-05-12T12:00:00Z")
    assert crawled.returncode == 0, crawled.stderr
    assert "ical:board: ok" in crawled.stdout
    assert crawled.stderr.splitlines() == [
        "warning: could not prune stored HTTP validators unused since 2019-04-12: RaiseException: validators are "
        "read-only here; the crawl is unaffected, and the next crawl tries again"]
    assert len(validator_urls(pg_url)) == 2


def on_machine(host: str, config: Path, *args: str, now: str) -> subprocess.Popen[str]:
    """`tracker` started as on another machine: its own host name (a UTS namespace), so this
    machine cannot see its processes, as a cluster's runners cannot see each other's."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "TRACKER_NOW": now}
    env.pop("TRACKER_CONFIG", None)
    return subprocess.Popen(["unshare", "--uts", "sh", "-c", f'hostname {host} && exec "$@"', "sh", sys.executable,
                             "-m", "tracker.cli", "--config", str(config), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)


def wait_in_flight(server: ReplayServer, proc: subprocess.Popen[str], robots_before: int) -> None:
    """Until the runner's request for the slow feed is under way (its Run rows are open): its
    robots.txt read, and a request not yet answered."""
    deadline = time.monotonic() + 60
    while answered_now(server, "/robots.txt") <= robots_before or server._inflight == 0:
        assert time.monotonic() < deadline and proc.poll() is None, "the runner never asked for the feed"
        time.sleep(0.05)


def source_line(config: Path, source: str, now: str) -> str:
    status = tracker(config, "status", now=now)
    assert status.returncode == 0, status.stderr
    (line,) = [line for line in status.stdout.splitlines() if line.startswith(f"source {source}:")]
    return line


@pytest.mark.postgres
@pytest.mark.timeout(300)
@pytest.mark.slow
def test_a_dead_machines_runs_are_shown_abandoned_and_closed_but_a_live_run_is_left_alone(
        tmp_path: Path, pg_url: str) -> None:
    """A cluster runner on machine web2 dies (power lost) mid-crawl: no process of this machine
    had its Run row, so nothing ever closed it (`mark_interrupted` looks at this host's pids only)
    and `tracker status` said nothing of it. Now a crawling runner keeps a heartbeat lease: once it
    ran out, status says the run was abandoned and the next run (on any machine) closes it so,
    without counting it against the source. A run still going is never touched: one whose beats
    are kept, and one holding the run lock whatever its beats say."""
    slow, other = replay_on("127.0.0.2"), replay_on("127.0.0.3")
    for server in (slow, other):
        server.add("/board.ics", ICS)
        server.start()
    try:
        config = tmp_path / "tracker.toml"
        config.write_text(
            f'[tracker]\ntimezone = "America/Detroit"\n[storage]\nurl = "{pg_url}"\n[crawl]\ndelay_seconds = 0\n'
            f'[[meetings]]\nid = "board"\nname = "Board"\nical = "{slow.url}/board.ics"\n'
            f'[[meetings]]\nid = "city"\nname = "City"\nical = "{other.url}/board.ics"\n', encoding="utf-8")
        cluster = ("run", "--cluster", "--cycle-minutes", "15")
        web2_gate = threading.Event()
        slow.set_fault("/board.ics", Fault.hold(web2_gate))  # in flight until it is killed
        robots = slow.count("/robots.txt")
        web2 = on_machine("web2", config, *cluster, "--runner", "web2", now="2019-04-10T12:00:00Z")
        wait_in_flight(slow, web2, robots)
        web2.send_signal(signal.SIGKILL)
        web2.wait(timeout=30)
        web2_gate.set()  # its answer goes to nobody now
        # Within its heartbeat lease nobody can tell it from a slow crawl: running.
        assert source_line(config, "ical:board", "2019-04-10T12:02:00Z") == (
            f"source ical:board: never run (last run never); running since Wed Apr 10, 8:00 AM EDT (pid {web2.pid} "
            "on web2)")
        # Its lease ran out: abandoned, said once, calmly.
        assert source_line(config, "ical:board", "2019-04-10T12:06:00Z") == (
            "source ical:board: never run (last run never); its run since Wed Apr 10, 8:00 AM EDT was abandoned "
            f"(pid {web2.pid} on web2 stopped, last heartbeat Wed Apr 10, 8:00 AM EDT): the next run closes it")

        # The next cycle's runner closes it as abandoned and crawls the group itself.
        slow.set_fault("/board.ics", None)
        nxt = tracker(config, *cluster, "--runner", "b", now="2019-04-10T12:15:00Z")
        assert nxt.returncode == 0, nxt.stderr
        with Store(pg_url).session() as session:
            runs = session.execute(select(m.Run.host, m.Run.state, m.Run.ok, m.Run.error)
                                   .where(m.Run.source_id == "ical:board").order_by(m.Run.id)).all()
        assert (runs[0].host, runs[0].state, runs[0].ok) == ("web2", "abandoned", False)
        assert runs[0].error == (f"ical:board: abandoned: its runner, pid {web2.pid} on web2, stopped (no heartbeat "
                                 "since 2019-04-10T12:00:00Z) before the crawl finished")
        assert runs[1].state is None and runs[1].ok
        assert source_line(config, "ical:board", "2019-04-10T12:16:00Z") == (
            "source ical:board: ok (last run Wed Apr 10, 8:15 AM EDT)")  # the dead machine counts no failure

        # A live runner on web3 (heartbeating) is left alone by a runner starting beside it.
        web3_gate = threading.Event()
        slow.set_fault("/board.ics", Fault.hold(web3_gate))
        robots = slow.count("/robots.txt")
        web3 = on_machine("web3", config, *cluster, "--runner", "web3", now="2019-04-10T12:30:00Z")
        wait_in_flight(slow, web3, robots)
        assert "running since Wed Apr 10, 8:30 AM EDT" in source_line(config, "ical:board", "2019-04-10T12:31:00Z")
        beside = tracker(config, *cluster, "--runner", "c", now="2019-04-10T12:31:00Z")
        assert beside.returncode == 0, beside.stderr
        web3_gate.set()
        out, err = web3.communicate(timeout=120)
        assert web3.returncode == 0, out + err

        # A run holding the run lock is going, whatever its beats say (its clock, here, stood still).
        web4_gate = threading.Event()
        slow.set_fault("/board.ics", Fault.hold(web4_gate))
        robots = slow.count("/robots.txt")
        web4 = on_machine("web4", config, "run", now="2019-04-10T13:00:00Z")
        wait_in_flight(slow, web4, robots)
        slow.set_fault("/board.ics", None)  # for the runner beside it; web4's answer is still on its way
        assert "running since Wed Apr 10, 9:00 AM EDT" in source_line(config, "ical:board", "2019-04-10T13:20:00Z")
        late = tracker(config, *cluster, "--runner", "d", now="2019-04-10T13:20:00Z")
        assert late.returncode == 0, late.stderr
        with Store(pg_url).session() as session:
            held = session.execute(select(m.Run.state, m.Run.finished_at).where(m.Run.host == "web4",
                                                                                 m.Run.source_id == "ical:board")).one()
        assert tuple(held) == (None, None) and web4.poll() is None  # still going, still open
        web4_gate.set()
        out, err = web4.communicate(timeout=120)
        assert web4.returncode == 0, out + err
        with Store(pg_url).session() as session:
            states = session.execute(select(m.Run.host, m.Run.state, m.Run.ok).where(m.Run.source_id == "ical:board")
                                     .order_by(m.Run.id)).all()
        assert [tuple(row) for row in states] == [("web2", "abandoned", False), (socket.gethostname(), None, True),
                                                  ("web3", None, True), ("web4", None, True),
                                                  (socket.gethostname(), None, True)]
    finally:
        slow.stop()
        other.stop()


def test_status_says_a_state_keyword_watch_matches_nothing(tmp_path: Path, replay: ReplayServer, db_url: str) -> None:
    """A keyword watch whose words match no bill (a typo, a phrase no state uses) held nothing
    and `tracker status` printed nothing of it; the watch beside it that matches is unchanged."""
    _api, base = serve_openstates(replay, keys={"os-key"}, per_minute=1000)
    config = tmp_path / "tracker.toml"
    config.write_text(
        f'[storage]\nurl = "{db_url}"\n[crawl]\ndelay_seconds = 0\n'
        f'[sources.openstates]\nbase_url = "{base}"\napi_key = "os-key"\nper_minute = 6000\n'
        '[[bills]]\nid = "qi"\nname = "Qualified immunity"\nkeywords = ["qualified immunity"]\nstates = ["co"]\n'
        '[[bills]]\nid = "typo"\nname = "Qualified imunity"\nkeywords = ["qualified imunity"]\nstates = ["co"]\n',
        encoding="utf-8")
    crawled = tracker(config, "crawl", now="2021-04-01T12:00:00Z")
    assert crawled.returncode == 0, crawled.stderr
    lines = tracker(config, "status", now="2021-04-01T12:01:00Z").stdout.splitlines()
    assert any(line.startswith("[qi] Colorado SB 217") for line in lines), lines
    assert [line for line in lines if line.startswith("[typo]")] == [
        '[typo] no bills: openstates reads fine but its keywords ("qualified imunity") match none yet; check them']
