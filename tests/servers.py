"""Real servers on 127.0.0.1 that tests send alerts to: an SMTP server (aiosmtpd) that can demand
AUTH or STARTTLS, take its time, and be stopped and started again on its port, and an HTTP receiver
for `json://` webhooks. Both count the most messages they were handed at once (notifier processes
really overlapping)."""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

# The password of the loopback relay the `smtp` fixture starts (tests/conftest.py): a test looks for
# it in every log and mail
SMTP_PASSWORD = "smtp-Pw-4417-never-in-a-mail"


def answered_now(server: Any, path: str) -> int:
    """How many requests for `path` a ReplayServer has answered so far, read at once: its `count`
    first waits (up to 5 s) for the requests in flight, and a test polling while it holds one in
    flight on purpose would wait that long at every look."""
    with server._settled:
        return sum(1 for r in server._log_entries if r.path == path)


class _Overlap:
    """How many messages a server is handling now, and the most it ever handled at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.in_flight = 0
        self.most_at_once = 0

    def enter(self) -> None:
        with self.lock:
            self.in_flight += 1
            self.most_at_once = max(self.most_at_once, self.in_flight)

    def leave(self) -> None:
        with self.lock:
            self.in_flight -= 1


class Mailbox(_Overlap):
    """A real SMTP server on 127.0.0.1. With `user` and `password` it accepts mail only after AUTH
    (over plain SMTP, as a relay on a trusted network does) and records every login attempt; with
    `tls` only after STARTTLS; `delay` is how long it takes to accept each message (a relay's round
    trips); `late_reply` how long it waits to say "250 OK" for a message it has already kept (the
    duplicate of RFC 1047: a client that gave up meanwhile sends it again). `refuse` maps a
    recipient to the reply that refuses it at RCPT (550: for good; 450: for now); `refuse_data`, when
    set, is the reply refusing every message at DATA (its content, as a relay's filter does);
    `on_message` runs after each message is kept."""

    def __init__(self, user: str | None = None, password: str | None = None, *, delay: float = 0.0,
                 tls: ssl.SSLContext | None = None, late_reply: float = 0.0) -> None:
        super().__init__()
        self.user, self.password, self.delay, self.tls = user, password, delay, tls
        self.late_reply = late_reply
        self.logins: list[tuple[str, str, str, bool]] = []  # (mechanism, login, password, accepted)
        # Recipients refused at RCPT: address -> the reply ("550 5.1.1 ..." for good, "450 ..." for now).
        self.refuse: dict[str, str] = {}
        self.refuse_data: str | None = None
        self.on_message: Callable[[list[str]], None] | None = None  # after a message is kept
        self.messages: list[tuple[list[str], Any]] = []
        # The port stays bound from here until the server first listens on that very socket: a port
        # closed and bound again later could be taken in between by another test's server.
        self.held: socket.socket | None = socket.socket()
        # Its connections inherit it: the port can be held again while they linger (`stop`).
        self.held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.held.bind(("127.0.0.1", 0))
        self.port = self.held.getsockname()[1]
        self.controller: Controller | None = None

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        accepted = (login, password) == (self.user, self.password)
        with self.lock:
            self.logins.append((mechanism, login, password, accepted))
        return AuthResult(success=accepted, handled=False)  # aiosmtpd answers 235 or 535

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        refusal = self.refuse.get(address.lower())
        if refusal:
            return refusal.replace("{address}", address)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse_data:
            return self.refuse_data
        self.enter()
        if self.delay:
            await asyncio.sleep(self.delay)
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        self.leave()
        if self.on_message is not None:
            self.on_message(list(envelope.rcpt_tos))
        if self.late_reply:
            await asyncio.sleep(self.late_reply)
        return "250 OK"

    @property
    def subjects(self) -> list[str]:
        with self.lock:
            return [str(message["Subject"]) for _, message in self.messages]

    def start(self) -> None:
        options: dict[str, Any] = {}
        if self.user is not None:
            options = {"auth_require_tls": False, "auth_required": True, "authenticator": self.authenticate}
        if self.tls is not None:
            options |= {"tls_context": self.tls, "require_starttls": True}
        self.controller = _OnSocket(self.held, self, hostname="127.0.0.1", port=self.port, **options)
        self.held = None  # the server owns it now; a later start binds the port again
        self.controller.start()

    def stop(self) -> None:
        """The server goes down (a client is refused) but its port stays this mailbox's, bound and
        not listening, for a later `start()`: a port let go while a test waits for a retry was
        taken in between by another socket of the machine ("address already in use")."""
        if self.controller:
            self.controller.stop()
            self.controller = None
        if self.held is None:
            held = socket.socket()
            held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                held.bind(("127.0.0.1", self.port))
            except OSError:  # taken at once after all: `start` binds it again, as it did before
                held.close()
            else:
                self.held = held

    def close(self) -> None:
        """Down for good: the port let go."""
        self.stop()
        if self.held is not None:
            self.held.close()
            self.held = None


class RawMailbox(Mailbox):
    """The loopback SMTP server, also keeping each message's bytes as they came (line ends, folding)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.raw: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.raw.append(bytes(envelope.original_content))
        return await super().handle_DATA(server, session, envelope)

    def parsed(self) -> list[tuple[bytes, EmailMessage]]:
        with self.lock:
            return [(raw, message_from_bytes(raw, policy=policy.default)) for raw in self.raw]  # type: ignore[misc]


class _OnSocket(Controller):
    """aiosmtpd's controller listening on a socket already bound (else binding host and port)."""

    def __init__(self, sock: socket.socket | None, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sock = sock

    def _create_server(self) -> Any:
        if self.sock is None:
            return super()._create_server()
        return self.loop.create_server(self._factory_invoker, sock=self.sock, ssl=self.ssl_context)


class Receiver(_Overlap):
    """A real HTTP receiver for json:// webhooks: `status` decides its answer, `delay` how long each
    answer takes (so notifier processes started together really overlap; longer than the sender's
    timeout, a post it finishes after the sender gave up). A post cut short by its sender's death is
    not kept, as no real service would act on half a request. `headers` holds each post's headers;
    `on_post`, when set, runs after a post is kept and before it is answered. With `location` it
    answers `status` (a 3xx) pointing there, as a moved service does; a GET (a redirected post
    turned into one) is answered 200, as a web page would be, and counted in `gets`."""

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__()
        self.posts: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.status = 200
        self.delay = delay
        self.on_post: Callable[[], None] | None = None
        self.location: str | None = None
        self.gets = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                if len(body) < length:  # the sender died mid-request: a real service drops it too
                    return
                outer.enter()
                if outer.delay:
                    time.sleep(outer.delay)
                if outer.status == 200:
                    try:
                        post = json.loads(body)
                    except ValueError:
                        post = {"path": self.path, "raw": body.decode("utf-8", "replace"),
                                "title": self.headers.get("X-Title") or self.headers.get("Title")}
                    with outer.lock:
                        outer.posts.append(post)
                        outer.headers.append(dict(self.headers.items()))
                    if outer.on_post is not None:
                        outer.on_post()
                outer.leave()
                self.send_response(outer.status)
                if outer.location is not None:
                    self.send_header("Location", outer.location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self) -> None:
                with outer.lock:
                    outer.gets += 1
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # A short poll: shutdown() waits for serve_forever's next look at its flag (0.5 s by default,
        # at every test's teardown).
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self.port = self.server.server_address[1]

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.port}/hook"

    @property
    def titles(self) -> list[str]:
        with self.lock:
            return [post.get("title") or "" for post in self.posts]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
