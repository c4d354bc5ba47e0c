"""State bills as pure functions: read an Open States API v3 bill, derive its stage from the action
vocabulary, diff two states, say it in words, and the keyword rule. No database, no network: the
spider hands JSON in, the ingest worker stores the `StateBill` out.

The stages come from the action classifications openstates-core defines (`data/common.py`):
introduction -> referral-committee -> committee-passage -> passage by each chamber (the action's
organization) -> executive-receipt -> executive-signature / became-law; failure, committee-failure,
executive-veto and withdrawal end it; a veto-override-passage by every chamber makes it law. The
chambers are said as each state says them ("passed the Assembly", "the House of Delegates").

Changes reuse the federal `bill.*` kinds (a subscriber's `kinds = ["bill.stage"]` keeps meaning
"a bill moved", state or federal) with a `state` in their data, plus `bill.vote` for a recorded vote
and its counts, which BILLSTATUS never gave. A step from one committee to another (or to the
floor) that is no new stage is a `bill.stage` too, naming the committee (`diff_bill`).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tracker.changes import Change, ChangeLike, dedupe_key, lead_change
from tracker.records import STATE_STAGES, StateAction, StateBill, StateSponsor, StateVote
from tracker.safetext import json_loads
from tracker.stateactions import (
    FLOOR,
    KEEPS,
    RECOMMIT,
    RELIEVED,
    action_kinds,
    committee_called,
    committees_in_turn,
)

MAX_TITLE = 1000
MAX_TEXT = 2000
_RANK = {stage: i for i, stage in enumerate(STATE_STAGES)}
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class StateBillParseError(ValueError):
    """The answer is not a usable Open States bill; the message is one line for the operator."""


# -- the states and their chambers ----------------------------------------------------------------


@dataclass(frozen=True)
class StateInfo:
    """A state's name and its chambers' names and members' titles, as the state itself says them."""

    abbr: str
    name: str
    upper: str = "Senate"
    lower: str = "House"
    upper_title: str = "Senator"
    lower_title: str = "Representative"
    unicameral: str | None = None  # the one chamber's name (Nebraska, DC)
    executive: str = "Governor"  # who signs or vetoes: DC's Mayor

    def chamber(self, role: str | None) -> str | None:
        """The state's word for a chamber by its role (`upper`, `lower`, `legislature`)."""
        if self.unicameral and role in ("upper", "lower", "legislature"):
            return self.unicameral
        return {"upper": self.upper, "lower": self.lower, "executive": self.executive}.get(role or "")

    def title(self, role: str | None) -> str | None:
        if self.unicameral and role in ("upper", "lower", "legislature"):
            return self.upper_title
        return {"upper": self.upper_title, "lower": self.lower_title}.get(role or "")


_NAMES = {
    "al": "Alabama", "ak": "Alaska", "az": "Arizona", "ar": "Arkansas", "ca": "California", "co": "Colorado",
    "ct": "Connecticut", "de": "Delaware", "dc": "District of Columbia", "fl": "Florida", "ga": "Georgia",
    "hi": "Hawaii", "id": "Idaho", "il": "Illinois", "in": "Indiana", "ia": "Iowa", "ks": "Kansas",
    "ky": "Kentucky", "la": "Louisiana", "me": "Maine", "md": "Maryland", "ma": "Massachusetts",
    "mi": "Michigan", "mn": "Minnesota", "ms": "Mississippi", "mo": "Missouri", "mt": "Montana",
    "ne": "Nebraska", "nv": "Nevada", "nh": "New Hampshire", "nj": "New Jersey", "nm": "New Mexico",
    "ny": "New York", "nc": "North Carolina", "nd": "North Dakota", "oh": "Ohio", "ok": "Oklahoma",
    "or": "Oregon", "pa": "Pennsylvania", "pr": "Puerto Rico", "ri": "Rhode Island", "sc": "South Carolina",
    "sd": "South Dakota", "tn": "Tennessee", "tx": "Texas", "ut": "Utah", "vt": "Vermont", "va": "Virginia",
    "wa": "Washington", "wv": "West Virginia", "wi": "Wisconsin", "wy": "Wyoming",
}
# Where a state's names differ from Senate / House, Senator / Representative (Open States' own
# metadata, openstates-core `metadata/data`, names the organizations "House" even where the state
# says "House of Delegates": the state's own word is used here).
_DIFFERENT = {
    "ca": {"lower": "Assembly", "lower_title": "Assemblymember"},
    "nj": {"lower": "General Assembly", "lower_title": "Assembly Member"},
    "nv": {"lower": "Assembly", "lower_title": "Assembly Member"},
    "ny": {"lower": "Assembly", "lower_title": "Assembly Member"},
    "wi": {"lower": "Assembly"},
    "md": {"lower": "House of Delegates", "lower_title": "Delegate"},
    "va": {"lower": "House of Delegates", "lower_title": "Delegate"},
    "wv": {"lower": "House of Delegates", "lower_title": "Delegate"},
    "ne": {"unicameral": "Legislature"},
    "dc": {"unicameral": "Council", "upper_title": "Councilmember", "executive": "Mayor"},
}
STATES: dict[str, StateInfo] = {abbr: StateInfo(abbr, name, **_DIFFERENT.get(abbr, {}))  # type: ignore[arg-type]
                                for abbr, name in _NAMES.items()}


def state_info(abbr: str) -> StateInfo:
    """The state by its two letters (any case); an unknown one is named by its letters."""
    return STATES.get(abbr.lower()) or StateInfo(abbr.lower(), abbr.upper())


def state_of(jurisdiction_id: str) -> str | None:
    """`ocd-jurisdiction/country:us/state:co/government` -> `co`; DC's `district:dc` -> `dc`."""
    match = re.search(r"/(?:state|district|territory):([a-z]{2})(?:/|$)", jurisdiction_id or "")
    return match.group(1) if match else None


# -- reading an API bill ---------------------------------------------------------------------------


def _clean(text: Any, limit: int = MAX_TEXT) -> str:
    """Scraped text as it may go into alerts: NFC, no control characters, single spaces, capped."""
    if not isinstance(text, str) or not text:
        return ""
    text = " ".join(_CONTROL.sub(" ", unicodedata.normalize("NFC", text)).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def _short_hash(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:16]


def read_bill(data: bytes | str | dict[str, Any]) -> StateBill:
    """The typed record of one Open States v3 bill (a `/bills` result or a bill detail), read with
    whatever includes it has. StateBillParseError says what is wrong, in one line."""
    if isinstance(data, bytes | str):
        try:
            data = json_loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise StateBillParseError(f"not JSON: {str(exc)[:80]}") from None
    if not isinstance(data, dict):
        raise StateBillParseError("not an Open States bill (not a JSON object)")
    try:
        return _read_bill(data)
    except StateBillParseError:
        raise
    except (TypeError, AttributeError, ValueError) as exc:  # a field of a type the API never sends
        raise StateBillParseError(f"Open States bill {str(data.get('id') or '?')[:60]} has a field of the wrong "
                                  f"type ({type(exc).__name__}: {str(exc)[:80]})") from None


def _read_bill(data: dict[str, Any]) -> StateBill:
    """`read_bill` of a JSON object; a field of an unexpected type raises TypeError or the like."""
    jurisdiction = data.get("jurisdiction") if isinstance(data.get("jurisdiction"), dict) else {}
    state = state_of(str(jurisdiction.get("id") or ""))
    session, identifier = _clean(data.get("session"), 100), _clean(data.get("identifier"), 100)
    if not (state and session and identifier):
        raise StateBillParseError(f"Open States bill {str(data.get('id') or '?')[:60]} lacks its state, session "
                                  "or identifier")
    info = state_info(state)
    origin = data.get("from_organization") if isinstance(data.get("from_organization"), dict) else {}
    actions = _actions(_list(data, "actions"), info, origin.get("classification"))
    stage, committee = derive_stage(actions, info, origin.get("classification")
                                    if isinstance(origin.get("classification"), str) else None)
    latest = actions[-1] if actions else None
    abstracts = [a for a in _list(data, "abstracts") if isinstance(a, dict)]
    return StateBill(
        state=state, session=session, identifier=identifier,
        title=_clean(data.get("title"), MAX_TITLE) or identifier,
        stage=stage,
        chamber=origin.get("classification") if isinstance(origin.get("classification"), str) else None,
        url=_clean(data.get("openstates_url"), 500) or None,
        openstates_id=_clean(data.get("id"), 100) or None,
        classification=sorted({_clean(c, 100) for c in _list(data, "classification") if _clean(c, 100)}),
        subjects=sorted({_clean(s, 200) for s in _list(data, "subject") if _clean(s, 200)}),
        abstract=(_clean(abstracts[0].get("abstract")) or None) if abstracts else None,
        introduced=(_clean(data.get("first_action_date"), 40)[:10] or None)
        if data.get("first_action_date") else (actions[0]["date"] if actions else None),
        sponsors=_sponsors(_list(data, "sponsorships")),
        actions=actions,
        votes=_votes(_list(data, "votes"), info),
        committee=committee,
        latest_action={"date": latest["date"], "text": latest["text"]} if latest else None,
    )


def _list(row: dict[str, Any], key: str) -> list[Any]:
    """`row[key]`, a list (none: empty). Anything else is a field of the wrong type (TypeError: the
    bill's one line); a string would be read as its characters ("passage" as seven kinds of action
    naming none the stages know, the bill's passage unseen)."""
    value = row.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise TypeError(f"{key!r} is {type(value).__name__}, not a list")
    return value


# States whose scrapers list a bill's actions newest first (tests/data/states/recorded: Wyoming's
# every bill): what a bill whose actions all fall on one day is read as, its dates telling nothing.
_LISTED_NEWEST_FIRST = {"wy"}


def _newest_first(rows: list[dict[str, Any]], state: str) -> bool:
    """Whether a bill's actions, in the API's `order` (the order the state's page lists them, which
    the scraper keeps), run newest first, as Wyoming lists them: its actions of one day are then
    newest first too, and the last of them in `order` is the day's first ("S COW:Failed" is listed
    before the committee's "Recommend Do Pass" of that morning). Told by the dates; where they all
    fall on one day, by the state's way of listing them."""
    dates = [str(r["date"])[:10] for r in sorted(rows, key=_order)]
    later = sum(a < b for a, b in itertools.pairwise(dates))
    earlier = sum(a > b for a, b in itertools.pairwise(dates))
    return earlier > later if earlier or later else state in _LISTED_NEWEST_FIRST


def _order(row: dict[str, Any]) -> int:
    return row["order"] if isinstance(row.get("order"), int) else 0


# What the other chamber does first with a bill that has passed one: it has it only from then on
_ARRIVING = {"introduction", "reading-1", "referral-committee"}


def _chamber_of(row: dict[str, Any]) -> str | None:
    org = row.get("organization")
    role = org.get("classification") if isinstance(org, dict) else None
    return role if role in ("upper", "lower") else None


def _passage_first(rows: list[dict[str, Any]], origin: str) -> list[dict[str, Any]]:
    """The actions with, on a day the chamber the bill comes from (`origin`) passed it, the other
    chamber's taking it up (introduction, first reading, referral) after that passage, though listed
    before it: the other chamber has the bill only once it passed. New Mexico SB 274 (2026) lists
    "Sent to House Appropriations & Finance Committee" before "passed Senate" of the same day: read
    in that order, the passage took the bill out of the House committee it had just been sent to.
    (Not on a day the second chamber passed it: Delaware HCR 1 was introduced in the House, passed
    by it, unclassified, and by the Senate, all on one day.)"""
    out: list[dict[str, Any]] = []
    for _, grouped in itertools.groupby(rows, key=lambda r: str(r["date"])[:10]):
        day = list(grouped)
        passed = next((n for n, row in enumerate(day)
                       if _chamber_of(row) == origin and "passage" in _list(row, "classification")), 0)
        before = day[:passed]
        arriving = [_chamber_of(r) not in (None, origin) and set(_list(r, "classification")) <= _ARRIVING
                    and bool(_list(r, "classification")) for r in before]
        out += [r for r, moved in zip(before, arriving, strict=True) if not moved] + day[passed:passed + 1] \
            + [r for r, moved in zip(before, arriving, strict=True) if moved] + day[passed + 1:]
    return out


def _actions(rows: list[Any], info: StateInfo, origin: Any = None) -> list[StateAction]:
    readable = [r for r in rows if isinstance(r, dict) and r.get("date") and r.get("description")]
    direction = -1 if _newest_first(readable, info.abbr) else 1
    readable.sort(key=lambda r: (str(r["date"])[:10], direction * _order(r)))
    if origin in ("upper", "lower"):
        readable = _passage_first(readable, origin)
    actions: list[StateAction] = []
    seen: dict[str, int] = {}
    for row in readable:
        org = row.get("organization") if isinstance(row.get("organization"), dict) else {}
        role = org.get("classification") if isinstance(org.get("classification"), str) else None
        text = _clean(row["description"])
        date = _clean(row["date"], 40)[:10]
        identity = _short_hash(date, role, _norm(text))
        seen[identity] = seen.get(identity, 0) + 1
        if seen[identity] > 1:  # the same words twice on one day: both kept, told apart by count
            identity = f"{identity}-{seen[identity]}"
        committees = sorted({_clean(e.get("name"), 200) for e in _list(row, "related_entities")
                             if isinstance(e, dict) and e.get("entity_type") == "organization" and e.get("name")})
        actions.append({
            "id": identity, "date": date, "text": text,
            "classification": [c for c in _list(row, "classification") if isinstance(c, str)],
            "chamber": role, "chamber_name": info.chamber(role) or _clean(org.get("name"), 200) or None,
            "committees": committees,
        })
    return actions


def _sponsors(rows: list[Any]) -> list[StateSponsor]:
    sponsors: list[StateSponsor] = []
    for row in rows:
        if not isinstance(row, dict) or not row.get("name"):
            continue
        person = row.get("person") if isinstance(row.get("person"), dict) else {}
        role = person.get("current_role") if isinstance(person.get("current_role"), dict) else {}
        sponsors.append({
            "name": _clean(row["name"], 200),
            "person_id": _clean(person.get("id"), 100) or None,
            "entity_type": _clean(row.get("entity_type"), 40) or "person",
            "primary": bool(row.get("primary")),
            "classification": _clean(row.get("classification"), 60),
            "party": _clean(person.get("party"), 60) or None,
            "chamber": _clean(role.get("org_classification"), 40) or None,
            "district": _clean(str(role["district"]), 100) if role.get("district") not in (None, "") else None,
        })
    return sorted(sponsors, key=lambda s: (not s["primary"], s["name"].casefold(), s["person_id"] or ""))


def _votes(rows: list[Any], info: StateInfo) -> list[StateVote]:
    votes: list[StateVote] = []
    seen: dict[str, int] = {}
    for row in rows:
        if not isinstance(row, dict) or not row.get("start_date"):
            continue
        org = row.get("organization") if isinstance(row.get("organization"), dict) else {}
        role = org.get("classification") if isinstance(org.get("classification"), str) else None
        date = _clean(row["start_date"], 40)[:10]
        motion = _clean(row.get("motion_text"), 500)
        identity = _short_hash(date, role, _norm(motion), _clean(row.get("identifier"), 200))
        seen[identity] = seen.get(identity, 0) + 1
        if seen[identity] > 1:
            identity = f"{identity}-{seen[identity]}"
        counts = {}
        for count in _list(row, "counts"):
            if isinstance(count, dict) and isinstance(count.get("value"), int) and count.get("option"):
                counts[_clean(count["option"], 40)] = count["value"]
        votes.append({
            "id": identity, "date": date, "motion": motion,
            "classification": [c for c in _list(row, "motion_classification") if isinstance(c, str)],
            "result": _clean(row.get("result"), 40), "chamber": role,
            "chamber_name": info.chamber(role) or _clean(org.get("name"), 200) or None, "counts": counts,
        })
    return sorted(votes, key=lambda v: (v["date"], v["id"]))


# -- stages ------------------------------------------------------------------------------------------

_PASSED = {"upper": "passed_upper", "lower": "passed_lower", "legislature": "passed_legislature"}
_REPORTED = {"committee-passage", "committee-passage-favorable", "committee-passage-unfavorable",
             "reported-out-of-committee"}
_ENDS_HOLDING = {"passage", "failure", "committee-failure", "withdrawal", "executive-receipt",
                 "executive-signature", "became-law"}
# Rhode Island's committees "recommended measure be held for further study": Open States calls it
# committee-failure, yet the committee keeps the bill, and 648 of the 1,954 bills held so in 2025
# were recommended for passage later (tests/data/states/recorded/SOURCES.md): held, not failed
_HELD = re.compile(r"\bheld (?:in committee )?for further study\b", re.I)

_JOINT_STANDING = {"ct"}  # standing committees are joint ones: Connecticut's "Judiciary", no chamber


def derive_stage(actions: Sequence[StateAction], info: StateInfo,
                 origin: str | None = None) -> tuple[str, dict[str, Any] | None]:
    """The furthest stage reached and the committee holding the bill now (`_walk`)."""
    stage, holding, _ = _walk(actions, info, origin)
    return stage, holding


def state_chambers_passed(bill: StateBill) -> set[str]:
    """The chambers that passed a bill (`upper`, `lower`; `legislature` where there is one), read as
    its stage is: a passage known only by its words, or said by the other chamber's, counts (the
    digest's tracker bar read the classifications alone: a Vermont bill passed by both chambers and
    vetoed showed its House passage undone)."""
    return _walk(bill.actions, state_info(bill.state), bill.chamber)[2]


def _walk(actions: Sequence[StateAction], info: StateInfo,
          origin: str | None) -> tuple[str, dict[str, Any] | None, set[str]]:
    """The furthest stage reached (vetoed, failed and withdrawn replace it; a later passage or
    committee report clears a failure, as a reconsidered bill goes on), and the committee holding
    the bill now, with the chambers that passed it. `origin` is the chamber the bill comes from (the
    API's `from_organization`).

    A passage by the second chamber says the first passed it too: Open States leaves some first
    passages unclassified (Delaware's "Passed In House by Voice Vote", Vermont's "Read third time
    and passed"). The first chamber is the one the bill was first introduced in, by its actions,
    and only where `origin` (when given) agrees: Wyoming's Senate files all say they come from the
    House.

    An action Open States left unclassified counts by its words where they decide a step in its
    state (`stateactions`: Wyoming's "S postponed indefinitely" fails a bill). A referral naming
    committees in turn (`committees_in_turn`: New Mexico's) leaves the bill with the next after each
    report of its chamber that names none, as its next referral would say."""
    furthest = "introduced"
    terminal: str | None = None
    passed: set[str] = set()
    overrides: set[str] = set()
    holding: dict[str, Any] | None = None
    after: list[str] = []  # the committees the referral holding it names after the one that holds it
    bicameral = info.unicameral is None
    home = next((a.get("chamber") for a in actions if set(a.get("classification") or []) & {"introduction", "filing"}
                 and a.get("chamber") in ("upper", "lower")), None)
    if not bicameral or origin not in (None, home):
        home = None
    for action in actions:
        kinds, named, said = action_kinds(action, info.abbr)
        role = said or action.get("chamber")
        held = kinds & {"failure", "committee-failure"} == {"committee-failure"} \
            and bool(_HELD.search(action.get("text") or ""))
        steps: list[str] = []
        if kinds & {"introduction", "filing"}:
            steps.append("introduced")
            if bicameral and holding and role in ("upper", "lower") and holding.get("chamber") in ("upper", "lower") \
                    and role != holding["chamber"]:
                # taken up by the other chamber: out of this one's committee, whose passage Open States
                # may not mark (Vermont's "Read third time and passed" is `reading-3`)
                holding, after = None, []
        if kinds & _REPORTED:
            steps.append("reported")
            chamber = holding.get("chamber") if holding else None
            holding = {"name": after.pop(0), "chamber": role} if after and role == chamber else None
            if not holding:
                after = []
            if terminal == "failed":  # reconsidered in committee and reported: it goes on
                terminal = None
        if "referral-committee" in kinds and KEEPS not in kinds:
            steps.append("referred")
            name = named or _first_named(action.get("committees") or [], action.get("text") or "") \
                or _committee_from_text(action.get("text") or "")
            holding = {"name": name, "chamber": role} if name else None
            after = committees_in_turn(action, info.abbr)[1:] if holding else []
            if RECOMMIT in kinds and furthest == "reported":  # back in committee, its report undone
                furthest = "referred"
        if "passage" in kinds and role in _PASSED:
            passed.add("legislature" if not bicameral else role)
            if home and role in ("upper", "lower") and role != home:
                passed.add(home)  # the second chamber passes only what the first passed
            if terminal == "failed":
                terminal = None
            if bicameral and {"upper", "lower"} <= passed:
                steps.append("passed_both")
            else:
                steps.append(_PASSED["legislature" if not bicameral else role])
        if "executive-receipt" in kinds:
            steps.append("to_governor")
        if kinds & {"executive-signature", "became-law", "executive-veto-line-item"}:
            furthest, terminal = "enacted", None
        if "executive-veto" in kinds:
            terminal = "vetoed"
        if "veto-override-passage" in kinds:
            overrides.add(role or "?")
            if not bicameral or {"upper", "lower"} <= overrides or "legislature" in overrides:
                furthest, terminal = "enacted", None
        if kinds & {"failure", "committee-failure"} and not held:
            terminal = "failed"
        if "withdrawal" in kinds and RELIEVED not in kinds:
            terminal = "withdrawn"
        if (kinds & _ENDS_HOLDING and "referral-committee" not in kinds and not held) or FLOOR in kinds:
            holding, after = None, []
        for step in steps:
            if furthest == "enacted":
                break
            if _RANK[step] > _RANK[furthest]:
                furthest = step
    if holding:  # named as the state's committee list names it (California's "Com. on APPR.")
        holding = {**holding, "name": committee_called(str(holding["name"]), info.abbr, holding.get("chamber"))}
    return (terminal or furthest), (None if terminal or furthest == "enacted" else holding), passed


# a hyphen ends the name only after a space, and a number follows one only within a name: Washington's
# "Referred to Health & Long-Term Care.", "Referred to Early Learning & K-12 Education." ("Referred
# to Rules 2 Review." names none)
_REFERRED_TO = re.compile(r"\b(?:referred|assigned|re-?referred) to (?:the )?(?:committee (?:on|for) )?"
                          r"(?P<name>[A-Za-z&,' -]{3,80}?(?:(?<=-)\d+[A-Za-z&,' -]{0,60}?)?)(?:\s+committee)?"
                          r"(?:\s+-|\s*[;(.]|\s*$)", re.I)


def _first_named(committees: Sequence[str], text: str) -> str | None:
    """Of the committees a referral names, the one its words name first: "Referred to Judiciary and
    then Appropriations" is with Judiciary now (the stored list is in alphabetical order, whose
    first would be Appropriations). One its words do not name comes after, in the list's order."""
    def words(phrase: str) -> str:
        return f" {_norm(phrase.replace('&', ' and '))} "

    said = words(text)

    def place(name: str) -> tuple[int, int]:
        found = said.find(words(name))
        return (found if found >= 0 else len(said), committees.index(name))

    return min(committees, key=place, default=None)


def _committee_from_text(text: str) -> str | None:
    """A committee named only in an action's words ("referred to codes", "Assigned to Judiciary")."""
    match = _REFERRED_TO.search(text)
    if not match:
        return None
    name = match.group("name").strip()
    # as the state writes it when it capitalises it ("Senate Housing and Municipal Government",
    # not "... And ..."); capitalised only when it is all lower case ("referred to codes")
    return name if name != name.lower() else name.title()


# -- words --------------------------------------------------------------------------------------------


def label(bill: StateBill) -> str:
    """"Colorado SB 217"."""
    return f"{state_info(bill.state).name} {bill.identifier}"


# The chamber's word its committees' names start with, where it is not the chamber's own: New
# Jersey's General Assembly has "Assembly Appropriations", the Houses of Delegates "House ...".
_COMMITTEES_SAY = {"General Assembly": "Assembly", "House of Delegates": "House"}


def committee_label(committee: dict[str, Any] | None, state: str) -> str:
    """"the Senate Judiciary Committee"; a name that already says it ("Senate Committee on Ways and
    Means", "Joint Committee on the Judiciary") as it is; where there is one chamber, no chamber
    word ("the Judiciary Committee" in Nebraska, never "the Legislature Judiciary Committee")."""
    if not committee or not committee.get("name"):
        return "committee"
    name = str(committee["name"])
    info = state_info(state)
    chamber = None if info.unicameral or info.abbr in _JOINT_STANDING else info.chamber(committee.get("chamber"))
    if re.search(r"\bcommittee\b", name, re.I):
        return f"the {name}" if not name.lower().startswith("the ") else name
    said = (chamber, _COMMITTEES_SAY.get(chamber or "")) if chamber else ()
    if any(word and re.match(rf"(?:the\s+)?{re.escape(word)}\b", name, re.I) for word in said):
        chamber = None  # it says its chamber: Rhode Island's "referred to House Corporations"
    return f"the {chamber} {name} Committee" if chamber else f"the {name} Committee"


def stage_words(stage: str, state: str, chamber: str | None = None, committee: dict[str, Any] | None = None) -> str:
    """A stage as people say it, in the state's words: "passed the Assembly", "went to the Governor"
    (DC's Mayor)."""
    info = state_info(state)
    if stage in ("passed_upper", "passed_lower", "passed_legislature"):
        role = {"passed_upper": "upper", "passed_lower": "lower"}.get(stage, "legislature")
        return f"passed the {info.chamber(role)}"
    if stage == "passed_both":
        return f"passed the {chamber}, and so both chambers" if chamber else "passed both chambers"
    if stage == "referred":
        return f"was referred to {committee_label(committee, state)}" if committee else "was referred to committee"
    if stage == "reported" and committee:  # sent on to the next committee, which holds it now
        return f"came out of committee and was sent to {committee_label(committee, state)}"
    return {
        "introduced": f"was introduced in the {chamber}" if chamber else "was introduced",
        "reported": "came out of committee",
        "to_governor": f"went to the {info.executive}",
        "enacted": "became law",
        "vetoed": f"was vetoed by the {info.executive}",
        "failed": "failed",
        "withdrawn": "was withdrawn",
    }.get(stage, stage.replace("_", " "))


def stage_change_words(data: dict[str, Any], state: str) -> str:
    """A state bill's `bill.stage` change as people say it: its new stage (`stage_words`), or, for a
    bill that moved between committees without a new stage (`diff_bill`), "went to the Senate
    Appropriations Committee" / "came out of the Senate Appropriations Committee"; a bill that died
    in committee, "failed in the Senate Judiciary Committee"."""
    if data.get("to_committee"):
        return f"went to {committee_label(data.get('committee'), state)}"
    if data.get("out_of_committee"):
        return f"came out of {committee_label(data.get('committee'), state)}"
    if data.get("in_committee") and data.get("to") == "failed":
        return f"failed in {committee_label(data.get('committee'), state)}"
    return stage_words(str(data.get("to")), state, data.get("chamber"), data.get("committee"))


def where_it_stands(bill: StateBill) -> str:
    """A state bill's stage as people say it: "passed the Senate", "was referred to the House
    Judiciary Committee"."""
    return stage_words(bill.stage, bill.state, _stage_chamber(bill), bill.committee)


def vote_words(vote: dict[str, Any]) -> str:
    """"Senate vote 32-3 on Third Reading (passed)"."""
    counts = vote.get("counts") or {}
    tally = f"{counts.get('yes', 0)}-{counts.get('no', 0)}"
    result = {"pass": "passed", "fail": "failed"}.get(str(vote.get("result")), str(vote.get("result") or ""))
    where = f"{vote.get('chamber_name')} vote" if vote.get("chamber_name") else "Vote"
    motion = f" on {vote['motion']}" if vote.get("motion") else ""
    return f"{where} {tally}{motion}" + (f" ({result})" if result else "")


def headline(changes: Sequence[ChangeLike], bill: StateBill) -> str:
    """One line saying the most important of one state bill's changes: "Colorado SB 217 passed the
    Senate", "New York A 99901 found: ... (title matches "qualified immunity")"."""
    lead = lead_change(changes)
    same = [c for c in changes if c.kind == lead.kind]
    data = lead.data or {}
    name = label(bill)
    if lead.kind == "bill.stage":
        return _short(f"{name} {stage_change_words(data, bill.state)}")
    if lead.kind == "bill.introduced":
        where = _matched_words(data.get("matches") or [])
        return _short(f"{name} found: {bill.title}" + (f" ({where})" if where else ""))
    if lead.kind == "bill.vote":
        return _short(f"{name}: {vote_words(data)}")
    if lead.kind == "bill.action":
        newest = max(same, key=lambda c: c.occurred_at or "")
        text = (newest.data or {}).get("text") or newest.summary
        return _short(f"{name}: {text}" + (f" (and {len(same) - 1} more actions)" if len(same) > 1 else ""))
    if lead.kind in ("bill.cosponsor_added", "bill.cosponsor_withdrawn"):
        verb = "joined as a sponsor" if lead.kind == "bill.cosponsor_added" else "is no longer a sponsor"
        if len(same) == 1:
            return _short(f"{name}: {data.get('name') or 'a member'} {verb}")
        return f"{name}: {len(same)} sponsors " + ("joined" if lead.kind == "bill.cosponsor_added" else "left")
    if lead.kind == "bill.title":
        return _short(f"{name} is now titled: {data.get('to')}")
    return _short(lead.summary)


def _matched_words(matches: Iterable[dict[str, Any]]) -> str:
    parts = []
    for match in matches:
        where = "title" if match.get("where") == "title" else "text"
        parts.append(f"“{match.get('keyword')}” in its {where}")
    return "; ".join(parts)


def _short(text: str, limit: int = 150) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- diff ----------------------------------------------------------------------------------------------


def _sponsor_key(sponsor: StateSponsor) -> str:
    return sponsor.get("person_id") or f"name:{_norm(sponsor.get('name') or '')}"


def _unmatched(these: Sequence[StateSponsor], those: Sequence[StateSponsor]) -> dict[str, StateSponsor]:
    """The sponsors of `these` not among `those`, by key: the same person id, or the same name where
    one of the two has no person id (Open States links a sponsorship to its person some time after
    it is scraped: the sponsor did not leave and join again)."""
    ids = {s.get("person_id") for s in those if s.get("person_id")}
    names = {_norm(s.get("name") or "") for s in those}
    unlinked = {_norm(s.get("name") or "") for s in those if not s.get("person_id")}
    out: dict[str, StateSponsor] = {}
    for sponsor in these:
        person, named = sponsor.get("person_id"), _norm(sponsor.get("name") or "")
        if not ((person in ids or named in unlinked) if person else named in names):
            out.setdefault(_sponsor_key(sponsor), sponsor)
    return out


def _sponsor_data(sponsor: StateSponsor, state: str, date: str | None) -> dict[str, Any]:
    return {"name": sponsor.get("name"), "bioguide_id": None, "person_id": sponsor.get("person_id"),
            "party": sponsor.get("party"), "state": state, "chamber": sponsor.get("chamber"),
            "district": sponsor.get("district"), "primary": sponsor.get("primary"),
            "classification": sponsor.get("classification"), "date": date}


def _committee_step(old: StateBill, new: StateBill) -> dict[str, Any] | None:
    """How the committee holding the bill changed between two states of one stage (`diff_bill`):
    `to_committee` (another committee holds it now), `out_of_committee` (none does: reported to
    the floor), or None (the same one, or none before and after)."""
    def held(bill: StateBill) -> tuple[str, str | None] | None:
        return (str(bill.committee["name"]), bill.committee.get("chamber")) \
            if bill.committee and bill.committee.get("name") else None

    before, now = held(old), held(new)
    if now == before:
        return None
    if now is not None:
        return {"to_committee": True, "committee": new.committee}
    return {"out_of_committee": True, "committee": old.committee}


def _stage_chamber(bill: StateBill) -> str | None:
    """The chamber whose action made the bill's current stage (the latest passage, referral...)."""
    wanted = {"passed_upper": {"passage"}, "passed_lower": {"passage"}, "passed_both": {"passage"},
              "passed_legislature": {"passage"}, "referred": {"referral-committee"},
              "introduced": {"introduction", "filing"}}.get(bill.stage)
    for action in reversed(bill.actions):
        kinds, _, said = action_kinds(action, bill.state)
        if wanted and wanted & kinds:
            return state_info(bill.state).chamber(said) if said else action.get("chamber_name")
    return None


def diff_bill(old: StateBill | None, new: StateBill, entity: str,
              matches: Sequence[KeywordMatch] = ()) -> list[Change]:
    """What a human wants to hear about between two states of one state bill. A first sight (old is
    None) is `bill.introduced`, saying where a keyword watch matched it."""
    name, url = label(new), new.url
    if old is None:
        found = [{"keyword": m.keyword, "where": m.where} for m in matches] or list(new.matches)
        data = {"state": new.state, "matches": found}
        where = _matched_words(found)
        return [Change("bill.introduced", entity, f"{name} found: {new.title}" + (f" ({where})" if where else ""),
                       dedupe_key(entity, "bill.introduced"), data, url, new.introduced)]
    changes: list[Change] = []
    old_actions = {a["id"] for a in old.actions}
    for action in new.actions:
        if action["id"] in old_actions:
            continue
        changes.append(Change(
            "bill.action", entity, f"{name}: {action['text']}", dedupe_key(entity, "bill.action", action["id"]),
            {"date": action["date"], "code": None, "text": action["text"], "chamber": action.get("chamber_name"),
             "classification": action.get("classification") or [], "state": new.state},
            url, action["date"]))
    old_votes = {v["id"] for v in old.votes}
    for vote in new.votes:
        if vote["id"] in old_votes:
            continue
        data = {"date": vote["date"], "chamber": vote.get("chamber_name"), "motion": vote.get("motion"),
                "result": vote.get("result"), "counts": dict(vote.get("counts") or {}), "state": new.state}
        changes.append(Change("bill.vote", entity, f"{name}: {vote_words({**vote})}",
                              dedupe_key(entity, "bill.vote", vote["id"]), data, url, vote["date"]))
    if old.stage != new.stage and new.stage:
        chamber = _stage_chamber(new)
        data = {"from": old.stage, "to": new.stage, "state": new.state, "chamber": chamber, "committee": new.committee}
        if new.stage == "failed" and old.committee and any(
                "committee-failure" in action_kinds(action, new.state)[0]
                for action in new.actions if action["id"] not in old_actions):
            data.update(committee=old.committee, in_committee=True)  # died where it was held: whom to hold to account
        changes.append(Change(
            "bill.stage", entity, f"{name} {stage_change_words(data, new.state)}",
            dedupe_key(entity, "bill.stage", new.stage), data, url, (new.latest_action or {}).get("date")))
    elif new.stage and (step := _committee_step(old, new)):
        # no new stage, yet the bill moved: the other chamber's committee took it up after its
        # passage, a committee sent it on to another, or out to the floor. Said as a stage, so a
        # subscriber to stages alone (`kinds = ["bill.stage"]`) hears which committee to call now.
        data = {"from": old.stage, "to": new.stage, "state": new.state, "chamber": _stage_chamber(new), **step}
        when = (new.latest_action or {}).get("date")
        held = step["committee"] or {}
        changes.append(Change(
            "bill.stage", entity, f"{name} {stage_change_words(data, new.state)}",
            dedupe_key(entity, "bill.stage", new.stage, next(iter(step)), held.get("name"), held.get("chamber"), when),
            data, url, when))
    noticed = (new.latest_action or {}).get("date")  # Open States gives no sponsorship dates
    for key, sponsor in _unmatched(new.sponsors, old.sponsors).items():
        changes.append(Change(
            "bill.cosponsor_added", entity, f"{name}: {sponsor.get('name')} joined as a sponsor",
            dedupe_key(entity, "bill.cosponsor_added", key, noticed),
            _sponsor_data(sponsor, new.state, None), url, None))
    for key, sponsor in _unmatched(old.sponsors, new.sponsors).items():
        changes.append(Change(
            "bill.cosponsor_withdrawn", entity, f"{name}: {sponsor.get('name')} is no longer a sponsor",
            dedupe_key(entity, "bill.cosponsor_withdrawn", key, noticed),
            _sponsor_data(sponsor, new.state, None), url, None))
    if old.title and new.title and old.title != new.title:
        changes.append(Change("bill.title", entity, f"{name} is now titled: {new.title}",
                              dedupe_key(entity, "bill.title", old.title, new.title),
                              {"from": old.title, "to": new.title, "state": new.state}, url, None))
    return changes


# -- the keyword rule ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeywordMatch:
    """Where a keyword watch found a bill: `title` (the phrase is in the title) or `text` (only the
    API's full-text search over the bill's text found it)."""

    keyword: str
    where: str  # title | text


def phrase_pattern(phrase: str) -> re.Pattern[str]:
    """The phrase as whole words in order, any case, anything but letters and digits between them
    ("Qualified Immunity", "qualified-immunity"; never "disqualified immunity" nor the words apart)."""
    words = re.findall(r"\w+", phrase)
    if not words:
        raise ValueError(f"keyword {phrase!r} has no words")
    return re.compile(r"(?<!\w)" + r"\W+".join(map(re.escape, words)) + r"(?!\w)", re.I)


def in_title(title: str, phrase: str) -> bool:
    return bool(phrase_pattern(phrase).search(title or ""))


def keyword_matches(title: str, keywords: Iterable[str], found_by_text: Iterable[str] = ()) -> list[KeywordMatch]:
    """The keyword rule: a keyword matches when its phrase is in the title; else when the API's
    text search for it (`search_query`) returned the bill, which is reported as a text match."""
    by_text = {k.casefold() for k in found_by_text}
    out = []
    for keyword in keywords:
        if in_title(title, keyword):
            out.append(KeywordMatch(keyword, "title"))
        elif keyword.casefold() in by_text:
            out.append(KeywordMatch(keyword, "text"))
    return out


def search_query(keyword: str) -> str:
    """The `q` to send for a keyword: the phrase in double quotes. Unquoted, the API's
    `websearch_to_tsquery` finds the words anywhere ("immunity ... qualified" too), and a keyword
    that starts like a bill number ("911 calls") is taken for an identifier."""
    return '"' + " ".join(keyword.replace('"', " ").split()) + '"'


# -- the API's clock and cursors -------------------------------------------------------------------


def since_param(instant: datetime) -> str:
    """`updated_since` as the API reads it everywhere: UTC, `YYYY-MM-DD HH:MM:SS` (no `T`, no zone
    suffix: `fromisoformat` before Python 3.11, which the API long ran on, refused a `Z`)."""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


BILL_INCLUDES = ("actions", "sponsorships", "votes", "abstracts", "sources", "versions")
PER_PAGE = 20  # the API's most


def bills_query(state: str | None, *, since: datetime | None = None, session: str | None = None,
                keyword: str | None = None, identifiers: Sequence[str] = (), page: int = 1) -> list[tuple[str, str]]:
    """The parameters of one `/bills` request, oldest update first so a run stopped by the budget or
    a 429 resumes from the last bill it read: `include=` once per value (a comma-joined list is a
    422), 20 a page, `updated_since` in the form every version of the API reads. No state: every
    state at once (a keyword search needs no jurisdiction); `identifiers`: named bills (at most 20)."""
    params = [("jurisdiction", state.lower())] if state else []
    if session:
        params.append(("session", session))
    params += [("identifier", api_identifier(identifier)) for identifier in identifiers]
    if since is not None:
        params.append(("updated_since", since_param(since)))
    if keyword:
        params.append(("q", search_query(keyword)))
    params += [("sort", "updated_asc"), *(("include", name) for name in BILL_INCLUDES),
               ("per_page", str(PER_PAGE)), ("page", str(page))]
    return params


def api_identifier(number: str) -> str:
    """A bill number as Open States stores it ("HB 1234"), from a watch's way of writing it: "H.B.
    1234" and "S.2963" too. The API only adds the space and drops leading zeros; it keeps the dots
    ("S. 2963", which is no bill), so a number written with them was never found."""
    match = re.fullmatch(r"\s*([A-Za-z][A-Za-z. ]*?)[\s.]*0*(\d+)\s*([A-Za-z]?)\s*", number)
    if not match:
        return number
    return f"{re.sub(r'[^A-Za-z]', '', match.group(1)).upper()} {match.group(2)}{match.group(3).upper()}"


def read_instant(text: str) -> datetime:
    """An API timestamp (`2020-06-08T23:11:05.523481+00:00`, or a naive `latest_bill_update`,
    which is UTC) as an aware instant."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def latest_updates(body: bytes | str | dict[str, Any]) -> dict[str, datetime]:
    """Each state's `latest_bill_update` from a `/jurisdictions` answer, by its two letters."""
    data = json_loads(body) if not isinstance(body, dict) else body
    out = {}
    rows = data.get("results") if isinstance(data.get("results"), list) else []
    for row in rows:
        if not isinstance(row, dict):  # not a jurisdiction: the others are still read
            continue
        abbr = state_of(str(row.get("id") or ""))
        if abbr and row.get("latest_bill_update"):
            try:
                out[abbr] = read_instant(str(row["latest_bill_update"]))
            except ValueError:
                continue
    return out


def states_to_read(latest: dict[str, datetime], cursors: dict[str, datetime], wanted: Iterable[str]) -> list[str]:
    """The watched states whose bills moved since we last read them (no cursor yet: read)."""
    return sorted(s for s in {w.lower() for w in wanted}
                  if s in latest and (s not in cursors or latest[s] > cursors[s]))
