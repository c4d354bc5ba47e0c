"""Downloader middlewares that make crawls polite and cheap.

- `RedirectGuardMiddleware`: a redirect (3xx or meta refresh) is followed only to the public web or to
  addresses as private as the source's own: never from a public site to this machine, a private
  network or a cloud's metadata service (`redirect_refusal`); one to `file://` is said as such.
  The addresses it judges are the ones the connection uses (`PinnedResolver`: no DNS rebinding).
- `ConditionalRequestMiddleware`: sends If-None-Match / If-Modified-Since from the validators the
  database holds (loaded once per crawl), and hands the new validators to the spider so they are
  stored together with the snapshot: a parse failure is never hidden behind a later 304. A
  Last-Modified later than now is not kept (If-Modified-Since would hide every change until then).
- `PoliteRetryMiddleware`: Scrapy 2.19 retries a 429 at once and ignores Retry-After; this waits
  what the server asked (capped), then retries, a bounded number of times.
- `CrawlDelayMiddleware`: Scrapy's robots.txt support does not apply `Crawl-delay`; this raises the
  host's shared pace to what robots.txt asks.
- `HostPaceMiddleware`: one pace per host for the whole process. Each source is its own crawler with
  its own download slots, so six Legistar watches (one host) would each keep their own delay and hit
  that host six times at once; this spaces every request to a host by the delay (robots.txt
  `Crawl-delay` and `Retry-After` waits included), counted from the previous request's start and
  from its answer, so the spacing holds on the wire even when a busy reactor sends late; caps
  requests in flight per host and in total, whichever crawler asked, while different hosts still go
  side by side. A host whose Retry-After waits asked again (a request retried after the wait it
  asked, refused again) in one crawl batch, since it last served an answer, add up to more than the
  longest single wait allowed is not asked again in that batch: each wait is short, but one after
  another for every request and its retries they held the whole run for hours.
- `AddressLoginMiddleware`: a source address carrying a login (`https://reader:PASSWORD@host/feed.ics`,
  a private calendar behind HTTP Basic auth) is asked without it, the login sent as an
  `Authorization: Basic` header to that address's own origin (scheme, host, port) only: never after a
  redirect elsewhere, never over plain http to a public address, as curl does without
  `--location-trusted`.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar
from urllib.parse import unquote, urlparse, urlsplit, urlunsplit

import attr
from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import CannotResolveHostError, IgnoreRequest
from scrapy.http import Response
from scrapy.resolver import HostResolution
from scrapy.robotstxt import ProtegoRobotParser
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred, succeed
from twisted.internet.interfaces import IAddress, IHostnameResolver, IHostResolution, IResolutionReceiver
from twisted.internet.task import deferLater
from w3lib.http import basic_auth_header
from w3lib.url import safe_url_string
from zope.interface import implementer

from tracker.records import Validators, validators_key

log = logging.getLogger(__name__)


class ConditionalRequestMiddleware:
    """Requests with `meta["conditional"] = True` become conditional GETs."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ConditionalRequestMiddleware:
        return cls(crawler)

    def _validators(self) -> dict[str, Validators]:
        spider = self.crawler.spider
        return getattr(spider, "validators", None) or {}

    def _scope(self) -> str:
        """Whose validators these are (`Validators.scope`): the spider's `validators_scope`, if any."""
        return getattr(self.crawler.spider, "validators_scope", "")

    def process_request(self, request: Request) -> None:
        # `refetch`: ask for the whole body this once, but still remember its new validators.
        if not request.meta.get("conditional") or request.meta.get("refetch"):
            return None
        known = self._validators().get(validators_key(request.url, self._scope()))
        if known is None:
            return None
        if known.etag:
            request.headers.setdefault(b"If-None-Match", known.etag.encode())
        if known.last_modified:
            request.headers.setdefault(b"If-Modified-Since", known.last_modified.encode())
        return None

    def process_response(self, request: Request, response: Response) -> Response:
        if request.meta.get("conditional") and response.status == 200:
            etag = response.headers.get(b"ETag")
            modified = response.headers.get(b"Last-Modified")
            request.meta["validators"] = Validators(
                request.url, etag.decode("latin-1") if etag else None,
                modified.decode("latin-1") if modified and not _ahead(modified) else None, self._scope())
        return response


def _ahead(value: bytes) -> bool:
    """Whether a Last-Modified is later than now (a server's clock gone wrong): sent back as
    If-Modified-Since, it would have every later change answered 304 until that day."""
    try:
        when = parsedate_to_datetime(value.decode("latin-1"))
    except (TypeError, ValueError):
        return False
    return (when if when.tzinfo else when.replace(tzinfo=UTC)) > datetime.now(UTC)


def retry_after_seconds(value: bytes | str | None, now: datetime | None = None) -> float | None:
    """Retry-After is either delta-seconds or an HTTP date."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class PoliteRetryMiddleware:
    """Honour 429/503 Retry-After: wait, then retry (at most RETRY_AFTER_TIMES per request)."""

    codes = (429, 503)

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.max_wait = settings.getfloat("RETRY_AFTER_MAX_SECONDS", 300)
        self.default_wait = settings.getfloat("RETRY_AFTER_DEFAULT_SECONDS", 30)
        self.times = settings.getint("RETRY_AFTER_TIMES", 2)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PoliteRetryMiddleware:
        return cls(crawler)

    async def process_response(self, request: Request, response: Response) -> Request | Response:
        if response.status not in self.codes or request.meta.get("dont_retry_after"):
            # `dont_retry_after`: a source whose 429 means "stop for today" (Open States' daily
            # limit answers without Retry-After) handles it itself rather than wait and spend more.
            return response
        tries = request.meta.get("retry_after_tries", 0)
        header = response.headers.get(b"Retry-After")
        if response.status == 503 and header is None:
            return response  # a plain 503 is left to the normal retry middleware
        wait = retry_after_seconds(header)
        if wait is None:
            wait = self.default_wait
        if tries >= self.times or wait > self.max_wait:
            log.warning(
                "giving up on %s after HTTP %s (Retry-After %.0f s, try %d)",
                request.url, response.status, wait, tries + 1,
            )
            return response
        stats = self.crawler.stats
        if stats:
            stats.inc_value("retry_after/count")
            stats.inc_value("retry_after/seconds", int(wait))
        log.info("HTTP %s from %s: waiting %.1f s as Retry-After asks", response.status, request.url, wait)
        from twisted.internet import reactor  # imported late: the runner installs the reactor first

        await maybe_deferred_to_future(deferLater(reactor, wait, lambda: None))
        retry = request.replace(dont_filter=True)
        retry.meta["retry_after_tries"] = tries + 1
        return retry


ROBOTS_MOST = 500 * 1024  # the robots.txt read (RFC 9309, 2.5: at least 500 KiB)


class SharedRobotsTxtMiddleware(RobotsTxtMiddleware):
    """Scrapy's robots.txt handling, with one robots.txt per host for a whole crawl batch: every
    source is its own crawler, and each fetched the host's robots.txt for itself (with six cities'
    Legistar watches, half the requests to that host were robots.txt). The first crawler to need a
    host fetches it; the others wait for that answer. A batch is the crawlers sharing the setting
    `TRACKER_CRAWL_BATCH` (one `run_crawls`): the next batch reads robots.txt afresh. Only its first
    `ROBOTS_MOST` bytes are read (`CappedRobotParser`)."""

    shared: ClassVar[dict[str, Any]] = {}
    batch: ClassVar[str | None] = None

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        batch = crawler.settings.get("TRACKER_CRAWL_BATCH")
        if batch != SharedRobotsTxtMiddleware.batch:
            SharedRobotsTxtMiddleware.batch, SharedRobotsTxtMiddleware.shared = batch, {}
        self._parsers = SharedRobotsTxtMiddleware.shared


class CappedRobotParser(ProtegoRobotParser):
    """Scrapy's robots.txt parser (Protego) on only the first `ROBOTS_MOST` bytes of the file, up to
    its last whole line (RFC 9309, 2.5 lets a crawler stop there; Google does): a robots.txt of
    20 MB took 6 s to parse and a quarter of a second to match each request, in the reactor thread
    every source shares. The setting `ROBOTSTXT_PARSER` names it (Scrapy's own extension point)."""

    @classmethod
    def from_crawler(cls, crawler: Crawler, robotstxt_body: bytes) -> CappedRobotParser:
        if len(robotstxt_body) > ROBOTS_MOST:
            head = robotstxt_body[:ROBOTS_MOST]
            robotstxt_body = head[: head.rfind(b"\n") + 1] or head
        return super().from_crawler(crawler, robotstxt_body)


class CrawlDelayMiddleware:
    """Apply robots.txt Crawl-delay to the host's shared pace (never lowers the configured delay).
    A delay longer than the longest wait a host may ask (`RETRY_AFTER_MAX_SECONDS`, as for
    Retry-After) cannot be kept without holding the whole run (an hour between requests: every
    other source, the alerts and the digest wait): the host is not asked, one line says why."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.user_agent = crawler.settings.get("ROBOTSTXT_USER_AGENT") or crawler.settings.get("USER_AGENT")
        self.max_wait = crawler.settings.getfloat("RETRY_AFTER_MAX_SECONDS", 300)
        self.applied: dict[str, float] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlDelayMiddleware:
        return cls(crawler)

    def _robots(self) -> Any:
        engine = self.crawler.engine
        if engine is None:
            return None
        for mw in engine.downloader.middleware.middlewares:
            if isinstance(mw, RobotsTxtMiddleware):
                return mw
        return None

    def process_request(self, request: Request) -> None:
        robots = self._robots()
        if robots is None or request.url.endswith("/robots.txt"):
            return None
        netloc = urlparse(request.url).netloc
        parser = getattr(robots, "_parsers", {}).get(netloc)
        if parser is None or not hasattr(parser, "crawl_delay"):
            return None
        delay = parser.crawl_delay(self.user_agent) or 0.0
        if delay <= 0:
            return None
        if delay > self.max_wait:
            raise IgnoreRequest(f"robots.txt asks {delay:g} s between requests to {netloc}, longer than "
                                f"[crawl] max_retry_after_seconds ({self.max_wait:g} s) allows: not asked")
        key = host_key(request)
        PACE.host(key).crawl_delay = delay
        if self.applied.get(key) != delay:
            log.info("robots.txt asks %s s between requests to %s", delay, netloc)
            self.applied[key] = delay
        return None


# -- one pace per host, shared by every crawler of the process ------------------------------------


def host_key(request: Request) -> str:
    """The host a request goes to: its name, with the port only when it is not the scheme's default
    (two servers on one machine's different ports are told apart; http and https of a host are one)."""
    parts = urlparse_cached(request)
    host = (parts.hostname or "").lower()
    port = parts.port
    return host if port in (None, 80, 443) else f"{host}:{port}"


class _Gate:
    """A counting gate whose limit is given at each `enter` (settings may differ between crawls of one
    process). Twisted Deferreds, since every crawler runs in the one reactor thread."""

    def __init__(self) -> None:
        self.active = 0
        self.waiting: list[Deferred[None]] = []

    async def enter(self, limit: int) -> None:
        if self.active < max(1, limit) and not self.waiting:
            self.active += 1
            return
        waiter: Deferred[None] = Deferred()
        self.waiting.append(waiter)
        try:
            await maybe_deferred_to_future(waiter)  # `leave` hands its place over: `active` unchanged
        except BaseException:
            if waiter in self.waiting:
                self.waiting.remove(waiter)
            elif waiter.called:  # the place was handed to us as we were cancelled: pass it on
                self.leave()
            raise

    def leave(self) -> None:
        if self.waiting:
            self.waiting.pop(0).callback(None)
        else:
            self.active = max(0, self.active - 1)


class HostState:
    """One host's pace: when its last request started and when the last answer began to come back,
    the request still awaiting its answer, waits asked by the host (Crawl-delay, Retry-After),
    requests in flight, and a turn so its requests start one after another."""

    def __init__(self) -> None:
        self.last_start = float("-inf")
        self.last_answer = float("-inf")  # when the latest answer (or error) began to come back
        self.awaiting: Request | None = None  # the latest request started, until its answer begins
        self.answer_waiters: list[Deferred[None]] = []
        self.not_before = 0.0  # Retry-After: nothing to this host before then (monotonic seconds)
        # Retry-After seconds of one crawl batch since the host last served an answer
        self.held_for: tuple[str | None, float] = (None, 0.0)
        self.crawl_delay = 0.0  # robots.txt Crawl-delay
        self.gate = _Gate()  # requests in flight to this host
        self.turn = _Gate()  # the one request waiting for its start time

    def next_start(self, delay: float) -> float:
        """The delay after the previous start and after the latest answer (see HostPaceMiddleware)."""
        gap = max(delay, self.crawl_delay)
        return max(self.last_start + gap, self.last_answer + gap, self.not_before)

    def answered(self, request: Request) -> None:
        """`request`'s answer (headers, response or error) has begun to come back: it has left."""
        if self.awaiting is not request:
            return
        self.awaiting = None
        self.last_answer = max(self.last_answer, time.monotonic())
        waiters, self.answer_waiters = self.answer_waiters, []
        for waiter in waiters:
            if not waiter.called:
                waiter.callback(None)

    async def previous_answered(self, timeout: float) -> None:
        """Wait until the latest request started has its answer; one never answered within `timeout`
        (its download timeout: it is lost) stops holding the host."""
        from twisted.internet import reactor  # imported late: the runner installs the reactor first
        from twisted.internet.defer import TimeoutError as DeferredTimeout

        while self.awaiting is not None:
            waiter: Deferred[None] = Deferred()
            waiter.addTimeout(timeout, reactor)
            self.answer_waiters.append(waiter)
            try:
                await maybe_deferred_to_future(waiter)
            except DeferredTimeout:
                log.warning("no answer from %s after %.0f s: pacing the next request without it",
                            self.awaiting and self.awaiting.url, timeout)
                self.awaiting = None
            finally:
                if waiter in self.answer_waiters:
                    self.answer_waiters.remove(waiter)


class HostPace:
    """Every host's pace and the process-wide cap on requests in flight."""

    def __init__(self) -> None:
        self.hosts: dict[str, HostState] = {}
        self.total = _Gate()
        self.held: dict[int, tuple[Request, HostState]] = {}  # requests let through, by id

    def host(self, key: str) -> HostState:
        state = self.hosts.get(key)
        if state is None:
            state = self.hosts[key] = HostState()
        return state

    def hold_off(self, key: str, seconds: float, batch: str | None = None, *, again: bool = False) -> None:
        """The host asked us to wait (Retry-After): no crawler of this process sends it anything sooner.
        A wait asked `again` (in answer to a request retried after the wait it asked) is added up
        for the crawl batch (`HostState.held_for`): a first refusal of each request is a host
        shedding load (many crawlers meeting one busy moment), a second one a host refusing."""
        state = self.host(key)
        state.not_before = max(state.not_before, time.monotonic() + seconds)
        if again:
            before = state.held_for[1] if state.held_for[0] == batch else 0.0
            state.held_for = (batch, before + seconds)


PACE = HostPace()


async def _sleep(seconds: float) -> None:
    from twisted.internet import reactor  # imported late: the runner installs the reactor first

    await maybe_deferred_to_future(deferLater(reactor, seconds, lambda: None))


class HostPaceMiddleware:
    """Space every request to one host by `HOST_PACE_DELAY` (or the host's Crawl-delay, or until its
    Retry-After), at most `CONCURRENT_REQUESTS_PER_DOMAIN` in flight per host and
    `TRACKER_CONCURRENT_TOTAL` in all, across every crawler of the process.

    It sits last before the download handler (its `process_response`/`process_exception` come
    first), so a slot is held only while the request is on the wire, and every retry or redirect,
    being a new request, is paced again. Requests of one host take turns: the one whose turn it is
    waits for its start time, then for a place in the total, then starts; so two starts to one host
    are never closer than the delay, and a busy host never holds places other hosts could use.

    Why a request also waits for the previous one's answer, then the delay: a start here is not yet
    the request on the wire. A new connection takes a few reactor turns before its bytes leave; with
    a thousand crawlers in one saturated reactor that took 3 to 270 ms, varying from one request to
    the next, so starts 0.5 s apart reached the host 0.37 s apart (bench/scale.py at 1,000 sources /
    50 hosts, by the kernel's receive stamps: 103 of 1,000 gaps short). A request has certainly left
    once its answer begins to come back (headers, or the response or error), so, when there is a
    delay to keep, the next start waits for that answer and the delay after it (and after the
    previous start): no two requests to a host closer than the delay on the wire, whatever the
    reactor's lag. Waiting only the delay after an answer that has come would not do: with two in
    flight per host, two requests started around a 1 s stall still left together (3 ms apart); nor
    would a fraction of the delay, which gives only max(fraction, delay - lag). More than one
    request per host still lets bodies download side by side. The cost: each request also waits its
    own time to first byte (the client's lag, the network, the server), measured in bench/scale.py
    (first to last request 1.19 x the busiest host's requests x delay, against 1.23 before)."""

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.delay = settings.getfloat("HOST_PACE_DELAY", 0.0)
        self.per_host = settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN", 2)
        self.total = settings.getint("TRACKER_CONCURRENT_TOTAL", 64)
        self.max_hold = settings.getfloat("RETRY_AFTER_MAX_SECONDS", 300)
        self.lost_after = settings.getfloat("DOWNLOAD_TIMEOUT", 180) + 10  # an answer never coming
        self.batch = settings.get("TRACKER_CRAWL_BATCH")  # one `run_crawls`: the waits a host may ask add up in it
        crawler.signals.connect(self._headers_received, signal=signals.headers_received)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> HostPaceMiddleware:
        return cls(crawler)

    def _headers_received(self, headers: Any, request: Request, **_: Any) -> None:
        """The answer has begun: the request has left. One asking for a pause (Retry-After) is
        looked at whole first (`process_response`), so the pause is noted before the next start."""
        if b"Retry-After" not in headers:
            state = PACE.hosts.get(host_key(request))
            if state is not None:
                state.answered(request)

    async def process_request(self, request: Request) -> None:
        state = PACE.host(host_key(request))
        asked = time.monotonic()
        # A source may ask for more room than the host's pace (`meta["host_pace"]`, seconds): an
        # API that counts requests a minute per key (Open States: 10) is spaced to stay under it.
        delay = max(self.delay, float(request.meta.get("host_pace") or 0))
        await state.gate.enter(self.per_host)
        try:
            await state.turn.enter(1)
            try:
                if delay > 0 or state.crawl_delay > 0:  # a spacing to keep on the wire
                    await state.previous_answered(self.lost_after)
                # an answer (a Retry-After) coming in during the sleep moves the start: look again
                while (wait := state.next_start(delay) - time.monotonic()) > 0:
                    self._not_held_too_long(request, state)  # not a wait before being given up
                    await _sleep(wait)
                self._not_held_too_long(request, state)
                await PACE.total.enter(self.total)
                state.last_start = time.monotonic()
                state.awaiting = request
            finally:
                state.turn.leave()
        except BaseException:
            state.gate.leave()
            raise
        PACE.held[id(request)] = (request, state)
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value("host_pace/waited_ms", int((state.last_start - asked) * 1000))
        return None

    def _not_held_too_long(self, request: Request, state: HostState) -> None:
        """A host that asked this batch to wait, since it last served an answer, longer in all than
        the longest single wait allowed
        (`RETRY_AFTER_MAX_SECONDS`) is not asked again in it: each request and each retry would wait
        its turn after the last Retry-After, one after another (48 requests answered "Retry-After:
        300" hold the run four hours). One wait as long as allowed is waited and its retry sent (the
        run was held for it). Each request not sent is its source's line; the next run asks."""
        batch, held = state.held_for
        if batch == self.batch and held > self.max_hold:
            raise IgnoreRequest(f"{host_key(request)} asked to wait {held:g} s in all this run (Retry-After), "
                                f"longer than [crawl] max_retry_after_seconds ({self.max_hold:g} s) allows: not asked")

    def _release(self, request: Request) -> None:
        held = PACE.held.pop(id(request), None)
        if held is not None and held[0] is request:
            state = held[1]
            state.answered(request)  # if no headers said so (an error, a Retry-After)
            state.gate.leave()
            PACE.total.leave()

    def process_response(self, request: Request, response: Response) -> Response:
        if response.status in PoliteRetryMiddleware.codes:
            # The host asked for a pause: every crawler waits for it, not only the one retrying.
            # Noted before the host's next request can start (the release below lets it).
            wait = retry_after_seconds(response.headers.get(b"Retry-After"))
            if wait:
                PACE.hold_off(host_key(request), min(wait, self.max_hold), self.batch,
                              again=bool(request.meta.get("retry_after_tries")))
        elif (state := PACE.hosts.get(host_key(request))) is not None and state.held_for[1]:
            # Served: the waits it asked count from here (a host shedding load now and then in a
            # long crawl, Legistar's one host for every city, is not cut off for the run).
            state.held_for = (self.batch, 0.0)
        self._release(request)
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        self._release(request)
        return None


# -- where a redirect may lead ------------------------------------------------------------------


class RedirectRefused(IgnoreRequest):
    """A redirect (HTTP or a page's meta refresh) not followed; its text is the operator's line."""


_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052's well-known prefix: an IPv4 address in its last 32 bits


def address_kind(address: str) -> str:
    """"public", "private", "loopback", "link-local" or "reserved" (unspecified, multicast, and
    the rest no server is meant to send a crawler to): what an address is, for `redirect_refusal`."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "reserved"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    elif isinstance(ip, ipaddress.IPv6Address) and ip in _NAT64:
        # An IPv6-only machine's DNS64 answers every IPv4-only site so: the IPv4 address it stands for
        # is what it is (Python calls the prefix reserved: a public site then passed for reserved, and
        # could send the crawler to 0.0.0.0, this machine)
        ip = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_unspecified or ip.is_multicast or ip.is_reserved:
        return "reserved"
    if ip.is_global:
        return "public"
    return "private"


def redirect_refusal(origin: set[str], target: dict[str, str]) -> str | None:
    """Why a redirect from a host of the address kinds `origin` to one of the addresses `target`
    (address: kind) is not followed, or None. The operator chose the address a source is read
    from, not where its answers send the crawler: a public site may not send it to this machine
    (loopback), the operator's network (private) or a cloud's metadata service (link-local,
    169.254.169.254); an intranet site may send it within the intranet or to a public site, and a
    site on this machine anywhere but link-local or reserved addresses."""
    reach = set(origin) | {"public"}
    if "loopback" in origin:
        reach.add("private")
    for address, kind in sorted(target.items()):
        if kind not in reach:
            return f"a {kind} address ({address})"
    return None


@implementer(IResolutionReceiver)
class _Answer:
    """Collects what the resolver below the pins answers for one name."""

    def __init__(self, done: Callable[[list[IAddress]], None]) -> None:
        self.addresses: list[IAddress] = []
        self.done = done

    def resolutionBegan(self, resolution: IHostResolution) -> None:
        pass

    def addressResolved(self, address: IAddress) -> None:
        self.addresses.append(address)

    def resolutionComplete(self) -> None:
        self.done(self.addresses)


@implementer(IHostnameResolver)
class PinnedResolver:
    """The reactor's name resolver: a name's first answer is its answer for the whole process, to
    the redirect guard's judgement and to every connection alike. Why: the guard judged a name by
    one lookup and the connection looked it up again, so a hostile DNS server answering a public
    address to the first and 127.0.0.1 or 169.254.169.254 to the second (DNS rebinding) walked past
    it; and a source's own address (which sets how private its redirects may go) was looked up anew
    by the guard, not read from its connection. Pinning rather than judging again at connection
    time: a connection does not know which request, so which source, it is for; pinned, the address
    a connection uses is always one that was judged. One lookup per name at a time (others wait for
    it), so two answers can never race into the pin. A lookup that finds nothing is not pinned
    (a retry asks again); the guard refuses to go on without addresses it judged. The pins live
    as long as the process (one run), as Scrapy's own DNS cache does; each name is asked once, where
    every connection asked before.

    Scrapy installs a `TWISTED_DNS_RESOLVER` only under its CrawlerProcess; the tracker's crawls run
    under CrawlerRunner in their own reactor thread, so the guard installs it (`install`). `below`
    is what answers a name not yet pinned: the reactor's own resolver (getaddrinfo), or a DNS
    client a test puts there."""

    def __init__(self) -> None:
        self.pinned: dict[str, list[IAddress]] = {}
        self.asked: dict[str, list[Deferred[list[IAddress]]]] = {}
        self.system: IHostnameResolver | None = None  # the reactor's resolver before this one
        self.below: IHostnameResolver | None = None  # None: `system`

    @classmethod
    def from_crawler(cls, crawler: Crawler, reactor: Any) -> PinnedResolver:
        return PINNED  # one per process: every crawler's guard and connections share the pins

    def install_on_reactor(self) -> None:
        self.install()

    def install(self) -> None:
        """Put the pins between the reactor and the resolver it had (once)."""
        from twisted.internet import reactor  # imported late: the runner installs the reactor first

        if reactor.nameResolver is not self:
            self.system = reactor.nameResolver
            reactor.installNameResolver(self)

    def lookup(self, name: str) -> Deferred[list[IAddress]]:
        """The name's pinned addresses (port 0), looking it up first if it is not pinned yet."""
        key = name.lower()
        if (pinned := self.pinned.get(key)) is not None:
            return succeed(pinned)
        answer: Deferred[list[IAddress]] = Deferred()
        waiting = self.asked.get(key)
        if waiting is not None:
            waiting.append(answer)
            return answer
        self.asked[key] = [answer]
        below = self.below or self.system
        if below is None:
            raise RuntimeError("PinnedResolver asked before it was installed on the reactor")
        try:
            name.encode("idna")  # as getaddrinfo's own wrapper does; Twisted's resolver never answers a
        except UnicodeError:  # name it refuses ("www..example.org": an empty label), so say none now
            self._answered(key, [])
            return answer
        try:
            below.resolveHostName(_Answer(lambda found: self._answered(key, found)), name)
        except Exception:
            log.exception("looking up %s", name)
            self._answered(key, [])
        return answer

    def _answered(self, key: str, found: list[IAddress]) -> None:
        if found:
            self.pinned[key] = [attr.evolve(address, port=0) for address in found]
        for waiter in self.asked.pop(key, []):
            if not waiter.called:  # a guard's lookup may have timed out (cancelled) meanwhile
                waiter.callback(self.pinned.get(key, []))

    def resolveHostName(self, resolutionReceiver: IResolutionReceiver, hostName: str, portNumber: int = 0,
                        addressTypes: Sequence[type[IAddress]] | None = None,
                        transportSemantics: str = "TCP") -> IHostResolution:
        resolution = HostResolution(hostName)
        resolutionReceiver.resolutionBegan(resolution)

        def deliver(addresses: list[IAddress]) -> None:
            for address in addresses:
                if not addressTypes or type(address) in addressTypes:
                    resolutionReceiver.addressResolved(attr.evolve(address, port=portNumber))
            resolutionReceiver.resolutionComplete()

        self.lookup(hostName).addCallback(deliver)
        return resolution


PINNED = PinnedResolver()


async def _addresses(host: str, timeout: float) -> dict[str, str]:
    """The host's addresses and their kinds: the host itself when it is one, else its pinned
    addresses, the very ones its connections use (nothing when it cannot be resolved)."""
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    else:
        return {host: address_kind(host)}
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        return {host: "loopback"}
    try:
        found = await asyncio.wait_for(maybe_deferred_to_future(PINNED.lookup(host)), timeout)
    except TimeoutError:
        return {}
    return {str(address.host): address_kind(str(address.host)) for address in found}


class RedirectGuardMiddleware:
    """Where a redirect may lead. Scrapy follows a 3xx or a page's meta refresh to any http(s)
    address: a hostile or hijacked public site could send the crawler to this machine's own
    services, the operator's network or the cloud metadata service (169.254.169.254), whose
    answer would then be read as the source's. Such a redirect is one error line naming where it
    led (`redirect_refusal`), and nothing is sent there, robots.txt included (this runs first). A
    redirect to another scheme (`file://`, `ftp://`), which Scrapy answers with the 3xx itself
    ("HTTP 302"), is said as what it is.

    A name is judged by its pinned addresses (`PinnedResolver`, installed here): the ones its
    connection then uses, and, for the source's own host, the ones its connection used. A target
    that cannot be resolved is not followed unjudged: the request fails as not found (and is
    retried, asking again), since a connection would look it up anew."""

    def __init__(self, crawler: Crawler) -> None:
        self.timeout = crawler.settings.getfloat("DNS_TIMEOUT", 60)
        PINNED.install()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedirectGuardMiddleware:
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        hops = request.meta.get("redirect_urls")
        if not hops:
            return None
        origin_host = urlparse(hops[0]).hostname or ""
        target_host = urlparse_cached(request).hostname or ""
        if not target_host or target_host == origin_host:
            return None
        target = await _addresses(target_host, self.timeout)
        if not target:
            raise CannotResolveHostError(f"redirected from {origin_host} to {target_host}, which could not be "
                                         "resolved: not followed")
        origin = set((await _addresses(origin_host, self.timeout)).values()) or {"public"}
        if (refusal := redirect_refusal(origin, target)) is not None:
            raise RedirectRefused(f"redirected from {origin_host} to {refusal}: not followed (a site may not "
                                  "send the crawler to this machine, a private network or a cloud's metadata "
                                  "service)")
        return None

    def process_response(self, request: Request, response: Response) -> Response:
        location = response.headers.get(b"Location")
        if (response.status not in (301, 302, 303, 307, 308) or not location
                or request.meta.get("dont_redirect") or request.meta.get("handle_httpstatus_all")
                or response.status in request.meta.get("handle_httpstatus_list", ())):
            return response
        scheme = urlparse(location.decode("latin-1").strip()).scheme.lower()
        if scheme and scheme not in ("http", "https"):
            raise RedirectRefused(f"HTTP {response.status} redirected to a {scheme}: address: not followed "
                                  "(only http and https are)")
        return response


# -- a login written in a source's address ----------------------------------------------------------


class LoginRefused(IgnoreRequest):
    """A request not sent, since it would carry the address's login where it may not go; its text is
    the operator's line."""


Origin = tuple[str, str, int]  # scheme, host, port: where a login may go


def origin_of(url: str) -> Origin:
    """An address's origin, its port written out (`https://h` and `https://h:443` are one), its host
    as a request asks for it (`safe_url_string`, as Scrapy's `Request` writes it: `bücher.example`
    is `xn--bcher-kva.example`, one origin however it is written)."""
    try:
        parts = urlsplit(safe_url_string(url))
        port = parts.port
    except ValueError:  # no address, or a port that is no number: an origin matching no login
        return "", "", -1
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), port or {"http": 80, "https": 443}.get(scheme, 0)


@dataclass(frozen=True)
class AddressLogin:
    """The login an address carried (`user:password@`): where it may go and the header saying it.
    Neither the header nor the login as written is ever in a repr (a log line)."""

    origin: Origin
    header: bytes = field(repr=False)
    userinfo: str = field(repr=False)  # as written (percent-encoded), to give an address back its login


def without_login(url: str) -> str:
    """The address without the `user:password@` before its host (as it is asked for)."""
    try:
        parts = urlsplit(url)
    except ValueError:  # no address ("[" making no IPv6 host): left to the request's own error
        return url
    if "@" not in parts.netloc:
        return url
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, parts.query, parts.fragment))


def split_login(url: str) -> tuple[str, AddressLogin | None]:
    """The address as asked for, and the login it carried (None: none). The user and password are
    percent-decoded, as a browser and curl decode them, and sent in UTF-8 (RFC 7617's charset)."""
    try:
        netloc = urlsplit(url).netloc
    except ValueError:  # no address ("[" making no IPv6 host): left to the request's own error
        return url, None
    if "@" not in netloc:
        return url, None
    userinfo = netloc.rpartition("@")[0]
    user, _, password = userinfo.partition(":")
    header = basic_auth_header(unquote(user), unquote(password), encoding="utf-8")
    return without_login(url), AddressLogin(origin_of(url), header, userinfo)


def with_login(url: str, login: AddressLogin | None) -> str:
    """`url` as an address that reads it: with the login written back when it goes to the login's
    origin (what `sources detect` offers to watch must carry it)."""
    if login is None or "@" in urlsplit(url).netloc or origin_of(url) != login.origin:
        return url
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, f"{login.userinfo}@{parts.netloc}", parts.path, parts.query, parts.fragment))


# Set on a request a redirect led away from the login's origin: the address it started from.
LOGIN_WITHHELD = "tracker_login_withheld"

# What a login may cross in clear (plain http): this machine and the operator's own network.
_CLEAR_KINDS = {"loopback", "private"}


class AddressLoginMiddleware:
    """Scrapy cannot ask for an address holding a login (its downloader took `reader:PASSWORD@host`
    for the host name: "invalid hostname", the password in the line), and its HttpAuthMiddleware
    sends a login to a whole domain, its subdomains, any port and plain http alike. The spider takes
    the login out of its address (`spider.login`, an `AddressLogin`); this sends it, as an
    `Authorization: Basic` header, to requests for that very origin (scheme, host, port) and to no
    other: a redirect (3xx or meta refresh) to another host, port or scheme is asked without it,
    as curl does unless `--location-trusted` (robots.txt of that origin goes with it). Over plain http it goes
    only to an address of this machine or a private network (the pinned addresses, the ones the
    connection uses): to a public one it would cross the internet in clear, so the request is not
    sent (`LoginRefused`, one line). An address still carrying a login (one derived from the
    watch's, or a page's link) is asked without it: only the spider's own login is ever sent."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.timeout = crawler.settings.getfloat("DNS_TIMEOUT", 60)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> AddressLoginMiddleware:
        return cls(crawler)

    async def process_request(self, request: Request) -> Request | None:
        if "@" in urlparse_cached(request).netloc:
            return request.replace(url=without_login(request.url))
        login: AddressLogin | None = getattr(self.crawler.spider, "login", None)
        if login is None:
            return None
        if origin_of(request.url) != login.origin:
            if request.headers.get(b"Authorization") == login.header:
                del request.headers[b"Authorization"]  # carried over by a redirect: not ours to send there
            redirected = request.meta.get("redirect_urls") or ()
            if redirected and origin_of(redirected[0]) == login.origin:
                # said with a 401 here: the feed moved away from where its login may go
                request.meta[LOGIN_WITHHELD] = redirected[0]
            return None
        scheme, host, _ = login.origin
        if scheme != "https":
            found = await _addresses(host, self.timeout)
            if not found:
                return None  # not judged: asked without the login (the connection's lookup fails anyway)
            if public := sorted(address for address, kind in found.items() if kind not in _CLEAR_KINDS):
                raise LoginRefused(f"the login in the address is not sent over plain http to {host} ({public[0]}, "
                                   "not this machine nor a private network): anyone on the way could read it; "
                                   "use https")
        request.headers[b"Authorization"] = login.header
        return None
