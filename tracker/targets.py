"""One target per recipient: a mail URL with several `to=` addresses becomes several targets, so a
retry never re-sends to those who already got the message. A target is identified by a hash of
the URL *template* (with `${VAR}` unexpanded) and its recipient: no secret is ever stored."""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from tracker import secrets
from tracker.config import NotifyUrl

MAIL_SCHEMES = ("mailto", "mailtos")


@dataclass(frozen=True)
class Target:
    template: str
    url: str  # expanded: used to send, never printed or stored
    recipient: str | None
    # Who an operator is told the recipient is, instead of the address: `person:{id}` for a
    # self-service subscriber, whose address is never shown.
    shown_as: str | None = None

    @functools.cached_property
    def hash(self) -> str:
        return hashlib.sha256(f"{self.template}|{self.recipient or ''}".encode()).hexdigest()

    @property
    def label(self) -> str:
        """What an operator may see: scheme and host, plus the mail recipient (a person's id, never
        their address)."""
        base = secrets.mask_url_path(secrets.mask(self.template))
        who = self.shown_as or self.recipient
        return f"{base} to {who}" if who else base


def with_to(url: str, recipient: str | None) -> str:
    """A mail URL sending to `recipient` alone (its own `to=` replaced), or, with None, to no one:
    the service alone (every person's mail goes through one `[alerts] mail_url`)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k.lower() != "to"]
    if recipient is not None:
        query.append(("to", recipient))
    return urlunsplit(parts._replace(query=urlencode(query, safe="@:${}")))


def expand(notify: NotifyUrl) -> list[Target]:
    return list(_expand(notify.template, notify.url))


@functools.lru_cache(maxsize=65536)
def _expand(template: str, url: str) -> tuple[Target, ...]:
    """Cached: owing a change reads every subscriber's targets, a thousand people's included."""
    scheme = url.split("://", 1)[0].lower()
    if scheme in MAIL_SCHEMES:
        query = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
        recipients = [r for r in re.split(r"[,;\s]+", query.get("to", "")) if r]
        if len(recipients) > 1:
            return tuple(Target(with_to(template, r), with_to(url, r), r) for r in recipients)
        if recipients:
            return (Target(template, url, recipients[0]),)
    return (Target(template, url, None),)


def targets_of(urls: list[NotifyUrl]) -> list[Target]:
    return [target for url in urls for target in expand(url)]
