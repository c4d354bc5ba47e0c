"""The static digest site organizers open: index.html, a page per bill and per meeting,
changes.atom, meetings.ics and digest.txt (plus the same feeds per watch).

Written aside and swapped in, so a crash mid-write never leaves a half site. Everything scraped is
escaped by Jinja2's autoescape; the pages need no server, scripts, fonts or CDNs.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import jinja2
from icalendar import Calendar, Event
from sqlalchemy import func, select

from tracker import __version__, clock, templating
from tracker import models as m
from tracker.bills.stages import chambers_passed
from tracker.config import Config
from tracker.contacts import all_seats, bill_contact_lines, bill_contacts
from tracker.meetings.participation import how_to_take_part
from tracker.records import Bill, Meeting, load_record
from tracker.status import body_members_now, collect_status, congress_directory, list_changes, watch_entities
from tracker.store import Store
from tracker.words import STAGE_WORDS, change_words, local_time, meeting_label, meeting_page, slug

RECENT_CHANGES = 200  # the newest changes, for feeds and the bill and meeting pages
RECENT_SHOWN = 50  # on the front page; the rest are on a page per month

# The steps of the stage tracker, and which stages reach each one.
STEPS = [
    ("introduced", "Introduced"),
    ("committee", "Committee"),
    ("house", "House"),
    ("senate", "Senate"),
    ("president", "President"),
    ("law", "Law"),
]


def stage_steps(bill: Bill) -> list[dict[str, Any]]:
    """Which steps a bill has passed, for the tracker bar (resolutions show only what they need)."""
    stage = bill.stage or "introduced"
    passed = chambers_passed(bill)
    bill_type = bill.type or "hr"
    done = {"introduced"}
    if stage != "introduced":
        done.add("committee")
    if stage in ("passed_house", "passed_both", "to_president", "enacted") or "House" in passed:
        done.add("house")
    if stage in ("passed_senate", "passed_both", "to_president", "enacted") or "Senate" in passed:
        done.add("senate")
    if stage in ("to_president", "enacted", "vetoed") and bill_type not in ("hres", "sres", "hconres", "sconres"):
        done.add("president")
    if stage == "enacted":
        done.update({"house", "senate", "president", "law"})
    steps = list(STEPS)
    if bill_type in ("hres", "sres"):
        own = "house" if bill_type == "hres" else "senate"
        steps = [s for s in STEPS if s[0] in ("introduced", "committee", own)]
    elif bill_type in ("hconres", "sconres"):
        steps = [s for s in STEPS if s[0] not in ("president", "law")]
    return [{"key": key, "label": label, "done": key in done} for key, label in steps]


def environment(config: Config) -> jinja2.Environment:
    """The digest's templates (HTML autoescape on), `[digest] templates` searched first."""
    folder = config.resolve(config.digest.templates) if config.digest.templates else None
    return templating.environment("digest", folder, html=True, filters={
        "stage_words": lambda stage: STAGE_WORDS.get(stage or "", stage or "unknown"),
        "slug": slug,
        "sentence": lambda text: (text[:1].upper() + text[1:]) if text else text,
        "take_part": how_to_take_part,
        "change_words": change_words,
        "detected": lambda iso: local_time(iso, config.tracker.timezone, "%b %-d, %Y %-I:%M %p %Z"),
        "local": local_time,
    })


def _bill_pages(store: Store, config: Config) -> dict[str, dict[str, Any]]:
    """Full content of every watched bill, with its cosponsor count a week ago and whom to call
    about it (its committee's leaders while it sits in committee, its sponsor)."""
    week_ago = clock.now() - timedelta(days=7)
    today = clock.now().date()
    out: dict[str, dict[str, Any]] = {}
    with store.session() as session:
        directory = congress_directory(session)
        for watch in config.bills:
            for entity, bill in watch_entities(session, watch.id, "bill"):
                if entity.key in out:
                    continue
                old = session.scalar(
                    select(m.Snapshot.content).where(m.Snapshot.entity_key == entity.key,
                                                     m.Snapshot.fetched_at <= week_ago)
                    .order_by(m.Snapshot.id.desc()).limit(1)
                )
                before = load_record("bill", old) if old else None
                out[entity.key] = {
                    **bill.dump(), "entity": entity.key, "page": f"bills/{slug(bill.number or entity.key)}.html",
                    "steps": stage_steps(bill),
                    "cosponsor_change": (bill.active_cosponsors - before.active_cosponsors
                                         if isinstance(before, Bill) else None),
                    "contacts": (bill_contact_lines(bill_contacts(bill, directory, today=today))
                                 if directory is not None else []),
                }
    return out


def seat_table(store: Store) -> list[dict[str, Any]]:
    """Every seat in Congress with who holds it and how to reach them, for the digest's "find your
    members" table (static: no script looks anything up)."""
    with store.session() as session:
        directory = congress_directory(session)
    if directory is None:
        return []
    rows = []
    for seat in all_seats(directory.legislators.values(), clock.now().date()):
        member = seat.member
        rows.append({"state": seat.state, "seat": seat.name, "name": member.label if member else "vacant",
                     "phone": member.phone if member else None, "url": member.contact_url if member else None})
    return rows


def _meeting_sequences(store: Store) -> dict[str, int]:
    """SEQUENCE for the calendar: how many times a meeting's snapshot changed."""
    with store.session() as session:
        rows = session.execute(
            select(m.Snapshot.entity_key, func.count()).join(m.Entity, m.Entity.key == m.Snapshot.entity_key)
            .where(m.Entity.kind == "meeting").group_by(m.Snapshot.entity_key)
        )
        return {key: count - 1 for key, count in rows}


def build_calendar(meetings: list[dict[str, Any]], sequences: dict[str, int], name: str,
                   events: dict[str, bytes] | None = None) -> bytes:
    """An iCalendar file of the meetings that have a time. Each VEVENT is serialized once per site
    (`events` keeps them): the same meeting is in the whole calendar, its watch's and its own."""
    events = {} if events is None else events
    calendar = Calendar()
    calendar.add("prodid", f"-//tracker {__version__}//meetings//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", name)
    for mt in meetings:
        if mt.get("start") and mt["entity"] not in events:
            events[mt["entity"]] = _event(mt, sequences)
    body = b"".join(events[mt["entity"]] for mt in meetings if mt.get("start"))
    head, end = calendar.to_ical().rsplit(b"END:VCALENDAR", 1)
    return head + body + b"END:VCALENDAR" + end


def _event(meeting: dict[str, Any], sequences: dict[str, int]) -> bytes:
    """One meeting as a VEVENT (its UID is the entity key: a moved meeting is the same event)."""
    from datetime import UTC, datetime

    start = datetime.fromisoformat(meeting["start"]).astimezone(UTC)  # an instant: Z form
    event = Event()
    event.add("uid", f"{meeting['entity']}@tracker")
    event.add("summary", meeting.get("label") or f"{meeting.get('body') or ''}: {meeting.get('title') or 'meeting'}".strip(": "))
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(hours=2))
    event.add("dtstamp", clock.now())
    event.add("sequence", sequences.get(meeting["entity"], 0))
    event.add("status", "CANCELLED" if meeting.get("status") == "cancelled" else "CONFIRMED")
    if meeting.get("location"):
        event.add("location", meeting["location"])
    if meeting.get("url") or meeting.get("agenda_url"):
        event.add("url", meeting.get("url") or meeting.get("agenda_url"))
    return event.to_ical()


def write_site(store: Store, config: Config, out: Path) -> Path:
    """Render the whole site aside, then swap it in for `out`."""
    out = Path(out)
    status = collect_status(store, config)
    everything = list_changes(store, newest_first=True)
    changes = everything[:RECENT_CHANGES]
    months = _changes_by_month(everything)
    bills = _bill_pages(store, config)
    seats = seat_table(store) if bills else []
    sequences = _meeting_sequences(store)
    now = clock.now()
    last_success = max((s["last_success"] for s in status["sources"] if s["last_success"]), default=None)
    stale = last_success is None or (now - clock.parse_instant(last_success)) > timedelta(hours=config.digest.stale_hours)
    upcoming = [mt for mt in status["meetings"] if mt["status"] != "passed"]
    with store.session() as session:
        rosters = {mt["entity"]: body_members_now(session, mt["entity"]) for mt in upcoming
                   if mt["entity"].startswith("meeting:legistar:")}
    for mt in upcoming:
        mt["members"] = rosters.get(mt["entity"])
        mt["page"] = f"{meeting_page(mt['entity'])}.html"
        mt["calendar"] = f"{meeting_page(mt['entity'])}.ics"
        mt["label"] = meeting_label(Meeting(source="", source_ref="", body=mt["body"], title=mt["title"] or "",
                                            date=mt["date"], timezone=""))
    watches = [
        {"id": w.id, "name": w.name, "kind": "bill",
         "bills": [bills[b["entity"]] for b in status["bills"] if b["watch"] == w.id and b["entity"] in bills]}
        for w in config.bills
    ] + [
        {"id": w.id, "name": w.name, "kind": "meeting", "zone": w.timezone or config.tracker.timezone,
         "meetings": [mt for mt in upcoming if mt["watch"] == w.id]}
        for w in config.meetings
    ]
    context = {
        "generated_at": status["generated_at"],
        "stale": stale,
        "last_success": last_success,
        "watches": watches,
        "changes": changes,
        "sources": status["sources"],
        "deliveries": status["deliveries"],
        "dead": status["dead_deliveries"],
        "version": __version__,
        "root": "",
        "shown": RECENT_SHOWN,
        "total_changes": sum(len(entries) for entries in months.values()),
        "months": list(months),
    }
    env = environment(config)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    events: dict[str, bytes] = {}  # each meeting's VEVENT, serialized once for every calendar it is in
    try:
        _write(staging / "index.html", env.get_template("digest/index.html.j2").render(**context))
        _write(staging / "digest.txt", env.get_template("digest/digest.txt.j2").render(**context))
        for bill in bills.values():
            watch_bills = [b for w in watches if w["kind"] == "bill" and bill in w.get("bills", []) for b in w["bills"]]
            _write(staging / bill["page"], env.get_template("digest/bill.html.j2").render(
                **{**context, "root": "../"}, bill=bill, related=[b for b in watch_bills if b is not bill], seats=seats,
                bill_changes=[c for c in changes if c["entity"] == bill["entity"]]))
        for watch in watches:
            for mt in watch.get("meetings", []):
                _write(staging / mt["page"], env.get_template("digest/meeting.html.j2").render(
                    **{**context, "root": "../"}, mt=mt, zone=watch["zone"],
                    meeting_changes=[c for c in changes if c["entity"] == mt["entity"]]))
                (staging / mt["calendar"]).write_bytes(build_calendar([mt], sequences, mt["label"], events))
        for month, entries in months.items():
            _write(staging / "changes" / f"{month}.html", env.get_template("digest/changes.html.j2").render(
                **{**context, "root": "../"}, month=month, entries=entries))
        _write(staging / "changes.atom", env.get_template("digest/changes.atom.j2").render(
            **context, feed_id="tag:tracker,2026:changes", title="tracker: recent changes", entries=changes))
        (staging / "meetings.ics").write_bytes(build_calendar(status["meetings"], sequences, "tracker meetings", events))
        for watch in config.bills + config.meetings:
            folder = staging / "watches" / watch.id
            entries = [c for c in changes if c["watch"] == watch.id]
            _write(folder / "changes.atom", env.get_template("digest/changes.atom.j2").render(
                **context, feed_id=f"tag:tracker,2026:watch/{watch.id}", title=f"tracker: {watch.name}",
                entries=entries))
            (folder / "meetings.ics").write_bytes(build_calendar(
                [mt for mt in status["meetings"] if mt["watch"] == watch.id], sequences, watch.name, events))
        _swap(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out


def _changes_by_month(changes: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Changes (newest first) by the month they were detected: a page each."""
    months: dict[str, list[dict[str, Any]]] = {}
    for change in changes:
        months.setdefault(change["detected_at"][:7], []).append(change)
    return months


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _swap(staging: Path, out: Path) -> None:
    """Replace `out` with `staging`: the old site stays whole until the new one is complete."""
    old = out.with_name(f".{out.name}.old")
    if old.exists():
        shutil.rmtree(old)
    if out.exists():
        os.rename(out, old)
    os.rename(staging, out)
    shutil.rmtree(old, ignore_errors=True)
