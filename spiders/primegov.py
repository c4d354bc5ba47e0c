"""PrimeGov public portal meeting lists (JSON)."""

from __future__ import annotations

from spiders.listing import ListingSpider
from tracker.records import Listing, ListingContext


class PrimeGovSpider(ListingSpider):
    name = "primegov"
    accept = "application/json"

    def listed_days(self, ctx: ListingContext, url: str, listing: Listing) -> tuple[str, str]:
        """`ListUpcomingMeetings` drops a meeting once it is held: only one after today that it no
        longer lists is gone (an archived year's list speaks for its whole window)."""
        start, end = self.window(ctx)
        if "listupcomingmeetings" in url.lower():
            start = max(start, self.tomorrow())
        return start, end
