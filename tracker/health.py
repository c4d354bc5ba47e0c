"""Source health: what the operator must hear of, and the problem list behind `status --check`.

A source failing `failures_before_alert` runs in a row is one operator notice; its recovery is
one. Nothing is found again while the state holds. A run lock held too long (`stale_lock`) is one
notice per holder. Health only finds them: it returns `OperatorNotice`s and its caller owes them
through the outbox (tracker/outbox.py), so nothing here reaches the sending side. Also here: how
the last write of the digest went (`record_digest`).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker import clock
from tracker import models as m
from tracker.config import Config
from tracker.lock import lock_holder
from tracker.logs import shorten
from tracker.records import OperatorNotice
from tracker.report import SourceReport
from tracker.runs import consecutive_failures, counted
from tracker.store import Store
from tracker.words import runs_in_a_row

log = logging.getLogger(__name__)
# The `source_state` row holding how the last write of `[digest] out` went. In the database, not in
# a file beside the site: `status --check` may run as another user or on another machine of a
# cluster (the digest lease moves between runners), and a write that failed may have left no
# folder at all. No source is named "digest" (source ids are a kind, or `kind:watch`).
DIGEST_STATE = "digest"
SKIPPED_KEPT = 20  # lines of a partly written digest kept for `status --check`


def check_sources(session: Session, config: Config, reports: list[SourceReport]) -> list[OperatorNotice]:
    """The operator notices for sources that started failing or recovered, their state marked in
    `session`: the caller owes them in the same transaction, so a notice is never marked without
    being owed. Each is also a warning line."""
    threshold = config.operator.failures_before_alert
    notices: list[OperatorNotice] = []
    for report in reports:
        state = session.get(m.SourceState, report.source_id)
        if state is None:
            state = m.SourceState(source_id=report.source_id, cursor={}, alerted_failing=False)
            session.add(state)
        failures = consecutive_failures(session, report.source_id)
        if failures >= threshold and not state.alerted_failing:
            state.alerted_failing = True
            line = f"source {report.source_id} has failed {failures} runs in a row: {report.errors[0] if report.errors else 'unknown error'}"
            notices.append(OperatorNotice(f"health:{report.source_id}:failing:{report.run_id}",
                                          f"tracker: source {report.source_id} is failing", line))
        elif failures == 0 and state.alerted_failing:
            state.alerted_failing = False
            line = f"source {report.source_id} works again"
            notices.append(OperatorNotice(f"health:{report.source_id}:recovered:{report.run_id}",
                                          f"tracker: source {report.source_id} recovered", line))
    for notice in notices:
        log.warning(notice.body)
    return notices


def stale_lock(store: Store, config: Config, lock_dir: Path) -> OperatorNotice | None:
    """The notice about a run lock held longer than `[tracker] lock_timeout_minutes` (its body is
    the one line to print), or None. Its key names the holder: owed once per holder, however many
    runs find it."""
    holder = lock_holder(store, lock_dir)
    if holder is None or holder.started_at is None:
        return None
    minutes = holder.minutes()
    if minutes <= config.tracker.lock_timeout_minutes:
        return None
    line = (f"run lock held for {minutes:.0f} minutes (limit {config.tracker.lock_timeout_minutes:g}) by "
            f"{holder.describe(config.display_zone())}: that run may be stuck, and no tracking happens until it ends")
    key = f"lock:{holder.host}:{holder.pid}:{clock.iso_z(holder.started_at)}"
    return OperatorNotice(key, "tracker: a run holds the lock too long", line)


@dataclass(frozen=True)
class NewsMark:
    """Which changes the digest shows as "New since the last digest": those with an id above
    `after`, detected since `since` (the write that had shown every change up to `after`; None: since
    tracking began). `through` is the newest change the write showed. Kept with the digest's
    outcome in the `digest` row, so every runner of a cluster (the digest lease moves) and every
    `tracker digest` reads the same mark."""

    after: int = 0
    since: str | None = None
    through: int = 0

    @classmethod
    def load(cls, data: dict[str, object] | None) -> NewsMark | None:
        if not isinstance(data, dict):
            return None
        after, through, since = data.get("after"), data.get("through"), data.get("since")
        return cls(after=after if isinstance(after, int) else 0, since=since if isinstance(since, str) else None,
                   through=through if isinstance(through, int) else 0)

    def dump(self) -> dict[str, object]:
        return {"after": self.after, "since": self.since, "through": self.through}


def digest_news_mark(session: Session, newest_change: int) -> NewsMark:
    """The news mark of a digest written now, when the newest change is `newest_change`: what is
    new since the write before this one; when nothing arrived since the last write, the same news
    as that write showed (a digest rewritten every 15 minutes keeps its news until newer news
    comes, and "since" still says truly since when)."""
    state = session.get(m.SourceState, DIGEST_STATE)
    cursor = state.cursor if state is not None and state.cursor else {}
    last = NewsMark.load(cursor.get("news"))
    if last is None:
        return NewsMark(after=0, since=None, through=newest_change)
    if newest_change > last.through:
        return NewsMark(after=last.through, since=cursor.get("written_at"), through=newest_change)
    return last


def record_digest(store: Store, *, error: str | None = None, skipped: list[str] | None = None,
                  news: NewsMark | None = None) -> None:
    """Remember how the last write of `[digest] out` went: written whole, written without some
    pages (`skipped`), or not written (`error`: the old site, or none, is still there), and which
    changes a written one showed as new (`news`)."""
    skipped = skipped or []
    now = clock.iso_z(clock.now())
    with store.session() as session:
        state = session.get(m.SourceState, DIGEST_STATE)
        if state is None:
            state = m.SourceState(source_id=DIGEST_STATE, cursor={}, alerted_failing=False)
            session.add(state)
        cursor = dict(state.cursor or {})
        cursor.update({"attempted_at": now, "error": error, "skipped": skipped[:SKIPPED_KEPT],
                       "skipped_count": len(skipped)})
        if error is None:
            cursor["written_at"] = now
            if news is not None:
                cursor["news"] = news.dump()
        state.cursor = cursor


def digest_problem(session: Session) -> str | None:
    """The one line about the last write of the digest, when it failed or left something out."""
    state = session.get(m.SourceState, DIGEST_STATE)
    cursor = state.cursor if state is not None and state.cursor else {}
    attempted = cursor.get("attempted_at")
    if cursor.get("error"):
        if cursor.get("written_at"):
            return f"digest: not updated since {cursor['written_at']}: the last write failed: {cursor['error']}"
        return f"digest: could not be written (last {attempted}), none written yet: {cursor['error']}"
    if cursor.get("skipped_count"):
        count = cursor["skipped_count"]
        first = str(cursor["skipped"][0]).removeprefix("digest: ") if cursor.get("skipped") else ""
        return f"digest: written without {count} part{'s' if count != 1 else ''} (last {attempted}): {first}"
    return None


def problems(store: Store, config: Config, lock_dir: Path) -> list[str]:
    """Everything an operator must act on, one line each (for `tracker status --check`): failing
    sources, dead deliveries (one line per subscriber), a digest that failed to write (or left
    pages out), a run holding the lock too long."""
    lines: list[str] = []
    sources = (["govinfo"] if config.federal_bills else []) + (["openstates"] if config.state_bills else []) \
        + [w.source_id for w in config.meetings]
    with store.session() as session:
        for source_id in sources:
            last = session.scalar(
                select(m.Run).where(m.Run.source_id == source_id, m.Run.finished_at.is_not(None),
                                    counted())
                .order_by(m.Run.id.desc()).limit(1)
            )
            if last is None or last.ok:
                continue
            failures = consecutive_failures(session, source_id)
            error = last.error or "unknown error"
            error = error.removeprefix(f"{source_id}: ")
            lines.append(f"source {source_id}: failing ({runs_in_a_row(failures)}, last {clock.iso_z(last.finished_at)}): {error}")
        dead: dict[str, list[m.Delivery]] = defaultdict(list)
        for delivery in session.scalars(select(m.Delivery).where(m.Delivery.status == "dead")
                                        .order_by(m.Delivery.id)):
            dead[delivery.subscriber_id].append(delivery)
        for subscriber, rows in dead.items():
            plural = "deliveries" if len(rows) != 1 else "delivery"
            lines.append(f"subscriber {subscriber}: {len(rows)} dead {plural} (last error: "
                         f"{rows[-1].last_error or 'unknown'}); `tracker notify --retry-dead` queues them again")
        if digest := digest_problem(session):
            lines.append(digest)
    holder = lock_holder(store, lock_dir)
    if holder is not None and holder.started_at is not None:
        minutes = holder.minutes()
        if minutes > config.tracker.lock_timeout_minutes:
            lines.append(f"run lock held for {minutes:.0f} minutes (limit "
                         f"{config.tracker.lock_timeout_minutes:g}) by {holder.describe()}")
    return [shorten(line) for line in lines]
