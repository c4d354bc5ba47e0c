"""GovInfo BILLSTATUS bulk packages: one ZIP per Congress and bill type, read as a baseline.

`{base_url}/bulkdata/BILLSTATUS/{congress}/{type}/BILLSTATUS-{congress}-{type}.zip` holds every bill
file of that Congress and type (the 118th Congress's `hr` package: 35.5 MB, 10,564 members): one
request instead of ten thousand. Packages are big and untrusted, so:

- the download streams to a temporary file (never the whole archive in memory), size-capped, through
  the engine's download slot (robots.txt, delay, User-Agent and conditional headers as any request);
- the archive is checked before anything is stored: every member must be `BILLSTATUS-{congress}{type}N.xml`
  of this package, within the size cap and not a compression bomb; members are read one at a time;
- bills nobody watches get only a title fast path (the `<title>` elements, no full parse).

A package that fails in any way raises `PackageError` (one line); the spider then reads that type's
files singly, so nothing is half-stored.
"""

from __future__ import annotations

import html
import http.client
import logging
import re
import struct
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from scrapy import Request
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.http import Headers, Response
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.threads import deferToThread

from tracker.billnumbers import BillNumber
from tracker.bills.titles import normalize_title
from tracker.faults import disk_full

log = logging.getLogger(__name__)

CHUNK = 256 * 1024
MIN_PACE = CHUNK  # a package download must bring at least this much each `[crawl] timeout_seconds`
# Real BILLSTATUS XML compresses 5-20x; a member far beyond that is a compression bomb.
MAX_RATIO = 200
_MEMBER = re.compile(r"(?:^|/)BILLSTATUS-(\d+)([a-z]+)(\d+)\.xml$")
_TITLE = re.compile(rb"<title(?:\s[^>]*)?>([^<]{1,2000})</title>")
# A central directory entry is 46 bytes and the member's name and extra fields; a BILLSTATUS
# member's ("BILLSTATUS-118hr10564.xml" and, say, a timestamp and owner field) take under 100 more.
# A directory larger than that for the members its end record declares understates them: refused.
_ENTRY_MOST = 128


class PackageError(ValueError):
    """The package cannot be used; the message is one line for the operator."""


# What `zipfile` raises on a damaged or hostile archive (Python 3.11's `is_zipfile` lets a multi-disk
# `BadZipFile` through; an encrypted member is a RuntimeError, an unknown compression NotImplementedError,
# a damaged deflate stream zlib's own error, which is none of the others).
_UNREADABLE = (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, RuntimeError,
               NotImplementedError, LookupError, OverflowError, struct.error, zlib.error)
# What reading one member's bytes raises when they are damaged (its names and sizes were fine).
_MEMBER_UNREADABLE = (zipfile.BadZipFile, OSError, EOFError, ValueError, zlib.error)


def package_url(base_url: str, congress: int, bill_type: str) -> str:
    return f"{base_url.rstrip('/')}/bulkdata/BILLSTATUS/{congress}/{bill_type}/BILLSTATUS-{congress}-{bill_type}.zip"


# -- download: streamed to a file, through the engine's download slot ------------------------------


class PackageDownloadHandler(HTTP11DownloadHandler):
    """Scrapy's HTTP/1.1 handler, except that a request with `meta["download_to"]` (a path) is
    streamed to that file in a thread, capped at `meta["download_cap"]` bytes. Scrapy's own handler
    keeps every body in memory; a 35 MB package twice over (buffer and body) is what this avoids.
    The request still goes through the slot and every downloader middleware."""

    async def download_request(self, request: Request) -> Response:
        target = request.meta.get("download_to")
        if not target:
            return await super().download_request(request)
        timeout = float(request.meta.get("download_timeout") or 180)
        cap = int(request.meta.get("download_cap") or 0)
        status, headers, size = await maybe_deferred_to_future(
            deferToThread(_stream_to_file, request.url, request.headers, Path(target), cap, timeout)
        )
        stats = self._crawler.stats
        if stats is not None:
            stats.inc_value("downloader/response_bytes", size)
            stats.inc_value("package/bytes", size)
        return Response(request.url, status=status, headers=headers, request=request)


class _RedirectsToTheEngine(urllib.request.HTTPRedirectHandler):
    """A redirect is answered as it came (its status and `Location`), not followed here: Scrapy's
    redirect middleware then asks the new address as any request, through robots.txt, that host's
    pace and the redirect limit. (Python's URL opener followed it itself, to any host, without
    asking its robots.txt, and to `ftp://` too.)"""

    def redirect_request(self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: Any,
                         newurl: str) -> None:
        return None  # the opener then raises HTTPError with the 3xx: answered as it came


def _opener() -> urllib.request.OpenerDirector:
    """A URL opener for one download, its proxies read from the environment then, as Scrapy's
    are for each crawl: one built at import kept the proxies of whatever moment first imported this
    module (a `sources detect` run through a proxy sent every later download of the process there)."""
    return urllib.request.build_opener(_RedirectsToTheEngine)


def _stream_to_file(url: str, headers: Headers, target: Path, cap: int, timeout: float) -> tuple[int, Headers, int]:
    """GET `url` into `target`; (status, response headers, bytes written). Errors are `PackageError`,
    but a full disk, which is the `OSError` itself."""
    sent = {k.decode("latin-1"): b", ".join(v).decode("latin-1") for k, v in headers.items()}
    sent.pop("Accept-Encoding", None)  # the ZIP is already compressed; read it as it is
    request = urllib.request.Request(url, headers=sent, method="GET")
    try:
        response = _opener().open(request, timeout=timeout)  # http(s) only: Scrapy chose this handler
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, Headers(dict(exc.headers.items())), 0
    except (OSError, ValueError) as exc:
        raise PackageError(f"download failed: {type(exc).__name__}: {exc}") from None
    written = 0
    # `timeout` bounds each read; the whole download is bounded by its pace: a server sending a byte
    # now and then would otherwise hold the run (and its lock) as long as it liked.
    window_start, window_bytes = time.monotonic(), 0
    with response, target.open("wb") as out:
        declared = response.headers.get("Content-Length")
        if cap and declared and declared.isdigit() and int(declared) > cap:
            raise PackageError(f"package is {int(declared):,} bytes, above the {cap:,}-byte cap: not read")
        try:
            while chunk := response.read1(CHUNK):
                written += len(chunk)
                if cap and written > cap:
                    raise PackageError(f"package larger than the {cap:,}-byte cap: not read")
                out.write(chunk)
                window_bytes += len(chunk)
                if (now := time.monotonic()) - window_start >= timeout:
                    if window_bytes < MIN_PACE:
                        raise PackageError(f"arriving at under {MIN_PACE // 1024} KB in {timeout:g} s "
                                           f"([crawl] timeout_seconds; {written:,} bytes so far): given up")
                    window_start, window_bytes = now, 0
        except (OSError, http.client.HTTPException) as exc:
            if disk_full(exc):
                raise  # our disk, not the connection: the crawl stops (GovinfoSpider.package_failed)
            raise PackageError("connection closed before the whole package arrived (truncated)") from None
        if declared and declared.isdigit() and int(declared) != written:
            raise PackageError(f"truncated: got {written:,} of {int(declared):,} bytes")
        return response.status, Headers(dict(response.headers.items())), written


# -- reading ---------------------------------------------------------------------------------------


def http_date(value: str | bytes | None) -> datetime | None:
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def lastmod_time(value: str | None) -> datetime | None:
    """A sitemap `lastmod` (W3C datetime or a date) as UTC."""
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def title_filter(phrases: list[str]) -> Callable[[bytes], bool]:
    """The fast path: could any `<title>` of this file be one of `phrases`? Cheap and never wrong
    in the "no" direction (the normalized phrase must occur in a normalized title); a "yes" is
    decided by the full parse and `title_matches`."""
    wanted = [normalize_title(p) for p in phrases]
    wanted = [w for w in wanted if w]
    first_words = sorted({w.split()[0].encode() for w in wanted})

    def could_match(data: bytes) -> bool:
        raws = _TITLE.findall(data)
        if len(raws) < data.count(b"<title>") + data.count(b"<title "):
            return True  # a title this look cannot read (a CDATA section, a comment, 2,000 characters): parsed
        joined = b"\n".join(raws)  # most files hold no first word at all: one look at all its titles
        if joined.isascii() and b"&" not in joined and not any(word in joined.lower() for word in first_words):
            return False
        lowered: list[str] | None = None
        for raw in raws:
            low = raw.lower()
            if not any(word in low for word in first_words) and raw.isascii() and b"&" not in raw:
                continue
            if lowered is None:
                lowered = []
            lowered.append(normalize_title(html.unescape(raw.decode("utf-8", "replace"))))
        if not lowered:
            return False
        return any(w in title for w in wanted for title in lowered)

    return could_match


@dataclass
class Member:
    bill: BillNumber
    name: str
    data: bytes | None  # title candidates only: a named bill is read again when it is handed on
    cutoff: datetime | None  # the date this member's state is known to be from


@dataclass
class ScanResult:
    members: int = 0
    kept: list[Member] = field(default_factory=list)  # bills to store from the package
    newer: list[BillNumber] = field(default_factory=list)  # moved after the package: fetch singly
    skipped: int = 0  # not moved since the last read: untouched
    seen: set[BillNumber] = field(default_factory=set)  # every bill the package holds


def scan_package(
    path: Path,
    congress: int,
    bill_type: str,
    *,
    wanted: Callable[[BillNumber], str],
    lastmods: dict[BillNumber, datetime | None],
    last_modified: datetime | None,
    member_cap: int,
    downloaded: datetime | None = None,
    max_members: int = 200_000,
    could_match: Callable[[bytes], bool] = lambda data: True,
    progress: Callable[[int, int], None] | None = None,
) -> ScanResult:
    """Check the whole archive and pick what to store, before anything is stored.

    `wanted(bill)` says what a member is to us: "skip" (not moved since we last read it), "keep"
    (store it whole: a named bill; only its name is kept, `read_member` reads it when it is handed
    on, so memory does not grow with the number of named bills), "title" (store it only if the title fast path says it may match:
    its raw bytes are kept for the full parse) or "scan" (check it, nothing more). A member whose
    sitemap lastmod is newer than the package's own date (the member's date, capped by the
    package's Last-Modified) is listed in `newer` instead, to be fetched singly right after. A
    date after the package was `downloaded` says nothing of when its copy was made: every member
    that moved is then fetched singly (taken as the newer, its update would be missed).
    """
    try:
        return _scan(path, congress, bill_type, wanted=wanted, lastmods=lastmods, last_modified=last_modified,
                     member_cap=member_cap, downloaded=downloaded, max_members=max_members, could_match=could_match,
                     progress=progress)
    except PackageError:
        raise
    except _UNREADABLE as exc:  # an archive is untrusted: whatever zipfile raises on it is one line
        raise PackageError(f"not a readable ZIP archive: {type(exc).__name__}: {exc}") from None


def _scan(path: Path, congress: int, bill_type: str, *, wanted: Callable[[BillNumber], str],
          lastmods: dict[BillNumber, datetime | None], last_modified: datetime | None, member_cap: int,
          downloaded: datetime | None, max_members: int, could_match: Callable[[bytes], bool],
          progress: Callable[[int, int], None] | None) -> ScanResult:
    if not zipfile.is_zipfile(path):
        raise PackageError("not a ZIP archive")
    members, directory = declared_members(path)
    if members > max_members:
        raise PackageError(f"the archive declares {members:,} members, above [sources.govinfo] "
                           f"package_max_members ({max_members:,}): not read")
    if directory > max(members, 1) * _ENTRY_MOST:  # zipfile reads every entry its directory holds
        raise PackageError(f"the archive's directory of {directory:,} bytes is too large for the {members:,} "
                           "members it declares: not read")
    if (entries := directory_entries(path)) > max_members:  # forged: small entries the record did not count
        raise PackageError(f"the archive's directory holds up to {entries:,} entries, above [sources.govinfo] "
                           f"package_max_members ({max_members:,}): not read")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise PackageError(f"not a readable ZIP archive: {exc}") from None
    result = ScanResult()
    with archive:
        infos = [i for i in archive.infolist() if not i.is_dir()]
        if not infos:
            raise PackageError("the archive is empty")
        if len(infos) > max_members:
            raise PackageError(f"the archive holds {len(infos):,} members, above [sources.govinfo] "
                               f"package_max_members ({max_members:,}): not read")
        for info in infos:  # names and declared sizes first: cheap, and nothing read yet
            match = _MEMBER.search(info.filename)
            if not match or int(match.group(1)) != congress or match.group(2) != bill_type:
                raise PackageError(f"member {info.filename!r} is not a BILLSTATUS file of {congress}{bill_type}")
            if info.file_size > member_cap:
                raise PackageError(f"member {info.filename} is {info.file_size:,} bytes, above the cap")
            if info.file_size > 1_000_000 and info.file_size > MAX_RATIO * max(1, info.compress_size):
                raise PackageError(f"member {info.filename} expands {info.file_size // max(1, info.compress_size)}x "
                                   "(a compression bomb): refused")
        total = len(infos)
        for done, info in enumerate(infos, 1):
            match = _MEMBER.search(info.filename)
            assert match is not None
            bill = BillNumber(congress, bill_type, int(match.group(3)))
            role = wanted(bill)
            result.members += 1
            result.seen.add(bill)
            stamp = _zip_time(info.date_time)
            cutoff = min(t for t in (stamp, last_modified) if t is not None) if (stamp or last_modified) else None
            if cutoff is not None and downloaded is not None and cutoff > downloaded:
                cutoff = _UNDATED  # a date from the future: older than any move, as far as we know
            moved = lastmods.get(bill)
            try:
                with archive.open(info) as stream:
                    data = stream.read(member_cap + 1)  # a lying header cannot make this larger
            except _MEMBER_UNREADABLE as exc:
                raise PackageError(f"member {info.filename} is unreadable: {exc}") from None
            if len(data) > member_cap:
                raise PackageError(f"member {info.filename} is larger than the cap")
            head = data[:4096]
            if b"<billStatus" not in head:
                raise PackageError(f"member {info.filename} is not a BILLSTATUS document")
            if progress is not None and (done % 500 == 0 or done == total):
                progress(done, total)
            if role == "skip":
                result.skipped += 1
                continue
            if (moved is not None and cutoff is not None and moved > cutoff) or (moved is None and bill in lastmods):
                # newer than the package, or listed without a lastmod (nothing says the package's
                # copy is not older than a snapshot read singly before): fetched singly
                result.newer.append(bill)
                continue
            if role == "keep":
                result.kept.append(Member(bill, info.filename, None, cutoff))
            elif role == "title" and could_match(data):
                result.kept.append(Member(bill, info.filename, data, cutoff))
    return result


def declared_members(path: Path) -> tuple[int, int]:
    """(members, central directory bytes) as declared by the end record `zipfile` itself will read
    (its ZIP64 record where there is one: `zipfile._EndRecData`, private but unchanged for
    decades, so this check and the reading can never see two different records). Read before
    `zipfile` builds a record for every member: a package of millions of tiny members would take
    gigabytes there. No record at all is no ZIP archive."""
    with path.open("rb") as archive:
        record = zipfile._EndRecData(archive)  # type: ignore[attr-defined]
    if not record:
        raise PackageError("not a ZIP archive (no end of central directory record)")
    return int(record[zipfile._ECD_ENTRIES_TOTAL]), int(record[zipfile._ECD_SIZE])  # type: ignore[attr-defined]


def directory_entries(path: Path) -> int:
    """At most how many entries `zipfile` will make a record of: the entry signatures in the bytes
    it reads as the central directory (`size` bytes ending where the end record, or the ZIP64 record
    and its locator, begin: where `zipfile.ZipFile` seeks, whatever the record's own offset says).
    Each entry starts with one; a name holding one only counts more. Called once the directory's
    size is known to be bounded (`_ENTRY_MOST` a declared member)."""
    with path.open("rb") as archive:
        record = zipfile._EndRecData(archive)  # type: ignore[attr-defined]
        if not record:
            raise PackageError("not a ZIP archive (no end of central directory record)")
        size = int(record[zipfile._ECD_SIZE])  # type: ignore[attr-defined]
        start = int(record[zipfile._ECD_LOCATION]) - size  # type: ignore[attr-defined]
        if record[zipfile._ECD_SIGNATURE] == zipfile.stringEndArchive64:  # type: ignore[attr-defined]
            start -= zipfile.sizeEndCentDir64 + zipfile.sizeEndCentDir64Locator  # type: ignore[attr-defined]
        if start < 0:
            raise PackageError("not a readable ZIP archive: its central directory starts before the file")
        archive.seek(start)
        return archive.read(size).count(b"PK\x01\x02")


_UNDATED = datetime.min.replace(tzinfo=UTC)  # a package copy whose date cannot be true


def _zip_time(value: tuple[int, int, int, int, int, int]) -> datetime | None:
    """A member's date (ZIP keeps local time without a zone: read as UTC, which can only make the
    member look older, so a doubtful file is fetched singly rather than missed)."""
    if value[0] < 1990:
        return None
    try:
        return datetime(*value, tzinfo=UTC)
    except ValueError:
        return None


def progress_printer(label: str) -> Callable[[int, int], None] | None:
    """Progress on a terminal only (never under --quiet, never in cron mail)."""
    if not sys.stderr.isatty() or logging.getLogger().getEffectiveLevel() > logging.WARNING:
        return None

    def show(done: int, total: int) -> None:
        end = "\n" if done == total else ""
        print(f"\r{label}: {done:,} / {total:,} bills checked", end=end, file=sys.stderr, flush=True)

    return show


def read_member(archive: zipfile.ZipFile, name: str, cap: int) -> bytes:
    """One member of an archive `scan_package` already checked, read within the cap."""
    try:
        with archive.open(name) as stream:
            data = stream.read(cap + 1)
    except (*_MEMBER_UNREADABLE, KeyError) as exc:
        raise PackageError(f"member {name} is unreadable: {exc}") from None
    if len(data) > cap:
        raise PackageError(f"member {name} is larger than the cap")
    return data
