"""Campaigns sharing a Legistar meeting across config edits and in what each is sent: a watch taken
out of the config for a run and put back is not told its old items; a bundle files an item
matching two campaigns under the one its subscriber follows, and its alert names only that
campaign's keywords; records stored before items named their watches bring no flood. Real crawls
against the loopback Legistar API; each but the last failed on the code before its fix (found by a
review)."""

from __future__ import annotations

from pathlib import Path

import pytest
from statusjson import changes_json
from test_legistar import KEYWORDS, baseline_state
from test_legistar_cursor_faults import _owed, nyc_watches
from test_legistar_shared_meetings import HEARING, SAFETY, sub, two_campaigns

from tracker import models as m
from tracker.alerts.render import render_group
from tracker.config import load_config
from tracker.crawl import run_crawls
from tracker.demo.legistar_api import LegistarApi
from tracker.demo.replay import ReplayServer
from tracker.outbox import close_bundles
from tracker.store import Store

# -- 1. a watch taken out of the config for a run and put back: its old items told as news ---------

def test_a_watch_put_back_in_the_config_is_not_told_its_old_items(
        tmp_path: Path, replay: ReplayServer, legistar: LegistarApi, monkeypatch: pytest.MonkeyPatch) -> None:
    """"safety" and "crisis" both watch the Public Safety committee; the June 26 hearing's item on
    mental health matches "crisis" from the start (a baseline: never news). "crisis" is commented
    out of the config for one run, then put back unchanged. Nothing happened on the agenda, yet the
    old item is told to "crisis" (and its subscriber) as "agenda item added": while it was out,
    "safety"'s crawl re-stored the hearing with items naming "safety" only; once back, "crisis" is
    missing from the old item's `watches`, which `newly_matching` takes for "did not match before",
    and `_held_before` lets it through (the removed watch's links and baseline were never taken
    away). With one holder the same round trip tells nothing (the record does not change)."""
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T12:00:00Z")
    baseline_state(legistar)
    subscriber = '[[subscribers]]\nid = "bo"\nnotify = ["json://127.0.0.1:9/"]\nfollow = ["crisis"]\n'

    def run(hour: int, *watches: tuple[str, list[str], list[str]]) -> Store:
        path = nyc_watches(tmp_path, replay, *watches)
        if any(watch_id == "crisis" for watch_id, _, _ in watches):  # (a follow must name a watch of the config)
            path.write_text(path.read_text() + subscriber)
        config = load_config(path, env={})
        monkeypatch.setenv("TRACKER_NOW", f"2023-06-01T{hour:02d}:00:00Z")
        store = Store(config.database_url)
        assert all(r.ok for r in run_crawls(config, store))
        return store

    both = (("safety", SAFETY, ["ShotSpotter"]), ("crisis", SAFETY, ["mental health"]))
    store = run(12, *both)
    assert changes_json(store) == []
    run(13, both[0])  # "crisis" commented out for a run
    store = run(14, *both)  # and put back as it was
    told = [(c["entity"], c["data"]["title"]) for c in changes_json(store) if c["kind"] == "agenda.item_added"]
    assert _owed(store, "bo") == [], (told, _owed(store, "bo"))
    assert told == [], told


def test_a_lone_watch_put_back_in_the_config_is_not_told_its_old_items(
        tmp_path: Path, replay: ReplayServer, legistar: LegistarApi, monkeypatch: pytest.MonkeyPatch) -> None:
    """The control: the same round trip with "crisis" the only watch of the committee (and "safety"
    on another body) tells nothing. Passes."""
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T12:00:00Z")
    baseline_state(legistar)

    def run(hour: int, *watches: tuple[str, list[str], list[str]]) -> Store:
        config = load_config(nyc_watches(tmp_path, replay, *watches), env={})
        monkeypatch.setenv("TRACKER_NOW", f"2023-06-01T{hour:02d}:00:00Z")
        store = Store(config.database_url)
        assert all(r.ok for r in run_crawls(config, store))
        return store

    both = (("safety", ["Committee on Finance"], ["ShotSpotter"]), ("crisis", SAFETY, ["mental health"]))
    run(12, *both)
    run(13, both[0])
    store = run(14, *both)
    assert [c for c in changes_json(store) if c["kind"] == "agenda.item_added"] == []


# -- 2. a daily bundle files an item matching both campaigns under the one its subscriber does not follow

def test_a_bundle_files_a_shared_item_under_the_campaign_its_subscriber_follows(
        tmp_path: Path, replay: ReplayServer, legistar: LegistarApi, monkeypatch: pytest.MonkeyPatch) -> None:
    """"NYPD budget overview" matches both campaigns: one change, data "watches" naming both, its
    row's watch the smaller id ("budget": `store._record_changes` takes `min(told_to(...))`). Ana
    follows "safety" only and takes a daily bundle: it is owed to her (right), but the bundle
    groups changes by the row's watch (`render._bundle_groups`), so her digest files it under
    "== NYC budget ==", a campaign she does not follow. The instant message names the campaign from
    `_shown` (fixed by 41bf7ca); the bundle does not."""
    config, store = two_campaigns(tmp_path, replay, legistar, monkeypatch, sub("ana", ["safety"], 'mode = "daily"\n'),
                                  (900006, "NYPD budget overview"))
    assert [c["data"].get("watches") for c in changes_json(store)] == [{"budget": ["budget"], "safety": ["NYPD"]}]
    monkeypatch.setenv("TRACKER_NOW", "2023-06-02T23:00:00Z")
    assert close_bundles(store, config) == 1
    from sqlalchemy import select

    with store.session() as session:
        rows = session.scalars(select(m.Delivery).where(m.Delivery.subscriber_id == "ana")).all()
        message = render_group(session, list(rows), config)
    assert "NYPD budget overview" in message.body
    assert "== NYC safety ==" in message.body and "== NYC budget ==" not in message.body, message.body


# -- 4. an item matching both campaigns: its alert to a follower of one names the other's keyword ----

def test_an_alert_of_a_shared_item_names_only_the_followed_campaigns_keywords(
        tmp_path: Path, replay: ReplayServer, legistar: LegistarApi, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ana follows "safety" (NYPD, police...) only. "NYPD budget overview" matches both campaigns:
    one change whose summary and keywords are the union ("budget, NYPD"), and her alert's title and
    change line say the item is on the agenda for "budget", the other campaign's keyword, though
    its agenda lines (`_shown`) name only "NYPD"."""
    config, store = two_campaigns(tmp_path, replay, legistar, monkeypatch, sub("ana", ["safety"]),
                                  (900006, "NYPD budget overview"))
    from test_legistar_shared_meetings import instant_message

    message = instant_message(store, config, "ana")
    assert "On its agenda (NYPD): NYPD budget overview" in message.body
    assert "(budget, NYPD)" not in message.body and "budget" not in message.title.replace("NYPD budget overview", ""), (
        message.title, message.body)


# -- checked and fine: records stored before items named their watches bring no flood ----------------

@pytest.mark.parametrize("watches", [(("safety", SAFETY, [*KEYWORDS, "mental health"]),),
                                     (("safety", SAFETY, KEYWORDS), ("crisis", SAFETY, ["mental health"]))])
def test_records_stored_before_items_named_their_watches_bring_no_flood(
        tmp_path: Path, replay: ReplayServer, legistar: LegistarApi, monkeypatch: pytest.MonkeyPatch,
        watches: tuple[tuple[str, list[str], list[str]], ...]) -> None:
    """The hearing's record as the previous version stored it (items without `watches`, the
    keywords of whichever watch stored last), re-read (its fingerprint changed): no item is told.
    Passes."""
    from test_legistar_cursor_faults import rewrite_snapshot

    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T12:00:00Z")
    baseline_state(legistar)
    config = load_config(nyc_watches(tmp_path, replay, *watches), env={})
    store = Store(config.database_url)
    assert all(r.ok for r in run_crawls(config, store)) and changes_json(store) == []

    def old_form(content: dict) -> None:
        for item in content["items"]:
            words = item.pop("watches")
            item["keywords"] = words[watches[-1][0]]

    rewrite_snapshot(store, HEARING, old_form)
    legistar.client("nyc").events[20111]["EventLastModifiedUtc"] = "2023-06-01T12:30:00"
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T13:00:00Z")
    assert all(r.ok for r in run_crawls(config, store))
    assert [c for c in changes_json(store) if c["kind"] == "agenda.item_added"] == []


def test_a_change_as_told_is_a_transient_copy(tmp_path: Path) -> None:
    """`_as_told` builds a copy with the stored row's primary key: never in the session, the row
    still the one `session.get` and a query answer, nothing dirty, the row unchanged after a flush."""
    from datetime import UTC, datetime

    from sqlalchemy import inspect, select

    from tracker import models as m
    from tracker.alerts.render import _as_told
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    now = datetime.now(UTC)
    data = {"keywords": ["budget", "parks"], "watches": {"a": ["budget"], "b": ["parks"]}}
    with store.session() as session:
        session.add(m.Entity(key="meeting:x:1", kind="meeting", source_id="x", first_seen=now, last_seen=now))
        session.flush()
        session.add(m.Change(id=7, dedupe_key="d", kind="agenda.item_added", entity_key="meeting:x:1", watch_id="a",
                             summary="Item (budget, parks)", data=data, detected_at=now))
        session.commit()
    with store.session() as session:
        row = session.get(m.Change, 7)
        copy = _as_told(row, ["b"])
        assert copy is not row and inspect(copy).transient
        assert (copy.summary, copy.watch_id, copy.data["keywords"]) == ("Item (parks)", "b", ["parks"])
        assert session.get(m.Change, 7) is row and session.scalars(select(m.Change)).one() is row
        assert not session.dirty and not session.new
        session.commit()
    with store.session() as session:
        row = session.get(m.Change, 7)
        assert (row.summary, row.watch_id, row.data) == ("Item (budget, parks)", "a", data)
