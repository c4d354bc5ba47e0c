"""Deliveries sent but not recorded: a message went out, then the database could not record it
(the disk filled up, the database server went away). The next notify would send it again.

So each notifier first makes ready a small journal file with its space taken up front
(`posix_fallocate`): writing a few ids into it later needs no new space, even on a full disk.
When marking a sent message fails, the notifier writes the message's row ids there (fsynced) and
stops; the next `tracker notify` or `tracker run` records them as sent and frees the rest of
that notifier's leases before it claims anything. Each id is written with a hash of its row's
dedupe key (`id@hash`; the key is unique): SQLite gives a deleted row's id to the next row made (a
person deleting their data in between), and a new delivery must not pass for the one sent. A
notifier that ends normally removes its file; an empty file left by a killed one is removed once
its process is gone.

The files sit beside a SQLite database (`tracker.db.sent.<pid>.<owner>`); for PostgreSQL in the
config's folder, named by the database (`tracker-<hash>.sent.<pid>.<owner>`).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.engine import URL, make_url

from tracker import clock
from tracker import models as m
from tracker.lock import lock_path_of, process_alive
from tracker.store import Store

SIZE = 64 * 1024  # ids of one message's rows: thousands fit


def _prefix(store: Store, base_dir: Path) -> Path:
    return _prefix_of(store.engine.url, base_dir)


def _prefix_of(url: URL, base_dir: Path) -> Path:
    """Beside a SQLite database; else in the config's folder, named by the database (host, name,
    user: no password), so two configs sharing a folder never replay each other's journals. From
    the URL alone: `status --check` counts the journals even when the database cannot be opened."""
    if url.get_backend_name() == "sqlite":
        lock = lock_path_of(url, base_dir)
        return lock.with_name(lock.name.removesuffix(".lock") + ".sent")
    database = url.render_as_string(hide_password=True)
    return base_dir / f"tracker-{hashlib.sha256(database.encode()).hexdigest()[:12]}.sent"


class SentJournal:
    """One notifier's journal, ready before its first send."""

    def __init__(self, store: Store, base_dir: Path, owner: str) -> None:
        prefix = _prefix(store, base_dir)
        self.path = prefix.with_name(f"{prefix.name}.{os.getpid()}.{owner}")
        self.used = 0
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            allocate = getattr(os, "posix_fallocate", None)  # not on macOS
            try:
                if allocate is None:
                    raise OSError(errno.EOPNOTSUPP, "no posix_fallocate")
                allocate(fd, 0, SIZE)
            except OSError as exc:
                if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL):  # a file system without fallocate
                    raise
                os.pwrite(fd, b"\0" * SIZE, 0)  # zeros written now are space taken now
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            with contextlib.suppress(OSError):
                self.path.unlink()
            raise
        self.fd: int | None = fd

    def record(self, rows: list[tuple[int, str]]) -> bool:
        """Keep the rows (id, dedupe key) as sent (False when they do not fit, or the write
        failed)."""
        line = (",".join(f"{i}@{_mark(key)}" for i, key in rows) + "\n").encode()
        if self.fd is None or self.used + len(line) > SIZE:
            return False
        try:
            os.pwrite(self.fd, line, self.used)
            os.fsync(self.fd)
        except OSError:
            return False
        self.used += len(line)
        return True

    def close(self) -> None:
        """Remove the file unless it holds something to record."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        if not self.used:
            with contextlib.suppress(OSError):
                self.path.unlink()


def _journals(prefix: Path) -> list[tuple[Path, str, str, str | None]]:
    """Each journal file of `prefix`: its path, the notifier's pid and owner, and its ids as written
    (None when it cannot be read)."""
    found: list[tuple[Path, str, str, str | None]] = []
    for path in sorted(prefix.parent.glob(f"{prefix.name}.*.*")):
        pid_text, _, owner = path.name[len(prefix.name) + 1:].partition(".")
        try:
            content: str | None = path.read_bytes().split(b"\0", 1)[0].decode("ascii")
        except (OSError, UnicodeDecodeError):
            content = None
        found.append((path, pid_text, owner, content))
    return found


def _mark(dedupe_key: str) -> str:
    """A row's dedupe key as the journal names it: short, and unique enough among a few rows."""
    return hashlib.sha256(dedupe_key.encode()).hexdigest()[:16]


def _entries(content: str) -> dict[int, str | None]:
    """The journal's rows: id to its dedupe key's mark (None in a journal written before marks
    were)."""
    found: dict[int, str | None] = {}
    for line in content.splitlines():
        for entry in line.split(","):
            ident, _, mark = entry.strip().partition("@")
            if ident.isdigit():
                found[int(ident)] = mark or None
    return found


def _written_at(path: Path) -> datetime | None:
    """When a journal was last written (its file's mtime). A journal of ids alone (written by a
    release before marks) cannot tell a sent row from a new one SQLite made under its id after the
    row was deleted; a row made after the journal's last write was not sent by its notifier. Only
    on SQLite: PostgreSQL never gives an id twice, and its rows' clocks may be another machine's."""
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except OSError:
        return None


def unrecorded(database_url: str, base_dir: Path) -> int:
    """How many deliveries were sent but are not recorded yet (for `status --check`; reads files
    only, so it works while the database cannot be opened)."""
    prefix = _prefix_of(make_url(database_url), base_dir)
    return sum(len(_entries(content)) for _, _, _, content in _journals(prefix) if content)


def replay(store: Store, base_dir: Path) -> int:
    """Record as sent what earlier notifiers sent but could not record, and free their other
    leases; returns how many deliveries were recorded. Raises when the database still cannot
    record them (the journal is kept for the next try)."""
    recorded = 0
    for path, pid_text, owner, content in _journals(_prefix(store, base_dir)):
        if content is None:
            continue
        if not content:
            if pid_text.isdigit() and not process_alive(int(pid_text)):
                with contextlib.suppress(OSError):
                    path.unlink()  # left by a notifier that was killed before it sent anything
            continue
        entries = _entries(content)
        written = _written_at(path) if store.engine.dialect.name == "sqlite" else None
        with store.engine.begin() as conn:
            # only the rows that were sent: a row made since under a sent one's id is not one of them
            ids = [ident for ident, key, made in conn.execute(
                       select(m.Delivery.id, m.Delivery.dedupe_key, m.Delivery.created_at)
                       .where(m.Delivery.id.in_(list(entries))))
                   if entries[ident] == _mark(key)
                   or (entries[ident] is None and (written is None or made <= written))]
            if ids:
                recorded += conn.execute(
                    update(m.Delivery).where(m.Delivery.id.in_(ids), m.Delivery.status.in_(("pending", "failed")))
                    .values(status="sent", sent_at=clock.now(), tries=m.Delivery.tries + 1, last_error=None,
                            lease_owner=None, lease_until=None)).rowcount
            # That notifier stopped at its failure: nothing else it leased is being sent.
            conn.execute(update(m.Delivery).where(m.Delivery.lease_owner == owner)
                         .values(lease_owner=None, lease_until=None))
        path.unlink()
    return recorded
