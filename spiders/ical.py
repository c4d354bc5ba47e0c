"""iCalendar feeds of a body's meetings (recurrences expanded within the window)."""

from __future__ import annotations

from spiders.listing import ListingSpider


class IcalSpider(ListingSpider):
    name = "ical"
    accept = "text/calendar"
    noun = "feed"
    speaks_from = "after earliest"  # a calendar of upcoming events drops one once held
