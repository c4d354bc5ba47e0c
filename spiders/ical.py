"""iCalendar feeds of a body's meetings (recurrences expanded within the window)."""

from __future__ import annotations

from spiders.listing import ListingSpider


class IcalSpider(ListingSpider):
    name = "ical"
    accept = "text/calendar"
    noun = "feed"
    speaks_from = "after earliest"  # a calendar of upcoming events drops one once held

    def cut_short(self, body: bytes) -> str | None:
        """A calendar ends with its END:VCALENDAR line: one cut before it (a server stopped
        writing) may still read well, its later events unread."""
        if body.rstrip().upper().endswith(b"END:VCALENDAR"):
            return None
        return "the feed ends before its END:VCALENDAR line (cut short)"
