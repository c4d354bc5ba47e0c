"""RSS/Atom agenda feeds (CivicPlus AgendaCenter RSS, Granicus ViewPublisherRSS), read with feedparser:
the cheapest listing a publisher offers (one small conditional GET), where it has one."""

from __future__ import annotations

import re

from spiders.listing import ListingSpider

# the end tag of an RSS, Atom or RSS 1.0 (RDF) document, with any namespace prefix
_LAST_TAG = re.compile(rb"</(?:[\w.-]+:)?(?:rss|feed|rdf)\s*>\Z", re.I)


class FeedSpider(ListingSpider):
    name = "feed"
    accept = "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5"
    noun = "feed"
    speaks_from = "tomorrow"  # its latest posts, kept by when they were posted

    def cut_short(self, body: bytes) -> str | None:
        """A feed ends with its root's end tag (then perhaps comments, as a cache adds): one cut
        before it (a server stopped writing) is still read, leniently, its later entries unread."""
        tail = body.rstrip()
        while tail.endswith(b"-->") and (opened := tail.rfind(b"<!--")) >= 0:
            tail = tail[:opened].rstrip()
        if _LAST_TAG.search(tail[-64:]):
            return None
        return "the feed ends before its closing </rss> or </feed> tag (cut short)"
