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


class _HeaderDeadline(HttpToolsProtocol):
    """uvicorn's HTTP protocol with a deadline on request headers: uvicorn has none, so a client
    sending its headers a byte now and then (or nothing at all) held a connection, and a file
    descriptor, for ever; a few hundred of them and nobody could sign up or unsubscribe. The body
    has its own (app.BODY_SECONDS); an idle kept-alive connection uvicorn's keep-alive timeout."""

    _deadline: asyncio.TimerHandle | None = None

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

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        waiting = bool(self.pipeline)  # a request whose headers have come already
        super().on_response_complete()
        if not waiting and not self.transport.is_closing():
            self._arm()  # the next request's headers

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


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
    request headers due within HEADER_SECONDS; mail sent from a process of its own (tests may keep
    it in a thread: `separate_mailer=False`)."""
    app = make_app(config, separate_mailer=separate_mailer)
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
