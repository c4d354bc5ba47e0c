"""A loopback inbox for the demo: receives what `tracker notify` posts to a `json://` target, so the
demo shows the alerts a subscriber would get without sending anything off this machine."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        try:
            message = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            message = {}
        with self.server.lock:
            self.server.messages.append(message)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.messages: list[dict[str, Any]] = []


class Inbox:
    """`with Inbox() as inbox:` a receiver on a free loopback port; `inbox.url` is its json:// URL."""

    def __enter__(self) -> Inbox:
        self._server = _Server()
        self._thread = threading.Thread(target=self._server.serve_forever, name="demo-inbox", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self._server.server_address[1]}/alerts"

    @property
    def messages(self) -> list[dict[str, Any]]:
        with self._server.lock:
            return list(self._server.messages)
