"""CivicPlus Municode (Drupal) meetings pages: the "Upcoming Meetings" page (`https://<city>/meetings`)
of a small city on CivicPlus' Municipal Drupal CMS (theme `/profiles/contrib/starter8/themes/municode/`,
hosted on Acquia). The site's `/rss.xml` dates its entries by when a page was made, not by when a
meeting sits, so this page is the listing read.

It is a Drupal views table, one meeting a row, its cells classed by field: `views-field-field-smart-date`
("Apr 20, 2026 | 6pm - 6:30pm": the day, the start; a row may write no time), `views-field-title` (the
meeting's name: "CANCELED: Regular CRA Meeting" when it is off), a cell for each kind of document the
site publishes, headed as it labels them ("Agendas", "Agenda Packets", "Minutes": links to `/media/N`,
titled "PDF Agenda for ... | File ID: 3226"), and `views-field-view-node`, the "View Details" link to
the meeting's own page (`/bc-pc/meeting/regular-planning-commission-meeting-5`). That page's path is
the meeting's identity (never its time, so a meeting moved is the same meeting). The path's first
segment is a board's slug ("bc-pc"), not its name: the page names no body, so a meeting's name is its
body. The page lists upcoming meetings only, as one page: it is read as written.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from urllib.parse import urlsplit

from lxml import etree

from tracker.meetings.normalize import (
    DocumentList,
    SourceParseError,
    document_kind,
    find_date,
    in_window,
    label_kind,
    time_for_day,
    title_items,
)
from tracker.meetings.pages import Resolver, html_tree, page_seen, resolver, row_cells, slug, words_of
from tracker.meetings.portals import meeting_record, read_rows
from tracker.records import Listing, ListingContext, Meeting

# What marks the CMS's pages: its theme's folder (its file icons) or its theme's blocks' ids
# (`block-municode-base`, on every page, icons or none).
THEME = re.compile(r"/themes/municode/|\bblock-municode-")
# The meetings table's date column header (a Drupal smart_date field in a views table). Bounded: a
# search starts only at `<th`.
_DATE_HEADER = re.compile(r"<th\b[^<>]{0,500}?views-field-field-smart-date", re.I)
_DATE_FIELD, _TITLE_FIELD, _PAGE_FIELD = "field-smart-date", "title", "view-node"


def is_meetings_page(text: str) -> bool:
    """Whether a page's text is a Municode site's meetings table (the theme's marks and a views
    table headed by the smart-date field): `sources detect` names the platform by it, before the
    links the page holds (a site's menu may link another platform: Mulberry's, its CivicWeb)."""
    return THEME.search(text) is not None and _DATE_HEADER.search(text) is not None


def site_of(title: str | None) -> str | None:
    """The city a page's title names ("Upcoming Meetings | Eagle Lake FL": "Eagle Lake FL")."""
    if not title or "|" not in title:
        return None
    return " ".join(title.rsplit("|", 1)[1].split()) or None


def _field(cell: etree._Element) -> str | None:
    """The views field a cell shows (`views-field-field-smart-date`: "field-smart-date")."""
    return next((name[len("views-field-"):] for name in (cell.get("class") or "").split()
                 if name.startswith("views-field-")), None)


def _meetings_table(root: etree._Element) -> tuple[dict[str, str], list[etree._Element]] | None:
    """The views table of meetings: each field's column label (as written) and its rows."""
    for table in root.iter("table"):
        head = next((row for row in table.iter("tr") if any(cell.tag == "th" for cell in row)), None)
        if head is None:
            continue
        labels = {field: words_of(cell) for cell in row_cells(head) if (field := _field(cell))}
        if _DATE_FIELD in labels:
            rows = [row for row in table.iter("tr") if row is not head and any(cell.tag == "td" for cell in row)]
            return labels, rows
    return None


def parse_meetings(data: bytes, ctx: ListingContext) -> Listing:
    """Every meeting row of a Municode meetings page; a row that cannot be read is its own line, a
    page without the meetings table one line naming what it holds."""
    root = html_tree(data)
    found = _meetings_table(root)
    if found is None:
        raise SourceParseError("no CivicPlus Municode meeting list (a views table with a smart-date column): "
                               + page_seen(root))
    labels, rows = found
    absolute = resolver(ctx.url)
    listing = read_rows(rows, lambda row, c: _meeting(row, labels, c, absolute), ctx,
                        lambda n, row: (f"row {n + 1}", words_of(_cell(row, _TITLE_FIELD))))
    unique: dict[str, Meeting] = {}
    for meeting in listing.meetings:
        unique.setdefault(meeting.source_ref, meeting)
    return Listing(list(unique.values()), listing.problems)


def _cell(row: etree._Element, field: str) -> etree._Element | None:
    return next((cell for cell in row_cells(row) if _field(cell) == field), None)


def _when(text: str) -> tuple[date, time | None]:
    """The day of "Apr 20, 2026 | 6pm - 6:30pm", and its start where the cell writes one."""
    day = find_date(text)
    if day is None:
        raise ValueError(f"date {text[:40]!r} is not a date" if text else "no meeting date")
    return day, time_for_day(day, text)


def _kind(column: str, link: etree._Element, url: str) -> str:
    """A document's kind: its column's ("Agenda Packets"), else its link's title's ("PDF Agenda for
    ..."; a column "Agendas" is no label `label_kind` knows), else its address's."""
    for label in (column, column.rstrip("sS"), (link.get("title") or "").split(" for ", 1)[0]):
        if label and (kind := label_kind(label)) != "other":
            return kind
    return document_kind(url, column)


def _meeting(row: etree._Element, labels: dict[str, str], ctx: ListingContext, absolute: Resolver) -> Meeting | None:
    day, clock = _when(words_of(_cell(row, _DATE_FIELD)))
    if not in_window(ctx, day):
        return None
    title = words_of(_cell(row, _TITLE_FIELD)) or "Meeting"
    documents = DocumentList()
    page: str | None = None
    for cell in row_cells(row):
        field = _field(cell)
        if field in (_DATE_FIELD, _TITLE_FIELD):
            continue
        for a in cell.iter("a"):
            href = (a.get("href") or "").strip()
            if not href or href.startswith("#") or href.lower().startswith(("javascript:", "mailto:")):
                continue
            url = absolute(href)
            if field == _PAGE_FIELD:
                page = page or url
                continue
            column = labels.get(field or "", "") or "Document"
            documents.add(url, column, _kind(column, a, url))
    path = urlsplit(page).path.rstrip("/") if page else ""
    ref = path or f"{day.isoformat()}-{slug(title)}"
    return meeting_record(
        source="municode", ref=ref, body=title, title=title,
        local=datetime.combine(day, clock) if clock else None, day=day, zone=ctx.timezone,
        documents=documents.items, url=page or ctx.url, items=title_items(title, ctx.keywords))
