"""How things are said to people: times in the body's (or the tracker's) zone, and the one label
of each kind of thing. Alerts, change summaries and the digest all say a meeting's time and name
the same way because they all ask here.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from tracker import states
from tracker.billnumbers import ordinal
from tracker.changes import ChangeLike
from tracker.changes import lead_change as lead_change  # where alerts have always imported it
from tracker.meetings.normalize import match_keywords
from tracker.records import Bill, Matter, Meeting, Record, StateBill
from tracker.safetext import one_line

TBA = "time to be announced"
# A meeting document's kind as people say it (`Document.kind`).
DOCUMENT_NOUNS = {"agenda": "Agenda", "packet": "Agenda packet", "minutes": "Minutes", "video": "Video",
                  "other": "Document"}
SHORT = "%a %b %-d, %-I:%M %p"  # Thu Dec 3, 10:00 AM (change summaries, headlines)
LONG = "%a %b %-d, %Y, %-I:%M %p %Z"  # Thu Dec 3, 2026, 10:00 AM EST (alerts, digest pages)
# A time shown to an operator: short, with the zone, since a terminal may be elsewhere
# ("Wed Nov 25, 8:15 AM EST": status lines, the stuck-run line and its alert).
STAMP = f"{SHORT} %Z"


def document_noun(kind: str | None) -> str:
    """"Agenda packet" for `packet`: what a meeting's document is called in alerts and the digest."""
    return DOCUMENT_NOUNS.get(kind or "", "Document")


def _zone(zone: str | ZoneInfo) -> ZoneInfo:
    return zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)


def local_iso(utc_iso: str | None, zone: str | ZoneInfo) -> str | None:
    """A stored UTC instant with the body's own UTC offset (the JSON form)."""
    if not utc_iso:
        return None
    return datetime.fromisoformat(utc_iso.replace("Z", "+00:00")).astimezone(_zone(zone)).isoformat()


def local_time(utc_iso: str | None, zone: str | ZoneInfo, fmt: str = LONG) -> str:
    """A stored UTC instant as the body's own calendar shows it (EST, not UTC-05:00). A day alone (a
    meeting's start before its time was announced, as a move's `from` keeps it) is that day: read
    as an instant it was midnight UTC, the evening before in America."""
    if not utc_iso:
        return TBA
    if len(utc_iso) == 10:
        return f"{day_words(utc_iso)}, {TBA}"
    return datetime.fromisoformat(utc_iso.replace("Z", "+00:00")).astimezone(_zone(zone)).strftime(fmt)


def runs_in_a_row(count: int) -> str:
    """A source's failing runs as `status` and `status --check` both say them: "2 runs in a row"."""
    return f"{count} run{'s' if count != 1 else ''} in a row"


def day_words(iso_date: str | None) -> str:
    """"Thu Dec 17, 2026" for 2026-12-17 (a bill's latest action, a hearing day, a meeting whose
    time is to be announced): what people read, never the ISO form the JSON keeps."""
    if not iso_date:
        return "a date to be announced"
    try:
        return datetime.fromisoformat(iso_date[:10]).strftime("%a %b %-d, %Y")
    except ValueError:
        return iso_date


def meeting_when(meeting: Meeting, fmt: str = SHORT) -> str:
    """When a meeting is: its local time, else its day in words, else "a date to be announced"."""
    if meeting.start:
        return local_time(meeting.start, meeting.timezone or "UTC", fmt)
    return day_words(meeting.date)


def meeting_label(meeting: Meeting) -> str:
    """"Committee on Finance" (Legistar: the body is the meeting's name), "Detroit Board of
    Education Finance Sub-Committee Meeting" (a feed: the body, then the event's own title), or the
    title alone where it names the body ("Zoning Committee - Regular Committee Meeting", an IQM2
    row of the Zoning Committee: never "Zoning Committee Zoning Committee - ...")."""
    body, title = meeting.body or "", meeting.title or "meeting"
    if title == body or (body.strip() and match_keywords([title], [body])):
        return title
    return f"{body} {title}".strip()


def bill_label(bill: Bill) -> str:
    """"S. 1260 (117th)"."""
    return f"{bill.display} ({ordinal(int(bill.congress or 0))})"


# -- changes in words -------------------------------------------------------------------------------

STAGE_WORDS = {
    "introduced": "was introduced",
    "referred": "was referred to committee",
    "reported": "was reported by committee",
    "passed_house": "passed the House",
    "passed_senate": "passed the Senate",
    "passed_both": "passed both chambers",
    "to_president": "went to the President",
    "enacted": "became law",
    "vetoed": "was vetoed",
    "failed": "failed",
}
KIND_WORDS = {
    "bill.introduced": "introduced",
    "bill.action": "new action",
    "bill.stage": "new stage",
    "bill.cosponsor_added": "cosponsor added",
    "bill.cosponsor_withdrawn": "cosponsor withdrew",
    "bill.title": "new title",
    "bill.vote": "recorded vote",
    "meeting.added": "meeting scheduled",
    "meeting.cancelled": "meeting cancelled",
    "meeting.restored": "meeting back on",
    "meeting.rescheduled": "meeting moved",
    "meeting.location": "meeting moved to a new place",
    "meeting.agenda_posted": "agenda posted",
    "meeting.minutes_posted": "minutes posted",
    "agenda.item_added": "on the agenda",
    "matter.status": "new status",
}
DAY = "%a %b %-d"  # Mon Dec 14


def change_words(kind: str, data: dict[str, Any] | None = None) -> str:
    """A change kind as people say it: "passed the Senate", "meeting cancelled", never `bill.stage`."""
    if kind == "bill.stage" and data and data.get("to"):
        if data.get("state"):  # a state bill's stage, in its state's words ("passed the Assembly")
            return states.stage_change_words(data, str(data["state"]))
        if data.get("back"):
            return stage_back_words(str(data.get("from")))
        return STAGE_WORDS.get(data["to"], str(data["to"]).replace("_", " "))
    return KIND_WORDS.get(kind, kind.split(".", 1)[-1].replace("_", " "))


def stage_back_words(was: str) -> str:
    """A federal bill whose record went back a stage (an action taken out, GovInfo's data
    corrected): said as what its record no longer shows, never as news of the earlier stage."""
    return f"the record no longer shows that it {STAGE_WORDS.get(was, was.replace('_', ' '))}"


def headline(changes: Sequence[ChangeLike], record: Record | None) -> str:
    """One line saying the most important of one entity's changes: `S. 1260 passed the Senate`,
    `Cancelled: Committee on Public Safety, Thu Dec 3, 10:00 AM`, `On the agenda: ShotSpotter —
    Committee on Public Safety, Mon Dec 14`. It is a message's title (a mail's Subject header): a
    line break or control character in a source's name or title becomes a space (`one_line`)."""
    return one_line(_headline(changes, record))


def _headline(changes: Sequence[ChangeLike], record: Record | None) -> str:
    if isinstance(record, StateBill):
        return states.headline(changes, record)
    lead = lead_change(changes)
    same = [c for c in changes if c.kind == lead.kind]
    data = lead.data or {}
    if isinstance(record, Bill):
        name = record.display
        if lead.kind == "bill.stage":
            return f"{name}{':' if data.get('back') else ''} {change_words(lead.kind, data)}"
        if lead.kind == "bill.introduced":
            return f"{name} introduced: {record.title}"
        if lead.kind == "bill.action":
            newest = max(same, key=lambda c: c.occurred_at or "")
            text = (newest.data or {}).get("text") or newest.summary
            return _short(f"{name}: {text}" + (f" (and {len(same) - 1} more actions)" if len(same) > 1 else ""))
        if lead.kind in ("bill.cosponsor_added", "bill.cosponsor_withdrawn"):
            verb = "joined as a cosponsor" if lead.kind == "bill.cosponsor_added" else "withdrew as a cosponsor"
            if len(same) == 1:
                return f"{name}: {data.get('name') or 'a member'} {'re' if data.get('rejoined') else ''}{verb}"
            return f"{name}: {len(same)} members {verb.replace('a cosponsor', 'cosponsors')}"
        if lead.kind == "bill.title":
            return _short(f"{name} is now titled: {data.get('to')}")
    if isinstance(record, Meeting):
        label, when = meeting_label(record), meeting_when(record)
        if lead.kind == "meeting.cancelled":
            word = (record.status_text or "cancelled").strip()
            word = "Cancelled" if word.lower().startswith("cancel") else word[:1].upper() + word[1:].lower()
            return f"{word}: {label}, {when}"
        if lead.kind == "meeting.restored":
            return f"Back on: {label}, {when}"
        if lead.kind == "meeting.rescheduled":
            return f"Moved: {label}, now {when}"
        if lead.kind == "meeting.location":
            return _short(f"New place: {label}, {when}: {record.location}")
        if lead.kind == "agenda.item_added":
            keywords = sorted({k for c in same for k in (c.data or {}).get("keywords") or []})
            day = meeting_when(record, DAY) if record.start else (record.date or "date to be announced")
            return _short(f"On the agenda: {', '.join(keywords)} — {label}, {day}")
        if lead.kind in ("meeting.agenda_posted", "meeting.minutes_posted"):
            noun = "Agenda" if lead.kind == "meeting.agenda_posted" else "Minutes"
            return f"{noun} posted: {label}, {when}"
        if lead.kind == "meeting.added":
            return f"Scheduled: {label}, {when}"
    if isinstance(record, Matter) and lead.kind == "matter.status":
        return _short(f"{record.file or record.name}: now {data.get('to')}")
    return _short(lead.summary)


def _short(text: str, limit: int = 150) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- the digest's addresses -----------------------------------------------------------------------

SLUG_LENGTH = 120  # a page's name at most, before its extension


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:SLUG_LENGTH] or "item"


def meeting_page(entity_key: str) -> str:
    """A meeting's page in the digest, without its extension: `.html` is the page, `.ics` its
    calendar entry (alerts link to both when `[digest] url` is set). A key whose slug is too long
    (an Outlook UID, then a recurring meeting's day) ends in a hash of the whole key: cut short,
    every meeting of the series had one page and one calendar entry."""
    name = re.sub(r"[^a-z0-9]+", "-", entity_key.lower()).strip("-")
    if len(name) > SLUG_LENGTH:
        name = f"{name[:SLUG_LENGTH - 17].rstrip('-')}-{hashlib.sha256(entity_key.encode()).hexdigest()[:16]}"
    return f"meetings/{name or 'item'}"
