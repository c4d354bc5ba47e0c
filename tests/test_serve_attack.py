"""`tracker serve` attacked from the public internet, one more round: each case a real request to
the real server on loopback (uvicorn, SQLite, aiosmtpd for mail), each a defect found and fixed.

- a path carrying CR/LF forges lines in the server's log, and a very long one writes as much as it
  likes (the access line and the error line printed the path whole);
- a path with a NUL byte, or a name longer than the filesystem takes, was a 503 and an ERROR line
  (anyone could page the operator at will), never the 404 it is;
- request headers without end: the server kept every byte a client sent before its blank line
  (tens of MB a connection in the ten seconds allowed), a few connections and it ran out of memory;
- request headers without end behind a first answer the client does not read: the same;
- a Gmail address spelled with dots anywhere in its local part (Gmail ignores them) was another
  mailbox to the mailbox limit: a stranger mailed one Gmail user once per spelling;
- the mailbox limit was an hour's only: 5 confirmations an hour to one inbox, all day, every day;
- a client asking for a large file and never reading it held the connection for ever;
- "Delete my data" left the address in the SQLite database's files (the WAL kept every page that
  held it; freed cells kept their bytes), and so did a stranger's sign-up once forgotten;
- a domain with ß, ς or a zero-width joiner was mailed as another domain (IDNA 2003's reading);
- a visitor's garbage request (a TLS hello, a WebSocket upgrade) was a WARNING in the journal.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import subprocess
import time
from datetime import timedelta
from pathlib import Path
from select import select as readable
from typing import Any

import pytest
import requests
from servers import Mailbox
from serving import running, wait_for
from sqlalchemy import select, update
from test_serve import Served, confirm, start

import tracker.web
from tracker import clock
from tracker import models as m
from tracker.web.limits import SlidingLimit


def _web_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "tracker.web"]


def test_a_path_cannot_forge_log_lines_or_write_without_end(tmp_path: Path, sqlite_url: str, mailbox: Mailbox,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    """`GET /x%0d%0a2026-12-05 ... ERROR ...` wrote a second, forged line into the journal the
    operator reads; a path of 8,000 characters was a log line of 8,000 characters."""
    config = start(tmp_path, sqlite_url, mailbox)
    caplog.set_level(logging.INFO, logger="tracker.web")
    with running(config) as app:
        base = Served(app, config, mailbox).base
        assert requests.get(base + "/x%0d%0aserve%3A%20FORGED%20by%20a%20visitor", timeout=10).status_code == 404
        assert requests.get(base + "/index.html%0aFORGED", timeout=10).status_code == 404
        assert requests.post(base + "/" + "b" * 8000, timeout=10).status_code == 405  # no such form
        assert requests.get(base + "/u/abc%0aFORGED", timeout=10).status_code == 404
        wait_for(lambda: len([r for r in _web_lines(caplog) if r.getMessage().startswith(("GET ", "POST "))]) >= 4, timeout=5)
    for record in _web_lines(caplog):
        line = record.getMessage()
        assert "\n" not in line and "\r" not in line, repr(line)
        assert len(line) < 600, line[:100]
    assert any("%0A" in r.getMessage() or "\\n" in r.getMessage() for r in _web_lines(caplog))


def test_a_path_the_filesystem_refuses_is_a_plain_404_and_no_error_line(tmp_path: Path, sqlite_url: str,
                                                                        mailbox: Mailbox,
                                                                        caplog: pytest.LogCaptureFixture) -> None:
    """A NUL byte (ValueError) or a name over 255 bytes (ENAMETOOLONG) in a digest path reached the
    app's last-resort handler: 503 "something went wrong on our side" and an ERROR line a visitor
    could write as often as they liked."""
    config = start(tmp_path, sqlite_url, mailbox)
    (tmp_path / "site" / "index.html").write_text("<p>the digest</p>")
    caplog.set_level(logging.INFO, logger="tracker.web")
    with running(config) as app:
        base = Served(app, config, mailbox).base
        for path in ["/a%00b", "/index.html%00.png", "/" + "a" * 300, "/" + "a/" * 2100, "/x/" + "é" * 200]:
            answer = requests.get(base + path, timeout=10)
            assert answer.status_code == 404, (path[:20], answer.status_code)
            assert "There is no page here" in answer.text
        assert requests.get(base + "/index.html", timeout=10).status_code == 200
    errors = [r.getMessage()[:120] for r in caplog.records if r.levelno >= logging.WARNING]
    assert errors == []


def _answer_to_endless_headers(port: int, megabytes: int) -> tuple[int, bytes]:
    """Send one request whose headers never end, up to `megabytes`, stopping once the server
    answers; how many bytes it took and what it said."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.settimeout(3)
    taken = 0
    try:
        sock.sendall(b"GET /subscribe HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Filler: ")
        chunk = b"a" * 65536
        for _ in range(megabytes * 16):
            if readable([sock], [], [], 0)[0]:
                break  # an answer (or the end) came
            sock.sendall(chunk)
            taken += len(chunk)
    except OSError:
        pass
    answer = b""
    try:
        while part := sock.recv(65536):
            answer += part
    except OSError:
        pass
    sock.close()
    return taken, answer


def test_request_headers_without_end_are_refused_not_kept(tmp_path: Path, sqlite_url: str, mailbox: Mailbox) -> None:
    """uvicorn's httptools protocol has no limit on a request line or headers: every byte before the
    blank line was kept in memory for the ten seconds HEADER_SECONDS allows (86 MB from one
    connection on loopback). A few such connections and the server was out of memory."""
    config = start(tmp_path, sqlite_url, mailbox)
    with running(config) as app:
        served = Served(app, config, mailbox)
        started = time.monotonic()
        taken, answer = _answer_to_endless_headers(config.serve.port, 16)
        assert answer.startswith(b"HTTP/1.1 431 "), (taken, answer[:80])
        assert taken < 4 * 1024 * 1024 and time.monotonic() - started < 8
        # a long URL alone, the same
        sock = socket.create_connection(("127.0.0.1", config.serve.port))
        sock.settimeout(5)
        sock.sendall(b"GET /" + b"c" * 200_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(100).startswith(b"HTTP/1.1 431 ")
        sock.close()
        # behind a first request whose answer the client does not read (a large file), the next
        # request's headers were read without end too: the connection is closed instead
        (tmp_path / "site" / "meetings.ics").write_bytes(b"BEGIN:VCALENDAR\r\n" + b"X" * (8 * 1024 * 1024))
        sock = socket.create_connection(("127.0.0.1", config.serve.port))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.settimeout(5)
        taken = 0
        with contextlib.suppress(OSError):
            sock.sendall(b"GET /meetings.ics HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nX-Filler: ")
            for _ in range(16 * 16):
                sock.sendall(b"a" * 65536)
                taken += 65536
        sock.close()
        assert taken < 8 * 1024 * 1024, taken
        # headers a browser sends (cookies, a long user agent) are served as ever
        visitor = served.visitor()
        visitor.http.headers["User-Agent"] = "Mozilla/5.0 " + "x" * 2000
        visitor.http.cookies.set("other_site_cookie", "y" * 4000)
        assert visitor.get("/subscribe").status_code == 200
        assert visitor.sign_up("ann@example.org").status_code == 200


def test_a_gmail_mailbox_spelled_with_dots_shares_its_limit(tmp_path: Path, sqlite_url: str,
                                                           mailbox: Mailbox) -> None:
    """Gmail delivers `j.ane.doe@gmail.com`, `jane.doe@googlemail.com` and `janedoe@gmail.com` to
    one mailbox, and a 12-letter name has 2,048 such spellings: each one signed up from another
    client was a person of its own under a limit of its own, one mail each, to one inbox."""
    config = start(tmp_path, sqlite_url, mailbox, signups_per_address_hour=2)
    spellings = ["janedoe@gmail.com", "jane.doe@gmail.com", "j.a.n.e.d.o.e@gmail.com", "Jane.Doe@googlemail.com",
                 "jane.doe+x@gmail.com"]
    with running(config) as app:
        served = Served(app, config, mailbox)
        codes = [served.visitor(forwarded_for=f"203.0.113.{i}").sign_up(typed).status_code
                 for i, typed in enumerate(spellings, 1)]
        assert codes == [200, 200, 429, 429, 429]
        # dots are the mailbox's own elsewhere: another provider's j.doe and jdoe are two people
        other = [served.visitor(forwarded_for=f"198.51.100.{i}").sign_up(typed).status_code
                 for i, typed in enumerate(["jdoe@example.org", "j.doe@example.org", "jd.oe@example.org"], 1)]
        assert other == [200, 200, 200]


def _an_hour_passes(pages: Any) -> None:
    """Every sign-up limit of the running server as it stands an hour (and a second) later: each
    event it remembers moved that far into the past, as the monotonic clock would leave it."""
    for limit in (value for value in vars(pages).values() if isinstance(value, SlidingLimit)):
        with limit._lock:
            for events in limit._events.values():
                events.extend([at - 3601 for at in [events.popleft() for _ in range(len(events))]])


def test_one_mailbox_is_not_mailed_its_hourly_limit_every_hour_of_the_day(tmp_path: Path, sqlite_url: str,
                                                                          mailbox: Mailbox) -> None:
    """The mailbox limit was an hour's only: a stranger signing up a victim's address its 5 times
    each hour (one client is allowed 20) mailed that inbox 120 confirmations a day, every day.
    Over a day a mailbox gets ADDRESS_DAY_HOURS hours' worth; other mailboxes are not held back."""
    config = start(tmp_path, sqlite_url, mailbox, signups_per_address_hour=2, resend_minutes=0)
    victim = "victim@example.org"
    with running(config) as app:
        served = Served(app, config, mailbox)
        stranger = served.visitor(forwarded_for="203.0.113.66")
        answers = []
        for _ in range(4):  # four hours of trying, three times an hour
            answers.append([stranger.sign_up(victim).status_code for _ in range(3)])
            _an_hour_passes(app.pages)
        assert answers == [[200, 200, 429], [200, 200, 429], [429, 429, 429], [429, 429, 429]]
        assert "today" in stranger.sign_up("Victim+again@example.org").text
        assert served.visitor(forwarded_for="198.51.100.7").sign_up("someone.else@example.org").status_code == 200
        served.settle()
        assert len(served.mails_to(victim)) == 2 * 2
        for _ in range(21):  # a day later the mailbox may sign up again
            _an_hour_passes(app.pages)
        assert served.visitor(forwarded_for="198.51.100.8").sign_up(victim).status_code == 200


def test_delete_my_data_leaves_no_trace_of_the_address_in_the_sqlite_files(tmp_path: Path, sqlite_url: str,
                                                                           mailbox: Mailbox) -> None:
    """The person's row, links and mails were deleted, but SQLite keeps a deleted row's bytes: the
    write-ahead log held every page that ever carried the address (its sign-up, its confirm) and the
    database file's freed cells kept it too, for anyone who later reads the files (a backup, a
    disk handed on) to find."""
    config = start(tmp_path, sqlite_url, mailbox)
    address = "quite.unique.reader@example.org"
    with running(config) as app:
        served = Served(app, config, mailbox)
        for n in range(3):  # other people on the same pages: their rows keep those pages in use
            assert served.visitor(forwarded_for=f"198.51.100.{n}").sign_up(f"other{n}@example.org").status_code == 200
        reader = served.visitor()
        assert reader.sign_up(address, state="MA", district="7", watch=["police"]).status_code == 200
        assert served.visitor(forwarded_for="198.51.100.9").sign_up("later@example.org").status_code == 200
        manage = confirm(served, reader, address)
        reader.get(manage)
        assert reader.post(manage, {"csrf": reader.csrf, "action": "save", "mode": "weekly"}).status_code == 200
        assert reader.post(manage, {"csrf": reader.csrf, "action": "delete"}).status_code == 200
        with served.store.session() as session:
            assert address not in session.scalars(select(m.Person.address)).all()
            assert len(session.scalars(select(m.Person)).all()) == 4
        served.store.dispose()

        wait_for(lambda: not _traces(tmp_path, address), timeout=10)  # the wipe runs after the answer


def _traces(folder: Path, address: str) -> list[str]:
    """The SQLite files (database, write-ahead log) whose bytes hold `address`."""
    return [file.name for file in folder.glob("tracker.db*") if address.encode() in file.read_bytes()]


def test_a_forgotten_sign_up_leaves_no_trace_of_the_address_in_the_sqlite_files(
        tmp_path: Path, sqlite_url: str, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch) -> None:
    """A stranger's address typed into the form and never confirmed is deleted after its window and
    a week's grace, but the write-ahead log still held the pages of its sign-up."""
    config = start(tmp_path, sqlite_url, mailbox)
    with running(config) as app:
        served = Served(app, config, mailbox)
        assert served.visitor().sign_up("kept@example.org").status_code == 200
        assert served.visitor().sign_up("typed.by.a.stranger@example.org").status_code == 200
        served.link_in("typed.by.a.stranger@example.org", "c")
        with served.store.session() as session:  # kept@ confirmed: only the stranger is forgotten
            session.execute(update(m.Person).where(m.Person.address == "kept@example.org").values(status="active"))
        monkeypatch.setenv("TRACKER_NOW", (clock.now() + timedelta(days=10)).isoformat())
        app.pages.mailer.wake()
        wait_for(lambda: [p[0] for p in served.people()] == ["kept@example.org"], timeout=10)
        served.store.dispose()
        wait_for(lambda: not _traces(tmp_path, "typed.by.a.stranger@example.org"), timeout=10)
        assert _traces(tmp_path, "kept@example.org")


def _held_connections(port: int) -> int:
    """The server's established connections on `port`, as the kernel counts them."""
    out = subprocess.run(["ss", "-Htn", "state", "established", f"( sport = :{port} )"], capture_output=True,
                         text=True, check=True).stdout
    return len(out.strip().splitlines())


def test_a_client_that_never_reads_its_answer_does_not_hold_the_connection(
        tmp_path: Path, sqlite_url: str, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch) -> None:
    """A slow read: ask for the calendar (a few MB) and never read it. uvicorn has no deadline on
    writing: each such connection, and its open file, was held for ever, a few hundred of them and
    the server had no file descriptor left to answer anyone (and a stop waited on them)."""
    monkeypatch.setattr(tracker.web, "WRITE_SECONDS", 2.0, raising=False)
    config = start(tmp_path, sqlite_url, mailbox)
    (tmp_path / "site" / "meetings.ics").write_bytes(b"BEGIN:VCALENDAR\r\n" + b"X" * (8 * 1024 * 1024))
    port = config.serve.port
    with running(config) as app:
        served = Served(app, config, mailbox)
        readers = []
        for _ in range(3):
            sock = socket.create_connection(("127.0.0.1", port))
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.sendall(b"GET /meetings.ics HTTP/1.1\r\nHost: x\r\n\r\n")
            readers.append(sock)
        wait_for(lambda: _held_connections(port) == 3, timeout=5)
        wait_for(lambda: _held_connections(port) == 0, timeout=10)
        for sock in readers:
            sock.close()
        # a reader that reads, however large the file, gets all of it
        answer = requests.get(served.base + "/meetings.ics", timeout=30)
        assert answer.status_code == 200 and len(answer.content) == 8 * 1024 * 1024 + 17


def test_a_visitor_s_malformed_requests_are_no_warnings_in_the_journal(tmp_path: Path, sqlite_url: str,
                                                                      mailbox: Mailbox,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    """Each garbage request (a TLS hello to the plain port, a WebSocket upgrade) was a WARNING from
    uvicorn, which the console and the journal show: any scanner on the internet wrote them at will,
    one or two a connection, among the lines that say the mail is failing."""
    config = start(tmp_path, sqlite_url, mailbox)
    caplog.set_level(logging.INFO)
    with running(config) as app:
        served = Served(app, config, mailbox)
        for request in (b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03 hello\r\n\r\n",
                        b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
                        b"GET /subscribe HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"):
            with socket.create_connection(("127.0.0.1", config.serve.port), timeout=5) as sock:
                sock.sendall(request)
                assert sock.recv(20).startswith(b"HTTP/1.1 ")
        assert served.visitor().get("/subscribe").status_code == 200
        wait_for(lambda: any(r.getMessage().startswith("GET /subscribe 200") for r in caplog.records), timeout=5)
    said = [r for r in caplog.records if r.name.startswith("uvicorn")]
    assert any(r.getMessage() == "Invalid HTTP request received." for r in said)
    assert [r.getMessage() for r in said if r.levelno >= logging.WARNING] == []


def test_a_domain_idna_reads_two_ways_is_refused_not_mailed_as_another(tmp_path: Path, sqlite_url: str,
                                                                      mailbox: Mailbox) -> None:
    """Python's idna codec is IDNA 2003: it wrote `ann@straße.de` as `ann@strasse.de` (another
    registered domain: today's registries and mail systems read straße.de as xn--strae-oqa.de) and
    dropped a zero-width joiner (`a\u200db.example` became `ab.example`). The confirmation, and
    every alert after it, went to a domain the person never typed."""
    config = start(tmp_path, sqlite_url, mailbox)
    with running(config) as app:
        served = Served(app, config, mailbox)
        for n, typed in enumerate(["ann@straße.de", "ann@a\u200db.example.org", "ann@ς.example.org"]):
            answer = served.visitor(forwarded_for=f"203.0.113.{n}").sign_up(typed)
            assert answer.status_code == 400 and "xn--" in answer.text, typed
        assert served.people() == []
        assert served.visitor().sign_up("ann@xn--strae-oqa.de").status_code == 200
        assert served.visitor(forwarded_for="198.51.100.3").sign_up("bo@bücher.de").status_code == 200
        served.settle()
        assert sorted(p[0] for p in served.people()) == ["ann@xn--strae-oqa.de", "bo@xn--bcher-kva.de"]
        wait_for(lambda: len(mailbox.messages) == 2)
        assert sorted(rcpt for rcpts, _ in mailbox.messages for rcpt in rcpts) == [
            "ann@xn--strae-oqa.de", "bo@xn--bcher-kva.de"]
