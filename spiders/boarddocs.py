"""BoardDocs XML-ActiveMeetings exports (meetings with their agenda items)."""

from __future__ import annotations

from spiders.listing import ListingSpider


class BoardDocsSpider(ListingSpider):
    name = "boarddocs"
    accept = "application/xml"
