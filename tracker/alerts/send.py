"""Send what the outbox owes, through apprise.

Rows are claimed with a lease (an UPDATE that only succeeds on rows nobody holds), so two notifiers
never send one row twice, on SQLite as on PostgreSQL. Each row's result is committed right after its
send: a crash repeats at most the one message in flight, to that one target. Only full success
(apprise's result) marks a row sent; a failure waits `retry_seconds * 2**(tries-1)`; after
`max_tries` the row is dead, shown in `status` and the digest by subscriber id only.
"""

from __future__ import annotations

import functools
import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import apprise
import jinja2
from sqlalchemy import bindparam, select, update

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
    body: str  # plain text
    link: str | None = None  # where the rest is, when a service's length limit cuts the body
    markdown: str | None = None  # for targets whose native format is Markdown or HTML


def _environment(config: Config) -> jinja2.Environment:
    folder = str(config.resolve(config.digest.templates)) if config.digest.templates else None
    return _environment_for(folder)


@functools.lru_cache(maxsize=8)
def _environment_for(folder: str | None) -> jinja2.Environment:
    """Compiled templates are cached: compiling per message cost 6 ms each."""
    folders = [folder] if folder else []
    env = jinja2.Environment(loader=jinja2.FileSystemLoader([*folders, str(TEMPLATES)]), autoescape=False,
                             trim_blocks=True, lstrip_blocks=True, undefined=jinja2.ChainableUndefined)
    env.filters["stage_words"] = lambda s: STAGE_WORDS.get(s or "", s or "")
    env.filters["ordinal"] = ordinal
    env.filters["local"] = _local
    env.filters["md"] = _md
    env.filters["mdurl"] = lambda url: re.sub(r"[\s()<>]", lambda m: f"%{ord(m.group()):02X}", url or "")
    return env


@functools.lru_cache(maxsize=4096)
def _footer(env: jinja2.Environment, subscriber: str, markdown: bool = False) -> str:
    text = _clean(env.get_template("alerts/footer.txt.j2").render(subscriber=subscriber))
    return _md(text).replace("\n", "  \n") if markdown else text


def _md(text: object) -> str:
    """Scraped text inside Markdown: no raw HTML (apprise turns Markdown into HTML for email), no
    emphasis or links smuggled in."""
    import html

    return re.sub(r"([\\`*_\[\]])", r"\\\1", html.escape(str(text or ""), quote=False))


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
        title = entity.get("title") or "meeting"
        return entity["body"] if title == entity["body"] else f"{entity['body']}: {title}"
    return change.summary[:120]


def render(session: Any, delivery: m.Delivery, config: Config,
           cache: dict[int, Message] | None = None) -> Message:
    """The message a delivery carries; `cache` keeps one rendering per change for a notify run."""
    env = _environment(config)
    if delivery.payload:
        return Message(_clean(delivery.payload["title"]), _clean(delivery.payload["body"]))
    footer = _footer(env, delivery.subscriber_id)
    if delivery.change_id is not None:
        cached = cache.get(delivery.change_id) if cache is not None else None
        if cached is None:
            change = session.get(m.Change, delivery.change_id)
            context = _change_context(session, change, config)
            body = env.get_template("alerts/instant.txt.j2").render(**context)
            markdown = env.get_template("alerts/instant.md.j2").render(**context)
            cached = Message(_clean(_title_for(context)), _clean(body), change.url, _clean(markdown))
            if cache is not None:
                cache[delivery.change_id] = cached
        return Message(cached.title, cached.body + footer, cached.link,
                       (cached.markdown or "") + "\n" + _footer(env, delivery.subscriber_id, markdown=True))
    ids = session.scalars(select(m.DeliveryChange.change_id).where(m.DeliveryChange.delivery_id == delivery.id)
                          .order_by(m.DeliveryChange.change_id))
    items = [_change_context(session, session.get(m.Change, i), config) for i in ids]
    mode, _, day = (delivery.period or "").partition(":")
    body = env.get_template("alerts/bundle.txt.j2").render(items=items, mode=mode, day=day)
    return Message(f"tracker {mode} digest for {day}: {len(items)} change{'s' if len(items) != 1 else ''}",
                   _clean(body + footer))


@functools.lru_cache(maxsize=1024)
def _limits(url: str) -> tuple[int, int, bool]:
    """The service's body and title length limits (0: none known), and whether it takes Markdown/HTML."""
    try:
        plugin = apprise.Apprise.instantiate(url)
        formats = getattr(plugin, "notify_format", ())
        formats = formats if isinstance(formats, tuple) else (formats,)
        rich_formats = (apprise.NotifyFormat.MARKDOWN, apprise.NotifyFormat.HTML)
        # Native HTML/Markdown (email), or chat services that render Markdown (Discord, Slack...);
        # generic json/xml/form webhooks get plain text, which machines read best.
        rich = bool(formats) and (formats[0] in rich_formats or (
            apprise.NotifyFormat.MARKDOWN in formats and not type(plugin).__module__.startswith("apprise.plugins.custom_")))
        return int(getattr(plugin, "body_maxlen", 0) or 0), int(getattr(plugin, "title_maxlen", 0) or 0), rich
    except Exception:
        return 0, 0, False


_senders = threading.local()


def _sender(url: str) -> apprise.Apprise | None:
    """A parsed apprise object per URL and thread (parsing costs more than a local send). Mail is
    parsed afresh each time: its plugin keeps an SMTP session that must not outlive a server restart."""
    if url.split("://", 1)[0].lower() in ("mailto", "mailtos"):
        fresh = apprise.Apprise()
        return fresh if fresh.add(url) else None
    cache: dict[str, apprise.Apprise | None] = getattr(_senders, "cache", None) or {}
    _senders.cache = cache
    if url not in cache:
        sender = apprise.Apprise()
        cache[url] = sender if sender.add(url) else None
    return cache[url]


def fit(message: Message, target: Target, link: str | None) -> Message:
    """Truncate to the service's limit with a pointer to the rest: a long digest never fails forever."""
    limit, title_limit, rich = _limits(target.url)
    title, body = message.title, message.body
    if rich and message.markdown:
        body = message.markdown
    if title_limit and len(title) > title_limit:
        title = title[: title_limit - 1] + "…"
    if limit and len(body) + (len(title) if not title_limit else 0) > limit:
        tail = f"\n… (truncated; more at {link})" if link else "\n… (truncated)"
        body = body[: max(0, limit - len(tail) - (0 if title_limit else len(title) + 2))] + tail
    if rich and message.markdown:
        return Message(title, message.body, link, body)
    return Message(title, body)


def _send(target: Target, message: Message) -> tuple[bool, str | None]:
    sender = _sender(target.url)
    if sender is None:
        return False, "apprise cannot use this URL"
    if message.markdown:
        result = sender.notify(title=message.title, body=message.markdown, body_format=apprise.NotifyFormat.MARKDOWN)
    else:
        result = sender.notify(title=message.title, body=message.body, body_format=apprise.NotifyFormat.TEXT)
    return (True, None) if bool(result) else (False, f"the service refused or was unreachable ({result!r})")


def _claim(store: Store, owner: str, config: Config) -> list[int]:
    now = clock.now()
    until = now + timedelta(seconds=config.alerts.lease_seconds)
    free = (m.Delivery.lease_until.is_(None)) | (m.Delivery.lease_until < now)
    due = (m.Delivery.status.in_(("pending", "failed"))) & (m.Delivery.next_attempt_at <= now) & free
    paused = [sub.id for sub in config.subscribers if sub.paused]
    if paused:  # a paused subscriber's rows wait, unsent, until it is unpaused
        due &= m.Delivery.subscriber_id.not_in(paused)
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
    targets = {(sub.id, t.hash): t for sub in config.subscribers for t in targets_of(sub.notify)}
    targets.update({(OPERATOR, t.hash): t for t in targets_of(config.operator.notify)})
    rendered: dict[int, Message] = {}
    handled = 0
    while limit is None or handled < limit:
        ids = _claim(store, owner, config)
        if not ids:
            break
        if limit is not None:
            ids = ids[: limit - handled]
        handled += len(ids)
        # One read for the batch; then one commit per row, right after its send.
        outgoing: list[tuple[int, Target | None, Message | None, str | None]] = []
        with store.session() as session:
            for delivery in session.scalars(select(m.Delivery).where(m.Delivery.id.in_(ids)).order_by(m.Delivery.id)):
                target = targets.get((delivery.subscriber_id, delivery.target_hash))
                if target is None:
                    outgoing.append((delivery.id, None, None, None))
                    continue
                message = render(session, delivery, config, rendered)
                outgoing.append((delivery.id, target, message, message.link))
        # One connection for the batch's "sent" marks: each is still its own transaction and commit.
        with store.engine.connect() as conn:
            for delivery_id, target, message, link in outgoing:
                if target is None or message is None:
                    _finish(store, config, delivery_id, None, False, "subscriber or target no longer in the config",
                            report, final=True)
                    continue
                ok, error = _send(target, fit(message, target, link))
                if ok:
                    _mark_sent(conn, delivery_id)
                    report.sent += 1
                else:
                    _finish(store, config, delivery_id, target, ok, error, report)
    # Release leases of rows claimed but not handled (a limit was hit).
    with store.session() as session:
        session.execute(update(m.Delivery).where(m.Delivery.lease_owner == owner)
                        .values(lease_owner=None, lease_until=None))
    return report


def _mark_sent(conn: Any, delivery_id: int) -> None:
    """The common case: one statement in its own transaction, committed before the next send, so a
    killed notifier repeats at most the one message in flight."""
    with conn.begin():
        conn.execute(_MARK_SENT, {"delivery_id": delivery_id, "now": clock.now()})


# Built once: constructing the statement per row cost more than executing it.
_MARK_SENT = update(m.Delivery).where(m.Delivery.id == bindparam("delivery_id")).values(
    status="sent", sent_at=bindparam("now"), tries=m.Delivery.tries + 1, last_error=None,
    lease_owner=None, lease_until=None)


def _finish(store: Store, config: Config, delivery_id: int, target: Target | None, ok: bool, error: str | None,
            report: NotifyReport, final: bool = False) -> None:
    """Record a failed send (or a target gone) in its own transaction: backoff, or dead."""
    now = clock.now()
    with store.session() as session:
        delivery = session.get(m.Delivery, delivery_id)
        delivery.lease_owner = delivery.lease_until = None
        label = target.label if target else "unknown target"
        if final:
            delivery.status, delivery.last_error = "dead", error
            report.dead += 1
            report.lines.append(f"delivery {delivery.id} to {delivery.subscriber_id}: {error}")
            return
        delivery.tries += 1
        delivery.last_error = secrets.mask(error or "failed")
        if delivery.tries >= config.alerts.max_tries:
            delivery.status = "dead"
            report.dead += 1
            report.lines.append(f"delivery {delivery.id} to {delivery.subscriber_id} ({label}) is dead "
                                f"after {delivery.tries} tries: {delivery.last_error}")
        else:
            delivery.status = "failed"
            delivery.next_attempt_at = now + timedelta(seconds=config.alerts.retry_seconds * 2 ** (delivery.tries - 1))
            report.failed += 1
            report.lines.append(f"delivery {delivery.id} to {delivery.subscriber_id} ({label}) failed, "
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
