"""IQM2 meeting calendars (HTML). The watch names the site (any address on it); the spider reads
its calendar's list view for the crawl's window (`calendar_url`), one conditional GET a run."""

from __future__ import annotations

from datetime import date

from spiders.listing import ListingSpider
from tracker.meetings.iqm2 import calendar_url


class Iqm2Spider(ListingSpider):
    name = "iqm2"
    accept = "text/html"

    def address_for(self, start: date, end: date) -> str:
        return calendar_url(self.watch.source or "", start, end)
