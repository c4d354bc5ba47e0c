"""Parse and store crawled items in a worker process.

Python threads share one core: with the engine, the XML parser and the database in one process, a
full sync of 2,000 bills ran at a quarter of the engine's own download rate. The spider hands the
raw response to a worker instead; the engine keeps downloading while workers parse, diff and store.
One worker is started first; a second only when items pile up (a full sync), and an entity's items
go to the worker already holding one of its items, so each entity's writes stay in order.

Workers are spawned (never forked from a process running the reactor thread) and reused by every
crawl of the process; `prepare()` tells them which database and config the next items belong to.
Each exits by itself when the main process dies (tracker.spawned).
"""

from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from tracker import logs, secrets
from tracker.config import Config
from tracker.outbox import active_people, owe_instant
from tracker.records import Bill, Item, Record
from tracker.sources import SOURCES
from tracker.spawned import Child, ChildDied
from tracker.store import Store, ingest

log = logging.getLogger(__name__)

# Worker-side state, set by _prepare().
_state: dict[str, Any] = {}


@dataclass
class Outcome:
    """What storing one item did; `error` is a one-line problem for the source's report."""

    new_snapshot: bool = False
    changes: int = 0
    error: str | None = None


# -- main process side ---------------------------------------------------------------------------

MAX_WORKERS = 2  # a second worker starts only when the first cannot keep up (`SPAWN_BACKLOG`)
SPAWN_BACKLOG = 16  # items waiting for the busiest worker before another is started


class _Worker:
    """One ingest process and the items on their way to it.

    Items go in batches: whatever arrived while the worker was busy goes in one call, with at most
    `IN_FLIGHT` calls queued. One call per item was fed to the worker by a sending thread that
    needs the GIL the busy reactor thread holds: the worker waited between items. Each
    item is still stored in its own transaction, in the order it came, and gets its own outcome or
    exception; a worker that dies fails only the batches it held, and the next batch spawns a new one.
    """

    IN_FLIGHT = 2
    MAX_ITEMS = 64

    def __init__(self) -> None:
        self.lock = threading.Lock()
        # The process, spawned on first use; it exits by itself when this process dies (tracker.spawned).
        self.process: Child | None = None
        self.waiting: list[tuple[Item, Future[Outcome]]] = []
        self.in_flight = 0  # calls
        self.held = 0  # items in those calls

    def executor(self) -> Child:
        with self.lock:
            if self.process is None:
                self.process = Child("ingest worker", initializer=_start_worker, initargs=(logs.current(),))
                if _prepared is not None:  # started mid-crawl (a second worker, or a dead one's heir)
                    self.process.submit(_prepare, *_prepared)
            return self.process

    def reset(self, broken: Child | None = None) -> None:
        """Forget a broken worker (only if it is still `broken`, when given): many items see one
        worker die; the first resets it, the others leave its replacement be."""
        with self.lock:
            if broken is not None and self.process is not broken:
                return
            if self.process is not None:
                self.process.stop()  # an old worker still alive sees its call pipe close and exits
            self.process = None

    def backlog(self) -> int:
        return len(self.waiting) + self.held

    def pids(self) -> list[int]:
        child = self.process
        return [child.pid] if child is not None and child.pid is not None else []

    def submit(self, item: Item) -> Future[Outcome]:
        future: Future[Outcome] = Future()
        with self.lock:
            self.waiting.append((item, future))
        self._send()
        return future

    def _send(self) -> None:
        with self.lock:
            if self.in_flight >= self.IN_FLIGHT or not self.waiting:
                return
            batch, self.waiting = self.waiting[:self.MAX_ITEMS], self.waiting[self.MAX_ITEMS:]
            self.in_flight += 1
            self.held += len(batch)
        used = self.executor()
        try:
            call = used.submit(_process_batch, [item for item, _ in batch])
        except Exception as exc:  # stopped or dead: these items fail, the next ones get a new worker
            self.reset(used)
            self._finish(batch, exc)
            return
        call.add_done_callback(lambda call: self._done(used, batch, call))

    def _done(self, used: Child, batch: list[tuple[Item, Future[Outcome]]],
              call: Future[list[Outcome | Exception]]) -> None:
        if (problem := call.exception()) is not None:
            if isinstance(problem, ChildDied):
                self.reset(used)  # the worker died: the next batch spawns a new one
            self._finish(batch, problem)
        else:
            self._finish(batch, call.result())

    def _finish(self, batch: list[tuple[Item, Future[Outcome]]],
                results: list[Outcome | Exception] | BaseException) -> None:
        with self.lock:
            self.in_flight -= 1
            self.held -= len(batch)
        if isinstance(results, BaseException):
            results = [results] * len(batch)  # type: ignore[list-item]
        for (_, future), result in zip(batch, results, strict=True):  # type: ignore[arg-type]
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)
        self._send()


_lock = threading.Lock()
_workers: list[_Worker] = [_Worker()]
# Entities with items on their way, and to which worker: an entity's next item follows them, so
# its writes stay in order whichever worker stores it.
_routes: dict[str, list[int]] = {}  # entity key -> [worker index, items on their way]
# The last `prepare()` arguments: a worker started mid-crawl gets them first.
_prepared: tuple[Any, ...] | None = None


def submit(item: Item) -> Future[Outcome]:
    """Parse, diff and store one item in a worker; the future holds what storing it did."""
    with _lock:
        route = _routes.get(item.key)
        if route is None:
            index = min(range(len(_workers)), key=lambda i: _workers[i].backlog())
            if _workers[index].backlog() >= SPAWN_BACKLOG and len(_workers) < MAX_WORKERS:
                _workers.append(_Worker())  # the others cannot keep up: one more, spawned on first use
                index = len(_workers) - 1
            route = _routes[item.key] = [index, 0]
        route[1] += 1
        worker = _workers[route[0]]
    future = worker.submit(item)
    future.add_done_callback(lambda _: _arrived(item.key))
    return future


def _arrived(key: str) -> None:
    with _lock:
        route = _routes.get(key)
        if route is not None:
            route[1] -= 1
            if route[1] <= 0:
                del _routes[key]


def prepare(database_url: str, config: Config, run_ids: dict[str, int]) -> None:
    """Point the running workers at this crawl's database, config and Run rows (blocks until
    done); a worker started later, with the crawl's first item, is pointed there first thing. A
    crawl that stores nothing (every source answered 304) starts no worker: a spawned worker
    imports the whole store again, a second of CPU at each start."""
    # The worker outlives one crawl: it reads the clock this process reads (TRACKER_NOW included).
    global _prepared
    args = (database_url, config, run_ids, sorted(secrets._known), os.environ.get("TRACKER_NOW"))
    _prepared = args
    for worker in list(_workers):
        if (process := worker.process) is None:
            continue
        try:
            process.submit(_prepare, *args).result()
        except Exception:
            worker.reset(process)  # a dead one: its heir is spawned, and prepared, with the next item


def worker_pids() -> list[int]:
    """The ingest processes running now (benchmarks read their CPU time and memory)."""
    return [pid for worker in list(_workers) for pid in worker.pids()]


def shutdown() -> None:
    """Stop every worker and wait for it (a benchmark's last step: they hold its stdout open)."""
    for worker in list(_workers):
        if worker.process is not None:
            worker.process.stop(wait=True)
        worker.reset()


# -- worker side ---------------------------------------------------------------------------------

def _start_worker(log_settings: Any) -> None:
    """Worker initializer: log like the main process."""
    logs.setup_worker(log_settings)


def _prepare(database_url: str, config: Config, run_ids: dict[str, int], known: list[str],
             fixed_now: str | None = None) -> None:
    # Until this crawl's store is open, items are refused (never stored in an earlier crawl's).
    _state.pop("store", None)
    _state["unprepared"] = "its database is not open yet"
    try:
        _open(database_url, config, run_ids, known, fixed_now)
    except Exception as exc:
        _state["unprepared"] = f"it could not open the database: {type(exc).__name__}: {exc}"
        raise
    del _state["unprepared"]


def _open(database_url: str, config: Config, run_ids: dict[str, int], known: list[str],
          fixed_now: str | None) -> None:
    if fixed_now:
        os.environ["TRACKER_NOW"] = fixed_now
    else:
        os.environ.pop("TRACKER_NOW", None)
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

    with _state["store"].session() as session:
        people = active_people(session, config)  # once per crawl, not once per change

    def on_change(session: Any, change: Any) -> None:
        owe_instant(session, change, config, people)

    _state["on_change"] = on_change


def parse_item(item: Item) -> Record:
    """Turn a raw response into the entity's record with its source kind's reader; ValueError says
    what is wrong with it."""
    kind = SOURCES.get(item.parse_with or "")
    if kind is None or kind.read_raw is None:
        raise ValueError(f"source kind {item.parse_with!r} has no reader for raw responses")
    record = kind.read_raw(item.raw or b"")
    if record.kind != item.kind:
        raise ValueError(f"a {record.kind}, not a {item.kind}")
    if isinstance(record, Bill) and record.number != item.key.removeprefix("bill:"):
        raise ValueError(f"file describes {record.number}, not {item.key.removeprefix('bill:')}")
    return record


def _process_batch(items: list[Item]) -> list[Outcome | Exception]:
    """Each item in its own transaction; an item that raises fails alone."""
    results: list[Outcome | Exception] = []
    for item in items:
        try:
            results.append(_process(item))
        except Exception as exc:
            results.append(exc)
    return results


def _process(item: Item) -> Outcome:
    try:
        if item.parse_with:
            item.content = parse_item(item)
    except ValueError as exc:
        return Outcome(error=str(exc))
    if "unprepared" in _state or "store" not in _state:
        raise RuntimeError(f"the ingest worker stores nothing: {_state.get('unprepared', 'never prepared')}")
    result = ingest(_state["store"], item, run_id=_state["run_ids"].get(item.source_id),
                    on_change=_state["on_change"])
    item.raw = None
    return Outcome(new_snapshot=result.new_snapshot, changes=len(result.changes))
