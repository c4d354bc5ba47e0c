"""The crawl runner through the real Scrapy engine against the loopback server: robots.txt,
Crawl-delay, conditional requests (304), 429 with Retry-After, the size cap, the User-Agent."""

from __future__ import annotations

import gzip
import itertools
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import scrapy
from scrapy.http import Response

from spiders.base import TrackerSpider
from tracker.config import Config, load_config
from tracker.crawl import run_crawls
from tracker.demo.replay import Fault
from tracker.planning import SourceJob
from tracker.records import Item, Meeting
from tracker.store import Store


class ProbeSpider(TrackerSpider):
    """A trivial spider: fetches the given paths conditionally, stores each body as an entity."""

    name = "probe"

    def __init__(self, *args: Any, config: Config, paths: list[str], base: str, **kwargs: Any) -> None:
        kwargs.pop("cursor", None)
        super().__init__(*args, **kwargs)
        self.paths, self.base = paths, base

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for path in self.paths:
            yield scrapy.Request(self.base + path, callback=self.parse, errback=self.failed,
                                 meta={"conditional": True, "handle_httpstatus_list": [304]})

    def parse(self, response: Response) -> Iterator[Item]:
        if response.status == 304:
            self.not_modified()
            return
        yield Item(key=f"meeting:probe:{response.url}", kind="meeting", source_id="probe:w",
                   watch_ids=["w"], url=response.url, raw=response.body,
                   content=Meeting(source="probe", source_ref=response.url, body="Probe", title=response.text,
                                   date="2026-11-24", timezone="UTC"),
                   validators=response.meta.get("validators"))

    def failed(self, failure: Any) -> None:
        self.fail("page", failure.request.url, self.describe(failure))


@pytest.fixture
def setup(tmp_path: Path, replay: Any) -> tuple[Config, Store]:
    path = tmp_path / "tracker.toml"
    path.write_text(
        '[tracker]\ncontact = "https://example.org/our-campaign"\n'
        '[crawl]\ndelay_seconds = 0\nmax_bytes = 1000000\nmax_retry_after_seconds = 5\n'
        '[[meetings]]\nid = "w"\nname = "Probe"\nical = "https://example.org/x.ics"\n'
    )
    config = load_config(path, env={})
    return config, Store(config.database_url)


def crawl(config: Config, store: Store, replay: Any, paths: list[str]) -> Any:
    job = SourceJob("probe:w", "probe", ["w"], {"paths": paths, "base": replay.url}, spider=ProbeSpider)
    return run_crawls(config, store, jobs=[job])[0]


def test_robots_txt_is_obeyed(setup: tuple[Config, Store], replay: Any) -> None:
    config, store = setup
    replay.robots("User-agent: *\nDisallow: /private/\n")
    replay.add("/public/a.html", b"<p>a</p>")
    replay.add("/private/b.html", b"<p>b</p>")
    report = crawl(config, store, replay, ["/public/a.html", "/private/b.html"])
    assert replay.count("/robots.txt") == 1
    assert replay.count("/public/a.html") == 1
    assert replay.count("/private/b.html") == 0
    assert report.items == 1


def test_second_run_is_a_conditional_request_answered_304(setup: tuple[Config, Store], replay: Any) -> None:
    config, store = setup
    replay.add("/agenda.html", b"<p>agenda</p>")
    first = crawl(config, store, replay, ["/agenda.html"])
    assert first.items == 1 and first.not_modified == 0
    second = crawl(config, store, replay, ["/agenda.html"])
    assert second.items == 0 and second.not_modified == 1
    assert replay.count("/agenda.html", status=304) == 1
    last = [r for r in replay.requests if r.path == "/agenda.html"][-1]
    assert last.headers.get("If-None-Match")


def test_429_retry_after_is_waited_then_retried_once(setup: tuple[Config, Store], replay: Any) -> None:
    config, store = setup
    replay.add("/busy.html", b"<p>ok</p>", fault=Fault.retry_after(1, times=1))
    report = crawl(config, store, replay, ["/busy.html"])
    hits = [r for r in replay.requests if r.path == "/busy.html"]
    assert [h.status for h in hits] == [429, 200]
    assert hits[1].time - hits[0].time >= 0.95
    assert report.items == 1 and report.ok


def test_robots_crawl_delay_spaces_requests(setup: tuple[Config, Store], replay: Any) -> None:
    config, store = setup
    replay.robots("User-agent: *\nCrawl-delay: 0.5\n")
    for name in "abc":
        replay.add(f"/{name}.html", name.encode())
    crawl(config, store, replay, ["/a.html", "/b.html", "/c.html"])
    times = sorted(r.time for r in replay.requests if r.path.endswith(".html"))
    assert len(times) == 3
    assert min(b - a for a, b in itertools.pairwise(times)) >= 0.45


def test_user_agent_names_the_tool_and_contact(setup: tuple[Config, Store], replay: Any) -> None:
    config, store = setup
    replay.add("/a.html", b"a")
    crawl(config, store, replay, ["/a.html"])
    agent = next(r for r in replay.requests if r.path == "/a.html").headers["User-Agent"]
    assert agent.startswith("tracker/") and "https://example.org/our-campaign" in agent


def test_oversized_response_is_refused_and_others_go_on(setup: tuple[Config, Store], replay: Any) -> None:
    config, store = setup
    replay.add("/huge.html", b"", fault=Fault.huge(3_000_000))
    replay.add("/small.html", b"<p>small</p>")
    report = crawl(config, store, replay, ["/huge.html", "/small.html"])
    assert report.items == 1
    assert len(report.errors) == 1
    (line,) = report.errors
    assert "download size cap" in line and "/huge.html" in line
    # the operator is told the size and the setting to raise
    assert config.crawl.max_bytes == 1_000_000
    assert "(2.9 MB; [crawl] max_bytes is 1,000,000 bytes)" in line, line


def test_a_response_of_no_stated_length_is_cut_off_at_the_cap_in_one_line(setup: tuple[Config, Store],
                                                                         replay: Any) -> None:
    """A body without a Content-Length is only found too large while it arrives: Scrapy cancels it
    without a word, and the operator's line still says it was the size cap, and which setting."""
    config, store = setup
    replay.add("/endless.html", b"", fault=Fault.huge_unsized(3_000_000))
    replay.add("/small.html", b"<p>small</p>")
    report = crawl(config, store, replay, ["/endless.html", "/small.html"])
    assert report.items == 1
    (line,) = report.errors
    assert line == ("probe:w: page: response larger than the download size cap ([crawl] max_bytes is "
                    f"1,000,000 bytes): not read ({replay.url}/endless.html)")



def test_a_gzip_bomb_is_refused_at_the_cap_in_one_line_and_others_go_on(setup: tuple[Config, Store],
                                                                        replay: Any) -> None:
    """A page served gzip-encoded that unpacks past `[crawl] max_bytes` (49 KB on the wire, 50 MB
    unpacked) is cut off while it unpacks: one line, and the other page is still read."""
    config, store = setup
    replay.add("/bomb.html", gzip.compress(b"\0" * 50_000_000, compresslevel=9), headers={"Content-Encoding": "gzip"})
    replay.add("/small.html", b"<p>small</p>")
    report = crawl(config, store, replay, ["/bomb.html", "/small.html"])
    assert report.items == 1
    (line,) = report.errors
    assert line == ("probe:w: page: response larger than the download size cap once decompressed "
                    f"([crawl] max_bytes is 1,000,000 bytes): not read ({replay.url}/bomb.html)")


def test_a_response_just_over_the_cap_never_reads_as_the_cap() -> None:
    """Sizes are said in MB, the response's rounded up; where the two would still read the same
    they are said in bytes. Scrapy's own message for a stated length, as its handler raises it."""
    from scrapy import Request
    from scrapy.exceptions import DownloadCancelledError
    from scrapy.utils._download_handlers import get_maxsize_msg
    from twisted.python.failure import Failure

    from spiders.base import describe_failure

    def said(size: int, cap: int) -> str:
        request = Request("https://example.org/big.xml")
        failure = Failure(DownloadCancelledError(get_maxsize_msg(size, cap, request, expected=True)))
        failure.request = request  # type: ignore[attr-defined]
        return describe_failure(failure)

    mb = 2**20
    assert said(50 * mb + 41_200, 50 * mb) == ("response larger than the download size cap "
                                               "(50.1 MB; [crawl] max_bytes is 50 MB): not read")
    assert said(52_000_001, 52_000_000) == ("response larger than the download size cap "
                                            "(52,000,001 bytes; [crawl] max_bytes is 52,000,000 bytes): not read")


def test_a_crawl_with_nothing_to_store_starts_no_ingest_worker(setup: tuple[Config, Store], replay: Any) -> None:
    """A cron cycle where every source answers 304 spawns no ingest worker (a worker imports the
    whole store again: a second of CPU at each start); the first item of a later crawl starts one,
    pointed at that crawl's database before it stores anything."""
    from sqlalchemy import select

    from tracker import ingestworker
    from tracker import models as m

    config, store = setup
    replay.add("/agenda.html", b"<p>agenda</p>")
    ingestworker.shutdown()  # workers an earlier test of this process left running
    first = crawl(config, store, replay, ["/agenda.html"])
    assert first.items == 1 and len(ingestworker.worker_pids()) == 1
    ingestworker.shutdown()
    second = crawl(config, store, replay, ["/agenda.html"])
    assert (second.items, second.not_modified) == (0, 1)
    assert ingestworker.worker_pids() == []
    replay.replace("/agenda.html", b"<p>agenda, revised</p>")
    third = crawl(config, store, replay, ["/agenda.html"])
    assert (third.items, third.new_snapshots, third.errors) == (1, 1, [])
    assert len(ingestworker.worker_pids()) == 1
    with store.session() as session:
        assert len(session.scalars(select(m.Snapshot)).all()) == 2


def test_a_worker_that_cannot_open_the_crawls_database_stores_nothing_and_says_why(tmp_path: Path) -> None:
    """The worker side, called here as the worker calls it: preparing for a database that cannot
    be opened leaves no earlier crawl's database to write to, and each item is refused naming why."""
    import os

    from tracker import ingestworker

    # (with self-service subscribers, preparing reads them from the database)
    (tmp_path / "tracker.toml").write_text('[alerts]\nmail_url = "mailto://alerts@127.0.0.1:2525?from=alerts@example.org"\n'
                                           '[serve]\npublic_url = "https://tracker.example.org"\n')
    config = load_config(tmp_path / "tracker.toml", env={})
    (tmp_path / "a-file").write_text("not a folder")
    with pytest.raises(Exception, match="unable to open database file"):
        ingestworker._prepare(f"sqlite:///{tmp_path}/a-file/tracker.db", config, {}, [], os.environ.get("TRACKER_NOW"))
    item = Item(key="meeting:probe:x", kind="meeting", source_id="probe:w", watch_ids=["w"], url=None, raw=None,
                content=Meeting(source="probe", source_ref="x", body="Probe", title="x", date="2026-11-24",
                                timezone="UTC"))
    with pytest.raises(RuntimeError, match="the ingest worker stores nothing: it could not open the database: "):
        ingestworker._process(item)
