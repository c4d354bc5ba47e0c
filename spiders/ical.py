"""iCalendar feeds of a body's meetings (recurrences expanded within the window)."""

from __future__ import annotations

from spiders.listing import ListingSpider


class IcalSpider(ListingSpider):
    name = "ical"
    accept = "text/calendar"
    noun = "feed"
    drops_held = True  # a feed of upcoming events, or of its latest entries
