"""Parallel notifiers (issue 16, item 2): `[alerts] workers = N` makes `tracker notify` run N
notifier processes. Sending mail is one SMTP session per message, mostly waiting on the relay, so
the processes overlap; each claims its own rows with the outbox lease (FOR UPDATE SKIP LOCKED on
PostgreSQL), so every change still reaches its target exactly once. SQLite has one writer: there
`notify` says, in one line, that one worker is used.

Real parts only: `tracker notify` as separate OS processes, a real SMTP server (aiosmtpd) that takes
50 ms per message, the real PostgreSQL."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alerting import (
    WORDS,
    core_team,
    owe,
    statuses,
    tracker_env,
    write_config,
)
from servers import Mailbox, Receiver

from tracker.config import load_config


@pytest.fixture
def hook() -> Iterator[Receiver]:
    receiver = Receiver(delay=0.05)  # a webhook taking 50 ms a message
    yield receiver
    receiver.stop()


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox(delay=0.05)  # a relay taking 50 ms a message
    box.start()
    yield box
    box.stop()


def mail_url(mailbox: Mailbox) -> str:
    return f"mailto://127.0.0.1:{mailbox.port}?smtp=127.0.0.1&from=tracker@example.org&to=team@example.org"


def notify_command(path: Path) -> list[str]:
    return [sys.executable, "-m", "tracker.cli", "--config", str(path), "notify"]


def sent_count(stdout: str) -> int:
    return int(stdout.split("notify: ", 1)[1].split(" sent", 1)[0])


@pytest.mark.postgres
@pytest.mark.slow
def test_notifier_processes_deliver_each_change_once(tmp_path: Path, pg_url: str, hook: Receiver,
                                                     frozen_now: Any) -> None:
    path = write_config(tmp_path, db_url=pg_url, alerts={"workers": 3}, subscribers=[core_team(hook.url)])
    store = owe(load_config(path, env={}), bills=30)
    assert statuses(store) == {"pending": 120}

    result = subprocess.run(notify_command(path), capture_output=True, text=True, env=tracker_env(), timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "notify: 120 sent, 0 failed (will retry), 0 dead (3 workers)"
    expected = sorted(f"S. {n} {words}" for n in range(1, 31) for words in WORDS)
    assert sorted(hook.titles) == expected  # each change once: none lost, none twice
    assert statuses(store) == {"sent": 120}
    # the receiver really had several notifiers' messages at once (one process sends one at a time)
    assert hook.most_at_once >= 2, hook.most_at_once


@pytest.mark.postgres
@pytest.mark.slow
def test_two_notify_commands_at_once_still_send_each_change_once(tmp_path: Path, pg_url: str, mailbox: Mailbox,
                                                                 frozen_now: Any) -> None:
    """Cron's notify overlapping a manual one, two worker processes each, to a real SMTP server."""
    path = write_config(tmp_path, db_url=pg_url, alerts={"workers": 2}, subscribers=[core_team(mail_url(mailbox))])
    store = owe(load_config(path, env={}), bills=15)
    procs = [subprocess.Popen(notify_command(path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=tracker_env()) for _ in range(2)]
    outputs = [proc.communicate(timeout=120) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], outputs
    assert sum(sent_count(out) for out, _ in outputs) == 60, outputs
    assert sorted(mailbox.subjects) == sorted(f"S. {n} {words}" for n in range(1, 16) for words in WORDS)
    assert statuses(store) == {"sent": 60}


def test_sqlite_says_one_worker_is_used(tmp_path: Path, sqlite_url: str, mailbox: Mailbox,
                                        frozen_now: Any) -> None:
    path = write_config(tmp_path, db_url=sqlite_url, alerts={"workers": 4}, subscribers=[core_team(mail_url(mailbox))])
    store = owe(load_config(path, env={}), bills=2)
    result = subprocess.run(notify_command(path), capture_output=True, text=True, env=tracker_env(), timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "notify: SQLite has one writer: 1 notifier worker used ([alerts] workers = 4)",
        "notify: 8 sent, 0 failed (will retry), 0 dead"]
    assert result.stderr == ""  # a notice, not an error
    assert sorted(mailbox.subjects) == sorted(f"S. {n} {words}" for n in (1, 2) for words in WORDS)
    assert statuses(store) == {"sent": 8}
    assert mailbox.most_at_once == 1


@pytest.mark.postgres
def test_notifier_processes_never_show_the_secrets_of_the_config_they_were_given(
        tmp_path: Path, pg_url: str, frozen_now: Any) -> None:
    """Workers get the parent's parsed config, not the file: a target that is down fails in every
    worker with one line each, its token (taken from the environment) shown nowhere, and every
    delivery is still owed."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    closed = sock.getsockname()[1]  # kept bound, never listening, for the test: every send is refused
    token = "hook-token-5f8e2a91"
    path = write_config(tmp_path, db_url=pg_url, alerts={"workers": 2}, subscribers=[core_team(f"json://tracker:${{HOOK_TOKEN}}@127.0.0.1:{closed}/hook")])
    path.write_text(path.read_text().replace("[alerts]", f'[tracker]\nlog_file = "{tmp_path / "tracker.log"}"\n[alerts]'))
    store = owe(load_config(path, env={"HOOK_TOKEN": token}), bills=2)
    result = subprocess.run(notify_command(path), capture_output=True, text=True, env=tracker_env(HOOK_TOKEN=token),
                            timeout=120)
    assert result.returncode == 1
    assert "notify: 0 sent, 8 failed (will retry), 0 dead (2 workers)" in result.stdout, result.stdout
    logged = (tmp_path / "tracker.log").read_text()
    assert "core-team" in result.stderr + logged  # the failure is reported...
    assert token not in result.stdout + result.stderr + logged  # ...without the token
    assert statuses(store) == {"failed": 8}  # still owed: retried after the backoff
