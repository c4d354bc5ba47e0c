"""The state a crawl leaves behind, apart from snapshots: Run rows (one per source per crawl) and
what they say (runs interrupted by a dead process, the last good run's items, failures in a row),
source cursors, listing validators, missing marks and watch baselines.

`crawl.py` runs the engine; this module is where it opens and closes its Run rows and saves what
the spiders learned, in one transaction per crawl.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Select, delete, exists, func, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from tracker import clock
from tracker import models as m
from tracker.bills.titles import title_matches
from tracker.cursors import ListingCursor
from tracker.faults import describe_failure
from tracker.lock import lock_holder, process_alive
from tracker.records import Bill, Meeting, StateBill, Validators, load_record, session_key
from tracker.report import BillRule, SourceReport, StateBillRule
from tracker.store import Store, save_validators

log = logging.getLogger(__name__)
MIN_ITEMS_FOR_EMPTY_ALARM = 3  # a source that had this many items and now lists none is failing
INTERRUPTED = "interrupted"  # Run.state of a run whose process died before it finished
ABANDONED = "abandoned"  # Run.state of a run whose runner (on any machine) stopped heartbeating
CLOSED_BY_OTHERS = (INTERRUPTED, ABANDONED)  # runs that say nothing about their source
HEARTBEAT_SECONDS = 30.0  # a crawling process renews its heartbeat lease this often...
HEARTBEAT_LEASE = timedelta(minutes=5)  # ...for this long: missing ten beats, its runs are abandoned
NO_HEARTBEAT = timedelta(hours=2)  # a run with no lease at all (made before heartbeats): abandoned after this


# -- cursors -----------------------------------------------------------------------------------------

def load_cursors(store: Store, source_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Each source's stored cursor as JSON: its spider loads it as its own kind of cursor."""
    with store.session() as session:
        rows = session.scalars(select(m.SourceState).where(m.SourceState.source_id.in_(source_ids)))
        return {row.source_id: dict(row.cursor or {}) for row in rows}


def _save_cursor(session: Session, report: SourceReport) -> None:
    """What the spider learned (sitemap lastmods, event fingerprints), applied to the stored cursor:
    the run's own change, then the changes that hold only once their entity is stored, for the
    entities that were."""
    changes = [report.cursor] if report.cursor is not None else []
    changes += [change for key, change in report.entity_cursor.items() if key in report.seen]
    changes = [change for change in changes if change]
    if not changes:
        return
    state = session.get(m.SourceState, report.source_id)
    if state is None:
        state = m.SourceState(source_id=report.source_id, cursor={}, alerted_failing=False)
        session.add(state)
    cursor = type(changes[0]).load(state.cursor or {})
    for change in changes:
        cursor.apply(change)
    state.cursor = cursor.dump()


# -- runs ----------------------------------------------------------------------------------------------

def start_runs(store: Store, source_ids: list[tuple[str, list[str]]]) -> list[SourceReport]:
    """One Run row per source (its process and host recorded by the model), and the report the
    spider fills in. Unfinished runs of processes that died on this host are marked interrupted
    first, and those of runners anywhere that stopped heartbeating abandoned."""
    started = clock.now()
    reports = []
    holder = run_lock_holder(store)
    with store.session() as session:
        mark_interrupted(session)
        mark_abandoned(session, holder)
        for source_id, watch_ids in source_ids:
            run = m.Run(source_id=source_id, started_at=started)
            session.add(run)
            session.flush()
            reports.append(SourceReport(source_id, watch_ids, run_id=run.id))
    return reports


def finish_runs(store: Store, reports: list[SourceReport]) -> None:
    """Close each Run row with its counts and first error; save cursors, listing validators and
    missing marks; give watches whose crawl got through their baseline."""
    finished = clock.now()
    with store.session() as session:
        for report in reports:
            run = session.get(m.Run, report.run_id)
            if run is None:
                continue
            emptied = _check_empty(session, report)
            # Finished by its own process, so not interrupted, whatever another process marked:
            # one on a machine (or container) of the same host name cannot see this one's pid.
            run.state = None
            run.finished_at = finished
            run.ok = report.ok
            run.error = report.errors[0] if report.errors else None
            run.errors = len(report.errors)
            run.items = report.items
            run.changes = report.changes
            run.requests = report.requests
            run.not_modified = report.not_modified
            run.bytes = report.bytes
            _leave_unfollowed(session, report)
            _let_go_of_bills(session, report)
            _link_held(session, report)
            if report.complete_listing and report.ok:  # after any error, a meeting not seen may just be unread
                _mark_missing(session, report, finished)
            if report.ok or report.validators_vetted:
                for validators in report.listing_validators:
                    if validators.url:
                        save_validators(session, validators, finished)
            if not (emptied and isinstance(report.cursor, ListingCursor)):
                # an answer judged failing teaches a listing's cursor nothing: its meetings stay
                # held (a later move is still looked for) and those owed a whole read stay owed
                _save_cursor(session, report)
    # A watch has its baseline once a crawl of its source got through (even with some errors), and
    # its first read is done.
    mark_baselines(store, [w for r in reports if r.ok or r.items or r.not_modified for w in r.watch_ids
                           if w not in r.unsettled])


PRUNE_BATCH = 2000  # runs deleted a transaction: other writers (SQLite has one at a time) wait one batch


def prune_runs(store: Store, source_ids: list[str], before: datetime, keep_newest: int) -> int:
    """Delete these sources' finished runs started before `before`, but for each one's newest
    `keep_newest` runs (the operator's alert counts that many failures in a row, whatever the
    crawls' pace), its newest good run (its last success, and the item count an empty answer is
    judged by) and any run a change names (the crawl that found it): one row a crawl, by the
    indexes, once the backlog is gone. Failures older than that are no longer counted among a
    source's consecutive failures. After the crawl's transaction, in transactions of
    `PRUNE_BATCH` runs, so a failure here costs nothing the crawl stored (a warning, and the next
    crawl tries again) and the first prune of a large backlog never holds other writers for long.
    Returns how many were deleted."""
    deleted = 0
    left = list(reversed(source_ids))
    try:
        while left:
            with store.session() as session:
                batch = 0  # runs deleted in this transaction
                while left and batch < PRUNE_BATCH:
                    room = PRUNE_BATCH - batch
                    gone = _prune_source(session, left[-1], before, keep_newest, room)
                    batch += gone
                    if gone < room:
                        left.pop()  # that source is done
            deleted += batch
    except SQLAlchemyError as exc:
        log.warning("could not prune runs older than %s: %s; what the crawl stored is kept, and the next crawl "
                    "tries again", before.date(), describe_failure(exc))
    return deleted


VALIDATORS_UNUSED_DAYS = 30  # stored validators no crawl has asked with (nor saved) this long are deleted
_TOUCH_BATCH = 500  # keys marked asked a statement


class AskedValidators(dict[str, Validators]):
    """The stored validators a crawl hands its spiders, noting which ones they asked for (the
    conditional-request middleware looks each request's up with `get`): those are still in use,
    however long their URL has answered 304."""

    def __init__(self, stored: dict[str, Validators]) -> None:
        super().__init__(stored)
        self.asked: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        if key in self:
            self.asked.add(key)
        return super().get(key, default)


def prune_validators(store: Store, asked: set[str], now: datetime, unused_days: int = VALIDATORS_UNUSED_DAYS) -> int:
    """Keep the validators this crawl asked with (their `updated_at` moved to now, at most once a
    day each), then delete those neither asked with nor saved for `unused_days`: URLs no watch asks
    any more (a watch removed, a bill number taken out, a listing moved) left a row each, forever.
    A pruned row still wanted costs one whole answer where a 304 would have come. After the
    crawl's transaction, in batches; a failure is one warning line and the next crawl tries again.
    Returns how many were deleted."""
    before = now - timedelta(days=unused_days)
    keys = sorted(asked)
    deleted = 0
    try:
        for start in range(0, len(keys), _TOUCH_BATCH):
            with store.session() as session:
                session.execute(update(m.HttpValidator)
                                .where(m.HttpValidator.url_hash.in_(keys[start:start + _TOUCH_BATCH]),
                                       m.HttpValidator.updated_at < now - timedelta(days=1))
                                .values(updated_at=now), execution_options={"synchronize_session": False})
        while True:
            with store.session() as session:
                old = (select(m.HttpValidator.url_hash).where(m.HttpValidator.updated_at < before)
                       .limit(PRUNE_BATCH).scalar_subquery())
                gone = session.execute(delete(m.HttpValidator).where(m.HttpValidator.url_hash.in_(old)),
                                       execution_options={"synchronize_session": False}).rowcount or 0
            deleted += gone
            if gone < PRUNE_BATCH:
                break
    except SQLAlchemyError as exc:
        log.warning("could not prune stored HTTP validators unused since %s: %s; the crawl is unaffected, and the "
                    "next crawl tries again", before.date(), describe_failure(exc))
    if deleted:
        log.info("deleted %d stored HTTP validators no crawl asked with since %s", deleted, before.date())
    return deleted


def _counted_runs(source_id: str) -> Select[tuple[int]]:
    """The ids of the runs a source's health counts: finished, and not interrupted or abandoned (a
    killed process or a dead machine says nothing about the source)."""
    return select(m.Run.id).where(m.Run.source_id == source_id, m.Run.finished_at.is_not(None),
                                  counted())


def counted() -> Any:
    """The condition of a run its own process closed: only those say how a source is doing."""
    return or_(m.Run.state.is_(None), m.Run.state.not_in(CLOSED_BY_OTHERS))


def _prune_source(session: Session, source_id: str, before: datetime, keep_newest: int, limit: int) -> int:
    """Delete up to `limit` of one source's runs that `prune_runs` lets go, oldest first."""
    runs = _counted_runs(source_id).order_by(m.Run.id.desc())
    newest = session.scalar(runs.offset(max(keep_newest, 1) - 1).limit(1))
    if newest is None:
        return 0  # no more runs than those always kept
    last_ok = session.scalar(runs.where(m.Run.ok.is_(True)).limit(1))
    old = select(m.Run.id).where(
        m.Run.source_id == source_id, m.Run.id < newest, m.Run.started_at < before,
        m.Run.finished_at.is_not(None), m.Run.id != (last_ok or 0),
        ~exists().where(m.Change.run_id == m.Run.id)).order_by(m.Run.id).limit(limit)
    return session.execute(delete(m.Run).where(m.Run.id.in_(old.scalar_subquery())),
                           execution_options={"synchronize_session": False}).rowcount or 0


def _check_empty(session: Session, report: SourceReport) -> bool:
    """A source that used to list many items and now lists none is failing, not emptied: True
    after its error line."""
    if report.ok and not report.items and not report.not_modified and not report.unfollowed:
        before = last_good_items(session, report.source_id, report.run_id)
        if before >= MIN_ITEMS_FOR_EMPTY_ALARM:
            report.errors.append(
                f"{report.source_id}: returned no items where the last good run had {before}; keeping what is stored")
            return True
    return False


# -- what the Run rows say -------------------------------------------------------------------------------

def _close_for_others(run: m.Run, state: str, now: datetime, why: str) -> None:
    """Close a run its own process never will (`CLOSED_BY_OTHERS`: not counted for its source's
    health), saying why in its error line."""
    run.state, run.finished_at, run.ok = state, now, False
    run.error = f"{run.source_id}: {state}: {why}"


def mark_interrupted(session: Session) -> list[int]:
    """Mark unfinished Run rows whose process is gone from this host as interrupted (a crawl
    killed with -9 never finishes its rows). Never a live crawl's, never another host's, never
    this process's own; a live crawl of a namesake host (another machine or a container of this
    host name, whose pids this one cannot see) may be marked, and its own `finish_runs` undoes the
    mark. Returns the ids marked. Called before every crawl."""
    host = socket.gethostname()
    rows = session.scalars(select(m.Run).where(
        m.Run.finished_at.is_(None), m.Run.host == host, m.Run.pid.is_not(None), m.Run.pid != os.getpid(),
    ))
    now = clock.now()
    marked = []
    for run in rows:
        if run.pid is None or process_alive(run.pid):
            continue
        _close_for_others(run, INTERRUPTED, now, f"process {run.pid} on {host} ended before the crawl finished")
        marked.append(run.id)
    if marked:
        log.warning("marked %d unfinished runs of ended processes as interrupted: %s", len(marked),
                    ", ".join(map(str, marked)))
    return marked


# -- heartbeats: telling a dead machine's runs from live ones ---------------------------------------------

def heartbeat_lease(host: str | None, pid: int | None) -> str:
    """The `runner_leases` row a crawling process renews while its Run rows are open."""
    return f"run:{host}:{pid}"


def beat(store: Store, now: datetime | None = None) -> None:
    """Renew this process's heartbeat lease (an upsert: its first beat makes the row)."""
    now = now or clock.now()
    with store.session() as session:
        insert = m.insert(session, m.RunnerLease)
        session.execute(insert.values(
            name=heartbeat_lease(socket.gethostname(), os.getpid()), owner=f"pid {os.getpid()} on {socket.gethostname()}",
            lease_until=now + HEARTBEAT_LEASE, claimed_at=now,
        ).on_conflict_do_update(index_elements=["name"], set_={"lease_until": now + HEARTBEAT_LEASE}))


class Heartbeat:
    """While a crawl's Run rows are open, a thread renews the process's heartbeat lease every
    `HEARTBEAT_SECONDS` (the crawl's own threads may be busy for minutes): a runner on another
    machine cannot see this process, only that its lease is kept. A beat that fails (the database
    away for a moment) is a warning; the next one tries again. The lease is given up at the end.
    Not on SQLite: a file no second machine writes to (a beat would only wait on the crawl's
    writes)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="tracker-heartbeat", daemon=True)

    def __enter__(self) -> Heartbeat:
        if self.store.engine.dialect.name == "sqlite":
            return self  # one machine: its dead processes' runs are found by pid (mark_interrupted)
        self._beat()
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.thread.is_alive():
            return
        self.stopped.set()
        self.thread.join(timeout=10)
        try:
            with self.store.session() as session:
                session.execute(delete(m.RunnerLease).where(
                    m.RunnerLease.name == heartbeat_lease(socket.gethostname(), os.getpid())))
        except SQLAlchemyError as exc:  # it runs out by itself
            log.warning("could not give up this run's heartbeat lease: %s", describe_failure(exc))

    def _run(self) -> None:
        while not self.stopped.wait(HEARTBEAT_SECONDS):
            self._beat()

    def _beat(self) -> None:
        try:
            beat(self.store)
        except SQLAlchemyError as exc:
            log.warning("could not renew this run's heartbeat (tried again in %.0f s): %s", HEARTBEAT_SECONDS,
                        describe_failure(exc))


@dataclass(frozen=True)
class OpenRun:
    """A Run row not closed yet, and whether its runner is gone: no heartbeat lease kept (on any
    machine) and not the holder of the run lock. `last_beat` is when its lease ran out (None:
    it never had one)."""

    run: m.Run
    abandoned: bool
    lease_until: datetime | None


def open_runs(session: Session, holder: tuple[str | None, int | None] | None, now: datetime | None = None,
              source_id: str | None = None) -> list[OpenRun]:
    """The unfinished runs (of one source, or all), each judged live or abandoned. `holder`: the
    (host, pid) holding the run lock, whose runs are live whatever their lease says; a run of this
    machine is live while its process is (`process_alive`), whatever its lease says."""
    now = now or clock.now()
    query = select(m.Run).where(m.Run.finished_at.is_(None))
    if source_id is not None:
        query = query.where(m.Run.source_id == source_id)
    runs = list(session.scalars(query.order_by(m.Run.id)))
    if not runs:
        return []
    names = sorted({heartbeat_lease(run.host, run.pid) for run in runs})
    leases = dict(session.execute(select(m.RunnerLease.name, m.RunnerLease.lease_until)
                                  .where(m.RunnerLease.name.in_(names))).all())
    found = []
    here = socket.gethostname()
    for run in runs:
        name = heartbeat_lease(run.host, run.pid)
        until = leases.get(name)
        if holder is not None and holder == (run.host, run.pid):
            gone = False  # it holds the run lock: alive, whatever became of its beats
        elif run.host == here and run.pid and run.pid != os.getpid():
            # A process of this machine is seen, not guessed from beats: SQLite's runs never beat, and
            # a `tracker crawl` (no run lock) going for hours was closed while plainly alive here. (One
            # of this very pid is a dead predecessor's, a container's pid 1 again: judged by its beats.)
            gone = not process_alive(run.pid)
        elif name in leases:
            gone = until is None or until <= now
        else:  # never beat (a release before heartbeats, or its first beat not yet written)
            gone = run.started_at <= now - NO_HEARTBEAT
        found.append(OpenRun(run, gone, until))
    return found


def run_lock_holder(store: Store) -> tuple[str | None, int | None] | None:
    """Who holds the run lock (SQLite's file beside the database, PostgreSQL's advisory lock)."""
    holder = lock_holder(store, Path.cwd())
    return (holder.host, holder.pid) if holder is not None else None


def mark_abandoned(session: Session, holder: tuple[str | None, int | None] | None) -> list[int]:
    """Close the unfinished runs whose runner is gone, on whatever machine (a cluster runner whose
    machine died leaves them open forever: it cannot be seen from here, and no process of this
    host had them): their heartbeat lease ran out and they do not hold the run lock. Never a
    run still going; one wrongly closed (a runner cut off from the database for minutes) is
    reopened by its own `finish_runs`, which closes it as it ends. Returns the ids closed."""
    now = clock.now()
    marked = []
    for found in open_runs(session, holder, now):
        if not found.abandoned:
            continue
        run = found.run
        beat_text = (f"no heartbeat since {clock.iso_z(found.lease_until - HEARTBEAT_LEASE)}"
                     if found.lease_until is not None else "no heartbeat")
        _close_for_others(run, ABANDONED, now,
                          f"its runner, pid {run.pid} on {run.host}, stopped ({beat_text}) before the crawl finished")
        marked.append(run.id)
        session.execute(delete(m.RunnerLease).where(m.RunnerLease.name == heartbeat_lease(run.host, run.pid)))
    if marked:
        log.warning("closed %d unfinished runs whose runners stopped heartbeating as abandoned: %s", len(marked),
                    ", ".join(map(str, marked)))
    # Leases of runs closed otherwise (interrupted here, killed between beats) go after a day.
    session.execute(delete(m.RunnerLease).where(m.RunnerLease.name.like("run:%"),
                                                m.RunnerLease.lease_until < now - timedelta(days=1)))
    return marked


def last_good_items(session: Session, source_id: str, before_run: int | None) -> int:
    """Items seen by the last successful run before this one (0 if none)."""
    query = select(m.Run.items).where(m.Run.source_id == source_id, m.Run.ok.is_(True))
    if before_run is not None:
        query = query.where(m.Run.id < before_run)
    return session.scalar(query.order_by(m.Run.id.desc()).limit(1)) or 0


def consecutive_failures(session: Session, source_id: str) -> int:
    """Failed runs in a row, newest first; an interrupted run (its process was killed) says
    nothing about the source and is skipped. Counted by the index since the last good run, so a
    source failing for weeks costs no more than one that failed once."""
    counted = _counted_runs(source_id)
    last_ok = session.scalar(counted.where(m.Run.ok.is_(True)).order_by(m.Run.id.desc()).limit(1))
    if last_ok is not None:
        counted = counted.where(m.Run.id > last_ok)
    return session.scalar(select(func.count()).select_from(counted.subquery())) or 0


# -- missing marks and baselines -------------------------------------------------------------------------

def _mark_missing(session: Session, report: SourceReport, now: datetime) -> None:
    """Meetings a complete listing no longer shows: noted, never reported as cancelled."""
    rows = session.execute(
        select(m.Entity, m.Snapshot.content)
        .join(m.Snapshot, m.Snapshot.id == m.Entity.current_snapshot_id)
        .where(m.Entity.source_id == report.source_id, m.Entity.kind == "meeting", m.Entity.missing_since.is_(None))
    )
    for entity, content in rows:
        if entity.key in report.seen or entity.key in report.unfollowed:
            continue
        if report.listing_window is not None:
            meeting = load_record("meeting", content)
            assert isinstance(meeting, Meeting)
            if not report.listing_window[0] <= (meeting.date or "")[:10] <= report.listing_window[1]:
                continue
        entity.missing_since = now
        entity.revision = (entity.revision or 0) + 1  # a new state: its calendar SEQUENCE goes up
        log.info("%s: %s is no longer listed by its source", report.source_id, entity.key)


def _leave_unfollowed(session: Session, report: SourceReport) -> None:
    """Meetings of bodies the watch no longer follows leave it, unalerted: no longer in its
    digest, its reminders or `status`. Their records and changes stay; following the body again
    brings them back with its next crawl."""
    if report.unfollowed:
        gone = session.execute(delete(m.WatchEntity).where(m.WatchEntity.watch_id.in_(report.watch_ids),
                                                           m.WatchEntity.entity_key.in_(sorted(report.unfollowed))))
        if gone.rowcount:
            log.info("%s: %d meetings of bodies not followed left the watch", report.source_id, gone.rowcount)


def _let_go_of_bills(session: Session, report: SourceReport) -> None:
    """Bills a watch's config no longer holds (a number taken out; a title phrase removed or its
    Congress no longer read; a keyword or a state removed) leave it, unalerted: no longer in its
    digest, `status` or alerts. Their records and changes stay; named again, the watch holds them
    at once (`_link_held`)."""
    for rule in report.rules:
        linked = session.execute(  # each bill the watch holds, with its current snapshot: one query
            select(m.WatchEntity.entity_key, m.Snapshot.content)
            .join(m.Entity, m.Entity.key == m.WatchEntity.entity_key)
            .outerjoin(m.Snapshot, m.Snapshot.id == m.Entity.current_snapshot_id)
            .where(m.WatchEntity.watch_id == rule.watch_id, m.WatchEntity.entity_key.like(f"{rule.kind}:%"))).all()
        gone = [key for key, content in linked if key not in rule.numbers and not _matched(rule, key, content)]
        if gone:
            session.execute(delete(m.WatchEntity).where(m.WatchEntity.watch_id == rule.watch_id,
                                                        m.WatchEntity.entity_key.in_(gone)))
            log.info("%s: %d bill(s) the watch %s no longer holds left it", report.source_id, len(gone),
                     rule.watch_id)


def _matched(rule: BillRule | StateBillRule, key: str, content: Any) -> bool:
    """Whether a bill the watch does not name is still one it matches by (its stored `content`): a
    federal title phrase (in a Congress it reads), or a state keyword query of the watch that found
    it in a place the watch still searches (StateBillRule)."""
    if not (rule.titles if isinstance(rule, BillRule) else rule.places) or not content:
        return False  # a watch by numbers only: no record to read
    record = load_record(rule.kind, content)
    if isinstance(rule, BillRule):
        return bool(rule.titles) and isinstance(record, Bill) and (
            not rule.congresses or record.congress in rule.congresses) and any(
            title_matches(record, phrase, contains=rule.title_contains, official=rule.official_titles)
            for phrase in rule.titles)
    if not isinstance(record, StateBill) or not any(
            state in (None, record.state) and session in (None, session_key(record.session))
            for state, session in rule.places):
        return False
    found = rule.found.get(key.removeprefix("statebill:"))
    return found is None or not rule.queries.isdisjoint(found)


def _link_held(session: Session, report: SourceReport) -> None:
    """A watch that names an entity already stored holds it at once: a new watch naming a bill
    another watch follows gets it though its file answers 304 (or is not asked for at all)."""
    if not report.held:
        return
    keys = sorted(report.held)
    stored = set(session.scalars(select(m.Entity.key).where(m.Entity.key.in_(keys))))
    linked = {(watch_id, key) for watch_id, key in session.execute(
        select(m.WatchEntity.watch_id, m.WatchEntity.entity_key).where(m.WatchEntity.entity_key.in_(keys)))}
    known = set(session.scalars(select(m.Watch.id).where(m.Watch.id.in_(sorted(set(report.watch_ids))))))
    for key in keys:
        for watch_id in report.held[key]:
            if key in stored and watch_id in known and (watch_id, key) not in linked:
                session.add(m.WatchEntity(watch_id=watch_id, entity_key=key))


def mark_baselines(store: Store, watch_ids: list[str]) -> None:
    """A watch whose crawl succeeded has its baseline: from now on new entities are news."""
    now = clock.now()
    with store.session() as session:
        for watch_id in watch_ids:
            watch = session.get(m.Watch, watch_id)
            if watch is not None and watch.baseline_at is None:
                watch.baseline_at = now
