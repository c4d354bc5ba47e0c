"""Where every watched thing stands, and recorded changes: the data behind `status`, `changes`
and the digest (CONTRACT.md "JSON" shapes)."""

from __future__ import annotations

import fnmatch
import json
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker import clock
from tracker import models as m
from tracker.alerts.outbox import dead_deliveries, delivery_counts
from tracker.clock import iso_z
from tracker.config import Config
from tracker.store import Store

MEETING_PAST_DAYS = 30


def local_iso(utc_iso: str | None, zone: ZoneInfo) -> str | None:
    """A stored UTC instant shown with the body's UTC offset."""
    if not utc_iso:
        return None
    return clock.parse_instant(utc_iso).astimezone(zone).isoformat()


def watch_entities(session: Session, watch_id: str, kind: str) -> list[tuple[m.Entity, dict[str, Any]]]:
    rows = session.execute(
        select(m.Entity, m.Snapshot.content)
        .join(m.WatchEntity, m.WatchEntity.entity_key == m.Entity.key)
        .join(m.Snapshot, m.Snapshot.id == m.Entity.current_snapshot_id)
        .where(m.WatchEntity.watch_id == watch_id, m.Entity.kind == kind)
        .order_by(m.Entity.key)
    )
    return [(entity, json.loads(content)) for entity, content in rows]


def bill_status(watch_id: str, entity: m.Entity, bill: dict[str, Any]) -> dict[str, Any]:
    laws = bill.get("laws") or []
    return {
        "watch": watch_id,
        "entity": entity.key,
        "number": bill.get("display"),
        "congress": bill.get("congress"),
        "title": bill.get("title"),
        "stage": bill.get("stage"),
        "latest_action": bill.get("latest_action"),
        "cosponsors": sum(1 for c in bill.get("cosponsors") or [] if not c.get("withdrawn")),
        "law": laws[0]["number"] if laws else None,
        "url": bill.get("url"),
    }


def meeting_status(watch_id: str, entity: m.Entity, meeting: dict[str, Any], zone: ZoneInfo,
                   now: datetime) -> dict[str, Any]:
    status = meeting.get("status") or "confirmed"
    start = meeting.get("start")
    if status != "cancelled" and start and clock.parse_instant(start) < now:
        status = "passed"
    return {
        "watch": watch_id,
        "entity": entity.key,
        "body": meeting.get("body"),
        "title": meeting.get("title"),
        "start": local_iso(start, zone),
        "date": meeting.get("date"),
        "time_tbd": bool(meeting.get("time_tbd")),
        "status": status,
        "status_text": meeting.get("status_text"),
        "location": meeting.get("location"),
        "agenda_url": meeting.get("agenda_url"),
        "minutes_url": meeting.get("minutes_url"),
        "comment": meeting.get("comment"),
        "livestream_url": meeting.get("livestream_url"),
        "url": meeting.get("url"),
        "missing": entity.missing_since is not None,
        "items": [
            {"title": i.get("title"), "matter": i.get("matter"), "keywords": i.get("keywords") or []}
            for i in meeting.get("items") or []
            if i.get("keywords")
        ],
    }


def _meeting_sort_key(row: dict[str, Any]) -> tuple[str, str]:
    return ((row.get("start") and clock.parse_instant(row["start"]).isoformat()) or row.get("date") or "9999", row["entity"])


def source_health(session: Session, config: Config) -> list[dict[str, Any]]:
    from tracker.health import consecutive_failures

    ids = (["govinfo"] if config.bills else []) + [w.source_id for w in config.meetings]
    out = []
    for source_id in ids:
        last = session.scalar(
            select(m.Run).where(m.Run.source_id == source_id, m.Run.finished_at.is_not(None))
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
            for entity, content in watch_entities(session, w.id, "meeting"):
                start = content.get("start")
                if start and clock.parse_instant(start) < horizon:
                    continue
                if not start and content.get("date") and content["date"] < horizon.date().isoformat():
                    continue
                meetings.append(meeting_status(w.id, entity, content, zone, now))
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
    """Recorded changes, oldest first (by id, which only grows)."""
    query = select(m.Change)
    if since is not None:
        query = query.where(m.Change.detected_at >= since)
    if watch is not None:
        query = query.where(
            m.Change.entity_key.in_(select(m.WatchEntity.entity_key).where(m.WatchEntity.watch_id == watch))
        )
    query = query.order_by(m.Change.id.desc() if newest_first else m.Change.id)
    with store.session() as session:
        rows = [change_json(c) for c in session.scalars(query)]
    if kind is not None:
        rows = [r for r in rows if fnmatch.fnmatchcase(r["kind"], kind)]
    if watch is not None:
        for r in rows:
            r["watch"] = watch
    return rows[:limit] if limit else rows
