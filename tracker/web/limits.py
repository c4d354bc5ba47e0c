"""Sign-up rate limits: a sliding hour per client address, per mailbox and for the whole server, and
a sliding day per mailbox, in the server's memory.

One `tracker serve` process answers every sign-up (docs/operations.md), so memory is where the
counts belong: nothing to write per request, and a restart forgets at most a day of counts. How
often one address is *mailed* is kept in the store instead (person_mails), so no restart or second
process can send more than one mail per `[serve] resend_minutes` to it.

What is counted as one is what one sender holds: an IPv6 client by its /64 (what one home or server
is given), and a mailbox however it is spelled (mail servers read `Ann@`, `ANN@` and `ann+x@` as
`ann@`: the store keeps each spelling a person of its own, so only this limit binds them together).
"""

from __future__ import annotations

import hashlib
import ipaddress
import threading
import time
from collections import deque

WINDOW = 3600.0
DAY = 24 * 3600.0
# A mailbox's sign-ups in a day: this many hours' worth of `[serve] signups_per_address_hour`. The
# hourly limit alone let a stranger mail one inbox that many times an hour, every hour, for ever
# (5 an hour: 120 confirmation mails a day).
ADDRESS_DAY_HOURS = 2
MAX_KEYS = 100_000  # the oldest keys are forgotten beyond this (a flood of addresses cannot fill memory)
IPV6_PREFIX = 64
EVERYONE = "*"  # the one key of the server-wide limit
# Domains whose mailboxes ignore dots in the local part: `j.a.n.e@gmail.com` is `jane@gmail.com`
# (a 12-letter name has 2,048 spellings), and googlemail.com is gmail.com.
DOTLESS = frozenset({"gmail.com", "googlemail.com"})


def client_key(host: str) -> str:
    """The client a sign-up is counted against: an IPv4 address, or an IPv6 address's /64 (one
    sender picks any address of its /64 at will); an IPv4 address seen as IPv6 (::ffff:a.b.c.d) is
    that IPv4 address."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, IPV6_PREFIX), strict=False))
    return str(ip)


def mailbox_key(address: str) -> str:
    """The mailbox a sign-up is counted against (a normalized address): the local part in lower
    case without its `+tag` (and without dots at Gmail, which ignores them), so the spellings one
    server delivers to one mailbox count as one. Hashed: the limits never hold an address."""
    local, domain = address.rsplit("@", 1)
    local = local.split("+", 1)[0] or local
    domain = domain.lower()
    if domain in DOTLESS:  # Gmail delivers j.doe@ and jdoe@ (and googlemail.com) to one mailbox
        local, domain = local.replace(".", "") or local, "gmail.com"
    return hashlib.sha256(f"{local.lower()}@{domain}".encode()).hexdigest()


class SlidingLimit:
    """At most `limit` events per key in the last hour.

    `count_refused=False` counts only the events let through: for a limit everyone shares (the
    server's), so that one client hammering it keeps it closed no longer than the hour of the
    sign-ups it took."""

    def __init__(self, limit: int, window: float = WINDOW, *, count_refused: bool = True) -> None:
        self.limit, self.window, self.count_refused = limit, window, count_refused
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
                # Only the newest limit + 1 events can decide: once the oldest of them has left the
                # window, fewer than limit + 1 are in it. Refused events counted without end kept
                # every one a client hammering sent for an hour.
                events = self._events[key] = deque(maxlen=self.limit + 1)
            while events and events[0] <= now - self.window:
                events.popleft()
            events.append(now)
            if len(events) <= self.limit:
                return True
            if not self.count_refused:
                events.pop()
            return False

    def _forget(self, now: float) -> None:
        for key in [k for k, v in self._events.items() if not v or v[-1] <= now - self.window]:
            del self._events[key]
        while len(self._events) >= MAX_KEYS:
            del self._events[next(iter(self._events))]
