"""The records that flow between parts: what a spider yields (`Item`) and the typed snapshots of
bills, meetings and council matters, each with ONE load (from stored JSON) and ONE dump (to it).

This module is the ground floor: it imports nothing of the project, so
spiders, parsers and pure differs never import the database. A record's `dump()` gives exactly
the dict that has always been stored, key for key, so a stored snapshot's hash never moves and a
restructuring is never news.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, ClassVar, Self, TypedDict


@dataclass(frozen=True)
class Validators:
    """A response's HTTP validators, saved with what was stored from it so the next request for the
    URL is conditional (If-None-Match / If-Modified-Since). Loaded ones carry the masked URL.
    `scope`: the source they are kept for, where each source stores what it read on its own (two
    meeting watches of one site, each its own meetings): one that saw a change but failed to store
    it must not be told "unchanged" by the other's validators. Empty: kept for the URL alone."""

    url: str
    etag: str | None = None
    last_modified: str | None = None
    scope: str = ""

    @property
    def key(self) -> str:
        return validators_key(self.url, self.scope)


@dataclass
class Item:
    """One entity as a spider yields it, on its way to the ingest worker and the store."""

    key: str  # entity key, e.g. bill:hr1470-117
    kind: str  # bill | meeting | matter
    source_id: str  # govinfo | legistar:nyc-council ...
    watch_ids: list[str]
    content: Record | None  # None until the ingest worker reads `raw` (see parse_with)
    url: str | None = None
    raw: bytes | None = None
    # True when the entity was found by searching (a title watch, a meeting listing) rather than
    # named in config: once the watch has a baseline, its first sighting is news.
    discovered: bool = False
    validators: Validators | None = None
    # Version label of the parser that made `content`, stored on the snapshot: a new version's
    # first snapshot of an entity is a baseline, never news.
    parser_version: str = "1"
    # Its source kind's record of what each parser version reads otherwise (`SourceKind.reads_anew`),
    # set as the crawl hands it to the store: an upgrade read tells what else changed as news.
    reads_anew: tuple[tuple[str, frozenset[str]], ...] = ()
    # Source kind whose `read_raw` turns `raw` into `content` in the ingest worker (None: already set).
    parse_with: str | None = None
    # Content fields this crawl did not fetch (a Legistar event's items when the event is unchanged):
    # taken from the entity's last snapshot, so skipping a request never looks like a removal.
    carry: list[str] = field(default_factory=list)


# -- snapshot records ------------------------------------------------------------------------------

class MeetingStatus:
    """A meeting's status as stored; `PASSED` is never stored, only shown once its time is over."""

    TENTATIVE = "tentative"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    PASSED = "passed"


# A bill's furthest stage, in order (vetoed and failed replace it; see tracker/bills.py).
STAGES = (
    "introduced", "referred", "reported", "passed_house", "passed_senate", "passed_both",
    "to_president", "enacted", "vetoed", "failed",
)


class AgendaItem(TypedDict, total=False):
    """One agenda item. Listing sources without items report the meeting's own words as the one
    item (`key` "title") when they match a keyword; Legistar adds its matter and note fields."""

    key: str | None
    sequence: int | None
    title: str | None
    matter: str | None
    keywords: list[str]
    section: str | None  # BoardDocs: the agenda category
    action: str | None
    url: str | None
    # Legistar's own fields
    minutes_sequence: int | None
    on_agenda: bool
    matter_id: int | None
    matter_name: str | None
    matter_guid: str | None
    matter_status: str | None
    matter_type: str | None
    agenda_note: str | None
    minutes_note: str | None
    attachments: list[dict[str, Any]]
    # Legistar: each watch of the client holding the meeting, with the keywords of its own the item
    # matches ([] for none; `keywords` is their union). Each watch sees and is told only its own.
    watches: dict[str, list[str]]


def items_for(items: list[AgendaItem], watches: str | Collection[str] | None) -> list[AgendaItem]:
    """Every item as one watch, or a subscriber's few, see it: `keywords` the ones of those watches
    it matches (None: every watch's, as the meeting's own page shows them)."""
    if watches is None:
        return items
    chosen = {watches} if isinstance(watches, str) else set(watches)
    return [{**item, "keywords": list(dict.fromkeys(k for watch, words in sorted(item["watches"].items())
                                                    if watch in chosen for k in words))}
            if "watches" in item else item for item in items]


class BillAction(TypedDict, total=False):
    """One event in a bill's history: a chamber's row with the Library of Congress row repeating it
    merged in (`codes` holds both codes); `id` is stable across files, so a new id is a new event."""

    id: str
    date: str
    time: str | None
    text: str
    code: str | None
    codes: list[str]
    chamber: str | None
    committees: list[str]
    type: str | None  # BILLSTATUS's own label: "IntroReferral", "Floor", "Committee"...


class CommitteeActivity(TypedDict):
    """What a committee did with a bill ("Referred to", "Reported by", "Discharged from"...) and when
    (a BILLSTATUS timestamp): the activities say who holds a bill now."""

    name: str
    date: str


class Subcommittee(TypedDict):
    name: str
    code: str  # BILLSTATUS systemCode in lower case, "hsju08"; "" when the file gives none
    activities: list[CommitteeActivity]


class BillCommittee(TypedDict, total=False):
    """A committee a bill went to. Snapshots made by the first parser version hold only `name` and
    `chamber` (and say nothing of who holds the bill: see tracker/bills/committees.py)."""

    name: str
    chamber: str | None  # "House" | "Senate" | "Joint"
    code: str | None  # BILLSTATUS systemCode in lower case, "hsju00"
    type: str | None  # "Standing", "Select"...
    activities: list[CommitteeActivity]
    subcommittees: list[Subcommittee]


class Law(TypedDict):
    type: str  # "Public Law" | "Private Law"
    number: str  # "117-103"


class LatestAction(TypedDict):
    date: str
    text: str


class MatterAction(TypedDict, total=False):
    """One row of a council matter's history (Legistar's repeated rows merged)."""

    date: str | None
    action: str | None  # "Approved by Council", "Referred to Comm by Council"...
    body: str | None
    passed: str | None  # Legistar's passed flag name: "Pass", "Fail"
    text: str | None
    event_id: int | None  # the meeting it happened at


class Officer(TypedDict, total=False):
    """One person's seat on a council body as a body snapshot stores it (tracker/meetings/officers.py
    `BodyMember` reads it, deciding who serves on a given day)."""

    person_id: int | None
    name: str
    title: str  # "Chair", "Vice Chair", "Member"...
    start: str | None  # ISO day
    end: str | None  # ISO day; None: open-ended
    email: str | None
    phone: str | None
    url: str | None


class Person(TypedDict, total=False):
    name: str | None
    bioguide_id: str | None
    party: str | None
    state: str | None
    district: str | None
    date: str | None
    withdrawn: str | None
    original: bool


# What a meeting's document or media link is, as every platform's parser types it.
DOCUMENT_KINDS = ("agenda", "packet", "minutes", "video", "other")


@dataclass(frozen=True)
class Document:
    """One document or media link of a meeting as the source gives it: what it is (one of
    `DOCUMENT_KINDS`), where, and the source's own label ("Agenda Packet", "HTML Agenda", "Video")."""

    kind: str
    url: str
    label: str | None = None

    def dump(self) -> dict[str, Any]:
        return {"kind": self.kind, "url": self.url, "label": self.label}

    @classmethod
    def load(cls, data: dict[str, Any]) -> Document:
        kind = str(data.get("kind") or "other")
        return cls(kind=kind if kind in DOCUMENT_KINDS else "other", url=str(data["url"]), label=data.get("label"))


def _pick(cls: type, data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split stored fields into the record's own and the rest (kept as they were, so a dump gives
    back exactly what was stored)."""
    own = {f.name for f in fields(cls) if f.name != "extra"}
    return {k: v for k, v in data.items() if k in own}, {k: v for k, v in data.items() if k not in own}


class Stored:
    """ONE load (from the stored dict) and ONE dump (to it) for every snapshot record. Fields the
    record does not name ride in `extra`, so a dump gives back exactly what was stored."""

    extra: dict[str, Any]

    @classmethod
    def load(cls, data: dict[str, Any]) -> Self:
        own, rest = _pick(cls, data)
        return cls(**own, extra=rest)

    def dump(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "extra"}  # type: ignore[arg-type]
        out.update(self.extra)
        return out


@dataclass
class Meeting(Stored):
    """A meeting as every meeting source normalizes it. `start` is a UTC ISO instant (None when the
    time is to be announced), `date` the body's local day; identity is `source_ref`, never the time.
    Source-specific fields (Legistar's `body_id`, `media_id`) live in `extra`."""

    source: str
    source_ref: str
    body: str | None
    title: str
    date: str | None
    timezone: str
    start: str | None = None
    time_tbd: bool = False
    location: str | None = None
    status: str = MeetingStatus.CONFIRMED
    status_text: str | None = None
    agenda_url: str | None = None
    agenda_posted: str | None = None
    agenda_status: str | None = None
    minutes_url: str | None = None
    minutes_posted: str | None = None
    minutes_status: str | None = None
    comment: str | None = None
    livestream_url: str | None = None
    url: str | None = None
    items: list[AgendaItem] = field(default_factory=list)
    # Every document and media link the source gives, in its order. None: made by a parser that did
    # not record them (an older snapshot; iCal), so the key is not stored and its hash never moved.
    documents: list[Document] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    kind: ClassVar[str] = "meeting"

    @property
    def matching_items(self) -> list[AgendaItem]:
        """Items matching any watch's keywords (`matching_items_for` gives one watch's)."""
        return self.matching_items_for(None)

    def matching_items_for(self, watches: str | Collection[str] | None) -> list[AgendaItem]:
        """The items matching these watches' keywords, each naming those (`items_for`)."""
        return [item for item in items_for(self.items, watches) if item.get("keywords")]

    @property
    def links(self) -> list[Document]:
        """What to show people: the documents, or, for a record made without them (Legistar, an
        older snapshot), its agenda, minutes and video links."""
        if self.documents is not None:
            return list(self.documents)
        named = (("agenda", self.agenda_url, "Agenda"), ("minutes", self.minutes_url, "Minutes"),
                 ("video", self.livestream_url, "Video"))
        return [Document(kind, url, label) for kind, url, label in named if url]

    @classmethod
    def load(cls, data: dict[str, Any]) -> Self:
        own, rest = _pick(cls, data)
        if own.get("documents") is not None:
            own["documents"] = [Document.load(doc) for doc in own["documents"]]
        return cls(**own, extra=rest)

    def dump(self) -> dict[str, Any]:
        out = super().dump()
        if self.documents is None:
            del out["documents"]
        else:
            out["documents"] = [doc.dump() for doc in self.documents]
        return out


@dataclass
class Bill(Stored):
    """A bill as parsed from BILLSTATUS (either schema): no volatile field, lists in a stable order."""

    number: str  # hr1470-117
    congress: int
    type: str
    display: str  # H.R. 1470
    title: str
    stage: str
    url: str | None = None
    short_titles: list[str] = field(default_factory=list)
    official_title: str | None = None
    reserved: bool = False
    introduced: str | None = None
    sponsor: Person | None = None
    cosponsors: list[Person] = field(default_factory=list)
    actions: list[BillAction] = field(default_factory=list)
    committees: list[BillCommittee] = field(default_factory=list)
    laws: list[Law] = field(default_factory=list)
    latest_action: LatestAction | None = None
    policy_area: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    kind: ClassVar[str] = "bill"

    @property
    def active_cosponsors(self) -> int:
        return sum(1 for c in self.cosponsors if not c.get("withdrawn"))


@dataclass
class Matter(Stored):
    """A council matter (Legistar legislation) with its status and its merged history."""

    source: str
    source_ref: str
    file: str | None = None
    name: str | None = None
    type: str | None = None
    status: str | None = None
    history: list[MatterAction] = field(default_factory=list)
    url: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    kind: ClassVar[str] = "matter"


@dataclass
class Reference(Stored):
    """A reference file a source publishes whole (congress-legislators' members and committees):
    never news itself; the file is the snapshot's raw response, read when an alert needs it."""

    name: str  # legislators-current
    sha256: str
    size: int
    extra: dict[str, Any] = field(default_factory=dict)

    kind: ClassVar[str] = "reference"


@dataclass
class Body(Stored):
    """A council body's current and past members (Legistar office records with their people)."""

    source: str
    source_ref: str  # the body's id
    name: str | None = None
    members: list[Officer] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    kind: ClassVar[str] = "body"


# A state bill's stages (tracker/states.py derives them from Open States' action classifications).
# The chambers are named by their role, not by a state's word for them: `passed_lower` is "passed the
# Assembly" in New York and "passed the House of Delegates" in Virginia (tracker/states.py words it);
# `passed_legislature` is a unicameral legislature's (Nebraska, DC). vetoed, failed and withdrawn
# replace the furthest stage.
STATE_STAGES = (
    "introduced", "referred", "reported", "passed_lower", "passed_upper", "passed_both", "passed_legislature",
    "to_governor", "enacted", "vetoed", "failed", "withdrawn",
)


class StateAction(TypedDict, total=False):
    """One action on a state bill. `chamber` is the acting organization's role (`upper`, `lower`,
    `legislature`, `executive`), `chamber_name` the state's word for it ("Assembly")."""

    id: str  # our own: a hash of date, role, text and repeat count (Open States' UUIDs are not stable)
    date: str
    text: str
    classification: list[str]
    chamber: str | None
    chamber_name: str | None
    committees: list[str]  # organizations the action names (a referral's committee)


class StateSponsor(TypedDict, total=False):
    name: str
    person_id: str | None  # ocd-person/...
    entity_type: str  # person | organization
    primary: bool
    classification: str  # primary | cosponsor | ...
    party: str | None
    chamber: str | None  # the sponsor's current role: upper | lower
    district: str | None


class StateVote(TypedDict, total=False):
    """A recorded vote: the motion, where, the result and the counts by option (yes, no, absent...)."""

    id: str
    date: str
    motion: str
    classification: list[str]
    result: str  # pass | fail
    chamber: str | None
    chamber_name: str | None
    counts: dict[str, int]


@dataclass
class StateBill(Stored):
    """A state bill as read from Open States API v3 (tracker/states.py): no volatile field (no
    `updated_at`), lists in a stable order, so an unchanged bill hashes the same on every read."""

    state: str  # co
    session: str  # 2020A, as the state names it
    identifier: str  # SB 217
    title: str
    stage: str
    chamber: str | None = None  # where it was introduced: upper | lower | legislature
    url: str | None = None
    openstates_id: str | None = None
    classification: list[str] = field(default_factory=list)
    subjects: list[str] = field(default_factory=list)
    abstract: str | None = None
    introduced: str | None = None
    sponsors: list[StateSponsor] = field(default_factory=list)
    actions: list[StateAction] = field(default_factory=list)
    votes: list[StateVote] = field(default_factory=list)
    # The committee holding the bill now (the last referral not yet followed by its report, a
    # passage or an end): {"name", "chamber"}; None once it is out of committee.
    committee: dict[str, Any] | None = None
    latest_action: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # Where a keyword watch found it in this read ({"keyword", "where": "title" | "text"}): handed
    # with the record to the differ of its first sighting (`bill.introduced` says it), never stored:
    # which search found a bill is not the bill's state, and must not move its snapshot's hash.
    matches: list[dict[str, str]] = field(default_factory=list, compare=False)

    kind: ClassVar[str] = "statebill"

    def dump(self) -> dict[str, Any]:
        out = super().dump()
        out.pop("matches", None)
        return out

    @property
    def key(self) -> str:
        """`co:2020a:sb217`: state, session and number, lower case, no spaces."""
        return state_bill_key(self.state, self.session, self.identifier)

    @property
    def entity(self) -> str:
        return f"statebill:{self.key}"


def state_bill_key(state: str, session: str, identifier: str) -> str:
    """The normalized key of a state bill: `co:2020a:sb217` (session punctuation becomes `-`; the
    number loses its spaces and leading zeros: "HB 0004" and "hb4" are one bill)."""
    session_part = session_key(session)
    match = re.match(r"^\s*([A-Za-z. ]*?)[\s.]*0*(\d+)\s*$", identifier)
    number = (re.sub(r"[^a-z]", "", match.group(1).lower()) + match.group(2)) if match else \
        re.sub(r"[^a-z0-9]+", "", identifier.lower())
    return f"{state.lower()}:{session_part}:{number}"


def session_key(session: str) -> str:
    """A session as a bill key writes it: "2020A" -> `2020a`, "2021-2022" and "2021 2022" alike."""
    return re.sub(r"[^a-z0-9]+", "-", session.lower()).strip("-")


Record = Bill | Meeting | Matter | Reference | Body | StateBill
RECORDS: dict[str, type[Record]] = {"bill": Bill, "meeting": Meeting, "matter": Matter, "reference": Reference,
                                    "body": Body, "statebill": StateBill}


def load_record(kind: str, stored: str | dict[str, Any]) -> Record:
    """The typed record of a stored snapshot (its JSON text or the parsed dict)."""
    data = json.loads(stored) if isinstance(stored, str) else stored
    return RECORDS[kind].load(data)


def canonical_json(content: Any) -> str:
    """Sorted keys, no extra whitespace: equal content gives equal text, hence equal hash."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def url_hash(url: str) -> str:
    """The key HTTP validators are stored under (a URL may hold a token: it is never stored plain)."""
    return hashlib.sha256(url.encode()).hexdigest()


def validators_key(url: str, scope: str = "") -> str:
    """The key of a URL's validators kept for `scope` (`Validators.scope`; empty: the URL's own)."""
    return url_hash(f"{scope}\n{url}" if scope else url)


def text_hash(text: str) -> str:
    """The snapshot hash: sha256 of the canonical JSON text."""
    return hashlib.sha256(text.encode()).hexdigest()


def content_hash(content: Any) -> str:
    return text_hash(canonical_json(content))


# -- listings --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ListingContext:
    """What every listing parser is told: which watch, where the listing is, the body's name and
    zone, the campaign's keywords, and the window of meetings to keep."""

    watch_id: str
    url: str
    body: str
    timezone: str
    keywords: tuple[str, ...]
    window_start: datetime
    window_end: datetime


@dataclass
class Listing:
    """The meetings a listing holds, and one line per part of it that could not be read: a problem
    where a meeting may be lost (the listing is not whole), a warning where none is (a broken time
    zone definition whose events are read in the zone their TZID names)."""

    meetings: list[Meeting]
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Page:
    """One fetched answer as `tracker sources detect` reads it (tracker/detect.py): where it was
    asked and where it ended after redirects, and its body, or why there is none (`problem`: an HTTP
    error, robots.txt, the size cap, the network) in one short phrase."""

    url: str
    final_url: str
    status: int = 0
    content_type: str = ""
    body: bytes = b""
    problem: str | None = None


@dataclass(frozen=True)
class OperatorNotice:
    """A message the operator is owed (a source failing or recovered, a run lock held too long).

    Whoever finds it (tracker/health.py) returns it; its caller owes it through the outbox, so
    finding a problem never reaches the sending side. `key` makes it owed once, however many runs
    find it."""

    key: str
    title: str
    body: str
