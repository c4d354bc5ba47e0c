"""Alerts through real servers on loopback: an SMTP server (aiosmtpd) read back, and an HTTP
receiver for apprise's json:// webhooks. Time moves with TRACKER_NOW; nothing sleeps."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from apprise.decorators import notify as apprise_notify
from recorded import federal, serve_legislators
from servers import Mailbox, Receiver
from sqlalchemy import select, text, update
from statusjson import changes_json

from tracker import clock
from tracker import models as m
from tracker.alerts.outbox import close_bundles, retry_dead, sync_subscribers
from tracker.alerts.send import notify
from tracker.alerts.targets import targets_of
from tracker.changes import Change, dedupe_key
from tracker.config import Config, load_config
from tracker.records import Bill, Item
from tracker.store import Store, ensure_watches, ingest

SECRET = "pa55-Secret-xyz"


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    box.start()
    yield box
    box.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()


def make_config(tmp_path: Path, db_url: str, mailbox: Mailbox, receiver: Receiver, extra: str = "",
                to: str = "team@example.org") -> Config:
    path = tmp_path / "tracker.toml"
    path.write_text(f"""
[storage]
url = "{db_url}"
[alerts]
max_tries = 3
retry_seconds = 60
daily_at = "08:00"
[[bills]]
id = "police"
name = "Police accountability"
numbers = ["s35-117"]
[[bills]]
id = "other"
name = "Other"
numbers = ["hr1-117"]
[[subscribers]]
id = "core-team"
notify = ["mailto://tracker:${{SMTP_PASSWORD}}@127.0.0.1:{mailbox.port}?smtp=127.0.0.1&from=tracker@example.org&to={to}&user=&pass=",
          "json://127.0.0.1:{receiver.port}/hook?token=${{HOOK_TOKEN}}"]
follow = ["police"]
{extra}
""")
    return load_config(path, env={"SMTP_PASSWORD": "", "HOOK_TOKEN": SECRET})


def fresh_store(config: Config) -> Store:
    """A store with the test's watches and subscribers' follows recorded."""
    store = Store(config.database_url)
    with store.session() as session:
        ensure_watches(session, [("police", "bill", "Police"), ("other", "bill", "Other")])
        sync_subscribers(session, config)
    return store


def stage_differ(old: Bill | None, new: Bill, key: str) -> list[Change]:
    if old is None or old.stage == new.stage:
        return []
    return [Change("bill.stage", key, f"S. 35 (117th) {new.stage.replace('_', ' ')}",
                   dedupe_key(key, "bill.stage", new.stage), {"from": old.stage, "to": new.stage},
                   "https://www.congress.gov/bill/117th-congress/senate-bill/35", "2021-02-12")]


def record(store: Store, config: Config, stage: str, key: str = "bill:s35-117", watch: str = "police") -> None:
    content = Bill(number=key[5:], display="S. 35", congress=117, type="s", stage=stage,
                   title="Officer Eugene Goodman Congressional Gold Medal Act",
                   sponsor={"name": "Sen. Van Hollen, Chris [D-MD]"}, committees=[{"name": "Banking Committee"}])
    from tracker.alerts.outbox import owe_instant

    ingest(store, Item(key=key, kind="bill", source_id="govinfo", watch_ids=[watch], content=content),
           stage_differ, on_change=lambda session, change: owe_instant(session, change, config))


@pytest.fixture
def setup(tmp_path: Path, db_url: str, mailbox: Mailbox, receiver: Receiver, frozen_now: Any) -> tuple[Config, Store]:
    config = make_config(tmp_path, db_url, mailbox, receiver)
    store = fresh_store(config)
    record(store, config, "referred")  # baseline
    return config, store


def test_new_stage_reaches_email_and_webhook_once(setup: tuple[Config, Store], mailbox: Mailbox,
                                                   receiver: Receiver) -> None:
    config, store = setup
    record(store, config, "passed_senate")
    report = notify(store, config)
    assert (report.sent, report.failed, report.dead) == (2, 0, 0)
    (rcpt, mail), = mailbox.messages
    assert rcpt == ["team@example.org"]
    assert mail["Subject"] == "S. 35 passed the Senate"
    body = mail.get_payload(0).get_payload(decode=True).decode() if mail.is_multipart() else mail.get_payload()
    assert "passed senate" in body and "Sponsor: Sen. Van Hollen" in body and "Banking Committee" in body
    assert "https://www.congress.gov/bill/117th-congress/senate-bill/35" in body
    html_part = next(p for p in mail.walk() if p.get_content_type() == "text/html").get_payload(decode=True).decode()
    assert '<a href="https://www.congress.gov/bill/117th-congress/senate-bill/35">' in html_part
    assert "<strong>" in html_part and "Sponsor: Sen. Van Hollen" in html_part
    (post,) = receiver.posts
    assert post["title"] == "S. 35 passed the Senate" and "passed senate" in post["message"]
    again = notify(store, config)
    assert again.sent == 0 and len(mailbox.messages) == 1 and len(receiver.posts) == 1


def test_smtp_down_for_two_runs_then_delivered_once(setup: tuple[Config, Store], mailbox: Mailbox,
                                                     receiver: Receiver, frozen_now: Any) -> None:
    config, store = setup
    record(store, config, "passed_senate")
    mailbox.stop()
    first = notify(store, config)
    assert (first.sent, first.failed) == (1, 1)  # the webhook is not blocked by the mail server
    frozen_now("2026-11-24T14:01:30Z")  # past the first backoff (60 s)
    assert notify(store, config).failed == 1
    frozen_now("2026-11-24T14:02:00Z")  # before the second backoff (120 s) ends: not due
    assert notify(store, config).sent == 0
    mailbox.start()
    frozen_now("2026-11-24T14:05:00Z")
    assert notify(store, config).sent == 1
    assert len(mailbox.messages) == 1 and len(receiver.posts) == 1
    assert notify(store, config).sent == 0


def test_failing_receiver_is_retried_then_dead(setup: tuple[Config, Store], mailbox: Mailbox, receiver: Receiver,
                                               frozen_now: Any) -> None:
    config, store = setup
    receiver.status = 500
    record(store, config, "passed_senate")
    results = []
    for minute in ("14:00", "14:10", "14:30"):  # 3 tries, backoff 60 s then 120 s
        frozen_now(f"2026-11-24T{minute}:00Z")
        results.append(notify(store, config))
    assert [r.failed for r in results] == [1, 1, 0] and results[-1].dead == 1
    assert len(mailbox.messages) == 1  # the other target was unaffected
    with store.session() as session:
        dead = session.scalars(select(m.Delivery).where(m.Delivery.status == "dead")).one()
        assert dead.tries == 3 and dead.subscriber_id == "core-team" and SECRET not in (dead.last_error or "")
    receiver.status = 200
    assert retry_dead(store) == 1
    assert notify(store, config).sent == 1 and len(receiver.posts) == 1


def test_two_notifiers_at_once_send_each_row_once(setup: tuple[Config, Store], mailbox: Mailbox,
                                                   receiver: Receiver) -> None:
    config, store = setup
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


def test_new_subscriber_gets_no_backlog(tmp_path: Path, setup: tuple[Config, Store], mailbox: Mailbox,
                                        receiver: Receiver) -> None:
    config, store = setup
    record(store, config, "passed_senate")
    notify(store, config)
    later = make_config(tmp_path, config.storage.url, mailbox, receiver, extra=f"""
[[subscribers]]
id = "newcomer"
notify = ["json://127.0.0.1:{receiver.port}/newcomer"]
""")
    with store.session() as session:
        sync_subscribers(session, later)
    assert notify(store, later).sent == 0
    record(store, later, "enacted")
    assert notify(store, later).sent == 3  # core-team's two targets and the newcomer


def test_unfollowed_watch_and_unwanted_kinds_owe_nothing(setup: tuple[Config, Store]) -> None:
    config, store = setup
    record(store, config, "introduced", key="bill:hr1-117", watch="other")
    record(store, config, "referred", key="bill:hr1-117", watch="other")
    assert notify(store, config).sent == 0


def test_multi_recipient_mail_is_split(tmp_path: Path, db_url: str, mailbox: Mailbox, receiver: Receiver,
                                        frozen_now: Any) -> None:
    config = make_config(tmp_path, db_url, mailbox, receiver, to="a@example.org,b@example.org")
    store = fresh_store(config)
    record(store, config, "referred")
    record(store, config, "passed_senate")
    assert notify(store, config).sent == 3
    assert sorted(r for rcpts, _ in mailbox.messages for r in rcpts) == ["a@example.org", "b@example.org"]


def test_no_secret_in_any_row(setup: tuple[Config, Store], receiver: Receiver, frozen_now: Any) -> None:
    config, store = setup
    receiver.status = 500
    record(store, config, "passed_senate")
    notify(store, config)
    with store.engine.connect() as conn:
        for table in m.Base.metadata.sorted_tables:
            for row in conn.execute(text(f"SELECT * FROM {table.name}")):
                assert SECRET not in repr(row), table.name


def test_daily_bundle_closes_at_daily_at(tmp_path: Path, db_url: str, mailbox: Mailbox, receiver: Receiver,
                                         frozen_now: Any) -> None:
    config = make_config(tmp_path, db_url, mailbox, receiver).model_copy()
    path = tmp_path / "tracker.toml"
    path.write_text(path.read_text().replace('follow = ["police"]', 'follow = ["police"]\nmode = "daily"'))
    config = load_config(path, env={"SMTP_PASSWORD": "", "HOOK_TOKEN": SECRET})
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
    config = make_config(tmp_path, sqlite_url, mailbox, receiver)
    path = tmp_path / "tracker.toml"
    path.write_text(path.read_text().replace(f'"mailto://tracker:${{SMTP_PASSWORD}}@127.0.0.1:{mailbox.port}?smtp=127.0.0.1&from=tracker@example.org&to=team@example.org&user=&pass=",\n          ', ""))
    config = load_config(path, env={"SMTP_PASSWORD": "", "HOOK_TOKEN": SECRET})
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


def test_one_crawl_of_one_bill_is_one_message_titled_by_its_stage(
        tmp_path: Path, db_url: str, mailbox: Mailbox, receiver: Receiver, replay: Any, frozen_now: Any) -> None:
    """S. 35 passes the Senate in one crawl (a new stage, several actions, new cosponsors): its
    subscriber gets ONE email and ONE post, titled by the stage, listing every change newest first;
    the rows stay one per change, all marked sent."""
    from tracker.crawl import run_crawls
    from tracker.demo.derive import billstatus_before

    real = federal("BILLSTATUS-117s35.xml")
    s35 = "/bulkdata/BILLSTATUS/117/s/BILLSTATUS-117s35.xml"
    replay.add(s35, billstatus_before(real, "2021-02-12"))  # derived: newest actions and cosponsors removed
    config = make_config(tmp_path, db_url, mailbox, receiver,
                         extra=f'[crawl]\ndelay_seconds = 0\n[sources.govinfo]\nbase_url = "{replay.url}"\n'
                               f'[sources.legislators]\nbase_url = "{serve_legislators(replay)}"\n')
    store = Store(config.database_url)
    run_crawls(config, store, ["police"])
    replay.replace(s35, real)
    report, legislators = run_crawls(config, store, ["police"])
    assert legislators.source_id == "legislators" and legislators.not_modified == 1  # read once a day
    kinds = [c["kind"] for c in changes_json(store)]
    assert kinds.count("bill.stage") == 1 and kinds.count("bill.action") >= 3 and report.changes == len(kinds)
    sent = notify(store, config)
    assert (sent.sent, sent.failed) == (2, 0)  # one message per target
    (_rcpt, mail), = mailbox.messages
    (post,) = receiver.posts
    assert mail["Subject"] == post["title"] == "S. 35 passed the Senate"
    listed = [line for line in post["message"].splitlines() if line.startswith("- 20")]
    assert len(listed) == len(kinds)
    assert [line[2:12] for line in listed] == sorted((line[2:12] for line in listed), reverse=True)
    with store.session() as session:
        statuses = [d.status for d in session.scalars(select(m.Delivery))]
    assert statuses == ["sent"] * (2 * len(kinds))
    assert notify(store, config).sent == 0


def test_crawl_then_notify_end_to_end(tmp_path: Path, db_url: str, mailbox: Mailbox, receiver: Receiver,
                                      replay: Any, frozen_now: Any) -> None:
    """A crawl records S.35's new stage; `tracker notify` mails and posts it once; a stopped mail
    server delays the mail until the first run after it returns."""
    from click.testing import CliRunner

    from tracker.cli import main
    from tracker.crawl import run_crawls
    from tracker.demo.derive import billstatus_before

    real = federal("BILLSTATUS-117s35.xml")
    s35 = "/bulkdata/BILLSTATUS/117/s/BILLSTATUS-117s35.xml"
    replay.add(s35, billstatus_before(real, "2021-02-12"))  # derived: newest actions removed
    config = make_config(tmp_path, db_url, mailbox, receiver,
                         extra='kinds = ["bill.stage"]\n[crawl]\ndelay_seconds = 0\n'
                               f'[sources.govinfo]\nbase_url = "{replay.url}"\n')
    store = Store(config.database_url)
    run_crawls(config, store, ["police"])
    replay.replace(s35, real)
    run_crawls(config, store, ["police"])
    mailbox.stop()
    env = {"SMTP_PASSWORD": "", "HOOK_TOKEN": SECRET, "TRACKER_NOW": "2026-11-24T14:00:00Z"}
    runner = CliRunner()
    first = runner.invoke(main, ["--config", str(config.path), "notify"], env=env)
    assert first.exit_code == 1 and "1 sent, 1 failed" in first.stdout
    assert SECRET not in first.stdout + first.stderr
    (post,) = receiver.posts
    assert post["title"] == "S. 35 passed the Senate" and "passed the Senate" in post["message"]
    mailbox.start()
    env["TRACKER_NOW"] = "2026-11-24T14:05:00Z"
    second = runner.invoke(main, ["--config", str(config.path), "notify"], env=env)
    assert second.exit_code == 0 and "1 sent" in second.stdout
    (_rcpt, mail), = mailbox.messages
    assert mail["Subject"] == "S. 35 passed the Senate"
    third = runner.invoke(main, ["--config", str(config.path), "notify"], env=env)
    assert "0 sent" in third.stdout and len(receiver.posts) == 1 and len(mailbox.messages) == 1
    status = json.loads(runner.invoke(main, ["--config", str(config.path), "status", "--json"], env=env).stdout)
    assert status["deliveries"] == {"pending": 0, "sent": 2, "failed": 0, "dead": 0}


def test_chat_service_url_pointed_at_loopback(tmp_path: Path, sqlite_url: str, mailbox: Mailbox,
                                              receiver: Receiver, frozen_now: Any) -> None:
    """ntfy (a chat/push service) through its own apprise URL, at a loopback receiver."""
    config = make_config(tmp_path, sqlite_url, mailbox, receiver)
    path = tmp_path / "tracker.toml"
    path.write_text(path.read_text() + f'[[subscribers]]\nid = "phones"\nnotify = ["ntfy://127.0.0.1:{receiver.port}/police-alerts"]\n')
    config = load_config(path, env={"SMTP_PASSWORD": "", "HOOK_TOKEN": SECRET})
    store = fresh_store(config)
    record(store, config, "referred")
    record(store, config, "passed_senate")
    assert notify(store, config).sent == 3
    ntfy = [p for p in receiver.posts if p.get("topic") == "police-alerts" or p.get("path", "").endswith("police-alerts")]
    assert len(ntfy) == 1, receiver.posts
    assert "passed senate" in json.dumps(ntfy[0])


def test_paused_subscriber_is_owed_nothing_and_held(tmp_path: Path, sqlite_url: str, mailbox: Mailbox,
                                                     receiver: Receiver, frozen_now: Any) -> None:
    config = make_config(tmp_path, sqlite_url, mailbox, receiver)
    store = fresh_store(config)
    record(store, config, "referred")
    record(store, config, "passed_senate")  # owed while active
    path = tmp_path / "tracker.toml"
    path.write_text(path.read_text().replace('follow = ["police"]', 'follow = ["police"]\npaused = true'))
    paused = load_config(path, env={"SMTP_PASSWORD": "", "HOOK_TOKEN": SECRET})
    record(store, paused, "enacted")  # nothing owed while paused
    assert notify(store, paused).sent == 0 and receiver.posts == [] and mailbox.messages == []
    assert notify(store, config).sent == 2  # unpaused: what was owed before the pause goes out


def test_long_message_is_truncated_to_the_service_limit_with_a_link() -> None:
    from tracker.alerts.send import Message, fit
    from tracker.alerts.targets import Target

    discord = Target("discord://1234/abcd", "discord://1234/abcd", None)
    message = Message("H.R. 1 (119th)", "x" * 5000, "https://www.congress.gov/bill/119th-congress/house-bill/1",
                      "y" * 5000)
    fitted = fit(message, discord, message.link)
    assert len(fitted.markdown or "") <= 2000
    assert (fitted.markdown or "").endswith("(truncated; more at https://www.congress.gov/bill/119th-congress/house-bill/1)")
    webhook = Target("json://127.0.0.1:9/x", "json://127.0.0.1:9/x", None)
    assert fit(message, webhook, message.link).body == "x" * 5000  # within json's limit: untouched


# -- the claim and the lease, through an in-process apprise target -----------------------------


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
                alerts: str = "") -> tuple[Config, Store]:
    """`subscribers` subscribers on `outboxtest://`, each owed `rows_each` messages titled 's<i> #<n>'."""
    subs = "".join(f'[[subscribers]]\nid = "s{i}"\nnotify = ["outboxtest://sink/{i}"]\n' for i in range(subscribers))
    path = tmp_path / "tracker.toml"
    path.write_text(f'[storage]\nurl = "{db_url}"\n[alerts]\n{alerts}\n'
                    f'[[bills]]\nid = "w"\nname = "W"\nnumbers = ["hr1-119"]\n{subs}')
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


def statuses(store: Store) -> dict[str, tuple[str, int, str | None]]:
    """title -> (status, tries, lease_owner)"""
    with store.session() as session:
        return {d.payload["title"]: (d.status, d.tries, d.lease_owner) for d in session.scalars(select(m.Delivery))}


def test_four_notifiers_in_small_batches_send_each_row_once(tmp_path: Path, db_url: str, sink: Sink,
                                                            frozen_now: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Many interleaved claims (FOR UPDATE SKIP LOCKED on PostgreSQL, BEGIN IMMEDIATE on SQLite)."""
    from tracker.alerts import send

    monkeypatch.setattr(send, "CLAIM_BATCH", 3)
    config, store = sink_outbox(tmp_path, db_url, subscribers=8, rows_each=15)
    reports: list[Any] = []
    threads = [threading.Thread(target=lambda: reports.append(notify(store, config))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sum(r.sent for r in reports) == 120 and not any(r.lines for r in reports)
    assert sorted(sink.titles) == sorted(f"s{i} #{n}" for i in range(8) for n in range(15))
    assert set(statuses(store).values()) == {("sent", 1, None)}


def test_limit_sends_that_many_and_releases_the_rest(tmp_path: Path, db_url: str, sink: Sink,
                                                     frozen_now: Any) -> None:
    config, store = sink_outbox(tmp_path, db_url, subscribers=2, rows_each=40)
    assert notify(store, config, limit=55).sent == 55
    rows = statuses(store)
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
    assert statuses(store) == {"s0 #0": ("pending", 0, "other"), "s1 #0": ("pending", 0, "other"),
                               "s2 #0": ("sent", 1, None)}


def test_nothing_is_sent_after_the_lease_runs_out(tmp_path: Path, db_url: str, sink: Sink, frozen_now: Any) -> None:
    """A slow batch outlives its lease: the notifier stops, claims again, and sends every row once,
    each while its lease is still live."""
    config, store = sink_outbox(tmp_path, db_url, subscribers=4, rows_each=5, alerts="lease_seconds = 10")
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
    assert set(statuses(store).values()) == {("sent", 1, None)}
