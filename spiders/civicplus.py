"""CivicPlus AgendaCenter pages, for cities without a feed.

Configured as the AgendaCenter home (`https://<city>/AgendaCenter`), the spider reads the
AgendaCenter search for the whole window instead: the home page shows one year per body and only
the first rows of each, so meetings would seem to vanish from it (see `civicplus_search_url`).
"""

from __future__ import annotations

from datetime import date

from spiders.listing import ListingSpider
from tracker.meetings.agendas import civicplus_search_url


class CivicPlusSpider(ListingSpider):
    name = "civicplus"
    accept = "text/html"

    def address_for(self, start: date, end: date) -> str:
        return civicplus_search_url(self.watch.source or "", start, end)
