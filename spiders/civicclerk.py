"""CivicClerk event lists (OData JSON; local times despite their Z).

The API answers a page of events and, when more follow, the address of the next page
(`@odata.nextLink`, OData's server-driven paging): each next page on the API's own host is asked
for and read, and the listing is whole only once the last page is read. A listing of one page is
read as any listing (conditionally); one of several is read whole each run (a first page unchanged
says nothing of the others) and not looked through for meetings moved out of the window (a move
is told when its new day enters it).

The watch names the events list (`/v1/Events`, maybe with its own `$filter` of categories); the
spider asks it for the window's days only (`address_for`), as the portal's own calendar does: the
list unfiltered holds every event the client ever had, years of pages a run."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urljoin, urlsplit

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from spiders.listing import ListingSpider
from tracker.meetings.normalize import whole_weeks
from tracker.records import Listing, ListingContext
from tracker.safetext import json_loads

MAX_PAGES = 50  # pages of one listing read in a run: a next page that never ends stops here


class CivicClerkSpider(ListingSpider):
    name = "civicclerk"
    accept = "application/json"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pages: list[Listing] = []  # the pages of a listing of several, read so far
        self.asked = {self.url}  # the pages' addresses asked for
        self.next_elsewhere = False  # a next page named on another host, not followed: not whole
        self.all_read = True  # every page named was read

    def address_for(self, start: date, end: date) -> str:
        """The watch's events list of these days only: its `$filter` (a choice of categories) and
        the days' `startDateTime`s (the client's wall clock, written with a Z), so a run reads the
        window's pages, not every event since the client began. The days in whole weeks
        (`whole_weeks`): the window moves a day a run, and an address of its exact days changed
        daily, so its conditional GET never held."""
        start, end = whole_weeks(start, end)
        parts = urlsplit(self.watch.source or "")
        query = parse_qsl(parts.query, keep_blank_values=True)
        days = (f"startDateTime ge {start.isoformat()}T00:00:00Z"
                f" and startDateTime lt {(end + timedelta(days=1)).isoformat()}T00:00:00Z")
        own = [value for name, value in query if name == "$filter" and value.strip()]
        query = [(name, value) for name, value in query if name != "$filter"]
        query.append(("$filter", f"({own[-1]}) and {days}" if own else days))
        return parts._replace(query=urlencode(query, quote_via=quote, safe="$(),':")).geturl()

    def parse_listing(self, response: Response) -> Iterator[Any]:
        following = self.next_page(response) if response.status == 200 else None
        if following is None and not self.pages and not self.next_elsewhere:
            yield from super().parse_listing(response)  # one page: as any listing
            return
        ctx = self.context(response.url)
        listing = self.read(response, ctx)
        if listing is None:
            self.all_read = False
            return  # its one line: the listing is not whole
        self.pages.append(listing)
        yield from self.meeting_items(listing, ctx, response.url)
        if following is None:  # the last page: the listing is whole
            whole = Listing([m for page in self.pages for m in page.meetings],
                            [p for page in self.pages for p in page.problems])
            self.learned.unsaved.forget(list(self.unsaved_before))
            self.report.complete_listing = not whole.problems and not self.next_elsewhere
            self.report.listing_window = self.listed_days(ctx, self.url, whole)
        elif following in self.asked:
            self.unread(response.url, f"its next page ({following}) was already read (the API's pages loop): "
                                      "the rest not read")
        elif len(self.pages) >= MAX_PAGES:
            self.unread(response.url, f"more than {MAX_PAGES} pages of events; the rest not read")
        else:
            self.asked.add(following)
            yield scrapy.Request(following, callback=self.parse_listing, errback=self.page_failed,
                                 headers={"Accept": self.accept}, dont_filter=True)

    def unread(self, url: str, problem: str) -> None:
        """The error line of a page not read: the listing was read in part."""
        self.all_read = False
        self.fail(self.noun, url, problem)

    def page_failed(self, failure: Failure) -> None:
        self.unread(failure.request.url, self.describe(failure))  # type: ignore[attr-defined]

    def closed(self, reason: str) -> None:
        """What the listing was read with (parser, bodies, keywords) is recorded only once every
        page was read: a meeting of a body followed from now on that an unread page holds is a
        baseline when it is read, not news."""
        if not (self.all_read and reason == "finished"):
            self.learned.parser = self.learned.bodies = self.learned.keywords = None
        super().closed(reason)

    def parse_moved(self, response: Response, ctx: ListingContext, missing: set[str],
                    shown: set[str]) -> Iterator[Any]:
        """The wider span's answer (`moved_out`). The first page of several (the span holds years
        of events) can neither say a meeting is gone nor be checked against the window's answer:
        the missing meetings it shows on a new day are stored, the others stay held and noted
        missing, as in a listing of several pages, without a line."""
        if next_link(response.body) is None:
            yield from super().parse_moved(response, ctx, missing, shown)
            return
        yield from self.found_moved(response.body, response.url, ctx, missing,
                                    window=self.window(self.context(self.url)), shown=set(), whole=False)

    def next_page(self, response: Response) -> str | None:
        """The answer's `@odata.nextLink` (none on the last page, or an answer that is no page: the
        parser says what it is). One on another host is not followed: one line, and the listing
        is not whole."""
        if (link := next_link(response.body)) is None:
            return None
        try:
            following = urljoin(response.url, link)
            elsewhere = urlsplit(following).netloc.lower() != urlsplit(response.url).netloc.lower()
        except ValueError:  # "https://[x/": no address
            following, elsewhere = link[:200], True
        if elsewhere:
            self.unread(response.url, f"its next page is on another host ({following}): not followed")
            self.next_elsewhere = True
            return None
        return following


def next_link(body: bytes) -> str | None:
    """An answer's `@odata.nextLink`: the address of its next page, None on the last page (or an
    answer that is no page)."""
    try:
        payload = json_loads(body)
    except (ValueError, RecursionError):
        return None
    link = payload.get("@odata.nextLink") if isinstance(payload, dict) else None
    return link.strip() if isinstance(link, str) and link.strip() else None
