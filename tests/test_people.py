"""Self-service subscribers' ground floor: one mailbox per address, link secrets stored hashed,
expired and revoked links refused, and the outbox's view of a person (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tracker import clock
from tracker import models as m
from tracker.config import NotifyUrl
from tracker.people import (
    AddressError,
    as_subscriber,
    issue_token,
    normalize_address,
    person_by_token,
    person_id_of,
    revoke_tokens,
)
from tracker.store import Store


@pytest.mark.parametrize("typed", [
    "x@example.org\r\nBcc: everyone@example.org", "Ann <ann@example.org>", "a@example.org, b@example.org",
    "a@localhost", "", "a" * 250 + "@example.org", '"odd"@example.org', "a..b@example.org", "a@example.org\0"])
def test_anything_but_one_mailbox_is_refused(typed: str) -> None:
    with pytest.raises(AddressError):
        normalize_address(typed)


def test_an_address_is_kept_as_typed_but_its_domain_lowered() -> None:
    assert normalize_address("  Ann.Lee+qi@Example.ORG ") == "Ann.Lee+qi@example.org"
    assert normalize_address("ann@bücher.de") == "ann@xn--bcher-kva.de"


def test_link_tokens_are_stored_hashed_expire_and_are_revocable(db_url: str) -> None:
    store = Store(db_url)
    now = clock.now()
    with store.session() as session:
        person = m.Person(address="ann@example.org", status="pending", mode="instant", bounces=0,
                          created_at=now, updated_at=now)
        session.add(person)
        session.flush()
        confirm = issue_token(session, person.id, "confirm", timedelta(hours=48))
        manage = issue_token(session, person.id, "manage")
        person_id = person.id
    with store.session() as session:
        stored = set(session.scalars(select(m.PersonToken.token_hash)))
        assert len(stored) == 2 and confirm not in stored and manage not in stored
        assert len(confirm) >= 32  # 192 random bits, URL-safe
        assert person_by_token(session, confirm, "confirm").id == person_id
        assert person_by_token(session, confirm, "manage") is None  # one purpose per link
        assert person_by_token(session, confirm, "confirm", now + timedelta(hours=49)) is None  # expired
        assert person_by_token(session, manage[:-1] + ("A" if manage[-1] != "A" else "B"), "manage") is None
        assert person_by_token(session, "x" * 500, "manage") is None
        revoke_tokens(session, person_id, "manage")
    with store.session() as session:
        assert person_by_token(session, manage, "manage") is None
        assert person_by_token(session, confirm, "confirm").id == person_id


def test_the_outbox_mails_a_person_through_the_server_url_without_storing_its_secret() -> None:
    now = clock.now()
    person = m.Person(id=7, address="ann@example.org", status="active", mode="daily", follow=["eqia"],
                      state="MA", district=7, bounces=0, created_at=now, updated_at=now)
    server = NotifyUrl(template="mailtos://alerts:${SMTP_PASSWORD}@smtp.example.org?from=alerts@example.org",
                       url="mailtos://alerts:hunter2@smtp.example.org?from=alerts@example.org")
    subscriber = as_subscriber(person, server)
    assert subscriber.id == "person:7" and person_id_of(subscriber.id) == 7 and person_id_of("boston") is None
    assert person_id_of("person:²") is None and person_id_of("person:") is None  # never a crash on odd input
    assert subscriber.mode == "daily" and subscriber.follow == ["eqia"] and (subscriber.state, subscriber.district) == ("MA", 7)
    (target,) = subscriber.notify
    assert target.template.endswith("&to=ann@example.org") and "hunter2" not in target.template
    assert "hunter2" in target.url and "hunter2" not in repr(target) and "hunter2" not in str(target)
