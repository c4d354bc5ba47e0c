"""Legistar's web calendar page (`https://<client>.legistar.com/Calendar.aspx`): the meetings the
public sees, for clients whose Web API asks for a token.

The page lists the period its date range list shows by default, often "This Month": a meeting set
for the month after would appear only when the month turns. So the spider asks, as a browser does,
for the periods that cover the crawl's window (each year it touches: "2026" where the list offers
the year, else "This Year", "Next Year" or "Last Year"; none when the page shows a year already
holding the window, nor the year the page shows, but on the day a year turns: its own pages are
read), posting the page's form back with the list's new choice and the cookies its chain of answers
set, then for each further page of the grid's rows (the pager's next page) until a grid sorted by
date runs past the window. Every answer's rows are read (a meeting in two answers once). Legistar
sometimes answers a choice with another period (the one shown before): the choice is then posted
once more, from that answer's own form.

The listing is complete, so that a meeting it no longer shows may be noted missing, only when every
answer was read without an error, and only over the days the periods read surely cover: a relative
period ("This Month") on a day its client's clock may already count as the next one, or an answer
holding a row outside its period, covers nothing. Where the list cannot cover the window, what it
offers is read and a warning says so; a page without the list (a department's page) is read as
shown, and since it does not say what period it shows, nothing is noted missing from it.

The page is fetched in full each crawl, not conditionally: the answers that matter come from form
posts, which have no validators, and each post carries the state (`__VIEWSTATE`) of the page it
follows.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from datetime import date, timedelta
from typing import Any

import scrapy
from form2request import form2request
from scrapy.http import Response

from spiders.base import read_in_time
from spiders.listing import ListingSpider
from tracker.meetings.legistar_calendar import Asking, CalendarView, periods_to_ask, read_calendar, sure_span
from tracker.meetings.normalize import SourceParseError

MAX_PAGES = 40  # grid pages read per period (Legistar shows 100 rows a page): a pager that never ends stops here
REDIRECTS = [301, 302, 303, 307, 308]  # a post answered by a redirect (Legistar's Error.aspx): not followed


class LegistarCalendarSpider(ListingSpider):
    name = "legistar_calendar"
    accept = "text/html"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.listed: set[str] = set()  # meetings already read from an earlier answer
        # each period's pages read, by their rows (ids and days): a pager that does not move on is seen
        self.pages: set[tuple[str | None, tuple[str, ...], tuple[date, ...]]] = set()
        self.covered: dict[str, tuple[date, date]] = {}  # the days each period read surely covers
        self.shown_by: dict[str, set[str]] = {}  # the meetings each period's answers showed
        self.days_of: dict[str, date] = {}  # the day of each meeting of the window any answer showed
        self.whole = True  # no error so far: every answer asked for was read, and read whole
        self.all_read = True  # every answer the window needs was asked for and read (some rows may not be)
        self.window_days: tuple[date, date] | None = None  # the crawl's window, as the first answer was read

    def fail(self, what: str, url: str | None, problem: str) -> None:
        """Any error line (an answer, a row, an item that could not be stored) leaves the listing
        incomplete: a meeting not seen may just be unread."""
        self.whole = False
        super().fail(what, url, problem)

    def unread(self, what: str, url: str | None, problem: str) -> None:
        """The error line of an answer not read, or not asked for: the listing was read in part."""
        self.all_read = False
        self.fail(what, url, problem)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        yield scrapy.Request(self.url, callback=self.parse_answer, errback=self.answer_failed,
                             cb_kwargs={"period": None, "page": 1}, headers={"Accept": self.accept})

    def parse_answer(self, response: Response, period: str | None, page: int, again: bool = False) -> Iterator[Any]:
        """One answer: the page as served (`period` None), or a period's page of rows (`again`: the
        period asked for a second time)."""
        what = "the page" if period is None else f"{period}, page {page}"
        if response.status in REDIRECTS:
            self.unread(self.noun, response.url, f"{what}: the post was answered with a redirect to "
                                                 f"{response.headers.get('Location', b'').decode('latin-1')!r}: not read")
            return
        ctx = self.context(response.url)
        self.window_days = self.window_days or (ctx.window_start.date(), ctx.window_end.date())
        start, end = self.window_days
        try:
            listing, view = read_in_time(read_calendar, response.body, ctx, seconds=self.config.crawl.parse_seconds)
        except SourceParseError as exc:
            self.unread(self.noun, response.url, str(exc) if period is None else f"{what}: {exc}")
            return
        if cut := self.cut_short(response.body):
            # the rows before the cut read well: those past it are unread, not gone
            self.unread(self.noun, response.url, f"{what}: {cut}: the meetings before it were read, "
                                                 "none is noted missing")
        if period is not None and not _same(view.period, period):
            # Legistar sometimes answers a choice with another period: its rows are not the ones asked
            # for. The choice is posted once more, from this answer's form (its own view state).
            if page == 1 and not again and view.period_field is not None:
                self.logger.info("asked for %r, the calendar answered with %r: asking again", period, view.period)
                if (request := self._choose(response, view, period, again=True)) is not None:
                    yield request
                return
            self.unread(self.noun, response.url, f"asked for the meetings of {period!r}; the page answered with "
                                                 f"{view.period or 'no period'!r}: not read"
                                                 + (" (asked twice)" if again else ""))
            return
        rows = (period, tuple(meeting.source_ref for meeting in listing.meetings), view.days)
        if page > 1 and rows in self.pages:
            self.unread(self.noun, response.url, f"{what}: answered with the rows of an earlier page (the grid's pager "
                                                 "does not move on): the rest not read")
            return
        self.pages.add(rows)
        self.shown_by.setdefault(period if period is not None else view.period or "", set()).update(rows[1])
        self.days_of.update((meeting.source_ref, date.fromisoformat(meeting.date[:10]))
                            for meeting in listing.meetings if meeting.date)
        self.note_problems(listing, response.url)
        fresh = [meeting for meeting in listing.meetings if meeting.source_ref not in self.listed]
        self.listed.update(meeting.source_ref for meeting in fresh)
        listing.meetings = fresh
        yield from self.meeting_items(listing, ctx, response.url)
        if period is None:
            asking = self._periods(view, start, end)
            for choice in asking.periods:
                if (request := self._choose(response, view, choice)) is not None:
                    yield request
            if not asking.shown:
                return  # the periods asked for hold the rows of the pages after this one
            period = view.period or ""
        # the client's day is the body's, as near as the tracker can tell (`sure_span` allows a day either way)
        span = sure_span(period, self.today()) if page == 1 and period else None
        if span is not None and all(span[0] <= day <= span[1] for day in view.days):  # else not the period it seems
            self.covered[period] = span
        if view.next_page and not view.later_pages_outside(start, end):
            if page >= MAX_PAGES:
                self.unread(self.noun, response.url, f"{period or 'the page'}: more than {MAX_PAGES} pages of "
                                                     "meetings; the rest not read")
            elif (request := self._post(response, {"__EVENTTARGET": view.next_page, "__EVENTARGUMENT": ""},
                                        period, page + 1)) is not None:
                yield request

    def _periods(self, view: CalendarView, start: date, end: date) -> Asking:
        """The periods to ask for, after a warning when they cannot cover the window."""
        asking = periods_to_ask(view, start, end, self.today())
        if not asking.whole and view.period_field is not None:  # a page without the list has nothing to choose
            self.warn(self.noun, self.url, f"the calendar shows {view.period or 'its default period'!r} and its "
                      "date range list cannot show the whole window: read "
                      f"{' and '.join(repr(p) for p in asking.periods) if asking.periods else 'as shown'}")
        return asking

    def _choose(self, response: Response, view: CalendarView, choice: str, *,
                again: bool = False) -> scrapy.Request | None:
        """The page's form posted back with `choice` in its date range list, as the list posts it."""
        assert view.period_field is not None  # periods_to_ask names periods only for a page with the list
        fields = {"__EVENTTARGET": view.period_field, "__EVENTARGUMENT": "", view.period_field: choice}
        if view.period_state_field:
            fields[view.period_state_field] = json.dumps(
                {"logEntries": [], "value": view.value_of(choice), "text": choice, "enabled": True, "checkedIndices": [],
                 "checkedItemsTextOverflows": False}, separators=(",", ":"))
        return self._post(response, fields, choice, 1, again=again)

    def _post(self, response: Response, fields: dict[str, str], period: str, page: int, *,
              again: bool = False) -> scrapy.Request | None:
        """The page's form (the one holding its view state) as a browser posts it (its fields but
        the disabled ones, `fields` set), sent back to the page it came from: a postback always goes
        to its own page (the form's action may name the client's other host name)."""
        form = response.xpath("//form[.//input[@name='__VIEWSTATE']]")
        if not form:
            self.unread(self.noun, response.url, f"{period}: no form holding __VIEWSTATE to post back: not asked for")
            return None
        disabled: dict[str, str | None] = {name: None for name in form[0].xpath(".//*[@disabled]/@name").getall()}
        try:
            posted = form2request(form[0], {**disabled, **fields}, click=False)
        except (ValueError, NotImplementedError) as exc:  # a method, enctype or action it cannot post
            said = re.sub(r"<Element form at 0x[0-9a-f]+>", "the form", str(exc)).split("\n")[0][:160]
            self.unread(self.noun, response.url, f"{period}: the page's form cannot be posted back ({said}): not asked for")
            return None
        headers = {**dict(posted.headers), "Accept": self.accept}
        jar = _cookies(response)
        if jar:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in jar.items())
        return scrapy.Request(response.url, method=posted.method, body=posted.body, headers=headers,
                              callback=self.parse_answer, errback=self.answer_failed, dont_filter=True,
                              cb_kwargs={"period": period, "page": page, "again": again},
                              meta={"dont_redirect": True, "handle_httpstatus_list": REDIRECTS, "jar": jar})

    def answer_failed(self, failure: Any) -> None:
        period = failure.request.cb_kwargs.get("period")
        what = self.noun if period is None else f"{self.noun} ({period}, page {failure.request.cb_kwargs['page']})"
        self.unread(what, failure.request.url, self.describe(failure))

    def closed(self, reason: str) -> None:
        """The listing's extent, now that every answer is in: the longest run of the window's days
        that the periods read surely cover. Meetings outside it, or after any error, are never
        noted missing. A meeting an earlier run could not store leaves `unsaved` once read again
        (kept anew if not stored again), and every one once every answer was read."""
        whole = self.whole and reason == "finished"
        self.learned.unsaved.forget([ref for ref in self.unsaved_before if whole or ref in self.listed])
        if not (self.all_read and reason == "finished"):
            # what the listing was read with (parser, bodies, keywords) is recorded only once every
            # answer was read: a meeting of a body followed from now on that an unread period holds
            # is a baseline when it is read, not news
            self.learned.parser = self.learned.bodies = self.learned.keywords = None
        super().closed(reason)
        if not self.whole or reason != "finished" or self.window_days is None:
            return
        spans = []
        for period, (first, last) in sorted(self.covered.items()):
            # an answer lacking a meeting another showed on its days (an empty grid for a year the
            # page itself shows meetings of) is not the whole period: nothing is judged gone by it
            shown = self.shown_by.get(period, set())
            if lacking := sum(first <= day <= last and ref not in shown for ref, day in self.days_of.items()):
                self.warn(self.noun, self.url, f"the calendar's answer for {period!r} lacks {lacking} meeting(s) "
                                               "another of its answers showed on its days: nothing is noted missing by it")
            else:
                spans.append((first, last))
        if (part := _covered_part(spans, *self.window_days)) is not None:
            self.report.complete_listing = True
            self.report.listing_window = (part[0].isoformat(), part[1].isoformat())


def _cookies(response: Response) -> dict[str, str]:
    """The cookies to post back from `response`: those its own request carried (its chain of
    answers: the page, a period, its pages) and those it sets (an ASP.NET session, Legistar's
    settings such as `Setting-69-Calendar Year`, a name with a space). Each period's chain keeps its
    own, so a later page of one period never carries the year another period's answer set: the
    crawl keeps no cookie jar of its own."""
    jar = dict(response.meta.get("jar") or {})
    for header in response.headers.getlist("Set-Cookie"):
        name, equals, value = header.decode("latin-1").split(";", 1)[0].partition("=")
        if equals and name.strip():
            jar[name.strip()] = value.strip()
    return jar


def _same(shown: str | None, asked: str) -> bool:
    return " ".join((shown or "").lower().split()) == " ".join(asked.lower().split())


def _covered_part(spans: list[tuple[date, date]], start: date, end: date) -> tuple[date, date] | None:
    """The longest run of days from `start` to `end` that the spans cover without a gap."""
    runs: list[tuple[date, date]] = []
    for first, last in sorted(spans):
        first, last = max(first, start), min(last, end)
        if first > last:
            continue
        if runs and first <= runs[-1][1] + timedelta(days=1):
            runs[-1] = (runs[-1][0], max(runs[-1][1], last))
        else:
            runs.append((first, last))
    return max(runs, key=lambda run: run[1] - run[0], default=None)
