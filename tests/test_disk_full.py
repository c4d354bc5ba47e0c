"""A full disk (issue 25, item 5), on a real file system that really fills up: a 2 MB tmpfs holding
the SQLite database, mounted for the test (it needs root; elsewhere it is skipped with the reason,
never under CI=true).

- Every command says it in one line, in every mode (no traceback without --quiet), and leaves no
  temporary file (the lock holder's `.tmp`, a notifier's journal).
- A message sent when the database could no longer record it is recorded before anything else
  once there is space again: it is never sent twice.

Real parts only: `tracker` as OS processes, a real HTTP receiver, a real file system."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alerting import WORDS, core_team, owe, statuses, tracker_env, write_config
from servers import Receiver

from tracker.config import load_config

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
LATER = "2026-11-24T15:00:00Z"  # past the lease (5 minutes) of anything the stopped notifier held


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 8 MB file system (tmpfs), to fill up (`fill`). Not smaller: with the filler gone, a
    crawl of all eight bill types' packages (2.2 MB in `test_federal_packages`) may hold several at
    once on it, and 2 MB ran out under load."""
    disk = tmp_path / "disk"
    disk.mkdir()
    try:
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(disk)],
                                 capture_output=True, text=True)
        problem = mounted.stderr.strip() or f"exit {mounted.returncode}" if mounted.returncode else None
    except OSError as exc:
        problem = str(exc)
    if problem:
        if IN_CI:
            pytest.fail(f"a small tmpfs is required under CI=true (run as root): {problem}")
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {problem}")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=False)


def fill(disk: Path) -> None:
    """Take every free byte left (the filler grows if it already exists)."""
    fd = os.open(disk / "filler", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    try:
        for size in (65536, 4096, 512, 1):
            try:
                while os.write(fd, b"\0" * size):
                    pass
            except OSError:
                pass
    finally:
        os.close(fd)


def tracker(config: Path, *args: str, now: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tracker.cli", "--config", str(config), *args],
                          capture_output=True, text=True, timeout=120,
                          env={**tracker_env(), **({"TRACKER_NOW": now} if now else {})})


def leftovers(disk: Path) -> list[str]:
    """Files the tracker left behind that are not the database's own or the lock's."""
    ours = {"filler", "tracker.db", "tracker.db-wal", "tracker.db-shm", "tracker.db.lock", "tracker.db.lock.holder"}
    return sorted(path.name for path in disk.iterdir() if path.name not in ours)


@pytest.fixture
def hook() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.stop()


def setup(tmp_path: Path, disk: Path, hook: Receiver, closed: int) -> Path:
    path = write_config(tmp_path, db_url=f"sqlite:///{disk / 'tracker.db'}", alerts={"workers": 1}, subscribers=[core_team(hook.url)])
    path.write_text(path.read_text() + f'[sources.govinfo]\nbase_url = "http://127.0.0.1:{closed}"\n'
                                       f'[sources.legislators]\nbase_url = "http://127.0.0.1:{closed}"\n')
    owe(load_config(path, env={}), bills=1).dispose()  # four changes: four messages owed
    return path


@pytest.fixture
def closed_port() -> Iterator[int]:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@pytest.mark.slow
def test_a_message_sent_as_the_disk_fills_is_recorded_first_and_never_sent_again(
        tmp_path: Path, small_disk: Path, hook: Receiver, closed_port: int, frozen_now: Any) -> None:
    path = setup(tmp_path, small_disk, hook, closed_port)
    hook.on_post = lambda: fill(small_disk) if len(hook.posts) == 2 else None  # full once the 2nd is in

    first = tracker(path, "notify")
    assert first.returncode == 1
    assert len(hook.posts) == 2  # the second went out; nothing after it
    (line,) = first.stderr.splitlines()  # one line, without --quiet
    assert line.endswith("sent, but the database could not record it (database or disk is full); it is recorded "
                         "before anything else next time; notify stopped"), line
    assert first.stdout.splitlines()[-1] == "notify: 2 sent, 0 failed (will retry), 0 dead"

    fill(small_disk)  # whatever the notifier freed on its way out
    still = tracker(path, "notify", now=LATER)
    assert still.returncode == 1 and len(hook.posts) == 2, still.stderr  # nothing sent that could not be recorded
    (line,) = still.stderr.splitlines()
    assert line.startswith("tracker notify: stopped: the disk is full"), line

    full = tracker(path, "status", "--check", now=LATER)  # the database cannot even be opened: said all the same
    assert full.returncode == 1 and "1 delivery sent but not recorded" in full.stderr, full.stderr
    (small_disk / "filler").unlink()  # space again; a monitor's check before the next notify says what waits
    check = tracker(path, "status", "--check", now=LATER)
    assert check.returncode == 1 and ("1 delivery sent but not recorded (the database could not record them): "
                                      "the next `tracker notify` or `tracker run` records them") in check.stdout
    again = tracker(path, "notify", now=LATER)
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines() == [
        "notify: 1 delivery sent earlier (the database could not record it then) recorded as sent",
        "notify: 2 sent, 0 failed (will retry), 0 dead"]
    assert sorted(hook.titles) == sorted(f"S. 1 {words}" for words in WORDS)  # each once
    assert statuses(load_store(path)) == {"sent": 4}
    assert leftovers(small_disk) == []
    assert tracker(path, "status", "--check", now=LATER).returncode == 0  # recorded: nothing to report


@pytest.mark.slow
def test_a_full_disk_is_one_line_in_every_mode_and_leaves_no_temporary_file(
        tmp_path: Path, small_disk: Path, hook: Receiver, closed_port: int, frozen_now: Any) -> None:
    path = setup(tmp_path, small_disk, hook, closed_port)
    (small_disk / "tracker.db.lock").write_text("4242\n")  # an earlier run's lock file (runs leave it)
    # Another process has the database open (`tracker status`, a backup): it opens without new space.
    reader = sqlite3.connect(small_disk / "tracker.db")
    try:
        reader.execute("select count(*) from deliveries").fetchone()
        fill(small_disk)
        for args in (["run"], ["--quiet", "run"], ["notify"]):
            result = tracker(path, *args)
            assert result.returncode == 1, (args, result.stderr)
            (line,) = result.stderr.splitlines()
            assert line.startswith(f"tracker {args[-1]}: stopped: the disk is full ("), (args, line)
            assert line.endswith("what is owed is kept: run again once there is space"), (args, line)
            assert leftovers(small_disk) == [], args
        assert hook.posts == []
    finally:
        reader.close()


def load_store(path: Path) -> Any:
    from tracker.store import Store

    return Store(load_config(path, env={}).database_url)
