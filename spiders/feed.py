"""RSS/Atom agenda feeds (CivicPlus AgendaCenter RSS, Granicus ViewPublisherRSS), read with feedparser:
the cheapest listing a publisher offers (one small conditional GET), where it has one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from spiders.listing import ListingSpider
from tracker.meetings.agendas import parse_feed


class FeedSpider(ListingSpider):
    name = "feed"
    accept = "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5"
    noun = "feed"

    def read(self, data: bytes, *, url: str, start: datetime, end: datetime) -> tuple[list[dict[str, Any]], list[str]]:
        return parse_feed(data, url=url, body=self.watch.name, timezone=self.zone, keywords=self.watch.keywords), []
