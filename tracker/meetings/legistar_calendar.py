"""Legistar's web calendar (`https://<client>.legistar.com/Calendar.aspx`, and a department's
`DepartmentDetail.aspx`): the page the public reads, for clients whose Web API asks for a token or
for a person who has only the page. Meetings come out in the shared shape (tracker/meetings/ical.py).

The page is a Telerik RadGrid (`table.rgMasterTable`, rows `tr.rgRow` / `tr.rgAltRow`) whose
columns each client chooses and names: they are found by their header's words (the header's text,
its sort button's value or its image's alt text), never by position. A column of no known name
that links documents is typed by its name ("Agenda Packet" a packet, "Recap/Minutes" minutes,
"Audio" or "Multimedia" video); "Not available" cells link nothing and are passed over.

- Each row is one meeting, keyed by Legistar's own event id: that of its `MeetingDetail.aspx?ID=`
  link, else of its iCalendar export (`View.ashx?M=IC&ID=`; the same number: a meeting whose details
  become public keeps its key), else its name and date.
- Its time is the time cell's own words ("10:00 AM"); a word there instead ("Canceled",
  "Deferred") leaves it time TBD and, like a note under the location (`<em>CANCELLED</em>`), is
  read by the shared cancellation rule.
- A page without a name column (a department's page) names its meetings after the watch.

The page as served lists the client's default period (its "date range" list: often "This Month").
`calendar_view` reads that list and the grid's pager from the same tree, and `periods_to_ask` says
which of the list's periods cover a watch's window; the spider (spiders/legistar_calendar.py) asks
for them by posting the page's form back, as the list and the pager do in a browser.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise
from typing import NamedTuple
from urllib.parse import unquote

from lxml import etree

from tracker.meetings.normalize import (
    DocumentList,
    SourceParseError,
    find_date,
    in_window,
    time_for_day,
    title_items,
)
from tracker.meetings.pages import (
    Resolver,
    html_tree,
    link_label,
    local_start,
    page_seen,
    resolver,
    slug,
    words_of,
)
from tracker.meetings.portals import meeting_record, row_problem
from tracker.records import Listing, ListingContext, Meeting
from tracker.safetext import web_url

__all__ = ["GRID_ROWS", "Asking", "CalendarView", "calendar_view", "parse_calendar", "period_span", "periods_to_ask",
           "read_calendar", "sure_span"]

GRID_ROWS = ("rgRow", "rgAltRow")
_EVENT_ID = re.compile(r"MeetingDetail\.aspx\?(?:[^#]*&)?ID=(\d+)", re.I)
_ICAL_ID = re.compile(r"View\.ashx\?M=IC&(?:[^#]*&)?ID=(\d+)", re.I)
# What each of them starts with, in lower case.
_EVENT_STEM, _ICAL_STEM = "meetingdetail.aspx?", "view.ashx?m=ic&"
# A video link opens its player in a window (`OpenTelerikWindow('Video.aspx?...','video')`); its
# `href` is the calendar itself.
_OPENS = re.compile(r"""^\s*(?:OpenTelerikWindow|radopen|window\.open)\s*\(\s*['"]([^'"]+)['"]""", re.I)


_ROW_CLASSES = frozenset(GRID_ROWS)


def _is_row(row: etree._Element) -> bool:
    return not _ROW_CLASSES.isdisjoint((row.get("class") or "").split())


def _grid(root: etree._Element) -> etree._Element | None:
    """The calendar's grid: the `table.rgMasterTable` of `gridCalendar`, else the first one holding
    rows (a department's page also has a grid of its members)."""
    grids = [table for table in root.iter("table") if "rgMasterTable" in (table.get("class") or "").split()
             and any(_is_row(row) for row in table.iter("tr"))]
    return next((table for table in grids if "gridCalendar" in (table.get("id") or "")), next(iter(grids), None))


def _address(onclick: str | None, href: str | None, absolute: Resolver, page: str) -> str | None:
    """A link's absolute address: what its `onclick` opens, else its `href`; None for the calendar
    page itself (a link that only runs script) and for a link to nowhere."""
    opened = _OPENS.match(onclick) if onclick else None
    href = opened.group(1) if opened else (href or "").strip()
    if not href or href.startswith(("#", "javascript:", "mailto:")):
        return None
    link = absolute(href)
    return link if (link.split("#")[0] if "#" in link else link) != page else None


def _row_links(row: etree._Element, cells: list[etree._Element], absolute: Resolver,
               page: str) -> list[tuple[int, str, etree._Element]]:
    """(column, absolute address, the link) of each link in the row's cells, in page order, from
    one walk of the row (one walk per cell costs ten). A link's column is that of the row's cell
    above it; a link in none of the cells (in a `th`) is passed over, as a walk of each cell does."""
    column_of = {cell: n for n, cell in enumerate(cells)}  # lxml gives a live node the same object
    found = []
    for element in row.iter("a"):
        onclick, href = element.get("onclick"), element.get("href")
        if (onclick is None and href is None) or (link := _address(onclick, href, absolute, page)) is None:
            continue  # most of a row's links: the body's, "Not available"
        parent = element.getparent()
        while parent is not row:  # up to the row's child holding the link
            if (column := column_of.get(parent)) is not None:
                found.append((column, link, element))
                break
            parent = parent.getparent()
    return found


def _header_words(cell: etree._Element) -> str:
    """What a column is called: its words, else its sort button's value, else its image's alt text
    (the iCalendar column is an image)."""
    words = words_of(cell)
    if not words:
        words = " ".join(value for el in cell.iter("input") if (value := " ".join((el.get("value") or "").split())))
    if not words:
        words = " ".join(el.get("alt") or "" for el in cell.iter("img")).strip()
    return words


def _header_cells(table: etree._Element) -> list[etree._Element]:
    """The grid's header cells (`th.rgHeader`), in order."""
    for row in table.iter("tr"):
        cells = [cell for cell in row if cell.tag == "th"]
        if any("rgHeader" in (cell.get("class") or "") for cell in cells):
            return cells
    return []


def _columns(table: etree._Element) -> list[str]:
    """The grid's column names, lower case, in order ("" for a column that names nothing)."""
    return [_header_words(cell).lower() for cell in _header_cells(table)]


def _column(names: list[str], *words: str) -> int | None:
    """The first column whose name holds one of `words`."""
    return next((n for n, name in enumerate(names) if any(word in name for word in words)), None)


def _date_column(names: list[str], rows: list[etree._Element]) -> int | None:
    """The column named a date, else (a header without words: a sort button of no value) the first
    cell of the first row holding a date."""
    at = _column(names, "date")
    if at is None and rows:
        at = next((n for n, cell in enumerate(rows[0].findall("td")) if find_date(words_of(cell))), None)
    return at


def _kind(column: str) -> str:
    """A document's kind from the name of the column linking it."""
    if "packet" in column:
        return "packet"
    if "minutes" in column:
        return "minutes"
    if "agenda" in column:
        return "agenda"
    if any(word in column for word in ("video", "audio", "media")):
        return "video"
    return "other"


def parse_calendar(data: bytes, ctx: ListingContext) -> Listing:
    """The grid's rows, each a meeting (see the module's notes). A grid that says "No records to
    display" is an empty listing; a page without the grid is one line saying what it holds."""
    return _listing(html_tree(data), ctx)


@dataclass(frozen=True)
class CalendarView:
    """What a calendar page shows besides its rows, and how to ask for more of them: the period
    chosen in its date range list (the list's own words, "This Month"; None on a page without the
    list, as a department's), the periods the list offers, the list's form field and that of its
    client state (where the list's Telerik control reads the choice on a postback), the value of
    each period (`period_values`, in the list's order, from the control's own script: "All" for
    "All Years", a query for NYC's "Session 2018-2021"; empty where the page gives none), the
    postback target of the grid's next page of rows (None on the last or only page), the day
    of each of this page's rows in the page's order, and whether the grid is sorted by its date
    column (its header marked `rgSorted`)."""

    period: str | None = None
    periods: tuple[str, ...] = ()
    period_field: str | None = None
    period_state_field: str | None = None
    next_page: str | None = None
    days: tuple[date, ...] = ()
    date_sorted: bool = False
    period_values: tuple[str, ...] = ()

    def value_of(self, period: str) -> str:
        """The value the list's item `period` holds, posted in the client state as a browser posts
        it; its own words where the page does not give its values."""
        if len(self.period_values) == len(self.periods) and period in self.periods:
            return self.period_values[self.periods.index(period)]
        return period

    def later_pages_outside(self, start: date, end: date) -> bool:
        """Whether the grid's later pages can hold no day from `start` to `end`: the grid is sorted
        by date (NYC's calendar lists the latest first), this page's rows run that way, and its last
        is already past them."""
        pairs = list(pairwise(self.days))
        if not pairs or not self.date_sorted:
            return False
        if all(a >= b for a, b in pairs):
            return self.days[-1] < start
        if all(a <= b for a, b in pairs):
            return self.days[-1] > end
        return False


_POSTBACK = re.compile(r"__doPostBack\(\s*'([^']+)'")
_CREATE_COMBO = "$create(Telerik.Web.UI.RadComboBox, "
# the pager's current page, found by libxml2 (a grid's rows hold thousands of other links)
_CURRENT_PAGE = etree.XPath(".//a[contains(concat(' ', normalize-space(@class), ' '), ' rgCurrentPage ')]")


def read_calendar(data: bytes, ctx: ListingContext) -> tuple[Listing, CalendarView]:
    """`parse_calendar`'s listing and the page's `calendar_view`, from one tree."""
    root = html_tree(data)
    return _listing(root, ctx), calendar_view(root)


def calendar_view(root: etree._Element) -> CalendarView:
    """The page's date range list (`input#..._lstYears_Input`, its items the `li.rcbItem` of
    `#..._lstYears_DropDown`) and the link after the grid pager's current page
    (`a.rgCurrentPage`), whose `__doPostBack` target asks for the next page."""
    period = field_name = state_field = state_id = None
    periods: tuple[str, ...] = ()
    inputs = {element.get("id"): element for element in root.iter("input") if element.get("id")}
    for ident, element in inputs.items():
        if ident.endswith("_lstYears_Input") and element.get("name"):
            period, field_name = " ".join((element.get("value") or "").split()) or None, element.get("name")
            base = ident.removesuffix("_Input")
            state = inputs.get(state_id := f"{base}_ClientState")
            state_field = state.get("name") if state is not None else None
            periods = tuple(words for box in root.iter("div") if box.get("id") == f"{base}_DropDown"
                            for item in box.iter("li") if (words := words_of(item)))
            break
    next_page = None
    table = _grid(root)
    for current in (_CURRENT_PAGE(table) if table is not None else [])[:1]:
        following = current.getnext()
        while following is not None and following.tag != "a":
            following = following.getnext()
        if following is not None and (target := _POSTBACK.search(unquote(following.get("href") or ""))):
            next_page = target.group(1)  # as a browser runs a `javascript:` address: percent-decoded
    days: tuple[date, ...] = ()
    date_sorted = False
    if table is not None:
        rows = [row for row in table.iter("tr") if _is_row(row)]
        if (at := _date_column(_columns(table), rows)) is not None:
            cells = (list(row.iterchildren("td")) for row in rows)
            days = tuple(day for row_cells in cells if at < len(row_cells)
                         and (day := find_date(words_of(row_cells[at]))) is not None)
            headers = _header_cells(table)
            date_sorted = at < len(headers) and "rgSorted" in (headers[at].get("class") or "").split()
    values = _item_values(root, state_id) if state_field and state_id else ()
    return CalendarView(period, periods, field_name, state_field, next_page, days, date_sorted,
                        values if len(values) == len(periods) else ())


def _item_values(root: etree._Element, state_id: str) -> tuple[str, ...]:
    """The values of the date range list's items, in order, as the page's script creates its
    Telerik control (`$create(Telerik.Web.UI.RadComboBox, {..., "clientStateFieldID": <state_id>,
    "itemData": [{"value": "All"}, ...]}, ...)`, the id of its client state's field); none where
    the script does not say them."""
    marker = f'"clientStateFieldID":"{state_id}"'
    for script in root.iter("script"):
        text = script.text or ""
        if (at := text.find(marker)) < 0 or (start := text.rfind(_CREATE_COMBO, 0, at)) < 0:
            continue
        try:
            options, _ = json.JSONDecoder().raw_decode(text, start + len(_CREATE_COMBO))
        except (ValueError, RecursionError):  # a script nested past Python's limit says no values either
            return ()
        items = options.get("itemData") if isinstance(options, dict) else None
        if isinstance(items, list) and all(isinstance(item, dict) and isinstance(item.get("value"), str)
                                           for item in items):
            return tuple(item["value"] for item in items)
        return ()
    return ()


_MONTH_WORDS = {"last month": -1, "this month": 0, "next month": 1}
_YEAR_WORDS = {"last year": -1, "this year": 0, "next year": 1}
_YEARS = re.compile(r"(?:session\s+)?(\d{4})(?:\s*-\s*(\d{4}))?")
_A_YEAR = timedelta(days=365)  # a period no longer than this is read by its pages, not asked for by its years


def period_span(period: str, today: date) -> tuple[date, date] | None:
    """The days a period of the date range list covers, `today` being the client's day: "All Years",
    "This Year" (and last, next), "This Month" (and last, next), "Today", a year ("2019") or a
    session ("Session 2018-2021"); None for one it does not name plainly (weeks start on a day
    the client chooses)."""
    words = " ".join(period.lower().split())
    if words in ("all years", "all"):
        return date.min, date.max
    if words == "today":
        return today, today
    if words in _YEAR_WORDS:
        year = today.year + _YEAR_WORDS[words]
        return date(year, 1, 1), date(year, 12, 31)
    if words in _MONTH_WORDS:
        month = today.year * 12 + today.month - 1 + _MONTH_WORDS[words]
        first = date(month // 12, month % 12 + 1, 1)
        following = date((month + 1) // 12, (month + 1) % 12 + 1, 1)
        return first, date.fromordinal(following.toordinal() - 1)
    if found := _YEARS.fullmatch(words):
        first, last = int(found.group(1)), int(found.group(2) or found.group(1))
        return (date(first, 1, 1), date(last, 12, 31)) if 1 <= first <= last <= 9999 else None
    return None


def sure_span(period: str, today: date) -> tuple[date, date] | None:
    """`period_span`, when it is the same whichever of yesterday, today and tomorrow the client's
    clock says: Legistar counts "This Month" by its own clock and zone, so on the day a month or
    year turns a relative period may already be the next one."""
    span = period_span(period, today)
    one = timedelta(days=1)
    return span if span == period_span(period, today - one) == period_span(period, today + one) else None


class Asking(NamedTuple):
    """What to ask a calendar page for (`periods_to_ask`): the periods of its list, whether they
    and the page read every day of the window, and whether the page's own period is read through
    its pages (nothing asked, or the page already shows one of the window's years)."""

    periods: list[str]
    whole: bool
    shown: bool


def periods_to_ask(view: CalendarView, start: date, end: date, today: date) -> Asking:
    """The periods of the page's list to ask for so that the days from `start` to `end` are read:
    none when the period shown holds them on one page, or is a year at most (its pages are read:
    asking for the same year again would give the same pages); else each year they touch, by its
    number where the list offers it, else as "Last Year", "This Year" or "Next Year" (a year the
    list does not offer is left out), but the year the page already shows (surely that year on
    the client's clock too): its pages are read; none when the list offers none of them and the
    period shown holds the days (its pages are read)."""
    shown = period_span(view.period, today) if view.period else None
    holds = shown is not None and shown[0] <= start and end <= shown[1]
    if holds and (view.next_page is None or (shown is not None and shown[1] - shown[0] <= _A_YEAR)):
        return Asking([], True, True)
    sure = sure_span(view.period, today) if view.period else None
    own = sure[0].year if sure and sure == (date(sure[0].year, 1, 1), date(sure[0].year, 12, 31)) else None
    offered = {" ".join(period.lower().split()): period for period in view.periods}
    relative = {offset: words for words, offset in _YEAR_WORDS.items()}
    years = range(start.year, end.year + 1)
    asked = [named for year in years
             if year != own and (named := offered.get(str(year)) or offered.get(relative.get(year - today.year, "")))]
    read_shown = not asked or own in years
    if len(asked) + (own in years) == len(years):
        return Asking(asked, True, read_shown)
    return Asking([], True, True) if holds else Asking(asked, False, read_shown)


def _listing(root: etree._Element, ctx: ListingContext) -> Listing:
    table = _grid(root)
    if table is None:
        if any("rgNoRecords" in (row.get("class") or "") for row in root.iter("tr")):
            return Listing([], [])  # the client's period holds no meeting
        raise SourceParseError("no Legistar calendar grid (table.rgMasterTable with tr.rgRow/tr.rgAltRow rows); "
                               f"{page_seen(root)}")
    names = _columns(table)
    rows = [row for row in table.iter("tr") if _is_row(row)]
    where = _Where(_column(names, "name"), _date_column(names, rows), _column(names, "time"),
                   _column(names, "location"), _column(names, "topic"))
    if where.date is None:
        raise SourceParseError(f"a Legistar calendar grid without a date column (columns: {', '.join(names)[:120]})")
    absolute = resolver(ctx.url)
    meetings: dict[str, Meeting] = {}
    problems: list[str] = []
    for n, row in enumerate(rows):
        try:
            meeting = _meeting(row, names, where, ctx, absolute)
            if meeting is not None:
                meetings.setdefault(meeting.source_ref, meeting)
        except Exception as exc:  # one row that cannot be read is that row's problem
            problems.append(row_problem("row", n + 1, words_of(row)[:80], exc))
    return Listing(list(meetings.values()), problems)


class _Where(NamedTuple):
    """The grid's column of each of a meeting's fields (None: the grid has no such column)."""

    name: int | None
    date: int | None
    time: int | None
    location: int | None
    topic: int | None


def _cell(cells: list[etree._Element], at: int | None) -> etree._Element | None:
    """A row's cell in column `at`; None for no column, or a row short of it."""
    return cells[at] if at is not None and at < len(cells) else None


def _meeting(row: etree._Element, names: list[str], where: _Where, ctx: ListingContext,
             absolute: Resolver) -> Meeting | None:
    cells = list(row.iterchildren("td"))  # as findall("td"), without its path's Python steps
    when = words_of(_cell(cells, where.date))
    day = find_date(when)
    if day is None:
        raise ValueError(f"meeting date {when[:40]!r} is not a date")
    if not in_window(ctx, day):
        return None
    name = words_of(_cell(cells, where.name)) or ctx.body
    said_time = words_of(_cell(cells, where.time))
    clock = time_for_day(day, said_time)
    place, note = _place(_cell(cells, where.location))
    topic = words_of(_cell(cells, where.topic))
    documents = DocumentList()
    detail = ical = None  # the first meeting-details link and iCalendar link, as matched
    for at, link, element in _row_links(row, cells, absolute, ctx.url):
        if at == where.name:
            continue  # the body's own page, no document of this meeting
        # A case-blind match in ASCII text holds the pattern's start in lower case: most links (the
        # agenda, the minutes) need no search.
        lowered = link.lower() if link.isascii() else None
        if (lowered is None or _ICAL_STEM in lowered) and (found := _ICAL_ID.search(link)):
            ical = ical or found
            documents.add(link, "iCalendar", "other")
        elif (lowered is None or _EVENT_STEM in lowered) and (found := _EVENT_ID.search(link)):
            detail = detail or found
            documents.add(link, link_label(element) or "Meeting details", "other")
        else:
            header = names[at] if at < len(names) else ""
            documents.add(link, link_label(element) or header or None, _kind(header))
    ref = (detail or ical).group(1) if detail or ical else f"{slug(name)}-{day.isoformat()}"
    # A word in the time cell ("Canceled", "Deferred"), the location or its note calls the meeting off.
    status_words = " ".join(filter(None, (said_time if clock is None else "", place, note)))
    comment = "; ".join(filter(None, (note, topic))) or None
    return meeting_record(
        source="legistar_calendar", ref=ref, body=name, title=name, local=local_start(day, clock), day=day,
        zone=ctx.timezone, comment_text=status_words or None, documents=documents.items, location=place or None,
        comment=comment, url=web_url(detail.string if detail else ctx.url),
        items=title_items(f"{name} {topic}".strip(), ctx.keywords, name))


def _place(cell: etree._Element | None) -> tuple[str, str]:
    """(the location, its note): the note is the cell's `<em>` ("CANCELLED", "Jointly with the
    Committee on Aging"), the location the cell's other words."""
    if cell is None:
        return "", ""
    notes = [text for em in cell.iter("em") if (text := words_of(em))]
    words = words_of(cell)
    for text in notes:
        words = words.replace(text, " ")
    return " ".join(words.split()), " ".join(notes)
