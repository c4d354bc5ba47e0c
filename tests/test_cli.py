"""The command line as an operator uses it: exit codes, --quiet, JSON shapes, the run lock."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tracker.cli import main
from tracker.config import load_config
from tracker.lock import run_lock
from tracker.store import Store

MINIMAL = """
[tracker]
timezone = "America/New_York"
[storage]
url = "sqlite:///tracker.db"
[[bills]]
id = "eqia"
name = "Ending Qualified Immunity Act"
numbers = ["hr1470-117"]
"""


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "tracker.toml"
    path.write_text(MINIMAL)
    return path


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_status_json_shape_before_any_crawl(config_file: Path) -> None:
    code, out, _ = invoke("--config", str(config_file), "status", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["bills"] == [] and data["meetings"] == []
    assert data["sources"] == [{"id": "govinfo", "last_run": None, "last_success": None, "ok": None,
                                "error": None, "consecutive_failures": 0}]
    assert data["deliveries"] == {"pending": 0, "sent": 0, "failed": 0, "dead": 0}


def test_changes_json_is_an_empty_array(config_file: Path) -> None:
    code, out, _ = invoke("--config", str(config_file), "changes", "--json")
    assert code == 0 and json.loads(out) == []


def test_usage_errors_exit_2(config_file: Path) -> None:
    assert invoke("--config", str(config_file), "changes", "--since", "yesterday")[0] == 2
    assert invoke("--config", str(config_file), "changes", "--watch", "nope")[0] == 2
    assert invoke("--config", str(config_file), "crawl", "--watch", "nope")[0] == 2
    assert invoke("--config", str(config_file / "missing.toml"), "status")[0] == 2


def test_config_from_environment_variable(config_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_CONFIG", str(config_file))
    code, out, _ = invoke("config", "check")
    assert code == 0 and "bill watch eqia" in out


def test_quiet_prints_nothing_on_success(config_file: Path) -> None:
    code, out, err = invoke("--config", str(config_file), "--quiet", "config", "check")
    assert (code, out, err) == (0, "", "")
    code, out, err = invoke("--config", str(config_file), "db", "upgrade", "--quiet")
    assert (code, out, err) == (0, "", "")


def test_db_upgrade_creates_the_database_beside_the_config(config_file: Path) -> None:
    code, out, _ = invoke("--config", str(config_file), "db", "upgrade")
    assert code == 0 and "revision" in out
    assert (config_file.parent / "tracker.db").exists()


def test_run_lock_is_exclusive_and_released(config_file: Path, tmp_path: Path) -> None:
    store = Store(load_config(config_file).database_url)
    with run_lock(store, tmp_path) as first:
        assert first
        with run_lock(store, tmp_path) as second:
            assert not second
    with run_lock(store, tmp_path) as again:
        assert again


def test_run_lock_on_postgres(pg_url: str, tmp_path: Path) -> None:
    a, b = Store(pg_url), Store(pg_url)
    with run_lock(a, tmp_path) as first:
        assert first
        with run_lock(b, tmp_path) as second:
            assert not second
    with run_lock(b, tmp_path) as again:
        assert again


def test_second_run_exits_0_at_once_while_one_holds_the_lock(config_file: Path, tmp_path: Path) -> None:
    """A real second `tracker run` process finds the lock held and says so."""
    store = Store(load_config(config_file).database_url)
    with run_lock(store, tmp_path) as held:
        assert held
        result = subprocess.run([sys.executable, "-m", "tracker.cli", "--config", str(config_file), "run"],
                                capture_output=True, text=True, timeout=60, env=os.environ.copy())
    assert result.returncode == 0
    assert "another tracker run is in progress" in result.stdout


def test_lock_of_a_killed_run_is_taken_over(config_file: Path, tmp_path: Path) -> None:
    """A process holding the lock is SIGKILLed; the next run gets the lock."""
    script = (
        "import sys, time\n"
        "from tracker.config import load_config\nfrom tracker.store import Store\nfrom tracker.lock import run_lock\n"
        f"store = Store(load_config({str(config_file)!r}).database_url)\n"
        f"with run_lock(store, __import__('pathlib').Path({str(tmp_path)!r})) as held:\n"
        "    print('held' if held else 'busy', flush=True)\n    time.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        store = Store(load_config(config_file).database_url)
        with run_lock(store, tmp_path) as busy:
            assert not busy
        proc.kill()
        proc.wait(timeout=10)
        with run_lock(store, tmp_path) as taken:
            assert taken
    finally:
        proc.kill()


@pytest.mark.slow
def test_demo_runs_the_whole_job_on_recorded_sources(tmp_path: Path) -> None:
    """`tracker demo` as the README runs it: bills and meetings change, the digest is written."""
    out = tmp_path / "demo"
    env = {**os.environ, "TRACKER_NOW": "2026-11-25T12:00:00Z"}
    done = subprocess.run([sys.executable, "-m", "tracker.cli", "demo", "--out", str(out)], capture_output=True,
                          text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    # the changes summarised: counts by kind, then one example of a few kinds (not 86 change lines)
    found = lines.index("demo: 86 changes found (every one: the `changes` command below), by kind, and a few:")
    assert lines[found + 1] == ("  58 bill.action, 8 bill.stage, 8 bill.cosponsor_added, 1 bill.cosponsor_withdrawn, "
                                "4 bill.vote, 2 meeting.added, 2 meeting.cancelled, 1 meeting.rescheduled, "
                                "1 meeting.agenda_posted, 1 agenda.item_added")
    assert lines[found + 2:found + 6] == [
        "  [bill.stage] Colorado SB 217 passed the Senate",
        "  [meeting.cancelled] Committee on Public Safety on Fri Nov 27, 10:00 AM: deferred",
        "  [meeting.rescheduled] Committee on Public Safety on Tue Dec 8, 1:00 PM moved to Tue Dec 8, 10:00 AM",
        "  [agenda.item_added] Committee on Public Safety on Mon Dec 14, 10:00 AM: "
        "Int 0123-2023 - Ending the use of ShotSpotter (ShotSpotter)",
    ]
    assert sum(1 for line in lines if line.startswith("  [")) == 6
    # every change is still there for the command the demo names
    every = subprocess.run([sys.executable, "-m", "tracker.cli", "--config", str(out / "tracker.toml"), "changes",
                            "--json"], capture_output=True, text=True, env=env, timeout=60)
    summaries = {c["summary"] for c in json.loads(every.stdout)}
    assert len(summaries) >= 80 and "H.R. 2471 (117th) became law" in summaries
    assert "New York A 99901 passed the Assembly" in summaries
    index = (out / "site" / "index.html").read_text()
    assert "Committee on Public Safety" in index and "ShotSpotter" in index
    assert "BEGIN:VEVENT" in (out / "site" / "meetings.ics").read_text()


@pytest.mark.slow
def test_a_database_that_cannot_be_opened_is_one_line(tmp_path: Path) -> None:
    """PostgreSQL stopped (a refused port on loopback) or a SQLite file in a folder that does not
    exist: every command says so in one `error:` line (the driver's words, no SQLAlchemy link or
    hint lines, which cron would mail as more problems), exit 2, as docs/cli.md promises."""
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    urls = {"postgres": f"postgresql+psycopg://postgres:${{PGPASSWORD}}@127.0.0.1:{port}/tracker",
            "sqlite": "sqlite:///no-such-folder/tracker.db"}
    for kind, url in urls.items():
        path = tmp_path / f"{kind}.toml"
        path.write_text(MINIMAL.replace('"sqlite:///tracker.db"', f'"{url}"'))
        for args in (["status"], ["--quiet", "run"], ["status", "--check"], ["db", "upgrade"]):
            result = subprocess.run([sys.executable, "-m", "tracker.cli", "--config", str(path), *args],
                                    capture_output=True, text=True, timeout=60, cwd=tmp_path,
                                    env={**os.environ, "PGPASSWORD": "pg-secret-value"})
            assert result.returncode == 2, (kind, args, result.stderr)
            lines = result.stderr.splitlines()
            assert len(lines) == 1, (kind, args, lines)
            assert lines[0].startswith(f"error: {path}: storage.url: cannot open the database: ")
            assert "sqlalche.me" not in lines[0] and "pg-secret-value" not in result.stderr
            assert ("Connection refused" if kind == "postgres" else "unable to open database file") in lines[0]


@pytest.mark.postgres
def test_a_database_password_with_url_characters_is_taken_as_written(pg_url: str, tmp_path: Path) -> None:
    """`url = "postgresql+psycopg://user:${PGPASSWORD}@host/db"` as docs/configuration.md writes it,
    with a password a generator might give (`@`, `/`, `:`, `%`, `#`): the password is the variable's
    value, never part of the host. (The server here trusts loopback, so reaching the right host and
    database is what shows; the password sent is the URL's password, decoded, checked below.)"""
    from sqlalchemy.engine import make_url

    password = "p@ss/w:rd%41#1"
    url = pg_url.replace("postgres@", "postgres:${PGPASSWORD}@", 1)
    path = tmp_path / "tracker.toml"
    path.write_text(MINIMAL.replace('"sqlite:///tracker.db"', f'"{url}"'))
    result = subprocess.run([sys.executable, "-m", "tracker.cli", "--config", str(path), "status", "--check"],
                            capture_output=True, text=True, timeout=60, cwd=tmp_path,
                            env={**os.environ, "PGPASSWORD": password})
    assert (result.returncode, result.stderr) == (0, ""), result.stderr
    assert password not in result.stdout
    config = load_config(path, env={"PGPASSWORD": password})
    assert make_url(config.database_url).password == password
    assert make_url(config.database_url).host == "127.0.0.1"
    checked = subprocess.run([sys.executable, "-m", "tracker.cli", "--config", str(path), "config", "check"],
                             capture_output=True, text=True, timeout=60, cwd=tmp_path,
                             env={**os.environ, "PGPASSWORD": password})
    assert checked.returncode == 0 and "postgres:***@127.0.0.1:5432/" in checked.stdout
    assert "p%40ss" not in checked.stdout and password not in checked.stdout
