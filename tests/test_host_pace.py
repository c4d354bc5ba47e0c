"""One pace per host across every source (issue 16, item 1), through the real Scrapy engine against
loopback servers.

Each meeting watch is its own crawler; before the shared pace, six watches on one host (every
city's Legistar is webapi.legistar.com) sent six requests to it within half a second. Now every
request to one host, whichever watch asked for it (robots.txt included), starts at least the
configured delay after the previous one; a host's Retry-After holds every watch back; and
different hosts are still fetched side by side. Spacing is measured where the host sees it: by the
kernel's receive stamps of the server's socket (`Logged.arrived`), not the server thread's clock."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from recorded import local
from scrapy import Request

from tracker.config import Config, load_config
from tracker.crawl import run_crawls, scrapy_settings
from tracker.demo.replay import Fault, Logged, ReplayServer
from tracker.store import Store

ICS = local("ics/detroit_k12_board_of_education.ics")
NOW = "2019-04-10T12:00:00Z"  # the recorded feed's own time, so its meetings are in the window


def replay_on(host: str) -> ReplayServer:
    """A replay server bound on another loopback address (all of 127.0.0.0/8 is loopback)."""
    return ReplayServer(host=host)


def ical_config(tmp_path: Path, delay: float, feeds: list[str], per_host: int = 2) -> Config:
    watches = "".join(
        f'[[meetings]]\nid = "city{n}"\nname = "City {n} council"\ntimezone = "America/Detroit"\nical = "{url}"\n'
        for n, url in enumerate(feeds, 1))
    path = tmp_path / "tracker.toml"
    path.write_text(f'[storage]\nurl = "sqlite:///{tmp_path / "tracker.db"}"\n'
                    f"[crawl]\ndelay_seconds = {delay}\nconcurrent_per_domain = {per_host}\n{watches}")
    return load_config(path, env={})


# Gaps are measured where the host sees them: when the request's bytes reached the server's socket
# (the kernel's stamp; the server thread's clock where there is none). 5% allowance for timer slack.
def when(request: Logged) -> float:
    return request.arrived if request.arrived is not None else request.time


def gaps(requests: list[Logged]) -> list[float]:
    times = sorted(when(r) for r in requests)
    return [b - a for a, b in itertools.pairwise(times)]


class StallBeforeSending:
    """Blocks the reactor right after the host pace let a request start and before it is sent, as a
    reactor busy with a thousand crawlers does: that request leaves late, the next one on time."""

    stalled: ClassVar[list[str]] = []

    def process_request(self, request: Request) -> None:
        if request.url.endswith(("/robots.txt", "/city2/calendar.ics")):
            StallBeforeSending.stalled.append(request.url)
            time.sleep(0.3)
        return None


@pytest.fixture
def hosts() -> Iterator[list[ReplayServer]]:
    servers = [replay_on(f"127.0.0.{n}") for n in range(2, 8)]
    for server in servers:
        server.start()
    yield servers
    for server in servers:
        server.stop()


def test_six_watches_on_one_host_are_paced_at_the_delay(tmp_path: Path, replay: ReplayServer,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_NOW", NOW)
    delay = 0.25
    for n in range(1, 7):
        replay.add(f"/city{n}/calendar.ics", ICS)
    config = ical_config(tmp_path, delay, [f"{replay.url}/city{n}/calendar.ics" for n in range(1, 7)])
    started = time.monotonic()
    reports = run_crawls(config, Store(config.database_url))
    took = time.monotonic() - started

    # each watch still has its own report, health and items
    assert sorted(r.source_id for r in reports) == [f"ical:city{n}" for n in range(1, 7)]
    assert all(r.ok and r.items > 10 for r in reports), [r.errors for r in reports]
    # every request to the host (six feeds and one robots.txt, shared by the six crawlers) at least
    # the delay apart
    sent = replay.requests
    assert replay.count("/robots.txt") == 1 and sum(1 for r in sent if r.path.endswith(".ics")) == 6
    assert min(gaps(sent)) >= delay * 0.95, sorted(round(g, 3) for g in gaps(sent))
    assert took >= (len(sent) - 1) * delay * 0.95


# With a delay, the next start waits for the previous answer: one carrying Retry-After must be read
# whole (the pause noted) before that wait ends, with one or two requests per host.
@pytest.mark.parametrize(("delay", "per_host"), [(0, 1), (0.05, 2)])
def test_retry_after_from_one_watch_holds_every_watch_of_that_host(tmp_path: Path, replay: ReplayServer,
                                                                    monkeypatch: pytest.MonkeyPatch,
                                                                    delay: float, per_host: int) -> None:
    monkeypatch.setenv("TRACKER_NOW", NOW)
    replay.robots("User-agent: *\nAllow: /\n")
    replay.add("/busy/calendar.ics", ICS, fault=Fault.retry_after(1, times=1))
    for n in range(2, 5):
        replay.add(f"/city{n}/calendar.ics", ICS)
    config = ical_config(tmp_path, delay, [f"{replay.url}/busy/calendar.ics"]
                         + [f"{replay.url}/city{n}/calendar.ics" for n in range(2, 5)], per_host=per_host)
    reports = run_crawls(config, Store(config.database_url))
    assert all(r.ok for r in reports), [r.errors for r in reports]
    refused = next(r for r in replay.requests if r.status == 429)
    after = [r for r in replay.requests if when(r) > when(refused)]
    # whatever came after "wait 1 s" waited, whichever watch it was for
    assert after and min(when(r) for r in after) - when(refused) >= 0.95


def test_robots_crawl_delay_paces_every_watch_of_the_host(tmp_path: Path, replay: ReplayServer,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_NOW", NOW)
    replay.robots("User-agent: *\nCrawl-delay: 0.4\n")
    for n in range(1, 4):
        replay.add(f"/city{n}/calendar.ics", ICS)
    config = ical_config(tmp_path, 0, [f"{replay.url}/city{n}/calendar.ics" for n in range(1, 4)])
    reports = run_crawls(config, Store(config.database_url))
    assert all(r.ok for r in reports)
    feeds = [r for r in replay.requests if r.path.endswith(".ics")]
    assert len(feeds) == 3 and min(gaps(feeds)) >= 0.38


def test_six_feeds_on_six_hosts_are_fetched_side_by_side(tmp_path: Path, hosts: list[ReplayServer],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_NOW", NOW)
    delay = 1.0
    for server in hosts:
        server.add("/calendar.ics", ICS)
    assert [server.url.split("//")[1].split(":")[0] for server in hosts] == [f"127.0.0.{n}" for n in range(2, 8)]
    config = ical_config(tmp_path, delay, [f"{server.url}/calendar.ics" for server in hosts])
    started = time.monotonic()
    reports = run_crawls(config, Store(config.database_url))
    took = time.monotonic() - started
    assert all(r.ok and r.items > 10 for r in reports), [r.errors for r in reports]

    feed_times = [next(r.time for r in server.requests if r.path == "/calendar.ics") for server in hosts]
    # side by side: the six feeds arrive within a fraction of the delay of each other...
    assert max(feed_times) - min(feed_times) < 0.6 * delay, feed_times
    # ...while each host still gets its own requests (robots.txt, then the feed) the delay apart
    for server in hosts:
        assert len(server.requests) == 2 and min(gaps(server.requests)) >= delay * 0.95
    # one pace across hosts would have taken 11 delays; one host's two requests take one
    assert took < 4 * delay, took


def test_spacing_holds_on_the_wire_when_the_reactor_sends_late(tmp_path: Path, replay: ReplayServer,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A request that leaves 0.3 s after its start (a saturated reactor) used to reach the host 0.2 s
    before the next, started 0.5 s after it; the next start now also waits the delay after the answer."""
    monkeypatch.setenv("TRACKER_NOW", NOW)
    delay = 0.5
    for n in range(1, 4):
        replay.add(f"/city{n}/calendar.ics", ICS)
    config = ical_config(tmp_path, delay, [f"{replay.url}/city{n}/calendar.ics" for n in range(1, 4)])
    middlewares = {**scrapy_settings(config)["DOWNLOADER_MIDDLEWARES"], f"{__name__}.StallBeforeSending": 960}
    StallBeforeSending.stalled.clear()
    reports = run_crawls(config, Store(config.database_url), settings={"DOWNLOADER_MIDDLEWARES": middlewares})
    assert all(r.ok for r in reports), [r.errors for r in reports]
    sent = replay.requests
    assert len(sent) == 4 and len(StallBeforeSending.stalled) == 2
    assert all(r.arrived is not None for r in sent)  # Linux: the kernel stamps what the server receives
    assert min(gaps(sent)) >= delay * 0.95, sorted(round(g, 3) for g in gaps(sent))
