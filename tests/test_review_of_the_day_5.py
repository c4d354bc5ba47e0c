"""Review of the day's changes (5): each test here failed before its fix.

1. The digest reads the committees of watched bills' earlier states with the database's JSON
   functions. A stored earlier state whose text is not valid JSON (a snapshot cut short, edited by
   hand) made SQLite's json_extract raise "malformed JSON" and PostgreSQL's cast to JSON raise
   "invalid input syntax for type json": the whole digest failed, every page unwritten, where the
   one state should only go unread. So did, on PostgreSQL, a state that is JSON but holds an escaped
   NUL (`\\u0000`) anywhere in it: its JSON functions refuse to read it ("unsupported Unicode
   escape sequence").
2. `sources detect` refusing an address without its scheme says it with its key left out, but a
   password before its host (`clerk:secret@council.example.org/api`) was printed whole: without
   a scheme, the address has no host to parse, so no password was found in it.

Real parts: the `sources detect` command through click's runner, and S. 832 (116th)'s recorded BILLSTATUS file crawled from the loopback replay server by the
govinfo spider (as tests/test_digest_hearings_calendar.py), on SQLite and the real PostgreSQL, the
site written by `write_site`, its calendar parsed by icalendar.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from test_detect import config_for, detect
from test_digest_hearings_calendar import BEFORE, DAYS_ON, as_of, crawl_again, hearing_events, watching_s832

from tracker import clock
from tracker import models as m
from tracker.config import Config
from tracker.demo.replay import ReplayServer
from tracker.digest import write_site
from tracker.store import Store


@pytest.fixture
def tracker(tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch,
            db_url: str) -> Iterator[tuple[Config, Store]]:
    """A campaign watching S. 832 on either database, crawled on April 27, 2019 (its May 1 hearing on)."""
    config, store = watching_s832(tmp_path, replay, monkeypatch, db_url)
    yield config, store
    store.dispose()


def cut_short(content: str) -> str:
    return content[:200]


def with_a_nul(content: str) -> str:
    return content.replace('{', '{"note":"a\\u0000b",', 1)


@pytest.mark.parametrize("broken", [cut_short, with_a_nul])
def test_a_malformed_earlier_state_fails_no_digest(broken: Callable[[str], str], tracker: tuple[Config, Store], replay: ReplayServer,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    config, store = tracker
    # the hearing postponed a week: the first state (May 1) is now an earlier one
    crawl_again(config, store, replay, as_of(BEFORE, hearing="2019-05-08T18:30:00Z"), DAYS_ON[1], monkeypatch)
    write_site(store, config, config.digest_dir)
    assert "read one by one" not in caplog.text  # every state JSON: the database's functions read them
    with store.session() as session:
        (entity,) = session.scalars(select(m.Entity).where(m.Entity.kind == "bill")).all()
        current = session.get(m.Snapshot, entity.current_snapshot_id)
        assert current is not None
        # one more earlier state: its text cut short (not JSON), or JSON with an escaped NUL
        session.add(m.Snapshot(entity_key=entity.key, hash="0" * 64, content=broken(current.content),
                               fetched_at=clock.now(), parser=current.parser))
    site = write_site(store, config, config.digest_dir)
    # the states that can be read still say the May 1 hearing was postponed to May 8
    found = {event.decoded("DTSTART").date(): event for event in hearing_events(site, "watches/tribal/meetings.ics")}
    assert set(found) == {date(2019, 5, 1), date(2019, 5, 8)}
    assert str(found[date(2019, 5, 1)]["STATUS"]) == "CANCELLED"
    assert str(found[date(2019, 5, 8)]["STATUS"]) == "CONFIRMED"
    if broken is cut_short:  # (SQLite reads an escaped NUL: no need to read the states one by one)
        assert "earlier bill states read one by one" in caplog.text


def test_an_address_without_its_scheme_is_refused_without_printing_its_password(replay: ReplayServer,
                                                                                tmp_path: Path) -> None:
    result = detect(config_for(tmp_path, replay), "clerk:Zq7xW2mP9kLr4TnB@council.example.org/api/events")
    assert result.exit_code == 2, result.output
    assert "is not an http(s) address" in result.output
    assert "Zq7xW2mP9kLr4TnB" not in result.output, result.output
    assert "council.example.org/api/events" in result.output, result.output
