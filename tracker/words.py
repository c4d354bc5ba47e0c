"""How things are said to people: times in the body's (or the tracker's) zone, and the one label
of each kind of thing. Alerts, change summaries and the digest all say a meeting's time and name
the same way because they all ask here.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from tracker.billnumbers import ordinal
from tracker.records import Bill, Meeting

TBA = "time to be announced"
SHORT = "%a %b %-d, %-I:%M %p"  # Thu Dec 3, 10:00 AM (change summaries, headlines)
LONG = "%a %b %-d, %Y, %-I:%M %p %Z"  # Thu Dec 3, 2026, 10:00 AM EST (alerts, digest pages)


def _zone(zone: str | ZoneInfo) -> ZoneInfo:
    return zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)


def local_iso(utc_iso: str | None, zone: str | ZoneInfo) -> str | None:
    """A stored UTC instant with the body's own UTC offset (the JSON form)."""
    if not utc_iso:
        return None
    return datetime.fromisoformat(utc_iso.replace("Z", "+00:00")).astimezone(_zone(zone)).isoformat()


def local_time(utc_iso: str | None, zone: str | ZoneInfo, fmt: str = LONG) -> str:
    """A stored UTC instant as the body's own calendar shows it (EST, not UTC-05:00)."""
    if not utc_iso:
        return TBA
    return datetime.fromisoformat(utc_iso.replace("Z", "+00:00")).astimezone(_zone(zone)).strftime(fmt)


def meeting_when(meeting: Meeting, fmt: str = SHORT) -> str:
    """When a meeting is: its local time, else its day, else "a date to be announced"."""
    if meeting.start:
        return local_time(meeting.start, meeting.timezone or "UTC", fmt)
    return meeting.date or "a date to be announced"


def meeting_label(meeting: Meeting) -> str:
    """"Committee on Finance" (Legistar: the body is the meeting's name) or "Detroit Board of
    Education Finance Sub-Committee Meeting" (a feed: the body, then the event's own title)."""
    body, title = meeting.body or "", meeting.title or "meeting"
    return body if title == body else f"{body} {title}".strip()


def bill_label(bill: Bill) -> str:
    """"S. 1260 (117th)"."""
    return f"{bill.display} ({ordinal(int(bill.congress or 0))})"
