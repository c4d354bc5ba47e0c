"""Every alert about one meeting or bill is one conversation in a mail program: the mails carry the
same `In-Reply-To` and `References` (a parent named by a hash of the thing's key), each its own
Message-ID; another meeting is another conversation; a bundle (many things: its test is
tests/test_mail_review.py's) and a test message are in none. Real parts: the store, differ, notifier and apprise, through a real SMTP server on
loopback (tests/test_mail_review.py's), the raw mail parsed with the stdlib `email` package."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from servers import SMTP_PASSWORD, RawMailbox
from test_mail_review import ANN, ORGANIZER, TITLE, meeting, setup, store_meeting, to

from tracker.alerts.notifier import notify
from tracker.alerts.render import Message
from tracker.alerts.send import send_message
from tracker.targets import Target

THREAD = re.compile(r"<thread\.[0-9a-f]{32}@example\.org>")


def test_every_alert_about_one_meeting_is_one_conversation(
        tmp_path: Path, sqlite_url: str, smtp: RawMailbox, frozen_now: Any) -> None:
    """FAILED before: the alerts of one meeting (its agenda posted, a keyword on it, its time moved) were
    unrelated mails, each a conversation of its own in the reader's mail program; now each names
    the same parent, and another meeting's alert another. The parent is a hash: no key or source
    id shows in a header."""
    frozen_now("2026-11-25T15:00:00Z")
    config, store = setup(tmp_path, sqlite_url, smtp)
    store_meeting(store, config, meeting(TITLE, posted=False))
    store_meeting(store, config, meeting(TITLE, posted=True))
    moved = meeting(TITLE, posted=True)
    moved.start = "2026-12-14T19:00:00Z"
    store_meeting(store, config, moved)
    other = meeting("Sesión extraordinaria", posted=False)
    other.source_ref = "20112"
    store_meeting(store, config, other)
    other.agenda_url = "https://bayamon.legistar.com/View.ashx?M=A&ID=20112"
    store_meeting(store, config, other)
    report = notify(store, config)
    assert report.failed == 0, report
    for reader in (ORGANIZER, ANN):
        mails = [mail for _, mail in smtp.parsed() if to(mail) == reader]
        about_first = [mail for mail in mails if "Sesión ordinaria" in str(mail["Subject"])]
        about_other = [mail for mail in mails if "Sesión extraordinaria" in str(mail["Subject"])]
        assert len(about_first) >= 2 and len(about_other) == 1, [str(mail["Subject"]) for mail in mails]
        parents = {str(mail["References"]) for mail in about_first}
        assert len(parents) == 1 and THREAD.fullmatch(parents.pop()), reader
        assert {str(mail["In-Reply-To"]) for mail in about_first} == {str(about_first[0]["References"])}
        assert len({str(mail["Message-ID"]) for mail in about_first}) == len(about_first)  # mails, one conversation
        assert THREAD.fullmatch(str(about_other[0]["References"]))
        assert str(about_other[0]["References"]) != str(about_first[0]["References"])
        for mail in mails:
            assert "legistar" not in str(mail["References"]) and "20111" not in str(mail["References"])


def test_a_message_after_an_alert_through_the_same_sender_replies_to_nothing(smtp: RawMailbox) -> None:
    """The sender of a mail address is kept between messages: the headers of an alert's thread must
    not stay on it for the next message, which is about something else or nothing."""
    url = (f"mailto://tracker:{SMTP_PASSWORD}@127.0.0.1:{smtp.port}?smtp=127.0.0.1&from=tracker@example.org"
           f"&to={ORGANIZER}")
    target = Target(url, url, ORGANIZER)
    assert send_message(target, Message("Agenda posted", "one", thread="meeting:x:1"), "k1", 10) == (True, None)
    assert send_message(target, Message("tracker daily digest", "many"), "k2", 10) == (True, None)
    first, second = (mail for _, mail in smtp.parsed())
    assert THREAD.fullmatch(str(first["References"])) and str(first["In-Reply-To"]) == str(first["References"])
    assert second["References"] is None and second["In-Reply-To"] is None
