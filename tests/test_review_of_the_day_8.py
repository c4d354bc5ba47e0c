"""Review of the day (8): `tracker serve`'s subscription pages as an attacker and a new subscriber
meet them. Real parts only: the app under uvicorn on 127.0.0.1, the aiosmtpd Mailbox for mail,
SQLite and PostgreSQL, the notifier sending what the outbox owes."""

from __future__ import annotations

import logging
import socket
import sys
import tracemalloc
from pathlib import Path

import pytest
from alerting import fresh_store, record
from servers import Mailbox
from serving import running, wait_for
from sqlalchemy import select, text
from test_serve import Served, confirm, start

from tracker import models as m
from tracker.alerts.notifier import notify
from tracker.outbox import close_bundles
from tracker.web.limits import SlidingLimit

ANN = "ann.lee@example.org"


def _change_mails(served: Served, address: str) -> list[str]:
    """The alert mails (not the confirmation) that reached `address`."""
    return [body for body in served.mails_to(address) if "passed the Senate" in body]


@pytest.mark.parametrize("mode", ["daily", "weekly"])
def test_news_waiting_for_a_digest_still_comes_after_a_switch_to_as_it_happens(
        tmp_path: Path, db_url: str, mailbox: Mailbox, mode: str) -> None:
    """Ann takes a daily (or weekly) digest; S. 35 passes the Senate before her period closes; she
    then chooses "as it happens" on her preferences page. The change was owed to her next digest,
    and the switch dropped the digest's mark, so no digest and no instant alert ever carried it:
    it was lost (failed before the fix: notify sent her nothing). Switching back and forth again
    sends it no second time."""
    config = start(tmp_path, db_url, mailbox)
    with running(config) as app:
        served = Served(app, config, mailbox)
        ann = served.visitor()
        assert ann.sign_up(ANN, watch=["police"], mode=mode).status_code == 200
        manage = confirm(served, ann, ANN)
        store = fresh_store(config)
        record(store, config, "referred")
        record(store, config, "passed_senate")  # owed to her next digest, not to her at once
        ann.get(manage)
        saved = ann.post(manage, {"csrf": ann.csrf, "action": "save", "watch": ["police"], "mode": "instant"})
        assert saved.status_code == 200 and "Saved." in saved.text
        assert close_bundles(store, config) == 0  # she takes no digest now
        assert notify(store, config).sent == 1
        wait_for(lambda: _change_mails(served, ANN))
        for again in (mode, "instant"):  # and back: what reached her is not owed again
            ann.get(manage)
            assert "Saved." in ann.post(manage, {"csrf": ann.csrf, "action": "save", "watch": ["police"],
                                                 "mode": again}).text
        assert close_bundles(store, config) == 0 and notify(store, config).sent == 0
        assert len(_change_mails(served, ANN)) == 1
        with store.session() as session:
            assert session.scalars(select(m.Person.mode)).one() == "instant"


def test_a_malformed_multipart_form_writes_no_warning_into_the_journal(
        tmp_path: Path, sqlite_url: str, mailbox: Mailbox, caplog: pytest.LogCaptureFixture) -> None:
    """A form sent as multipart/form-data whose body does not match its boundary: python-multipart
    logged a WARNING for each one ("Expected boundary character 45, got 104 at index 2"), so any
    visitor wrote WARNING lines into the journal at will, one a request, among those saying the
    mail is failing (failed before the fix). The sender is told in words (it was python-multipart's
    own message as plain text); nothing is done."""
    config = start(tmp_path, sqlite_url, mailbox)
    caplog.set_level(logging.INFO)
    with running(config) as app:
        served = Served(app, config, mailbox)
        for path in ("/u/" + "x" * 32, "/subscribe", "/p/" + "y" * 32, "/c/" + "z" * 32):
            with socket.create_connection(("127.0.0.1", config.serve.port), timeout=5) as sock:
                sock.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=zz\r\n"
                             "Content-Length: 11\r\nConnection: close\r\n\r\nhello world".encode())
                answer = b""
                while chunk := sock.recv(65536):
                    answer += chunk
            head, _, page = answer.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 4") and b"text/html" in head, head
            assert b"Nothing was done" in page or path.startswith("/u/"), page  # /u/: its CSRF refusal
            assert b"boundary" not in page and b"Traceback" not in page
        assert served.visitor().get("/subscribe").status_code == 200
        wait_for(lambda: any(r.getMessage().startswith("GET /subscribe 200") for r in caplog.records), timeout=5)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert served.people() == []


def test_a_client_hammering_the_sign_up_limit_holds_no_memory_per_request() -> None:
    """Every refused sign-up counted was kept for the hour (a client that keeps hammering stays
    refused), one float a request: a few clients at the server's few hundred requests a second
    grew its memory by tens of MB an hour (failed before the fix: 6 MB kept for 200,000 refused
    tries). The newest limit + 1 events decide alike, so the decisions are the same."""
    limit = SlidingLimit(20)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        answers = [limit.allow("203.0.113.7", now=i / 1000) for i in range(200_000)]
        grown = tracemalloc.get_traced_memory()[0] - before - sys.getsizeof(answers)
    finally:
        tracemalloc.stop()
    assert answers[:20] == [True] * 20 and not any(answers[20:])
    assert grown < 64 * 1024, grown
    # the same decisions as counting every event: refused while the hammering goes on, let
    # through once the hour is quiet, refused again past the limit
    assert not limit.allow("203.0.113.7", now=200 + 3599)
    assert limit.allow("203.0.113.7", now=200 + 3599 + 3601)
    assert all(limit.allow("198.51.100.1", now=10_000 + i) for i in range(20))
    assert not limit.allow("198.51.100.1", now=10_021)
    assert not limit.allow("198.51.100.1", now=10_000 + 3600.5)  # 19 of the hour and the refused one
    assert limit.allow("198.51.100.1", now=10_000 + 3602.5)


def test_a_store_error_in_the_mail_worker_is_one_line_without_its_statement(
        tmp_path: Path, sqlite_url: str, mailbox: Mailbox, caplog: pytest.LogCaptureFixture) -> None:
    """The store refusing the mail worker's claim of an owed mail (a full disk, a lock past its
    timeout): its WARNING carried SQLAlchemy's whole text, the statement and its parameters on
    the lines after the first, four lines in the journal for one failure (failed before the fix).
    One line; the mail goes once the store takes writes again."""
    config = start(tmp_path, sqlite_url, mailbox)
    caplog.set_level(logging.INFO)
    with running(config) as app:
        served = Served(app, config, mailbox)
        with served.store.session() as session:
            session.execute(text("CREATE TRIGGER hw_fail BEFORE UPDATE ON person_mails "
                                 "BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END"))
        assert served.visitor().sign_up(ANN).status_code == 200
        wait_for(lambda: any("owed mails not sent now" in r.getMessage() for r in caplog.records))
        said = [r.getMessage() for r in caplog.records if "owed mails not sent now" in r.getMessage()]
        assert all("\n" not in line and "[SQL" not in line and "parameters" not in line for line in said), said
        assert all("disk I/O error" in line for line in said), said
        with served.store.session() as session:
            session.execute(text("DROP TRIGGER hw_fail"))
        app.pages.mailer.wake()
        served.link_in(ANN, "c")
