"""A target taken out of the config while something is still owed through it (a webhook rotated
because the old one broke, an address changed): what its subscriber was owed goes through their
current targets, once, instead of dying as "no longer in the config". Real SMTP and HTTP servers on
loopback, SQLite and PostgreSQL; time moves with TRACKER_NOW."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alerting import record, team_config
from servers import Mailbox, Receiver
from sqlalchemy import select

from tracker import models as m
from tracker.alerts.notifier import notify
from tracker.config import Config
from tracker.outbox import REPLACED, close_bundles, reowe_replaced
from tracker.store import Store


def test_what_a_broken_webhook_owed_goes_to_its_replacement_once(
        team: tuple[Config, Store], tmp_path: Path, db_url: str, mailbox: Mailbox, receiver: Receiver,
        frozen_now: Any) -> None:
    """The team's chat hook broke (500s) while S. 35 passed both chambers; the operator puts the new
    hook in the config. Both alerts reach the new hook; the mail, already sent, is not sent again;
    the old rows are closed saying why (they died as "no longer in the config" before)."""
    config, store = team
    receiver.status = 500
    record(store, config, "passed_senate")
    record(store, config, "passed_both")
    first = notify(store, config)
    assert (first.sent, first.failed) == (2, 2) and len(mailbox.messages) == 2
    replacement = Receiver()
    try:
        moved = team_config(tmp_path, db_url, mailbox.port, replacement.port)
        assert reowe_replaced(store, moved) == 2
        assert reowe_replaced(store, moved) == 0  # once
        frozen_now("2026-11-24T14:01:00Z")
        second = notify(store, moved)
        assert (second.sent, second.failed, second.dead) == (2, 0, 0)
        assert sorted(replacement.titles) == ["S. 35 passed both chambers", "S. 35 passed the Senate"], \
            replacement.titles
        assert len(mailbox.messages) == 2 and receiver.posts == []
        frozen_now("2026-11-24T15:00:00Z")
        assert notify(store, moved).sent == 0 and len(replacement.posts) == 2
        with store.session() as session:
            old = session.scalars(select(m.Delivery).where(m.Delivery.status == "dropped")).all()
            assert len(old) == 2 and {row.last_error for row in old} == {REPLACED}
    finally:
        replacement.stop()


def test_a_target_dropped_beside_a_kept_one_sends_nothing_twice(
        team: tuple[Config, Store], tmp_path: Path, db_url: str, mailbox: Mailbox, receiver: Receiver,
        frozen_now: Any) -> None:
    """The team's mail relay is down and the operator takes mail out, keeping the hook that already
    had the alert: nothing is owed anew, nothing is sent twice, nothing stays pending."""
    config, store = team
    mailbox.stop()
    record(store, config, "passed_senate")
    assert (notify(store, config).sent, len(receiver.posts)) == (1, 1)
    hook_only = team_config(tmp_path, db_url, mailbox.port, receiver.port, mail=False)
    assert reowe_replaced(store, hook_only) == 0
    frozen_now("2026-11-24T15:00:00Z")
    assert notify(store, hook_only).sent == 0 and len(receiver.posts) == 1
    with store.session() as session:
        assert session.scalars(select(m.Delivery.status).where(m.Delivery.status.in_(("pending", "failed")))).all() \
            == []


def test_a_daily_bundle_owed_through_a_replaced_hook_carries_its_changes(
        tmp_path: Path, db_url: str, mailbox: Mailbox, receiver: Receiver, frozen_now: Any) -> None:
    """A daily subscriber's bundle owed through a hook since replaced goes to the new hook with
    every change it carried."""
    from alerting import fresh_store

    config = team_config(tmp_path, db_url, mailbox.port, receiver.port, mode="daily")
    store = fresh_store(config)
    record(store, config, "referred")
    record(store, config, "passed_senate")
    receiver.status = 500
    frozen_now("2026-11-25T13:05:00Z")  # 8:05 in New York
    assert close_bundles(store, config) == 2
    assert notify(store, config).failed == 1
    replacement = Receiver()
    try:
        moved = team_config(tmp_path, db_url, mailbox.port, replacement.port, mode="daily")
        assert reowe_replaced(store, moved) == 1
        frozen_now("2026-11-25T13:10:00Z")
        assert notify(store, moved).sent == 1
        (post,) = replacement.posts
        assert "S. 35" in post["message"] and "passed" in post["message"].lower(), post
        assert len(mailbox.messages) == 1
    finally:
        replacement.stop()
