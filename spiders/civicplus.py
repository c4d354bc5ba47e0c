"""CivicPlus AgendaCenter pages, for cities without a feed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from spiders.listing import ListingSpider
from tracker.meetings.agendas import parse_civicplus


class CivicPlusSpider(ListingSpider):
    name = "civicplus"
    accept = "text/html"

    def read(self, data: bytes, *, url: str, start: datetime, end: datetime) -> tuple[list[dict[str, Any]], list[str]]:
        return parse_civicplus(data, url=url, body=self.watch.name, timezone=self.zone, keywords=self.watch.keywords), []
