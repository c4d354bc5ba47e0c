"""GovInfo BILLSTATUS bulk data: one XML file per bill, fetched with conditional requests.

- Bills named in config: `{base_url}/bulkdata/BILLSTATUS/{congress}/{type}/BILLSTATUS-{congress}{type}{number}.xml`,
  a conditional GET each, so an unchanged bill costs a 304.
- Title watches (a proposal with no number yet, or a new number each Congress): GovInfo's BILLSTATUS
  sitemaps (`{base_url}/sitemap/bulkdata/BILLSTATUS/sitemapindex.xml`, one child sitemap per
  Congress and bill type) list every file with its `lastmod`. Files whose lastmod moved since the
  last crawl are fetched and their titles matched; the lastmods are kept in the source's cursor,
  so an unchanged bill is not fetched at all. The first crawl of a Congress reads every bill in it
  (thousands of requests at the polite delay): it is the baseline, done once.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from lxml import etree
from scrapy.http import Response
from twisted.python.failure import Failure

from spiders.base import TrackerSpider, describe_failure
from tracker import clock
from tracker.billnumbers import BILL_TYPES, BillNumber, current_congress
from tracker.bills import BillParseError, parse_billstatus, title_matches
from tracker.config import BillWatch, Config
from tracker.records import Item

PARSER_VERSION = "billstatus-1"
SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
_CHILD_SITEMAP = re.compile(r"/(\d+)([a-z]+)/sitemap\.xml$")
_FILE = re.compile(r"BILLSTATUS-(\d+)([a-z]+)(\d+)\.xml$")


def billstatus_url(base_url: str, bill: BillNumber) -> str:
    return (
        f"{base_url.rstrip('/')}/bulkdata/BILLSTATUS/{bill.congress}/{bill.type}/"
        f"BILLSTATUS-{bill.congress}{bill.type}{bill.number}.xml"
    )


def sitemap_entries(data: bytes) -> list[tuple[str, str | None]]:
    """(loc, lastmod) pairs of a sitemap or sitemap index; entities are never resolved."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    if b"<!ENTITY" in data[:4096] or b"<!DOCTYPE" in data[:4096]:
        raise ValueError("sitemap declares a DTD or entities: refused")
    root = etree.fromstring(data, parser)
    out = []
    for node in root:
        loc = node.findtext(f"{SITEMAP_NS}loc") or node.findtext("loc")
        lastmod = node.findtext(f"{SITEMAP_NS}lastmod") or node.findtext("lastmod")
        if loc:
            out.append((loc.strip(), lastmod.strip() if lastmod else None))
    return out


class GovinfoSpider(TrackerSpider):
    name = "govinfo"
    source_id = "govinfo"

    def __init__(self, *args: Any, config: Config, watches: list[BillWatch],
                 cursor: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.config = config
        self.base = config.sources.govinfo.base_url
        # One request per bill even when several watches name it.
        self.bills: dict[BillNumber, list[str]] = {}
        for watch in watches:
            for number in watch.numbers:
                self.bills.setdefault(number, []).append(watch.id)
        self.title_watches = [w for w in watches if w.titles]
        self.lastmods: dict[str, str] = dict((cursor or {}).get("lastmod", {}))
        default = current_congress(clock.now().year)
        self.title_congresses = sorted({c for w in self.title_watches for c in (w.congresses or [default])})

    # -- requests -------------------------------------------------------------------------

    def bill_request(self, bill: BillNumber, watch_ids: list[str], *, by_title: bool = False,
                     lastmod: str | None = None) -> scrapy.Request:
        return scrapy.Request(
            billstatus_url(self.base, bill),
            callback=self.parse_bill,
            errback=self.failed,
            meta={"conditional": True, "bill": bill, "watch_ids": watch_ids, "by_title": by_title,
                  "lastmod": lastmod, "handle_httpstatus_list": [304]},
            headers={"Accept": "application/xml"},
        )

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for bill, watch_ids in sorted(self.bills.items()):
            yield self.bill_request(bill, watch_ids)
        if self.title_watches:
            yield scrapy.Request(
                f"{self.base}/sitemap/bulkdata/BILLSTATUS/sitemapindex.xml",
                callback=self.parse_sitemap_index,
                errback=self.failed,
                meta={"what": "BILLSTATUS sitemap index"},
            )

    # -- title discovery -------------------------------------------------------------------

    def parse_sitemap_index(self, response: Response) -> Iterator[scrapy.Request]:
        try:
            entries = sitemap_entries(response.body)
        except (etree.XMLSyntaxError, ValueError) as exc:
            self.fail("BILLSTATUS sitemap index", response.url, f"unreadable: {exc}")
            return
        wanted = set(self.title_congresses)
        for loc, _lastmod in entries:
            match = _CHILD_SITEMAP.search(loc)
            if match and int(match.group(1)) in wanted and match.group(2) in BILL_TYPES:
                yield scrapy.Request(loc, callback=self.parse_sitemap, errback=self.failed,
                                     meta={"what": f"BILLSTATUS sitemap {match.group(1)}{match.group(2)}"})

    def parse_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        try:
            entries = sitemap_entries(response.body)
        except (etree.XMLSyntaxError, ValueError) as exc:
            self.fail(response.meta["what"], response.url, f"unreadable: {exc}")
            return
        for loc, lastmod in entries:
            match = _FILE.search(loc)
            if not match or match.group(2) not in BILL_TYPES:
                continue
            bill = BillNumber(int(match.group(1)), match.group(2), int(match.group(3)))
            if bill in self.bills:
                continue  # named in config: fetched directly
            if lastmod and self.lastmods.get(bill.key) == lastmod:
                continue  # unchanged since we last read it
            yield self.bill_request(bill, [], by_title=True, lastmod=lastmod)

    # -- bill files -------------------------------------------------------------------------

    def parse_bill(self, response: Response) -> Iterator[Item]:
        bill: BillNumber = response.meta["bill"]
        if response.status == 304:
            self.not_modified()
            self._remember(response)
            return
        body = response.body
        expected = response.headers.get(b"Content-Length")
        if expected and expected.isdigit() and int(expected) != len(body):
            self.fail(f"bill {bill.key}", response.url, f"truncated: got {len(body)} of {int(expected)} bytes")
            return
        item = Item(
            key=bill.entity,
            kind="bill",
            source_id=self.source_id,
            watch_ids=list(response.meta["watch_ids"]),
            content={},
            url=response.url,
            raw=body,
            validators=response.meta.get("validators"),
            parser_version=PARSER_VERSION,
            parse_with="govinfo",  # parsed in the ingest worker, off the engine's core
        )
        if response.meta["by_title"]:
            # Found through a sitemap: the titles decide whether any watch wants it.
            try:
                item.content = parse_billstatus(body)
            except BillParseError as exc:
                self.fail(f"bill {bill.key}", response.url, str(exc))
                return
            item.parse_with = None
            item.discovered = True
            item.watch_ids = [
                w.id for w in self.title_watches
                if bill.congress in (w.congresses or self.title_congresses)
                and any(title_matches(item.content, t, contains=w.title_contains, official=w.official_titles)
                        for t in w.titles)
            ]
            self._remember(response)
            if not item.watch_ids:
                return
        yield item

    def _remember(self, response: Response) -> None:
        lastmod = response.meta.get("lastmod")
        if lastmod:
            self.report.cursor.setdefault("lastmod", {})[response.meta["bill"].key] = lastmod

    def failed(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        bill: BillNumber | None = request.meta.get("bill")
        what = f"bill {bill.key}" if bill else request.meta.get("what", "request")
        self.fail(what, request.url, describe_failure(failure))
