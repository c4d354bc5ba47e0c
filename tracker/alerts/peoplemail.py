"""Mail to self-service subscribers ("people"): each mail's target (`[alerts] mail_url` to the
person, with the list headers RFC 8058 asks of bulk mail) and its links (a "manage" token issued
before the send and committed with it, so the links work the moment the mail arrives).

The address is needed here and only here: every line an operator reads names `person:{id}`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from tracker import models as m
from tracker import secrets
from tracker.alerts.render import MailLinks, person_test_message
from tracker.alerts.send import ListHeaders, mail_from, person_mail, send_message, with_headers
from tracker.config import Config, NotifyUrl, Subscriber
from tracker.people import as_subscriber, issue_mail_token, subscriber_id
from tracker.store import Store
from tracker.targets import Target, targets_of


@dataclass(frozen=True)
class PersonMail:
    """One message to one person: their target (headers included), links, and who they are."""

    person_id: int
    address: str  # to hide in apprise's log lines; never printed
    subscriber: Subscriber
    target: Target
    links: MailLinks
    bounces: int


@dataclass
class PeopleMail:
    """How one notify run mails people: the public base of their links, the SMTP server, the fixed
    parts of the list headers, and one token per person for the run (a person with five messages
    due gets one token, not five)."""

    base: str
    mail_url: NotifyUrl
    mailto: str
    list_id: str
    tokens: dict[int, str] = field(default_factory=dict)

    @classmethod
    def of(cls, config: Config) -> PeopleMail | None:
        """None when people cannot be mailed (no `[alerts] mail_url` or no `[serve] public_url`)."""
        if config.alerts.mail_url is None or config.serve.public_url is None:
            return None
        base = str(config.serve.public_url).rstrip("/")
        host = (urlsplit(base).hostname or "localhost").lower()
        return cls(base=base, mail_url=config.alerts.mail_url, mailto=mail_from(config.alerts.mail_url.url),
                   list_id=f"Tracker alerts <alerts.{host}>")

    def prepare(self, session: Session, person: m.Person) -> PersonMail:
        """The person's mail as it will go: a token issued in `session` (committed before the send
        by its caller), their links, and their target carrying the list headers."""
        token = self.tokens.get(person.id)
        if token is None:
            token = self.tokens[person.id] = issue_mail_token(session, person.id)
        links = MailLinks(unsubscribe=f"{self.base}/u/{token}", preferences=f"{self.base}/p/{token}")
        subscriber = as_subscriber(person, self.mail_url)
        (plain,) = targets_of(subscriber.notify)
        headers = ListHeaders(links.unsubscribe, self.mailto, self.list_id).as_dict()
        target = Target(plain.template, with_headers(plain.url, headers), plain.recipient, shown_as=subscriber.id)
        return PersonMail(person.id, person.address, subscriber, target, links, person.bounces)


class TestRefused(Exception):
    """Why `notify --test person:N` sends nothing (one line for the operator)."""


def send_person_test(config: Config, store: Store, person_id: int) -> tuple[str, bool, str | None]:
    """`notify --test person:N`: one test message to a self-service subscriber, as their alerts go
    (list headers, their own links; a refusal by their server said as the server said it, their
    address never printed). Only an active person is mailed: a pending one has not confirmed the
    address, and one who left must hear nothing more."""
    mail = PeopleMail.of(config)
    if mail is None:
        raise TestRefused("mail to people needs [alerts] mail_url and [serve] public_url")
    shown = subscriber_id(person_id)
    with store.session() as session:
        person = session.get(m.Person, person_id)
        if person is None:
            raise TestRefused(f"{shown}: no such person (tracker status --with-addresses lists them)")
        if person.status != "active":
            raise TestRefused(f"{shown} is {person.status}: a test message goes only to a confirmed, "
                              "subscribed person")
        prepared = mail.prepare(session, person)  # the token is committed before the mail goes
    with person_mail(prepared.address, shown) as refusals:
        ok, error = send_message(prepared.target, person_test_message(config, shown, prepared.links),
                                 uuid.uuid4().hex, config.alerts.timeout_seconds)
    if error and refusals.seen:
        error += f": {refusals.said()}"
    return prepared.target.label, ok, secrets.mask(error) if error else None
