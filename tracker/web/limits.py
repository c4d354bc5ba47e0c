"""Sign-up rate limits: a sliding hour per client address and per mailbox, in the server's memory.

One `tracker serve` process answers every sign-up (docs/operations.md), so memory is where the
counts belong: nothing to write per request, and a restart forgets at most an hour of counts. How
often one mailbox is *mailed* is kept in the store instead (person_mails), so no restart or second
process can send more than one mail per `[serve] resend_minutes`.
"""

from __future__ import annotations

import threading
import time
from collections import deque

WINDOW = 3600.0
MAX_KEYS = 100_000  # the oldest keys are forgotten beyond this (a flood of addresses cannot fill memory)


class SlidingLimit:
    """At most `limit` events per key in the last hour."""

    def __init__(self, limit: int, window: float = WINDOW) -> None:
        self.limit, self.window = limit, window
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str, now: float | None = None) -> bool:
        """Count one event for `key` and say whether it is within the limit (a refused one counts too:
        a client that keeps hammering stays refused)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            events = self._events.get(key)
            if events is None:
                if len(self._events) >= MAX_KEYS:
                    self._forget(now)
                events = self._events[key] = deque()
            while events and events[0] <= now - self.window:
                events.popleft()
            events.append(now)
            return len(events) <= self.limit

    def _forget(self, now: float) -> None:
        for key in [k for k, v in self._events.items() if not v or v[-1] <= now - self.window]:
            del self._events[key]
        while len(self._events) >= MAX_KEYS:
            del self._events[next(iter(self._events))]
