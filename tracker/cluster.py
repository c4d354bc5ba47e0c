"""Many machines, one PostgreSQL: `tracker run --cluster` on each machine shares the crawl.

Sources are grouped by the host they fetch from (every city's Legistar is one group: one pace per
host needs one runner per host). Each group has a lease row in `runner_leases`; a runner claims
free groups with `FOR UPDATE SKIP LOCKED` (two runners never take one group) and keeps the lease for
the cycle (the cron interval), so a group is crawled by one runner per cycle, and by none again
before the cycle ends even after it is done. A runner that dies simply stops renewing nothing: its
leases run out with the cycle and the next cycle's runners take its groups. Runners claim a share
at a time (`ROUNDS`), so runners started together split the groups instead of the first taking all.

The digest (and closing daily/weekly bundles) needs one writer: whoever holds the `digest` lease,
renewed by its holder each cycle and taken over by another runner once it runs out.

SQLite has one writer and one machine: there every group is this runner's (the same code, without
SKIP LOCKED, serialised by SQLite's write lock). `run_cluster` is the whole of `tracker run --cluster`
but its printing: the command line hands it the stages (crawl, notify, digest), each printing what
it did.
"""

from __future__ import annotations

import hashlib
import math
import os
import socket
import time
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Protocol
from urllib.parse import urlsplit

from sqlalchemy import or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from tracker import clock
from tracker import models as m
from tracker.config import Config
from tracker.lock import held_session, released_with_session
from tracker.outbox import sync_subscribers
from tracker.planning import SourceJob, plan_sources
from tracker.store import Store, ensure_watches

ROUNDS = 4  # a runner claims about 1/ROUNDS of the groups at a time
DIGEST = "digest"
_L = m.RunnerLease


def default_runner_id() -> str:
    """This machine's name: stable across its runs, so it keeps renewing the digest lease it holds."""
    return socket.gethostname()


def _host(url: str) -> str | None:
    parts = urlsplit(url)
    if not parts.hostname:
        return None
    port = parts.port
    return parts.hostname.lower() if port in (None, 80, 443) else f"{parts.hostname.lower()}:{port}"


def job_host(config: Config, job: SourceJob) -> str:
    """The host a source fetches from (its group), by the same rule as the crawl's pace per host."""
    bases = {"govinfo": config.sources.govinfo.base_url, "legistar": config.sources.legistar.base_url,
             "legislators": config.sources.legislators.base_url, "openstates": config.sources.openstates.base_url}
    url: str | None = bases.get(job.kind)
    watch = job.kwargs.get("watch")
    if url is None and watch is not None and isinstance(watch.source, str):
        url = watch.source
    if url is None and isinstance(job.kwargs.get("base"), str):  # test spiders name their server
        url = job.kwargs["base"]
    return (_host(url) if url else None) or f"kind:{job.kind}"


def group_jobs(config: Config, jobs: Iterable[SourceJob]) -> dict[str, list[SourceJob]]:
    """Jobs by lease name (`group:<host>`), in a stable order."""
    groups: dict[str, list[SourceJob]] = {}
    for job in jobs:
        groups.setdefault(f"group:{job_host(config, job)}", []).append(job)
    return dict(sorted(groups.items()))


def _ensure_rows(store: Store, names: list[str]) -> None:
    """One lease row per name (free until claimed); concurrent runners may both insert: ignored."""
    if not names:
        return
    dialect = store.engine.dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    with store.engine.begin() as conn:
        conn.execute(insert(_L).values([{"name": n} for n in names]).on_conflict_do_nothing(index_elements=["name"]))


def _claim(store: Store, names: list[str], runner_id: str, lease_seconds: float, limit: int | None,
           mine_too: bool = False) -> list[str]:
    """Lease up to `limit` of these rows that nobody holds (or whose lease ran out); their names."""
    now = clock.now()
    free = or_(_L.lease_until.is_(None), _L.lease_until <= now)
    if mine_too:
        free = or_(free, _L.owner == runner_id)
    pick = select(_L.name).where(_L.name.in_(names), free).order_by(_L.name).with_for_update(skip_locked=True)
    if limit is not None:
        pick = pick.limit(limit)
    statement = (update(_L).where(_L.name.in_(pick.scalar_subquery()), free)
                 .values(owner=runner_id, lease_until=now + timedelta(seconds=lease_seconds), claimed_at=now)
                 .returning(_L.name))
    with store.engine.begin() as conn:
        return sorted(conn.execute(statement).scalars())


def claim_groups(store: Store, config: Config, jobs: list[SourceJob], runner_id: str, lease_seconds: float,
                 *, limit: int | None = None, done: Collection[str] = ()) -> list[SourceJob]:
    """Lease free source groups for this cycle and return their jobs (none: every group is taken or
    already crawled this cycle). `limit` groups at most (default: about 1/ROUNDS of them); call again
    after crawling them until it returns nothing. `done`: groups this run crawled already, never
    taken again by it (their leases may have ended with the cycle)."""
    groups = group_jobs(config, jobs)
    if not groups:
        return []
    _ensure_rows(store, list(groups))
    if limit is None:
        limit = max(1, math.ceil(len(groups) / ROUNDS))
    groups = {name: group for name, group in groups.items() if name not in done}
    if not groups:
        return []
    claimed = _claim(store, list(groups), runner_id, lease_seconds, limit)
    return [job for name in claimed for job in groups[name]]


def end_leases(store: Store, names: list[str], runner_id: str, cycle_end: datetime) -> None:
    """Groups this runner has crawled stay taken until the end of the cycle it started in, not a
    whole cycle from when it took them: one taken late in the cycle (after a slow host) was still
    taken at the next tick, and nobody crawled it that cycle. While crawling, a group keeps the
    lease it was taken with: no other runner starts on it meanwhile."""
    if names:
        with store.engine.begin() as conn:
            conn.execute(update(_L).where(_L.name.in_(names), _L.owner == runner_id, _L.lease_until > cycle_end)
                         .values(lease_until=cycle_end))


def holds_digest_lease(store: Store, runner_id: str, lease_seconds: float) -> bool:
    """Whether this runner writes the digest (and closes bundles) this cycle: it takes the lease when
    free or expired and renews it while it holds it; another runner gets it once it runs out."""
    _ensure_rows(store, [DIGEST])
    return bool(_claim(store, [DIGEST], runner_id, lease_seconds, 1, mine_too=True))


def runner_label(runner_id: str | None) -> str:
    """The runner id a `tracker run --cluster` uses: given, else this machine's name."""
    return runner_id or os.environ.get("TRACKER_RUNNER") or default_runner_id()


@contextmanager
def runner_lock(store: Store, runner_id: str) -> Iterator[bool]:
    """One run at a time per runner id (a session advisory lock on PostgreSQL, gone with the
    process): a run that outlasts its cycle is not joined by the next one of the same machine."""
    if store.engine.dialect.name != "postgresql":
        yield True
        return
    key = int.from_bytes(hashlib.sha256(f"tracker-runner:{runner_id}".encode()).digest()[:8], "big", signed=True)
    with store.engine.connect() as conn:
        held_session(conn)
        got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar())
        conn.commit()
        try:
            yield got
        finally:
            if got:
                with released_with_session(conn, f"runner {runner_id}"):
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                    conn.commit()


SETUP_KEY = 0x7472616C  # "tral": one runner at a time records new watches and follows


def prepare(store: Store, config: Config) -> None:
    """Record the config's watches and subscribers' follows before crawling, one runner at a time.
    `ensure_watches` and `sync_subscribers` are race-safe by themselves (INSERT … ON CONFLICT DO
    NOTHING: the first writer's row, and so a follow's start, stands); the lock only spares
    runners starting together the wasted duplicate inserts. After this, the same calls inside
    `run_crawls` find every row and insert nothing."""
    with store.session() as session:
        if store.engine.dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SETUP_KEY})
        ensure_watches(session, [(w.id, "bill", w.name) for w in config.bills]
                       + [(w.id, "meeting", w.name) for w in config.meetings])
        sync_subscribers(session, config)


class NotClustered(Exception):
    """`tracker run --cluster` on a database several machines cannot share."""


class Stages(Protocol):
    """What `run_cluster` calls, each stage printing what it did (tracker/cli.py)."""

    def say(self, text: str) -> None: ...

    def problem(self, text: str) -> None:
        """A line printed even under --quiet."""

    def before(self) -> None:
        """Record what an earlier notifier sent but could not record."""

    def crawl(self, jobs: list[SourceJob]) -> bool: ...

    def notify(self, *, bundles: bool) -> bool: ...

    def digest(self) -> bool: ...


SKEW_SECONDS = 30.0  # a runner's clock further than this from the database's is said


def clock_skew(store: Store) -> float | None:
    """How far this machine's clock is ahead of the database's (negative: behind), in seconds,
    measured at the middle of the query's round trip; None while the tracker's clock is set
    (TRACKER_NOW). Every runner times its leases by its own clock, so runners whose clocks
    disagree by more than a lease's margin take a group (or a delivery) another still holds."""
    if os.environ.get("TRACKER_NOW"):
        return None
    with store.engine.connect() as conn:
        before = time.time()
        database = float(conn.execute(text("SELECT EXTRACT(EPOCH FROM clock_timestamp())")).scalar() or 0.0)
        after = time.time()
    return (before + after) / 2 - database


def run_cluster(store: Store, config: Config, runner_id: str | None, cycle_minutes: float, stages: Stages) -> int:
    """`tracker run --cluster`: lease source groups a share at a time and crawl them until none is
    free, send what is due (every runner: the outbox lease keeps it exactly once), and write the
    digest when holding its lease. Exit code as `run`."""
    if store.engine.dialect.name != "postgresql":
        raise NotClustered("tracker run --cluster needs PostgreSQL storage (SQLite is one machine's)")
    runner = runner_label(runner_id)
    # The lease ends a little before the next cycle starts, whatever the clocks' skew.
    lease = cycle_minutes * 60 - min(60.0, cycle_minutes * 6)
    cycle_end = clock.now() + timedelta(seconds=lease)
    with runner_lock(store, runner) as held:
        if not held:
            stages.say(f"another tracker run --cluster as runner {runner} is in progress; nothing to do")
            return 0
        skew = clock_skew(store)
        if skew is not None and abs(skew) > SKEW_SECONDS:
            stages.problem(f"cluster: runner {runner}'s clock is {abs(skew):.0f} s {'ahead of' if skew > 0 else 'behind'} "
                           "the database's: runners time their leases by their own clocks, so a group or a message "
                           "may be taken twice; keep every runner's clock synchronized (NTP)")
        stages.before()
        prepare(store, config)
        jobs = plan_sources(config)
        total = len(group_jobs(config, jobs))
        ok, crawled = True, 0
        done: set[str] = set()
        while batch := claim_groups(store, config, jobs, runner, lease, done=done):
            names = list(group_jobs(config, batch))
            crawled += len(names)
            ok = stages.crawl(batch) and ok
            done.update(names)
            end_leases(store, names, runner, cycle_end)
        stages.say(f"cluster: runner {runner} crawled {crawled} of {total} source groups this cycle")
        writes_digest = holds_digest_lease(store, runner, lease)
        ok = stages.notify(bundles=writes_digest) and ok
        if writes_digest:
            ok = stages.digest() and ok
    return 0 if ok else 1
