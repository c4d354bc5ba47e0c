"""Rules every meeting source shares: one cancellation decision, keyword matching, local times."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from tracker.records import AgendaItem

# The many spellings of "this meeting will not happen as scheduled".
_CANCEL_WORDS = re.compile(r"\b(cancel+ed|cancel+ation|postponed|deferred|rescheduled to a later date)\b", re.I)
_CANCEL_STATUS = {"cancelled", "canceled", "deferred", "postponed"}


class SourceParseError(ValueError):
    """The response is not a usable listing; the message is one line for the operator."""


def cancellation(*, status: str | None = None, title: str | None = None, comment: str | None = None) -> str | None:
    """The source's own word when a meeting is off ("CANCELLED", "Deferred"), else None."""
    if status and status.strip().lower() in _CANCEL_STATUS:
        return status.strip()
    for text in (title, comment):
        match = _CANCEL_WORDS.search(text or "")
        if match:
            return match.group(1)
    return None


def match_keywords(texts: list[str | None], keywords: Sequence[str]) -> list[str]:
    """Keywords found as whole words or phrases, case-insensitively ("police" is not in "policies")."""
    haystack = " ".join(t for t in texts if t)
    found = []
    for keyword in keywords:
        pattern = r"(?<!\w)" + r"\s+".join(re.escape(part) for part in keyword.split()) + r"(?!\w)"
        if re.search(pattern, haystack, re.I):
            found.append(keyword)
    return found


def utc_iso(local: datetime, zone: str) -> str:
    """A wall-clock time in the body's zone as the UTC instant we store."""
    return local.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC).isoformat()


def title_items(text: str | None, keywords: Sequence[str], title: str | None = None) -> list[AgendaItem]:
    """Listings without agenda items: a meeting whose own words match is reported as the item."""
    found = match_keywords([text], keywords)
    return [{"key": "title", "title": (title or text or "").strip(), "matter": None, "keywords": found}] if found else []
