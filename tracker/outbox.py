"""The outbox, owing side: the delivery rows owed to subscribers and the operator, and what is
known of them (counts, dead letters). Storage only: sending is tracker/alerts/.

Instant deliveries are written by `owe_instant()` inside the transaction that records the change,
so a change is never stored without what it owes. Daily and weekly bundles get their row when the
period closes (`close_bundles()`). A new subscriber or a new follow owes nothing from before it
(the `follows` and `bundle_marks` rows mark where each one starts).
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.orm import Session

from tracker import clock
from tracker import models as m
from tracker.changes import told_to
from tracker.config import Config, Subscriber
from tracker.people import PREFIX, active_subscribers, forget_follows, subscriber_id
from tracker.records import OperatorNotice
from tracker.store import Store, insert_missing, max_change_id
from tracker.targets import Target, targets_of

OPERATOR = "operator"
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


def followed(config: Config, subscriber: Subscriber) -> list[str]:
    return list(subscriber.follow) if subscriber.follow is not None else config.watch_ids


def people_enabled(config: Config) -> bool:
    """Self-service subscribers are mailed only with an SMTP server to send through
    (`[alerts] mail_url`) and a public address for their unsubscribe links (`[serve] public_url`)."""
    return config.alerts.mail_url is not None and config.serve.public_url is not None


def active_people(session: Session, config: Config) -> list[Subscriber]:
    """Every confirmed, still subscribed person as a subscriber (none unless `people_enabled`).
    One query: a crawl loads them once and hands them to every `owe_instant`."""
    return active_subscribers(session, config) if people_enabled(config) else []


def sync_subscribers(session: Session, config: Config, people: list[Subscriber] | None = None) -> None:
    """Record where each (subscriber, watch) follow starts: nothing before it is owed.

    INSERT … ON CONFLICT DO NOTHING, not check-then-insert: processes starting together on a new
    config may both see a follow missing; the second must neither fail nor move the start the
    first one recorded. People (`people`, else the active ones read here) are followed like the
    config's subscribers; a person's follow recorded before their latest confirmation (they
    unsubscribed and came back) starts again now, so nothing missed meanwhile is owed.
    """
    people = active_people(session, config) if people is None else people
    start = max_change_id(session)
    now = clock.now()
    known = {(sub, watch): since for sub, watch, since
             in session.execute(select(m.Follow.subscriber_id, m.Follow.watch_id, m.Follow.since))}
    marks = set(session.scalars(select(m.BundleMark.subscriber_id)))
    follows: list[dict[str, Any]] = []
    bundle_marks: list[dict[str, Any]] = []
    for sub in config.subscribers:
        follows += [{"subscriber_id": sub.id, "watch_id": watch_id, "since_change_id": start, "since": now}
                    for watch_id in followed(config, sub) if (sub.id, watch_id) not in known]
        if sub.mode != "instant" and sub.id not in marks:
            bundle_marks.append({"subscriber_id": sub.id, "last_change_id": start, "last_period": None})
    if people:
        confirmed = _confirmed_at(session, known, people)
        stale = {sub.id for sub in people if any(
            since < confirmed[sub.id] for (who, _), since in known.items() if who == sub.id)} if confirmed else set()
        for sub_id in sorted(stale):
            forget_follows(session, int(sub_id.removeprefix(PREFIX)))
            marks.discard(sub_id)
        for sub in people:
            follows += [{"subscriber_id": sub.id, "watch_id": watch_id, "since_change_id": start, "since": now}
                        for watch_id in followed(config, sub) if (sub.id, watch_id) not in known or sub.id in stale]
            if sub.mode != "instant" and sub.id not in marks:
                bundle_marks.append({"subscriber_id": sub.id, "last_change_id": start, "last_period": None})
    insert_missing(session, m.Follow, ["subscriber_id", "watch_id"], follows)
    insert_missing(session, m.BundleMark, ["subscriber_id"], bundle_marks)


def _confirmed_at(session: Session, known: dict[tuple[str, str], datetime],
                  people: list[Subscriber]) -> dict[str, datetime]:
    """When each person with a recorded follow was last confirmed (read only for those)."""
    ids = {sub.id for sub in people} & {who for who, _ in known}
    if not ids:
        return {}
    rows = session.execute(select(m.Person.id, m.Person.confirmed_at)
                           .where(m.Person.id.in_([int(i.removeprefix(PREFIX)) for i in ids])))
    return {subscriber_id(pid): at for pid, at in rows if at is not None}


def _follow_starts(session: Session, who: str | None = None) -> dict[tuple[str, str], int]:
    """Where each (subscriber, watch) follow starts (one subscriber's, or everyone's in one query)."""
    query = select(m.Follow.subscriber_id, m.Follow.watch_id, m.Follow.since_change_id)
    if who is not None:
        query = query.where(m.Follow.subscriber_id == who)
    return {(sub, watch): since for sub, watch, since in session.execute(query)}


def _follow_starts_of(session: Session, watches: set[str]) -> dict[tuple[str, str], int]:
    """Where each follow of these watches starts (one query for every subscriber)."""
    query = select(m.Follow.subscriber_id, m.Follow.watch_id, m.Follow.since_change_id) \
        .where(m.Follow.watch_id.in_(sorted(watches)))
    return {(sub, watch): since for sub, watch, since in session.execute(query)}


def owe_instant(session: Session, change: m.Change, config: Config, people: list[Subscriber] | None = None) -> int:
    """One delivery per (change, instant subscriber who wants it, target); same transaction.

    `people`: the active people, loaded once per crawl by its caller (else read here, once per
    change). A person's row names no address (`recipient` is None): the outbox keeps none."""
    told = told_to(change.data)
    watches = set(told) if told is not None else set(session.scalars(
        select(m.WatchEntity.watch_id).where(m.WatchEntity.entity_key == change.entity_key)))
    if change.watch_id and told is None:
        watches.add(change.watch_id)
    if not watches:
        return 0
    now = clock.now()
    group = group_key(change)
    starts = _follow_starts_of(session, watches)  # one query for every subscriber (it was one per subscriber)
    rows: list[dict[str, Any]] = []
    audience = [*config.subscribers, *(active_people(session, config) if people is None else people)]
    for sub in audience:
        if sub.mode != "instant" or sub.paused:
            continue
        if not any((sub.id, w) in starts and starts[(sub.id, w)] < change.id
                   for w in watches if sub.wants(w, change.kind)):
            continue  # not wanted, or followed only since after this change's turn: no backlog
        person = sub.id.startswith(PREFIX)
        for target in targets_of(sub.notify):
            rows.append({"dedupe_key": f"change:{change.id}|{sub.id}|{target.hash}", "subscriber_id": sub.id,
                         "target_hash": target.hash, "recipient": None if person else target.recipient,
                         "change_id": change.id, "group_key": group, "status": "pending", "tries": 0,
                         "next_attempt_at": now, "created_at": now})
    if rows:
        # One Core executemany on the change's own connection: a thousand people cost one statement.
        session.connection().execute(insert(m.Delivery.__table__), rows)
    return len(rows)


def group_key(change: m.Change) -> str:
    """Changes of one entity found by one crawl go out as one message (a bill that passed the
    Senate is one email, not one per action); a change recorded outside a crawl stands alone."""
    return f"{change.entity_key}|run:{change.run_id}" if change.run_id else f"{change.entity_key}|change:{change.id}"


def owe_operator(session: Session, config: Config, notice: OperatorNotice) -> int:
    """A message to the operator (tracker/health.py finds them), deduplicated by its key."""
    now = clock.now()
    owed = 0
    for target in targets_of(config.operator.notify):
        dedupe = f"operator:{notice.key}|{target.hash}"
        if session.scalar(select(m.Delivery.id).where(m.Delivery.dedupe_key == dedupe)):
            continue
        session.add(m.Delivery(
            dedupe_key=dedupe, subscriber_id=OPERATOR, target_hash=target.hash, recipient=target.recipient,
            payload={"title": notice.title, "body": notice.body}, status="pending", tries=0, next_attempt_at=now,
            created_at=now,
        ))
        owed += 1
    return owed


def period_end(config: Config, mode: str, now: datetime) -> tuple[str, datetime]:
    """The most recent close of a daily/weekly period at or before `now`, and its key. Closes are
    compared as instants: wall-clock times of one zone compare without their fold, so on the night
    the clocks fall back a 1:30 close was passed at the first 1:30, then not yet reached until the
    second, and that day's bundle was closed twice (its key inserted again: every notify failed for
    the half hour). A close the clocks repeat is its first; one they skip is read with the offset
    before the change (fold 0), as the listings read a skipped time."""
    zone = ZoneInfo(config.tracker.timezone)
    hour, minute = (int(x) for x in config.alerts.daily_at.split(":"))
    weekday = WEEKDAYS.index(config.alerts.weekly_on)
    day = now.astimezone(zone).date()
    while True:  # at most eight days back
        close = datetime.combine(day, time(hour, minute), tzinfo=zone)
        if close.astimezone(UTC) <= now and (mode != "weekly" or day.weekday() == weekday):
            return f"{mode}:{day.isoformat()}", close
        day -= timedelta(days=1)


def close_bundles(store: Store, config: Config) -> int:
    """Owe one bundle per daily/weekly subscriber and target for each closed period with news."""
    now = clock.now()
    owed = 0
    with store.session() as session:
        people = active_people(session, config)
        sync_subscribers(session, config, people)
        for sub in [*config.subscribers, *people]:
            if sub.mode == "instant":
                continue
            period, close = period_end(config, sub.mode, now)
            mark = session.get(m.BundleMark, sub.id)
            if mark is None or mark.last_period == period:
                continue
            chosen, top = bundle_changes(session, sub, mark.last_change_id, close)
            mark.last_period = period
            mark.last_change_id = max(mark.last_change_id, top)
            if not chosen:
                continue
            for target in targets_of(sub.notify):
                delivery = m.Delivery(
                    dedupe_key=f"bundle:{period}|{sub.id}|{target.hash}", subscriber_id=sub.id,
                    target_hash=target.hash, recipient=None if sub.id.startswith(PREFIX) else target.recipient,
                    period=period, status="pending",
                    tries=0, next_attempt_at=now, created_at=now,
                )
                session.add(delivery)
                session.flush()
                for change_id in sorted(chosen):
                    session.add(m.DeliveryChange(delivery_id=delivery.id, change_id=change_id))
                owed += 1
    return owed


def bundle_changes(session: Session, sub: Subscriber, after: int,
                   close: datetime | None = None) -> tuple[dict[int, m.Change], int]:
    """What a bundle of `sub` carries of the changes after `after` (detected by `close`): each
    watch's that holds its entity, and its own watch's (as `owe_instant` has it: a meeting of a body
    that watch has since let go stays owed), followed since before it and of a kind `sub` wants;
    and the newest change id read (`after` when none)."""
    starts = {watch: since for (_, watch), since in _follow_starts(session, sub.id).items()}
    query = (select(m.Change, m.WatchEntity.watch_id)
             .outerjoin(m.WatchEntity, m.WatchEntity.entity_key == m.Change.entity_key)
             .where(m.Change.id > after).order_by(m.Change.id))
    rows = session.execute(query if close is None else query.where(m.Change.detected_at <= close)).all()
    chosen: dict[int, m.Change] = {}
    for change, linked in rows:
        told = told_to(change.data)
        for watch_id in (set(told) if told is not None else {linked, change.watch_id} - {None}):
            if watch_id in starts and starts[watch_id] < change.id and sub.wants(watch_id, change.kind) \
                    and not sub.paused:
                chosen[change.id] = change
    return chosen, max((c.id for c, _ in rows), default=after)


GONE = "not sent: subscriber no longer in the config"


REPLACED = "not sent here: its target left the config; owed through the subscriber's current targets"


def _current_targets(config: Config) -> dict[str, list[Target]]:
    """Each config subscriber's targets and the operator's, as the config names them now."""
    return {**{sub.id: targets_of(sub.notify) for sub in config.subscribers},
            OPERATOR: targets_of(config.operator.notify)}


def reowe_replaced(store: Store, config: Config) -> int:
    """What a config subscriber (or the operator) is still owed through a target no longer in the
    config is owed through each of its current targets instead (a rotated webhook, a new address);
    the old rows are closed `dropped`. A current target already owed the same message keeps its
    own row, so nothing goes twice (each row's key ends with its target's hash). Rows a notifier
    holds are left to it. Returns how many rows were owed anew."""
    current = _current_targets(config)
    elsewhere = [(m.Delivery.subscriber_id == sub_id) & m.Delivery.target_hash.not_in([t.hash for t in targets])
                 for sub_id, targets in current.items() if targets]
    if not elsewhere:
        return 0
    now = clock.now()
    free = m.Delivery.lease_until.is_(None) | (m.Delivery.lease_until < now)
    with store.session() as session:
        stale = [row.id for row in session.execute(
            select(m.Delivery.id, m.Delivery.target_hash, m.Delivery.dedupe_key)
            .where(m.Delivery.status.in_(("pending", "failed")), free, or_(*elsewhere))).all()
            if row.dedupe_key.endswith(row.target_hash)]
        if not stale:
            return 0
        closed = session.scalars(
            update(m.Delivery).where(m.Delivery.id.in_(stale),
                                     m.Delivery.status.in_(("pending", "failed")), free)
            .values(status="dropped", last_error=REPLACED, lease_owner=None, lease_until=None)
            .returning(m.Delivery.id)).all()
        owed = 0
        for old in session.scalars(select(m.Delivery).where(m.Delivery.id.in_(closed)).order_by(m.Delivery.id)):
            changes = list(session.scalars(select(m.DeliveryChange.change_id)
                                           .where(m.DeliveryChange.delivery_id == old.id)))
            stem = old.dedupe_key.removesuffix(old.target_hash)
            for target in current[old.subscriber_id]:
                new_id = session.scalar(
                    m.insert(session, m.Delivery).on_conflict_do_nothing(index_elements=["dedupe_key"])
                    .values(dedupe_key=stem + target.hash, subscriber_id=old.subscriber_id, target_hash=target.hash,
                            recipient=target.recipient, change_id=old.change_id, period=old.period,
                            group_key=old.group_key, payload=old.payload, status="pending", tries=0,
                            next_attempt_at=now, created_at=old.created_at)
                    .returning(m.Delivery.id))
                if new_id is not None:
                    owed += 1
                    session.add_all(m.DeliveryChange(delivery_id=new_id, change_id=c) for c in changes)
        return owed


def retry_dead(store: Store, config: Config) -> tuple[int, int]:
    """Put dead deliveries back in the queue, with their tries reset: (queued, closed). One whose
    config subscriber (or the operator) is no longer in the config, or has no target left, is
    closed unsent (`dropped`) instead: queued again it could only die again, and `status --check`
    would report it for ever. One owed through a target since replaced (the URL that made it die,
    corrected) is queued, and `reowe_replaced` owes it through the current targets."""
    current = {sub_id for sub_id, targets in _current_targets(config).items() if targets}
    with store.session() as session:
        dead = session.execute(select(m.Delivery.id, m.Delivery.subscriber_id)
                               .where(m.Delivery.status == "dead")).all()
        gone = [row.id for row in dead if not row.subscriber_id.startswith(PREFIX) and row.subscriber_id not in current]
        if gone:
            session.execute(update(m.Delivery).where(m.Delivery.id.in_(gone))
                            .values(status="dropped", last_error=GONE, lease_owner=None, lease_until=None))
        result = session.execute(
            update(m.Delivery).where(m.Delivery.status == "dead")
            .values(status="pending", tries=0, next_attempt_at=clock.now(), lease_owner=None, lease_until=None)
        )
        return int(result.rowcount or 0), len(gone)


def delivery_counts(session: Session) -> dict[str, int]:
    """Deliveries by status: the four of `status --json`'s `deliveries` (a person's rows closed
    unsent are `closed_counts`)."""
    counts = {"pending": 0, "sent": 0, "failed": 0, "dead": 0}
    for status, n in session.execute(select(m.Delivery.status, func.count()).group_by(m.Delivery.status)):
        if status in counts:
            counts[status] = n
    return counts


def closed_counts(session: Session) -> dict[str, int]:
    """People's deliveries closed unsent for good: `dropped` (they were no longer subscribed when
    it was due) and `bounced` (their mail server refused it for good)."""
    counts = {"dropped": 0, "bounced": 0}
    rows = session.execute(select(m.Delivery.status, func.count())
                           .where(m.Delivery.status.in_(list(counts)), m.Delivery.subscriber_id.startswith(PREFIX))
                           .group_by(m.Delivery.status))
    for status, n in rows:
        counts[status] = n
    return counts


def dead_deliveries(session: Session) -> list[dict[str, Any]]:
    """Dead letters by subscriber id only: no addresses."""
    rows = session.scalars(select(m.Delivery).where(m.Delivery.status == "dead").order_by(m.Delivery.id))
    return [
        {"id": d.id, "subscriber": d.subscriber_id, "change_id": d.change_id, "period": d.period,
         "tries": d.tries, "last_error": d.last_error}
        for d in rows
    ]
