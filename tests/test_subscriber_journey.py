"""Issue 22's whole journey, end to end with real parts only: a reader opens the digest that
`tracker serve` serves, signs up in Chromium, the loopback SMTP server receives the confirmation,
its link confirms; the next crawl's alert reaches them with `List-Unsubscribe`,
`List-Unsubscribe-Post` and `List-Id` and the visible links; a POST of `List-Unsubscribe=One-Click`
to the header's own URL (what a mail client sends) answers 200, and no later alert reaches them,
while the config's subscriber goes on hearing."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
import requests
from alerting import POLICE, core_team, write_config
from recorded import federal
from servers import Mailbox
from serving import body_of, free_port, running, wait_for

from tracker.alerts.notifier import notify
from tracker.config import load_config
from tracker.crawl import run_crawls
from tracker.demo.derive import billstatus_before
from tracker.digest import write_site
from tracker.store import Store

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
S35 = "/bulkdata/BILLSTATUS/117/s/BILLSTATUS-117s35.xml"
READER, TEAM = "reader@example.org", "team@example.org"

pytestmark = pytest.mark.slow


def _mails(mailbox: Mailbox, address: str) -> list[Any]:
    with mailbox.lock:
        return [message for rcpt, message in mailbox.messages if rcpt == [address]]


def test_sign_up_in_the_browser_confirm_get_an_alert_and_leave_with_one_click(
        tmp_path: Path, sqlite_url: str, mailbox: Mailbox, replay: Any) -> None:
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("chromium is required under CI=true")
        pytest.skip("chromium not installed")
    from playwright.sync_api import sync_playwright

    real = federal("BILLSTATUS-117s35.xml")
    replay.add(S35, billstatus_before(real, "2021-02-12"))  # derived: referred, not yet passed
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = f"mailto://127.0.0.1:{mailbox.port}?smtp=127.0.0.1&from=alerts@example.org&user=&pass="
    path = write_config(
        tmp_path, db_url=sqlite_url, bills=[POLICE], subscribers=[core_team(f"{server}&to={TEAM}")],
        alerts={"max_tries": 3, "retry_seconds": 60, "timeout_seconds": 5, "mail_url": server},
        extra=(f'[digest]\nout = "site"\n[serve]\nport = {port}\npublic_url = "{base}"\n'
               f'[crawl]\ndelay_seconds = 0\n[sources.govinfo]\nbase_url = "{replay.url}"\n'))
    config = load_config(path, env={})
    store = Store(config.database_url)
    run_crawls(config, store, ["police"])  # the baseline, before anyone signs up
    write_site(store, config, config.digest_dir)

    with running(config) as _app, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(base + "/index.html")  # the served digest, its sign-up form on the front page
            page.get_by_label("Email address").fill(READER)
            page.get_by_role("checkbox", name="Police accountability").check()
            page.get_by_role("radio", name="As it happens").check()
            page.get_by_role("button", name="Sign up").click()
            page.wait_for_load_state()
            assert page.locator("h1").text_content() == "Check your mail"

            wait_for(lambda: _mails(mailbox, READER))  # the confirmation, over SMTP
            (confirmation,) = _mails(mailbox, READER)
            link = re.search(rf"{re.escape(base)}/c/[A-Za-z0-9_-]+", body_of(confirmation)).group(0)
            page.goto(link)
            page.get_by_role("button", name="Confirm my subscription").click()
            page.wait_for_load_state()
            assert page.locator("h1").text_content() == "You are subscribed"
        finally:
            browser.close()

        # The next crawl: S. 35 passes the Senate. The alert reaches the reader with the list headers.
        replay.replace(S35, billstatus_before(real, "2021-02-16"))
        run_crawls(config, store, ["police"])
        assert notify(store, config).failed == 0
        (alert,) = _mails(mailbox, READER)[1:]
        assert alert["Subject"] == "S. 35 passed the Senate"
        assert alert["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert alert["List-Id"] == "Tracker alerts <alerts.127.0.0.1>"
        header = " ".join(str(alert["List-Unsubscribe"]).split())
        found = re.fullmatch(rf"<({re.escape(base)}/u/([A-Za-z0-9_-]+))>, <mailto:alerts@example.org\?subject=unsubscribe>",
                             header)
        assert found, header
        unsubscribe_url, token = found.group(1), found.group(2)
        text = body_of(alert)
        assert f"Unsubscribe: {unsubscribe_url}" in text and f"Change what you get: {base}/p/{token}" in text

        # One click in the mail client: RFC 8058's POST to the header's URL; 200, no redirect.
        answer = requests.post(unsubscribe_url, data="List-Unsubscribe=One-Click", allow_redirects=False, timeout=10,
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert answer.status_code == 200, answer.text

        # Later news: the House receives S. 35. The team hears of it; the reader never does.
        replay.replace(S35, real)
        run_crawls(config, store, ["police"])
        assert notify(store, config).failed == 0
        assert len(_mails(mailbox, READER)) == 2  # the confirmation and the one alert
        team = [mail["Subject"] for mail in _mails(mailbox, TEAM)]
        assert team[0] == "S. 35 passed the Senate" and len(team) == 2, team
