"""Real servers on 127.0.0.1 that tests send alerts to: an SMTP server (aiosmtpd) that can demand
AUTH and be stopped and started again on its port, and an HTTP receiver for `json://` webhooks."""

from __future__ import annotations

import json
import socket
import threading
import time
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Mailbox:
    """A real SMTP server on 127.0.0.1. With `user` and `password` it accepts mail only after AUTH
    (over plain SMTP, as a relay on a trusted network does) and records every login attempt."""

    def __init__(self, user: str | None = None, password: str | None = None) -> None:
        self.user, self.password = user, password
        self.logins: list[tuple[str, str, str, bool]] = []  # (mechanism, login, password, accepted)
        self.messages: list[tuple[list[str], Any]] = []
        self.lock = threading.Lock()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        sock.close()
        self.controller: Controller | None = None

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        accepted = (login, password) == (self.user, self.password)
        with self.lock:
            self.logins.append((mechanism, login, password, accepted))
        return AuthResult(success=accepted, handled=False)  # aiosmtpd answers 235 or 535

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 OK"

    def start(self) -> None:
        auth: dict[str, Any] = {}
        if self.user is not None:
            auth = {"auth_require_tls": False, "auth_required": True, "authenticator": self.authenticate}
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, **auth)
        self.controller.start()

    def stop(self) -> None:
        if self.controller:
            self.controller.stop()
            self.controller = None


class Receiver:
    """A real HTTP receiver for json:// webhooks: `status` decides its answer, `delay` how long each
    answer takes (so notifier processes started together really overlap)."""

    def __init__(self, delay: float = 0.0) -> None:
        self.posts: list[dict[str, Any]] = []
        self.status = 200
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if delay:
                    time.sleep(delay)
                if outer.status == 200:
                    try:
                        post = json.loads(body)
                    except ValueError:
                        post = {"path": self.path, "raw": body.decode("utf-8", "replace"),
                                "title": self.headers.get("X-Title") or self.headers.get("Title")}
                    with outer.lock:
                        outer.posts.append(post)
                self.send_response(outer.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.port = self.server.server_address[1]
