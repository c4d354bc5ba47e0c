"""Source health: consecutive failures from the Run rows, and one operator alert per episode.

A source failing `failures_before_alert` runs in a row alerts the operator once; its recovery
alerts once. Nothing is re-sent while the state holds.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker import models as m
from tracker.config import Config
from tracker.report import SourceReport
from tracker.store import Store

log = logging.getLogger(__name__)


def consecutive_failures(session: Session, source_id: str) -> int:
    count = 0
    rows = session.scalars(
        select(m.Run.ok)
        .where(m.Run.source_id == source_id, m.Run.finished_at.is_not(None))
        .order_by(m.Run.id.desc())
        .limit(1000)
    )
    for ok in rows:
        if ok:
            break
        count += 1
    return count


def last_good_items(session: Session, source_id: str, before_run: int | None) -> int:
    """Items seen by the last successful run before this one (0 if none)."""
    query = select(m.Run.items).where(m.Run.source_id == source_id, m.Run.ok.is_(True))
    if before_run is not None:
        query = query.where(m.Run.id < before_run)
    return session.scalar(query.order_by(m.Run.id.desc()).limit(1)) or 0


def check_sources(store: Store, config: Config, reports: list[SourceReport]) -> list[str]:
    """Owe operator alerts for sources that started failing or recovered; return their lines."""
    threshold = config.operator.failures_before_alert
    lines: list[str] = []
    owe = _operator_hook()
    with store.session() as session:
        for report in reports:
            state = session.get(m.SourceState, report.source_id)
            if state is None:
                state = m.SourceState(source_id=report.source_id, cursor={}, alerted_failing=False)
                session.add(state)
            failures = consecutive_failures(session, report.source_id)
            if failures >= threshold and not state.alerted_failing:
                state.alerted_failing = True
                line = f"source {report.source_id} has failed {failures} runs in a row: {report.errors[0] if report.errors else 'unknown error'}"
                lines.append(line)
                if owe:
                    owe(session, config, f"health:{report.source_id}:failing:{report.run_id}",
                        f"tracker: source {report.source_id} is failing", line)
            elif failures == 0 and state.alerted_failing:
                state.alerted_failing = False
                line = f"source {report.source_id} works again"
                lines.append(line)
                if owe:
                    owe(session, config, f"health:{report.source_id}:recovered:{report.run_id}",
                        f"tracker: source {report.source_id} recovered", line)
    for line in lines:
        log.warning(line)
    return lines


def _operator_hook() -> Any:
    try:
        from tracker.alerts.outbox import owe_operator
    except ImportError:
        return None
    return owe_operator
