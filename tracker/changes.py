"""What a diff produces: one `Change` per thing a human would want to hear about.

Diffs are pure functions `diff(old, new) -> list[Change]`; the store adds the watch, the id and
`detected_at`. `dedupe_key` is deterministic so the same news is never recorded twice, whatever
re-crawl, upstream reprocessing or schema change happens.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
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


def told_only_to(data: dict[str, Any] | None) -> str | None:
    """The one watch a change is for (an agenda item matching that watch's keywords, on a meeting
    several watches of one Legistar client hold: data "watch"); None: every watch holding its entity."""
    watch = (data or {}).get("watch")
    return watch if isinstance(watch, str) else None


def scope_of(changes: Iterable[Any]) -> str | None:
    """The one watch a set of changes (each with `data`) is all for, else None."""
    scopes = {told_only_to(change.data) for change in changes}
    return scopes.pop() if len(scopes) == 1 else None


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
