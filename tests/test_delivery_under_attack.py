"""Alert delivery as failing and hostile services test it: one alert per update, never lost, never
sent twice, and the operator told clearly when delivery fails.

Real parts only: a real HTTP receiver for webhooks (one that moved and answers with a redirect, one
that stalls), a real SMTP server (aiosmtpd: stopped, refusing the message at DATA, a mailbox full),
two notifiers sharing one database (SQLite and PostgreSQL), `tracker notify --quiet` as an OS
process."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alerting import STAGES, WORDS, core_team, fresh_store, owe, record, statuses, tracker_env, write_config
from servers import Mailbox, Receiver
from sqlalchemy import select
from test_people_mail import add_person, people_config

from tracker import models as m
from tracker.alerts.notifier import notify
from tracker.config import load_config
from tracker.outbox import sync_subscribers


@pytest.fixture
def elsewhere() -> Iterator[Receiver]:
    """A second webhook host, one the operator never configured."""
    receiver = Receiver()
    yield receiver
    receiver.stop()


@pytest.mark.parametrize("status", [301, 302, 303])
def test_a_webhook_that_redirects_is_not_counted_as_delivered(tmp_path: Path, sqlite_url: str, receiver: Receiver,
                                                              frozen_now: Any, status: int) -> None:
    """Following a 301/302/303 turns the post into a GET of the new address: the message is gone,
    and a page answering 200 made it count as sent."""
    receiver.status, receiver.location = status, "/moved"
    path = write_config(tmp_path, db_url=sqlite_url, subscribers=[core_team(receiver.url)])
    config = load_config(path, env={})
    store = owe(config, bills=1)

    report = notify(store, config)

    assert (report.sent, report.failed) == (0, 4)
    assert statuses(store) == {"failed": 4}  # still owed: the operator fixes the URL, nothing is lost
    assert receiver.posts == [] and receiver.gets == 0
    assert all(f"error={status}" in line for line in report.lines), report.lines


@pytest.mark.parametrize("status", [307, 308])
def test_a_webhook_redirecting_to_another_host_is_not_followed(tmp_path: Path, sqlite_url: str, receiver: Receiver,
                                                               elsewhere: Receiver, frozen_now: Any,
                                                               status: int) -> None:
    """A 307/308 keeps the post: the alert (and the target's own headers) would go to a host the
    operator never configured, and count as sent."""
    receiver.status, receiver.location = status, f"http://127.0.0.1:{elsewhere.port}/hook"
    path = write_config(tmp_path, db_url=sqlite_url, subscribers=[core_team(receiver.url)])
    config = load_config(path, env={})
    store = owe(config, bills=1)

    report = notify(store, config)

    assert elsewhere.posts == []
    assert (report.sent, report.failed) == (0, 4) and statuses(store) == {"failed": 4}
    assert all(f"error={status}" in line for line in report.lines), report.lines


def test_a_person_whose_address_apprise_misreads_is_not_mailed_someone_else(tmp_path: Path, sqlite_url: str,
                                                                            mailbox: Mailbox, frozen_now: Any) -> None:
    """The sign-up form takes "o'brien@example.org" (an apostrophe is allowed in an address), but
    apprise reads it as "brien@example.org": her alerts, with the links that manage her
    subscription, went to a stranger's mailbox and counted as sent."""
    config = people_config(tmp_path, sqlite_url, mailbox, team=False)
    store = fresh_store(config)
    person = add_person(store, "o'brien@example.org")
    add_person(store, "ann.lee@example.org")
    with store.session() as session:
        sync_subscribers(session, config)
    record(store, config, "referred")
    record(store, config, "passed_senate")

    report = notify(store, config)

    assert [rcpt for rcpt, _ in mailbox.messages] == [["ann.lee@example.org"]]  # nobody else's mailbox
    assert (report.sent, report.dead) == (1, 1)
    (line,) = report.lines
    assert line.startswith(f"delivery 1 to person:{person}: ") and "o'brien" not in line and "brien@" not in line
    assert "cannot mail this address as written" in line
    assert statuses(store) == {"sent": 1, "dead": 1}


def test_a_send_outlasting_its_lease_is_not_sent_again_by_another_notifier(tmp_path: Path, db_url: str,
                                                                           receiver: Receiver, frozen_now: Any) -> None:
    """A slow service: the first message takes 6 of the lease's 10 seconds, the second 6 more.
    Another notifier starting then found the rows' lease run out mid-send, claimed them and sent
    the second message again (the first notifier's "sent" came too late to count)."""
    path = write_config(tmp_path, db_url=db_url, alerts={"lease_seconds": 10}, subscribers=[core_team(receiver.url)])
    config = load_config(path, env={})
    store = owe(config, bills=1)  # four messages
    posts = 0
    others: list[Any] = []

    def slow_service() -> None:
        nonlocal posts
        posts += 1
        if posts == 1:
            frozen_now("2026-11-24T14:00:06Z")
        elif posts == 2:  # 12 s after the claim, while this message is still being sent
            frozen_now("2026-11-24T14:00:12Z")
            other = threading.Thread(target=lambda: others.append(notify(store, config)))
            other.start()
            other.join(timeout=60)

    receiver.on_post = slow_service
    report = notify(store, config)

    sent_by_the_other = others[0].sent
    assert sorted(receiver.titles) == sorted(f"S. 1 {words}" for words in WORDS)  # each once
    assert report.sent + sent_by_the_other == 4 and not report.lines
    assert statuses(store) == {"sent": 4}


@pytest.fixture
def stalled() -> Iterator[Receiver]:
    receiver = Receiver(delay=2.0)  # takes the post, answers long after the tracker gave up
    yield receiver
    receiver.stop()


def test_a_service_that_stalls_costs_one_timeout_a_run_not_one_per_message(tmp_path: Path, sqlite_url: str,
                                                                           stalled: Receiver, mailbox: Mailbox,
                                                                           frozen_now: Any) -> None:
    """After an outage thousands are owed to a webhook that now accepts and never answers: each
    message waited the whole timeout (at the default 10 s, a day's backlog held `tracker run`, and
    its crawls, for hours) while the mail owed beside it waited its turn. Once it has timed out, the
    rest owed to it wait for the next run, untried and not counted as tries."""
    mail = f"mailto://127.0.0.1:{mailbox.port}?smtp=127.0.0.1&from=tracker@example.org&to=team@example.org"
    # (1.5 s, under the stalled service's 2: the mail beside it shares the timeout, and a loaded machine's loopback SMTP
    # exchange has taken more than half a second)
    path = write_config(tmp_path, db_url=sqlite_url, alerts={"timeout_seconds": 1.5},
                        subscribers=[core_team(stalled.url, mail)])
    config = load_config(path, env={})
    store = owe(config, bills=3)  # twelve messages to each target
    expected = sorted(f"S. {n} {words}" for n in range(1, 4) for words in WORDS)

    report = notify(store, config)

    assert sorted(mailbox.subjects) == expected  # the mail went, all of it
    time.sleep(2.5)  # the stalled service has kept whatever it was sent by now
    assert len(stalled.posts) == 1  # tried once
    assert (report.sent, report.failed) == (12, 1)
    assert len(report.lines) == 2, report.lines
    assert "timed out after 1.5 s" in report.lines[0]
    assert report.lines[1].startswith("core-team (json://127.0.0.1:") and \
        "11 more deliveries not tried in this run: it timed out" in report.lines[1]
    assert statuses(store) == {"sent": 12, "failed": 1, "pending": 11}  # nothing lost

    stalled.delay = 0
    frozen_now("2026-11-24T15:00:00Z")
    again = notify(store, config)
    assert again.sent == 12 and statuses(store) == {"sent": 24}
    assert sorted(set(stalled.titles)) == expected and len(stalled.titles) == 13  # the one that timed out, twice


def test_a_relay_refusing_the_message_at_data_unsubscribes_nobody(tmp_path: Path, db_url: str, mailbox: Mailbox,
                                                                  frozen_now: Any) -> None:
    """The relay's content filter refuses the alert itself after taking every recipient ("550
    Administrative prohibition", Exim's words, no enhanced code): that is about the message, the
    operator's to fix. Counted as each person's bounce, three alerts deactivated every person."""
    config = people_config(tmp_path, db_url, mailbox, team=False)
    store = fresh_store(config)
    people = [add_person(store, "ann.lee@example.org"), add_person(store, "bob@example.net")]
    with store.session() as session:
        sync_subscribers(session, config)
    mailbox.refuse_data = "550 Administrative prohibition"
    record(store, config, "referred")
    reports = []
    for stage in STAGES[1:4]:
        record(store, config, stage)
        reports.append(notify(store, config))

    assert [(r.bounced, r.failed) for r in reports] == [(0, 2)] * 3
    with store.session() as session:
        assert {p.id: (p.status, p.bounces) for p in session.scalars(select(m.Person))} == \
            {person: ("active", 0) for person in people}
    assert statuses(store) == {"failed": 6}  # still owed, retried once the relay takes them
    assert all("550 Administrative prohibition" in line for r in reports for line in r.lines), reports


def test_an_outage_of_the_mail_server_is_one_line_for_all_the_people_under_quiet(
        tmp_path: Path, sqlite_url: str, mailbox: Mailbox, frozen_now: Any) -> None:
    """Cron mails what `notify --quiet` prints: with the mail server down, each of a thousand
    people's alerts was a line of its own (they are one subscriber each), where a config
    subscriber's are one line with a count."""
    config = people_config(tmp_path, sqlite_url, mailbox, team=False)
    store = fresh_store(config)
    for n in range(25):
        add_person(store, f"reader{n}@example.org")
    with store.session() as session:
        sync_subscribers(session, config)
    record(store, config, "referred")
    record(store, config, "passed_senate")
    mailbox.stop()  # connections refused

    quiet = subprocess.run([sys.executable, "-m", "tracker.cli", "--config", str(config.path), "notify", "--quiet"],
                           capture_output=True, text=True, env=tracker_env(), timeout=120)

    assert quiet.returncode == 1 and quiet.stdout == ""
    (line,) = quiet.stderr.splitlines()
    assert line.startswith("people (mailto://127.0.0.1:") and "25 deliveries failed (will retry) to 25 people" in line
    assert "@" not in line and "Traceback" not in line
    assert statuses(store) == {"failed": 25}


def test_a_message_that_cannot_be_rendered_is_one_line_and_the_rest_are_sent(tmp_path: Path, db_url: str,
                                                                             receiver: Receiver,
                                                                             frozen_now: Any) -> None:
    """S. 1's stored record no longer loads (a snapshot of another shape, as an older parser left
    it): rendering its alert raised out of `notify`, before anything of its batch was sent, and
    again every run: nothing more was ever delivered to anyone."""
    path = write_config(tmp_path, db_url=db_url, subscribers=[core_team(receiver.url)])
    config = load_config(path, env={})
    store = owe(config, bills=2)
    with store.session() as session:
        entity = session.get(m.Entity, "bill:s1-117")
        session.get(m.Snapshot, entity.current_snapshot_id).content = '{"number": "s1-117"}'

    report = notify(store, config)

    assert sorted(receiver.titles) == sorted(f"S. 2 {words}" for words in WORDS)
    assert (report.sent, report.failed) == (4, 4)
    assert all(line.startswith("delivery ") and "could not be rendered: TypeError" in line
               for line in report.lines), report.lines
    assert statuses(store) == {"sent": 4, "failed": 4}  # S. 1's still owed, retried with backoff


def test_a_full_mailbox_is_retried_not_closed_as_a_bounce(tmp_path: Path, db_url: str, mailbox: Mailbox,
                                                          frozen_now: Any) -> None:
    """"552 5.2.2 Mailbox full" is a persistent transient failure (RFC 3463): Ann deletes some mail
    and her alerts arrive. Taken for a bounce, they were closed unsent for good, and three of them
    (one busy crawl) unsubscribed her."""
    config = people_config(tmp_path, db_url, mailbox, team=False)
    store = fresh_store(config)
    ann = add_person(store, "ann.lee@example.org")
    with store.session() as session:
        sync_subscribers(session, config)
    mailbox.refuse = {"ann.lee@example.org": "552 5.2.2 <{address}>: Mailbox full"}
    record(store, config, "referred")
    for stage in STAGES[1:4]:
        record(store, config, stage)

    full = notify(store, config)

    assert (full.bounced, full.failed) == (0, 3)
    assert all("552 5.2.2 <person:" in line for line in full.lines), full.lines
    with store.session() as session:
        assert (session.get(m.Person, ann).status, session.get(m.Person, ann).bounces) == ("active", 0)
    mailbox.refuse = {}  # she made room
    frozen_now("2026-11-24T15:00:00Z")
    assert notify(store, config).sent == 3
    assert sorted(mailbox.subjects) == sorted(f"S. 35 {words}" for words in WORDS[:3])


@pytest.mark.slow
def test_a_run_that_outlasts_a_stalled_service_s_wait_still_ends(tmp_path: Path, sqlite_url: str,
                                                                 stalled: Receiver) -> None:
    """A service timed out, and the rest owed to it wait `retry_seconds`; a run still sending
    elsewhere when that wait is over (a slow service beside it) claimed them again, put them off to
    the moment already past, and claimed them again: `tracker notify` never ended. Once the wait is
    over they are tried again, and the run ends."""
    slow = Receiver(delay=0.25)  # answers every post, a quarter second each
    try:
        path = write_config(tmp_path, db_url=sqlite_url, alerts={"timeout_seconds": 0.5, "retry_seconds": 1},
                            subscribers=[core_team(stalled.url, slow.url)])
        config = load_config(path, env={})
        store = owe(config, bills=3)  # twelve messages to each target

        run = subprocess.run([sys.executable, "-m", "tracker.cli", "--config", str(path), "notify", "--quiet"],
                             capture_output=True, text=True, env=tracker_env(), timeout=60)

        assert "Traceback" not in run.stderr, run.stderr
        assert len(slow.posts) == 12  # every message to the slow service went
        assert statuses(store).get("sent") == 12
    finally:
        slow.stop()


class Dripping:
    """A webhook host that reads the post, then answers one byte every half second for minutes:
    every read of the answer is quick, so the read timeout never fires."""

    def __init__(self) -> None:
        import socket

        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.stopped = threading.Event()
        self.posts = 0
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.port}/hook"

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                peer, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._drip, args=(peer,), daemon=True).start()

    def _drip(self, peer: Any) -> None:
        with peer:
            peer.recv(65536)
            self.posts += 1
            answer = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Slow: " + b"." * 1000
            for byte in answer:
                if self.stopped.wait(0.5):
                    return
                try:
                    peer.sendall(bytes([byte]))
                except OSError:
                    return

    def stop(self) -> None:
        self.stopped.set()
        self.listener.close()


def test_a_webhook_answering_a_byte_at_a_time_holds_notify_no_longer_than_its_timeout(
        tmp_path: Path, sqlite_url: str, receiver: Receiver) -> None:
    """A webhook whose answer drips in (a broken proxy, a tarpit): each read is quick, so the read
    timeout never fired; the send took a minute (apprise's own limit), and then `tracker notify`
    did not end until the service let go, minutes later (Python's exit waits for apprise's thread).
    Now the send is given up at `[alerts] timeout_seconds`, the rest owed to that service wait
    untried, the other target gets everything, and the command ends at once."""
    dripping = Dripping()
    try:
        path = write_config(tmp_path, db_url=sqlite_url, alerts={"timeout_seconds": 1},
                            subscribers=[core_team(dripping.url, receiver.url)])
        config = load_config(path, env={})
        store = owe(config, bills=2)  # eight messages to each target
        started = time.monotonic()
        run = subprocess.run([sys.executable, "-m", "tracker.cli", "--config", str(path), "notify", "--quiet"],
                             capture_output=True, text=True, env=tracker_env(), timeout=120)
        took = time.monotonic() - started
    finally:
        dripping.stop()
    assert took < 20, took
    assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr
    assert "timed out after 1 s" in run.stderr, run.stderr
    assert dripping.posts == 1 and len(receiver.posts) == 8
    assert statuses(store) == {"sent": 8, "failed": 1, "pending": 7}  # nothing lost
