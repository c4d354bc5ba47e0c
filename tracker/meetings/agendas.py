"""Agenda publishers read from their pages or feeds: CivicPlus AgendaCenter (HTML), Granicus
ViewPublisher (HTML) and RSS/Atom agenda feeds (feedparser). Meetings come out in the shared shape
(see tracker/meetings/ical.py), keyed by the publisher's own id, never the start time:

- CivicPlus: the agenda id of the `ViewFile/Agenda/_MMDDYYYY-ID` link (`ID`); the agenda and the
  minutes of one meeting share it.
- Granicus: `event-N` / `clip-N` from the `event_id` / `clip_id` of the row's links (prefixed: the
  two are separate number series and one page can carry both); a row with no link keeps only its
  own row id, or its name and date (a moved meeting without an agenda looks like a new one).
- Feeds: the publisher's id when the entry's link carries one (as above), else the entry's
  id/guid, else its link. An agenda entry and a minutes entry of one meeting become one meeting.

Each platform's page comes in several layouts real sites serve (see `_granicus_rows` and
`parse_civicplus`); a page in none of them is one line naming what the page holds. A district's own
table of meetings that plays them on Granicus (LAUSD's: date and time, meeting, agenda, video, the
meeting's page) is read as a Granicus listing too. One row that
cannot be read is that row's problem line; the other rows are read.

Times on these pages are local wall-clock times in the watch's zone; `start` is stored in UTC. A
time is taken only where the page writes one (in the date cell or the meeting's own name); a
meeting without a written time is `time_tbd` with `start` None.

Pages are read with lxml directly (one tree, one pass over the rows): a 500-row page is parsed in
a few milliseconds, where a selector query per row took seconds on the largest real pages.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import re
import threading
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import feedparser
import lxml.html
from lxml import etree

from tracker.meetings.normalize import (
    DocumentList,
    SourceParseError,
    document_kind,
    find_date,
    find_date_near,
    find_time,
    in_window,
    join_url,
    place_in_name,
    place_line,
    time_for_day,
    title_items,
    utc_iso,
    whole_weeks,
)
from tracker.meetings.pages import (
    Resolver,
    has_class,
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
from tracker.safexml import REFUSED, declared_in_bytes, html_instead, parse_xml

log = logging.getLogger(__name__)

__all__ = ["civicplus_search_url", "find_date", "find_time", "parse_civicplus", "parse_feed", "parse_granicus"]

NO_ROWS = "no meeting rows found"
_CIVICPLUS_FILE = re.compile(r"/ViewFile/(Agenda|Minutes)/_(\d{2})(\d{2})(\d{4})-(\d+)", re.I)
_CIVICPLUS_ANCHOR = re.compile(r"^_(\d{2})(\d{2})(\d{4})-(\d+)$")
_GRANICUS_ID = re.compile(r"[?&](event_id|clip_id)=(\d+)", re.I)
_POSTED = re.compile(r"\b(?:Posted|Amended)\s+(.+?\d{4}(?:\s+\d{1,2}:\d\d\s*[AP]M)?)", re.I)
_POSTED_WORD = re.compile(r"\b(?:Posted|Amended)\s", re.I)  # where a match of `_POSTED` can start
_LAST_FOUR_DIGITS = re.compile(r".*(\d{4})", re.S)  # its group: the last four digits (the start furthest on)
# (Blanks possessive: "\s*\(?\s*" tried every split of a run of them between its halves, n² steps.)
_OPENING = r"""(?:window\.open|location(?:\.href)?\s*+=|location\.assign)\s*+\(?\s*+['"]([^'"]+)['"]"""  # (in lower case)
_OPENED = re.compile(_OPENING, re.I)
# `_OPENED` for an ASCII onclick in lower case: the same matches at the same places (in ASCII, case
# folding is lower case), each address then cut from the onclick as written; half the cost of the
# case-blind search, which folds every character it compares.
_OPENED_LOWER = re.compile(_OPENING)
# RTA: "Finance Committee on 2018-06-21 - (8:30 a.m.)". Tried only from the first of a run of blanks
# (from a later one it goes on as from the first, which failed: tried from each, n² steps).
_ON_DATE = re.compile(r"(?!(?<=\s)\s)\s++on\s+\d{4}-\d\d-\d\d.*$")

def _links(node: etree._Element, absolute: Resolver) -> list[tuple[str, etree._Element]]:
    """(absolute address, the element) of every link in `node`: `href`s, and the addresses a
    button or a `javascript:` link opens in its `onclick` (Granicus video and agenda buttons). The
    label is read (`link_label`) only for the links kept."""
    found = []
    for element in node.iter("a", "input", "button"):
        if (href := (element.get("href") or "").strip()) and not href.startswith(("#", "javascript:", "mailto:")):
            found.append((absolute(href), element))
        if onclick := element.get("onclick"):
            for target in _opened(onclick):
                found.append((absolute(target.strip()), element))
    return found


def _posted_in(words: str) -> re.Match[str] | None:
    """`_POSTED.search(words)` of a heading's words (`words_of`: one line), in linear time. A match
    starts at a "Posted"/"Amended" and a blank (`_POSTED_WORD`) with four digits starting two
    characters or more after that blank, on its line; the first such word has them if any has, so
    only it is tried (the search tried each, reading to the end from each: n² steps)."""
    if "\n" in words or "\r" in words:
        return _POSTED.search(words)  # not a heading's words: searched as it was
    if (word := _POSTED_WORD.search(words)) is None:
        return None
    digits = _LAST_FOUR_DIGITS.match(words, word.end())
    return _POSTED.search(words, word.start()) if digits and digits.start(1) >= word.end() + 1 else None


def _opened(onclick: str) -> list[str]:
    """The addresses an `onclick` opens. Most open none (menus, toggles: CivicPlus has one a row),
    which the characters and words `_OPENED` needs tell before its search: each of its forms holds
    a "." or an "=" (no case folding touches those), and in ASCII its words in lower case."""
    if "." not in onclick and "=" not in onclick:
        return []
    if not onclick.isascii():
        return _OPENED.findall(onclick)
    lowered = onclick.lower()
    if "window.open" not in lowered and "location" not in lowered:
        return []
    return [onclick[m.start(1):m.end(1)] for m in _OPENED_LOWER.finditer(lowered)]


# -- CivicPlus AgendaCenter -----------------------------------------------------------------------

def _civicplus_file(link: str | None) -> tuple[str, str, date | None] | None:
    """("agenda" | "minutes", agenda id, meeting date) from a CivicPlus `ViewFile` link."""
    m = _CIVICPLUS_FILE.search(link or "")
    if not m:
        return None
    kind, month, day, year, ref = m.groups()
    return kind.lower(), ref, _safe_day(int(year), int(month), int(day))


def _safe_day(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _posted(text: str, zone: str) -> str:
    """"Nov 16, 2020 11:47 AM" (local) as a UTC instant; a date alone as its ISO date."""
    text = " ".join(text.split())
    day = find_date(text)
    if day is None:
        return text
    clock = find_time(text)
    return utc_iso(datetime.combine(day, clock), zone) if clock else day.isoformat()


def civicplus_search_url(url: str, start: date, end: date) -> str:
    """The AgendaCenter search covering [start, end] in whole weeks (`whole_weeks`: the address,
    and with it the conditional GET, stays the same from Monday to Sunday). The AgendaCenter home page shows one
    year per body and only the first rows of each, so it is no complete listing of the window; the
    search lists every agenda whose meeting date is in the range. A search URL that already names
    its dates, or any other page, is fetched as given."""
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    if path.lower().endswith("/agendacenter"):
        path, query = path + "/Search/", {}
    elif not path.lower().endswith("/agendacenter/search") or "startDate" in query or "endDate" in query:
        return url
    else:
        path += "/"  # the address AgendaCenter itself links to
    first, last = whole_weeks(start, end)
    query = {"term": query.get("term", ""), "CIDs": query.get("CIDs", "all"),
             "startDate": f"{first.month:02d}/{first.day:02d}/{first.year}",
             "endDate": f"{last.month:02d}/{last.day:02d}/{last.year}", "dateRange": "", "dateSelector": ""}
    return urlunsplit((parts.scheme, parts.netloc, path, urlencode(query, safe="/,"), ""))


def _civicplus_group(row: etree._Element, cache: dict[Any, str]) -> str:
    """The body a row is listed under: the heading that opens its category panel (2024 layout:
    `<h3 aria-controls="category-panel-3">`, under a department `<h2>`), else the `<h2>` of its
    `div.listing` (older layouts), if the page has one."""
    table = row.getparent()  # the rows of one table share their group: found once
    if table is not None and table in cache:
        return cache[table]
    cache[table] = group = _find_group(row, cache)
    return group


# The first `<h2>` in an element (`next(iter("h2"))` would read on through the whole listing for a second).
_FIRST_H2 = etree.XPath("descendant::h2[1]", regexp=False)


def _find_group(row: etree._Element, cache: dict[Any, str]) -> str:
    for ancestor in row.iterancestors("div"):
        if (panel := ancestor.get("id") or "").startswith("category-panel"):
            if "panels" not in cache:  # the page's panel headings, read once (only 2024 layouts have panels)
                cache["panels"] = {el.get("aria-controls"): words_of(el) for el in row.getroottree().iter("h2", "h3", "h4")
                                   if el.get("aria-controls")}
            if cache["panels"].get(panel):
                return cache["panels"][panel].strip("▼►▲◄▾▸ ")
    for ancestor in row.iterancestors("div"):
        if "listing" in (ancestor.get("class") or ""):
            if ancestor not in cache:
                heading = next(iter(_FIRST_H2(ancestor)), None)
                cache[ancestor] = words_of(heading).strip("▼►▲◄▾▸ ")  # the toggle arrow is no part of the name
            return cache[ancestor]
    return ""


def parse_civicplus(data: bytes, ctx: ListingContext) -> Listing:
    """AgendaCenter search, home or category page: one `tr.catAgendaRow` per meeting, grouped under
    body headings. Layouts: the agenda link in the row's heading (`h4 a[href*=ViewFile]`, to 2021),
    or the heading holding only the date and an anchor `_MMDDYYYY-ID` with the link in the row's
    `<p>` (2022 on, `h3` or `h4`). The meeting date is the one in the agenda link (the title's own
    words may disagree); the title is the row's `<p>`, its time only one the title states. A search
    that says "No results found" has no meeting in its dates, and an Agenda Center with no category
    has none at all (`_no_category`): empty listings, not a layout change."""
    root = html_tree(data)
    rows = [row for row in root.iter("tr") if has_class(row, "catAgendaRow")]
    if not rows and any(words_of(node).lower().startswith("no results found") for node in root.iter("p")
                        if has_class(node, "results")):
        return Listing([], [])  # the search's own answer: no agenda in its dates (a quiet body's window)
    if not rows and _no_category(root):
        return Listing([], [])  # an Agenda Center that publishes nothing yet (Larkspur, CA)
    if not rows:
        raise SourceParseError(f"{NO_ROWS}: no AgendaCenter rows (tr.catAgendaRow); {page_seen(root)}")
    meetings: dict[str, Meeting] = {}
    problems: list[str] = []
    groups: dict[Any, str] = {}
    absolute = resolver(ctx.url)
    recognised = 0
    for n, row in enumerate(rows):
        try:
            found, meeting = _civicplus_row(row, ctx, groups, absolute)
            recognised += found
            if meeting is not None:
                meetings.setdefault(meeting.source_ref, meeting)
        except Exception as exc:  # one row that cannot be read is that row's problem
            cell = next(row.iter("td"), None)
            problems.append(row_problem("agenda row", n + 1, words_of(next(cell.iter("p"), None)) if cell is not None
                                        else words_of(row), exc))
    if not recognised and not problems:
        raise SourceParseError(f"{len(rows)} AgendaCenter rows (tr.catAgendaRow) but none with an agenda link "
                               "(ViewFile/Agenda/_MMDDYYYY-ID) or anchor: the page layout may have changed")
    return Listing(list(meetings.values()), problems)


def _no_category(root: etree._Element) -> bool:
    """Whether the page is an Agenda Center with no category, so no agenda: its module
    (`#AgendaCenterContent`) and the search form's category list (`#categoryList`) are there, the list
    offers only its "All Categories" box (every other Agenda Center lists one `chkCategoryID` box a
    category, each row being in a category), and the module holds no table. A list naming a category
    over a page without rows is still refused: that is a changed layout, not a quiet site."""
    content = next((div for div in root.iter("div") if div.get("id") == "AgendaCenterContent"), None)
    if content is None or next(content.iter("table", "tr"), None) is not None:
        return False
    lists = [div for div in content.iter("div") if div.get("id") == "categoryList"]
    if len(lists) != 1:
        return False
    boxes = [box.get("id") or box.get("name") or "" for box in lists[0].iter("input")]
    return boxes == ["allCategories"]


def _civicplus_row(row: etree._Element, ctx: ListingContext, groups: dict[Any, str],
                   absolute: Resolver) -> tuple[bool, Meeting | None]:
    """(whether the row names an agenda, its meeting if in the window)."""
    cell = next(row.iter("td"), None)
    if cell is None:
        return False, None
    agenda = None
    links = _links(row, absolute)
    for link, _element in links:  # the first: the heading's or the paragraph's (the first cell comes first)
        if (found := _civicplus_file(link)) and found[0] == "agenda":
            agenda = (link, found)
            break
    if agenda is None:  # 2022 layout without a link in the first cell: its anchor names the agenda
        for anchor in cell.iter("a"):
            if m := _CIVICPLUS_ANCHOR.match(anchor.get("name") or anchor.get("id") or ""):
                link = urljoin(ctx.url, f"/AgendaCenter/ViewFile/Agenda/_{m.group(1)}{m.group(2)}{m.group(3)}-{m.group(4)}")
                agenda = (link, ("agenda", m.group(4), _safe_day(int(m.group(3)), int(m.group(1)), int(m.group(2)))))
                break
    if agenda is None:
        return False, None
    link, agenda_file = agenda
    _, ref, day = agenda_file
    if day is None:
        raise ValueError(f"the date in its agenda link ({link.rsplit('/', 1)[-1][:40]}) is not a date")
    if not in_window(ctx, day):
        return True, None
    heading = next(cell.iter("h4", "h3", "h2"), None)
    paragraph = next(cell.iter("p"), None)
    title = words_of(paragraph) or (heading.get("title") if heading is not None else "") or "Meeting"
    documents = DocumentList()
    documents.add(link.split("?")[0], "Agenda", "agenda")
    for other, element in links:
        lowered = other.lower()
        if "/previousversions/" in lowered or other in documents:
            continue  # the list of earlier versions is no document; a link listed twice is one
        if "packet=true" in lowered:
            documents.add(other, link_label(element) or "Packet", "packet")
        elif (found := agenda_file if other == link else _civicplus_file(other)) and found[1] == ref:
            documents.add(other, link_label(element) or found[0].title(), "agenda" if found[0] == "agenda" else "minutes")
        else:
            documents.add(other, link_label(element))
    posted = _posted_in(words_of(heading))
    return True, meeting_record(
        source="civicplus", ref=ref, body=_civicplus_group(row, groups) or ctx.body, title=title,
        local=local_start(day, time_for_day(day, title)), day=day, zone=ctx.timezone, comment_text=title,
        documents=documents.items,
        agenda_posted=_posted(posted.group(1), ctx.timezone) if posted else None,
        url=web_url(link), items=title_items(title, ctx.keywords))


# -- Granicus ViewPublisher -----------------------------------------------------------------------

def _granicus_ref(links: Iterable[str]) -> str | None:
    """`event-N` or `clip-N` from the first Granicus link that names one."""
    for link in links:
        if m := _GRANICUS_ID.search(link or ""):
            return f"{m.group(1).lower().removesuffix('_id')}-{m.group(2)}"
    return None


def _named_cells(cells: list[etree._Element]) -> tuple[etree._Element | None, etree._Element | None]:
    """(the name cell, the date cell): the first cell whose `headers` (default template) starts with,
    or whose class (custom templates) holds, "name" / "date" ("EventDate Regular-Board-Meeting",
    class="name"), each of the two found in one pass over the cells."""
    name_cell = date_cell = None
    for cell in cells:
        headers = (cell.get("headers") or "").split(None, 1)
        said = [headers[0].lower()] if headers else []
        if classes := cell.get("class"):
            said += classes.lower().split()  # (lower case changes no white space)
        if name_cell is None and ("name" in said or "eventname" in said):
            name_cell = cell
        if date_cell is None and ("date" in said or "eventdate" in said):
            date_cell = cell
        if name_cell is not None and date_cell is not None:
            break
    return name_cell, date_cell


def _granicus_rows(root: etree._Element) -> tuple[list[etree._Element], list[str]]:
    """The meeting rows of each layout real ViewPublisher pages use, in page order, and the names
    of the layouts found:
    - default template: `table.listingTable` rows (`tr.listingRow`, or `tr.odd`/`tr.even`);
    - custom "upcoming" blocks: `div#upcoming` / `div.archive` holding `div.row[id]`;
    - San Diego's archive tables: `tr.shade` / `tr.noshade` with a `td.name`."""
    rows: list[etree._Element] = []
    layouts: list[str] = []
    seen: set[int] = set()

    def take(found: Iterable[etree._Element], name: str) -> None:
        added = [row for row in found if id(row) not in seen]
        if added:
            layouts.append(name)
            seen.update(id(row) for row in added)
            rows.extend(added)

    listing, shaded = [], []  # the table rows of both layouts, read in one pass over the page's rows
    for row in root.iter("tr"):
        # rows of a listing table; a malformed page can leave them outside any table in the parsed
        # tree, where their `listItem` cells still mark them
        if (has_class(row, "listingRow") or any(has_class(td, "listItem") for td in row.iterchildren("td"))
                or (row.find("td") is not None and any(has_class(t, "listingTable") for t in row.iterancestors("table")))):
            listing.append(row)
        elif (has_class(row, "shade") or has_class(row, "noshade")) and any(has_class(td, "name") for td in row.iter("td")):
            shaded.append(row)
    take(listing, "listingTable")
    take((div for block in root.iter("div") if block.get("id") == "upcoming" or has_class(block, "archive")
          for div in block.iter("div") if div.get("id") and has_class(div, "row")), "upcoming rows")
    take(shaded, "shade rows")
    if not rows:  # no ViewPublisher template: a site's own table of meetings playing Granicus video
        take((row for table in root.iter("table") if _links_granicus(table)
              for row in table.iter("tr") if len(row.findall("td")) >= 3), _SITE_TABLE)
    if len(layouts) > 1:  # rows of several layouts: back in page order
        rows.sort(key=_document_order(root))
    return rows, layouts


_SITE_TABLE = "a site's table linking Granicus"


def _links_granicus(table: etree._Element) -> bool:
    """Whether rows of `table` (not of a table inside it) link two Granicus players or agendas: a
    district's own list of meetings (LAUSD: date, meeting, agenda PDF, video, event page)."""
    rows = sum(1 for row in table.iter("tr") if next(row.iterancestors("table"), None) is table
               and any("granicus.com/" in (a.get("href") or "").lower() for a in row.iter("a")))
    return rows >= 2


def _site_table_row(cells: list[etree._Element], day: date | None = None) -> tuple[etree._Element | None, str]:
    """(its date cell, the meeting's name) of a site's own table row: the first cell holding a
    date, and the first other cell of words without a link (the meeting, "Committee of the Whole")."""
    date_cell = next((cell for cell in cells if find_date(words_of(cell))), None)
    name = next((text for cell in cells if cell is not date_cell and cell.find(".//a") is None
                 and (text := words_of(cell))), "")
    return date_cell, name


def _document_order(root: etree._Element) -> Any:
    order = {id(node): n for n, node in enumerate(root.iter())}
    return lambda node: order.get(id(node), 0)


def parse_granicus(data: bytes, ctx: ListingContext) -> Listing:
    """ViewPublisher listing in any of its layouts (see `_granicus_rows`): a row per event or clip,
    with every agenda, minutes, packet and video link it gives (video buttons open their player in
    an `onclick`). A row listed twice is one meeting."""
    root = html_tree(data)
    rows, layouts = _granicus_rows(root)
    if not rows:
        raise SourceParseError(f"{NO_ROWS}: no Granicus listing rows (table.listingTable, tr.listingRow, "
                               f"tr.odd/even, div#upcoming .row, tr.shade, a table linking Granicus video); "
                               f"{page_seen(root)}")
    meetings: dict[str, Meeting] = {}
    problems: list[str] = []
    dated = 0
    absolute = resolver(ctx.url)
    site_table = layouts == [_SITE_TABLE]
    for n, row in enumerate(rows):
        try:
            found, meeting = (_site_table_meeting if site_table else _granicus_row)(row, ctx, absolute)
            dated += found
            if meeting is not None:
                meetings.setdefault(meeting.source_ref, meeting)
        except Exception as exc:  # one row that cannot be read is that row's problem
            problems.append(row_problem("row", row.get("id") or n + 1, words_of(row)[:80], exc))
    if not dated and not problems:
        raise SourceParseError(f"{len(rows)} Granicus rows ({', '.join(layouts)}) but none with a date: "
                               "the page layout may have changed")
    return Listing(_linkless_twins_dropped(list(meetings.values())), problems)


def _linkless_twins_dropped(meetings: list[Meeting]) -> list[Meeting]:
    """The meetings without a row known only by its name and day (no link names it, `row-...`) that
    repeats another's name, day and time: Winter Haven's page lists its City Commission of September
    10, 2025 twice, a row without links and the row of its clip. One body does not sit twice at once."""
    linked = {(m.title, m.date, m.start) for m in meetings if not m.source_ref.startswith("row-")}
    if not linked:
        return meetings
    return [m for m in meetings if not (m.source_ref.startswith("row-") and (m.title, m.date, m.start) in linked)]


# The `data-event-id` of a row's links (read without an element object for each of its links).
_EVENT_IDS = etree.XPath("descendant-or-self::a/@data-event-id", smart_strings=False, regexp=False)


def _event_ref(row: etree._Element) -> str | None:
    """`event-N` of the first eComment button in the row naming an upcoming event (without a link
    naming it); asked only of a row whose links name no event or clip."""
    for event in _EVENT_IDS(row):
        if event.isdigit() and event != "0":
            return f"event-{event}"
    return None


def _granicus_row(row: etree._Element, ctx: ListingContext, absolute: Resolver) -> tuple[bool, Meeting | None]:
    """(whether the row has a date, its meeting if in the window)."""
    if row.tag == "tr":
        cells = list(row.iterchildren("td"))
        name_cell, date_cell = _named_cells(cells)
        if name_cell is None and cells:
            name_cell = cells[0]
    else:  # a custom block row: the name is the `.committee` span
        name_cell = next((el for el in row.iter() if has_class(el, "committee")), None)
        date_cell = None
    name = words_of(name_cell) or words_of(row)
    when = words_of(date_cell) if date_cell is not None else words_of(row)  # no date column: the row's words
    day = find_date(when) or find_date(name)
    if day is None:
        # A meeting's row whose date cell holds figures that are no date ("02/30/2023") is its problem;
        # one whose cell holds none is no dated meeting (Tulsa's live meeting says "In Progress").
        if date_cell is not None and any(c.isdigit() for c in when) \
                and _granicus_ref(link for link, _element in _links(row, absolute)):
            raise ValueError(f"no date in {_shown_words(when)}")
        return False, None  # a heading, search or separator row
    if not in_window(ctx, day):
        return True, None
    documents = DocumentList()
    for link, element in _links(row, absolute):
        if link not in documents:
            documents.add(link, link_label(element))
    ref = (_granicus_ref(doc.url for doc in documents.items) or _event_ref(row)
           or (f"row-{row.get('id')}" if row.get("id") else f"row-{slug(name)}-{day.isoformat()}"))
    title = _ON_DATE.sub("", name).strip() or name
    clock = time_for_day(day, when) if date_cell is not None else None
    # else the time the name states, or the row's words (a date cell's words are read above: no time)
    clock = _announced(clock, day, name) if clock else time_for_day(day, name, when if date_cell is None else None)
    return True, meeting_record(
        source="granicus", ref=ref, body=ctx.body, title=title, local=local_start(day, clock),
        day=day, zone=ctx.timezone, comment_text=name, documents=documents.items, url=_page_url(ctx.url),
        location=place_in_name(name), items=title_items(name, ctx.keywords))


# A clip's date cell holds when its recording began ("May 13, 2026 - 01:57 PM"); Granicus names the
# event by its scheduled start ("Housing & Redevelopment Authority on 2026-05-13 2:00 PM", Saint
# Paul's archive). Within this many minutes the two are one start, said as announced (a row's time
# does not move when its event becomes a clip); further apart, the event moved and the cell is right.
_RECORDING_LEAD = 15


def _announced(clock: time, day: date, name: str) -> time:
    """The start a row's name announces for its day ("... on 2026-05-13 2:00 PM") where the date
    cell's `clock` is within `_RECORDING_LEAD` minutes of it, else `clock`."""
    said = _ON_DATE.search(name)
    if said is None or find_date(said.group(0)) != day or (named := find_time(said.group(0))) is None:
        return clock
    apart = abs((named.hour * 60 + named.minute) - (clock.hour * 60 + clock.minute))
    return named if apart <= _RECORDING_LEAD else clock


def _site_table_meeting(row: etree._Element, ctx: ListingContext, absolute: Resolver) -> tuple[bool, Meeting | None]:
    """A row of a site's own table of meetings (see `_links_granicus`): its date cell gives the day
    and the time it states ("02/24/22 - 4 p.m."), a cell of words the meeting; a cancellation may
    be written in any cell ("Meeting Canceled" where the agenda would be). Its id is the meeting's
    own page that the date links to (stable when a live link becomes the clip; else its name), with
    its day and time."""
    cells = row.findall("td")
    date_cell, name = _site_table_row(cells)
    when = words_of(date_cell)
    day = find_date(when)
    if day is None:
        return False, None  # a heading row
    if not in_window(ctx, day):
        return True, None
    documents = DocumentList()
    for link, element in _links(row, absolute):
        if link not in documents:
            documents.add(link, link_label(element))
    clock = time_for_day(day, when)
    page = next((absolute(href) for a in date_cell.iter("a") if (href := (a.get("href") or "").strip())
                 and not href.startswith(("#", "javascript:", "mailto:"))), None) if date_cell is not None else None
    own = urlsplit(page).path.strip("/") if page else ""
    ref = (f"page-{own}" if own else f"row-{slug(name)}") + f"-{day.isoformat()}" + (
        f"-{clock.strftime('%H%M')}" if clock else "")  # a page linked from two rows (a copy slip) is two
    title = name or "Meeting"
    return True, meeting_record(
        source="granicus", ref=ref, body=ctx.body, title=title, local=local_start(day, clock), day=day,
        zone=ctx.timezone, comment_text=words_of(row), documents=documents.items, url=web_url(page or ctx.url),
        items=title_items(title, ctx.keywords))


def _shown_words(words: str) -> str:
    """Words of a cell quoted for a problem line: at most 40 characters, "an empty cell" for none."""
    return repr(words[:39] + "…" if len(words) > 40 else words) if words else "an empty cell"


@functools.lru_cache(maxsize=64)
def _page_url(url: str) -> str | None:
    """The listing's own address as its meetings' link (the same on every row: checked once)."""
    return web_url(url)


# -- RSS/Atom feeds -------------------------------------------------------------------------------

def _feed_error(data: bytes, parsed: Any) -> str | None:
    """Why `data` is no usable feed (one line), or None. An HTML page is named as such: servers
    answer an outage or a moved feed with an HTML page and status 200."""
    if problem := html_instead(data, "an RSS/Atom feed"):
        return problem
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if parsed.entries:
        return None
    if not parsed.get("version"):
        if b"<html" in head:
            return "an HTML page, not an RSS/Atom feed (the server may be showing an error page)"
        if parsed.bozo:
            problem = str(parsed.get("bozo_exception") or "unreadable").splitlines()[0]
            return f"not a readable RSS/Atom feed: {problem}"
        return "not an RSS/Atom feed"
    if parsed.bozo:
        problem = str(parsed.get("bozo_exception") or "unreadable").splitlines()[0]
        return f"not a readable RSS/Atom feed: {problem}"
    return None


# Why a feed entry's own date is not its meeting's (`_entry_day`).
_GRANICUS_OWN_DATE = "a Granicus feed's own dates are its video's or its agenda's posting's"
_AGENDA_CENTER_OWN_DATE = "an Agenda Center feed's own date is its agenda's posting or last edit"
_PAGE_OWN_DATE = "a Drupal site's feed dates each item by when its page was made"
# A Drupal site's item fields that say who made its page and when (Eagle Lake, Mulberry and Polk
# City, FL's meeting feeds: "Mon, 04/13/2026 - 3:21 PM", the page's, never the meeting's)
_DRUPAL_STAMPS = ("field--name-created", "field--name-changed", "field--name-uid")


def _entry_day(entry: Any, texts: list[str], link_day: date | None, zone: str,
               link: str | None = None) -> tuple[date | None, str | None]:
    """The meeting's date: the publisher's structured date (a CivicPlus link), the date written in
    the title or summary (one with no year, "Monday April 6th", in the year nearest the entry's own
    date), else the entry's own date in the zone; and, where that own date is no meeting's, why: a
    Granicus entry's (`gran:pubDateParts`) is its video clip's (at times days after the meeting) or
    its agenda's posting (days before); a CivicPlus Agenda Center entry's is its agenda's posting or
    last edit (Lake Alfred's "City Commission Regular Meeting Materials", posted the day after)."""
    if link_day:
        return link_day, None
    parts = next((value for key, value in entry.items() if key.endswith("_pubdateparts") and value is not None), None)
    for text in texts:
        if day := find_date(text):
            return day, None
    own = None
    if isinstance(parts, dict):
        with contextlib.suppress(KeyError, ValueError):
            own = date(int(parts["yr"]), int(parts["mo"]), int(parts["day"]))
    stamp = entry.get("published_parsed") or entry.get("updated_parsed")
    if own is None and stamp:
        own = datetime(*stamp[:6], tzinfo=UTC).astimezone(ZoneInfo(zone)).date()
    if own is not None:
        for text in texts:
            if day := find_date_near(text, own):
                return day, None
    if parts is not None:
        return own, _GRANICUS_OWN_DATE
    if "/agendacenter/" in (link or "").lower():
        return own, _AGENDA_CENTER_OWN_DATE
    if _DRUPAL_STAMPS[0] in str(entry.get("summary") or ""):
        return own, _PAGE_OWN_DATE
    return own, None


_NEAR = timedelta(days=14)  # how far a Granicus entry's own date may be from its meeting's


_THREAD = threading.local()


def _summary_parser() -> lxml.html.HTMLParser:
    """This thread's parser of summaries (9 µs to make, so not one a summary): lxml.html's shared
    one is locked while it reads, so a feed left stalling it (`spiders.base.read_in_time`) would
    hold every later feed; each reading runs on a thread of its own."""
    parser = getattr(_THREAD, "summaries", None)
    if parser is None:
        parser = _THREAD.summaries = lxml.html.HTMLParser()
    return parser


def _summary_text(entry: Any) -> str:
    """An entry's description as words; a Drupal page's own stamps (`_DRUPAL_STAMPS`) left out."""
    summary = str(entry.get("summary") or "")
    if "<" not in summary:
        return " ".join(summary.split())
    try:
        root = lxml.html.fragment_fromstring(summary, create_parent="div", parser=_summary_parser())
    except (etree.ParserError, ValueError):
        return " ".join(_tags_out(summary).split())
    if "field--name-" in summary:
        for stamp in [el for el in root.iter() if any(name in (el.get("class") or "") for name in _DRUPAL_STAMPS)]:
            if stamp.getparent() is not None:
                stamp.drop_tree()  # its tail (the text after it) is not the field's: kept
    return words_of(root)


def _tags_out(text: str) -> str:
    """`re.sub(r"<[^>]*>", " ", text)`, in linear time: no tag ends after the last ">", and the
    search for one from each "<" there read on to the end (n² steps for n of them)."""
    last = text.rfind(">") + 1
    return re.sub(r"<[^>]*>", " ", text[:last]) + text[last:]


_ATOM = "{http://www.w3.org/2005/Atom}"
# A CivicPlus feed's guid is its item's link and when the item was last edited, in .NET ticks
# ("https://www.lakewalesfl.gov/Calendar.aspx?EID=11729/639090785810000000": March 14, 2026,
# 09:49:41, its pubDate; a Media Center video's `CivicMedia?VID=285/6391...`, an event linking
# Eventbrite's page likewise): an item keyed by it would be a new one at each edit, its old self
# gone, never "moved" or "cancelled". The item is its guid without them (ticks of the years
# 1998 to 2029: 18 digits, "63" or "64" first).
_EDIT_STAMP = re.compile(r"/6[34][0-9]{16}$")
# A CivicPlus calendar feed's event fields (`<calendarEvent:EventDates> April 23, 2026
# </calendarEvent:EventDates>`, `EventTimes` "05:00 PM - 06:00 PM", `Location`; the prefix's
# namespace is each site's own address), by the names feedparser gives them
_CALENDAR_FIELDS = {"eventdates": "calendarevent_eventdates", "eventtimes": "calendarevent_eventtimes",
                    "location": "calendarevent_location"}


# The RFC 822 date RSS feeds write nearly always ("Tue, 24 Sep 2024 20:00:00 GMT"): read as
# `parsedate_to_datetime` reads it (a four-digit year, a UTC zone), a quarter of its cost.
_RFC822_UTC = re.compile(r"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?([0-9]{1,2}) "
                         r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) ([1-9][0-9]{3}) "
                         r"([0-9]{2}):([0-9]{2}):([0-9]{2}) (?:GMT|\+0000)")
_MONTH_NUMBER = {name: n for n, name in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
                                                   "Nov", "Dec"), start=1)}


def _stamp(text: str | None) -> Any:
    """An RSS (RFC 822) or Atom (ISO 8601) date as a UTC time tuple, as feedparser gives it."""
    if not text or not text.strip():
        return None
    if found := _RFC822_UTC.fullmatch(text.strip()):
        day, month, year, hour, minute, second = found.groups()
        try:
            return datetime(int(year), _MONTH_NUMBER[month], int(day), int(hour), int(minute), int(second),
                            tzinfo=UTC).timetuple()
        except ValueError:
            pass  # no such day or time: read below, as ever
    try:
        moment = parsedate_to_datetime(text.strip())
    except (TypeError, ValueError, IndexError):
        try:
            moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).timetuple()


def _well_formed_entries(data: bytes) -> list[dict[str, Any]] | None:
    """A well-formed RSS 2.0 or Atom feed's entries read with lxml (through tracker.safexml: no DTD,
    no entities), in the shape the rest of `parse_feed` reads; None for anything else, which
    feedparser then reads leniently. feedparser costs ten times as much on a large feed."""
    try:
        root = parse_xml(data, ValueError, "an RSS/Atom feed")
    except ValueError as exc:
        if str(exc) == REFUSED and not declared_in_bytes(data):
            # a DTD its encoding (UTF-16...) hides from the bytes' check: feedparser would expand its entities
            raise SourceParseError("refused: the feed declares a DTD in an encoding that hides it (possible "
                                   "XML bomb)") from None
        return None
    entries: list[dict[str, Any]] = []
    if root.tag == "rss":
        for item in root.iter("item"):
            fields = {child.tag: child for child in item if isinstance(child.tag, str)}
            parts = next((child for child in item if isinstance(child.tag, str) and child.tag.endswith("}pubDateParts")),
                         None)
            entries.append({
                "title": fields["title"].text if "title" in fields else None,
                "link": (fields["link"].text or "").strip() if "link" in fields else None,
                "id": (fields["guid"].text or "").strip() if "guid" in fields else None,
                "summary": fields["description"].text if "description" in fields else None,
                "published_parsed": _stamp(fields["pubDate"].text) if "pubDate" in fields else None,
                "tags": [{"term": c.text} for c in item.iter("category") if c.text],
                "enclosures": [{"href": e.get("url"), "type": e.get("type")} for e in item.iter("enclosure")],
                "gran_pubdateparts": dict(parts.attrib) if parts is not None else None,
                **{key: child.text for child in item if isinstance(child.tag, str) and child.tag[:1] == "{"
                   and (key := _CALENDAR_FIELDS.get(child.tag.rpartition("}")[2].lower())) is not None}})
        return entries
    if root.tag == f"{_ATOM}feed":
        for entry in root.iter(f"{_ATOM}entry"):
            links = [(link.get("rel") or "alternate", link) for link in entry.iter(f"{_ATOM}link")]
            alternate = next((link.get("href") for rel, link in links if rel == "alternate"), None)
            summary = entry.find(f"{_ATOM}summary")
            content = entry.find(f"{_ATOM}content")
            published = entry.findtext(f"{_ATOM}published") or entry.findtext(f"{_ATOM}updated")
            entries.append({
                "title": entry.findtext(f"{_ATOM}title"), "link": alternate,
                "id": (entry.findtext(f"{_ATOM}id") or "").strip() or None,
                "summary": (summary if summary is not None else content).text
                if (summary if summary is not None else content) is not None else None,
                "published_parsed": _stamp(published),
                "tags": [{"term": c.get("term")} for c in entry.iter(f"{_ATOM}category") if c.get("term")],
                "enclosures": [{"href": link.get("href"), "type": link.get("type")}
                               for rel, link in links if rel == "enclosure"],
                "gran_pubdateparts": None})
        return entries
    return None


_ENTITY_DECLARATION = re.compile(rb"<!\s*ENTITY", re.I)
_CHARACTER_REFERENCE = re.compile(rb"&#(?:[xX]([0-9a-fA-F]{1,12})|([0-9]{1,16}));")
_LENIENT_MOST = 2 * 1024 * 1024  # feedparser reads a feed that is not well-formed at up to 10 s a MB


def _read_leniently(data: bytes) -> Any:
    """feedparser's reading of a feed that is not well-formed XML (or not RSS 2.0 nor Atom). Never
    with entities: feedparser would expand those a DTD declares (lxml refused the document before
    this). A character reference to no character (`&#xD800;`, `&#99999999999;`) stands for U+FFFD,
    as a browser reads it, rather than losing the feed; a larger feed than feedparser reads in
    reasonable time is refused; whatever else makes feedparser fail is the feed's one line."""
    if _ENTITY_DECLARATION.search(data):
        raise SourceParseError("refused: the feed declares entities in a DTD (possible XML bomb)")
    if len(data) > _LENIENT_MOST:
        raise SourceParseError(f"not well-formed XML, and at {len(data) / 1024 / 1024:.1f} MB too large to read "
                               f"leniently (at most {_LENIENT_MOST // 1024 // 1024} MB)")
    data = _CHARACTER_REFERENCE.sub(_character_or_replacement, data)
    try:
        return feedparser.parse(data, resolve_relative_uris=False, sanitize_html=True)
    except Exception as exc:  # feedparser's own failure on a hostile or broken document
        raise SourceParseError(f"not a readable RSS/Atom feed: {type(exc).__name__}: "
                               f"{' '.join(str(exc).split())[:120]}") from None


def _character_or_replacement(reference: re.Match[bytes]) -> bytes:
    value = int(reference.group(1), 16) if reference.group(1) else int(reference.group(2))
    return reference.group(0) if 0 < value <= 0x10FFFF and not 0xD800 <= value <= 0xDFFF else b"&#xFFFD;"


def parse_feed(data: bytes, ctx: ListingContext) -> Listing:
    """RSS/Atom agenda feeds (CivicPlus AgendaCenter `RSSFeed.aspx?ModID=65`, Granicus
    `ViewPublisherRSS.php?mode=agendas|minutes|video`, school and housing-authority event feeds): one
    entry per agenda, minutes document, video or event (a video feed's entry links the meeting's
    player; Granicus' `gran:pubDateParts` is its clip's or its posting's time, never the meeting's).
    A well-formed RSS 2.0 or Atom feed is read with lxml; anything else with feedparser, and a feed
    it calls malformed (`bozo`) is still read when it yields entries."""
    if problem := html_instead(data, "an RSS/Atom feed"):
        raise SourceParseError(problem)
    entries = _well_formed_entries(data)
    parsed: Any = None
    if entries is None:
        parsed = _read_leniently(data)
        if problem := _feed_error(data, parsed):
            raise SourceParseError(problem)
        if parsed.bozo:
            log.info("feed %s is not well-formed (%s); read leniently", ctx.url, parsed.get("bozo_exception"))
        entries = parsed.entries
    groups: dict[str, dict[str, dict[str, Any]]] = {}  # ref -> {"agenda"|"minutes": the entry's document}
    problems: list[str] = []
    for entry in entries:
        try:
            title = " ".join(str(entry.get("title") or "Meeting").split())
            summary = _summary_text(entry)
            link = web_url(join_url(ctx.url, str(entry.get("link") or "")))
            civicplus = _civicplus_file(link)
            lowered = title.lower()
            kind = (civicplus[0] if civicplus else "minutes" if "MinutesViewer" in (link or "")
                    else "minutes" if "minutes" in lowered and "agenda" not in lowered else "agenda")
            # a CivicPlus calendar feed's own fields first: its title may name another time ("Intro
            # to iNaturalist - 5:30 PM" of an event at "05:00 PM - 06:00 PM")
            dates, times, place = (str(entry.get(key) or "") for key in _CALENDAR_FIELDS.values())
            day, not_its_own = _entry_day(entry, [dates, title, summary], civicplus[2] if civicplus else None,
                                          ctx.timezone, link)
            if not_its_own:  # an entry naming no day: its problem line, where its meeting may be in the window
                if day is None or not (ctx.window_start - _NEAR).date() <= day <= (ctx.window_end + _NEAR).date():
                    continue
                raise ValueError(f"no meeting date in its title or description ({not_its_own})")
            if day is None:
                raise ValueError("no date: its title and description name no day, and its own date is missing "
                                 "or unreadable")
            if not in_window(ctx, day):
                continue
            ref = (civicplus[1] if civicplus else _granicus_ref([link or ""])) or \
                _EDIT_STAMP.sub("", str(entry.get("id") or link or title))
            tags = entry.get("tags") or []
            clock = time_for_day(day, times, title, summary)
            enclosures = [(str(e.get("href") or ""), str(e.get("type") or "")) for e in entry.get("enclosures") or []]
            groups.setdefault(ref, {}).setdefault(kind, {
                "title": title, "summary": summary, "link": link, "day": day,
                "body": str(tags[0].get("term") or "").strip() if tags else "", "clock": clock, "place": _calendar_place(place, summary),
                "enclosures": enclosures, "civicplus": civicplus})
        except Exception as exc:  # one entry that cannot be read is that entry's problem
            problems.append(row_problem("entry", entry.get("id") or entry.get("link"), entry.get("title"), exc))
    meetings = []
    for ref, entries in groups.items():
        agenda, minutes = entries.get("agenda"), entries.get("minutes")
        main = agenda or entries["minutes"]  # the agenda entry speaks for the meeting when there is one
        documents = DocumentList()
        # an entry linking a video (a Granicus `mode=video` feed's player, a YouTube page) is no agenda
        played = bool(agenda and agenda["link"] and document_kind(agenda["link"]) == "video")
        if agenda and agenda["link"]:
            documents.add(agenda["link"], agenda["title"], "video" if played else
                          "agenda" if _is_document(agenda["link"], agenda["civicplus"]) else "other")
        if minutes and minutes["link"]:
            documents.add(minutes["link"], minutes["title"], "minutes")
        for entry in (agenda, minutes):
            for href, kind in (entry or {}).get("enclosures", []):
                documents.add(join_url(ctx.url, href), kind.split("/")[0] if kind else None)
        meetings.append(meeting_record(
            source="feed", ref=ref, body=main["body"] or ctx.body, title=main["title"],
            local=local_start(main["day"], main["clock"]), day=main["day"], zone=ctx.timezone, comment_text=main["summary"],
            location=main["place"],
            documents=documents.items, agenda_url=agenda["link"] if agenda and not played else None,
            minutes_url=minutes["link"] if minutes else None,
            url=main["link"], items=title_items(f"{main['title']} {main['summary']}", ctx.keywords, main["title"])))
    if parsed is not None and parsed.bozo and not meetings:
        problem = str(parsed.get("bozo_exception") or "unreadable").splitlines()[0]
        raise SourceParseError(f"not a readable RSS/Atom feed: {problem}")
    return Listing(meetings, problems)


def _calendar_place(field: str, summary: str) -> str | None:
    """A CivicPlus calendar event's place: its `Location` field, whose lines run together ("120 E
    POMELO STREETLake Alfred, FL 33850"), spaced as its description writes the same place after
    "Location:" (its lines were `<br>`s) where that holds the same characters."""
    place = place_line(field)
    if not place or "Location:" not in summary:
        return place
    glued, after = place.replace(" ", ""), " ".join(summary.rpartition("Location:")[2].split())
    end, seen = 0, 0
    while end < len(after) and seen < len(glued):  # as far into it as the place's characters go
        seen += after[end] != " "
        end += 1
    return after[:end] if after[:end].replace(" ", "") == glued else place


_DOCUMENT_LINK = re.compile(r"\.(pdf|docx?)\b|Agenda", re.I)


def _is_document(link: str, civicplus: tuple[str, str, date | None] | None) -> bool:
    """An agenda feed entry's link is its agenda (CivicPlus, Granicus, a PDF); an event feed's link
    is the event's page (typed "other" in the meeting's documents, still its `agenda_url` as before).
    `civicplus`: what `_civicplus_file` already read from the link (it is not read twice)."""
    return bool(civicplus or _GRANICUS_ID.search(link) or _DOCUMENT_LINK.search(link))

