"""Sending one message through apprise: the service's length limits (`fit`), the delivery key
every message carries (a header, mail's Message-ID), apprise's timeouts, and the TLS CA lookup of a
process about to send. Nothing here reads or writes the database.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import hashlib
import logging
import os
import re
import smtplib
import ssl
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.header import Header
from typing import Any
from urllib.parse import quote, urlsplit

import apprise
from apprise.conversion import HTMLConverter
from apprise.plugins.email import NotifyEmail

from tracker import secrets
from tracker.alerts.lease import DeliveryRow
from tracker.alerts.render import Message
from tracker.config import Config, apprise_warnings
from tracker.safetext import markdown_text, no_mentions, web_url
from tracker.targets import Target, targets_of, with_to

# Chat services apprise sends plain text to that render every message as Markdown anyway (a
# source's "[Vote](https://…)" would be a link there): they get the Markdown body, escaped.
_RENDER_PLAIN_TEXT = frozenset({"apprise.plugins.mattermost"})
# Services whose Markdown apprise puts the title into although they have a title of their own
# (Discord's message content); a service without one (title limit 0) gets it there too.
_TITLE_IN_MARKDOWN = frozenset({"apprise.plugins.discord"})


@functools.lru_cache(maxsize=1024)
def _limits(url: str) -> tuple[int, int, bool, bool]:
    """The service's body and title length limits (0: none known), whether it takes Markdown/HTML,
    and whether the title is shown inside that Markdown."""
    try:
        plugin = apprise.Apprise.instantiate(url)
        formats = getattr(plugin, "notify_format", ())
        formats = formats if isinstance(formats, tuple) else (formats,)
        rich_formats = (apprise.NotifyFormat.MARKDOWN, apprise.NotifyFormat.HTML)
        # Native HTML/Markdown (email), or chat services that render Markdown (Discord, Slack...);
        # generic json/xml/form webhooks get plain text, which machines read best.
        rich = bool(formats) and (formats[0] in rich_formats or (
            apprise.NotifyFormat.MARKDOWN in formats and not type(plugin).__module__.startswith("apprise.plugins.custom_"))
            or type(plugin).__module__ in _RENDER_PLAIN_TEXT)
        title_maxlen = int(getattr(plugin, "title_maxlen", 0) or 0)
        title_in_markdown = rich and (title_maxlen == 0 or type(plugin).__module__ in _TITLE_IN_MARKDOWN)
        return int(getattr(plugin, "body_maxlen", 0) or 0), title_maxlen, rich, title_in_markdown
    except Exception:
        return 0, 0, False, False


_senders = threading.local()


def _sender(url: str, deadline: float | None = None) -> apprise.Apprise | None:
    """A parsed apprise object per URL, deadline and thread (parsing costs more than a local send).
    Mail is parsed afresh each time: its plugin keeps an SMTP session that must not outlive a
    server restart. `deadline`: the whole send's limit in seconds (apprise's `service_timeout`;
    its own default, a minute, without one). The URL's connect and read timeouts bound each wait
    only: an answer dripping in a byte at a time held the run (and the lease) as long as the
    service liked; past the deadline apprise stops waiting for the thread that sends."""
    def made() -> apprise.Apprise | None:
        sender = apprise.Apprise(asset=apprise.AppriseAsset(service_timeout=deadline)) if deadline \
            else apprise.Apprise()
        return sender if sender.add(url) else None

    if url.split("://", 1)[0].lower() in ("mailto", "mailtos"):
        return made()
    cache: dict[tuple[str, float | None], apprise.Apprise | None] = getattr(_senders, "cache", None) or {}
    _senders.cache = cache
    if (url, deadline) not in cache:
        cache[(url, deadline)] = made()
    return cache[(url, deadline)]


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
    """Truncate to the service's limit with a pointer to the rest: a long digest never fails forever.
    A chat service is told a source's words as text (`_for_chat`)."""
    limit, title_limit, rich, title_in_markdown = _limits(target.url)
    if target.url.split("://", 1)[0].lower() not in ("mailto", "mailtos"):
        message = _for_chat(message, title_in_markdown)
    title, body = message.title, message.body
    if rich and message.markdown:
        body = message.markdown
    if title_limit and len(title) > title_limit:
        title = title[: title_limit - 1] + "…"

    def cut(text: str, footer: str) -> str:
        """`text` within the limit, its `footer` (a person's unsubscribe and preferences links) kept
        whole after the pointer to the rest: a cut mail without them showed no way out."""
        if not limit or len(text) + (len(title) if not title_limit else 0) <= limit:
            return text
        tail = f"\n… (truncated; more at {link})" if link else "\n… (truncated)"
        # kept where it fits in half the room (mail: 32,768): a short service limit still holds
        footer = footer if footer and text.endswith(footer) and len(footer) + len(tail) <= limit // 2 else ""
        room = max(0, limit - len(tail) - len(footer) - (0 if title_limit else len(title) + 2))
        # at the end of a line where one ends in the last quarter of the room: a cut within a line
        # could part a Markdown link from its address ("[Agenda](https://exam") or leave a "**"
        # open, and the chat service shows the rest of the message as markup
        line_end = text.rfind("\n", 0, room + 1)
        return text[: line_end if line_end >= room * 3 // 4 else room] + tail + footer

    if rich and message.markdown:
        return Message(title, message.body, link, cut(body, message.markdown_footer), thread=message.thread)
    return Message(title, cut(body, message.footer), thread=message.thread)


def _for_chat(message: Message, title_in_markdown: bool) -> Message:
    """A message to anything but mail, where a source's words could act: no mention anywhere
    (`no_mentions`: a meeting titled "@everyone" pings nobody), and where apprise puts the title
    into the Markdown it sends (Discord's content, Mattermost's and Google Chat's text) the title is
    escaped as the body's source text is, so it forges no link. A title shown as a title (a mail
    service's subject, Slack's) is left as written."""
    title = markdown_text(message.title, escape_html=False) if title_in_markdown else message.title
    return Message(no_mentions(title), no_mentions(message.body), message.link,
                   no_mentions(message.markdown) if message.markdown else None, message.withdrawn,
                   no_mentions(message.footer), no_mentions(message.markdown_footer), message.thread)


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
def _as_sent(url: str, seconds: float) -> str:
    """The URL with apprise's connect and read timeouts (`cto`, `rto`) set to `seconds`, and HTTP
    redirects not followed (`redirect=no`), unless the URL sets its own. A followed 301/302/303 turns
    a webhook's post into a GET of the new address (the message gone, a page's 200 taken for its
    delivery), and a 307/308 hands it to a host the operator never configured: a moved service is
    a failure the operator is told of, with its status."""
    query = urlsplit(url).query.lower()
    extra = [] if re.search(r"(^|&)(cto|rto)=", query) else [f"cto={seconds:g}", f"rto={seconds:g}"]
    if not re.search(r"(^|&)redirect=", query):
        extra.append("redirect=no")
    return f"{url}{'&' if '?' in url else '?'}{'&'.join(extra)}" if extra else url


# The key of the message being sent, and the domain of its From address: context variables, since
# apprise may send from its own thread pool (it copies the caller's context into it).
_message_key: contextvars.ContextVar[str | None] = contextvars.ContextVar("tracker_message_key", default=None)
_message_domain: contextvars.ContextVar[str | None] = contextvars.ContextVar("tracker_message_domain", default=None)
_DOMAIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+")


def _from_domain(plugin: Any) -> str | None:
    """The domain of the From address mail through `plugin` goes out with, when it is a name with
    a dot (an IDN in its ASCII form); else None. Apprise names the SMTP relay in the Message-ID, an
    IP address or "localhost" for a relay on the operator's own network, which spam filters score
    (Rspamd's MID_BARE_IP, MID_RHS_NOT_FQDN); the sender's own domain is what mature senders use."""
    address = getattr(plugin, "from_addr", None)
    domain = str(address[1]).rpartition("@")[2] if address and address[1] else ""
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    return domain.lower() if _DOMAIN.fullmatch(domain) else None


def _stable_message_id(plugin: Any) -> None:
    """Make the Message-ID of mail sent through `plugin` `<key@domain>` (the key of the message
    being sent, the domain of its From address), so a repeat of one message carries the same
    Message-ID and a mail system can drop it. Apprise builds its messages itself with a random
    `make_msgid()` and adds it after any header we give it (a second Message-ID, not a
    replacement), so its email module's `make_msgid` is wrapped once: with no key set it is
    apprise's own."""
    module = sys.modules.get(type(plugin).__module__)
    original = getattr(module, "make_msgid", None)
    if original is None or getattr(original, "tracker_key", False):
        return

    def make_msgid(idstring: str | None = None, domain: str | None = None) -> str:
        key = _message_key.get()
        if key is None:
            return original(idstring, domain=domain)
        return f"<{key}@{_message_domain.get() or domain or 'tracker.invalid'}>"

    make_msgid.tracker_key = True  # type: ignore[attr-defined]
    module.make_msgid = make_msgid  # type: ignore[union-attr]


# Header lines holding encoded-words folded at this length (RFC 5322's SHOULD is 78; each line's
# name counted as the longest apprise writes through `Header`, "List-Unsubscribe-Post: "): each
# encoded-word then stays within RFC 2047's 75 characters. Plain ASCII is folded only where a line
# would pass RFC 5322's 998 (at its spaces), and reads as it always did.
_FOLD_AT = 76
_ASCII_FOLD_AT = 998
_LONGEST_NAME = len("List-Unsubscribe-Post")


class _FoldedHeader(Header):
    """A header value that folds although apprise serializes its message with `as_string()`,
    whose generator asks for no folding (`maxheaderlen=0`): a subject with one non-ASCII character
    was one encoded-word of hundreds of characters (RFC 2047 allows 75), and one of emoji a line of
    over 1,000 octets, past RFC 5322's 998, which a relay refuses ("500 Line too long"). Python's
    encoder splits between characters, never inside one."""

    def __init__(self, s: Any = None, charset: Any = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(s, charset, *args, **kwargs)
        if not kwargs.get("header_name") and len(args) < 2:
            self._headerlen = _LONGEST_NAME + 2  # type: ignore[attr-defined]

    def encode(self, splitchars: str = ";, \t", maxlinelen: int | None = None, linesep: str = "\n") -> str:
        chunks = getattr(self, "_chunks", [])
        fold_at = _FOLD_AT if any(str(charset) != "us-ascii" for _, charset in chunks) else _ASCII_FOLD_AT
        return super().encode(splitchars, min(maxlinelen or fold_at, fold_at), linesep)


def _folded_headers(plugin: Any) -> None:
    """Make the headers apprise writes through `email.header.Header` (the subject, every header
    given in the URL) fold (`_FoldedHeader`): its mail module's name `Header` is replaced once, as
    `make_msgid` is wrapped."""
    if not isinstance(plugin, NotifyEmail):
        return
    module = sys.modules.get(type(plugin).__module__)
    if module is not None and getattr(module, "Header", None) is Header:
        module.Header = _FoldedHeader  # type: ignore[attr-defined]


# Every mail says a machine sent it (RFC 3834): vacation and out-of-office responders do not answer
# it, to its From address (which is also the List-Unsubscribe mailto).
AUTO_SUBMITTED = {"Auto-Submitted": "auto-generated"}
THREAD_HEADERS = ("In-Reply-To", "References")


def thread_headers(thread: str | None, domain: str | None) -> dict[str, str]:
    """The headers that make mail programs show every alert about one bill or meeting as one
    conversation (Thunderbird and Apple Mail thread by them; Gmail where the subjects agree too):
    each names the same parent, `<thread.HASH@domain>`, a hash of the thing's key (no key shown).
    No message has that Message-ID: a mail program threads the replies to a missing parent all the
    same, and every alert of the thread stays a reply, none of them its root."""
    if not thread:
        return {}
    parent = f"<thread.{hashlib.sha256(thread.encode()).hexdigest()[:32]}@{domain or 'tracker.invalid'}>"
    return {"In-Reply-To": parent, "References": parent}


# Whether the plain-text part of the mail being sent is ours, made from its HTML part (a context
# variable, as the key is): None when it is, `_PLAIN` when it is apprise's own.
_PLAIN = object()
_plain_part: contextvars.ContextVar[Any] = contextvars.ContextVar("tracker_plain_part", default=_PLAIN)


class _TextWithLinks(HTMLConverter):
    """Apprise's HTML-to-text conversion of a mail, each link followed by where it leads
    ("Agenda: https://..."; a link named by its own address once). Apprise's own drops the
    address: a reader of the plain part (mutt, a screen reader, a mail filter) lost every document,
    "Watch live" and unsubscribe link. Only an http(s), mailto or tel link is written out."""

    def __init__(self) -> None:
        super().__init__()
        self._href: str | None = None
        self._label: list[str] = []
        self._line_started = False  # a `<br>` just ended a line

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        super().handle_starttag(tag, attrs)
        self._line_started = tag == "br"
        if tag == "a":
            self._href = web_url(dict(attrs).get("href"), also=("mailto", "tel"))
            self._label = []

    def handle_data(self, data: str, *args: Any, **kwargs: Any) -> None:
        if self._line_started:
            # the line break written after `<br />` in the HTML, which the converter made a space
            # at the next line's start (" Where: City Hall")
            data = data.lstrip()
            self._line_started = not data
            if not data:
                return
        super().handle_data(data, *args, **kwargs)
        if self._href is not None:
            self._label.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            href, label = self._href, " ".join("".join(self._label).split())
            self._href = None
            if label != href:
                super().handle_data(f": {href}" if label else href)
        super().handle_endtag(tag)


def plain_part(html: str) -> str:
    """A mail's text/plain part from its HTML part: the same words, and every link's address."""
    parser = _TextWithLinks()
    parser.feed(html)
    parser.close()
    return parser.converted


def _own_plain_part(plugin: Any) -> None:
    """Make the text/plain part of mail sent through `plugin` ours (`plain_part`) while a message
    is being sent. Apprise's mail plugin builds its multipart message in one static method, called
    by its class name (a subclass cannot replace it), and takes the plain part from its module's
    `convert_between(HTML, TEXT, ...)`: that name is wrapped once, as `make_msgid` is; with no
    message of ours being sent it is apprise's own."""
    if not isinstance(plugin, NotifyEmail):
        return
    module = sys.modules.get(type(plugin).__module__)
    original = getattr(module, "convert_between", None)
    if original is None or getattr(original, "tracker_plain", False):
        return

    def convert_between(from_format: Any, to_format: Any, content: str) -> str:
        if _plain_part.get() is _PLAIN or (from_format, to_format) != (apprise.NotifyFormat.HTML,
                                                                        apprise.NotifyFormat.TEXT):
            return original(from_format, to_format, content)
        return plain_part(content)

    convert_between.tracker_plain = True  # type: ignore[attr-defined]
    module.convert_between = convert_between  # type: ignore[union-attr]


REFUSED = "the service refused the message or could not be reached"
# Sends given up at their deadline while apprise's thread still waited on the service: such a
# thread would hold the process's exit until the service let go (`end_process_if_abandoned`).
_abandoned = 0


def end_process_if_abandoned(code: int) -> None:
    """End this process at once, output flushed and logs closed, if a send of it was given up at
    its deadline: apprise's thread for it may wait on a stalled service as long as the service
    likes, and Python's exit joins such threads (`tracker notify`, a notifier worker and its parent
    waiting for it, lingered after their work was done). Returns when none was."""
    if not _abandoned:
        return
    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(code)


TIMED_OUT = "timed out"  # how a failure that took the whole timeout is said: the service is stalled
MISREAD = ("not sent: apprise cannot mail this address as written (it reads another mailbox in it, "
           "or none); the address must change")


class _SmtpProblem(logging.Handler):
    """On apprise's logger while a message is sent: the exception apprise is handling when it logs
    its failure. Apprise says only "Connection error" (the exception at debug level), so a relay
    refusing the login read like a relay that is down."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.problem: BaseException | None = None

    def emit(self, record: logging.LogRecord) -> None:
        self.problem = sys.exc_info()[1] or self.problem


def _smtp_words(problem: BaseException | None) -> str | None:
    """What an SMTP failure means for the operator, where apprise's words cannot tell: a refused
    login (said by its reply code only: a server's text may name the user) or nobody listening.
    None for anything else (apprise's own words then)."""
    if isinstance(problem, smtplib.SMTPAuthenticationError):
        enhanced = re.match(r"\s*(\d\.\d{1,3}\.\d{1,3})\b", _text(problem.smtp_error))
        code = f"{problem.smtp_code} {enhanced.group(1)}" if enhanced else str(problem.smtp_code)
        return f"the mail server refused the login ({code}): check the user and password of the mail URL"
    if isinstance(problem, smtplib.SMTPNotSupportedError):
        return "the mail server offers no login (AUTH) on this connection: check the mail URL's port and TLS"
    if isinstance(problem, ConnectionRefusedError):
        return "the mail server refused the connection (nothing listens at its host and port)"
    return None


def _mails_the_recipient(sender: apprise.Apprise, recipient: str) -> bool:
    """Whether apprise would mail `recipient` and no one else. Its address pattern reads some
    addresses an address check takes as another mailbox ("o'brien@example.org" as
    "brien@example.org"): a person's alerts, and the links that manage their subscription, must
    never reach a stranger."""
    for plugin in sender:
        addresses = [str(address).lower() for _, address in getattr(plugin, "targets", [])]
        if addresses != [recipient.lower()]:
            return False
    return True


def mailable(mail_url: str, address: str) -> bool:
    """Whether mail through `mail_url` (`[alerts] mail_url`, expanded) to `address` reaches that
    mailbox alone: the sign-up form refuses an address apprise would read as another, which would
    never be mailed (`MISREAD`), its confirmation included."""
    sender = _sender(with_to(mail_url, address))
    return sender is not None and _mails_the_recipient(sender, address)


def send_message(target: Target, message: Message, key: str, timeout: float) -> tuple[bool, str | None]:
    """Send one message carrying its key (an `X-Tracker-Delivery` header on services that take
    headers: webhooks and mail; mail's Message-ID too). A failure after `timeout` seconds is said
    as a timeout: the service may have received the message, and a retry carries the same key."""
    sender = _sender(_as_sent(target.url, timeout), timeout)
    if sender is None:
        return False, "apprise cannot use this URL"
    if target.recipient is not None and not _mails_the_recipient(sender, target.recipient):
        return False, MISREAD
    domain = None
    for plugin in sender:
        headers = getattr(plugin, "headers", None)
        if isinstance(headers, dict):
            headers[KEY_HEADER] = key
            if isinstance(plugin, NotifyEmail):
                for name, value in AUTO_SUBMITTED.items():
                    headers.setdefault(name, value)  # unless the mail URL says otherwise (`+Auto-Submitted=`)
                domain = _from_domain(plugin)
                # the sender is kept between messages (`_sender`): a bundle's must not carry the
                # thread of the alert sent before it
                for name in THREAD_HEADERS:
                    headers.pop(name, None)
                headers.update(thread_headers(message.thread, domain))
        _stable_message_id(plugin)
        _own_plain_part(plugin)
        _folded_headers(plugin)
    started = time.monotonic()
    token = _message_key.set(key)
    domain_token = _message_domain.set(domain)
    # a mail's plain part from the HTML part apprise makes of the Markdown; plain text goes as
    # apprise sends it
    plain = _plain_part.set(_PLAIN if not message.markdown else None)
    smtp = _SmtpProblem()
    logger = logging.getLogger("apprise")
    logger.addHandler(smtp)
    try:
        with apprise_warnings() as said:  # why, in apprise's words ("... notification: Found, error=302.")
            if message.markdown:
                result = sender.notify(title=message.title, body=message.markdown,
                                       body_format=apprise.NotifyFormat.MARKDOWN)
            else:
                result = sender.notify(title=message.title, body=message.body, body_format=apprise.NotifyFormat.TEXT)
    finally:
        logger.removeHandler(smtp)
        _plain_part.reset(plain)
        _message_domain.reset(domain_token)
        _message_key.reset(token)
    if bool(result):
        return True, None
    given_up = result.status == apprise.AppriseResultStatus.TIMEOUT
    if given_up:
        global _abandoned
        _abandoned += 1
    if given_up or time.monotonic() - started >= timeout * 0.9:
        return False, f"{TIMED_OUT} after {timeout:g} s (the service may have received it)"
    if target.url.startswith(("mailto:", "mailtos:")) and (words := _smtp_words(smtp.problem)):
        return False, words
    return False, f"{REFUSED}: {' '.join(said[-1].split()).rstrip('.')}" if said else REFUSED


def send_test(config: Config, subscriber_id: str) -> list[tuple[str, bool, str | None]]:
    """One test message to each of the subscriber's targets: (label, ok, error)."""
    lazy_ca_lookup()
    sub = next(s for s in config.subscribers if s.id == subscriber_id)
    message = Message("tracker test message", f"This is a test from tracker for subscriber {sub.id}. "
                      "If you can read it, alerts will reach you here.")
    results = []
    for target in targets_of(sub.notify):
        ok, error = send_message(target, message, uuid.uuid4().hex, config.alerts.timeout_seconds)
        results.append((target.label, ok, secrets.mask(error) if error else None))
    return results


# -- mail to people: the list headers, and telling a bounce from a passing failure ------------------


@dataclass(frozen=True)
class ListHeaders:
    """What every mail to a person carries besides its body (RFC 2369, RFC 8058, RFC 2919)."""

    unsubscribe_url: str  # {public_url}/u/{token}: one-click, by POST
    mailto: str  # the From address of `[alerts] mail_url`: unsubscribe by mail too
    list_id: str  # `Tracker alerts <alerts.{public_url host}>`

    def as_dict(self) -> dict[str, str]:
        return {"List-Unsubscribe": f"<{self.unsubscribe_url}>, <mailto:{self.mailto}?subject=unsubscribe>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                "List-Id": self.list_id}


def with_headers(url: str, headers: dict[str, str]) -> str:
    """An apprise mail URL carrying extra headers as `+Name=value` arguments. Apprise reads the
    query and then unquotes each header value once more, so a value is quoted twice: a `%` or `+`
    in it (a public URL's path) arrives as written."""
    extra = "&".join(f"+{quote(name, safe='-')}={quote(quote(value, safe=''), safe='')}"
                     for name, value in headers.items())
    return f"{url}{'&' if '?' in url else '?'}{extra}"


@functools.lru_cache(maxsize=64)
def mail_from(url: str) -> str:
    """The From address apprise sends `url`'s mail from (its `from=`, else the login at the host)."""
    plugin = apprise.Apprise.instantiate(url)
    address = getattr(plugin, "from_addr", None)
    return str(address[1]) if address and address[1] else ""


@dataclass
class Refusals:
    """The SMTP server's refusals of a message to one person, as smtplib raised them inside
    apprise: (code, reply) for a recipient refused (RCPT) or the message refused (DATA), the
    latter's replies also in `at_data`."""

    seen: list[tuple[int, str]] = field(default_factory=list)
    at_data: list[tuple[int, str]] = field(default_factory=list)

    @property
    def permanent(self) -> bool:
        """A bounce: the server refused this recipient or this message with a 5xx that speaks of
        the address or the mailbox. Not one: a 4xx, a dropped connection, a refused login or sender,
        and a 5xx whose enhanced code (RFC 3463) is of the mail system, network, protocol, content
        or policy (5.3-5.7: "554 5.7.1 Relay access denied"), or that says "relay": the relay
        refusing everyone must not unsubscribe everyone, it is the operator's to fix. The message
        refused at DATA, its recipient already taken, is about the message ("550 Administrative
        prohibition": a relay's content filter) unless its enhanced code says the mailbox."""
        return bool(self.seen) and all(_about_the_address(code, reply) for code, reply in self.seen) \
            and all(_ENHANCED.match(reply) for _, reply in self.at_data)

    def said(self) -> str:
        return "; ".join(f"{code} {reply}" for code, reply in self.seen)


class _PersonMail(logging.Filter):
    """On apprise's logger while a person's mail is sent: keeps smtplib's refusal (the exception
    apprise is handling when it logs "Socket Exception": its text alone cannot tell a refused
    recipient from a refused sender), writes `person:{id}` for their address in every line, and
    lets through only what the logger's own level would (it is lowered to DEBUG meanwhile)."""

    def __init__(self, address: str, shown_as: str, level: int, refusals: Refusals) -> None:
        super().__init__()
        self.address, self.shown_as, self.level, self.refusals = address, shown_as, level, refusals

    def filter(self, record: logging.LogRecord) -> bool:
        problem = sys.exc_info()[1]
        if isinstance(problem, smtplib.SMTPRecipientsRefused):
            for code, reply in problem.recipients.values():
                self.refusals.seen.append((int(code), self.hide(_text(reply))))
        elif isinstance(problem, smtplib.SMTPDataError):
            refusal = (int(problem.smtp_code), self.hide(_text(problem.smtp_error)))
            self.refusals.seen.append(refusal)
            self.refusals.at_data.append(refusal)
        if record.levelno < self.level:
            return False
        try:
            message = record.getMessage()
        except Exception:
            return True
        if self.address.lower() in message.lower():
            record.msg, record.args = self.hide(message), None
        return True

    def hide(self, text: str) -> str:
        return re.sub(re.escape(self.address), self.shown_as, text, flags=re.IGNORECASE)


_ENHANCED = re.compile(r"^\s*5\.(\d{1,3})\.(\d{1,3})\b")


def _about_the_address(code: int, reply: str) -> bool:
    """A mailbox that is not there or refuses for good; not a full one ("552 5.2.2 Mailbox full",
    or a bare 552: storage exceeded), which RFC 3463 calls a persistent transient failure: its owner
    makes room and the alerts owed must still arrive."""
    if not 500 <= code < 600 or "relay" in reply.lower():
        return False
    enhanced = _ENHANCED.match(reply)
    if enhanced is None:
        return code != 552
    return enhanced.group(1) == "1" or (enhanced.group(1) == "2" and enhanced.group(2) != "2")


def _text(reply: Any) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return " ".join(text.split())[:200]


@contextlib.contextmanager
def person_mail(address: str, shown_as: str) -> Iterator[Refusals]:
    """Around sending one mail to a person: what their server refused, and their address never in
    a log line (`shown_as` instead). Apprise logs from the sending thread; a notifier sends one
    message at a time."""
    logger = logging.getLogger("apprise")
    refusals = Refusals()
    hider = _PersonMail(address, shown_as, logger.getEffectiveLevel(), refusals)
    level = logger.level
    logger.addFilter(hider)
    logger.setLevel(logging.DEBUG)
    try:
        yield refusals
    finally:
        logger.setLevel(level)
        logger.removeFilter(hider)
