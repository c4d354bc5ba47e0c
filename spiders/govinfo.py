"""GovInfo BILLSTATUS bulk data: one XML file per bill, fetched with conditional requests.

`{base_url}/bulkdata/BILLSTATUS/{congress}/{type}/BILLSTATUS-{congress}{type}{number}.xml`
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import scrapy
from scrapy.http import Response
from tracker.bills import BillParseError, parse_billstatus
from twisted.python.failure import Failure

from spiders.base import TrackerSpider, describe_failure
from tracker.billnumbers import BillNumber
from tracker.config import BillWatch, Config
from tracker.store import Item

PARSER_VERSION = "billstatus-1"


def billstatus_url(base_url: str, bill: BillNumber) -> str:
    return (
        f"{base_url.rstrip('/')}/bulkdata/BILLSTATUS/{bill.congress}/{bill.type}/"
        f"BILLSTATUS-{bill.congress}{bill.type}{bill.number}.xml"
    )


class GovinfoSpider(TrackerSpider):
    name = "govinfo"
    source_id = "govinfo"

    def __init__(self, *args: Any, config: Config, watches: list[BillWatch], sink: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.config = config
        self.sink = sink
        # One request per bill even when several watches name it.
        self.bills: dict[BillNumber, list[str]] = {}
        for watch in watches:
            for number in watch.numbers:
                self.bills.setdefault(number, []).append(watch.id)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        base = self.config.sources.govinfo.base_url
        for bill, watch_ids in sorted(self.bills.items()):
            yield scrapy.Request(
                billstatus_url(base, bill),
                callback=self.parse_bill,
                errback=self.failed,
                meta={"conditional": True, "bill": bill, "watch_ids": watch_ids,
                      "handle_httpstatus_list": [304]},
                headers={"Accept": "application/xml"},
            )

    def parse_bill(self, response: Response) -> Any:
        bill: BillNumber = response.meta["bill"]
        if response.status == 304:
            self.not_modified()
            return
        body = response.body
        expected = response.headers.get(b"Content-Length")
        if expected and expected.isdigit() and int(expected) != len(body):
            self.fail(f"bill {bill.key}", response.url, f"truncated: got {len(body)} of {int(expected)} bytes")
            return
        try:
            content = parse_billstatus(body)
        except BillParseError as exc:
            self.fail(f"bill {bill.key}", response.url, str(exc))
            return
        if content.get("number") != bill.key:
            self.fail(f"bill {bill.key}", response.url, f"file describes {content.get('number')}, not {bill.key}")
            return
        yield Item(
            key=bill.entity,
            kind="bill",
            source_id=self.source_id,
            watch_ids=response.meta["watch_ids"],
            content=content,
            url=response.url,
            raw=body,
            validators=response.meta.get("validators"),
            parser=PARSER_VERSION,
        )

    def failed(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        bill: BillNumber = request.meta["bill"]
        self.fail(f"bill {bill.key}", request.url, describe_failure(failure))
