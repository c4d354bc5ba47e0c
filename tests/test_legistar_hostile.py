"""A Legistar Web API that breaks its own contract: the loopback API (tracker/demo/legistar_api.py)
behind a rewriting front that puts a `null` among an answer's rows, gives a field the wrong type, or
ignores `$skip`. Real crawls (`run_crawls`) through the real engine, of NYC's calendar as
`test_legistar.baseline_state` derives it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from statusjson import status_json
from test_legistar import baseline_state, shifted_ics, write_config

from tracker.config import Config, load_config
from tracker.crawl import run_crawls
from tracker.demo.legistar_api import LegistarApi
from tracker.demo.replay import ReplayServer
from tracker.store import Store

NYC = "meeting:legistar:nyc:"
EVERY = {NYC + str(n) for n in (20058, 20099, 20107, 20111, 20115, 20152, 20178, 20180, 20188, 20203, 20216,
                                20232, 20262, 20272, 20330, 20362)}
Rewrite = Callable[[str, dict[str, str], Any], Any]


class Query(dict[str, str]):
    """A query as the fake reads it, rewritten (`ask`)."""


def front(replay: ReplayServer, api: LegistarApi, rewrite: Rewrite,
          ask: Callable[[str, dict[str, str]], dict[str, str]] = lambda path, query: query) -> list[str]:
    """Every `/v1` request answered by the fake, its JSON then rewritten (`rewrite(path, query,
    data)`); `ask` rewrites the query first. Returns the log of paths asked."""
    asked: list[str] = []

    def upstream(path: str, query: Any, headers: Any) -> Any:
        asked.append(path)
        query = Query(ask(path, dict(query.items())))
        status, body, kind = api(path, query, headers)
        if status == 200:
            body = json.dumps(rewrite(path, query, json.loads(body))).encode()
        return status, body, kind

    replay.mount("/v1", upstream)
    return asked


def crawl(tmp_path: Path, replay: ReplayServer, api: LegistarApi, monkeypatch: pytest.MonkeyPatch) -> tuple[Config, Store, Any]:
    """The NYC baseline crawled once on 1 June 2023 (the Detroit feed beside it)."""
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T12:00:00Z")
    baseline_state(api)
    replay.add("/detroit.ics", shifted_ics())
    config = load_config(write_config(tmp_path, replay), env={})
    store = Store(config.database_url)
    report = next(r for r in run_crawls(config, store) if r.source_id == "legistar:nyc-council")
    return config, store, report


def meetings(store: Store, config: Config) -> set[str]:
    return {m["entity"] for m in status_json(store, config)["meetings"] if m["entity"].startswith(NYC)}


def test_a_null_among_the_events_is_passed_over(tmp_path: Path, replay: ReplayServer,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """`events` with a `null` among its rows: every meeting is stored (it raised in the callback:
    nothing after it was read, and the listing said complete)."""
    api = LegistarApi("/v1")

    def spoil(path: str, query: dict[str, str], data: Any) -> Any:
        return [None, *data] if path.endswith("/events") else data

    front(replay, api, spoil)
    config, store, report = crawl(tmp_path, replay, api, monkeypatch)
    assert all("spider error" not in e for e in report.errors), report.errors
    assert meetings(store, config) == EVERY


def test_an_event_whose_body_id_is_not_a_number_is_one_line(tmp_path: Path, replay: ReplayServer,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Meeting 20058's `EventBodyId` is text, not a number: one line for it, the others stored (its
    `int()` raised in the callback, ending the listing there)."""
    api = LegistarApi("/v1")

    def spoil(path: str, query: dict[str, str], data: Any) -> Any:
        if path.endswith("/events"):
            for event in data:
                if event["EventId"] == 20058:
                    event["EventBodyId"] = "council"
        return data

    front(replay, api, spoil)
    config, store, report = crawl(tmp_path, replay, api, monkeypatch)
    assert all("spider error" not in e for e in report.errors), report.errors
    assert meetings(store, config) >= EVERY - {NYC + "20058"}


def test_agenda_items_with_a_null_and_a_sequence_as_text_keep_the_meeting(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """20111's `eventitems` with a `null` row; 20099's with a sequence given as text beside a number
    (sorting them raised): each meeting is stored all the same, with a line for its items."""
    api = LegistarApi("/v1")

    def spoil(path: str, query: dict[str, str], data: Any) -> Any:
        if path.endswith("/20111/eventitems"):
            return [None, *data]
        if path.endswith("/20099/eventitems"):
            return [{"EventItemId": 1, "EventItemAgendaSequence": 1},
                    {"EventItemId": 2, "EventItemAgendaSequence": "2"}]
        return data

    front(replay, api, spoil)
    config, store, report = crawl(tmp_path, replay, api, monkeypatch)
    assert all("spider error" not in e for e in report.errors), report.errors
    assert meetings(store, config) == EVERY


def test_a_history_with_a_null_and_a_date_as_a_number_is_one_line(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Matter 17071's history with a `null` row and a date given as a number: one error line each
    run it is asked for, never a spider error; the matter is followed (asked again)."""
    api = LegistarApi("/v1")

    def spoil(path: str, query: dict[str, str], data: Any) -> Any:
        if path.endswith("/histories"):
            return [None, {**data[0], "MatterHistoryActionDate": 20230601}, *data]
        return data

    front(replay, api, spoil)
    config, store, report = crawl(tmp_path, replay, api, monkeypatch)
    assert all("spider error" not in e for e in report.errors), report.errors
    assert any("history of matter 17071" in e for e in report.errors), report.errors
    assert meetings(store, config) == EVERY


def test_an_api_that_ignores_skip_ends_within_a_few_requests(tmp_path: Path, replay: ReplayServer,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """The API ignores `$skip` and every page is full (the calendar's events, padded to 1,000 rows
    with repeats): the same page forever. The listing ends at the first page that brings no event
    not read already, with a warning; every meeting is stored, and the listing is not called
    complete."""
    api = LegistarApi("/v1")

    def full(path: str, query: dict[str, str], data: Any) -> Any:
        if path.endswith("/events") and data:
            data = (data * (1000 // len(data) + 1))[:1000]
        return data

    asked = front(replay, api, full, ask=lambda path, query: {k: v for k, v in query.items() if k != "$skip"})
    config, store, report = crawl(tmp_path, replay, api, monkeypatch)
    listings = [p for p in asked if p.endswith("/events")]
    assert len(listings) <= 3, len(listings)
    assert report.errors == []
    assert len(report.warnings) == 1 and "events listing" in report.warnings[0], report.warnings
    assert not report.complete_listing
    assert meetings(store, config) == EVERY


def test_an_event_time_and_an_agenda_status_as_numbers_are_one_line_each(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """20058's `EventTime` and 20099's `EventAgendaStatusName` are numbers: reading them raised
    AttributeError, which `_meeting` did not catch (a spider error, the listing's later meetings
    unread). One line each; the others stored."""
    api = LegistarApi("/v1")

    def spoil(path: str, query: dict[str, str], data: Any) -> Any:
        if path.endswith("/events"):
            for event in data:
                if event["EventId"] == 20058:
                    event["EventTime"] = 1000
                if event["EventId"] == 20099:
                    event["EventAgendaStatusName"] = 2
        return data

    front(replay, api, spoil)
    config, store, report = crawl(tmp_path, replay, api, monkeypatch)
    assert all("spider error" not in e for e in report.errors), report.errors
    assert sorted(e.split(": ")[1] for e in report.errors) == ["meeting 20058", "meeting 20099"], report.errors
    assert meetings(store, config) == EVERY - {NYC + "20058", NYC + "20099"}


def test_a_null_among_the_office_records_is_passed_over(tmp_path: Path, replay: ReplayServer,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Body 1's office records with a `null` row: the roster is stored from the others (it raised
    in the callback: no roster, a spider error)."""
    from tracker import models as m

    api = LegistarApi("/v1")

    def spoil(path: str, query: dict[str, str], data: Any) -> Any:
        if path.endswith("/bodies/1/officerecords"):
            return [None, {"OfficeRecordFullName": "Adrienne Adams", "OfficeRecordTitle": "Speaker"}]
        return data

    front(replay, api, spoil)
    _config, store, report = crawl(tmp_path, replay, api, monkeypatch)
    assert all("spider error" not in e for e in report.errors), report.errors
    with store.session() as session:
        assert session.get(m.Entity, "body:legistar:nyc:1") is not None


def test_an_api_whose_every_page_is_full_of_new_events_is_bounded(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every page is full and brings new ids (a fault that makes them up, or a filter ignored on a
    huge client): the listing ends after `MAX_LISTING_PAGES` pages with a warning, not complete."""
    from spiders.legistar import MAX_LISTING_PAGES

    api = LegistarApi("/v1")

    def endless(path: str, query: dict[str, str], data: Any) -> Any:
        if path.endswith("/events"):
            skip = int(query.get("$skip", "0"))
            template = {"EventBodyName": "Committee on Finance", "EventBodyId": 7, "EventDate": "2010-01-01T00:00:00"}
            data = [template | {"EventId": 10_000_000 + skip + n} for n in range(1000)]
        return data

    asked = front(replay, api, endless)
    monkeypatch.setattr("spiders.legistar.MAX_LISTING_PAGES", 3)
    _config, _store, report = crawl(tmp_path, replay, api, monkeypatch)
    assert MAX_LISTING_PAGES >= 20
    assert len([p for p in asked if p.endswith("/events")]) == 3
    assert len(report.warnings) == 1 and "events listing" in report.warnings[0], report.warnings
    assert not report.complete_listing
