"""A real HTTP server on 127.0.0.1 that serves recorded responses: for tests, `tracker demo` and
benchmarks. No machine here reaches the internet, so spiders meet this instead of GovInfo or
Legistar, through the real Scrapy engine.

Routes match by path and query; the most specific route wins. Each route can be given a fault
(status code, 429 with Retry-After, delay, truncated body, HTML error page with 200, huge body).
Every response carries a strong ETag and a Last-Modified and answers conditional requests with 304.
Every request is logged so tests can count them. robots.txt is a 404 unless `robots()` sets it.

    python -m tracker.replay DIR     # serve a folder on a free port
"""

from __future__ import annotations

import hashlib
import mimetypes
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

DEFAULT_LAST_MODIFIED = "Mon, 02 Nov 2026 12:00:00 GMT"
TYPES = {
    ".xml": "application/xml",
    ".json": "application/json",
    ".ics": "text/calendar",
    ".html": "text/html",
    ".htm": "text/html",
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".txt": "text/plain",
}


@dataclass(frozen=True)
class Fault:
    """What a route does instead of (or before) answering normally."""

    kind: str
    value: float = 0
    times: int = 0  # for retry_after: how many requests get the 429 (0 = all)

    @staticmethod
    def status(code: int) -> Fault:
        return Fault("status", code)

    @staticmethod
    def retry_after(seconds: int, times: int = 1, code: int = 429) -> Fault:
        return Fault(f"retry_after:{code}", seconds, times)

    @staticmethod
    def delay(seconds: float) -> Fault:
        return Fault("delay", seconds)

    @staticmethod
    def truncate(keep: int) -> Fault:
        """Announce the full Content-Length, send `keep` bytes, close the connection."""
        return Fault("truncate", keep)

    @staticmethod
    def short(keep: int) -> Fault:
        """Send only the first `keep` bytes with a matching Content-Length (a cut file served whole)."""
        return Fault("short", keep)

    @staticmethod
    def html_error() -> Fault:
        return Fault("html_error")

    @staticmethod
    def huge(size: int) -> Fault:
        """A generated body of `size` bytes, streamed, never held in memory."""
        return Fault("huge", size)


@dataclass
class Route:
    path: str
    query: dict[str, str] | None
    body: bytes | Path | None
    content_type: str | None = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    last_modified: str = DEFAULT_LAST_MODIFIED
    fault: Fault | None = None
    alternatives: dict[str, bytes] = field(default_factory=dict)  # by content type, chosen by Accept
    hits: int = 0

    def matches(self, path: str, query: dict[str, str]) -> bool:
        if path != self.path:
            return False
        return self.query is None or all(query.get(k) == v for k, v in self.query.items())

    def data(self) -> bytes:
        if isinstance(self.body, Path):
            return self.body.read_bytes()
        return self.body or b""


@dataclass
class Logged:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    status: int
    bytes: int
    time: float


def _guess_type(name: str) -> str:
    suffix = Path(name).suffix.lower()
    kind = TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"
    return f"{kind}; charset=utf-8" if kind.startswith("text/") or kind.endswith(("xml", "json")) else kind


def _as_query(query: dict[str, str] | str | None) -> dict[str, str] | None:
    if query is None or isinstance(query, dict):
        return query
    return dict(parse_qsl(query.lstrip("?"), keep_blank_values=True))


class ReplayServer:
    """Serves registered routes on 127.0.0.1 from a background thread."""

    def __init__(self, port: int = 0) -> None:
        self._routes: list[Route] = []
        self._dirs: list[tuple[str, Path]] = []
        self._lock = threading.Lock()
        self._robots: str | None = None
        self._log_entries: list[Logged] = []
        self._settled = threading.Condition(self._lock)
        self._inflight = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # -- configuration ---------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def add(self, path: str, body: bytes | str | Path | None = None, *, query: dict[str, str] | str | None = None,
            content_type: str | None = None, status: int = 200, headers: dict[str, str] | None = None,
            last_modified: str | None = None, fault: Fault | None = None, json: bytes | str | None = None,
            xml: bytes | str | None = None) -> Route:
        """Register (or replace) the route for path + query."""
        if isinstance(body, str):
            body = body.encode()
        alternatives = {}
        if json is not None:
            alternatives["application/json"] = json.encode() if isinstance(json, str) else json
        if xml is not None:
            alternatives["application/xml"] = xml.encode() if isinstance(xml, str) else xml
        route = Route(path, _as_query(query), body, content_type or (None if body is None else _guess_type(path)),
                      status, dict(headers or {}), last_modified or DEFAULT_LAST_MODIFIED, fault, alternatives)
        with self._lock:
            self._routes = [r for r in self._routes if not (r.path == path and r.query == route.query)]
            self._routes.append(route)
        return route

    def replace(self, path: str, body: bytes | str | Path, *, query: dict[str, str] | str | None = None,
                last_modified: str | None = None) -> Route:
        """New content for an existing route (a later state); ETag changes with the body."""
        old = self._find(path, _as_query(query) or {}, exact_query=_as_query(query))
        return self.add(path, body, query=query, content_type=old.content_type if old else None,
                        headers=old.headers if old else None,
                        last_modified=last_modified or formatdate(time.time(), usegmt=True))

    def set_fault(self, path: str, fault: Fault | None, *, query: dict[str, str] | str | None = None) -> None:
        route = self._find(path, _as_query(query) or {}, exact_query=_as_query(query))
        if route is None:
            raise KeyError(path)
        route.fault = fault
        route.hits = 0

    def add_dir(self, prefix: str, folder: Path) -> None:
        """Serve every file under `folder` at `prefix` + its relative path."""
        self._dirs.append((prefix.rstrip("/") + "/", Path(folder)))

    def robots(self, text: str | None) -> None:
        self._robots = text

    # -- the request log ---------------------------------------------------------------------

    @property
    def requests(self) -> list[Logged]:
        """Every request so far; waits (briefly) for requests still being answered to be logged."""
        with self._settled:
            self._settled.wait_for(lambda: self._inflight == 0, timeout=5)
            return list(self._log_entries)

    def count(self, path: str | None = None, status: int | None = None) -> int:
        return sum(1 for r in self.requests
                   if (path is None or r.path == path) and (status is None or r.status == status))

    def clear_log(self) -> None:
        with self._settled:
            self._settled.wait_for(lambda: self._inflight == 0, timeout=5)
            self._log_entries.clear()

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> ReplayServer:
        self._thread = threading.Thread(target=self._server.serve_forever, name="replay", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- serving -------------------------------------------------------------------------------

    def _find(self, path: str, query: dict[str, str], exact_query: dict[str, str] | None = None) -> Route | None:
        with self._lock:
            if exact_query is not None:
                return next((r for r in self._routes if r.path == path and r.query == exact_query), None)
            candidates = [r for r in self._routes if r.matches(path, query)]
        if candidates:
            return max(candidates, key=lambda r: len(r.query or {}))
        for prefix, folder in self._dirs:
            if path.startswith(prefix):
                file = (folder / path[len(prefix):]).resolve()
                if file.is_file() and folder.resolve() in file.parents:
                    return Route(path, None, file, _guess_type(file.name))
        return None

    def _begin(self) -> None:
        with self._lock:
            self._inflight += 1

    def _log(self, record: Logged | None) -> None:
        with self._settled:
            if record is not None:
                self._log_entries.append(record)
            self._inflight -= 1
            self._settled.notify_all()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                return

            def do_HEAD(self) -> None:
                self.do_GET(head=True)

            def do_GET(self, head: bool = False) -> None:
                started = time.time()
                parts = urlsplit(self.path)
                query = dict(parse_qsl(parts.query, keep_blank_values=True))
                server._begin()
                record = None
                try:
                    status, sent = self._answer(parts.path, query, head)
                    record = Logged(self.command, parts.path, query, dict(self.headers.items()), status, sent, started)
                finally:
                    server._log(record)

            def _send(self, status: int, body: bytes, content_type: str, extra: dict[str, str] | None = None,
                      head: bool = False) -> tuple[int, int]:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for key, value in (extra or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                if not head:
                    self.wfile.write(body)
                return status, 0 if head else len(body)

            def _answer(self, path: str, query: dict[str, str], head: bool) -> tuple[int, int]:
                if path == "/robots.txt" and server._robots is not None:
                    return self._send(200, server._robots.encode(), "text/plain; charset=utf-8", head=head)
                route = server._find(path, query)
                if route is None:
                    return self._send(404, b"not found", "text/plain; charset=utf-8", head=head)
                route.hits += 1
                fault = route.fault
                if fault is not None:
                    if fault.kind == "delay":
                        time.sleep(fault.value)
                    elif fault.kind == "status":
                        return self._send(int(fault.value), f"error {int(fault.value)}".encode(),
                                          "text/plain; charset=utf-8", head=head)
                    elif fault.kind.startswith("retry_after:"):
                        if fault.times == 0 or route.hits <= fault.times:
                            code = int(fault.kind.split(":")[1])
                            return self._send(code, b"slow down", "text/plain; charset=utf-8",
                                              {"Retry-After": str(int(fault.value))}, head=head)
                    elif fault.kind == "html_error":
                        page = b"<!DOCTYPE html><html><head><title>Error</title></head><body><h1>Service unavailable</h1><p>Please try again later.</p></body></html>"
                        return self._send(200, page, "text/html; charset=utf-8", head=head)
                    elif fault.kind == "huge":
                        return self._huge(int(fault.value), route.content_type or "application/xml", head)
                body, content_type = self._negotiate(route)
                if fault is not None and fault.kind == "short":
                    body = body[: int(fault.value)]
                etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
                headers = {"ETag": etag, "Last-Modified": route.last_modified, **route.headers}
                if route.status == 200 and fault is None and self._not_modified(etag, route.last_modified):
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.send_header("Last-Modified", route.last_modified)
                    self.end_headers()
                    return 304, 0
                if fault is not None and fault.kind == "truncate":
                    keep = int(fault.value)
                    self.send_response(route.status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body[:keep])
                    self.wfile.flush()
                    self.close_connection = True
                    return route.status, keep
                return self._send(route.status, body, content_type, headers, head=head)

            def _negotiate(self, route: Route) -> tuple[bytes, str]:
                if route.alternatives:
                    accept = self.headers.get("Accept", "")
                    kind = "application/json" if "json" in accept else "application/xml"
                    if kind not in route.alternatives:
                        kind = next(iter(route.alternatives))
                    return route.alternatives[kind], f"{kind}; charset=utf-8"
                return route.data(), route.content_type or "application/octet-stream"

            def _not_modified(self, etag: str, last_modified: str) -> bool:
                match = self.headers.get("If-None-Match")
                if match is not None:
                    return etag in [t.strip() for t in match.split(",")] or match.strip() == "*"
                since = self.headers.get("If-Modified-Since")
                if since:
                    try:
                        return parsedate_to_datetime(last_modified) <= parsedate_to_datetime(since)
                    except (TypeError, ValueError):
                        return False
                return False

            def _huge(self, size: int, content_type: str, head: bool) -> tuple[int, int]:
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(size))
                self.end_headers()
                if head:
                    return 200, 0
                chunk = b"a" * 65536
                sent = 0
                try:
                    while sent < size:
                        piece = chunk[: min(len(chunk), size - sent)]
                        self.wfile.write(piece)
                        sent += len(piece)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True
                return 200, sent

        return Handler


@contextmanager
def serve() -> Iterator[ReplayServer]:
    """A started server on a free port, stopped afterwards."""
    server = ReplayServer().start()
    try:
        yield server
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> None:
    args = argv if argv is not None else sys.argv[1:]
    if len(args) != 1 or not Path(args[0]).is_dir():
        print("usage: python -m tracker.replay DIR", file=sys.stderr)
        raise SystemExit(2)
    with serve() as server:
        server.add_dir("/", Path(args[0]))
        print(f"serving {args[0]} on {server.url} (Ctrl-C to stop)", flush=True)
        with suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
