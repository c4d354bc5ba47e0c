"""Each crawl writes a Run row per source: at 1,000 sources every 15 minutes they were most of a
database's growth (about 1 GB a month). A source's runs older than `[storage] keep_runs_days` are
let go as it is crawled, but for its newest three (the operator's alert counts three failures in
a row) and its newest good one, so `status` still says when it last worked, and any a change names
(the crawl that found it). Real crawls of a feed on loopback, on SQLite and
PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from recorded import local
from sqlalchemy import event, select

from tracker import models as m
from tracker import runs
from tracker.config import load_config
from tracker.crawl import run_crawls
from tracker.demo.replay import Fault, ReplayServer
from tracker.runs import INTERRUPTED, consecutive_failures, prune_runs
from tracker.store import Store
from tracker.views import collect_status

ICS = local("ics/detroit_k12_board_of_education.ics")
FINANCE = (b"SUMMARY:Finance Sub-Committee Meeting (Open)\r\nCLASS:PUBLIC\r\nLOCATION:3011 W. Grand Blvd., "
           b"Fisher Building 12th Floor Conference\r\nSTATUS:")
CANCELLED = ICS.replace(FINANCE + b"CONFIRMED", FINANCE + b"CANCELLED", 1)  # derived: the Finance meeting cancelled
DAY0 = datetime.fromisoformat("2019-04-10T12:00:00+00:00")


def test_runs_older_than_kept_are_let_go_but_the_last_good_one(tmp_path: Path, db_url: str, replay: ReplayServer,
                                                             frozen_now: Callable[[str], None]) -> None:
    replay.add("/feed.ics", ICS, content_type="text/calendar")
    path = tmp_path / "tracker.toml"
    path.write_text(f'[storage]\nurl = "{db_url}"\nkeep_runs_days = 15\n[crawl]\ndelay_seconds = 0\n'
                    f'[[meetings]]\nid = "board"\nname = "Board"\ntimezone = "America/Detroit"\n'
                    f'ical = "{replay.url}/feed.ics"\n')
    config = load_config(path, env={})
    store = Store(config.database_url)

    def crawl(day: int, *, works: bool) -> None:
        replay.set_fault("/feed.ics", None if works else Fault.status(404))
        frozen_now((DAY0 + timedelta(days=day)).isoformat().replace("+00:00", "Z"))
        (report,) = run_crawls(config, store)
        assert report.ok is works, report.errors

    def kept() -> list[tuple[int, bool]]:
        with store.session() as session:
            rows = session.execute(select(m.Run.started_at, m.Run.ok).order_by(m.Run.id)).all()
        return [((started - DAY0).days, bool(ok)) for started, ok in rows]

    def source() -> tuple[str | None, int]:
        (view,) = collect_status(store, config).sources
        return view.last_success, view.consecutive_failures

    crawl(0, works=True)
    replay.replace("/feed.ics", CANCELLED)
    crawl(3, works=True)  # finds a change: this run is kept as long as the change is
    for day, works in ((10, True), (12, False), (14, False)):
        crawl(day, works=works)
    assert kept() == [(0, True), (3, True), (10, True), (12, False), (14, False)]
    crawl(20, works=False)  # kept from day 5: the run of day 0 goes, the last good one (day 10) stays
    assert kept() == [(3, True), (10, True), (12, False), (14, False), (20, False)]
    assert source() == ("2019-04-20T12:00:00Z", 3)
    crawl(28, works=False)  # kept from day 13: the failure of day 12 goes, and is no longer counted
    assert kept() == [(3, True), (10, True), (14, False), (20, False), (28, False)]
    assert source() == ("2019-04-20T12:00:00Z", 3)
    crawl(29, works=True)
    crawl(50, works=True)  # kept from day 35, and the newest three: the others go
    assert kept() == [(3, True), (28, False), (29, True), (50, True)]
    assert source() == ("2019-05-30T12:00:00Z", 0)
    for day in (100, 101, 102):  # a source crawled less often than kept: the newest three still are
        crawl(day, works=False)
    assert kept() == [(3, True), (50, True), (100, False), (101, False), (102, False)]
    assert source() == ("2019-05-30T12:00:00Z", 3)  # so the operator's alert (3 in a row) still fires
    with store.session() as session:
        found = session.execute(select(m.Change.kind, m.Run.started_at).join(m.Run, m.Run.id == m.Change.run_id)).all()
    assert [(kind, (started - DAY0).days) for kind, started in found] == [("meeting.cancelled", 3)]


def runs_of(store: Store, spec: list[tuple[int, str]]) -> None:
    """Run rows of source "s" (day, kind): kind "ok", "fail" or "interrupted" (its process died)."""
    with store.session() as session:
        for day, kind in spec:
            started = DAY0 + timedelta(days=day)
            session.add(m.Run(source_id="s", started_at=started, finished_at=started + timedelta(minutes=1),
                              ok=kind == "ok", state=INTERRUPTED if kind == "interrupted" else None))


def test_killed_runs_take_none_of_the_places_the_alert_counts(db_url: str) -> None:
    """A source crawled every 40 days (30 kept) whose every other crawl is killed: the failures in
    a row the operator's alert counts (interrupted runs skipped) are kept, so it fires at three
    (the killed runs took places among the newest three, and it never did: found by a review)."""
    store = Store(db_url)
    runs_of(store, [(0, "ok")])
    seen = []
    for n in range(1, 9):
        runs_of(store, [(n * 40, "interrupted" if n % 2 else "fail")])
        prune_runs(store, ["s"], DAY0 + timedelta(days=n * 40 - 30), 3)
        with store.session() as session:
            seen.append(consecutive_failures(session, "s"))
    assert seen == [0, 1, 1, 2, 2, 3, 3, 3]  # the newest three failures kept: enough for the alert


def test_a_backlog_is_let_go_a_batch_a_transaction(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first prune after an upgrade may face a year of runs: it deletes them a batch a
    transaction (SQLite has one writer at a time: a crawl or `notify` waits one batch, not the whole
    backlog; it waited 9 s for 576,000 runs in one), and still keeps what it must."""
    monkeypatch.setattr(runs, "PRUNE_BATCH", 5)
    store = Store(db_url)
    with store.session() as session:
        for source, days in (("a", range(10)), ("b", range(2)), ("c", range(15))):
            for day in days:
                started = DAY0 + timedelta(days=day)
                session.add(m.Run(source_id=source, started_at=started, ok=day != 9,
                                  finished_at=started + timedelta(minutes=1)))
    per_transaction: list[int] = []
    deleting = [0]

    @event.listens_for(store.engine, "after_cursor_execute")
    def counted(conn: object, cursor: Any, statement: str, *args: object) -> None:
        if statement.lstrip().upper().startswith("DELETE"):
            deleting[0] += cursor.rowcount

    @event.listens_for(store.engine, "commit")
    def committed(conn: object) -> None:
        if deleting[0]:
            per_transaction.append(deleting[0])
        deleting[0] = 0

    assert prune_runs(store, ["a", "b", "c"], DAY0 + timedelta(days=100), 3) == 19
    assert per_transaction == [5, 5, 5, 4]
    with store.session() as session:
        left = session.execute(select(m.Run.source_id, m.Run.started_at).order_by(m.Run.id)).all()
    assert [(source, (started - DAY0).days) for source, started in left] == [
        ("a", 7), ("a", 8), ("a", 9),  # "a": its newest three, the last good one among them
        ("b", 0), ("b", 1),  # "b" has no more than three
        ("c", 12), ("c", 13), ("c", 14)]
