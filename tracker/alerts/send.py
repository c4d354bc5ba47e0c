"""Send what the outbox owes, through apprise.

Rows are claimed with a lease (an UPDATE that only succeeds on rows nobody holds), so two notifiers
never send one row twice, on SQLite as on PostgreSQL; a notifier sends nothing once its lease has run
out, and records a row's result only while it still holds the row. Each row's result is committed
right after its send: a crash repeats at most the one message in flight, to that one target. Only full success
(apprise's result) marks a row sent; a failure waits `retry_seconds * 2**(tries-1)`; after
`max_tries` the row is dead, shown in `status` and the digest by subscriber id only.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import hashlib
import logging
import os
import re
import ssl
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol
from urllib.parse import urlsplit

import apprise
import jinja2
from sqlalchemy import Connection, Update, bindparam, select, tuple_, update

from tracker import clock, secrets, templating
from tracker import models as m
from tracker.alerts.journal import SentJournal
from tracker.alerts.outbox import OPERATOR
from tracker.alerts.targets import Target, targets_of
from tracker.config import Config
from tracker.contacts import bill_contact_lines, bill_contacts
from tracker.faults import describe_failure, disk_full
from tracker.meetings.participation import how_to_take_part
from tracker.queries import body_members_now, congress_directory
from tracker.records import Bill, Record, load_record
from tracker.store import Store
from tracker.words import STAGE_WORDS, change_words, headline, lead_change, local_time, meeting_page

log = logging.getLogger(__name__)

CLAIM_BATCH = 50
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


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

    def add(self, other: NotifyReport) -> None:
        self.sent += other.sent
        self.failed += other.failed
        self.dead += other.dead
        self.skipped += other.skipped
        self.crashed += other.crashed
        self.unrecorded += other.unrecorded
        self.lines.extend(other.lines)

    def since(self, earlier: NotifyReport) -> NotifyReport | None:
        """What this report holds beyond `earlier` (a report this one grew from), or None."""
        news = NotifyReport(self.sent - earlier.sent, self.failed - earlier.failed, self.dead - earlier.dead,
                            self.skipped - earlier.skipped, self.lines[len(earlier.lines):],
                            self.crashed - earlier.crashed, self.unrecorded - earlier.unrecorded)
        return news if news != NotifyReport() else None


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
        "take_part": how_to_take_part,
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
    """What the bundle template shows of one change (its entity's record, the zone to show it in)."""
    entity = _entity(session, change.entity_key)
    zone = config.display_zone(change.watch_id)
    return {"change": change, "entity": entity, "zone": str(zone), "kind": change.entity_key.split(":", 1)[0],
            "words": change_words(change.kind, change.data)}


def _group_context(session: Any, changes: list[m.Change], config: Config) -> dict[str, Any]:
    """What an instant message about one entity shows: its headline, every change newest first, and
    the entity as it stands now."""
    first = changes[0]
    entity = _entity(session, first.entity_key)
    newest_first = sorted(changes, key=lambda c: (c.occurred_at or "", c.id), reverse=True)
    kind = first.entity_key.split(":", 1)[0]
    site = config.digest.url
    return {"changes": newest_first, "change": lead_change(newest_first), "entity": entity,
            "zone": str(config.display_zone(first.watch_id)), "kind": kind,
            "headline": headline(newest_first, entity),
            "calendar": f"{site}/{meeting_page(first.entity_key)}.ics" if site and kind == "meeting" else None,
            "page": f"{site}/{meeting_page(first.entity_key)}.html" if site and kind == "meeting" else None}


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


@dataclass
class RenderCache:
    """What one notify run renders once and reuses: a message per set of changes (every subscriber
    gets the same text plus their own footer), whom to contact per set of changes and place, and the
    congress directory (read from the database once per run)."""

    messages: dict[tuple[int, ...], Message] = field(default_factory=dict)
    contacts: dict[tuple[Any, ...], list[str]] = field(default_factory=dict)
    directory: Any = None
    directory_read: bool = False


def render_group(session: Any, rows: list[DeliveryRow], config: Config, cache: RenderCache | None = None) -> Message:
    """The one message a group of rows carries: one entity's changes from one crawl (titled by its
    headline), a bundle, or an operator message. `cache` keeps one rendering per set of changes for
    a notify run: every subscriber gets that same text plus their own footer (cached per subscriber)."""
    env = _environment(config)
    cache = cache if cache is not None else RenderCache()
    first = rows[0]
    if first.payload:
        return Message(_clean(first.payload["title"]), _clean(first.payload["body"]))
    footer = _footer(env, first.subscriber_id)
    if first.change_id is not None:
        ids = tuple(sorted(row.change_id for row in rows if row.change_id is not None))
        cached = cache.messages.get(ids)
        if cached is None:
            changes = [session.get(m.Change, i) for i in ids]
            context = _group_context(session, changes, config)
            body = env.get_template("alerts/instant.txt.j2").render(**context)
            markdown = env.get_template("alerts/instant.md.j2").render(**context)
            cached = Message(_clean(context["headline"]), _clean(body), context["change"].url, _clean(markdown))
            cache.messages[ids] = cached
        who = _who_to_contact(session, config, first.subscriber_id, ids, cache)
        text_who = "\n".join(["", "Who to contact:", *who, ""]) if who else ""
        md_who = "\n".join(["", "**Who to contact:**", "", *(f"- {_md(line.strip())}" for line in who), ""]) if who else ""
        return Message(cached.title, cached.body + text_who + footer, cached.link,
                       (cached.markdown or "") + md_who + "\n" + _footer(env, first.subscriber_id, markdown=True))
    change_ids = session.scalars(select(m.DeliveryChange.change_id)
                                 .where(m.DeliveryChange.delivery_id == first.id).order_by(m.DeliveryChange.change_id))
    items = [_change_context(session, session.get(m.Change, i), config) for i in change_ids]
    mode, _, day = (first.period or "").partition(":")
    watches = _bundle_groups(items, config)
    for watch in watches:  # whom to contact, once per bill or meeting
        for group in watch["entities"]:
            ids = tuple(sorted(i["change"].id for i in group["items"]))
            group["contacts"] = _who_to_contact(session, config, first.subscriber_id, ids, cache)
    context = {"watches": watches, "count": len(items), "mode": mode, "day": day}
    body = env.get_template("alerts/bundle.txt.j2").render(**context)
    markdown = env.get_template("alerts/bundle.md.j2").render(**context)
    return Message(f"tracker {mode} digest for {day}: {len(items)} change{'s' if len(items) != 1 else ''}",
                   _clean(body + footer), None,
                   _clean(markdown) + "\n" + _footer(env, first.subscriber_id, markdown=True))


def _who_to_contact(session: Any, config: Config, subscriber_id: str, change_ids: tuple[int, ...],
                    cache: RenderCache) -> list[str]:
    """Lines naming whom this subscriber can call about the changes' bill: their own senators and
    representative, the leaders of the committee holding it, its sponsor; about a Legistar meeting:
    its body's current members. Nothing when that data has not been read yet (the alert still goes
    out). Worked out once per set of changes and place in a notify run."""
    subscriber = next((s for s in config.subscribers if s.id == subscriber_id), None)
    if subscriber is None:
        return []
    key = (change_ids, subscriber.state, subscriber.district)
    if key not in cache.contacts:
        cache.contacts[key] = _contacts(session, config, change_ids, subscriber.state, subscriber.district, cache)
    return cache.contacts[key]


def _contacts(session: Any, config: Config, change_ids: tuple[int, ...], state: str | None, district: int | None,
              cache: RenderCache) -> list[str]:
    change = session.get(m.Change, change_ids[0])
    if change.entity_key.startswith("meeting:legistar:"):
        roster = body_members_now(session, change.entity_key)
        return [f"Members of the {roster.body}:", *(f"  {_clean(line)}" for line in roster.lines)] if roster else []
    if not change.entity_key.startswith("bill:"):
        return []
    if not cache.directory_read:
        cache.directory, cache.directory_read = congress_directory(session, config), True
    bill = _entity(session, change.entity_key)
    if cache.directory is None or not isinstance(bill, Bill):
        return []
    found = bill_contacts(bill, cache.directory, today=clock.now().date(), state=state, district=district)
    return [_clean(line) for line in bill_contact_lines(found)]


def _bundle_groups(items: list[dict[str, Any]], config: Config) -> list[dict[str, Any]]:
    """A bundle's changes grouped by watch, then by bill or meeting (each with its headline),
    in the order of the config's watches."""
    names = {w.id: w.name for w in [*config.bills, *config.meetings]}
    by_watch: dict[str | None, dict[str, list[dict[str, Any]]]] = {}
    for item in items:
        change = item["change"]
        by_watch.setdefault(change.watch_id, {}).setdefault(change.entity_key, []).append(item)
    order = list(names)
    watches = []
    for watch_id in sorted(by_watch, key=lambda w: order.index(w) if w in order else len(order)):
        entities = []
        for entity_items in by_watch[watch_id].values():
            changes = sorted((i["change"] for i in entity_items), key=lambda c: (c.occurred_at or "", c.id),
                             reverse=True)
            first = entity_items[0]
            entities.append({"entity": first["entity"], "kind": first["kind"], "zone": first["zone"],
                             "headline": headline(changes, first["entity"]),
                             "items": sorted(entity_items, key=lambda i: changes.index(i["change"]))})
        watches.append({"id": watch_id, "name": names.get(watch_id or "", watch_id or "other"), "entities": entities})
    return watches


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


_HASHED_CERT = re.compile(r"[0-9a-f]{8}\.\d+")


def lazy_ca_lookup(capath: str | None = None) -> bool:
    """Point OpenSSL at the system's hashed CA directory alone, in a process about to send alerts.

    Apprise builds a TLS context for every mail, and with the CA bundle that parses its ~140
    certificates each time: 27 ms of CPU a message, the largest cost of sending (it capped four
    notifier workers on two cores near 3.5 times one). Where the system keeps the same certificates
    one per hashed file (Debian, Ubuntu, Alpine: `update-ca-certificates` writes both), OpenSSL
    reads only the one a handshake needs (0.4 ms). Same trust, same verification; nothing changes
    when SSL_CERT_FILE or SSL_CERT_DIR point anywhere but the system's own store, or when there is
    no such directory. True when applied."""
    system = ssl.get_default_verify_paths()  # OpenSSL's own defaults: openssl_cafile, openssl_capath

    def own_store(value: str | None, default: str) -> bool:
        return not value or os.path.realpath(value) == os.path.realpath(default)

    if not (own_store(os.environ.get("SSL_CERT_FILE"), system.openssl_cafile)
            and own_store(os.environ.get("SSL_CERT_DIR"), system.openssl_capath)):
        return False  # the operator's own CA choice
    folder = capath or os.path.realpath(system.openssl_capath)
    try:
        hashed = bool(folder) and any(_HASHED_CERT.fullmatch(name) for name in os.listdir(folder))
    except OSError:
        hashed = False
    if not hashed:
        return False
    os.environ["SSL_CERT_DIR"] = folder
    os.environ["SSL_CERT_FILE"] = os.path.join(folder, "no-bundle")  # absent: no bundle parsed
    return True


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


KEY_HEADER = "X-Tracker-Delivery"


def delivery_key(rows: list[DeliveryRow]) -> str:
    """The message's idempotency key: the same for every try of the same rows to the same target
    (a retry, a repeat after a crash), different for any other message. Made of the rows' ids and
    when the first was owed, so two tracker databases do not make the same keys."""
    first = min(rows, key=lambda row: row.id)
    ids = ",".join(str(row.id) for row in sorted(rows, key=lambda row: row.id))
    made = f"{first.subscriber_id}|{first.target_hash}|{ids}|{first.created_at}"
    return hashlib.sha256(made.encode()).hexdigest()[:32]


@functools.lru_cache(maxsize=1024)
def _with_timeouts(url: str, seconds: float) -> str:
    """The URL with apprise's connect and read timeouts (`cto`, `rto`) set to `seconds`, unless
    the URL sets its own."""
    query = urlsplit(url).query.lower()
    if re.search(r"(^|&)(cto|rto)=", query):
        return url
    return f"{url}{'&' if '?' in url else '?'}cto={seconds:g}&rto={seconds:g}"


# The key of the message being sent: a context variable, since apprise may send from its own thread
# pool (it copies the caller's context into it).
_message_key: contextvars.ContextVar[str | None] = contextvars.ContextVar("tracker_message_key", default=None)


def _stable_message_id(plugin: Any) -> None:
    """Make the Message-ID of mail sent through `plugin` `<key@host>` (the key of the message
    being sent), so a repeat of one message carries the same Message-ID and a mail
    system can drop it. Apprise builds its messages itself with a random `make_msgid()` and adds
    it after any header we give it (a second Message-ID, not a replacement), so its email module's
    `make_msgid` is wrapped once: with no key set it is apprise's own."""
    module = sys.modules.get(type(plugin).__module__)
    original = getattr(module, "make_msgid", None)
    if original is None or getattr(original, "tracker_key", False):
        return

    def make_msgid(idstring: str | None = None, domain: str | None = None) -> str:
        key = _message_key.get()
        if key is None:
            return original(idstring, domain=domain)
        return f"<{key}@{domain or 'tracker.invalid'}>"

    make_msgid.tracker_key = True  # type: ignore[attr-defined]
    module.make_msgid = make_msgid  # type: ignore[union-attr]


def _send(target: Target, message: Message, key: str, timeout: float) -> tuple[bool, str | None]:
    """Send one message carrying its key (an `X-Tracker-Delivery` header on services that take
    headers: webhooks and mail; mail's Message-ID too). A failure after `timeout` seconds is said
    as a timeout: the service may have received the message, and a retry carries the same key."""
    sender = _sender(_with_timeouts(target.url, timeout))
    if sender is None:
        return False, "apprise cannot use this URL"
    for plugin in sender:
        headers = getattr(plugin, "headers", None)
        if isinstance(headers, dict):
            headers[KEY_HEADER] = key
        _stable_message_id(plugin)
    started = time.monotonic()
    token = _message_key.set(key)
    try:
        if message.markdown:
            result = sender.notify(title=message.title, body=message.markdown,
                                   body_format=apprise.NotifyFormat.MARKDOWN)
        else:
            result = sender.notify(title=message.title, body=message.body, body_format=apprise.NotifyFormat.TEXT)
    finally:
        _message_key.reset(token)
    if bool(result):
        return True, None
    if time.monotonic() - started >= timeout * 0.9:
        return False, f"timed out after {timeout:g} s (the service may have received it)"
    return False, f"the service refused or was unreachable ({result!r})"


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
            .returning(*_RETURNED))


# What sending needs of a claimed row.
_RETURNED = (_D.id, _D.subscriber_id, _D.target_hash, _D.change_id, _D.period, _D.payload, _D.tries, _D.group_key,
             _D.created_at)


def _group_statement() -> Update:
    """Lease the rest of the groups a claim touched (rows owed for the same entity and crawl to the
    same target), so each group leaves as one message even when a claim batch cut through it."""
    now = bindparam("now", type_=_D.next_attempt_at.type)
    free = _D.lease_until.is_(None) | (_D.lease_until < now)
    wanted = tuple_(_D.subscriber_id, _D.target_hash, _D.group_key).in_(bindparam("groups", expanding=True))
    return (update(_D).where(_D.status.in_(("pending", "failed")), free, wanted)
            .values(lease_owner=bindparam("owner"), lease_until=bindparam("until", type_=_D.lease_until.type))
            .returning(*_RETURNED))


Outgoing = tuple[list[DeliveryRow], Target | None, Message | None]


def _groups(rows: list[DeliveryRow]) -> list[list[DeliveryRow]]:
    """Claimed rows as messages: rows of one group together, every other row alone; in id order."""
    groups: dict[tuple[Any, ...], list[DeliveryRow]] = {}
    for row in sorted(rows, key=lambda r: r.id):
        key = (row.subscriber_id, row.target_hash, row.group_key) if row.group_key else ("row", row.id)
        groups.setdefault(key, []).append(row)
    return list(groups.values())


def _prepare(store: Store, config: Config, groups: list[list[DeliveryRow]], targets: dict[tuple[str, str], Target],
             rendered: RenderCache) -> list[Outgoing]:
    """Each group with its target and message (None, None: its target is gone from the config)."""
    outgoing: list[Outgoing] = []
    with store.session() as session:
        for rows in groups:
            target = targets.get((rows[0].subscriber_id, rows[0].target_hash))
            outgoing.append((rows, target, render_group(session, rows, config, rendered) if target else None))
    return outgoing


def notify(store: Store, config: Config, *, owner: str | None = None, limit: int | None = None,
           progress: Callable[[NotifyReport], None] | None = None) -> NotifyReport:
    """Send every due delivery once, a group of rows as one message; return counts (messages) and
    one line per problem (masked). `progress` sees the report after each message's result is
    recorded (a notifier worker tells its parent as it goes)."""
    lazy_ca_lookup()
    owner = owner or uuid.uuid4().hex
    report = NotifyReport()
    targets = {(sub.id, t.hash): t for sub in config.subscribers for t in targets_of(sub.notify)}
    targets.update({(OPERATOR, t.hash): t for t in targets_of(config.operator.notify)})
    claim, complete = _claim_statement(config), _group_statement()
    rendered = RenderCache()
    handled = 0
    journal = _journal(store, config, owner)
    try:
        while limit is None or handled < limit:
            now = clock.now()
            until = now + timedelta(seconds=config.alerts.lease_seconds)
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
                for group, target, message in _prepare(store, config, _groups(rows), targets, rendered):
                    if clock.now() >= until:
                        break  # our lease ran out: the rest are free again, for the next claim (ours or not)
                    handled += len(group)
                    if target is None or message is None:
                        _finish(conn, config, owner, group, None, "subscriber or target no longer in the config",
                                report, final=True)
                        continue
                    ok, error = _send(target, fit(message, target, message.link), delivery_key(group),
                                      config.alerts.timeout_seconds)
                    if ok:
                        try:
                            _mark_sent(conn, owner, group, report)
                        except Exception as exc:
                            _unrecorded(journal, group, target, exc, report)
                            return report
                    else:
                        _finish(conn, config, owner, group, target, error, report)
                    if progress is not None:
                        progress(report)
    finally:
        if journal is not None:
            journal.close()
        # Release leases of rows claimed but not handled (a lease ran out, or we stopped); when the
        # database cannot record it, they run out by themselves (or the journal's replay frees them).
        with contextlib.suppress(Exception), store.engine.begin() as conn:
            conn.execute(update(_D).where(_D.lease_owner == owner).values(lease_owner=None, lease_until=None))
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
    kept = journal is not None and journal.record([row.id for row in rows])
    report.sent += 1
    report.unrecorded += 1
    then = "it is recorded before anything else next time" if kept else "it may be sent again"
    report.lines.append(f"delivery {rows[0].id} to {rows[0].subscriber_id} ({target.label}): sent, but the database "
                        f"could not record it ({describe_failure(problem)}); {then}; notify stopped")


def _lease_lost(row: DeliveryRow, what: str) -> str:
    return f"delivery {row.id} to {row.subscriber_id}: {what}, but its lease had passed to another notifier"


def _mark_sent(conn: Connection, owner: str, rows: list[DeliveryRow], report: NotifyReport) -> None:
    """The common case: one statement for the message's rows in its own transaction, committed
    before the next send, so a killed notifier repeats at most the one message in flight. Only the
    lease holder's mark counts."""
    with conn.begin():
        kept = conn.execute(_MARK_SENT, {"ids": [r.id for r in rows], "owner": owner, "now": clock.now()}).rowcount
    report.sent += 1
    if kept < len(rows):
        report.lines.append(_lease_lost(rows[0], "sent") + ", which may send it again")


# Built once: constructing the statement per message cost more than executing it.
_MARK_SENT = update(_D).where(_D.id.in_(bindparam("ids", expanding=True)), _D.lease_owner == bindparam("owner")).values(
    status="sent", sent_at=bindparam("now"), tries=_D.tries + 1, last_error=None,
    lease_owner=None, lease_until=None)


def _finish(conn: Connection, config: Config, owner: str, rows: list[DeliveryRow], target: Target | None,
            error: str | None, report: NotifyReport, final: bool = False) -> None:
    """Record a failed send (or a target gone) for a message's rows in one transaction: backoff, or
    dead, all together (so they stay one message). Guarded by the lease like `_mark_sent`; `tries`
    is current because the lease holder alone writes it."""
    row = rows[0]
    label = target.label if target else "unknown target"
    tries = max(r.tries for r in rows) + 1
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
        kept = conn.execute(update(_D).where(_D.id.in_([r.id for r in rows]), _D.lease_owner == owner)
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
    lazy_ca_lookup()
    sub = next(s for s in config.subscribers if s.id == subscriber_id)
    message = Message("tracker test message", f"This is a test from tracker for subscriber {sub.id}. "
                      "If you can read it, alerts will reach you here.")
    results = []
    for target in targets_of(sub.notify):
        ok, error = _send(target, message, uuid.uuid4().hex, config.alerts.timeout_seconds)
        results.append((target.label, ok, secrets.mask(error) if error else None))
    return results
