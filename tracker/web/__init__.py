"""`tracker serve`: the digest's files and the pages people subscribe through (sign up, confirm,
one-click unsubscribe, preferences), on Starlette served by uvicorn. The top floor beside the CLI:
nothing of the project imports it but `tracker serve` (cli.py, lazily).

app.py holds the routes, subscriptions.py what they do to the store, mailer.py the worker sending
owed mails after the answer, csrf.py the signed double-submit tokens, limits.py the sign-up limits.
"""

from __future__ import annotations

import contextlib
import logging
import socket
from types import FrameType

import uvicorn

from tracker.config import Config
from tracker.web.app import AccessLog, make_app

__all__ = ["AccessLog", "make_app", "serve", "server"]


class _Server(uvicorn.Server):
    """A stop by SIGTERM or SIGINT is how `tracker serve` ends: after the graceful shutdown it exits
    0 (uvicorn would raise the signal again and die by it)."""

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        self._captured_signals.clear()


def server(config: Config, host: str | None = None, port: int | None = None, *,
           separate_mailer: bool = True) -> uvicorn.Server:
    """The uvicorn server for `config`: its own access line (tokens masked) instead of uvicorn's,
    `X-Forwarded-For` believed only from a proxy on this host (127.0.0.1 or ::1), no Server header;
    mail sent from a process of its own (tests may keep it in a thread: `separate_mailer=False`)."""
    app = make_app(config, separate_mailer=separate_mailer)
    return _Server(uvicorn.Config(
        app, host=host or config.serve.host, port=port or config.serve.port, access_log=False, log_config=None,
        log_level="warning", proxy_headers=True, forwarded_allow_ips="127.0.0.1,::1", server_header=False,
        lifespan="on", timeout_graceful_shutdown=10))


def serve(config: Config, host: str | None = None, port: int | None = None) -> str | None:
    """Run until stopped (SIGINT/SIGTERM). None on a clean stop, else the one line saying why it
    could not start (the address cannot be bound)."""
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
    with contextlib.suppress(SystemExit):  # uvicorn exits when its startup fails
        run.run()
    return None if run.started else f"serve: cannot listen on {host}:{port}"
