"""The outbox lease: the statements that claim due rows, and each message's result recorded only
by the notifier still holding its rows.

A claim is one UPDATE ... RETURNING that leases up to `:batch` due rows nobody holds (PostgreSQL:
FOR UPDATE SKIP LOCKED; SQLite: BEGIN IMMEDIATE already serialises claims), then the rest of every
group it touched, so two notifiers never take one row. A result (sent, failed with backoff, dead)
is one UPDATE guarded by the lease owner, in its own transaction: a notifier whose lease passed on
never overwrites another's result.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy import Connection, Update, bindparam, delete, select, tuple_, update

from tracker import clock, secrets
from tracker import models as m
from tracker.config import Config
from tracker.store import Store
from tracker.words import STAMP, local_time


class DeliveryRow(Protocol):
    """What sending needs of an outbox row: a row returned by the claim (or an ORM Delivery)."""

    id: int
    subscriber_id: str
    target_hash: str
    change_id: int | None
    period: str | None
    payload: dict[str, Any] | None
    tries: int
    group_key: str | None
    created_at: Any
    dedupe_key: str


_D = m.Delivery


def claim_statement(config: Config) -> Update:
    """Lease up to `:batch` due rows and read what sending them needs, in one UPDATE ... RETURNING
    (built once per run; `:now`, `:until`, `:owner` and `:batch` are bound per claim).

    Rows are picked in the order of ix_deliveries_due (failed, then pending; oldest due first, then
    by id), so a claim reads about `:batch` index entries instead of sorting every due row: ordering
    by id alone made each claim scan the whole backlog. PostgreSQL locks the picked rows FOR UPDATE
    SKIP LOCKED (re-checking the WHERE on a row changed meanwhile, skipping rows another notifier is
    claiming); SQLite takes the write lock at BEGIN, so two claims never overlap. The outer WHERE
    re-checks the lease by primary key (adding the indexed columns there made SQLite scan the index
    instead of looking the picked ids up).
    """
    now = bindparam("now", type_=_D.next_attempt_at.type)
    free = _D.lease_until.is_(None) | (_D.lease_until < now)
    due = _D.status.in_(("pending", "failed")) & (_D.next_attempt_at <= now) & free
    paused = [sub.id for sub in config.subscribers if sub.paused]
    if paused:  # a paused subscriber's rows wait, unsent, until it is unpaused
        due &= _D.subscriber_id.not_in(paused)
    pick = (select(_D.id).where(due).order_by(_D.status, _D.next_attempt_at, _D.id)
            .limit(bindparam("batch")).with_for_update(skip_locked=True))
    return (update(_D).where(_D.id.in_(pick), free)
            .values(lease_owner=bindparam("owner"), lease_until=bindparam("until", type_=_D.lease_until.type))
            .returning(*_RETURNED))


# What sending needs of a claimed row.
_RETURNED = (_D.id, _D.subscriber_id, _D.target_hash, _D.change_id, _D.period, _D.payload, _D.tries, _D.group_key,
             _D.created_at, _D.dedupe_key)


def group_statement() -> Update:
    """Lease the rest of the groups a claim touched (rows owed for the same entity and crawl to the
    same target), so each group leaves as one message even when a claim batch cut through it."""
    now = bindparam("now", type_=_D.next_attempt_at.type)
    free = _D.lease_until.is_(None) | (_D.lease_until < now)
    wanted = tuple_(_D.subscriber_id, _D.target_hash, _D.group_key).in_(bindparam("groups", expanding=True))
    return (update(_D).where(_D.status.in_(("pending", "failed")), free, wanted)
            .values(lease_owner=bindparam("owner"), lease_until=bindparam("until", type_=_D.lease_until.type))
            .returning(*_RETURNED))


def as_messages(rows: list[DeliveryRow]) -> list[list[DeliveryRow]]:
    """Claimed rows as messages: rows of one group together, every other row alone; in id order."""
    groups: dict[tuple[Any, ...], list[DeliveryRow]] = {}
    for row in sorted(rows, key=lambda r: r.id):
        key = (row.subscriber_id, row.target_hash, row.group_key) if row.group_key else ("row", row.id)
        groups.setdefault(key, []).append(row)
    return list(groups.values())


def lease_lost(row: DeliveryRow, what: str) -> str:
    """The line said when a result could not be recorded: another notifier holds the row now."""
    return f"delivery {row.id} to {row.subscriber_id}: {what}, but its lease had passed to another notifier"


# Built once: constructing the statement per message cost more than executing it.
_MARK_SENT = update(_D).where(_D.id.in_(bindparam("ids", expanding=True)), _D.lease_owner == bindparam("owner")).values(
    status="sent", sent_at=bindparam("now"), tries=_D.tries + 1, last_error=None,
    lease_owner=None, lease_until=None)


def mark_sent(conn: Connection, owner: str, rows: list[DeliveryRow]) -> int:
    """The common case: one statement for the message's rows in its own transaction, committed
    before the next send, so a killed notifier repeats at most the one message in flight. Only the
    lease holder's mark counts: returns how many of `rows` it still held."""
    with conn.begin():
        return conn.execute(_MARK_SENT, {"ids": [r.id for r in rows], "owner": owner, "now": clock.now()}).rowcount


@dataclass(frozen=True)
class Failure:
    """A failed send as recorded: `dead` (no more tries) or retried later, and its one line."""

    dead: bool
    line: str


def mark_failed(conn: Connection, config: Config, owner: str, rows: list[DeliveryRow], label: str,
                error: str | None, *, final: bool = False) -> Failure | None:
    """Record a failed send (or a target gone: `final`) for a message's rows in one transaction:
    backoff (`retry_seconds * 2**(tries-1)`), or dead after `max_tries`, all together (so they stay
    one message). Guarded by the lease like `mark_sent` (None: the lease had passed on); `tries` is
    current because the lease holder alone writes it."""
    row = rows[0]
    tries = max(r.tries for r in rows) + 1
    masked = secrets.mask(error or "failed")
    values: dict[str, Any]
    if final:
        values = {"status": "dead", "last_error": error}
        line = f"delivery {row.id} to {row.subscriber_id}: {error}"
    elif tries >= config.alerts.max_tries:
        values = {"status": "dead", "tries": tries, "last_error": masked}
        line = (f"delivery {row.id} to {row.subscriber_id} ({label}) is dead after {tries} "
                f"tr{'y' if tries == 1 else 'ies'}: {masked}")
    else:
        retry_at = clock.now() + timedelta(seconds=config.alerts.retry_seconds * 2 ** (tries - 1))
        values = {"status": "failed", "tries": tries, "last_error": masked, "next_attempt_at": retry_at}
        when = local_time(clock.iso_z(retry_at), config.tracker.timezone, STAMP)  # as status shows times
        line = f"delivery {row.id} to {row.subscriber_id} ({label}) failed, retry after {when}: {masked}"
    with conn.begin():
        kept = conn.execute(update(_D).where(_D.id.in_([r.id for r in rows]), _D.lease_owner == owner)
                            .values(lease_owner=None, lease_until=None, **values)).rowcount
    if not kept:
        return None
    return Failure(values["status"] == "dead", line)


def withdraw(conn: Connection, owner: str, rows: list[DeliveryRow]) -> int:
    """Rows no longer owed, never sent (a reminder whose meeting moved or was cancelled): deleted,
    by the lease holder only, in their own transaction; returns how many it still held."""
    with conn.begin():
        return conn.execute(delete(_D).where(_D.id.in_([r.id for r in rows]), _D.lease_owner == owner,
                                             _D.status.in_(("pending", "failed")))).rowcount


def defer(conn: Connection, owner: str, rows: list[DeliveryRow], until: Any, reason: str) -> int:
    """Rows not tried, due again at `until`: their service stalled on an earlier message of this
    run. Not a try (`tries` unchanged, so they never die of it); guarded by the lease like
    `mark_sent`. Returns how many it still held."""
    with conn.begin():
        return conn.execute(update(_D).where(_D.id.in_([r.id for r in rows]), _D.lease_owner == owner)
                            .values(next_attempt_at=until, last_error=reason, lease_owner=None,
                                    lease_until=None)).rowcount


DROPPED = "dropped"  # not sent: the person is no longer subscribed (unsubscribed, bounced, deleted)
BOUNCED = "bounced"  # the person's mail server refused it for good (SMTP 5xx): not retried


def mark_closed(conn: Connection, owner: str, rows: list[DeliveryRow], status: str, reason: str) -> int:
    """Close a message's rows unsent for good (`DROPPED`, `BOUNCED`): never retried, not dead
    letters (nothing for the operator to fix). Guarded by the lease like `mark_sent`."""
    with conn.begin():
        return conn.execute(update(_D).where(_D.id.in_([r.id for r in rows]), _D.lease_owner == owner)
                            .values(status=status, tries=_D.tries + (1 if status == BOUNCED else 0),
                                    last_error=reason, lease_owner=None, lease_until=None)).rowcount


def renew(conn: Connection, owner: str, until: Any) -> None:
    """Hold every row `owner` still holds until `until`, in its own transaction: called while its
    lease is still live, so no other notifier can have taken any of them."""
    with conn.begin():
        conn.execute(update(_D).where(_D.lease_owner == owner, _D.status.in_(("pending", "failed")))
                     .values(lease_until=until))


def all_sent(store: Store, ids: list[int]) -> bool:
    """Whether every one of these rows is recorded sent."""
    with store.engine.connect() as conn:
        marked = conn.execute(select(_D.status).where(_D.id.in_(ids))).scalars().all()
    return len(marked) == len(ids) and all(status == "sent" for status in marked)


def release(store: Store, owner: str) -> int:
    """Free every row `owner` still holds (claimed but not handled, or held by a notifier that
    died), rather than waiting for its lease to run out; returns how many."""
    with store.engine.begin() as conn:
        return conn.execute(update(_D).where(_D.lease_owner == owner)
                            .values(lease_owner=None, lease_until=None)).rowcount
