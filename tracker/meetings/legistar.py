"""Legistar Web API records → normalized meetings and council matters (pure functions).

Legistar gives a meeting's day (`EventDate`, midnight, no zone) and its local clock time as a
separate string (`EventTime`: "10:00 AM", "13:00", null, "TBD"); both are read in the body's zone.
Which records to fetch is the spider's business; this module only reads them.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time
from typing import Any

from tracker.meetings.normalize import (
    SourceParseError,
    cancellation,
    in_window,
    match_keywords,
    utc_iso,
)
from tracker.meetings.portals import read_json, read_rows
from tracker.records import AgendaItem, Listing, ListingContext, Matter, MatterAction, Meeting, MeetingStatus
from tracker.safetext import web_url

# Fields left out of an event's fingerprint: its row version, and the items we fetch separately.
# `EventLastModifiedUtc` stays in: it is the source's own word that something (maybe only the
# items) changed, so a moved stamp re-fetches the items; the snapshot never holds the stamp, so
# the stamp alone is never reported.
_VOLATILE = {"EventRowVersion", "EventItems"}
_TIME_FORMATS = ("%I:%M %p", "%I:%M%p", "%H:%M", "%I %p", "%I%p", "%H:%M:%S")


# Legistar's ids are SQL Server `int`s: a positive number of at most ten digits.
MAX_ID = 2**31 - 1


def api_id(value: Any) -> int | None:
    """An id as the API gives it (`EventId`, `MatterId`, `EventBodyId`, a person's id): a positive
    JSON integer, else None. The answer is untrusted and an id goes into request paths and entity
    keys, so text ("12/../x", "1?$top=1"), a bool, a float (`int()` would make 7702.5 another
    person's 7702) or a number out of range is no id."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 0 < value <= MAX_ID else None


def api_datetime(value: str | None) -> datetime | None:
    """Legistar timestamps are UTC without a zone ("2024-09-21T00:49:38.617")."""
    if not value:
        return None
    return datetime.fromisoformat(value[:19]).replace(tzinfo=UTC)


@functools.lru_cache(maxsize=1024)
def local_time(text: str | None) -> time | None:
    """The clock time of `EventTime`, or None when absent or not a time ("TBD", "Recess"). A body's
    events repeat a few times of day: each is read once."""
    cleaned = re.sub(r"\s+", " ", (text or "").strip().upper().replace(".", ""))
    for fmt in _TIME_FORMATS:
        try:
            return datetime.strptime(cleaned, fmt).time()
        except ValueError:
            continue
    return None


def event_start(event: dict[str, Any], zone: str) -> tuple[str | None, str | None, bool]:
    """(UTC start ISO or None, local date, time to be announced?) for an event."""
    raw_date = event.get("EventDate")
    if not raw_date:
        return None, None, True
    day = date.fromisoformat(str(raw_date)[:10])
    clock = local_time(event.get("EventTime"))
    if clock is None:
        return None, day.isoformat(), True
    return utc_iso(datetime.combine(day, clock), zone), day.isoformat(), False


def event_fingerprint(event: dict[str, Any], keywords: Sequence[str] | Mapping[str, Sequence[str]],
                      parser_version: str) -> str:
    """Hash of an event's own fields, its modification stamp included (and the keywords, which
    decide matching items: the watch's, or each holding watch's by its id, and the parser version,
    which reads them): when it is unchanged the event's items need not be fetched again."""
    fields = {k: v for k, v in event.items() if k not in _VOLATILE}
    said: Any = ({watch: sorted(words) for watch, words in keywords.items()} if isinstance(keywords, Mapping)
                 else sorted(keywords))
    text = json.dumps([fields, said, parser_version], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def in_bodies(event: dict[str, Any], bodies: list[str]) -> bool:
    """Bodies are named in config by name (case-insensitive) or numeric id; none = every body."""
    if not bodies:
        return True
    name = str(event.get("EventBodyName") or "").strip().lower()
    ident = str(event.get("EventBodyId") or "")
    return any(b.strip().lower() == name or b.strip() == ident for b in bodies)


# Blanks around a line break. Tried only from the first of a run of blanks, and taken possessively:
# tried from each of a run of blanks with no line break after it, each read on to the run's end (n²
# steps: a field of 20,000 blanks took 5 s).
_LINE_BLANKS = re.compile(r"(?!(?<=[ \t])[ \t])[ \t]*+\r?\n[ \t]*")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    cleaned = _LINE_BLANKS.sub("\n", str(value)).strip()
    return cleaned or None


def _order(sequence: Any) -> float:
    """A sequence number to sort by when numbers and text are mixed: a number as given, one given
    as text read as one, else 0."""
    if isinstance(sequence, int | float) and not isinstance(sequence, bool):
        return sequence
    try:
        number = float(str(sequence).strip())
    except ValueError:
        return 0
    return number if math.isfinite(number) else 0


def normalize_items(rows: list[dict[str, Any]], keywords: Sequence[str] | Mapping[str, Sequence[str]]) -> list[AgendaItem]:
    """Agenda (and minutes-only) items, in agenda order, each with the keywords it matches in its
    title, matter name or attachment names. `keywords` by the id of each watch holding the meeting:
    each item says which of each watch's it matches (`watches`, [] for none), `keywords` their
    union, so every watch's crawl stores the same record (`records.items_for`)."""
    by_watch = dict(keywords) if isinstance(keywords, Mapping) else None
    every = sorted({k for words in by_watch.values() for k in words}) if by_watch is not None else keywords
    items: list[AgendaItem] = []
    for row in rows:
        if not isinstance(row, dict):  # a `null` row is no item
            continue
        attachments = [
            {"name": _text(a.get("MatterAttachmentName")), "url": web_url(a.get("MatterAttachmentHyperlink"))}
            for a in row.get("EventItemMatterAttachments") or []
        ]
        title = _text(row.get("EventItemTitle")) or _text(row.get("EventItemMatterName"))
        found = match_keywords(
            [title, row.get("EventItemMatterName"), *(a["name"] for a in attachments)], every
        )
        item: AgendaItem = {
            "key": str(row.get("EventItemId")),
            "sequence": row.get("EventItemAgendaSequence"),
            "minutes_sequence": row.get("EventItemMinutesSequence"),
            "on_agenda": row.get("EventItemAgendaSequence") is not None,
            "title": title,
            "matter": row.get("EventItemMatterFile"),
            "matter_id": row.get("EventItemMatterId"),
            "matter_name": _text(row.get("EventItemMatterName")),
            "matter_guid": row.get("EventItemMatterGuid"),
            "matter_status": row.get("EventItemMatterStatus"),
            "matter_type": row.get("EventItemMatterType"),
            "action": row.get("EventItemActionName"),
            "agenda_note": _text(row.get("EventItemAgendaNote")),
            "minutes_note": _text(row.get("EventItemMinutesNote")),
            "attachments": attachments if found else [],
            "keywords": found,
        }
        if by_watch is not None:  # every holding watch, matched or not ([]): who holds the meeting
            item["watches"] = {watch: [k for k in words if k in found] for watch, words in sorted(by_watch.items())}
        items.append(item)
    try:  # as ever, so a meeting read before is stored as it was
        items.sort(key=lambda i: (i["sequence"] is None, i["sequence"] or 0, i["minutes_sequence"] or 0, i["key"]))
    except TypeError:  # a number and text side by side
        items.sort(key=lambda i: (i["sequence"] is None, _order(i["sequence"]), _order(i["minutes_sequence"]),
                                  i["key"]))
    return items


def final_agenda(status: str | None) -> bool:
    """An agenda status saying the agenda is final, however the client writes it ("Final", Oakland's
    "FINAL", "Final-revised"), or revised after it was (Seattle's "Revised", Laredo's "As Amended":
    a published agenda, changed since; those meetings were held)."""
    return (status or "").strip().lower().startswith(("final", "revised", "as amended"))


def minutes_cancelled(status: str | None) -> str | None:
    """A minutes status "Cancelled" is the clerk's word that the meeting did not take place, even
    where its agenda still says "Final" (Seattle). Only that word: minutes "Deferred" may be
    minutes put off, not the meeting."""
    return status.strip() if status and status.strip().lower() in ("cancelled", "canceled") else None


def normalize_event(event: dict[str, Any], items: list[AgendaItem] | None, *, zone: str) -> Meeting:
    """One meeting in the shape every meeting source shares; Legistar's `EventAgendaStatusName`
    says tentative ("Draft"), confirmed ("Final") or off ("Deferred", "Canceled"), as may its
    `EventComment` ("Cancellation Notice") and `EventMinutesStatusName`."""
    start, day, tbd = event_start(event, zone)
    agenda_status = event.get("EventAgendaStatusName")
    said = (cancellation(status=agenda_status, comment=event.get("EventComment"),
                         day=date.fromisoformat(day) if day else None)
            or minutes_cancelled(event.get("EventMinutesStatusName")))
    agenda_posted = api_datetime(event.get("EventAgendaLastPublishedUTC"))
    minutes_posted = api_datetime(event.get("EventMinutesLastPublishedUTC"))
    status = (MeetingStatus.CANCELLED if said
              else MeetingStatus.CONFIRMED if final_agenda(agenda_status) else MeetingStatus.TENTATIVE)
    return Meeting(
        source="legistar", source_ref=str(event["EventId"]), body=_text(event.get("EventBodyName")),
        title=_text(event.get("EventBodyName")) or "Meeting", date=day, timezone=zone, start=start, time_tbd=tbd,
        location=_text(event.get("EventLocation")), status=status, status_text=said,
        agenda_url=web_url(event.get("EventAgendaFile")),
        agenda_posted=agenda_posted.isoformat() if agenda_posted and event.get("EventAgendaFile") else None,
        agenda_status=agenda_status,
        minutes_url=web_url(event.get("EventMinutesFile")),
        minutes_posted=minutes_posted.isoformat() if minutes_posted and event.get("EventMinutesFile") else None,
        minutes_status=event.get("EventMinutesStatusName"),
        comment=_text(event.get("EventComment")),
        # Clients that keep their video elsewhere give its address as `EventMedia` (Laredo's
        # Swagit, New York's Viebit, Seattle Channel, YouTube); others give a media id there.
        livestream_url=web_url(event.get("EventVideoPath")) or web_url(event.get("EventMedia")),
        url=web_url(event.get("EventInSiteURL")),
        items=items if items is not None else [],
        extra={"body_id": event.get("EventBodyId"), "media_id": event.get("EventMedia") or None},
    )


def matter_fields(record: dict[str, Any]) -> dict[str, Any]:
    """What a matter is, from its own record (`/matters/{id}`)."""
    return {"id": record.get("MatterId"), "file": record.get("MatterFile"), "name": _text(record.get("MatterName")),
            "type": record.get("MatterTypeName"), "status": record.get("MatterStatusName"),
            "guid": record.get("MatterGuid")}


def item_matter_fields(item: dict[str, Any]) -> dict[str, Any]:
    """The same facts as an agenda item carries them (Legistar joins them live), saving a request."""
    return {"id": item.get("matter_id"), "file": item.get("matter"), "name": item.get("matter_name"),
            "type": item.get("matter_type"), "status": item.get("matter_status"), "guid": item.get("matter_guid")}


def normalize_matter(fields: dict[str, Any], histories: list[dict[str, Any]], *, client: str) -> Matter:
    """A council matter with its status and its history, repeated rows merged (Legistar repeats a
    history row with a new id; the action, its date and its body make the identity)."""
    actions: dict[tuple[Any, ...], MatterAction] = {}
    for row in histories:
        if not isinstance(row, dict):  # a `null` row is no action
            continue
        when = api_datetime(row.get("MatterHistoryActionDate"))
        action: MatterAction = {
            "date": when.date().isoformat() if when else None,
            "action": _text(row.get("MatterHistoryActionName")),
            "body": _text(row.get("MatterHistoryActionBodyName")),
            "passed": row.get("MatterHistoryPassedFlagName"),
            "text": _text(row.get("MatterHistoryActionText")),
            "event_id": row.get("MatterHistoryEventId"),
        }
        actions.setdefault((action["date"], action["action"], action["body"], action["passed"]), action)
    history = sorted(actions.values(), key=lambda a: (a["date"] or "", a["action"] or ""))
    url = None
    if fields.get("guid"):
        url = f"https://{client}.legistar.com/LegislationDetail.aspx?ID={fields['id']}&GUID={fields['guid']}"
    return Matter(source="legistar", source_ref=str(fields["id"]), file=fields.get("file"), name=fields.get("name"),
                  type=fields.get("type"), status=fields.get("status"), history=history, url=url)


def meeting_key(client: str, event_id: Any) -> str:
    return f"meeting:legistar:{client}:{event_id}"


def matter_key(client: str, matter_id: Any) -> str:
    return f"matter:legistar:{client}:{matter_id}"


def body_key(client: str, body_id: Any) -> str:
    return f"body:legistar:{client}:{body_id}"


def parse_events(data: bytes, ctx: ListingContext) -> Listing:
    """A Web API events response (`/events`: a list; `/events/{id}`: one event) read as a listing,
    each event a meeting without its items (the spider asks for those separately). One event that
    cannot be read is its own problem line."""
    events = read_json(data, "Legistar event list")
    if isinstance(events, dict) and "EventId" in events:
        events = [events]
    if not isinstance(events, list):
        raise SourceParseError("a Legistar event list is a JSON array of events")
    def read(event: dict[str, Any], ctx: ListingContext) -> Meeting | None:
        day = str(event.get("EventDate") or "")[:10]
        if day and not in_window(ctx, date.fromisoformat(day)):
            return None
        return normalize_event(event, None, zone=ctx.timezone)

    return read_rows(events, read, ctx,
                     lambda n, event: (event.get("EventId") if isinstance(event, dict) else f"row {n + 1}",
                                       event.get("EventBodyName") if isinstance(event, dict) else None))
