"""The static digest site organizers open: index.html, a page per bill and per meeting,
changes.atom, meetings.ics and digest.txt (plus the same feeds per watch).

Written aside and swapped in, so a crash mid-write never leaves a half site. Everything scraped is
escaped by Jinja2's autoescape, every link passes `safetext.web_url`, every calendar property
`safetext.one_line`; the pages need no server, scripts, fonts or CDNs. A page, feed or calendar
event that still fails is skipped with one line and the rest is written; the outcome of writing
`[digest] out` is recorded for `tracker status --check` (`health.record_digest`).
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Callable
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
from tracker.health import record_digest
from tracker.meetings.participation import how_to_take_part
from tracker.records import Bill, Meeting, load_record
from tracker.safetext import one_line, web_url
from tracker.status import body_members_now, collect_status, congress_directory, list_changes, watch_entities
from tracker.store import Store
from tracker.words import STAGE_WORDS, change_words, local_time, meeting_label, meeting_page, slug

log = logging.getLogger(__name__)
RECENT_CHANGES = 200  # the newest changes, for feeds and the bill and meeting pages
RECENT_SHOWN = 50  # on the front page; the rest are on a page per month
# Failures that are no one entity's: the operator's template or the disk. The whole write fails and
# the old site stays; any other failure of one page, feed or event skips that one.
WHOLE_SITE_FAILURES = (OSError, MemoryError, jinja2.TemplateNotFound, jinja2.TemplateSyntaxError)

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
        directory = congress_directory(session, config)
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


def seat_table(store: Store, config: Config) -> list[dict[str, Any]]:
    """Every seat in Congress with who holds it and how to reach them, for the digest's "find your
    members" table (static: no script looks anything up)."""
    with store.session() as session:
        directory = congress_directory(session, config)
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
                   events: dict[str, bytes] | None = None, skipped: list[str] | None = None) -> bytes:
    """An iCalendar file of the meetings that have a time. Each VEVENT is serialized once per site
    (`events` keeps them): the same meeting is in the whole calendar, its watch's and its own. An
    event that cannot be written is left out, with one line in `skipped`."""
    events = {} if events is None else events
    calendar = Calendar()
    calendar.add("prodid", f"-//tracker {__version__}//meetings//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", one_line(name))
    for mt in meetings:
        if mt.get("start") and mt["entity"] not in events:
            try:
                events[mt["entity"]] = _event(mt, sequences)
            except WHOLE_SITE_FAILURES:
                raise
            except Exception as exc:
                events[mt["entity"]] = b""
                if skipped is not None:
                    skipped.append(_skip_line(f"calendar event of {mt['entity']}", exc))
    body = b"".join(events[mt["entity"]] for mt in meetings if mt.get("start"))
    head, end = calendar.to_ical().rsplit(b"END:VCALENDAR", 1)
    return head + body + b"END:VCALENDAR" + end


def _event(meeting: dict[str, Any], sequences: dict[str, int]) -> bytes:
    """One meeting as a VEVENT (its UID is the entity key: a moved meeting is the same event).
    Every text property is one line (`one_line`: a CR or LF from a source would end the content
    line), the URL an http(s) one (`web_url`)."""
    from datetime import UTC, datetime

    start = datetime.fromisoformat(meeting["start"]).astimezone(UTC)  # an instant: Z form
    event = Event()
    event.add("uid", one_line(f"{meeting['entity']}@tracker"))
    summary = meeting.get("label") or f"{meeting.get('body') or ''}: {meeting.get('title') or 'meeting'}"
    event.add("summary", one_line(summary).strip(": ") or "meeting")
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(hours=2))
    event.add("dtstamp", clock.now())
    event.add("sequence", sequences.get(meeting["entity"], 0))
    event.add("status", "CANCELLED" if meeting.get("status") == "cancelled" else "CONFIRMED")
    if location := one_line(meeting.get("location")):
        event.add("location", location)
    if url := web_url(meeting.get("url")) or web_url(meeting.get("agenda_url")):
        event.add("url", url)
    return event.to_ical()


def write_site(store: Store, config: Config, out: Path, *, skipped: list[str] | None = None) -> Path:
    """Render the whole site aside, then swap it in for `out`. A bill or meeting page, a month's
    page, a watch's feeds or a calendar event that fails is left out with one line in `skipped`
    and the rest is written; the front page and the whole feeds are the site: if one of them (or
    the disk, or the operator's templates) fails, nothing is swapped in and the old site stays.
    Writing `[digest] out` records its outcome, read by `tracker status --check`."""
    out = Path(out)
    skipped = [] if skipped is None else skipped
    monitored = out.resolve() == config.digest_dir.resolve()
    try:
        _write_site(store, config, out, skipped)
    except Exception as exc:
        if monitored:
            _remember(store, error=_problem(exc))
        raise
    if monitored:
        _remember(store, skipped=skipped)
    return out


def _remember(store: Store, **outcome: Any) -> None:
    """Record the outcome; a database that cannot take it (the disk is full) is a log line, never
    a failure hiding the write's own."""
    try:
        record_digest(store, **outcome)
    except Exception as exc:
        log.warning("digest: could not record how the write went: %s", _problem(exc))


def _problem(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {one_line(exc) or 'failed'}"


def _skip_line(what: str, exc: BaseException) -> str:
    """The one line about a page, feed or event left out of the site."""
    return f"digest: {what} left out: {_problem(exc)}"


def _write_site(store: Store, config: Config, out: Path, skipped: list[str]) -> None:
    status = collect_status(store, config)
    everything = list_changes(store, newest_first=True)
    changes = everything[:RECENT_CHANGES]
    months = _changes_by_month(everything)
    bills = _bill_pages(store, config)
    seats = seat_table(store, config) if bills else []
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

    def calendar(meetings: list[dict[str, Any]], name: str) -> bytes:
        return build_calendar(meetings, sequences, name, events, skipped)

    def one(what: str, write: Callable[[], None]) -> None:
        """Write one entity's file; a failure that is the entity's own skips it with one line."""
        try:
            write()
        except WHOLE_SITE_FAILURES:
            raise
        except Exception as exc:
            skipped.append(_skip_line(what, exc))

    try:
        _write(staging / "index.html", env.get_template("digest/index.html.j2").render(**context))
        _write(staging / "digest.txt", env.get_template("digest/digest.txt.j2").render(**context))
        for bill in bills.values():
            watch_bills = [b for w in watches if w["kind"] == "bill" and bill in w.get("bills", []) for b in w["bills"]]
            one(f"page {bill['page']}", lambda bill=bill, watch_bills=watch_bills: _write(
                staging / bill["page"], env.get_template("digest/bill.html.j2").render(
                    **{**context, "root": "../"}, bill=bill, related=[b for b in watch_bills if b is not bill],
                    seats=seats, bill_changes=[c for c in changes if c["entity"] == bill["entity"]])))
        for watch in watches:
            for mt in watch.get("meetings", []):
                one(f"page {mt['page']}", lambda mt=mt, watch=watch: _write(
                    staging / mt["page"], env.get_template("digest/meeting.html.j2").render(
                        **{**context, "root": "../"}, mt=mt, zone=watch["zone"],
                        meeting_changes=[c for c in changes if c["entity"] == mt["entity"]])))
                one(f"calendar {mt['calendar']}", lambda mt=mt: _write_bytes(
                    staging / mt["calendar"], calendar([mt], mt["label"])))
        for month, entries in months.items():
            one(f"page changes/{month}.html", lambda month=month, entries=entries: _write(
                staging / "changes" / f"{month}.html", env.get_template("digest/changes.html.j2").render(
                    **{**context, "root": "../"}, month=month, entries=entries)))
        _write(staging / "changes.atom", env.get_template("digest/changes.atom.j2").render(
            **context, feed_id="tag:tracker,2026:changes", title="tracker: recent changes", entries=changes))
        (staging / "meetings.ics").write_bytes(calendar(status["meetings"], "tracker meetings"))
        for watch in config.bills + config.meetings:
            folder = staging / "watches" / watch.id
            entries = [c for c in changes if c["watch"] == watch.id]
            one(f"feed watches/{watch.id}/changes.atom", lambda folder=folder, watch=watch, entries=entries: _write(
                folder / "changes.atom", env.get_template("digest/changes.atom.j2").render(
                    **context, feed_id=f"tag:tracker,2026:watch/{watch.id}", title=f"tracker: {watch.name}",
                    entries=entries)))
            one(f"calendar watches/{watch.id}/meetings.ics", lambda folder=folder, watch=watch: _write_bytes(
                folder / "meetings.ics", calendar([mt for mt in status["meetings"] if mt["watch"] == watch.id],
                                                  watch.name)))
        _swap(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _changes_by_month(changes: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Changes (newest first) by the month they were detected: a page each."""
    months: dict[str, list[dict[str, Any]]] = {}
    for change in changes:
        months.setdefault(change["detected_at"][:7], []).append(change)
    return months


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _swap(staging: Path, out: Path) -> None:
    """Replace `out` with `staging`: the old site stays whole until the new one is complete."""
    old = out.with_name(f".{out.name}.old")
    if old.exists():
        shutil.rmtree(old)
    if out.exists():
        os.rename(out, old)
    os.rename(staging, out)
    shutil.rmtree(old, ignore_errors=True)
