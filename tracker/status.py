"""Where every watched thing stands, and recorded changes: the data behind `status`, `changes`
and the digest (the JSON shapes are documented in docs/cli.md)."""

from __future__ import annotations

import re
import zlib
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker import clock
from tracker import models as m
from tracker.clock import iso_z
from tracker.config import Config
from tracker.contacts import LEGISLATOR_FILES, Directory, load_directory, reference_key
from tracker.crawl import plan_sources
from tracker.meetings.legistar import body_key
from tracker.meetings.officers import BodyMember, current_members, member_lines
from tracker.outbox import dead_deliveries, delivery_counts
from tracker.records import Bill, Body, Meeting, MeetingStatus, load_record
from tracker.runs import INTERRUPTED, consecutive_failures
from tracker.store import Store
from tracker.words import STAMP, document_noun, local_iso, local_time

MEETING_PAST_DAYS = 30
# The UTC instants `health.problems()` puts in its lines (`last …`, the lock's `since …`); the
# JSON keeps them as they are.
_PROBLEM_STAMP = re.compile(r"\b(last|since) (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")


def watch_entities(session: Session, watch_id: str, kind: str) -> list[tuple[m.Entity, Any]]:
    """A watch's entities of one kind with their current records (Bill, Meeting or Matter)."""
    rows = session.execute(
        select(m.Entity, m.Snapshot.content)
        .join(m.WatchEntity, m.WatchEntity.entity_key == m.Entity.key)
        .join(m.Snapshot, m.Snapshot.id == m.Entity.current_snapshot_id)
        .where(m.WatchEntity.watch_id == watch_id, m.Entity.kind == kind)
        .order_by(m.Entity.key)
    )
    return [(entity, load_record(kind, content)) for entity, content in rows]


def bill_status(watch_id: str, entity: m.Entity, bill: Bill) -> dict[str, Any]:
    return {
        "watch": watch_id,
        "entity": entity.key,
        "number": bill.display,
        "congress": bill.congress,
        "title": bill.title,
        "stage": bill.stage,
        "latest_action": bill.latest_action,
        "cosponsors": bill.active_cosponsors,
        "law": bill.laws[0]["number"] if bill.laws else None,
        "url": bill.url,
    }


def meeting_status(watch_id: str, entity: m.Entity, meeting: Meeting, zone: ZoneInfo,
                   now: datetime) -> dict[str, Any]:
    status = meeting.status or MeetingStatus.CONFIRMED
    if status != MeetingStatus.CANCELLED and meeting.start and clock.parse_instant(meeting.start) < now:
        status = MeetingStatus.PASSED
    return {
        "watch": watch_id,
        "entity": entity.key,
        "body": meeting.body,
        "title": meeting.title,
        "start": local_iso(meeting.start, zone),
        "date": meeting.date,
        "time_tbd": bool(meeting.time_tbd),
        "status": status,
        "status_text": meeting.status_text,
        "location": meeting.location,
        "agenda_url": meeting.agenda_url,
        "minutes_url": meeting.minutes_url,
        "comment": meeting.comment,
        "livestream_url": meeting.livestream_url,
        "url": meeting.url,
        # every document and media link, typed (agenda_url & co. above stay for scripts)
        "documents": [{**doc.dump(), "noun": document_noun(doc.kind)} for doc in meeting.links],
        "missing": entity.missing_since is not None,
        "items": [
            {"title": i.get("title"), "matter": i.get("matter"), "keywords": i.get("keywords") or []}
            for i in meeting.matching_items
        ],
    }


def _meeting_sort_key(row: dict[str, Any]) -> tuple[str, str]:
    return ((row.get("start") and clock.parse_instant(row["start"]).isoformat()) or row.get("date") or "9999", row["entity"])


def source_health(session: Session, config: Config) -> list[dict[str, Any]]:
    ids = [job.source_id for job in plan_sources(config)]
    out = []
    for source_id in ids:
        last = session.scalar(
            select(m.Run).where(m.Run.source_id == source_id, m.Run.finished_at.is_not(None),
                                m.Run.state.is_distinct_from(INTERRUPTED))
            .order_by(m.Run.id.desc()).limit(1)
        )
        last_ok = session.scalar(
            select(m.Run.finished_at).where(m.Run.source_id == source_id, m.Run.ok.is_(True))
            .order_by(m.Run.id.desc()).limit(1)
        )
        out.append({
            "id": source_id,
            "last_run": iso_z(last.finished_at) if last and last.finished_at else None,
            "last_success": iso_z(last_ok) if last_ok else None,
            "ok": bool(last.ok) if last else None,
            "error": last.error if last else None,
            "consecutive_failures": consecutive_failures(session, source_id),
        })
    return out


def collect_status(store: Store, config: Config) -> dict[str, Any]:
    now = clock.now()
    horizon = now - timedelta(days=MEETING_PAST_DAYS)
    with store.session() as session:
        bills = [
            bill_status(w.id, entity, content)
            for w in config.bills
            for entity, content in watch_entities(session, w.id, "bill")
        ]
        meetings = []
        for w in config.meetings:
            zone = config.display_zone(w.id)
            for entity, meeting in watch_entities(session, w.id, "meeting"):
                if meeting.start and clock.parse_instant(meeting.start) < horizon:
                    continue
                if not meeting.start and meeting.date and meeting.date < horizon.date().isoformat():
                    continue
                meetings.append(meeting_status(w.id, entity, meeting, zone, now))
        meetings.sort(key=_meeting_sort_key)
        return {
            "generated_at": iso_z(now),
            "bills": bills,
            "meetings": meetings,
            "sources": source_health(session, config),
            "deliveries": delivery_counts(session),
            "dead_deliveries": dead_deliveries(session),
        }


def change_json(change: m.Change) -> dict[str, Any]:
    return {
        "id": change.id,
        "kind": change.kind,
        "watch": change.watch_id,
        "entity": change.entity_key,
        "summary": change.summary,
        "detected_at": iso_z(change.detected_at),
        "occurred_at": change.occurred_at,
        "url": change.url,
        "data": change.data,
    }


def list_changes(
    store: Store,
    *,
    since: datetime | None = None,
    watch: str | None = None,
    kind: str | None = None,
    limit: int | None = None,
    newest_first: bool = False,
) -> list[dict[str, Any]]:
    """Recorded changes, oldest first (by id, which only grows); `kind` is a glob (`bill.*`),
    filtered and limited by the database."""
    query = select(m.Change)
    if since is not None:
        query = query.where(m.Change.detected_at >= since)
    if watch is not None:
        query = query.where(
            m.Change.entity_key.in_(select(m.WatchEntity.entity_key).where(m.WatchEntity.watch_id == watch))
        )
    if kind is not None:
        query = query.where(m.Change.kind.like(glob_to_like(kind), escape="\\"))
    query = query.order_by(m.Change.id.desc() if newest_first else m.Change.id)
    if limit:
        query = query.limit(limit)
    with store.session() as session:
        rows = [change_json(c) for c in session.scalars(query)]
    if watch is not None:
        for r in rows:
            r["watch"] = watch
    return rows


def glob_to_like(pattern: str) -> str:
    """A shell glob (`bill.*`, `meeting.?gend*`) as a LIKE pattern, its own `%` and `_` escaped."""
    escaped = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%").replace("?", "_")


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


def body_members_now(session: Session, meeting_key: str) -> tuple[str, list[str]] | None:
    """The body holding a Legistar meeting and its current members, chair first, as lines ("Chair:
    Marcus Ortega, d07@council.nyc.gov, 212-555-0107"): whom to write to before the hearing. None
    until the Legistar source has stored the body's roster (at most daily)."""
    entity = session.get(m.Entity, meeting_key)
    if entity is None or entity.current_snapshot_id is None or not meeting_key.startswith("meeting:legistar:"):
        return None
    meeting = load_record("meeting", session.get(m.Snapshot, entity.current_snapshot_id).content)
    assert isinstance(meeting, Meeting)
    body_entity = session.get(m.Entity, body_key(meeting_key.split(":")[2], meeting.extra.get("body_id")))
    if body_entity is None or body_entity.current_snapshot_id is None:
        return None
    body = load_record("body", session.get(m.Snapshot, body_entity.current_snapshot_id).content)
    assert isinstance(body, Body)
    members = current_members([BodyMember.load(row) for row in body.members], clock.now().date())
    return (body.name or meeting.body or "body", member_lines(members)) if members else None


# -- text output ------------------------------------------------------------------------------------


def check_lines(problems: list[str], config: Config) -> list[str]:
    """`status --check` problem lines as printed: their UTC stamps in the tracker's zone, as every
    other line people read says a time (`status --check --json` prints `problems` unchanged)."""
    from tracker.logs import shorten

    zone = config.display_zone()

    def local(stamp: re.Match[str]) -> str:
        return f"{stamp[1]} {local_time(stamp[2], zone, STAMP)}"

    return [shorten(_PROBLEM_STAMP.sub(local, line)) for line in problems]


def status_lines(data: dict[str, Any], config: Config) -> list[str]:
    """`tracker status` as text, from `collect_status()`'s data: meeting times in the body's zone
    and run times in the tracker's, in words (the JSON keeps ISO stamps)."""
    from tracker.words import STAGE_WORDS

    zone = config.display_zone()
    lines = []
    for b in data["bills"]:
        latest = b["latest_action"] or {}
        law = f", Public Law {b['law']}" if b["law"] else ""
        lines.append(f"[{b['watch']}] {b['number']} ({b['congress']}th) {STAGE_WORDS.get(b['stage'], b['stage'])}"
                     f"{law}; {b['cosponsors']} cosponsors; latest {latest.get('date')}: {latest.get('text')}")
    for mt in data["meetings"]:
        when = local_time(mt["start"], config.display_zone(mt["watch"]), STAMP) if mt["start"] else mt.get("date")
        lines.append(f"[{mt['watch']}] {when} {mt['body']}: {mt['title']} ({mt['status']})")
    for s in data["sources"]:
        health = ("ok" if s["ok"] else
                  "never run" if s["ok"] is None else f"failing x{s['consecutive_failures']}: {s['error']}")
        last = local_time(s["last_run"], zone, STAMP) if s["last_run"] else "never"
        lines.append(f"source {s['id']}: {health} (last run {last})")
    d = data["deliveries"]
    lines.append(f"deliveries: {d['pending']} pending, {d['sent']} sent, {d['failed']} failed, {d['dead']} dead")
    for dead in data["dead_deliveries"]:
        lines.append(f"dead delivery {dead['id']} to subscriber {dead['subscriber']} after {dead['tries']} tries: "
                     f"{dead['last_error']}")
    return lines
