"""CivicClerk event lists (OData JSON; local times despite their Z)."""

from __future__ import annotations

from spiders.listing import ListingSpider


class CivicClerkSpider(ListingSpider):
    name = "civicclerk"
    accept = "application/json"
