"""Worker processes that exit with their parent and report through pipes of their own.

The ingest workers (tracker/ingestworker.py) and the notifier workers (tracker/alerts/workers.py)
both run here. Why not ProcessPoolExecutor: its queues hold named POSIX semaphores registered
with multiprocessing's resource tracker, so a parent killed with -9 left them for the tracker to
clean up, and it said so on stderr ("leaked semaphore objects"), which cron mails; and one worker
dying broke the whole pool (BrokenProcessPool), failing every other worker's calls. Here each
child has two pipes of its own, calls in and results out: no semaphore, and a child that dies
fails only its own calls.

A child exits by itself when its parent dies, however it dies: only the parent holds the write
end of the call pipe, so the child's thread reading calls gets EOF the moment the parent is gone
(even while the child is busy with a call); `os.getppid()` polled every WATCH_SECONDS is the
fallback. Linux's PR_SET_PDEATHSIG is not used: it fires when the *thread* that spawned the child
ends, and children are spawned from whichever thread needs one first.

Children are spawned, never forked: `tracker run` has Scrapy's reactor thread running.

A child is started with SIGINT blocked (a signal mask survives fork and exec), as CPython starts
its resource tracker: Ctrl-C in a terminal signals the whole process group, and only the command
should answer it, in one line; the children end with it, through their pipes.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import pickle
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from multiprocessing import resource_tracker
from multiprocessing.connection import Connection
from typing import Any

log = logging.getLogger(__name__)

WATCH_SECONDS = 1.0
_ABANDON = object()  # tells a Child's writer thread to close the call pipe now


class ChildDied(RuntimeError):
    """The child process ended before answering a call (killed, out of memory, crashed)."""


class Child:
    """One spawned process running calls in the order they were submitted.

    `submit()` never waits (a thread here sends calls, a thread in the child reads them); the
    result, or the exception the call raised, comes back on the returned future, set from this
    object's reader thread. A call may send `progress()` values before it returns: `on_progress`
    gets them in that same thread, so a parent learns what a child did even if it dies later."""

    def __init__(self, name: str, initializer: Callable[..., None] | None = None, initargs: tuple[Any, ...] = ()) -> None:
        self.name = name
        context = multiprocessing.get_context("spawn")
        calls_in, self._calls = context.Pipe(duplex=False)
        self._results, results_out = context.Pipe(duplex=False)
        self.process = context.Process(target=_serve, name=name, daemon=True,
                                       args=(calls_in, results_out, os.getpid(), initializer, initargs))
        # Only this thread's mask changes, and only while the child is started. The resource
        # tracker is started first: starting it unblocks SIGINT in this thread when it is done.
        resource_tracker.ensure_running()
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            self.process.start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        calls_in.close()  # only the child holds these ends now: its death is our EOF, ours is its
        results_out.close()
        self._lock = threading.Lock()
        self._next = 0
        self._pending: dict[int, tuple[Future[Any], Callable[[Any], None] | None]] = {}
        self._closed = False
        self._outbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
        threading.Thread(target=self._write_calls, name=f"{name}-calls", daemon=True).start()
        threading.Thread(target=self._read_results, name=f"{name}-results", daemon=True).start()

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def submit(self, fn: Callable[..., Any], *args: Any, on_progress: Callable[[Any], None] | None = None) -> Future[Any]:
        future: Future[Any] = Future()
        with self._lock:
            if self._closed:
                raise ChildDied(f"the {self.name} process was stopped")
            self._next += 1
            self._pending[self._next] = (future, on_progress)
            self._outbox.put((self._next, fn, args))
        return future

    def stop(self, wait: bool = False) -> None:
        """`wait`: let the child finish its calls and exit; else it exits at once (its call pipe
        closes), and calls still pending fail."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._outbox.put(None if wait else _ABANDON)
        if wait:
            self.process.join()

    def _write_calls(self) -> None:
        """Pickle and send calls in this thread, not the caller's: a batch of raw responses is
        megabytes, and the caller may be the crawl's reactor thread."""
        while True:
            message = self._outbox.get()
            if message is _ABANDON:
                break
            try:
                self._calls.send(message)
            except Exception as exc:  # an argument that cannot be pickled fails its own call
                if message is None:
                    break
                with self._lock:
                    future, _ = self._pending.pop(message[0], (None, None))
                if future is not None:
                    future.set_exception(exc if not isinstance(exc, OSError) else
                                         ChildDied(f"the {self.name} process is gone: {exc}"))
                continue
            if message is None:
                break
        self._calls.close()

    def _read_results(self) -> None:
        try:
            while True:
                call, kind, payload = pickle.loads(self._results.recv_bytes())
                with self._lock:
                    future, on_progress = self._pending[call] if kind == "progress" else self._pending.pop(call)
                try:
                    value = pickle.loads(payload)
                except Exception as exc:  # a result this process cannot rebuild
                    value, kind = RuntimeError(f"unreadable result from the {self.name} process: {exc}"), "error"
                if kind == "progress":
                    if on_progress is not None:
                        try:
                            on_progress(value)
                        except Exception:  # the caller's bug must not stop the results of every call
                            log.exception("%s: a progress report could not be taken", self.name)
                elif kind == "error":
                    future.set_exception(value)
                else:
                    future.set_result(value)
        except (EOFError, OSError):
            pass
        self._results.close()
        self.process.join(timeout=5)
        with self._lock:
            if not self._closed:  # died by itself: let the writer thread end and close the call pipe
                self._closed = True
                self._outbox.put(_ABANDON)
            pending, self._pending = self._pending, {}
        if pending:
            problem = ChildDied(f"the {self.name} process {ended(self.process.exitcode)}")
            for future, _ in pending.values():
                future.set_exception(problem)


def ended(exitcode: int | None) -> str:
    """How a process ended, in words: 'was killed (signal 9)', 'exited with code 1'."""
    if exitcode is None:
        return "stopped answering"
    if exitcode < 0:
        return f"was killed (signal {-exitcode})"
    return f"exited with code {exitcode}"


# -- child side ----------------------------------------------------------------------------------

_current: tuple[Connection, int] | None = None  # the result pipe and the call running now


def progress(value: Any) -> None:
    """From inside a call: send `value` to the parent's `on_progress` now (no-op outside a child)."""
    if _current is not None:
        _send(_current[0], _current[1], "progress", value)


def _send(results: Connection, call: int, kind: str, value: Any) -> None:
    try:
        payload = pickle.dumps(value)
    except Exception as exc:  # an unpicklable result or exception still answers the call
        kind, payload = "error", pickle.dumps(RuntimeError(f"{type(value).__name__} could not be sent back: {exc}"))
    results.send_bytes(pickle.dumps((call, kind, payload)))


def _serve(calls: Connection, results: Connection, parent: int, initializer: Callable[..., None] | None,
           initargs: tuple[Any, ...]) -> None:
    global _current
    inbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
    threading.Thread(target=_read_calls, args=(calls, inbox), name="calls", daemon=True).start()
    threading.Thread(target=_watch_parent, args=(parent,), name="parent-watch", daemon=True).start()
    if os.getppid() != parent:  # the parent died before the watchers started
        os._exit(0)
    if initializer is not None:
        initializer(*initargs)
    while (message := inbox.get()) is not None:
        call, fn, args = message
        _current = (results, call)
        try:
            kind, value = "result", fn(*args)
        except BaseException as exc:
            kind, value = "error", exc
        _current = None
        _send(results, call, kind, value)
    results.close()
    if (sending := sys.modules.get("tracker.alerts.send")) is not None:  # loaded only by a notifier worker
        sending.end_process_if_abandoned(0)  # everything is reported: the parent waits for this exit


def _read_calls(calls: Connection, inbox: queue.SimpleQueue[Any]) -> None:
    """Hand calls to the main thread; exit at once on EOF: the parent is gone (or gave up on us),
    and nothing this process does could be reported."""
    try:
        while True:
            message = calls.recv()
            inbox.put(message)
            if message is None:
                return
    except (EOFError, OSError):
        pass
    os._exit(0)


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(WATCH_SECONDS)
    os._exit(0)
