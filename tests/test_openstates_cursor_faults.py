"""What the Open States spider's marks remember between runs, each test a way a bill used to be
missed: a parser upgrade the marks did not know of, a new watch sharing a query already read, a bill
updated while a query's pages were read, a busy query taking every day's budget. Real crawls
(`run_crawls`) against the loopback Open States API v3 (tracker/demo/openstates_api.py); the New
York bills the keyword tests add are fiction (`test_state_bills.fiction`), labelled so."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from alerting import write_config
from recorded import serve_openstates
from statusjson import changes_json, status_json
from test_legistar_cursor_faults import rewrite_snapshot
from test_state_bills import KEY, KEYWORDS, NAMED, fiction, openstates

from tracker import models as m
from tracker.config import Config, load_config
from tracker.crawl import run_crawls
from tracker.demo.openstates_api import OpenStatesApi
from tracker.demo.replay import ReplayServer
from tracker.sources import SOURCES
from tracker.store import Store

SB217 = "statebill:co:2020a:sb217"
QI_NY = {"id": "qi-ny", "name": "Qualified immunity in New York", "states": ["ny"],
         "keywords": ["qualified immunity"]}


def state_config(tmp_path: Path, base: str, bills: list[dict[str, Any]], **source: Any) -> Config:
    path = write_config(tmp_path, bills=bills, subscribers=[],
                        extra="[crawl]\ndelay_seconds = 0\n" + openstates(base, **source))
    return load_config(path, env={"OPENSTATES_API_KEY": KEY})


def watches_of(store: Store, config: Config, entity: str) -> set[str]:
    return {b["watch"] for b in status_json(store, config)["state_bills"] if b["entity"] == entity}


def titles(store: Store, config: Config) -> dict[str, str]:
    return {b["entity"]: b["title"] for b in status_json(store, config)["state_bills"]}


def rewrite_cursor(store: Store, change: Any) -> None:
    """The stored cursor as an older version wrote it: `change(cursor)` edits its JSON."""
    with store.session() as session:
        state = session.get(m.SourceState, "openstates")
        assert state is not None
        cursor = json.loads(json.dumps(state.cursor))
        change(cursor)
        state.cursor = cursor


def new_york_bills(api: OpenStatesApi, day: int, words: str) -> None:
    """fiction: New York bills A 99901..A 99925, all matching "qualified immunity" by their title,
    updated a second apart on `day` (two pages of 20), and the state's latest update after them."""
    for n in range(1, 26):
        api.put_bill(fiction(99900 + n, f"Relates to qualified immunity ({n}){words}", None,
                             f"2021-03-{day:02d}T10:00:{n:02d}+00:00")[0])
    api.touch("ny", f"2021-03-{day:02d}T11:00:00")


def test_a_parser_upgrade_reads_the_stored_bills_anew_as_a_baseline(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Marks written by `openstates-0` (which read SB 217's title otherwise): after the upgrade
    the query is read whole once though Colorado has not moved, the bill is stored as the new
    version reads it, and that is a baseline, not news. A mark written before marks kept their
    parser was written by openstates-1, the only version until then: read as such, so whole once
    more by a later version, and nothing in it is news."""
    current = SOURCES["openstates"]
    monkeypatch.setitem(SOURCES, "openstates", replace(current, parser_version="openstates-0"))
    monkeypatch.setenv("TRACKER_NOW", "2021-03-05T12:00:00Z")
    api, base = serve_openstates(replay, keys={KEY}, per_minute=1000)
    config = state_config(tmp_path, base, [NAMED])
    store = Store(config.database_url)
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    title = titles(store, config)[SB217]

    def as_the_old_reading_had_it(content: dict[str, Any]) -> None:
        content["title"] = content["title"].upper()

    rewrite_snapshot(store, SB217, as_the_old_reading_had_it)
    monkeypatch.setitem(SOURCES, "openstates", current)
    monkeypatch.setenv("TRACKER_NOW", "2021-03-05T13:00:00Z")
    before = api.count()
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    assert [r.path for r in api.requests[before:]] == ["/jurisdictions", "/bills"]
    assert titles(store, config)[SB217] == title
    assert changes_json(store) == []  # the upgrade's reading is a baseline

    def as_written_before_marks_kept_their_parser(cursor: dict[str, Any]) -> None:
        for mark in cursor["reads"].values():
            assert mark.pop("parser") == current.parser_version

    rewrite_cursor(store, as_written_before_marks_kept_their_parser)
    before = api.count()
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    assert [r.path for r in api.requests[before:]] == ["/jurisdictions", "/bills"]  # openstates-1's marks
    assert changes_json(store) == []


@pytest.mark.parametrize(("second", "entity"), [
    (QI_NY, "statebill:ny:2021-2022:a99901"),
    ({"id": "sb217-too", "name": "SB 217 again", "state": "co", "session": "2020A", "numbers": ["SB 217"]}, SB217),
], ids=["same keyword and state", "same named bill"])
def test_a_new_watch_gets_what_an_existing_query_already_found(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch, second: dict[str, Any],
        entity: str) -> None:
    """A new watch whose query an existing watch already runs (the same keyword in the same state,
    or the same named bill), the state not moved since: the named bill, stored already, is held by
    the new watch at once (no request for it); the keyword query is read whole once for the new
    watch, and what it finds is the new watch's too. Neither is news."""
    monkeypatch.setenv("TRACKER_NOW", "2021-03-05T12:00:00Z")
    api, base = serve_openstates(replay, keys={KEY}, per_minute=1000)
    config = state_config(tmp_path, base, [NAMED, KEYWORDS])
    store = Store(config.database_url)
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    assert second["id"] not in watches_of(store, config, entity)

    config = state_config(tmp_path, base, [NAMED, KEYWORDS, second])
    monkeypatch.setenv("TRACKER_NOW", "2021-03-05T13:00:00Z")
    before = api.count()
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    assert second["id"] in watches_of(store, config, entity)
    asked = [dict(r.params).get("jurisdiction") for r in api.requests[before:] if r.path == "/bills"]
    assert asked == (["ny"] if second is QI_NY else [])
    assert changes_json(store) == []

    before = api.count()
    (report,) = run_crawls(config, store)  # read for it now: not again
    assert report.ok, report.errors
    assert [r.path for r in api.requests[before:]] == ["/jurisdictions"]


def test_a_bill_updated_while_pages_are_read_costs_no_other_bill(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """25 New York bills match the keyword: two pages of `updated_asc`. All 25 are amended; while
    the run reads the first page, Open States updates bill 5 once more, so it moves to the end. The
    next page goes on from the last bill read (`updated_since`), not by page number, which would
    have started one bill later and skipped bill 21 for good: every amendment is read, and bill 5's
    second one the next run."""
    monkeypatch.setenv("TRACKER_NOW", "2021-03-05T12:00:00Z")
    api, base = serve_openstates(replay, keys={KEY}, per_minute=1000)
    armed = [False]

    def upstream(path: str, query: Any, headers: Any) -> Any:
        answer = api(path, query, headers)
        if armed[0] and path.endswith("/bills"):
            armed[0] = False  # Open States' scraper updates bill 5 once the first page is answered
            api.put_bill(fiction(99905, "Relates to qualified immunity (5), amended twice", None,
                                 "2021-03-02T12:00:00+00:00")[0])
            api.touch("ny", "2021-03-02T12:00:00")
        return answer

    replay.mount("/openstates", upstream)
    new_york_bills(api, 1, "")
    config = state_config(tmp_path, base, [{"id": "qi-ny", "name": "QI in New York", "state": "ny",
                                            "keywords": ["qualified immunity"]}])
    store = Store(config.database_url)
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors

    new_york_bills(api, 2, ", amended")
    armed[0] = True
    monkeypatch.setenv("TRACKER_NOW", "2021-03-02T13:00:00Z")
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    stale = sorted(k for k, t in titles(store, config).items()
                   if k.startswith("statebill:ny:2021-2022:a999") and k != "statebill:ny:2021-2022:a99901"
                   and not t.endswith(("amended", "amended twice")))
    assert stale == []
    second = [dict(r.params) for r in api.requests if r.path == "/bills"][-2:]
    assert [(q["updated_since"], q["page"]) for q in second] == [
        ("2021-03-01 11:00:00", "1"), ("2021-03-02 10:00:20", "1")]  # on from bill 20, read again

    monkeypatch.setenv("TRACKER_NOW", "2021-03-02T14:00:00Z")
    (report,) = run_crawls(config, store)  # New York moved (bill 5): read from the mark
    assert report.ok, report.errors
    assert titles(store, config)["statebill:ny:2021-2022:a99905"] == "Relates to qualified immunity (5), amended twice"


def test_a_busy_keyword_query_does_not_starve_named_bills(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """A budget of 3 requests a day; a keyword query with two pages of New York amendments every
    day, and a named Colorado bill. Keyword queries come first in the plan and the first day's
    budget is spent on them; the next day the named bill, never read, goes first: the query that
    waited longest has its turn, where a fixed order would spend every day's budget on the busy
    one and never read the named bill at all."""
    api, base = serve_openstates(replay, keys={KEY}, per_minute=1000)
    config = state_config(tmp_path, base, [NAMED, {"id": "qi-ny", "name": "QI in New York", "state": "ny",
                                                   "keywords": ["qualified immunity"]}], daily_budget=3)
    store = Store(config.database_url)
    read: list[set[str]] = []
    for day in (5, 6, 7):
        new_york_bills(api, day, f", day {day}")
        monkeypatch.setenv("TRACKER_NOW", f"2021-03-{day:02d}T12:00:00Z")
        run_crawls(config, store)
        read.append({b["entity"] for b in status_json(store, config)["state_bills"]})
    assert SB217 not in read[0] and SB217 in read[1]
    assert titles(store, config)["statebill:ny:2021-2022:a99925"] == "Relates to qualified immunity (25), day 7"


def test_a_parser_upgrade_stopped_by_the_budget_resumes_where_it_stopped(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The upgrade's whole read of a two-page keyword query is stopped by the day's budget after
    its first page: its mark moves back to the last bill that page read, with the new version, so
    the next day reads on from there (one page), neither from the start nor from the old mark."""
    current = SOURCES["openstates"]
    monkeypatch.setitem(SOURCES, "openstates", replace(current, parser_version="openstates-0"))
    api, base = serve_openstates(replay, keys={KEY}, per_minute=1000)
    new_york_bills(api, 1, "")
    qi = {"id": "qi-ny", "name": "QI in New York", "state": "ny", "keywords": ["qualified immunity"]}
    config = state_config(tmp_path, base, [qi])
    store = Store(config.database_url)
    monkeypatch.setenv("TRACKER_NOW", "2021-03-05T12:00:00Z")
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors

    monkeypatch.setitem(SOURCES, "openstates", current)
    monkeypatch.setenv("TRACKER_NOW", "2021-03-06T12:00:00Z")
    before = api.count()
    run_crawls(state_config(tmp_path, base, [qi], daily_budget=2), store)
    (first,) = [dict(r.params) for r in api.requests[before:] if r.path == "/bills"]
    assert "updated_since" not in first  # read whole: New York has not moved

    monkeypatch.setenv("TRACKER_NOW", "2021-03-07T12:00:00Z")
    before = api.count()
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    (rest,) = [dict(r.params) for r in api.requests[before:] if r.path == "/bills"]
    assert rest["updated_since"] == "2021-03-01 10:00:19" and rest["page"] == "1"
    assert changes_json(store) == []
