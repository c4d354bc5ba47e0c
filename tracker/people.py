"""Self-service subscribers ("people", signed up through `tracker serve`): the checks on an address,
the secrets of their links, and how the outbox sees them.

Storage only, one floor above the store: the web pages (tracker/web/) and the outbox build on it.
A person's address is needed to mail them and so is stored; it is never printed, logged or
rendered. Link tokens are random (192 bits) and stored only as their SHA-256.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets as random_secrets
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import Any
from urllib.parse import urlencode

import idna
from sqlalchemy import Connection, and_, bindparam, delete, exists, func, or_, select, update
from sqlalchemy.orm import Session

from tracker import clock, secrets
from tracker import models as m
from tracker.config import Config, NotifyUrl, Subscriber
from tracker.store import Store

log = logging.getLogger("tracker.people")

PREFIX = "person:"  # a person's subscriber id in the outbox: person:{id}
MAX_ADDRESS = 254  # RFC 5321's limit on a forward path
# A sign-up never confirmed is forgotten this long after its confirmation window ([serve]
# confirm_hours) has closed: time to read a mail that came late, then the address (maybe typed by
# a stranger) is not kept.
UNCONFIRMED_GRACE = timedelta(days=7)
FORGET_BATCH = 1_000  # unconfirmed people deleted in one transaction
KEEP_SENT = timedelta(days=2)  # sent sign-up mails are what holds repeated sign-ups back; then pruned
_LOCAL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}$")
# The letters IDNA 2003 (Python's "idna" codec) and IDNA 2008 (today's mail systems and registries)
# read as different domains: the codec turns `straße.de` into `strasse.de` and drops a zero-width
# joiner, so the confirmation (and every alert) went to another domain, maybe a stranger's.
_DEVIATIONS = "\u00df\u03c2\u200c\u200d"  # ß, final sigma ς, ZWNJ, ZWJ
_DOMAIN = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")


class AddressError(ValueError):
    """Not one mailbox; str() is the words shown to the person who typed it."""


def normalize_address(text: str) -> str:
    """One plain mailbox (`name@example.org`), domain in lower case; anything else is refused:
    CR/LF (header injection), display names, several addresses, quoted or over-long parts, and a
    domain whose letters the IDNA standards read as two different domains (_DEVIATIONS, and any
    other letter Python's IDNA 2003 codec reads otherwise than IDNA 2008: `_idna2008`)."""
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
    if any(c in domain for c in _DEVIATIONS):
        raise AddressError("That domain has a letter (ß, ς or an invisible joiner) mail systems read two ways: "
                           "please type it in its xn-- form.")
    try:
        domain = domain.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise AddressError("That is not one email address.") from None
    typed = value.rsplit("@", 1)[1]
    if not typed.isascii() and (today := _idna2008(typed)) is not None and today != domain:
        # not only the four deviations: ẞ (a capital sharp s), Cherokee letters, Hangul fillers... (787
        # letters of the BMP and beyond); a domain IDNA 2008 refuses outright is read as before
        raise AddressError("That domain has a letter mail systems read two ways: please type it in its xn-- form.")
    if not _DOMAIN.match(domain):
        raise AddressError("That is not one email address.")
    return f"{local}@{domain}"


def _idna2008(domain: str) -> str | None:
    """`domain` as today's mail systems and registries read it (IDNA 2008 with UTS 46's mapping,
    not transitional), or None where that reading refuses it."""
    try:
        return idna.encode(domain, uts46=True, transitional=False).decode("ascii").lower()
    except (idna.IDNAError, UnicodeError):
        return None


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
    number = subscriber[len(PREFIX):]
    if subscriber.startswith(PREFIX) and number.isascii() and number.isdigit():
        return int(number)
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
        state_house_district=None, reminders=list(person.reminders or []))


def active_subscribers(session: Session, config: Config, *, asking_reminders: bool = False) -> list[Subscriber]:
    """Every confirmed, still subscribed person (or only those who chose reminders before meetings),
    as subscribers; none without `[alerts] mail_url`."""
    if config.alerts.mail_url is None:
        return []
    query = select(m.Person).where(m.Person.status == "active").order_by(m.Person.id)
    if asking_reminders:
        query = query.where(m.Person.reminders.is_not(None))  # SQL NULL when none (models.Person)
    return [as_subscriber(person, config.alerts.mail_url) for person in session.scalars(query)]


def subscriber_named(session: Session, config: Config, subscriber: str) -> Subscriber | None:
    """The subscriber behind an outbox id as they stand now: a config subscriber, or an active
    person (None for one who left, was deleted, or cannot be mailed)."""
    person_id = person_id_of(subscriber)
    if person_id is None:
        return next((s for s in config.subscribers if s.id == subscriber), None)
    person = session.get(m.Person, person_id)
    if person is None or person.status != "active" or config.alerts.mail_url is None:
        return None
    return as_subscriber(person, config.alerts.mail_url)


def counts(session: Session) -> dict[str, int]:
    """People by status: what `status` may show (never an address)."""
    found = {"pending": 0, "active": 0, "unsubscribed": 0, "bounced": 0}
    for status in session.scalars(select(m.Person.status)):
        found[status] = found.get(status, 0) + 1
    return found


# -- mail to people: links, follows, bounces (the outbox and the notifier use these) --------------

MAIL_LINK_DAYS = 365  # how long the unsubscribe and preferences links in a mail work


def issue_mail_token(session: Session, person_id: int) -> str:
    """A "manage" token for the links of a mail about to be sent (unsubscribe, preferences),
    working for MAIL_LINK_DAYS: an old mail's unsubscribe link must still work when it is clicked
    months later. The person's expired ones are pruned here, so their tokens stay about one per
    notify run that mailed them within the year."""
    now = clock.now()
    session.execute(delete(m.PersonToken).where(m.PersonToken.person_id == person_id,
                                                m.PersonToken.purpose == "manage",
                                                m.PersonToken.expires_at <= now))
    return issue_token(session, person_id, "manage", timedelta(days=MAIL_LINK_DAYS))


_F, _B = m.Follow.__table__, m.BundleMark.__table__
_MAX_CHANGE = select(func.coalesce(func.max(m.Change.id), 0))
_FOLLOWED_BEFORE = select(_F.c.watch_id).where(_F.c.subscriber_id == bindparam("sub"),
                                               _F.c.since < bindparam("confirmed")).limit(1)
_FORGET_FOLLOWS = delete(_F).where(_F.c.subscriber_id == bindparam("sub"))
_FORGET_MARK = delete(_B).where(_B.c.subscriber_id == bindparam("sub"))
_UNWANTED = delete(_F).where(_F.c.subscriber_id == bindparam("sub"),
                             _F.c.watch_id.not_in(bindparam("wanted", expanding=True)))
_START: dict[str, tuple[Any, Any]] = {}  # per dialect: the follows' and the bundle mark's INSERT … ON CONFLICT DO NOTHING


def start_follows(session: Session, person: m.Person, watch_ids: list[str]) -> None:
    """Where a person's follows start: now, for each watch in `watch_ids` (all of the config's when
    they follow every watch) they do not follow yet; a bundle mark from now when they take daily
    or weekly mail, none when instant. Called when a person is confirmed (after their earlier
    follows are gone: nothing from before confirmation is owed) and when preferences change (a
    watch added starts then; one dropped is forgotten, so taking it back later starts anew). Follows
    recorded before the person's latest confirmation (they unsubscribed and came back) are dropped
    first: what changed meanwhile is never owed. `sync_subscribers` does the same at the next crawl
    or notify for a person confirmed without it, from then on.

    Prebuilt statements on the session's connection: `tracker serve` runs this in every confirm."""
    db = session.connection()
    dialect = db.dialect.name
    if dialect not in _START:
        _START[dialect] = (m.insert(session, m.Follow).on_conflict_do_nothing(index_elements=["subscriber_id", "watch_id"]),
                           m.insert(session, m.BundleMark).on_conflict_do_nothing(index_elements=["subscriber_id"]))
    insert_follows, insert_mark = _START[dialect]
    start = db.execute(_MAX_CHANGE).scalar() or 0
    now = max(clock.now(), person.confirmed_at or clock.now())
    sub = subscriber_id(person.id)
    if person.confirmed_at is not None and db.execute(
            _FOLLOWED_BEFORE, {"sub": sub, "confirmed": person.confirmed_at}).first() is not None:
        db.execute(_FORGET_FOLLOWS, {"sub": sub})  # left from before an unsubscribe: they start again now
        db.execute(_FORGET_MARK, {"sub": sub})
    wanted = sorted(set(person.follow) if person.follow is not None else set(watch_ids))
    db.execute(_UNWANTED, {"sub": sub, "wanted": wanted})
    if wanted:
        db.execute(insert_follows, [{"subscriber_id": sub, "watch_id": w, "since_change_id": start, "since": now}
                                    for w in wanted])
    if person.mode == "instant":
        db.execute(_FORGET_MARK, {"sub": sub})
    else:
        db.execute(insert_mark, [{"subscriber_id": sub, "last_change_id": start, "last_period": None}])


def forget_follows(session: Session, person_id: int) -> None:
    """Drop a person's follows and bundle mark (confirmed again after an unsubscribe: the old
    starts must not bring back what was missed meanwhile)."""
    sub = subscriber_id(person_id)
    session.execute(delete(m.Follow).where(m.Follow.subscriber_id == sub))
    session.execute(delete(m.BundleMark).where(m.BundleMark.subscriber_id == sub))


def mail_status(conn: Session | Connection, person_id: int) -> str | None:
    """The person's status right now (None: deleted), read just before a mail goes."""
    return conn.execute(select(m.Person.status).where(m.Person.id == person_id)).scalar()


def record_bounce(conn: Session | Connection, person_id: int, limit: int) -> bool:
    """One more permanent failure in a row; at `limit` the person is `bounced` (nothing more is
    owed them). True when this one deactivated them."""
    conn.execute(update(m.Person).where(m.Person.id == person_id)
                 .values(bounces=m.Person.bounces + 1, updated_at=clock.now()))
    bounced = conn.execute(
        update(m.Person).where(m.Person.id == person_id, m.Person.status == "active", m.Person.bounces >= limit)
        .values(status="bounced", updated_at=clock.now()))
    return bool(bounced.rowcount)


def reset_bounces(conn: Session | Connection, person_id: int) -> None:
    """A mail went through: the count of permanent failures in a row starts again."""
    conn.execute(update(m.Person).where(m.Person.id == person_id, m.Person.bounces > 0).values(bounces=0))


def forget_unconfirmed(session: Session, now: datetime, confirm_hours: float) -> int:
    """Delete the pending people nobody confirmed, with their choices, links and mails: an address
    anyone may have typed is kept only while it can still be confirmed, plus UNCONFIRMED_GRACE.

    Pending only (an unsubscribed or bounced person is kept: that they left is what keeps them
    left), last signed up (`updated_at`, which each sign-up sets) longer ago than the window and
    the grace, no mail to them still being tried, and no confirmation link issued late (a mail
    sent after retries) expired within the grace. The conditions are part of the DELETE, so a
    sign-up committed meanwhile keeps its person. An unsubscribed or bounced person's sign-up
    never confirmed goes the same way: its choices (`returning_choices`, maybe a stranger's) are
    dropped, the person kept. Returns how many people were deleted."""
    person, token, mail = m.Person.__table__, m.PersonToken.__table__, m.PersonMail.__table__
    unconfirmed = and_(
        person.c.updated_at < now - timedelta(hours=confirm_hours) - UNCONFIRMED_GRACE,
        ~exists().where(mail.c.person_id == person.c.id, mail.c.status == "owed"),
        ~exists().where(token.c.person_id == person.c.id, token.c.purpose == "confirm",
                        or_(token.c.expires_at.is_(None), token.c.expires_at > now - UNCONFIRMED_GRACE)))
    session.execute(update(person).where(person.c.status != "pending", person.c.returning_choices.is_not(None),
                                         unconfirmed).values(returning_choices=None))
    forget = and_(person.c.status == "pending", unconfirmed)
    ids = list(session.scalars(select(person.c.id).where(forget).order_by(person.c.id).limit(FORGET_BATCH)))
    if not ids:
        return 0
    gone = list(session.scalars(delete(person).where(person.c.id.in_(ids), forget).returning(person.c.id)))
    if gone:  # the foreign keys cascade; said here too, as delete_person does
        session.execute(delete(token).where(token.c.person_id.in_(gone)))
        session.execute(delete(mail).where(mail.c.person_id.in_(gone)))
    return len(gone)


def prune_sign_ups(session: Session, now: datetime, confirm_hours: float) -> int:
    """What sign-ups leave that is no longer needed: their mails sent (or given up) more than
    KEEP_SENT ago, and the people never confirmed (`forget_unconfirmed`). Run by `tracker serve`'s
    mail worker and by every notify (the cron job): a server started only now and then must not
    keep strangers' addresses. Returns how many people were forgotten."""
    mail = m.PersonMail.__table__
    session.execute(delete(mail).where(mail.c.status != "owed", mail.c.created_at < now - KEEP_SENT))
    return forget_unconfirmed(session, now, confirm_hours)


def listing(session: Session) -> list[dict[str, object]]:
    """Every person with their address, for `status --with-addresses` only (the one place an
    address is shown, on the operator's explicit request)."""
    return [{"id": p.id, "subscriber": subscriber_id(p.id), "address": p.address, "status": p.status,
             "mode": p.mode, "bounces": p.bounces}
            for p in session.scalars(select(m.Person).order_by(m.Person.id))]


def wipe_deleted(store: Store) -> None:
    """After a person's data is deleted (by them, or a sign-up never confirmed forgotten), on
    SQLite: the write-ahead log still holds every page that carried their address (their sign-up,
    their confirm) until it is written back and emptied. A checkpoint writes back the pages as they are now (the rows zeroed: PRAGMA secure_delete, set by
    the store) and truncates the log to nothing. It waits for readers on the store's busy timeout;
    if some still hold old pages past that, it does what it can and the next wipe finishes it.
    PostgreSQL keeps a deleted row until VACUUM (docs/operations.md)."""
    if store.engine.dialect.name != "sqlite":
        return
    try:
        raw = store.engine.raw_connection()
        try:
            raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        finally:
            raw.close()
    except Exception as exc:  # nobody to tell but the log (serve: after the answer); the next wipe tries again
        said = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        log.warning("the write-ahead log not emptied now (%s)", secrets.mask(said)[:300])
