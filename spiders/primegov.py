"""PrimeGov public portal meeting lists (JSON)."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from spiders.listing import ListingSpider
from tracker import clock
from tracker.records import ListingContext


class PrimeGovSpider(ListingSpider):
    name = "primegov"
    accept = "application/json"

    def listed_days(self, ctx: ListingContext, url: str) -> tuple[str, str]:
        """`ListUpcomingMeetings` drops a meeting once it is held: only one after today that it no
        longer lists is gone (an archived year's list speaks for its whole window)."""
        start, end = self.window(ctx)
        if "listupcomingmeetings" in url.lower():
            tomorrow = clock.now().astimezone(ZoneInfo(self.zone)).date() + timedelta(days=1)
            start = max(start, tomorrow.isoformat())
        return start, end
