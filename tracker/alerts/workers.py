"""`[alerts] workers = N`: N notifier processes side by side, each claiming its own deliveries.

Sending is mostly waiting on the relay (one SMTP session per message), so processes, not threads;
each claims its own rows with the outbox lease (FOR UPDATE SKIP LOCKED), so no row is sent twice.
Each worker is a `tracker.spawned.Child`: it exits by itself when the parent dies (a `kill -9`
of `tracker run` or `tracker notify` leaves nothing sending on the old clock), and it reports the
rows of each message before sending it and the result after recording it, so the summary counts
what was really sent even when a worker dies (one killed between recording a message and reporting
it: the parent finds the message's rows marked sent); a dead worker costs only the deliveries it
held (released at once, for the others or the next run).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from concurrent.futures import wait
from typing import Any

from tracker import logs, secrets, spawned
from tracker.alerts import lease
from tracker.alerts.notifier import NotifyReport, notify
from tracker.config import Config
from tracker.spawned import Child, ChildDied
from tracker.store import Store


def usable_workers(store: Store, config: Config) -> int:
    """`[alerts] workers`, or 1 on SQLite (one writer: more notifiers would only queue)."""
    return config.alerts.workers if store.engine.dialect.name == "postgresql" else 1


def notify_with(store: Store, config: Config, workers: int) -> NotifyReport:
    """Send what is due: in this process with one worker, else with `workers` notifier processes."""
    return notify(store, config) if workers == 1 else notify_in_processes(store, config, workers)


def notify_in_processes(store: Store, config: Config, workers: int) -> NotifyReport:
    """Run `workers` notifier processes and add up what they report as they go."""
    total = NotifyReport()
    adding = threading.Lock()  # each child's reports arrive in its own thread
    in_flight: dict[int, list[int]] = {}  # each worker's message sent or being sent, its result not yet told

    def taker(number: int) -> Callable[[Any], None]:
        def take(news: Any) -> None:
            with adding:
                if isinstance(news, NotifyReport):
                    total.add(news)
                    in_flight.pop(number, None)
                else:  # the rows of the message it is about to send
                    in_flight[number] = list(news)
        return take

    known = sorted(secrets._known)
    children = [Child("notifier worker", initializer=_start, initargs=(logs.current(), known))
                for _ in range(workers)]
    owners = [uuid.uuid4().hex for _ in children]
    try:
        calls = [child.submit(notify_worker, config, owner, on_progress=taker(number))
                 for number, (child, owner) in enumerate(zip(children, owners, strict=True), 1)]
        wait(calls)
        for number, (call, owner) in enumerate(zip(calls, owners, strict=True), 1):
            problem = call.exception()
            if problem is None:
                continue
            total.crashed += 1
            if isinstance(problem, ChildDied):
                if recorded_sent(store, in_flight.get(number, [])):
                    total.sent += 1  # recorded in the instant before it died, never told
                released = release(store, owner)
                held = "delivery it held is" if released == 1 else "deliveries it held are"
                total.lines.append(f"notifier worker {number}: {problem}; {released} {held} due again")
            else:
                total.lines.append(f"notifier worker {number} failed: {type(problem).__name__}: {problem}")
    finally:
        for child in children:
            child.stop(wait=True)
    return total


def recorded_sent(store: Store, rows: list[int]) -> bool:
    """Whether a dead worker's last message (its rows) was recorded sent: only the worker holding
    their lease marks them so, and it was still holding it (`release` comes after)."""
    try:
        return bool(rows) and lease.all_sent(store, rows)
    except Exception:  # the database is unreachable too: the count stays as told
        return False


def release(store: Store, owner: str) -> int:
    """Free the rows a dead worker still held, rather than waiting for its lease to run out. The
    one message it may have been sending goes again, carrying the same delivery key."""
    try:
        return lease.release(store, owner)
    except Exception:  # the database is unreachable too: the lease runs out by itself
        return 0


# -- worker side ---------------------------------------------------------------------------------


def _start(log_settings: Any, known_secrets: list[str]) -> None:
    logs.setup_worker(log_settings)
    for value in known_secrets:
        secrets.register(value)
    secrets.install_log_masking()


def notify_worker(config: Config, owner: str) -> None:
    """One notifier process: the parent's config (validated once: reading it again cost each
    worker 0.46 ms a subscriber, 23 s at 50,000), its own store, the lease owner the parent knows
    it by. What it did goes to the parent after every message (`NotifyReport.add`)."""
    told = NotifyReport()

    def tell(report: NotifyReport) -> None:
        news = report.since(told)
        if news:
            spawned.progress(news)
            told.add(news)

    tell(notify(Store(config.database_url), config, owner=owner, progress=tell, sending=spawned.progress))
