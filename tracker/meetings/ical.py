"""iCalendar feeds (icalendar + recurring-ical-events).

A meeting's identity is its UID, plus its RECURRENCE-ID for one instance of a recurring series,
never its start time: a moved meeting is the same meeting. One broken VEVENT is reported and
skipped; the rest of the feed is still read.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import recurring_ical_events
from icalendar import Calendar

from tracker.meetings.normalize import SourceParseError, cancellation, title_items, web_url
from tracker.records import Listing, ListingContext, Meeting, MeetingStatus
from tracker.safexml import html_instead


def _instant(value: Any, zone: ZoneInfo) -> tuple[datetime, bool]:
    """(UTC instant, all-day?) from a DTSTART value; floating times are in the body's zone."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=zone)
        return value.astimezone(UTC), False
    if isinstance(value, date):
        return datetime.combine(value, time(0, 0), zone).astimezone(UTC), True
    raise ValueError(f"DTSTART {value!r} is not a date or time")


def parse_ical(data: bytes, ctx: ListingContext) -> Listing:
    """Meetings in the window, and one line per event that could not be read. A meeting whose title
    matches a keyword shows it as its one item, as every listing without agenda items does."""
    if problem := html_instead(data, "an iCalendar feed"):
        raise SourceParseError(problem)
    try:
        calendar = Calendar.from_ical(data)
    except Exception as exc:
        raise SourceParseError(f"not a readable iCalendar feed: {exc}") from None
    zone = ZoneInfo(ctx.timezone)
    problems: list[str] = []
    recurring: set[str] = set()
    for component in list(calendar.subcomponents):
        if component.name != "VEVENT":
            continue
        uid = str(component.get("UID") or "")
        try:
            if not uid:
                raise ValueError("no UID")
            _instant(component.decoded("DTSTART"), zone)
        except Exception as exc:
            problems.append(f"event {uid or '?'} ({component.get('SUMMARY', 'no title')}): unreadable: {exc}")
            calendar.subcomponents.remove(component)
            continue
        if component.get("RRULE") or component.get("RDATE") or component.get("RECURRENCE-ID"):
            recurring.add(uid)
    meetings: list[Meeting] = []
    for event in recurring_ical_events.of(calendar).between(ctx.window_start, ctx.window_end):
        uid = str(event.get("UID"))
        start, all_day = _instant(event.decoded("DTSTART"), zone)
        ref = uid
        if uid in recurring:
            original = event.get("RECURRENCE-ID")
            instance = _instant(original.dt, zone)[0] if original is not None else start
            ref = f"{uid}@{instance.strftime('%Y%m%dT%H%M%SZ')}"
        title = str(event.get("SUMMARY") or "Meeting").strip()
        status_word = str(event.get("STATUS") or "")
        said = cancellation(status=status_word, title=title, comment=str(event.get("DESCRIPTION") or ""))
        day = start.astimezone(zone).date().isoformat() if not all_day else event.decoded("DTSTART").isoformat()
        status = (MeetingStatus.CANCELLED if said
                  else MeetingStatus.TENTATIVE if status_word.upper() == "TENTATIVE" else MeetingStatus.CONFIRMED)
        meetings.append(Meeting(
            source="ical", source_ref=ref, body=ctx.body, title=title, date=day, timezone=ctx.timezone,
            start=None if all_day else start.isoformat(), time_tbd=all_day,
            location=str(event.get("LOCATION") or "").strip() or None, status=status, status_text=said,
            url=web_url(event.get("URL")), items=title_items(title, ctx.keywords)))
    meetings.sort(key=lambda mt: (mt.date or "", mt.source_ref))
    return Listing(meetings, problems)
