"""Sources that publish a body's meetings as one listing (an iCal feed, a portal's JSON or XML):
one conditional GET per crawl, every meeting of the window read from it by the source kind's
parser (tracker/sources.py), which gets the same context whatever the platform."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import date, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from spiders.base import TrackerSpider, describe_failure
from tracker import clock
from tracker.config import Config, MeetingWatch
from tracker.cursors import ListingCursor
from tracker.meetings.normalize import SourceParseError
from tracker.records import Item, Listing, ListingContext, Meeting
from tracker.sources import FUTURE_DAYS, PAST_DAYS, SOURCES


class ListingSpider(TrackerSpider):
    """Subclasses name the source kind (`name`) and what they ask for (`accept`)."""

    accept = "*/*"
    noun = "listing"
    # From which day the listing speaks for the window's meetings (`listed_days`).
    speaks_from: Literal["window", "after earliest", "tomorrow"] = "window"

    def __init__(self, *args: Any, config: Config, watch: MeetingWatch, cursor: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.config, self.watch = config, watch
        self.kind = SOURCES[self.name]
        self.zone = watch.timezone or config.tracker.timezone
        self.url: str = watch.source or ""
        start, end = self.window(self.context(self.url))
        self.url = self.address_for(date.fromisoformat(start), date.fromisoformat(end))
        # A listing read by another parser version is fetched whole once (not conditionally), so a
        # parser upgrade takes effect without waiting for the source to change.
        self.refetch = ListingCursor.load(cursor).parser != self.kind.parser_version
        self.learned = self.report.cursor = ListingCursor()

    async def start(self) -> AsyncIterator[scrapy.Request]:
        yield scrapy.Request(self.url, callback=self.parse_listing, errback=self.failed,
                             meta={"conditional": True, "refetch": self.refetch, "handle_httpstatus_list": [304]},
                             headers={"Accept": self.accept})

    def parse_listing(self, response: Response) -> Iterator[Item]:
        if response.status == 304:
            self.not_modified()
            return
        ctx = self.context(response.url)
        listing = self.read(response, ctx)
        if listing is None:
            return
        # A listing with unreadable records is not whole: its stored meetings are not "missing".
        self.report.complete_listing = not listing.problems
        self.report.listing_window = self.listed_days(ctx, response.url, listing)
        if response.meta.get("validators"):
            self.report.listing_validators.append(response.meta["validators"])
        yield from self.meeting_items(listing, ctx, response.url)

    def address_for(self, start: date, end: date) -> str:
        """What is asked for the crawl's window (`start`..`end`): the watch's address itself, or,
        for a site whose listing takes dates, that listing of the window."""
        return self.url

    def context(self, url: str) -> ListingContext:
        """What the parser is told: the watch, its zone and keywords, and the crawl's window."""
        now = clock.now()
        return ListingContext(watch_id=self.watch.id, url=url, body=self.watch.name, timezone=self.zone,
                              keywords=tuple(self.watch.keywords), window_start=now - timedelta(days=PAST_DAYS),
                              window_end=now + timedelta(days=FUTURE_DAYS))

    @staticmethod
    def window(ctx: ListingContext) -> tuple[str, str]:
        return ctx.window_start.date().isoformat(), ctx.window_end.date().isoformat()

    def listed_days(self, ctx: ListingContext, url: str, listing: Listing) -> tuple[str, str]:
        """The days the listing speaks for, over which a stored meeting it no longer shows is noted
        missing (`speaks_from`): the crawl's window ("window"); for a calendar feed that may list
        only upcoming events, the days after its earliest listed meeting's, or from tomorrow if that
        is sooner ("after earliest": a meeting on or before that day may just have been held and
        left it); for a feed of its latest posts, which keeps them by when they were posted, not by
        the meeting's day, from tomorrow ("tomorrow")."""
        start, end = self.window(ctx)
        if self.speaks_from != "window":
            first = self.tomorrow()
            listed = [day for meeting in listing.meetings if start <= (day := (meeting.date or "")[:10]) <= end]
            if self.speaks_from == "after earliest" and listed:
                first = min(first, (date.fromisoformat(min(listed)) + timedelta(days=1)).isoformat())
            start = max(start, first)
        return start, end

    def today(self) -> date:
        """Today in the watch's zone (the body's, as near as the tracker can tell its clock)."""
        return clock.now().astimezone(ZoneInfo(self.zone)).date()

    def tomorrow(self) -> str:
        """The day after today in the watch's zone: a meeting today may already have been held."""
        return (self.today() + timedelta(days=1)).isoformat()

    def read(self, response: Response, ctx: ListingContext) -> Listing | None:
        """The listing the source kind's parser reads, each part it could not read an error line;
        None after one line when the whole answer cannot be read."""
        assert self.kind.listing is not None, f"source kind {self.name} has no listing parser"
        try:
            listing = self.kind.listing(response.body, ctx)
        except SourceParseError as exc:
            self.fail(self.noun, response.url, str(exc))
            return None
        self.note_problems(listing, response.url)
        return listing

    def note_problems(self, listing: Listing, url: str) -> None:
        for problem in listing.problems:
            self.fail(problem, url, "skipped; the other meetings were read")

    def meeting_items(self, listing: Listing, ctx: ListingContext, url: str) -> Iterator[Any]:
        """An item for each meeting of the listing in the crawl's window."""
        self.learned.parser = self.kind.parser_version
        window = self.window(ctx)
        for meeting in listing.meetings:
            if window[0] <= (meeting.date or "") <= window[1]:
                yield self.meeting_item(meeting, url)

    def meeting_item(self, meeting: Meeting, url: str, **more: Any) -> Item:
        """The item storing one meeting of the listing (`more`: validators, fields to carry)."""
        # The first read by a new parser version is a baseline for meetings it finds too: rows an
        # older version could not read (a layout it did not know) are no news.
        return Item(key=f"meeting:{self.name}:{self.watch.id}:{meeting.source_ref}", kind="meeting",
                    source_id=self.watch.source_id, watch_ids=[self.watch.id], content=meeting,
                    url=url, discovered=not self.refetch, parser_version=self.kind.parser_version, **more)

    def failed(self, failure: Failure) -> None:
        self.fail(self.noun, failure.request.url, describe_failure(failure))  # type: ignore[attr-defined]
