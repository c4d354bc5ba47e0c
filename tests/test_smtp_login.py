"""The SMTP password: a real SMTP server that demands AUTH records the login, so the password that
came from `${SMTP_PASSWORD}` is shown to have been used, and never printed or stored (a wrong
password is a clear failure line, still without it); with three `tracker notify` processes at once
on PostgreSQL sharing a few hundred owed rows, each change reaches each target (that SMTP server
and an HTTP receiver) exactly once, and neither secret is shown.

Rows are owed the way a crawl owes them (`store.ingest` with `owe_instant` in the change's own
transaction), each change outside a crawl, so each row is its own message."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alerting import HOOK_SECRET, core_team, fresh_store, tracker_env, walk_stages, write_config
from servers import Mailbox, Receiver
from sqlalchemy import func, select, text

from tracker import models as m
from tracker.config import load_config
from tracker.store import Store

PASSWORD = "smtp-Pw-4417-never-shown"


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """A mail server that demands a login."""
    box = Mailbox("tracker", PASSWORD)
    box.start()
    yield box
    box.stop()


def mail_url(mailbox: Mailbox) -> str:
    """Plain SMTP with a login: the password is a `${VAR}`, as the docs tell operators to write it."""
    return (f"mailto://tracker:${{SMTP_PASSWORD}}@127.0.0.1:{mailbox.port}"
            "?smtp=127.0.0.1&from=tracker@example.org&to=team@example.org")


def mail_config(folder: Path, db_url: str, mailbox: Mailbox) -> Path:
    return write_config(folder, db_url=db_url, alerts={"max_tries": 3, "retry_seconds": 60},
                        subscribers=[core_team(mail_url(mailbox))])


def run_notify(path: Path, password: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tracker.cli", "--config", str(path), "notify"],
                          capture_output=True, text=True, env=tracker_env(SMTP_PASSWORD=password), timeout=120)


def stored_text(store: Store) -> str:
    """Every row of every table, as text: what a database dump would show."""
    rows = []
    with store.engine.connect() as conn:
        for table in m.Base.metadata.sorted_tables:
            rows += [repr(row) for row in conn.execute(text(f"SELECT * FROM {table.name}"))]
    return "\n".join(rows)


def test_smtp_login_uses_the_password_from_the_environment(tmp_path: Path, sqlite_url: str,
                                                           mailbox: Mailbox, frozen_now: Any) -> None:
    path = mail_config(tmp_path, sqlite_url, mailbox)
    config = load_config(path, env={"SMTP_PASSWORD": PASSWORD})
    store = fresh_store(config)
    assert walk_stages(store, config, bills=1, committees=True) == 4
    result = run_notify(path, PASSWORD)
    assert result.returncode == 0, result.stderr
    assert "notify: 4 sent, 0 failed" in result.stdout
    # the server saw a login with the variable's value, and accepted mail only after it
    assert mailbox.logins and all(accepted for *_, accepted in mailbox.logins)
    assert {(login, password) for _, login, password, _ in mailbox.logins} == {("tracker", PASSWORD)}
    assert sorted(msg["Subject"] for _, msg in mailbox.messages) == sorted(
        ["S. 1 passed the Senate", "S. 1 passed both chambers", "S. 1 went to the President", "S. 1 became law"])
    assert PASSWORD not in result.stdout + result.stderr
    assert PASSWORD not in stored_text(store)


def test_a_wrong_smtp_password_is_a_failure_that_never_shows_it(tmp_path: Path, sqlite_url: str,
                                                                 mailbox: Mailbox, frozen_now: Any) -> None:
    wrong = "wrong-Pw-5530-never-shown"
    path = mail_config(tmp_path, sqlite_url, mailbox)
    config = load_config(path, env={"SMTP_PASSWORD": wrong})
    store = fresh_store(config)
    walk_stages(store, config, bills=1, committees=True)
    result = run_notify(path, wrong)
    assert result.returncode == 1
    assert "notify: 0 sent, 4 failed" in result.stdout
    assert mailbox.messages == []
    assert mailbox.logins and {(login, password, ok) for _, login, password, ok in mailbox.logins} == {
        ("tracker", wrong, False)}
    assert result.stderr.strip(), "a failed delivery is reported"
    assert wrong not in result.stdout + result.stderr
    assert wrong not in stored_text(store)
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(m.Delivery).where(m.Delivery.status == "failed")) == 4


# -- notifiers at once, as separate processes --------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.slow
def test_notifier_processes_at_once_send_each_change_to_each_target_once(
        tmp_path: Path, pg_url: str, mailbox: Mailbox, frozen_now: Any) -> None:
    receiver = Receiver(delay=0.02)
    try:
        path = write_config(tmp_path, db_url=pg_url, alerts={"max_tries": 3, "retry_seconds": 60}, subscribers=[
            core_team(mail_url(mailbox), f"json://127.0.0.1:{receiver.port}/hook?token=${{HOOK_TOKEN}}")])
        config = load_config(path, env={"SMTP_PASSWORD": PASSWORD, "HOOK_TOKEN": HOOK_SECRET})
        store = fresh_store(config)
        changes = walk_stages(store, config, bills=40, committees=True)
        with store.session() as session:
            owed = session.scalar(select(func.count()).select_from(m.Delivery).where(m.Delivery.status == "pending"))
        assert (changes, owed) == (160, 320)

        command = [sys.executable, "-m", "tracker.cli", "--config", str(path), "notify"]
        procs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  env=tracker_env(SMTP_PASSWORD=PASSWORD, HOOK_TOKEN=HOOK_SECRET)) for _ in range(3)]
        outputs = [proc.communicate(timeout=240) for proc in procs]
        assert [proc.returncode for proc in procs] == [0, 0, 0], outputs

        sent = [int(out.split("notify: ", 1)[1].split(" sent", 1)[0]) for out, _ in outputs]
        assert sum(sent) == 320, outputs
        assert sum(1 for n in sent if n) >= 2, f"the notifiers did not overlap: {sent}"
        # each change reached each target exactly once
        expected = sorted(f"S. {n} {words}" for n in range(1, 41) for words in (
            "passed the Senate", "passed both chambers", "went to the President", "became law"))
        assert sorted(post["title"] for post in receiver.posts) == expected
        assert sorted(msg["Subject"] for _, msg in mailbox.messages) == expected
        assert all(rcpt == ["team@example.org"] for rcpt, _ in mailbox.messages)
        with store.session() as session:
            statuses = dict(session.execute(select(m.Delivery.status, func.count()).group_by(m.Delivery.status)).all())
        assert statuses == {"sent": 320}
        assert all(PASSWORD not in out + err and HOOK_SECRET not in out + err for out, err in outputs)
    finally:
        receiver.server.shutdown()


@pytest.mark.parametrize("password", ["p@ss/w:rd#1?x", "p:ss%41-Zq"])
def test_a_password_with_url_characters_logs_in_as_written(tmp_path: Path, sqlite_url: str, password: str) -> None:
    """`mailto://tracker:${SMTP_PASSWORD}@host` as the docs write it, with a password a generator
    might give: `@`, `/`, `#`, `?` made apprise refuse the URL (config check blamed the sender's
    address), and `:` or `%41` sent another password (the text before the `:`; `A`)."""
    box = Mailbox("tracker", password)
    box.start()
    try:
        path = write_config(tmp_path, db_url=sqlite_url, subscribers=[core_team(
            f"mailto://tracker:${{SMTP_PASSWORD}}@127.0.0.1:{box.port}?smtp=127.0.0.1"
            "&from=tracker@example.org&to=team@example.org")])
        result = subprocess.run([sys.executable, "-m", "tracker.cli", "--config", str(path), "notify", "--test",
                                 "core-team"], capture_output=True, text=True, timeout=120,
                                env=tracker_env(SMTP_PASSWORD=password))
        assert result.returncode == 0, result.stdout + result.stderr
        assert [(login, said, ok) for _, login, said, ok in box.logins] == [("tracker", password, True)]
        assert len(box.messages) == 1
        assert password not in result.stdout + result.stderr
    finally:
        box.stop()
