"""RSS/Atom agenda feeds (CivicPlus AgendaCenter RSS, Granicus ViewPublisherRSS), read with feedparser:
the cheapest listing a publisher offers (one small conditional GET), where it has one."""

from __future__ import annotations

from spiders.listing import ListingSpider


class FeedSpider(ListingSpider):
    name = "feed"
    accept = "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5"
    noun = "feed"
    speaks_from = "tomorrow"  # its latest posts, kept by when they were posted
