"""When an agenda item already on a held Legistar meeting is news (a keyword added to a watch tells
the items it now matches) and to whom: never to a watch that just took the body up or is new (a
watch renamed, a body moved between campaigns), never for a past meeting read again months later,
never twice to one watch however many watches come to share the meeting. Real crawls against the
loopback Legistar API, as tests/test_legistar_cursor_faults.py does; each failed on the first form
of this rule (found by a review)."""

from __future__ import annotations

from pathlib import Path

import pytest
from statusjson import changes_json
from test_legistar import baseline_state
from test_legistar_cursor_faults import BOTH, HEARING, _owed, nyc_watches

from tracker.config import load_config
from tracker.crawl import run_crawls
from tracker.demo.legistar_api import LegistarApi
from tracker.demo.replay import ReplayServer
from tracker.store import Store

SAFETY = ["Committee on Public Safety"]

SUBSCRIBER = '[[subscribers]]\nid = "bo"\nnotify = ["json://127.0.0.1:9/"]\nfollow = ["crisis"]\n'


def _items(store: Store) -> list[tuple[str, str, list[str], str | None]]:
    """(meeting, item title, keywords, the watches it is told to) of each item told."""
    return [(c["entity"], c["data"]["title"], c["data"]["keywords"], ",".join(sorted(c["data"].get("watches") or [])) or None)
            for c in changes_json(store) if c["kind"] == "agenda.item_added"]


def test_a_body_moved_from_one_campaign_to_another_brings_no_old_items(
        tmp_path: Path, replay: ReplayServer, legistar: LegistarApi, monkeypatch: pytest.MonkeyPatch) -> None:
    """One config edit moves the Public Safety committee from "safety" (ShotSpotter) to "crisis"
    (City Council, "mental health"): "crisis" alone holds the hearing now (one holder, no
    `watches`). The hearing's item on mental health was on the agenda long before "crisis" took
    the body up: no news to it, as the multi-holder case (test_a_body_taken_up_by_a_second_watch_
    brings_no_old_items) and a body taken up with no other holder (a baseline) are not."""
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T12:00:00Z")
    baseline_state(legistar)
    path = nyc_watches(tmp_path, replay, ("crisis", ["City Council"], ["mental health"]),
                       ("safety", SAFETY, ["ShotSpotter"]))
    path.write_text(path.read_text() + SUBSCRIBER)
    store = Store(load_config(path, env={}).database_url)
    assert all(r.ok for r in run_crawls(load_config(path, env={}), store)) and changes_json(store) == []

    path = nyc_watches(tmp_path, replay, ("crisis", BOTH, ["mental health"]),
                       ("safety", ["Committee on Finance"], ["ShotSpotter"]))
    path.write_text(path.read_text() + SUBSCRIBER)
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T13:00:00Z")
    assert all(r.ok for r in run_crawls(load_config(path, env={}), store))
    assert _items(store) == []
    assert _owed(store, "bo") == []


def test_a_watch_renamed_with_a_keyword_more_brings_no_old_items(
        tmp_path: Path, replay: ReplayServer, legistar: LegistarApi, monkeypatch: pytest.MonkeyPatch) -> None:
    """The campaign "safety" is replaced by "crisis" (a new id, the same committee, a keyword
    more): a new watch, with no baseline. The old watch's links stay (no run unlinks a watch taken
    out of the config), so the hearing is not taken for a body followed again, and the one-holder
    record is diffed against the old watch's matches: its item on mental health is sent to the new
    campaign as news. A scoped change to a new watch is dropped (`_held_before`); this one is not."""
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T12:00:00Z")
    baseline_state(legistar)
    store = Store(load_config(nyc_watches(tmp_path, replay, ("safety", SAFETY, ["ShotSpotter"])), env={}).database_url)
    config = load_config(nyc_watches(tmp_path, replay, ("safety", SAFETY, ["ShotSpotter"])), env={})
    assert all(r.ok for r in run_crawls(config, store)) and changes_json(store) == []

    path = nyc_watches(tmp_path, replay, ("crisis", SAFETY, ["ShotSpotter", "mental health"]))
    path.write_text(path.read_text() + SUBSCRIBER)
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T13:00:00Z")
    assert all(r.ok for r in run_crawls(load_config(path, env={}), store))
    assert _items(store) == []
    assert _owed(store, "bo") == []


def test_a_held_meeting_read_again_for_its_minutes_months_later_is_not_told_as_an_item_added(
        tmp_path: Path, replay: ReplayServer, legistar: LegistarApi, monkeypatch: pytest.MonkeyPatch) -> None:
    """The June 26 hearing is held; in August the watch adds "mental health" (the hearing, out of
    the window, is not read then). In September its minutes are posted: the listing shows it again,
    its items are read with the new keyword, and its item of June is told as "agenda item added",
    ten weeks after the meeting, triggered by the minutes. News is the minutes alone."""
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T12:00:00Z")
    baseline_state(legistar)
    nyc = legistar.client("nyc")
    hearing = nyc.events[20111]
    hearing.update(EventMinutesFile=None, EventMinutesLastPublishedUTC=None, EventMinutesStatusName="Draft",
                   EventLastModifiedUtc="2023-05-20T10:00:00", EventAgendaLastPublishedUTC="2023-05-20T10:00:00")
    config = load_config(nyc_watches(tmp_path, replay, ("safety", SAFETY, ["ShotSpotter"])), env={})
    store = Store(config.database_url)
    assert all(r.ok for r in run_crawls(config, store)) and changes_json(store) == []
    monkeypatch.setenv("TRACKER_NOW", "2023-08-14T12:00:00Z")  # the hourly runs of the summer: quiet for the hearing
    assert all(r.ok for r in run_crawls(config, store))
    before = {c["id"] for c in changes_json(store)}

    config = load_config(nyc_watches(tmp_path, replay, ("safety", SAFETY, ["ShotSpotter", "mental health"])), env={})
    monkeypatch.setenv("TRACKER_NOW", "2023-08-15T12:00:00Z")
    assert all(r.ok for r in run_crawls(config, store))
    assert [c for c in changes_json(store) if c["id"] not in before and c["entity"] == HEARING] == []

    hearing.update(EventMinutesFile="https://nyc.legistar1.com/nyc/meetings/2023/6/20111_M.pdf",
                   EventMinutesLastPublishedUTC="2023-09-02T10:00:00", EventMinutesStatusName="Final",
                   EventLastModifiedUtc="2023-09-02T10:00:00")
    monkeypatch.setenv("TRACKER_NOW", "2023-09-03T12:00:00Z")
    assert all(r.ok for r in run_crawls(config, store))
    told = [(c["kind"], c["summary"]) for c in changes_json(store) if c["id"] not in before and c["entity"] == HEARING]
    assert [kind for kind, _ in told] == ["meeting.minutes_posted"], told


def test_an_item_told_before_two_watches_shared_the_meeting_is_not_told_again(
        tmp_path: Path, replay: ReplayServer, legistar: LegistarApi, monkeypatch: pytest.MonkeyPatch) -> None:
    """"safety" adds "mental health": the hearing's item is told to it. A second campaign takes up
    the committee. "safety" drops "mental health" and takes it back: not told again (it was told
    to "safety" when one watch held the meeting; the keys then named no watch, and once two held it
    they did, so it was told twice)."""
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T12:00:00Z")
    baseline_state(legistar)

    def run(hour: int, *watches: tuple[str, list[str], list[str]]) -> None:
        config = load_config(nyc_watches(tmp_path, replay, *watches), env={})
        monkeypatch.setenv("TRACKER_NOW", f"2023-06-01T{hour:02d}:00:00Z")
        assert all(r.ok for r in run_crawls(config, Store(config.database_url)))

    run(12, ("safety", SAFETY, ["ShotSpotter"]))
    run(13, ("safety", SAFETY, ["ShotSpotter", "mental health"]))
    config = load_config(nyc_watches(tmp_path, replay, ("safety", SAFETY, ["ShotSpotter"])), env={})
    store = Store(config.database_url)
    assert [(e, k) for e, _, k, _ in _items(store)] == [(HEARING, ["mental health"])]
    run(14, ("safety", SAFETY, ["ShotSpotter", "mental health"]), ("budget", SAFETY, ["budget"]))
    run(15, ("safety", SAFETY, ["ShotSpotter"]), ("budget", SAFETY, ["budget"]))
    run(16, ("safety", SAFETY, ["ShotSpotter", "mental health"]), ("budget", SAFETY, ["budget"]))
    assert [(e, k) for e, _, k, _ in _items(store)] == [(HEARING, ["mental health"])]


def _on(path: Path, db_url: str) -> Path:
    path.write_text(f'[storage]\nurl = "{db_url}"\n' + path.read_text())
    return path


def test_on_both_backends_keyword_added_told_once_and_a_new_watch_only_its_later_items(
        tmp_path: Path, replay: ReplayServer, legistar: LegistarApi, monkeypatch: pytest.MonkeyPatch,
        db_url: str) -> None:
    """On SQLite and PostgreSQL, in one run that both adds a keyword to a
    held watch and brings in a new one: the keyword's match is told to its watch once; the new
    watch (links made in this run, no baseline) is told nothing old, then its own later item."""
    from sqlalchemy import select

    from tracker import models as m

    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T12:00:00Z")
    baseline_state(legistar)
    path = _on(nyc_watches(tmp_path, replay, ("safety", SAFETY, ["ShotSpotter"]), ("budget", SAFETY, ["budget"])),
               db_url)
    config = load_config(path, env={})
    store = Store(config.database_url)
    assert all(r.ok for r in run_crawls(config, store)) and changes_json(store) == []

    path = _on(nyc_watches(tmp_path, replay, ("safety", SAFETY, ["ShotSpotter", "mental health"]),
                           ("budget", SAFETY, ["budget"]), ("crisis", SAFETY, ["mental health"])), db_url)
    path.write_text(path.read_text() + SUBSCRIBER)
    config = load_config(path, env={})
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T13:00:00Z")
    assert all(r.ok for r in run_crawls(config, store))
    assert [(e, k, w) for e, _, k, w in _items(store)] == [(HEARING, ["mental health"], "safety")]
    assert _owed(store, "bo") == []
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T14:00:00Z")
    assert all(r.ok for r in run_crawls(config, store))
    assert len(_items(store)) == 1

    from test_legistar import derived_item
    nyc = legistar.client("nyc")
    nyc.events[20111]["EventLastModifiedUtc"] = "2023-06-01T14:30:00"
    nyc.eventitems[20111] = [*nyc.eventitems[20111],
                             derived_item(900006, "Mental health crisis teams", "Committee", 5) | {"EventItemMatterId": None}]
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T15:00:00Z")
    assert all(r.ok for r in run_crawls(config, store))
    assert sorted((w, t) for _, t, _, w in _items(store)) == [
        ("crisis,safety", "Mental health crisis teams"),
        ("safety", "Oversight - NYPD Response to Mental Health Crises")]
    assert [s for _, s in _owed(store, "bo")] == [
        "Committee on Public Safety on Mon Jun 26, 10:00 AM: Mental health crisis teams (mental health)"]
    with store.session() as session:
        assert session.scalar(select(m.Watch.baseline_at).where(m.Watch.id == "crisis")) is not None


def test_an_item_that_stops_and_starts_matching_or_whose_keywords_grow_is_told_once(
        tmp_path: Path, replay: ReplayServer, legistar: LegistarApi, monkeypatch: pytest.MonkeyPatch) -> None:
    """One holder: the keyword added tells the item; its title edited so it matches
    nothing, then back: not told again (the same key); a keyword more it also matches, or the
    keywords reordered: not told. Two holders: the same for the watch's own item."""
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T12:00:00Z")
    baseline_state(legistar)
    nyc = legistar.client("nyc")
    title = nyc.eventitems[20111][0]["EventItemTitle"]
    hour = 12

    def run(*watches: tuple[str, list[str], list[str]], retitle: str | None = None) -> Store:
        nonlocal hour
        if retitle is not None:
            row = nyc.eventitems[20111][0]
            row.update(EventItemTitle=retitle, EventItemMatterName=retitle)
            nyc.events[20111]["EventLastModifiedUtc"] = f"2023-06-01T{hour - 1:02d}:30:00"
        config = load_config(nyc_watches(tmp_path, replay, *watches), env={})
        monkeypatch.setenv("TRACKER_NOW", f"2023-06-01T{hour:02d}:00:00Z")
        hour += 1
        store = Store(config.database_url)
        assert all(r.ok for r in run_crawls(config, store))
        return store

    for others in ((), (("budget", SAFETY, ["budget"]),)):
        hour = 12 if not others else hour
        run(("safety", SAFETY, ["ShotSpotter"]), *others)
        store = run(("safety", SAFETY, ["ShotSpotter", "mental health"]), *others)
        told = len(_items(store))
        run(("safety", SAFETY, ["ShotSpotter", "mental health"]), *others, retitle="Oversight - NYPD staffing")
        run(("safety", SAFETY, ["ShotSpotter", "mental health"]), *others, retitle=title)
        run(("safety", SAFETY, ["mental health", "ShotSpotter", "NYPD"]), *others)
        store = run(("safety", SAFETY, ["NYPD", "mental health"]), *others)
        assert len(_items(store)) == told
