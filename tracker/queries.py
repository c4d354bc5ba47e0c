"""Reads of the store that the views, the alerts and the digest share: a watch's entities with their
current records, an entity's record now or as it was, the congress directory, and who sits on a
meeting's body today.

One place for each question, so an alert and the digest never answer it two ways. Every function
takes an open session and returns records (tracker/records.py) or typed rows, never ORM objects a
caller could change.
"""

from __future__ import annotations

import json
import logging
import re
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import String, cast, func, literal, select
from sqlalchemy.orm import Session

from tracker import clock
from tracker import models as m
from tracker.config import Config
from tracker.contacts import LEGISLATOR_FILES, Directory, load_directory, reference_key
from tracker.meetings.legistar import body_key
from tracker.meetings.officers import BodyMember, current_members, member_lines
from tracker.records import Body, Meeting, Record, load_record
from tracker.statepeople import (
    PeopleParseError,
    StateDirectory,
    people_reference_key,
    read_people_dir,
    read_people_json,
    state_folder,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Watched:
    """One entity a watch holds, with its current record."""

    key: str
    record: Record
    missing_since: datetime | None = None


def watch_entities(session: Session, watch_id: str, kind: str) -> list[Watched]:
    """A watch's entities of one kind with their current records (Bill, Meeting or Matter), by key."""
    rows = session.execute(
        select(m.Entity.key, m.Entity.missing_since, m.Snapshot.content)
        .join(m.WatchEntity, m.WatchEntity.entity_key == m.Entity.key)
        .join(m.Snapshot, m.Snapshot.id == m.Entity.current_snapshot_id)
        .where(m.WatchEntity.watch_id == watch_id, m.Entity.kind == kind)
        .order_by(m.Entity.key)
    )
    return [Watched(key, load_record(kind, content), missing) for key, missing, content in rows]


_START = re.compile(r'"start":"([^"]{10,40})"')


def _instant(value: str) -> datetime:
    try:
        return clock.parse_instant(value)
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)


def meetings_starting(session: Session, watch_id: str, after: datetime, until: datetime) -> list[Watched]:
    """A watch's meetings starting after `after` and not after `until`, with their current records (a meeting whose
    time is to be announced has no start: left out). Only those records are loaded: the reminders
    ask this at every notify, of bodies whose past meetings pile up for years."""
    rows = session.execute(
        select(m.Entity.key, m.Entity.missing_since, m.Snapshot.content)
        .join(m.WatchEntity, m.WatchEntity.entity_key == m.Entity.key)
        .join(m.Snapshot, m.Snapshot.id == m.Entity.current_snapshot_id)
        .where(m.WatchEntity.watch_id == watch_id, m.Entity.kind == "meeting")
        .order_by(m.Entity.key)
    )
    found = []
    for key, missing, content in rows:
        # Canonical JSON writes the start as "start":"…": a record with no such value in range is
        # passed over unparsed (a nested "start" can only add a candidate, which parsing settles).
        if not any(after < _instant(value) <= until for value in _START.findall(content)):
            continue
        data = json.loads(content)
        start = data.get("start")
        if start and after < clock.parse_instant(start) <= until:
            found.append(Watched(key, load_record("meeting", data), missing))
    return found


def entity_watches(session: Session, key: str) -> list[str]:
    """The ids of the watches that hold an entity (a bill two campaigns watch is in both)."""
    return list(session.scalars(select(m.WatchEntity.watch_id).where(m.WatchEntity.entity_key == key)
                                .order_by(m.WatchEntity.watch_id)))


def holding_watches(session: Session) -> dict[str, set[str]]:
    """The ids of the watches holding each entity, every entity at once (the digest's per-watch feeds)."""
    held: dict[str, set[str]] = {}
    for watch_id, key in session.execute(select(m.WatchEntity.watch_id, m.WatchEntity.entity_key)):
        held.setdefault(key, set()).add(watch_id)
    return held


def current_record(session: Session, key: str) -> Record | None:
    """An entity's record as last stored (None when it has no snapshot yet)."""
    entity = session.get(m.Entity, key)
    if entity is None or entity.current_snapshot_id is None:
        return None
    snapshot = session.get(m.Snapshot, entity.current_snapshot_id)
    return load_record(entity.kind, snapshot.content) if snapshot else None


def record_as_of(session: Session, key: str, kind: str, when: datetime) -> Record | None:
    """An entity's record as it stood at `when` (its newest snapshot fetched by then), or None."""
    content = session.scalar(
        select(m.Snapshot.content).where(m.Snapshot.entity_key == key, m.Snapshot.fetched_at <= when)
        .order_by(m.Snapshot.id.desc()).limit(1))
    return load_record(kind, content) if content else None


def meeting_sequences(session: Session) -> dict[str, int]:
    """How many times each meeting's state changed, a state come back included: its calendar
    SEQUENCE (not its number of distinct states: back on, it would say its cancelled form's)."""
    rows = session.execute(select(m.Entity.key, m.Entity.revision).where(m.Entity.kind == "meeting"))
    return {key: revision for key, revision in rows}


_directories: dict[tuple[str, ...], Directory] = {}


def congress_directory(session: Session, config: Config) -> Directory | None:
    """congress-legislators as last stored by the `legislators` source (read once per stored
    version); None when that source is switched off (`enabled = false`) or has not been read."""
    if not config.sources.legislators.enabled:
        return None
    keys = [reference_key(name) for name in LEGISLATOR_FILES]
    rows = {key: (digest, raw) for key, digest, raw in session.execute(
        select(m.Entity.key, m.Snapshot.hash, m.Snapshot.raw)
        .join(m.Snapshot, m.Snapshot.id == m.Entity.current_snapshot_id).where(m.Entity.key.in_(keys)))}
    if not all(key in rows and rows[key][1] for key in keys[:3]):  # district offices are optional
        return None
    version = tuple(rows[key][0] for key in keys if key in rows)
    if version not in _directories:
        files = [zlib.decompress(rows[key][1]) if key in rows and rows[key][1] else None for key in keys]
        _directories.clear()
        _directories[version] = load_directory(files[0], files[1], files[2], files[3])  # type: ignore[arg-type]
    return _directories[version]


_state_directories: dict[tuple[object, ...], StateDirectory] = {}


def state_directory(session: Session, config: Config, state: str) -> StateDirectory | None:
    """A state's sitting legislators (with their offices) and committees: from `[sources.openstates]
    people_dir` (a checkout of openstates/people) when it is set, else the legislators the
    `openstates` source stored from the API (no committees: the API's people carry none). Read once
    per version (the folders' times, the snapshot's hash); None when nothing is known."""
    source = config.sources.openstates
    today = clock.now().date()
    if source.people_dir:
        folder = state_folder(config.resolve(source.people_dir), state)
        if not folder.is_dir():
            return None
        parts = [folder / "legislature", folder / "committees", folder / "retired"]
        version: tuple[object, ...] = ("dir", str(folder), today,
                                       *(p.stat().st_mtime_ns if p.is_dir() else 0 for p in parts))
        if version not in _state_directories:
            directory, problems = read_people_dir(config.resolve(source.people_dir), state, today=today)
            for line in problems[:10]:
                log.warning("people_dir: %s", line)
            _state_directories[version] = directory
        return _state_directories[version]
    row = session.execute(
        select(m.Snapshot.hash, m.Snapshot.raw).join(m.Entity, m.Entity.current_snapshot_id == m.Snapshot.id)
        .where(m.Entity.key == people_reference_key(state))).first()
    if row is None or not row.raw:
        return None
    version = ("api", state, row.hash)
    if version not in _state_directories:
        try:
            _state_directories[version] = read_people_json(zlib.decompress(row.raw), state)
        except PeopleParseError as exc:
            log.warning("%s", exc)
            return None
    return _state_directories[version]


@dataclass(frozen=True)
class Roster:
    """Who sits on a meeting's body today, chair first, as lines people can act on ("Chair: Marcus
    Ortega, d07@council.nyc.gov, 212-555-0107")."""

    body: str
    lines: list[str]


def _zone(name: str | None) -> ZoneInfo:
    """A meeting's zone, UTC where it names none or none known."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def body_members_now(session: Session, meeting_key: str) -> Roster | None:
    """The body holding a Legistar meeting and its current members: whom to write to before the
    hearing. None until the Legistar source has stored the body's roster (at most daily)."""
    if not meeting_key.startswith("meeting:legistar:"):
        return None
    meeting = current_record(session, meeting_key)
    if not isinstance(meeting, Meeting):
        return None
    body = current_record(session, body_key(meeting_key.split(":")[2], meeting.extra.get("body_id")))
    if not isinstance(body, Body):
        return None
    # the body's own day: in New York's evening the UTC date is already tomorrow, and a member whose
    # term ends today was dropped from whom to write to hours early (one starting tomorrow shown)
    today = clock.now().astimezone(_zone(meeting.timezone)).date()
    members = current_members([BodyMember.load(row) for row in body.members], today)
    return Roster(body.name or meeting.body or "body", member_lines(members)) if members else None


def message_counts(session: Session) -> dict[str, int]:
    """The outbox in messages, by status: rows of one message (an entity's changes from one crawl,
    to one target: `group_key`) count once; a bundle or an operator notice is a message per row.
    "13 sent" is what reached people, where the delivery rows number 69."""
    message = func.coalesce(m.Delivery.group_key, literal("row:") + cast(m.Delivery.id, String))
    messages = select(m.Delivery.status, m.Delivery.subscriber_id, m.Delivery.target_hash,
                      message.label("message")).distinct().subquery()
    counts = {"pending": 0, "sent": 0, "failed": 0, "dead": 0}
    for status, n in session.execute(select(messages.c.status, func.count()).group_by(messages.c.status)):
        if status in counts:  # a person's rows closed unsent (dropped, bounced) are not the outbox's to show
            counts[status] = n
    return counts
