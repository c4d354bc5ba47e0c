"""A state bill watch whose config changes lets go of the bills it no longer holds, as a federal
one does (tracker/runs.py `_let_go_of_bills`, `StateBillRule`): a number taken out, a state or a
keyword removed. Such a bill leaves the watch's status and the alerts of its subscribers; another
watch still holding it keeps it; put back, the watch holds it again without an alert. Real crawls
(`run_crawls`) against the loopback Open States API v3 (tracker/demo/openstates_api.py) holding
the recorded `baseline` state; the later actions the tests add are fiction, labelled so."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from alerting import write_config
from recorded import serve_openstates
from sqlalchemy import select
from statusjson import changes_json
from test_openstates_cursor_faults import rewrite_cursor, watches_of
from test_state_bills import KEY, RECORDED, openstates

from tracker import models as m
from tracker.config import Config, load_config
from tracker.crawl import run_crawls
from tracker.demo.openstates_api import OpenStatesApi
from tracker.demo.replay import ReplayServer
from tracker.store import Store

A99901 = "statebill:ny:2021-2022:a99901"  # "Provides that Qualified Immunity shall not be a defense ... police officers"
S99902 = "statebill:ny:2021-2022:s99902"  # "... qualified volunteer emergency responders"
HB99903 = "statebill:va:2020s1:hb99903"  # its abstract: "qualified immunity is not a defense"
HOOK = "json://127.0.0.1:9/hook"  # never sent to: the tests read the outbox


def config_of(tmp_path: Path, base: str, *watches: dict[str, Any]) -> Config:
    """The watches, each followed by its own subscriber (`ana` follows `mine`, `bob` `keeper`)."""
    subscribers = [{"id": {"mine": "ana", "keeper": "bob"}[w["id"]], "notify": [HOOK], "follow": [w["id"]]}
                   for w in watches]
    path = write_config(tmp_path, bills=list(watches), subscribers=subscribers,
                        extra="[crawl]\ndelay_seconds = 0\n" + openstates(base))
    return load_config(path, env={"OPENSTATES_API_KEY": KEY})


def named(watch_id: str, *numbers: str) -> dict[str, Any]:
    return {"id": watch_id, "name": watch_id, "state": "ny", "session": "2021-2022", "numbers": list(numbers)}


def searching(watch_id: str, states: list[str], *keywords: str) -> dict[str, Any]:
    return {"id": watch_id, "name": watch_id, "states": states, "keywords": list(keywords)}


def crawl(config: Config, store: Store, monkeypatch: pytest.MonkeyPatch, now: str) -> None:
    monkeypatch.setenv("TRACKER_NOW", now)
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors


def move(api: OpenStatesApi, entity: str, when: str) -> None:
    """fiction: the recorded bill gains an action on `when`'s day, and its state's latest update."""
    identifier = entity.rsplit(":", 1)[1].upper()
    (bill,) = [b for b in RECORDED["baseline"]["bills"] if b["identifier"].replace(" ", "") == identifier]
    bill = copy.deepcopy(bill)
    action = copy.deepcopy(bill["actions"][-1])
    action.update(id=f"fiction-{identifier}-{when}", description="amended and recommitted", date=when[:10],
                  classification=[], order=len(bill["actions"]))
    bill["actions"].append(action)
    bill["updated_at"] = when
    api.put_bill(bill)
    api.touch(entity.split(":")[1], when.removesuffix("+00:00"))


def store_cursor(store: Store) -> dict[str, Any]:
    with store.session() as session:
        state = session.get(m.SourceState, "openstates")
        assert state is not None
        return dict(state.cursor)


def alerted(store: Store, subscriber: str, entity: str) -> int:
    """Outbox rows owed to `subscriber` about `entity`'s changes."""
    with store.session() as session:
        return len(session.scalars(
            select(m.Delivery.id).join(m.Change, m.Change.id == m.Delivery.change_id)
            .where(m.Delivery.subscriber_id == subscriber, m.Change.entity_key == entity)).all())


@pytest.fixture
def api_and_base(replay: ReplayServer) -> tuple[OpenStatesApi, str]:
    return serve_openstates(replay, keys={KEY}, per_minute=1000)


def test_a_bill_taken_out_of_a_watchs_numbers_leaves_it_and_comes_back_named_again(
        tmp_path: Path, api_and_base: tuple[OpenStatesApi, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """S 99902 taken out of `mine`'s numbers leaves it (its status; its next change is told to
    `keeper`'s subscriber, who still names it, not to `mine`'s); named again, `mine` holds it at
    once, with no alert."""
    api, base = api_and_base
    both = config_of(tmp_path, base, named("mine", "A 99901", "S 99902"), named("keeper", "S 99902"))
    store = Store(both.database_url)
    crawl(both, store, monkeypatch, "2021-03-05T12:00:00Z")
    assert watches_of(store, both, S99902) == {"mine", "keeper"}

    config = config_of(tmp_path, base, named("mine", "A 99901"), named("keeper", "S 99902"))
    crawl(config, store, monkeypatch, "2021-03-05T13:00:00Z")
    assert watches_of(store, config, S99902) == {"keeper"}
    assert watches_of(store, config, A99901) == {"mine"}

    move(api, S99902, "2021-03-08T10:00:00+00:00")
    crawl(config, store, monkeypatch, "2021-03-08T12:00:00Z")
    assert alerted(store, "bob", S99902) == 1
    assert alerted(store, "ana", S99902) == 0

    news = len(changes_json(store))
    crawl(both, store, monkeypatch, "2021-03-08T13:00:00Z")
    assert watches_of(store, both, S99902) == {"mine", "keeper"}
    assert len(changes_json(store)) == news
    assert alerted(store, "ana", S99902) == 0


def test_a_state_taken_out_of_a_keyword_watch_lets_go_of_its_bills(
        tmp_path: Path, api_and_base: tuple[OpenStatesApi, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """"qualified immunity" searched in New York and Virginia finds A 99901 (its title) and HB 99903
    (its abstract); Virginia taken out, HB 99903 leaves the watch and A 99901 stays; put back, the
    Virginia query is read whole again and HB 99903 is back, a baseline, not news."""
    _api, base = api_and_base
    both = config_of(tmp_path, base, searching("mine", ["ny", "va"], "qualified immunity"))
    store = Store(both.database_url)
    crawl(both, store, monkeypatch, "2021-03-05T12:00:00Z")
    assert watches_of(store, both, HB99903) == watches_of(store, both, A99901) == {"mine"}

    config = config_of(tmp_path, base, searching("mine", ["ny"], "qualified immunity"))
    crawl(config, store, monkeypatch, "2021-03-05T13:00:00Z")
    assert watches_of(store, config, HB99903) == set()
    assert watches_of(store, config, A99901) == {"mine"}

    news = len(changes_json(store))
    crawl(both, store, monkeypatch, "2021-03-05T14:00:00Z")
    assert watches_of(store, both, HB99903) == {"mine"}
    assert len(changes_json(store)) == news


def test_a_keyword_removed_lets_go_of_what_only_it_found(
        tmp_path: Path, api_and_base: tuple[OpenStatesApi, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """"emergency responders" found S 99902, "police officers" A 99901, both in New York: the
    first removed, S 99902 leaves the watch and A 99901 stays; put back, S 99902 is back unalerted."""
    _api, base = api_and_base
    both = config_of(tmp_path, base, searching("mine", ["ny"], "police officers", "emergency responders"))
    store = Store(both.database_url)
    crawl(both, store, monkeypatch, "2021-03-05T12:00:00Z")
    assert watches_of(store, both, S99902) == watches_of(store, both, A99901) == {"mine"}

    config = config_of(tmp_path, base, searching("mine", ["ny"], "police officers"))
    crawl(config, store, monkeypatch, "2021-03-05T13:00:00Z")
    assert watches_of(store, config, S99902) == set()
    assert watches_of(store, config, A99901) == {"mine"}

    news = len(changes_json(store))
    crawl(both, store, monkeypatch, "2021-03-05T14:00:00Z")
    assert watches_of(store, both, S99902) == {"mine"}
    assert len(changes_json(store)) == news


def test_a_watch_still_searching_a_keyword_keeps_the_bill_another_let_go_of(
        tmp_path: Path, api_and_base: tuple[OpenStatesApi, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """`mine` and `keeper` both search "qualified immunity" in New York (one query for both);
    `mine` drops it for "emergency responders": A 99901 leaves `mine` only, and its next change is
    told to `keeper`'s subscriber alone."""
    api, base = api_and_base
    before = config_of(tmp_path, base, searching("mine", ["ny"], "qualified immunity"),
                       searching("keeper", ["ny"], "qualified immunity"))
    store = Store(before.database_url)
    crawl(before, store, monkeypatch, "2021-03-05T12:00:00Z")
    assert watches_of(store, before, A99901) == {"mine", "keeper"}

    config = config_of(tmp_path, base, searching("mine", ["ny"], "emergency responders"),
                       searching("keeper", ["ny"], "qualified immunity"))
    crawl(config, store, monkeypatch, "2021-03-05T13:00:00Z")
    assert watches_of(store, config, A99901) == {"keeper"}
    assert watches_of(store, config, S99902) == {"mine"}

    move(api, A99901, "2021-03-08T10:00:00+00:00")
    crawl(config, store, monkeypatch, "2021-03-08T12:00:00Z")
    assert alerted(store, "bob", A99901) == 1
    assert alerted(store, "ana", A99901) == 0


def test_a_cursor_written_before_finders_were_kept_loses_no_bill_it_cannot_judge(
        tmp_path: Path, api_and_base: tuple[OpenStatesApi, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """A cursor written before it kept watches' configs and bills' finders: every watch is judged
    once, and a bill with no finder on record stays where the watch still searches (HB 99903, found
    by its abstract, cannot be matched again from its record); a state taken out lets go of its
    bills all the same."""
    _api, base = api_and_base
    both = config_of(tmp_path, base, searching("mine", ["ny", "va"], "qualified immunity"))
    store = Store(both.database_url)
    crawl(both, store, monkeypatch, "2021-03-05T12:00:00Z")

    def as_written_before(cursor: dict[str, Any]) -> None:
        cursor.pop("watches", None)
        cursor.pop("found", None)

    assert {"watches", "found"} <= set(store_cursor(store))
    rewrite_cursor(store, as_written_before)
    crawl(both, store, monkeypatch, "2021-03-05T13:00:00Z")
    assert watches_of(store, both, HB99903) == watches_of(store, both, A99901) == {"mine"}

    rewrite_cursor(store, as_written_before)
    config = config_of(tmp_path, base, searching("mine", ["va"], "qualified immunity"))
    crawl(config, store, monkeypatch, "2021-03-05T14:00:00Z")
    assert watches_of(store, config, HB99903) == {"mine"}
    assert watches_of(store, config, A99901) == set()


def test_a_crawl_of_one_watch_keeps_the_other_watches_read_marks(
        tmp_path: Path, api_and_base: tuple[OpenStatesApi, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """`tracker crawl --watch mine` reads only `mine`'s keyword query: `keeper`'s named-bills query
    keeps its mark and its turn (they were forgotten as queries no watch had, so the next run read
    it whole again, a day's budget for a busy query)."""
    _api, base = api_and_base
    config = config_of(tmp_path, base, searching("mine", ["ny"], "qualified immunity"), named("keeper", "S 99902"))
    store = Store(config.database_url)
    crawl(config, store, monkeypatch, "2021-03-05T12:00:00Z")
    marks = store_cursor(store)["reads"]
    (named_query,) = [query for query in marks if "|bills:" in query]

    monkeypatch.setenv("TRACKER_NOW", "2021-03-05T13:00:00Z")
    (report,) = run_crawls(config, store, ["mine"])
    assert report.ok, report.errors
    cursor = store_cursor(store)
    assert cursor["reads"][named_query] == marks[named_query]
    assert named_query in cursor["turns"]
