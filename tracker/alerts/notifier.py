"""One notifier: claim due rows with a lease, render each group of rows as one message, send it,
record its result right away, until nothing is due.

A crash repeats at most the one message in flight, to that one target. Only full success
(apprise's result) marks a row sent; a failure waits `retry_seconds * 2**(tries-1)`; after
`max_tries` the row is dead, shown in `status` and the digest by subscriber id only. A message sent
that the database cannot record goes to the notifier's journal (journal.py) and the notifier stops.
The statements are lease.py's, the words render.py's, the sending send.py's; several notifiers
side by side are workers.py's.

A self-service subscriber's ("person's") message is checked against their status right before it
goes: one who unsubscribed, bounced or was deleted meanwhile is not sent to and the rows are closed
`dropped`. Their mail carries the list headers and links of peoplemail.py; a 5xx from their mail
server closes it `bounced` (not retried) and counts toward `[alerts] bounce_limit`.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import uuid
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import Connection, select

from tracker import clock, secrets
from tracker import models as m
from tracker.alerts.journal import SentJournal
from tracker.alerts.lease import (
    BOUNCED,
    DROPPED,
    DeliveryRow,
    as_messages,
    claim_statement,
    defer,
    group_statement,
    lease_lost,
    mark_closed,
    mark_failed,
    mark_sent,
    release,
    renew,
    withdraw,
)
from tracker.alerts.peoplemail import PeopleMail, PersonMail
from tracker.alerts.render import Message, RenderCache, render_group
from tracker.alerts.send import (
    MISREAD,
    TIMED_OUT,
    Refusals,
    delivery_key,
    fit,
    lazy_ca_lookup,
    person_mail,
    send_message,
)
from tracker.config import Config
from tracker.faults import describe_failure, disk_full
from tracker.outbox import OPERATOR
from tracker.people import mail_status, person_id_of, record_bounce, reset_bounces
from tracker.store import Store
from tracker.targets import Target, targets_of, with_to

log = logging.getLogger(__name__)

CLAIM_BATCH = 50


@dataclass
class NotifyReport:
    """What a notify run did, counted in messages; `crashed`: notifier processes that died."""

    sent: int = 0
    failed: int = 0
    dead: int = 0
    skipped: int = 0
    lines: list[str] = field(default_factory=list)
    crashed: int = 0
    unrecorded: int = 0  # sent, but the database could not record it (kept in the journal)
    dropped: int = 0  # not sent: the person had unsubscribed (or bounced, or was deleted) meanwhile
    bounced: int = 0  # refused for good by a person's mail server (SMTP 5xx)
    untried: int = 0  # not tried: their service timed out on an earlier message of the run

    def add(self, other: NotifyReport) -> None:
        self.sent += other.sent
        self.failed += other.failed
        self.dead += other.dead
        self.skipped += other.skipped
        self.crashed += other.crashed
        self.unrecorded += other.unrecorded
        self.dropped += other.dropped
        self.bounced += other.bounced
        self.untried += other.untried
        self.lines.extend(other.lines)

    def since(self, earlier: NotifyReport) -> NotifyReport | None:
        """What this report holds beyond `earlier` (a report this one grew from), or None."""
        news = NotifyReport(self.sent - earlier.sent, self.failed - earlier.failed, self.dead - earlier.dead,
                            self.skipped - earlier.skipped, self.lines[len(earlier.lines):],
                            self.crashed - earlier.crashed, self.unrecorded - earlier.unrecorded,
                            self.dropped - earlier.dropped, self.bounced - earlier.bounced,
                            self.untried - earlier.untried)
        return news if news != NotifyReport() else None


@dataclass
class Outgoing:
    """One message about to go: its rows, target and words (None, None: its target is gone from
    the config), and for a person their mail, or why it is closed unsent (`dropped`)."""

    rows: list[DeliveryRow]
    target: Target | None
    message: Message | None
    person: PersonMail | None = None
    dropped: str | None = None
    unrendered: str | None = None  # why its message could not be rendered (failed, retried like a send)


@dataclass
class Stalled:
    """A service that timed out in this run: what is owed to it waits `retry_seconds` (`until`),
    untried, rather than each message waiting the whole timeout (one line says how many)."""

    shown: str  # the subscriber and target, or people's mail server: no address, no secret
    until: datetime
    waiting: int = 0


@functools.lru_cache(maxsize=1024)
def _service(template: str) -> str:
    """What a timeout says is stalled: a target's URL template without its recipient (every
    person's mail goes through the one server of `[alerts] mail_url`); asked before every send."""
    return with_to(template, None)


def _prepare(store: Store, config: Config, groups: list[list[DeliveryRow]], targets: dict[tuple[str, str], Target],
             rendered: RenderCache, people: PeopleMail | None) -> list[Outgoing]:
    """Each group with its target and message. A person's group is rendered only while they are
    active, with this run's token for their links (committed here, before anything is sent)."""
    outgoing: list[Outgoing] = []
    with store.session() as session:
        ids = {pid for rows in groups if (pid := person_id_of(rows[0].subscriber_id)) is not None}
        persons = {p.id: p for p in session.scalars(select(m.Person).where(m.Person.id.in_(sorted(ids))))} \
            if ids else {}
        for rows in groups:
            pid = person_id_of(rows[0].subscriber_id)
            if pid is None:
                target = targets.get((rows[0].subscriber_id, rows[0].target_hash))
                out = Outgoing(rows, target, None)
                outgoing.append(_rendered(out, partial(render_group, session, rows, config, rendered)) if target else out)
                continue
            person = persons.get(pid)
            if person is None or person.status != "active":
                outgoing.append(Outgoing(rows, None, None, dropped=_no_longer(person)))
            elif people is None:
                outgoing.append(Outgoing(rows, None, None))
            else:
                mail = people.prepare(session, person)
                outgoing.append(_rendered(Outgoing(rows, mail.target, None, mail), partial(
                    render_group, session, rows, config, rendered, person=mail.subscriber, links=mail.links)))
    return outgoing


def _rendered(out: Outgoing, render: Callable[[], Message]) -> Outgoing:
    """`out` with its message, or with why it could not be rendered (a stored record no longer
    loading, an operator's template failing on it): that message fails, the others of the batch go."""
    try:
        out.message = render()
    except Exception as exc:
        first = str(exc).splitlines()[0] if str(exc) else ""
        out.unrendered = f"could not be rendered: {type(exc).__name__}: {first}"
        log.warning("notify: delivery %s could not be rendered", out.rows[0].id, exc_info=True,
                    extra={"file_only": True})  # the traceback for the log file; the report has its line
    return out


def _no_longer(person: m.Person | None) -> str:
    return "not sent: " + ("the person's data was deleted" if person is None else f"the person is {person.status}")


def notify(store: Store, config: Config, *, owner: str | None = None, limit: int | None = None,
           progress: Callable[[NotifyReport], None] | None = None,
           sending: Callable[[list[int]], None] | None = None) -> NotifyReport:
    """Send every due delivery once, a group of rows as one message; return counts (messages) and
    one line per problem (masked). `progress` sees the report after each message's result is
    recorded, `sending` the rows of each message about to go (a notifier worker tells its parent
    both: killed between recording a message and reporting it, the parent finds it recorded)."""
    lazy_ca_lookup()
    owner = owner or uuid.uuid4().hex
    report = NotifyReport()
    targets = {(sub.id, t.hash): t for sub in config.subscribers for t in targets_of(sub.notify)}
    targets.update({(OPERATOR, t.hash): t for t in targets_of(config.operator.notify)})
    claim, complete = claim_statement(config), group_statement()
    rendered = RenderCache()
    people = PeopleMail.of(config)
    handled = 0
    lease = timedelta(seconds=config.alerts.lease_seconds)
    stalled: dict[str, Stalled] = {}
    journal = _journal(store, config, owner)
    try:
        while limit is None or handled < limit:
            now = clock.now()
            until = now + lease
            batch = CLAIM_BATCH if limit is None else min(CLAIM_BATCH, limit - handled)
            params = {"now": now, "until": until, "owner": owner}
            # One connection per batch; the claim and every message's result are still each their own transaction.
            with store.engine.connect() as conn:
                with conn.begin():
                    rows = list(conn.execute(claim, {**params, "batch": batch}).all())
                    groups = sorted({(r.subscriber_id, r.target_hash, r.group_key) for r in rows if r.group_key})
                    if groups:
                        rows += conn.execute(complete, {**params, "groups": groups}).all()
                if not rows:
                    break
                for out in _prepare(store, config, as_messages(rows), targets, rendered, people):
                    now = clock.now()
                    if now >= until:
                        break  # our lease ran out: the rest are free again, for the next claim (ours or not)
                    if until - now < lease / 2:  # a slow service: a send must not outlast the lease
                        until = now + lease
                        renew(conn, owner, until)
                    group, target, message, person = out.rows, out.target, out.message, out.person
                    handled += len(group)
                    if out.dropped is None and person is not None:
                        with conn.begin():  # unsubscribe beats everything: read again right before sending
                            now_status = mail_status(conn, person.person_id)
                        if now_status != "active":
                            out.dropped = "not sent: the person is " + (now_status or "deleted")
                    if out.dropped is not None:
                        _dropped(conn, owner, group, out.dropped, report)
                        continue
                    if out.unrendered is not None:
                        _failed(conn, config, owner, group, target, out.unrendered, report)
                        continue
                    if target is None or message is None:
                        why = ("subscriber or target no longer in the config" if person_id_of(group[0].subscriber_id)
                               is None else "mail to people needs [alerts] mail_url and [serve] public_url")
                        _failed(conn, config, owner, group, None, why, report, final=True)
                        continue
                    if message.withdrawn:  # a reminder whose meeting moved, was cancelled or began
                        withdraw(conn, owner, group)
                        report.skipped += 1
                        continue
                    service = stalled.get(_service(target.template))
                    if service is not None and clock.now() < service.until:  # its wait over, it is tried again
                        if defer(conn, owner, group, service.until, f"not tried: {TIMED_OUT} on an earlier message"):
                            service.waiting += 1
                            report.untried += 1
                        continue
                    if sending is not None:
                        sending([row.id for row in group])
                    refusals = Refusals()
                    with person_mail(person.address, person.subscriber.id) if person else nullcontext(refusals) \
                            as refusals:
                        ok, error = send_message(target, fit(message, target, message.link), delivery_key(group),
                                                 config.alerts.timeout_seconds)
                    if ok:
                        try:
                            kept = mark_sent(conn, owner, group)
                        except Exception as exc:
                            _unrecorded(journal, group, target, exc, report)
                            return report
                        if person is not None and person.bounces:
                            with contextlib.suppress(Exception), conn.begin():
                                reset_bounces(conn, person.person_id)  # a success: the count starts again
                        report.sent += 1
                        if kept < len(group):
                            report.lines.append(lease_lost(group[0], "sent") + ", which may send it again")
                    elif person is not None and refusals.permanent:
                        _bounced(conn, config, owner, group, target, person, refusals, report)
                    else:
                        if refusals.seen:  # what the server said, as a bounce would be told
                            error = f"{error}: {refusals.said()}"
                        # An address apprise cannot mail as written fails the same way every time.
                        _failed(conn, config, owner, group, target, error, report, final=error == MISREAD)
                        if error is not None and error.startswith(TIMED_OUT):
                            shown = "people's mail (" + secrets.mask_url_path(secrets.mask(target.template)) + ")" \
                                if person is not None else f"{group[0].subscriber_id} ({target.label})"
                            service = stalled.setdefault(_service(target.template), Stalled(shown, clock.now()))
                            service.until = clock.now() + timedelta(seconds=config.alerts.retry_seconds)
                    if progress is not None:
                        progress(report)
        report.lines.extend(f"{service.shown}: {service.waiting} more deliveries not tried in this run: it timed "
                            f"out; due again after {service.until:%Y-%m-%d %H:%M}Z"
                            for service in stalled.values() if service.waiting)
    finally:
        if journal is not None:
            journal.close()
        # Release leases of rows claimed but not handled (a lease ran out, or we stopped); when the
        # database cannot record it, they run out by themselves (or the journal's replay frees them).
        with contextlib.suppress(Exception):
            release(store, owner)
    return report


def _journal(store: Store, config: Config, owner: str) -> SentJournal | None:
    """This notifier's journal, made ready before anything is sent: a full disk stops us here,
    having sent nothing. A folder we may not write to only costs the journal (said once per run):
    a message the database then fails to record may go again, with its key."""
    try:
        return SentJournal(store, config.base_dir, owner)
    except OSError as exc:
        if disk_full(exc):
            raise
        log.warning("notify: cannot keep a journal of sent messages (%s): a message sent when the database "
                    "cannot record it may be sent again", exc)
        return None


def _unrecorded(journal: SentJournal | None, rows: list[DeliveryRow], target: Target, problem: Exception,
                report: NotifyReport) -> None:
    """A message went out but marking it sent failed: keep its rows in the journal (recorded as
    sent before the next claim) and stop: nothing sent now could be recorded either."""
    kept = journal is not None and journal.record([(row.id, row.dedupe_key) for row in rows])
    report.sent += 1
    report.unrecorded += 1
    then = "it is recorded before anything else next time" if kept else "it may be sent again"
    report.lines.append(f"delivery {rows[0].id} to {rows[0].subscriber_id} ({target.label}): sent, but the database "
                        f"could not record it ({describe_failure(problem)}); {then}; notify stopped")


def _dropped(conn: Connection, owner: str, rows: list[DeliveryRow], reason: str, report: NotifyReport) -> None:
    """A person's message closed unsent for good: they are no longer subscribed (lease.mark_closed)."""
    if not mark_closed(conn, owner, rows, DROPPED, reason):
        report.lines.append(lease_lost(rows[0], "not sent"))
    else:
        report.dropped += 1


def _bounced(conn: Connection, config: Config, owner: str, rows: list[DeliveryRow], target: Target,
             person: PersonMail, refusals: Refusals, report: NotifyReport) -> None:
    """Their mail server refused it for good: not retried, one more bounce in a row for the person;
    at `[alerts] bounce_limit` they are deactivated (`bounced`) and nothing more is owed them."""
    said = refusals.said()
    if not mark_closed(conn, owner, rows, BOUNCED, f"refused for good by the recipient's mail server: {said}"):
        report.lines.append(lease_lost(rows[0], "not sent"))
        return
    report.bounced += 1
    with conn.begin():
        deactivated = record_bounce(conn, person.person_id, config.alerts.bounce_limit)
    report.lines.append(f"delivery {rows[0].id} to {person.subscriber.id} ({target.label}) bounced: {said}")
    if deactivated:
        report.lines.append(f"{person.subscriber.id}: deactivated after {config.alerts.bounce_limit} permanent "
                            "failures in a row (bounced); nothing more is owed to them")


def _failed(conn: Connection, config: Config, owner: str, rows: list[DeliveryRow], target: Target | None,
            error: str | None, report: NotifyReport, final: bool = False) -> None:
    """A failed send (or a target gone: `final`) recorded and counted (lease.mark_failed)."""
    failure = mark_failed(conn, config, owner, rows, target.label if target else "unknown target", error, final=final)
    if failure is None:
        report.lines.append(lease_lost(rows[0], "not sent"))
        return
    if failure.dead:
        report.dead += 1
    else:
        report.failed += 1
    report.lines.append(failure.line)
