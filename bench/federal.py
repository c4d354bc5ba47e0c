"""Benchmark: GovInfo BILLSTATUS sync through the real engine against a loopback server.

2,000 BILLSTATUS files (the real fixtures under varied numbers) are served on 127.0.0.1. Politeness
is OFF (no download delay, no AutoThrottle, 16 concurrent requests): this measures our own cost,
not GovInfo's patience. Prints, for a full sync, an unchanged re-run and a bare engine that only
downloads the same files: bills/s, requests, bytes and peak memory (ru_maxrss).

    python bench/federal.py [--bills 2000]
"""

from __future__ import annotations

import argparse
import re
import resource
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import scrapy

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tracker.config import load_config  # noqa: E402
from tracker.crawl import SourceJob, run_crawls  # noqa: E402
from tracker.demo.replay import serve  # noqa: E402
from tracker.report import SourceReport  # noqa: E402
from tracker.store import Store  # noqa: E402

FIXTURES = sorted((ROOT / "tests" / "data" / "federal").glob("BILLSTATUS-*.xml"))
_NAME = re.compile(r"BILLSTATUS-(\d+)([a-z]+)(\d+)\.xml")


def renumber(data: bytes, number: int) -> bytes:
    """The same real file under another bill number (both schemas)."""
    data = re.sub(rb"<number>\d+</number>", f"<number>{number}</number>".encode(), data, count=1)
    return re.sub(rb"<billNumber>\d+</billNumber>", f"<billNumber>{number}</billNumber>".encode(), data, count=1)


def make_files(folder: Path, count: int) -> list[str]:
    numbers = []
    for i in range(count):
        source = FIXTURES[i % len(FIXTURES)]
        congress, bill_type, _ = _NAME.search(source.name).groups()  # type: ignore[union-attr]
        number = 20000 + i
        path = folder / "bulkdata" / "BILLSTATUS" / congress / bill_type / f"BILLSTATUS-{congress}{bill_type}{number}.xml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(renumber(source.read_bytes(), number))
        numbers.append(f"{bill_type}{number}-{congress}")
    return numbers


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class BareSpider(scrapy.Spider):
    """Downloads the same files and does nothing else: the engine's own rate."""

    name = "bare"

    def __init__(self, *args: Any, urls: list[str], report: SourceReport, **kwargs: Any) -> None:
        for key in ("config", "validators", "cursor"):
            kwargs.pop(key, None)
        super().__init__(*args, **kwargs)
        self.urls, self.report = urls, report

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.urls:
            yield scrapy.Request(url, callback=self.parse)

    def parse(self, response: Any) -> None:
        self.report.items += 1


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bills", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, serve() as server:
        folder = Path(tmp)
        numbers = make_files(folder / "www", args.bills)
        server.add_dir("/", folder / "www")
        server.robots("User-agent: *\nAllow: /\n")
        config_path = folder / "tracker.toml"
        config_path.write_text(
            f'[storage]\nurl = "sqlite:///bench.db"\n[crawl]\ndelay_seconds = 0\n'
            f'[sources.govinfo]\nbase_url = "{server.url}"\n'
            f'[[bills]]\nid = "bench"\nname = "Benchmark"\nnumbers = {numbers!r}\n'.replace("'", '"')
        )
        config = load_config(config_path, env={})
        store = Store(config.database_url)
        print(f"politeness OFF: no download delay, no AutoThrottle, 16 concurrent requests; {args.bills} bills")

        results = {}
        for label in ("full sync", "unchanged run"):
            server.clear_log()
            started = time.perf_counter()
            (report,) = run_crawls(config, store, polite=False)
            seconds = time.perf_counter() - started
            handled = report.items + report.not_modified
            bodies = server.count(status=200) - server.count("/robots.txt", status=200)
            results[label] = handled / seconds
            print(f"{label:>14}: {handled / seconds:7.1f} bills/s  {seconds:6.2f} s  requests {report.requests}  "
                  f"bytes {report.bytes:,}  304s {report.not_modified}  bodies downloaded {bodies}  "
                  f"errors {len(report.errors)}  peak {peak_mb():.0f} MB")

        urls = [f"{server.url}/bulkdata/BILLSTATUS/{n.split('-')[1]}/{re.match(r'[a-z]+', n).group()}/"  # type: ignore[union-attr]
                f"BILLSTATUS-{n.split('-')[1]}{n.split('-')[0]}.xml" for n in numbers]
        server.clear_log()
        bare_report = SourceReport("bare", [])
        job = SourceJob("bare", "bare", [], {"urls": urls}, spider=BareSpider)
        started = time.perf_counter()
        run_crawls(config, store, polite=False, jobs=[job], settings={"ITEM_PIPELINES": {}})
        seconds = time.perf_counter() - started
        bare_rate = len(urls) / seconds
        del bare_report
        print(f"{'bare engine':>14}: {bare_rate:7.1f} files/s  {seconds:6.2f} s  requests {server.count()}  "
              f"peak {peak_mb():.0f} MB")
        ratio = results["full sync"] / bare_rate
        print(f"full sync / bare engine = {ratio:.0%} (target >= 40%)")


if __name__ == "__main__":
    main()
