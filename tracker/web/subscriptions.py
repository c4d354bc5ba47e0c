"""What the subscription pages do to the store: sign up (a pending person and a mail owed), confirm,
unsubscribe, change preferences, delete. One transaction each, the caller's session.

Storage only, above tracker/people.py and tracker/outbox.py. Every outcome a page shows is the
same whatever state the address was in (`sign_up` returns what happened only for the caller's tests
and logs, never for the page), and an unsubscribe beats everything: nothing here but a confirm of
a fresh sign-up makes an unsubscribed person active again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import bindparam, case, delete, insert, or_, select, update
from sqlalchemy.orm import Session

from tracker import models as m
from tracker.config import Config
from tracker.outbox import bundle_changes, owe_instant, people_enabled
from tracker.people import (
    as_subscriber,
    issue_token,
    person_by_token,
    revoke_tokens,
    start_follows,
    subscriber_id,
    token_hash,
)

Mode = Literal["instant", "daily", "weekly"]
MODES: tuple[Mode, ...] = ("instant", "daily", "weekly")
# The reminders a person may choose (a config subscriber may ask for any time: tracker/config.py).
REMINDERS: tuple[tuple[str, str], ...] = (("2d", "Two days before"), ("morning", "The morning of the meeting"),
                                          ("3h", "Three hours before"))


@dataclass(frozen=True)
class Choices:
    """What a person gets: the watches they follow (None: every watch), how often, and where they
    live (names their members of Congress in alerts)."""

    follow: list[str] | None
    mode: Mode
    state: str | None
    district: int | None
    reminders: tuple[str, ...] = ()  # before meetings of followed bodies that matter: ("2d", "morning")


def choices_of(person: m.Person) -> Choices:
    return Choices(follow=list(person.follow) if person.follow else None, mode=person.mode,  # type: ignore[arg-type]
                   state=person.state, district=person.district, reminders=tuple(person.reminders or ()))


def _apply(person: m.Person, choices: Choices, now: datetime) -> None:
    person.follow = list(choices.follow) if choices.follow else None
    person.mode = choices.mode
    person.state = choices.state
    person.district = choices.district
    person.reminders = list(choices.reminders) or None
    person.updated_at = now


SignUpResult = Literal["new", "pending", "active", "returning", "held"]

# The sign-up and the one-click unsubscribe are the requests that come in floods: their statements
# are built once (SQLAlchemy then reuses their compiled SQL) and run on the session's connection,
# without ORM objects: a fifth of the CPU time a request.
_people, _mails, _tokens = m.Person.__table__, m.PersonMail.__table__, m.PersonToken.__table__
_NEW_MAIL = insert(_mails).values(person_id=bindparam("pid"), purpose=bindparam("purpose"), status="owed", tries=0,
                                  next_try_at=bindparam("now"), created_at=bindparam("now"))
_FIND = select(_people.c.id, _people.c.status).where(_people.c.address == bindparam("address"))
_RECENT = select(_mails.c.id).where(_mails.c.person_id == bindparam("pid"),
                                    _mails.c.created_at > bindparam("since")).limit(1)
_CHOOSE = update(_people).where(_people.c.id == bindparam("pid")).values(
    follow=bindparam("follow"), mode=bindparam("mode"), state=bindparam("state"), district=bindparam("district"),
    reminders=bindparam("reminders"), updated_at=bindparam("now"))
# A returning person's (unsubscribed or bounced) new choices wait for the confirm: their own stand.
_RETURNING = update(_people).where(_people.c.id == bindparam("pid")).values(
    returning_choices=bindparam("choices"), updated_at=bindparam("now"))
_TOKEN = select(_tokens.c.person_id, _tokens.c.purpose, _tokens.c.expires_at).where(
    _tokens.c.token_hash == bindparam("hash"))
_MANAGE_LINK = select(_tokens.c.person_id).where(
    _tokens.c.token_hash == bindparam("hash"), _tokens.c.purpose == "manage",
    or_(_tokens.c.expires_at.is_(None), _tokens.c.expires_at > bindparam("now"))).scalar_subquery()
# An unsubscribe holds the link's person first, as a confirm does: a confirm that revoked the link
# meanwhile (the address confirmed again, maybe by a new holder) has committed before the link is
# read again, by the next statement (PostgreSQL re-reads a row it waited for, not a subquery).
_LOCK_LINKED = select(_people.c.id).where(_people.c.id == _MANAGE_LINK).with_for_update(key_share=True)
# The link's person unsubscribed (the first time's date kept).
_UNSUBSCRIBE = update(_people).where(_people.c.id == _MANAGE_LINK).values(
    status="unsubscribed",
    unsubscribed_at=case((_people.c.status == "unsubscribed", _people.c.unsubscribed_at), else_=bindparam("now")),
    updated_at=case((_people.c.status == "unsubscribed", _people.c.updated_at), else_=bindparam("now")),
).returning(_people.c.id)
_DROP_MAILS = update(_mails).where(_mails.c.person_id == bindparam("pid"), _mails.c.status == "owed").values(
    status="dropped")
_ACTIVATE = update(_people).where(_people.c.id == bindparam("pid")).values(
    status="active", confirmed_at=bindparam("now"), unsubscribed_at=None, bounces=0, updated_at=bindparam("now"),
    returning_choices=None,
).returning(_people.c.follow, _people.c.mode, _people.c.confirmed_at)
# A confirm holds the person's row before it uses up its link (deleted, or found gone): confirms
# and unsubscribes of one person at once then run one after the other, in the order an unsubscribe
# takes (the person first, then their links), and a link used or revoked meanwhile works no more.
# The lock an UPDATE takes (NO KEY): rows naming the person (their mails, links) are not held back.
_LOCK_PERSON = select(_people.c.returning_choices).where(_people.c.id == bindparam("pid")).with_for_update(
    key_share=True)
_USE_CONFIRM = delete(_tokens).where(_tokens.c.token_hash == bindparam("hash"),
                                     _tokens.c.purpose == "confirm").returning(_tokens.c.person_id)
_REVOKE_CONFIRM = delete(_tokens).where(_tokens.c.person_id == bindparam("pid"), _tokens.c.purpose == "confirm")
# A confirm proves control of the mailbox now: every link from before goes (an unsubscribed or bounced
# address may have changed hands since, and its previous holder's preferences links must not work).
_REVOKE_LINKS = delete(_tokens).where(_tokens.c.person_id == bindparam("pid"))
_NEW_PERSON: dict[str, Any] = {}  # per dialect: INSERT ... ON CONFLICT (address) DO NOTHING RETURNING id


def _new_person(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect not in _NEW_PERSON:
        _NEW_PERSON[dialect] = m.insert(session, m.Person).values(
            address=bindparam("address"), status="pending", mode=bindparam("mode"), follow=bindparam("follow"),
            state=bindparam("state"), district=bindparam("district"), reminders=bindparam("reminders"), bounces=0,
            created_at=bindparam("now"), updated_at=bindparam("now"),
        ).on_conflict_do_nothing(index_elements=["address"]).returning(_people.c.id)
    return _NEW_PERSON[dialect]


def sign_up(session: Session, address: str, choices: Choices, now: datetime, resend: timedelta) -> SignUpResult:
    """Record a sign-up of `address` (already normalized) and owe it one mail, unless a mail went
    to it within `resend`:
    - a new address: a pending person, a confirmation owed;
    - pending: its choices replaced, a confirmation owed;
    - unsubscribed or bounced: the new choices held apart (`returning_choices`) until the confirm
      applies them, so a holder of the person's old link neither sees nor changes them; a
      confirmation owed; its status unchanged until the confirm;
    - active: nothing changed (the sign-up may not be theirs), their preferences link owed.
    Returns what happened ("held" when the mail was held back by `resend`)."""
    db = session.connection()
    wanted = {"follow": list(choices.follow) if choices.follow else None, "mode": choices.mode,
              "state": choices.state, "district": choices.district, "reminders": list(choices.reminders) or None,
              "now": now}
    made = db.execute(_new_person(session), {"address": address, **wanted}).scalar()
    if made is not None:
        db.execute(_NEW_MAIL, {"pid": made, "purpose": "confirm", "now": now})
        return "new"
    found = session.connection().execute(_FIND.with_for_update(), {"address": address}).one()
    result: SignUpResult
    if found.status == "active":
        result = "active"
    elif found.status == "pending":
        db.execute(_CHOOSE, {"pid": found.id, **wanted})
        result = "pending"
    else:
        db.execute(_RETURNING, {"pid": found.id, "now": now,
                                "choices": {k: v for k, v in wanted.items() if k != "now"}})
        result = "returning"
    if db.execute(_RECENT, {"pid": found.id, "since": now - resend}).first() is not None:
        return "held"
    db.execute(_NEW_MAIL, {"pid": found.id, "purpose": "manage" if found.status == "active" else "confirm",
                           "now": now})
    return result


def confirm_valid(session: Session, token: str, now: datetime) -> bool:
    return person_by_token(session, token, "confirm", now) is not None


def confirm_choices(session: Session, token: str, now: datetime) -> Choices | None:
    """What the link's confirm would start (a returning sign-up's choices, held apart, else the
    pending person's), shown before the button: the latest sign-up of an address sets them, and
    anyone may sign an address up, so its owner sees what they confirm. None: no such link."""
    person = person_by_token(session, token, "confirm", now)
    if person is None:
        return None
    held = person.returning_choices
    return choices_of(m.Person(**held) if isinstance(held, dict) else person)


def confirm(session: Session, token: str, watch_ids: list[str], now: datetime) -> str | None:
    """Make the link's person active (a returning sign-up's choices applied first; their follows
    of `watch_ids`, the config's watches, start now: nothing from before is owed), revoke every
    earlier link of theirs (confirmation and preferences: whoever holds the mailbox now starts
    afresh), and return a new preferences token; None for a link that is unknown, used or expired
    (also when a confirm or an unsubscribe running at once used or revoked it first)."""
    if not token or len(token) > 128:
        return None
    db = session.connection()
    row = db.execute(_TOKEN, {"hash": token_hash(token)}).first()
    if row is None or row.purpose != "confirm" or (row.expires_at is not None and row.expires_at <= now):
        return None
    returning = db.execute(_LOCK_PERSON, {"pid": row.person_id}).scalar()
    if db.execute(_USE_CONFIRM, {"hash": token_hash(token)}).first() is None:
        return None  # used by a confirm, or revoked by an unsubscribe, while this one waited
    if returning is not None:  # the returning sign-up's choices, held apart until now
        db.execute(_CHOOSE, {"pid": row.person_id, "now": now, **returning})
    active = db.execute(_ACTIVATE, {"pid": row.person_id, "now": now}).one()
    db.execute(_REVOKE_LINKS, {"pid": row.person_id})
    # What start_follows reads of the person, as the activation left it (a plain object: not loaded
    # into the session, no second read).
    start_follows(session, m.Person(id=row.person_id, follow=active.follow, mode=active.mode,
                                    confirmed_at=active.confirmed_at), watch_ids)
    return issue_token(session, row.person_id, "manage")


def manage_person(session: Session, token: str, now: datetime) -> m.Person | None:
    return person_by_token(session, token, "manage", now)


def unsubscribe(session: Session, token: str, now: datetime) -> bool:
    """Stop everything to the link's person at once: unsubscribed (the first time's date kept),
    mails not yet sent dropped, confirmation links revoked (an old one must not undo this). Manage
    links are kept: the preferences page still says where they stand and offers to delete the data
    (until the address is confirmed again: `confirm` revokes them).
    False for an unknown link."""
    if not token or len(token) > 128:
        return False
    db = session.connection()
    link = {"hash": token_hash(token), "now": now}
    if db.execute(_LOCK_LINKED, link).scalar() is None:
        return False
    person = db.execute(_UNSUBSCRIBE, link).scalar()
    if person is None:
        return False  # the link was revoked while this waited
    db.execute(_DROP_MAILS, {"pid": person})
    db.execute(_REVOKE_CONFIRM, {"pid": person})
    return True


def save_choices(session: Session, token: str, choices: Choices, config: Config,
                 now: datetime) -> m.Person | None:
    """New choices for the link's person; their status never changes here (an unsubscribed person
    stays unsubscribed). An active person's follows follow the choice: a watch added starts now.
    A daily or weekly person choosing "as it happens" is owed at once what their next digest
    would have carried (`start_follows` drops the digest's mark, and no digest comes again)."""
    person = person_by_token(session, token, "manage", now)
    if person is not None:
        digest_mark = None
        if person.status == "active" and person.mode != "instant" and choices.mode == "instant":
            # held: a digest closed meanwhile by a notify moves the mark past what it carried
            digest_mark = session.scalar(select(m.BundleMark.last_change_id).where(
                m.BundleMark.subscriber_id == subscriber_id(person.id)).with_for_update())
        _apply(person, choices, now)
        if person.status == "active":
            session.flush()
            start_follows(session, person, config.watch_ids)
            if digest_mark is not None:
                _owe_undigested(session, person, config, digest_mark)
    return person


def _owe_undigested(session: Session, person: m.Person, config: Config, after: int) -> None:
    """Owe the person, now instant, what their digest would have carried of the changes after its
    mark (`outbox.bundle_changes`), each as an instant alert (its own row, as `owe_instant` writes
    it; one already owed to them is skipped)."""
    if not people_enabled(config):
        return  # nobody is mailed without a mail server and a public address
    person_now = as_subscriber(person, config.alerts.mail_url)  # type: ignore[arg-type]
    carried, _ = bundle_changes(session, person_now, after)
    owed = set(session.scalars(select(m.Delivery.change_id).where(
        m.Delivery.subscriber_id == person_now.id, m.Delivery.change_id > after)))
    alone = config.model_copy(update={"subscribers": []})  # owed to this person only
    for change_id in sorted(set(carried) - owed):
        owe_instant(session, carried[change_id], alone, [person_now])


def delete_person(session: Session, token: str, now: datetime) -> bool:
    """Remove the link's person and everything of theirs: links, owed mails, and the outbox's rows
    for `person:{id}` (deliveries name the address as their recipient), follows, bundle marks."""
    person = person_by_token(session, token, "manage", now)
    if person is None:
        return False
    sub = subscriber_id(person.id)
    session.execute(delete(m.Delivery).where(m.Delivery.subscriber_id == sub))
    session.execute(delete(m.Follow).where(m.Follow.subscriber_id == sub))
    session.execute(delete(m.BundleMark).where(m.BundleMark.subscriber_id == sub))
    session.execute(delete(m.PersonMail).where(m.PersonMail.person_id == person.id))
    revoke_tokens(session, person.id)
    session.execute(delete(m.Person).where(m.Person.id == person.id))
    return True

