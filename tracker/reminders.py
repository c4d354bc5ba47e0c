"""Reminders before meetings, owing side: which reminders are due, owed once each through the outbox.

A subscriber who asks (`reminders = ["2d", "morning"]`, or a person on their preferences page) gets
one message per (meeting, reminder) before each meeting of a body they follow that carries an agenda
item matching the watch's keywords or a council matter the watch follows. `owe_reminders` runs
before each claim of `tracker notify`: it inserts the due ones as delivery rows (INSERT … ON
CONFLICT DO NOTHING on a key of the meeting, its start, the reminder, the subscriber and the
target), so two notifiers owing at once owe one row. A reminder is owed only while its meeting is
ahead: one due days ago for a meeting already held is never sent. A moved meeting's start is in the
key, so its new start owes its own reminder; the one owed for the old start is withdrawn when a
notifier claims it (`reminder_stands` is read again at send time), as is one whose meeting was
cancelled meanwhile. Storage only: the words are tracker/alerts/render.py's."""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, TypedDict
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker import clock
from tracker import models as m
from tracker.config import Config, Subscriber, reminder_offset
from tracker.people import active_subscribers, subscriber_named
from tracker.queries import current_record, entity_watches, meetings_starting, watch_entities
from tracker.records import Matter, Meeting, MeetingStatus, items_for
from tracker.store import Store
from tracker.targets import targets_of

PREFIX = "reminder:"


class ReminderNote(TypedDict):
    """What a reminder's delivery row carries in its `payload` (no schema change): the meeting, the
    start it was owed for (UTC ISO, as stored), which reminder and the watch that made it matter."""

    meeting: str
    start: str
    reminder: str
    watch: str


@dataclass(frozen=True)
class Reason:
    """An agenda item that makes a meeting worth a reminder: it holds the watch's keywords, or it is
    a council matter the watch follows (`followed`, with the matter's status now)."""

    title: str | None
    matter: str | None
    keywords: list[str]
    followed: bool = False
    matter_status: str | None = None


def note_of(payload: dict[str, Any] | None) -> ReminderNote | None:
    """The reminder a delivery row's payload holds, or None for any other row."""
    note = (payload or {}).get("reminder")
    return note if isinstance(note, dict) and {"meeting", "start", "reminder", "watch"} <= note.keys() else None  # type: ignore[return-value]


def due_at(start: datetime, reminder: str, zone: ZoneInfo, daily_at: str) -> datetime:
    """When a reminder of a meeting starting at `start` is due: the duration before it, or for
    "morning" the meeting's day at `daily_at` in its body's zone (the day before, for a meeting that
    starts before that hour)."""
    offset = reminder_offset(reminder)
    if offset is not None:
        return start - offset
    hour, minute = (int(x) for x in daily_at.split(":"))
    day = start.astimezone(zone).date()
    morning = datetime.combine(day, time(hour, minute), tzinfo=zone)
    if morning >= start:
        morning = datetime.combine(day - timedelta(days=1), time(hour, minute), tzinfo=zone)
    return morning


def reasons(meeting: Meeting, followed: dict[str, str | None], watches: str | Collection[str]) -> list[Reason]:
    """Why a meeting matters to its campaigns (one watch's, or a subscriber's few), item by item
    (items matching nothing left out)."""
    found = []
    for item in items_for(meeting.items, watches):
        matter, keywords = item.get("matter"), list(item.get("keywords") or [])
        is_followed = bool(matter) and matter in followed
        if keywords or is_followed:
            found.append(Reason(item.get("title"), matter, keywords, is_followed,
                                followed.get(matter) if is_followed and matter else None))
    return found


def followed_matters(session: Session, watch_id: str) -> dict[str, str | None]:
    """The council matters a watch follows (its stored `matter` entities), by file number, with
    their status now."""
    return {w.record.file: w.record.status for w in watch_entities(session, watch_id, "matter")
            if isinstance(w.record, Matter) and w.record.file}


def _follows(subscriber: Subscriber, watch_id: str) -> bool:
    return subscriber.follow is None or watch_id in subscriber.follow


def _meeting_hash(key: str) -> str:
    """A meeting's key as a short fixed-length hex word (keys may be long; hex needs no escaping in
    LIKE)."""
    return hashlib.sha256(key.encode()).hexdigest()[:24]


def group_key(note: ReminderNote) -> str:
    """One message per (subscriber, target, meeting, start, reminder): never grouped with another."""
    return f"{PREFIX}{_meeting_hash(note['meeting'])}|{note['start']}|{note['reminder']}"


def owe_reminders(store: Store, config: Config) -> int:
    """Owe every reminder due now (its time passed, its meeting still ahead, neither cancelled nor
    to be announced) to each subscriber asking for it and following the meeting's watch, not paused.
    Of one subscriber's reminders of one meeting due at once (notify did not run for a while), only
    the latest is owed. Returns how many rows this call added (a row already owed is left alone)."""
    now = clock.now()
    rows: list[dict[str, Any]] = []
    with store.session() as session:
        askers = [sub for sub in config.subscribers if sub.reminders and not sub.paused]
        askers += active_subscribers(session, config, asking_reminders=True)  # chosen on their preferences page
        if not askers:
            return 0
        # No reminder is due before this far ahead of its meeting ("morning" at most a day and its hours).
        reach = max(reminder_offset(text) or timedelta(days=2) for sub in askers for text in sub.reminders)
        for watch in config.meetings:
            subs = [sub for sub in askers if _follows(sub, watch.id)]
            if not subs:
                continue
            matters: dict[str, str | None] | None = None
            for watched in meetings_starting(session, watch.id, now, now + reach):
                meeting = watched.record
                if not isinstance(meeting, Meeting) or not meeting.start or watched.missing_since is not None \
                        or meeting.status == MeetingStatus.CANCELLED:
                    continue
                if matters is None:
                    matters = followed_matters(session, watch.id)
                if not reasons(meeting, matters, watch.id):
                    continue
                start = clock.parse_instant(meeting.start)
                zone = ZoneInfo(meeting.timezone or str(config.display_zone(watch.id)))
                times = {text: due_at(start, text, zone, config.alerts.daily_at)
                         for text in {text for sub in subs for text in sub.reminders}}
                for sub in subs:
                    due = [(times[text], text) for text in sub.reminders if times[text] <= now]
                    if not due:
                        continue
                    note = ReminderNote(meeting=watched.key, start=meeting.start, reminder=max(due)[1], watch=watch.id)
                    rows += [_row(note, sub.id, target.hash, target.recipient, now) for target in targets_of(sub.notify)]
        if not rows:
            return 0
        statement = m.insert(session, m.Delivery).on_conflict_do_nothing(index_elements=["dedupe_key"])
        return len(session.execute(statement.returning(m.Delivery.id), rows).all())


def _row(note: ReminderNote, subscriber_id: str, target_hash: str, recipient: str | None,
         now: datetime) -> dict[str, Any]:
    group = group_key(note)
    return {"dedupe_key": f"{group}|{subscriber_id}|{target_hash}", "subscriber_id": subscriber_id,
            "target_hash": target_hash, "recipient": recipient, "group_key": group, "payload": {"reminder": note},
            "status": "pending", "tries": 0, "next_attempt_at": now, "created_at": now}


@dataclass(frozen=True)
class Standing:
    """A reminder still to be sent: its meeting as it stands now and why it matters."""

    meeting: Meeting
    reasons: list[Reason]
    watches: list[str]  # the subscriber's campaigns it matters to, the reminder's own first


def reminder_stands(session: Session, config: Config, subscriber_id: str, note: ReminderNote) -> Standing | None:
    """The meeting as it stands now when the reminder is still to be sent: the subscriber still asks
    for it, the meeting starts when it was owed for, is neither cancelled nor begun, and still
    carries a matching item or followed matter. None: withdraw it."""
    sub = subscriber_named(session, config, subscriber_id)
    if sub is None or sub.paused or note["reminder"] not in sub.reminders:
        return None
    meeting = current_record(session, note["meeting"])
    if not isinstance(meeting, Meeting) or meeting.status == MeetingStatus.CANCELLED or meeting.start != note["start"]:
        return None
    if clock.parse_instant(note["start"]) <= clock.now():
        return None
    matters = {watch: followed_matters(session, watch)
               for watch in followed_holders(session, sub, note["meeting"], note["watch"])}
    watches = [watch for watch, followed in matters.items() if reasons(meeting, followed, watch)]
    followed = {file: status for watch in watches for file, status in matters[watch].items()}
    return Standing(meeting, reasons(meeting, followed, watches), watches) if watches else None


def followed_holders(session: Session, sub: Subscriber, meeting_key: str, watch_id: str) -> list[str]:
    """The watches holding the meeting that the subscriber follows, the reminder's own first: one
    reminder per meeting names the items of every campaign of theirs that watches it."""
    others = [w for w in entity_watches(session, meeting_key) if w != watch_id and _follows(sub, w)]
    return [watch_id, *others]


def reminded(session: Session, meeting_key: str, subscriber_id: str) -> bool:
    """Whether a reminder of this meeting reached this subscriber (at any start it had)."""
    return session.scalar(
        select(m.Delivery.id).where(m.Delivery.subscriber_id == subscriber_id, m.Delivery.status == "sent",
                                    m.Delivery.group_key.like(f"{PREFIX}{_meeting_hash(meeting_key)}|%"))
        .limit(1)) is not None
