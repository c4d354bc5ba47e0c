"""Parse and store crawled items in a worker process.

Python threads share one core: with the engine, the XML parser and the database in one process, a
full sync of 2,000 bills ran at a quarter of the engine's own download rate. The spider hands the
raw response to this worker instead; the engine keeps downloading on one core while the worker
parses, diffs and stores on the other. One worker keeps every entity's writes in order.

The worker is spawned once per process (never forked from a process running the reactor thread)
and reused by every crawl; `prepare()` tells it which database and config the next items belong to.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from tracker import secrets
from tracker.config import Config
from tracker.records import Item

log = logging.getLogger(__name__)

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None

# Worker-side state, set by _prepare().
_state: dict[str, Any] = {}


@dataclass
class Outcome:
    """What storing one item did; `error` is a one-line problem for the source's report."""

    new_snapshot: bool = False
    changes: int = 0
    error: str | None = None


# -- main process side ---------------------------------------------------------------------------


def pool() -> ProcessPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        return _pool


def reset() -> None:
    """Forget a broken worker; the next crawl spawns a new one."""
    global _pool
    with _lock:
        if _pool is not None:
            _pool.shutdown(wait=False, cancel_futures=True)
        _pool = None


def prepare(database_url: str, config: Config, run_ids: dict[str, int]) -> None:
    """Point the worker at this crawl's database, config and Run rows (blocks until done)."""
    try:
        pool().submit(_prepare, database_url, config, run_ids, sorted(secrets._known)).result()
    except Exception:
        reset()
        pool().submit(_prepare, database_url, config, run_ids, sorted(secrets._known)).result()


def submit(item: Item) -> Future[Outcome]:
    return pool().submit(_process, item)


# -- worker side ---------------------------------------------------------------------------------


def _prepare(database_url: str, config: Config, run_ids: dict[str, int], known: list[str]) -> None:
    from tracker.store import Store

    logging.basicConfig(level=logging.ERROR)
    for value in known:
        secrets.register(value)
    secrets.install_log_masking()
    stores: dict[str, Store] = _state.setdefault("stores", {})
    if database_url not in stores:
        if len(stores) >= 4:  # tests open many databases: keep a few engines, not all
            stores.pop(next(iter(stores))).dispose()
        stores[database_url] = Store(database_url, migrate=False)
    _state["store"] = stores[database_url]
    _state["config"] = config
    _state["run_ids"] = dict(run_ids)
    on_change = None
    try:
        from tracker.alerts.outbox import owe_instant
    except ImportError:
        pass
    else:
        def on_change(session: Any, change: Any) -> None:
            owe_instant(session, change, config)
    _state["on_change"] = on_change


def parse_item(item: Item) -> dict[str, Any]:
    """Turn a raw response into the entity's content; ValueError says what is wrong with it."""
    if item.parse_with == "govinfo":
        from tracker.bills import parse_billstatus

        content = parse_billstatus(item.raw or b"")
        expected = item.key.removeprefix("bill:")
        if content.get("number") != expected:
            raise ValueError(f"file describes {content.get('number')}, not {expected}")
        return content
    raise ValueError(f"no parser named {item.parse_with!r}")


def _process(item: Item) -> Outcome:
    from tracker.diff import diff_entity
    from tracker.store import ingest

    try:
        if item.parse_with:
            item.content = parse_item(item)
    except ValueError as exc:
        return Outcome(error=str(exc))
    result = ingest(_state["store"], item, diff_entity, run_id=_state["run_ids"].get(item.source_id),
                    on_change=_state["on_change"])
    item.raw = None
    return Outcome(new_snapshot=result.new_snapshot, changes=len(result.changes))
