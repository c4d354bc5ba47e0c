"""Self-service subscribers ("people", signed up through `tracker serve`): the checks on an address,
the secrets of their links, and how the outbox sees them.

Storage only, one floor above the store: the web pages (tracker/web/) and the outbox build on it.
A person's address is needed to mail them and so is stored; it is never printed, logged or
rendered. Link tokens are random (192 bits) and stored only as their SHA-256.
"""

from __future__ import annotations

import hashlib
import re
import secrets as random_secrets
from datetime import datetime, timedelta
from email.utils import parseaddr
from urllib.parse import urlencode

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tracker import clock
from tracker import models as m
from tracker.config import Config, NotifyUrl, Subscriber

PREFIX = "person:"  # a person's subscriber id in the outbox: person:{id}
MAX_ADDRESS = 254  # RFC 5321's limit on a forward path
_LOCAL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")


class AddressError(ValueError):
    """Not one mailbox; str() is the words shown to the person who typed it."""


def normalize_address(text: str) -> str:
    """One plain mailbox (`name@example.org`), domain in lower case; anything else is refused:
    CR/LF (header injection), display names, several addresses, quoted or over-long parts."""
    if not isinstance(text, str) or any(c in text for c in "\r\n\0"):
        raise AddressError("That is not one email address.")
    value = text.strip()
    if not value or len(value) > MAX_ADDRESS:
        raise AddressError("That is not one email address.")
    name, parsed = parseaddr(value)
    if name or parsed != value or value.count("@") != 1:
        raise AddressError("That is not one email address.")
    local, domain = value.rsplit("@", 1)
    if not _LOCAL.match(local) or local.startswith(".") or local.endswith(".") or ".." in local:
        raise AddressError("That is not one email address.")
    try:
        domain = domain.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise AddressError("That is not one email address.") from None
    if not _DOMAIN.match(domain):
        raise AddressError("That is not one email address.")
    return f"{local}@{domain}"


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def issue_token(session: Session, person_id: int, purpose: str, ttl: timedelta | None = None) -> str:
    """A new link secret for the person; only its hash is stored. Returns the raw token (for the link)."""
    raw = random_secrets.token_urlsafe(24)  # 192 bits
    now = clock.now()
    session.add(m.PersonToken(token_hash=token_hash(raw), person_id=person_id, purpose=purpose,
                              created_at=now, expires_at=now + ttl if ttl else None))
    return raw


def person_by_token(session: Session, raw: str, purpose: str, now: datetime | None = None) -> m.Person | None:
    """The person a link belongs to, or None for an unknown, revoked, expired or malformed token."""
    if not raw or len(raw) > 128:
        return None
    row = session.get(m.PersonToken, token_hash(raw))
    if row is None or row.purpose != purpose:
        return None
    if row.expires_at is not None and row.expires_at <= (now or clock.now()):
        return None
    return session.get(m.Person, row.person_id)


def revoke_tokens(session: Session, person_id: int, purpose: str | None = None) -> None:
    query = delete(m.PersonToken).where(m.PersonToken.person_id == person_id)
    if purpose is not None:
        query = query.where(m.PersonToken.purpose == purpose)
    session.execute(query)


def subscriber_id(person_id: int) -> str:
    return f"{PREFIX}{person_id}"


def person_id_of(subscriber: str) -> int | None:
    """The person behind an outbox subscriber id, or None for a config subscriber or the operator."""
    if subscriber.startswith(PREFIX) and subscriber[len(PREFIX):].isdigit():
        return int(subscriber[len(PREFIX):])
    return None


def as_subscriber(person: m.Person, mail_url: NotifyUrl) -> Subscriber:
    """How the outbox sees an active person: a subscriber mailed through `[alerts] mail_url`.

    The target's template carries the address (so its hash is the person's own), never a secret
    of the server's beyond what the template already hides behind ${VARS}."""
    joiner = "&" if "?" in mail_url.url else "?"
    to = urlencode({"to": person.address}, safe="@")
    notify = NotifyUrl.model_construct(template=f"{mail_url.template}{joiner}{to}",
                                       url=f"{mail_url.url}{joiner}{to}")
    return Subscriber.model_construct(
        id=subscriber_id(person.id), notify=[notify], follow=person.follow, mode=person.mode, kinds=None,
        paused=False, state=person.state, district=person.district, state_senate_district=None,
        state_house_district=None)


def active_subscribers(session: Session, config: Config) -> list[Subscriber]:
    """Every confirmed, still subscribed person, as subscribers (none without `[alerts] mail_url`)."""
    if config.alerts.mail_url is None:
        return []
    people = session.scalars(select(m.Person).where(m.Person.status == "active").order_by(m.Person.id))
    return [as_subscriber(person, config.alerts.mail_url) for person in people]


def counts(session: Session) -> dict[str, int]:
    """People by status: what `status` may show (never an address)."""
    found = {"pending": 0, "active": 0, "unsubscribed": 0, "bounced": 0}
    for status in session.scalars(select(m.Person.status)):
        found[status] = found.get(status, 0) + 1
    return found
