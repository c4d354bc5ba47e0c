"""What an operator walking the docs on a plain install met (each failed before its fix), through
the real `tracker` command: an error line whose address ends in a masked key lost its closing
bracket; a `[digest] templates` folder that is not there was ignored in silence; `serve --quiet`
printed a line about a setup chosen on purpose."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from lxml import html
from servers import Mailbox
from serving import free_port, release_port, running, wait_for
from test_serve import Served, confirm, start

from tracker import secrets

NOW = "2026-11-25T12:00:00Z"


def tracker(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "TRACKER_NOW": NOW}
    environment.pop("TRACKER_CONFIG", None)
    return subprocess.run([sys.executable, "-m", "tracker.cli", "--config", str(config), *args], env=environment,
                          capture_output=True, text=True, timeout=120, cwd=config.parent)


def write_config(folder: Path, text: str) -> Path:
    path = folder / "tracker.toml"
    path.write_text(f'[tracker]\nlog_file = "tracker.log"\n{text}')
    return path


def test_a_masked_key_at_an_address_s_end_keeps_the_line_s_closing_bracket(tmp_path: Path) -> None:
    """`(http://…/x.ics?token=***` ended the line: the mask took the `)` as part of the key (and
    the `>` of Scrapy's `<GET …>` in the log file)."""
    config = write_config(tmp_path, '[crawl]\ndelay_seconds = 0\nretries = 0\n[[meetings]]\nid = "a"\nname = "A"\n'
                                    'ical = "http://127.0.0.1:9/x.ics?token=tok999"\n')
    run = tracker(config, "--quiet", "crawl", "--watch", "a")
    assert run.returncode == 1
    assert run.stderr.splitlines() == [
        "ical:a: feed: connection refused (host unreachable) (http://127.0.0.1:9/x.ics?token=***)"], run.stderr
    status = tracker(config, "status")
    assert "(http://127.0.0.1:9/x.ics?token=***)" in status.stdout, status.stdout
    assert "tok999" not in run.stderr + status.stdout + (tmp_path / "tracker.log").read_text()
    # the mask itself: the secret goes, the brackets after it stay
    assert secrets.mask("<GET http://h/x.ics?token=Zq81xv> (x?key=Zq81xv)") == "<GET http://h/x.ics?token=***> (x?key=***)"
    assert secrets.mask("see token=Zq81xv).") == "see token=***)."


def test_a_templates_folder_that_is_not_there_is_a_config_error(tmp_path: Path) -> None:
    """A typo in `[digest] templates` lost every override in silence: `config check` said ok and
    the digest and alerts were written with the bundled templates."""
    config = write_config(tmp_path, '[digest]\ntemplates = "my-templates"\n')
    check = tracker(config, "config", "check")
    assert check.returncode == 2, check.stdout + check.stderr
    assert check.stderr.splitlines() == [
        f"error: {config}: digest.templates: no folder {tmp_path / 'my-templates'} (a folder of the templates you "
        "change, under the bundled names)"], check.stderr
    (tmp_path / "my-templates").mkdir()
    assert tracker(config, "config", "check").returncode == 0


def _serve_quietly(config: Path) -> tuple[str, str]:
    """`tracker --quiet serve` until it answers, then SIGTERM: what it printed."""
    port = free_port()
    release_port(port)
    environment = {**os.environ, "TRACKER_NOW": NOW}
    environment.pop("TRACKER_CONFIG", None)
    process = subprocess.Popen([sys.executable, "-m", "tracker.cli", "--config", str(config), "--quiet", "serve",
                                "--port", str(port)], env=environment, cwd=config.parent, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: _answers(f"http://127.0.0.1:{port}/"), timeout=60)
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    return out, err


def _answers(url: str) -> bool:
    try:
        requests.get(url, timeout=2)
    except requests.RequestException:
        return False
    return True


def test_serve_quiet_says_nothing_of_a_digest_only_server_but_names_a_half_set_sign_up(tmp_path: Path) -> None:
    """A server set up for the digest only printed "serving the digest only" under `--quiet` at every
    start (the deployed unit runs it so: a journal line a boot that is no problem). With a public
    address and no mail server, sign-up meant but closed, it is one on stderr naming what is missing."""
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("<p>digest</p>")  # written, as by `tracker run`
    out, err = _serve_quietly(write_config(tmp_path, ""))
    assert (out, err) == ("", "")
    half = tmp_path / "half"
    half.mkdir()
    out, err = _serve_quietly(write_config(half, '[serve]\npublic_url = "https://alerts.example.org"\n'))
    assert out == ""
    # and no digest written yet: its pages answer 404, which the operator is told (helper's walk: the
    # front page said only "There is no page here" and nothing said why)
    assert err.splitlines() == [f"{half / 'tracker.toml'}: serving the digest only: sign-up needs [alerts] "
                                "mail_url too",
                                f"{half / 'tracker.toml'}: no digest in site yet: its pages answer 404 "
                                "until `tracker digest` or `tracker run` writes it"], err


def test_a_token_in_any_path_is_masked_in_the_access_log(tmp_path: Path, sqlite_url: str, mailbox: Mailbox,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    """The access line masked a link's token only at the path's start: `//u/TOKEN` (a link pasted
    after a slash, a proxy's doubled one) wrote the token into the journal, though it reaches no page."""
    caplog.set_level(logging.INFO, logger="tracker.web")
    config = start(tmp_path, sqlite_url, mailbox)
    with running(config) as app:
        served = Served(app, config, mailbox)
        ann = served.visitor()
        ann.sign_up("ann@example.org")
        token = confirm(served, ann, "ann@example.org").removeprefix("/p/")
        for path in (f"//u/{token}", f"/digest//c/{token}"):
            requests.get(served.base + path, timeout=10, allow_redirects=False)

        def logged() -> list[str]:
            return [r.getMessage() for r in caplog.records if r.name == "tracker.web"]

        wait_for(lambda: sum(line.startswith("GET /") and " 404 " in line for line in logged()) >= 2, timeout=10)
    lines = [line for line in logged() if line.startswith("GET /")]
    assert not [line for line in lines if token in line], lines
    assert any(line.startswith("GET //u/… 404") for line in lines), lines


def test_the_confirm_page_says_what_the_confirm_starts(tmp_path: Path, db_url: str, mailbox: Mailbox) -> None:
    """Anyone may sign an address up, and the latest sign-up of a pending address sets its
    choices: the confirm page only said "press the button", so its owner confirmed a stranger's
    choices unseen (a reviewer's find). It lists them now, as the confirm will start them."""
    config = start(tmp_path, db_url, mailbox)
    with running(config) as app:
        _confirm_page_says(Served(app, config, mailbox))


def _confirm_page_says(served: Served) -> None:
    ann = served.visitor()
    ann.sign_up("ann@example.org", watch=["police"], mode="daily", state="MA", district="7", reminder=["2d"])
    link = served.link_in("ann@example.org", "c")
    page = ann.get(link)
    assert page.status_code == 200
    text = " ".join(html.fromstring(page.text).text_content().split())
    assert ("You asked for Alerts once a day About: Police accountability Reminders: two days before "
            "Where you live: Massachusetts, district 7") in text, text
    # a stranger signs the same address up again: the page shows what the confirm would start now
    stranger = served.visitor()
    stranger.sign_up("ann@example.org", mode="weekly")
    text = " ".join(html.fromstring(ann.get(link).text).text_content().split())
    assert "Alerts once a week About every campaign" in text and "Police accountability" not in text, text
    # a name a config gives is escaped on the page, as everything shown
    assert "<script" not in page.text.lower().split("</head>", 1)[-1]
