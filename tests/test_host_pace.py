"""One pace per host across every source (issue 16, item 1), through the real Scrapy engine against
loopback servers.

Each meeting watch is its own crawler; before the shared pace, six watches on one host (every
city's Legistar is webapi.legistar.com) sent six requests to it within half a second. Now every
request to one host, whichever watch asked for it (robots.txt included), starts at least the
configured delay after the previous one; a host's Retry-After holds every watch back; and
different hosts are still fetched side by side."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from recorded import local

from tracker.config import Config, load_config
from tracker.crawl import run_crawls
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


# Gaps are measured where the host sees them (arrival at the server); a new connection's accept and
# thread start can shift one arrival by a few milliseconds, hence the 5% allowance.
def gaps(requests: list[Logged]) -> list[float]:
    times = sorted(r.time for r in requests)
    return [b - a for a, b in itertools.pairwise(times)]


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


def test_retry_after_from_one_watch_holds_every_watch_of_that_host(tmp_path: Path, replay: ReplayServer,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_NOW", NOW)
    replay.robots("User-agent: *\nAllow: /\n")
    replay.add("/busy/calendar.ics", ICS, fault=Fault.retry_after(1, times=1))
    for n in range(2, 5):
        replay.add(f"/city{n}/calendar.ics", ICS)
    config = ical_config(tmp_path, 0, [f"{replay.url}/busy/calendar.ics"]
                         + [f"{replay.url}/city{n}/calendar.ics" for n in range(2, 5)], per_host=1)
    reports = run_crawls(config, Store(config.database_url))
    assert all(r.ok for r in reports), [r.errors for r in reports]
    refused = next(r for r in replay.requests if r.status == 429)
    after = [r for r in replay.requests if r.time > refused.time]
    # one request at a time to the host: whatever came after "wait 1 s" waited, whichever watch it was for
    assert after and min(r.time for r in after) - refused.time >= 0.95


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
