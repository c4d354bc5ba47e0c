"""iCalendar feeds of a body's meetings: one conditional GET of the feed per crawl."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from spiders.base import TrackerSpider, describe_failure
from tracker import clock
from tracker.config import Config, MeetingWatch
from tracker.meetings.ical import SourceParseError, meeting_key, parse_ical
from tracker.store import Item

PAST_DAYS, FUTURE_DAYS = 30, 120


class IcalSpider(TrackerSpider):
    name = "ical"

    def __init__(self, *args: Any, config: Config, watch: MeetingWatch, cursor: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.config, self.watch = config, watch
        self.zone = watch.timezone or config.tracker.timezone

    async def start(self) -> AsyncIterator[scrapy.Request]:
        yield scrapy.Request(self.watch.ical or "", callback=self.parse_feed, errback=self.failed,
                             meta={"conditional": True, "handle_httpstatus_list": [304]},
                             headers={"Accept": "text/calendar"})

    def parse_feed(self, response: Response) -> Iterator[Item]:
        if response.status == 304:
            self.not_modified()
            return
        now = clock.now()
        start, end = now - timedelta(days=PAST_DAYS), now + timedelta(days=FUTURE_DAYS)
        try:
            meetings, problems = parse_ical(response.body, watch_id=self.watch.id, body=self.watch.name,
                                            timezone=self.zone, window_start=start, window_end=end)
        except SourceParseError as exc:
            self.fail("feed", response.url, str(exc))
            return
        for problem in problems:
            self.fail(problem, response.url, "skipped; the other events were read")
        self.report.complete_listing = True
        if response.meta.get("validators"):
            self.report.listing_validators.append(response.meta["validators"])
        self.report.listing_window = (start.date().isoformat(), end.date().isoformat())
        for meeting in meetings:
            yield Item(key=meeting_key(self.watch.id, meeting["source_ref"]), kind="meeting",
                       source_id=self.watch.source_id, watch_ids=[self.watch.id], content=meeting,
                       url=response.url, raw=None, discovered=True)

    def failed(self, failure: Failure) -> None:
        self.fail("feed", failure.request.url, describe_failure(failure))  # type: ignore[attr-defined]
