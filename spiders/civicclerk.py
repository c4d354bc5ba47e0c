"""CivicClerk event lists (OData JSON; local times despite their Z)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from spiders.listing import ListingSpider
from tracker.meetings.portals import parse_civicclerk


class CivicClerkSpider(ListingSpider):
    name = "civicclerk"
    accept = "application/json"

    def read(self, data: bytes, *, url: str, start: datetime, end: datetime) -> tuple[list[dict[str, Any]], list[str]]:
        return parse_civicclerk(data, url=url, body=self.watch.name, timezone=self.zone, keywords=self.watch.keywords), []
