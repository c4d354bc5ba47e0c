"""Meeting listings' leftovers (a review of what earlier attack reviews noticed and left): real
crawls through the real Scrapy engine against the loopback replay server, serving real recordings
or answers built as the platform builds them (labelled derived)."""

from __future__ import annotations

import copy
import json
import re
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from calendar_answers import answer
from recorded import local
from statusjson import changes_json, status_json
from test_iqm2 import ATLANTA
from test_iqm2 import CALENDAR as IQM2_CALENDAR
from test_legistar import KEYWORDS, baseline_state
from test_legistar_calendar import CHICAGO
from test_legistar_calendar import watch as calendar_watch
from test_legistar_cursor_faults import BOTH, nyc_watches

from tracker.config import Config, load_config
from tracker.crawl import run_crawls
from tracker.demo.legistar_api import LegistarApi
from tracker.demo.replay import Fault, Headers, ReplayServer
from tracker.store import Store

# -- CivicClerk: the events list of the window, not of every year ------------------------------------

EVENTS = "/v1/Events"
PAGE = 15  # events a page, as CivicClerk's API pages them (`@odata.nextLink`)


def weekly_events(first: date, last: date, every: int = 7) -> list[dict[str, Any]]:
    """derived: a council meeting every Tuesday (or every other: `every` 14) from `first` to `last`
    (years of them), as CivicClerk writes events."""
    days = [first + timedelta(days=n) for n in range(0, (last - first).days + 1, every)]
    return [{"id": 1000 + n, "eventName": "City Council Meeting", "startDateTime": f"{day}T19:00:00Z",
             "categoryId": 26, "categoryName": "City Council", "agendaId": 0, "publishedFiles": []}
            for n, day in enumerate(days)]


def civicclerk_api(url: str, events: list[dict[str, Any]]) -> Any:
    """derived: a CivicClerk events API holding `events`, answering as OData does: its `$filter` of
    `startDateTime ge/lt` literals and its `$orderby` (`startDateTime desc`, else by id) applied,
    pages of 15 events, each next page's address (`$skip`) with the same query."""

    def app(path: str, query: dict[str, str], headers: Headers) -> tuple[int, bytes, str]:
        chosen = events
        for op, literal in re.findall(r"startDateTime (ge|lt) (\S+)", query.get("$filter", "")):
            chosen = [e for e in chosen if (e["startDateTime"] >= literal) == (op == "ge")]
        if query.get("$orderby", "").startswith("startDateTime desc"):
            chosen = sorted(chosen, key=lambda e: e["startDateTime"], reverse=True)
        skip = int(query.get("$skip", "0"))
        page: dict[str, Any] = {"value": chosen[skip:skip + PAGE]}
        if skip + PAGE < len(chosen):
            rest = {k: v for k, v in query.items() if k != "$skip"}
            page["@odata.nextLink"] = (f"{url}{EVENTS}?" + "&".join(f"{k}={v}" for k, v in rest.items())
                                       + f"&$skip={skip + PAGE}")
        return 200, json.dumps(page).encode(), "application/json"
    return app


def test_a_civicclerk_watch_asks_for_the_windows_events_not_every_year(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """A CivicClerk watch given as its events list newest first (Vallejo's `$orderby=startDateTime
    desc`) whose client has held a council meeting every week since 2010: the spider asked the list
    as written and followed its `@odata.nextLink`s through every year, 50 pages a run, then said
    "more than 50 pages of events" at every run (the source never ok), for the 22 meetings of its
    window. Now it asks for the window's days: two pages, the run ok, the window's meetings stored."""
    monkeypatch.setenv("TRACKER_NOW", "2026-10-01T12:00:00Z")  # the window: September 1 to January 29
    config, store = weekly_council(tmp_path, replay, weekly_events(date(2010, 1, 5), date(2027, 6, 29)))
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    asked = [r for r in replay.requests if r.path == EVENTS]
    assert len(asked) == 2
    days = sorted(mt["date"] for mt in status_json(store, config)["meetings"])
    assert days[0] == "2026-09-01" and days[-1] == "2027-01-26" and len(days) == 22


def weekly_council(tmp_path: Path, replay: ReplayServer, events: list[dict[str, Any]]) -> tuple[Config, Store]:
    """A watch of the council's events list, newest first (as Vallejo's is written)."""
    replay.mount("/v1", civicclerk_api(replay.url, events))
    path = tmp_path / "tracker.toml"
    path.write_text('[crawl]\ndelay_seconds = 0\n[[meetings]]\nid = "council"\nname = "City Council"\n'
                    f'timezone = "America/Los_Angeles"\n'
                    f'civicclerk = "{replay.url}{EVENTS}?$orderby=startDateTime desc"\n')
    config = load_config(path, env={})
    return config, Store(config.database_url)


def test_a_civicclerk_meeting_gone_from_the_window_is_looked_for_without_a_line_each_run(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The council meets every other Tuesday; its 20 October meeting is deleted. Asked for the
    window's days (one page), the list no longer shows it, and the site is asked for the wider span (a year back, two years on), whose answer
    is the first of several pages, newest first: it lacks the window's meetings, so each run said
    in a warning that the wider span's answer was not whole (a week of them). One page of several
    says nothing of a meeting it does not show: it stays noted missing, without a line."""
    monkeypatch.setenv("TRACKER_NOW", "2026-10-01T12:00:00Z")
    events = weekly_events(date(2010, 1, 5), date(2030, 6, 25), every=14)
    config, store = weekly_council(tmp_path, replay, events)
    (report,) = run_crawls(config, store)
    assert report.ok and not report.warnings, (report.errors, report.warnings)
    events[:] = [event for event in events if not event["startDateTime"].startswith("2026-10-20")]
    monkeypatch.setenv("TRACKER_NOW", "2026-10-01T13:00:00Z")
    replay.clear_log()
    (report,) = run_crawls(config, store)
    assert report.ok and not report.warnings, (report.errors, report.warnings)
    gone = [mt for mt in status_json(store, config)["meetings"] if mt["date"] == "2026-10-20"]
    assert [mt["missing"] for mt in gone] == [True]


# -- an HTML listing cut short at a whole-looking length ---------------------------------------------

TULSA_PAGE = "/ViewPublisher.php"
TULSA = local("corpus/granicus/tulsa_council_viewpublisher.html")


def test_a_granicus_page_cut_short_mid_table_notes_no_meeting_missing(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tulsa's council page (real) is served cut off after a whole row of its meetings' table, its
    Content-Length matching (a script that died, a cache that kept half). The HTML parser closes the
    table itself and the half read as the whole page: the council's later meetings were noted
    missing (and held no more), though nothing had changed. Now the cut is one line, nothing is
    noted missing, and what is stored stays as it was."""
    monkeypatch.setenv("TRACKER_NOW", "2025-11-18T18:00:00Z")
    replay.add(TULSA_PAGE, TULSA, content_type="text/html")
    path = tmp_path / "tracker.toml"
    path.write_text('[crawl]\ndelay_seconds = 0\n[[meetings]]\nid = "council"\nname = "Tulsa City Council"\n'
                    f'timezone = "America/Chicago"\ngranicus = "{replay.url}{TULSA_PAGE}"\n')
    config = load_config(path, env={})
    store = Store(config.database_url)
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    before = status_json(store, config)["meetings"]
    assert len(before) > 3 and not any(mt["missing"] for mt in before)

    first = TULSA.index(b"</tr>", TULSA.index(b"listingRow")) + len(b"</tr>")  # after its first whole row
    replay.set_fault(TULSA_PAGE, Fault.short(first))
    monkeypatch.setenv("TRACKER_NOW", "2025-11-18T19:00:00Z")
    (report,) = run_crawls(config, store)
    assert status_json(store, config)["meetings"] == before
    assert changes_json(store) == []
    (error,) = report.errors
    assert "cut short" in error and "council" in error and TULSA_PAGE in error, error


def test_a_legistar_calendar_page_cut_short_mid_table_notes_no_meeting_missing(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Chicago's calendar page (real rows) showing the year 2019 (derived: as Legistar answers the
    date range list's "2019"), which holds the whole window of 1 February: the page is the one
    answer read. Served cut off after its grid's first whole row, its length matching, it read as
    whole: January's other meetings were noted missing. Now the cut is one line and nothing is
    noted missing."""
    monkeypatch.setenv("TRACKER_NOW", "2019-02-01T18:00:00Z")
    year = answer(CHICAGO, "2019", "answer-2019", slice(None))
    replay.add("/Calendar.aspx", year, content_type="text/html")
    config = calendar_watch(tmp_path, replay)
    store = Store(config.database_url)
    (report,) = run_crawls(config, store)
    assert report.ok and report.complete_listing, report.errors
    before = status_json(store, config)["meetings"]
    assert len(before) > 3 and not any(mt["missing"] for mt in before)

    cut = year.index(b"</tr>", year.index(b"rgRow")) + len(b"</tr>")
    replay.set_fault("/Calendar.aspx", Fault.short(cut))
    monkeypatch.setenv("TRACKER_NOW", "2019-02-01T19:00:00Z")
    (report,) = run_crawls(config, store)
    assert status_json(store, config)["meetings"] == before
    assert changes_json(store) == []
    (error,) = report.errors
    assert "the page: the page ends inside a table it opened (cut short)" in error, error


# -- Legistar's Web API: an unlisted meeting's own address answering another meeting -----------------

def test_a_legistar_meeting_asked_by_its_id_and_answered_with_another_is_one_line(
        tmp_path: Path, replay: ReplayServer, legistar: LegistarApi, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hearing 20111 leaves the listing; asked for by its id (`events/20111`), the API answers
    with another meeting, a Public Safety hearing in December never listed (derived: a cache or
    proxy mixing up answers). That meeting was stored as if the spider had found it, under its own
    id with 20111's fingerprint, and 20111 was asked again each run without a word. Now the answer
    is one line naming both ids, and nothing is stored from it."""
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T12:00:00Z")
    baseline_state(legistar)
    config = load_config(nyc_watches(tmp_path, replay, ("council", BOTH, KEYWORDS)), env={})
    store = Store(config.database_url)
    assert all(r.ok for r in run_crawls(config, store))
    before = status_json(store, config)["meetings"]
    nyc = legistar.client("nyc")
    other = copy.deepcopy(nyc.events[20188]) | {"EventId": 99999, "EventDate": "2023-12-01T00:00:00"}
    nyc.events.pop(20111)
    replay.add("/v1/nyc/events/20111", json.dumps(other).encode(), content_type="application/json")
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T13:00:00Z")
    (report,) = run_crawls(config, store)
    assert [mt["entity"] for mt in status_json(store, config)["meetings"]] == [mt["entity"] for mt in before]
    assert changes_json(store) == []
    (error,) = report.errors
    assert "meeting 20111" in error and "answered with meeting 99999" in error, error


# -- a host answering 429 + Retry-After to every request ----------------------------------------------

@pytest.mark.slow
def test_a_host_asking_to_wait_at_every_request_holds_the_run_no_longer_than_one_wait_allowed(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Eight boards' feeds on one host, which answers every request "429, Retry-After: 2" (derived:
    a host shedding load). Each wait was honoured, every request and each of its retries in turn
    after the last: 24 requests, the run held 2 s a request (with "Retry-After: 300", which
    `max_retry_after_seconds` allows, 48 requests held a run four hours, the alerts and the digest
    waiting). Now once the waits it asked again (a request retried after its wait, refused again)
    add up to more than the longest single wait allowed (here 3 s), it is not asked again this run:
    each feed is its one line, the run goes on. (A first refusal of each request is not counted: a
    host shedding load for a moment, met by many crawlers at once, serves their retries.)"""
    monkeypatch.setenv("TRACKER_NOW", "2019-04-10T12:00:00Z")
    replay.robots("User-agent: *\nAllow: /\n")
    feed = local("ics/detroit_k12_board_of_education.ics")
    for n in range(1, 9):
        replay.add(f"/board{n}/calendar.ics", feed, fault=Fault.retry_after(2, times=1000))
    watches = "".join(f'[[meetings]]\nid = "board{n}"\nname = "Board {n}"\ntimezone = "America/Detroit"\n'
                      f'ical = "{replay.url}/board{n}/calendar.ics"\n' for n in range(1, 9))
    path = tmp_path / "tracker.toml"
    path.write_text(f"[crawl]\ndelay_seconds = 0\nmax_retry_after_seconds = 3\n{watches}")
    config = load_config(path, env={})
    started = time.monotonic()
    reports = run_crawls(config, Store(config.database_url))
    took = time.monotonic() - started
    asked = [r for r in replay.requests if r.path.endswith(".ics")]
    assert len(asked) <= 12 and took < 16, (len(asked), took)  # before: 24 requests, 23.7 s
    assert all(len(report.errors) == 1 for report in reports), [r.errors for r in reports]
    assert sum("not asked" in report.errors[0] for report in reports) >= 4


def test_an_iqm2_calendar_cut_short_mid_list_notes_no_meeting_missing(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Atlanta's calendar list (real) served cut off before its middle meeting row, its length
    matching: the rows before the cut read as the whole calendar, and the council's other meetings
    were noted missing. Now the cut is one line, and nothing is noted missing."""
    monkeypatch.setenv("TRACKER_NOW", "2026-04-01T12:00:00Z")
    replay.add(IQM2_CALENDAR, ATLANTA, content_type="text/html")
    path = tmp_path / "tracker.toml"
    path.write_text('[crawl]\ndelay_seconds = 0\n[[meetings]]\nid = "atl"\nname = "Atlanta City Council"\n'
                    f'timezone = "America/New_York"\niqm2 = "{replay.url}/Citizens/default.aspx"\n')
    config = load_config(path, env={})
    store = Store(config.database_url)
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    before = status_json(store, config)["meetings"]
    assert len(before) > 40

    rows = [m.start() for m in re.finditer(rb'<div class="Row MeetingRow', ATLANTA)]
    replay.set_fault(IQM2_CALENDAR, Fault.short(rows[len(rows) // 2]))
    monkeypatch.setenv("TRACKER_NOW", "2026-04-01T13:00:00Z")
    (report,) = run_crawls(config, store)
    assert status_json(store, config)["meetings"] == before
    assert changes_json(store) == []
    (error,) = report.errors
    assert "cut short" in error and "iqm2:atl" in error, error
