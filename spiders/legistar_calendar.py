"""Legistar's web calendar page (`https://<client>.legistar.com/Calendar.aspx`): the meetings the
public sees, for clients whose Web API asks for a token."""

from __future__ import annotations

from spiders.listing import ListingSpider


class LegistarCalendarSpider(ListingSpider):
    name = "legistar_calendar"
    accept = "text/html"
