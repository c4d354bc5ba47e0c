"""BoardDocs XML-ActiveMeetings exports (meetings with their agenda items)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from spiders.listing import ListingSpider
from tracker.meetings.portals import parse_boarddocs


class BoardDocsSpider(ListingSpider):
    name = "boarddocs"
    accept = "application/xml"

    def read(self, data: bytes, *, url: str, start: datetime, end: datetime) -> tuple[list[dict[str, Any]], list[str]]:
        return parse_boarddocs(data, url=url, body=self.watch.name, timezone=self.zone, keywords=self.watch.keywords), []
