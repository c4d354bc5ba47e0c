"""GovInfo BILLSTATUS bulk data at the limit of the source: packages once, then sitemap lastmods.

- A (Congress, bill type) is *followed* when its sitemap is read anyway (a title watch's Congress:
  the BREATHE Act has no number, the Ending Qualified Immunity Act a new one each Congress) or when
  a watch names more of its bills than following costs in requests (the index and one sitemap).
  Other named bills get a conditional GET each (an unchanged one costs a 304).
- Steady state: the sitemap index (`sitemap/bulkdata/BILLSTATUS/sitemapindex.xml`, a conditional
  GET) says which child sitemaps (one per Congress and type) moved since they were last read whole;
  those are fetched (conditional GETs), and their `lastmod`s say which files moved: only those are
  fetched. A run with nothing new sends the index request and nothing else.
- Baseline: when a followed type has at least `package_min_files` files to read (its first read in
  whole, or a day when that many moved), or its Congress is needed whole (a title watch's first
  read: any type with more than one file), its BILLSTATUS ZIP package is downloaded once instead
  (spiders/billpackages.py), checked whole, then only the watched bills are stored; files whose
  lastmod is newer than the package are fetched singly right after. A package that fails is one
  warning line and the files are read singly (nothing half-stored); a small type's 404 (a new
  Congress with no package yet) is only a log line. Fewer files otherwise: single files, those found
  by title at most `max_files_per_run` a run (the rest next run: their sitemap is not counted read).
- Cursor (`GovinfoCursor`, tracker/cursors.py): `lastmod` per bill file, `sitemaps` (child lastmod, set only when every
  file it listed was handled), `index` (the index's listing, for a 304), `checked` (last direct
  request of a named bill: followed named bills still get one at most once a day, a safety net
  against a lagging sitemap) and `titles` (which title phrases read a Congress, one fingerprint each: a
  new phrase reads it whole again, a removed one costs nothing), `unlisted` (files a sitemap lists
  without a lastmod, and when each was last read: asked for every run, in turn, after the rest).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import time
import uuid
import zipfile
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

import scrapy
from lxml import etree
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider, DontCloseSpider
from scrapy.http import Response
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import DeferredLock
from twisted.internet.threads import deferToThread
from twisted.python.failure import Failure

from spiders.base import TrackerSpider, asked_conditionally
from spiders.billpackages import (
    PackageError,
    ScanResult,
    http_date,
    lastmod_time,
    package_url,
    progress_printer,
    read_member,
    scan_package,
    title_filter,
)
from tracker import clock
from tracker.billnumbers import BILL_TYPES, BillNumber, current_congress, ordinal, parse_bill_number
from tracker.bills.billstatus import BillParseError, parse_billstatus
from tracker.bills.titles import title_matches
from tracker.config import BillWatch, Config
from tracker.cursors import GovinfoCursor, fingerprint
from tracker.faults import disk_full
from tracker.records import Bill, Item, Validators
from tracker.report import BillRule
from tracker.safexml import parse_xml
from tracker.sources import SOURCES

log = logging.getLogger(__name__)
# The operator's line for a package that fell back to single files: not an error (the run is whole),
# yet worth one line on stderr. Spider loggers are muted below ERROR by the CLI, so it has its own.
notice = logging.getLogger("tracker.govinfo")

SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
_CHILD_SITEMAP = re.compile(r"/(\d+)([a-z]+)/sitemap\.xml$")
_FILE = re.compile(r"BILLSTATUS-(\d+)([a-z]+)(\d+)\.xml$")
# `titles` value of a group: this mark, then the fingerprints of the (watch, phrase) pairs it was read for
_PHRASES = "phrases:"
SAFETY_INTERVAL = timedelta(days=1)
TEMP_PREFIX = ".govinfo-package-"


def billstatus_url(base_url: str, bill: BillNumber) -> str:
    return (
        f"{base_url.rstrip('/')}/bulkdata/BILLSTATUS/{bill.congress}/{bill.type}/"
        f"BILLSTATUS-{bill.congress}{bill.type}{bill.number}.xml"
    )


def sitemap_url(base_url: str, group: str) -> str:
    return f"{base_url.rstrip('/')}/sitemap/bulkdata/BILLSTATUS/{group}/sitemap.xml"


def sitemap_entries(data: bytes, *, index: bool = False) -> list[tuple[str, str | None]]:
    """(loc, lastmod) pairs of a sitemap, or of a sitemap `index`, read like all untrusted XML (no
    DTD, no entities: tracker/safexml.py); ValueError says what is wrong. The one where the other was
    asked for is wrong too: the index read as a sitemap lists no file, and the sitemap would count
    as read whole."""
    root = parse_xml(data, ValueError, "a sitemap")
    if not str(root.tag).endswith(("urlset", "sitemapindex")):
        raise ValueError("not a sitemap")
    if str(root.tag).endswith("sitemapindex") != index:
        raise ValueError("a sitemap, not the sitemap index" if index else "the sitemap index, not a sitemap")
    out = []
    for node in root:
        loc = node.findtext(f"{SITEMAP_NS}loc") or node.findtext("loc")
        lastmod = node.findtext(f"{SITEMAP_NS}lastmod") or node.findtext("lastmod")
        if loc:
            out.append((loc.strip(), lastmod.strip() if lastmod else None))
    return out


def listed_file(loc: str, congress: int, bill_type: str) -> BillNumber | None:
    """The bill file a sitemap entry names when it is one of this Congress and type, else None;
    ValueError when its name holds no possible bill number (0, or digits by the thousand, which
    `int` refuses): a sitemap is untrusted, and one such entry must not end the read of the rest."""
    match = _FILE.search(loc)
    if not match or match.group(2) != bill_type or len(match.group(1)) > 9 or int(match.group(1)) != congress:
        return None
    digits = match.group(3)
    if len(digits) > 9 or int(digits) < 1:
        raise ValueError(f"no bill number: {digits[:20]}")
    return BillNumber(congress, bill_type, int(digits))


def group_of(bill: BillNumber) -> str:
    return f"{bill.congress}{bill.type}"


class GovinfoSpider(TrackerSpider):
    name = "govinfo"
    source_id = "govinfo"
    custom_settings: ClassVar[dict[str, Any]] = {
        "DOWNLOAD_HANDLERS": {
            "http": "spiders.billpackages.PackageDownloadHandler",
            "https": "spiders.billpackages.PackageDownloadHandler",
        },
    }

    def __init__(self, *args: Any, config: Config, watches: list[BillWatch],
                 cursor: dict[str, Any] | None = None, package_min_files: int | None = None,
                 follow_min_bills: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.config = config
        source = config.sources.govinfo
        self.base = source.base_url.rstrip("/")
        self.package_min_files = package_min_files or source.package_min_files
        self.package_max_bytes = source.package_max_bytes
        self.package_max_members = source.package_max_members
        # Files found through a sitemap (not named) still to be fetched singly this run, and by group
        # those left for the next runs (their sitemap is read again then).
        self.files_left = source.max_files_per_run
        self.deferred: dict[str, int] = {}
        # Files a sitemap listed as moved that this run did not handle (held back, or failed), by
        # group: their lastmod and their sitemap's are forgotten, so the next run reads them even
        # where the stored lastmod is the sitemap's (a whole read: a new title phrase, an upgrade).
        self.moved_keys: set[str] = set()
        self.unread: dict[str, set[str]] = {}
        # Groups read whole this run (a new title phrase): their files are asked for afresh, never a
        # 304 that would hide a bill from the new watch; the phrases are recorded once the run finished.
        self.whole_groups: set[str] = set()
        self.pending_titles: dict[str, str] = {}
        self.handled: set[str] = set()  # bill keys whose file was read with nothing to store, or answered 304
        # Files a sitemap lists that GovInfo does not serve (404), by group: one line each at the end.
        self.unserved: dict[str, list[BillNumber]] = {}
        self.asked: set[str] = set()  # the bills whose files this run asked for (`bill_request`)
        self.sitemap_validators: dict[str, Validators] = {}
        self.member_cap = config.crawl.max_bytes
        # One request per bill even when several watches name it.
        self.bills: dict[BillNumber, list[str]] = {}
        for watch in watches:
            for number in watch.numbers:
                self.bills.setdefault(number, []).append(watch.id)
        self.title_watches = [w for w in watches if w.titles]
        # a watch naming a bill already stored holds it even when this run stores nothing of it
        self.report.held = {bill.entity: ids for bill, ids in self.bills.items()}
        # the index's validators go with its listing in the cursor; a sitemap's are kept only once
        # all it listed was handled (`closed`): both hold whatever failed elsewhere in the run
        self.report.validators_vetted = True
        # The one version label, the registry's (tracker/sources.py).
        self.parser_version = SOURCES["govinfo"].parser_version
        # Validators are kept per parser version: after an upgrade a file's old validators would
        # answer 304 and keep the old parser's snapshot for good (a bill named again, a title back).
        self.validators_scope = f"govinfo:{self.parser_version}"
        stored = GovinfoCursor.load(cursor)
        # Bills read by another parser version are read again, whole, once: the new parser's first
        # snapshot of each is a baseline (tracker/store.py), so an upgrade is never news.
        self.upgrade = bool(stored) and stored.parser != self.parser_version
        owed_before = set(stored.reread or [])
        watches_before = dict(stored.watches)
        self.learned = self.report.cursor = GovinfoCursor()
        if self.upgrade:
            # what the old parser read counts for nothing: a group not read whole this run is read whole later
            self.learned.sitemaps.forget(sorted(stored.sitemaps))
            self.learned.titles.forget(sorted(stored.titles))
            self.learned.unlisted.forget(sorted(stored.unlisted))
            stored = GovinfoCursor()
        # Bills owed a fresh read (an upgrade run could not re-read them, a 404 or a 500; a whole read
        # left them unread): asked for unconditionally until they are read. The version itself is
        # recorded after any finished run, so one bill that keeps failing does not make every later
        # run an upgrade (every file, every package, read again).
        self.reread: set[str] = owed_before
        self.failed_bills: set[str] = set()
        self.lastmods: dict[str, str] = stored.lastmod
        self.seen_sitemaps: dict[str, str] = stored.sitemaps
        self.index_cursor: dict[str, str] = stored.index
        self.checked: dict[str, str] = stored.checked
        self.title_cursor: dict[str, str] = stored.titles
        # Files listed without a lastmod: when each was last read (the order they take the budget
        # in), and those asked for this run (their read is recorded).
        self.unlisted: dict[str, str] = stored.unlisted
        self.listed_bare: set[str] = set()
        # Such files found by title wait for the end of the run (`read_unlisted`): the budget goes
        # to files that really moved first, whatever sitemap answered first.
        self.waiting: dict[BillNumber, str] = {}
        # What the whole config wants, not only this run's watches (`tracker crawl --watch`) decides
        # what is forgotten. A bill no watch names is no longer checked daily: named again, it is due
        # at once (it may have moved meanwhile, read by title and matching nothing, its lastmod kept).
        everyone = [w for w in config.bills if isinstance(w, BillWatch)]
        named_keys = {number.key for w in everyone for number in w.numbers}
        self.learned.checked.forget(sorted(key for key in self.checked if key not in named_keys))
        self.checked = {key: when for key, when in self.checked.items() if key in named_keys}
        self.default_congress = current_congress(clock.now().year)
        self.title_congresses = sorted({c for w in self.title_watches for c in self.congresses_of(w)})
        # A watch whose config changed (or is new to the cursor) lets go of the bills it no longer
        # holds, a number taken out or a phrase removed: tracker/runs.py, from its rule.
        for watch in watches:
            rule = BillRule(watch.id, frozenset(number.entity for number in watch.numbers), tuple(watch.titles),
                            tuple(watch.congresses) if watch.titles else (), watch.title_contains,
                            watch.official_titles)
            shape = fingerprint([sorted(rule.numbers), rule.titles, rule.congresses, rule.title_contains,
                                 rule.official_titles])
            if watches_before.get(watch.id) != shape:
                self.report.rules.append(rule)
                self.learned.watches[watch.id] = shape
        self.learned.watches.forget(sorted(set(watches_before) - {w.id for w in everyone}))  # gone from the config
        self.title_groups = {f"{c}{t}" for c in self.title_congresses for t in BILL_TYPES}
        # A phrase no watch of the config reads any more leaves the record (its Congress no title
        # watch reads: the whole record), so one added back reads the Congress whole again: files
        # moved while it was gone were matched without it.
        config_titles = [w for w in everyone if w.titles]
        config_groups = {f"{c}{t}" for w in config_titles for c in self.congresses_of(w) for t in BILL_TYPES}
        for group, record in sorted(self.title_cursor.items()):
            congress_of = re.match(r"\d+", group)
            if group not in config_groups or not congress_of:
                self.learned.titles.forget([group])
                continue
            phrases = self.title_phrases(int(congress_of.group()), config_titles)
            if record.startswith(_PHRASES):
                read = set(record.removeprefix(_PHRASES).split())
                if (kept := read & phrases) != read:
                    self.learned.titles[group] = _PHRASES + " ".join(sorted(kept))
            elif record == self.legacy_titles_signature(int(congress_of.group()), config_titles):
                self.learned.titles[group] = _PHRASES + " ".join(sorted(phrases))
        # A file listed without a lastmod is kept while a watch of the config may want it (named, or
        # its type read by title): not only this run's watches (`crawl --watch`), and not after the
        # last watch that wanted it is gone (no run reads its sitemap whole to drop it then).
        gone = {key for key in self.unlisted if not self._config_wants(key, named_keys, config_groups)}
        self.learned.unlisted.forget(sorted(gone))
        self.unlisted = {key: when for key, when in self.unlisted.items() if key not in gone}
        # Types another watch of the config reads by title: a run without it (`crawl --watch`) reads
        # their sitemap for its named bills only, so it must not count it read (`closed`).
        self.config_title_groups = config_groups
        self.named_groups: dict[str, list[BillNumber]] = {}
        for bill in sorted(self.bills):
            self.named_groups.setdefault(group_of(bill), []).append(bill)
        # Follow a type's sitemap when that costs fewer requests than asking for each named bill.
        index_anyway = bool(self.title_groups) or any(len(b) >= 3 for b in self.named_groups.values())
        follow_min = follow_min_bills or (2 if index_anyway else 3)
        self.followed = set(self.title_groups) | {g for g, b in self.named_groups.items() if len(b) >= follow_min}
        self.now = clock.now()
        self.could_match = title_filter([t for w in self.title_watches for t in w.titles])
        self.data_dir = self._data_dir()
        # group -> index lastmod to record once every file it listed was handled; groups with a failure
        self.pending_sitemaps: dict[str, str | None] = {}
        self.failed_groups: set[str] = set()
        self.bill_groups: dict[str, str] = {}
        self.scan_lock = DeferredLock()
        # Title groups a phrase has yet to read whole (its watch's first read, a phrase added).
        self.owed_whole = {g for g in self.title_groups if not self.titles_read(g, int(re.match(r"\d+", g).group()))}  # type: ignore[union-attr]

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> GovinfoSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.read_unlisted, signal=signals.spider_idle)
        return spider

    @staticmethod
    def _config_wants(key: str, named_keys: set[str], title_groups: set[str]) -> bool:
        try:
            bill = parse_bill_number(key)
        except ValueError:
            return False
        return key in named_keys or group_of(bill) in title_groups

    def congresses_of(self, watch: BillWatch) -> list[int]:
        """The Congresses a title watch reads: its own list, else the current one."""
        return list(watch.congresses) or [self.default_congress]

    def _data_dir(self) -> Path:
        url = self.config.database_url
        if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
            folder = Path(url.removeprefix("sqlite:///")).parent
        else:
            folder = self.config.base_dir
        try:
            for old in folder.glob(f"{TEMP_PREFIX}*"):  # an interrupted baseline's download
                if time.time() - old.stat().st_mtime > 6 * 3600:
                    old.unlink(missing_ok=True)
        except OSError:
            pass
        return folder

    def title_phrases(self, congress: int, watches: list[BillWatch] | None = None) -> set[str]:
        """A fingerprint of each (watch, phrase) that reads this Congress, with how it matches: of
        this run's title watches, or of `watches`."""
        return {fingerprint([w.id, phrase, w.title_contains, w.official_titles])
                for w in (self.title_watches if watches is None else watches)
                if congress in self.congresses_of(w) for phrase in w.titles}

    def titles_read(self, group: str, congress: int) -> bool:
        """Whether every (watch, phrase) reading this Congress has seen every bill of `group` once: a
        new one must (the Congress is read whole), a removed one costs nothing."""
        stored = self.title_cursor.get(group)
        if stored is None:
            return False
        if stored.startswith(_PHRASES):
            return self.title_phrases(congress) <= set(stored.removeprefix(_PHRASES).split())
        return stored == self.legacy_titles_signature(congress)

    def titles_record(self, congress: int) -> str:
        """What `titles` keeps for a group read for this Congress's phrases (`titles_read`)."""
        return _PHRASES + " ".join(sorted(self.title_phrases(congress)))

    def legacy_titles_signature(self, congress: int, watches: list[BillWatch] | None = None) -> str:
        """One hash of every phrase, as cursors written before per-phrase fingerprints kept it: such
        a cursor is read as before (no whole read for it) and rewritten in the new form."""
        phrases = sorted(
            json.dumps([w.id, w.titles, w.title_contains, w.official_titles])
            for w in (self.title_watches if watches is None else watches) if congress in self.congresses_of(w)
        )
        return hashlib.sha256("\n".join(phrases).encode()).hexdigest()[:16]

    # -- requests -------------------------------------------------------------------------

    def bill_request(self, bill: BillNumber, watch_ids: list[str], *, by_title: bool = False,
                     lastmod: str | None = None, group: str | None = None, fresh: bool = False) -> scrapy.Request:
        self.asked.add(bill.key)
        if group:
            self.bill_groups[bill.key] = group
        return scrapy.Request(
            billstatus_url(self.base, bill),
            callback=self.parse_bill,
            errback=self.failed,
            meta={"conditional": True, "refetch": fresh or self.upgrade or bill.key in self.reread, "bill": bill,
                  "watch_ids": watch_ids,
                  "by_title": by_title,
                  "lastmod": lastmod, "group": group, "handle_httpstatus_list": [304]},
            headers={"Accept": "application/xml"},
            dont_filter=True,
        )

    def index_request(self, *, conditional: bool = True) -> scrapy.Request:
        return scrapy.Request(
            f"{self.base}/sitemap/bulkdata/BILLSTATUS/sitemapindex.xml",
            callback=self.parse_sitemap_index,
            meta={"what": "BILLSTATUS sitemap index", "conditional": conditional,
                  "handle_httpstatus_list": [304] if conditional else []},
            errback=self.index_failed,
            dont_filter=True,
        )

    def index_failed(self, failure: Failure) -> Iterator[scrapy.Request]:
        """No index: one error line, and the named bills are still asked for directly."""
        self.failed(failure)
        yield from self.followed_bills_directly()

    def followed_bills_directly(self) -> Iterator[scrapy.Request]:
        """The named bills of followed types, asked for directly: no index says what moved."""
        for bill, watch_ids in sorted(self.bills.items()):
            if group_of(bill) in self.followed:
                yield self.bill_request(bill, watch_ids)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for bill, watch_ids in sorted(self.bills.items()):
            if group_of(bill) not in self.followed:
                yield self.bill_request(bill, watch_ids)
        if self.followed:
            yield self.index_request()

    # -- the sitemap index -----------------------------------------------------------------

    def parse_sitemap_index(self, response: Response) -> Iterator[scrapy.Request]:
        if response.status == 304:
            self.not_modified()
            listing = self.index_cursor
            if not listing:  # validators without a stored listing: ask again in full
                yield self.index_request(conditional=False)
                return
        else:
            try:
                entries = sitemap_entries(response.body, index=True)
            except (etree.XMLSyntaxError, ValueError) as exc:  # a maintenance page with a 200: as a 500
                self.fail("BILLSTATUS sitemap index", response.url, f"unreadable: {exc}")
                yield from self.followed_bills_directly()
                return
            listing = {}
            for loc, lastmod in entries:
                match = _CHILD_SITEMAP.search(loc)
                if match and match.group(2) in BILL_TYPES:
                    listing[f"{match.group(1)}{match.group(2)}"] = lastmod or ""
            self.learned.index.update(listing)
            if response.meta.get("validators"):
                self.report.listing_validators.append(response.meta["validators"])
        for group in sorted(self.followed):
            congress = int(re.match(r"\d+", group).group())  # type: ignore[union-attr]
            named = self.named_groups.get(group, [])
            if group not in listing:  # no sitemap yet for this type: ask for named bills directly
                for bill in named:
                    yield self.bill_request(bill, self.bills[bill])
                continue
            lastmod = listing[group]
            changed = (
                not lastmod or self.seen_sitemaps.get(group) != lastmod
                or any(b.key not in self.lastmods for b in named)
                or (group in self.title_groups and not self.titles_read(group, congress))
            )
            if not changed:
                yield from self.unlisted_again(group)
                continue
            self.pending_sitemaps[group] = lastmod
            # Conditional only when its last full read is recorded: a 304 must mean "as handled".
            known = group in self.seen_sitemaps and (group not in self.title_groups or self.titles_read(group, congress))
            yield scrapy.Request(
                sitemap_url(self.base, group),
                callback=self.parse_sitemap,
                errback=self.sitemap_failed,
                # read whole when not known, its validators still taken for the next run's request
                meta={"what": f"BILLSTATUS sitemap {group}", "group": group, "conditional": True, "refetch": not known,
                      "handle_httpstatus_list": [304] if known else []},
                dont_filter=True,
            )

    def sitemap_failed(self, failure: Failure) -> Iterator[scrapy.Request]:
        """A sitemap that cannot be read: one error line; its named bills are asked for directly."""
        self.failed(failure)
        yield from self.named_bills_directly(failure.request.meta["group"])  # type: ignore[attr-defined]

    def named_bills_directly(self, group: str) -> Iterator[scrapy.Request]:
        """A type's named bills, asked for directly: its sitemap says nothing of what moved."""
        for bill in self.named_groups.get(group, []):
            yield self.bill_request(bill, self.bills[bill], group=group)

    # -- a child sitemap: which files moved --------------------------------------------------

    def parse_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        group: str = response.meta["group"]
        if response.status == 304:
            self.not_modified()
            yield from self.unlisted_again(group)
            return
        try:
            entries = sitemap_entries(response.body)
        except (etree.XMLSyntaxError, ValueError) as exc:  # a maintenance page with a 200: as a 500
            self.failed_groups.add(group)
            self.fail(response.meta["what"], response.url, f"unreadable: {exc}")
            yield from self.named_bills_directly(group)
            return
        if response.meta.get("validators"):  # kept at the end, once every file it lists was handled
            self.sitemap_validators[group] = response.meta["validators"]
        congress = int(re.match(r"\d+", group).group())  # type: ignore[union-attr]
        bill_type = group[len(str(congress)):]
        files: dict[BillNumber, str | None] = {}
        unnumbered: list[str] = []
        for loc, lastmod in entries:
            try:
                bill = listed_file(loc, congress, bill_type)
            except ValueError:
                unnumbered.append(loc)
                continue
            if bill is not None:
                files[bill] = lastmod
        if unnumbered:
            self.warn(response.meta["what"], response.url,
                      f"passed over {len(unnumbered):,} entr{'y' if len(unnumbered) == 1 else 'ies'} naming no bill "
                      f"file (the first: {unnumbered[0][:100]})")
        by_title = group in self.title_groups
        whole = by_title and not self.titles_read(group, congress)
        named = set(self.named_groups.get(group, []))
        moved: dict[BillNumber, str | None] = {}
        for bill, lastmod in files.items():
            if not (by_title or bill in named):
                continue
            if whole or not lastmod or self.lastmods.get(bill.key) != lastmod:
                moved[bill] = lastmod
        self.note_unlisted(group, {bill.key for bill, lastmod in moved.items() if not lastmod})
        if by_title:
            self.pending_titles[group] = self.titles_record(congress)
        if whole:
            self.whole_groups.add(group)
        self.moved_keys.update(bill.key for bill in moved)
        for bill in sorted(named - set(files)):  # not listed (yet): ask directly
            # not of the group: its failure (a mistyped number's 404) leaves the sitemap read as it
            # was, so the next run asks for it conditionally instead of downloading it whole again
            yield self.bill_request(bill, self.bills[bill])
        yield from self.safety_checks(group, set(moved) | (named - set(files)))
        if not moved:
            return
        # A Congress a title watch needs whole is read from every type's package, however few files
        # the type has: one request where there would be one per file.
        if len(moved) >= self.package_min_files or (whole and len(moved) > 1):
            # A whole read wants every file, and so does one going on after a run that left files
            # unread (its sitemap forgotten): the package's 304 would leave them all to single requests.
            fresh = whole or self.upgrade or any(bill.key in self.reread for bill in moved)
            yield self.package_request(group, moved, fresh=fresh)
            return
        yield from self.singles(group, moved)

    def note_unlisted(self, group: str, bare: set[str]) -> None:
        """What a sitemap read whole lists without a lastmod, of what the watches want: recorded
        (each with when it was last read), so a later 304 or unchanged index still asks for them;
        the group's others now have a lastmod, or are no longer listed."""
        self.listed_bare |= bare
        # only among the files this run's watches want: another watch's (`crawl --watch`) are kept
        by_title = group in self.title_groups
        stale = [key for key in self.unlisted if key not in bare and group_of(bill := parse_bill_number(key)) == group
                 and (by_title or bill in self.bills)]
        self.learned.unlisted.forget(stale)
        for key in sorted(bare - set(self.unlisted)):
            self.learned.unlisted[key] = ""

    def unlisted_again(self, group: str) -> Iterator[scrapy.Request]:
        """A sitemap not read again (its 304, or an index saying it did not move) says nothing of
        the files it lists without a lastmod: they are asked for (conditional GETs) as moved, the
        named bills not among them get their daily check."""
        named = set(self.named_groups.get(group, []))
        by_title = group in self.title_groups
        moved: dict[BillNumber, str | None] = {}
        for key in self.unlisted:
            bill = parse_bill_number(key)
            if group_of(bill) == group and (by_title or bill in named):
                moved[bill] = None
        self.listed_bare.update(bill.key for bill in moved)
        self.moved_keys.update(bill.key for bill in moved)
        yield from self.safety_checks(group, set(moved))
        yield from self.singles(group, moved)

    def read_unlisted(self) -> None:
        """When all else is done (the engine idle): the files found by title that their sitemaps
        list without a lastmod, with the budget left, the longest unread first across every type,
        so that each is read in turn and none takes a run's budget from a file that really moved."""
        waiting = sorted(self.waiting.items(), key=lambda pair: (self.unlisted.get(pair[0].key, ""), pair[0]))
        self.waiting = {}
        asked = False
        for bill, group in waiting:
            for request in self.singles(group, {bill: None}, last=True):
                self.crawler.engine.crawl(request)
                asked = True
        if asked:
            raise DontCloseSpider

    def singles(self, group: str, moved: dict[BillNumber, str | None], *,
                last: bool = False) -> Iterator[scrapy.Request]:
        """One request per file. Named bills are always asked for; files found through a sitemap
        only while `max_files_per_run` lasts, those listed without a lastmod (always "moved") only
        once the run has nothing else to do (`last`). Files left over are `unread` (their lastmod
        forgotten at the end), so the next run finds them moved again and goes on where this one
        stopped; one listed without a lastmod is asked for again anyway (`unlisted`), unless a
        whole read owes it a fresh read."""
        left_over = 0
        for bill, lastmod in sorted(moved.items(), key=lambda pair: pair[0]):
            named = self.bills.get(bill)
            if not named:
                if lastmod is None and not last:
                    self.waiting[bill] = group
                    continue
                if self.files_left <= 0:
                    left_over += 1
                    if lastmod or self.upgrade or group in self.whole_groups:
                        self.unread.setdefault(group, set()).add(bill.key)
                    continue
                self.files_left -= 1
            yield self.bill_request(bill, list(named or []), by_title=not named, lastmod=lastmod, group=group,
                                    fresh=group in self.whole_groups)
        if left_over:
            self.deferred[group] = self.deferred.get(group, 0) + left_over

    def safety_checks(self, group: str, already: set[BillNumber]) -> Iterator[scrapy.Request]:
        """Named bills a followed sitemap says are unchanged still get one direct conditional request
        a day (a sitemap can lag), spread over runs: the longest-unchecked first."""
        named = [b for b in self.named_groups.get(group, []) if b not in already]
        due = []
        for bill in named:
            last = self.checked.get(bill.key)
            when = lastmod_time(last) if last else None
            if when is None or self.now - when >= SAFETY_INTERVAL:
                due.append((last or "", bill))
        share = max(20, math.ceil(len(named) / 24))
        for _, bill in sorted(due)[:share]:
            yield self.bill_request(bill, self.bills[bill], lastmod=self.lastmods.get(bill.key), group=group)

    # -- packages -----------------------------------------------------------------------------

    def package_request(self, group: str, moved: dict[BillNumber, str | None], *, fresh: bool = False) -> scrapy.Request:
        congress = int(re.match(r"\d+", group).group())  # type: ignore[union-attr]
        bill_type = group[len(str(congress)):]
        target = self.data_dir / f"{TEMP_PREFIX}{group}-{uuid.uuid4().hex[:8]}.zip"
        return scrapy.Request(
            package_url(self.base, congress, bill_type),
            callback=self.parse_package,
            errback=self.package_failed,
            meta={"what": f"BILLSTATUS package {group}", "group": group, "moved": moved,
                  "few": len(moved) < self.package_min_files,
                  "download_to": str(target), "download_cap": self.package_max_bytes,
                  "conditional": True, "refetch": fresh, "handle_httpstatus_list": [304]},
            headers={"Accept": "application/zip"},
            dont_filter=True,
        )

    def fallback(self, request: scrapy.Request, problem: str) -> Iterator[scrapy.Request]:
        """A package that cannot be used: one warning line, then that type's files singly. A type
        with only a few files (asked for because its Congress is needed whole) may have no package
        yet: its 404 is no problem, only a line in the log."""
        Path(request.meta["download_to"]).unlink(missing_ok=True)
        group = request.meta["group"]
        moved = request.meta["moved"]
        say = log.info if request.meta.get("few") and problem == "HTTP 404" else notice.warning
        say("govinfo: BILLSTATUS package %s: %s (%s); reading its %d files singly instead",
            group, problem, request.url, len(moved))
        yield from self.singles(group, moved)

    def package_failed(self, failure: Failure) -> Iterator[scrapy.Request]:
        request = failure.request  # type: ignore[attr-defined]
        exc = failure.value
        if disk_full(exc):  # no file read singly instead: each would fail to store as well
            Path(request.meta["download_to"]).unlink(missing_ok=True)
            self.report.disk_full = exc
            raise CloseSpider("disk full")
        problem = str(exc) if isinstance(exc, PackageError) else self.describe(failure)
        yield from self.fallback(request, problem)

    async def parse_package(self, response: Response) -> AsyncIterator[Any]:
        request = response.request
        assert request is not None
        group: str = response.meta["group"]
        moved: dict[BillNumber, str | None] = response.meta["moved"]
        path = Path(response.meta["download_to"])
        if response.status == 304:  # read whole before, and files moved since: read those singly
            path.unlink(missing_ok=True)
            self.not_modified()
            for req in self.singles(group, moved):
                yield req
            return
        congress = int(re.match(r"\d+", group).group())  # type: ignore[union-attr]
        bill_type = group[len(str(congress)):]
        named = set(self.named_groups.get(group, []))
        by_title = group in self.title_groups
        phrases = [t for w in self.title_watches if congress in self.congresses_of(w)
                   for t in w.titles]

        def role(bill: BillNumber) -> str:
            if bill not in moved:
                return "skip"
            return "keep" if bill in named else "title" if by_title else "scan"

        lastmods = {bill: lastmod_time(value) for bill, value in moved.items()}
        # One package at a time, from its scan until its last bill is handed on: memory stays that
        # of one package whatever the number of bills, and progress lines stay whole.
        await maybe_deferred_to_future(self.scan_lock.acquire())
        try:
            try:
                result: ScanResult = await maybe_deferred_to_future(deferToThread(
                    scan_package, path, congress, bill_type, wanted=role, lastmods=lastmods,
                    last_modified=http_date(response.headers.get(b"Last-Modified")), member_cap=self.member_cap,
                    downloaded=clock.now(),
                    max_members=self.package_max_members,
                    could_match=title_filter(phrases) if phrases else (lambda data: False),
                    progress=progress_printer(f"govinfo: BILLSTATUS package {group}"),
                ))
                matched = await maybe_deferred_to_future(deferToThread(self.match_titles, result, named))
            except PackageError as exc:
                for req in self.fallback(request, str(exc)):
                    yield req
                return
            if response.meta.get("validators"):
                self.report.listing_validators.append(response.meta["validators"])
            log.info("govinfo: BILLSTATUS package %s: %d members, %d stored from it, %d newer fetched singly",
                     group, result.members, len(matched), len(result.newer))
            single = set(result.newer) | (set(moved) - result.seen)
            kept = {item.key for item, _ in matched}
            for bill, lastmod in moved.items():
                if bill in single:
                    continue
                if bill.entity not in kept:  # scanned: read, nothing to store
                    self.handled.add(bill.key)
                    self.learned.apply(self.read_marks(bill, lastmod, checked=False))
                elif change := self.read_marks(bill, lastmod, checked=bill in named):
                    self.report.entity_cursor[bill.entity] = change
                    self.bill_groups[bill.key] = group
            for req in self.singles(group, {bill: moved[bill] for bill in single}):
                yield req
            with zipfile.ZipFile(path) as archive:
                for item, name in matched:
                    if item.raw is None:
                        try:
                            item.raw = read_member(archive, name, self.member_cap)
                        except PackageError as exc:
                            self.fail(f"bill {item.key.removeprefix('bill:')}", request.url, str(exc))
                            continue
                        self.add_title_watches(item, parse_bill_number(item.key.removeprefix("bill:")))
                    yield item
        finally:
            self.scan_lock.release()
            path.unlink(missing_ok=True)

    def match_titles(self, result: ScanResult, named: set[BillNumber]) -> list[tuple[Item, str]]:
        """Items from the package's kept members, with their member names: named bills whole (read
        when handed on, parsed in the ingest worker), title candidates parsed here and kept only
        when a watch's title really matches."""
        items = []
        for member in result.kept:
            url = billstatus_url(self.base, member.bill)
            if member.bill in named:
                items.append((Item(
                    key=member.bill.entity, kind="bill", source_id=self.source_id,
                    watch_ids=list(self.bills[member.bill]), content=None, url=url, raw=None,
                    parser_version=self.parser_version, parse_with="govinfo",
                ), member.name))
                continue
            assert member.data is not None
            try:
                content = parse_billstatus(member.data)
            except BillParseError as exc:
                raise PackageError(f"member {member.name}: {exc}") from None
            number = content.number
            if number != member.bill.key:
                raise PackageError(f"member {member.name} describes {number}")
            watch_ids = self.title_watch_ids(member.bill, content)
            if watch_ids:
                items.append((Item(
                    key=member.bill.entity, kind="bill", source_id=self.source_id, watch_ids=watch_ids,
                    content=content, url=url, raw=member.data, discovered=True, parser_version=self.parser_version,
                ), member.name))
        return items

    def title_watch_ids(self, bill: BillNumber, content: Any) -> list[str]:
        return [
            w.id for w in self.title_watches
            if bill.congress in self.congresses_of(w)
            and any(title_matches(content, t, contains=w.title_contains, official=w.official_titles)
                    for t in w.titles)
        ]

    # -- bill files -------------------------------------------------------------------------

    def parse_bill(self, response: Response) -> Iterator[Item]:
        bill: BillNumber = response.meta["bill"]
        named = not response.meta["by_title"]
        if response.status == 304 and not asked_conditionally(response):
            # nothing was said to compare with: no copy of ours is "not modified" (a broken server or cache)
            self.fail(f"bill {bill.key}", response.url, "HTTP 304 (not modified) to a request naming no copy "
                      "of ours: nothing read, asked for again next run")
            return
        if response.status == 304:
            self.not_modified()
            self._remember(response, stored=False)
            return
        # A body cut short is the download's failure (Scrapy holds the bytes on the wire to their
        # Content-Length); the body here may be decoded from gzip, longer than that length says.
        body = response.body
        item = Item(
            key=bill.entity,
            kind="bill",
            source_id=self.source_id,
            watch_ids=list(response.meta["watch_ids"]),
            content=None,
            url=response.url,
            raw=body,
            validators=response.meta.get("validators"),
            parser_version=self.parser_version,
            parse_with="govinfo",  # parsed in the ingest worker, off the engine's core
        )
        if not named:
            # Found through a sitemap: the titles decide whether any watch wants it (fast path first).
            if not self.could_match(body) and b"<billStatus" in body[:4096]:
                self._remember(response, stored=False)
                return
            try:
                item.content = self.parse_file(bill, body)
            except BillParseError as exc:
                self.fail(f"bill {bill.key}", response.url, str(exc))
                return
            item.parse_with = None
            item.discovered = True
            item.watch_ids = self.title_watch_ids(bill, item.content)
            if not item.watch_ids:
                self._remember(response, stored=False)
                return
        else:
            self.add_title_watches(item, bill)
        self._remember(response, stored=True)
        yield item

    @staticmethod
    def parse_file(bill: BillNumber, data: bytes) -> Bill:
        """A bill's file parsed here (for its titles); BillParseError also when it describes another
        bill than its address names, as the ingest worker says of the files it parses: stored under
        this number, another bill's history would reach this bill's watches as news."""
        content = parse_billstatus(data)
        if content.number != bill.key:
            raise BillParseError(f"file describes {content.number}, not {bill.key}")
        return content

    def still_wanted(self, key: str) -> bool:
        """Whether a watch still names this bill or reads its Congress and type by title: a debt of
        a fresh read is dropped with the last watch that wanted the bill (a number fixed in the config)."""
        try:
            bill = parse_bill_number(key)
        except ValueError:
            return False
        return bill in self.bills or group_of(bill) in self.title_groups

    def add_title_watches(self, item: Item, bill: BillNumber) -> None:
        """A named bill of a Congress a title watch reads goes to that watch too when its title
        matches: parsed here, then (a file that does not parse, or describes another bill, is left
        to the ingest worker, which says so)."""
        if group_of(bill) not in self.title_groups or item.raw is None:
            return
        try:
            content = self.parse_file(bill, item.raw)
        except BillParseError:
            return
        item.content, item.parse_with = content, None
        item.watch_ids = [*item.watch_ids, *(w for w in self.title_watch_ids(bill, content) if w not in item.watch_ids)]

    def _remember(self, response: Response, *, stored: bool) -> None:
        """Cursor entries for this file: at once when nothing is to be stored, else only once stored."""
        bill: BillNumber = response.meta["bill"]
        if not stored:  # a stored one counts once stored (report.seen): its store may still fail
            self.handled.add(bill.key)
        # the daily safety net's clock
        change = self.read_marks(bill, response.meta.get("lastmod"),
                                 checked=bill in self.bills and group_of(bill) in self.followed)
        if not change:
            return
        if stored:
            self.report.entity_cursor[bill.entity] = change
        else:
            self.learned.apply(change)

    def read_marks(self, bill: BillNumber, lastmod: str | None, *, checked: bool) -> GovinfoCursor:
        """What reading a bill's file teaches the cursor: the lastmod it was listed with, when a
        file listed without one was read (its turn), and, for a named bill, its daily check."""
        change = GovinfoCursor()
        if lastmod:
            change.lastmod[bill.key] = lastmod
        if bill.key in self.listed_bare:
            change.unlisted[bill.key] = clock.iso_z(self.now)
        if checked:
            change.checked[bill.key] = clock.iso_z(self.now)
        return change

    # -- failures and the end of the crawl ---------------------------------------------------------

    def fail(self, what: str, url: str | None, problem: str) -> None:
        if what.startswith("bill "):
            key = what.removeprefix("bill ").strip()
            self.bill_failed(key, self.bill_groups.get(key))
        elif what.startswith("BILLSTATUS sitemap "):
            self.failed_groups.add(what.rsplit(" ", 1)[-1])
        super().fail(what, url, problem)

    def bill_failed(self, key: str, group: str | None) -> None:
        """A bill's file not read: owed again (and its group's sitemap not counted read); one its
        sitemap listed as moved is `unread`, so the next run finds it moved even where the stored
        lastmod is the sitemap's."""
        self.failed_bills.add(key)
        if group:
            self.failed_groups.add(group)
            if key in self.moved_keys:
                self.unread.setdefault(group, set()).add(key)

    def failed(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        bill: BillNumber | None = request.meta.get("bill")
        what = f"bill {bill.key}" if bill else request.meta.get("what", "request")
        problem = self.describe(failure)
        if bill and problem == "HTTP 404" and request.meta.get("by_title"):
            # listed by GovInfo's own sitemap, so no typo of ours: one line for the group at the end
            group = request.meta.get("group") or group_of(bill)
            self.unserved.setdefault(group, []).append(bill)
            self.bill_failed(bill.key, group)
            return
        if bill and problem == "HTTP 404":  # the number a person wrote, most likely: say what to check
            problem += (f": GovInfo has no {bill.display} of the {ordinal(bill.congress)} Congress: check the bill's "
                        "number and Congress in the config (a bill introduced in the last days may not be published yet)")
        self.fail(what, request.url, problem)

    def closed(self, reason: str) -> None:
        """A sitemap counts as read only when every file it listed was handled: else it is read
        again next run (the per-file lastmods keep that cheap). The parser version is kept once a
        run finished; the bills it still owes a whole re-read (failed in an upgrade run, or since)
        are kept by name."""
        for group, bills in sorted(self.unserved.items()):
            first = min(bills)
            self.fail(f"BILLSTATUS {group}", billstatus_url(self.base, first),
                      f"{len(bills):,} file(s) its sitemap lists are not served (HTTP 404, the first "
                      f"{first.display}): asked for again next run")
        if not self.report.items and not self.report.not_modified:
            # nothing moved for any watch (the index moved for other types; a new bill no title
            # matches): the usual answer of a source whose items are what moved, not an emptied one
            self.not_modified()
        for group, count in sorted(self.deferred.items()):
            notice.warning("govinfo: BILLSTATUS %s: %s more file(s) to read than [sources.govinfo] max_files_per_run "
                           "(%s) allows in one run: they are read in the next runs", group, f"{count:,}",
                           f"{self.config.sources.govinfo.max_files_per_run:,}")
        # Files left unread by a whole read (or an upgrade) are owed a fresh read, not a 304: an
        # older watch's validators would hide them from the new phrase (or the new parser).
        carried = {key for group, keys in self.unread.items() if self.upgrade or group in self.whole_groups
                   for key in keys}
        if reason == "finished":
            self.learned.parser = self.parser_version
            self.learned.titles.update(self.pending_titles)
            stored = {key.removeprefix("bill:") for key in self.report.seen}
            base = set(self.reread) | ({b.key for b in self.bills} | self.failed_bills if self.upgrade else set())
            owed = (base | carried) - stored - self.handled
            self.learned.reread = sorted(key for key in owed if self.still_wanted(key))  # empty: nothing owed
        # A title watch whose first read left files for the next runs (`max_files_per_run`: `unread`
        # now, owed a fresh read later) takes no baseline yet: what they find then stood before the
        # watch began. (A type or a file that fails is no reason: one failing for good, a file GovInfo
        # lists and never serves, would keep it from all news. Held back is what was not asked for.)
        held_back = {g for g in self.owed_whole if self.deferred.get(g)} | {
            group_of(bill) for key in self.learned.reread or [] if key not in self.asked
            and (bill := parse_bill_number(key)) not in self.bills}
        self.report.unsettled = {w.id for w in self.title_watches for g in held_back & self.title_groups
                                 if int(re.match(r"\d+", g).group()) in self.congresses_of(w)}  # type: ignore[union-attr]
        for keys in self.unread.values():
            self.learned.lastmod.forget(sorted(keys))
        self.learned.sitemaps.forget(sorted(self.unread))
        whole = {group for group in self.pending_sitemaps if group not in self.failed_groups | set(self.unread)
                 and (group in self.title_groups or group not in self.config_title_groups)}
        for group, lastmod in self.pending_sitemaps.items():
            if group in whole and lastmod and reason == "finished":
                self.learned.sitemaps[group] = lastmod
        # A sitemap's validators only once all it listed was handled (in a run that finished): else
        # its next read, a 304, would say "nothing new" while files it listed are still unread.
        if reason == "finished":
            self.report.listing_validators.extend(v for g, v in sorted(self.sitemap_validators.items()) if g in whole)
