"""What every tracker spider shares: its source report, error lines, and failure mapping."""

from __future__ import annotations

import json
import logging
from typing import Any

import scrapy
from scrapy.exceptions import (
    CannotResolveHostError,
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

from tracker import secrets
from tracker.records import Validators
from tracker.report import SourceReport
from tracker.safexml import html_instead

log = logging.getLogger(__name__)


def describe_failure(failure: Failure) -> str:
    """One short phrase for why a request failed, for the operator's error line."""
    exc = failure.value
    if isinstance(exc, HttpError):
        return f"HTTP {exc.response.status}"
    # Scrapy 2.19 wraps Twisted's errors in its own; both are named the same way.
    if isinstance(exc, DNSLookupError | CannotResolveHostError):
        return "host not found (DNS lookup failed)"
    if isinstance(exc, ConnectionRefusedError | DownloadConnectionRefusedError):
        return "connection refused (host unreachable)"
    if isinstance(exc, TimeoutError | TCPTimedOutError | DownloadTimeoutError):
        return "timed out"
    if isinstance(exc, ResponseDataLossError):
        return "connection closed before the whole response arrived (truncated)"
    name = type(exc).__name__
    text = str(exc)
    if "during decompression" in text and "DOWNLOAD_MAXSIZE" in text:  # Scrapy's guard on a gzip bomb
        return "response larger than the download size cap once decompressed: not read"
    if "maxsize" in text or "larger than download max size" in text or "Cancelling download" in text:
        return "response larger than the download size cap: not read"
    if "DataLoss" in name or name == "ResponseFailed" or "DataLoss" in text:
        return "connection closed before the whole response arrived (truncated)"
    return f"{name}: {text.splitlines()[0] if text else 'failed'}"


NOT_JSON = object()  # what `json_body` answers after its one error line


class TrackerSpider(scrapy.Spider):
    """Base spider: `report` collects counts and errors for this source's Run row."""

    source_id: str = ""

    def __init__(self, *args: Any, report: SourceReport, validators: dict[str, Validators] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.report = report
        self.validators = validators or {}

    def fail(self, what: str, url: str | None, problem: str) -> None:
        """Record one clear error line: which thing, which URL, what happened."""
        line = f"{self.report.source_id}: {what}: {problem}" + (f" ({url})" if url else "")
        line = secrets.mask(line)
        self.report.errors.append(line)
        log.warning(line)

    def json_body(self, response: Any, what: str) -> Any:
        """The body parsed as JSON, or NOT_JSON after one clear error line (an HTML error page
        served with the status of an answer, or text that is not JSON)."""
        if problem := html_instead(response.body, "JSON"):
            self.fail(what, response.url, problem)
            return NOT_JSON
        try:
            return json.loads(response.body)
        except ValueError as exc:
            self.fail(what, response.url, f"not valid JSON: {exc}")
            return NOT_JSON
        except RecursionError:
            self.fail(what, response.url, "not valid JSON: nested too deep")
            return NOT_JSON

    def warn(self, what: str, url: str | None, problem: str) -> None:
        """Record one warning line: worth the operator's eye (without --quiet, in the log file), yet
        the source stays ok."""
        line = secrets.mask(f"{self.report.source_id}: {what}: {problem}" + (f" ({url})" if url else ""))
        self.report.warnings.append(line)
        logging.getLogger(f"tracker.{self.name}").warning("warning: %s", line)

    def not_modified(self) -> None:
        self.report.not_modified += 1
