"""Send what the outbox owes, through apprise.

Rows are claimed with a lease (an UPDATE that only succeeds on rows nobody holds), so two notifiers
never send one row twice, on SQLite as on PostgreSQL; a notifier sends nothing once its lease has run
out, and records a row's result only while it still holds the row. Each row's result is committed
right after its send: a crash repeats at most the one message in flight, to that one target. Only full success
(apprise's result) marks a row sent; a failure waits `retry_seconds * 2**(tries-1)`; after
`max_tries` the row is dead, shown in `status` and the digest by subscriber id only.
"""

from __future__ import annotations

import functools
import re
import threading
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

import apprise
import jinja2
from sqlalchemy import Connection, Update, bindparam, select, update

from tracker import clock, secrets, templating
from tracker import models as m
from tracker.alerts.outbox import OPERATOR
from tracker.alerts.targets import Target, targets_of
from tracker.bills import STAGE_WORDS
from tracker.config import Config
from tracker.records import Bill, Meeting, Record, load_record
from tracker.store import Store
from tracker.words import bill_label, local_time, meeting_label

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


def _environment_for(folder: str | None) -> jinja2.Environment:
    """Plain-text bodies: no autoescape (Markdown escaping is the `md` filter's job). Cached by
    tracker.templating per folder: compiling per message cost 6 ms each."""
    return templating.environment("alerts", folder, html=False, filters={
        "stage_words": lambda s: STAGE_WORDS.get(s or "", s or ""),
        "local": local_time,
        "md": _md,
        "mdurl": lambda url: re.sub(r"[\s()<>]", lambda m: f"%{ord(m.group()):02X}", url or ""),
    })


@functools.lru_cache(maxsize=4096)
def _footer(env: jinja2.Environment, subscriber: str, markdown: bool = False) -> str:
    text = _clean(env.get_template("alerts/footer.txt.j2").render(subscriber=subscriber))
    return _md(text).replace("\n", "  \n") if markdown else text


def _md(text: object) -> str:
    """Scraped text inside Markdown: no raw HTML (apprise turns Markdown into HTML for email), no
    emphasis or links smuggled in."""
    import html

    return re.sub(r"([\\`*_\[\]])", r"\\\1", html.escape(str(text or ""), quote=False))


def _clean(text: str) -> str:
    return _CONTROL.sub("", text)


def _entity(session: Any, key: str) -> Record | None:
    """The entity's current record (None when it has no snapshot)."""
    entity = session.get(m.Entity, key)
    if entity is None or entity.current_snapshot_id is None:
        return None
    snap = session.get(m.Snapshot, entity.current_snapshot_id)
    return load_record(entity.kind, snap.content) if snap else None


def _change_context(session: Any, change: m.Change, config: Config) -> dict[str, Any]:
    entity = _entity(session, change.entity_key)
    zone = config.display_zone(change.watch_id)
    return {"change": change, "entity": entity, "zone": str(zone), "kind": change.entity_key.split(":", 1)[0]}


def _title_for(context: dict[str, Any]) -> str:
    entity, change = context["entity"], context["change"]
    if isinstance(entity, Bill):
        return f"{bill_label(entity)}: {change.kind.split('.', 1)[1].replace('_', ' ')}"
    if isinstance(entity, Meeting) and entity.body:
        return meeting_label(entity)
    return change.summary[:120]


class DeliveryRow(Protocol):
    """What sending needs of an outbox row: a row returned by the claim (or an ORM Delivery)."""

    id: int
    subscriber_id: str
    target_hash: str
    change_id: int | None
    period: str | None
    payload: dict[str, Any] | None
    tries: int


def render(session: Any, delivery: DeliveryRow, config: Config,
           cache: dict[int, Message] | None = None) -> Message:
    """The message a delivery carries. `cache` keeps one rendering per change for a notify run: every
    subscriber gets that same text plus their own footer (itself cached per subscriber)."""
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


_D = m.Delivery


def _claim_statement(config: Config) -> Update:
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
            .returning(_D.id, _D.subscriber_id, _D.target_hash, _D.change_id, _D.period, _D.payload, _D.tries))


Outgoing = tuple[DeliveryRow, Target | None, Message | None]


def _prepare(store: Store, config: Config, rows: list[DeliveryRow], targets: dict[tuple[str, str], Target],
             rendered: dict[int, Message]) -> list[Outgoing]:
    """Each claimed row with its target and message (None, None: its target is gone from the config)."""
    outgoing: list[Outgoing] = []
    with store.session() as session:
        for row in rows:
            target = targets.get((row.subscriber_id, row.target_hash))
            outgoing.append((row, target, render(session, row, config, rendered) if target else None))
    return outgoing


def notify(store: Store, config: Config, *, owner: str | None = None, limit: int | None = None) -> NotifyReport:
    """Send every due delivery once; return counts and one line per problem (masked)."""
    owner = owner or uuid.uuid4().hex
    report = NotifyReport()
    targets = {(sub.id, t.hash): t for sub in config.subscribers for t in targets_of(sub.notify)}
    targets.update({(OPERATOR, t.hash): t for t in targets_of(config.operator.notify)})
    claim = _claim_statement(config)
    rendered: dict[int, Message] = {}
    handled = 0
    while limit is None or handled < limit:
        now = clock.now()
        until = now + timedelta(seconds=config.alerts.lease_seconds)
        batch = CLAIM_BATCH if limit is None else min(CLAIM_BATCH, limit - handled)
        # One connection per batch; the claim and every row's result are still each their own transaction.
        with store.engine.connect() as conn:
            with conn.begin():
                rows = conn.execute(claim, {"now": now, "until": until, "owner": owner, "batch": batch}).all()
            if not rows:
                break
            rows.sort(key=lambda row: row.id)  # RETURNING has no order
            for row, target, message in _prepare(store, config, rows, targets, rendered):
                if clock.now() >= until:
                    break  # our lease ran out: the rest are free again, for the next claim (ours or not)
                handled += 1
                if target is None or message is None:
                    _finish(conn, config, owner, row, None, "subscriber or target no longer in the config",
                            report, final=True)
                    continue
                ok, error = _send(target, fit(message, target, message.link))
                if ok:
                    _mark_sent(conn, owner, row, report)
                else:
                    _finish(conn, config, owner, row, target, error, report)
    # Release leases of rows claimed but not handled (a lease ran out).
    with store.engine.begin() as conn:
        conn.execute(update(_D).where(_D.lease_owner == owner).values(lease_owner=None, lease_until=None))
    return report


def _lease_lost(row: DeliveryRow, what: str) -> str:
    return f"delivery {row.id} to {row.subscriber_id}: {what}, but its lease had passed to another notifier"


def _mark_sent(conn: Connection, owner: str, row: DeliveryRow, report: NotifyReport) -> None:
    """The common case: one statement in its own transaction, committed before the next send, so a
    killed notifier repeats at most the one message in flight. Only the lease holder's mark counts."""
    with conn.begin():
        kept = conn.execute(_MARK_SENT, {"delivery_id": row.id, "owner": owner, "now": clock.now()}).rowcount
    report.sent += 1
    if not kept:
        report.lines.append(_lease_lost(row, "sent") + ", which may send it again")


# Built once: constructing the statement per row cost more than executing it.
_MARK_SENT = update(_D).where(_D.id == bindparam("delivery_id"), _D.lease_owner == bindparam("owner")).values(
    status="sent", sent_at=bindparam("now"), tries=_D.tries + 1, last_error=None,
    lease_owner=None, lease_until=None)


def _finish(conn: Connection, config: Config, owner: str, row: DeliveryRow, target: Target | None,
            error: str | None, report: NotifyReport, final: bool = False) -> None:
    """Record a failed send (or a target gone) in its own transaction: backoff, or dead. Guarded by
    the lease like `_mark_sent`; `row.tries` is current because the lease holder alone writes it."""
    label = target.label if target else "unknown target"
    tries = row.tries + 1
    masked = secrets.mask(error or "failed")
    values: dict[str, Any]
    if final:
        values = {"status": "dead", "last_error": error}
        line = f"delivery {row.id} to {row.subscriber_id}: {error}"
    elif tries >= config.alerts.max_tries:
        values = {"status": "dead", "tries": tries, "last_error": masked}
        line = f"delivery {row.id} to {row.subscriber_id} ({label}) is dead after {tries} tries: {masked}"
    else:
        retry_at = clock.now() + timedelta(seconds=config.alerts.retry_seconds * 2 ** (tries - 1))
        values = {"status": "failed", "tries": tries, "last_error": masked, "next_attempt_at": retry_at}
        line = (f"delivery {row.id} to {row.subscriber_id} ({label}) failed, "
                f"retry after {retry_at:%Y-%m-%d %H:%M}Z: {masked}")
    with conn.begin():
        kept = conn.execute(update(_D).where(_D.id == row.id, _D.lease_owner == owner)
                            .values(lease_owner=None, lease_until=None, **values)).rowcount
    if not kept:
        report.lines.append(_lease_lost(row, "not sent"))
        return
    if values["status"] == "dead":
        report.dead += 1
    else:
        report.failed += 1
    report.lines.append(line)


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
