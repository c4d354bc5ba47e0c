"""A CivicClerk watch asks for its window's days in whole weeks, so its conditional GET holds all
week. The crawl's window moves a day a run, and the events list was asked for its exact days: a new
address every day, never answered 304, the whole list downloaded every day.

Real parts: South Fulton's recorded events list on the loopback replay server (which answers a
request carrying its validators with 304), through the real Scrapy engine."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from recorded import local

from tracker.config import load_config
from tracker.crawl import run_crawls
from tracker.demo.replay import ReplayServer
from tracker.store import Store

EVENTS = "/v1/Events"
SOUTH_FULTON = local("civicclerk/southfultonga_events.json")  # real: South Fulton, GA's events list


def days_asked(replay: ReplayServer) -> tuple[str, str]:
    (asked,) = [r for r in replay.requests if r.path == EVENTS]
    first, last = re.findall(r"startDateTime (?:ge|lt) (\d{4}-\d\d-\d\d)", asked.query["$filter"])
    return first, last


def test_the_events_list_is_asked_at_one_address_all_week(tmp_path: Path, replay: ReplayServer,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    replay.add(EVENTS, SOUTH_FULTON, content_type="application/json")
    path = tmp_path / "tracker.toml"
    path.write_text('[crawl]\ndelay_seconds = 0\n[[meetings]]\nid = "council"\nname = "South Fulton City Council"\n'
                    f'timezone = "America/New_York"\ncivicclerk = "{replay.url}{EVENTS}"\n')
    config = load_config(path, env={})
    store = Store(config.database_url)
    monkeypatch.setenv("TRACKER_NOW", "2026-04-08T12:00:00Z")  # the window from Monday 9 March
    (report,) = run_crawls(config, store)
    assert report.ok and report.items > 0, report.errors
    week = days_asked(replay)
    assert week == ("2026-03-09", "2026-08-17")  # 9 March to 6 August, in whole weeks (the end exclusive)
    for day in ("2026-04-09", "2026-04-12", "2026-04-14"):  # the window from a Tuesday, a Friday, a Sunday
        replay.clear_log()
        monkeypatch.setenv("TRACKER_NOW", f"{day}T12:00:00Z")
        (report,) = run_crawls(config, store)
        assert report.ok, report.errors
        assert days_asked(replay) == week, day
        (asked,) = [r for r in replay.requests if r.path == EVENTS]
        assert asked.headers.get("If-None-Match") or asked.headers.get("If-Modified-Since"), day
        assert asked.status == 304 and report.not_modified == 1, day
    replay.clear_log()
    monkeypatch.setenv("TRACKER_NOW", "2026-04-15T12:00:00Z")  # the window from Monday 16 March: the next week
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    assert days_asked(replay) == ("2026-03-16", "2026-08-24")
