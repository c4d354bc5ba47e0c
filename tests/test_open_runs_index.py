"""The checks for runs left open (`mark_interrupted` and `open_runs`, made by every `tracker run`
and `tracker status`) read the partial index of unfinished runs (migration 0014), not the whole
runs table: a month of runs of 200 sources is 150,000 rows, and the check ran on each of them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event, insert, text

from tracker import models as m
from tracker.runs import mark_interrupted, open_runs
from tracker.store import Store


def _statements_of(store: Store, call: Any) -> list[tuple[str, Any]]:
    """The SELECTs on `runs` that `call(session)` sends, with their parameters."""
    sent: list[tuple[str, Any]] = []

    def seen(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT") and " runs" in statement:
            sent.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", seen)
    try:
        with store.session() as session:
            call(session)
    finally:
        event.remove(store.engine, "before_cursor_execute", seen)
    return sent


def test_the_checks_for_open_runs_read_only_the_open_ones(db_url: str) -> None:
    store = Store(db_url)
    started = datetime(2026, 11, 1, tzinfo=UTC)
    rows = [{"source_id": f"meetings:s{n % 200}", "started_at": started + timedelta(minutes=n),
             "finished_at": started + timedelta(minutes=n, seconds=30), "ok": True, "errors": 0, "items": 5,
             "changes": 0, "requests": 2, "not_modified": 1, "bytes": 1000, "pid": 1, "host": "elsewhere"}
            for n in range(20_000)]
    with store.session() as session:
        session.execute(insert(m.Run), rows)
        session.execute(insert(m.Run), [{**rows[0], "finished_at": None, "ok": None}])
    if store.engine.dialect.name == "postgresql":
        with store.engine.begin() as conn:
            conn.execute(text("ANALYZE runs"))

    sent = _statements_of(store, mark_interrupted) + _statements_of(store, lambda s: open_runs(s, None))
    assert len(sent) == 2, sent
    with store.engine.connect() as conn:
        for statement, parameters in sent:
            if store.engine.dialect.name == "sqlite":
                plan = " ".join(str(row[-1]) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}",
                                                                              parameters))
                # "SCAN runs USING INDEX ix_runs_open" reads the index's rows alone: the open runs
                assert "ix_runs_open" in plan and not re.search(r"SCAN runs(?! USING INDEX ix_runs_open)", plan), \
                    (statement, plan)
            else:
                plan = " ".join(row[0] for row in conn.exec_driver_sql(f"EXPLAIN {statement}", parameters))
                assert "ix_runs_open" in plan and "Seq Scan" not in plan, (statement, plan)
    with store.session() as session:
        assert [found.run.finished_at for found in open_runs(session, None)] == [None]
    store.dispose()
