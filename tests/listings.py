"""Call a listing parser the way the spider does (one ListingContext) and get the meetings in their
stored form (the dicts snapshots hold), so tests assert what is stored."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from tracker.records import Listing, ListingContext
from tracker.sources import ListingParser

WIDE = (datetime(1990, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))


def listing_read(parser: ListingParser, data: bytes, *, url: str = "https://x.example/", body: str = "B",
                 timezone: str = "UTC", keywords: Sequence[str] = (), watch_id: str = "w",
                 window_start: datetime = WIDE[0], window_end: datetime = WIDE[1]) -> Listing:
    """The parser's whole answer: meetings, problems and warnings."""
    return parser(data, ListingContext(watch_id=watch_id, url=url, body=body, timezone=timezone,
                                       keywords=tuple(keywords), window_start=window_start, window_end=window_end))


def listing_of(parser: ListingParser, data: bytes, **context: Any) -> tuple[list[dict[str, Any]], list[str]]:
    """(meetings as stored, one line per part that could not be read and may have cost a meeting)."""
    listing = listing_read(parser, data, **context)
    return [meeting.dump() for meeting in listing.meetings], listing.problems


def meetings_of(parser: ListingParser, data: bytes, **context: Any) -> list[dict[str, Any]]:
    return listing_of(parser, data, **context)[0]
