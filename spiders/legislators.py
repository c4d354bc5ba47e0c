"""congress-legislators (public domain, unitedstates/congress-legislators): members of Congress,
committees and committee membership, published as JSON files. Read whole, at most once a day, with
conditional GETs; each file is stored as a reference snapshot (its raw response), which alerts read
to say whom to call. A file that cannot be read is one error line and the last good copy stays."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from typing import Any

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from spiders.base import TrackerSpider
from tracker import clock
from tracker.config import Config
from tracker.contacts import (
    LEGISLATOR_FILES,
    ContactsError,
    parse_committees,
    parse_legislators,
    parse_membership,
    parse_offices,
    reference_key,
)
from tracker.cursors import LegislatorsCursor
from tracker.records import Item, Reference
from tracker.safexml import html_instead
from tracker.sources import SOURCES

# The files alerts need, with the parser that proves a response is usable before it replaces the last one.
FILES = dict(zip(LEGISLATOR_FILES, (parse_legislators, parse_committees, parse_membership, parse_offices),
                 strict=True))
REFRESH = timedelta(days=1)


class LegislatorsSpider(TrackerSpider):
    name = "legislators"
    source_id = "legislators"

    def __init__(self, *args: Any, config: Config, cursor: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.base = config.sources.legislators.base_url.rstrip("/")
        self.cursor = LegislatorsCursor.load(cursor)
        self.learned = self.report.cursor = LegislatorsCursor()
        self.started = clock.now()

    def _due(self) -> bool:
        fetched = self.cursor.fetched
        return not fetched or datetime.fromisoformat(fetched) <= self.started - REFRESH

    async def start(self) -> AsyncIterator[scrapy.Request]:
        if not self._due():
            self.not_modified()  # read less than a day ago: the data changes rarely
            return
        for name in FILES:
            yield scrapy.Request(f"{self.base}/{name}.json", callback=self.parse_file, errback=self.failed,
                                 cb_kwargs={"name": name}, headers={"Accept": "application/json"},
                                 meta={"conditional": True, "handle_httpstatus_list": [304], "what": name})

    def parse_file(self, response: Response, name: str) -> Iterator[Item]:
        if response.status == 304:
            self.not_modified()
            return
        body = response.body
        try:
            if problem := html_instead(body, "JSON"):
                raise ContactsError(problem)
            if not FILES[name](body):  # a publish gone wrong: stored, every seat would read as vacant
                raise ContactsError("holds nobody: the last good copy is kept")
        except ContactsError as exc:
            self.fail(name, response.url, str(exc))
            return
        yield Item(key=reference_key(name), kind="reference", source_id=self.source_id, watch_ids=[],
                   content=Reference(name=name, sha256=hashlib.sha256(body).hexdigest(), size=len(body)),
                   url=response.url, raw=body, validators=response.meta.get("validators"),
                   parser_version=SOURCES["legislators"].parser_version)

    def failed(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        self.fail(request.meta.get("what", "request"), request.url, self.describe(failure))

    def closed(self, reason: str) -> None:
        """Asked again tomorrow only when every file was read (or unchanged) today."""
        if self.report.ok and self._due():
            self.learned.fetched = self.started.isoformat()
