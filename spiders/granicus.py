"""Granicus ViewPublisher pages, for bodies whose publisher has no agenda feed (or a feed that
lists only the last 100 documents)."""

from __future__ import annotations

from spiders.listing import ListingSpider


class GranicusSpider(ListingSpider):
    name = "granicus"
    accept = "text/html"
