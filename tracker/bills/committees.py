"""Which committees hold a bill now, from its record alone: each committee's activities ("Referred
to", "Reported by", "Discharged from") and the bill's actions (a report the activities miss, the
chamber passing or ending the bill). Whom to call there is tracker/contacts.py's business.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from tracker.bills.stages import action_event
from tracker.records import Bill, BillCommittee, CommitteeActivity

_CODE = re.compile(r"^([HSJ][A-Z]{3})(\d{2})?$")
_ENDS = ("reported by", "reported original measure", "discharged from")
_LEAVES_CHAMBER = frozenset({"passed", "to_president", "enacted", "vetoed", "failed", "override"})
_REPORTED_TEXT = re.compile(r"(^|\.\s+)reported\b|\bdischarged\b", re.I)


def thomas_id(code: str | None) -> str | None:
    """The congress-legislators id of a committee from a thomas_id or a BILLSTATUS systemCode:
    "hsju00" → "HSJU", "hsju08" → "HSJU08" (congress-legislators' SOURCES.md mapping); None when
    `code` is neither."""
    match = _CODE.match((code or "").strip().upper())
    if not match:
        return None
    main, sub = match.groups()
    return main if sub in (None, "00") else f"{main}{sub}"


@dataclass(frozen=True)
class Holding:
    """A committee holding a bill now (see `committees_holding`)."""

    code: str  # thomas_id, "HSJU"
    name: str  # as BILLSTATUS names it
    chamber: str | None  # "House" | "Senate" (BILLSTATUS spelling)
    referred: str  # when the latest referral happened (BILLSTATUS timestamp)
    subcommittees: tuple[str, ...] = ()  # thomas_ids of its subcommittees holding it too


def _last(activities: Iterable[CommitteeActivity], names: tuple[str, ...]) -> str | None:
    dates = [str(a.get("date") or "") for a in activities if str(a.get("name") or "").lower().startswith(names)]
    return max((d for d in dates if d), default=None)


def _held(activities: Iterable[CommitteeActivity]) -> str | None:
    """The latest referral when no report or discharge came after it."""
    rows = list(activities)
    referred = _last(rows, ("referred to",))
    if referred is None:
        return None
    ended = _last(rows, _ENDS)
    return None if ended is not None and ended >= referred else referred


def _left_by_actions(bill: Bill, committee: BillCommittee, referred: str) -> bool:
    """Actions can say what the committee's activities miss: a report ("Reported (Amended) by the
    Committee on ...", not "Ordered to be Reported") or the chamber passing or ending the bill."""
    since = referred[:10]
    for action in bill.actions:
        if (action.get("date") or "") < since:
            continue
        if committee.get("name") in (action.get("committees") or []) and _REPORTED_TEXT.search(action.get("text") or ""):
            return True
        if action_event(action) in _LEAVES_CHAMBER and action.get("chamber") in (committee.get("chamber"), None):
            return True
    return False


def committees_holding(bill: Bill) -> list[Holding]:
    """Which committees hold a bill now: in the chamber of its latest referral, each committee whose
    latest "Referred to" has no later "Reported by" or "Discharged from" activity (and no later action
    reporting it or passing the bill in that chamber), with its subcommittees that hold it too.
    Committees stored without `code` and `activities` (snapshots of the first parser version) give
    an empty list, never a guess."""
    committees = [c for c in bill.committees if c.get("code") and c.get("activities")]
    referrals = [(c, r) for c in committees if (r := _last(c["activities"], ("referred to",)))]
    if not referrals:
        return []
    chamber = max(referrals, key=lambda pair: pair[1])[0].get("chamber")
    held = []
    for committee, _ in referrals:
        if committee.get("chamber") != chamber:
            continue
        referred = _held(committee["activities"])
        if referred is None or _left_by_actions(bill, committee, referred):
            continue
        code = thomas_id(committee.get("code"))
        if code is None:
            continue
        subs = sorted(sub_id for sub in committee.get("subcommittees") or []
                      if sub.get("code") and _held(sub.get("activities") or [])
                      and (sub_id := thomas_id(sub["code"])) is not None)
        held.append(Holding(code, committee.get("name") or code, chamber, referred, tuple(subs)))
    return sorted(held, key=lambda h: h.code)
