"""NovusAGENDA meetings pages (HTML): the page the watch names (`meetingsgeneral.aspx?MeetingType=1&Date=6ms`),
one conditional GET a run; its query, not the crawl, chooses the bodies and the span it lists."""

from __future__ import annotations

from spiders.listing import ListingSpider


class NovusAgendaSpider(ListingSpider):
    name = "novusagenda"
    accept = "text/html"
