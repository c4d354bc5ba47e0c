"""Self-service subscribers ("people", issue 22) get alerts that land: owed like the config's
subscribers from their confirmation on, mailed through `[alerts] mail_url` with the list headers
of RFC 8058 and visible unsubscribe and preferences links whose token works; an unsubscribe beats
anything owed; a mail server refusing them for good deactivates them after `[alerts] bounce_limit`
bounces; `status` shows them in counts, never an address unless asked.

Real parts: a crawl of recorded data through the replay server, the aiosmtpd Mailbox (refusing a
recipient with 550 or 450 at RCPT), SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from alerting import (
    OTHER,
    POLICE,
    STAGES,
    core_team,
    fresh_store,
    record,
    statuses,
    tracker_env,
    walk_stages,
    write_config,
)
from click.testing import CliRunner
from recorded import federal
from servers import Mailbox
from sqlalchemy import select, update

from tracker import clock
from tracker import models as m
from tracker.alerts.notifier import notify
from tracker.cli import main
from tracker.config import Config, load_config
from tracker.outbox import close_bundles, sync_subscribers
from tracker.people import person_by_token, start_follows
from tracker.store import Store

PUBLIC = "https://alerts.example.org"
ANN, BOB, PAT = "ann.lee@example.org", "bob@example.net", "pat@example.com"


def people_config(folder: Path, db_url: str, mailbox: Mailbox, *, extra: str = "", alerts: dict[str, Any] | None = None,
                  team: bool = True, bills: list[dict[str, Any]] | None = None) -> Config:
    """The core team (a config subscriber, by mail) and people mailed through the same server."""
    server = f"mailto://127.0.0.1:{mailbox.port}?smtp=127.0.0.1&from=tracker@example.org&user=&pass="
    team_mail = f"{server}&to=team@example.org"
    path = write_config(folder, db_url=db_url,
                        alerts={"max_tries": 3, "retry_seconds": 60, "mail_url": server, **(alerts or {})},
                        bills=bills or [POLICE], subscribers=[core_team(team_mail)] if team else [],
                        extra=f'[serve]\npublic_url = "{PUBLIC}"\n' + extra)
    return load_config(path, env={})


def add_person(store: Store, address: str, *, status: str = "active", mode: str = "instant",
               follow: list[str] | None = None) -> int:
    """A person as `tracker serve`'s confirm leaves them (active, confirmed now), or still pending."""
    now = clock.now()
    with store.session() as session:
        person = m.Person(address=address, status=status, mode=mode, follow=follow, bounces=0, created_at=now,
                          updated_at=now, confirmed_at=now if status == "active" else None)
        session.add(person)
        session.flush()
        return person.id


def set_status(store: Store, person_id: int, status: str) -> None:
    with store.session() as session:
        session.execute(update(m.Person).where(m.Person.id == person_id).values(status=status))


def mail_to(mailbox: Mailbox, address: str) -> list[Message]:
    return [mail for rcpt, mail in mailbox.messages if rcpt == [address]]


def parts(mail: Message) -> dict[str, str]:
    """The mail's text parts by content type (text/plain, text/html)."""
    found = {}
    for part in mail.walk():
        if part.get_content_maintype() == "text":
            found[part.get_content_type()] = part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
    return found


def token_of(mail: Message) -> str:
    header = " ".join(str(mail["List-Unsubscribe"]).split())
    match = re.fullmatch(rf"<{re.escape(PUBLIC)}/u/([A-Za-z0-9_-]+)>, <mailto:tracker@example.org\?subject=unsubscribe>",
                         header)
    assert match, header
    return match.group(1)


def test_a_crawl_reaches_a_person_with_list_headers_and_working_links(
        tmp_path: Path, db_url: str, mailbox: Mailbox, replay: Any, frozen_now: Any) -> None:
    """S. 35 passes the Senate in a crawl: Ann (active) gets one mail with List-Unsubscribe (her own
    working token and the mailto), List-Unsubscribe-Post and List-Id, and the visible links in its
    text and HTML; Pat (pending) gets nothing; the core team's mail is as it always was."""
    from tracker.crawl import run_crawls
    from tracker.demo.derive import billstatus_before

    real = federal("BILLSTATUS-117s35.xml")
    s35 = "/bulkdata/BILLSTATUS/117/s/BILLSTATUS-117s35.xml"
    replay.add(s35, billstatus_before(real, "2021-02-12"))
    config = people_config(tmp_path, db_url, mailbox, extra=f'[crawl]\ndelay_seconds = 0\n'
                                                             f'[sources.govinfo]\nbase_url = "{replay.url}"\n')
    store = Store(config.database_url)
    ann = add_person(store, ANN)
    add_person(store, PAT, status="pending")
    run_crawls(config, store, ["police"])  # the baseline: follows start here, nothing owed
    replay.replace(s35, real)
    run_crawls(config, store, ["police"])
    report = notify(store, config)
    assert (report.sent, report.failed, report.dead) == (2, 0, 0)
    assert mail_to(mailbox, PAT) == []
    (mail,) = mail_to(mailbox, ANN)
    (team,) = mail_to(mailbox, "team@example.org")
    assert mail["Subject"] == team["Subject"] == "S. 35 passed the Senate"
    token = token_of(mail)
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail["List-Id"] == "Tracker alerts <alerts.alerts.example.org>"
    with store.session() as session:
        person = person_by_token(session, token, "manage")
        assert person is not None and person.id == ann
    bodies = parts(mail)  # HTML and its plain-text alternative
    assert f"Unsubscribe: {PUBLIC}/u/{token}" in bodies["text/plain"]
    assert f"Change what you get: {PUBLIC}/p/{token}" in bodies["text/plain"]
    assert f'Unsubscribe: <a href="{PUBLIC}/u/{token}">' in bodies["text/html"]
    assert f'Change what you get: <a href="{PUBLIC}/p/{token}">' in bodies["text/html"]
    # the core team's mail: no list headers, its footer still says to ask the operator
    assert team["List-Unsubscribe"] is None and team["List-Id"] is None
    team_text = " ".join(" ".join(parts(team).values()).split())
    assert "ask your tracker operator" in team_text and "/u/" not in team_text
    # the outbox keeps no address of hers
    with store.session() as session:
        rows = session.scalars(select(m.Delivery).where(m.Delivery.subscriber_id == f"person:{ann}")).all()
    assert rows and all(row.recipient is None and row.status == "sent" for row in rows)


def test_nothing_from_before_confirmation_and_a_pending_person_gets_nothing(
        tmp_path: Path, db_url: str, mailbox: Mailbox, frozen_now: Any) -> None:
    config = people_config(tmp_path, db_url, mailbox, team=False)
    store = fresh_store(config)
    pat = add_person(store, PAT, status="pending")
    record(store, config, "referred")
    record(store, config, "passed_senate")  # Pat is not confirmed yet
    assert statuses(store) == {}
    with store.session() as session:  # confirmed, as `tracker serve` does it
        person = session.get(m.Person, pat)
        person.status, person.confirmed_at = "active", clock.now()
        start_follows(session, person, config.watch_ids)
    record(store, config, "passed_both")
    assert notify(store, config).sent == 1
    assert [str(mail["Subject"]) for mail in mail_to(mailbox, PAT)] == ["S. 35 passed both chambers"]


def test_an_unsubscribe_beats_what_was_already_owed(tmp_path: Path, db_url: str, mailbox: Mailbox,
                                                     frozen_now: Any) -> None:
    """Ann unsubscribes after her alert was owed: it is not sent, closed `dropped`, never retried;
    Bob unsubscribes while the notifier is already sending (between its claim and his mail): his is
    dropped too. Counted in `status`, by number only."""
    config = people_config(tmp_path, db_url, mailbox, team=False)
    store = Store(config.database_url)
    # Carol's mail goes before Bob's (people are owed in id order): Bob unsubscribes as it lands.
    ann, carol, bob = add_person(store, ANN), add_person(store, "carol@example.org"), add_person(store, BOB)
    store = fresh_store(config)
    record(store, config, "referred")
    record(store, config, "passed_senate")
    assert statuses(store) == {"pending": 3}
    set_status(store, ann, "unsubscribed")
    mailbox.on_message = lambda rcpt: set_status(store, bob, "unsubscribed") if rcpt == ["carol@example.org"] else None
    report = notify(store, config)
    assert (report.sent, report.dropped, report.failed, report.dead) == (1, 2, 0, 0)
    assert [rcpt for rcpt, _ in mailbox.messages] == [["carol@example.org"]]
    assert statuses(store) == {"sent": 1, "dropped": 2}
    assert notify(store, config).sent == 0 and len(mailbox.messages) == 1
    status = json.loads(CliRunner().invoke(main, ["--config", str(config.path), "status", "--json"]).stdout)
    assert status["people"] == {"pending": 0, "active": 1, "unsubscribed": 2, "bounced": 0,
                                "deliveries": {"dropped": 2, "bounced": 0}}
    assert status["deliveries"] == {"pending": 0, "sent": 1, "failed": 0, "dead": 0}
    record(store, config, "passed_both")  # nothing more is owed to those who left
    with store.session() as session:
        owed = set(session.scalars(select(m.Delivery.subscriber_id).where(m.Delivery.status == "pending")))
    assert owed == {f"person:{carol}"}


def test_bounces_deactivate_a_person_and_status_shows_counts_only(
        tmp_path: Path, db_url: str, mailbox: Mailbox, frozen_now: Any) -> None:
    """Ann's server refuses her for good (550 at RCPT): three bounces in a row and she is
    `bounced`, nothing more owed. Bob's refuses him twice, then takes a mail: his count starts
    again. Carol's refuses for now (450): a retry, no bounce; the relay refusing Dan (554 5.7.1
    Relay access denied) is the operator's problem, no bounce either. No address in any line printed or
    logged; `status` counts them; `--with-addresses` lists them."""
    log = tmp_path / "tracker.log"
    config = people_config(tmp_path, db_url, mailbox, team=False, extra="")
    config.path.write_text(f'[tracker]\nlog_file = "{log}"\n' + config.path.read_text())
    config = load_config(config.path, env={})
    store = Store(config.database_url)
    ann, bob, carol = add_person(store, ANN), add_person(store, BOB), add_person(store, "carol@example.org")
    dan = add_person(store, "dan@example.org")
    store = fresh_store(config)
    mailbox.refuse = {ANN: "550 5.1.1 <{address}>: Recipient address rejected: no such user",
                      BOB: "550 5.1.1 <{address}>: no such user",
                      "carol@example.org": "450 4.2.1 <{address}>: try again later",
                      "dan@example.org": "554 5.7.1 <{address}>: Relay access denied"}  # the operator's problem
    runner = CliRunner()
    outputs = []
    record(store, config, "referred")
    for number, stage in enumerate(STAGES[1:4], 1):
        if number == 3:
            del mailbox.refuse[BOB]  # Bob's third mail goes through
        record(store, config, stage)
        result = runner.invoke(main, ["--config", str(config.path), "notify"])
        outputs.append(result.stdout + result.stderr)
        assert result.exit_code == 1, result.stdout + result.stderr  # Carol's: failed, will retry
    assert "bounced" in outputs[0] and f"person:{ann}: deactivated" in outputs[2], outputs
    with store.session() as session:
        people = {p.id: (p.status, p.bounces) for p in session.scalars(select(m.Person))}
        bounced = session.scalars(select(m.Delivery).where(m.Delivery.status == "bounced")).all()
    assert people == {ann: ("bounced", 3), bob: ("active", 0), carol: ("active", 0), dan: ("active", 0)}
    assert len(bounced) == 5 and all(ANN not in (d.last_error or "") for d in bounced)
    assert f"550 5.1.1 <person:{ann}>: Recipient address rejected" in bounced[0].last_error
    assert [rcpt for rcpt, _ in mailbox.messages] == [[BOB]]
    record(store, config, STAGES[4])  # Ann is owed nothing more
    with store.session() as session:
        owed = set(session.scalars(select(m.Delivery.subscriber_id).where(m.Delivery.status == "pending")))
    assert f"person:{ann}" not in owed and f"person:{bob}" in owed
    text = runner.invoke(main, ["--config", str(config.path), "status"])
    as_json = runner.invoke(main, ["--config", str(config.path), "status", "--json"])
    assert "people: 3 active, 0 pending, 0 unsubscribed, 1 bounced" in text.stdout
    assert json.loads(as_json.stdout)["people"]["bounced"] == 1
    check = runner.invoke(main, ["--config", str(config.path), "status", "--check"])
    # the log file, but for the lines of the test's own SMTP server (aiosmtpd's `mail.log`, in this process)
    logged = "\n".join(line for line in log.read_text().splitlines() if " mail.log: " not in line)
    for shown in [*outputs, text.stdout, text.stderr, as_json.stdout, check.stdout, logged]:
        for address in (ANN, BOB, "carol@example.org", "dan@example.org"):
            assert address not in shown
    assert f"person:{ann}" in logged
    listed = runner.invoke(main, ["--config", str(config.path), "status", "--json", "--with-addresses"])
    addresses = json.loads(listed.stdout)["people"]["addresses"]
    assert [(p["subscriber"], p["address"], p["status"]) for p in addresses] == [
        (f"person:{ann}", ANN, "bounced"), (f"person:{bob}", BOB, "active"),
        (f"person:{carol}", "carol@example.org", "active"), (f"person:{dan}", "dan@example.org", "active")]
    assert ANN in runner.invoke(main, ["--config", str(config.path), "status", "--with-addresses"]).stdout


def test_a_daily_person_gets_a_bundle_with_the_headers(tmp_path: Path, db_url: str, mailbox: Mailbox,
                                                        frozen_now: Any) -> None:
    config = people_config(tmp_path, db_url, mailbox, team=False, alerts={"daily_at": "08:00"})
    store = Store(config.database_url)
    add_person(store, ANN, mode="daily")
    store = fresh_store(config)
    record(store, config, "referred")
    record(store, config, "passed_senate")
    assert statuses(store) == {}
    frozen_now("2026-11-25T14:00:00Z")  # the next 08:00 in New York has passed
    assert close_bundles(store, config) == 1
    assert notify(store, config).sent == 1
    (mail,) = mail_to(mailbox, ANN)
    assert "daily digest" in str(mail["Subject"])
    token_of(mail)
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


@pytest.mark.parametrize("confirm", ["start_follows", "next sync"])
def test_after_an_unsubscribe_a_new_confirmation_owes_nothing_from_the_time_between(
        tmp_path: Path, db_url: str, mailbox: Mailbox, frozen_now: Any, confirm: str) -> None:
    """Ann (daily) gets S. 35's Senate passage, unsubscribes, misses it passing both chambers,
    confirms again and adds the `other` watch: her next bundle has only what changed since (S. 35
    going to the President, H.R. 1's new stage), whether her confirmation started her follows
    (`start_follows`, as `tracker serve` does) or the next sync found them older than it."""
    config = people_config(tmp_path, db_url, mailbox, team=False, bills=[POLICE, OTHER])
    store = Store(config.database_url)
    ann = add_person(store, ANN, mode="daily", follow=["police"])
    store = fresh_store(config)
    record(store, config, "referred")
    record(store, config, "referred", key="bill:hr1-117", watch="other")
    record(store, config, "passed_senate")
    frozen_now("2026-11-25T14:00:00Z")
    assert close_bundles(store, config) == 1 and notify(store, config).sent == 1
    set_status(store, ann, "unsubscribed")
    record(store, config, "passed_both")
    frozen_now("2026-11-26T14:00:00Z")
    assert close_bundles(store, config) == 0
    with store.session() as session:  # confirmed again, now following both watches
        person = session.get(m.Person, ann)
        person.status, person.confirmed_at, person.follow = "active", clock.now(), ["police", "other"]
        if confirm == "start_follows":
            start_follows(session, person, config.watch_ids)
        else:
            sync_subscribers(session, config)  # what the next crawl does first
    record(store, config, "to_president")
    record(store, config, "passed_senate", key="bill:hr1-117", watch="other")
    frozen_now("2026-11-27T14:00:00Z")
    assert close_bundles(store, config) == 1 and notify(store, config).sent == 1
    first, second = mail_to(mailbox, ANN)
    assert str(first["Subject"]).endswith(": 1 change")
    assert str(second["Subject"]).endswith(": 2 changes")
    body = parts(second)["text/plain"]
    assert "went to the President" in body and "passed both chambers" not in body


@pytest.mark.postgres
@pytest.mark.slow
def test_two_notifiers_at_once_send_each_person_each_change_once_and_none_after_unsubscribe(
        tmp_path: Path, pg_url: str, frozen_now: Any) -> None:
    mailbox = Mailbox(delay=0.05)
    mailbox.start()
    try:
        config = people_config(tmp_path, pg_url, mailbox, alerts={"workers": 2})
        store = Store(config.database_url)
        ids = [add_person(store, f"p{n}@example.org") for n in range(1, 5)]
        store = fresh_store(config)
        changes = walk_stages(store, config, 3)
        set_status(store, ids[-1], "unsubscribed")
        command = [sys.executable, "-m", "tracker.cli", "--config", str(config.path), "notify"]
        procs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  env=tracker_env()) for _ in range(2)]
        outputs = [proc.communicate(timeout=180) for proc in procs]
        assert [proc.returncode for proc in procs] == [0, 0], outputs
        for n in range(1, 4):
            subjects = sorted(str(mail["Subject"]) for mail in mail_to(mailbox, f"p{n}@example.org"))
            assert len(subjects) == changes and len(set(subjects)) == changes  # each change once
        assert mail_to(mailbox, "p4@example.org") == []
        assert len(mail_to(mailbox, "team@example.org")) == changes
        assert statuses(store) == {"sent": 4 * changes, "dropped": changes}
    finally:
        mailbox.stop()


def test_list_headers_reach_apprise_as_written() -> None:
    """Apprise unquotes `+Header=value` arguments once more after reading the query: a public URL
    with `%` or `+` in its path still arrives exactly (the values are quoted twice)."""
    import apprise

    from tracker.alerts.send import ListHeaders, with_headers

    headers = ListHeaders("https://example.org/our%20alerts+more/u/a_B-c", "tracker+alerts@example.org",
                          "Tracker alerts <alerts.example.org>").as_dict()
    url = with_headers("mailto://127.0.0.1:25?smtp=127.0.0.1&from=tracker@example.org&to=ann@example.org", headers)
    plugin = apprise.Apprise.instantiate(url)
    assert {name: plugin.headers[name] for name in headers} == headers
    assert headers["List-Unsubscribe"] == ("<https://example.org/our%20alerts+more/u/a_B-c>, "
                                           "<mailto:tracker+alerts@example.org?subject=unsubscribe>")


def test_notify_test_reaches_a_person_as_their_alerts_do_and_refuses_anyone_not_subscribed(
        tmp_path: Path, sqlite_url: str, mailbox: Mailbox) -> None:
    """`tracker notify --test person:N` (an operator checking that mail to a self-service subscriber
    lands): one mail with the list headers and the person's own working links, the address never
    printed; a pending, unsubscribed or unknown person gets nothing and the operator one line why."""
    config = people_config(tmp_path, sqlite_url, mailbox, team=False)
    store = Store(config.database_url)
    ann, pat, bob = add_person(store, ANN), add_person(store, PAT, status="pending"), add_person(store, BOB)
    set_status(store, bob, "unsubscribed")

    def test(who: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "tracker.cli", "--config", str(config.path), "notify", "--test", who],
                              capture_output=True, text=True, env=tracker_env(), timeout=120)

    sent = test(f"person:{ann}")
    assert sent.returncode == 0, sent.stderr
    assert sent.stdout.strip() == f"mailto://127.0.0.1:{mailbox.port}/… to person:{ann}: sent"
    assert ANN not in sent.stdout + sent.stderr
    (mail,) = mail_to(mailbox, ANN)
    assert mail["Subject"] == "tracker test message"
    token = token_of(mail)
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert f"{PUBLIC}/u/{token}" in parts(mail)["text/plain"] and f"{PUBLIC}/p/{token}" in parts(mail)["text/plain"]
    with store.session() as session:
        assert person_by_token(session, token, "manage").id == ann  # the link works the moment it lands

    for who, why in ((f"person:{pat}", f"person:{pat} is pending"), (f"person:{bob}", f"person:{bob} is unsubscribed"),
                     ("person:999", "person:999: no such person")):
        refused = test(who)
        assert refused.returncode == 2 and why in refused.stderr, refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1 and "Traceback" not in refused.stderr
    assert len(mailbox.messages) == 1
