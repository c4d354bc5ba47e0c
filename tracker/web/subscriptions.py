"""What the subscription pages do to the store: sign up (a pending person and a mail owed), confirm,
unsubscribe, change preferences, delete. One transaction each, the caller's session.

Storage only, above tracker/people.py. Every outcome a page shows is the same whatever state the
address was in (`sign_up` returns what happened only for the caller's tests and logs, never for the
page), and an unsubscribe beats everything: nothing here but a confirm of a fresh sign-up makes an
unsubscribed person active again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from tracker import models as m
from tracker.people import issue_token, person_by_token, revoke_tokens, subscriber_id

Mode = Literal["instant", "daily", "weekly"]
MODES: tuple[Mode, ...] = ("instant", "daily", "weekly")


@dataclass(frozen=True)
class Choices:
    """What a person gets: the watches they follow (None: every watch), how often, and where they
    live (names their members of Congress in alerts)."""

    follow: list[str] | None
    mode: Mode
    state: str | None
    district: int | None


def choices_of(person: m.Person) -> Choices:
    return Choices(follow=list(person.follow) if person.follow else None, mode=person.mode,  # type: ignore[arg-type]
                   state=person.state, district=person.district)


def _apply(person: m.Person, choices: Choices, now: datetime) -> None:
    person.follow = list(choices.follow) if choices.follow else None
    person.mode = choices.mode
    person.state = choices.state
    person.district = choices.district
    person.updated_at = now


SignUpResult = Literal["new", "pending", "active", "returning", "held"]


def sign_up(session: Session, address: str, choices: Choices, now: datetime, resend: timedelta) -> SignUpResult:
    """Record a sign-up of `address` (already normalized) and owe it one mail, unless a mail went
    to it within `resend`:
    - a new address: a pending person, a confirmation owed;
    - pending, unsubscribed or bounced: its choices replaced (they take effect only once
      confirmed), a confirmation owed; its status unchanged until the confirm;
    - active: nothing changed (the sign-up may not be theirs), their preferences link owed.
    Returns what happened ("held" when the mail was held back by `resend`)."""
    session.execute(m.insert(session, m.Person).values(
        address=address, status="pending", mode=choices.mode, follow=choices.follow, state=choices.state,
        district=choices.district, bounces=0, created_at=now, updated_at=now,
    ).on_conflict_do_nothing(index_elements=["address"]))
    person = session.scalars(select(m.Person).where(m.Person.address == address).with_for_update()).one()
    fresh = person.created_at == now and person.status == "pending" and person.confirmed_at is None \
        and person.unsubscribed_at is None
    recent = session.scalar(select(func.count()).select_from(m.PersonMail).where(
        m.PersonMail.person_id == person.id, m.PersonMail.created_at > now - resend))
    result: SignUpResult
    if person.status == "active":
        result = "active"
    else:
        _apply(person, choices, now)
        result = "new" if fresh else ("pending" if person.status == "pending" else "returning")
    if recent:
        return "held"
    session.add(m.PersonMail(person_id=person.id, purpose="manage" if person.status == "active" else "confirm",
                             tries=0, next_try_at=now, status="owed", created_at=now))
    return result


def confirm_valid(session: Session, token: str, now: datetime) -> bool:
    return person_by_token(session, token, "confirm", now) is not None


def confirm(session: Session, token: str, now: datetime) -> str | None:
    """Make the link's person active (their follows start now: nothing from before is owed),
    revoke their confirmation links, and return a new preferences token; None for a link that is
    unknown, used or expired."""
    person = person_by_token(session, token, "confirm", now)
    if person is None:
        return None
    person.status = "active"
    person.confirmed_at = now
    person.unsubscribed_at = None
    person.bounces = 0
    person.updated_at = now
    revoke_tokens(session, person.id, "confirm")
    return issue_token(session, person.id, "manage")


def manage_person(session: Session, token: str, now: datetime) -> m.Person | None:
    return person_by_token(session, token, "manage", now)


def unsubscribe(session: Session, token: str, now: datetime) -> bool:
    """Stop everything to the link's person at once: unsubscribed (the first time's date kept),
    mails not yet sent dropped, confirmation links revoked (an old one must not undo this). Manage
    links are kept: the preferences page still says where they stand and offers to delete the data.
    False for an unknown link."""
    person = person_by_token(session, token, "manage", now)
    if person is None:
        return False
    if person.status != "unsubscribed":
        person.status = "unsubscribed"
        person.unsubscribed_at = now
        person.updated_at = now
    session.execute(update(m.PersonMail).where(m.PersonMail.person_id == person.id,
                                               m.PersonMail.status == "owed").values(status="dropped"))
    revoke_tokens(session, person.id, "confirm")
    return True


def save_choices(session: Session, token: str, choices: Choices, now: datetime) -> m.Person | None:
    """New choices for the link's person; their status never changes here (an unsubscribed person
    stays unsubscribed)."""
    person = person_by_token(session, token, "manage", now)
    if person is not None:
        _apply(person, choices, now)
    return person


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
