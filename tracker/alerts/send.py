"""Sending one message through apprise: the service's length limits (`fit`), the delivery key
every message carries (a header, mail's Message-ID), apprise's timeouts, and the TLS CA lookup of a
process about to send. Nothing here reads or writes the database.
"""

from __future__ import annotations

import contextvars
import functools
import hashlib
import os
import re
import ssl
import sys
import threading
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

import apprise

from tracker import secrets
from tracker.alerts.lease import DeliveryRow
from tracker.alerts.render import Message
from tracker.config import Config, apprise_warnings
from tracker.targets import Target, targets_of


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


REFUSED = "the service refused the message or could not be reached"


def send_message(target: Target, message: Message, key: str, timeout: float) -> tuple[bool, str | None]:
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
    return False, REFUSED


def send_test(config: Config, subscriber_id: str) -> list[tuple[str, bool, str | None]]:
    """One test message to each of the subscriber's targets: (label, ok, error)."""
    lazy_ca_lookup()
    sub = next(s for s in config.subscribers if s.id == subscriber_id)
    message = Message("tracker test message", f"This is a test from tracker for subscriber {sub.id}. "
                      "If you can read it, alerts will reach you here.")
    results = []
    for target in targets_of(sub.notify):
        with apprise_warnings() as said:  # why, in apprise's words ("Connection error while submitting email...")
            ok, error = send_message(target, message, uuid.uuid4().hex, config.alerts.timeout_seconds)
        if error == REFUSED and said:
            error += f": {said[-1].strip().rstrip('.')}"
        results.append((target.label, ok, secrets.mask(error) if error else None))
    return results
