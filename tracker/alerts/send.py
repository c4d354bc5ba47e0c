"""Send what the outbox owes, through apprise.

Rows are claimed with a lease (an UPDATE that only succeeds on rows nobody holds), so two notifiers
never send one row twice, on SQLite as on PostgreSQL. Each row's result is committed right after its
send: a crash repeats at most the one message in flight, to that one target. Only full success
(apprise's result) marks a row sent; a failure waits `retry_seconds * 2**(tries-1)`; after
`max_tries` the row is dead, shown in `status` and the digest by subscriber id only.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import apprise
import jinja2
from sqlalchemy import select, update

from tracker import clock, secrets
from tracker import models as m
from tracker.alerts.outbox import OPERATOR
from tracker.alerts.targets import Target, targets_of
from tracker.billnumbers import ordinal
from tracker.bills import STAGE_WORDS
from tracker.config import Config
from tracker.store import Store

TEMPLATES = Path(__file__).resolve().parent.parent.parent / "templates"
CLAIM_BATCH = 50
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass
class NotifyReport:
    sent: int = 0
    failed: int = 0
    dead: int = 0
    skipped: int = 0
    lines: list[str] = field(default_factory=list)


@dataclass
class Message:
    title: str
    body: str


def _environment(config: Config) -> jinja2.Environment:
    folders = [str(config.resolve(config.digest.templates))] if config.digest.templates else []
    env = jinja2.Environment(loader=jinja2.FileSystemLoader([*folders, str(TEMPLATES)]), autoescape=False,
                             trim_blocks=True, lstrip_blocks=True, undefined=jinja2.ChainableUndefined)
    env.filters["stage_words"] = lambda s: STAGE_WORDS.get(s or "", s or "")
    env.filters["ordinal"] = ordinal
    env.filters["local"] = _local
    return env


def _local(iso: str | None, zone: str) -> str:
    if not iso:
        return "time to be announced"
    from zoneinfo import ZoneInfo

    return clock.parse_instant(iso).astimezone(ZoneInfo(zone)).strftime("%a %b %-d, %Y, %-I:%M %p %Z")


def _clean(text: str) -> str:
    return _CONTROL.sub("", text)


def _entity(session: Any, key: str) -> dict[str, Any]:
    entity = session.get(m.Entity, key)
    if entity is None or entity.current_snapshot_id is None:
        return {}
    snap = session.get(m.Snapshot, entity.current_snapshot_id)
    return json.loads(snap.content) if snap else {}


def _change_context(session: Any, change: m.Change, config: Config) -> dict[str, Any]:
    entity = _entity(session, change.entity_key)
    zone = config.display_zone(change.watch_id)
    return {"change": change, "entity": entity, "zone": str(zone), "kind": change.entity_key.split(":", 1)[0]}


def _title_for(context: dict[str, Any]) -> str:
    entity, change = context["entity"], context["change"]
    if context["kind"] == "bill" and entity.get("display"):
        return f"{entity['display']} ({ordinal(int(entity.get('congress') or 0))}): {change.kind.split('.', 1)[1].replace('_', ' ')}"
    if entity.get("body"):
        return f"{entity['body']}: {entity.get('title') or 'meeting'}"
    return change.summary[:120]


def render(session: Any, delivery: m.Delivery, config: Config) -> Message:
    env = _environment(config)
    if delivery.payload:
        return Message(_clean(delivery.payload["title"]), _clean(delivery.payload["body"]))
    footer = env.get_template("alerts/footer.txt.j2").render(subscriber=delivery.subscriber_id)
    if delivery.change_id is not None:
        change = session.get(m.Change, delivery.change_id)
        context = _change_context(session, change, config)
        body = env.get_template("alerts/instant.txt.j2").render(**context)
        return Message(_clean(_title_for(context)), _clean(body + footer))
    ids = session.scalars(select(m.DeliveryChange.change_id).where(m.DeliveryChange.delivery_id == delivery.id)
                          .order_by(m.DeliveryChange.change_id))
    items = [_change_context(session, session.get(m.Change, i), config) for i in ids]
    mode, _, day = (delivery.period or "").partition(":")
    body = env.get_template("alerts/bundle.txt.j2").render(items=items, mode=mode, day=day)
    return Message(f"tracker {mode} digest for {day}: {len(items)} change{'s' if len(items) != 1 else ''}",
                   _clean(body + footer))


def fit(message: Message, target: Target, link: str | None) -> Message:
    """Truncate to the service's limit with a pointer to the rest: a long digest never fails forever."""
    try:
        plugin = apprise.Apprise.instantiate(target.url)
        limit = int(getattr(plugin, "body_maxlen", 0) or 0)
        title_limit = int(getattr(plugin, "title_maxlen", 0) or 0)
    except Exception:
        limit = title_limit = 0
    title, body = message.title, message.body
    if title_limit and len(title) > title_limit:
        title = title[: title_limit - 1] + "…"
    if limit and len(body) + (len(title) if not title_limit else 0) > limit:
        tail = f"\n… (truncated; more at {link})" if link else "\n… (truncated)"
        body = body[: max(0, limit - len(tail) - (0 if title_limit else len(title) + 2))] + tail
    return Message(title, body)


def _send(target: Target, message: Message) -> tuple[bool, str | None]:
    sender = apprise.Apprise()
    if not sender.add(target.url):
        return False, "apprise cannot use this URL"
    result = sender.notify(title=message.title, body=message.body, body_format=apprise.NotifyFormat.TEXT)
    return (True, None) if bool(result) else (False, f"the service refused or was unreachable ({result!r})")


def _find_target(config: Config, delivery: m.Delivery) -> Target | None:
    if delivery.subscriber_id == OPERATOR:
        urls = config.operator.notify
    else:
        sub = next((s for s in config.subscribers if s.id == delivery.subscriber_id), None)
        if sub is None:
            return None
        urls = sub.notify
    return next((t for t in targets_of(urls) if t.hash == delivery.target_hash), None)


def _claim(store: Store, owner: str, config: Config) -> list[int]:
    now = clock.now()
    until = now + timedelta(seconds=config.alerts.lease_seconds)
    free = (m.Delivery.lease_until.is_(None)) | (m.Delivery.lease_until < now)
    due = (m.Delivery.status.in_(("pending", "failed"))) & (m.Delivery.next_attempt_at <= now) & free
    with store.session() as session:
        ids = list(session.scalars(select(m.Delivery.id).where(due).order_by(m.Delivery.id).limit(CLAIM_BATCH)))
        if not ids:
            return []
        # The WHERE is re-checked on each row: a row another notifier took meanwhile is skipped.
        session.execute(update(m.Delivery).where(m.Delivery.id.in_(ids), due)
                        .values(lease_owner=owner, lease_until=until))
        return list(session.scalars(select(m.Delivery.id).where(m.Delivery.lease_owner == owner,
                                                                 m.Delivery.lease_until == until)))


def notify(store: Store, config: Config, *, owner: str | None = None, limit: int | None = None) -> NotifyReport:
    """Send every due delivery once; return counts and one line per problem (masked)."""
    owner = owner or uuid.uuid4().hex
    report = NotifyReport()
    handled = 0
    while limit is None or handled < limit:
        ids = _claim(store, owner, config)
        if not ids:
            break
        for delivery_id in ids:
            if limit is not None and handled >= limit:
                break
            handled += 1
            _deliver_one(store, config, owner, delivery_id, report)
    # Release leases of rows claimed but not handled (a limit was hit).
    with store.session() as session:
        session.execute(update(m.Delivery).where(m.Delivery.lease_owner == owner)
                        .values(lease_owner=None, lease_until=None))
    return report


def _deliver_one(store: Store, config: Config, owner: str, delivery_id: int, report: NotifyReport) -> None:
    with store.session() as session:
        delivery = session.get(m.Delivery, delivery_id)
        if delivery is None or delivery.lease_owner != owner or delivery.status in ("sent", "dead"):
            report.skipped += 1
            return
        target = _find_target(config, delivery)
        if target is None:
            delivery.status, delivery.last_error = "dead", "subscriber or target no longer in the config"
            delivery.lease_owner = delivery.lease_until = None
            report.dead += 1
            report.lines.append(f"delivery {delivery.id} to {delivery.subscriber_id}: {delivery.last_error}")
            return
        message = render(session, delivery, config)
        link = None
        if delivery.change_id is not None:
            link = session.get(m.Change, delivery.change_id).url
    ok, error = _send(target, fit(message, target, link))
    now = clock.now()
    with store.session() as session:
        delivery = session.get(m.Delivery, delivery_id)
        delivery.tries += 1
        delivery.lease_owner = delivery.lease_until = None
        if ok:
            delivery.status, delivery.sent_at, delivery.last_error = "sent", now, None
            report.sent += 1
            return
        delivery.last_error = secrets.mask(error or "failed")
        if delivery.tries >= config.alerts.max_tries:
            delivery.status = "dead"
            report.dead += 1
            report.lines.append(f"delivery {delivery.id} to {delivery.subscriber_id} ({target.label}) is dead "
                                f"after {delivery.tries} tries: {delivery.last_error}")
        else:
            delivery.status = "failed"
            delivery.next_attempt_at = now + timedelta(seconds=config.alerts.retry_seconds * 2 ** (delivery.tries - 1))
            report.failed += 1
            report.lines.append(f"delivery {delivery.id} to {delivery.subscriber_id} ({target.label}) failed, "
                                f"retry after {delivery.next_attempt_at:%Y-%m-%d %H:%M}Z: {delivery.last_error}")


def send_test(config: Config, subscriber_id: str) -> list[tuple[str, bool, str | None]]:
    """One test message to each of the subscriber's targets: (label, ok, error)."""
    sub = next(s for s in config.subscribers if s.id == subscriber_id)
    message = Message("tracker test message", f"This is a test from tracker for subscriber {sub.id}. "
                      "If you can read it, alerts will reach you here.")
    results = []
    for target in targets_of(sub.notify):
        ok, error = _send(target, message)
        results.append((target.label, ok, secrets.mask(error) if error else None))
    return results
