"""Failures of the machine rather than of a source or a target: a full disk, said in one line.

A full disk shows up in many shapes: `OSError` ENOSPC writing a file, SQLite's "database or disk
is full" (or its shared-memory file failing to grow, "disk I/O error"), PostgreSQL's disk_full
(SQLSTATE 53100), each maybe wrapped by SQLAlchemy. The command line turns any of them into one
line, in every mode, instead of a traceback.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator

DISK_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
SQLITE_FULL = {"SQLITE_FULL", "SQLITE_IOERR_SHMSIZE"}
PG_DISK_FULL = "53100"


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo.extend([getattr(current, "orig", None), current.__cause__, current.__context__])


def disk_full(exc: BaseException) -> bool:
    """Whether `exc` (or what it wraps) says the disk or a quota is full."""
    for current in _chain(exc):
        if isinstance(current, OSError) and current.errno in DISK_ERRNOS:
            return True
        if getattr(current, "sqlite_errorname", None) in SQLITE_FULL:
            return True
        if getattr(current, "sqlstate", None) == PG_DISK_FULL:
            return True
        if "database or disk is full" in str(current) or "No space left on device" in str(current):
            return True
    return False


def describe_failure(exc: BaseException) -> str:
    """`exc` in one short line: the database driver's own words rather than SQLAlchemy's wrapping
    (with its statement and its link), else the exception's first line."""
    inner = getattr(exc, "orig", None) or exc
    lines = str(inner).strip().splitlines()
    text = lines[0] if lines else type(inner).__name__
    return text if disk_full(exc) else f"{type(inner).__name__}: {text}"
