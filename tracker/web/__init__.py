"""`tracker serve`: the digest's files and the pages people subscribe through (sign up, confirm,
one-click unsubscribe, preferences), on Starlette served by uvicorn. The top floor beside the CLI:
nothing of the project imports it but `tracker serve` (cli.py, lazily).

app.py holds the routes, subscriptions.py what they do to the store, mailer.py the worker sending
owed mails after the answer, csrf.py the signed double-submit tokens, limits.py the sign-up limits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable
from types import FrameType

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from tracker.config import Config
from tracker.web.app import AccessLog, make_app

__all__ = ["AccessLog", "make_app", "serve", "server"]


HEADER_SECONDS = 10.0  # from a connection (or its last answer) to a request's last header line
# A request line and headers together (nginx reads at most 32 KB of them by default, browsers
# send a few KB): past this the request is refused with 431 before more of it is kept.
MAX_HEADER_BYTES = 64 * 1024
# An answer the client stops reading: cut off once the write buffer has stayed full this long (the
# client took less than the 48 KB between asyncio's high and low water marks), so a reader that
# never reads does not hold a connection for ever; a slow phone reads that much in a second.
WRITE_SECONDS = 30.0
LINGER_SECONDS = 2.0  # after a 431, what the client still sends is read and dropped this long
_TOO_BIG = (b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: text/plain; charset=utf-8\r\n"
            b"content-length: 34\r\nconnection: close\r\n\r\nRequest headers are far too long.\n")


class _HeaderDeadline(HttpToolsProtocol):
    """uvicorn's HTTP protocol with a deadline on request headers: uvicorn has none, so a client
    sending its headers a byte now and then (or nothing at all) held a connection, and a file
    descriptor, for ever; a few hundred of them and nobody could sign up or unsubscribe. The body
    has its own (app.BODY_SECONDS); an idle kept-alive connection uvicorn's keep-alive timeout.

    uvicorn has no limit on their size either: every byte before the blank line was kept, tens of
    MB a connection within the deadline, so a few connections ran the server out of memory. Past
    MAX_HEADER_BYTES the request is answered 431 and the connection closed (after LINGER_SECONDS of
    reading and dropping what still comes, so the client reads the answer rather than a reset).

    Nor on answers: a client asking for a large file (a calendar, a big page) and never reading it
    held its connection, and the file open, for ever (and a stop waited on it). An answer whose
    buffers stay full for WRITE_SECONDS is cut off."""

    _deadline: asyncio.TimerHandle | None = None
    _in_headers = False  # from a request's first byte to its blank line
    _header_bytes = 0  # bytes received meanwhile (whole chunks: a little more, never less)
    _refused = False

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(HEADER_SECONDS, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return  # answered 431: dropped until the connection closes
        super().data_received(data)
        if self._in_headers:  # counted whenever a request's headers are being read, also one
            self._header_bytes += len(data)  # pipelined behind a response the client does not read
            if self._header_bytes > MAX_HEADER_BYTES and not self.transport.is_closing():
                self._too_big()

    def _too_big(self) -> None:
        self._disarm()
        self._refused = True
        if self.cycle is not None and not self.cycle.response_complete:
            self.transport.close()  # an answer to an earlier request is still going: no 431 inside it
            return
        self.transport.write(_TOO_BIG)
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(LINGER_SECONDS, self.transport.close)

    _stalled: asyncio.TimerHandle | None = None

    def pause_writing(self) -> None:
        super().pause_writing()
        if self._stalled is None:
            self._stalled = self.loop.call_later(WRITE_SECONDS, self._not_reading)

    def resume_writing(self) -> None:
        self._unstall()
        super().resume_writing()

    def _unstall(self) -> None:
        if self._stalled is not None:
            self._stalled.cancel()
            self._stalled = None

    def _not_reading(self) -> None:
        self._stalled = None
        if not self.transport.is_closing():
            self.transport.abort()  # close() would wait for the unread answer to go first

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_headers, self._header_bytes = True, 0

    def on_headers_complete(self) -> None:
        self._disarm()
        self._in_headers = False
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        waiting = bool(self.pipeline)  # a request whose headers have come already
        super().on_response_complete()
        if not waiting and not self.transport.is_closing():
            self._arm()  # the next request's headers

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        self._unstall()
        super().connection_lost(exc)


# What uvicorn says of a visitor's malformed request: theirs, not a fault of the server (anyone can
# send garbage, a TLS hello to the plain port, a WebSocket upgrade), so not a WARNING a visitor
# could write into the journal at will, one per connection; an INFO line in the log file.
_VISITORS_DOING = ("Invalid HTTP request received.", "Unsupported upgrade request.",
                   "No supported WebSocket library detected.")


class _VisitorsFault(logging.Filter):
    """Lowers uvicorn's lines about a visitor's malformed request to INFO."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.WARNING and isinstance(record.msg, str) and record.msg.startswith(_VISITORS_DOING):
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


_VISITORS_FAULT = _VisitorsFault()


class _Server(uvicorn.Server):
    """A stop by SIGTERM or SIGINT is how `tracker serve` ends: after the graceful shutdown it exits
    0 (uvicorn would raise the signal again and die by it)."""

    on_started: Callable[[], None] | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        self._captured_signals.clear()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and self.on_started is not None:
            self.on_started()


def server(config: Config, host: str | None = None, port: int | None = None, *,
           separate_mailer: bool = True) -> _Server:
    """The uvicorn server for `config`: its own access line (tokens masked) instead of uvicorn's,
    `X-Forwarded-For` believed only from a proxy on this host (127.0.0.1 or ::1), no Server header,
    request headers due within HEADER_SECONDS, a visitor's malformed request an INFO line; mail sent from a process of its own (tests may keep
    it in a thread: `separate_mailer=False`)."""
    app = make_app(config, separate_mailer=separate_mailer)
    logging.getLogger("uvicorn.error").addFilter(_VISITORS_FAULT)  # once: the same filter is not added twice
    return _Server(uvicorn.Config(
        app, host=host or config.serve.host, port=port or config.serve.port, access_log=False, log_config=None,
        log_level="warning", proxy_headers=True, forwarded_allow_ips="127.0.0.1,::1", server_header=False,
        lifespan="on", timeout_graceful_shutdown=10, http=_HeaderDeadline))


def serve(config: Config, host: str | None = None, port: int | None = None, *,
          said: Callable[[str], None] | None = None) -> str | None:
    """Run until stopped (SIGINT/SIGTERM). None on a clean stop, else the one line saying why it
    could not start (the address cannot be bound). Once it answers, `said` is told where."""
    logging.getLogger("tracker.web").setLevel(logging.INFO)
    host, port = host or config.serve.host, port or config.serve.port
    try:  # uvicorn says a taken port only in its own log: say it here in one line
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        return f"serve: cannot listen on {host}:{port}: {exc.strerror or exc}"
    run = server(config, host, port)
    if said is not None:
        where = f"http://{f'[{host}]' if ':' in host else host}:{port}/"
        public = f" (public at {config.serve.public_url})" if config.serve.public_url else ""
        run.on_started = lambda: said(f"serve: answering at {where}{public}; Ctrl-C or SIGTERM stops it")
    with contextlib.suppress(SystemExit):  # uvicorn exits when its startup fails
        run.run()
    return None if run.started else f"serve: cannot listen on {host}:{port}"
