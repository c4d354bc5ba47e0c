"""CivicWeb (iCompass; now Diligent Community) meeting lists: the JSON a site's meeting calendar
asks for (`https://<site>/Services/MeetingsService.svc/meetings?from=YYYY-MM-DD&to=YYYY-MM-DD`),
served by cities and counties on `<org>.civicweb.net` and by school boards on
`<org>.community.highbond.com`, `<org>.diligent.community` or `<org>.community.diligentoneplatform.com`.

A row is one meeting of any of the site's bodies: `Id`, `Name` ("Board Meetings - Jan 09 2024",
"CANCELLED - Audit Committee Meeting Agenda and Notice - Feb 18 2026", "Wastewater Agency - May 27
2026 - NO MEETING"), `MeetingDateTime` ("2024-01-09 15:00", the body's wall-clock time), `MeetingDate`
and `MeetingTime` ("03:00 PM"; empty when no time is set, and then `MeetingDateTime` says "00:00":
time TBD, never midnight), `MeetingLocation`; Diligent Community sites add `MeetingTypeName`. The
list carries no document: each meeting links its page on the portal
(`/Portal/MeetingInformation.aspx?Org=Cal&Id=<Id>`), and its documents are one more answer,
`.../meetings/<Id>/meetingDocuments` (`parse_documents`): a JSON array on civicweb.net sites, an
object holding it as `Documents` on Diligent Community's. Rows without `MeetingTime` give a meeting
with no time set as midnight: time TBD too.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime, time
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from tracker.meetings.normalize import (
    MONTH_NUMBERS,
    DocumentList,
    SourceParseError,
    first_of,
    in_window,
    title_items,
)
from tracker.meetings.portals import clock_field, meeting_record, read_json, read_rows, row_field
from tracker.records import Document, Listing, ListingContext, Meeting

# The meeting's date the portal writes into its name ("- Jan 09 2024", "- Apr 09, 2026", "- 16 Jan
# 2024"): where it is the listing's own day, the title is the rest ("Board Meetings - NO MEETING",
# "Regular Meeting (DRAFT AGENDA)"); a name dated otherwise (Tulsa's "Special Meeting - Jun 12, 2025"
# on 10 June) is kept whole.
_MONTH = r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?"
# Tried only from the first of a run of blanks: from a later one it goes on as from the first (which
# failed), and tried from each, a run of n blanks cost n² steps.
_DATE_IN_NAME = re.compile(rf"(?!(?<=\s)\s)\s*+-\s*(?:{_MONTH}\s+(\d{{1,2}}),?|(\d{{1,2}})\s+{_MONTH})\s+(\d{{4}})"
                           rf"(?=\s*(?:[-(]|$))", re.I)
MEETINGS_PATH = "/Services/MeetingsService.svc/meetings"
# A document's `DocumentType` (seen on six sites): what it is, and the label the portal gives it.
_DOCUMENT_TYPES = {1: ("agenda", "Agenda"), 4: ("packet", "Agenda Packet"), 9: ("minutes", "Minutes"),
                   10: ("minutes", "Minutes Packet")}
# `Type`, for a `DocumentType` not seen: 1 the agenda's part, 2 the minutes'.
_DOCUMENT_PARTS = {1: "Agenda document", 2: "Minutes document"}
# The fields a meeting's documents answer sets (carried from the stored meeting when not asked again).
DOCUMENT_FIELDS = ("documents", "agenda_url", "minutes_url")
# Hosts that are always this platform (a city's own domain may front it too: `detect` reads content).
HOSTS = (".civicweb.net", ".community.highbond.com", ".diligent.community", ".community.diligentoneplatform.com")


def site_of(url: str) -> str:
    """The site (`https://sarpy.civicweb.net`) of any address on it: its portal page, its meeting
    list, one meeting's page; never a login written into the address (it would be in every link)."""
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, host, "", "", ""))


def listing_url(url: str, start: date, end: date) -> str:
    """The site's meetings from `start` to `end` (the crawl's window), as its calendar asks for them."""
    return f"{site_of(url)}{MEETINGS_PATH}?from={start.isoformat()}&to={end.isoformat()}"


def documents_url(url: str, ref: str) -> str:
    """Where the site answers a meeting's documents."""
    return f"{site_of(url)}{MEETINGS_PATH}/{quote(ref, safe='')}/meetingDocuments"


def parse_documents(data: bytes, url: str) -> list[Document]:
    """A meeting's documents (`.../meetings/<Id>/meetingDocuments`), each linked as the portal
    serves it as a file (`/document/<Id>/<its name>.pdf`), typed by its `DocumentType`, agenda first.
    A document without an id is left out; an answer that is no list of them is one line."""
    payload = read_json(data, "CivicWeb meeting documents answer")
    rows = payload.get("Documents") if isinstance(payload, dict) else payload
    if not isinstance(rows, list):
        raise SourceParseError("a CivicWeb meeting documents answer is a JSON array (or an object's `Documents`)")
    site = site_of(url)
    found = DocumentList()
    readable = [row for row in rows if isinstance(row, dict) and type(row.get("Id")) is int]
    for row in sorted(readable, key=lambda row: _number(row.get("DocumentType"))):
        kind, label = _DOCUMENT_TYPES.get(_number(row.get("DocumentType")), (
            "other", _DOCUMENT_PARTS.get(_number(row.get("Type")), "Document")))
        name = str(row.get("Name") or "").strip() or "document"  # as the portal links it (its blanks kept)
        found.add(f"{site}/document/{row['Id']}/{quote(name + '.pdf', safe='')}", label, kind)
    return found.items


def with_documents(meeting: Meeting, documents: list[Document]) -> Meeting:
    """The meeting with its documents, its agenda (else its packet) and its minutes among them."""
    return replace(meeting, documents=documents, agenda_url=first_of(documents, "agenda", "packet"),
                   minutes_url=first_of(documents, "minutes"))


def _number(value: Any) -> int:
    return value if type(value) is int else 0


def parse_meetings(data: bytes, ctx: ListingContext) -> Listing:
    """A CivicWeb `MeetingsService.svc/meetings` answer: a JSON array, a meeting per row."""
    rows = read_json(data, "CivicWeb meeting list")
    if not isinstance(rows, list):
        raise SourceParseError("a CivicWeb meeting list is a JSON array (Services/MeetingsService.svc/meetings)")
    site = site_of(ctx.url)
    return read_rows(rows, lambda row, c: _meeting(row, c, site), ctx,
                     lambda n, row: (row_field(row, "Id") or f"row {n + 1}", row_field(row, "Name")))


def _when(row: dict[str, Any]) -> tuple[date, time | None]:
    """The meeting's local day, and its time unless the portal has none (`MeetingTime` empty)."""
    written = row.get("MeetingDateTime") or row.get("MeetingDate")
    if not isinstance(written, str) or not written.strip():
        raise KeyError("MeetingDateTime")
    text = written.strip()
    try:
        local = datetime.fromisoformat(text) if len(text) > 10 else None
        day = local.date() if local else date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"date {text[:30]!r} is not a date") from None
    if local is not None and local.tzinfo is not None:  # never seen: the portal writes wall-clock time
        raise ValueError(f"date {text[:30]!r} has a zone; the list writes the body's local time")
    if "MeetingTime" in row:  # its own clock field: empty is no time set
        return day, clock_field(row["MeetingTime"]) if row["MeetingTime"] else None
    # without one (Kansas City Kansas schools' rows), midnight is the portal's "no time set"
    return day, local.time() if local and local.time() != time(0, 0) else None


def _without_its_date(name: str, day: date) -> str:
    """The name without the date label the portal adds, where that label is the meeting's day."""
    found = _DATE_IN_NAME.search(name)
    if not found:
        return name
    month, number = (found.group(1), found.group(2)) if found.group(1) else (found.group(4), found.group(3))
    if (int(found.group(5)), MONTH_NUMBERS[month[:3].lower()], int(number)) != (day.year, day.month, day.day):
        return name
    return (name[:found.start()] + name[found.end():]).strip(" -") or name


def _meeting(row: dict[str, Any], ctx: ListingContext, site: str) -> Meeting | None:
    ref = row.get("Id")
    if type(ref) is not int and not (isinstance(ref, str) and ref.strip().isascii() and ref.strip().isdigit()):
        raise ValueError("no meeting id ('Id')" if ref in (None, "") else f"meeting id {str(ref)[:30]!r} is not a number")
    ref = str(ref).strip()
    day, clock = _when(row)
    if not in_window(ctx, day):
        return None
    name = " ".join(str(row.get("Name") or row.get("MeetingTypeName") or "Meeting").split())
    title = _without_its_date(name, day)
    place = " ".join(str(row.get("MeetingLocation") or "").split()) or None
    return meeting_record(
        source="civicweb", ref=ref, body=ctx.body, title=title,
        local=datetime.combine(day, clock) if clock else None, day=day, zone=ctx.timezone,
        location=place, documents=[], url=f"{site}/Portal/MeetingInformation.aspx?Org=Cal&Id={ref}",
        items=title_items(title, ctx.keywords))
