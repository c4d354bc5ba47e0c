"""Downloader middlewares that make crawls polite and cheap.

- `ConditionalRequestMiddleware`: sends If-None-Match / If-Modified-Since from the validators the
  database holds (loaded once per crawl), and hands the new validators to the spider so they are
  stored together with the snapshot: a parse failure is never hidden behind a later 304.
- `PoliteRetryMiddleware`: Scrapy 2.19 retries a 429 at once and ignores Retry-After; this waits
  what the server asked (capped), then retries, a bounded number of times.
- `CrawlDelayMiddleware`: Scrapy's robots.txt support does not apply `Crawl-delay`; this raises the
  domain's download-slot delay to what robots.txt asks.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlparse

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.task import deferLater

from tracker.runs import url_hash

log = logging.getLogger(__name__)


class ConditionalRequestMiddleware:
    """Requests with `meta["conditional"] = True` become conditional GETs."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ConditionalRequestMiddleware:
        return cls(crawler)

    def _validators(self) -> dict[str, tuple[str | None, str | None]]:
        spider = self.crawler.spider
        return getattr(spider, "validators", None) or {}

    def process_request(self, request: Request) -> None:
        # `refetch`: ask for the whole body this once, but still remember its new validators.
        if not request.meta.get("conditional") or request.meta.get("refetch"):
            return None
        etag, modified = self._validators().get(url_hash(request.url), (None, None))
        if etag:
            request.headers.setdefault(b"If-None-Match", etag.encode())
        if modified:
            request.headers.setdefault(b"If-Modified-Since", modified.encode())
        return None

    def process_response(self, request: Request, response: Response) -> Response:
        if request.meta.get("conditional") and response.status == 200:
            etag = response.headers.get(b"ETag")
            modified = response.headers.get(b"Last-Modified")
            request.meta["validators"] = {
                "url": request.url,
                "etag": etag.decode("latin-1") if etag else None,
                "last_modified": modified.decode("latin-1") if modified else None,
            }
        return response


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
        if response.status not in self.codes:
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


class CrawlDelayMiddleware:
    """Apply robots.txt Crawl-delay to the domain's download slot (never lowers a delay)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.user_agent = crawler.settings.get("ROBOTSTXT_USER_AGENT") or crawler.settings.get("USER_AGENT")
        self.applied: dict[str, float] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlDelayMiddleware:
        return cls(crawler)

    def _robots(self) -> Any:
        engine = self.crawler.engine
        if engine is None:
            return None
        for mw in engine.downloader.middleware.middlewares:
            if type(mw).__name__ == "RobotsTxtMiddleware":
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
        engine = self.crawler.engine
        assert engine is not None
        downloader = engine.downloader
        key = downloader.get_slot_key(request)
        slot = downloader.slots.get(key)
        if slot is None:
            downloader._get_slot(request)  # create it now so the delay applies to this request
            slot = downloader.slots.get(key)
        if slot is not None and slot.delay < delay:
            slot.delay = delay
            slot.jitter = 0.0
            if self.applied.get(key) != delay:
                log.info("robots.txt asks %s s between requests to %s", delay, netloc)
                self.applied[key] = delay
        return None
