"""The outbox lease (tracker/alerts/lease.py) as notifiers use it: notifiers at once (threads, small
claim batches) send each row once; a killed notifier loses nothing and repeats at most the one
message in flight; `limit`; a result is recorded only by the notifier still holding the row; nothing
is sent once a lease has run out."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alerting import SECRET, fresh_store, record, team_config, write_config
from apprise.decorators import notify as apprise_notify
from servers import Mailbox, Receiver
from sqlalchemy import select, update

from tracker import clock
from tracker import models as m
from tracker.alerts.notifier import notify
from tracker.config import Config, load_config
from tracker.store import Store
from tracker.targets import targets_of


def test_two_notifiers_at_once_send_each_row_once(team: tuple[Config, Store], mailbox: Mailbox,
                                                   receiver: Receiver) -> None:
    config, store = team
    for stage in ["passed_senate", "passed_both", "to_president", "enacted"]:
        record(store, config, stage)
    reports: list[Any] = []
    threads = [threading.Thread(target=lambda: reports.append(notify(store, config))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sum(r.sent for r in reports) == 8
    assert len(mailbox.messages) == 4 and len(receiver.posts) == 4
    assert len({p["message"] for p in receiver.posts}) == 4


@pytest.mark.slow
def test_notify_killed_mid_batch_loses_nothing(tmp_path: Path, sqlite_url: str, mailbox: Mailbox,
                                               frozen_now: Any) -> None:
    """A real `tracker notify` process is SIGKILLed while sending; after a restart every message
    arrives, and at most the one in flight arrives twice."""
    import os
    import signal
    import subprocess
    import sys
    import time

    receiver = Receiver()
    slow_handler = receiver.server.RequestHandlerClass
    original = slow_handler.do_POST

    def slow_post(self: Any) -> None:
        time.sleep(0.15)
        original(self)

    slow_handler.do_POST = slow_post  # type: ignore[method-assign]
    config = team_config(tmp_path, sqlite_url, mailbox.port, receiver.port, mail=False)  # the webhook alone
    path = tmp_path / "tracker.toml"
    store = fresh_store(config)
    stages = ["referred", "reported", "passed_senate", "passed_house", "passed_both", "to_president", "enacted",
              "vetoed", "failed", "introduced"]
    for stage in stages:
        record(store, config, stage)
    expected = len(stages) - 1
    env = {**os.environ, "HOOK_TOKEN": SECRET, "SMTP_PASSWORD": ""}
    proc = subprocess.Popen([sys.executable, "-m", "tracker.cli", "--config", str(path), "notify"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while len(receiver.posts) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    got_before = len(receiver.posts)
    assert 3 <= got_before < expected
    # After the dead process's lease runs out, a new notifier sends the rest.
    frozen_now("2026-11-24T14:10:00Z")
    result = subprocess.run([sys.executable, "-m", "tracker.cli", "--config", str(path), "notify"], env={**env, "TRACKER_NOW": "2026-11-24T14:10:00Z"},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    messages = [p["message"] for p in receiver.posts]
    assert len(set(messages)) == expected  # nothing lost
    assert len(messages) - expected <= 1  # at most the one in flight repeated
    receiver.server.shutdown()


# -- many claims, through an in-process apprise target -------------------------------------------


class Sink:
    """What the in-process `outboxtest://` apprise target received; `on_send(title)`, when set, runs
    during the send (as another notifier or a slow service would) and gives its result."""

    def __init__(self) -> None:
        self.titles: list[str] = []
        self.on_send: Any = None


SINK = Sink()


@apprise_notify(on="outboxtest")
def _outboxtest(body: str, title: str, notify_type: str, *args: Any, **kwargs: Any) -> bool:
    SINK.titles.append(title)
    return bool(SINK.on_send(title)) if SINK.on_send else True


@pytest.fixture
def sink() -> Iterator[Sink]:
    SINK.titles, SINK.on_send = [], None
    yield SINK
    SINK.titles, SINK.on_send = [], None


def sink_outbox(tmp_path: Path, db_url: str, subscribers: int, rows_each: int,
                alerts: dict[str, Any] | None = None) -> tuple[Config, Store]:
    """`subscribers` subscribers on `outboxtest://`, each owed `rows_each` messages titled 's<i> #<n>'."""
    path = write_config(tmp_path, db_url=db_url, alerts=alerts, bills=[{"id": "w", "name": "W", "numbers": ["hr1-119"]}],
                        subscribers=[{"id": f"s{i}", "notify": [f"outboxtest://sink/{i}"]} for i in range(subscribers)])
    config = load_config(path, env={})
    store = Store(config.database_url)
    now = clock.now()
    with store.session() as session:
        for n in range(rows_each):
            for sub in config.subscribers:
                (target,) = targets_of(sub.notify)
                session.add(m.Delivery(dedupe_key=f"test:{n}|{sub.id}", subscriber_id=sub.id, target_hash=target.hash,
                                       payload={"title": f"{sub.id} #{n}", "body": "b"}, status="pending", tries=0,
                                       next_attempt_at=now, created_at=now))
    return config, store


def by_title(store: Store) -> dict[str, tuple[str, int, str | None]]:
    """title -> (status, tries, lease_owner)"""
    with store.session() as session:
        return {d.payload["title"]: (d.status, d.tries, d.lease_owner) for d in session.scalars(select(m.Delivery))}


def test_four_notifiers_in_small_batches_send_each_row_once(tmp_path: Path, db_url: str, sink: Sink,
                                                            frozen_now: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Many interleaved claims (FOR UPDATE SKIP LOCKED on PostgreSQL, BEGIN IMMEDIATE on SQLite)."""
    from tracker.alerts import notifier

    monkeypatch.setattr(notifier, "CLAIM_BATCH", 3)
    config, store = sink_outbox(tmp_path, db_url, subscribers=8, rows_each=15)
    reports: list[Any] = []
    threads = [threading.Thread(target=lambda: reports.append(notify(store, config))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sum(r.sent for r in reports) == 120 and not any(r.lines for r in reports)
    assert sorted(sink.titles) == sorted(f"s{i} #{n}" for i in range(8) for n in range(15))
    assert set(by_title(store).values()) == {("sent", 1, None)}


def test_limit_sends_that_many_and_releases_the_rest(tmp_path: Path, db_url: str, sink: Sink,
                                                     frozen_now: Any) -> None:
    config, store = sink_outbox(tmp_path, db_url, subscribers=2, rows_each=40)
    assert notify(store, config, limit=55).sent == 55
    rows = by_title(store)
    assert sorted(s for s, _, _ in rows.values()).count("sent") == 55
    assert {owner for _, _, owner in rows.values()} == {None}  # no lease left behind
    assert notify(store, config).sent == 25 and len(sink.titles) == 80


def test_a_row_whose_lease_passed_on_is_not_recorded_by_the_old_holder(tmp_path: Path, db_url: str, sink: Sink,
                                                                         frozen_now: Any) -> None:
    """While `s0 #0` is being sent (successfully) and `s1 #0` (failing), another notifier takes their
    leases: the old holder's results must not overwrite the new holder's row."""
    config, store = sink_outbox(tmp_path, db_url, subscribers=3, rows_each=1)

    def steal(title: str) -> bool:
        if title in ("s0 #0", "s1 #0"):
            with store.engine.begin() as conn:
                conn.execute(update(m.Delivery).where(m.Delivery.dedupe_key == f"test:0|{title[:2]}")
                             .values(lease_owner="other"))
        return title != "s1 #0"

    sink.on_send = steal
    report = notify(store, config)
    assert (report.sent, report.failed, report.dead) == (2, 0, 0)
    assert any("s0: sent, but its lease had passed to another notifier" in line for line in report.lines)
    assert any("s1: not sent, but its lease had passed to another notifier" in line for line in report.lines)
    assert by_title(store) == {"s0 #0": ("pending", 0, "other"), "s1 #0": ("pending", 0, "other"),
                               "s2 #0": ("sent", 1, None)}


def test_nothing_is_sent_after_the_lease_runs_out(tmp_path: Path, db_url: str, sink: Sink, frozen_now: Any) -> None:
    """A slow batch outlives its lease: the notifier stops, claims again, and sends every row once,
    each while its lease is still live."""
    config, store = sink_outbox(tmp_path, db_url, subscribers=4, rows_each=5, alerts={"lease_seconds": 10})
    minute = iter(range(1, 100))

    def slow(title: str) -> bool:
        with store.engine.connect() as conn:
            until = conn.scalar(select(m.Delivery.lease_until)
                                .where(m.Delivery.dedupe_key == f"test:{title.split('#')[1]}|{title.split()[0]}"))
        assert until is not None and until > clock.now(), title
        frozen_now(f"2026-11-24T14:{next(minute):02d}:00Z")  # each send takes a minute
        return True

    sink.on_send = slow
    report = notify(store, config)
    assert report.sent == 20 and sorted(sink.titles) == sorted(f"s{i} #{n}" for i in range(4) for n in range(5))
    assert set(by_title(store).values()) == {("sent", 1, None)}
