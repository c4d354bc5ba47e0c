"""A meeting feed behind HTTP Basic auth, its login written in its address
(`ical = "http://reader:${FEED_PASSWORD}@host/board.ics"`: a private calendar, a CMS or Nextcloud
export): read as curl reads it, the login sent as an `Authorization` header to that address's own
origin only, and its password in no output, log line or database row. Real parts: an HTTP server on
127.0.0.1 demanding the login, serving the recorded Detroit board feed; the real crawl and the real
`tracker` command. (The crawl failed on such an address: "invalid hostname".)"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from test_detect import config_for, detect
from test_input_attack import NOW
from test_legistar import shifted_ics
from twisted.internet.address import IPv4Address

from spiders.middlewares import PINNED
from tracker.config import load_config
from tracker.crawl import run_crawls
from tracker.demo.replay import ReplayServer
from tracker.store import Store

ETAG = '"board-v1"'


class LoginServer:
    """A real HTTP server on 127.0.0.1. `routes`: path -> (status, headers, body, login needed). A
    route needing the login answers 401 without the right `Authorization: Basic` (user and password
    as decoded); the feed answers 304 to its ETag. Every request's path and headers are kept."""

    def __init__(self, user: str = "", password: str = "") -> None:
        self.expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        self.routes: dict[str, tuple[int, dict[str, str], bytes, bool]] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append((self.path, dict(self.headers.items())))
                status, headers, body, needs_login = server.routes.get(self.path, (404, {}, b"not here\n", False))
                if needs_login and self.headers.get("Authorization") != server.expected:
                    status, headers, body = 401, {"WWW-Authenticate": 'Basic realm="board"'}, b"login, please\n"
                elif headers.get("ETag") and self.headers.get("If-None-Match") == headers["ETag"]:
                    status, body = 304, b""
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def feed(self, path: str = "/board.ics", *, login: bool = True) -> None:
        self.routes[path] = (200, {"Content-Type": "text/calendar", "ETag": ETAG,
                                   "Last-Modified": "Wed, 31 May 2023 08:00:00 GMT"}, shifted_ics(), login)

    def asked(self, path: str) -> list[dict[str, str]]:
        """The headers of each request for `path`."""
        return [headers for asked, headers in self.requests if asked == path]

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def servers() -> Iterator[list[LoginServer]]:
    made: list[LoginServer] = []
    yield made
    for server in made:
        server.stop()


def login_server(servers: list[LoginServer], user: str = "", password: str = "") -> LoginServer:
    server = LoginServer(user, password)
    servers.append(server)
    return server


def watch_config(tmp_path: Path, address: str) -> Path:
    path = tmp_path / "tracker.toml"
    path.write_text(f'[tracker]\nlog_file = "tracker.log"\n[crawl]\ndelay_seconds = 0\nretries = 2\n'
                    f'[[meetings]]\nid = "board"\nname = "Detroit Board of Education"\n'
                    f'timezone = "America/Detroit"\nical = "{address}"\n')
    return path


def tracker(config: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The real command line, in its own process."""
    environment = {**os.environ, "TRACKER_NOW": NOW, **env}
    environment.pop("TRACKER_CONFIG", None)
    return subprocess.run([sys.executable, "-m", "tracker.cli", "--config", str(config), *args], env=environment,
                          capture_output=True, text=True, timeout=180, cwd=config.parent)


def database_text(url: str) -> str:
    """Every text column of every row of every table, one value a line."""
    engine = sa.create_engine(url)
    values: list[str] = []
    try:
        meta = sa.MetaData()
        meta.reflect(engine)
        with engine.connect() as connection:
            for table in meta.sorted_tables:
                for row in connection.execute(table.select()):
                    values += [str(value) for value in row if isinstance(value, str)]
    finally:
        engine.dispose()
    return "\n".join(values)


def token(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


# -- the feed is read with its login, and nothing shows it ------------------------------------------


@pytest.mark.parametrize(("written", "env", "user", "password"), [
    # an `@` in the password is fine as it is
    ("reader:${FEED_PASSWORD}", {"FEED_PASSWORD": "Fe3d@Passw0rd-x"}, "reader", "Fe3d@Passw0rd-x"),
    # so are "/", "?", "#" and "%": percent-encoded as they are put in, as a notify URL's are
    ("reader:${FEED_PASSWORD}", {"FEED_PASSWORD": "Pa/ss?w#0rd%z@1"}, "reader", "Pa/ss?w#0rd%z@1"),
    # written percent-encoded, as an address must hold an `@`, `/` or `%`: sent decoded, as curl does
    ("reader%40board:Pa%40ss%2Fw0rd%25z", {}, "reader@board", "Pa@ss/w0rd%z"),
], ids=["from the environment", "from the environment, any character", "written percent-encoded"])
@pytest.mark.slow
def test_a_feed_behind_a_login_is_read_and_its_password_shown_nowhere(
        tmp_path: Path, servers: list[LoginServer], written: str, env: dict[str, str], user: str,
        password: str) -> None:
    server = login_server(servers, user, password)
    server.feed()
    config = watch_config(tmp_path, f"http://{written}@127.0.0.1:{server.port}/board.ics")
    runs = [tracker(config, "--verbose", "crawl", **env), tracker(config, "--verbose", "crawl", **env)]
    runs += [tracker(config, *args, **env) for args in (["status"], ["status", "--json"], ["digest"])]
    assert runs[0].returncode == 0, runs[0].stderr
    assert runs[1].returncode == 0, runs[1].stderr
    # the login went as a header, the address asked without it; the second run a conditional GET (304)
    first, second = server.asked("/board.ics")
    assert first["Authorization"] == second["Authorization"] == server.expected
    assert "If-None-Match" not in first and second["If-None-Match"] == ETAG
    store = Store(load_config(config, env=env).database_url)
    text = database_text(store.url)
    assert "School Board Meeting" in text or "Board" in text
    assert f"127.0.0.1:{server.port}/board.ics" in text  # stored under the address without its login
    with store.session() as session:
        counted = session.execute(sa.text("SELECT COUNT(*) FROM entities WHERE key LIKE 'meeting:ical:board:%'"))
        assert counted.scalar_one() > 5
        ok = session.execute(sa.text("SELECT ok, not_modified FROM runs ORDER BY id")).all()
    assert [tuple(row) for row in ok][-2:] == [(True, 0), (True, 1)]
    log = (tmp_path / "tracker.log").read_text()
    assert f"127.0.0.1:{server.port}/board.ics" in log  # Scrapy's request lines are in it (--verbose)
    said = "\n".join(run.stdout + run.stderr for run in runs)
    written_password = written.partition(":")[2]
    for secret in {password, written_password, token(user, password)} - {"${FEED_PASSWORD}"}:
        assert secret not in said, secret
        assert secret not in log, secret
        assert secret not in text, secret
        assert secret.encode() not in (tmp_path / "tracker.db").read_bytes(), secret
        for file in (tmp_path / "site").rglob("*"):
            assert not file.is_file() or secret.encode() not in file.read_bytes(), (file, secret)
    assert "Authorization" not in log


# -- the login goes to its own origin only --------------------------------------------------------


@pytest.mark.parametrize("how", ["302", "meta refresh", "302 carrying a login of its own"])
def test_the_login_is_not_sent_where_a_redirect_leads(tmp_path: Path, servers: list[LoginServer],
                                                      monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    """The feed's server sends the reader on to another server (another port of this machine: another
    origin): that server gets no `Authorization`, robots.txt included (nor one of a login the
    redirect itself names), and its feed is read; a redirect within the origin keeps the login."""
    monkeypatch.setenv("TRACKER_NOW", NOW)
    server, elsewhere = login_server(servers, "reader", "Fe3dPassw0rd-x"), login_server(servers)
    elsewhere.feed(login=False)
    target = f"http://127.0.0.1:{elsewhere.port}/board.ics"
    if how.startswith("302"):
        # a Location holding a login is asked without it: only the address's own login is ever sent
        location = target.replace("//", "//someone:Th3irPassw0rd@") if "login" in how else target
        server.routes["/moved.ics"] = (302, {"Location": location}, b"moved\n", True)
    else:
        page = f'<html><head><meta http-equiv="refresh" content="0;url={target}"></head><body>Moved</body></html>'
        server.routes["/moved.ics"] = (200, {"Content-Type": "text/html"}, page.encode(), True)
    config = load_config(watch_config(tmp_path, f"http://reader:Fe3dPassw0rd-x@127.0.0.1:{server.port}/moved.ics"),
                         env={})
    (report,) = run_crawls(config, Store(config.database_url))
    assert report.ok and report.items > 5, report.errors
    assert server.asked("/moved.ics")[0]["Authorization"] == server.expected
    assert elsewhere.requests and all("Authorization" not in headers for _, headers in elsewhere.requests)
    # within its own origin the login goes on
    server.feed()
    server.routes["/old.ics"] = (301, {"Location": "/board.ics"}, b"moved\n", True)
    config = load_config(watch_config(tmp_path, f"http://reader:Fe3dPassw0rd-x@127.0.0.1:{server.port}/old.ics"),
                         env={})
    (report,) = run_crawls(config, Store(config.database_url))
    assert report.ok and report.items > 5, report.errors
    assert server.asked("/board.ics")[-1]["Authorization"] == server.expected


def test_the_login_is_not_sent_to_another_name_of_the_same_server(tmp_path: Path, servers: list[LoginServer],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A redirect to `localhost` on the same port is another host (curl's rule): asked without the
    login, its 401 the source's one line, saying where the feed moved (it said only "HTTP 401",
    the operator left to guess why a right password was refused)."""
    monkeypatch.setenv("TRACKER_NOW", NOW)
    server = login_server(servers, "reader", "Fe3dPassw0rd-x")
    server.feed()
    server.routes["/moved.ics"] = (302, {"Location": f"http://localhost:{server.port}/board.ics"}, b"", True)
    config = load_config(watch_config(tmp_path, f"http://reader:Fe3dPassw0rd-x@127.0.0.1:{server.port}/moved.ics"),
                         env={})
    (report,) = run_crawls(config, Store(config.database_url))
    (line,) = report.errors
    assert line == (f"ical:board: feed: HTTP 401: redirected from http://127.0.0.1:{server.port} to "
                    f"http://localhost:{server.port}, where the login given in the address is not sent; write the "
                    f"address it moved to (http://localhost:{server.port}/board.ics)"), line
    assert [h.get("Authorization") for h in server.asked("/board.ics")] == [None]


def test_a_login_is_not_sent_in_clear_to_a_public_address(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Over plain http the login would cross the internet readable by anyone on the way: to a public
    address the request is not sent at all (robots.txt neither), one line saying why. (The name is
    pinned to a public address, as a DNS answer would pin it: nothing connects anywhere.)"""
    monkeypatch.setenv("TRACKER_NOW", NOW)
    monkeypatch.setitem(PINNED.pinned, "feed.public-board.test", [IPv4Address("TCP", "93.184.215.14", 0)])
    config = load_config(watch_config(tmp_path, "http://reader:Fe3dPassw0rd-x@feed.public-board.test/board.ics"),
                         env={})
    (report,) = run_crawls(config, Store(config.database_url))
    (line,) = report.errors
    assert line == ("ical:board: feed: the login in the address is not sent over plain http to "
                    "feed.public-board.test (93.184.215.14, not this machine nor a private network): anyone on "
                    "the way could read it; use https (http://feed.public-board.test/board.ics)"), line
    assert report.requests == 0


# -- a wrong password ------------------------------------------------------------------------------


def test_a_wrong_password_is_one_line_without_it(tmp_path: Path, servers: list[LoginServer]) -> None:
    """One request, one line naming the refusal; no retries, no password."""
    server = login_server(servers, "reader", "TheRightPassw0rd")
    server.feed()
    config = watch_config(tmp_path, f"http://reader:${{FEED_PASSWORD}}@127.0.0.1:{server.port}/board.ics")
    run = tracker(config, "crawl", FEED_PASSWORD="Wr0ngPassw0rd-q")
    assert run.returncode == 1
    lines = [line for line in run.stderr.splitlines() if "ical:board" in line]
    assert lines == [f"ical:board: feed: HTTP 401: the server refused the login given in the address "
                     f"(http://127.0.0.1:{server.port}/board.ics)"], run.stderr
    assert len(server.asked("/board.ics")) == 1
    status = tracker(config, "status", FEED_PASSWORD="Wr0ngPassw0rd-q")
    for said in (run.stdout + run.stderr, status.stdout + status.stderr, (tmp_path / "tracker.log").read_text(),
                 database_text(load_config(config, env={"FEED_PASSWORD": "x"}).database_url)):
        assert "Wr0ngPassw0rd-q" not in said and token("reader", "Wr0ngPassw0rd-q") not in said
    assert "refused the login" in status.stdout + status.stderr


# -- `tracker sources detect` ----------------------------------------------------------------------


def test_detect_reads_a_feed_behind_a_login_and_prints_no_password(tmp_path: Path, servers: list[LoginServer],
                                                                  replay: ReplayServer) -> None:
    """Read with the login; printed without it; the block reads the address from the environment."""
    server = login_server(servers, "reader", "Fe3dPassw0rd-x")
    server.feed()
    address = f"http://reader:Fe3dPassw0rd-x@127.0.0.1:{server.port}/board.ics"
    result = detect(config_for(tmp_path, replay), address)
    assert result.exit_code == 0, result.output
    assert server.asked("/board.ics")[0]["Authorization"] == server.expected
    assert "Fe3dPassw0rd-x" not in result.output and token("reader", "Fe3dPassw0rd-x") not in result.output
    assert f"http://127.0.0.1:{server.port}/board.ics (its key left out)" in result.stdout
    assert 'ical = "${' in result.stdout and '_URL}"' in result.stdout
    # a wrong password: one line saying so, without it
    wrong = address.replace("Fe3dPassw0rd-x", "Wr0ngPassw0rd-q")
    result = detect(config_for(tmp_path, replay), wrong)
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.splitlines() == [f"http://127.0.0.1:{server.port}/board.ics (its key left out): "
                                          "HTTP 401: the server refused the login given in the address"]
