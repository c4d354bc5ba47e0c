"""What every tracker spider shares: its source report, error lines, and failure mapping."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import unquote

import scrapy
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadTimeoutError,
    ResponseDataLossError,
)
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import (
    ConnectionRefusedError,
    DNSLookupError,
    TCPTimedOutError,
    TimeoutError,
)
from twisted.python.failure import Failure

from spiders.middlewares import (
    LOGIN_WITHHELD,
    AddressLogin,
    LoginRefused,
    RedirectRefused,
    origin_of,
    split_login,
)
from tracker import secrets
from tracker.meetings.normalize import SourceParseError
from tracker.records import Validators
from tracker.report import SourceReport
from tracker.safetext import json_loads
from tracker.safexml import html_instead

log = logging.getLogger(__name__)
T = TypeVar("T")


def address_login(url: str) -> tuple[str, AddressLogin | None]:
    """`split_login`: the address as asked for and its login, whose password (as decoded) and
    header are registered as secrets, so no line or log record can show them."""
    asked, login = split_login(url)
    if login is not None:
        secrets.register(unquote(login.userinfo.partition(":")[2]))
        secrets.register(login.header.decode("latin-1").removeprefix("Basic "))
    return asked, login


def describe_failure(failure: Failure, cap: int | None = None) -> str:
    """One short phrase for why a request failed, for the operator's error line; `cap` is the
    download size cap in force (`[crawl] max_bytes`), named when a response was refused for it."""
    exc = failure.value
    if isinstance(exc, HttpError):
        asked = exc.response.request
        if exc.response.status == 401 and asked is not None and asked.headers.get(b"Authorization"):
            # said once: a 401 is not retried, and a wrong password stays wrong until the config changes
            return "HTTP 401: the server refused the login given in the address"
        if exc.response.status == 401 and asked is not None and (started := asked.meta.get(LOGIN_WITHHELD)):
            # curl's rule, kept: a login goes to its own address's scheme, host and port only
            return (f"HTTP 401: redirected from {_origin_words(started)} to {_origin_words(asked.url)}, where the "
                    "login given in the address is not sent; write the address it moved to")
        return f"HTTP {exc.response.status}"
    if isinstance(exc, RedirectRefused | LoginRefused):
        return str(exc)
    # Scrapy 2.19 wraps Twisted's errors in its own; both are named the same way.
    if isinstance(exc, DNSLookupError | CannotResolveHostError):
        return "host not found (DNS lookup failed)"
    if isinstance(exc, ConnectionRefusedError | DownloadConnectionRefusedError):
        return "connection refused (host unreachable)"
    if isinstance(exc, TimeoutError | TCPTimedOutError | DownloadTimeoutError):
        return "timed out"
    if isinstance(exc, ResponseDataLossError):
        return "connection closed before the whole response arrived (truncated)"
    if isinstance(exc, DownloadCancelledError) and not str(exc):
        # Scrapy cancels a body without a Content-Length once it outgrows the cap, saying nothing
        return f"response larger than the download size cap{_cap_sizes(failure, '', cap)}: not read"
    name = type(exc).__name__
    text = str(exc)
    if "during decompression" in text and "DOWNLOAD_MAXSIZE" in text:  # Scrapy's guard on a gzip bomb
        return f"response larger than the download size cap once decompressed{_cap_sizes(failure, text, cap)}: not read"
    if "max size" in text or "maxsize" in text or "Cancelling download" in text:
        return f"response larger than the download size cap{_cap_sizes(failure, text, cap)}: not read"
    if "DataLoss" in name or name == "ResponseFailed" or "DataLoss" in text:
        return "connection closed before the whole response arrived (truncated)"
    return f"{name}: {text.splitlines()[0] if text else 'failed'}"


def _origin_words(url: str) -> str:
    """An address's origin as a person writes it (`https://host`, its port only when not the usual)."""
    scheme, host, port = origin_of(url)
    return f"{scheme}://{host}" + ("" if port == {"http": 80, "https": 443}.get(scheme) else f":{port}")


def _cap_sizes(failure: Failure, text: str, cap: int | None) -> str:
    """" (130.5 MB; [crawl] max_bytes is 50 MB)": the response's size where Scrapy's
    message gives it, and the cap with the setting that sets it, so the operator knows what to raise."""
    size = re.search(r"(?:Expected to receive|Received) (\d+) bytes", text)
    said_cap = re.search(r"max size \((\d+)\)|DOWNLOAD_MAXSIZE \((\d+) B\)", text)
    request = getattr(failure, "request", None)
    limit = int(said_cap.group(1) or said_cap.group(2)) if said_cap else \
        (request.meta.get("download_maxsize") if request is not None else None) or cap
    body, cap = (int(size.group(1)) if size else None), (int(limit) if limit else None)
    exact = body is not None and cap is not None and _size(body, up=True) == _size(cap)  # just over it
    said = [_size(body, up=True, exact=exact)] if body is not None else []
    if cap is not None:
        said.append(f"[crawl] max_bytes is {_size(cap, exact=exact)}")
    return f" ({'; '.join(said)})" if said else ""


def _size(count: int, *, up: bool = False, exact: bool = False) -> str:
    """"130.5 MB" (MiB, as the config's sizes are written; rounded `up` for a size over a cap, so it
    never reads as the cap), or "1,000,000 bytes" under one MB or where the two must be told apart."""
    if count < 2**20 or exact:
        return f"{count:,} bytes"
    tenths = -(-count * 10 // 2**20) if up else round(count * 10 / 2**20)
    return f"{tenths / 10:.1f}".removesuffix(".0") + " MB"


NOT_JSON = object()  # what `json_body` answers after its one error line
# The longest error or warning line kept: a line names an address or echoes a site's words (a
# redirect's Location), which a site can make as long as it likes, and a line is stored with the run,
# printed by `status` and sent in the operator's alert. Cut after masking: no secret is cut in half.
LINE_STORED = 1000


def bounded(line: str) -> str:
    """`line` cut to `LINE_STORED` characters, its start (the source, what failed) kept."""
    return line if len(line) <= LINE_STORED else line[:LINE_STORED - 1] + "…"


def read_in_time(parse: Callable[..., T], *args: Any, seconds: float) -> T:
    """`parse(*args)` on a thread of its own, waited for at most `seconds`: the crawl's reactor
    thread would otherwise wait as long as libxml2 takes, and some pages take it minutes (its HTML
    parser checks each attribute of a tag against every one before it: a tag of 40,000 attributes,
    400 KB, takes 6 s, and one of 200,000 minutes), while every other source's answers wait
    unread; now they wait at most `seconds`. Past the limit the answer is one problem line (SourceParseError) and the reading goes
    on alone, a daemon thread that never keeps the process open; it shares no parser with a later
    reading (`pages.html_tree` and the feeds make their own), so nothing after waits on it."""
    outcome: list[tuple[bool, Any]] = []

    def run() -> None:
        try:
            outcome.append((True, parse(*args)))
        except BaseException as exc:  # handed to the caller's thread, raised there
            outcome.append((False, exc))

    worker = threading.Thread(target=run, name="tracker-read", daemon=True)
    worker.start()
    worker.join(seconds)
    if not outcome:
        raise SourceParseError(f"reading the answer took over {seconds:g} s and was given up (its markup may be "
                               "built to stall a parser: one tag with tens of thousands of attributes)")
    done, value = outcome[0]
    if done:
        return value  # type: ignore[no-any-return]
    raise value


def asked_conditionally(response: Any) -> bool:
    """Whether the request `response` answers named a copy of ours (If-None-Match,
    If-Modified-Since): only then can a 304 mean "as you have it" (a server or cache answering 304
    to a first or whole read says nothing, and a run reading nothing would be ok)."""
    request = response.request
    return request is not None and any(request.headers.get(name) for name in (b"If-None-Match", b"If-Modified-Since"))


class TrackerSpider(scrapy.Spider):
    """Base spider: `report` collects counts and errors for this source's Run row."""

    source_id: str = ""

    def __init__(self, *args: Any, report: SourceReport, validators: dict[str, Validators] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.report = report
        self.validators = validators or {}

    def describe(self, failure: Failure) -> str:
        """`describe_failure`, naming this crawl's download size cap where it refused a response."""
        return describe_failure(failure, self.settings.getint("DOWNLOAD_MAXSIZE") or None)

    def fail(self, what: str, url: str | None, problem: str) -> None:
        """Record one clear error line: which thing, which URL, what happened."""
        line = f"{self.report.source_id}: {what}: {problem}" + (f" ({url})" if url else "")
        line = bounded(secrets.mask(line))
        self.report.errors.append(line)
        log.warning(line)

    def json_body(self, response: Any, what: str) -> Any:
        """The body parsed as JSON, or NOT_JSON after one clear error line (an HTML error page
        served with the status of an answer, or text that is not JSON)."""
        if problem := html_instead(response.body, "JSON"):
            self.fail(what, response.url, problem)
            return NOT_JSON
        try:
            return json_loads(response.body)
        except ValueError as exc:
            self.fail(what, response.url, f"not valid JSON: {exc}")
            return NOT_JSON
        except RecursionError:
            self.fail(what, response.url, "not valid JSON: nested too deep")
            return NOT_JSON

    def warn(self, what: str, url: str | None, problem: str) -> None:
        """Record one warning line: worth the operator's eye (without --quiet, in the log file), yet
        the source stays ok."""
        line = bounded(secrets.mask(f"{self.report.source_id}: {what}: {problem}" + (f" ({url})" if url else "")))
        self.report.warnings.append(line)
        logging.getLogger(f"tracker.{self.name}").warning("warning: %s", line)

    def not_modified(self) -> None:
        self.report.not_modified += 1
