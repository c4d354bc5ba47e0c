"""`tracker serve`: the digest's files and the pages people subscribe through (sign up, confirm,
one-click unsubscribe, preferences), on Starlette served by uvicorn. The top floor beside the CLI:
nothing of the project imports it but `tracker serve` (cli.py, lazily).

app.py holds the routes, subscriptions.py what they do to the store, mailer.py the worker sending
owed mails after the answer, csrf.py the signed double-submit tokens, limits.py the sign-up limits.
"""

from __future__ import annotations

import logging

import uvicorn

from tracker.config import Config
from tracker.web.app import AccessLog, make_app

__all__ = ["AccessLog", "make_app", "serve", "server"]


def server(config: Config, host: str | None = None, port: int | None = None, *,
           separate_mailer: bool = True) -> uvicorn.Server:
    """The uvicorn server for `config`: its own access line (tokens masked) instead of uvicorn's,
    `X-Forwarded-For` believed only from a proxy on this host, no Server header; mail sent from a
    process of its own (tests may keep it in a thread: `separate_mailer=False`)."""
    app = make_app(config, separate_mailer=separate_mailer)
    return uvicorn.Server(uvicorn.Config(
        app, host=host or config.serve.host, port=port or config.serve.port, access_log=False, log_config=None,
        log_level="warning", proxy_headers=True, forwarded_allow_ips="127.0.0.1", server_header=False,
        lifespan="on", timeout_graceful_shutdown=10))


def serve(config: Config, host: str | None = None, port: int | None = None) -> int:
    """Run until stopped (SIGINT/SIGTERM); 0 on a clean stop, 1 when the port could not be taken."""
    logging.getLogger("tracker.web").setLevel(logging.INFO)
    run = server(config, host, port)
    run.run()
    return 0 if run.started else 1
