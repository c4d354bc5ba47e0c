"""The one clock every part reads, so tests can set "now" with TRACKER_NOW instead of sleeping."""

from __future__ import annotations

import os
from datetime import UTC, datetime


def parse_instant(text: str) -> datetime:
    """Parse an ISO 8601 instant; a naive value is taken as UTC."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def now() -> datetime:
    """Current time in UTC, or TRACKER_NOW when set."""
    fixed = os.environ.get("TRACKER_NOW")
    if fixed:
        return parse_instant(fixed)
    return datetime.now(UTC)


def iso_z(value: datetime) -> str:
    """UTC timestamp with a Z, to the second: the contract's `detected_at` form."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
