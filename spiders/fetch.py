"""One polite GET for `tracker sources detect`: the crawl's own engine and middlewares (robots.txt,
the host's pace, Retry-After, the User-Agent, the size cap), no item, no database. The answer, or
why there is none, goes into the list it is given (`tracker.crawl.fetch`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from twisted.python.failure import Failure

from spiders.base import address_login, describe_failure
from spiders.middlewares import LoginRefused, RedirectRefused, with_login
from tracker.records import Page


class FetchSpider(scrapy.Spider):
    name = "fetch"

    def __init__(self, *args: Any, url: str, accept: str, out: list[Page], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.url, self.accept, self.out = url, accept, out
        # A login in the address is asked as a header, to its origin only (AddressLoginMiddleware).
        self.asked, self.login = address_login(url)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        yield scrapy.Request(self.asked, callback=self.answered, errback=self.failed, dont_filter=True,
                             headers={"Accept": self.accept})

    def answered(self, response: Response) -> None:
        kind = response.headers.get(b"Content-Type") or b""
        # read with the login: the address that reads it again (a watch's) carries it
        self.out.append(Page(url=self.url, final_url=with_login(response.url, self.login), status=response.status,
                             content_type=kind.decode("latin-1"), body=response.body))

    def failed(self, failure: Failure) -> None:
        request = getattr(failure, "request", None)
        url = with_login(request.url, self.login) if request is not None else self.url
        response = getattr(failure.value, "response", None)
        self.out.append(Page(url=self.url, final_url=url, status=response.status if response is not None else 0,
                             problem=why(failure, url, self.crawler.settings.getint("DOWNLOAD_MAXSIZE"))))


def why(failure: Failure, url: str, cap: int) -> str:
    """One phrase: HTTP 404, robots.txt, the size cap, the network."""
    exc = failure.value
    if isinstance(exc, IgnoreRequest) and "robots.txt" in str(exc):
        return f"robots.txt of {urlsplit(url).netloc.rpartition('@')[2]} does not allow it (tracker obeys robots.txt)"
    if isinstance(exc, RedirectRefused | LoginRefused):
        return str(exc)
    if isinstance(exc, IgnoreRequest) and "redirect" in str(exc).lower():
        return "too many redirects"
    said = describe_failure(failure)
    if "size cap" in said:
        return f"the answer is larger than {cap / 1024 / 1024:g} MB, the download cap: not read"
    response = getattr(exc, "response", None)
    if response is not None and said.startswith("HTTP ") and "login" not in said:
        return f"HTTP {response.status}" + (" (not found)" if response.status == 404 else "")
    return said
