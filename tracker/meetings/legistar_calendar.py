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

The page as served lists the client's default period (often the current month or year): choosing
another year is a form post back to the page, which the tracker does not make.
"""

from __future__ import annotations

import re

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

__all__ = ["GRID_ROWS", "parse_calendar"]

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


def _columns(table: etree._Element) -> list[str]:
    """The grid's column names, lower case, in order ("" for a column that names nothing)."""
    for row in table.iter("tr"):
        cells = [cell for cell in row if cell.tag == "th"]
        if any("rgHeader" in (cell.get("class") or "") for cell in cells):
            return [_header_words(cell).lower() for cell in cells]
    return []


def _column(names: list[str], *words: str) -> int | None:
    """The first column whose name holds one of `words`."""
    return next((n for n, name in enumerate(names) if any(word in name for word in words)), None)


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
    root = html_tree(data)
    table = _grid(root)
    if table is None:
        if any("rgNoRecords" in (row.get("class") or "") for row in root.iter("tr")):
            return Listing([], [])  # the client's period holds no meeting
        raise SourceParseError("no Legistar calendar grid (table.rgMasterTable with tr.rgRow/tr.rgAltRow rows); "
                               f"{page_seen(root)}")
    names = _columns(table)
    rows = [row for row in table.iter("tr") if _is_row(row)]
    where = {"name": _column(names, "name"), "date": _column(names, "date"), "time": _column(names, "time"),
             "location": _column(names, "location"), "topic": _column(names, "topic")}
    if where["date"] is None:  # a header without words (a sort button of no value): the column of dates
        first = rows[0].findall("td")
        where["date"] = next((n for n, cell in enumerate(first) if find_date(words_of(cell))), None)
    if where["date"] is None:
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


def _meeting(row: etree._Element, names: list[str], where: dict[str, int | None], ctx: ListingContext,
             absolute: Resolver) -> Meeting | None:
    cells = list(row.iterchildren("td"))  # as findall("td"), without its path's Python steps

    def cell(key: str) -> etree._Element | None:
        at = where[key]
        return cells[at] if at is not None and at < len(cells) else None

    when = words_of(cell("date"))
    day = find_date(when)
    if day is None:
        raise ValueError(f"meeting date {when[:40]!r} is not a date")
    if not in_window(ctx, day):
        return None
    name = words_of(cell("name")) or ctx.body
    said_time = words_of(cell("time"))
    clock = time_for_day(day, said_time)
    place_cell = cell("location")
    place, note = _place(place_cell)
    topic = words_of(cell("topic"))
    documents = DocumentList()
    detail = ical = None  # the first meeting-details link and iCalendar link, as matched
    for at, link, element in _row_links(row, cells, absolute, ctx.url):
        if at == where["name"]:
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
    status_words = " ".join(words for words in (said_time if clock is None else "", place, note) if words)
    comment = "; ".join(words for words in (note, topic) if words) or None
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
