"""What a diff produces: one `Change` per thing a human would want to hear about.

Diffs are pure functions `diff(old, new) -> list[Change]`; the store adds the watch, the id and
`detected_at`. `dedupe_key` is deterministic so the same news is never recorded twice, whatever
re-crawl, upstream reprocessing or schema change happens.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

KINDS = (
    "bill.introduced",
    "bill.action",
    "bill.stage",
    "bill.cosponsor_added",
    "bill.cosponsor_withdrawn",
    "bill.title",
    "bill.vote",  # a recorded vote with its counts (state bills; data: date, chamber, motion, result, counts)
    "meeting.added",
    "meeting.cancelled",
    "meeting.restored",  # a cancelled meeting back on (data: start, body, was: the word it was called off with)
    "meeting.rescheduled",
    "meeting.location",
    "meeting.agenda_posted",
    "meeting.minutes_posted",
    "agenda.item_added",
    "matter.status",
)


@dataclass(frozen=True)
class Change:
    kind: str
    entity: str
    summary: str
    dedupe_key: str
    data: dict[str, Any] = field(default_factory=dict)
    url: str | None = None
    occurred_at: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown change kind {self.kind!r}")


# Kinds that can befall one entity again and again (called off, back on, called off again): the
# store counts the entity's earlier such changes into their dedupe key (tracker/store.py), so a
# second cancellation at the same time is told, while the same one diffed twice is not.
TOGGLES = frozenset({"meeting.cancelled", "meeting.restored"})


def told_to(data: dict[str, Any] | None) -> frozenset[str] | None:
    """The watches a change is for (an agenda item matching their keywords, on a meeting several
    watches of one Legistar client hold: data "watches", each with its keywords); None: every watch
    holding its entity."""
    watches = (data or {}).get("watches")
    return frozenset(watches) if isinstance(watches, dict) else None


def scope_of(changes: Iterable[Any]) -> frozenset[str] | None:
    """The watches a set of changes (each with `data`) is all for, else None (some change is every
    holding watch's)."""
    scopes = [told_to(change.data) for change in changes]
    if not scopes or any(scope is None for scope in scopes):
        return None
    return frozenset().union(*scopes)  # type: ignore[arg-type]


def _anyone(watch_id: str, item: str) -> bool:
    return True


@dataclass(frozen=True)
class Audience:
    """What the store tells a meeting's differ of who may hear what: `may_tell(watch, item)`, whether
    an agenda item matching that watch may be news to it (not if the watch did not hold the meeting
    before, has no baseline, or was told of that item already); `since` (YYYY-MM-DD), the first day
    of a meeting a new match on an item already on its agenda is news for (a keyword added finds
    the window's meetings; a past meeting read again months later for its minutes is no news)."""

    may_tell: Callable[[str, str], bool] = _anyone
    since: str | None = None


EVERYONE = Audience()


def dedupe_key(entity: str, kind: str, *parts: object) -> str:
    """Stable key for a change: entity + kind + a hash of the identifying parts."""
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:24]
    return f"{entity}|{kind}|{digest}"


# -- which change leads ------------------------------------------------------------------------------

# What an alert's headline says first, most important first (a bill found by a title or keyword
# watch is news as big as a new stage). Here, below every module that words a headline (federal
# bills and meetings in tracker/words.py, state bills in tracker/states.py), so they rank alike.
HEADLINE_ORDER = (
    "bill.stage", "bill.introduced", "meeting.cancelled", "meeting.restored", "meeting.rescheduled", "meeting.location",
    "agenda.item_added", "matter.status", "meeting.agenda_posted", "meeting.minutes_posted", "meeting.added",
    "bill.vote", "bill.action", "bill.cosponsor_added", "bill.cosponsor_withdrawn", "bill.title",
)


class ChangeLike(Protocol):
    kind: str
    summary: str
    data: dict[str, Any]
    occurred_at: str | None


def _rank(change: ChangeLike) -> int:
    return HEADLINE_ORDER.index(change.kind) if change.kind in HEADLINE_ORDER else len(HEADLINE_ORDER)


def lead_change(changes: Sequence[ChangeLike]) -> ChangeLike:
    """The change an alert about these changes of one entity leads with."""
    return min(changes, key=_rank)
