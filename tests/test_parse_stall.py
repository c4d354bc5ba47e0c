"""A page built to stall its parser costs its own source one line, not the crawl (issue 20's
containment): libxml2's HTML parser checks each attribute of a tag against every one before it, so
one tag of tens of thousands of attributes (a few hundred KB, well under the download cap) held
the crawl's reactor thread, and every other source's answers, for seconds to minutes. The reading
now runs on a thread of its own, given up after `[crawl] parse_seconds`.

The crawls run through the real Scrapy engine against the loopback replay server."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from recorded import local
from statusjson import changes_json, status_json

from tracker.config import load_config
from tracker.crawl import run_crawls
from tracker.demo.replay import ReplayServer
from tracker.store import Store

TULSA = local("corpus/granicus/tulsa_council_viewpublisher.html")  # real: Tulsa council's Granicus page
TULSA_PAGE = "/ViewPublisher.php"
ICS = local("ics/detroit_k12_board_of_education.ics")  # real: Detroit schools' board calendar
ATTRIBUTES = 40_000  # 6.5 s of libxml2 on a 12 ms `timeit` machine (quadratic: 20,000 take 1.7 s)


def stalling(page: bytes) -> bytes:
    """The page with its `<body>` given `ATTRIBUTES` attributes (derived: 530 KB more)."""
    crowd = " ".join(f'data-x{n}="1"' for n in range(ATTRIBUTES)).encode()
    at = page.index(b"<body") + len(b"<body")
    return page[:at] + b" " + crowd + page[at:]


def test_a_page_that_stalls_its_parser_is_its_sources_one_line(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_NOW", "2025-11-18T18:00:00Z")
    replay.add(TULSA_PAGE, TULSA, content_type="text/html")
    replay.add("/board.ics", ICS, content_type="text/calendar")
    path = tmp_path / "tracker.toml"
    path.write_text('[crawl]\ndelay_seconds = 0\nparse_seconds = 1\n'
                    '[[meetings]]\nid = "council"\nname = "Tulsa City Council"\ntimezone = "America/Chicago"\n'
                    f'granicus = "{replay.url}{TULSA_PAGE}"\n'
                    '[[meetings]]\nid = "board"\nname = "Detroit Board of Education"\ntimezone = "America/Detroit"\n'
                    f'ical = "{replay.url}/board.ics"\n')
    config = load_config(path, env={})
    store = Store(config.database_url)
    assert all(report.ok for report in run_crawls(config, store))
    council_before = [mt for mt in status_json(store, config)["meetings"] if ":council:" in mt["entity"]]
    assert len(council_before) > 3

    hostile = stalling(TULSA)
    replay.add(TULSA_PAGE, hostile, content_type="text/html")
    monkeypatch.setenv("TRACKER_NOW", "2025-11-18T19:00:00Z")
    reports = {report.source_id: report for report in run_crawls(config, store)}
    # the crawl ended while libxml2 still reads the page: it did not wait for the reading it gave up
    assert any(thread.name == "tracker-read" and thread.is_alive() for thread in threading.enumerate())

    council = next(report for source, report in reports.items() if source.endswith(":council"))
    board = next(report for source, report in reports.items() if source.endswith(":board"))
    (line,) = council.errors
    assert "council" in line and "took over 1 s and was given up" in line and TULSA_PAGE in line, line
    assert board.ok, board.errors
    # what the council's page said before is kept as it was: nothing noted missing, no change told
    assert [mt for mt in status_json(store, config)["meetings"] if ":council:" in mt["entity"]] == council_before
    assert changes_json(store) == []
