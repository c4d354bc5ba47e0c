"""A real HTTP server on 127.0.0.1 that serves recorded responses: for tests, `tracker demo` and
benchmarks. No machine here reaches the internet, so spiders meet this instead of GovInfo or
Legistar, through the real Scrapy engine and a real socket.

- Routes match by path (percent-decoded) and query: a route matches when every query parameter it
  names is in the request with the same value; a route without a query matches any query; the
  route naming the most parameters wins (ties: the latest added).
- Every normal response carries a strong ETag (a hash of the body sent) and a Last-Modified (a fixed
  date unless set; `replace()` moves it forward) and answers If-None-Match / If-Modified-Since with
  304 and no body. If-None-Match wins over If-Modified-Since when both are sent (RFC 9110).
- A route can carry a `Fault` (status code, 429/503 with Retry-After for the first N requests, delay,
  truncated body, short body, HTML error page with 200, huge streamed body, a body trickled in),
  changed while running.
- A route registered with both `json=` and `xml=` picks one by Accept, as Legistar does: XML unless
  the Accept header ranks JSON first.
- robots.txt is a 404 unless `robots()` sets it (or a route or folder serves one): a missing
  robots.txt means "allow everything" to Scrapy, so tests that do not care need no setup, and the
  request is still logged so tests can see it was asked for.
- `mount(prefix, app)` hands every path under a prefix to a function that computes the answer
  (e.g. `tracker.demo.legistar_api.LegistarApi`, which evaluates the OData queries Legistar gets);
  faults, ETags and 304s apply to it as to any route.
- Every request is logged (method, path, query, headers, status, bytes sent, time) for counting;
  the query is a `Query`: a dict of one value per name, and `pairs` with repeated names kept.
  On Linux the log also holds `arrived`: when the request's bytes reached the server's socket, as
  the kernel stamped them (SO_TIMESTAMPNS), true even when the server's threads run late (many
  servers in one busy process); `time` is when the handler thread got to it.
  GET and HEAD, and POST of a form (`add(..., form={...})`): an ASP.NET page's postback, as
  Legistar's web calendar answers the choice of another period or page of its grid. A form route
  matches a POST whose fields hold every value it names (the most named wins); it never answers a
  GET, nor a GET route a POST. The log keeps the fields posted (`form`).

    python -m tracker.demo.replay DIR [--port N] [--robots FILE]     # serve a folder, print the URL
"""

from __future__ import annotations

import argparse
import hashlib
import io
import mimetypes
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

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
JSON, XML = "application/json", "application/xml"
CHUNK = 64 * 1024
HTML_ERROR_PAGE = (b"<!DOCTYPE html>\n<html><head><title>Service Unavailable</title></head><body>"
                   b"<h1>Service Unavailable</h1><p>The service is temporarily unavailable. "
                   b"Please try again later.</p></body></html>\n")


@dataclass(frozen=True)
class Fault:
    """What a route does instead of (or before) answering normally. Build one with the factories."""

    kind: str
    value: float = 0
    times: int = 0  # retry_after: how many requests get the error before the body (0 = all of them)
    code: int = 0  # retry_after: the status code (429 or 503)
    gate: threading.Event | None = field(default=None, compare=False)  # hold: answered once it is set

    @staticmethod
    def status(code: int) -> Fault:
        """Answer `code` (404, 500...) with a short text body."""
        return Fault("status", code)

    @staticmethod
    def retry_after(seconds: int, times: int = 1, code: int = 429) -> Fault:
        """`code` with `Retry-After: seconds` for the first `times` requests, then the normal body."""
        return Fault("retry_after", seconds, times, code)

    @staticmethod
    def delay(seconds: float) -> Fault:
        """Wait, then answer normally (304s included)."""
        return Fault("delay", seconds)

    @staticmethod
    def hold(gate: threading.Event, most: float = 120) -> Fault:
        """Wait until `gate` is set (at most `most` seconds), then answer normally: a request kept
        in flight exactly as long as a test needs it, not a guessed delay."""
        return Fault("hold", most, gate=gate)

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
        """A maintenance page in HTML with status 200, where data was expected."""
        return Fault("html_error")

    @staticmethod
    def trickle(seconds: float) -> Fault:
        """The body with its whole Content-Length, 1 KB every `seconds`: no read waits long enough
        to time out, and the whole takes as long as the server likes."""
        return Fault("trickle", seconds)

    @staticmethod
    def huge(size: int) -> Fault:
        """A generated body of `size` bytes, streamed in 64 KB chunks, never held in memory."""
        return Fault("huge", size)

    @staticmethod
    def huge_unsized(size: int) -> Fault:
        """`huge`, with no Content-Length: the body ends when the connection closes, so a client
        learns it is too large only while it reads."""
        return Fault("huge_unsized", size)


# A mounted app: (path, query, request headers) -> (status, body, content type).
App = Callable[[str, dict[str, str], "Headers"], tuple[int, bytes, str]]


@dataclass
class Route:
    """One registered response. Change it through the server (`replace`, `set_fault`), not directly."""

    path: str
    query: dict[str, str] | None
    body: bytes | Path | None
    content_type: str
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    last_modified: str = DEFAULT_LAST_MODIFIED
    fault: Fault | None = None
    alternatives: dict[str, bytes] = field(default_factory=dict)  # by media type, chosen by Accept
    hits: int = 0  # requests answered since the route was added or its fault last set
    app: App | None = None  # computes the answer for every path under `path` (a mounted prefix)
    form: dict[str, str] | None = None  # a POST's route: the fields it must hold

    def matches(self, path: str, query: dict[str, str], form: dict[str, str] | None = None) -> bool:
        if (self.form is None) != (form is None):
            return False  # a form route answers POSTs only, the others GET and HEAD only
        if self.app is not None:
            return path.startswith(self.path)
        if path != self.path:
            return False
        if form is not None and not all(form.get(k) == v for k, v in (self.form or {}).items()):
            return False
        return self.query is None or all(query.get(k) == v for k, v in self.query.items())


class Query(dict[str, str]):
    """A request's query parameters: one value per name (the last, as before) for routes and
    tests, and `pairs`, every parameter in order, for APIs that take a name more than once (Open
    States' `include=actions&include=votes`)."""

    def __init__(self, pairs: list[tuple[str, str]] | None = None) -> None:
        super().__init__(pairs or [])
        self.pairs = list(pairs or [])

    def getall(self, name: str) -> list[str]:
        return [value for key, value in self.pairs if key == name]


class Headers(dict[str, str]):
    """Request headers as sent, looked up case-insensitively (urllib sends `User-agent`)."""

    def _key(self, name: str) -> str:
        lowered = name.lower()
        return next((k for k in dict.keys(self) if k.lower() == lowered), name)

    def __getitem__(self, name: str) -> str:
        return dict.__getitem__(self, self._key(name))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and dict.__contains__(self, self._key(name))

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        return dict.get(self, self._key(name), default)


@dataclass
class Logged:
    """One request as the server saw it; `time` is when the handler thread began answering it, and
    `arrived` when its bytes reached the socket by the kernel's clock (None where the kernel gives
    no receive timestamps); both epoch seconds."""

    method: str
    path: str
    query: dict[str, str]
    headers: Headers
    status: int
    bytes: int
    time: float
    arrived: float | None = None
    form: Query | None = None  # a POST's fields


def _with_charset(kind: str) -> str:
    textual = kind.startswith("text/") or kind.endswith(("xml", "json"))
    return f"{kind}; charset=utf-8" if textual else kind


def _type_from_name(name: str) -> str | None:
    suffix = Path(name).suffix.lower()
    return TYPES.get(suffix) or (mimetypes.guess_type(name)[0] if suffix else None)


def _sniff(head: bytes) -> str:
    """A type for a body whose URL has no extension (Legistar's `/v1/nyc/events`)."""
    start = head.lstrip()[:64].lower()
    if start[:1] in (b"{", b"["):
        return JSON
    if start.startswith((b"<!doctype html", b"<html")):
        return "text/html"
    if start.startswith(b"<"):
        return XML
    if start.startswith(b"begin:vcalendar"):
        return "text/calendar"
    return "application/octet-stream"


def guess_type(url_path: str, body: bytes | Path | None = None) -> str:
    """Content-Type from the URL's extension, else the file's, else the body's first bytes."""
    kind = _type_from_name(url_path)
    if kind is None and isinstance(body, Path):
        kind = _type_from_name(body.name)
    if kind is None:
        if isinstance(body, Path):
            with suppress(OSError), body.open("rb") as handle:
                kind = _sniff(handle.read(512))
        elif body:
            kind = _sniff(body[:512])
    return _with_charset(kind or "application/octet-stream")


def prefers_json(accept: str) -> bool:
    """Legistar's choice: ranges by q then specificity, first that names JSON or XML; default XML."""
    ranges = []
    for position, part in enumerate(accept.split(",")):
        media, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        media = media.lower()
        specific = media in (JSON, "text/json", XML, "text/xml")
        if q > 0 and (specific or media in ("*/*", "application/*")):
            ranges.append((-q, not specific, position, media))
    if not ranges:
        return False
    return min(ranges)[3] in (JSON, "text/json")


def _as_query(query: dict[str, Any] | str | None) -> dict[str, str] | None:
    if query is None:
        return None
    if isinstance(query, str):
        return dict(parse_qsl(query.lstrip("?"), keep_blank_values=True))
    return {str(k): str(v) for k, v in query.items()}


def _as_bytes(data: bytes | str | None) -> bytes | None:
    return data.encode() if isinstance(data, str) else data


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


# SO_TIMESTAMPNS: Python 3.11 lacks the constant; 35 on Linux (64-bit timespec on 64-bit builds).
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35 if sys.platform.startswith("linux") else None)
_STAMP = struct.Struct("qq")  # struct timespec: seconds, nanoseconds
_STAMP_SPACE = socket.CMSG_SPACE(_STAMP.size) if hasattr(socket, "CMSG_SPACE") else 0


class _StampedReader(io.RawIOBase):
    """The connection's raw reader, through recvmsg: keeps the kernel receive time of the data read.
    TCP merges segments still unread in the queue and stamps them with the latest; without pipelining
    (no client we meet pipelines) a request is read before the next is sent, so its stamp is its own."""

    def __init__(self, sock: socket.socket) -> None:
        super().__init__()
        self.sock = sock
        self.last: float | None = None  # stamp of the latest read that returned data
        self.first: float | None = None  # stamp of the first read since `mark()`: the request's start

    def readable(self) -> bool:
        return True

    def mark(self) -> None:
        self.first = None

    def readinto(self, buffer: Any) -> int:
        size, ancillary, _flags, _addr = self.sock.recvmsg_into([buffer], _STAMP_SPACE)
        for level, kind, data in ancillary:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(data) >= _STAMP.size:
                seconds, nanoseconds = _STAMP.unpack_from(data)
                self.last = seconds + nanoseconds / 1e9
                if self.first is None:
                    self.first = self.last
        return size


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    replay: ReplayServer  # the routes, faults and request log the handler answers from
    stamped = False  # the kernel stamps what this socket receives (accepted sockets inherit it)

    def server_bind(self) -> None:
        if SO_TIMESTAMPNS is not None and _STAMP_SPACE:
            with suppress(OSError):
                self.socket.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
                self.stamped = True
        super().server_bind()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up mid-answer is normal here (truncation, size caps); stay quiet."""
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    """Answers one request from the replay server's routes: robots.txt, 404, a fault, an app's
    answer, or the recorded body (content-negotiated, conditional, maybe truncated)."""

    server: _Server
    protocol_version = "HTTP/1.1"
    timeout = 30  # an idle or stalled client frees its thread
    # Answers are buffered and sent after the request is logged (`handle_one_request` flushes once
    # the method returns): a client holding its whole answer finds its request in the log, in the
    # order asked. Unbuffered, a client could ask its next question, and have it logged, before the
    # thread of the first had logged it.
    wbufsize = -1
    status_sent = 0
    bytes_sent = 0
    _reader: _StampedReader | None = None

    def setup(self) -> None:
        super().setup()
        if self.server.stamped:  # read through recvmsg to get the kernel's receive times
            self.rfile.close()  # the socket's own reader: its reference would keep the socket open
            self._reader = _StampedReader(self.connection)
            self.rfile = io.BufferedReader(self._reader, io.DEFAULT_BUFFER_SIZE)

    def handle_one_request(self) -> None:
        if self._reader is not None:
            self._reader.mark()  # the next read from the socket brings this request's first bytes
        super().handle_one_request()

    def _arrived(self) -> float | None:
        """Kernel time of the read that brought the request line (or of the latest read, when the
        line was already buffered)."""
        reader = self._reader
        if reader is None:
            return None
        return reader.first if reader.first is not None else reader.last

    def log_message(self, format: str, *args: Any) -> None:  # the request log replaces it
        return

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def do_GET(self) -> None:
        self._serve(head=False)

    def do_POST(self) -> None:
        """A form posted back (application/x-www-form-urlencoded, as a browser sends it, with its
        length). A body of no stated length (chunked) is refused with 411 and the connection closed,
        as is one cut short: what is left of it must not be read as the next request."""
        length = self.headers.get("Content-Length", "").strip()
        try:
            body = self.rfile.read(int(length)) if length.isdigit() else None
        except (ConnectionError, TimeoutError):
            body = None
        if body is None or len(body) != int(length or 0):
            self.close_connection = True
            self._send(411 if body is None and not length.isdigit() else 400, b"a form body of its stated length\n",
                       "text/plain; charset=utf-8", {"Connection": "close"})
            self.server.replay._log(Logged(self.command, unquote(urlsplit(self.path).path), Query(),
                                           Headers(self.headers.items()), self.status_sent, self.bytes_sent,
                                           time.time(), self._arrived()))
            return
        self._serve(head=False, form=Query(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)))

    def _serve(self, head: bool, form: Query | None = None) -> None:
        replay = self.server.replay
        started = time.time()
        parts = urlsplit(self.path)
        path = unquote(parts.path)
        query = Query(parse_qsl(parts.query, keep_blank_values=True))
        self.status_sent, self.bytes_sent = 0, 0
        replay._begin()
        try:
            self._answer(path, query, head, form)
        except (ConnectionError, TimeoutError):  # the client left; log what was sent
            self.close_connection = True
        finally:
            replay._log(Logged(self.command, path, query, Headers(self.headers.items()),
                               self.status_sent, self.bytes_sent, started, self._arrived(), form))

    # -- writing ------------------------------------------------------------------------------

    def _head(self, status: int, headers: dict[str, str]) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.status_sent = status

    def _write(self, data: bytes) -> None:
        self.wfile.write(data)
        self.bytes_sent += len(data)

    def _send(self, status: int, body: bytes, content_type: str, extra: dict[str, str] | None = None,
              head: bool = False) -> None:
        self._head(status, {"Content-Type": content_type, "Content-Length": str(len(body)), **(extra or {})})
        if not head:
            self._write(body)

    def _send_truncated(self, status: int, body: bytes, keep: int, content_type: str, headers: dict[str, str],
                        head: bool) -> None:
        """Announce the whole length, send `keep` bytes, hang up: a connection lost mid-body."""
        self._head(status, {"Content-Type": content_type, "Content-Length": str(len(body)), **headers})
        if not head:
            self._write(body[:keep])
            self.wfile.flush()
        self.close_connection = True

    def _huge(self, size: int, content_type: str, head: bool, sized: bool = True) -> None:
        self._head(200, {"Content-Type": content_type, **({"Content-Length": str(size)} if sized else {})})
        if not sized:
            self.close_connection = True
        if head:
            return
        line = b"generated filler to make a response too large to accept\n"
        chunk = (line * (CHUNK // len(line) + 1))[:CHUNK]
        left = size
        while left > 0:
            self._write(chunk if left >= CHUNK else chunk[:left])
            left -= CHUNK

    # -- deciding -----------------------------------------------------------------------------

    def _answer(self, path: str, query: dict[str, str], head: bool, form: dict[str, str] | None = None) -> None:
        replay = self.server.replay
        if path == "/robots.txt" and replay._robots is not None and form is None:
            return self._send(200, replay._robots.encode(), "text/plain; charset=utf-8", head=head)
        found = replay._find(path, query, form)
        if found is None:
            return self._send(404, b"not found\n", "text/plain; charset=utf-8", head=head)
        route, fault, hits = replay._take(found)
        if fault is not None and self._answer_fault(route, fault, hits, head):
            return None
        kind = fault.kind if fault else None
        if route.app is not None:
            status, body, content_type = route.app(path, query, Headers(self.headers.items()))
            if status != 200:
                return self._send(status, body, content_type, head=head)
            extra = {"Vary": "Accept"}
        else:
            body, content_type, extra = self._negotiate(route)
        if kind == "short":
            body = body[: int(fault.value)]  # type: ignore[union-attr]
        etag = _etag(body)
        headers = {"ETag": etag, "Last-Modified": route.last_modified, **extra, **route.headers}
        if route.status == 200 and kind not in ("truncate", "short") and form is None \
                and self._not_modified(etag, route.last_modified):
            return self._head(304, headers)
        if kind == "truncate":
            return self._send_truncated(route.status, body, int(fault.value), content_type, headers, head)  # type: ignore[union-attr]
        return self._send(route.status, body, content_type, headers, head=head)

    def _answer_fault(self, route: Route, fault: Fault, hits: int, head: bool) -> bool:
        """Answer with the fault when it replaces the answer (True); a delay only waits first."""
        if fault.kind == "delay":
            time.sleep(fault.value)
            return False
        if fault.kind == "hold":
            assert fault.gate is not None
            fault.gate.wait(fault.value)
            return False
        if fault.kind == "status":
            code = int(fault.value)
            try:
                phrase = HTTPStatus(code).phrase
            except ValueError:
                phrase = "Error"
            self._send(code, f"{code} {phrase}\n".encode(), "text/plain; charset=utf-8", head=head)
            return True
        if fault.kind == "retry_after" and (fault.times == 0 or hits <= fault.times):
            self._send(fault.code, b"Too many requests; retry later.\n", "text/plain; charset=utf-8",
                       {"Retry-After": str(int(fault.value))}, head=head)
            return True
        if fault.kind == "html_error":
            self._send(200, HTML_ERROR_PAGE, "text/html; charset=utf-8", head=head)
            return True
        if fault.kind == "trickle":
            body, content_type, _ = self._negotiate(route)
            self._head(route.status, {"Content-Type": content_type, "Content-Length": str(len(body))})
            try:
                for at in range(0, 0 if head else len(body), 1024):
                    self._write(body[at:at + 1024])
                    self.wfile.flush()
                    time.sleep(fault.value)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client gave up
            return True
        if fault.kind in ("huge", "huge_unsized"):
            try:
                self._huge(int(fault.value), route.content_type, head, sized=fault.kind == "huge")
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client stopped reading at its cap
            return True
        return False

    def _negotiate(self, route: Route) -> tuple[bytes, str, dict[str, str]]:
        if route.alternatives:
            wanted = JSON if prefers_json(self.headers.get("Accept", "")) else XML
            kind = wanted if wanted in route.alternatives else next(iter(route.alternatives))
            return route.alternatives[kind], _with_charset(kind), {"Vary": "Accept"}
        body = route.body.read_bytes() if isinstance(route.body, Path) else route.body or b""
        return body, route.content_type, {}

    def _not_modified(self, etag: str, last_modified: str) -> bool:
        match = self.headers.get("If-None-Match")
        if match is not None:  # weak comparison, as RFC 9110 asks for If-None-Match
            tags = [t.strip().removeprefix("W/") for t in match.split(",")]
            return "*" in tags or etag in tags
        since = self.headers.get("If-Modified-Since")
        if since:
            try:
                return parsedate_to_datetime(last_modified) <= parsedate_to_datetime(since)
            except (TypeError, ValueError):
                return False
        return False


class ReplayServer:
    """Serves registered routes on 127.0.0.1 from a background thread. Port 0 picks a free port."""

    def __init__(self, port: int = 0, *, host: str = "127.0.0.1",
                 on_request: Callable[[Logged], None] | None = None) -> None:
        self._routes: list[Route] = []
        self._dirs: list[tuple[str, Path]] = []
        self._lock = threading.Lock()
        self._settled = threading.Condition(self._lock)
        self._robots: str | None = None
        self._log_entries: list[Logged] = []
        self._inflight = 0
        self._on_request = on_request
        self._server = _Server((host, port), _Handler)  # any loopback address: 127.0.0.0/8
        self._server.replay = self
        self._thread: threading.Thread | None = None
        self._stopped = False

    # -- configuration ---------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:41234 (no trailing slash)."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def add(self, path: str, body: bytes | str | Path | None = None, *,
            query: dict[str, Any] | str | None = None, content_type: str | None = None, status: int = 200,
            headers: dict[str, str] | None = None, last_modified: str | None = None,
            fault: Fault | None = None, json: bytes | str | None = None,
            xml: bytes | str | None = None, form: dict[str, str] | None = None) -> Route:
        """Register (or replace) the route for path + query (+ form: a POST's route, matching the
        posts whose fields hold these values). A Path body is read at each request."""
        body = _as_bytes(body) if not isinstance(body, Path) else body
        alternatives: dict[str, bytes] = {}
        if json is not None:
            alternatives[JSON] = _as_bytes(json) or b""
        if xml is not None:
            alternatives[XML] = _as_bytes(xml) or b""
        path = unquote(path)
        route = Route(path, _as_query(query), body, content_type or guess_type(path, body), status,
                      dict(headers or {}), last_modified or DEFAULT_LAST_MODIFIED, fault, alternatives,
                      form=dict(form) if form is not None else None)
        with self._lock:
            self._routes = [r for r in self._routes
                            if not (r.path == path and r.query == route.query and r.form == route.form)]
            self._routes.append(route)
        return route

    def replace(self, path: str, body: bytes | str | Path | None = None, *,
                query: dict[str, Any] | str | None = None, last_modified: str | None = None,
                json: bytes | str | None = None, xml: bytes | str | None = None) -> Route:
        """New content for a route (a later state of the same file). Status, headers, content type
        and fault stay; the ETag follows the body; Last-Modified moves to now, and always at least a
        second past the old one, so If-Modified-Since never hides the change."""
        route = self._route(path, query)
        if route is None:
            return self.add(path, body, query=query, last_modified=last_modified, json=json, xml=xml)
        with self._lock:
            if json is not None or xml is not None:
                route.alternatives = {k: _as_bytes(v) or b"" for k, v in ((JSON, json), (XML, xml))
                                      if v is not None}
            else:
                route.body = body if isinstance(body, Path) else _as_bytes(body)
            if last_modified is None:
                previous = parsedate_to_datetime(route.last_modified).timestamp()
                last_modified = formatdate(max(time.time(), previous + 1), usegmt=True)
            route.last_modified = last_modified
        return route

    def set_fault(self, path: str, fault: Fault | None, *, query: dict[str, Any] | str | None = None) -> Route:
        """Give the route registered for path + query (exactly) a fault, or None to heal it. Restarts
        the retry_after count. A file served by `add_dir` becomes a route of its own first."""
        route = self._route(path, query)
        if route is None and query is None:
            found = self._from_dirs(unquote(path))
            route = self.add(path, found.body, content_type=found.content_type) if found else None
        if route is None:
            raise KeyError(f"no route for {path} {query or ''}".strip())
        with self._lock:
            route.fault = fault
            route.hits = 0
        return route

    def remove(self, path: str, *, query: dict[str, Any] | str | None = None) -> None:
        """Forget the route for exactly path + query (a mounted app answers that path again)."""
        path, exact = unquote(path), _as_query(query)
        with self._lock:
            self._routes = [r for r in self._routes
                            if not (r.path == path and r.query == exact and r.app is None and r.form is None)]

    def mount(self, prefix: str, app: App) -> Route:
        """Answer every request under `prefix` with `app` (exact routes still win)."""
        route = Route(unquote(prefix), None, None, JSON, app=app)
        with self._lock:
            self._routes = [r for r in self._routes if not (r.path == route.path and r.app is not None)]
            self._routes.append(route)
        return route

    def add_dir(self, prefix: str, folder: Path | str) -> None:
        """Serve every file under `folder` at `prefix` + its relative path (read at each request)."""
        with self._lock:
            self._dirs.append((prefix.rstrip("/") + "/", Path(folder).resolve()))

    def robots(self, text: str | None) -> None:
        """Serve this as /robots.txt; None goes back to the default, a 404."""
        self._robots = text

    # -- the request log ---------------------------------------------------------------------

    @property
    def requests(self) -> list[Logged]:
        """Every request so far (a copy). Waits up to 5 s for requests still being answered, so a
        test that has just read a response always finds it here."""
        with self._settled:
            self._settled.wait_for(lambda: self._inflight == 0, timeout=5)
            return list(self._log_entries)

    def count(self, path: str | None = None, status: int | None = None, *,
              query: dict[str, Any] | None = None) -> int:
        """How many requests matched path, status and (a subset of) query parameters."""
        wanted = _as_query(query) or {}
        return sum(1 for r in self.requests
                   if (path is None or r.path == unquote(path)) and (status is None or r.status == status)
                   and all(r.query.get(k) == v for k, v in wanted.items()))

    def clear_log(self) -> None:
        with self._settled:
            self._settled.wait_for(lambda: self._inflight == 0, timeout=5)
            self._log_entries.clear()

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> ReplayServer:
        if self._thread is None:
            self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                            name=f"replay:{self.port}", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and close the socket. Safe to call twice or before start()."""
        if self._stopped:
            return
        self._stopped = True
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- serving -------------------------------------------------------------------------------

    def _route(self, path: str, query: dict[str, Any] | str | None) -> Route | None:
        """The route registered for exactly this path and query."""
        path, exact = unquote(path), _as_query(query)
        with self._lock:
            return next((r for r in self._routes if r.path == path and r.query == exact and r.form is None), None)

    def _find(self, path: str, query: dict[str, str], form: dict[str, str] | None = None) -> Route | None:
        with self._lock:
            candidates = [r for r in self._routes if r.matches(path, query, form)]
        if candidates:
            # max() keeps the first of equals: reversed, so the latest added wins a tie.
            return max(reversed(candidates), key=lambda r: (r.app is None, len(r.query or {}), len(r.form or {})))
        return None if form is not None else self._from_dirs(path)

    def _from_dirs(self, path: str) -> Route | None:
        with self._lock:
            dirs = list(self._dirs)
        for prefix, folder in dirs:
            if path.startswith(prefix):
                file = (folder / path[len(prefix):]).resolve()
                if folder in file.parents and file.is_file():
                    return Route(path, None, file, guess_type(file.name, file))
        return None

    def _take(self, route: Route) -> tuple[Route, Fault | None, int]:
        """Count a hit and read the route's state at one instant (it may change between crawls)."""
        with self._lock:
            route.hits += 1
            view = Route(route.path, route.query, route.body, route.content_type, route.status,
                         dict(route.headers), route.last_modified, route.fault, dict(route.alternatives), app=route.app,
                         form=route.form)
            return view, route.fault, route.hits

    def _begin(self) -> None:
        with self._lock:
            self._inflight += 1

    def _log(self, record: Logged) -> None:
        with self._settled:
            self._log_entries.append(record)
            self._inflight -= 1
            self._settled.notify_all()
        if self._on_request is not None:
            self._on_request(record)


@contextmanager
def serve(folder: Path | str | None = None, *, port: int = 0, host: str = "127.0.0.1") -> Iterator[ReplayServer]:
    """A started server (on a free port unless told), optionally serving `folder` at /; stopped after."""
    server = ReplayServer(port, host=host).start()
    try:
        if folder is not None:
            server.add_dir("/", folder)
        yield server
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> int:
    """`python -m tracker.demo.replay DIR`: serve a folder for manual testing until Ctrl-C."""
    parser = argparse.ArgumentParser(prog="python -m tracker.demo.replay", description="Serve a folder of recorded responses on 127.0.0.1.")
    parser.add_argument("folder", type=Path, help="folder whose files are served at /")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--robots", type=Path, help="file to serve as /robots.txt (default: 404)")
    args = parser.parse_args(argv)
    if not args.folder.is_dir():
        parser.error(f"{args.folder} is not a folder")

    def show(record: Logged) -> None:
        query = f"?{'&'.join(f'{k}={v}' for k, v in record.query.items())}" if record.query else ""
        print(f"{record.method} {record.path}{query} {record.status} {record.bytes} B", file=sys.stderr,
              flush=True)

    server = ReplayServer(args.port, on_request=show).start()
    try:
        server.add_dir("/", args.folder)
        if args.robots:
            server.robots(args.robots.read_text())
        print(server.url, flush=True)
        print(f"serving {args.folder} on {server.url} (Ctrl-C to stop)", file=sys.stderr, flush=True)
        with suppress(KeyboardInterrupt):
            threading.Event().wait()
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
