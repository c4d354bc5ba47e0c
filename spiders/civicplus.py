"""CivicPlus AgendaCenter pages, for cities without a feed.

Configured as the AgendaCenter home (`https://<city>/AgendaCenter`), the spider reads the
AgendaCenter search for the whole window instead: the home page shows one year per body and only
the first rows of each, so meetings would seem to vanish from it (see `civicplus_search_url`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import scrapy

from spiders.listing import FUTURE_DAYS, PAST_DAYS, ListingSpider
from tracker import clock
from tracker.meetings.agendas import civicplus_search_url


class CivicPlusSpider(ListingSpider):
    name = "civicplus"
    accept = "text/html"

    async def start(self) -> AsyncIterator[scrapy.Request]:
        now = clock.now()
        self.url = civicplus_search_url(self.url, (now - timedelta(days=PAST_DAYS)).date(),
                                        (now + timedelta(days=FUTURE_DAYS)).date())
        async for request in super().start():
            yield request
