"""Run Scrapy crawls in-process: polite settings, one reactor per process, one Run row per source.

Scrapy's reactor cannot restart in a process, yet `tracker demo` crawls twice and the tests crawl
many times. So the reactor runs once, in a daemon thread, and every crawl is handed to it with
`blockingCallFromThread`. Each source (GovInfo for every bill watch; one per meeting watch) is its
own crawler, and all of them run concurrently; a failing source never stops the others.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import threading
import uuid
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from tracker import clock, ingestworker, secrets
from tracker.config import Config, MeetingWatch
from tracker.health import check_sources
from tracker.outbox import owe_operator, sync_subscribers
from tracker.planning import SourceJob, plan_sources
from tracker.records import Item, Meeting, Page
from tracker.report import SourceReport
from tracker.runs import (
    AskedValidators,
    Heartbeat,
    finish_runs,
    load_cursors,
    prune_runs,
    prune_validators,
    start_runs,
)
from tracker.sources import SOURCES
from tracker.store import Store, ensure_watches, load_validators

log = logging.getLogger(__name__)

_reactor_lock = threading.Lock()
_reactor_thread: threading.Thread | None = None


def _reactor() -> Any:
    """Install Scrapy's asyncio reactor once and run it in a daemon thread for the process."""
    global _reactor_thread
    with _reactor_lock:
        from scrapy.utils.reactor import install_reactor, is_reactor_installed

        if not is_reactor_installed():
            install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")
        from twisted.internet import reactor

        if _reactor_thread is None:
            _reactor_thread = threading.Thread(
                target=reactor.run, kwargs={"installSignalHandlers": False}, name="scrapy-reactor", daemon=True
            )
            _reactor_thread.start()
        return reactor


TOTAL_CONCURRENCY = 64  # requests in flight at once across all hosts of a process


def scrapy_settings(config: Config, *, polite: bool = True) -> dict[str, Any]:
    """Scrapy settings from the config's [crawl] section. `polite=False` is for benchmarks only."""
    crawl = config.crawl
    settings: dict[str, Any] = {
        "BOT_NAME": "tracker",
        # A source kind's spider is the one whose `name` is the kind (tracker/sources.py); a crawl
        # names only the modules of the spiders it runs (`spider_modules`).
        "SPIDER_MODULES": ["spiders"],
        "USER_AGENT": config.user_agent(),
        "ROBOTSTXT_OBEY": crawl.obey_robots,
        "ROBOTSTXT_USER_AGENT": "tracker",
        "ROBOTSTXT_PARSER": "spiders.middlewares.CappedRobotParser",
        # One pace per host for the whole process (spiders.middlewares.HostPaceMiddleware): every
        # source is its own crawler, so Scrapy's per-crawler slot delay would let N watches of one
        # host (every city's Legistar) send N requests at once. The slot delay is therefore 0.
        "DOWNLOAD_DELAY": 0,
        "HOST_PACE_DELAY": crawl.delay_seconds if polite else 0,
        "CONCURRENT_REQUESTS": 16,
        # Scrapy starts this many tasks for every response's output, however few items it holds
        # (one bill file: one item); the default 100 cost the engine about a quarter of its time. Items go
        # to one ingest worker in order anyway: a handful at once is all it can use.
        "CONCURRENT_ITEMS": 8,
        "CONCURRENT_REQUESTS_PER_DOMAIN": crawl.concurrent_per_domain if polite else 16,
        # Requests in flight across every crawler and host of the process: different hosts go side
        # by side up to this.
        "TRACKER_CONCURRENT_TOTAL": TOTAL_CONCURRENCY,
        "AUTOTHROTTLE_ENABLED": crawl.autothrottle and polite,
        "DOWNLOAD_TIMEOUT": crawl.timeout_seconds,
        "DOWNLOAD_MAXSIZE": crawl.max_bytes,
        "DOWNLOAD_WARNSIZE": min(crawl.max_bytes, 10 * 1024 * 1024),
        "RETRY_ENABLED": True,
        "RETRY_TIMES": crawl.retries,
        # 429 is handled by PoliteRetryMiddleware, which honours Retry-After.
        "RETRY_HTTP_CODES": [500, 502, 503, 504, 522, 524, 408],
        "RETRY_AFTER_MAX_SECONDS": crawl.max_retry_after_seconds,
        "RETRY_AFTER_TIMES": max(1, crawl.retries),
        "HTTPCACHE_ENABLED": False,  # validators live in the database, not on disk
        "COOKIES_ENABLED": False,
        # A request's Referer is the address of the answer it came from, a Legistar token in its query:
        # sent to that host alone, never to another one a redirect or a link names.
        "REFERRER_POLICY": "same-origin",
        "TELNETCONSOLE_ENABLED": False,
        # Scrapy 2.19's console over HTTP (it runs Python code sent to it; token in a file in the
        # user's home): no more wanted than the telnet console, and its server costs every crawl.
        "REMOTE_CONTROL_ENABLED": False,
        # Left out, not only off: its module imports aiohttp (a fifth of a second at every start).
        "EXTENSIONS": {"scrapy.extensions.remote_control.RemoteControl": None},
        # Scrapy's check that a callback generator returns no value reads and parses the callback's
        # source for every answer (its cache is keyed by the bound method, new each time): a
        # twentieth of a package crawl's time. tests/test_spider_callbacks.py checks them once instead.
        "WARN_ON_GENERATOR_RETURN_VALUE": False,
        "LOG_LEVEL": "INFO",
        "LOGSTATS_INTERVAL": 0,
        # One answer per host name for the process, the redirect guard's and every connection's
        # (no DNS rebinding past the guard). Scrapy reads this only under CrawlerProcess; under the
        # CrawlerRunner used here the guard installs the same resolver itself.
        "TWISTED_DNS_RESOLVER": "spiders.middlewares.PinnedResolver",
        "DOWNLOADER_MIDDLEWARES": {
            # first: a redirect to this machine, a private network or a metadata service is refused
            # before anything (robots.txt included) is sent there
            "spiders.middlewares.RedirectGuardMiddleware": 50,
            # before robots.txt: an address's login taken out of it, sent to its own origin only
            "spiders.middlewares.AddressLoginMiddleware": 60,
            # robots.txt once per host per batch, whichever source's crawler asks first
            "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
            "spiders.middlewares.SharedRobotsTxtMiddleware": 100,
            "spiders.middlewares.CrawlDelayMiddleware": 110,
            "spiders.middlewares.ConditionalRequestMiddleware": 560,
            "spiders.middlewares.PoliteRetryMiddleware": 540,
            # Last before the download handler: holds a host's place only while on the wire.
            "spiders.middlewares.HostPaceMiddleware": 950,
        },
        "ITEM_PIPELINES": {"tracker.crawl.IngestPipeline": 300},
        "DEFAULT_REQUEST_HEADERS": {"Accept-Language": "en"},
    }
    return settings


class IngestPipeline:
    """Hands each item to the ingest worker process (parse, diff, store) and counts the outcome
    on the spider's report; the engine keeps downloading meanwhile."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> IngestPipeline:
        return cls(crawler)

    async def process_item(self, item: Any) -> Any:
        spider = self.crawler.spider
        report: SourceReport = spider.report
        if not isinstance(item, Item):
            return item
        what = item.key.replace(":", " ", 1) if item.kind == "bill" else f"{item.kind} {item.key}"
        if (kind := SOURCES.get(item.source_id.split(":", 1)[0])) is not None:
            item.reads_anew = kind.reads_anew
        try:
            outcome = await asyncio.wrap_future(ingestworker.submit(item))
        except Exception as exc:  # the worker died or the store failed: lost for this run only, loudly
            spider.fail(what, item.url, f"could not store: {type(exc).__name__}: {exc}")
            return item
        if outcome.error:
            spider.fail(what, item.url, outcome.error)
            return item
        report.items += 1
        report.seen.add(item.key)
        if outcome.new_snapshot:
            report.new_snapshots += 1
        report.changes += outcome.changes
        return item


def spider_modules(names: Iterable[str]) -> list[str]:
    """The modules of the named spiders (a spider's module is its name), for SPIDER_MODULES: Scrapy's
    loader imports every module it is given before the first request, and all of them import
    every platform's parser (half a second at each start of a one-source `tracker run`). A name
    with no module is left out: the loader then says it has no such spider."""
    return sorted({f"spiders.{name}" for name in names
                   if name.isidentifier() and importlib.util.find_spec(f"spiders.{name}") is not None})


def run_crawls(
    config: Config,
    store: Store,
    watch_ids: Iterable[str] | None = None,
    *,
    polite: bool = True,
    settings: dict[str, Any] | None = None,
    jobs: list[SourceJob] | None = None,
) -> list[SourceReport]:
    """Crawl the chosen watches' sources concurrently; return one report per source."""
    secrets.install_log_masking()
    jobs = plan_sources(config, watch_ids) if jobs is None else jobs
    with store.session() as session:
        ensure_watches(
            session,
            [(w.id, "bill", w.name) for w in config.bills] + [(w.id, "meeting", w.name) for w in config.meetings],
        )
        sync_subscribers(session, config)
    if not jobs:
        return []

    validators = AskedValidators(load_validators(store))  # notes those still asked with, for prune_validators
    cursors = load_cursors(store, [job.source_id for job in jobs])
    reports = start_runs(store, [(job.source_id, job.watch_ids) for job in jobs])
    # Heartbeats while the crawl goes: another machine's next run tells a dead runner's rows from a
    # live one's by them (runs.mark_abandoned).
    with Heartbeat(store):
        ingestworker.prepare(store.url, config, {r.source_id: r.run_id for r in reports if r.run_id})

        # The crawlers of one call share robots.txt per host (spiders/middlewares.py); the next call reads it anew.
        crawl_settings = {**scrapy_settings(config, polite=polite),
                          "SPIDER_MODULES": spider_modules(job.kind for job in jobs if job.spider is None),
                          **(settings or {}), "TRACKER_CRAWL_BATCH": uuid.uuid4().hex}
        crawlers: list[Any] = []

        def start() -> Any:
            from scrapy.crawler import CrawlerRunner
            from twisted.internet import defer

            runner = CrawlerRunner(crawl_settings)
            deferreds = []
            for job, report in zip(jobs, reports, strict=True):
                try:
                    crawler = runner.create_crawler(job.spider or job.kind)
                except KeyError as exc:
                    report.errors.append(f"{job.source_id}: source kind {job.kind!r} has no spider: {exc}")
                    crawlers.append(None)
                    continue
                crawlers.append(crawler)
                d = runner.crawl(
                    crawler, config=config, report=report, validators=validators,
                    cursor=cursors.get(job.source_id, {}), **job.kwargs
                )
                d.addErrback(_crawl_failed, report)
                deferreds.append(d)
            return defer.DeferredList(deferreds, consumeErrors=True)

        from twisted.internet import threads

        threads.blockingCallFromThread(_reactor(), start)

        for report, crawler in zip(reports, crawlers, strict=True):
            if crawler is not None and crawler.stats is not None:
                stats = crawler.stats.get_stats()
                report.requests = int(stats.get("downloader/request_count", 0))
                report.bytes = int(stats.get("downloader/response_bytes", 0))
                reason = stats.get("finish_reason")
                if reason not in (None, "finished"):
                    report.errors.append(f"{report.source_id}: crawl ended early ({reason})")
                if failed := int(stats.get("spider_exceptions/count", 0)):
                    report.errors.append(f"{report.source_id}: {failed} response{'s' if failed != 1 else ''} could "
                                         "not be processed (a spider error; details in the log file or with --verbose)")
                    # A callback that raised left its answer, and what it would have asked next, unread:
                    # what the run learned as a whole (a sitemap or listing read, a mark moved on, the
                    # validators that would answer the next read with a 304) is not kept, nor is its
                    # listing whole, but what it spent (the day's requests). The next run reads from
                    # where this one began; what each stored entity taught is still kept.
                    report.cursor = report.cursor.spent_only() if report.cursor is not None else None
                    report.complete_listing, report.listing_validators = False, []
        finish_runs(store, reports)
    prune_runs(store, [r.source_id for r in reports], clock.now() - timedelta(days=config.storage.keep_runs_days),
               config.operator.failures_before_alert)
    prune_validators(store, validators.asked, clock.now())
    with store.session() as session:  # health finds what the operator must hear of; owed in its transaction
        for notice in check_sources(session, config, reports):
            owe_operator(session, config, notice)
    if full := next((r.disk_full for r in reports if r.disk_full is not None), None):
        raise full  # the command's one line (tracker/cli.py), as for the database's own full disk
    return reports


FETCH_REDIRECTS = 3  # redirects one `fetch` follows


def fetch(config: Config, url: str, accept: str, *, max_bytes: int, batch: str) -> Page:
    """One GET for `tracker sources detect`, by the crawl's own engine and politeness: robots.txt
    (read once per host for the calls sharing `batch`), the host's pace and Crawl-delay, Retry-After,
    the User-Agent naming the tool and [tracker] contact; at most `max_bytes` (and [crawl] max_bytes)
    and a few redirects; one retry of a failed connection or a 5xx. Never raises: a failure is the
    Page's `problem`."""
    secrets.install_log_masking()
    # Only the fetch spider's module is loaded: the others import most of the project (a second).
    settings = {**scrapy_settings(config), "SPIDER_MODULES": spider_modules(["fetch"]), "ITEM_PIPELINES": {},
                "TRACKER_CRAWL_BATCH": batch,
                "DOWNLOAD_MAXSIZE": min(max_bytes, config.crawl.max_bytes),
                "DOWNLOAD_WARNSIZE": min(max_bytes, config.crawl.max_bytes),
                "REDIRECT_MAX_TIMES": FETCH_REDIRECTS, "RETRY_TIMES": min(1, config.crawl.retries)}
    out: list[Page] = []

    def start() -> Any:
        from scrapy.crawler import CrawlerRunner

        # The spider by name, as for every crawl: the core imports no spider.
        return CrawlerRunner(settings).crawl("fetch", url=url, accept=accept, out=out)

    from twisted.internet import threads

    try:
        threads.blockingCallFromThread(_reactor(), start)
    except Exception as exc:  # the request could not even be built (a malformed address)
        return Page(url, url, problem=f"{type(exc).__name__}: {exc}")
    return out[0] if out else Page(url, url, problem="no answer (the fetch ended early)")


class CollectPipeline:
    """Keeps each meeting a spider reads in the spider's `collected` list and stores nothing
    (`preview`)."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> CollectPipeline:
        return cls(crawler)

    async def process_item(self, item: Any) -> Any:
        if isinstance(item, Item) and isinstance(item.content, Meeting):
            self.crawler.spider.collected.append(item.content)
        return item


def preview(config: Config, watch: MeetingWatch, *, batch: str) -> tuple[list[Meeting], list[str]]:
    """The meetings a crawl of `watch` reads now, in its window, by the watch's own spider and the
    crawl's politeness, storing nothing; and the crawl's error lines. For `tracker sources detect`
    where one answer does not hold them all (a web calendar's other periods or later pages). `batch`: as `fetch`'s,
    so robots.txt is read once for both."""
    secrets.install_log_masking()
    settings = {**scrapy_settings(config), "SPIDER_MODULES": spider_modules([watch.source_kind]),
                "ITEM_PIPELINES": {"tracker.crawl.CollectPipeline": 100}, "TRACKER_CRAWL_BATCH": batch}
    report = SourceReport(watch.source_id, [watch.id])
    collected: list[Meeting] = []

    def start() -> Any:
        from scrapy.crawler import CrawlerRunner

        runner = CrawlerRunner(settings)
        return runner.crawl(watch.source_kind, config=config, watch=watch, report=report, validators={}, cursor={},
                            collected=collected)

    from twisted.internet import threads

    try:
        threads.blockingCallFromThread(_reactor(), start)
    except Exception as exc:  # the spider could not even start
        report.errors.append(f"{watch.source_id}: crawl failed: {type(exc).__name__}: {exc}")
    return collected, report.errors


def _crawl_failed(failure: Any, report: SourceReport) -> None:
    report.errors.append(secrets.mask(f"{report.source_id}: crawl failed: {failure.getErrorMessage()}"))
