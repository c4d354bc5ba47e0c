"""PrimeGov public portal meeting lists (JSON)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from spiders.listing import ListingSpider
from tracker.meetings.portals import parse_primegov


class PrimeGovSpider(ListingSpider):
    name = "primegov"
    accept = "application/json"

    def read(self, data: bytes, *, url: str, start: datetime, end: datetime) -> tuple[list[dict[str, Any]], list[str]]:
        return parse_primegov(data, url=url, body=self.watch.name, timezone=self.zone, keywords=self.watch.keywords), []
