"""Where every watched thing stands, and what changed: typed views of the store.

`status --json`, `changes --json`, the digest and the demo all read these. Each view is a dataclass
whose fields people and templates read (`view.stage`, `meeting.label`), with `to_json()` giving the
documented JSON shape key for key; a view keeps the record it was made from (`record`) for a page
that shows more of it. Nothing here prints: the CLI's words are in tracker/status.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from tracker import clock, people
from tracker import models as m
from tracker.changes import told_to
from tracker.clock import iso_z
from tracker.config import Config
from tracker.cursors import OpenStatesCursor
from tracker.meetings.participation import Participation, take_part
from tracker.outbox import closed_counts, dead_deliveries, delivery_counts
from tracker.planning import plan_sources
from tracker.queries import Roster, Watched, message_counts, watch_entities
from tracker.records import Bill, Document, LatestAction, Meeting, MeetingStatus, StateBill
from tracker.runs import HEARTBEAT_LEASE, consecutive_failures, counted, open_runs, run_lock_holder
from tracker.safetext import web_url
from tracker.states import committee_label, label, where_it_stands
from tracker.store import Store
from tracker.words import document_noun, local_iso, meeting_label, meeting_page

MEETING_PAST_DAYS = 30  # `status` lists meetings from this many days back, and every upcoming one


@dataclass(frozen=True)
class BillView:
    """A watched bill as `status` shows it."""

    watch: str
    entity: str
    number: str
    congress: int | None
    title: str | None
    stage: str | None
    latest_action: LatestAction | None
    cosponsors: int  # current ones; withdrawn cosponsors are not counted
    law: str | None  # the public law number once enacted ("117-169")
    url: str | None
    record: Bill = field(repr=False, compare=False)

    @classmethod
    def of(cls, watch_id: str, entity: str, bill: Bill) -> BillView:
        return cls(watch=watch_id, entity=entity, number=bill.display, congress=bill.congress, title=bill.title,
                   stage=bill.stage, latest_action=bill.latest_action, cosponsors=bill.active_cosponsors,
                   law=bill.laws[0]["number"] if bill.laws else None, url=bill.url, record=bill)

    def to_json(self) -> dict[str, Any]:
        return {"watch": self.watch, "entity": self.entity, "number": self.number, "congress": self.congress,
                "title": self.title, "stage": self.stage, "latest_action": self.latest_action,
                "cosponsors": self.cosponsors, "law": self.law, "url": self.url}


@dataclass(frozen=True)
class StateBillView:
    """A watched state bill as `status` shows it (`state_bills` in its JSON): its stage in the
    state's own words, the committee holding it, its sponsors."""

    watch: str
    entity: str
    state: str  # co
    session: str
    number: str  # SB 217, as the state writes it
    label: str  # Colorado SB 217
    title: str
    stage: str  # one of records.STATE_STAGES
    where: str  # the stage in the state's words: "passed the Senate"
    committee: str | None  # "the Senate Judiciary Committee" while one holds it
    latest_action: dict[str, Any] | None
    sponsors: int
    url: str | None
    record: StateBill = field(repr=False, compare=False)

    @classmethod
    def of(cls, watch_id: str, entity: str, bill: StateBill) -> StateBillView:
        return cls(watch=watch_id, entity=entity, state=bill.state, session=bill.session, number=bill.identifier,
                   label=label(bill), title=bill.title, stage=bill.stage, where=where_it_stands(bill),
                   committee=committee_label(bill.committee, bill.state) if bill.committee else None,
                   latest_action=bill.latest_action, sponsors=len(bill.sponsors), url=bill.url, record=bill)

    def to_json(self) -> dict[str, Any]:
        return {"watch": self.watch, "entity": self.entity, "state": self.state, "session": self.session,
                "number": self.number, "title": self.title, "stage": self.stage, "where": self.where,
                "committee": self.committee, "latest_action": self.latest_action, "sponsors": self.sponsors,
                "url": self.url}


@dataclass(frozen=True)
class ItemView:
    """An agenda item that matched the watch's keywords."""

    title: str | None
    matter: str | None
    keywords: list[str]

    def to_json(self) -> dict[str, Any]:
        return {"title": self.title, "matter": self.matter, "keywords": self.keywords}


@dataclass(frozen=True)
class DocumentView:
    """A meeting's document or media link, with the noun people read ("Agenda packet")."""

    kind: str
    url: str
    label: str | None
    noun: str

    @classmethod
    def of(cls, doc: Document) -> DocumentView:
        return cls(kind=doc.kind, url=doc.url, label=doc.label, noun=document_noun(doc.kind))

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "url": self.url, "label": self.label, "noun": self.noun}


@dataclass(frozen=True)
class MeetingView:
    """A meeting of a watched body: its start with the body's UTC offset, its status now (`passed`
    once it began, or once its day is over in the body's zone when its time was never announced,
    unless cancelled), its matching items and documents."""

    watch: str
    entity: str
    body: str | None
    title: str
    start: str | None  # ISO 8601 with the body's offset; None while the time is to be announced
    date: str | None
    time_tbd: bool
    status: str
    status_text: str | None
    location: str | None
    agenda_url: str | None
    minutes_url: str | None
    comment: str | None
    livestream_url: str | None
    url: str | None
    documents: list[DocumentView]
    missing: bool  # the source's complete listing no longer shows it
    items: list[ItemView]
    zone: str = field(compare=False)  # the body's time zone
    record: Meeting = field(repr=False, compare=False)
    over: bool = field(default=False, compare=False)  # begun, or its day gone by: held or called off, not ahead

    @classmethod
    def of(cls, watch_id: str, watched: Watched, zone: ZoneInfo, now: datetime) -> MeetingView:
        meeting = watched.record
        assert isinstance(meeting, Meeting)
        status = meeting.status or MeetingStatus.CONFIRMED
        if meeting.start:
            over = clock.parse_instant(meeting.start) < now
        else:  # no time announced: over once its day is, where the body meets
            over = bool(meeting.date) and str(meeting.date)[:10] < now.astimezone(zone).date().isoformat()
        if status != MeetingStatus.CANCELLED and over:
            status = MeetingStatus.PASSED
        return cls(
            watch=watch_id, entity=watched.key, body=meeting.body, title=meeting.title,
            start=local_iso(meeting.start, zone), date=meeting.date, time_tbd=bool(meeting.time_tbd),
            status=status, status_text=meeting.status_text, location=meeting.location,
            agenda_url=meeting.agenda_url, minutes_url=meeting.minutes_url, comment=meeting.comment,
            livestream_url=meeting.livestream_url, url=meeting.url,
            documents=[DocumentView.of(doc) for doc in meeting.links],
            missing=watched.missing_since is not None,
            items=[ItemView(i.get("title"), i.get("matter"), i.get("keywords") or [])
                   for i in meeting.matching_items_for(watch_id)],
            zone=str(zone), record=meeting, over=over)

    @property
    def label(self) -> str:
        """How people name it: "Committee on Public Safety" or "Detroit Board of Education Regular Meeting"."""
        return meeting_label(self.record)

    @property
    def upcoming(self) -> bool:
        """Ahead: neither begun nor its day gone by (a meeting called off for last week is not)."""
        return not self.over

    @property
    def cancelled(self) -> bool:
        return self.status == MeetingStatus.CANCELLED

    @property
    def take_part(self) -> Participation | None:
        """How to testify or comment, only where its source's note says how (with any deadline the
        note states): tracker/meetings/participation.py decides."""
        return take_part(self.comment)

    @property
    def web_documents(self) -> list[DocumentView]:
        """The documents a page links: those at an http(s) address `web_url` accepts (a `javascript:`
        one would be a link to nowhere, `href=""`, which only reloads the page)."""
        return [doc for doc in self.documents if web_url(doc.url)]

    @property
    def watch_live(self) -> str | None:
        """Where to watch it: the source's livestream, else its first video link."""
        return self.livestream_url or next((doc.url for doc in self.documents if doc.kind == "video"), None)

    @property
    def page(self) -> str:
        """Its page in the digest, relative to the site's root."""
        return f"{meeting_page(self.entity)}.html"

    @property
    def calendar(self) -> str:
        """Its calendar entry in the digest, relative to the site's root."""
        return f"{meeting_page(self.entity)}.ics"

    def sort_key(self) -> tuple[str, str]:
        """Soonest first by the day where its body meets, then by the instant; one whose time is to
        be announced first on its day. Not by the UTC instant alone: an evening meeting in America
        is the next day in UTC, and came after that day's meeting with no time yet."""
        if self.start:
            return (f"{self.start[:10]}T{clock.parse_instant(self.start).isoformat()}", self.entity)
        return (self.date or "9999", self.entity)

    def to_json(self) -> dict[str, Any]:
        return {
            "watch": self.watch, "entity": self.entity, "body": self.body, "title": self.title,
            "start": self.start, "date": self.date, "time_tbd": self.time_tbd, "status": self.status,
            "status_text": self.status_text, "location": self.location, "agenda_url": self.agenda_url,
            "minutes_url": self.minutes_url, "comment": self.comment, "livestream_url": self.livestream_url,
            "url": self.url,
            # every document and media link, typed (agenda_url & co. above stay for scripts)
            "documents": [doc.to_json() for doc in self.documents],
            "missing": self.missing,
            "items": [item.to_json() for item in self.items],
        }


@dataclass(frozen=True)
class SourceView:
    """A source's health from its runs (an interrupted run says nothing about the source)."""

    id: str
    last_run: str | None
    last_success: str | None
    ok: bool | None  # None: never crawled
    error: str | None
    consecutive_failures: int
    budget: Budget | None = None  # a source with a daily request budget (openstates)
    running: Running | None = None  # its run not closed yet, if any

    def to_json(self) -> dict[str, Any]:
        out = {"id": self.id, "last_run": self.last_run, "last_success": self.last_success, "ok": self.ok,
               "error": self.error, "consecutive_failures": self.consecutive_failures}
        if self.budget is not None:  # only where there is one: every other source's shape is as it was
            out["budget"] = self.budget.to_json()
        if self.running is not None:  # likewise only while a run of it is open
            out["running"] = self.running.to_json()
        return out


@dataclass(frozen=True)
class Running:
    """A source's newest run not closed yet: going (its runner heartbeats, or holds the run lock),
    or `abandoned` (its runner stopped: a machine that died; the next run closes it as such)."""

    since: str  # UTC, Z
    host: str | None
    pid: int | None
    abandoned: bool
    last_heartbeat: str | None  # UTC, Z: when its last beat was (None: never beat)

    def to_json(self) -> dict[str, Any]:
        return {"since": self.since, "host": self.host, "pid": self.pid, "abandoned": self.abandoned,
                "last_heartbeat": self.last_heartbeat}


@dataclass(frozen=True)
class Budget:
    """A source's requests for the UTC day: allowed, sent (refused ones included), left."""

    day: str  # YYYY-MM-DD, UTC
    daily: int
    used: int

    @property
    def left(self) -> int:
        return max(0, self.daily - self.used)

    def to_json(self) -> dict[str, Any]:
        return {"day": self.day, "daily": self.daily, "used": self.used, "left": self.left}


@dataclass(frozen=True)
class Deliveries:
    """The outbox in counts."""

    pending: int = 0
    sent: int = 0
    failed: int = 0
    dead: int = 0

    def to_json(self) -> dict[str, int]:
        return {"pending": self.pending, "sent": self.sent, "failed": self.failed, "dead": self.dead}


@dataclass(frozen=True)
class PeopleView:
    """Self-service subscribers in counts (never an address): by status, and their deliveries
    closed unsent (`dropped`: no longer subscribed when due; `bounced`: refused for good).
    `addresses` only on the operator's explicit request (`status --with-addresses`)."""

    pending: int = 0
    active: int = 0
    unsubscribed: int = 0
    bounced: int = 0
    dropped_deliveries: int = 0
    bounced_deliveries: int = 0
    addresses: list[dict[str, Any]] | None = None

    @property
    def any(self) -> bool:
        return bool(self.pending or self.active or self.unsubscribed or self.bounced or self.dropped_deliveries
                    or self.bounced_deliveries)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"pending": self.pending, "active": self.active, "unsubscribed": self.unsubscribed,
                               "bounced": self.bounced,
                               "deliveries": {"dropped": self.dropped_deliveries, "bounced": self.bounced_deliveries}}
        if self.addresses is not None:
            out["addresses"] = self.addresses
        return out


def people_view(session: Session, with_addresses: bool = False) -> PeopleView:
    found = people.counts(session)
    closed = closed_counts(session)
    return PeopleView(pending=found.get("pending", 0), active=found.get("active", 0),
                      unsubscribed=found.get("unsubscribed", 0), bounced=found.get("bounced", 0),
                      dropped_deliveries=closed["dropped"], bounced_deliveries=closed["bounced"],
                      addresses=people.listing(session) if with_addresses else None)


@dataclass(frozen=True)
class DeadDelivery:
    """A delivery that will not be retried, named by subscriber id only (no address)."""

    id: int
    subscriber: str
    change_id: int | None
    period: str | None
    tries: int
    last_error: str | None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "subscriber": self.subscriber, "change_id": self.change_id, "period": self.period,
                "tries": self.tries, "last_error": self.last_error}


@dataclass(frozen=True)
class EmptyWatch:
    """A watch whose source reads fine yet holds nothing for it (no meeting from 30 days back on,
    no bill found): often a wrong body name, address or keyword, which no failure would show."""

    watch: str
    kind: str  # meeting | bill | statebill
    source: str  # the source that read fine
    searched: list[str]  # what it looks by: its bodies, title phrases or keywords (none: the whole listing)


@dataclass(frozen=True)
class StatusView:
    generated_at: str
    bills: list[BillView]
    meetings: list[MeetingView]
    sources: list[SourceView]
    deliveries: Deliveries
    dead_deliveries: list[DeadDelivery]
    messages: Deliveries = field(default_factory=Deliveries)  # the same counts in messages (the digest's)
    state_bills: list[StateBillView] = field(default_factory=list)
    people: PeopleView = field(default_factory=PeopleView)
    empty_watches: list[EmptyWatch] = field(default_factory=list)

    @property
    def last_success(self) -> str | None:
        """When any source last got through (None: never)."""
        return max((s.last_success for s in self.sources if s.last_success), default=None)

    def to_json(self) -> dict[str, Any]:
        return {
            "generated_at": self.generated_at,
            "bills": [b.to_json() for b in self.bills],
            "state_bills": [b.to_json() for b in self.state_bills],
            "meetings": [mt.to_json() for mt in self.meetings],
            "sources": [s.to_json() for s in self.sources],
            "deliveries": self.deliveries.to_json(),
            "dead_deliveries": [d.to_json() for d in self.dead_deliveries],
            "people": self.people.to_json(),
        }


def source_health(session: Session, config: Config, holder: tuple[str | None, int | None] | None = None
                  ) -> list[SourceView]:
    """Each source's health; `holder`: who holds the run lock (its open runs are going)."""
    running: dict[str, Running] = {}
    for found in open_runs(session, holder):  # oldest first: a source's newest open run last
        run = found.run
        beat = found.lease_until - HEARTBEAT_LEASE if found.lease_until is not None else None
        running[run.source_id] = Running(since=iso_z(run.started_at), host=run.host, pid=run.pid,
                                         abandoned=found.abandoned, last_heartbeat=iso_z(beat) if beat else None)
    out = []
    for job in plan_sources(config):
        last = session.scalar(
            select(m.Run).where(m.Run.source_id == job.source_id, m.Run.finished_at.is_not(None),
                                counted())
            .order_by(m.Run.id.desc()).limit(1))
        last_ok = session.scalar(
            select(m.Run.finished_at).where(m.Run.source_id == job.source_id, m.Run.ok.is_(True))
            .order_by(m.Run.id.desc()).limit(1))
        out.append(SourceView(
            id=job.source_id,
            last_run=iso_z(last.finished_at) if last and last.finished_at else None,
            last_success=iso_z(last_ok) if last_ok else None,
            ok=bool(last.ok) if last else None,
            error=last.error if last else None,
            consecutive_failures=consecutive_failures(session, job.source_id),
            budget=_budget(session, config) if job.kind == "openstates" else None,
            running=running.get(job.source_id)))
    return out


def _budget(session: Session, config: Config) -> Budget:
    """Open States' requests today (UTC), as its spider counted them in its cursor."""
    state = session.get(m.SourceState, "openstates")
    cursor = OpenStatesCursor.load(state.cursor if state is not None else None)
    day = clock.now().astimezone(UTC).date().isoformat()
    return Budget(day=day, daily=config.sources.openstates.daily_budget, used=cursor.used_on(day))


def collect_status(store: Store, config: Config, *, with_addresses: bool = False) -> StatusView:
    """Every watched bill, the meetings of the last 30 days and every upcoming one (soonest first),
    source health, the outbox's counts and people's (their addresses only `with_addresses`)."""
    now = clock.now()
    horizon = now - timedelta(days=MEETING_PAST_DAYS)
    holder = run_lock_holder(store)
    with store.session() as session:
        bills = [BillView.of(w.id, watched.key, watched.record)  # type: ignore[arg-type]
                 for w in config.federal_bills for watched in watch_entities(session, w.id, "bill")]
        state_bills = [StateBillView.of(w.id, watched.key, watched.record)  # type: ignore[arg-type]
                       for w in config.state_bills for watched in watch_entities(session, w.id, "statebill")]
        meetings = []
        for w in config.meetings:
            zone = config.display_zone(w.id)
            for watched in watch_entities(session, w.id, "meeting"):
                meeting = watched.record
                assert isinstance(meeting, Meeting)
                if meeting.start and clock.parse_instant(meeting.start) < horizon:
                    continue
                if not meeting.start and meeting.date and meeting.date < horizon.date().isoformat():
                    continue
                meetings.append(MeetingView.of(w.id, watched, zone, now))
        meetings.sort(key=MeetingView.sort_key)
        sources = source_health(session, config, holder)
        return StatusView(
            generated_at=iso_z(now), bills=bills, meetings=meetings, sources=sources,
            deliveries=Deliveries(**delivery_counts(session)),
            dead_deliveries=[DeadDelivery(**row) for row in dead_deliveries(session)],
            messages=Deliveries(**message_counts(session)), state_bills=state_bills,
            people=people_view(session, with_addresses),
            empty_watches=empty_watches(config, sources, bills, state_bills, meetings))


def empty_watches(config: Config, sources: list[SourceView], bills: list[BillView],
                  state_bills: list[StateBillView], meetings: list[MeetingView]) -> list[EmptyWatch]:
    """The watches holding nothing though their source's last run went well (a source failing or
    never run says so itself): the digest says "No upcoming meetings known", status says this."""
    read_fine = {s.id for s in sources if s.ok}
    holding = {v.watch for v in [*bills, *state_bills, *meetings]}
    found: list[EmptyWatch] = []
    for w in config.federal_bills:
        if w.id not in holding and "govinfo" in read_fine:
            found.append(EmptyWatch(w.id, "bill", "govinfo", list(w.titles)))
    for sw in config.state_bills:
        if sw.id not in holding and "openstates" in read_fine:
            found.append(EmptyWatch(sw.id, "statebill", "openstates", list(sw.keywords)))
    for mw in config.meetings:
        if mw.id not in holding and mw.source_id in read_fine:
            bodies = list(mw.bodies) or list(getattr(mw.source, "bodies", None) or [])
            found.append(EmptyWatch(mw.id, "meeting", mw.source_id, bodies))
    return found


# -- what to do: the digest's "This week" and "Coming up" ---------------------------------------------

@dataclass(frozen=True)
class AgendaReason:
    """An agenda item that makes a meeting matter to its campaign, and why: it holds the watch's
    keywords, it is a council matter the watch follows (`followed_matter`, with its status now), or
    it names a bill the campaigns watch (`bill`: "H.R. 2471")."""

    title: str | None
    matter: str | None
    keywords: list[str]
    followed_matter: bool = False
    matter_status: str | None = None
    bill: str | None = None


@dataclass(frozen=True)
class UpcomingView:
    """A meeting of a watched body in the next 30 days with what makes it matter (its agenda
    reasons), what changed about it this week (moved, agenda posted; a cancellation is its status),
    and what to do: attend (`meeting` has when and where, its `calendar` entry), testify or comment
    (`meeting.take_part`), watch live (`meeting.watch_live`), write to its members (`roster`)."""

    meeting: MeetingView
    campaign: str  # the watch's name
    reasons: list[AgendaReason]
    moved_from: str | None  # its start before it moved this week (ISO, the body's offset)
    agenda_posted: str | None  # when its agenda was found posted this week (UTC, Z)
    roster: Roster | None
    kind: str = "meeting"

    @property
    def start(self) -> str | None:
        return self.meeting.start

    def sort_key(self) -> tuple[str, str]:
        return self.meeting.sort_key()


@dataclass(frozen=True)
class HearingView:
    """A committee hearing on a watched bill, where the bill's record shows one (a BILLSTATUS
    committee activity "Hearings ...") or, called off, showed one before: a card ahead, and an event
    in its campaigns' calendars. One per bill, committee and day in Washington, whatever watches
    hold the bill (`watches`, `campaign` naming each)."""

    bill: BillView
    campaign: str
    committee: str
    activity: str  # the record's own words: "Hearings by"
    date: str  # YYYY-MM-DD, its day in Washington
    page: str  # the bill's page in the digest
    kind: str = "hearing"
    start: str | None = None  # the record's instant ("2019-05-01T18:30:04Z"); None: a day alone
    committee_code: str = ""  # BILLSTATUS systemCode ("slia00"), "" when the record gives none
    watches: tuple[str, ...] = ()  # the campaigns watching its bill
    contacts: tuple[str, ...] = ()  # whom to contact about the bill (its page's lines)
    # No longer on the bill's record though an earlier state of it showed it: cancelled, or postponed
    # (`moved_to`: the committee's hearing on the bill the record shows now, on a later day).
    called_off: bool = False
    moved_to: str | None = None

    @property
    def uid(self) -> str:
        """Its calendar UID, the same every run: the bill, the committee, the day (a time moved within
        the day is the same event, updated; another day is another hearing)."""
        return f"hearing:{self.bill.entity}:{self.committee_code or self.committee}:{self.date}@tracker"

    @property
    def calendar(self) -> str:
        """Its own calendar file in the digest (a card's "add to calendar"), named by its UID as a
        meeting's is by its key."""
        return f"hearings/{meeting_page(self.uid.removesuffix('@tracker')).removeprefix('meetings/')}.ics"

    def sort_key(self) -> tuple[str, str]:
        return (self.date, self.bill.entity)


# -- changes ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ChangeView:
    """A recorded change as `changes --json` gives it (kinds and their `data`: docs/cli.md)."""

    id: int
    kind: str
    watch: str | None
    entity: str
    summary: str
    detected_at: str  # UTC, with Z
    occurred_at: str | None
    url: str | None
    data: dict[str, Any]

    @classmethod
    def of(cls, change: m.Change, watch: str | None = None) -> ChangeView:
        return cls(id=change.id, kind=change.kind, watch=watch or change.watch_id, entity=change.entity_key,
                   summary=change.summary, detected_at=iso_z(change.detected_at), occurred_at=change.occurred_at,
                   url=change.url, data=change.data)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "watch": self.watch, "entity": self.entity,
                "summary": self.summary, "detected_at": self.detected_at, "occurred_at": self.occurred_at,
                "url": self.url, "data": self.data}


def list_changes(
    store: Store,
    *,
    since: datetime | None = None,
    watch: str | None = None,
    kind: str | None = None,
    limit: int | None = None,
    newest_first: bool = False,
) -> list[ChangeView]:
    """Recorded changes, oldest first (by id, which only grows); `kind` is a glob (`bill.*`),
    filtered and limited by the database (with `watch`, limited once the changes that are other
    watches' own are left out). With `watch`, each change is named by that watch."""
    # Plain rows, not ORM objects: the digest reads every change, and building 20,000 tracked
    # instances only to copy them into views cost it a fifth of its time.
    query = select(m.Change.id, m.Change.kind, m.Change.watch_id, m.Change.entity_key, m.Change.summary,
                   m.Change.detected_at, m.Change.occurred_at, m.Change.url, m.Change.data)
    if since is not None:
        query = query.where(m.Change.detected_at >= since)
    if watch is not None:
        query = query.where(or_(  # its entities' changes, and its own of those it has since let go
            m.Change.watch_id == watch,
            m.Change.entity_key.in_(select(m.WatchEntity.entity_key).where(m.WatchEntity.watch_id == watch))))
    if kind is not None:
        query = query.where(m.Change.kind.like(glob_to_like(kind), escape="\\"))
    query = query.order_by(m.Change.id.desc() if newest_first else m.Change.id)
    if limit and watch is None:  # with a watch, after leaving out other watches' own (below)
        query = query.limit(limit)
    with store.session() as session:
        found = [ChangeView(id=row.id, kind=row.kind, watch=watch or row.watch_id, entity=row.entity_key,
                            summary=row.summary, detected_at=iso_z(row.detected_at), occurred_at=row.occurred_at,
                            url=row.url, data=row.data) for row in session.execute(query)
                 if watch is None or watch in (told_to(row.data) or {watch})]  # other watches' own: not this one's
    return found[:limit] if limit else found


def glob_to_like(pattern: str) -> str:
    """A shell glob (`bill.*`, `meeting.?gend*`) as a LIKE pattern, its own `%` and `_` escaped."""
    escaped = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%").replace("?", "_")
