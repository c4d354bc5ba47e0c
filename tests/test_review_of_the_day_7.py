"""Review of the day (7): a feed behind a login on an internationalized host name. Real parts, as
tests/test_feed_login.py drives them: a real HTTP server on 127.0.0.1 demanding the login, the real
crawl; the name pinned to that server as a DNS answer would pin it."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_feed_login import LoginServer, login_server, servers, watch_config  # noqa: F401 (a fixture)
from test_input_attack import NOW
from twisted.internet.address import IPv4Address

from spiders.middlewares import PINNED
from tracker.config import load_config
from tracker.crawl import run_crawls
from tracker.store import Store


def test_the_login_goes_to_its_own_host_written_in_its_own_letters(
        tmp_path: Path, servers: list[LoginServer], monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """`http://reader:…@bücher.test/board.ics`: Scrapy asks for the host as IDNA
    (`xn--bcher-kva.test`), which is the same origin as the one the login was written for. The
    login was never sent (the two spellings compared as two origins): every run a 401."""
    monkeypatch.setenv("TRACKER_NOW", NOW)
    server = login_server(servers, "reader", "Fe3dPassw0rd-x")
    server.feed()
    monkeypatch.setitem(PINNED.pinned, "xn--bcher-kva.test", [IPv4Address("TCP", "127.0.0.1", 0)])
    config = load_config(watch_config(tmp_path, f"http://reader:Fe3dPassw0rd-x@bücher.test:{server.port}/board.ics"),
                         env={})
    (report,) = run_crawls(config, Store(config.database_url))
    assert report.ok and report.items > 5, report.errors
    assert server.asked("/board.ics")[0].get("Authorization") == server.expected
