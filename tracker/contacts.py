"""Who to contact about a bill, as pure functions over the congress-legislators data.

The `legislators` source publishes three JSON files (same structure as the project's YAML):
`legislators-current.json`, `committees-current.json`, `committee-membership-current.json`, plus
`legislators-district-offices.json` for district office phones. This module reads them into typed
records and answers the questions an alert needs: who are a subscriber's senators and representative
(a seat whose term has ended, or that nobody holds, is vacant), who leads a committee (chair and
ranking member) and the committees holding a bill now (`tracker.bills.committees` says which), and
how to write all that as plain text.
No database, no network, no Scrapy: callers pass the bytes and the day.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, ParamSpec, TypeVar

from tracker.bills.committees import committees_holding, thomas_id
from tracker.records import Bill
from tracker.safetext import json_loads, web_url

# The congress-legislators files the `legislators` source stores (as reference snapshots), in the
# order `load_directory` takes them; district offices are optional.
LEGISLATOR_FILES = ("legislators-current", "committees-current", "committee-membership-current",
                    "legislators-district-offices")


def reference_key(name: str) -> str:
    """The entity key a congress-legislators file is stored under."""
    return f"reference:legislators:{name}"


# -- places --------------------------------------------------------------------------------------

# House seats per state from the 2020 apportionment (in force for the 118th-122nd Congresses).
HOUSE_SEATS: dict[str, int] = {
    "AL": 7, "AK": 1, "AZ": 9, "AR": 4, "CA": 52, "CO": 8, "CT": 5, "DE": 1, "FL": 28, "GA": 14,
    "HI": 2, "ID": 2, "IL": 17, "IN": 9, "IA": 4, "KS": 4, "KY": 6, "LA": 6, "ME": 2, "MD": 8,
    "MA": 9, "MI": 13, "MN": 8, "MS": 4, "MO": 8, "MT": 2, "NE": 3, "NV": 4, "NH": 2, "NJ": 12,
    "NM": 3, "NY": 26, "NC": 14, "ND": 1, "OH": 15, "OK": 5, "OR": 6, "PA": 17, "RI": 2, "SC": 7,
    "SD": 1, "TN": 9, "TX": 38, "UT": 4, "VT": 1, "VA": 11, "WA": 10, "WV": 2, "WI": 8, "WY": 1,
}
# DC and the territories send one non-voting delegate (Puerto Rico: a resident commissioner) and no
# senators; their member's district is 0 in the data, like an at-large state's.
NO_SENATORS: frozenset[str] = frozenset({"DC", "PR", "GU", "VI", "AS", "MP"})
STATES: frozenset[str] = frozenset(HOUSE_SEATS) | NO_SENATORS


class ContactsError(ValueError):
    """Unusable contact data or a place that does not exist; the message is one line."""


def check_place(state: str, district: int | None) -> str | None:
    """One line saying what is wrong with a subscriber's `state`/`district`, or None: config
    validation uses it, so an unknown state or district is a config error, not a silent blank."""
    code = (state or "").strip().upper()
    if code not in STATES:
        return f"unknown state {state!r}: use a two-letter code such as MA, DC or PR"
    if district is None:
        return None
    seats = HOUSE_SEATS.get(code, 1)
    if seats == 1 and district != 0:
        return f"{code} has a single at-large seat: use district = 0"
    if not 1 <= district <= seats and seats > 1:
        return f"{code} has districts 1 to {seats}, not {district}"
    return None


def congress_on(day: date) -> int:
    """The Congress sitting on `day` (a new one starts on January 3 of odd years)."""
    year = day.year - (1 if day.year % 2 == 1 and (day.month, day.day) < (1, 3) else 0)
    return (year - 1789) // 2 + 1


# -- records -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Office:
    """A district (or state) office: where a constituent's call is answered closest to home."""

    city: str
    state: str
    phone: str | None
    address: str | None = None
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True)
class Legislator:
    """A member of Congress as of their latest term."""

    bioguide: str
    name: str
    party: str  # "Democrat", "Republican", "Independent"
    chamber: str  # "senate" | "house"
    state: str
    district: int | None  # None for senators; 0 for at-large seats, delegates and DC
    phone: str | None
    url: str | None  # http(s) only (`web_url`), as every link read from the data
    contact_form: str | None
    term_start: date
    term_end: date
    state_rank: str | None = None  # senators: "senior" | "junior"
    caucus: str | None = None  # an independent's caucus
    offices: tuple[Office, ...] = ()

    @property
    def contact_url(self) -> str | None:
        """The page to write from: the contact form when the data has one, else the web site."""
        return self.contact_form or self.url

    @property
    def party_letter(self) -> str:
        return self.party[:1].upper() if self.party else "?"

    @property
    def title(self) -> str:
        if self.chamber == "senate":
            return "Sen."
        if self.state == "PR":
            return "Res. Comm."
        return "Del." if self.state in NO_SENATORS else "Rep."

    @property
    def place(self) -> str:
        """"MA", "MA-7", "WY-AL" (at large), "DC"."""
        if self.chamber == "senate" or self.state in NO_SENATORS:
            return self.state
        return f"{self.state}-{self.district}" if self.district else f"{self.state}-AL"

    @property
    def label(self) -> str:
        """"Rep. Ayanna Pressley (D-MA-7)"."""
        return f"{self.title} {self.name} ({self.party_letter}-{self.place})"

    def serving(self, today: date) -> bool:
        """Whether this term covers `today` (a term ends at noon on its end day: that day is over)."""
        return self.term_start <= today < self.term_end


@dataclass(frozen=True)
class Committee:
    """A committee or subcommittee; a subcommittee's `thomas_id` is its parent's plus two digits."""

    thomas_id: str  # "HSJU", "HSJU08"
    name: str  # "House Committee on the Judiciary"; a subcommittee's own name
    chamber: str  # "house" | "senate" | "joint"
    url: str | None
    phone: str | None
    parent: str | None = None  # the parent's thomas_id
    parent_name: str | None = None
    subcommittees: tuple[str, ...] = ()  # thomas_ids

    @property
    def display(self) -> str:
        """The name people know: a subcommittee with its parent's."""
        if not self.parent:
            return self.name
        own = self.name if self.name.lower().startswith(("subcommittee", "permanent subcommittee")) \
            else f"Subcommittee on {self.name}"
        return f"{self.parent_name}, {own}"


@dataclass(frozen=True)
class Membership:
    """One seat on a committee, as committee-membership-current lists it."""

    committee: str  # thomas_id
    bioguide: str
    name: str
    party: str  # "majority" | "minority"
    rank: int | None
    title: str | None  # "Chair", "Chairman", "Ranking Member", "Ex Officio", ...
    chamber: str | None = None  # joint committees only


@dataclass
class Directory:
    """The three files read together: members by bioguide id, committees and memberships by
    thomas_id (subcommittees included under their full id, e.g. "HSJU08")."""

    legislators: dict[str, Legislator] = field(default_factory=dict)
    committees: dict[str, Committee] = field(default_factory=dict)
    membership: dict[str, tuple[Membership, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Seat:
    """One of a subscriber's seats in Congress and who holds it (None: vacant)."""

    chamber: str  # "senate" | "house"
    state: str
    district: int | None
    member: Legislator | None
    ended: Legislator | None = None  # vacant because this member's term ended

    @property
    def vacant(self) -> bool:
        return self.member is None

    @property
    def name(self) -> str:
        """"Senator for MA", "Representative for MA-7", "Delegate for DC"."""
        if self.chamber == "senate":
            return f"Senator for {self.state}"
        if self.state == "PR":
            return "Resident Commissioner for PR"
        if self.state in NO_SENATORS:
            return f"Delegate for {self.state}"
        return f"Representative for {self.state}-{self.district}" if self.district \
            else f"Representative for {self.state} (at large)"


@dataclass(frozen=True)
class Leader:
    """A member named for a committee: `role` is the data's title, or what their rank makes them."""

    role: str
    membership: Membership
    legislator: Legislator | None  # None when the member is not in legislators-current


@dataclass(frozen=True)
class CommitteeLeaders:
    """Whom to call about a committee: its chair, its ranking member and the subscriber's own members."""

    committee: Committee
    chair: Leader | None
    ranking: Leader | None
    yours: tuple[Leader, ...] = ()


# -- parsing -------------------------------------------------------------------------------------


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _one_file(what: str) -> Callable[[Callable[_P, _R]], Callable[_P, _R]]:
    """The reader of one file: a value of another type than the file's own (words where a number
    is, a text where a list is) is a ContactsError naming the file, as anything else that makes it
    unusable, so the spider says it in one line and keeps the last good copy (a `null` among rows
    is passed over where it is read)."""
    def wrap(read: Callable[_P, _R]) -> Callable[_P, _R]:
        @functools.wraps(read)
        def checked(*args: _P.args, **kwargs: _P.kwargs) -> _R:
            try:
                return read(*args, **kwargs)
            except ContactsError:
                raise
            except (AttributeError, TypeError, KeyError, IndexError, ValueError) as exc:
                problem = " ".join(str(exc).split())[:120]
                raise ContactsError(f"{what}: a value of the wrong type ({type(exc).__name__}: {problem})") from None
        return checked
    return wrap


def _load(data: bytes | str | list[Any] | dict[str, Any], what: str) -> Any:
    if isinstance(data, (bytes, str)):
        try:
            return json_loads(data)
        except ValueError as exc:
            raise ContactsError(f"{what}: not JSON ({' '.join(str(exc).split())})") from None
        except RecursionError:
            raise ContactsError(f"{what}: not JSON (nested too deep)") from None
    return data


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _text(value: Any) -> str | None:
    text = " ".join(str(value).split()) if value is not None else ""
    return text or None


def _float(value: Any) -> float | None:
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


@_one_file("legislators-district-offices")
def parse_offices(data: bytes | str | list[Any]) -> dict[str, tuple[Office, ...]]:
    """legislators-district-offices → offices by bioguide id, in the file's order."""
    rows = _load(data, "legislators-district-offices")
    if not isinstance(rows, list):
        raise ContactsError("legislators-district-offices: expected a list of members")
    offices: dict[str, tuple[Office, ...]] = {}
    for row in rows:
        bioguide = ((row or {}).get("id") or {}).get("bioguide")
        if not bioguide:
            continue
        offices[bioguide] = tuple(
            Office(
                city=_text(o.get("city")) or "",
                state=_text(o.get("state")) or "",
                phone=_text(o.get("phone")),
                address=", ".join(p for p in (_text(o.get("address")), _text(o.get("suite"))) if p) or None,
                latitude=_float(o.get("latitude")),
                longitude=_float(o.get("longitude")),
            )
            for o in row.get("offices") or [] if o is not None
        )
    return offices


def _name(name: Mapping[str, Any]) -> str:
    if full := _text(name.get("official_full")):
        return full
    parts = [_text(name.get(k)) for k in ("first", "middle", "last")]
    text = " ".join(p for p in parts if p)
    suffix = _text(name.get("suffix"))
    return f"{text}, {suffix}" if suffix else text


@_one_file("legislators-current")
def parse_legislators(data: bytes | str | list[Any],
                      offices: bytes | str | list[Any] | None = None) -> list[Legislator]:
    """legislators-current (and optionally legislators-district-offices) → one record per member,
    from their last term (the current one)."""
    rows = _load(data, "legislators-current")
    if not isinstance(rows, list):
        raise ContactsError("legislators-current: expected a list of members")
    by_member = parse_offices(offices) if offices is not None else {}
    members = []
    for row in rows:
        if row is None:
            continue
        bioguide = (row.get("id") or {}).get("bioguide")
        terms = row.get("terms") or []
        if not bioguide or not terms:
            continue
        term = terms[-1]
        chamber = {"sen": "senate", "rep": "house"}.get(term.get("type"))
        start, end = _day(term.get("start")), _day(term.get("end"))
        state = (_text(term.get("state")) or "").upper()
        if chamber is None or start is None or end is None or not state:
            raise ContactsError(f"legislators-current: {bioguide} has an unreadable last term")
        district = term.get("district") if chamber == "house" else None
        members.append(Legislator(
            bioguide=bioguide,
            name=_name(row.get("name") or {}),
            party=_text(term.get("party")) or "",
            chamber=chamber,
            state=state,
            district=int(district) if district is not None else (0 if chamber == "house" else None),
            phone=_text(term.get("phone")),
            url=web_url(term.get("url")),
            contact_form=web_url(term.get("contact_form")),
            term_start=start,
            term_end=end,
            state_rank=_text(term.get("state_rank")),
            caucus=_text(term.get("caucus")),
            offices=by_member.get(bioguide, ()),
        ))
    return members


@_one_file("committees-current")
def parse_committees(data: bytes | str | list[Any]) -> dict[str, Committee]:
    """committees-current → committees and subcommittees by thomas_id ("HSJU", "HSJU08")."""
    rows = _load(data, "committees-current")
    if not isinstance(rows, list):
        raise ContactsError("committees-current: expected a list of committees")
    committees: dict[str, Committee] = {}
    for row in rows:
        code = _text((row or {}).get("thomas_id"))
        if not code:
            continue
        name = _text(row.get("name")) or code
        chamber = _text(row.get("type")) or ""
        subs = []
        for sub in row.get("subcommittees") or []:
            if sub is None:
                continue
            sub_code = _text(sub.get("thomas_id"))
            if not sub_code:
                continue
            full = f"{code}{sub_code}"
            subs.append(full)
            committees[full] = Committee(
                thomas_id=full, name=_text(sub.get("name")) or full, chamber=chamber,
                url=web_url(row.get("url")), phone=_text(sub.get("phone")) or _text(row.get("phone")),
                parent=code, parent_name=name,
            )
        committees[code] = Committee(
            thomas_id=code, name=name, chamber=chamber, url=web_url(row.get("url")),
            phone=_text(row.get("phone")), subcommittees=tuple(subs),
        )
    return committees


@_one_file("committee-membership-current")
def parse_membership(data: bytes | str | dict[str, Any]) -> dict[str, tuple[Membership, ...]]:
    """committee-membership-current → each committee's members, in the file's (rank) order."""
    table = _load(data, "committee-membership-current")
    if not isinstance(table, dict):
        raise ContactsError("committee-membership-current: expected a mapping of committee ids")
    membership = {}
    for code, rows in table.items():
        membership[code] = tuple(
            Membership(
                committee=code,
                bioguide=_text(m.get("bioguide")) or "",
                name=_text(m.get("name")) or "",
                party=_text(m.get("party")) or "",
                rank=int(m["rank"]) if isinstance(m.get("rank"), int) else None,
                title=_text(m.get("title")),
                chamber=_text(m.get("chamber")),
            )
            for m in rows or [] if m is not None
        )
    return membership


def load_directory(legislators: bytes | str | list[Any], committees: bytes | str | list[Any],
                   membership: bytes | str | dict[str, Any],
                   offices: bytes | str | list[Any] | None = None) -> Directory:
    """The four files (offices optional) as one `Directory`."""
    return Directory(
        legislators={m.bioguide: m for m in parse_legislators(legislators, offices)},
        committees=parse_committees(committees),
        membership=parse_membership(membership),
    )


# -- a subscriber's members -----------------------------------------------------------------------


def members_for(state: str, district: int | None, legislators: Iterable[Legislator], today: date) -> list[Seat]:
    """The subscriber's two senators (none for DC and the territories) and their representative or
    delegate, senior senator first. `district` 0 is the at-large seat; None gives the senators only
    (plus the one seat of an at-large state or territory). A seat whose member's term has ended by
    `today`, or that nobody in the data holds, comes back vacant."""
    code = (state or "").strip().upper()
    if problem := check_place(code, district):
        raise ContactsError(problem)
    people = [m for m in legislators if m.state == code]
    seats: list[Seat] = []
    if code not in NO_SENATORS:
        senators = [m for m in people if m.chamber == "senate"]
        serving = sorted((m for m in senators if m.serving(today)),
                         key=lambda m: (m.state_rank != "senior", m.term_start, m.name))
        ended = sorted((m for m in senators if m.term_end <= today), key=lambda m: m.term_end, reverse=True)
        seats += [Seat("senate", code, None, m) for m in serving[:2]]
        for i in range(2 - len(seats)):
            seats.append(Seat("senate", code, None, None, ended[i] if i < len(ended) else None))
    if district is None and HOUSE_SEATS.get(code, 1) == 1:
        district = 0
    if district is not None:
        reps = [m for m in people if m.chamber == "house" and (m.district or 0) == district]
        serving = [m for m in reps if m.serving(today)]
        ended = sorted((m for m in reps if m.term_end <= today), key=lambda m: m.term_end, reverse=True)
        seats.append(Seat("house", code, district, serving[0] if serving else None,
                          None if serving or not ended else ended[0]))
    return seats


def all_seats(legislators: Iterable[Legislator], today: date) -> list[Seat]:
    """Every seat of every state and territory, vacant ones included, by state then senators first
    then district: the digest's "find your members" table."""
    people = list(legislators)
    seats: list[Seat] = []
    for state in sorted(STATES):
        senators = [] if state in NO_SENATORS else members_for(state, None, people, today)[:2]
        districts = range(1, HOUSE_SEATS[state] + 1) if HOUSE_SEATS.get(state, 1) > 1 else [0]
        seats += senators
        seats += [members_for(state, d, people, today)[-1] for d in districts]
    return seats


def sponsor(bill: Bill, directory: Directory) -> Legislator | str | None:
    """A bill's sponsor: their current record (with phones) when they still serve, else the name
    BILLSTATUS gives ("Rep. Duncan, Jeff [R-SC-3]"), None for a bill without one."""
    person = bill.sponsor or {}
    found = directory.legislators.get(person.get("bioguide_id") or "")
    return found or person.get("name") or None


# -- committees ----------------------------------------------------------------------------------

CHAIR_TITLES = frozenset({"chair", "chairman", "chairwoman"})
RANKING_TITLES = frozenset({"ranking member"})


def committee_code(code: str) -> str:
    """A thomas_id from a thomas_id or a BILLSTATUS systemCode (`bills.committees.thomas_id`), or
    ContactsError."""
    found = thomas_id(code)
    if found is None:
        raise ContactsError(f"not a committee code: {code!r}")
    return found


def committee_leaders(code: str, directory: Directory, *, yours: Iterable[Legislator | Seat] = (),
                      today: date | None = None) -> CommitteeLeaders | None:
    """Chair and ranking member of a committee or subcommittee (`code`: "HSJU", "hsju00", "hsju08"),
    by title (Chair, Chairman, Chairwoman, Ranking Member), else the majority's and the minority's
    rank 1; plus which of `yours` (the subscriber's members) sit on it. None for a code the data does
    not know (a committee renamed away or abolished). With `today`, members whose term has ended are
    not named."""
    thomas_id = committee_code(code)
    committee = directory.committees.get(thomas_id)
    if committee is None:
        return None
    rows = directory.membership.get(thomas_id, ())

    def leader(m: Membership, role: str) -> Leader | None:
        person = directory.legislators.get(m.bioguide)
        if today is not None and person is not None and not person.serving(today):
            return None
        return Leader(role, m, person)

    def pick(titles: frozenset[str], party: str, fallback: str) -> Leader | None:
        for m in rows:
            if (m.title or "").lower() in titles and (found := leader(m, m.title or fallback)):
                return found
        for m in sorted((m for m in rows if m.party == party and m.rank == 1), key=lambda m: m.chamber or ""):
            if found := leader(m, fallback):
                return found
        return None

    chair = pick(CHAIR_TITLES, "majority", "Chair")
    ranking = pick(RANKING_TITLES, "minority", "Ranking Member")
    ids = {(y.member.bioguide if isinstance(y, Seat) and y.member else getattr(y, "bioguide", None))
           for y in yours}
    mine = tuple(found for m in rows if m.bioguide in ids and (found := leader(m, m.title or "Member")))
    return CommitteeLeaders(committee, chair, ranking, mine)


# -- plain text ----------------------------------------------------------------------------------


def _distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 12742 * math.asin(math.sqrt(h))


def nearest_office(member: Legislator, near: tuple[float, float] | None = None) -> Office | None:
    """The district office with a phone closest to `near` (latitude, longitude); without a point,
    the first one the data lists (the data has no subscriber address to measure from)."""
    offices = [o for o in member.offices if o.phone]
    if near is not None:
        located = [o for o in offices if o.latitude is not None and o.longitude is not None]
        if located:
            return min(located, key=lambda o: _distance_km(near, (o.latitude, o.longitude)))  # type: ignore[arg-type]
    return offices[0] if offices else None


def contact_line(member: Legislator, role: str | None = None, near: tuple[float, float] | None = None) -> str:
    """"Rep. Ayanna Pressley (D-MA-7): 202-225-5111, https://pressley.house.gov; Boston office
    617-850-0040" (a role such as "Chair" goes in front)."""
    reach = [member.phone or "no phone listed"]
    if member.contact_url:
        reach.append(member.contact_url)
    text = f"{member.label}: {', '.join(reach)}"
    if office := nearest_office(member, near):
        text += f"; {office.city} office {office.phone}" if office.city else f"; district office {office.phone}"
    return f"{role}: {text}" if role else text


def _leader_line(leader: Leader, near: tuple[float, float] | None) -> str:
    if leader.legislator is not None:
        return contact_line(leader.legislator, leader.role, near)
    return f"{leader.role}: {leader.membership.name}"


def _home(items: Sequence[Seat | CommitteeLeaders | Legislator]) -> tuple[float, float] | None:
    """Where the subscriber roughly is: their representative's first located district office (a
    district is small; a senator's offices spread over the whole state)."""
    for item in items:
        if isinstance(item, Seat) and item.chamber == "house" and item.member is not None:
            for office in item.member.offices:
                if office.latitude is not None and office.longitude is not None:
                    return office.latitude, office.longitude
    return None


def contact_lines(items: Iterable[Seat | CommitteeLeaders | Legislator], *,
                  near: tuple[float, float] | None = None) -> list[str]:
    """Plain-text lines for alerts: one per seat or member; a committee as a heading line with its
    chair, ranking member and the subscriber's members indented under it. District offices are the
    ones nearest `near`, else nearest the subscriber's representative's district office when a House
    seat is among `items`."""
    items = list(items)
    near = near or _home(items)
    lines: list[str] = []
    for item in items:
        if isinstance(item, Legislator):
            lines.append(contact_line(item, near=near))
        elif isinstance(item, Seat):
            if item.member is not None:
                lines.append(contact_line(item.member, near=near))
            elif item.ended is not None:
                lines.append(f"{item.name}: vacant ({item.ended.name}'s term ended "
                             f"{item.ended.term_end.isoformat()})")
            else:
                lines.append(f"{item.name}: vacant")
        else:
            c = item.committee
            lines.append(f"{c.display}" + (f", {c.phone}" if c.phone else "") + (f", {c.url}" if c.url else ""))
            lines += [f"  {_leader_line(x, near)}" for x in (item.chair, item.ranking) if x is not None]
            for x in item.yours:
                role = "" if x.role == "Member" else f" ({x.role})"
                person = contact_line(x.legislator, near=near) if x.legislator else x.membership.name
                lines.append(f"  Your member on it{role}: {person}")
    return lines


# -- whom to call about one bill --------------------------------------------------------------------


@dataclass(frozen=True)
class BillContacts:
    """Everything an alert about a bill names: its sponsor, the subscriber's own members, and the
    leaders of the committees holding it (a bill of the current Congress still in committee)."""

    sponsor: Legislator | str | None
    yours: tuple[Seat, ...] = ()
    committees: tuple[CommitteeLeaders, ...] = ()


def bill_contacts(bill: Bill, directory: Directory, *, today: date, state: str | None = None,
                  district: int | None = None) -> BillContacts:
    yours = tuple(members_for(state, district, directory.legislators.values(), today)) if state else ()
    committees: list[CommitteeLeaders] = []
    if bill.congress == congress_on(today):
        for holding in committees_holding(bill):
            leaders = committee_leaders(holding.code, directory, yours=yours, today=today)
            if leaders is not None:
                committees.append(leaders)
    return BillContacts(sponsor(bill, directory), yours, tuple(committees))


_BILLSTATUS_NAME = re.compile(
    r"^(?P<title>[A-Z][\w.]*\.)\s+(?P<last>[^,\[]+),\s+(?P<first>[^\[]+?)\s*"
    r"\[(?P<party>[A-Z]+)-(?P<state>[A-Z]{2})(?:-(?P<district>[^\]]+))?\]$")


def person_label(name: str) -> str:
    """A sponsor as BILLSTATUS names them ("Sen. Van Hollen, Chris [D-MD]", "Rep. Young, Don
    [R-AK-At Large]") in the shape the members' directory gives ("Sen. Chris Van Hollen (D-MD)",
    "Rep. Don Young (R-AK-AL)"), so a sponsor line looks the same whether or not the directory knows
    them; a name in another shape is kept as it is."""
    found = _BILLSTATUS_NAME.match(" ".join(name.split()))
    if found is None:
        return name
    district = found.group("district")
    place = found.group("state") + (f"-{'AL' if district and not district.isdigit() else district}" if district else "")
    return f"{found.group('title')} {found.group('first')} {found.group('last').strip()} ({found.group('party')}-{place})"


def sponsor_line(bill: Bill, directory: Directory | None, near: tuple[float, float] | None = None) -> str | None:
    """"Sponsor: Sen. Chris Van Hollen (D-MD): 202-224-4654, https://...": one shape in every alert
    and page, with phone and contact page when the directory knows a serving sponsor."""
    found = sponsor(bill, directory) if directory is not None else (bill.sponsor or {}).get("name")
    if isinstance(found, Legislator):
        return f"Sponsor: {contact_line(found, near=near)}"
    return f"Sponsor: {person_label(found)}" if found else None


def bill_contact_lines(contacts: BillContacts) -> list[str]:
    """The "who to contact" block of a bill alert, as plain-text lines."""
    lines: list[str] = []
    if contacts.yours:
        lines += ["Your members of Congress:", *(f"  {line}" for line in contact_lines(contacts.yours))]
    if contacts.committees:
        near = _home(contacts.yours)
        lines.append("In committee now: call its leaders" + (" and your members on it" if contacts.yours else ""))
        lines += [f"  {line}" for line in contact_lines(contacts.committees, near=near)]
    if isinstance(contacts.sponsor, Legislator):
        lines.append(f"Sponsor: {contact_line(contacts.sponsor, near=_home(contacts.yours))}")
    elif contacts.sponsor:
        lines.append(f"Sponsor: {person_label(contacts.sponsor)}")
    return lines
