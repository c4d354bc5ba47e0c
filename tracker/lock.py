"""`tracker run` holds one lock: a lock file beside a SQLite database, an advisory lock on
PostgreSQL. Both vanish with the process that held them, so a killed run never blocks the next.

A lock says nothing of who holds it, and a run that hangs while holding it silently stops all
tracking. So the holder (pid, host, start time) is recorded beside the lock: a small JSON file next
to the lock file for SQLite, a `lock_holders` row for PostgreSQL (with the session's backend pid, so
a row left by a killed holder is never mistaken for the live one). `lock_holder()` reads it without
taking the lock, for `status --check` and for a run that finds the lock taken.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, delete, select, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from tracker import clock
from tracker import models as m
from tracker.faults import describe_failure
from tracker.store import Store
from tracker.words import STAMP, local_time

log = logging.getLogger(__name__)
ADVISORY_KEY = 0x7472616B  # "trak"
HOLDER_ROW = "run"


@dataclass(frozen=True)
class Holder:
    """Who holds the run lock; `started_at` is None when the holder did not say (a holder row not
    yet written)."""

    pid: int | None
    host: str | None
    started_at: datetime | None

    def minutes(self, now: datetime | None = None) -> float:
        if self.started_at is None:
            return 0.0
        return ((now or clock.now()) - self.started_at).total_seconds() / 60

    def describe(self, zone: str | None = None) -> str:
        """Who holds the lock since when: in `zone` for people, UTC ISO where a program reads it."""
        if self.started_at is None:
            since = "an unknown time"
        elif zone:
            since = local_time(clock.iso_z(self.started_at), zone, STAMP)
        else:
            since = clock.iso_z(self.started_at)
        return f"pid {self.pid or '?'} on {self.host or '?'} since {since}"


def process_alive(pid: int) -> bool:
    """Whether a process with this pid runs on this host (a zombie, killed but not yet reaped,
    counts as gone)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc (macOS): the signal check is all there is
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def lock_path(store: Store, lock_dir: Path) -> Path:
    return lock_path_of(store.engine.url, lock_dir)


def lock_path_of(url: URL, lock_dir: Path) -> Path:
    """The lock file of a database by its URL (beside a SQLite file), without opening it."""
    database = url.database
    return Path(f"{database}.lock") if database and database != ":memory:" else lock_dir / "tracker.lock"


def holder_path(store: Store, lock_dir: Path) -> Path:
    path = lock_path(store, lock_dir)
    return path.with_name(path.name + ".holder")


# How soon PostgreSQL finds a lock holder's machine gone (its power lost, its network cut): the
# server probes the idle session's client after KEEPALIVE_IDLE s, then every KEEPALIVE_INTERVAL s,
# and ends the session, and the lock with it, after KEEPALIVE_COUNT unanswered probes: about two
# minutes, not the system's two hours and more (`tcp_keepalives_*`, settable by any session).
KEEPALIVE_IDLE, KEEPALIVE_INTERVAL, KEEPALIVE_COUNT = 60, 10, 6


def held_session(conn: Connection) -> None:
    """Ready a PostgreSQL session that will hold an advisory lock while it sits idle: the server
    probes its client (`KEEPALIVE_*`) so that a lock whose machine died goes within minutes. (A
    live client's system answers the probes itself: a long run keeps its lock.)"""
    conn.execute(text(f"SET tcp_keepalives_idle = {KEEPALIVE_IDLE}"))
    conn.execute(text(f"SET tcp_keepalives_interval = {KEEPALIVE_INTERVAL}"))
    conn.execute(text(f"SET tcp_keepalives_count = {KEEPALIVE_COUNT}"))


@contextmanager
def run_lock(store: Store, lock_dir: Path) -> Iterator[bool]:
    """Yield True when this process holds the lock, False when another run holds it."""
    if store.engine.dialect.name == "postgresql":
        with store.engine.connect() as conn:
            held_session(conn)
            got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY}).scalar())
            if got:
                _write_holder_row(conn)
            conn.commit()  # never sit "idle in transaction" for the whole run
            try:
                yield got
            finally:
                if got:
                    with released_with_session(conn, "tracker run"):
                        backend = conn.execute(text("SELECT pg_backend_pid()")).scalar()
                        conn.execute(delete(m.LockHolder).where(m.LockHolder.name == HOLDER_ROW,
                                                                m.LockHolder.backend_pid == backend))
                        conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
                        conn.commit()
        return
    path = lock_path(store, lock_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        holder = holder_path(store, lock_dir)
        _write_holder_file(holder)
        try:
            yield True
        finally:
            with contextlib.suppress(OSError):
                holder.unlink()
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextmanager
def released_with_session(conn: Connection, what: str) -> Iterator[None]:
    """Release a session's advisory lock, unless the session is gone already (the database
    restarted, or dropped the connection idle for the whole run): the lock went with it, and the
    run's work is done and stored, so that is a warning, not a failed run."""
    try:
        yield
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
        log.warning("%s: the database connection holding the lock was lost during the run (%s); another run "
                    "may have started meanwhile", what, describe_failure(exc))


def _write_holder_file(path: Path) -> None:
    """Atomically (a reader never sees half a file); on a full disk, nothing is left behind."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                   "started_at": clock.iso_z(clock.now())}))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def _write_holder_row(conn: Connection) -> None:
    backend = conn.execute(text("SELECT pg_backend_pid()")).scalar()
    conn.execute(delete(m.LockHolder).where(m.LockHolder.name == HOLDER_ROW))
    conn.execute(m.LockHolder.__table__.insert().values(
        name=HOLDER_ROW, pid=os.getpid(), host=socket.gethostname(), started_at=clock.now(), backend_pid=backend))


def lock_holder(store: Store, lock_dir: Path) -> Holder | None:
    """The run lock's current holder, or None when nobody holds it. Never takes the lock (a probe
    could make a starting run believe another one is in progress)."""
    if store.engine.dialect.name == "postgresql":
        return _pg_holder(store)
    try:
        data = json.loads(holder_path(store, lock_dir).read_text())
    except (OSError, ValueError):
        return None
    pid, host = int(data.get("pid") or 0), str(data.get("host") or "")
    if host == socket.gethostname() and not process_alive(pid):
        return None  # left by a killed holder: the lock went with it
    started = data.get("started_at")
    return Holder(pid, host, clock.parse_instant(started) if started else None)


def _pg_holder(store: Store) -> Holder | None:
    with store.engine.connect() as conn:
        backend = conn.execute(text(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = 0 AND objid = :k"
            " AND objsubid = 1 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        ), {"k": ADVISORY_KEY}).scalar()
        if backend is None:
            return None
        row = conn.execute(select(m.LockHolder).where(m.LockHolder.name == HOLDER_ROW,
                                                      m.LockHolder.backend_pid == backend)).first()
    if row is None:
        return Holder(None, None, None)
    return Holder(row.pid, row.host, row.started_at)
