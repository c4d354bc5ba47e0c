"""PrimeGov public portal meeting lists (JSON)."""

from __future__ import annotations

from spiders.listing import ListingSpider


class PrimeGovSpider(ListingSpider):
    name = "primegov"
    accept = "application/json"
