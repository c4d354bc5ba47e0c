"""Sources that publish a body's meetings as one listing (an iCal feed, a portal's JSON or XML):
one conditional GET per crawl, every meeting of the window read from it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from typing import Any

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from spiders.base import TrackerSpider, describe_failure
from tracker import clock
from tracker.config import Config, MeetingWatch
from tracker.meetings.ical import SourceParseError
from tracker.records import Item

PAST_DAYS, FUTURE_DAYS = 30, 120


class ListingSpider(TrackerSpider):
    """Subclasses name the source kind and read the listing (`read`)."""

    accept = "*/*"
    noun = "listing"

    def __init__(self, *args: Any, config: Config, watch: MeetingWatch, cursor: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.config, self.watch = config, watch
        self.zone = watch.timezone or config.tracker.timezone
        self.url: str = getattr(watch, watch.source_kind) or ""

    async def start(self) -> AsyncIterator[scrapy.Request]:
        yield scrapy.Request(self.url, callback=self.parse_listing, errback=self.failed,
                             meta={"conditional": True, "handle_httpstatus_list": [304]},
                             headers={"Accept": self.accept})

    def read(self, data: bytes, *, url: str, start: datetime, end: datetime) -> tuple[list[dict[str, Any]], list[str]]:
        """(meetings, one line per part that could not be read); SourceParseError when none can."""
        raise NotImplementedError

    def parse_listing(self, response: Response) -> Iterator[Item]:
        if response.status == 304:
            self.not_modified()
            return
        now = clock.now()
        start, end = now - timedelta(days=PAST_DAYS), now + timedelta(days=FUTURE_DAYS)
        try:
            meetings, problems = self.read(response.body, url=response.url, start=start, end=end)
        except SourceParseError as exc:
            self.fail(self.noun, response.url, str(exc))
            return
        for problem in problems:
            self.fail(problem, response.url, "skipped; the other meetings were read")
        window = (start.date().isoformat(), end.date().isoformat())
        self.report.complete_listing = True
        self.report.listing_window = window
        if response.meta.get("validators"):
            self.report.listing_validators.append(response.meta["validators"])
        for meeting in meetings:
            if not window[0] <= meeting["date"] <= window[1]:
                continue
            yield Item(key=f"meeting:{self.name}:{self.watch.id}:{meeting['source_ref']}", kind="meeting",
                       source_id=self.watch.source_id, watch_ids=[self.watch.id], content=meeting,
                       url=response.url, discovered=True)

    def failed(self, failure: Failure) -> None:
        self.fail(self.noun, failure.request.url, describe_failure(failure))  # type: ignore[attr-defined]
