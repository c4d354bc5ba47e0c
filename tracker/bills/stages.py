"""A bill's stage from its actions: what each action means (codes first, then words), the furthest
stage reached, and which chambers passed it. Pure functions of the record's actions."""

from __future__ import annotations

import re

from tracker.records import STAGES, Bill, BillAction, Law

_RANK = {stage: i for i, stage in enumerate(STAGES)}
_LOC_STAGE = {
    "1000": "introduced", "10000": "introduced",
    "2000": "referred", "11000": "referred",
    "5000": "reported", "14000": "reported",
    "8000": "passed", "17000": "passed",
    "28000": "to_president",
    "36000": "enacted",
    "31000": "vetoed",
    "9000": "failed", "18000": "failed",
}
# House action codes by prefix (the codes are `H11100`, `Intro-H`...).
_CHAMBER_STAGE = [
    (("Intro-H", "Intro-S"), "introduced"),
    (("H11100",), "referred"),
    (("H12100", "H12200", "H12300"), "reported"),
    (("H37100", "H37300"), "passed"),
    (("E20000",), "to_president"),
    (("E40000",), "enacted"),
    # E30000 is used both for "Signed by President" and "Vetoed by President": text decides.
]
# The first pattern that matches an action's text says its stage. Each comes with words every one of
# its matches contains: a pattern is tried only when its words are in the text (most actions are
# referrals and reports: nine searches an action became one or two).
_TEXT_STAGE = [
    (("became", "signed by"),
     re.compile(r"\bbecame (public|private) law\b|\bsigned by (the )?president\b", re.I), "enacted"),
    (("vetoed",), re.compile(r"\bpocket vetoed\b|\bvetoed by (the )?president\b", re.I), "vetoed"),
    (("veto",),
     re.compile(r"\bpassed (house|senate)? ?over (the )?(president's )?veto\b|\bover veto\b.*\b(passed|agreed)\b", re.I),
     "override"),
    (("presented to",), re.compile(r"\bpresented to (the )?president\b", re.I), "to_president"),
    (("failed", "not agreed"),
     re.compile(r"\bfailed of passage\b|\bon passage failed\b|\bresolution (was )?not agreed to\b", re.I), "failed"),
    # Passage of the measure itself; "Motion to proceed ... agreed to" or "Motion to table ... agreed
    # to" are procedural and must not count.
    (("passed", "agreed to"),
     re.compile(r"^(passed|agreed to|resolution agreed to)\b|\bpassed/agreed to in (house|senate)\b"
                r"|\bon passage passed\b|\bon agreeing to the (resolution|conference report) agreed to\b"
                r"|\bon motion to suspend the rules and (pass|agree to)[^.]*agreed to\b", re.I), "passed"),
    (("reported",),
     re.compile(r"\breported (by|to|with|without|favorably|an original)\b|\bordered to be reported\b"
                r"|\bcommittee on [^.]* reported\b", re.I), "reported"),
    (("referred",), re.compile(r"\breferred to\b|\bread twice and referred\b", re.I), "referred"),
    (("introduc",), re.compile(r"\bintroduced in (house|senate)\b|\bsponsor introductory remarks\b", re.I),
     "introduced"),
]


def action_event(action: BillAction) -> str | None:
    """What an action means for the stage, from codes first, then text."""
    events = []
    for code in action.get("codes") or ([only] if (only := action.get("code")) else []):
        if code in _LOC_STAGE:
            events.append(_LOC_STAGE[code])
        for prefixes, event in _CHAMBER_STAGE:
            if code.startswith(prefixes):
                events.append(event)
    text = action.get("text") or ""
    folded = text.casefold()  # what re.I matches, for the word checks
    for words, pattern, event in _TEXT_STAGE:
        if any(word in folded for word in words) and pattern.search(text):
            events.append(event)
            break
    if "override" in events:
        return "override"
    for terminal in ("enacted", "vetoed", "failed"):
        if terminal in events:
            return terminal
    ranked = [e for e in events if e in ("to_president", "passed", "reported", "referred", "introduced")]
    order = ["to_president", "passed", "reported", "referred", "introduced"]
    return min(ranked, key=order.index) if ranked else None


def chambers_passed(bill: Bill) -> set[str]:
    """The chambers whose passage of the measure itself its actions record."""
    return {chamber for a in bill.actions if (chamber := a.get("chamber")) and action_event(a) == "passed"}


def derive_stage(bill_type: str, actions: list[BillAction], laws: list[Law]) -> str:
    """The furthest stage reached; vetoed and failed replace it; an override or a law is enacted."""
    furthest = "introduced"
    terminal: str | None = None
    passed: set[str] = set()
    overrides: set[str] = set()
    single_chamber = bill_type in ("hres", "sres")
    for action in actions:
        event = action_event(action)
        chamber = action.get("chamber")
        if event is None:
            continue
        if event == "enacted":
            furthest, terminal = "enacted", None
        elif event == "vetoed":
            terminal = "vetoed"
        elif event == "override":
            overrides.add(chamber or "?")
            if len(overrides) >= 2 or "?" in overrides:
                furthest, terminal = "enacted", None
        elif event == "failed":
            terminal = "failed"
        elif event == "passed":
            if chamber:
                passed.add(chamber)
            terminal = None if terminal == "failed" else terminal
            if passed >= {"House", "Senate"} and not single_chamber:
                step = "passed_both"
            elif chamber == "Senate":
                step = "passed_senate"
            else:
                step = "passed_house"
            if _RANK[step] > _RANK[furthest] or (step == "passed_senate" and furthest == "passed_house"):
                furthest = "passed_both" if (furthest == "passed_house" and step == "passed_senate"
                                             and not single_chamber) else step
        elif _RANK[event] > _RANK[furthest]:
            furthest = event
    if laws:
        return "enacted"
    return terminal or furthest
