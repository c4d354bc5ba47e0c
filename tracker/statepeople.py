"""State legislators and committees, typed: from the openstates/people repository's YAML
(`data/{state}/legislature/*.yml`, both its `offices` and its older `contact_details`;
`data/{state}/committees/*.yml`) or from Open States API v3 `/people?include=offices` answers.
Pure readers: bytes in, records out. Alerts about a state bill use them to name the subscriber's own
two legislators (by `state_senate_district` / `state_house_district`), the sponsors, and the chair of
the committee holding the bill.

YAML is read with `yaml.safe_load` only: the files are public and untrusted.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from tracker.records import StateBill
from tracker.safetext import json_loads
from tracker.states import committee_label, state_info, state_of

MAX_FIELD = 300
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# contact_details notes -> the office classifications the newer `offices` use
_NOTE_CLASS = {"capitol office": "capitol", "district office": "district", "primary office": "primary"}
# A chair's role as the files word it: "chair", "Co-Chair", "committee chair" (New York's Senate),
# "Senate Chair" (a joint committee's); never a vice, assistant or ranking one, nor the minority's
# ("republican chair" beside the "chair" in Pennsylvania's House).
_CHAIR_WORDS = {"chair", "cochair", "chairman", "chairwoman", "chairperson"}
_NOT_CHAIR_WORDS = {"vice", "assistant", "ranking", "deputy", "former", "minority", "republican", "democratic",
                    "democrat"}


def is_chair_role(role: str) -> bool:
    """Whether a committee role names the chair (or a co-chair), as the files write it."""
    words = set(re.findall(r"[a-z]+", role.lower()))
    return bool(words & _CHAIR_WORDS) and not words & _NOT_CHAIR_WORDS


class PeopleParseError(ValueError):
    """A people or committee file that cannot be read; the message is one line naming it."""


@dataclass(frozen=True)
class Office:
    """One office of a legislator: where, and how to call or write."""

    name: str  # "Capitol Office", "District Office #1"
    classification: str | None = None  # capitol | district | primary
    voice: str | None = None
    fax: str | None = None
    address: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class StateLegislator:
    """A sitting state legislator: chamber role (`upper`, `lower`, `legislature`), district as the
    state names it ("8", "Second Suffolk"), and how to reach them."""

    id: str  # ocd-person/...
    name: str
    state: str
    chamber: str
    district: str
    party: str | None = None
    title: str | None = None  # Senator, Representative, Delegate, Assembly Member
    email: str | None = None
    offices: tuple[Office, ...] = ()
    url: str | None = None

    @property
    def phones(self) -> list[str]:
        """Voice numbers, capitol office first, without repeats."""
        ordered = sorted(self.offices, key=lambda o: o.classification != "capitol")
        return list(dict.fromkeys(o.voice for o in ordered if o.voice))

    @property
    def emails(self) -> list[str]:
        return list(dict.fromkeys([e for e in [self.email, *(o.email for o in self.offices)] if e]))

    @property
    def chamber_name(self) -> str | None:
        return state_info(self.state).chamber(self.chamber)


@dataclass(frozen=True)
class CommitteeMember:
    name: str
    role: str  # as the file says it, lower case: chair, vice chair, ranking member, member
    person_id: str | None = None


@dataclass(frozen=True)
class StateCommittee:
    id: str
    name: str
    state: str
    chamber: str  # upper | lower | legislature (joint)
    members: tuple[CommitteeMember, ...] = field(default_factory=tuple)
    # The file's `other_names`: DC's "Council Judiciary and Public Safety" is also the "Committee on
    # the Judiciary and Public Safety" its bills' actions name.
    other_names: tuple[str, ...] = ()

    @property
    def chairs(self) -> list[CommitteeMember]:
        """The chair (or co-chairs); never a vice chair."""
        return [m for m in self.members if is_chair_role(m.role)]


def people_reference_key(state: str) -> str:
    """The entity a state's legislators from the API's `/people` are stored under (a reference
    snapshot whose raw response is every page's results)."""
    return f"reference:openstates:people:{state.lower()}"


# -- reading ----------------------------------------------------------------------------------------


def _text(value: Any, limit: int = MAX_FIELD) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    text = " ".join(_CONTROL.sub(" ", unicodedata.normalize("NFC", str(value))).split())
    return (text if len(text) <= limit else text[:limit]) or None


def _load_yaml(data: bytes | str, where: str) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load(data)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark is not None else ""
        raise PeopleParseError(f"{where}:{line} not readable YAML") from None
    if not isinstance(loaded, dict):
        raise PeopleParseError(f"{where}: not a mapping")
    return loaded


def _current_role(roles: Iterable[Any], today: date) -> dict[str, Any] | None:
    """The legislative role held today: no end date, or one not yet passed; the latest start wins,
    and of two begun the same day the one listed last (DC's files keep an old `upper` seat beside the
    `legislature` one, both open)."""
    current = []
    for role in roles:
        if not isinstance(role, dict) or role.get("type") not in ("upper", "lower", "legislature"):
            continue
        end, start = str(role.get("end_date") or ""), str(role.get("start_date") or "")
        if (end and end < today.isoformat()) or (start and start > today.isoformat()):
            continue
        current.append((start, len(current), role))
    return max(current, key=lambda entry: entry[:2])[2] if current else None


def read_legislator_yaml(data: bytes | str, *, where: str = "legislator", today: date | None = None) -> StateLegislator | None:
    """One openstates/people legislator file; None when the person holds no legislative seat today
    (retired, or only an executive role)."""
    person = _load_yaml(data, where)
    role = _current_role(person.get("roles") or [], today or date.today())
    if role is None:
        return None
    state = state_of(str(role.get("jurisdiction") or ""))
    if not (state and person.get("id") and person.get("name")):
        raise PeopleParseError(f"{where}: no id, name or jurisdiction")
    offices = [_office(o) for o in person.get("offices") or [] if isinstance(o, dict)]
    offices += [_contact_detail(c) for c in person.get("contact_details") or [] if isinstance(c, dict)]
    parties = [p for p in person.get("party") or [] if isinstance(p, dict) and not p.get("end_date")]
    links = [link.get("url") for link in person.get("links") or [] if isinstance(link, dict)]
    chamber = str(role["type"])
    return StateLegislator(
        id=str(person["id"]), name=_text(person["name"]) or "", state=state, chamber=chamber,
        district=_text(role.get("district")) or "", party=_text(parties[0].get("name")) if parties else None,
        title=state_info(state).title(chamber),
        email=_text(person.get("email")), offices=tuple(o for o in offices if o is not None),
        url=_text(links[0]) if links else None)


def _office(office: dict[str, Any]) -> Office | None:
    kind = _text(office.get("classification"))
    name = _text(office.get("name")) or (f"{kind.title()} Office" if kind else "Office")
    found = Office(name=name, classification=kind, voice=_text(office.get("voice")), fax=_text(office.get("fax")),
                   address=_text(office.get("address")), email=_text(office.get("email")))
    return found if (found.voice or found.address or found.email or found.fax) else None


def _contact_detail(detail: dict[str, Any]) -> Office | None:
    """The older format: one entry per office, named by its `note` ("Capitol Office")."""
    note = _text(detail.get("note")) or "Office"
    return _office({**detail, "name": note, "classification": _NOTE_CLASS.get(note.lower(), "district")})


def read_person_json(person: dict[str, Any]) -> StateLegislator | None:
    """One `/people` result of Open States API v3 (with `include=offices`); None without a current
    legislative role."""
    role = person.get("current_role") if isinstance(person.get("current_role"), dict) else None
    jurisdiction = person.get("jurisdiction") if isinstance(person.get("jurisdiction"), dict) else {}
    state = state_of(str(jurisdiction.get("id") or ""))
    if not role or role.get("org_classification") not in ("upper", "lower", "legislature") or not state:
        return None
    chamber = str(role["org_classification"])
    offices = [_office(o) for o in person.get("offices") or [] if isinstance(o, dict)]
    return StateLegislator(
        id=str(person.get("id") or ""), name=_text(person.get("name")) or "", state=state, chamber=chamber,
        district=_text(role.get("district")) or "", party=_text(person.get("party")),
        title=_text(role.get("title")) or state_info(state).title(chamber), email=_text(person.get("email")),
        offices=tuple(o for o in offices if o is not None), url=_text(person.get("openstates_url")))


def read_committee_yaml(data: bytes | str, *, where: str = "committee") -> StateCommittee:
    """One openstates/people committee file (`data/{state}/committees/*.yml`)."""
    committee = _load_yaml(data, where)
    state = state_of(str(committee.get("jurisdiction") or ""))
    if not (state and committee.get("id") and committee.get("name")):
        raise PeopleParseError(f"{where}: no id, name or jurisdiction")
    members = tuple(
        CommitteeMember(name=_text(m.get("name")) or "", role=(_text(m.get("role")) or "member").lower(),
                        person_id=_text(m.get("person_id")))
        for m in committee.get("members") or [] if isinstance(m, dict) and m.get("name"))
    other_names = tuple(name for o in committee.get("other_names") or [] if isinstance(o, dict)
                        and (name := _text(o.get("name"))))
    return StateCommittee(id=str(committee["id"]), name=_text(committee["name"]) or "", state=state,
                          chamber=str(committee.get("chamber") or "legislature"), members=members,
                          other_names=other_names)


# -- finding ----------------------------------------------------------------------------------------


_ORDINAL_WORDS = {word: n for n, word in enumerate((
    "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth", "eleventh",
    "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth", "eighteenth", "nineteenth"),
    start=1)}
_TENS_WORDS = {"twenty": 20, "twentieth": 20, "thirty": 30, "thirtieth": 30, "forty": 40, "fortieth": 40}
# Words a subscriber may write around a district's name that the files leave out ("District 7",
# "Ward 6" for DC's "Ward 6" written "6", "Senate District 12", New Hampshire's "Hillsborough 43"
# written "Hillsborough County District 43").
_DISTRICT_FILLER = {"district", "dist", "ward", "senate", "house", "assembly", "legislative", "county"}


def district_key(district: str | int | None) -> str:
    """Districts compared as people write them: "08", "District 8" and "8" are one; "Second
    Suffolk" is "2nd Suffolk" (Massachusetts names its Senate districts in words, its House
    districts in figures), any case; "Suffolk & Middlesex" is "Suffolk and Middlesex"; "3A" is
    "3a"; DC's "Ward 6" is "6"."""
    text = str(district or "").lower().replace("&", " and ")
    words = [w for w in re.sub(r"[^a-z0-9]+", " ", text).split() if w not in _DISTRICT_FILLER]
    out: list[str] = []
    tens = False  # the word before was "twenty", "thirty"...: "twenty first" is 21
    for word in words:
        figure = re.fullmatch(r"0*(\d+)(?:st|nd|rd|th)", word) or re.fullmatch(r"0*(\d+[a-z]*)", word)
        if figure:
            out.append(figure.group(1))
        elif word in _ORDINAL_WORDS and tens:
            out[-1] = str(int(out[-1]) + _ORDINAL_WORDS[word])
        else:
            out.append(str(_ORDINAL_WORDS.get(word) or _TENS_WORDS.get(word) or word))
        tens = word in ("twenty", "thirty", "forty")
    return " ".join(out) or str(district or "").strip().lower()


AT_LARGE = district_key("at-large")


def representatives(legislators: Iterable[StateLegislator], state: str, *, senate_district: str | int | None = None,
                    house_district: str | int | None = None) -> list[StateLegislator]:
    """The subscriber's own legislators: the upper chamber's members for `senate_district` and the
    lower chamber's for `house_district` (a unicameral legislature's for either; every member of a
    multi-member district), then that chamber's at-large members, who sit for every district (DC's
    at-large councilmembers, Puerto Rico's senators and representatives "por acumulación")."""
    wanted = []
    for _, district, members in _seats_asked(legislators, state, senate_district, house_district):
        key = district_key(district)
        wanted += [p for p in members if district_key(p.district) == key]
        wanted += [p for p in members if district_key(p.district) == AT_LARGE]
    return list(dict.fromkeys(wanted))


def _seats_asked(legislators: Iterable[StateLegislator], state: str, senate_district: str | int | None,
                 house_district: str | int | None) -> Iterator[tuple[str, str | int, list[StateLegislator]]]:
    """Each seat a subscriber names (its chamber and district) with that chamber's members (a
    unicameral legislature's for either)."""
    for chamber, district in (("upper", senate_district), ("lower", house_district)):
        if district not in (None, ""):
            yield chamber, district, [p for p in legislators
                                      if p.state == state.lower() and p.chamber in (chamber, "legislature")]


def committee_key(name: str) -> str:
    """A committee's name without the words that vary between sources: "Senate Committee on
    Judiciary", "Senate Judiciary Committee" and "Judiciary" are one committee in one chamber."""
    text = re.sub(r"&", " and ", name.lower())
    text = re.sub(r"[^a-z0-9 ]+", " ", text)
    text = re.sub(r"\b(senate|house( of (representatives|delegates))?|assembly|joint|standing|legislative|"
                  r"committee|the|on|for|of)\b", " ", text)
    return " ".join(text.split())


def find_committee(committees: Sequence[StateCommittee], state: str, name: str,
                   chamber: str | None = None) -> StateCommittee | None:
    """The committee an action names (by its name or one of its other names), in its chamber (a
    joint committee when none of the chamber's has that name); never the other chamber's namesake,
    whose chair is not the one holding the bill. No chamber known: any of that name."""
    key = committee_key(name)
    candidates = [c for c in committees if c.state == state.lower()
                  and any(committee_key(n) == key for n in (c.name, *c.other_names))]
    for wanted in (chamber, "legislature") if chamber else (None,):
        for committee in candidates:
            if wanted is None or committee.chamber == wanted:
                return committee
    return None


def chairs_of(committee: StateCommittee | None, legislators: Iterable[StateLegislator] = (),
              former: Iterable[str] = ()) -> list[StateLegislator | CommitteeMember]:
    """The committee's chair(s), as legislators with their offices when we know them, else as named;
    never one whose own file says they left (`former`: a committee file can name a chair who
    resigned mid-session until it is next updated)."""
    if committee is None:
        return []
    people = {p.id: p for p in legislators}
    by_name = {p.name.casefold(): p for p in people.values()}
    gone = set(former)
    return [people.get(m.person_id or "") or by_name.get(m.name.casefold()) or m for m in committee.chairs
            if not (m.person_id in gone and m.person_id not in people)]


# -- a state's directory, and whom to contact about a state bill ----------------------------------


@dataclass(frozen=True)
class StateDirectory:
    """One state's sitting legislators and its committees, as alerts and the digest read them."""

    state: str
    legislators: tuple[StateLegislator, ...] = ()
    committees: tuple[StateCommittee, ...] = ()
    former: frozenset[str] = frozenset()  # ids of people who no longer sit (an ended role, `retired/`)


def read_people_json(body: bytes | str, state: str) -> StateDirectory:
    """A state's legislators from the stored `/people` answers (`{"results": [...]}`)."""
    try:
        data = json_loads(body)
    except (ValueError, UnicodeDecodeError):
        raise PeopleParseError(f"legislators of {state.upper()}: not JSON") from None
    rows = data.get("results") if isinstance(data, dict) else None
    people = [read_person_json(row) for row in rows or [] if isinstance(row, dict)]
    return StateDirectory(state.lower(), legislators=tuple(p for p in people if p is not None))


def state_folder(people_dir: Path, state: str) -> Path:
    """Where a state's files are in a checkout of openstates/people (`data/{state}`), or in a
    folder holding the state folders themselves."""
    nested = people_dir / "data" / state.lower()
    return nested if nested.is_dir() else people_dir / state.lower()


def read_people_dir(people_dir: Path, state: str, *, today: date | None = None) -> tuple[StateDirectory, list[str]]:
    """A state's legislators and committees from a checkout of openstates/people, and one line per
    file that could not be read (the rest are read). Who left (a role ended, a file moved to
    `retired/`) is known by the id in the file's name, so that no committee names them as chair."""
    folder = state_folder(people_dir, state)
    problems: list[str] = []
    legislators: list[StateLegislator] = []
    committees: list[StateCommittee] = []
    former: set[str | None] = {_file_person_id(path) for path in (folder / "retired").glob("*.yml")}
    for path in sorted((folder / "legislature").glob("*.yml")):
        try:
            data = path.read_bytes()
            person = read_legislator_yaml(data, where=str(path), today=today)
        except (PeopleParseError, OSError) as exc:
            problems.append(str(exc))
            continue
        if person is not None:
            legislators.append(person)
        elif _has_left(_load_yaml(data, str(path)).get("roles") or [], today or date.today()):
            former.add(_file_person_id(path))
    for path in sorted((folder / "committees").glob("*.yml")):
        try:
            committees.append(read_committee_yaml(path.read_bytes(), where=str(path)))
        except (PeopleParseError, OSError) as exc:
            problems.append(str(exc))
    return StateDirectory(state.lower(), tuple(legislators), tuple(committees),
                          frozenset(f for f in former if f)), problems


def _has_left(roles: Iterable[Any], today: date) -> bool:
    """Whether every legislative role has ended (not one still to begin: a member-elect has not left)."""
    seats = [r for r in roles if isinstance(r, dict) and r.get("type") in ("upper", "lower", "legislature")]
    return bool(seats) and all(r.get("end_date") and str(r["end_date"]) < today.isoformat() for r in seats)


def _file_person_id(path: Path) -> str | None:
    """`ocd-person/{uuid}` from a file named as openstates/people names them: `Name-{uuid}.yml`."""
    match = re.search(r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.yml$", path.name)
    return f"ocd-person/{match.group(1)}" if match else None


def _reach(person: StateLegislator | CommitteeMember) -> str:
    """"Julie Gonzales (Democratic, Senate District 34): 303-866-4862, julie.gonzales.senate@state.co.us"."""
    if isinstance(person, CommitteeMember):
        return f"{person.name} (no phone known)"
    where = ", ".join(p for p in (person.party, _district_words(person)) if p)
    reach = person.phones[:2] + person.emails[:1]
    return f"{person.name}" + (f" ({where})" if where else "") + f": {', '.join(reach) or 'no phone listed'}"


def _district_words(person: StateLegislator) -> str | None:
    """"Senate District 34"; a district named rather than numbered: "Senate, Second Suffolk District";
    one that says what it is, or ends in its number, as it is: "Council, Ward 6", "House,
    Hillsborough 43"."""
    return _seat_words(person.chamber_name, person.district) if person.district else None


def _seat_words(chamber_name: str | None, district: str) -> str:
    """A seat in words, as `_district_words` says a legislator's."""
    chamber = chamber_name or ""
    if re.fullmatch(r"[0-9]+[A-Za-z]?(-[A-Za-z0-9]+)?", district):
        return f"{chamber} District {district}".strip()
    if re.search(r"\b(district|ward|at[- ]large)\b|\d$", district, re.I):  # "Ward 6", "Hillsborough 43"
        return f"{chamber}, {district}" if chamber else district
    return f"{chamber}, {district} District" if chamber else f"{district} District"


def _empty_seats(legislators: Sequence[StateLegislator], state: str, *, senate_district: str | None,
                 house_district: str | None) -> list[str]:
    """The subscriber's seats no sitting member holds, in words: a vacant seat (a member resigned
    mid-session), or a district written otherwise than the data writes it. Said rather than left
    out, so the subscriber knows why no one is named. Only for a chamber whose members are known."""
    info = state_info(state)
    empty = []
    for chamber, district, members in _seats_asked(legislators, state, senate_district, house_district):
        key = district_key(district)
        if members and not any(district_key(p.district) == key for p in members):
            empty.append(f"{_seat_words(info.chamber(chamber), str(district))}: no sitting member known (a vacant "
                         "seat, or the district is written otherwise)")
    return list(dict.fromkeys(empty))


def _sponsor_line(sponsor: dict[str, Any], people: dict[str, StateLegislator]) -> str:
    known = people.get(sponsor.get("person_id") or "")
    if known is not None:
        return _reach(known)
    where = ", ".join(p for p in (sponsor.get("party"), f"District {sponsor['district']}" if sponsor.get("district")
                                  else None) if p)
    return f"{sponsor.get('name')}" + (f" ({where})" if where else "")


def bill_contact_lines(bill: StateBill, directory: StateDirectory | None, *, state: str | None = None,
                       senate_district: str | None = None, house_district: str | None = None) -> list[str]:
    """The "who to contact" block of a state bill alert, as plain-text lines: the subscriber's own
    state senator and representative (when they live in the bill's state and gave their districts),
    the chair of the committee holding the bill, and its sponsors, with phones where known."""
    lines: list[str] = []
    legislators = directory.legislators if directory else ()
    if directory and state and state.lower() == bill.state:
        yours = representatives(legislators, bill.state, senate_district=senate_district, house_district=house_district)
        empty = _empty_seats(legislators, bill.state, senate_district=senate_district, house_district=house_district)
        if yours or empty:
            lines.append("Your state legislators:")
            lines += [f"  {person.title or 'Legislator'} {_reach(person)}" for person in yours]
            lines += [f"  {seat}" for seat in empty]
    holding = bill.committee if isinstance(bill.committee, dict) else None
    if holding and holding.get("name"):
        from_state = find_committee(directory.committees, bill.state, str(holding["name"]), holding.get("chamber")) \
            if directory else None
        where = committee_label(holding, bill.state)
        chairs = chairs_of(from_state, legislators, directory.former if directory else ())
        if chairs:
            lines.append(f"In committee now: {where}; its chair:")
            lines += [f"  Chair {_reach(chair)}" for chair in chairs]
        else:
            lines.append(f"In committee now: {where}")
    people = {p.id: p for p in legislators}
    primary = [s for s in bill.sponsors if s.get("primary")] or list(bill.sponsors[:1])
    others = [s for s in bill.sponsors if s not in primary]
    for sponsor in primary[:6]:
        lines.append(f"Sponsor: {_sponsor_line(sponsor, people)}")
    if others:
        names = ", ".join(str(s.get("name")) for s in others[:10])
        lines.append(f"Cosponsors: {names}" + (f" and {len(others) - 10} more" if len(others) > 10 else ""))
    return lines

