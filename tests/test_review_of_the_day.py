"""What a review of the day's changes found, each with the test that failed before its fix.

Real parts only: a real dripping webhook host and a real receiver on loopback, a real SMTP server
(aiosmtpd), SQLite and PostgreSQL, the `tracker` command as an OS process."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from alembic import command
from alerting import core_team, owe, statuses, tracker_env, write_config
from servers import Mailbox, Receiver
from sqlalchemy import select
from test_delivery_under_attack import Dripping
from test_people_lifecycle import EVERYTHING
from test_people_mail import BOB, add_person, mail_to, people_config

from tracker import clock
from tracker import models as m
from tracker.config import load_config
from tracker.demo.openstates_api import DATA as OPEN_STATES
from tracker.people import issue_token, person_by_token
from tracker.statepeople import bill_contact_lines, read_people_dir
from tracker.states import read_bill
from tracker.store import Store, alembic_config, current_revision, newest_migration
from tracker.web import subscriptions
from tracker.web.mailer import Mailer


def test_notifier_workers_end_when_a_send_was_given_up_at_its_deadline(
        tmp_path: Path, pg_url: str, receiver: Receiver) -> None:
    """With `[alerts] workers` on PostgreSQL each notifier is a process of its own, and its exit
    joined apprise's thread still waiting on a webhook answering a byte at a time: `tracker notify`
    waited for it (minutes) after its work was done, as the single notifier did before."""
    dripping = Dripping()
    try:
        path = write_config(tmp_path, db_url=pg_url, alerts={"timeout_seconds": 1, "workers": 2},
                            subscribers=[core_team(dripping.url, receiver.url)])
        store = owe(load_config(path, env={}), bills=2)  # eight messages to each target
        started = time.monotonic()
        run = subprocess.run([sys.executable, "-m", "tracker.cli", "--config", str(path), "notify", "--quiet"],
                             capture_output=True, text=True, env=tracker_env(), timeout=90)
        took = time.monotonic() - started
    finally:
        dripping.stop()
    assert took < 30, took
    assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr
    assert "timed out after 1 s" in run.stderr, run.stderr
    assert len(receiver.posts) == 8
    assert statuses(store).get("sent") == 8


def test_a_sign_up_after_the_upgrade_gets_a_message_id_of_its_own(
        tmp_path: Path, sqlite_url: str, mailbox: Mailbox, frozen_now: Any) -> None:
    """Ann signed up under the previous release (SQLite, plain rowids); her confirmation went and
    its row was pruned two days later, as every row is. Then the upgrade (0013) and a sign-up days
    later: AUTOINCREMENT counts only from the ids still there, so the new mail's id, and with it
    its Message-ID, was the pruned one's, and a mailbox that already had it (Gmail) never showed it."""
    config = people_config(tmp_path, sqlite_url, mailbox, team=False)
    store = Store(sqlite_url)
    with store.engine.begin() as connection:  # the previous release's tables
        cfg = alembic_config(store.engine)
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0012")
    mailer = Mailer(store, config)
    frozen_now("2026-11-24T14:00:00Z")
    with store.session() as session:
        subscriptions.sign_up(session, "ann@example.org", EVERYTHING, clock.now(), timedelta(minutes=10))
    assert mailer.send_due().sent == 1
    frozen_now("2026-11-27T14:00:00Z")
    mailer.prune(clock.now())  # the sent row is gone, as the previous release pruned it
    store = Store(sqlite_url)  # this release migrates it
    mailer = Mailer(store, config)
    with store.session() as session:
        subscriptions.sign_up(session, "ann@example.org", EVERYTHING, clock.now(), timedelta(minutes=10))
    assert mailer.send_due().sent == 1
    first, second = (str(mail["Message-ID"]) for mail in mail_to(mailbox, "ann@example.org"))
    assert first != second


def test_the_upgrade_of_a_database_with_links_of_a_person_deleted_by_hand(sqlite_url: str, frozen_now: Any) -> None:
    """A SQLite database of the previous release where a person was deleted with foreign keys off
    (the sqlite3 shell's default, an old SQLite): their link and mail stayed behind. Migration 0013
    put every link back after the cascade had kept exactly those, so it failed on their token
    (UNIQUE constraint failed), and no tracker command could open the database. Now what belongs
    to no one is left behind, and everyone else's links still work."""
    store = Store(sqlite_url)
    with store.engine.begin() as connection:
        cfg = alembic_config(store.engine)
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0012")
    ann, bob = add_person(store, "ann@example.org"), add_person(store, BOB)
    with store.session() as session:
        links = {who: issue_token(session, who, "manage") for who in (ann, bob)}
        subscriptions.sign_up(session, BOB, EVERYTHING, clock.now(), timedelta(0))  # a mail owed to Bob
    store.engine.dispose()
    shell = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"))  # foreign keys off, as the shell has them
    with shell:
        shell.execute("DELETE FROM people WHERE id = ?", (bob,))
    shell.close()
    store = Store(sqlite_url)  # this release migrates it
    assert current_revision(store.engine) == newest_migration()
    with store.session() as session:
        assert person_by_token(session, links[ann], "manage").id == ann
        assert person_by_token(session, links[bob], "manage") is None
        assert session.scalars(select(m.PersonMail)).all() == []


def test_a_district_written_with_an_ampersand_names_its_senator() -> None:
    """Massachusetts's "Second Suffolk and Middlesex", as people write it on a form: "2nd Suffolk &
    Middlesex". The subscriber was told no sitting member was known (a vacant seat), not whom to call."""
    ma, _ = read_people_dir(OPEN_STATES / "people", "ma", today=date(2021, 3, 1))
    s2963 = read_bill(next(b for b in json.loads((OPEN_STATES / "api" / "later.json").read_text())["bills"]
                           if b["identifier"] == "S 2963"))
    lines = bill_contact_lines(s2963, ma, state="MA", senate_district="2nd Suffolk & Middlesex")
    assert lines[0] == "Your state legislators:"
    assert lines[1].startswith("  Senator William N. Brownsberger (Democratic, Senate, Second Suffolk and Middlesex "
                               "District): "), lines
