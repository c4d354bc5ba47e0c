"""IQM2 (Accela, now Granicus) meeting calendars: `https://<site>.iqm2.com/Citizens/Calendar.aspx`,
read in its list view for the crawl's window (`calendar_url`).

A meeting is a `div.MeetingRow` (`Alt` on every other one), under month dividers:
- `div.RowLink a`: the meeting's page (`Detail_Meeting.aspx?ID=N`, N its identity) and its day and
  time as a reader sees them ("Jan 5, 2026 1:00 PM"; only the day when no time is set: time TBD,
  though the link's tooltip then says "12:00 AM");
- the link's tooltip (`title`): "MONDAY, JANUARY 5, 2026  1:00 PM", then "Board:", "Type:" and
  "Status:" lines (Scheduled, Closed, Cancelled), then the place's name and address, each on a
  line of its own: in the list view the only place the body, the status and the place are said;
- `div.RowDetails`: "<board> - <type>", the title;
- `div.MeetingLinks`: the documents (`FileOpen.aspx?Type=T&ID=N`, labelled by the site: "Agenda",
  "Agenda Packet", "Minutes", "Minutes Packet", "Summary"), a placeholder `a.HiddenDocumentLink`
  for each it lacks, and the video in an `onclick` (`OpenWindow("/Citizens/SplitView.aspx?Mode=Video...")`).
  A cancelled meeting shows `span.MeetingCancelled` ("Cancelled") instead of its links.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from lxml import etree

from tracker.meetings.normalize import (
    DocumentList,
    SourceParseError,
    cancellation,
    find_date,
    find_time,
    in_window,
    title_items,
    whole_weeks,
)
from tracker.meetings.pages import Resolver, html_tree, link_label, page_seen, resolver, words_of
from tracker.meetings.portals import meeting_record, row_problem
from tracker.records import Listing, ListingContext, Meeting

NO_ROWS = "no meeting rows found"
# Hosts that are always this platform (a city's own domain may front it: `detect` reads content).
HOST = ".iqm2.com"
# the template's empty address fields ("Santa Monica City Hall, __, __  __"). A match starts at a
# blank only at the first of a run of them: from any later one it would go on as from the first
# (which failed), and tried from each, a run of n blanks cost n² steps. Blanks taken possessively:
# "_" follows them.
_BLANK_FIELDS = re.compile(r"(?!(?<=\s)\s)(?:,?\s*+\b_+\b)+")
# a line of nothing but "not applicable" fields ("N/A, N/A, NA N/A": Creve Coeur's online
# meetings); as `_BLANK_FIELDS`, tried only from the first of a run of blanks and commas
_NOT_APPLICABLE = re.compile(r"(?!(?<=[\s,])[\s,])(?:[\s,]*\b(?:N/A|NA)\b)+[\s,]*", re.I)
_FIELD = re.compile(r"^(Board|Type|Status):\s*(.*)$")
_FIELD_LABELS = ("Board:", "Type:", "Status:")  # what a line `_FIELD` matches starts with
_RUN_LABEL = re.compile(r"(Board|Type|Status):\t")
_VIDEO = re.compile(r"OpenWindow\(\s*[\"']([^\"']*SplitView\.aspx[^\"']*)[\"']", re.I)
# The meeting link's usual address, a path from the root to the page and its id alone
# ("/Citizens/Detail_Meeting.aspx?ID=1034"): read as `urlsplit` and `parse_qsl` read it (no scheme,
# host, other parameter, escape or fragment), without them.
_PLAIN_MEETING = re.compile(r"(?:/[A-Za-z0-9_.-]+)*/Detail_Meeting\.aspx\?ID=([0-9]+)")


def calendar_url(url: str, start: date, end: date) -> str:
    """The site's calendar in its list view covering `start`..`end` in whole weeks (`whole_weeks`:
    the address, and with it the conditional GET, stays the same from Monday to Sunday); any
    address on the site names it (its calendar, its home page, a meeting's page)."""
    parts = urlsplit(url)
    first, last = whole_weeks(start, end)
    query = f"View=List&From={first.month}/{first.day}/{first.year}&To={last.month}/{last.day}/{last.year}"
    return urlunsplit((parts.scheme, parts.netloc.rsplit("@", 1)[-1], "/Citizens/Calendar.aspx", query, ""))


def parse_calendar(data: bytes, ctx: ListingContext) -> Listing:
    """Every `div.MeetingRow` of an IQM2 calendar page; one that cannot be read is its own line. A
    single meeting's page (`Detail_Meeting.aspx`) is named in one line, with the calendar to watch."""
    root = html_tree(data)
    rows = [node for node in root.iter("div") if "MeetingRow" in (classes := node.get("class") or "")
            and "MeetingRow" in classes.split()] or _bare_rows(root)
    if not rows:
        if any("lblMeetingDate" in (node.get("id") or "") for node in root.iter("span")):
            site = urlsplit(ctx.url)
            raise SourceParseError("one meeting's page on IQM2 (Detail_Meeting.aspx), not its calendar: watch "
                                   f"{site.scheme}://{site.netloc}/Citizens/Calendar.aspx")
        if any("rptMeetings" in (node.get("id") or "") or "ctlMeetings" in (node.get("id") or "")
               for node in root.iter("div", "span", "table")):
            return Listing([], [])  # the calendar's own frame, no meeting in its dates
        raise SourceParseError(f"{NO_ROWS}: no IQM2 calendar rows (div.MeetingRow); {page_seen(root)}")
    meetings: dict[str, Meeting] = {}
    problems: list[str] = []
    absolute = resolver(ctx.url)
    for n, row in enumerate(rows):
        try:
            if (meeting := _row(row, ctx, absolute)) is not None:
                meetings.setdefault(meeting.source_ref, meeting)
        except Exception as exc:  # one row that cannot be read is that row's problem
            problems.append(row_problem("meeting row", n + 1, words_of(_parts(row).get("RowDetails")), exc))
    return Listing(list(meetings.values()), problems)


def _bare_rows(root: etree._Element) -> list[etree._Element]:
    """A meeting's parts without their `div.MeetingRow` (a page others saved cut down to its
    `div.RowTop`s, or to the `div.RowLink`s alone): each `div.RowLink` linking a meeting is a row, with
    the element around it when that holds no other meeting's link (its `div.RowTop`: the row's
    documents box is in it), else by itself."""
    links = [node for node in root.iter("div") if "RowLink" in (node.get("class") or "").split()
             and any(_meeting_id((a.get("href") or "").strip()) for a in node.iter("a"))]
    around = [link.getparent() for link in links]
    return [parent if parent is not None and parent.tag == "div" and around.count(parent) == 1 else link
            for link, parent in zip(links, around, strict=True)]


_PARTS = frozenset({"RowLink", "RowDetails", "MeetingLinks", "MeetingCancelled"})


def _parts(row: etree._Element) -> dict[str, etree._Element]:
    """The row's parts by class (its link, title, documents box, a cancelled mark), the first of
    each, in one pass over its elements."""
    parts: dict[str, etree._Element] = {}
    for node in row.iter("div", "span"):
        if classes := node.get("class"):
            for name in classes.split():
                if name in _PARTS:
                    parts.setdefault(name, node)
    return parts


def _meeting_id(href: str) -> str | None:
    """N of a `Detail_Meeting.aspx?ID=N` link: of the usual address by one match, of any other as
    `_parsed_meeting_id` reads it (the same answer for the usual one: tests/test_iqm2.py)."""
    if plain := _PLAIN_MEETING.fullmatch(href):
        return plain.group(1)
    return _parsed_meeting_id(href)


def _parsed_meeting_id(href: str) -> str | None:
    """N of a `Detail_Meeting.aspx?ID=N` link, its address parsed."""
    parts = urlsplit(href)
    if not parts.path.lower().endswith("detail_meeting.aspx"):
        return None
    found = next((value for key, value in parse_qsl(parts.query) if key.lower() == "id"), "")
    return found if found.isascii() and found.isdigit() else None


def _row(row: etree._Element, ctx: ListingContext, absolute: Resolver) -> Meeting | None:
    parts = _parts(row)
    link = next(parts["RowLink"].iter("a"), None) if "RowLink" in parts else None
    ref = _meeting_id((link.get("href") or "").strip()) if link is not None else None
    if link is None or ref is None:
        raise ValueError("no meeting link (Detail_Meeting.aspx?ID=N)")
    day, clock = _when(words_of(link))
    if not in_window(ctx, day):
        return None
    said = _tooltip(link.get("title") or "")
    title = (words_of(parts.get("RowDetails")) or " - ".join(p for p in (said.get("Board"), said.get("Type")) if p)
             or "Meeting")
    off = cancellation(status=said.get("Status")) or ("Cancelled" if "MeetingCancelled" in parts else None)
    page = absolute((link.get("href") or "").strip())
    if not page.startswith(("https://", "http://")):  # a script's address: the page is where the id says
        page = absolute(f"Detail_Meeting.aspx?ID={ref}")
    return meeting_record(
        source="iqm2", ref=ref, body=said.get("Board") or ctx.body, title=title,
        local=datetime.combine(day, clock) if clock else None, day=day, zone=ctx.timezone,
        off=off, location=said.get("place"), documents=_documents(parts.get("MeetingLinks"), absolute), url=page,
        items=title_items(title, ctx.keywords))


def _when(text: str) -> tuple[date, time | None]:
    """The day and time the row's link shows ("Jan 5, 2026 1:00 PM"; "Dec 22, 2015": time TBD)."""
    day = find_date(text)
    if day is None:
        raise ValueError(f"date {text[:40]!r} is not a date")
    return day, find_time(text)


def _tooltip(text: str) -> dict[str, str]:
    """The link's tooltip as fields: Board, Type, Status, and `place` (the lines after them: the
    place's name and address, joined)."""
    if "\r" not in text and "\n" not in text:  # a copy that lost its line breaks: the labels and tabs part it
        text = _RUN_LABEL.sub(r"\n\1:\t", text)
        head, label, tail = text.partition("\nStatus:\t")
        if label:  # "Status:<tab>Closed<tab>City Hall<tab>400 Main St": the status, then the place's lines
            text = head + label + "\n".join(tail.split("\t"))
    # Split at each CR or LF with str methods (several times faster than splitting at `[\r\n]+`): a
    # run of them leaves empty lines between, which are passed over as the blank lines they are.
    lines = [line.strip() for line in text.replace("\r", "\n").split("\n")]
    fields: dict[str, str] = {}
    place: list[str] = []
    for line in lines[1:]:
        if not line:
            continue
        if line.startswith(_FIELD_LABELS) and (field := _FIELD.match(line)):  # most lines are no field
            fields[field.group(1)] = " ".join(field.group(2).split())
        elif "Status" in fields and (words := _place_line(line)) and not _NOT_APPLICABLE.fullmatch(words):
            place.append(words)
    if place:
        fields["place"] = ", ".join(place)
    return fields


def _place_line(line: str) -> str:
    """A line of the place, its white space collapsed, without the template's empty fields. Only a
    line holding "_" can hold one: `_BLANK_FIELDS` tried at every character of every line is slow."""
    words = " ".join(line.split())
    return (_BLANK_FIELDS.sub("", words) if "_" in words else words).strip(" ,")


def _documents(box: etree._Element | None, absolute: Resolver) -> list[Any]:
    """The row's documents and video, in the page's order; the placeholders for missing ones left out."""
    documents = DocumentList()
    if box is not None:
        for a in box.iter("a"):
            if "HiddenDocumentLink" in (a.get("class") or ""):
                continue
            label = link_label(a) or "Document"
            href = (a.get("href") or "").strip()
            if (onclick := a.get("onclick")) and (video := _VIDEO.search(onclick)):
                documents.add(absolute(video.group(1)), label, "video")
            elif href and href != "#" and not href.lower().startswith("javascript:"):
                documents.add(absolute(href), label, _kind(label))
    return documents.items


def _kind(label: str) -> str:
    """What a document is, by the site's label for it ("Agenda Packet", "Minutes", "Summary")."""
    lowered = label.lower()
    if "minutes" in lowered:
        return "minutes"
    if "packet" in lowered:
        return "packet"
    return "agenda" if "agenda" in lowered else "other"
