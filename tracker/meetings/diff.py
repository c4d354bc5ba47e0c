"""What a human wants to hear about between two states of a meeting or a council matter (pure)."""

from __future__ import annotations

from typing import Any

from tracker.changes import EVERYONE, Audience, Change, dedupe_key
from tracker.records import AgendaItem, Matter, Meeting, MeetingStatus
from tracker.words import local_iso, meeting_label, meeting_when


def diff_meeting(old: Meeting | None, new: Meeting, entity: str, *, audience: Audience = EVERYONE) -> list[Change]:
    """What changed, as a human wants to hear it; `audience` says who may hear of an agenda item
    matching some watches of a meeting several hold (the store's answer, `tracker/store.py`)."""
    zone = new.timezone or "UTC"
    url = new.url or new.agenda_url
    start = local_iso(new.start, zone) or new.date
    label, when = meeting_label(new), meeting_when(new)
    if old is None:
        return [Change("meeting.added", entity, f"{label} scheduled for {when}",
                       dedupe_key(entity, "meeting.added"),
                       {"start": start, "body": new.body, "location": new.location}, url, new.date)]
    changes: list[Change] = []
    if new.status == MeetingStatus.CANCELLED and old.status != MeetingStatus.CANCELLED:
        word = new.status_text or "cancelled"
        changes.append(Change("meeting.cancelled", entity, f"{label} on {when}: {word.lower()}",
                              dedupe_key(entity, "meeting.cancelled", new.start or new.date),
                              {"start": start, "body": new.body, "status_text": new.status_text},
                              url, new.date))
    if old.status == MeetingStatus.CANCELLED and new.status != MeetingStatus.CANCELLED:
        was = old.status_text or "cancelled"
        changes.append(Change("meeting.restored", entity, f"{label} on {when}: back on (was {was.lower()})",
                              dedupe_key(entity, "meeting.restored", new.start or new.date),
                              {"start": start, "body": new.body, "was": old.status_text}, url, new.date))
    if (old.start, old.date) != (new.start, new.date):
        before = local_iso(old.start, zone) or old.date
        changes.append(Change("meeting.rescheduled", entity, f"{label} on {meeting_when(old)} moved to {when}",
                              dedupe_key(entity, "meeting.rescheduled", before, start),
                              {"from": before, "to": start}, url, new.date))
    if new.location and old.location != new.location:
        changes.append(Change("meeting.location", entity, f"{label} on {when} now at {new.location}",
                              dedupe_key(entity, "meeting.location", old.location, new.location),
                              {"from": old.location, "to": new.location}, url, new.date))
    for posted, before_url, kind, noun in ((new.agenda_url, old.agenda_url, "meeting.agenda_posted", "agenda"),
                                           (new.minutes_url, old.minutes_url, "meeting.minutes_posted", "minutes")):
        if posted and posted != before_url:
            changes.append(Change(kind, entity, f"{label} on {when}: {noun} posted",
                                  dedupe_key(entity, kind, posted), {"url": posted}, posted, new.date))
    before = {item.get("key") or item.get("title"): item for item in old.items}
    for item in new.items:
        key = item.get("key") or item.get("title")
        was = before.get(key)
        if was is not None and audience.since and (new.date or "") < audience.since:
            continue  # a new match on an old item of a past meeting (read again for its minutes)
        found = newly_matching(item, was)
        watches = {watch: words for watch, words in found if watch is None or audience.may_tell(watch, str(key))}
        if not watches:
            continue
        # One change per item, however many watches it is news to (a subscriber of two is told once).
        # On a meeting several watches hold it names each with its keywords, told to those only; on
        # one only one holds, it has the form every source's has (that watch's own, told to it).
        keywords = list(dict.fromkeys(k for words in watches.values() for k in words))
        data: dict[str, Any] = {"meeting": entity, "title": item.get("title"), "matter": item.get("matter"),
                                "keywords": keywords}
        shared = len(item.get("watches") or ()) > 1
        if shared:
            data["watches"] = dict(sorted(watches.items()))  # type: ignore[arg-type]
            data["item"] = key  # the source's id of the item: whom it was told to (`Audience.may_tell`)
        changes.append(Change(
            "agenda.item_added", entity, f"{label} on {when}: {item.get('title')} ({', '.join(keywords)})",
            dedupe_key(entity, "agenda.item_added", key, *(sorted(watches) if shared else [])), data, url, new.date))
    return changes


def newly_matching(item: AgendaItem, before: AgendaItem | None) -> list[tuple[str | None, list[str]]]:
    """(watch, its keywords) for each watch an item is news to: one it matches now and did not
    before (new on the agenda, or an item whose words or the watch's keywords changed, as a listing's
    new match is news). A Legistar item names each watch holding its meeting (`watches`,
    tracker/records.py `items_for`); another source's is its one watch's: (None, keywords). Against
    an item stored before items named their watches only a new item is news: whom its old match was
    for is not known."""
    if "watches" in item:
        if before is not None and "watches" not in before:
            return []
        if before is None:
            return [(watch, words) for watch, words in sorted(item["watches"].items()) if words]
        was = before["watches"]  # a watch the old item does not name did not hold it then: no news of it
        return [(watch, words) for watch, words in sorted(item["watches"].items())
                if words and watch in was and not was[watch]]
    if not item.get("keywords") or (before is not None and ("watches" in before or before.get("keywords"))):
        return []
    return [(None, item["keywords"])]


def diff_matter(old: Matter | None, new: Matter, entity: str) -> list[Change]:
    if old is None or old.status == new.status or not new.status:
        return []
    name = new.file or new.name or entity
    latest = new.history[-1] if new.history else None
    because = f" ({latest['action']}, {latest['date']})" if latest and latest.get("action") else ""
    return [Change("matter.status", entity, f"{name}: {old.status} → {new.status}{because}",
                   dedupe_key(entity, "matter.status", old.status, new.status),
                   {"matter": name, "from": old.status, "to": new.status}, new.url,
                   latest.get("date") if latest else None)]
