"""`tracker serve` attacked as an outsider would, and run as a careless operator would: each case a
real request to the real server on loopback (uvicorn, SQLite and PostgreSQL, aiosmtpd for mail).

- a store error in the middle of a sign-up: one masked line, never the traceback whose statement
  values name the address;
- one IPv6 client holds a whole /64: its addresses share the sign-up limit;
- one mailbox spelled many ways (case, `+tag`) shares the mailbox limit (no mail bombing);
- a confirmation mail the recipient's server refuses: the log names `person:N`, not the address;
- one confirmation link posted many times at once confirms once (PostgreSQL runs them together);
- a proxy on the IPv6 loopback is believed as one on 127.0.0.1 is;
- a form trickled in a byte at a time is cut off (slowloris on the body);
- a confirmation the recipient's server refuses for good is not tried again;
- digits `str.isdigit` takes and `int` refuses ("²") in a district or a CSRF token: a refusal in
  words, never a 503 and an ERROR line;
- a client hanging up mid-form is no ERROR line;
- many clients together, each under its limit, meet the server's own cap;
- a sign-up never confirmed is forgotten once its link is long expired;
- an address confirmed again voids the links its previous holder kept.
"""

from __future__ import annotations

import logging
import socket
import threading
import traceback
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
import requests
import serving
from servers import Mailbox
from serving import Visitor, running, serve_config, wait_for
from sqlalchemy import select, text
from test_serve import Served, confirm, start

from tracker import clock, people
from tracker import models as m
from tracker.web import app as web_app
from tracker.web.limits import EVERYONE, SlidingLimit

VICTIM = "victim@example.org"


def _log_text(records: list[logging.LogRecord]) -> str:
    """Everything the log records say, tracebacks included (what the journal would hold)."""
    parts = []
    for record in records:
        parts.append(record.getMessage())
        if record.exc_info:
            parts.append("".join(traceback.format_exception(*record.exc_info)))
    return "\n".join(parts)


def _fail_inserts_of_people(served: Served) -> None:
    """The store refusing the sign-up's first write (a full disk, a lost replica, a lock past its
    timeout), as its own error: the statement carries the address among its values."""
    with served.store.session() as session:
        if session.get_bind().dialect.name == "sqlite":
            session.execute(text("CREATE TRIGGER hw_fail BEFORE INSERT ON people "
                                 "BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END"))
        else:
            session.execute(text("CREATE FUNCTION hw_fail() RETURNS trigger AS $$ BEGIN "
                                 "RAISE EXCEPTION 'could not extend file'; END $$ LANGUAGE plpgsql"))
            session.execute(text("CREATE TRIGGER hw_fail BEFORE INSERT ON people "
                                 "FOR EACH ROW EXECUTE FUNCTION hw_fail()"))


def test_a_store_error_mid_sign_up_is_one_masked_line_and_never_the_address(
        tmp_path: Path, db_url: str, mailbox: Mailbox, caplog: pytest.LogCaptureFixture) -> None:
    config = start(tmp_path, db_url, mailbox)
    with running(config) as app:
        served = Served(app, config, mailbox)
        visitor = served.visitor()
        visitor.get("/subscribe")
        _fail_inserts_of_people(served)
        caplog.set_level(logging.INFO)
        answer = visitor.post("/subscribe", {"csrf": visitor.csrf, "email": VICTIM, "mode": "daily"})
        assert answer.status_code == 503 and "try again in a few minutes" in answer.text
        # the server's next answer is logged after all it logged of this one (one event loop)
        assert visitor.get("/subscribe").status_code == 200
        wait_for(lambda: any(r.getMessage().startswith("GET /subscribe 200") for r in caplog.records), timeout=5)
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        # one line, the app's own: no second report of the same failure with its traceback
        assert [r.getMessage().split(" failed:")[0] for r in errors] == ["serve: POST /subscribe"], _log_text(errors)
        assert "victim@" not in _log_text(caplog.records)
        assert served.people() == [] and served.count(m.PersonMail) == 0  # nothing half-saved


def test_the_addresses_of_one_ipv6_client_share_its_sign_up_limit(tmp_path: Path, sqlite_url: str,
                                                                   mailbox: Mailbox) -> None:
    """A home or a VPS gets a /64 (2^64 addresses): counting each address alone, one client signs
    up without limit by changing the last bits of its address between tries."""
    config = start(tmp_path, sqlite_url, mailbox, signups_per_client_hour=2)
    with running(config) as app:
        served = Served(app, config, mailbox)
        codes = [served.visitor(forwarded_for=f"2001:db8:1:2::{i:x}").sign_up(f"p{i}@example.org").status_code
                 for i in range(1, 5)]
        assert codes == [200, 200, 429, 429]
        assert served.visitor(forwarded_for="2001:db8:1:3::1").sign_up("q@example.org").status_code == 200
        # an IPv4 client seen through an IPv6 socket (::ffff:a.b.c.d) is that IPv4 client
        assert served.visitor(forwarded_for="::ffff:203.0.113.7").sign_up("r@example.org").status_code == 200
        assert served.visitor(forwarded_for="203.0.113.7").sign_up("s@example.org").status_code == 200
        assert served.visitor(forwarded_for="203.0.113.7").sign_up("t@example.org").status_code == 429


def test_one_mailbox_spelled_many_ways_shares_its_limit(tmp_path: Path, sqlite_url: str, mailbox: Mailbox) -> None:
    """Mail servers read `Victim@`, `VICTIM@` and `victim+x@` as the one mailbox `victim@`: a
    stranger typing each spelling once must not mail that mailbox once per spelling."""
    config = start(tmp_path, sqlite_url, mailbox, signups_per_address_hour=2)
    spellings = [VICTIM, "Victim@example.org", "VICTIM@EXAMPLE.ORG", "victim+1@example.org", "Victim+2@example.org"]
    with running(config) as app:
        served = Served(app, config, mailbox)
        codes = [served.visitor(forwarded_for=f"203.0.113.{i}").sign_up(typed).status_code
                 for i, typed in enumerate(spellings)]
        assert codes == [200, 200, 429, 429, 429]
        served.settle()
        assert len(mailbox.messages) == 2
        assert served.visitor(forwarded_for="198.51.100.1").sign_up("other@example.org").status_code == 200


def test_a_refused_confirmation_mail_is_logged_by_person_never_by_address(
        tmp_path: Path, sqlite_url: str, mailbox: Mailbox, caplog: pytest.LogCaptureFixture) -> None:
    """Anyone can sign up an address that does not exist; its server's refusal is a log line, and
    the people's addresses are never logged (tracker/people.py)."""
    mailbox.refuse[VICTIM] = "550 5.1.1 no such user"
    apprise_log = logging.getLogger("apprise")
    level = apprise_log.level
    apprise_log.setLevel(logging.WARNING)  # as `tracker serve` logs it (tracker/logs.py)
    caplog.set_level(logging.INFO)
    try:
        config = start(tmp_path, sqlite_url, mailbox)
        with running(config) as app:
            served = Served(app, config, mailbox)
            assert served.visitor().sign_up(VICTIM).status_code == 200
            wait_for(lambda: app.pages.mailer.failed >= 1)
            with served.store.session() as session:
                person = session.scalar(select(m.Person.id))
    finally:
        apprise_log.setLevel(level)
    said = _log_text([r for r in caplog.records if not r.name.startswith("mail.")])  # the SMTP server's own log
    assert "victim@" not in said, said
    assert f"person {person}" in said


def _lock_waiters(dbname: str) -> int:
    with psycopg.connect(f"host=127.0.0.1 port=5432 user=postgres dbname={dbname}", autocommit=True) as conn:
        return conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'",
                            (dbname,)).fetchone()[0]


def _one_after_another_on_the_person(dbname: str, first: Callable[[], int], second: Callable[[], int]) -> list[int]:
    """The answers of two requests that reach the person's row in this order while another
    transaction holds it, and go on once it lets go (PostgreSQL)."""
    answers: list[int] = [0, 0]
    threads = [threading.Thread(target=lambda n=n, ask=ask: answers.__setitem__(n, ask()))
               for n, ask in enumerate((first, second))]
    with psycopg.connect(f"host=127.0.0.1 port=5432 user=postgres dbname={dbname}") as holder:
        holder.execute("SELECT id FROM people FOR UPDATE")
        for waiting, thread in enumerate(threads, 1):
            thread.start()
            wait_for(lambda waiting=waiting: _lock_waiters(dbname) == waiting)
        holder.rollback()
    for thread in threads:
        thread.join(15)
    return answers


def test_one_confirmation_link_posted_many_times_at_once_confirms_once(tmp_path: Path, pg_url: str,
                                                                       mailbox: Mailbox) -> None:
    """A double click, or a link shared and opened at once: the link is used once. Each use that
    got through issued another preferences link that never expires (and started the follows again)."""
    config = start(tmp_path, pg_url, mailbox)
    dbname = pg_url.rsplit("/", 1)[1]
    with running(config) as app:
        served = Served(app, config, mailbox)
        served.visitor().sign_up(VICTIM)
        link = served.link_in(VICTIM, "c")
        clickers = [served.visitor() for _ in range(4)]
        for clicker in clickers:
            clicker.get(link)
        codes: list[int] = []
        # the person's row held by another transaction, so every confirm reaches it before any commits
        with psycopg.connect(f"host=127.0.0.1 port=5432 user=postgres dbname={dbname}") as holder:
            holder.execute("SELECT id FROM people FOR UPDATE")

            def click(clicker: object) -> None:
                codes.append(clicker.post(link, {"csrf": clicker.csrf}).status_code)  # type: ignore[attr-defined]

            threads = [threading.Thread(target=click, args=(c,)) for c in clickers]
            for thread in threads:
                thread.start()
            wait_for(lambda: _lock_waiters(dbname) == len(clickers))
            holder.rollback()
        for thread in threads:
            thread.join(15)
        assert sorted(codes) == [200, 404, 404, 404]
        assert served.people()[0][1] == "active"
        with served.store.session() as session:
            assert session.scalar(select(m.PersonToken.purpose)) == "manage"
            assert served.count(m.PersonToken) == 1


def test_an_unsubscribe_that_commits_while_a_confirm_waits_is_not_undone(tmp_path: Path, pg_url: str,
                                                                         mailbox: Mailbox) -> None:
    """An unsubscribe revokes unused confirmation links: a confirm that read its link before the
    unsubscribe committed must not make the person active after it."""
    config = start(tmp_path, pg_url, mailbox, resend_minutes=0)
    dbname = pg_url.rsplit("/", 1)[1]
    with running(config) as app:
        served = Served(app, config, mailbox)
        reader = served.visitor()
        reader.sign_up(VICTIM)
        unsubscribe = confirm(served, reader, VICTIM).replace("/p/", "/u/")
        one_click = {"data": b"List-Unsubscribe=One-Click",
                     "headers": {"Content-Type": "application/x-www-form-urlencoded"}, "timeout": 15}
        assert requests.post(served.base + unsubscribe, **one_click).status_code == 200
        reader.sign_up(VICTIM)  # back again: a new confirmation link, still unsubscribed until it is used
        wait_for(lambda: len(served.mails_to(VICTIM)) == 2)
        link = served.link_in(VICTIM, "c")
        reader.get(link)
        leave, join = _one_after_another_on_the_person(
            dbname, lambda: requests.post(served.base + unsubscribe, **one_click).status_code,
            lambda: reader.post(link, {"csrf": reader.csrf}).status_code)
        assert (leave, join) == (200, 404)
        assert served.status_of(VICTIM) == "unsubscribed"


def test_an_old_link_s_unsubscribe_waiting_on_a_re_confirm_is_refused(tmp_path: Path, pg_url: str,
                                                                      mailbox: Mailbox) -> None:
    """An unsubscribed address confirmed again (maybe by its new holder) voids the old links: an
    old link's one-click unsubscribe that read the link before that confirm committed, and waited
    for the person meanwhile, must not unsubscribe the person the confirm made active."""
    config = start(tmp_path, pg_url, mailbox, resend_minutes=0)
    dbname = pg_url.rsplit("/", 1)[1]
    with running(config) as app:
        served = Served(app, config, mailbox)
        before = served.visitor()
        before.sign_up(VICTIM)
        unsubscribe = confirm(served, before, VICTIM).replace("/p/", "/u/")
        one_click = {"data": b"List-Unsubscribe=One-Click",
                     "headers": {"Content-Type": "application/x-www-form-urlencoded"}, "timeout": 15}
        assert requests.post(served.base + unsubscribe, **one_click).status_code == 200
        after = served.visitor()
        after.sign_up(VICTIM)
        wait_for(lambda: len(served.mails_to(VICTIM)) == 2)
        link = served.link_in(VICTIM, "c")
        after.get(link)
        join, leave = _one_after_another_on_the_person(
            dbname, lambda: after.post(link, {"csrf": after.csrf}).status_code,
            lambda: requests.post(served.base + unsubscribe, **one_click).status_code)
        assert (join, leave) == (200, 404)
        assert served.status_of(VICTIM) == "active"


def test_a_proxy_on_the_ipv6_loopback_names_the_client(tmp_path: Path, sqlite_url: str, mailbox: Mailbox) -> None:
    """Served on [::1] (`[serve] host = "::1"`), the proxy on this machine connects from ::1: its
    `X-Forwarded-For` must count, or every visitor is one client and one abuser's few sign-ups
    close the form to everyone for an hour."""
    held = socket.socket(socket.AF_INET6)
    held.bind(("::1", 0))
    port = held.getsockname()[1]
    serving._HELD[port] = held  # `running` serves on it
    config = serve_config(tmp_path, sqlite_url, mailbox.port, port,
                          serve={"host": "::1", "public_url": f"http://[::1]:{port}", "signups_per_client_hour": 2})
    (tmp_path / "site").mkdir()
    with running(config):
        base = f"http://[::1]:{port}"
        abuser = Visitor(base, "203.0.113.9")
        assert [abuser.sign_up(f"p{i}@example.org").status_code for i in range(3)] == [200, 200, 429]
        assert Visitor(base, "198.51.100.4").sign_up("reader@example.org").status_code == 200


def test_a_form_trickled_byte_by_byte_is_cut_off(tmp_path: Path, sqlite_url: str, mailbox: Mailbox,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Slowloris on the body: a POST that announces its form and then sends it a byte now and then
    holds a connection (and a file descriptor) for as long as it likes; a few hundred of them and the
    server can take no one else. Caddy, one of the documented proxies, passes bodies on as they come."""
    monkeypatch.setattr(web_app, "BODY_SECONDS", 1.0, raising=False)
    config = start(tmp_path, sqlite_url, mailbox)
    with running(config) as app:
        served = Served(app, config, mailbox)
        with socket.create_connection(("127.0.0.1", config.serve.port), timeout=6) as slow:
            slow.sendall(b"POST /subscribe HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 200\r\n\r\ncsrf=")
            answer = b""
            while b"\r\n\r\n" not in answer:
                chunk = slow.recv(4096)
                assert chunk, answer
                answer += chunk
            assert answer.startswith(b"HTTP/1.1 408 "), answer
            while chunk:  # and the connection is closed
                chunk = slow.recv(4096)
        assert served.people() == []
        assert served.visitor().sign_up("reader@example.org").status_code == 200


def test_a_confirmation_the_recipients_server_refuses_for_good_is_not_tried_again(
        tmp_path: Path, sqlite_url: str, mailbox: Mailbox) -> None:
    """Anyone may sign up addresses that do not exist: each refusal tried again `max_tries` times
    is that many more mails to a mailbox that is not there (what marks a sender as a spammer).
    A refusal for now (4xx) is tried again as before."""
    mailbox.refuse[VICTIM] = "550 5.1.1 <{address}>: no such user"
    mailbox.refuse["busy@example.org"] = "450 4.2.1 mailbox busy, try later"
    config = start(tmp_path, sqlite_url, mailbox, alerts={"max_tries": 3, "retry_seconds": 1})
    with running(config) as app:
        served = Served(app, config, mailbox)
        served.visitor().sign_up(VICTIM)
        served.visitor().sign_up("busy@example.org")

        def state() -> dict[str, tuple[str, int, str]]:
            with served.store.session() as session:
                return {address: (status, tries, error or "") for address, status, tries, error in session.execute(
                    select(m.Person.address, m.PersonMail.status, m.PersonMail.tries, m.PersonMail.last_error)
                    .join(m.Person, m.Person.id == m.PersonMail.person_id))}

        wait_for(lambda: state()["busy@example.org"][:2] == ("failed", 3), timeout=30)
        status, tries, error = state()[VICTIM]
        assert (status, tries) == ("failed", 1)
        assert "550" in error and "victim@" not in error


@pytest.mark.parametrize("district", ["²", "¹⁰", "①"])
def test_a_district_of_digits_int_cannot_read_or_an_overlong_action_is_refused_in_words(
        tmp_path: Path, sqlite_url: str, mailbox: Mailbox, district: str, caplog: pytest.LogCaptureFixture) -> None:
    """`str.isdigit` says yes to superscripts and circled digits, which `int` refuses: each such
    form was a 503 "something went wrong on our side" and an ERROR line anyone could write at will."""
    config = start(tmp_path, sqlite_url, mailbox)
    caplog.set_level(logging.INFO, logger="tracker.web")
    with running(config) as app:
        served = Served(app, config, mailbox)
        reader = served.visitor()
        answer = reader.sign_up(VICTIM, state="MA", district=district)
        assert answer.status_code == 400 and "The district must be a number" in answer.text
        reader.sign_up(VICTIM, state="MA", district="7")
        manage = confirm(served, reader, VICTIM)
        reader.get(manage)
        saved = reader.post(manage, {"csrf": reader.csrf, "action": "save", "mode": "daily", "state": "MA",
                                     "district": district})
        assert saved.status_code == 400 and "The district must be a number" in saved.text
        too_long = reader.post(manage, {"csrf": reader.csrf, "action": "x" * 400, "mode": "daily"})
        assert too_long.status_code == 400 and "is too long" in too_long.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_csrf_token_of_digits_int_cannot_read_is_refused_in_words(
        tmp_path: Path, sqlite_url: str, mailbox: Mailbox, caplog: pytest.LogCaptureFixture) -> None:
    config = start(tmp_path, sqlite_url, mailbox)
    caplog.set_level(logging.INFO, logger="tracker.web")
    with running(config) as app:
        served = Served(app, config, mailbox)
        bot = served.visitor()
        bot.get("/subscribe")  # a cookie of ours
        for forged in ("²." + "0" * 40, "①." + "0" * 40):
            answer = bot.post("/subscribe", {"csrf": forged, "email": VICTIM, "mode": "instant"})
            assert answer.status_code == 403 and "did not come from this site" in answer.text
        with socket.create_connection(("127.0.0.1", config.serve.port), timeout=10) as raw:
            raw.sendall(b"POST /subscribe HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: \xb2\r\n\r\nemail=a")
            assert raw.recv(4096).split(b" ")[1] in (b"400", b"413")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert served.people() == []


def test_a_client_that_hangs_up_mid_form_is_no_error_of_ours(tmp_path: Path, sqlite_url: str, mailbox: Mailbox,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    """Anyone can start a form and hang up: that is the access line's, never an ERROR line saying
    something of ours failed (operators are woken by those)."""
    config = start(tmp_path, sqlite_url, mailbox)
    caplog.set_level(logging.INFO, logger="tracker.web")
    with running(config) as app:
        served = Served(app, config, mailbox)
        for _ in range(3):
            with socket.create_connection(("127.0.0.1", config.serve.port), timeout=5) as gone:
                gone.sendall(b"POST /subscribe HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                             b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 200\r\n\r\ncsrf=")
        wait_for(lambda: sum(r.getMessage().startswith("POST /subscribe ") for r in caplog.records) == 3, timeout=10)
        assert served.visitor().sign_up("reader@example.org").status_code == 200
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


def test_many_clients_each_under_their_limit_cannot_make_the_server_mail_without_end(
        tmp_path: Path, db_url: str, mailbox: Mailbox) -> None:
    """Each client and each mailbox under its own limit, many of them together (a botnet, a few
    IPv6 /64s) still made the server mail as many strangers as they liked: the server's own cap
    refuses the sign-up past it as the other limits do, nothing stored, nothing sent."""
    config = start(tmp_path, db_url, mailbox, signups_per_hour=3)
    with running(config) as app:
        served = Served(app, config, mailbox)
        answers = [served.visitor(forwarded_for=f"203.0.113.{i}").sign_up(f"p{i}@example.org") for i in range(5)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429, 429]
        assert "Too many sign-ups in the last hour" in answers[3].text
        served.settle()
        assert sorted(p[0] for p in served.people()) == ["p0@example.org", "p1@example.org", "p2@example.org"]
        assert served.count(m.PersonMail) == 3 and len(mailbox.messages) == 3


def test_a_sign_up_never_confirmed_is_forgotten_once_its_link_is_long_expired(
        tmp_path: Path, db_url: str, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch) -> None:
    """Anyone may type a stranger's address: a pending person nobody confirms was kept for ever.
    Once the confirmation window and a week's grace have passed, the mail worker deletes them with
    their choices, links and mails; a pending person whose mail is still being tried, and anyone
    active, unsubscribed or bounced, stays."""
    mailbox.refuse["busy@example.org"] = "450 4.2.1 mailbox busy, try later"
    config = start(tmp_path, db_url, mailbox, resend_minutes=0, alerts={"max_tries": 100, "retry_seconds": 1})
    with running(config) as app:
        served = Served(app, config, mailbox)
        reader = served.visitor()
        for address in ("stranger@example.org", "ann@example.org", "left@example.org", "bo@example.org",
                        "busy@example.org"):
            assert reader.sign_up(address, mode="daily").status_code == 200
        served.link_in("stranger@example.org", "c")
        confirm(served, reader, "ann@example.org")
        unsubscribe = confirm(served, reader, "left@example.org").replace("/p/", "/u/")
        assert requests.post(served.base + unsubscribe, data=b"List-Unsubscribe=One-Click", timeout=10,
                             headers={"Content-Type": "application/x-www-form-urlencoded"}).status_code == 200
        assert served.visitor().sign_up("left@example.org", state="NY").status_code == 200  # never confirmed
        wait_for(lambda: len(served.mails_to("left@example.org")) == 2)
        confirm(served, reader, "bo@example.org")
        with served.store.session() as session:
            bo = session.scalar(select(m.Person.id).where(m.Person.address == "bo@example.org"))
            assert people.record_bounce(session, bo, 1)
        wait_for(lambda: app.pages.mailer.failed >= 1)  # busy@'s confirmation: owed, tried again

        def addresses() -> list[str]:
            return sorted(p[0] for p in served.people())

        everyone = sorted(["stranger@example.org", "ann@example.org", "left@example.org", "bo@example.org",
                           "busy@example.org"])
        # within the window and the grace (48 h + 7 days): kept
        with served.store.session() as session:
            assert session.scalar(select(m.Person.returning_choices).where(
                m.Person.address == "left@example.org"))["state"] == "NY"
        monkeypatch.setenv("TRACKER_NOW", (clock.now() + timedelta(days=8)).isoformat())
        app.pages.mailer.send_due()
        assert addresses() == everyone
        monkeypatch.setenv("TRACKER_NOW", (clock.now() + timedelta(days=2)).isoformat())
        app.pages.mailer.wake()  # as every look of the worker does
        wait_for(lambda: "stranger@example.org" not in addresses())
        assert addresses() == [a for a in everyone if a != "stranger@example.org"]
        with served.store.session() as session:
            assert session.scalars(select(m.Person.returning_choices)).all() == [None] * 4  # left@'s gone too
            kept = set(session.scalars(select(m.Person.id)))
            assert set(session.scalars(select(m.PersonToken.person_id))) <= kept
            assert set(session.scalars(select(m.PersonMail.person_id))) <= kept
            statuses = dict(session.execute(select(m.Person.address, m.Person.status)).all())
        assert statuses == {"ann@example.org": "active", "left@example.org": "unsubscribed",
                            "bo@example.org": "bounced", "busy@example.org": "pending"}
        # the address may sign up again as anyone new
        assert served.visitor().sign_up("stranger@example.org").status_code == 200
        wait_for(lambda: "stranger@example.org" in addresses())


def test_a_reconfirmed_address_voids_the_links_its_previous_holder_kept(tmp_path: Path, db_url: str,
                                                                       mailbox: Mailbox) -> None:
    """Preferences links never expired and survived an unsubscribe and a later confirm: whoever
    held a recycled address before kept seeing and changing what its new owner gets, could
    unsubscribe them or delete their data. A confirm proves control of the mailbox now: every
    earlier link stops working. Until then, an unsubscribed person's link still shows that and
    deletes their data (docs/operations.md)."""
    config = start(tmp_path, db_url, mailbox, resend_minutes=0)
    with running(config) as app:
        served = Served(app, config, mailbox)
        before = served.visitor()
        before.sign_up(VICTIM, mode="daily")
        first = confirm(served, before, VICTIM)
        before.sign_up(VICTIM)  # already subscribed: the preferences link by mail
        wait_for(lambda: len(served.mails_to(VICTIM)) == 2)
        mailed = served.link_in(VICTIM, "p")
        assert requests.post(served.base + first.replace("/p/", "/u/"), data=b"List-Unsubscribe=One-Click",
                             timeout=10, headers={"Content-Type": "application/x-www-form-urlencoded"}
                             ).status_code == 200
        assert "You are unsubscribed" in before.get(first).text  # still shows where they stand

        after = served.visitor()  # the address's new holder
        after.sign_up(VICTIM, mode="weekly")
        wait_for(lambda: len(served.mails_to(VICTIM)) == 3)
        now = confirm(served, after, VICTIM)
        for old in (first, mailed):
            assert before.get(old).status_code == 404
            assert before.get(old.replace("/p/", "/u/")).status_code == 404
            assert before.post(old, {"csrf": before.csrf, "action": "save", "mode": "instant"}).status_code == 404
            assert before.post(old, {"csrf": before.csrf, "action": "delete"}).status_code == 404
            assert requests.post(served.base + old.replace("/p/", "/u/"), data=b"List-Unsubscribe=One-Click",
                                 timeout=10, headers={"Content-Type": "application/x-www-form-urlencoded"}
                                 ).status_code == 404
        assert served.people() == [(VICTIM, "active", "weekly", None)]
        assert after.get(now).status_code == 200
        with served.store.session() as session:
            assert served.count(m.PersonToken) == 1
            assert session.scalar(select(m.PersonToken.purpose)) == "manage"


def test_the_server_wide_cap_counts_only_the_sign_ups_it_let_through() -> None:
    """Refused sign-ups counted too, one client hammering the shared cap would keep it closed to
    everyone for as long as it kept trying; counted as let through, it opens an hour after them."""
    cap = SlidingLimit(2, count_refused=False)
    assert [cap.allow(EVERYONE, now=t) for t in (0.0, 1.0, 2.0, 3.0, 3599.0)] == [True, True, False, False, False]
    assert cap.allow(EVERYONE, now=3600.5)  # the first has slid out of the hour


def test_a_returning_sign_up_s_choices_wait_for_its_confirm(tmp_path: Path, db_url: str, mailbox: Mailbox) -> None:
    """An unsubscribed address signed up again had its choices replaced at once: whoever held the
    person's old preferences link (the address's previous holder, or its owner when a stranger typed
    it) saw where the new sign-up lives and could change what its confirm would start. The new
    choices now wait apart until the confirm; the old link shows and changes only its own."""
    config = start(tmp_path, db_url, mailbox, resend_minutes=0)
    with running(config) as app:
        served = Served(app, config, mailbox)
        before = served.visitor()
        before.sign_up(VICTIM, mode="daily", state="MA", district="7")
        first = confirm(served, before, VICTIM)
        assert requests.post(served.base + first.replace("/p/", "/u/"), data=b"List-Unsubscribe=One-Click",
                             timeout=10, headers={"Content-Type": "application/x-www-form-urlencoded"}
                             ).status_code == 200

        after = served.visitor()
        after.sign_up(VICTIM, mode="weekly", state="NY", district="12")
        wait_for(lambda: len(served.mails_to(VICTIM)) == 2)
        page = before.get(first).text  # the old link, before the new holder confirms
        assert "You are unsubscribed" in page
        assert '<option value="MA" selected>' in page and 'value="7"' in page
        assert '"NY" selected' not in page and 'value="12"' not in page
        saved = before.post(first, {"csrf": before.csrf, "action": "save", "mode": "instant", "state": "TX",
                                    "district": "3"})
        assert saved.status_code == 200
        assert served.people() == [(VICTIM, "unsubscribed", "instant", None)]

        now = confirm(served, after, VICTIM)
        assert served.people() == [(VICTIM, "active", "weekly", None)]
        mine = after.get(now).text
        assert '<option value="NY" selected>' in mine and 'value="12"' in mine
        with served.store.session() as session:
            assert session.scalar(select(m.Person.returning_choices)) is None
