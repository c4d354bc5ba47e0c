"""Meeting portals that publish one listing document: PrimeGov (JSON), CivicClerk (OData JSON) and
BoardDocs (XML export, or the JSON meeting list). Each parser turns the listing into meetings of
the shared shape (see tracker/meetings/ical.py), keyed by the portal's own meeting id, never the
start time, with every document and media link the portal gives (`Meeting.documents`).

Variants real portals serve:
- PrimeGov: `ListUpcomingMeetings`/`ListArchivedMeetings` rows with `dateTime`, older rows with only
  `date` ("Jul 25, 2022") and `time` ("11:00 AM"), and search results (one row per document,
  `meetingId`, `meetingDate`), grouped into meetings. A meeting whose documents hold a "Notice of
  Cancellation" or a "Recess Notice" is cancelled (its title still names it as scheduled).
- CivicClerk: `startDateTime` carries a `Z` but is the body's local wall-clock time (a 7 PM Georgia
  council meeting reads "19:00:00Z"): the `Z` is ignored. An event marked `isDeleted` is no meeting.
  One body's events at one time under one name are one meeting (a sitting listed twice).
  A published file without a `url` is linked where the public portal serves it; a recording's
  relative `stream/...` path, on the API's host as the published files' are.
- BoardDocs: the XML export, read per `<meeting>` when the whole document is not well-formed (one
  broken meeting is its own problem line), with the room named by a "Location of Meeting" category;
  and the JSON meeting list (`BD-GetMeetingsList`). Neither has a time field: a time written in the
  meeting's name or description is used, else the meeting is time TBD.

One row that cannot be read (no id, a date that is no date) is that row's problem line; the other
rows are still read (`Listing.problems`), as for every listing parser.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, time
from typing import Any, TypeVar
from urllib.parse import urljoin

from lxml import etree

from tracker.meetings.normalize import (
    DocumentList,
    SourceParseError,
    cancellation,
    first_of,
    in_window,
    join_query,
    join_url,
    keywords_each,
    moved_in_name,
    place_in_name,
    time_for_day,
    title_items,
    utc_iso,
    utf8_of,
)
from tracker.records import Document, Listing, ListingContext, Meeting, MeetingStatus
from tracker.safetext import json_loads, one_line, printable, web_url
from tracker.safexml import html_instead, parse_xml, safe_parser

Row = TypeVar("Row")


def meeting_record(*, source: str, ref: Any, body: str, title: str, local: datetime | None, day: date, zone: str,
                   comment_text: str | None = None, documents: list[Document] | None = None, off: str | None = None,
                   **fields: Any) -> Meeting:
    """A listing's meeting: its wall-clock time read in the body's zone, cancelled when its title or
    notice says so, or `off` (the source's own word, given apart: PrimeGov's "Recess Notice").
    Given its `documents`, the agenda (else the packet), the minutes and the video among them are
    also its `agenda_url`, `minutes_url` and `livestream_url`, unless the caller names those itself."""
    said = off or cancellation(title=title, comment=comment_text, day=day) or moved_in_name(title, day)
    if documents is not None:
        fields.setdefault("agenda_url", first_of(documents, "agenda", "packet"))
        fields.setdefault("minutes_url", first_of(documents, "minutes"))
        fields.setdefault("livestream_url", first_of(documents, "video"))
    return Meeting(
        source=source, source_ref=str(ref), body=body, title=title.strip(), date=day.isoformat(), timezone=zone,
        start=utc_iso(local, zone) if local else None, time_tbd=local is None,
        status=MeetingStatus.CANCELLED if said else MeetingStatus.CONFIRMED, status_text=said,
        documents=documents, **fields)


def read_rows(rows: Iterable[Row], read: Callable[[Row, ListingContext], Meeting | None], ctx: ListingContext,
              name: Callable[[int, Row], tuple[Any, Any]]) -> Listing:
    """Each row of a listing read on its own: one that cannot be read is that row's problem line
    (`name` gives its id and title), and the others are still read. A row read as None is no
    meeting (a deleted event)."""
    meetings, problems = [], []
    for n, row in enumerate(rows):
        try:
            if (meeting := read(row, ctx)) is not None:
                meetings.append(meeting)
        except Exception as exc:
            ref, title = name(n, row)
            problems.append(row_problem("meeting", ref, title, exc))
    return Listing(meetings, problems)


def row_problem(what: str, ref: Any, title: Any, exc: BaseException) -> str:
    """One short line naming a listing row that could not be read and why, e.g.
    `meeting 1234 (City Council): unreadable: no 'dateTime'`."""
    if isinstance(exc, KeyError):
        reason = f"no {exc.args[0]!r}" if exc.args else "a field is missing"
    else:
        reason = " ".join(str(exc).split()) or type(exc).__name__
    name = " ".join(str(title or "no title").split())
    name = name if len(name) <= 60 else name[:59] + "…"
    reason = reason if len(reason) <= 120 else reason[:119] + "…"
    return printable(f"{what} {ref if ref not in (None, '') else '?'} ({name}): unreadable: {reason}")


def row_field(row: Any, key: str) -> Any:
    """`row.get(key)` for a row that may not even be an object (a source's broken row)."""
    return row.get(key) if isinstance(row, dict) else None


def read_json(data: bytes, what: str) -> Any:
    """Parsed JSON, or SourceParseError with one line (an HTML error page is named as such)."""
    if problem := html_instead(data, "JSON"):
        raise SourceParseError(problem)
    try:
        return json_loads(data)
    except ValueError as exc:
        raise SourceParseError(f"not a readable {what}: {exc}") from None
    except RecursionError:  # arrays or objects nested a thousand deep: no listing is
        raise SourceParseError(f"not a readable {what}: nested too deep") from None


@functools.lru_cache(maxsize=1024)
def clock_field(text: Any) -> time | None:
    """A clock time field ("11:00 AM", "08:30 AM", "13:00"), or None ("TBD", empty)."""
    cleaned = " ".join(str(text or "").upper().replace(".", "").split())
    for fmt in ("%I:%M %p", "%I:%M%p", "%I %p", "%H:%M", "%H:%M:%S"):
        try:
            return datetime.strptime(cleaned, fmt).time()
        except ValueError:
            continue
    return None


@functools.lru_cache(maxsize=4096)
def _day(text: Any) -> date:
    """A date field ("Jul 25, 2022", "2022-07-25", "07/25/2022"), or ValueError naming it."""
    cleaned = " ".join(str(text or "").split())
    for fmt in ("%b %d, %Y", "%B %d, %Y", "%Y-%m-%d", "%m/%d/%Y"):
        try:
            return datetime.strptime(cleaned, fmt).date()
        except ValueError:
            continue
    try:
        return date.fromisoformat(cleaned[:10])
    except ValueError:
        raise ValueError(f"date {cleaned[:40]!r} is not a date") from None


# -- PrimeGov -------------------------------------------------------------------------------------

def parse_primegov(data: bytes, ctx: ListingContext) -> Listing:
    """PrimeGov `api/v2/PublicPortal/ListArchivedMeetings` / `ListUpcomingMeetings` (a meeting per
    row), or a portal search (a document per row, grouped by its `meetingId`)."""
    rows = read_json(data, "PrimeGov meeting list")
    if not isinstance(rows, list):
        raise SourceParseError("a PrimeGov meeting list is a JSON array")
    named = [r for r in rows if isinstance(r, dict)]
    if any("meetingId" in r and "meetingDate" in r for r in named) and not any("dateTime" in r for r in named):
        return _primegov_search(rows, ctx)  # (a broken row among them is its own line there)
    return read_rows(rows, _primegov_meeting, ctx,
                     lambda n, row: (row_field(row, "id") or f"row {n + 1}", row_field(row, "title")))


def _primegov_when(row: dict[str, Any]) -> tuple[date, time | None]:
    """The meeting's local day and time: `dateTime` when the row has one (it must be readable),
    else the older rows' `date` and `time` fields (a time that is no time: time TBD)."""
    if row.get("dateTime") is not None:
        local = datetime.fromisoformat(str(row["dateTime"])[:19])
        return local.date(), local.time()
    if "date" not in row:
        raise KeyError("dateTime")
    return _day(row["date"]), clock_field(row.get("time"))


def _primegov_documents(ctx: ListingContext, docs: Iterable[dict[str, Any]], video: Any = None) -> list[Document]:
    """Every compiled document of a meeting, as the portal links them: the PDF (or other file) at
    `/Public/CompiledDocument?meetingTemplateId=…&compileOutputType=…`, the HTML version at
    `/Portal/Meeting?meetingTemplateId=…`; then its video."""
    documents = DocumentList()
    for doc in sorted(docs, key=lambda d: (d.get("compileOutputType") != 1, d.get("templateSortOrder") or 0)):
        name = str(doc.get("templateName") or "Document")
        template, output = doc.get("templateId"), doc.get("compileOutputType")
        if doc.get("link"):
            link = join_url(ctx.url, str(doc["link"]))
        elif template is None:
            continue
        elif output == 3:
            link = join_query(ctx.url, "/Portal/Meeting", f"meetingTemplateId={template}")
        else:
            link = join_query(ctx.url, "/Public/CompiledDocument",
                              f"meetingTemplateId={template}&compileOutputType={output}")
        lowered = name.lower()
        kind = ("packet" if "packet" in lowered else "minutes" if "minutes" in lowered or "journal" in lowered
                else "agenda" if "agenda" in lowered else "other")
        documents.add(link, name, kind)
    if video:
        documents.add(join_url(ctx.url, str(video)), "Video", "video")
    return documents.items


def _primegov_posted(docs: Iterable[dict[str, Any]], kind: str) -> str | None:
    for doc in sorted(docs, key=lambda d: d.get("compileOutputType") != 1):
        name = str(doc.get("templateName") or "").lower()
        if kind in name and "packet" not in name:
            return doc.get("publishDate") or None
    return None


def _primegov_notice(docs: Iterable[dict[str, Any]]) -> str | None:
    """The name of a document that calls the meeting off: a meeting cancelled after its agenda
    went out keeps its title, and the portal posts a "Notice of Cancellation" in its place."""
    for doc in docs:
        name = str(doc.get("templateName") or "")
        if cancellation(title=name):
            return name
    return None


_RECESS = re.compile(r"\brecess notice\b", re.I)


def _primegov_recess(docs: Iterable[dict[str, Any]]) -> str | None:
    """"Recess Notice" where that notice is all the portal posts for a meeting (Los Angeles'
    council in recess keeps its regular meetings listed, each with only this notice, in HTML and
    PDF): no meeting is held. A meeting with an agenda beside the notice (the last before a
    recess) is held."""
    names = [str(doc.get("templateName") or "") for doc in docs]
    return "Recess Notice" if names and all(_RECESS.search(name) for name in names) else None


def _primegov_place(place: Any) -> str | None:
    """The room or address a meeting list names in `location` ("Esther Howland (South) Chamber"),
    as one line; the list leaves it empty ("") for a meeting with none set."""
    return (" ".join(place.split()) or None) if isinstance(place, str) else None


def _primegov_meeting(row: dict[str, Any], ctx: ListingContext) -> Meeting | None:
    if row.get("id") in (None, ""):
        raise ValueError("no meeting id")
    day, clock = _primegov_when(row)
    if not in_window(ctx, day):
        return None
    docs = [d for d in row.get("documentList") or [] if isinstance(d, dict)]
    title = " ".join(str(row.get("title") or "Meeting").split())
    return meeting_record(
        source="primegov", ref=row["id"], body=ctx.body, title=title,
        local=datetime.combine(day, clock) if clock else None, day=day, zone=ctx.timezone,
        comment_text=_primegov_notice(docs), off=_primegov_recess(docs), location=_primegov_place(row.get("location")),
        documents=_primegov_documents(ctx, docs, row.get("videoUrl")),
        agenda_posted=_primegov_posted(docs, "agenda"), minutes_posted=_primegov_posted(docs, "minutes"),
        url=join_query(ctx.url, "/Portal/Meeting", f"meetingId={row['id']}"),
        items=title_items(row.get("title"), ctx.keywords))


def _primegov_search(rows: list[Any], ctx: ListingContext) -> Listing:
    """Search results: a row per document, its meeting's rows grouped by their `meetingId`; a row
    naming no meeting (no id, or one that is no text or number) is its own line."""
    meetings: dict[str, list[dict[str, Any]]] = {}
    unnamed: list[str] = []
    for n, row in enumerate(rows):
        ident = row.get("meetingId") if isinstance(row, dict) else None
        if type(ident) not in (str, int) or ident == "":
            unnamed.append(row_problem("search row", n + 1, row_field(row, "meetingTitle"), ValueError("no meeting id")))
            continue
        meetings.setdefault(str(ident), []).append(row)

    def read(group: list[dict[str, Any]], ctx: ListingContext) -> Meeting | None:
        first = group[0]
        if first.get("meetingId") in (None, ""):
            raise ValueError("no meeting id")
        local = datetime.fromisoformat(str(first["meetingDate"])[:19])
        if not in_window(ctx, local.date()):
            return None
        docs = [d for row in group for d in row.get("documentList") or [] if isinstance(d, dict)]
        title = " ".join(str(first.get("meetingTitle") or "Meeting").split())
        return meeting_record(
            source="primegov", ref=first["meetingId"], body=ctx.body, title=title, local=local, day=local.date(),
            zone=ctx.timezone, comment_text=_primegov_notice(docs), off=_primegov_recess(docs),
            documents=_primegov_documents(ctx, docs),
            url=join_query(ctx.url, "/Portal/Meeting", f"meetingId={first['meetingId']}"),
            items=title_items(title, ctx.keywords))

    listing = read_rows(meetings.values(), read, ctx,
                        lambda n, group: (group[0].get("meetingId") or f"row {n + 1}", group[0].get("meetingTitle")))
    listing.problems[:0] = unnamed
    return listing


# -- CivicClerk -----------------------------------------------------------------------------------

def parse_civicclerk(data: bytes, ctx: ListingContext) -> Listing:
    """CivicClerk `v1/Events` (OData: `{"value": [...]}`)."""
    payload = read_json(data, "CivicClerk event list")
    rows = payload.get("value") if isinstance(payload, dict) else None
    if not isinstance(rows, list):
        raise SourceParseError("a CivicClerk event list has a `value` array")
    listing = read_rows(rows, _civicclerk_meeting, ctx,
                        lambda n, row: (row_field(row, "id") or f"row {n + 1}", row_field(row, "eventName")))
    listing.meetings = _one_event_a_sitting(listing.meetings)
    return listing


def _one_event_a_sitting(meetings: list[Meeting]) -> list[Meeting]:
    """CivicClerk lists some sittings twice: one body's events at one time under one name (Brandon's
    Board of Aldermen: the event entered with the year's schedule, and the one its agenda was posted
    to). They are one meeting, known by the earlier event's id, so the agenda's arrival on the later
    one is that meeting's "agenda posted"; its documents are the events' together, the fullest's
    first, and its page the fullest's."""
    sittings: dict[tuple[Any, ...], list[Meeting]] = {}
    for meeting in meetings:
        sittings.setdefault((meeting.body, meeting.start or meeting.date, meeting.title, meeting.status), []).append(meeting)
    if len(sittings) == len(meetings):
        return meetings
    return [events[0] if len(events) == 1 else _sitting(events) for events in sittings.values()]


def _event_number(meeting: Meeting) -> tuple[int, int | str]:
    ref = meeting.source_ref
    return (0, int(ref)) if ref.isdigit() else (1, ref)


def _sitting(events: list[Meeting]) -> Meeting:
    """One meeting of a sitting's events (`_one_event_a_sitting`)."""
    earliest = min(events, key=_event_number)
    fullest = sorted(events, key=lambda m: (-len(m.documents or []), _event_number(m)))
    documents = DocumentList()
    for event in fullest:
        for doc in event.documents or []:
            documents.add(doc.url, doc.label, doc.kind)
    items = list({item["title"]: item for event in fullest for item in event.items}.values())

    def said(field: str) -> Any:
        return next((getattr(event, field) for event in fullest if getattr(event, field)), None)

    return dataclasses.replace(
        earliest, documents=documents.items, url=fullest[0].url, items=items,
        agenda_url=first_of(documents.items, "agenda", "packet"), minutes_url=first_of(documents.items, "minutes"),
        livestream_url=first_of(documents.items, "video"), agenda_posted=said("agenda_posted"),
        minutes_posted=said("minutes_posted"), location=said("location"), comment=said("comment"))


def civicclerk_place(place: Any) -> str | None:
    """The place as one line: its name, street, city, state and zip ("City Hall, 745 Forest Pkwy,
    Forest Park, GA 30297"), a part written twice once (South Fulton's second address line repeats
    its first)."""
    if not isinstance(place, dict):
        return None
    parts = list(dict.fromkeys(" ".join(str(place[k]).split()) for k in ("name", "address1", "address2", "city")
                               if place.get(k)))
    region = " ".join(str(place[k]).strip() for k in ("state", "zipCode") if place.get(k))
    parts += [region] if region else []
    return ", ".join(p for p in parts if p) or None


def _civicclerk_meeting(row: dict[str, Any], ctx: ListingContext) -> Meeting | None:
    if row.get("id") in (None, ""):
        raise ValueError("no event id")
    if row.get("isDeleted") is True:
        return None  # deleted in CivicClerk: no meeting (a known one is noted missing, never cancelled)
    local = datetime.fromisoformat(str(row["startDateTime"]).rstrip("Z")[:19])  # local time, misleading Z
    if not in_window(ctx, local.date()):
        return None
    portal = ctx.url.split("/v1/")[0].replace(".api.civicclerk.com", ".portal.civicclerk.com")
    documents = DocumentList()
    files = [f for f in row.get("publishedFiles") or [] if isinstance(f, dict)]
    for file in sorted(files, key=lambda f: f.get("sort") if isinstance(f.get("sort"), int) else 0):
        kind = str(file.get("type") or "").lower()
        label = file.get("name") or file.get("type")
        if file.get("url"):
            link = urljoin(ctx.url, "/" + str(file["url"]).lstrip("/"))
        elif file.get("fileId") not in (None, ""):
            link = f"{portal}/event/{row['id']}/files/agenda/{file['fileId']}"  # where the portal serves it
        else:
            continue
        documents.add(link, label, "packet" if "packet" in kind else "minutes" if "minutes" in kind
                      else "agenda" if "agenda" in kind else "other")
    if row.get("youtubeVideoId"):
        documents.add(f"https://www.youtube.com/watch?v={row['youtubeVideoId']}", "Video", "video")
    for key in ("externalMediaUrl", "mediaStreamPath"):
        media = row.get(key)
        if isinstance(media, str) and media.strip() and "://" not in media and not media.startswith("//"):
            media = urljoin(ctx.url, "/" + media.strip().lstrip("/"))  # `stream/...`: on the API's host, as its files
        documents.add(media, "Video", "video")
    by_kind = {str(f.get("type") or "").lower(): f for f in files}
    return meeting_record(
        source="civicclerk", ref=row["id"], body=row.get("categoryName") or ctx.body,
        title=_civicclerk_title(row), local=local,
        day=local.date(), zone=ctx.timezone,
        location=civicclerk_place(row.get("eventLocation")), comment_text=row.get("eventNotice"),
        documents=documents.items,
        agenda_posted=(by_kind.get("agenda") or by_kind.get("agenda packet") or {}).get("publishOn"),
        minutes_posted=(by_kind.get("minutes") or {}).get("publishOn"),
        url=f"{portal}/event/{row['id']}/overview", comment=row.get("eventNotice") or None,
        items=title_items(row.get("agendaName") or row.get("eventName"), ctx.keywords))


# CivicClerk's name for an event entered outside the body's schedule: its agenda's name says what it is
# (Brandon, MS: "One Time Event" of the category "General", its agenda "Work Session 10/05/2026")
_PLACEHOLDER_NAMES = frozenset({"one time event"})


def _civicclerk_title(row: dict[str, Any]) -> str:
    name, agenda = _text_of(row.get("eventName")), " ".join(_text_of(row.get("agendaName")).split())
    if agenda and (not name or name.lower() in _PLACEHOLDER_NAMES):
        return agenda
    return name or "Meeting"


def _text_of(value: Any) -> str:
    """A field's text as given, "" for none (an event without a name, a value that is no text)."""
    return value.strip() if isinstance(value, str) else ""


# -- BoardDocs ------------------------------------------------------------------------------------

_MEETING_OPEN, _MEETING_CLOSE = re.compile(rb"<meeting[\s>]"), re.compile(rb"</meeting\s*>")
_NUMBERING = re.compile(r"^\s*[\dA-Z]{1,3}(?:\.\d+)*\.?\s+")  # "1.01 ", "1. ", "A. "
# The scan of an export's bytes for its meetings' dates (`_boarddocs_window`): the export's head (an XML
# declaration of UTF-8 or none, then the root `<meetings>` and its attributes) and tail.
_ATTRIBUTES = rb"""((?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*"""
_EXPORT_HEAD = re.compile(rb"(?:\xef\xbb\xbf)?(?:<\?xml\s+version\s*=\s*[\"']1\.0[\"']"
                          rb"(?:\s+encoding\s*=\s*[\"'](?i:utf-8)[\"'])?(?:\s+standalone\s*=\s*[\"'](?:yes|no)[\"'])?"
                          rb"\s*\?>)?\s*<meetings" + _ATTRIBUTES + rb">")
_EXPORT_TAIL = re.compile(rb"</meetings\s*>\s*")
# a meeting's start tag (its id captured), then, when plainly written, its first children up to its
# first `<start>`'s first child, a `<date>` of digits
_MEETING_TAG = re.compile(rb"""<meeting((?:\s+(?:id\s*=\s*(?:"([^"]*)"|'([^']*)')|[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*')))*)"""
                          rb"\s*(/?)>(?:\s*(?:<(?!start>)[A-Za-z_][\w.-]*>[^<]*</[^>]*>\s*)*<start>\s*"
                          rb"<date(\s[^>]*)?>(\d{4}-\d\d-\d\d)</date>)?")
_MEETING_END = re.compile(rb"</meeting\s*>")
_BLANK = re.compile(rb"\s*")
_HTML_ELEMENTS = frozenset({"html", "head", "body", "div", "section", "main", "article", "table", "form", "p", "span",
                            "ul", "script", "meta", "link"})
# A document's first element, past an XML declaration and comments (a DTD is `parse_xml`'s to refuse).
# A comment's text never holds "--", so each comment is matched one way, however many there are.
_FIRST_ELEMENT = re.compile(rb"(?:<\?xml[^>]*\?>\s*)?(?:<!--(?:[^-]|-(?!-))*-->\s*)*<([A-Za-z][\w:.-]*)")
# an agenda item link `web_url` keeps as it is: printable ASCII without a blank (`[!-~]`), a host
# after a lower-case http(s) scheme (its first character no "/", "?", "#" or "\\"), no "@" before
# the path (user information: `safetext._misleading`)
_PLAIN_LINK = re.compile(r"https?://[\x21\x22\x24-\x2e\x30-\x3e\x41-\x5b\x5d-\x7e][\x21\x22\x24-\x2e\x30-\x3e\x41-\x7e]*"
                         r"(?:[/?#][!-~]*)?")
_LARGEST_TEXT = 10_000_000  # libxml2's largest text node without `huge_tree`: a larger export is parsed whole


def parse_boarddocs(data: bytes, ctx: ListingContext) -> Listing:
    """BoardDocs `XML-ActiveMeetings` export (meetings with their agenda items), or the JSON
    meeting list (`BD-GetMeetingsList`, or `BD-GETMeetingsListForSEO` with its times in descriptions).
    An export that is not well-formed (Akron's archive entries close a `</category>` they never
    opened) is read meeting by meeting (`_meeting_elements`), each `<meeting>` parsed on its own with
    recovery (such end tags dropped first, `_unopened_ends_dropped`); one that still cannot be read
    is its own problem line. An export holds years of meetings: those that cannot be in the window
    are not even parsed (`_boarddocs_window`), and those of the usual shape are read from the bytes,
    not from a tree (`_boarddocs_fast`)."""
    data = utf8_of(data)
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith((b"[", b"{")):
        return _boarddocs_list(data, ctx)
    if (first := _FIRST_ELEMENT.match(head)) and first.group(1).lower() != b"meetings":
        name = first.group(1).decode("ascii", "replace")[:20]
        page = ", an HTML page or part of one (a single meeting's page?)" if name.lower() in _HTML_ELEMENTS else ""
        raise SourceParseError(f"not a BoardDocs XML export (<meetings>): its first element is <{name}>{page}; "
                               "watch the site's XML export or its meeting list")
    kept = _boarddocs_window(data, ctx)
    if kept is not None and (listing := _boarddocs_kept(data, kept, ctx)) is not None:
        return listing
    try:
        root = parse_xml(data, SourceParseError, "a BoardDocs XML export", layout_only_blanks=True)
    except SourceParseError as whole:
        chunks = _meeting_elements(data)
        complete = data.rstrip().endswith(b"</meetings>")
        if not chunks or not complete or "refused" in str(whole) or "HTML page" in str(whole):
            raise  # a truncated export (or no export at all) is not read in part: the rest would look gone
        listing = _boarddocs_per_meeting(chunks, ctx)
        unmatched = len(re.findall(rb"<meeting[\s>]", data)) - len(chunks)
        if unmatched:
            listing.problems.append(f"{unmatched} meeting element(s) without an end: unreadable: {whole}")
        return listing
    return _boarddocs_tree(root, ctx)


def _boarddocs_tree(root: Any, ctx: ListingContext) -> Listing:
    return read_rows(root.iter("meeting"), _boarddocs_meeting, ctx,
                     lambda _n, node: (node.get("id"), node.findtext("name")))


class _WellFormed:
    """A parser target that builds nothing (libxml2 only checks the document, a quarter of the cost
    of building its tree) and notes whether the document holds a processing instruction."""

    def __init__(self) -> None:
        self.instruction = False

    def pi(self, target: str, data: str | None = None) -> None:
        self.instruction = True

    def close(self) -> bool:
        return not self.instruction


def _well_formed(data: bytes) -> bool:
    """Whether `data` parses whole without an error or a warning (then its tree would be built as
    `parse_xml` builds it) and holds no processing instruction (no `<` outside a tag)."""
    parser = safe_parser(target=_WellFormed())
    try:
        clean = etree.fromstring(data, parser)
    except etree.XMLSyntaxError:
        return False
    return bool(clean) and len(parser.error_log) == 0


def _boarddocs_window(data: bytes, ctx: ListingContext) -> list[tuple[int, int]] | None:
    """Where in `data` the meetings are that can be in the window (start, end), the others (their
    id and start date read on the bytes) left out; or None where the export must be parsed whole.
    The scan is exact or gives up: the export is proven well-formed
    (else it is read meeting by meeting), with no comment, CDATA, DTD or processing instruction (so
    every `<` opens a tag) and nothing but `<meeting>` elements in its `<meetings>` (so each runs from
    its start tag to the last `</meeting>` before the next); a meeting whose id and date are not
    plainly written is kept, and then read as in the whole export (its own problem line)."""
    if len(data) >= _LARGEST_TEXT or (b"!" in data and b"<!" in data):
        return None
    head = _EXPORT_HEAD.match(data)
    tail = data.rfind(b"</meetings")
    if not head or b"xml" in head.group(1) or tail < head.end() or not _EXPORT_TAIL.fullmatch(data, tail):
        return None  # a namespace or xml:space on the root would change what each meeting's tree is
    kept: list[tuple[int, int]] = []
    cursor, at = head.end(), data.find(b"<meeting", head.end(), tail)
    while at >= 0:
        tag = _MEETING_TAG.match(data, at)
        if not tag or not _BLANK.fullmatch(data, cursor, at):
            return None
        end = tag.end(4) + 1  # the start tag's end (the match may run on into its children)
        following = data.find(b"<meeting", end, tail)
        if not tag.group(4):  # not `<meeting .../>`
            close = data.rfind(b"</meeting", end, tail if following < 0 else following)
            if close < 0 or not (closed := _MEETING_END.match(data, close)):
                return None
            end = closed.end()
        if not _outside_window(tag, ctx):
            kept.append((at, end))
        cursor, at = end, following
    if cursor == head.end() or not _BLANK.fullmatch(data, cursor, tail) or not _well_formed(data):
        return None
    return kept


def _boarddocs_kept(data: bytes, kept: list[tuple[int, int]], ctx: ListingContext) -> Listing | None:
    """The listing of the meetings `_boarddocs_window` kept: each of the usual shape read from its
    bytes (`_boarddocs_fast`), the others parsed together in one export of just them, in their
    order; None when that export is most of `data` (parsing it all costs less then)."""
    read: list[Meeting | str | None] = []
    other: list[tuple[int, int]] = []
    for start, end in kept:
        if (outcome := _boarddocs_fast(data[start:end], ctx)) is _NOT_PLAIN:
            other.append((start, end))
        read.append(outcome)
    if other:
        if sum(end - start for start, end in other) > len(data) * 2 // 3:
            return None
        part = b"<meetings>" + b"".join(data[start:end] for start, end in other) + b"</meetings>"
        try:
            root = parse_xml(part, SourceParseError, "a BoardDocs XML export", layout_only_blanks=True)
        except SourceParseError:
            return None  # never seen (the meetings were parsed once already): read the whole export
        nodes = list(root.iter("meeting"))
        if len(nodes) != len(other):
            return None
        parsed = iter(nodes)
        for n, outcome in enumerate(read):
            if outcome is _NOT_PLAIN:
                node = next(parsed)
                try:
                    read[n] = _boarddocs_meeting(node, ctx)
                except Exception as exc:
                    read[n] = row_problem("meeting", node.get("id"), node.findtext("name"), exc)
    return Listing([m for m in read if isinstance(m, Meeting)], [p for p in read if isinstance(p, str)])


def _outside_window(tag: re.Match[bytes], ctx: ListingContext) -> bool:
    """Whether the meeting whose start tag (and first children) `tag` matched has an id and a start
    date, both plainly written, and that date is outside the window (`_boarddocs_meeting` would
    skip it). A namespace on its date would make it no `date` of the tree."""
    if tag.group(4) or not (tag.group(2) or tag.group(3)) or not tag.group(6) or b"xmlns" in (tag.group(5) or b""):
        return False
    try:
        day = date.fromisoformat(tag.group(6).decode())
    except ValueError:
        return False
    return not in_window(ctx, day)


# A tag as a scan for unopened end tags sees it: a comment, CDATA or processing instruction (passed
# over; one never ended runs to the end, as libxml2 loses the rest: sought again from each later `<`,
# thousands of them cost minutes; a `<?` naming no target is no instruction to libxml2, which reads
# on, and none here), else (end?, name, empty?) of an element's tag, its attributes quoted (a `>`
# may sit in one).
_SCANNED_TAG = re.compile(rb"""<(?:!--.*?(?:-->|\Z)|!\[CDATA\[.*?(?:\]\]>|\Z)|\?[A-Za-z_:\x80-\xff].*?(?:\?>|\Z)|"""
                          rb"""(/?)([A-Za-z_][-\w.:]*)"""
                          rb"""(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*(/?)>)""", re.S)


def _unopened_ends_dropped(chunk: bytes) -> bytes:
    """A meeting without its end tags that close no open element (Akron's archive entries close a
    `</category>` never opened): libxml2's recovery ends the meeting at such a tag and drops every
    category after it, unsaid. An end tag closing an element further up closes those between, as
    libxml2 closes them."""
    opened: list[bytes] = []
    dropped: list[tuple[int, int]] = []
    for tag in _SCANNED_TAG.finditer(chunk):
        end, name, empty = tag.groups()
        if name is None or empty:
            continue
        if not end:
            opened.append(name)
        elif name in opened:
            while opened.pop() != name:
                pass
        else:
            dropped.append(tag.span())
    if not dropped:
        return chunk
    kept, at = [], 0
    for start, stop in dropped:
        kept.append(chunk[at:start])
        at = stop
    return b"".join([*kept, chunk[at:]])


def _meeting_elements(data: bytes) -> list[bytes]:
    """Each `<meeting ...>` to the first `</meeting>` after it, in order (a non-greedy pattern's
    matches, found in linear time: where one has no end no later one has, and a pattern would seek
    it again from each later start, 19 s for 200 KB of unclosed meetings)."""
    found, at = [], 0
    while (start := _MEETING_OPEN.search(data, at)) and (end := _MEETING_CLOSE.search(data, start.end())):
        found.append(data[start.start():end.end()])
        at = end.end()
    return found


def _boarddocs_per_meeting(chunks: list[bytes], ctx: ListingContext) -> Listing:
    meetings, problems = [], []
    for chunk in chunks:
        try:
            node = parse_xml(_unopened_ends_dropped(chunk), ValueError, "a BoardDocs meeting", recover=True)
            if (meeting := _boarddocs_meeting(node, ctx)) is not None:
                meetings.append(meeting)
        except Exception as exc:
            ref = re.search(rb'\bid="([^"]{1,40})"', chunk)
            name = re.search(rb"<name>([^<]{0,200})</name>", chunk)
            problems.append(row_problem("meeting", ref.group(1).decode("utf-8", "replace") if ref else None,
                                        name.group(1).decode("utf-8", "replace") if name else None, exc))
    return Listing(meetings, problems)


def _boarddocs_day(ref: str | None, written: str, ctx: ListingContext) -> date | None:
    """A meeting's day, None when it is outside the window (its agenda items are then not read);
    ValueError for a meeting without an id or a date."""
    if not ref:
        raise ValueError("no meeting id")
    try:
        day = date.fromisoformat(written)
    except ValueError:
        raise ValueError(f"start date {written!r} is not a date") from None
    return day if in_window(ctx, day) else None


def _boarddocs_meeting(node: Any, ctx: ListingContext) -> Meeting | None:
    written = next((d.text or "" for start in node.iterchildren("start") for d in start.iterchildren("date")), "")
    if (day := _boarddocs_day(node.get("id"), written, ctx)) is None:
        return None
    items: list[dict[str, Any]] = []
    titles: list[str] = []
    location = None
    # Items sit in categories; an export's block may hold them in `<agendaitems>` right under the
    # meeting (Albany's public hearing, Akron's archive entries: past a `</category>` never opened),
    # a part of no section.
    for group in node.iter("category", "agendaitems"):
        if group.tag == "category":
            section, found = _one_line(_name_text(group) or ""), group.iter("item")
        elif group.getparent() is node:  # a category's items below it are read with that category
            section, found = "", (item for item in group.iter("item") if next(item.iterancestors("category"), None) is None)
        else:
            continue  # a category's own: read with it
        first = len(titles)
        for n, item in enumerate(found, start=1):
            # the item's fields, the last of each name (a comment's tag is no name: never asked for)
            said = {child.tag: child.text for child in item}
            title = _one_line(said.get("name") or "")
            titles.append(title)
            items.append({"key": item.get("id"), "sequence": n, "title": title, "section": section,
                          "matter": None, "action": said.get("actiontype") or None,
                          "url": _item_url(said.get("link")), "keywords": None})
        if location is None and "location of meeting" in section.lower():  # the room its items name
            location = "; ".join(p for p in (_NUMBERING.sub("", name) for name in titles[first:]) if p) or None
    return _boarddocs_record(node.get("id"), node.get("bodyname"), day, _child_text(node, "name"),
                             _child_text(node, "description"), _child_text(node, "link"), items, titles, location,
                             ctx)


def _boarddocs_record(ref: str, bodyname: str | None, day: date, name_text: str | None, description: str | None,
                      link_text: str | None, items: list[dict[str, Any]], titles: list[str], location: str | None,
                      ctx: ListingContext) -> Meeting:
    """The meeting of an export's `<meeting>` in the window, from its attributes, the text of its
    first `name`, `description` and `link` (None: no such child) and its agenda items (their
    keywords still to find, in their `titles`)."""
    for item, found in zip(items, _item_keywords(titles, ctx.keywords), strict=True):
        item["keywords"] = found
    name = " ".join((name_text or "Meeting").split())
    description = description or ""
    link = web_url(link_text)
    documents = DocumentList()
    if items:
        documents.add(link, "Agenda", "agenda")
    clock = time_for_day(day, name, description)
    return meeting_record(
        source="boarddocs", ref=ref, body=bodyname or ctx.body,
        title=name, local=datetime.combine(day, clock) if clock else None, day=day, zone=ctx.timezone,
        comment_text=description, location=location or place_in_name(name), url=link, documents=documents.items,
        items=items)


# -- an export's meeting of the usual shape, read from its text (`_boarddocs_fast`) ------------------
# The export is proven well-formed, with no comment, CDATA, DTD, processing instruction or namespace
# (`_boarddocs_window`): every `<` opens a tag and every `&` a predefined entity or a character
# reference. These patterns match the whole of a meeting, each field plain text, so what they
# capture is what its tree holds. White space `_W`: XML's line ends are normalized first (no "\r").
_W = r"[ \t\n]*"
_ATTR = r"""[ \t\n]+[^\s=/>"']+[ \t\n]*=[ \t\n]*(?:"[^"<]*"|'[^'<]*')"""
_LONE_CATEGORY = rf"<category(?:{_ATTR})*[ \t\n]*>{_W}<name>[^<]*</name>{_W}(?:<agendaitems>{_W}</agendaitems>{_W})?</category>{_W}"
_CATEGORY_START = rf"(?:<category(?:{_ATTR})*[ \t\n]*>{_W}<name>([^<]*)</name>{_W}(<)agendaitems>{_W})?"
# a meeting's start: its fields, then any categories without items, then the start of the first
# category with items (its name)
_FAST_HEAD = re.compile(
    rf"<meeting((?:{_ATTR})*)[ \t\n]*>{_W}<name>([^<]*)</name>{_W}<start>{_W}<date(?:{_ATTR})*[ \t\n]*>([^<]*)</date>"
    rf"{_W}(?:<english>{_W}<weekday>[^<]*</weekday>{_W}<date>[^<]*</date>{_W}</english>{_W})?</start>{_W}"
    rf"<description>([^<]*)</description>{_W}<link>([^<]*)</link>{_W}((?:{_LONE_CATEGORY})*){_CATEGORY_START}")
# (tried only from the first of a run of blanks: from a later one it goes on as from the first)
_FAST_ATTR = re.compile(r"""(?!(?<=[ \t\n])[ \t\n])[ \t\n]++([^\s=/>"']+)[ \t\n]*=[ \t\n]*(?:"([^"<]*)"|'([^'<]*)')""")
# The items of a meeting after its head, in one pattern: an item (its id, name, link and action
# type in that order, as BoardDocs writes them, then other fields of plain text, none an element the
# reader looks for); when it is its category's last, the category's end and the start of the next
# category with items, if one follows (its name); or categories without items, then the start of
# one with items, if one follows. An item's link is split: one `_PLAIN_LINK` keeps as it is, its
# only reference `&amp;` (a text never holds a raw `<`), or another.
# Any other `<` (a part of another shape) is a last match of its own, `stray`, taking the rest of
# the meeting: when there is none, the head and the matches hold every `<` of the meeting, and
# nothing was skipped but text between them (tails, which the tree reader never reads). (Counting
# the meeting's `<` against the matches' told the same, for a pass over the text.)
# As written in XML text (no "&" but "&amp;", no "<"): a character of the host part (no "/", "?",
# "#" ending it, no "@" of user information), and of the rest.
_LINK_HOST_TEXT = r"[\x21\x22\x24\x25\x27-\x2e\x30-\x3b\x3d\x3e\x41-\x7e]"
_LINK_REST_TEXT = r"[!-%'-;=-~]"
_PLAIN_LINK_TEXT = (rf"https?://(?:[\x21\x22\x24\x25\x27-\x2e\x30-\x3b\x3d\x3e\x41-\x5b\x5d-\x7e]|&amp;)"
                    rf"{_LINK_HOST_TEXT}*(?:&amp;{_LINK_HOST_TEXT}*)*"
                    rf"(?:[/?#]{_LINK_REST_TEXT}*(?:&amp;{_LINK_REST_TEXT}*)*)?")
_FAST_ITEM = re.compile(
    rf'<item id="([^"<&\t\n]*)" order="[0-9]*">{_W}<name>([^<]*)</name>{_W}'
    rf"<link>(?:({_PLAIN_LINK_TEXT})|([^<]*))</link>{_W}<actiontype>([^<]*)</actiontype>{_W}"
    rf"(?:<(?!(?:name|link|actiontype|item|category|meeting)>)[A-Za-z_][\w.-]*>[^<]*</[A-Za-z_][\w.-]*>{_W})*"
    rf"</item>{_W}(?:(<)/agendaitems>{_W}</category>{_W}" + _CATEGORY_START + ")?"
    rf"|((?:{_LONE_CATEGORY})+){_CATEGORY_START}"
    r"|(<)(?s:.*)")
_REFERENCE = re.compile(r"&(?:(amp|lt|gt|quot|apos)|#x([0-9A-Fa-f]+)|#([0-9]+));")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
_NOT_PLAIN: Any = object()  # `_boarddocs_fast`'s answer for a meeting it does not read


def _boarddocs_fast(chunk: bytes, ctx: ListingContext) -> Meeting | str | None:
    """`_boarddocs_meeting` of a `<meeting>` element of a proven export (see `_W`), its problem line
    when it cannot be read; read from its text when it has the usual shape (`_FAST_HEAD`,
    `_FAST_ITEM`), else `_NOT_PLAIN`. A tree costs its parse and an element proxy for each of
    thousands of items and their fields; one pattern over the text finds them all."""
    try:
        text = chunk.decode()
    except UnicodeDecodeError:
        return _NOT_PLAIN
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    head = _FAST_HEAD.match(text)
    close = text.rfind("</meeting")
    if head is None or "xmlns" in text:
        return _NOT_PLAIN
    attributes = {name: double + single for name, double, single in _FAST_ATTR.findall(head.group(1))}
    ref, bodyname = attributes.get("id"), attributes.get("bodyname")
    if any(c in value for value in (ref or "", bodyname or "") for c in "&\t\n"):
        return _NOT_PLAIN  # a value XML would normalize
    name_text = _xml_text(head.group(2))
    try:
        if (day := _boarddocs_day(ref, _xml_text(head.group(3)), ctx)) is None:
            return None
        items: list[dict[str, Any]] = []
        titles: list[str] = []
        location = None
        section, first, n, inside = _one_line(_xml_text(head.group(7) or "")), 0, 0, bool(head.group(8))
        # a name without a reference is its own title when it is ASCII, on one line and spaced
        # once (`_one_line`, without reading it char by char for `isprintable`): the meeting's
        # text looked at once for a tab, each name for a line break (the layout's); no other
        # blank `str.split` cuts at in ASCII is in a well-formed text (XML's `Char`; `\r` is gone)
        one_line_ascii = text.isascii() and text.find("\t", head.end(), close) < 0
        for key, name, plain, link, action, closed, named, opened, lone, lone_named, lone_opened, stray in \
                _FAST_ITEM.findall(text, head.end(), close):
            if lone:  # categories without items (they name no room), then maybe one with items
                if inside:
                    return _NOT_PLAIN
                if lone_opened:
                    section, first, n, inside = _one_line(_xml_text(lone_named)), len(titles), 0, True
                continue
            if stray or not inside:
                return _NOT_PLAIN  # a part of another shape, or an item outside a category
            n += 1
            if "&" in name:
                title = _one_line(_xml_text(name))
            elif one_line_ascii and "\n" not in name and "  " not in name and name[:1] != " " and name[-1:] != " ":
                title = name
            else:
                title = _one_line(name)
            titles.append(title)
            items.append({"key": key, "sequence": n, "title": title, "section": section, "matter": None,
                          "action": (_xml_text(action) if "&" in action else action) or None,
                          "url": plain.replace("&amp;", "&") if plain else _item_url(_xml_text(link) or None),
                          "keywords": None})
            if closed:  # the category's last item
                if location is None and "location of meeting" in section.lower():
                    location = "; ".join(p for p in (_NUMBERING.sub("", name) for name in titles[first:]) if p) or None
                inside = bool(opened)
                if inside:
                    section, first, n = _one_line(_xml_text(named)), len(titles), 0
        if inside:
            return _NOT_PLAIN  # a category left open: not the usual shape
        return _boarddocs_record(ref, bodyname, day, name_text, _xml_text(head.group(4)), _xml_text(head.group(5)),
                                 items, titles, location, ctx)
    except Exception as exc:
        return row_problem("meeting", ref, name_text, exc)


def _xml_text(raw: str) -> str:
    """Text as XML gives it: its references (every `&` of a well-formed text opens one) replaced."""
    if "&" not in raw:
        return raw
    if "&#" not in raw:  # no reference's text holds another's, so each can be replaced in turn
        return raw.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'") \
            .replace("&amp;", "&")
    return _REFERENCE.sub(lambda m: _ENTITIES[m.group(1)] if m.group(1) else chr(int(m.group(2), 16)) if m.group(2)
                          else chr(int(m.group(3))), raw)


def _one_line(text: str) -> str:
    """`" ".join(text.split())`, without making a list of its words, for the usual text already on
    one line (an agenda item's title can run to hundreds of words): printable, so the only blank is
    a space (every other character `split` cuts at is not printable), never two in a row, none at
    either end."""
    if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text
    return " ".join(text.split())


def _item_keywords(titles: list[str], keywords: Sequence[str]) -> list[list[str]]:
    """`keywords_each(titles, keywords)`, only the titles that hold a keyword's first word (in ASCII
    lower case, which every match holds) looked at one by one: a meeting's items often hold a
    keyword somewhere, and then each of dozens of titles would be."""
    firsts = [keyword.lower().split()[:1] for keyword in keywords]
    joined = "\n".join(titles)
    if not keywords or not all(firsts) or not all(keyword.isascii() for keyword in keywords) or not joined.isascii():
        return keywords_each(titles, keywords)
    lowered = joined.lower()
    holding: set[int] = set()
    for (word,) in firsts:
        line, counted = 0, 0
        at = lowered.find(word)
        while at >= 0:
            line += lowered.count("\n", counted, at)  # the title it is in: a word holds no line break
            holding.add(line)
            counted = lowered.find("\n", at)  # the next title: one hit a title is enough
            if counted < 0:
                break
            at = lowered.find(word, counted)
    found: list[list[str]] = [[] for _ in titles]
    if holding:
        some = sorted(holding)
        for n, said in zip(some, keywords_each([titles[n] for n in some], keywords), strict=True):
            found[n] = said
    return found


def _item_url(link: str | None) -> str | None:
    """`web_url(link)`, in one match for the usual agenda item link (`_PLAIN_LINK`): thousands of
    items in an export."""
    if type(link) is str and _PLAIN_LINK.fullmatch(link):
        return link
    return web_url(link)


def _child_text(node: Any, tag: str) -> str | None:
    """`node.findtext(tag)` for a plain child name, without the path machinery (thousands of calls
    on a large export): the first such child's text ("" when empty), None when there is none."""
    child = next(node.iterchildren(tag), None)
    return None if child is None else child.text or ""


def _name_text(node: Any) -> str | None:
    """`_child_text(node, "name")`, the children looked at in turn: a category's name comes first,
    so this is cheaper than the tag matcher `iterchildren` sets up (thousands of categories)."""
    for child in node:
        if child.tag == "name":
            return child.text or ""
    return None


def civicweb_list(rows: Any) -> bool:
    """Whether JSON rows are a CivicWeb / Diligent Community meeting list (`Id`, `Name`,
    `MeetingDateTime`: cities' `<org>.civicweb.net`, school boards' `<org>.community.highbond.com`),
    by their keys (tracker/meetings/civicweb.py reads it)."""
    return isinstance(rows, list) and bool(rows) and isinstance(rows[0], dict) and \
        {"Id", "Name"} <= set(rows[0]) and bool({"MeetingDateTime", "MeetingDate"} & set(rows[0]))


def _boarddocs_list(data: bytes, ctx: ListingContext) -> Listing:
    rows = read_json(data, "BoardDocs meeting list")
    if not isinstance(rows, list):
        raise SourceParseError("a BoardDocs meeting list is a JSON array")
    named = [row for row in rows if isinstance(row, dict) and row]
    if named and not any("unique" in row or "Unique" in row for row in named):
        keys = ", ".join(sorted({one_line(key)[:30] for row in named[:5] for key in row})[:8])
        other = " (a CivicWeb / Diligent Community meeting list, by its keys: watch it as civicweb)" \
            if civicweb_list(named) else ""
        raise SourceParseError(f"not a BoardDocs meeting list: no row has BoardDocs' meeting id ('unique'); its rows' "
                               f"keys: {keys}{other}")
    at = ctx.url.lower().find("board.nsf/")
    base = ctx.url[:at + len("board.nsf/")] if at >= 0 else None

    def read(row: dict[str, Any], ctx: ListingContext) -> Meeting | None:
        if row == {}:
            return None  # the list ends with an empty object
        if isinstance(row, dict) and "Unique" in row:  # the list for search engines (BD-GETMeetingsListForSEO)
            row = {"unique": row["Unique"], "name": row.get("Name"), "description": row.get("Description"),
                   "numberdate": str(row.get("Date") or "")[:10].replace("-", "")}
        if not row.get("unique"):
            raise ValueError("no meeting id ('unique')")
        written = str(row.get("numberdate") or "")
        try:
            day = datetime.strptime(written, "%Y%m%d").date()
        except ValueError:
            raise ValueError(f"date {written[:20]!r} is not a date") from None
        if not in_window(ctx, day):
            return None
        name = " ".join(str(row.get("name") or "Meeting").split())
        clock = time_for_day(day, name, row.get("description"))
        link = web_url(f"{base}goto?open&id={row['unique']}") if base else None
        documents = DocumentList()
        documents.add(link, "Agenda", "agenda")
        return meeting_record(
            source="boarddocs", ref=row["unique"], body=ctx.body, title=name,
            local=datetime.combine(day, clock) if clock else None, day=day, zone=ctx.timezone,
            location=place_in_name(name), url=link, documents=documents.items, items=title_items(name, ctx.keywords))

    return read_rows(rows, read, ctx,
                     lambda n, row: (row_field(row, "unique") or row_field(row, "Unique") or f"row {n + 1}",
                                     row_field(row, "name") or row_field(row, "Name")))
