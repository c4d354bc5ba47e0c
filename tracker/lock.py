"""`tracker run` holds one lock: a lock file beside a SQLite database, an advisory lock on
PostgreSQL. Both vanish with the process that held them, so a killed run never blocks the next."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text

from tracker.store import Store

ADVISORY_KEY = 0x7472616B  # "trak"


@contextmanager
def run_lock(store: Store, lock_dir: Path) -> Iterator[bool]:
    """Yield True when this process holds the lock, False when another run holds it."""
    if store.engine.dialect.name == "postgresql":
        with store.engine.connect() as conn:
            got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY}).scalar())
            try:
                yield got
            finally:
                if got:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
                conn.rollback()
        return
    database = store.engine.url.database
    path = Path(f"{database}.lock") if database and database != ":memory:" else lock_dir / "tracker.lock"
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
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
