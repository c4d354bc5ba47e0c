"""`tracker serve` for tests and the benchmark: the real app under uvicorn on a free loopback port
(a thread of the test process), a config whose `[alerts] mail_url` is a loopback SMTP server, and a
client that reads the pages as a browser would (cookies, the form's CSRF token, no redirects)."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import Message
from pathlib import Path
from typing import Any

import requests

from tracker.config import Config, load_config
from tracker.web import server as tracker_server

WATCHES = [{"id": "police", "name": "Police accountability", "numbers": ["s35-117"]},
           {"id": "housing", "name": "Housing first", "numbers": ["hr1-117"]}]
CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')


_HELD: dict[int, socket.socket] = {}  # port -> its socket, bound (never listening) until `running` serves on it


def free_port() -> int:
    """A loopback port kept bound by this process until `running` listens on it (or `release_port`
    frees it for another process): a port closed and bound again later could be taken in between
    by another test's server on this busy machine ("address already in use")."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    _HELD[port] = sock
    return port


def release_port(port: int) -> None:
    """Free a port from `free_port` for a `tracker serve` of another process to bind."""
    if sock := _HELD.pop(port, None):
        sock.close()


def serve_config(folder: Path, db_url: str, mail_port: int, port: int, serve: dict[str, Any] | None = None,
                 alerts: dict[str, Any] | None = None) -> Config:
    """Two bill watches, the digest in folder/site, mail through the loopback SMTP server."""
    serve_keys = {"port": port, "public_url": f"http://127.0.0.1:{port}", **(serve or {})}
    serve_keys = {key: value for key, value in serve_keys.items() if value is not None}
    alert_keys = {"max_tries": 3, "retry_seconds": 1, "timeout_seconds": 5,
                  "mail_url": f"mailto://tracker:@127.0.0.1:{mail_port}?smtp=127.0.0.1&from=alerts@example.org"
                              "&user=&pass=", **(alerts or {})}

    def table(header: str, keys: dict[str, Any]) -> str:
        return header + "\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in keys.items())

    text = (table("[storage]", {"url": db_url}) + table("[digest]", {"out": "site"}) + table("[alerts]", alert_keys)
            + table("[serve]", serve_keys) + "".join(table("[[bills]]", w) for w in WATCHES))
    (folder / "tracker.toml").write_text(text)
    return load_config(folder / "tracker.toml", env={})


def _toml(value: Any) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return str(value).lower() if isinstance(value, bool) else str(value)


@contextmanager
def running(config: Config, poll: float = 0.3, *, separate_mailer: bool = False) -> Iterator[Any]:
    """The app under uvicorn in a thread until the block ends; yields the app (its `pages`). Mail
    is sent from a thread of this process unless `separate_mailer` (as `tracker serve` does)."""
    server = tracker_server(config, separate_mailer=separate_mailer)  # as `tracker serve` builds it
    app = server.config.app
    app.pages.mailer.poll = poll
    held = _HELD.pop(config.serve.port, None)  # served on the socket that kept the port, never unbound
    thread = threading.Thread(target=server.run, kwargs={"sockets": [held] if held else None}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "tracker serve did not start"
        time.sleep(0.02)
    try:
        yield app
    finally:
        server.should_exit = True
        thread.join(15)
        app.pages.store.dispose()


class Visitor:
    """One browser: its cookies, the last page's CSRF token."""

    def __init__(self, base: str, forwarded_for: str | None = None) -> None:
        self.base = base
        self.http = requests.Session()
        if forwarded_for:
            self.http.headers["X-Forwarded-For"] = forwarded_for
        self.csrf = ""

    def get(self, path: str) -> requests.Response:
        answer = self.http.get(self.base + path, allow_redirects=False, timeout=10)
        if found := CSRF_FIELD.search(answer.text):
            self.csrf = found.group(1)
        return answer

    def post(self, path: str, data: Any, **kw: Any) -> requests.Response:
        return self.http.post(self.base + path, data=data, allow_redirects=False, timeout=10, **kw)

    def sign_up(self, email: str, **fields: Any) -> requests.Response:
        if not self.csrf:
            self.get("/subscribe")
        return self.post("/subscribe", {"csrf": self.csrf, "email": email, "mode": "instant", "website": "", **fields})


def body_of(message: Message) -> str:
    parts = message.walk() if message.is_multipart() else [message]
    texts = []
    for part in parts:
        if part.get_content_type() in ("text/plain", "text/html"):
            payload = part.get_payload(decode=True)
            texts.append(payload.decode(part.get_content_charset() or "utf-8", "replace"))
    return "\n".join(texts)


# A mail sent from a spawned mail process (as `tracker serve` sends) waits for that process to start
# and import apprise: seconds alone, tens of seconds on a loaded 2-core machine running the suite.
SPAWNED_MAIL_WAIT = 60.0


def wait_for(predicate: Any, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)
