"""NovusAGENDA (Granicus) meeting pages: `https://<site>.novusagenda.com/agendapublic/meetingsgeneral.aspx`
(a Telerik RadGrid, `SearchAgendasMeetings_radGridMeetings`, skinned from `/AgendaPublic/Skins/Novus/`)
or its Bootstrap twin `meetingsresponsive.aspx` (an ASP.NET repeater, `rptMeetings`); the query picks
the bodies and the span (`MeetingType=1&Date=6ms`), so the page watched is the page read.

Both lay a meeting out as one table row under named headers: "Meeting Date" ("09/27/22": a day, no
time), "Meeting Type" (the body: "Council Meeting"), "Meeting Location", then a column for each
document the site publishes: "Online Agenda" (`MeetingView.aspx?MeetingID=N&MinutesMeetingID=M&doctype=Agenda`,
opened by a script in `onclick`), "Download Agenda" (`DisplayAgendaPDF.ashx?MeetingID=N`), "Minutes
Recap" and "Legal Minutes" (`DisplayAgendaPDF.ashx?MinutesMeetingID=M`). N, the meeting's id on the
site, is the meeting's identity; a row linking none yet (no agenda posted) is known by its day and
type. The responsive page repeats a row's place and links in a collapsed row after it (`tr.collapse`),
passed over. A second grid on the page lists agenda items (its headers "Date", "Title"): not meetings.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time

from lxml import etree

from tracker.meetings.normalize import (
    DocumentList,
    SourceParseError,
    find_time,
    in_window,
    label_kind,
    title_items,
)
from tracker.meetings.pages import Resolver, html_tree, page_seen, resolver, row_cells, slug, words_of
from tracker.meetings.portals import meeting_record, read_rows
from tracker.records import Listing, ListingContext, Meeting

# Hosts that are always this platform (a city's own domain may front it: `detect` reads content).
HOST = ".novusagenda.com"
# What marks a page as NovusAGENDA's: its skin's folder, its meetings grid, its repeater's header
# link, its title.
PAGE_MARK = re.compile(r"/AgendaPublic/Skins/Novus/|SearchAgendasMeetings_radGridMeetings"
                       r"|rptMeetings_ctl\d+_lnkMeetingDate|<title>\s*+NovusAGENDA\s*+</title>", re.I)
_DATE = re.compile(r"(?<!\d)(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})(?!\d)")
# The meeting's id in a row's links (`MeetingID=365`, never `MinutesMeetingID=302`).
_MEETING_ID = re.compile(r"[?&]MeetingID=(\d{1,12})(?!\d)", re.I)
# The address a script opens (`window.open('MeetingView.aspx?MeetingID=365&...','ViewHTML',...)`).
_OPENED = re.compile(r"""window\.open\(\s*['"]([^'"]{1,2000})['"]""")
_DATE_HEADER, _TYPE_HEADER, _PLACE_HEADER = "meeting date", "meeting type", "meeting location"


def page_of(url: str) -> bool:
    """Whether an address is a NovusAGENDA meetings page (the page a watch names)."""
    return url.split("?", 1)[0].lower().endswith(("/meetingsgeneral.aspx", "/meetingsresponsive.aspx"))


def _rows(table: etree._Element) -> list[etree._Element]:
    """The table's own rows (not a pager's nested table, not its footer)."""
    return [row for part in [table, *(p for p in table if p.tag in ("thead", "tbody"))] for row in part if row.tag == "tr"]


def _meetings_table(root: etree._Element) -> tuple[list[str], list[str], list[etree._Element]] | None:
    """The table of meetings: its column names (lowered, and as written) and its rows after the header."""
    for table in root.iter("table"):
        rows = _rows(table)
        for n, row in enumerate(rows[:3]):
            cells = row_cells(row)
            if not any(cell.tag == "th" for cell in cells):
                continue
            labels = [words_of(cell) for cell in cells]
            names = [label.lower() for label in labels]
            if _DATE_HEADER in names and _TYPE_HEADER in names:
                return names, labels, rows[n + 1:]
            break
    return None


def parse_meetings(data: bytes, ctx: ListingContext) -> Listing:
    """Every meeting row of a NovusAGENDA meetings page; a row that cannot be read is its own line,
    a page without the meetings table one line naming what it holds."""
    root = html_tree(data)
    found = _meetings_table(root)
    if found is None:
        raise SourceParseError("no NovusAGENDA meeting list (a table headed Meeting Date, Meeting Type): "
                               + page_seen(root))
    names, labels, rows = found
    absolute = resolver(ctx.url)
    meeting_rows = [row for row in rows if _is_meeting_row(row)]
    listing = read_rows(meeting_rows, lambda row, c: _meeting(row, names, labels, c, absolute), ctx,
                        lambda n, row: (f"row {n + 1}", _field(row, names, _TYPE_HEADER)))
    unique: dict[str, Meeting] = {}
    for meeting in listing.meetings:
        unique.setdefault(meeting.source_ref, meeting)
    return Listing(list(unique.values()), listing.problems)


def _is_meeting_row(row: etree._Element) -> bool:
    """Not the responsive page's collapsed repeat of a row, a pager, or "No records to display"."""
    classes = (row.get("class") or "").split()
    if {"collapse", "rgPager", "rgNoRecords", "rgFooter"} & set(classes):
        return False
    cells = row_cells(row)
    return len(cells) > 1 and not any(cell.tag == "th" for cell in cells)


def _cell(row: etree._Element, names: list[str], name: str) -> etree._Element | None:
    cells = row_cells(row)
    return cells[names.index(name)] if name in names and names.index(name) < len(cells) else None


def _field(row: etree._Element, names: list[str], name: str) -> str:
    """A cell's words; of the type cell, the words shown on a wide screen (the responsive page
    writes the name twice, once for a phone)."""
    cell = _cell(row, names, name)
    if cell is None:
        return ""
    wide = next((div for div in cell.iter("div") if "mobile-table-td-div" in (div.get("class") or "").split()), None)
    return words_of(wide if wide is not None else cell)


def _when(text: str) -> tuple[date, time | None]:
    """The day of "09/27/22" (or "09/27/2022"), and a time only where the cell states one."""
    found = _DATE.search(text)
    if found is None:
        raise ValueError(f"date {text[:40]!r} is not a date" if text else "no meeting date")
    month, day, year = (int(part) for part in found.groups())
    if year < 100:
        year += 2000
    try:
        return date(year, month, day), find_time(text)
    except ValueError:
        raise ValueError(f"date {text[:40]!r} is not a date") from None


def _addresses(cell: etree._Element) -> list[str]:
    """The addresses a cell's links open: their `href`, else the page their script opens (a link
    with neither, the responsive page's placeholder, opens nothing)."""
    found = []
    for a in cell.iter("a"):
        href = (a.get("href") or "").strip()
        if href and href != "#" and not href.lower().startswith("javascript:"):
            found.append(href)
        elif (opened := _OPENED.search(a.get("onclick") or "")) is not None:
            found.append(opened.group(1).strip())
    return found


def _meeting(row: etree._Element, names: list[str], labels: list[str], ctx: ListingContext,
             absolute: Resolver) -> Meeting | None:
    day, clock = _when(_field(row, names, _DATE_HEADER))
    if clock is None and (at := next((name for name in names if "time" in name.split()), None)):
        clock = find_time(_field(row, names, at))
    if not in_window(ctx, day):
        return None
    title = _field(row, names, _TYPE_HEADER) or "Meeting"
    documents = DocumentList()
    ids: list[str] = []
    cells = row_cells(row)
    for n, name in enumerate(names):
        if n >= len(cells) or name in (_DATE_HEADER, _TYPE_HEADER, _PLACE_HEADER):
            continue
        for href in _addresses(cells[n]):
            ids.extend(found.group(1) for found in [_MEETING_ID.search(href)] if found)
            documents.add(absolute(href), labels[n] or "Document", label_kind(name))
    ref = ids[0] if ids else f"{day.isoformat()}-{slug(title)}"
    # its page: the agenda as the site shows it online, else the listing
    page = next((doc.url for doc in documents.items if "/meetingview.aspx?" in doc.url.lower()), None)
    place = _field(row, names, _PLACE_HEADER) or None
    return meeting_record(
        source="novusagenda", ref=ref, body=title, title=title,
        local=datetime.combine(day, clock) if clock else None, day=day, zone=ctx.timezone,
        location=place, documents=documents.items, url=page or ctx.url,
        items=title_items(title, ctx.keywords))
