"""The mail worker of `tracker serve`: sends the mails sign-ups owe (person_mails) after the answer,
never on the request path, and never loses one.

A sign-up writes its owed row in its own transaction; the worker (one thread) is woken at once and
also looks every `POLL` seconds, so a row left by a restart or a failed try is sent later. Each try
issues the link's token as it sends (only its hash is stored; the row holds no secret) and revokes
it when the send fails; a failure is retried after `[alerts] retry_seconds`, doubling, until
`[alerts] max_tries`, but a 5xx refusing the address (no such mailbox) is not tried again. Mail
goes through `[alerts] mail_url` with `to=` the person (people.as_subscriber) and the server's
timeout (`[alerts] timeout_seconds`). Lines name the person's id, never the address (apprise's too).
When nothing more is due it prunes, at most every PRUNE_EVERY: sent rows after a while, and
sign-ups never confirmed (people.prune_sign_ups; every notify does it too).
"""

from __future__ import annotations

import logging
import os
import re
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jinja2
from sqlalchemy import delete, select, update

from tracker import clock, logs, secrets, templating
from tracker import models as m
from tracker.alerts.render import Message
from tracker.alerts.send import lazy_ca_lookup, person_mail, send_message
from tracker.config import Config
from tracker.people import as_subscriber, issue_token, prune_sign_ups, subscriber_id, token_hash, wipe_deleted
from tracker.spawned import Child, ChildDied
from tracker.store import Store
from tracker.targets import Target, targets_of

log = logging.getLogger("tracker.web")
POLL = 30.0  # seconds between looks for retries when nobody signs up
BATCH = 50
PRUNE_EVERY = timedelta(minutes=5)  # pruning is a write: not at every look of an idle server
SITE = "Campaign tracker"


_ADDRESS = re.compile(r"[^\s'\"(),<>]+@[^\s'\"(),<>]+")


def error_line(exc: BaseException) -> str:
    """An error as the one line a log shows: its first line without SQLAlchemy's statement and
    parameters (the lines after it, an address among their values), any address blanked, secrets
    masked, at most 300 characters."""
    words = str(exc).splitlines()[0].split("[SQL:")[0].strip() if str(exc).strip() else type(exc).__name__
    return secrets.mask(_ADDRESS.sub("…@…", words))[:300]


def link_life(hours: float) -> str:
    """How long a confirmation link works, in words ("48 hours", "1 hour"): the answer page and
    the mail say it alike."""
    return f"{hours:g} hour{'' if hours == 1 else 's'}"


@dataclass(frozen=True)
class OwedMail:
    id: int
    person_id: int
    purpose: str
    tries: int
    created_at: datetime


def message_key(owed: OwedMail) -> str:
    """The mail's Message-ID key: the same for each try of one mail, never another mail's. Its row's
    id alone is not: ids a database gave before it counted them (SQLite before migration 0013, a
    database made anew) are given again, and a mailbox drops a mail whose Message-ID it already has."""
    return f"tracker-person-mail-{owed.id}-{owed.created_at:%Y%m%d%H%M%S%f}"


@dataclass(frozen=True)
class Ready:
    """An owed mail with its link issued: what to send, and the link's hash to revoke on failure."""

    owed: OwedMail
    token_hash: str
    target: Target
    message: Message
    address: str  # to hide in apprise's log lines (a refusal names the recipient); never logged


@dataclass
class Batch:
    """What one look at the owed mails did."""

    tried: int = 0
    sent: int = 0
    failed: int = 0


class Mailer:
    """Sends owed mails, driven by one thread of the server: `wake()` after a sign-up commits.

    With `separate=True` (what `tracker serve` runs) the sending happens in a spawned process
    (tracker/spawned.py: it exits with the server), so apprise's work on each mail never holds the
    server's interpreter while it answers requests; the thread here hands it one batch at a time
    and waits, so a stop waits for the batch in hand. Without it (tests) the thread sends itself."""

    def __init__(self, store: Store, config: Config, *, separate: bool = False) -> None:
        self.store, self.config, self.separate = store, config, separate
        self.env = templating.environment("web-mail", config.resolve(config.digest.templates)
                                          if config.digest.templates else None, html=False)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._child: Child | None = None
        self.sent = 0
        self.failed = 0
        self.poll = POLL
        self._pruned_at: datetime | None = None

    def start(self) -> None:
        if self._thread is None and self.config.alerts.mail_url is not None:
            if not self.separate:
                lazy_ca_lookup()
            self._thread = threading.Thread(target=self._run, name="tracker-serve-mailer", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if self._child is not None:
            self._child.stop(wait=False)
            self._child = None

    def wake(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.poll)
            self._wake.clear()
            try:
                while not self._stop.is_set():
                    batch = self._batch()
                    self.sent += batch.sent
                    self.failed += batch.failed
                    if not batch.tried:
                        break
            except ChildDied as exc:
                log.warning("serve: the mail process ended (%s); a new one takes over", exc)
                self._child = None
            except Exception as exc:  # a lost database: the rows wait for the next look
                log.warning("serve: owed mails not sent now (%s); tried again in %g s", error_line(exc), self.poll)

    def _batch(self) -> Batch:
        if not self.separate:
            return self.send_due()
        if self._child is None:
            self._child = Child("tracker serve mailer", initializer=_start_child,
                                initargs=(logs.current(), sorted(secrets._known), self.config))
        return self._child.submit(_send_due_in_child).result()

    def send_due(self) -> Batch:
        """Send up to BATCH due mails: claimed and their links issued in one transaction, then each
        sent and its result recorded in a short transaction of its own (a mail sent is never
        forgotten as owed, bar a crash between the two: then it goes again with the same Message-ID)."""
        now = clock.now()
        lease = now + timedelta(seconds=self.config.alerts.timeout_seconds * 3 + 30)
        batch = Batch()
        with self.store.session() as session:
            ids = list(session.scalars(select(m.PersonMail.id).where(
                m.PersonMail.status == "owed", m.PersonMail.next_try_at <= now).order_by(m.PersonMail.id).limit(BATCH)))
        if not ids:
            self.prune(now)
            return batch
        with self.store.session() as session:  # the claim checks again what the look found
            claimed = session.execute(update(m.PersonMail).where(  # no second process sends them meanwhile
                m.PersonMail.id.in_(ids), m.PersonMail.status == "owed", m.PersonMail.next_try_at <= now,
            ).values(next_try_at=lease).returning(m.PersonMail.id, m.PersonMail.person_id, m.PersonMail.purpose,
                                                  m.PersonMail.tries, m.PersonMail.created_at)).all()
            people = {p.id: p for p in session.scalars(select(m.Person).where(
                m.Person.id.in_({row.person_id for row in claimed})))}
            ready = []
            for row in sorted(claimed, key=lambda row: row.id):
                person = people.get(row.person_id)
                if person is None:  # deleted meanwhile (the cascade may not have run on an old SQLite)
                    session.execute(delete(m.PersonMail).where(m.PersonMail.id == row.id))
                    continue
                owed = OwedMail(row.id, row.person_id, row.purpose, row.tries, row.created_at)
                ready.append(self._prepare(session, owed, person))
        for mail in ready:
            batch.tried += 1
            if self._send(mail):
                batch.sent += 1
            else:
                batch.failed += 1
        if len(ids) < BATCH:
            self.prune(now)
        return batch

    def prune(self, now: datetime) -> None:
        """What is no longer needed (people.prune_sign_ups), at most once per PRUNE_EVERY (by the
        tracker's clock). Run when nothing more is due, also when nothing was (an idle server still
        forgets them)."""
        if self._pruned_at is not None and self._pruned_at <= now < self._pruned_at + PRUNE_EVERY:
            return
        self._pruned_at = now
        with self.store.session() as session:
            forgotten = prune_sign_ups(session, now, self.config.serve.confirm_hours)
        if forgotten:
            wipe_deleted(self.store)  # a stranger's address typed in: out of the write-ahead log too
            log.info("serve: %d sign-up%s never confirmed forgotten", forgotten, "" if forgotten == 1 else "s")

    def _prepare(self, session: Any, owed: OwedMail, person: m.Person) -> Ready:
        config = self.config
        assert config.alerts.mail_url is not None and config.serve.public_url is not None
        base = config.serve.public_url.rstrip("/")
        hours = config.serve.confirm_hours
        if owed.purpose == "confirm":
            raw = issue_token(session, person.id, "confirm", timedelta(hours=hours))
            title, body = "Confirm your alerts", self._render("web/confirm_mail.txt.j2", f"{base}/c/{raw}", hours)
        else:
            raw = issue_token(session, person.id, "manage")
            title = "Your alerts: change what you get"
            body = self._render("web/manage_mail.txt.j2", f"{base}/p/{raw}", hours)
        (target,) = targets_of(as_subscriber(person, config.alerts.mail_url).notify)
        return Ready(owed, token_hash(raw), target, Message(title, body), person.address)

    def _send(self, mail: Ready) -> bool:
        config, owed = self.config, mail.owed
        with person_mail(mail.address, subscriber_id(owed.person_id)) as refusals:
            ok, error = send_message(mail.target, mail.message, message_key(owed), config.alerts.timeout_seconds)
        if error and refusals.seen:
            error += f": {refusals.said()}"  # the address already written person:{id}
        now = clock.now()
        with self.store.session() as session:
            if ok:
                session.execute(update(m.PersonMail).where(m.PersonMail.id == owed.id).values(
                    status="sent", sent_at=now, tries=owed.tries + 1, last_error=None))
                return True
            session.execute(delete(m.PersonToken).where(m.PersonToken.token_hash == mail.token_hash))
            tries = owed.tries + 1
            # refused for good (no such mailbox): each try again is one more mail to an address that
            # is not there, which anyone can sign up
            for_good = refusals.permanent
            gave_up = for_good or tries >= config.alerts.max_tries
            wait = timedelta(seconds=config.alerts.retry_seconds * 2 ** (tries - 1))
            session.execute(update(m.PersonMail).where(m.PersonMail.id == owed.id, m.PersonMail.status == "owed")
                            .values(status="failed" if gave_up else "owed", tries=tries, next_try_at=now + wait,
                                    last_error=secrets.mask(error or "")[:500]))
        what = "confirmation" if owed.purpose == "confirm" else "preferences link"
        if for_good:
            log.warning("serve: the %s mail to person %d refused for good; not tried again: %s", what,
                        owed.person_id, secrets.mask(error or ""))
        elif gave_up:
            log.warning("serve: the %s mail to person %d failed %d times; given up: %s", what, owed.person_id,
                        tries, secrets.mask(error or ""))
        else:
            log.warning("serve: the %s mail to person %d failed (try %d of %d), tried again later: %s", what,
                        owed.person_id, tries, config.alerts.max_tries, secrets.mask(error or ""))
        return False

    def _render(self, template: str, link: str, hours: float) -> str:
        try:
            return self.env.get_template(template).render(site=SITE, link=link, hours=f"{hours:g}",
                                                          life=link_life(hours))
        except jinja2.TemplateError as exc:
            log.warning("serve: template %s unusable (%s); the plain words sent", template, exc)
            return f"{link}\n"


# -- the mail process (`separate=True`) -----------------------------------------------------------

_child_mailer: Mailer | None = None


def _start_child(log_settings: Any, known_secrets: list[str], config: Config) -> None:
    """The mail process: logging and masking as the server's, its own store and sender."""
    global _child_mailer
    os.nice(5)  # answering requests comes first; a mail may wait a few milliseconds
    logs.setup_worker(log_settings)
    for value in known_secrets:
        secrets.register(value)
    secrets.install_log_masking()
    lazy_ca_lookup()
    _child_mailer = Mailer(Store(config.database_url, migrate=False), config)


def _send_due_in_child() -> Batch:
    assert _child_mailer is not None
    return _child_mailer.send_due()
