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
and its counts, which BILLSTATUS never gave.
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
    actions = _actions(_list(data, "actions"), info)
    origin = data.get("from_organization") if isinstance(data.get("from_organization"), dict) else {}
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


def _newest_first(rows: list[dict[str, Any]]) -> bool:
    """Whether a bill's actions, in the API's `order` (the order the state's page lists them, which
    the scraper keeps), run newest first, as Wyoming lists them: its actions of one day are then
    newest first too, and the last of them in `order` is the day's first ("S COW:Failed" is listed
    before the committee's "Recommend Do Pass" of that morning)."""
    dates = [str(r["date"])[:10] for r in sorted(rows, key=_order)]
    later = sum(a < b for a, b in itertools.pairwise(dates))
    earlier = sum(a > b for a, b in itertools.pairwise(dates))
    return earlier > later


def _order(row: dict[str, Any]) -> int:
    return row["order"] if isinstance(row.get("order"), int) else 0


def _actions(rows: list[Any], info: StateInfo) -> list[StateAction]:
    readable = [r for r in rows if isinstance(r, dict) and r.get("date") and r.get("description")]
    direction = -1 if _newest_first(readable) else 1
    readable.sort(key=lambda r: (str(r["date"])[:10], direction * _order(r)))
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

# Decisive steps some states' scrapers leave unclassified (`classification: []`), read by their
# words, per state, and only then: a classification Open States gave is never second-guessed. Each
# row names a real action (windy-civi/toolkit's 2025 snapshots of the scraped bills and the
# govbot-data `<state>-legislation` repositories' of 2025-2026, see
# tests/data/states/recorded/SOURCES.md). A `committee` group is the committee now holding the
# bill; a `chamber` group ("House", "Senate", "H", "S") is the chamber that acted where the action's
# organization is another. Left out on purpose, as they decide nothing an organizer can rely on:
# tabling (Delaware "Laid On Table in House" / "Tabled in Committee": lifted again, 17 "Lifted
# From Table" in 2025), Delaware "Not Worked in Committee" (still there), Rhode Island's "Committee
# recommended indefinite postponement" (every one of the three is the original set aside for a
# Substitute A held the same day, which went on to pass), Wyoming's "No report prior to CoW
# Cutoff" (its "Died in Committee" follows, classified), and Vermont's "Read third time and
# passed", which is classified (`reading-3`) and so is not read again here. Nor California's "In
# committee: Held under submission" (the suspense file's usual end, yet a two-year session's bill
# can be taken up in January), "Stricken from file" (returned to the file again) or "Withdrawn from
# committee" (out of one committee, into the next or onto the floor: no withdrawal of the bill);
# Minnesota's "Referred to Rules and Administration for comparison with SF#, now on General
# Orders" (a companion's comparison, the bill on the floor) and Colorado's "Introduced In Senate -
# Assigned to" with no committee named.
_RECOMMIT = "recommitted"  # not Open States' vocabulary: the floor sent a reported bill back
_KEEPS = "kept"  # not Open States' vocabulary: a "referral" within the committee that holds it
_FLOOR = "to the floor"  # not Open States' vocabulary: a "referral" to the whole chamber
_UNCLASSIFIED: tuple[tuple[str, re.Pattern[str], frozenset[str]], ...] = tuple(
    (state, re.compile(pattern, re.I), frozenset(kinds)) for state, pattern, kinds in (
        # Delaware SCR 1: "Passed In House by Voice Vote" (capital "In"; "Passed in House by Voice
        # Vote" is classified passage)
        ("de", r"^Passed In (?P<chamber>House|Senate) by Voice Vote$", {"passage"}),
        # Delaware HB 106: "Stricken in House". Delaware strikes a bill at its sponsor's request or
        # when a substitute takes its place (HB 98: "adopted in lieu of HB 98", then "Stricken in
        # House"); it is not taken up again. Told as withdrawn, not failed: no vote defeated it.
        # The bill's own line only: "Amendment HA 1 to HB 5 - Stricken in House" strikes an amendment
        ("de", r"^Stricken in (?P<chamber>House|Senate)$", {"withdrawal"}),
        # Rhode Island SB693: "03/12/2025 Committee transferred to Senate Finance"
        ("ri", r"\bCommittee transferred to (?P<committee>(?P<chamber>House|Senate) [^()]+?)$",
         {"referral-committee"}),
        # Rhode Island HB5602: "05/01/2025 House voted to recommit to House Education"
        ("ri", r"\b(?:House|Senate) voted to recommit to (?P<committee>(?P<chamber>House|Senate) [^()]+?)$",
         {"referral-committee", _RECOMMIT}),
        # Rhode Island SB307: "06/20/2025 Defeated in Committee" (a committee's reconsideration and
        # report after it clears the failure, as HB5643's did)
        ("ri", r"^(?:[\d/]+ )?Defeated in Committee$", {"committee-failure"}),
        # Rhode Island SR12: "01/28/2025 Defeated by Senate"
        ("ri", r"^(?:[\d/]+ )?Defeated by (?P<chamber>House|Senate)$", {"failure"}),
        # Wyoming SF0001: "S postponed indefinitely" (the motion that kills a bill there)
        ("wy", r"^(?P<chamber>[HS]) postponed indefinitely$", {"failure"}),
        # Wyoming SF0006: "Became Law without Signature"
        ("wy", r"^Became Law without Signature$", {"became-law"}),
        # Idaho H0444: "Rules Suspended: Ayes 70 Nays 0 Abs/Excd 0, read in full as required –
        # PASSED - 47-22-1 ..." (the Senate's like words are classified passage); H0449: "– FAILED"
        ("id", r"^Rules Suspended\b.*\bread in full as required\s*[–-]+\s*PASSED\b", {"passage"}),
        ("id", r"^Rules Suspended\b.*\bread in full as required\s*[–-]+\s*FAILED\b", {"failure"}),
        # Vermont HCR 1: "Adopted pursuant to Joint Rule 16b" (House), "Adopted in concurrence per
        # Joint Rule 16b" (Senate); "Read and adopted in concurrence"
        ("vt", r"^(?:Read and )?adopted(?: in concurrence)?(?: (?:pursuant to|per) Joint Rule \w+)?$", {"passage"}),
        # Vermont S 109: "House message: House passed bill in concurrence with proposal(s) of
        # amendment" (the Senate's record of the House's passage); SCR 1: "House message: House
        # adopted in concurrence"
        ("vt", r"^(?:House|Senate) message: (?P<chamber>House|Senate) (?:passed bill|adopted) in concurrence\b",
         {"passage"}),
        # Vermont H1: "Allowed to become law without the signature of the Governor on June 5, 2025"
        ("vt", r"^Allowed to become law without the signature of the Governor\b", {"became-law"}),
        # Vermont H 10: "Referred to Committee on Government Operations per Temporary Senate Rule
        # 44A"; S 109: "Pending entry on Notice Calendar, referred to Committee on Appropriations per
        # Rule 35(a)"
        ("vt", r"^(?:Pending entry on Notice Calendar, )?referred to (?:the )?Committee on (?P<committee>.+?) "
               r"per (?:Temporary )?(?:Senate )?Rule\b", {"referral-committee"}),
        # Vermont H 134: "Rep. Kornheiser of Brattleboro moved that the Committee on Ways and Means be
        # relieved of the bill and that the same be committed to the Committee on Agriculture, Food
        # Resiliency, and Forestry, which was agreed to"; S 64: "Committee on Health and Welfare
        # relieved; bill committed to Committee on Government Operations on motion of Senator Lyons"
        ("vt", r"\bbe relieved of the bill and that the same be (?:re)?committed to the Committee on "
               r"(?P<committee>.+?), which was agreed to$", {"referral-committee"}),
        ("vt", r"^Committee on .+? relieved(?: of further consideration of the bill)?; bill committed to "
               r"Committee on (?P<committee>.+?) on motion of\b", {"referral-committee"}),
        # Vermont H479: "Rep. Mihaly of Calais moved to commit the bill to the Committee on General
        # and Housing, which was agreed to"; S 125: "Committed to Committee on Economic Development,
        # Housing and General Affairs on motion of Senator Clarkson"; SR 16: "Recommitted to Committee
        # on Health and Welfare on motion of Senator Gulick". A motion "disagreed to" is not read.
        ("vt", r"\bmoved (?:to commit the bill|that the bill be (?:re)?committed) to the Committee on "
               r"(?P<committee>.+?), which was agreed to$", {"referral-committee", _RECOMMIT}),
        # Vermont H 230: "Rep. Satcowitz of Randolph reported for the Committee on Environment" (a
        # House committee's report, unclassified, 77 in 2025)
        ("vt", r"^Rep\. [^,]+? reported for the Committee on [^,]+$", {"committee-passage"}),
        ("vt", r"^(?:Rules suspended & bill )?(?:re)?committed to Committee on (?P<committee>.+?)"
               r"(?= with (?:the )?report of| on motion of|$)", {"referral-committee", _RECOMMIT}),
        # California AB 709 (2025-2026): "Enrolled and presented to the Governor at 4 p.m." (the
        # Governor's signature or veto follows, classified)
        ("ca", r"^Enrolled and presented to the Governor at\b", {"executive-receipt"}),
        # Colorado HB 1128 (2026): "House Committee on State, Civic, Military, & Veterans Affairs Postpone
        # Indefinitely" (the committee's vote that kills a bill there; its other reports are classified)
        ("co", r"^(?:House|Senate) Committee on .+ Postpone Indefinitely$", {"committee-failure"}),
        # Colorado HB 1137 (2026): "House Third Reading Lost - No Amendments"; HB 1054: "Senate Third
        # Reading Lost with Amendments - Floor" (a vote on the bill itself; "Committee of the Whole
        # Amendment - Change from Passed to Lost" changes an amendment's fate and is not read)
        ("co", r"^(?:House|Senate) (?:Second|Third) Reading (?:Special Order - )?(?:Lay on the Table-Deemed )?Lost\b",
         {"failure"}),
        # Connecticut HB 5001 (2026): "REF. BY HOUSE TO COMMITTEE ON Appropriations"; HB 5033: "FAV.
        # CHG. OF REF. HOUSE TO COMM. ON Appropriations" (the first committee's favourable report on a
        # change of reference, agreed: the bill goes to the second)
        ("ct", r"^(?:REF\. BY|FAV\. CHG\. OF REF\.,?) (?:HOUSE|SEN\.) TO COMM(?:ITTEE|\.) ON (?P<committee>.+)$",
         {"referral-committee"}),
        # New Jersey A1052 (222nd): "WITHDRAWN APP P.L.2025, c.244." (withdrawn, the same law having
        # been approved already)
        ("nj", r"^WITHDRAWN APP P\.L\.", {"withdrawal"}),
        # New Jersey S1193 (222nd): "Reported from Senate Committee as a Substitute, 2nd Reading"
        ("nj", r"^Reported from (?:Assembly|Senate) Committee as a Substitute\b", {"committee-passage"}),
        # New Mexico HB 10 (2026): "action postponed indefinitely", the Legislature's at the session's
        # end, on every bill that did not pass (or, as SB 100, whose chambers never agreed)
        ("nm", r"^action postponed indefinitely$", {"failure"}),
        # Ohio HB 159 (136th): "Reported - Amended - Re-referred to Rules and Reference" (the
        # committee the action names reported it, and it goes to the one its words name); HB 186:
        # "Reported - Substitute", "Reported"
        ("oh", r"^Reported(?: - (?:Substitute|Amended))* - Re-referred to (?P<committee>.+)$",
         {"committee-passage", "referral-committee"}),
        ("oh", r"^Reported(?: - (?:Substitute|Amended))*$", {"committee-passage"}),
        # Florida HB 1007 (2026): "Now in State Affairs Committee" (of the three its referral named the
        # same day, the one it is with now; "Now in Commerce Committee" after the first's report)
        ("fl", r"^Now in (?P<committee>.+?)(?: Committee)?$", {"referral-committee"}),
        # Florida SB 1234 (2026): "CS by Regulated Industries; YEAS 8 NAYS 0", "CS/CS by- Rules; YEAS
        # 18 NAYS 4" (a Senate committee reporting its substitute; "Favorable by" is classified)
        ("fl", r"^(?:CS/)*CS by-? .+?; YEAS \d+ NAYS \d+$", {"committee-passage-favorable"}),
        # Michigan SB 579 (2025-2026): "REASSIGNED TO COMMITTEE ON APPROPRIATIONS"; HB 4085:
        # "re-referred to Committee on Communications and Technology"; HB 4499: "per Rule 40 referred to
        # Committee on Appropriations"
        ("mi", r"^(?:REASSIGNED TO|re-referred to|per Rule \d+ referred to) Committee on (?P<committee>.+)$",
         {"referral-committee"}),
        # Michigan HB 4085: "motion to discharge committee approved", HB 4002: "DISCHARGE COMMITTEE
        # APPROVED" (out of committee onto the floor without its report)
        ("mi", r"^(?:motion to )?discharge committee approved$", {_FLOOR}),
        # Minnesota SF 2215 (2025-2026): "Withdrawn and re-referred to Human Services"; HF 1133: "Motion
        # to recall and re-refer, motion prevailed Elections Finance and Government Operations"; SF 4689:
        # "Pursuant to Senate Concurrent Resolution No. 6, referred to Rules and Administration"; HF
        # 1775: "Joint rule 2.03, Deadlines, re-referred to Rules and Legislative Administration"
        ("mn", r"^(?:Withdrawn and re-referred to|Motion to recall and re-refer, motion prevailed|Pursuant to "
               r"Senate Concurrent Resolution No\. \d+, referred to|Joint rule [\d.]+, Deadlines, re-referred to) "
               r"(?P<committee>.+)$", {"referral-committee"}),
        # Minnesota SF 1140: "Withdrawn and returned to author" (the bill withdrawn by its author;
        # "HF indefinitely postponed" sets a companion aside for the other chamber's file and is not
        # read, as New Jersey's "Substituted by A3318" is not: the companion carries the bill on)
        ("mn", r"^Withdrawn and returned to author$", {"withdrawal"}),
        # California AB 362 (2025-2026): "Withdrawn from committee." (out of the appropriations
        # committee onto the floor, "Ordered to second reading."; a re-referral follows when it goes
        # to another committee)
        ("ca", r"^Withdrawn from committee\.", {_FLOOR}),
        # Washington SB 5629 (2025-2026): "By resolution, returned to Senate Rules Committee for third
        # reading." (the House's, at the session's end: out of its committee, back with the Senate's
        # Rules Committee, which sets the floor's calendar)
        ("wa", r"^By resolution, returned to (?P<committee>(?P<chamber>House|Senate) Rules) Committee for third "
               r"reading\.$", {"referral-committee"}),
    ))
_CHAMBER_WORD = {"house": "lower", "h": "lower", "senate": "upper", "s": "upper"}
# Steps whose words say more than the classification Open States gave: (state, a kind it gave,
# the words, the kinds they add; none where they add only the committee they name). Nothing given
# is dropped. Vermont's passages are classified as the third reading alone: "Read third time and passed" (H 230), "Read 3rd time & passed in
# concurrence with proposal of amendment", "Read 3rd time & adopted" (about 190 actions in 2025;
# "Third Reading ordered" and "Read third time" pass nothing); its first readings name the
# committee the bill goes to, classified as the introduction alone: "Read first time and referred to
# the Committee on Judiciary", "Read 1st time & referred to Committee on Rules" (752 in 2025: 564
# bills read as introduced with no committee).
_COMPLETING: tuple[tuple[str, str, re.Pattern[str], frozenset[str]], ...] = tuple(
    (state, given, re.compile(pattern, re.I), frozenset(kinds)) for state, given, pattern, kinds in (
        ("vt", "reading-3", r"^Read (?:third|3rd) time (?:and|&) (?:passed|adopted)\b", {"passage"}),
        ("vt", "introduction", r"^(?:Committee bill )?read (?:first|1st) time(?:,? (?:and|&)? ?treated as a bill)?"
                               r"(?:,? (?:and|&)|;) referred to (?:the )?Committee on (?P<committee>.+?)$",
         {"referral-committee"}),
        # Vermont's Senate committees report amended bills as "Favorable report with proposal of
        # amendment by Committee on Finance", classified as the amendment alone (142 in 2025)
        ("vt", "amendment-introduction", r"^Favorable report with proposal of amendment by Committee on\b",
         {"committee-passage-favorable"}),
        # Washington's passages too are the third reading alone: "Third reading, passed; yeas, 96;
        # nays, 0; absent, 0; excused, 2." (HB 1009, 2025-2026; 1,728 in 2025-2026; its final
        # passage after concurrence is classified); a report to a second committee names it in a
        # line of its own, "And refer to Ways & Means." (HB 1068)
        ("wa", "reading-3", r"^Third reading, passed\b", {"passage"}),
        ("wa", "referral-committee", r"^And refer to (?P<committee>.+?)\.?$", set()),
        # California AB 1006: "In committee: Set, first hearing. Referred to suspense file." (the
        # appropriations committee's suspense file: still with that committee, not a committee
        # called "suspense file.")
        ("ca", "referral-committee", r"^In committee: (?:Set, (?:first|second) hearing\. )?Referred to suspense file\.$",
         {_KEEPS}),
        # Colorado HB 1128 (2026): "Introduced In House - Assigned to State, Civic, Military, & Veterans
        # Affairs", classified as the introduction alone ("+ Finance" names the next one)
        ("co", "introduction", r"^Introduced In (?:House|Senate) - Assigned to (?P<committee>[^+]+?)(?: \+ .*)?$",
         {"referral-committee"}),
        # Colorado HB 1069 (2026): "House Committee on Appropriations Refer Amended to House Committee of
        # the Whole", the committee's report to the floor: no committee holds the bill
        ("co", "referral-committee", r"\bRefer (?:Una|A)mended(?: - Consent Calendar)? to (?:House|Senate) "
                                     r"Committee of the Whole$", {_FLOOR}),
        # Connecticut HB 5001: "REF. TO JOINT COMM. ON Government Administration and Elections" (the
        # committee in words only)
        ("ct", "referral-committee", r"^REF\. TO JOINT COMM\. ON (?P<committee>.+)$", set()),
        # Minnesota SF 1209 (2025-2026): "Comm report: To pass as amended and re-refer to Finance";
        # SF 1961: "Comm report: To pass and re-referred to Finance"
        ("mn", "referral-committee", r"^Comm report: To pass(?: as amended)? and re-refer(?:red)? to "
                                     r"(?P<committee>.+)$", set()),
        # New Jersey A1008 (222nd): "Reported and Referred to Assembly Oversight, Reform and Federal
        # Relations Committee"; A1142: "Reported out of Assembly Committee with Amendments and Referred
        # to Assembly Appropriations Committee" (a report, classified as the referral alone)
        ("nj", "referral-committee", r"^Reported (?:out of (?:Assembly|Senate) Committee )?(?:with Amendments )?"
                                     r"and Referred to (?P<committee>(?:Assembly|Senate) .+?) Committee$",
         {"committee-passage"}),
        # New Jersey A3899: "Transferred to Assembly State and Local Government Committee"; A2524:
        # "Recommitted to Assembly Budget Committee" (from the floor: its report undone)
        ("nj", "referral-committee", r"^Transferred to (?P<committee>(?:Assembly|Senate) .+?) Committee$", set()),
        ("nj", "referral-committee", r"^Recommitted to (?P<committee>(?:Assembly|Senate) .+?) Committee$",
         {_RECOMMIT}),
        # New Mexico HB 10: "Sent to House Health & Human Services Committee & House Judiciary
        # Committee" (with the first it names now; "Sent to House Pre-file" names none)
        ("nm", "referral-committee", r"^Sent to (?P<committee>(?:House|Senate) .+? Committee)(?= &|$)", set()),
    ))
_JOINT_STANDING = {"ct"}  # standing committees are joint ones: Connecticut's "Judiciary", no chamber


def _kinds(action: StateAction, state: str) -> tuple[set[str], str | None, str | None]:
    """An action's classification; where Open States gave none, what its words decide in its state
    (`_UNCLASSIFIED`), with the committee and the chamber those words name."""
    given = set(action.get("classification") or [])
    if given:
        for where, needs, pattern, kinds in _COMPLETING:
            if where == state and needs in given and (match := pattern.search(action.get("text") or "")):
                return given | kinds, (match.groupdict().get("committee") or "").strip() or None, None
        return given, None, None
    text = action.get("text") or ""
    for where, pattern, kinds in _UNCLASSIFIED:
        match = pattern.search(text) if where == state else None
        if match:
            found = match.groupdict()
            chamber = _CHAMBER_WORD.get((found.get("chamber") or "").lower())
            return set(kinds), (found.get("committee") or "").strip() or None, chamber
    return set(), None, None


def derive_stage(actions: Sequence[StateAction], info: StateInfo,
                 origin: str | None = None) -> tuple[str, dict[str, Any] | None]:
    """The furthest stage reached (vetoed, failed and withdrawn replace it; a later passage or
    committee report clears a failure, as a reconsidered bill goes on), and the committee holding
    the bill now. `origin` is the chamber the bill comes from (the API's `from_organization`).

    A passage by the second chamber says the first passed it too: Open States leaves some first
    passages unclassified (Delaware's "Passed In House by Voice Vote", Vermont's "Read third time
    and passed"). The first chamber is the one the bill was first introduced in, by its actions,
    and only where `origin` (when given) agrees: Wyoming's Senate files all say they come from the
    House.

    An action Open States left unclassified counts by its words where they decide a step in its
    state (`_UNCLASSIFIED`: Wyoming's "S postponed indefinitely" fails a bill)."""
    furthest = "introduced"
    terminal: str | None = None
    passed: set[str] = set()
    overrides: set[str] = set()
    holding: dict[str, Any] | None = None
    bicameral = info.unicameral is None
    home = next((a.get("chamber") for a in actions if set(a.get("classification") or []) & {"introduction", "filing"}
                 and a.get("chamber") in ("upper", "lower")), None)
    if not bicameral or origin not in (None, home):
        home = None
    for action in actions:
        kinds, named, said = _kinds(action, info.abbr)
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
                holding = None
        if kinds & _REPORTED:
            steps.append("reported")
            holding = None
            if terminal == "failed":  # reconsidered in committee and reported: it goes on
                terminal = None
        if "referral-committee" in kinds and _KEEPS not in kinds:
            steps.append("referred")
            name = named or _first_named(action.get("committees") or [], action.get("text") or "") \
                or _committee_from_text(action.get("text") or "")
            holding = {"name": name, "chamber": role} if name else None
            if _RECOMMIT in kinds and furthest == "reported":  # back in committee, its report undone
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
        if "withdrawal" in kinds:
            terminal = "withdrawn"
        if (kinds & _ENDS_HOLDING and "referral-committee" not in kinds and not held) or _FLOOR in kinds:
            holding = None
        for step in steps:
            if furthest == "enacted":
                break
            if _RANK[step] > _RANK[furthest]:
                furthest = step
    return (terminal or furthest), (None if terminal or furthest == "enacted" else holding)


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
    if chamber and re.match(rf"(?:the\s+)?{re.escape(chamber)}\b", name, re.I):
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
    return {
        "introduced": f"was introduced in the {chamber}" if chamber else "was introduced",
        "reported": "came out of committee",
        "to_governor": f"went to the {info.executive}",
        "enacted": "became law",
        "vetoed": f"was vetoed by the {info.executive}",
        "failed": "failed",
        "withdrawn": "was withdrawn",
    }.get(stage, stage.replace("_", " "))


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
        return _short(f"{name} {stage_words(str(data.get('to')), bill.state, data.get('chamber'), data.get('committee'))}")
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


def _stage_chamber(bill: StateBill) -> str | None:
    """The chamber whose action made the bill's current stage (the latest passage, referral...)."""
    wanted = {"passed_upper": {"passage"}, "passed_lower": {"passage"}, "passed_both": {"passage"},
              "passed_legislature": {"passage"}, "referred": {"referral-committee"},
              "introduced": {"introduction", "filing"}}.get(bill.stage)
    for action in reversed(bill.actions):
        kinds, _, said = _kinds(action, bill.state)
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
        changes.append(Change(
            "bill.stage", entity, f"{name} {stage_words(new.stage, new.state, chamber, new.committee)}",
            dedupe_key(entity, "bill.stage", new.stage),
            {"from": old.stage, "to": new.stage, "state": new.state, "chamber": chamber,
             "committee": new.committee},
            url, (new.latest_action or {}).get("date")))
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
