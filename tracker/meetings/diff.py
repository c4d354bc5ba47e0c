"""What a human wants to hear about between two states of a meeting or a council matter (pure)."""

from __future__ import annotations

from typing import Any

from tracker.changes import Change, dedupe_key
from tracker.meetings.normalize import local_iso, local_words


def _label(meeting: dict[str, Any]) -> str:
    """"Committee on Finance" (Legistar: the body is the meeting's name) or "Detroit Board of
    Education Finance Sub-Committee Meeting" (a feed: the body, then the event's own title)."""
    body, title = meeting.get("body") or "", meeting.get("title") or "meeting"
    return body if title == body else f"{body} {title}".strip()


def _when(meeting: dict[str, Any]) -> str:
    if meeting.get("start"):
        return local_words(meeting["start"], meeting.get("timezone") or "UTC")
    return meeting.get("date") or "a date to be announced"


def diff_meeting(old: dict[str, Any] | None, new: dict[str, Any], entity: str) -> list[Change]:
    zone = new.get("timezone") or "UTC"
    url = new.get("url") or new.get("agenda_url")
    start = local_iso(new.get("start"), zone) or new.get("date")
    if old is None:
        return [Change("meeting.added", entity, f"{_label(new)} scheduled for {_when(new)}",
                       dedupe_key(entity, "meeting.added"),
                       {"start": start, "body": new.get("body"), "location": new.get("location")}, url, new.get("date"))]
    changes: list[Change] = []
    if new.get("status") == "cancelled" and old.get("status") != "cancelled":
        word = new.get("status_text") or "cancelled"
        changes.append(Change("meeting.cancelled", entity, f"{_label(new)} on {_when(new)}: {word.lower()}",
                              dedupe_key(entity, "meeting.cancelled", new.get("start") or new.get("date")),
                              {"start": start, "body": new.get("body"), "status_text": new.get("status_text")},
                              url, new.get("date")))
    if (old.get("start"), old.get("date")) != (new.get("start"), new.get("date")):
        before = local_iso(old.get("start"), zone) or old.get("date")
        changes.append(Change("meeting.rescheduled", entity, f"{_label(new)} on {_when(old)} moved to {_when(new)}",
                              dedupe_key(entity, "meeting.rescheduled", before, start),
                              {"from": before, "to": start}, url, new.get("date")))
    if new.get("location") and old.get("location") != new.get("location"):
        changes.append(Change("meeting.location", entity, f"{_label(new)} on {_when(new)} now at {new['location']}",
                              dedupe_key(entity, "meeting.location", old.get("location"), new["location"]),
                              {"from": old.get("location"), "to": new["location"]}, url, new.get("date")))
    for field, kind, noun in (("agenda_url", "meeting.agenda_posted", "agenda"),
                              ("minutes_url", "meeting.minutes_posted", "minutes")):
        if new.get(field) and new.get(field) != old.get(field):
            changes.append(Change(kind, entity, f"{_label(new)} on {_when(new)}: {noun} posted",
                                  dedupe_key(entity, kind, new[field]), {"url": new[field]}, new[field], new.get("date")))
    seen = {item.get("key") or item.get("title") for item in old.get("items") or []}
    for item in new.get("items") or []:
        key = item.get("key") or item.get("title")
        if item.get("keywords") and key not in seen:
            changes.append(Change(
                "agenda.item_added", entity,
                f"{_label(new)} on {_when(new)}: {item.get('title')} ({', '.join(item['keywords'])})",
                dedupe_key(entity, "agenda.item_added", key),
                {"meeting": entity, "title": item.get("title"), "matter": item.get("matter"),
                 "keywords": item["keywords"]}, url, new.get("date")))
    return changes


def diff_matter(old: dict[str, Any] | None, new: dict[str, Any], entity: str) -> list[Change]:
    if old is None or old.get("status") == new.get("status") or not new.get("status"):
        return []
    name = new.get("file") or new.get("name") or entity
    latest = (new.get("history") or [None])[-1]
    because = f" ({latest['action']}, {latest['date']})" if latest and latest.get("action") else ""
    return [Change("matter.status", entity, f"{name}: {old.get('status')} → {new['status']}{because}",
                   dedupe_key(entity, "matter.status", old.get("status"), new["status"]),
                   {"matter": name, "from": old.get("status"), "to": new["status"]}, new.get("url"),
                   latest.get("date") if latest else None)]
