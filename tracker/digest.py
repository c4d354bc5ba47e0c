"""The static digest site organizers open: index.html, a page per bill and per meeting,
changes.atom, meetings.ics and digest.txt (plus the same feeds per watch).

Written aside and swapped in, so a crash mid-write never leaves a half site. Everything scraped is
escaped by Jinja2's autoescape, every link passes `safetext.web_url`, every calendar property
`safetext.one_line`; the pages need no server, scripts, fonts or CDNs. A page, feed or calendar
event that still fails is skipped with one line and the rest is written; the outcome of writing
`[digest] out` is recorded for `tracker status --check` (`health.record_digest`).
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import jinja2
from icalendar import Calendar, Event, Timezone
from icalendar.parser import Contentline, Parameters
from icalendar.prop import vText
from markupsafe import Markup, escape
from sqlalchemy import Text, cast, func, select
from sqlalchemy.dialects.postgresql import JSON as PG_JSON
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from tracker import __version__, clock, templating
from tracker import models as m
from tracker.billnumbers import parse_bill_number
from tracker.bills.stages import chambers_passed
from tracker.changes import told_to
from tracker.config import Config
from tracker.contacts import STATES as PLACES
from tracker.contacts import all_seats, bill_contact_lines, bill_contacts, congress_on, person_label
from tracker.health import DIGEST_STATE, NewsMark, digest_news_mark, record_digest
from tracker.meetings.participation import how_to_take_part
from tracker.queries import (
    Roster,
    body_members_now,
    congress_directory,
    holding_watches,
    meeting_sequences,
    record_as_of,
    state_directory,
    watch_entities,
)
from tracker.records import Bill, Matter, MeetingStatus, Record, StateBill, items_for
from tracker.safetext import one_line, web_url
from tracker.statepeople import bill_contact_lines as state_bill_contact_lines
from tracker.states import STATES, state_chambers_passed, state_info
from tracker.store import Store
from tracker.views import (
    MEETING_PAST_DAYS,
    AgendaReason,
    BillView,
    ChangeView,
    HearingView,
    MeetingView,
    StateBillView,
    StatusView,
    UpcomingView,
    collect_status,
    list_changes,
)
from tracker.words import STAGE_WORDS, bill_label, change_words, day_words, headline, local_time, slug

log = logging.getLogger(__name__)
RECENT_CHANGES = 200  # the newest changes, for feeds and each bill's and meeting's page
RECENT_SHOWN = 50  # on the front page; the rest are on a page per month
THIS_WEEK, COMING_UP = timedelta(days=7), timedelta(days=30)  # the front page's first two sections
NEWS_GROUPS, NEWS_PER_GROUP = 40, 10  # "New since the last digest": bills and meetings, changes of each
# Where the sign-up form's CSRF token goes: `tracker serve` puts a fresh signed token here as it
# serves a page (tracker/web/), so a static page served by it carries a working form.
CSRF_PLACEHOLDER = "tracker-csrf-placeholder"


@dataclass(frozen=True)
class SignupForm:
    """The sign-up form's parts (templates/digest/_signup.html.j2): shown only when people can sign
    up, i.e. `[serve] public_url` and `[alerts] mail_url` are both set."""

    action: str  # {public_url}/subscribe
    csrf: str
    watches: list[tuple[str, str]]  # (watch id, campaign name), in the config's order
    states: list[tuple[str, str]]  # (code, name)


def signup_form(config: Config, csrf: str = CSRF_PLACEHOLDER) -> SignupForm | None:
    if config.serve.public_url is None or config.alerts.mail_url is None:
        return None
    return SignupForm(action=f"{config.serve.public_url.rstrip('/')}/subscribe", csrf=csrf,
                      watches=[(w.id, w.name) for w in [*config.bills, *config.meetings]],
                      states=place_choices())


def content_policy(form: SignupForm | None) -> str:
    """The pages' Content-Security-Policy, in a `<meta>` (a static host sends no header): no script,
    frame, font or remote image at all, styles only the page's own, and a form only to the sign-up
    server. Every scraped text on the pages is escaped; should one escape ever be missed, a
    source's markup still runs nothing and sends no reader's typing anywhere."""
    parts = urlsplit(form.action) if form else None
    sends_to = f"{parts.scheme}://{parts.netloc}" if parts else "'none'"
    return (f"default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action {sends_to}; "
            "base-uri 'none'")


def place_choices() -> list[tuple[str, str]]:
    """Every place with a seat in Congress (states, DC, territories) as the forms offer it: the code
    `check_place` takes and a name, by name."""
    return sorted(((code, STATES[code.lower()].name if code.lower() in STATES else _TERRITORIES.get(code, code))
                   for code in PLACES), key=lambda place: place[1])


_TERRITORIES = {"AS": "American Samoa", "GU": "Guam", "MP": "Northern Mariana Islands", "PR": "Puerto Rico",
                "VI": "U.S. Virgin Islands", "DC": "District of Columbia"}


# -- feed ids --------------------------------------------------------------------------------------
# Every installation's Atom ids are its own: a reader holding two organizations' feeds dedupes
# entries by id, and `tag:tracker,2026:change/17` of one hid the other's change 17. The id is kept in
# the database (`serve_keys` row "feeds"), not taken from `[serve] public_url`: a database made anew
# numbers its changes from 1 again (a host-based id would repeat its own past ids), and setting or
# moving `public_url` later must not show a reader every entry as new.
FEEDS_KEY = "feeds"
LEGACY_PREFIX = "tag:tracker,2026:"  # the ids every installation shared before (still those of old entries)


@dataclass(frozen=True)
class FeedIds:
    """This installation's Atom ids: `tag:tracker,2026:{installation}/changes`, `.../watch/{id}`,
    `.../change/{id}`. Changes an upgraded installation's feeds already showed keep their old ids
    (`legacy_through`: the newest change its last digest showed), so its readers see nothing again."""

    installation: str
    legacy_through: int = 0

    @property
    def prefix(self) -> str:
        return f"{LEGACY_PREFIX}{self.installation}/"

    def feed(self, watch_id: str | None = None) -> str:
        return f"{self.prefix}watch/{watch_id}" if watch_id else f"{self.prefix}changes"

    def entry(self, change_id: int) -> str:
        if change_id <= self.legacy_through:
            return f"{LEGACY_PREFIX}change/{change_id}"
        return f"{self.prefix}change/{change_id}"


def feed_ids(session: Session) -> FeedIds:
    """The installation's feed ids, made on first use and kept. Made by an installation that wrote
    digests before (the `digest` state row): the changes its last digest showed keep their old ids.
    Two processes making it at once: the first insert wins and both read it."""
    row = session.get(m.ServeKey, FEEDS_KEY)
    if row is None:
        state = session.get(m.SourceState, DIGEST_STATE)
        news = NewsMark.load((state.cursor or {}).get("news")) if state is not None else None
        shown = news.through if news is not None else 0
        if state is not None and news is None and (written := (state.cursor or {}).get("written_at")):
            # written before news marks were kept: what was detected by that write (to its second), not
            # what the upgraded release's first crawl found since
            shown = session.scalar(select(func.max(m.Change.id)).where(
                m.Change.detected_at < clock.parse_instant(written) + timedelta(seconds=1))) or 0
        session.execute(m.insert(session, m.ServeKey).values(
            name=FEEDS_KEY, value=f"{uuid.uuid4()} {shown}", created_at=clock.now(),
        ).on_conflict_do_nothing(index_elements=["name"]))
        session.flush()
        row = session.get(m.ServeKey, FEEDS_KEY)
        assert row is not None
    installation, _, through = row.value.partition(" ")
    return FeedIds(installation=installation, legacy_through=int(through or 0))


STALE_AFTER = timedelta(days=365)  # a bill with no action for a year is folded under its campaign
FINISHED = ("enacted", "vetoed", "failed")
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


# What a contact line holds that a phone can act on: a web address, an email address, a US phone number.
_CONTACT_PARTS = re.compile(
    r"(?P<url>https?://[^\s<>\"',;]+[^\s<>\"',;.)])"
    r"|(?P<mail>[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)"
    r"|(?P<phone>(?<![\w-])\(?\d{3}\)?[ .-]?\d{3}[.-]\d{4}(?![\w-]))")


def contact_links(line: object) -> Markup:
    """A contact line ("Chair: Marcus Ortega, d07@council.nyc.example, 212-555-0107") with its web
    address, email address and phone number as links an organizer taps on a phone (mailto:, tel:);
    every other part, and each link's text, escaped. A web address `web_url` refuses stays text."""
    text = str(line or "")
    out: list[str] = []
    at = 0
    for found in _CONTACT_PARTS.finditer(text):
        part = found.group(0)
        if found.group("url"):
            href = web_url(part)
        elif found.group("mail"):
            href = f"mailto:{part}"
        else:
            href = "tel:+1" + re.sub(r"\D", "", part)
        out.append(str(escape(text[at:found.start()])))
        out.append(f'<a href="{escape(href)}">{escape(part)}</a>' if href else str(escape(part)))
        at = found.end()
    out.append(str(escape(text[at:])))
    return Markup("".join(out))


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
        "person": person_label,
        "contact_links": contact_links,
    })


@dataclass(frozen=True)
class CampaignFeeds:
    """A campaign's own feed and calendar in the site, relative to the site's root: a meeting
    campaign's calendar holds its meetings, a federal bill campaign's the committee hearings on its
    bills (a state bill campaign has none to link: no source tells its hearings)."""

    id: str
    name: str
    atom: str
    ics: str | None
    calendar_of: str = "meetings"  # what its calendar holds, in its link's words


@dataclass
class BillPage:
    """A watched bill's page: the bill (`view.record` is all of it), the stage tracker's steps, its
    cosponsors' change this week, whom to call about it, and the other bills of its campaign."""

    view: BillView
    page: str
    steps: list[dict[str, Any]]
    cosponsor_change: int | None
    contacts: list[str]
    related: list[BillPage] = field(default_factory=list)

    @property
    def record(self) -> Bill:
        return self.view.record


@dataclass
class WatchSection:
    """One campaign on the front page: its bills (most recently moved first; `finished` the enacted,
    failed or vetoed ones and those with no action in a year, folded), or its body's upcoming
    meetings (`later`: those past the "Coming up" month, which the sections above leave out)."""

    id: str
    name: str
    kind: str  # "bill", "statebill" or "meeting"
    zone: str
    bills: list[BillPage] = field(default_factory=list)
    meetings: list[MeetingView] = field(default_factory=list)
    state_bills: list[StateBillPage] = field(default_factory=list)
    moved: str | None = None  # when its newest change was detected (UTC, Z)
    finished: list[BillPage] = field(default_factory=list)
    later: list[MeetingView] = field(default_factory=list)

    @property
    def active(self) -> list[BillPage]:
        return [page for page in self.bills if page not in self.finished]


@dataclass
class NewsGroup:
    """One bill's or meeting's changes in "New since the last digest": its headline (as an alert
    would title it), its campaign, its newest changes and how many there are."""

    entity: str
    campaign: str | None
    headline: str
    changes: list[ChangeView]  # newest first, at most NEWS_PER_GROUP
    total: int
    page: str | None  # its page in the digest, when it has one


@dataclass
class Site:
    """Everything the site shows, read from the store once before anything is written."""

    status: StatusView
    changes: list[ChangeView]  # the newest RECENT_CHANGES, newest first
    months: dict[str, list[ChangeView]]  # every change, by the month it was detected
    bills: dict[str, BillPage]  # by entity key
    watches: list[WatchSection]
    upcoming: list[MeetingView]
    rosters: dict[str, Roster]  # a Legistar meeting's body members now, by meeting key
    seats: list[dict[str, Any]]
    sequences: dict[str, int]
    this_week: list[UpcomingView | HearingView] = field(default_factory=list)  # the next 7 days
    coming_up: list[UpcomingView | HearingView] = field(default_factory=list)  # then to 30 days
    news: NewsMark = field(default_factory=NewsMark)
    news_groups: list[NewsGroup] = field(default_factory=list)
    news_count: int = 0  # changes new since the last digest, all of them
    state_bills: dict[str, StateBillPage] = field(default_factory=dict)  # by entity key
    by_watch: dict[str, list[ChangeView]] = field(default_factory=dict)  # each watch's newest RECENT_CHANGES
    by_entity: dict[str, list[ChangeView]] = field(default_factory=dict)  # each entity's newest RECENT_CHANGES
    feed_ids: FeedIds = field(default_factory=lambda: FeedIds(installation="unknown"))
    # hearings on watched bills from MEETING_PAST_DAYS back on, those called off included: calendars
    hearings: list[HearingView] = field(default_factory=list)


def _bill_pages(session: Session, config: Config, bills: list[BillView]) -> dict[str, BillPage]:
    """Every watched bill's page, with its cosponsor count a week ago and whom to call about it
    (its committee's leaders while it sits in committee, its sponsor)."""
    week_ago = clock.now() - timedelta(days=7)
    today = clock.now().date()
    directory = congress_directory(session, config)
    out: dict[str, BillPage] = {}
    for view in bills:
        if view.entity in out:
            continue
        bill = view.record
        before = record_as_of(session, view.entity, "bill", week_ago)
        out[view.entity] = BillPage(
            view=view, page=f"bills/{slug(bill.number or view.entity)}.html", steps=stage_steps(bill),
            cosponsor_change=bill.active_cosponsors - before.active_cosponsors if isinstance(before, Bill) else None,
            contacts=bill_contact_lines(bill_contacts(bill, directory, today=today)) if directory is not None else [])
    return out


def seat_table(session: Session, config: Config) -> list[dict[str, Any]]:
    """Every seat in Congress with who holds it and how to reach them, for the digest's "find your
    members" table (static: no script looks anything up)."""
    directory = congress_directory(session, config)
    if directory is None:
        return []
    rows = []
    for seat in all_seats(directory.legislators.values(), clock.now().date()):
        member = seat.member
        rows.append({"state": seat.state, "seat": seat.name, "name": member.label if member else "vacant",
                     "phone": member.phone if member else None, "url": member.contact_url if member else None})
    return rows


# -- state bills (Open States) ---------------------------------------------------------------------
# The stage bar in the state's own chambers, a page per watched state bill, and its front-page
# cards (templates/digest/_statebills.html.j2, statebill.html.j2): apart from Congress's bills,
# which have their own steps, pages and contacts.

_STATE_PASSED = {"upper": ("passed_upper",), "lower": ("passed_lower",)}


def state_stage_steps(bill: StateBill) -> list[dict[str, Any]]:
    """The steps of a state bill's tracker bar: introduced, committee, its first chamber then the
    other, named as the state names them ("Assembly", "House of Delegates"; one "Legislature" where
    there is one chamber), the Governor (DC's Mayor), law."""
    info = state_info(bill.state)
    stage = bill.stage or "introduced"
    passed = state_chambers_passed(bill)  # as the stage reads them: a passage known by its words counts
    done = {"introduced"}
    if stage != "introduced":
        done.add("committee")
    if info.unicameral:
        chambers = [("legislature", info.unicameral)]
    else:
        first = bill.chamber if bill.chamber in ("upper", "lower") else "lower"
        second = "upper" if first == "lower" else "lower"
        chambers = [(role, info.chamber(role) or role) for role in (first, second)]
    for role, _name in chambers:
        if role in passed or stage in _STATE_PASSED.get(role, ()) or stage in (
                "passed_both", "passed_legislature", "to_governor", "enacted"):
            done.add(role)
    if stage in ("to_governor", "enacted", "vetoed"):
        done.add("governor")
    if stage == "enacted":
        done.update({"governor", "law", *(role for role, _ in chambers)})
    steps = [("introduced", "Introduced"), ("committee", "Committee"), *chambers, ("governor", info.executive),
             ("law", "Law")]
    return [{"key": key, "label": name, "done": key in done} for key, name in steps]


@dataclass
class StateBillPage:
    """A watched state bill's page: the bill, its tracker bar, and whom to call about it (the chair
    of the committee holding it, its sponsors)."""

    view: StateBillView
    page: str
    steps: list[dict[str, Any]]
    contacts: list[str]

    @property
    def record(self) -> StateBill:
        return self.view.record


def _state_bill_pages(session: Session, config: Config, bills: list[StateBillView]) -> dict[str, StateBillPage]:
    out: dict[str, StateBillPage] = {}
    for view in bills:
        if view.entity in out:
            continue
        bill = view.record
        directory = state_directory(session, config, bill.state)
        out[view.entity] = StateBillPage(view=view, page=f"statebills/{slug(view.entity.split(':', 1)[1])}.html",
                                         steps=state_stage_steps(bill),
                                         contacts=state_bill_contact_lines(bill, directory))
    return out


def read_site(store: Store, config: Config) -> Site:
    """What the site shows, from the typed views and the shared queries."""
    status = collect_status(store, config)
    everything = list_changes(store, newest_first=True)
    upcoming = [mt for mt in status.meetings if mt.upcoming]
    with store.session() as session:
        bills = _bill_pages(session, config, status.bills)
        state_bills = _state_bill_pages(session, config, status.state_bills)
        seats = seat_table(session, config) if bills else []
        sequences = meeting_sequences(session)
        rosters = {mt.entity: roster for mt in upcoming if (roster := body_members_now(session, mt.entity))}
        matters = {w.id: {watched.record.file: watched.record.status for watched in watch_entities(session, w.id, "matter")
                          if isinstance(watched.record, Matter) and watched.record.file} for w in config.meetings}
        news = digest_news_mark(session, everything[0].id if everything else 0)
        held = holding_watches(session)
        ids = feed_ids(session)
        # a hearing's calendar SEQUENCE is its bill's revision, as a meeting's is its own
        sequences.update(_revisions(session, list(bills)))
        earlier = _earlier_states(session, list(bills), clock.now() - HEARINGS_LOOKBACK)
    moved: dict[str, str] = {}  # newest detection per watch and per entity
    happened: dict[str, str] = {}  # the newest day a watch's changes say something happened (never ahead)
    today = clock.now().date().isoformat()
    for change in everything:
        for key in (change.watch, change.entity):
            if key and key not in moved:
                moved[key] = change.detected_at
        if change.watch and change.occurred_at:
            day = min(change.occurred_at[:10], today)
            happened[change.watch] = max(happened.get(change.watch, ""), day)
    names = {w.id: w.name for w in [*config.bills, *config.meetings]}
    watches = [_bill_section(w.id, w.name, config.tracker.timezone,
                             [bills[b.entity] for b in status.bills if b.watch == w.id], moved)
               if w in config.federal_bills else
               WatchSection(w.id, w.name, "statebill", config.tracker.timezone, moved=moved.get(w.id),
                            state_bills=[state_bills[b.entity] for b in status.state_bills if b.watch == w.id])
               for w in config.bills]
    hearings = _bill_hearings(status.bills, bills, earlier, names)
    week, month = _what_to_do(config, upcoming, everything, rosters, matters, bills, names, hearings)
    shown = {entry.meeting.entity for entry in [*week, *month] if isinstance(entry, UpcomingView)}
    watches += [WatchSection(w.id, w.name, "meeting", w.timezone or config.tracker.timezone,
                             meetings=[mt for mt in upcoming if mt.watch == w.id], moved=moved.get(w.id),
                             later=[mt for mt in upcoming if mt.watch == w.id and mt.entity not in shown])
                for w in config.meetings]
    # Campaigns most recently moved first: the day their newest change was found, then the newest day
    # their changes say something happened (a bill's action, a meeting's day: never ahead of today).
    watches.sort(key=lambda section: ((section.moved or "")[:10], happened.get(section.id, ""), section.moved or ""),
                 reverse=True)
    for section in watches:
        for page in section.bills:
            page.related = [other for other in section.bills if other is not page]
    records: dict[str, Record] = {key: page.record for key, page in bills.items()}
    records.update({key: page.record for key, page in state_bills.items()})
    records.update({mt.entity: mt.record for mt in status.meetings})
    pages = {**{key: page.page for key, page in bills.items()}, **{key: page.page for key, page in state_bills.items()},
             **{mt.entity: mt.page for mt in status.meetings}}
    fresh = [change for change in everything if change.id > news.after]
    return Site(status=status, changes=everything[:RECENT_CHANGES], months=_changes_by_month(everything),
                bills=bills, watches=watches, upcoming=upcoming, rosters=rosters, seats=seats, sequences=sequences,
                this_week=week, coming_up=month, news=news, news_count=len(fresh),
                news_groups=_news_groups(fresh, records, pages, names), state_bills=state_bills,
                by_watch=_changes_by_watch(everything, held, list(names)), by_entity=_changes_by_entity(everything),
                feed_ids=ids, hearings=hearings)


def _changes_by_entity(everything: list[ChangeView]) -> dict[str, list[ChangeView]]:
    """Each bill's or meeting's newest changes (newest first, at most RECENT_CHANGES), for its page:
    taken from every change, not the site's newest, so a quiet meeting's agenda posted last month
    stays on its page however busy the other campaigns are."""
    out: dict[str, list[ChangeView]] = {}
    for change in everything:
        entries = out.setdefault(change.entity, [])
        if len(entries) < RECENT_CHANGES:
            entries.append(change)
    return out


def _changes_by_watch(everything: list[ChangeView], held: dict[str, set[str]],
                      watch_ids: list[str]) -> dict[str, list[ChangeView]]:
    """Each watch's newest changes (newest first, at most RECENT_CHANGES), as `changes --watch`
    gives them: those recorded under it and those of the entities it holds (a change of a meeting
    two watches hold is recorded under one), but an agenda item told only to other watches. Taken
    from every change, not the site's newest: a quiet campaign's feed is not emptied by a busy one's."""
    out: dict[str, list[ChangeView]] = {watch_id: [] for watch_id in watch_ids}
    for change in everything:
        scope = told_to(change.data)
        for watch_id in {change.watch, *held.get(change.entity, ())}:
            entries = out.get(watch_id or "")
            if entries is not None and len(entries) < RECENT_CHANGES and (scope is None or watch_id in scope):
                entries.append(change)
    return out


def _bill_section(watch_id: str, name: str, zone: str, pages: list[BillPage], moved: dict[str, str]) -> WatchSection:
    """A bill campaign: its bills most recently moved first (a change detected, then the latest
    action), the finished and the stale ones apart."""
    def recency(page: BillPage) -> tuple[str, str]:
        latest = page.record.latest_action
        return (moved.get(page.view.entity, "")[:10], (latest or {}).get("date") or "")

    ordered = sorted(pages, key=recency, reverse=True)
    cutoff = (clock.now() - STALE_AFTER).date().isoformat()
    finished = [page for page in ordered if page.record.stage in FINISHED
                or ((page.record.latest_action or {}).get("date") or "") < cutoff]
    return WatchSection(watch_id, name, "bill", zone, bills=ordered, moved=moved.get(watch_id), finished=finished)


def _what_to_do(config: Config, upcoming: list[MeetingView], everything: list[ChangeView],
                rosters: dict[str, Roster], matters: dict[str, dict[str, str | None]], bills: dict[str, BillPage],
                names: dict[str, str], hearings: list[HearingView],
                ) -> tuple[list[UpcomingView | HearingView], list[UpcomingView | HearingView]]:
    """The meetings of watched bodies in the next 7 days, then to 30 days, each with what makes it
    matter and what to do; and the hearings on watched bills of those days (one called off stays,
    marked, as a cancelled meeting does)."""
    now = clock.now()
    this_week: dict[str, ChangeView] = {}  # the newest move and agenda of each meeting found this week
    for change in everything:
        if clock.parse_instant(change.detected_at) < now - THIS_WEEK:
            break
        if change.kind in ("meeting.rescheduled", "meeting.agenda_posted"):
            this_week.setdefault(f"{change.kind}|{change.entity}", change)
    named = _bill_pattern([page.record for page in bills.values()], now.date())
    week: list[UpcomingView | HearingView] = []
    month: list[UpcomingView | HearingView] = []
    # A meeting several watches hold is one card, by entity: where it is in its section (a card found
    # again by its place, not by `list.index`, whose comparisons grew with the square of the cards).
    cards: dict[str, tuple[list[UpcomingView | HearingView], int]] = {}
    for mt in upcoming:
        # Its day where the body meets: today to six days on is this week, to the thirtieth day
        # coming up; a meeting with a time and one without on the same day are in the same section.
        if mt.start and clock.parse_instant(mt.start) < now:
            continue
        day = mt.start[:10] if mt.start else mt.date  # `start` carries the body's own offset
        if not day:
            continue
        week_day, month_day = _days_ahead(now, mt.zone)
        if day >= month_day:
            continue
        soon = day < week_day
        moved = this_week.get(f"meeting.rescheduled|{mt.entity}")
        posted = this_week.get(f"meeting.agenda_posted|{mt.entity}")
        entry = UpcomingView(
            meeting=mt, campaign=names.get(mt.watch, mt.watch),
            reasons=_agenda_reasons(mt, matters.get(mt.watch, {}), named),
            moved_from=(moved.data or {}).get("from") if moved else None,
            agenda_posted=posted.detected_at if posted else None, roster=rosters.get(mt.entity))
        section = week if soon else month
        if (place := cards.get(mt.entity)) is not None:  # another watch's card of it: both campaigns, their items
            held, at = place  # the same record, so the same section
            card = held[at]
            assert isinstance(card, UpcomingView)
            held[at] = replace(card, campaign=f"{card.campaign}, {entry.campaign}",
                               reasons=_merged_reasons(card.reasons, entry.reasons))
        else:
            cards[mt.entity] = (section, len(section))
            section.append(entry)
    # A hearing by the one rule meetings follow: its day where the body meets (Congress sits in
    # Washington), today to six days on there this week; never the UTC date of its instant.
    today = now.astimezone(ZoneInfo(CONGRESS_ZONE)).date().isoformat()
    week_day, horizon = _days_ahead(now, CONGRESS_ZONE)
    for hearing in hearings:
        if today <= hearing.date < horizon:
            (week if hearing.date < week_day else month).append(hearing)
    week.sort(key=lambda entry: entry.sort_key())
    month.sort(key=lambda entry: entry.sort_key())
    return week, month


CONGRESS_ZONE = "America/New_York"  # where Congress's committees hold their hearings


def _local_day(when: str, zone: str) -> str | None:
    """The day of a record's date where the body meets: an instant ("2026-12-01T01:00:00Z", 8 PM on
    Nov 30 in Washington) in `zone`, a bare day as it is, None for what is neither."""
    try:
        if "T" not in when:
            return date.fromisoformat(when[:10]).isoformat()
        instant = datetime.fromisoformat(when.replace("Z", "+00:00"))
    except ValueError:
        return None
    if instant.tzinfo is None:  # a wall time with no offset: the body's own
        return instant.date().isoformat()
    return instant.astimezone(ZoneInfo(zone)).date().isoformat()


def _days_ahead(now: datetime, zone: str) -> tuple[str, str]:
    """The first days past "This week" and past "Coming up": today in `zone` plus 7 and 30 calendar
    days (7 x 24 hours on is the day before, late at night, in the week clocks fall back)."""
    today = now.astimezone(ZoneInfo(zone)).date()
    return (today + THIS_WEEK).isoformat(), (today + COMING_UP).isoformat()


def _hearings(committees: list[dict[str, Any]] | None) -> list[tuple[str, str, Any]]:
    """A bill's committee activities (its record's `committees`) that are hearings ("Hearings by",
    "Hearings held"), with the committee or subcommittee holding them and its code."""
    found = []
    for committee in committees or []:
        for activity in committee.get("activities") or []:
            if activity.get("name", "").lower().startswith("hearing") and activity.get("date"):
                found.append((committee.get("name") or "committee", committee.get("code") or "", activity))
        for sub in committee.get("subcommittees") or []:
            for activity in sub.get("activities") or []:
                if activity.get("name", "").lower().startswith("hearing") and activity.get("date"):
                    found.append((sub.get("name") or "subcommittee", sub.get("code") or "", activity))
    return found


# How far back a bill's earlier states are read for hearings since called off: a hearing is not put
# on a record half a year before it is held (and one held over MEETING_PAST_DAYS ago is in no calendar).
HEARINGS_LOOKBACK = timedelta(days=180)


def _revisions(session: Session, keys: list[str]) -> dict[str, int]:
    """How many times each bill's state changed (`entities.revision`, a state come back included):
    the SEQUENCE of its hearings' events, which goes up when a hearing is moved or called off (the
    bill's record changed), as a meeting's SEQUENCE is its own revision."""
    if not keys:
        return {}
    rows = session.execute(select(m.Entity.key, m.Entity.revision).where(m.Entity.key.in_(keys)))
    return {key: revision for key, revision in rows}


def _earlier_states(session: Session, keys: list[str], since: datetime) -> dict[str, list[list[dict[str, Any]]]]:
    """The committees of the bills' earlier stored states (not their current one) stored since
    `since` that name a hearing, oldest first, each distinct list once (at its newest place): a
    hearing one of them showed that the record no longer does was called off, and stays in
    calendars as cancelled (a calendar app keeps an imported event it is not told of). Only the
    committees are read, by the database's JSON functions: a busy bill's record is 100 KB, and
    decoding 60 states of 20 bills whole took 4-7 s of every digest."""
    if not keys:
        return {}
    if session.get_bind().dialect.name == "postgresql":
        committees = cast(cast(m.Snapshot.content, PG_JSON)["committees"], Text)
    else:
        committees = func.json_extract(m.Snapshot.content, "$.committees")
    states = (select(m.Snapshot.entity_key, committees)
              .join(m.Entity, m.Entity.key == m.Snapshot.entity_key)
              .where(m.Snapshot.entity_key.in_(keys), m.Snapshot.id != m.Entity.current_snapshot_id,
                     m.Snapshot.fetched_at >= since)
              .order_by(m.Snapshot.id))
    try:
        with session.begin_nested():  # PostgreSQL's failed statement would abort the digest's transaction
            rows = session.execute(states).all()
    except DBAPIError as exc:
        # One state's text is not JSON (both databases raise on it) or holds an escaped NUL (PostgreSQL's
        # JSON functions refuse it), or SQLite lacks its JSON functions: each state decoded here
        # instead, an unreadable one skipped, not the digest.
        log.warning("earlier bill states read one by one: %s", one_line(str(exc.orig)))
        rows = [(key, _committees_text(content))
                for key, content in session.execute(states.with_only_columns(m.Snapshot.entity_key,
                                                                               m.Snapshot.content))]
    texts: dict[str, list[str]] = {}
    for key, text in rows:
        if isinstance(text, str) and "hearing" in text.lower():  # SQLite gives a number or string bare
            texts.setdefault(key, []).append(text)
    out: dict[str, list[list[dict[str, Any]]]] = {}
    for key, written in texts.items():
        # each distinct list once, at its last place: the newest state's words win (`_bill_hearings`)
        distinct = list(reversed(dict.fromkeys(reversed(written))))
        out[key] = [found for text in distinct if isinstance(found := _json_or_none(text), list)]
    return out


def _json_or_none(text: str) -> Any:
    """The JSON value of a text, None for one that is not JSON (SQLite returns a string bare)."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nested past Python's limit
        return None


def _committees_text(content: str) -> str | None:
    """A stored state's `committees` as JSON text, as the database's JSON functions give it; None
    for a state that is not JSON or has none (what `_earlier_states` skips)."""
    data = _json_or_none(content)
    return json.dumps(data.get("committees")) if isinstance(data, dict) else None


def _dated_hearings(committees: list[dict[str, Any]] | None,
                    first_day: str) -> Iterator[tuple[tuple[str, str], dict[str, Any]]]:
    """A record's hearings on `first_day` or later, each keyed by its committee and its day in
    Washington (what identifies it across the bill's states), with a HearingView's fields."""
    for committee, code, activity in _hearings(committees):
        day = _local_day(activity["date"], CONGRESS_ZONE)
        if day is not None and day >= first_day:
            yield (code or committee, day), {
                "committee": committee, "committee_code": code, "activity": activity["name"], "date": day,
                "start": activity["date"] if "T" in activity["date"] else None}


def _bill_hearings(views: list[BillView], bills: dict[str, BillPage], earlier: dict[str, list[list[dict[str, Any]]]],
                   names: dict[str, str]) -> list[HearingView]:
    """The hearings on watched bills from MEETING_PAST_DAYS back on (their day in Washington), one per
    bill, committee and day however many campaigns watch the bill; then those an earlier state of
    the bill showed that its record no longer does, called off (postponed, when the record now shows
    the committee's hearing on a later day no earlier state showed)."""
    now = clock.now()
    first_day = (now.astimezone(ZoneInfo(CONGRESS_ZONE)).date() - timedelta(days=MEETING_PAST_DAYS)).isoformat()
    watchers: dict[str, list[str]] = {}
    for view in views:
        watchers.setdefault(view.entity, []).append(view.watch)
    found: list[HearingView] = []
    for entity, held_by in watchers.items():
        page = bills.get(entity)
        if page is None:
            continue
        watches = tuple(dict.fromkeys(held_by))
        base = {"bill": page.view, "campaign": ", ".join(dict.fromkeys(names.get(w, w) for w in watches)),
                "page": page.page, "watches": watches, "contacts": tuple(page.contacts)}
        on: dict[tuple[str, str], HearingView] = {}
        for key, parts in _dated_hearings(page.record.committees, first_day):
            on.setdefault(key, HearingView(**base, **parts))
        shown: dict[tuple[str, str], dict[str, Any]] = {}
        for committees in earlier.get(entity, []):
            for key, parts in _dated_hearings(committees, first_day):
                shown[key] = parts  # the newest state's words for it
        found += on.values()
        for key, parts in shown.items():
            if key in on:
                continue
            later = sorted(day for (committee, day) in on if committee == key[0] and day > key[1]
                           and (committee, day) not in shown)
            found.append(HearingView(**base, **parts, called_off=True, moved_to=later[0] if later else None))
    found.sort(key=lambda hearing: (hearing.date, hearing.bill.entity, hearing.committee))
    return found


def _bill_pattern(records: list[Bill], today: Any) -> tuple[re.Pattern[str], dict[str, str]] | None:
    """A search for the watched bills of the sitting Congress as agendas write them ("H.R. 2471",
    "HR 2471", "S.J.Res. 8"), and the display form of each match's normalized letters and number.
    Bills of earlier Congresses are left out: "S. 35" on an agenda today is the current S. 35."""
    current = congress_on(today)
    wanted = {}
    for bill in records:
        if bill.congress == current and bill.number:
            try:
                number = parse_bill_number(bill.number)
            except ValueError:
                continue
            wanted[f"{number.type}{number.number}"] = bill.display
    if not wanted:
        return None
    types = sorted({key.rstrip("0123456789") for key in wanted}, key=len, reverse=True)
    letters = "|".join(r"\.?\s?".join(re.findall(r"res|con|[hjs]|r", t)) for t in types)
    return re.compile(rf"\b({letters})\.?\s?(\d+)\b", re.I), wanted


def _agenda_reasons(mt: MeetingView, followed: dict[str, str | None],
                    named: tuple[re.Pattern[str], dict[str, str]] | None) -> list[AgendaReason]:
    """Why a meeting matters, item by item: the watch's keywords, a matter the watch follows, a bill
    the campaigns watch named in its title. Items matching nothing are left out."""
    reasons = []
    for item in items_for(mt.record.items, mt.watch):
        title, matter, keywords = item.get("title"), item.get("matter"), item.get("keywords") or []
        bill = None
        if named is not None and title:
            for found in named[0].finditer(title):
                key = re.sub(r"[^a-z]", "", found.group(1).lower()) + str(int(found.group(2)))
                if key in named[1]:
                    bill = named[1][key]
                    break
        followed_matter = bool(matter) and matter in followed
        if keywords or bill or followed_matter:
            reasons.append(AgendaReason(title, matter, list(keywords), followed_matter,
                                        followed.get(matter) if followed_matter and matter else None, bill))
    return reasons


def _merged_reasons(first: list[AgendaReason], second: list[AgendaReason]) -> list[AgendaReason]:
    """Two campaigns' reasons for one meeting, each item once with the keywords of both."""
    merged = {(reason.title, reason.matter): reason for reason in first}
    for reason in second:
        had = merged.get((reason.title, reason.matter))
        merged[(reason.title, reason.matter)] = reason if had is None else replace(
            had, keywords=list(dict.fromkeys([*had.keywords, *reason.keywords])),
            followed_matter=had.followed_matter or reason.followed_matter,
            matter_status=had.matter_status or reason.matter_status, bill=had.bill or reason.bill)
    return list(merged.values())


def _news_groups(fresh: list[ChangeView], records: dict[str, Record], pages: dict[str, str],
                 names: dict[str, str]) -> list[NewsGroup]:
    """New changes (newest first) by bill or meeting, each titled as its alert would be."""
    by_entity: dict[str, list[ChangeView]] = {}
    for change in fresh:
        by_entity.setdefault(change.entity, []).append(change)
    groups = []
    for entity, changes in list(by_entity.items())[:NEWS_GROUPS]:
        campaign = next((names[c.watch] for c in changes if c.watch in names), None)
        groups.append(NewsGroup(entity=entity, campaign=campaign, headline=headline(changes, records.get(entity)),
                                changes=changes[:NEWS_PER_GROUP], total=len(changes), page=pages.get(entity)))
    return groups


def build_calendar(meetings: list[MeetingView], sequences: dict[str, int], name: str,
                   events: dict[str, bytes] | None = None, skipped: list[str] | None = None,
                   published: str | None = None, hearings: list[HearingView] | None = None) -> bytes:
    """An iCalendar file of the meetings that have a time or a day (an all-day event while its time
    is to be announced), each once (a meeting two watches hold is one event: RFC 5545 allows one UID
    per calendar but for a recurrence's instances), then the `hearings` on watched bills (each once,
    by its UID; with Washington's VTIMEZONE, which their times name). Each VEVENT is serialized once
    per site (`events` keeps them, by entity or UID): the same meeting is in the whole calendar, its
    watch's and its own. An event that cannot be written is left out, with one line in `skipped`.
    `published`: the site's address (`[digest] url`), for each event's link to its page."""
    events = {} if events is None else events
    for mt in meetings:
        if _on_calendar(mt) and mt.entity not in events:
            events[mt.entity] = _made(lambda mt=mt: _event(mt, sequences, published), mt.entity, skipped)
    body = b"".join(events[entity] for entity in dict.fromkeys(mt.entity for mt in meetings if _on_calendar(mt)))
    zone = b""
    if hearings:
        for hearing in hearings:
            if hearing.uid not in events:
                events[hearing.uid] = _made(lambda hearing=hearing: _hearing_event(hearing, sequences, published),
                                            hearing.uid, skipped)
        written = [events[uid] for uid in dict.fromkeys(hearing.uid for hearing in hearings)]
        body += b"".join(written)
        if any(b"TZID=" in event for event in written):
            zone = _washington_zone(clock.now().year)
    calname = Contentline.from_parts("X-WR-CALNAME", Parameters(), vText(one_line(name))).to_ical()
    return _CALENDAR_HEAD + calname + b"\r\n" + zone + body + b"END:VCALENDAR\r\n"


def _made(write: Callable[[], bytes], what: str, skipped: list[str] | None) -> bytes:
    """One event serialized, or nothing with one line in `skipped` when it is the event's own failure."""
    try:
        return write()
    except WHOLE_SITE_FAILURES:
        raise
    except Exception as exc:
        if skipped is not None:
            skipped.append(_skip_line(f"calendar event of {what}", exc))
        return b""


@cache
def _washington_zone(year: int) -> bytes:
    """Washington's VTIMEZONE (RFC 5545: one for each TZID a calendar names), made once a year: its
    rules from the year before (the calendars' past hearings) to four years on, not since 1970."""
    return Timezone.from_tzid(CONGRESS_ZONE, first_date=date(year - 1, 1, 1), last_date=date(year + 4, 1, 1)).to_ical()


def _hearing_event(hearing: HearingView, sequences: dict[str, int], published: str | None = None) -> bytes:
    """One hearing as a VEVENT: its UID the bill, committee and day (`HearingView.uid`), its SEQUENCE
    its bill's revision (up with every change of the bill's record, so with a hearing moved or called
    off), its start in Washington's zone with that TZID as the record dates it (two hours long, as
    meetings are), or its day all day; CANCELLED once its record no longer shows it. Every text
    property one line (`one_line`), the URL an http(s) one (`web_url`)."""
    bill = hearing.bill.record
    event = Event()
    event.add("uid", one_line(hearing.uid))
    event.add("summary", one_line(f"{hearing.committee} hearing on {hearing.bill.number}"))
    if hearing.start:
        start = datetime.fromisoformat(hearing.start.replace("Z", "+00:00"))
        washington = ZoneInfo(CONGRESS_ZONE)
        start = start.replace(tzinfo=washington) if start.tzinfo is None else start.astimezone(washington)
        event.add("dtstart", start)
        event.add("dtend", start + timedelta(hours=2))
    else:
        day = date.fromisoformat(hearing.date)
        event.add("dtstart", day)
        event.add("dtend", day + timedelta(days=1))
    event.add("description", "\n".join(_hearing_description(hearing, published)))
    event.add("dtstamp", clock.now())
    event.add("sequence", sequences.get(hearing.bill.entity, 0))
    event.add("status", "CANCELLED" if hearing.called_off else "CONFIRMED")
    if url := web_url(bill.url):
        event.add("url", url)
    return event.to_ical()


def _hearing_description(hearing: HearingView, published: str | None) -> list[str]:
    """What an organizer needs in their calendar app, a line each: that it is called off (postponed
    to which day, when the record says), the bill, whom to contact before it (its page's lines: the
    leaders of the committee holding the bill, its sponsor; not once it is called off, as a
    cancelled meeting says no way to take part), the bill's page at Congress.gov and in the digest."""
    lines = []
    if hearing.called_off:
        lines.append(f"Postponed: the bill's record now shows the {one_line(hearing.committee)}'s hearing on "
                     f"{day_words(hearing.moved_to)}" if hearing.moved_to else
                     "Cancelled or postponed: the bill's record no longer shows this hearing")
    lines.append(f"{one_line(bill_label(hearing.bill.record))}: {one_line(hearing.bill.title)}")
    if not hearing.called_off and hearing.contacts:
        lines.append("Whom to contact before the hearing:")
        lines += [("  " if line.startswith(" ") else "") + one_line(line) for line in hearing.contacts]
    if url := web_url(hearing.bill.url):
        lines.append(f"Congress.gov: {url}")
    if published:
        lines.append(f"In the tracker: {published}/{hearing.page}")
    return lines


def _calendar_head() -> bytes:
    """BEGIN:VCALENDAR with the properties every calendar of the site shares, serialized once (a
    site writes one calendar per meeting)."""
    calendar = Calendar()
    calendar.add("prodid", f"-//tracker {__version__}//meetings//EN")
    calendar.add("version", "2.0")
    return calendar.to_ical().rsplit(b"END:VCALENDAR", 1)[0]


_CALENDAR_HEAD = _calendar_head()


def _on_calendar(meeting: MeetingView) -> bool:
    """A meeting calendars can show: one with a time, or a day (its time to be announced)."""
    return bool(meeting.start or _day(meeting))


def _day(meeting: MeetingView) -> date | None:
    try:
        return date.fromisoformat(str(meeting.date)[:10]) if meeting.date else None
    except ValueError:
        return None


def _event(meeting: MeetingView, sequences: dict[str, int], published: str | None = None) -> bytes:
    """One meeting as a VEVENT (its UID is the entity key: a moved meeting is the same event, and so
    is one whose time is announced after it was an all-day event of its day). Every text property
    is one line (`one_line`: a CR or LF from a source would end the content line), the URL an
    http(s) one (`web_url`); the description's lines (`_event_description`) joined by line breaks
    iCalendar escapes."""
    event = Event()
    event.add("uid", one_line(f"{meeting.entity}@tracker"))
    event.add("summary", one_line(meeting.label).strip(": ") or "meeting")
    if meeting.start:
        start = datetime.fromisoformat(meeting.start).astimezone(UTC)  # an instant: Z form
        event.add("dtstart", start)
        event.add("dtend", start + timedelta(hours=2))
    else:  # its day, all day (DATE values), until its time is announced
        day = _day(meeting)
        assert day is not None
        event.add("dtstart", day)
        event.add("dtend", day + timedelta(days=1))
    if description := _event_description(meeting, published):
        event.add("description", "\n".join(description))
    event.add("dtstamp", clock.now())
    event.add("sequence", sequences.get(meeting.entity, 0))
    event.add("status", _calendar_status(meeting))
    if location := one_line(meeting.location):
        event.add("location", location)
    if url := web_url(meeting.url) or web_url(meeting.agenda_url):
        event.add("url", url)
    return event.to_ical()


def _event_description(meeting: MeetingView, published: str | None) -> list[str]:
    """What an organizer needs in their calendar app, each a line of its own: that it is cancelled
    (the source's word), a time still to be announced, how to take part (as the source says it;
    not for a cancelled meeting), the agenda items matching any campaign, the documents and the
    meeting's page at the source, and its page in the digest (when the site has an address: a
    relative link means nothing in a calendar)."""
    lines = [] if meeting.start else ["Time to be announced"]
    if meeting.cancelled:  # said in words too: a calendar app importing one file may show no STATUS
        said = one_line(meeting.status_text)
        lines.insert(0, f'Cancelled (the source says "{said}")' if said and said.lower() not in ("cancelled", "canceled")
                     else "Cancelled")
    # as the front page and digest.txt: a meeting called off has nothing to take part in
    if not meeting.cancelled and (part := meeting.take_part) is not None:
        deadline = f" ({one_line(part.deadline)})" if part.deadline else ""
        lines.append(f"How to take part{deadline}: {one_line(part.how)}")
    items = meeting.record.matching_items_for(None)
    if items:
        lines.append("Matching agenda items:")
        lines += [f"- {', '.join(item.get('keywords') or [])}: {one_line(item.get('title'))}" for item in items[:20]]
        if len(items) > 20:
            lines.append(f"- and {len(items) - 20} more")
    lines += [f"{doc.noun}: {url}" for doc in meeting.documents if (url := web_url(doc.url))]
    if url := web_url(meeting.url):
        lines.append(f"Meeting page: {url}")
    if published:
        lines.append(f"In the tracker: {published}/{meeting.page}")
    return lines


def _calendar_status(meeting: MeetingView) -> str:
    """RFC 5545's STATUS: CANCELLED where the source called it off, TENTATIVE where the tracker does
    not know it is on (the source marks the meeting tentative, or its listing no longer shows it),
    else CONFIRMED. A calendar app shows a CONFIRMED event as certain, a TENTATIVE one as a "maybe".
    A Legistar meeting is tentative in the tracker while its agenda is a draft: the meeting is
    scheduled (its agenda is what is not final), so its calendar entry is CONFIRMED."""
    if meeting.cancelled:
        return "CANCELLED"
    if meeting.missing or (meeting.record.status == MeetingStatus.TENTATIVE and meeting.record.source != "legistar"):
        return "TENTATIVE"
    return "CONFIRMED"


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
        news = _write_site(store, config, out, skipped)
    except Exception as exc:
        if monitored:
            _remember(store, error=_problem(exc))
        raise
    if monitored:
        _remember(store, skipped=skipped, news=news)
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


class _Writer:
    """Writes one site into a staging folder: the front page and the whole feeds must be written
    (a failure there fails the write); every other page, feed or event is its entity's own, and a
    failure of one leaves it out with one line."""

    def __init__(self, site: Site, config: Config, staging: Path, skipped: list[str]) -> None:
        self.site, self.staging, self.skipped = site, staging, skipped
        self.env = environment(config)
        self.names = {w.id: w.name for w in [*config.bills, *config.meetings]}
        # Each campaign's own feed and calendar (written by `watch_feeds`), linked from its section of
        # the front page and from its bills' and meetings' pages, and named in their <head>s.
        calendars = {w.id: "meetings" for w in config.meetings} | {w.id: "hearings" for w in config.federal_bills}
        self.follow = {w.id: CampaignFeeds(w.id, w.name, f"watches/{w.id}/changes.atom",
                                           f"watches/{w.id}/meetings.ics" if w.id in calendars else None,
                                           calendars.get(w.id, "meetings"))
                       for w in [*config.bills, *config.meetings]}
        self.events: dict[str, bytes] = {}  # each meeting's and hearing's VEVENT, serialized once for every calendar
        self.folders: set[Path] = set()  # folders already made in the staging tree
        status = site.status
        last_success = status.last_success
        stale = last_success is None or (
            clock.now() - clock.parse_instant(last_success)) > timedelta(hours=config.digest.stale_hours)
        self.context: dict[str, Any] = {
            "generated_at": status.generated_at, "stale": stale, "last_success": last_success,
            "watches": site.watches, "changes": site.changes, "sources": status.sources,
            "deliveries": status.deliveries, "messages": status.messages, "dead": status.dead_deliveries,
            "version": __version__, "root": "",
            "shown": RECENT_SHOWN, "total_changes": sum(len(entries) for entries in site.months.values()),
            "months": list(site.months), "rosters": site.rosters,
            "this_week": site.this_week, "coming_up": site.coming_up, "news": site.news,
            "news_groups": site.news_groups, "news_count": site.news_count, "zone": config.tracker.timezone,
            "tracker_zone": config.tracker.timezone,
            "signup": signup_form(config), "follow": self.follow,
            "campaign_feeds": [self.follow[w.id] for w in site.watches if w.id in self.follow],
        }
        self.context["content_policy"] = content_policy(self.context["signup"])
        self.published = str(config.digest.url).rstrip("/") if config.digest.url else None

    def render(self, template: str, path: str, **extra: Any) -> None:
        context = {**self.context, "root": "../" * path.count("/"), **extra}
        _write(self.staging / path, self.env.get_template(f"digest/{template}").render(**context), self.folders)

    def feed(self, path: str, feed_id: str, title: str, entries: list[ChangeView], anchor: str = "") -> None:
        """An Atom feed with what RFC 4287 requires of it, and its links: to itself (rel=self) and to
        the digest's front page (rel=alternate; a campaign's feed to its section, `anchor`), absolute
        under `[digest] url`, else relative to it."""
        if self.published:
            self_link, home = f"{self.published}/{path}", f"{self.published}/{anchor}"
        else:
            self_link, home = path.rsplit("/", 1)[-1], "../" * path.count("/") + "index.html" + anchor
        self.render("changes.atom.j2", path, feed_id=feed_id, title=title, entries=entries, self_link=self_link,
                    home=home, entry_id=self.site.feed_ids.entry)

    def calendar(self, path: str, meetings: list[MeetingView], name: str,
                 hearings: list[HearingView] | None = None) -> None:
        made = build_calendar(meetings, self.site.sequences, name, self.events, self.skipped, self.published,
                              hearings)
        _write_bytes(self.staging / path, made, self.folders)

    def feeds_of(self, *watch_ids: str) -> list[CampaignFeeds]:
        """The feeds of the campaigns a page belongs to (a meeting several watches hold: each)."""
        return [self.follow[watch_id] for watch_id in dict.fromkeys(watch_ids) if watch_id in self.follow]

    def one(self, what: str, write: Callable[[], None]) -> None:
        """Write one entity's file; a failure that is the entity's own skips it with one line."""
        try:
            write()
        except WHOLE_SITE_FAILURES:
            raise
        except Exception as exc:
            self.skipped.append(_skip_line(what, exc))

    def whole(self) -> None:
        self.render("index.html.j2", "index.html")
        self.render("digest.txt.j2", "digest.txt")
        self.feed("changes.atom", self.site.feed_ids.feed(), "tracker: recent changes", self.site.changes)
        self.calendar("meetings.ics", self.site.status.meetings, "tracker meetings", self.site.hearings)

    def pages(self) -> None:
        site = self.site
        by_entity = site.by_entity
        for bill in site.bills.values():
            self.one(f"page {bill.page}", lambda bill=bill: self.render(
                "bill.html.j2", bill.page, bill=bill, seats=site.seats,
                bill_changes=by_entity.get(bill.view.entity, []), campaign_feeds=self.feeds_of(bill.view.watch)))
        for state_bill in site.state_bills.values():
            self.one(f"page {state_bill.page}", lambda page=state_bill: self.render(
                "statebill.html.j2", page.page, bill=page, bill_changes=by_entity.get(page.view.entity, []),
                campaign_feeds=self.feeds_of(page.view.watch)))
        # A meeting's one page, whatever watches hold it: for every meeting `status` lists, begun or
        # of the last 30 days too, since alerts link to its page and its calendar entry.
        holders: dict[str, list[MeetingView]] = {}
        for mt in site.status.meetings:
            holders.setdefault(mt.entity, []).append(mt)
        for views in holders.values():
            mt = views[0]
            # each campaign's matching items (several watches of one Legistar client see their own)
            campaigns = [(self.names.get(view.watch, view.watch), view.items) for view in views]
            follow = self.feeds_of(*(view.watch for view in views))
            self.one(f"page {mt.page}", lambda mt=mt, campaigns=campaigns, follow=follow: self.render(
                "meeting.html.j2", mt.page, mt=mt, zone=mt.zone, roster=site.rosters.get(mt.entity),
                meeting_changes=by_entity.get(mt.entity, []), campaigns=campaigns, campaign_feeds=follow))
            self.one(f"calendar {mt.calendar}", lambda mt=mt: self.calendar(mt.calendar, [mt], mt.label))
        for hearing in site.hearings:  # a card's "add to calendar"
            self.one(f"calendar {hearing.calendar}", lambda hearing=hearing: self.calendar(
                hearing.calendar, [], f"{hearing.committee} hearing on {hearing.bill.number}", [hearing]))
        for month, entries in site.months.items():
            self.one(f"page changes/{month}.html", lambda month=month, entries=entries: self.render(
                "changes.html.j2", f"changes/{month}.html", month=month, entries=entries))

    def watch_feeds(self, watches: list[Any]) -> None:
        for watch in watches:
            folder = f"watches/{watch.id}"
            entries = self.site.by_watch.get(watch.id, [])
            self.one(f"feed {folder}/changes.atom", lambda folder=folder, watch=watch, entries=entries: self.feed(
                f"{folder}/changes.atom", self.site.feed_ids.feed(watch.id), f"tracker: {watch.name}", entries,
                f"#w-{watch.id}"))
            self.one(f"calendar {folder}/meetings.ics", lambda folder=folder, watch=watch: self.calendar(
                f"{folder}/meetings.ics", [mt for mt in self.site.status.meetings if mt.watch == watch.id],
                watch.name, [hearing for hearing in self.site.hearings if watch.id in hearing.watches]))


def _write_site(store: Store, config: Config, out: Path, skipped: list[str]) -> NewsMark:
    """Write the site; the news mark it showed, which a write of `[digest] out` records."""
    site = read_site(store, config)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        writer = _Writer(site, config, staging, skipped)
        writer.whole()
        writer.pages()
        writer.watch_feeds([*config.bills, *config.meetings])
        _swap(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return site.news


def _changes_by_month(changes: list[ChangeView]) -> dict[str, list[ChangeView]]:
    """Changes (newest first) by the month they were detected: a page each."""
    months: dict[str, list[ChangeView]] = {}
    for change in changes:
        months.setdefault(change.detected_at[:7], []).append(change)
    return months


def _write(path: Path, text: str, folders: set[Path] | None = None) -> None:
    _write_bytes(path, text.encode("utf-8"), folders)


def _write_bytes(path: Path, data: bytes, folders: set[Path] | None = None) -> None:
    """Write one file; `folders` remembers the ones made (a site has 4,000 files in a few folders)."""
    if folders is None or path.parent not in folders:
        path.parent.mkdir(parents=True, exist_ok=True)
        if folders is not None:
            folders.add(path.parent)
    with open(path, "wb") as file:
        file.write(data)


def _swap(staging: Path, out: Path) -> None:
    """Replace `out` with `staging`: the old site stays whole until the new one is complete."""
    old = out.with_name(f".{out.name}.old")
    if old.exists():
        shutil.rmtree(old)
    if out.exists():
        os.rename(out, old)
    os.rename(staging, out)
    shutil.rmtree(old, ignore_errors=True)
