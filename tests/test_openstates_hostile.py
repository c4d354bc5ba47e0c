"""An Open States API that breaks its own contract: the loopback API v3 (tracker/demo/openstates_api.py)
behind a rewriting front that nulls a result, ignores `sort`, or lies about `max_page`. Real crawls
(`run_crawls`) through the real engine; the New York bills are fiction
(`test_openstates_cursor_faults.new_york_bills`), labelled so."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from recorded import serve_openstates
from statusjson import status_json
from test_openstates_cursor_faults import new_york_bills, state_config
from test_state_bills import KEY, NAMED, fiction

from spiders import openstates as openstates_spider
from tracker.crawl import run_crawls
from tracker.demo.openstates_api import OpenStatesApi
from tracker.demo.replay import ReplayServer
from tracker.store import Store

QI_NY = {"id": "qi-ny", "name": "QI in New York", "state": "ny", "keywords": ["qualified immunity"]}
EVERY = {f"statebill:ny:2021-2022:a{99900 + n}" for n in range(1, 26)}


class Pairs:
    """A query string as the fake reads it (`.pairs`), rewritten."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self.pairs = pairs

    def items(self) -> list[tuple[str, str]]:
        return self.pairs


def front(replay: ReplayServer, api: OpenStatesApi,
          rewrite: Callable[[list[tuple[str, str]], int, dict[str, Any]], tuple[int, dict[str, Any]]],
          ask: Callable[[list[tuple[str, str]]], list[tuple[str, str]]] = lambda pairs: pairs,
          route: str = "/bills") -> None:
    """`route` answered by the fake, then rewritten (`rewrite(params, status, body)`); `ask` rewrites
    the request first."""

    def upstream(path: str, query: Any, headers: Any) -> Any:
        pairs = ask(list(getattr(query, "pairs", query.items())))
        status, body, kind = api(path, Pairs(pairs), headers)
        if path.endswith(route):
            status, data = rewrite(pairs, status, json.loads(body))
            body = json.dumps(data).encode()
        return status, body, kind

    replay.mount("/openstates", upstream)


def stored(store: Store, config: Any) -> set[str]:
    return {b["entity"] for b in status_json(store, config)["state_bills"]}


def test_a_null_result_and_a_bill_with_a_number_for_its_actions_are_two_lines_the_rest_stored(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """A `null` among a page's results and a bill whose `actions` is a number (not a list): each is
    one error line; the other 24 bills are stored. (It raised in the callback: the run ended there,
    and nothing it had read was stored.)"""
    api, base = serve_openstates(replay, keys={KEY}, per_minute=1000)

    def spoil(pairs: list[tuple[str, str]], status: int, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        for row in body.get("results", []):
            if row["identifier"] == "A 99903":
                row["actions"] = 5
        if status == 200 and dict(pairs).get("page") == "1" and "updated_since" not in dict(pairs):
            body["results"].insert(3, None)
        return status, body

    front(replay, api, spoil)
    new_york_bills(api, 1, "")
    monkeypatch.setenv("TRACKER_NOW", "2021-03-05T12:00:00Z")
    config = state_config(tmp_path, base, [QI_NY])
    store = Store(config.database_url)
    (report,) = run_crawls(config, store)
    assert len(report.errors) == 2, report.errors
    assert all("spider error" not in e for e in report.errors)
    assert stored(store, config) == EVERY - {"statebill:ny:2021-2022:a99903"}


def test_a_string_where_a_list_belongs_is_the_bill_s_one_line_not_its_characters(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """An action's `classification` sent as "passage", a bill's `subject` as "Civil rights": each
    bill is one error line, the other 23 stored. (Each string was read as its characters: seven
    kinds of action naming none the stages know, so a passage went unseen, and subjects "C", "i",
    "v"...; stored without a word.)"""
    api, base = serve_openstates(replay, keys={KEY}, per_minute=1000)

    def spoil(pairs: list[tuple[str, str]], status: int, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        for row in body.get("results", []):
            if row["identifier"] == "A 99903" and row.get("actions"):
                row["actions"][0]["classification"] = "passage"
            if row["identifier"] == "A 99904":
                row["subject"] = "Civil rights"
        return status, body

    front(replay, api, spoil)
    new_york_bills(api, 1, "")
    monkeypatch.setenv("TRACKER_NOW", "2021-03-05T12:00:00Z")
    config = state_config(tmp_path, base, [QI_NY])
    store = Store(config.database_url)
    (report,) = run_crawls(config, store)
    assert len(report.errors) == 2, report.errors
    assert all("not a list" in e for e in report.errors), report.errors
    assert stored(store, config) == EVERY - {"statebill:ny:2021-2022:a99903", "statebill:ny:2021-2022:a99904"}


def test_a_run_cut_short_by_a_fault_keeps_the_requests_it_spent(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fault no check foresaw raising in the bills' callback (here a bug put into the reading of a
    bill): what the run read is not kept, so the next run reads the query again, but the requests it
    sent still count against the day's budget of 3 (they would be sent again beyond it)."""
    api, base = serve_openstates(replay, keys={KEY}, per_minute=1000)
    new_york_bills(api, 1, "")
    monkeypatch.setenv("TRACKER_NOW", "2021-03-05T12:00:00Z")
    config = state_config(tmp_path, base, [QI_NY], daily_budget=3)
    store = Store(config.database_url)

    def a_bug(row: Any) -> Any:
        raise RuntimeError("a bug")

    before = api.count()
    with monkeypatch.context() as patched:
        patched.setattr(openstates_spider, "read_bill", a_bug)
        (failed,) = run_crawls(config, store)
    assert any("could not be processed" in e for e in failed.errors), failed.errors
    spent = api.count() - before
    assert spent >= 1
    before = api.count()
    run_crawls(config, store)
    assert api.count() - before <= 3 - spent  # the day's budget, what the cut-short run spent included
    monkeypatch.setenv("TRACKER_NOW", "2021-03-06T12:00:00Z")
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    assert stored(store, config) == EVERY  # read again: what the fault cut short was not counted read


def test_an_api_that_ignores_sort_loses_no_bill(tmp_path: Path, replay: ReplayServer,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The API answers newest first whatever `sort` says (its default, `updated_desc`): going on from
    the last bill of a page (`updated_since`) would skip every older bill, and the query's mark would
    say they were read. Every one of the 25 is stored."""
    api, base = serve_openstates(replay, keys={KEY}, per_minute=1000)
    front(replay, api, lambda pairs, status, body: (status, body),
          ask=lambda pairs: [(k, v) for k, v in pairs if k != "sort"])
    new_york_bills(api, 1, "")
    monkeypatch.setenv("TRACKER_NOW", "2021-03-05T12:00:00Z")
    config = state_config(tmp_path, base, [QI_NY])
    store = Store(config.database_url)
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    assert stored(store, config) == EVERY


def test_a_max_page_that_lies_costs_a_few_requests_not_the_days_budget(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every page says a million pages follow, and a page past the last is an empty 200 (not the real
    API's 404): the query ends at the first page that brings no bill not read already, one warning,
    within a handful of requests, every bill stored; the next run goes on from the last bill."""
    api, base = serve_openstates(replay, keys={KEY}, per_minute=1000)

    def lie(pairs: list[tuple[str, str]], status: int, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if status == 404:
            status, body = 200, {"results": [], "pagination": {"per_page": 20, "page": 0, "max_page": 0}}
        body["pagination"]["max_page"] = 1_000_000
        return status, body

    front(replay, api, lie)
    new_york_bills(api, 1, "")
    monkeypatch.setenv("TRACKER_NOW", "2021-03-05T12:00:00Z")
    config = state_config(tmp_path, base, [QI_NY])
    store = Store(config.database_url)
    (report,) = run_crawls(config, store)
    assert report.errors == []
    assert api.count("/bills") <= 4
    assert len(report.warnings) == 1 and "no bill" in report.warnings[0], report.warnings
    assert stored(store, config) == EVERY



def test_bills_updated_in_one_second_across_pages_are_all_read_without_a_warning(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """fiction: 45 New York bills updated in the same second (a bulk update). The next page asks
    from that second, so its first page repeats bills already read: no lie, and no reason to stop
    (the guard against a lying `max_page` did, with a warning, leaving 25 unread this run)."""
    api, base = serve_openstates(replay, keys={KEY}, per_minute=1000)
    front(replay, api, lambda pairs, status, body: (status, body))
    for n in range(1, 46):
        api.put_bill(fiction(99900 + n, f"Relates to body cameras ({n})", None, "2021-03-01T10:00:00+00:00")[0])
    api.touch("ny", "2021-03-01T11:00:00")
    monkeypatch.setenv("TRACKER_NOW", "2021-03-05T12:00:00Z")
    config = state_config(tmp_path, base, [QI_NY | {"id": "cams", "keywords": ["body cameras"]}])
    store = Store(config.database_url)
    (report,) = run_crawls(config, store)
    assert report.errors == [] and report.warnings == []
    assert stored(store, config) == {f"statebill:ny:2021-2022:a{99900 + n}" for n in range(1, 46)}


def test_a_null_among_the_jurisdictions_is_passed_over(tmp_path: Path, replay: ReplayServer,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """`/jurisdictions` with a `null` among its results: the other states are read as ever (it
    raised in the callback: a spider error, and not one bill asked)."""
    api, base = serve_openstates(replay, keys={KEY}, per_minute=1000)
    front(replay, api, lambda pairs, status, body: (status, {**body, "results": [None, *body["results"]]}),
          route="/jurisdictions")
    new_york_bills(api, 1, "")
    monkeypatch.setenv("TRACKER_NOW", "2021-03-05T12:00:00Z")
    config = state_config(tmp_path, base, [QI_NY])
    store = Store(config.database_url)
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    assert stored(store, config) == EVERY


def test_a_keyword_too_long_for_a_url_is_one_line_and_the_other_queries_go_on(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """A keyword of 2,500 characters (an operator pasted a paragraph): its request's URL is over
    Scrapy's URLLENGTH_LIMIT, which drops it with a line at INFO. The spider asks one request at
    a time, so nothing was asked after it and nothing read was stored, and the run said ok. Now it is
    one error line; the named bill's query goes on."""
    _api, base = serve_openstates(replay, keys={KEY}, per_minute=1000)
    monkeypatch.setenv("TRACKER_NOW", "2021-03-05T12:00:00Z")
    pasted = {**QI_NY, "keywords": ["qualified immunity " * 130]}
    config = state_config(tmp_path, base, [pasted, NAMED])
    store = Store(config.database_url)
    (report,) = run_crawls(config, store)
    assert len(report.errors) == 1 and "characters" in report.errors[0], report.errors
    assert stored(store, config) == {"statebill:co:2020a:sb217"}


def test_legislators_whose_max_page_lies_cost_a_few_requests(tmp_path: Path, replay: ReplayServer,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """`/people` says a million pages follow and answers every page with the same legislators: the
    state's legislators are read once (a page with no one new ends them), not until the day's budget
    is spent."""
    from alerting import write_config
    from test_state_bills import openstates

    from tracker.config import load_config

    api, base = serve_openstates(replay, keys={KEY}, per_minute=1000)

    def lie(pairs: list[tuple[str, str]], status: int, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if status == 404:
            status, body = 200, {"results": [], "pagination": {"per_page": 50, "page": 0, "max_page": 0}}
        body["pagination"]["max_page"] = 1_000_000
        return status, body

    front(replay, api, lie, ask=lambda pairs: [(k, "1") if k == "page" else (k, v) for k, v in pairs], route="/people")
    monkeypatch.setenv("TRACKER_NOW", "2020-06-12T15:00:00Z")
    path = write_config(tmp_path, bills=[NAMED], subscribers=[
        {"id": "denver", "notify": ["json://127.0.0.1:9/hook"], "state": "CO", "state_senate_district": 34}],
        extra="[crawl]\ndelay_seconds = 0\n" + "".join(line + "\n" for line in openstates(base).splitlines()
                                                        if not line.startswith("people_dir")))
    config = load_config(path, env={"OPENSTATES_API_KEY": KEY})
    store = Store(config.database_url)
    (report,) = run_crawls(config, store)
    assert api.count("/people") <= 3, api.count("/people")
    assert report.ok, report.errors
