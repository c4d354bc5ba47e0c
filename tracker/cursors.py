"""What a source remembers between runs (its cursor, a row of `source_state`), as typed records
with ONE load (from the stored JSON, converting the shapes older versions wrote) and ONE dump.

A spider reads the cursor it was given and writes what it learned into a *change*: an empty cursor
of the same type whose sections hold the entries to set and, through `Section.forget()`, the
entries to drop. `runs.finish_runs` applies the run's change, then the change of each entity that
was stored (`SourceReport.entity_cursor`), to the stored cursor. Removal is always that explicit
call, never a value that happens to be None.

Like tracker/records.py this is the ground floor: it imports nothing of the project.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Self, TypeVar

V = TypeVar("V")


class Section(dict[str, V]):
    """One keyed part of a cursor (bill key -> lastmod, event id -> mark). `forget()` drops entries
    here and, in a change, from the stored cursor when the change is applied."""

    def __init__(self, entries: Mapping[str, V] | None = None) -> None:
        super().__init__(entries or {})
        self.forgotten: set[str] = set()

    def __setitem__(self, key: str, value: V) -> None:
        super().__setitem__(key, value)
        self.forgotten.discard(key)

    def update(self, entries: Mapping[str, V]) -> None:  # type: ignore[override]
        for key, value in entries.items():
            self[key] = value

    def setdefault(self, key: str, default: V) -> V:  # type: ignore[override]
        if key not in self:
            self[key] = default
        return self[key]

    def forget(self, keys: Iterable[str]) -> None:
        for key in keys:
            self.pop(key, None)
            self.forgotten.add(key)

    def apply(self, change: Section[V]) -> None:
        for key in change.forgotten:
            self.pop(key, None)
        self.update(change)


class Cursor:
    """Shared by every cursor: fields holding a `Section` are keyed parts (entries set or forgotten
    one by one); other fields are single values, which a change sets when it holds one (None: the
    run did not touch it). Keys this version does not know ride in `extra`, kept as they were."""

    extra: dict[str, Any]
    # The single values a change keeps from a run whose reading a fault cut short: what it spent
    # (Open States' requests of the day), never what it read (`spent_only`).
    SPENT: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def load(cls, data: Mapping[str, Any] | None) -> Self:
        raise NotImplementedError

    def spent_only(self) -> Self | None:
        """This change as a run a callback's fault cut short may keep it: only what it spent
        (`SPENT`), so the next run reads again from where this one began within the budget left."""
        kept = type(self).load({})
        for name in self.SPENT:
            setattr(kept, name, getattr(self, name))
        return kept if kept else None

    def _parts(self) -> Iterable[tuple[str, Any]]:
        return ((f.name, getattr(self, f.name)) for f in fields(self) if f.name != "extra")  # type: ignore[arg-type]

    def apply(self, change: Self) -> None:
        """Fold what one run (or one stored entity) learned into this cursor."""
        for name, mine in self._parts():
            theirs = getattr(change, name)
            if isinstance(mine, Section):
                mine.apply(theirs)
            elif theirs is not None:
                setattr(self, name, theirs)

    def dump(self) -> dict[str, Any]:
        """The stored JSON: empty sections and unset values are left out."""
        out = dict(self.extra)
        for name, value in self._parts():
            if isinstance(value, Section):
                if value and hasattr(next(iter(value.values())), "dump"):  # a section of marks
                    out[name] = {key: entry.dump() for key, entry in value.items()}
                elif value:
                    out[name] = dict(value)
            elif value is not None and value != []:
                out[name] = value
        return out

    def __bool__(self) -> bool:
        """Anything to store (or, for a change, anything to apply)."""
        return bool(self.extra) or any(
            (bool(value) or bool(value.forgotten)) if isinstance(value, Section) else value is not None
            for _, value in self._parts())


def _section(data: Mapping[str, Any], key: str) -> Section[str]:
    value = data.get(key)
    return Section({str(k): v for k, v in value.items() if isinstance(v, str)} if isinstance(value, dict) else {})


def _rest(data: Mapping[str, Any], known: Iterable[str]) -> dict[str, Any]:
    names = set(known)
    return {k: v for k, v in data.items() if k not in names}


# -- GovInfo ---------------------------------------------------------------------------------------

@dataclass
class GovinfoCursor(Cursor):
    """spiders/govinfo.py: what it read of the BILLSTATUS sitemaps and files, and with which parser."""

    parser: str | None = None  # the parser version the stored bills were read with
    lastmod: Section[str] = field(default_factory=Section)  # bill key -> its sitemap lastmod when handled
    sitemaps: Section[str] = field(default_factory=Section)  # Congress+type -> child lastmod, read whole
    index: Section[str] = field(default_factory=Section)  # the sitemap index's listing (for a 304)
    checked: Section[str] = field(default_factory=Section)  # named bill -> its last direct request
    titles: Section[str] = field(default_factory=Section)  # Congress+type -> title phrases it was read for
    watches: Section[str] = field(default_factory=Section)  # bill watch id -> a fingerprint of its config
    # bill key -> when last read ("" not yet) of a file its sitemap lists without a lastmod: no
    # lastmod can say it moved, so it is asked for every run, the longest unread first
    unlisted: Section[str] = field(default_factory=Section)
    reread: list[str] | None = None  # bills a parser upgrade still owes a whole read
    extra: dict[str, Any] = field(default_factory=dict)

    SECTIONS = ("lastmod", "sitemaps", "index", "checked", "titles", "watches", "unlisted")

    @classmethod
    def load(cls, data: Mapping[str, Any] | None) -> Self:
        data = data or {}
        reread = data.get("reread")
        return cls(parser=data.get("parser") if isinstance(data.get("parser"), str) else None,
                   **{name: _section(data, name) for name in cls.SECTIONS},
                   reread=[str(b) for b in reread] if isinstance(reread, list) else None,
                   extra=_rest(data, (*cls.SECTIONS, "parser", "reread")))


# -- Legistar --------------------------------------------------------------------------------------

@dataclass(slots=True)
class EventMark:
    """A meeting's fingerprint (its own fields and the watch's keywords) and its day: an unchanged
    fingerprint means its items need not be asked for; the day says when it may be forgotten."""

    fingerprint: str
    date: str | None  # YYYY-MM-DD; None only in cursors written before the day was kept

    def dump(self) -> dict[str, Any]:
        return {"fingerprint": self.fingerprint, "date": self.date}


@dataclass(slots=True)
class MatterMark:
    """A followed matter: its status as last read, when its record was last asked for, and the day
    its status last changed (a year without a change and it is no longer followed)."""

    status: str | None
    checked: str | None  # ISO instant
    changed: str | None  # YYYY-MM-DD

    def dump(self) -> dict[str, Any]:
        return {"status": self.status, "checked": self.checked, "changed": self.changed}

    @classmethod
    def load(cls, data: Mapping[str, Any]) -> MatterMark:
        checked = data.get("checked")
        # Written before the day of the last change was kept: the last check is the best known.
        changed = data.get("changed") or (checked[:10] if isinstance(checked, str) and checked else None)
        return cls(status=data.get("status"), checked=checked, changed=changed)


@dataclass
class LegistarCursor(Cursor):
    """spiders/legistar.py: the last complete listing, meetings' fingerprints, followed matters, and
    when each body's roster was last read."""

    since: str | None = None  # start of the last complete listing (ISO instant)
    events: Section[EventMark] = field(default_factory=Section)  # event id -> its mark
    matters: Section[MatterMark] = field(default_factory=Section)  # matter id -> its mark
    bodies: Section[str] = field(default_factory=Section)  # body id -> its roster's last read (ISO instant)
    # the bodies the watch followed (`LegistarWatch.bodies`, in any case, sorted; [] for every
    # body); None: not known (a cursor written before it was kept)
    followed: list[str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, data: Mapping[str, Any] | None) -> Self:
        """Older shapes convert here: fingerprints as bare strings with their days in a separate
        `dates` section (or, before that, no day at all), matters without `changed`, no `followed`."""
        data = data or {}
        dates = data.get("dates") if isinstance(data.get("dates"), dict) else {}
        events: dict[str, EventMark] = {}  # a plain dict first: a cursor may hold thousands
        for event_id, mark in (data.get("events") or {}).items():
            if type(mark) is dict:
                fingerprint = mark.get("fingerprint")
                if type(fingerprint) is str:
                    events[event_id] = EventMark(fingerprint, mark.get("date") or None)
            elif type(mark) is str:
                events[event_id] = EventMark(mark, dates.get(event_id) or None)
        matters: Section[MatterMark] = Section({
            matter_id: MatterMark.load(mark) for matter_id, mark in (data.get("matters") or {}).items()
            if type(mark) is dict})
        since = data.get("since")
        followed = data.get("followed")
        return cls(since=since if isinstance(since, str) else None, events=Section(events), matters=matters,
                   bodies=_section(data, "bodies"),
                   followed=[str(b) for b in followed] if isinstance(followed, list) else None,
                   extra=_rest(data, ("since", "events", "dates", "matters", "bodies", "followed")))


# -- the others ------------------------------------------------------------------------------------

@dataclass
class ListingCursor(Cursor):
    """spiders/listing.py: the parser version that last read the listing, the bodies the watch
    followed then (`MeetingWatch.bodies_followed`; empty: every body) and a fingerprint of its
    keywords then (`keywords_fingerprint`: they decide which meetings carry a matching item).
    Another version, another choice of bodies or other keywords fetches it whole; what a new parser
    or a new choice of bodies brings in is a baseline, what new keywords match is news as any new
    match is. A meeting a run could not store is kept in `unsaved` with that run's verdict, so the
    next run reads the listing whole (never a 304) and judges it as that run did. `keywords` None: unknown (a cursor written before it was kept), read whole once. `held`:
    the meetings the watch follows (the source's id -> the meeting's day, dropped once the window
    has passed it): a watch with `bodies` goes on following them under the same choice however they
    are retitled (a "Planning Commission" row become "Notice of Cancellation"), and one held in the
    window that a whole listing no longer shows there is looked for outside it (a move told at once)."""

    parser: str | None = None
    bodies: list[str] | None = None
    keywords: str | None = None
    held: Section[str] = field(default_factory=Section)
    # meetings a run handed to the store that were not stored (the source's id -> "news" or
    # "baseline", as that run judged them): the next run reads the listing whole and judges them so
    unsaved: Section[str] = field(default_factory=Section)
    # held meetings missing from the window whose wider span could not be read (the source's id ->
    # the day that first failed): looked for again each run for a week, then given up
    sought: Section[str] = field(default_factory=Section)
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, data: Mapping[str, Any] | None) -> Self:
        data = data or {}
        parser, bodies, keywords = data.get("parser"), data.get("bodies"), data.get("keywords")
        return cls(parser=parser if isinstance(parser, str) else None,
                   bodies=[str(body) for body in bodies] if isinstance(bodies, list) else None,
                   keywords=keywords if isinstance(keywords, str) else None,
                   held=_section(data, "held"), unsaved=_section(data, "unsaved"), sought=_section(data, "sought"),
                   extra=_rest(data, ("parser", "bodies", "keywords", "held", "unsaved", "sought")))


def fingerprint(value: Any) -> str:
    """A short stable hash of a JSON value: how a cursor remembers a piece of config it was read
    with (keywords, a title phrase, a watch's numbers), to tell when it changed."""
    return hashlib.sha256(json.dumps(value).encode()).hexdigest()[:16]


def keywords_fingerprint(keywords: Sequence[str]) -> str:
    """A watch's keywords as a listing's cursor remembers them: the list as given (its order is the
    order a meeting's item lists its matches in, so it counts too)."""
    return fingerprint(list(keywords))


@dataclass
class LegislatorsCursor(Cursor):
    """spiders/legislators.py: when every file was last read (they are read at most daily)."""

    fetched: str | None = None  # ISO instant
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, data: Mapping[str, Any] | None) -> Self:
        data = data or {}
        fetched = data.get("fetched")
        return cls(fetched=fetched if isinstance(fetched, str) else None, extra=_rest(data, ("fetched",)))


# -- Open States ----------------------------------------------------------------------------------

@dataclass(slots=True)
class ReadMark:
    """Where one Open States query (a state's named bills, a keyword in a state or in all of them)
    stands: every bill it finds that was updated before `since` has been read; `done` once it has
    gone through whole at least once (from then on, a bill it finds for the first time is news).
    `parser`: the version that read them (None: a mark written before marks kept it, all by
    openstates-1); `watches`: the keyword watches the query was read for (None: written before
    marks kept them). Another parser, or a watch not among them, reads the query whole again."""

    since: str  # ISO instant (UTC)
    done: bool = False
    parser: str | None = None
    watches: list[str] | None = None

    def dump(self) -> dict[str, Any]:
        out: dict[str, Any] = {"since": self.since, "done": self.done}
        if self.parser is not None:
            out["parser"] = self.parser
        if self.watches is not None:
            out["watches"] = self.watches
        return out


@dataclass
class OpenStatesCursor(Cursor):
    """spiders/openstates.py: each query's mark, the day's request count (the daily budget is
    counted per UTC day, requests the API refused included), when each state's legislators were
    last read (at most weekly), when each query last had its turn (a page of it read: the
    query that waited longest goes first, so none is starved by a busier one), and what tells the
    bills a watch no longer holds: each watch's config as last crawled, each bill's finders."""

    reads: Section[ReadMark] = field(default_factory=Section)  # query id -> its mark
    day: str | None = None  # the UTC day `used` counts (YYYY-MM-DD)
    used: int | None = None  # requests sent that day
    people: Section[str] = field(default_factory=Section)  # state -> its legislators' last read (ISO instant)
    turns: Section[str] = field(default_factory=Section)  # query id -> the start of the run that last read a page of it
    watches: Section[str] = field(default_factory=Section)  # state bill watch id -> a fingerprint of its config
    # bill key -> the keyword queries (ids) that found it, [] for none: what a keyword watch still
    # holds when its config changes (tracker/report.py `StateBillRule`); no entry: read before kept
    found: Section[list[str]] = field(default_factory=Section)
    extra: dict[str, Any] = field(default_factory=dict)
    SPENT: ClassVar[tuple[str, ...]] = ("day", "used")

    @classmethod
    def load(cls, data: Mapping[str, Any] | None) -> Self:
        data = data or {}
        reads: Section[ReadMark] = Section({
            read_id: ReadMark(str(mark["since"]), bool(mark.get("done")),
                              mark["parser"] if isinstance(mark.get("parser"), str) else None,
                              [str(w) for w in mark["watches"]] if isinstance(mark.get("watches"), list) else None)
            for read_id, mark in (data.get("reads") or {}).items()
            if isinstance(mark, dict) and isinstance(mark.get("since"), str)})
        day, used = data.get("day"), data.get("used")
        return cls(reads=reads, day=day if isinstance(day, str) else None,
                   used=used if isinstance(used, int) and not isinstance(used, bool) else None,
                   people=_section(data, "people"), turns=_section(data, "turns"),
                   watches=_section(data, "watches"), found=Section({
                       str(key): [str(q) for q in ids] for key, ids in (data.get("found") or {}).items()
                       if isinstance(ids, list)} if isinstance(data.get("found"), dict) else {}),
                   extra=_rest(data, ("reads", "day", "used", "people", "turns", "watches", "found")))

    def used_on(self, day: str) -> int:
        """Requests already sent on `day` (UTC)."""
        return (self.used or 0) if self.day == day else 0
