"""A slow receiver (issue 25, item 4): every message carries a key that stays the same when it is
sent again, so a receiver that finished the first try can drop the repeat; a timeout is said as
a timeout, and `[alerts] timeout_seconds` sets it.

Real parts only: `tracker notify` as an OS process, a real HTTP receiver and a real SMTP server
(aiosmtpd) that take longer to answer than the tracker waits, but finish the message anyway."""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alerting import WORDS, core_team, owe, statuses, tracker_env, write_config
from servers import Mailbox, Receiver
from test_parallel_notifiers import mail_url

from tracker.config import load_config

LATER = "2026-11-24T14:30:00Z"  # past the first retry's backoff (5 minutes)
EXPECTED = sorted(f"S. 1 {words}" for words in WORDS)


def notify(path: Path, now: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tracker.cli", "--config", str(path), "notify"],
                          capture_output=True, text=True, env={**tracker_env(), **({"TRACKER_NOW": now} if now else {})},
                          timeout=120)


def slow_config(tmp_path: Path, db_url: str, target: str) -> Path:
    path = write_config(tmp_path, db_url=db_url, alerts={"workers": 1}, subscribers=[core_team(target)])
    path.write_text(path.read_text().replace("[alerts]", "[alerts]\ntimeout_seconds = 0.5"))
    return path


def patient(path: Path) -> None:
    """The repeat is about its key, not about speed: on a loaded machine 0.5 s may not be enough for
    even a prompt receiver, so the second run waits as long as an operator's default would."""
    path.write_text(path.read_text().replace("timeout_seconds = 0.5", "timeout_seconds = 30"))


def wait_for(count: Any, at_least: int) -> None:
    deadline = time.monotonic() + 20
    while count() < at_least and time.monotonic() < deadline:
        time.sleep(0.05)


@pytest.fixture
def hook() -> Iterator[Receiver]:
    receiver = Receiver(delay=1.5)  # answers after the tracker gave up, but keeps the post
    yield receiver
    receiver.stop()


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox(late_reply=1.5)  # keeps the message, says so after the tracker gave up
    box.start()
    yield box
    box.stop()


def test_a_webhook_that_answers_too_late_can_drop_the_repeat_by_its_key(tmp_path: Path, sqlite_url: str,
                                                                        hook: Receiver, frozen_now: Any) -> None:
    path = slow_config(tmp_path, sqlite_url, hook.url)
    store = owe(load_config(path, env={}), bills=1)  # four changes: four messages

    first = notify(path)
    assert first.returncode == 1
    timed_out, waiting = first.stderr.splitlines()  # the rest owed to it wait, untried, for the next run
    assert timed_out.endswith("timed out after 0.5 s (the service may have received it)"), first.stderr
    assert "3 more deliveries not tried in this run: it timed out" in waiting, first.stderr
    assert "refused the message or could not be reached" not in first.stderr
    assert statuses(store) == {"failed": 1, "pending": 3}
    wait_for(lambda: len(hook.posts), 1)  # the receiver finished it

    hook.delay = 0
    patient(path)
    again = notify(path, LATER)
    assert again.returncode == 0, again.stderr
    assert statuses(store) == {"sent": 4}
    assert sorted(set(hook.titles)) == EXPECTED and len(hook.titles) == 5  # the one that timed out twice...
    keys = [headers["X-Tracker-Delivery"] for headers in hook.headers]
    assert sorted(Counter(keys).values()) == [1, 1, 1, 2]  # ...each time with its own key
    kept: dict[str, str] = {}
    for key, title in zip(keys, hook.titles, strict=True):  # what a receiver does with the key
        kept.setdefault(key, title)
    assert sorted(kept.values()) == EXPECTED


def test_mail_that_times_out_is_sent_again_with_the_same_message_id(tmp_path: Path, sqlite_url: str,
                                                                    mailbox: Mailbox, frozen_now: Any) -> None:
    path = slow_config(tmp_path, sqlite_url, mail_url(mailbox))
    store = owe(load_config(path, env={}), bills=1)

    first = notify(path)
    assert first.returncode == 1 and "timed out after 0.5 s" in first.stderr, first.stderr
    wait_for(lambda: len(mailbox.messages), 1)  # the rest owed to it wait, untried, for the next run

    mailbox.late_reply = 0
    patient(path)
    again = notify(path, LATER)
    assert again.returncode == 0, again.stderr
    assert statuses(store) == {"sent": 4}
    messages = [message for _, message in mailbox.messages]
    assert sorted(set(mailbox.subjects)) == EXPECTED and len(mailbox.subjects) == 5
    ids = [message["Message-ID"] for message in messages]
    assert all(len(message.get_all("Message-ID")) == 1 for message in messages)
    assert sorted(Counter(ids).values()) == [1, 1, 1, 2]  # a repeat has the first try's Message-ID
    for message in messages:
        assert message["Message-ID"] == f"<{message['X-Tracker-Delivery']}@example.org>"  # the From address's domain, not the relay's
