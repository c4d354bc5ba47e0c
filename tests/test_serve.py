"""`tracker serve` as people and bots meet it: the real app under uvicorn on loopback, SQLite and
PostgreSQL, the confirmation mail through a real SMTP server (aiosmtpd). Sign up, confirm,
preferences, one-click unsubscribe, delete; each abuse case on its own."""

from __future__ import annotations

import logging
import os
import re
import secrets as random_secrets
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from servers import Mailbox
from serving import (
    SPAWNED_MAIL_WAIT,
    Visitor,
    body_of,
    free_port,
    release_port,
    running,
    serve_config,
    wait_for,
)
from sqlalchemy import func, select, text

from tracker import clock, secrets
from tracker import models as m
from tracker.config import load_config
from tracker.digest import write_site
from tracker.store import Store

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
LINK = re.compile(r"http://127\.0\.0\.1:\d+(/[cp]/[A-Za-z0-9_-]+)")


class Served:
    """A running `tracker serve`, its mailbox and a reader of its store."""

    def __init__(self, app: Any, config: Any, mailbox: Mailbox) -> None:
        self.app, self.config, self.mailbox = app, config, mailbox
        self.base = f"http://127.0.0.1:{config.serve.port}"
        self.store = Store(config.database_url)

    def visitor(self, forwarded_for: str | None = None) -> Visitor:
        return Visitor(self.base, forwarded_for)

    def people(self) -> list[tuple[str, str, str, list[str] | None]]:
        with self.store.session() as session:
            return [(p.address, p.status, p.mode, p.follow)
                    for p in session.scalars(select(m.Person).order_by(m.Person.id))]

    def status_of(self, address: str) -> str | None:
        with self.store.session() as session:
            return session.scalar(select(m.Person.status).where(m.Person.address == address))

    def count(self, model: Any) -> int:
        with self.store.session() as session:
            return session.scalar(select(func.count()).select_from(model))

    def mails_to(self, address: str) -> list[str]:
        with self.mailbox.lock:
            return [body_of(message) for rcpt, message in self.mailbox.messages if address in rcpt]

    def link_in(self, address: str, kind: str = "c", index: int = -1) -> str:
        wait_for(lambda: self.mails_to(address), timeout=SPAWNED_MAIL_WAIT)
        paths = [p for p in LINK.findall(self.mails_to(address)[index]) if p.startswith(f"/{kind}/")]
        assert paths, self.mails_to(address)[index]
        return paths[0]

    def settle(self) -> None:
        """Wait until the mail worker has nothing owed and due."""
        def idle() -> bool:
            with self.store.session() as session:
                return not session.scalar(select(func.count()).select_from(m.PersonMail)
                                          .where(m.PersonMail.status == "owed", m.PersonMail.tries == 0))
        wait_for(idle)


def start(tmp_path: Path, db_url: str, mailbox: Mailbox, alerts: dict[str, Any] | None = None, **serve: Any) -> Any:
    config = serve_config(tmp_path, db_url, mailbox.port, free_port(), serve=serve, alerts=alerts)
    (tmp_path / "site").mkdir(exist_ok=True)
    return config


@pytest.fixture
def served(tmp_path: Path, db_url: str, mailbox: Mailbox) -> Iterator[Served]:
    config = start(tmp_path, db_url, mailbox)
    with running(config) as app:
        yield Served(app, config, mailbox)


def confirm(served: Served, visitor: Visitor, address: str) -> str:
    """Follow the confirmation mail's link and press its button; the preferences path."""
    link = served.link_in(address, "c")
    page = visitor.get(link)
    assert page.status_code == 200 and "Confirm my subscription" in page.text
    done = visitor.post(link, {"csrf": visitor.csrf})
    assert done.status_code == 200 and "You are subscribed" in done.text
    return re.search(r'href="http://127\.0\.0\.1:\d+(/p/[A-Za-z0-9_-]+)"', done.text).group(1)


def test_sign_up_confirm_change_and_one_click_unsubscribe(served: Served) -> None:
    ann = served.visitor()
    answer = ann.sign_up("Ann.Lee@Example.ORG", watch=["police"], mode="daily", state="MA", district="7")
    assert answer.status_code == 200 and "Check your mail" in answer.text
    assert "Ann.Lee" not in answer.text  # the address is never rendered back
    assert served.people() == [("Ann.Lee@example.org", "pending", "daily", ["police"])]
    link = served.link_in("Ann.Lee@example.org", "c")
    # a GET of the confirmation link (a mail scanner) changes nothing
    assert ann.get(link).status_code == 200
    assert served.status_of("Ann.Lee@example.org") == "pending"
    manage = confirm(served, ann, "Ann.Lee@example.org")
    assert served.status_of("Ann.Lee@example.org") == "active"
    with served.store.session() as session:
        person = session.scalars(select(m.Person)).one()
        assert person.confirmed_at is not None
        assert session.scalar(select(func.count()).select_from(m.PersonToken)
                              .where(m.PersonToken.purpose == "confirm")) == 0
    # the used confirmation link is gone
    assert ann.post(link, {"csrf": ann.csrf}).status_code == 404

    prefs = ann.get(manage)
    assert prefs.status_code == 200 and 'value="police" checked' in prefs.text and "once a day" in prefs.text
    saved = ann.post(manage, {"csrf": ann.csrf, "action": "save", "watch": ["police", "housing"], "mode": "weekly",
                              "state": "", "district": ""})
    assert saved.status_code == 200 and "Saved." in saved.text
    assert served.people() == [("Ann.Lee@example.org", "active", "weekly", ["police", "housing"])]

    unsubscribe = manage.replace("/p/", "/u/")
    page = ann.get(unsubscribe)  # a GET shows one button and changes nothing
    assert page.status_code == 200 and "Unsubscribe" in page.text
    assert served.status_of("Ann.Lee@example.org") == "active"
    # RFC 8058: what a mail client posts, with no cookie and no CSRF token: 200, no redirect
    click = Visitor(served.base).post(unsubscribe, b"List-Unsubscribe=One-Click",
                                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert click.status_code == 200 and "Location" not in click.headers and "unsubscribed" in click.text
    assert served.status_of("Ann.Lee@example.org") == "unsubscribed"
    with served.store.session() as session:
        first = session.scalar(select(m.Person.unsubscribed_at))
    again = Visitor(served.base).post(unsubscribe, b"List-Unsubscribe=One-Click",
                                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert again.status_code == 200  # a second click (a retrying mail client): the same, recorded once
    with served.store.session() as session:
        assert session.scalar(select(m.Person.unsubscribed_at)) == first is not None
    # an unsubscribe beats everything: saving preferences afterwards does not make them active
    ann.get(manage)
    ann.post(manage, {"csrf": ann.csrf, "action": "save", "mode": "instant"})
    assert served.status_of("Ann.Lee@example.org") == "unsubscribed"
    assert "You are unsubscribed" in ann.get(manage).text


def test_a_person_chooses_reminders_on_the_preferences_page(served: Served) -> None:
    """The reminders a config subscriber writes as `reminders = [...]`, a person ticks: kept, shown
    ticked, changed; a value the page does not offer is refused with the page and nothing saved."""
    bo = served.visitor()
    bo.sign_up("bo@example.org")
    manage = confirm(served, bo, "bo@example.org")
    page = bo.get(manage)
    assert "Two days before" in page.text and 'name="reminder" value="2d" checked' not in page.text

    def reminders() -> list[str] | None:
        with served.store.session() as session:
            stored = session.scalar(select(m.Person.reminders))
            # none asked: SQL NULL, never JSON null (what "asked for reminders" is looked up by)
            assert (stored is None) == bool(session.scalar(text("SELECT count(*) FROM people WHERE reminders IS NULL")))
            return stored

    assert reminders() is None
    saved = bo.post(manage, {"csrf": bo.csrf, "action": "save", "mode": "instant", "reminder": ["morning", "2d"]})
    assert saved.status_code == 200 and "Saved." in saved.text
    assert reminders() == ["2d", "morning"]
    page = bo.get(manage)
    assert 'value="2d" checked' in page.text and 'value="morning" checked' in page.text
    assert 'value="3h" checked' not in page.text
    refused = bo.post(manage, {"csrf": bo.csrf, "action": "save", "mode": "instant", "reminder": ["5m"]})
    assert refused.status_code == 400 and "not one offered here" in refused.text
    assert reminders() == ["2d", "morning"]
    bo.get(manage)
    bo.post(manage, {"csrf": bo.csrf, "action": "save", "mode": "instant"})  # none ticked: none sent
    assert reminders() is None


def test_the_unsubscribe_page_button_needs_its_csrf_token(served: Served) -> None:
    ann = served.visitor()
    ann.sign_up("ann@example.org")
    manage = confirm(served, ann, "ann@example.org")
    unsubscribe = manage.replace("/p/", "/u/")
    assert ann.post(unsubscribe, {"unsubscribe": "yes"}).status_code == 403
    assert served.status_of("ann@example.org") == "active"
    ann.get(unsubscribe)
    assert ann.post(unsubscribe, {"csrf": ann.csrf}).status_code == 200
    assert served.status_of("ann@example.org") == "unsubscribed"


def test_an_unsubscribed_address_that_signs_up_and_confirms_again_is_active_again(served: Served) -> None:
    ann = served.visitor()
    ann.sign_up("ann@example.org")
    manage = confirm(served, ann, "ann@example.org")
    Visitor(served.base).post(manage.replace("/p/", "/u/"), b"List-Unsubscribe=One-Click",
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert served.status_of("ann@example.org") == "unsubscribed"
    with served.store.session() as session:  # past the resend window
        session.execute(m.PersonMail.__table__.delete())
    ann.sign_up("ann@example.org", mode="weekly")
    wait_for(lambda: len(served.mails_to("ann@example.org")) == 2)
    assert served.status_of("ann@example.org") == "unsubscribed"  # until the new confirm
    confirm(served, ann, "ann@example.org")
    assert served.people() == [("ann@example.org", "active", "weekly", None)]


def test_delete_my_data_removes_the_person_and_their_links(served: Served) -> None:
    ann = served.visitor()
    ann.sign_up("ann@example.org")
    manage = confirm(served, ann, "ann@example.org")
    ann.get(manage)
    gone = ann.post(manage, {"csrf": ann.csrf, "action": "delete"})
    assert gone.status_code == 200 and "deleted" in gone.text
    assert served.people() == [] and served.count(m.PersonToken) == 0 and served.count(m.PersonMail) == 0
    assert ann.get(manage).status_code == 404


def test_csrf_missing_or_wrong_is_refused_and_nothing_stored(served: Served) -> None:
    bot = served.visitor()
    missing = bot.post("/subscribe", {"email": "ann@example.org", "mode": "instant"})
    assert missing.status_code == 403 and "did not come from this site" in missing.text
    bot.get("/subscribe")
    wrong = bot.post("/subscribe", {"csrf": bot.csrf[:-4] + "0000", "email": "ann@example.org"})
    assert wrong.status_code == 403
    # a token made for another visitor's cookie (a cross-site post carries no cookie of ours)
    other = served.visitor()
    other.get("/subscribe")
    stolen = bot.post("/subscribe", {"csrf": other.csrf, "email": "ann@example.org"})
    assert stolen.status_code == 403
    placeholder = bot.post("/subscribe", {"csrf": "tracker-csrf-placeholder", "email": "ann@example.org"})
    assert placeholder.status_code == 403 and 'name="csrf" value="' in placeholder.text  # a fresh form
    assert served.people() == [] and served.mailbox.messages == []


def test_the_honeypot_filled_gets_the_usual_answer_and_nothing_happens(served: Served) -> None:
    person, bot = served.visitor(), served.visitor()
    usual = person.sign_up("ann@example.org")
    trapped = bot.sign_up("bob@example.org", website="http://spam.example")
    assert trapped.status_code == 200 and trapped.text == usual.text
    served.settle()
    assert [p[0] for p in served.people()] == ["ann@example.org"]
    assert served.mails_to("bob@example.org") == []


@pytest.mark.parametrize("typed", ["ann@example.org\r\nBcc: everyone@example.org", "ann@example.org\nBcc: x@example.org",
                                   "Ann <ann@example.org>", "ann@example.org, bob@example.org", "not an address"])
def test_anything_but_one_mailbox_is_refused_with_a_clear_page(tmp_path: Path, sqlite_url: str, mailbox: Mailbox,
                                                               typed: str) -> None:
    config = start(tmp_path, sqlite_url, mailbox)
    with running(config) as app:
        served = Served(app, config, mailbox)
        answer = served.visitor().sign_up(typed)
        assert answer.status_code == 400 and "That is not one email address." in answer.text
        assert "everyone@example.org" not in answer.text and "bob@" not in answer.text
        assert served.people() == [] and served.count(m.PersonMail) == 0
    assert mailbox.messages == []


def test_an_address_the_mail_server_would_read_as_another_is_refused_at_sign_up(
        tmp_path: Path, sqlite_url: str, mailbox: Mailbox) -> None:
    """"o'brien@example.org" is one mailbox, but apprise reads it as "brien@example.org", so no mail
    ever goes to it (`send.MISREAD`): it was taken, answered "check your mail", and the confirmation
    never came. Refused with a page that says so; nothing kept, nothing sent."""
    config = start(tmp_path, sqlite_url, mailbox)
    with running(config) as app:
        served = Served(app, config, mailbox)
        answer = served.visitor().sign_up("o'brien@example.org")
        assert answer.status_code == 400 and "cannot write to that address as typed" in answer.text
        assert served.people() == [] and served.count(m.PersonMail) == 0
        assert served.visitor().sign_up("obrien@example.org").status_code == 200
        wait_for(lambda: served.mails_to("obrien@example.org"))
    assert [rcpt for rcpt, _ in mailbox.messages] == [["obrien@example.org"]]


def test_the_client_rate_limit(tmp_path: Path, db_url: str, mailbox: Mailbox) -> None:
    config = start(tmp_path, db_url, mailbox, signups_per_client_hour=3)
    with running(config) as app:
        served = Served(app, config, mailbox)
        flood = served.visitor(forwarded_for="203.0.113.9")  # the proxy on this host names the client
        assert [flood.sign_up(f"p{i}@example.org").status_code for i in range(4)] == [200, 200, 200, 429]
        assert "Too many sign-ups from your network" in flood.sign_up("p9@example.org").text
        assert served.visitor(forwarded_for="198.51.100.4").sign_up("q@example.org").status_code == 200
        assert sorted(p[0] for p in served.people()) == ["p0@example.org", "p1@example.org", "p2@example.org",
                                                         "q@example.org"]


def test_the_mailbox_rate_limit(tmp_path: Path, db_url: str, mailbox: Mailbox) -> None:
    config = start(tmp_path, db_url, mailbox, signups_per_address_hour=2)
    with running(config) as app:
        served = Served(app, config, mailbox)
        codes = [served.visitor(forwarded_for=f"203.0.113.{i}").sign_up("ann@example.org").status_code
                 for i in range(3)]
        assert codes == [200, 200, 429]
        served.settle()
        assert len(served.mails_to("ann@example.org")) == 1


def test_an_address_signing_up_again_gets_the_same_answer_and_one_mail_at_most(served: Served) -> None:
    new = served.visitor().sign_up("ann@example.org")
    again = served.visitor().sign_up("ann@example.org", mode="weekly")  # pending now
    other = served.visitor().sign_up("zed@example.org")
    assert new.status_code == again.status_code == other.status_code == 200
    assert new.content == again.content == other.content  # the same bytes: nothing told
    served.settle()
    assert len(served.mails_to("ann@example.org")) == 1
    ann = served.visitor()
    confirm(served, ann, "ann@example.org")
    active = served.visitor().sign_up("ann@example.org", mode="daily")
    assert active.content == new.content
    served.settle()
    assert len(served.mails_to("ann@example.org")) == 1  # within resend_minutes: nothing more
    assert served.people()[0][1:3] == ("active", "weekly")  # a stranger's sign-up changes nothing


def test_an_active_address_signing_up_again_later_gets_its_preferences_link(tmp_path: Path, db_url: str,
                                                                             mailbox: Mailbox) -> None:
    config = start(tmp_path, db_url, mailbox, resend_minutes=0)
    with running(config) as app:
        served = Served(app, config, mailbox)
        ann = served.visitor()
        ann.sign_up("ann@example.org", mode="daily")
        confirm(served, ann, "ann@example.org")
        served.visitor().sign_up("ann@example.org", mode="weekly")
        wait_for(lambda: len(served.mails_to("ann@example.org")) == 2)
        manage = served.link_in("ann@example.org", "p")
        assert "already gets them" in served.mails_to("ann@example.org")[-1]
        assert served.people()[0][1:3] == ("active", "daily")
        assert served.visitor().get(manage).status_code == 200


def test_guessed_tokens_get_a_plain_page_and_change_nothing(served: Served) -> None:
    ann = served.visitor()
    ann.sign_up("ann@example.org")
    confirm(served, ann, "ann@example.org")
    before = served.people()
    guesser = served.visitor()
    guesser.get("/subscribe")
    for _ in range(5):
        token = random_secrets.token_urlsafe(24)
        for kind in "cup":
            page = guesser.get(f"/{kind}/{token}")
            assert page.status_code == 404 and "This link does not work" in page.text
            assert "Traceback" not in page.text
        for kind, data in (("c", {"csrf": guesser.csrf}), ("u", b"List-Unsubscribe=One-Click"),
                           ("p", {"csrf": guesser.csrf, "action": "delete"}),
                           ("p", {"csrf": guesser.csrf, "action": "save", "mode": "weekly"})):
            headers = {"Content-Type": "application/x-www-form-urlencoded"} if isinstance(data, bytes) else {}
            page = guesser.post(f"/{kind}/{token}", data, headers=headers)
            assert page.status_code == 404 and "This link does not work" in page.text
    assert guesser.get("/u/" + "x" * 5000).status_code in (404, 414)
    assert served.people() == before


def test_the_access_log_masks_tokens_and_never_names_an_address(served: Served,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="tracker.web")
    ann = served.visitor()
    ann.sign_up("ann@example.org")
    manage = confirm(served, ann, "ann@example.org")
    ann.get(manage)
    token = manage.removeprefix("/p/")

    def logged() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.name == "tracker.web"]

    # the access line is written once the answer has gone: the client may read it first
    wait_for(lambda: any(line.startswith("GET /p/… 200") for line in logged()), timeout=5)
    lines = logged()
    assert any(line.startswith("POST /subscribe 200") for line in lines), lines
    assert not [line for line in lines if token in line or "ann@" in line or ("/c/" in line and "/c/…" not in line)]


def test_a_form_far_too_long_is_refused(served: Served) -> None:
    bot = served.visitor()
    bot.get("/subscribe")
    answer = bot.post("/subscribe", {"csrf": bot.csrf, "email": "ann@example.org", "mode": "x" * 20_000})
    assert answer.status_code == 413
    answer = bot.post("/subscribe", {"csrf": bot.csrf, "email": "a" * 400 + "@example.org"})
    assert answer.status_code == 400
    assert served.people() == []


@pytest.mark.slow
def test_the_mail_waits_when_the_smtp_server_is_down_and_goes_when_it_is_back(tmp_path: Path, db_url: str,
                                                                              mailbox: Mailbox) -> None:
    mailbox.stop()
    # the second try 3 s after the first (time to look at the owed row between them), enough tries to
    # outlast the stopped server
    config = start(tmp_path, db_url, mailbox, alerts={"retry_seconds": 3, "max_tries": 10})
    with running(config, separate_mailer=True) as app:  # from its own process, as tracker serve sends
        served = Served(app, config, mailbox)
        answer = served.visitor().sign_up("ann@example.org")
        assert answer.status_code == 200 and "Check your mail" in answer.text
        wait_for(lambda: served.count(m.PersonMail) == 1 and app.pages.mailer.failed >= 1, timeout=SPAWNED_MAIL_WAIT)
        with served.store.session() as session:
            owed = session.scalars(select(m.PersonMail)).one()
            assert owed.status == "owed" and owed.tries == 1 and "ann@" not in (owed.last_error or "")
            assert session.scalar(select(func.count()).select_from(m.PersonToken)) == 0  # the failed link revoked
        mailbox.start()
        wait_for(lambda: served.mails_to("ann@example.org"), timeout=SPAWNED_MAIL_WAIT)
        ann = served.visitor()
        confirm(served, ann, "ann@example.org")
        assert served.status_of("ann@example.org") == "active"


def test_the_digest_page_carries_the_form_with_a_working_token(tmp_path: Path, sqlite_url: str,
                                                              mailbox: Mailbox) -> None:
    config = start(tmp_path, sqlite_url, mailbox)
    store = Store(config.database_url)
    write_site(store, config, config.digest_dir)
    store.dispose()
    on_disk = (config.digest_dir / "index.html").read_text()
    assert 'value="tracker-csrf-placeholder"' in on_disk and 'name="watch" value="police"' in on_disk
    with running(config) as app:
        served = Served(app, config, mailbox)
        ann = served.visitor()
        page = ann.get("/")
        assert page.status_code == 200 and "tracker-csrf-placeholder" not in page.text and ann.csrf
        assert "Get alerts by email" in page.text
        answer = ann.post("/subscribe", {"csrf": ann.csrf, "email": "ann@example.org", "mode": "weekly",
                                         "watch": "housing", "website": ""})
        assert answer.status_code == 200
        assert served.people() == [("ann@example.org", "pending", "weekly", ["housing"])]
        assert ann.get("/changes.atom").status_code == 200
        assert ann.get("/../tracker.toml").status_code == 404
        assert ann.get("/%2e%2e/tracker.toml").status_code == 404


@pytest.mark.browser
@pytest.mark.slow
def test_in_chromium_a_reader_signs_up_from_the_digest_and_confirms(tmp_path: Path, sqlite_url: str,
                                                                      mailbox: Mailbox) -> None:
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("chromium is required under CI=true")
        pytest.skip("chromium not installed")
    from playwright.sync_api import sync_playwright

    config = start(tmp_path, sqlite_url, mailbox)
    store = Store(config.database_url)
    write_site(store, config, config.digest_dir)
    store.dispose()
    with running(config, separate_mailer=True) as app, sync_playwright() as playwright:
        served = Served(app, config, mailbox)
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(served.base + "/index.html")
            page.get_by_label("Email address").fill("reader@example.org")
            page.get_by_role("checkbox", name="Housing first").check()
            page.get_by_role("radio", name="Once a week").check()
            page.get_by_label("Your state (optional: names your representatives in alerts)").select_option("MA")
            page.get_by_label("Congressional district (optional; 0 for an at-large seat)").fill("7")
            page.get_by_role("button", name="Sign up").click()
            page.wait_for_load_state()
            assert page.locator("h1").text_content() == "Check your mail"
            link = served.link_in("reader@example.org", "c")
            page.goto(served.base + link)
            assert served.status_of("reader@example.org") == "pending"  # opening the link is not confirming
            page.get_by_role("button", name="Confirm my subscription").click()
            page.wait_for_load_state()
            assert page.locator("h1").text_content() == "You are subscribed"
            assert served.people() == [("reader@example.org", "active", "weekly", ["housing"])]
            with served.store.session() as session:
                person = session.scalars(select(m.Person)).one()
                assert (person.state, person.district) == ("MA", 7) and person.confirmed_at is not None
            page.get_by_role("link", name="your preferences").click()
            assert page.get_by_role("checkbox", name="Housing first").is_checked()
        finally:
            browser.close()


@pytest.mark.slow
def test_tracker_serve_runs_until_sigterm_and_says_a_taken_port_in_one_line(tmp_path: Path, sqlite_url: str,
                                                                           mailbox: Mailbox) -> None:
    config = start(tmp_path, sqlite_url, mailbox)
    (tmp_path / "site" / "index.html").write_text("<p>digest</p>")  # a digest written: no line about it
    release_port(config.serve.port)  # for the tracker serve process to bind
    command = [sys.executable, "-m", "tracker.cli", "--config", str(config.path), "serve"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        base = f"http://127.0.0.1:{config.serve.port}"
        wait_for(lambda: _answers(base + "/subscribe"), timeout=30)
        ann = Visitor(base)
        assert ann.sign_up("ann@example.org").status_code == 200
        wait_for(lambda: mailbox.messages, timeout=SPAWNED_MAIL_WAIT)  # sent from the server's own mail process
        assert "uvicorn" not in ann.get("/subscribe").headers.get("server", "")
        taken = subprocess.run([*command, "--quiet"], capture_output=True, text=True, timeout=60)
        assert taken.returncode == 1
        assert taken.stderr.strip().splitlines() == [
            f"serve: cannot listen on 127.0.0.1:{config.serve.port}: Address already in use"]
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert out.splitlines()[0] == (f"serve: answering at http://127.0.0.1:{config.serve.port}/ (public at "
                                   f"{config.serve.public_url}); Ctrl-C or SIGTERM stops it")  # where, once
    assert "ann@" not in out + err


def test_tracker_serve_without_public_url_serves_the_digest_only(tmp_path: Path, sqlite_url: str,
                                                                 mailbox: Mailbox) -> None:
    config = serve_config(tmp_path, sqlite_url, mailbox.port, free_port(), serve={"public_url": None})
    assert config.serve.public_url is None
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("<p>digest</p>")
    with running(config) as app:
        served = Served(app, config, mailbox)
        visitor = served.visitor()
        assert visitor.get("/").text == "<p>digest</p>"
        assert visitor.get("/subscribe").status_code == 404
        assert visitor.post("/subscribe", {"email": "ann@example.org"}).status_code == 404
        assert served.people() == []


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def test_one_click_as_multipart_form_data_too(served: Served) -> None:
    """RFC 8058 lets the client send the pair as multipart/form-data as well."""
    ann = served.visitor()
    ann.sign_up("ann@example.org")
    manage = confirm(served, ann, "ann@example.org")
    click = requests.post(served.base + manage.replace("/p/", "/u/"), files={"List-Unsubscribe": (None, "One-Click")},
                          allow_redirects=False, timeout=10)
    assert click.request.headers["Content-Type"].startswith("multipart/form-data")
    assert click.status_code == 200 and "Location" not in click.headers
    assert served.status_of("ann@example.org") == "unsubscribed"


def test_an_expired_confirmation_link_gets_the_plain_page(served: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    ann = served.visitor()
    ann.sign_up("ann@example.org")
    link = served.link_in("ann@example.org", "c")
    ann.get("/subscribe")
    monkeypatch.setenv("TRACKER_NOW", (clock.now() + timedelta(hours=49)).isoformat())  # confirm_hours = 48
    assert ann.get(link).status_code == 404
    assert ann.post(link, {"csrf": ann.csrf}).status_code == 404
    assert served.status_of("ann@example.org") == "pending"


def test_the_serve_secret_is_a_secret(tmp_path: Path, sqlite_url: str, mailbox: Mailbox) -> None:
    path = tmp_path / "tracker.toml"
    serve_config(tmp_path, sqlite_url, mailbox.port, 8080)  # never served: the key is only read
    path.write_text(path.read_text().replace("[serve]\n", '[serve]\nsecret = "${SERVE_SECRET}"\n'))
    config = load_config(path, env={"SERVE_SECRET": "k3y-0f-the-f0rms-29f1"})
    assert config.serve.secret == "k3y-0f-the-f0rms-29f1"
    assert "k3y-0f-the-f0rms-29f1" not in secrets.mask(f"key {config.serve.secret}")


def test_a_lost_database_gets_a_page_in_words_and_one_masked_line(tmp_path: Path, mailbox: Mailbox,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    db = tmp_path / "tracker.db"
    config = start(tmp_path, f"sqlite:///{db}", mailbox)
    with running(config) as app:
        served = Served(app, config, mailbox)
        visitor = served.visitor()
        visitor.get("/subscribe")
        served.store.dispose()
        app.pages.store.engine.dispose()
        db.unlink()
        db.mkdir()  # where the database was, a folder: SQLite cannot open it
        caplog.set_level(logging.INFO, logger="tracker.web")
        answer = visitor.post("/subscribe", {"csrf": visitor.csrf, "email": "ann@example.org", "mode": "daily"})
        assert answer.status_code == 503 and "try again in a few minutes" in answer.text
        assert "Traceback" not in answer.text and "ann@" not in answer.text
        lines = [r.getMessage() for r in caplog.records if r.name == "tracker.web" and r.levelno >= logging.ERROR]
        assert len(lines) == 1 and lines[0].startswith("serve: POST /subscribe failed") and "ann@" not in lines[0]
