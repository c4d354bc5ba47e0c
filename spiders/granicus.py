"""Granicus ViewPublisher pages, for bodies whose publisher has no agenda feed (or a feed that
lists only the last 100 documents)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from spiders.listing import ListingSpider
from tracker.meetings.agendas import parse_granicus


class GranicusSpider(ListingSpider):
    name = "granicus"
    accept = "text/html"

    def read(self, data: bytes, *, url: str, start: datetime, end: datetime) -> tuple[list[dict[str, Any]], list[str]]:
        return parse_granicus(data, url=url, body=self.watch.name, timezone=self.zone, keywords=self.watch.keywords), []
