"""Alerts delivered through real servers on loopback: an SMTP server (aiosmtpd) read back, and an
HTTP receiver for apprise's json:// and ntfy:// targets; a crawl's changes end to end to one
message per target; retries and dead letters; no secret in any row. Time moves with TRACKER_NOW;
nothing sleeps."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from alerting import SECRET, fresh_store, record, team_config
from recorded import federal, serve_legislators
from servers import Mailbox, Receiver
from sqlalchemy import select, text
from statusjson import changes_json

from tracker import models as m
from tracker.alerts.notifier import notify
from tracker.config import Config
from tracker.logs import collapse_deliveries
from tracker.outbox import retry_dead
from tracker.store import Store


def test_new_stage_reaches_email_and_webhook_once(team: tuple[Config, Store], mailbox: Mailbox,
                                                   receiver: Receiver) -> None:
    config, store = team
    record(store, config, "passed_senate")
    report = notify(store, config)
    assert (report.sent, report.failed, report.dead) == (2, 0, 0)
    (rcpt, mail), = mailbox.messages
    assert rcpt == ["team@example.org"]
    assert mail["Subject"] == "S. 35 passed the Senate"
    body = mail.get_payload(0).get_payload(decode=True).decode() if mail.is_multipart() else mail.get_payload()
    assert "passed senate" in body and "Sponsor: Sen. Chris Van Hollen (D-MD)" in body and "Banking Committee" in body
    assert "Campaign: Police accountability" in body
    assert "https://www.congress.gov/bill/117th-congress/senate-bill/35" in body
    html_part = next(p for p in mail.walk() if p.get_content_type() == "text/html").get_payload(decode=True).decode()
    assert '<a href="https://www.congress.gov/bill/117th-congress/senate-bill/35">' in html_part
    assert "<strong>" in html_part and "Sponsor: Sen. Chris Van Hollen (D-MD)" in html_part
    (post,) = receiver.posts
    assert post["title"] == "S. 35 passed the Senate" and "passed senate" in post["message"]
    again = notify(store, config)
    assert again.sent == 0 and len(mailbox.messages) == 1 and len(receiver.posts) == 1


def test_smtp_down_for_two_runs_then_delivered_once(team: tuple[Config, Store], mailbox: Mailbox,
                                                     receiver: Receiver, frozen_now: Any) -> None:
    config, store = team
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


def test_failing_receiver_is_retried_then_dead(team: tuple[Config, Store], mailbox: Mailbox, receiver: Receiver,
                                               frozen_now: Any) -> None:
    config, store = team
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
    assert retry_dead(store, config) == (1, 0)
    assert notify(store, config).sent == 1 and len(receiver.posts) == 1


def test_a_failures_retry_time_is_in_the_trackers_time_zone(tmp_path: Path, db_url: str, mailbox: Mailbox,
                                                             receiver: Receiver, frozen_now: Any) -> None:
    """The retry time is shown as status and the stuck-run line show times, in `[tracker] timezone`
    (it was UTC with a Z); `--quiet`'s collapsed line still reads it."""
    config = team_config(tmp_path, db_url, mailbox.port, receiver.port, '[tracker]\ntimezone = "America/Chicago"\n')
    store = fresh_store(config)
    record(store, config, "referred")
    receiver.status = 500
    record(store, config, "passed_senate")
    (line,) = notify(store, config).lines  # 14:00Z, a minute's backoff
    assert " failed, retry after Tue Nov 24, 8:01 AM CST: " in line, line
    assert "): 1 delivery failed (will retry): " in collapse_deliveries([line])[0], line


def test_multi_recipient_mail_is_split(tmp_path: Path, db_url: str, mailbox: Mailbox, receiver: Receiver,
                                        frozen_now: Any) -> None:
    config = team_config(tmp_path, db_url, mailbox.port, receiver.port, to="a@example.org,b@example.org")
    store = fresh_store(config)
    record(store, config, "referred")
    record(store, config, "passed_senate")
    assert notify(store, config).sent == 3
    assert sorted(r for rcpts, _ in mailbox.messages for r in rcpts) == ["a@example.org", "b@example.org"]


def test_no_secret_in_any_row(team: tuple[Config, Store], receiver: Receiver, frozen_now: Any) -> None:
    config, store = team
    receiver.status = 500
    record(store, config, "passed_senate")
    notify(store, config)
    with store.engine.connect() as conn:
        for table in m.Base.metadata.sorted_tables:
            for row in conn.execute(text(f"SELECT * FROM {table.name}")):
                assert SECRET not in repr(row), table.name


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
    config = team_config(tmp_path, db_url, mailbox.port, receiver.port,
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
    config = team_config(tmp_path, db_url, mailbox.port, receiver.port,
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
    config = team_config(tmp_path, sqlite_url, mailbox.port, receiver.port,
                         extra=f'[[subscribers]]\nid = "phones"\nnotify = ["ntfy://127.0.0.1:{receiver.port}/police-alerts"]\n')
    store = fresh_store(config)
    record(store, config, "referred")
    record(store, config, "passed_senate")
    assert notify(store, config).sent == 3
    ntfy = [p for p in receiver.posts if p.get("topic") == "police-alerts" or p.get("path", "").endswith("police-alerts")]
    assert len(ntfy) == 1, receiver.posts
    assert "passed senate" in json.dumps(ntfy[0])


def test_long_message_is_truncated_to_the_service_limit_with_a_link() -> None:
    from tracker.alerts.render import Message
    from tracker.alerts.send import fit
    from tracker.targets import Target

    discord = Target("discord://1234/abcd", "discord://1234/abcd", None)
    message = Message("H.R. 1 (119th)", "x" * 5000, "https://www.congress.gov/bill/119th-congress/house-bill/1",
                      "y" * 5000)
    fitted = fit(message, discord, message.link)
    assert len(fitted.markdown or "") <= 2000
    assert (fitted.markdown or "").endswith("(truncated; more at https://www.congress.gov/bill/119th-congress/house-bill/1)")
    webhook = Target("json://127.0.0.1:9/x", "json://127.0.0.1:9/x", None)
    assert fit(message, webhook, message.link).body == "x" * 5000  # within json's limit: untouched


def test_a_message_cut_to_a_service_s_limit_is_cut_at_the_end_of_a_line() -> None:
    """FAILED before: Discord's 2,000 characters cut a long list of documents inside a Markdown
    link ("[Agenda](https://city.exam"), so the chat showed the broken markup. The cut now falls at
    the end of the last whole line that fits (when one ends near the limit), before the pointer to
    the rest."""
    from tracker.alerts.render import Message
    from tracker.alerts.send import fit
    from tracker.targets import Target

    lines = [f"- [Agenda of meeting {n}](https://city.example.gov/View.ashx?M=A&ID={n}&GUID={'A' * 36})"
             for n in range(100)]
    markdown = "**Documents posted**\n" + "\n".join(lines)
    discord = Target("discord://1234/abcd", "discord://1234/abcd", None)
    fitted = fit(Message("Agendas", "plain", "https://digest.example.org/m/1", markdown), discord,
                 "https://digest.example.org/m/1")
    text = fitted.markdown or ""
    assert len(text) <= 2000
    kept, tail = text.rsplit("\n… (truncated", 1)
    assert tail == "; more at https://digest.example.org/m/1)"
    assert kept.split("\n")[-1] in lines  # the last line kept is whole
    assert len(kept) > 1500  # and the room is used
