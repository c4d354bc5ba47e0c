"""iCalendar feeds of a body's meetings (recurrences expanded within the window)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from spiders.listing import ListingSpider
from tracker.meetings.ical import parse_ical


class IcalSpider(ListingSpider):
    name = "ical"
    accept = "text/calendar"
    noun = "feed"

    def read(self, data: bytes, *, url: str, start: datetime, end: datetime) -> tuple[list[dict[str, Any]], list[str]]:
        return parse_ical(data, watch_id=self.watch.id, body=self.watch.name, timezone=self.zone,
                          window_start=start, window_end=end)
