"""The web app of `tracker serve` (Starlette): the digest's built files and the subscription pages.

Routes: GET /subscribe (the form) and POST /subscribe (a sign-up); GET /c/TOKEN (one button) and
POST /c/TOKEN (confirm); GET /u/TOKEN (one button) and POST /u/TOKEN (unsubscribe: RFC 8058's
`List-Unsubscribe=One-Click` body as mail clients send it, or the page's form); GET and POST
/p/TOKEN (preferences, delete my data); every other GET a file of `[digest] out`, its HTML with the
sign-up form's CSRF placeholder filled. A GET never changes anything (link scanners open links).

The store's work runs in Starlette's thread pool, one transaction a request; mail is owed in the
sign-up's transaction and sent by the mail worker after the answer (tracker/web/mailer.py).
Tokens in paths are masked in the one access line each request gets.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Route

from tracker import __version__, clock, templating
from tracker import models as m
from tracker.alerts.send import mailable
from tracker.config import Config
from tracker.contacts import check_place
from tracker.digest import CSRF_PLACEHOLDER, place_choices, signup_form
from tracker.people import AddressError, normalize_address, wipe_deleted
from tracker.store import Store
from tracker.web import csrf, subscriptions
from tracker.web.limits import ADDRESS_DAY_HOURS, DAY, EVERYONE, SlidingLimit, client_key, mailbox_key
from tracker.web.mailer import Mailer, error_line, link_life

log = logging.getLogger("tracker.web")
MAX_BODY = 8 * 1024  # a sign-up or preferences form is far smaller
# A form arrives within this once its headers have (8 KB: a fraction of a second on any line); a
# client trickling it a byte at a time would hold a connection, and a file descriptor, at will.
BODY_SECONDS = 10.0
MAX_FIELD = 320
ONE_CLICK = b"List-Unsubscribe=One-Click"
# A link's token after /c/, /u/ or /p/ anywhere in a path (`//u/TOKEN`, `/x/../p/TOKEN` reach no
# page, but the token is the visitor's all the same)
_TOKEN_PATH = re.compile(r"(?<=/)([cup])/[^/]*")
HEADERS = {
    "Referrer-Policy": "no-referrer",  # a page under a token must not hand it on
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}
# The digest's own files by their types, not the host's /etc/mime.types (which a slim container
# lacks: a calendar sent as a download is not offered to the phone's calendar).
DIGEST_TYPES = {".ics": "text/calendar; charset=utf-8", ".atom": "application/atom+xml", ".txt": "text/plain"}
PAGE_HEADERS = {**HEADERS, "Cache-Control": "no-store",
                "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                                           "frame-ancestors 'none'; base-uri 'none'"}


SHOWN_PATH = 200  # characters of a path a log line shows


def masked_path(path: str) -> str:
    """A request's path as the access line shows it: a link's token is a secret; a control
    character (a CR/LF from `%0d%0a`) written `%0A`, never raw (it would start a forged line in the
    journal); at most SHOWN_PATH characters (the visitor chooses the path's length)."""
    masked = _TOKEN_PATH.sub(lambda found: f"{found.group(1)}/…", path)
    shown = "".join(c if c.isprintable() else f"%{ord(c):02X}" for c in masked[:SHOWN_PATH + 1])
    return shown if len(masked) <= SHOWN_PATH else f"{shown[:SHOWN_PATH]}…({len(masked)} characters)"


def server_key(store: Store, config: Config) -> bytes:
    """`[serve] secret`, else the key made once and kept in the store (the first process to start
    makes it; a second one reads the same row)."""
    if config.serve.secret:
        return config.serve.secret.encode()
    with store.session() as session:
        session.execute(m.insert(session, m.ServeKey).values(
            name="csrf", value=csrf.new_nonce() + csrf.new_nonce(), created_at=clock.now(),
        ).on_conflict_do_nothing(index_elements=["name"]))
    with store.session() as session:
        return session.scalars(select(m.ServeKey.value).where(m.ServeKey.name == "csrf")).one().encode()


class Refused(Exception):
    """A form that cannot be used: `words` for the page, `status` for the answer."""

    def __init__(self, words: str, status: int = 400) -> None:
        super().__init__(words)
        self.words, self.status = words, status


@dataclass
class Pages:
    """The app's state: config, store, key, limits, templates, the mail worker."""

    config: Config
    store: Store
    key: bytes
    mailer: Mailer
    per_client: SlidingLimit
    per_address: SlidingLimit
    per_address_day: SlidingLimit  # the same mailbox over a day (limits.ADDRESS_DAY_HOURS hours' worth)
    overall: SlidingLimit  # every sign-up the server takes ([serve] signups_per_hour)

    def __post_init__(self) -> None:
        folder = self.config.resolve(self.config.digest.templates) if self.config.digest.templates else None
        self.env = templating.environment("web", folder, html=True)
        self.watches = [(w.id, w.name) for w in [*self.config.bills, *self.config.meetings]]
        self.states = place_choices()
        self.https = (self.config.serve.public_url or "").startswith("https://")
        self._sent: bytes | None = None

    # -- answers ----------------------------------------------------------------------------
    def page(self, request: Request, template: str, code: int = 200, **context: Any) -> HTMLResponse:
        """A page with a CSRF token for the visitor's cookie (set here when it has none)."""
        nonce = request.cookies.get(csrf.COOKIE)
        fresh = not csrf.good_nonce(nonce)
        if fresh:
            nonce = csrf.new_nonce()
        token = csrf.token_for(self.key, nonce, time.time())  # type: ignore[arg-type]
        form = signup_form(self.config, token)
        body = self.env.get_template(template).render(version=__version__, csrf=token, **{"form": form, **context})
        response = HTMLResponse(body, status_code=code, headers=PAGE_HEADERS)
        if fresh:
            self.set_cookie(response, nonce)  # type: ignore[arg-type]
        return response

    def set_cookie(self, response: Response, nonce: str) -> None:
        response.set_cookie(csrf.COOKIE, nonce, max_age=csrf.MAX_AGE, path="/", httponly=True,
                            samesite="strict", secure=self.https)

    def words(self, request: Request, title: str, lines: list[str], status: int = 200, *,
              with_form: bool = False, bad: bool = False) -> HTMLResponse:
        if with_form:
            return self.page(request, "web/message.html.j2", status, title=title, lines=lines, bad=bad)
        body = self.env.get_template("web/message.html.j2").render(version=__version__, title=title, lines=lines,
                                                                   bad=bad, form=None)
        return HTMLResponse(body, status_code=status, headers=PAGE_HEADERS)

    def gone(self, request: Request) -> HTMLResponse:
        """An unknown, used, expired or revoked link: a plain page, the same for every case."""
        return self.words(request, "This link does not work", [
            "This link is not valid: it may have expired, been used already, or been mistyped.",
            "Links in the newest mail from us work; you can also sign up again on the front page."], 404)

    def checked(self, request: Request, form: FormData) -> None:
        if not csrf.valid(self.key, request.cookies.get(csrf.COOKIE), _field(form, "csrf"), time.time()):
            raise Refused("This form has expired or did not come from this site. Nothing was done: "
                          "please send it again.", 403)

    # -- routes -----------------------------------------------------------------------------
    async def subscribe_form(self, request: Request) -> Response:
        if signup_form(self.config) is None:
            return self.closed(request)
        return self.page(request, "web/subscribe.html.j2", title="Get alerts by email")

    def closed(self, request: Request) -> HTMLResponse:
        return self.words(request, "Sign-up is closed", ["This tracker does not take sign-ups by email."], 404)

    async def subscribe(self, request: Request) -> Response:
        if signup_form(self.config) is None:
            return self.closed(request)
        try:
            form = await _form(request)
            self.checked(request, form)
            if _field(form, "website"):  # the honeypot: a bot; answered as everyone is, nothing done
                return self.sent(request)
            try:
                address = normalize_address(_field(form, "email"))
            except AddressError as exc:
                raise Refused(f"{exc} Nothing was sent. Please type one address, like name@example.org.") from None
            mail_url = self.config.alerts.mail_url  # set: else sign-up is closed
            if mail_url is not None and not mailable(mail_url.url, address):
                raise Refused("Our mail server cannot write to that address as typed. Nothing was sent. "
                              "Please use another address.")
            choices = self.choices(form)
            client = client_key(request.client.host) if request.client else "?"
            if not self.per_client.allow(client):
                raise Refused("Too many sign-ups from your network in the last hour. Please try again later.", 429)
            mailbox = mailbox_key(address)
            if not self.per_address.allow(mailbox):
                raise Refused("Too many sign-ups for this address in the last hour. Please try again later.", 429)
            if not self.per_address_day.allow(mailbox):
                raise Refused("Too many sign-ups for this address today. Please try again tomorrow.", 429)
            if not self.overall.allow(EVERYONE):  # last: only sign-ups each of the others let through count
                raise Refused("Too many sign-ups in the last hour. Please try again later.", 429)
        except Refused as refused:
            return self.words(request, "Not signed up", [refused.words], refused.status,
                              with_form=refused.status != 429, bad=True)
        resend = timedelta(minutes=self.config.serve.resend_minutes)
        await run_in_threadpool(self._sign_up, address, choices, resend)
        self.mailer.wake()
        return self.sent(request)

    def _sign_up(self, address: str, choices: subscriptions.Choices, resend: timedelta) -> None:
        with self.store.session() as session:
            subscriptions.sign_up(session, address, choices, clock.now(), resend)

    def sent(self, request: Request) -> HTMLResponse:
        """The one answer to every accepted sign-up, whatever the address's state: the same bytes
        each time (rendered once)."""
        if self._sent is None:
            self._sent = self.words(request, "Check your mail", [
                "If this address can get alerts, a mail is on its way to it with a link to confirm "
                f"(it works for {link_life(self.config.serve.confirm_hours)}). Nothing else is sent until you "
                "open it.",
                "Nothing after a few minutes? Look in your spam folder, or sign up again later."]).body
        return HTMLResponse(self._sent, headers=PAGE_HEADERS)

    def choices(self, form: FormData) -> subscriptions.Choices:
        known = {watch_id for watch_id, _ in self.watches}
        picked = [w for w in form.getlist("watch") if isinstance(w, str)]
        if len(picked) > len(known) or any(w not in known for w in picked):
            raise Refused("One of the campaigns picked is not one this tracker follows.")
        mode = _field(form, "mode") or "instant"
        if mode not in subscriptions.MODES:
            raise Refused("How often must be as it happens, once a day or once a week.")
        state = _field(form, "state").strip().upper() or None
        district_text = _field(form, "district").strip()
        district = None
        if district_text:
            # ASCII: isdigit() also says yes to "²" and "①", which int() refuses
            if not (district_text.isascii() and district_text.isdigit()) or len(district_text) > 2:
                raise Refused("The district must be a number, like 7 (0 for an at-large seat).")
            district = int(district_text)
        if district is not None and state is None:
            raise Refused("A district needs its state.")
        if state is not None and (problem := check_place(state, district)):
            raise Refused(f"The state or district is not right: {problem}.")
        offered = [value for value, _ in subscriptions.REMINDERS]
        asked = [r for r in form.getlist("reminder") if isinstance(r, str)]
        if len(asked) > len(offered) or any(r not in offered for r in asked):
            raise Refused("One of the reminders picked is not one offered here.")
        follow = [w for w, _ in self.watches if w in picked] or None
        return subscriptions.Choices(follow=follow, mode=mode, state=state, district=district,  # type: ignore[arg-type]
                                     reminders=tuple(r for r in offered if r in asked))

    async def confirm_page(self, request: Request) -> Response:
        token = request.path_params["token"]
        choices = await run_in_threadpool(self._read, subscriptions.confirm_choices, token)
        if choices is None:
            return self.gone(request)
        return self.page(request, "web/confirm.html.j2", title="Confirm your alerts", token=token, choices=choices,
                         watches=self.watches, reminders=subscriptions.REMINDERS, states=self.states)

    async def confirm(self, request: Request) -> Response:
        token = request.path_params["token"]
        try:
            self.checked(request, await _form(request))
        except Refused as refused:
            return self.words(request, "Not confirmed", [refused.words, "Open the link from the mail again."],
                              refused.status, bad=True)
        manage = await run_in_threadpool(self._write, subscriptions.confirm, token, self.config.watch_ids)
        if manage is None:
            return self.gone(request)
        base = (self.config.serve.public_url or "").rstrip("/")
        return self.page(request, "web/confirmed.html.j2", title="You are subscribed", manage=f"{base}/p/{manage}")

    async def unsubscribe_page(self, request: Request) -> Response:
        token = request.path_params["token"]
        person = await run_in_threadpool(self._read, _status_of, token)
        if person is None:
            return self.gone(request)
        base = (self.config.serve.public_url or "").rstrip("/")
        return self.page(request, "web/unsubscribe.html.j2", title="Unsubscribe", token=token,
                         manage=f"{base}/p/{token}", unsubscribed=person == "unsubscribed")

    async def unsubscribe(self, request: Request) -> Response:
        """RFC 8058: the one-click body needs nothing else (the token is the secret); the page's own
        form carries its CSRF token. 200 either way, never a redirect."""
        token = request.path_params["token"]
        body = await _body(request)
        try:
            form = await request.form(max_files=0, max_fields=64, max_part_size=MAX_BODY)
        except Exception:  # not a form (a mail client's raw body): only the exact one-click body counts
            form = FormData()
        one_click = body.strip() == ONE_CLICK or form.get("List-Unsubscribe") == "One-Click"  # urlencoded or multipart
        if not one_click:
            try:
                self.checked(request, form)
            except Refused as refused:
                return self.words(request, "Not unsubscribed", [refused.words, "Open the link from the mail again."],
                                  refused.status, bad=True)
        if not await run_in_threadpool(self._write, subscriptions.unsubscribe, token):
            return self.gone(request)
        return self.words(request, "Unsubscribed", [
            "You are unsubscribed. Nothing more will be sent to you.",
            "To get alerts again, sign up and confirm again."])

    async def preferences_page(self, request: Request) -> Response:
        token = request.path_params["token"]
        found = await run_in_threadpool(self._read, _choices_of, token)
        if found is None:
            return self.gone(request)
        status, choices = found
        return self.preferences(request, token, status, choices)

    def preferences(self, request: Request, token: str, status: str, choices: subscriptions.Choices, *,
                    saved: bool = False, problem: str | None = None, code: int = 200) -> HTMLResponse:
        return self.page(request, "web/preferences.html.j2", code, title="Your alerts", token=token, status=status,
                         choices=choices, watches=self.watches, states=self.states, saved=saved, problem=problem,
                         reminders=subscriptions.REMINDERS)

    async def preferences_post(self, request: Request) -> Response:
        token = request.path_params["token"]
        try:
            form = await _form(request)
            self.checked(request, form)
            action = _field(form, "action")
        except Refused as refused:
            return self.words(request, "Not saved", [refused.words, "Open the link from the mail again."],
                              refused.status, bad=True)
        if action == "delete":
            if not await run_in_threadpool(self._write, subscriptions.delete_person, token):
                return self.gone(request)
            done = self.words(request, "Your data is deleted", [
                "Your address, your choices and every link we sent you are deleted. Nothing more will be sent."])
            done.background = BackgroundTask(wipe_deleted, self.store)  # after the answer
            return done
        found = await run_in_threadpool(self._read, _choices_of, token)
        if found is None:
            return self.gone(request)
        try:
            choices = self.choices(form)
        except Refused as refused:
            return self.preferences(request, token, found[0], found[1], problem=refused.words, code=400)
        person = await run_in_threadpool(self._write, _save, token, choices, self.config)
        if person is None:
            return self.gone(request)
        return self.preferences(request, token, person, choices, saved=True)

    async def digest_file(self, request: Request) -> Response:
        """A file of the built digest; HTML with the form's CSRF placeholder filled for this visitor."""
        root = self.config.digest_dir.resolve()
        relative = request.path_params.get("path") or ""
        if relative == "" or relative.endswith("/"):
            relative += "index.html"
        try:
            path = (root / relative).resolve()
            found = path.is_relative_to(root) and path.is_file()
        except (OSError, ValueError):  # a NUL byte (ValueError), a name longer than the filesystem takes
            found = False
        if not found:
            return self.words(request, "Not found", ["There is no page here. The front page lists everything."], 404)
        if path.suffix != ".html":
            return FileResponse(path, headers=HEADERS, media_type=DIGEST_TYPES.get(path.suffix))
        text = await run_in_threadpool(path.read_text, "utf-8")
        if CSRF_PLACEHOLDER not in text:
            return HTMLResponse(text, headers=HEADERS)
        nonce = request.cookies.get(csrf.COOKIE)
        fresh = not csrf.good_nonce(nonce)
        nonce = csrf.new_nonce() if fresh else nonce
        response = HTMLResponse(text.replace(CSRF_PLACEHOLDER, csrf.token_for(self.key, nonce, time.time())),  # type: ignore[arg-type]
                                headers={**HEADERS, "Cache-Control": "no-store"})
        if fresh:
            self.set_cookie(response, nonce)  # type: ignore[arg-type]
        return response

    # -- the store --------------------------------------------------------------------------
    def _read(self, fn: Callable[..., Any], *args: Any) -> Any:
        with self.store.session() as session:
            return fn(session, *args, clock.now())

    _write = _read  # one transaction either way: the session commits on success


def _status_of(session: Any, token: str, now: Any) -> str | None:
    person = subscriptions.manage_person(session, token, now)
    return None if person is None else person.status


def _choices_of(session: Any, token: str, now: Any) -> tuple[str, subscriptions.Choices] | None:
    person = subscriptions.manage_person(session, token, now)
    return None if person is None else (person.status, subscriptions.choices_of(person))


def _save(session: Any, token: str, choices: subscriptions.Choices, config: Config, now: Any) -> str | None:
    person = subscriptions.save_choices(session, token, choices, config, now)
    return None if person is None else person.status


async def _body(request: Request) -> bytes:
    length = request.headers.get("content-length")
    if length is not None and (not (length.isascii() and length.isdigit()) or int(length) > MAX_BODY):
        raise_too_big()
    body = b""
    try:
        async with asyncio.timeout(BODY_SECONDS):
            async for chunk in request.stream():
                body += chunk
                if len(body) > MAX_BODY:
                    raise_too_big()
    except TimeoutError:
        raise TooSlow() from None
    request._body = body  # Starlette reads the form from it
    return body


class TooBig(Exception):
    pass


class TooSlow(Exception):
    """The form did not arrive within BODY_SECONDS."""


def raise_too_big() -> None:
    raise TooBig()


async def _form(request: Request) -> FormData:
    """The request's form; one a browser would not send (multipart whose body breaks its own
    boundary) is refused in words, not with python-multipart's message as plain text."""
    await _body(request)
    try:
        return await request.form(max_files=0, max_fields=64, max_part_size=MAX_BODY)
    except HTTPException:
        raise Refused("That form could not be read: it is not as a browser sends ours. Nothing was done: "
                      "please send it again.") from None


# python-multipart logs each malformed form a visitor sends as a WARNING: theirs, not a fault of the
# server, and anyone could write them into the journal at will, one a request. An INFO line.
_MULTIPART_LOGGERS = ("python_multipart.multipart", "multipart.multipart")


class _VisitorsForm(logging.Filter):
    """Lowers python-multipart's lines about a malformed form to INFO."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.WARNING:
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


_VISITORS_FORM = _VisitorsForm()


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    if not isinstance(value, str):
        return ""
    if len(value) > MAX_FIELD:
        raise Refused(f"The field {name!r} is too long.")
    return value


class AccessLog:
    """One line a request: method, path with any token masked, status, milliseconds; no query, no
    client address (uvicorn's own access log is off: it prints the whole path)."""

    def __init__(self, app: Starlette, pages: Pages) -> None:
        self.app, self.pages = app, pages

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.monotonic()
        status = [500]
        answered = [False]

        async def sending(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status[0], answered[0] = message["status"], True
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception:
            # Starlette raises again what `broken` already answered and logged in one masked line;
            # uvicorn would log it a second time whole, the statement's values (an address) in it.
            if not answered[0]:
                raise
        finally:
            log.info("%s %s %d %.0fms", scope.get("method"), masked_path(scope.get("path", "")), status[0],
                     (time.monotonic() - started) * 1000)


def make_app(config: Config, store: Store | None = None, *, separate_mailer: bool = True) -> AccessLog:
    """The app for `config` (its store opened, migrated, unless given); its mails sent from a
    process of their own unless `separate_mailer` is False (a thread of this one: tests)."""
    store = store or Store(config.database_url)
    for name in _MULTIPART_LOGGERS:  # once: the same filter is not added twice
        logging.getLogger(name).addFilter(_VISITORS_FORM)
    pages = Pages(config=config, store=store, key=server_key(store, config),
                  mailer=Mailer(store, config, separate=separate_mailer),
                  per_client=SlidingLimit(config.serve.signups_per_client_hour),
                  per_address=SlidingLimit(config.serve.signups_per_address_hour),
                  per_address_day=SlidingLimit(config.serve.signups_per_address_hour * ADDRESS_DAY_HOURS, DAY,
                                               count_refused=False),
                  overall=SlidingLimit(config.serve.signups_per_hour, count_refused=False))

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        pages.mailer.start()
        try:
            yield
        finally:
            pages.mailer.stop()

    async def too_big(request: Request, _exc: Exception) -> Response:
        return pages.words(request, "Too long", ["That form is far longer than ours; nothing was done."], 413)

    async def too_slow(request: Request, _exc: Exception) -> Response:
        answer = pages.words(request, "Too slow", ["That form took too long to arrive; nothing was done."], 408)
        answer.headers["Connection"] = "close"  # the rest of its body is not read
        return answer

    async def hung_up(_request: Request, _exc: Exception) -> Response:
        """The client left before its form arrived: nobody reads an answer, and it is no failure of
        ours to log (anyone could write ERROR lines at will); the access line says 499."""
        return Response(status_code=499)

    async def broken(request: Request, exc: Exception) -> Response:
        """The store unreachable, a bug: one line in the log, a page in words for the visitor. The
        line keeps the error's first line without its SQL and parameters (SQLAlchemy puts the
        statement's values, an address among them, on the lines after) and any address blanked."""
        log.error("serve: %s %s failed: %s: %s", request.method, masked_path(request.url.path), type(exc).__name__,
                  error_line(exc))
        return pages.words(request, "Not now", [
            "Something went wrong on our side and nothing was changed. Please try again in a few minutes."], 503)

    def route(path: str, endpoint: Callable[[Request], Awaitable[Response]], method: str) -> Route:
        return Route(path, endpoint, methods=[method])

    app = Starlette(routes=[
        route("/subscribe", pages.subscribe_form, "GET"), route("/subscribe", pages.subscribe, "POST"),
        route("/c/{token}", pages.confirm_page, "GET"), route("/c/{token}", pages.confirm, "POST"),
        route("/u/{token}", pages.unsubscribe_page, "GET"), route("/u/{token}", pages.unsubscribe, "POST"),
        route("/p/{token}", pages.preferences_page, "GET"), route("/p/{token}", pages.preferences_post, "POST"),
        route("/{path:path}", pages.digest_file, "GET"),
    ], lifespan=lifespan, exception_handlers={TooBig: too_big, TooSlow: too_slow, ClientDisconnect: hung_up,
                                            Exception: broken})
    return AccessLog(app, pages)
