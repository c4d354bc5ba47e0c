"""A subscriber's whole life and what is left of it: a person's data deleted ("delete my data", or a
sign-up never confirmed) leaves nothing, and nothing that reaches whoever signs up next, whatever id
the database gives them (nor a mail's Message-ID used again); unconfirmed sign-ups are forgotten by
the cron job too, not only while `tracker serve` runs; the operator's lines say what went wrong with
the mail relay; counts are said in plain words; a client trickling its headers is cut off.

Real parts: `tracker serve` under uvicorn on loopback, the aiosmtpd Mailbox (tests/servers.py),
SQLite and PostgreSQL, the CLI (in process and as a process), raw sockets."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from alembic import command
from alerting import core_team, fresh_store, record, tracker_env, walk_stages, write_config
from click.testing import CliRunner
from servers import Mailbox
from serving import Visitor, free_port, running, serve_config, wait_for
from sqlalchemy import select, text
from test_people_mail import BOB, add_person, mail_to, people_config
from test_serve import Served, confirm

import tracker.web
from tracker import clock
from tracker import models as m
from tracker.alerts.notifier import notify
from tracker.cli import main
from tracker.config import load_config
from tracker.people import issue_token, person_by_token
from tracker.store import Store, alembic_config
from tracker.web import subscriptions
from tracker.web.mailer import Mailer
from tracker.web.subscriptions import Choices

CAROL, DEE = "carol@example.org", "dee@example.org"
EVERYTHING = Choices(follow=None, mode="instant", state=None, district=None)


def sign_up_and_confirm(store: Store, address: str, watch_ids: list[str]) -> int:
    """A sign-up confirmed by its link, as `tracker serve` does them (the mail worker issues the link)."""
    now = clock.now()
    with store.session() as session:
        subscriptions.sign_up(session, address, EVERYTHING, now, timedelta(minutes=10))
    with store.session() as session:
        person = session.scalars(select(m.Person).where(m.Person.address == address)).one()
        token = issue_token(session, person.id, "confirm", timedelta(hours=48))
    with store.session() as session:
        assert subscriptions.confirm(session, token, watch_ids, clock.now()) is not None
    return person.id


def delete_my_data(store: Store, person_id: int) -> None:
    """The preferences page's "delete my data", through the person's manage link."""
    with store.session() as session:
        token = issue_token(session, person_id, "manage")
    with store.session() as session:
        assert subscriptions.delete_person(session, token, clock.now())


@pytest.mark.parametrize("bob_server", ["takes it", "refuses it"])
def test_a_person_who_deleted_their_data_is_not_mailed_and_the_next_sign_up_is_not_them(
        tmp_path: Path, db_url: str, mailbox: Mailbox, frozen_now: Any, bob_server: str) -> None:
    """Carol's and Bob's alerts are being sent (Bob, the newest person, after Carol). As Carol's
    lands, Bob deletes his data and Dee signs up and confirms. Bob's alert is not sent (his data is
    gone); Dee is a new person: she is not mailed Bob's alert, and a refusal by Bob's mail server
    is no bounce of hers. SQLite gave Dee Bob's id (a deleted highest rowid is used again), and the
    notifier's check right before the send found "person:N" active: Bob got the alert after deleting
    his data, or Dee was deactivated for his bounces."""
    config = people_config(tmp_path, db_url, mailbox, team=False, alerts={"bounce_limit": 1})
    store = Store(config.database_url)
    add_person(store, CAROL)
    bob = add_person(store, BOB)
    store = fresh_store(config)
    record(store, config, "referred")
    record(store, config, "passed_senate")
    if bob_server == "refuses it":
        mailbox.refuse[BOB] = "550 5.1.1 <{address}>: no such user"
    dee: list[int] = []

    def meanwhile(rcpt: list[str]) -> None:
        if rcpt == [CAROL]:
            delete_my_data(store, bob)
            dee.append(sign_up_and_confirm(store, DEE, config.watch_ids))

    mailbox.on_message = meanwhile
    report = notify(store, config)
    assert [rcpt for rcpt, _ in mailbox.messages] == [[CAROL]]
    assert mail_to(mailbox, BOB) == [] and report.bounced == 0
    with store.session() as session:
        (person,) = session.scalars(select(m.Person).where(m.Person.address == DEE))
        assert (person.status, person.bounces) == ("active", 0)
        assert person.id != bob


def test_a_database_of_the_previous_release_keeps_its_people_links_and_mails_and_ids_are_not_used_again(
        sqlite_url: str, frozen_now: Any) -> None:
    """A SQLite database as 0012 left it (`people.id` and `person_mails.id` plain rowids), with
    people, their links and an owed mail: the migration keeps every row (dropping the old table
    cascades to the links and mails), the links still work, and the newest person and mail deleted
    leave their ids unused."""
    store = Store(sqlite_url)
    with store.engine.begin() as connection:  # back to the previous release's table
        cfg = alembic_config(store.engine)
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0012")
    ann, bob = add_person(store, "ann@example.org"), add_person(store, BOB)
    with store.session() as session:
        links = {who: issue_token(session, who, "manage") for who in (ann, bob)}
        subscriptions.sign_up(session, BOB, EVERYTHING, clock.now(), timedelta(0))  # a mail owed to Bob
    store = Store(sqlite_url)  # this release migrates it
    with store.session() as session:
        (bobs_mail,) = session.scalars(select(m.PersonMail.id).where(m.PersonMail.person_id == bob))
        assert {who: person_by_token(session, token, "manage").id for who, token in links.items()} == {
            ann: ann, bob: bob}
    delete_my_data(store, bob)  # his mail, the newest, goes with him
    assert add_person(store, DEE) > bob
    with store.session() as session:
        subscriptions.sign_up(session, DEE, EVERYTHING, clock.now(), timedelta(0))
        assert session.scalar(select(m.PersonMail.id)) > bobs_mail


def test_the_cron_job_forgets_sign_ups_never_confirmed_when_serve_is_not_running(
        tmp_path: Path, db_url: str, mailbox: Mailbox, frozen_now: Any) -> None:
    """Someone typed Bob's address into the sign-up form; his confirmation mail went, nobody
    confirmed it, and the operator stopped `tracker serve` after the campaign. The docs promise the
    address is deleted 7 days after its link expired: the cron job's notify does it (only the serve
    process's mail worker did, so it was kept for ever). Carol, who signed up yesterday, is kept."""
    config = people_config(tmp_path, db_url, mailbox, team=False)
    store = fresh_store(config)
    with store.session() as session:
        subscriptions.sign_up(session, BOB, EVERYTHING, clock.now(), timedelta(minutes=10))
    assert Mailer(store, config).send_due().sent == 1  # serve's worker mailed his link, then serve stopped
    frozen_now("2026-12-04T14:00:00Z")  # ten days on: the 48-hour link expired 8 days ago
    with store.session() as session:
        subscriptions.sign_up(session, CAROL, EVERYTHING, clock.now() - timedelta(days=1), timedelta(minutes=10))
    result = CliRunner().invoke(main, ["--config", str(config.path), "notify"])
    assert result.exit_code == 0, result.output
    assert "notify: 1 sign-up never confirmed forgotten" in result.stdout
    with store.session() as session:
        assert list(session.scalars(select(m.Person.address))) == [CAROL]
        assert list(session.scalars(select(m.PersonMail.person_id))) == [
            session.scalar(select(m.Person.id).where(m.Person.address == CAROL))]


def test_a_relay_refusing_the_login_is_said_apart_from_a_relay_that_is_down(
        tmp_path: Path, sqlite_url: str, frozen_now: Any) -> None:
    """The operator typed the SMTP password wrong: each failed delivery's line says the mail server
    refused the login (its reply code, never the password, the user or an address), where it said
    "Connection error" as for a relay that is down; with the relay stopped, the line says that."""
    wrong = "wrong-Pw-5530-never-shown"
    relay = Mailbox("relay-user@example.org", "the-right-one")
    relay.start()
    try:
        url = (f"mailto://relay-user%40example.org:${{SMTP_PASSWORD}}@127.0.0.1:{relay.port}"
               "?smtp=127.0.0.1&from=tracker@example.org&to=team@example.org")
        path = write_config(tmp_path, db_url=sqlite_url, alerts={"max_tries": 3, "retry_seconds": 60},
                            subscribers=[core_team(url)])
        config = load_config(path, env={"SMTP_PASSWORD": wrong})
        walk_stages(fresh_store(config), config, bills=1)

        def notify_lines() -> list[str]:
            result = subprocess.run([sys.executable, "-m", "tracker.cli", "--config", str(path), "notify"],
                                    capture_output=True, text=True, env=tracker_env(SMTP_PASSWORD=wrong), timeout=120)
            assert result.returncode == 1 and wrong not in result.stdout + result.stderr
            assert "relay-user" not in result.stderr and "team@example.org" not in result.stderr.replace(
                "… to team@example.org", "")
            return [re.split(r" [AP]M \S+: ", line, maxsplit=1)[1]  # after "retry after ... 9:01 AM EST"
                    for line in result.stderr.splitlines()]

        assert set(notify_lines()) == {
            "the mail server refused the login (535 5.7.8): check the user and password of the mail URL"}
        assert relay.logins and not any(accepted for *_, accepted in relay.logins)
    finally:
        relay.stop()
    frozen_now("2026-11-24T15:00:00Z")  # the retries are due
    assert set(notify_lines()) == {"the mail server refused the connection (nothing listens at its host and port)"}


def _closed_within(sock: Any, seconds: float, trickle: bytes) -> bool:
    """Send `trickle` a byte every 0.2 s; True when the server closed the connection within `seconds`."""
    deadline = time.monotonic() + seconds
    for byte in trickle:
        if time.monotonic() > deadline:
            return False
        try:
            sock.sendall(bytes([byte]))
            time.sleep(0.2)
            sock.settimeout(0.01)
            if sock.recv(4096) == b"":
                return True
        except TimeoutError:
            continue
        except OSError:  # reset: closed
            return True
        finally:
            sock.settimeout(socket.getdefaulttimeout())
    return False


def test_request_headers_trickled_byte_by_byte_are_cut_off(tmp_path: Path, sqlite_url: str, mailbox: Mailbox,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Slowloris on the headers: a client sending its request line and headers a byte now and then,
    on a new connection or on one kept alive after an answer, held it for ever (uvicorn has no
    deadline on headers, only on an idle kept-alive connection, which the first byte stops). Each is
    closed once HEADER_SECONDS have passed, and a reader at a normal pace is served meanwhile."""
    monkeypatch.setattr(tracker.web, "HEADER_SECONDS", 1.0, raising=False)
    config = serve_config(tmp_path, sqlite_url, mailbox.port, free_port())
    slow = b"GET /subscribe HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 200
    with running(config):
        address = ("127.0.0.1", config.serve.port)
        with socket.create_connection(address, timeout=5) as fresh:
            assert _closed_within(fresh, 4.0, slow)
        with socket.create_connection(address, timeout=5) as kept:
            kept.sendall(b"GET /subscribe HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert kept.recv(4096).startswith(b"HTTP/1.1 200 ")
            assert _closed_within(kept, 4.0, slow)
        assert Visitor(f"http://127.0.0.1:{config.serve.port}").get("/subscribe").status_code == 200


def _stored(store: Store) -> str:
    """Every row of every table, as text: what a database dump (or a backup) would show."""
    rows = []
    with store.engine.connect() as conn:
        for table in m.Base.metadata.sorted_tables:
            rows += [f"{table.name}: {row!r}" for row in conn.execute(text(f"SELECT * FROM {table.name}"))]
    return "\n".join(rows)


def test_a_subscriber_s_whole_life_and_nothing_of_them_after_delete_my_data(
        tmp_path: Path, db_url: str, mailbox: Mailbox, frozen_now: Any) -> None:
    """Sign up, confirm, change choices, an alert, bounces until deactivated, sign up again, an alert,
    one-click unsubscribe from the mail's List-Unsubscribe header, delete my data: against a running
    `tracker serve`, the SMTP server and the database. After the delete, no row of any table holds
    their address, their `person:{id}` or anything of theirs."""
    config = serve_config(tmp_path, db_url, mailbox.port, free_port(), alerts={"bounce_limit": 1})
    reader = "reader@example.org"
    fresh_store(config)
    with running(config) as app:
        served = Served(app, config, mailbox)
        store = served.store
        visitor = served.visitor()
        assert visitor.sign_up(reader, watch=["police"], state="MA", district="7").status_code == 200
        manage = confirm(served, visitor, reader)
        with store.session() as session:
            pid = session.scalar(select(m.Person.id).where(m.Person.address == reader))
        saved = visitor.post(manage, {"csrf": visitor.get(manage) and visitor.csrf, "action": "save",
                                      "watch": ["police", "housing"], "mode": "instant", "state": "", "district": ""})
        assert "Saved." in saved.text
        record(store, config, "referred")
        record(store, config, "passed_senate")
        assert notify(store, config).sent == 1
        mailbox.refuse[reader] = "550 5.1.1 <{address}>: no such user"
        record(store, config, "passed_both")
        assert notify(store, config).bounced == 1
        assert served.status_of(reader) == "bounced"
        del mailbox.refuse[reader]
        frozen_now("2026-11-24T15:00:00Z")  # past [serve] resend_minutes
        again = served.visitor()
        mailed = len(served.mails_to(reader))
        assert again.sign_up(reader, watch=["police"]).status_code == 200
        wait_for(lambda: len(served.mails_to(reader)) > mailed)  # the new confirmation
        confirm(served, again, reader)
        record(store, config, "to_president")
        assert notify(store, config).sent == 1
        alert = [mail for rcpt, mail in mailbox.messages if rcpt == [reader]][-1]
        unsubscribe = re.match(r"<([^>]+)>", " ".join(str(alert["List-Unsubscribe"]).split())).group(1)
        assert requests.post(unsubscribe, data="List-Unsubscribe=One-Click", timeout=10,
                             headers={"Content-Type": "application/x-www-form-urlencoded"}).status_code == 200
        assert served.status_of(reader) == "unsubscribed"
        preferences = unsubscribe.replace("/u/", "/p/").removeprefix(served.base)
        deleting = served.visitor()
        deleting.get(preferences)
        done = deleting.post(preferences, {"csrf": deleting.csrf, "action": "delete"})
        assert "Your data is deleted" in done.text
    stored = _stored(store)
    assert reader not in stored.lower() and "reader" not in stored.lower()
    assert f"person:{pid}" not in stored, [line for line in stored.splitlines() if f"person:{pid}" in line]


def test_a_sign_up_days_later_gets_a_mail_of_its_own_message_id(
        tmp_path: Path, db_url: str, mailbox: Mailbox, frozen_now: Any) -> None:
    """Ann signs up; her confirmation goes; she does not find it and signs up again three days
    later, when the first mail's row has been pruned. The new mail has a Message-ID of its own:
    on SQLite the pruned row's id (the highest) was given again, so the new mail carried the first
    one's Message-ID, and a mailbox that drops a message it already has (Gmail does) never showed it."""
    config = people_config(tmp_path, db_url, mailbox, team=False)
    store = fresh_store(config)
    mailer = Mailer(store, config)
    for day in ("2026-11-24T14:00:00Z", "2026-11-27T14:00:00Z"):
        frozen_now(day)
        mailer.prune(clock.now())  # as the server's worker does when nothing is due
        with store.session() as session:
            subscriptions.sign_up(session, "ann@example.org", EVERYTHING, clock.now(), timedelta(minutes=10))
        assert mailer.send_due().sent == 1
    first, second = (str(mail["Message-ID"]) for mail in mail_to(mailbox, "ann@example.org"))
    assert first != second


def test_a_one_hour_confirmation_window_is_said_in_words(tmp_path: Path, sqlite_url: str, mailbox: Mailbox) -> None:
    """With `[serve] confirm_hours = 1` the answer page and the confirmation mail said "it works for
    1 hours"; they say "1 hour"."""
    config = serve_config(tmp_path, sqlite_url, mailbox.port, free_port(), serve={"confirm_hours": 1})
    with running(config) as app:
        served = Served(app, config, mailbox)
        answer = served.visitor().sign_up("ann@example.org")
        assert "(it works for 1 hour)." in " ".join(answer.text.split())
        wait_for(lambda: served.mails_to("ann@example.org"))
    assert "(it works for 1 hour):" in " ".join(served.mails_to("ann@example.org")[0].split())
