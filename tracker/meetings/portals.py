"""Meeting portals that publish one listing document: PrimeGov (JSON), CivicClerk (OData JSON) and
BoardDocs (XML export). Each parser turns the listing into meetings of the shared shape (see
tracker/meetings/ical.py), keyed by the portal's own meeting id, never the start time.

CivicClerk's `startDateTime` carries a `Z` but is the body's local wall-clock time (a 7 PM Georgia
council meeting reads "19:00:00Z"): the `Z` is ignored and the time read in the body's zone.

One row that cannot be read (no id, a date that is no date) is that row's problem line; the other
rows are still read (`Listing.problems`), as for every listing parser.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any, TypeVar
from urllib.parse import urljoin

from tracker.meetings.normalize import (
    SourceParseError,
    cancellation,
    match_keywords,
    title_items,
    utc_iso,
)
from tracker.records import Listing, ListingContext, Meeting, MeetingStatus
from tracker.safetext import web_url
from tracker.safexml import html_instead, parse_xml

Row = TypeVar("Row")


def meeting_record(*, source: str, ref: Any, body: str, title: str, local: datetime | None, day: date, zone: str,
                   comment_text: str | None = None, **fields: Any) -> Meeting:
    """A listing's meeting: its wall-clock time read in the body's zone, cancelled when its title or
    notice says so (the source's own word kept)."""
    said = cancellation(title=title, comment=comment_text)
    return Meeting(
        source=source, source_ref=str(ref), body=body, title=title.strip(), date=day.isoformat(), timezone=zone,
        start=utc_iso(local, zone) if local else None, time_tbd=local is None,
        status=MeetingStatus.CANCELLED if said else MeetingStatus.CONFIRMED, status_text=said, **fields)


def read_rows(rows: Iterable[Row], read: Callable[[Row, ListingContext], Meeting], ctx: ListingContext,
              name: Callable[[int, Row], tuple[Any, Any]]) -> Listing:
    """Each row of a listing read on its own: one that cannot be read is that row's problem line
    (`name` gives its id and title), and the others are still read."""
    meetings, problems = [], []
    for n, row in enumerate(rows):
        try:
            meetings.append(read(row, ctx))
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
    return f"{what} {ref if ref not in (None, '') else '?'} ({name}): unreadable: {reason}"


def _field(row: Any, key: str) -> Any:
    """`row.get(key)` for a row that may not even be an object (a source's broken row)."""
    return row.get(key) if isinstance(row, dict) else None


def read_json(data: bytes, what: str) -> Any:
    """Parsed JSON, or SourceParseError with one line (an HTML error page is named as such)."""
    if problem := html_instead(data, "JSON"):
        raise SourceParseError(problem)
    try:
        return json.loads(data)
    except ValueError as exc:
        raise SourceParseError(f"not a readable {what}: {exc}") from None


def parse_primegov(data: bytes, ctx: ListingContext) -> Listing:
    """PrimeGov `api/v2/PublicPortal/ListArchivedMeetings` / `ListUpcomingMeetings`."""
    rows = read_json(data, "PrimeGov meeting list")
    if not isinstance(rows, list):
        raise SourceParseError("a PrimeGov meeting list is a JSON array")
    return read_rows(rows, _primegov_meeting, ctx,
                     lambda n, row: (_field(row, "id") or f"row {n + 1}", _field(row, "title")))


def _primegov_meeting(row: dict[str, Any], ctx: ListingContext) -> Meeting:
    if row.get("id") in (None, ""):
        raise ValueError("no meeting id")
    local = datetime.fromisoformat(str(row["dateTime"])[:19])
    docs: dict[str, tuple[str, str | None]] = {}
    for doc in sorted(row.get("documentList") or [], key=lambda d: d.get("compileOutputType") != 1):
        name = str(doc.get("templateName") or "").lower()
        kind = "minutes" if "minutes" in name else "agenda" if "agenda" in name and "packet" not in name else None
        if kind and kind not in docs:
            link = urljoin(ctx.url, f"/Public/CompiledDocument?meetingTemplateId={doc.get('templateId')}"
                                f"&compileOutputType={doc.get('compileOutputType')}")
            docs[kind] = (link, (doc.get("publishDate") or None))
    video = row.get("videoUrl") or None
    return meeting_record(
        source="primegov", ref=row["id"], body=ctx.body, title=row.get("title") or "Meeting", local=local,
        day=local.date(), zone=ctx.timezone,
        agenda_url=docs.get("agenda", (None, None))[0], agenda_posted=docs.get("agenda", (None, None))[1],
        minutes_url=docs.get("minutes", (None, None))[0], minutes_posted=docs.get("minutes", (None, None))[1],
        livestream_url=web_url(urljoin(ctx.url, video)) if video else None,
        url=urljoin(ctx.url, f"/Portal/Meeting?meetingId={row['id']}"),
        items=title_items(row.get("title"), ctx.keywords))


def parse_civicclerk(data: bytes, ctx: ListingContext) -> Listing:
    """CivicClerk `v1/Events` (OData: `{"value": [...]}`)."""
    payload = read_json(data, "CivicClerk event list")
    rows = payload.get("value") if isinstance(payload, dict) else None
    if not isinstance(rows, list):
        raise SourceParseError("a CivicClerk event list has a `value` array")
    return read_rows(rows, _civicclerk_meeting, ctx,
                     lambda n, row: (_field(row, "id") or f"row {n + 1}", _field(row, "eventName")))


def _civicclerk_meeting(row: dict[str, Any], ctx: ListingContext) -> Meeting:
    if row.get("id") in (None, ""):
        raise ValueError("no event id")
    local = datetime.fromisoformat(str(row["startDateTime"]).rstrip("Z")[:19])  # local time, misleading Z
    place = row.get("eventLocation") or {}
    location = ", ".join(str(place[k]) for k in ("address1", "address2", "city", "state") if place.get(k)) or None
    files = {f.get("type"): f for f in row.get("publishedFiles") or []}
    agenda, minutes = files.get("Agenda"), files.get("Minutes")
    portal = ctx.url.split("/v1/")[0].replace(".api.civicclerk.com", ".portal.civicclerk.com")
    return meeting_record(
        source="civicclerk", ref=row["id"], body=row.get("categoryName") or ctx.body,
        title=row.get("eventName") or "Meeting", local=local, day=local.date(), zone=ctx.timezone,
        location=location, comment_text=row.get("eventNotice"),
        agenda_url=web_url(urljoin(ctx.url, "/" + agenda["url"])) if agenda and agenda.get("url") else None,
        agenda_posted=agenda.get("publishOn") if agenda else None,
        minutes_url=web_url(urljoin(ctx.url, "/" + minutes["url"])) if minutes and minutes.get("url") else None,
        minutes_posted=minutes.get("publishOn") if minutes else None,
        livestream_url=web_url(row.get("externalMediaUrl")) or web_url(row.get("mediaStreamPath")),
        url=f"{portal}/event/{row['id']}/overview", comment=row.get("eventNotice") or None,
        items=title_items(row.get("agendaName"), ctx.keywords))


def parse_boarddocs(data: bytes, ctx: ListingContext) -> Listing:
    """BoardDocs `XML-ActiveMeetings` export: meetings with their agenda items (dates, no times)."""
    root = parse_xml(data, SourceParseError, "a BoardDocs XML export")
    return read_rows(root.iter("meeting"), _boarddocs_meeting, ctx,
                     lambda _n, node: (node.get("id"), node.findtext("name")))


def _boarddocs_meeting(node: Any, ctx: ListingContext) -> Meeting:
    if not node.get("id"):
        raise ValueError("no meeting id")
    written = node.findtext("start/date") or ""
    try:
        day = date.fromisoformat(written)
    except ValueError:
        raise ValueError(f"start date {written!r} is not a date") from None
    items = []
    for category in node.iter("category"):
        for n, item in enumerate(category.iter("item")):
            title = " ".join((item.findtext("name") or "").split())
            items.append({"key": item.get("id"), "sequence": n + 1, "title": title,
                          "section": " ".join((category.findtext("name") or "").split()),
                          "matter": None, "action": item.findtext("actiontype") or None,
                          "url": web_url(item.findtext("link")),
                          "keywords": match_keywords([title], ctx.keywords)})
    return meeting_record(
        source="boarddocs", ref=node.get("id"), body=node.get("bodyname") or ctx.body,
        title=node.findtext("name") or "Meeting", local=None, day=day, zone=ctx.timezone,
        comment_text=node.findtext("description"), url=web_url(node.findtext("link")),
        agenda_url=web_url(node.findtext("link")) if items else None, items=items)
