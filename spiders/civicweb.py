"""CivicWeb / Diligent Community meeting lists (JSON). The watch names the site (any address on
it: its portal, a meeting's page, the list itself); the spider asks the site's meeting service for
the crawl's window, as the portal's calendar does, so the list speaks for every day of it."""

from __future__ import annotations

from datetime import date
from typing import Any

from spiders.listing import ListingSpider
from tracker.meetings.civicweb import listing_url


class CivicWebSpider(ListingSpider):
    name = "civicweb"
    accept = "application/json"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        start, end = self.window(self.context(self.url))
        self.url = listing_url(self.url, date.fromisoformat(start), date.fromisoformat(end))
