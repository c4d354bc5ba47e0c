"""The owing side (tracker/outbox.py): who is owed what. A new subscriber or follow owes no backlog;
an unfollowed watch or an unwanted kind owes nothing; daily bundles close at `daily_at` in the
operator's zone, once per period; a paused subscriber is owed nothing while paused and keeps what
was owed before. Delivered through the real mail server and webhook receiver."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alerting import fresh_store, record, team_config
from servers import Mailbox, Receiver

from tracker.alerts.notifier import notify
from tracker.config import Config
from tracker.outbox import close_bundles, sync_subscribers
from tracker.store import Store, ensure_watches


def test_new_subscriber_gets_no_backlog(tmp_path: Path, team: tuple[Config, Store], mailbox: Mailbox,
                                        receiver: Receiver) -> None:
    config, store = team
    record(store, config, "passed_senate")
    notify(store, config)
    later = team_config(tmp_path, config.storage.url, mailbox.port, receiver.port, extra=f"""
[[subscribers]]
id = "newcomer"
notify = ["json://127.0.0.1:{receiver.port}/newcomer"]
""")
    with store.session() as session:
        sync_subscribers(session, later)
    assert notify(store, later).sent == 0
    record(store, later, "enacted")
    assert notify(store, later).sent == 3  # core-team's two targets and the newcomer


def test_unfollowed_watch_and_unwanted_kinds_owe_nothing(team: tuple[Config, Store]) -> None:
    config, store = team
    record(store, config, "introduced", key="bill:hr1-117", watch="other")
    record(store, config, "referred", key="bill:hr1-117", watch="other")
    assert notify(store, config).sent == 0


def test_daily_bundle_closes_at_daily_at(tmp_path: Path, db_url: str, mailbox: Mailbox, receiver: Receiver,
                                         frozen_now: Any) -> None:
    config = team_config(tmp_path, db_url, mailbox.port, receiver.port, mode="daily")
    store = Store(config.database_url)
    frozen_now("2026-11-24T14:00:00Z")  # 9:00 in New York
    with store.session() as session:
        ensure_watches(session, [("police", "bill", "Police"), ("other", "bill", "Other")])
        sync_subscribers(session, config)
    record(store, config, "referred")
    record(store, config, "passed_senate")
    record(store, config, "enacted")
    assert notify(store, config).sent == 0  # nothing instant for a daily subscriber
    assert close_bundles(store, config) == 0  # today's 8:00 close was before these changes
    frozen_now("2026-11-25T12:59:00Z")  # 7:59 New York: not yet
    assert close_bundles(store, config) == 0
    frozen_now("2026-11-25T13:00:00Z")  # 8:00 New York
    assert close_bundles(store, config) == 2
    assert close_bundles(store, config) == 0  # once per period
    assert notify(store, config).sent == 2
    (post,) = receiver.posts
    assert "daily digest" in post["title"] and "2 changes" in post["message"]
    # grouped by watch, then by bill: one heading for the watch, one headline for S. 35 (its newest
    # stage leads), both changes under it, newest first
    lines = post["message"].splitlines()
    assert lines.count("== Police accountability ==") == 1
    headline = lines.index("S. 35 became law")
    assert lines[headline + 1:headline + 3] == ["- 2021-02-12: S. 35 (117th) enacted", "- 2021-02-12: S. 35 (117th) passed senate"]
    (_rcpt, mail), = mailbox.messages  # Markdown/HTML to the mail target, which takes it
    html_part = next(p for p in mail.walk() if p.get_content_type() == "text/html").get_payload(decode=True).decode()
    assert "<h3>Police accountability</h3>" in html_part and "<strong>S. 35 became law</strong>" in html_part


def test_paused_subscriber_is_owed_nothing_and_held(tmp_path: Path, sqlite_url: str, mailbox: Mailbox,
                                                     receiver: Receiver, frozen_now: Any) -> None:
    config = team_config(tmp_path, sqlite_url, mailbox.port, receiver.port)
    store = fresh_store(config)
    record(store, config, "referred")
    record(store, config, "passed_senate")  # owed while active
    paused = team_config(tmp_path, sqlite_url, mailbox.port, receiver.port, paused=True)
    record(store, paused, "enacted")  # nothing owed while paused
    assert notify(store, paused).sent == 0 and receiver.posts == [] and mailbox.messages == []
    assert notify(store, config).sent == 2  # unpaused: what was owed before the pause goes out
