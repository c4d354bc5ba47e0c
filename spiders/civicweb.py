"""CivicWeb / Diligent Community meeting lists (JSON), and each listed meeting's documents.

The watch names the site (any address on it: its portal, a meeting's page, the list itself); the
spider asks the site's meeting service for the crawl's window, as the portal's calendar does, so
the list speaks for every day of it. The list names no documents: each meeting of the window has
its own answer (`.../meetings/<Id>/meetingDocuments`), asked for conditionally, since agendas and
minutes come and go while the list stays the same; for that reason the list itself is read whole
every run (a few dozen kilobytes, and its address changes with the window each day anyway).

A meeting whose documents answer is unchanged (304), or cannot be had (an error: its one line), is
stored with the documents it had (`Item.carry`): never a false "agenda removed", never an
"agenda posted" twice.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import date
from typing import Any

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from spiders.base import asked_conditionally
from spiders.listing import ListingSpider
from tracker.meetings.civicweb import (
    DOCUMENT_FIELDS,
    documents_url,
    listing_url,
    parse_documents,
    with_documents,
)
from tracker.meetings.normalize import SourceParseError
from tracker.records import Item, Listing, ListingContext, Meeting


class CivicWebSpider(ListingSpider):
    name = "civicweb"
    accept = "application/json"

    def address_for(self, start: date, end: date) -> str:
        return listing_url(self.watch.source or "", start, end)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        yield scrapy.Request(self.url, callback=self.parse_listing, errback=self.failed,
                             headers={"Accept": self.accept})

    def meeting_items(self, listing: Listing, ctx: ListingContext, url: str) -> Iterator[Any]:
        """For each meeting of the window, the request for its documents (the item follows it)."""
        for meeting in self.to_store(listing, ctx):
            yield scrapy.Request(documents_url(url, meeting.source_ref), callback=self.parse_documents,
                                 errback=self.documents_failed, headers={"Accept": self.accept},
                                 cb_kwargs={"meeting": meeting, "listed": url},
                                 meta={"conditional": True, "refetch": self.refetch,
                                       "handle_httpstatus_list": [304]})

    def moved_item(self, meeting: Meeting, url: str) -> Item:
        """A meeting found moved out of the window keeps its stored documents (its documents are
        read again when its new day is in the window)."""
        return self.meeting_item(meeting, url, carry=list(DOCUMENT_FIELDS))

    def parse_documents(self, response: Response, meeting: Meeting, listed: str) -> Iterator[Item]:
        if response.status == 304:
            if not asked_conditionally(response):
                yield self.documents_kept(meeting, listed, response.url,
                                          "answered 304 Not Modified to a request that sent no validators")
                return
            self.not_modified()
            yield self.meeting_item(meeting, listed, carry=list(DOCUMENT_FIELDS))
            return
        try:
            documents = parse_documents(response.body, response.url)
        except SourceParseError as exc:
            yield self.documents_kept(meeting, listed, response.url, str(exc))
            return
        yield self.meeting_item(with_documents(meeting, documents), listed, validators=response.meta.get("validators"))

    def documents_failed(self, failure: Failure) -> Iterator[Item]:
        request = failure.request  # type: ignore[attr-defined]
        yield self.documents_kept(request.cb_kwargs["meeting"], request.cb_kwargs["listed"], request.url,
                                  self.describe(failure))

    def documents_kept(self, meeting: Meeting, listed: str, url: str, problem: str) -> Item:
        """The error line for a meeting's documents answer, and the meeting with its stored documents.
        In a whole read (a parser upgrade, other bodies or keywords) the meeting stays owed one
        (`unsaved`): its stored documents' validators would answer 304 next run, and the reading
        the whole read was for would never come."""
        self.fail(f"documents of meeting {meeting.source_ref}", url, f"{problem}; its stored documents kept")
        if self.refetch:
            self.learned.unsaved[meeting.source_ref] = self.unsaved_before.get(
                meeting.source_ref, "news" if self.is_news(meeting) else "baseline")
        return self.meeting_item(meeting, listed, carry=list(DOCUMENT_FIELDS))
