"""Dispatch an entity's diff to the pure differ of its kind (bills, meetings, matters)."""

from __future__ import annotations

from typing import Any

from tracker.changes import Change
from tracker.records import Item


def diff_entity(old: dict[str, Any] | None, new: dict[str, Any], item: Item) -> list[Change]:
    """`diff(old, new)` for any entity; `old` is None only for a newly discovered entity."""
    if item.kind == "bill":
        from tracker.bills import diff_bill

        return diff_bill(old, new, item.key)
    if item.kind == "meeting":
        from tracker.meetings.diff import diff_meeting

        return diff_meeting(old, new, item.key)
    if item.kind == "matter":
        from tracker.meetings.diff import diff_matter

        return diff_matter(old, new, item.key)
    raise ValueError(f"no differ for entity kind {item.kind!r}")
