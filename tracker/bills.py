"""Federal bills as pure functions: parse GovInfo BILLSTATUS XML (both schemas), derive the stage,
diff two states, match titles.

The normalized bill is the snapshot content: canonical JSON is hashed, so it holds no volatile
fields (no updateDate, no fetch time) and its lists are in a deterministic order. The legacy schema
(no `billStatus/version`, `bill/billNumber`) and v3 (`billStatus/version` 3.x, `bill/number`) give
the same facts, so a schema switch upstream is not news.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Any

from lxml import etree

from tracker.billnumbers import BILL_TYPES, BillNumber
from tracker.changes import Change, dedupe_key
from tracker.records import STAGES, Bill, Person
from tracker.safexml import parse_xml
from tracker.words import STAGE_WORDS, bill_label

_RANK = {stage: i for i, stage in enumerate(STAGES)}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACE = re.compile(r"\s+")


class BillParseError(ValueError):
    """The file is not a usable BILLSTATUS document; the message is one line for the operator."""


def clean(text: str | None) -> str:
    """Strip control characters and collapse white space (scraped text goes into alerts)."""
    if not text:
        return ""
    if text.isascii() and text.isprintable() and "  " not in text:
        return text.strip()  # the common case, ten times cheaper
    return _SPACE.sub(" ", _CONTROL.sub("", unicodedata.normalize("NFC", text))).strip()


def _text(node: etree._Element | None, path: str) -> str | None:
    if node is None:
        return None
    value = clean(node.findtext(path))
    return value or None


def _fields(node: etree._Element) -> dict[str, str | None]:
    """A node's child elements' texts by tag, the first of each tag, as `findtext` would read them:
    one pass over the children instead of one search per field (a bill has thousands of fields)."""
    fields: dict[str, str | None] = {}
    for child in node:
        tag = child.tag
        if isinstance(tag, str) and tag not in fields:
            fields[tag] = child.text or ""
    return fields


def _field(fields: dict[str, str | None], tag: str) -> str | None:
    """One field of `_fields`, cleaned; None when absent or empty (as `_text`)."""
    return clean(fields.get(tag)) or None


# -- parsing ----------------------------------------------------------------------------------


def _safe_root(data: bytes) -> etree._Element:
    root = parse_xml(data, BillParseError, "a BILLSTATUS document", layout_only_blanks=True)
    if root.tag != "billStatus":
        raise BillParseError(f"not a BILLSTATUS document (root element {root.tag!r})")
    return root


def _action_chamber(source: str | None, code: str | None) -> str | None:
    name = (source or "").lower()
    if "house" in name:
        return "House"
    if "senate" in name:
        return "Senate"
    if not code:
        return None
    if code.isdigit():
        number = int(code)
        return "House" if number < 10000 else "Senate" if number < 20000 else None
    if code.startswith(("H", "Intro-H")):
        return "House"
    if code.startswith(("S", "Intro-S")):
        return "Senate"
    return None


def _is_loc(source: str | None, code: str | None) -> bool:
    """A Library of Congress row repeating another: numeric code (or no code from LOC). Executive
    rows (E20000, E40000) also come from LOC but are the primary record of their event."""
    if code:
        return code.isdigit()
    return "library of congress" in (source or "").lower()


def _norm_text(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


# LOC rows often restate a chamber action behind a label: "Passed/agreed to in Senate: Passed
# Senate ...", "Resolving differences -- House actions: On motion ...".
_LOC_LABEL = re.compile(r"^[A-Za-z/ ,-]{6,60}:\s+(?=\S)")


# ...and chamber rows often add a Congressional Record reference the LOC row lacks: "(text: CR H6815)".
_TRAILING_REFERENCE = re.compile(r"\s*\((text|consideration|text of [^:]*|CR)[^()]*\)\s*$", re.I)


def _merge_key(text: str) -> str:
    return _norm_text(_TRAILING_REFERENCE.sub("", text))


def _loc_keys(text: str) -> list[str]:
    keys = [_merge_key(text)]
    stripped = _LOC_LABEL.sub("", text, count=1)
    if stripped != text:
        keys.append(_merge_key(stripped))
    return keys


def _raw_actions(bill: etree._Element) -> list[dict[str, Any]]:
    rows = []
    items = bill.findall("actions/item")
    for position, item in enumerate(items):
        committees = [clean(n.text) for n in item.findall("committees/item/name") if clean(n.text)]
        legacy = _text(item, "committee/name")
        if legacy:
            committees.append(legacy)
        fields = _fields(item)
        code = _field(fields, "actionCode")
        source = _text(item, "sourceSystem/name")
        rows.append({
            "date": (_field(fields, "actionDate") or "")[:10],
            "time": _field(fields, "actionTime"),
            "code": code,
            "text": _field(fields, "text") or "",
            "type": _field(fields, "type"),
            "source": source,
            "committees": sorted(set(committees)),
            "chamber": _action_chamber(source, code),
            # Files list newest first; a higher position is older among equal dates and times.
            "order": len(items) - position,
        })
    return rows


def _merge_actions(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Merge each Library of Congress row into the chamber row it repeats (same date and text)."""
    chamber_rows = [r for r in rows if not _is_loc(r["source"], r["code"])]
    loc_rows = [r for r in rows if _is_loc(r["source"], r["code"])]
    merged = [dict(r, codes=[r["code"]] if r["code"] else []) for r in chamber_rows]
    index: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in merged:
        index.setdefault((row["date"], _merge_key(row["text"])), []).append(row)
    for loc in loc_rows:
        twins = [r for key in _loc_keys(loc["text"]) for r in index.get((loc["date"], key), [])
                 if not r.get("_has_loc")]
        if twins:
            twin = twins[0]
            twin["_has_loc"] = True
            if loc["code"] and loc["code"] not in twin["codes"]:
                twin["codes"].append(loc["code"])
            if twin["chamber"] is None:
                twin["chamber"] = loc["chamber"]
        else:
            merged.append(dict(loc, codes=[loc["code"]] if loc["code"] else []))
    merged.sort(key=lambda r: (r["date"], r["time"] or "", r["order"]))
    actions = []
    seen: dict[str, int] = {}
    for row in merged:
        identity = hashlib.sha256(
            repr((row["date"], row["time"] or "", _norm_text(row["text"]), row["committees"])).encode()
        ).hexdigest()[:16]
        seen[identity] = seen.get(identity, 0) + 1
        if seen[identity] > 1:  # the very same event listed twice: keep both, told apart by order
            identity = f"{identity}-{seen[identity]}"
        actions.append({
            "id": identity,
            "date": row["date"],
            "time": row["time"],
            "code": row["code"],
            "codes": sorted(row["codes"]),
            "text": row["text"],
            "chamber": row["chamber"],
            "committees": row["committees"],
            "type": row["type"],
        })
    return actions


def _person(fields: dict[str, str | None]) -> dict[str, Any]:
    return {
        "name": _field(fields, "fullName"),
        "bioguide_id": _field(fields, "bioguideId"),
        "party": _field(fields, "party"),
        "state": _field(fields, "state"),
        "district": _field(fields, "district"),
    }


def _activities(node: etree._Element) -> list[dict[str, str]]:
    rows = [{"name": _text(item, "name"), "date": (_text(item, "date") or "")} for item in node.findall("activities/item")]
    return sorted(({"name": r["name"], "date": r["date"]} for r in rows if r["name"] and r["date"]),
                  key=lambda a: (a["date"], a["name"]))


def _committees(bill: etree._Element) -> list[dict[str, Any]]:
    """The committees a bill went to (v3 `committees/item`, legacy `committees/billCommittees/item`),
    with their codes (`hsju00`: how congress-legislators names them) and activities (referred,
    reported, discharged...), which say who holds the bill now."""
    committees = []
    for item in bill.findall("committees/item") + bill.findall("committees/billCommittees/item"):
        name = _text(item, "name")
        if not name:
            continue
        subcommittees = [
            {"name": _text(sub, "name") or "", "code": (_text(sub, "systemCode") or "").lower(),
             "activities": _activities(sub)}
            for sub in item.findall("subcommittees/item")
        ]
        committees.append({
            "name": name,
            "chamber": _text(item, "chamber"),
            "code": (_text(item, "systemCode") or "").lower() or None,
            "type": _text(item, "type"),
            "activities": _activities(item),
            "subcommittees": sorted(subcommittees, key=lambda s: s["code"]),
        })
    return sorted(committees, key=lambda c: (c["chamber"] or "", c["name"]))


def parse_billstatus(data: bytes) -> dict[str, Any]:
    """Normalize one BILLSTATUS file (v3 or legacy) into the bill snapshot."""
    root = _safe_root(data)
    bill = root.find("bill")
    if bill is None:
        raise BillParseError("not a BILLSTATUS document: no <bill> element")
    head = _fields(bill)
    number = _field(head, "number") or _field(head, "billNumber")
    bill_type = (_field(head, "type") or _field(head, "billType") or "").lower()
    congress = _field(head, "congress")
    if not (number and number.isdigit() and congress and congress.isdigit() and bill_type in BILL_TYPES):
        raise BillParseError(f"missing or unknown bill number/type/congress ({bill_type}{number}-{congress})")
    bn = BillNumber(int(congress), bill_type, int(number))

    titles = [(_field(f, "titleType") or "", _field(f, "title") or "")
              for f in map(_fields, bill.findall("titles/item"))]
    short_titles = sorted({t for kind, t in titles if t and "short title" in kind.lower()})
    official = next((t for kind, t in titles if t and kind.lower().startswith("official title as introduced")), None)
    official = official or next((t for kind, t in titles if t and kind.lower().startswith("official title")), None)
    title = _field(head, "title") or (short_titles[0] if short_titles else official) or bn.display

    sponsor_node = bill.find("sponsors/item")
    sponsor_fields = _fields(sponsor_node) if sponsor_node is not None else {}
    sponsor = _person(sponsor_fields) if _field(sponsor_fields, "bioguideId") else None

    cosponsors = []
    for item in bill.findall("cosponsors/item"):
        fields = _fields(item)
        person = _person(fields)
        person.pop("district")
        person["date"] = (_field(fields, "sponsorshipDate") or "")[:10] or None
        person["withdrawn"] = (_field(fields, "sponsorshipWithdrawnDate") or "")[:10] or None
        person["original"] = (_field(fields, "isOriginalCosponsor") or "").lower() == "true"
        cosponsors.append(person)
    cosponsors.sort(key=lambda c: (c["date"] or "", c["bioguide_id"] or ""))

    committees = _committees(bill)

    laws = [
        {"type": _text(item, "type") or "Public Law", "number": _text(item, "number")}
        for item in bill.findall("laws/item")
        if _text(item, "number")
    ]
    actions = _merge_actions(_raw_actions(bill))
    latest = actions[-1] if actions else None
    return {
        "number": bn.key,
        "congress": bn.congress,
        "type": bn.type,
        "display": bn.display,
        "title": title,
        "short_titles": short_titles,
        "official_title": official,
        "reserved": sponsor is None and title.lower().startswith("reserved"),
        "introduced": (_field(head, "introducedDate") or "")[:10] or None,
        "sponsor": sponsor,
        "cosponsors": cosponsors,
        "actions": actions,
        "committees": committees,
        "laws": laws,
        "stage": derive_stage(bn.type, actions, laws),
        "latest_action": {"date": latest["date"], "text": latest["text"]} if latest else None,
        "policy_area": _text(bill, "policyArea/name"),
        "url": bn.url,
    }


def read_bill(data: bytes) -> Bill:
    """The typed bill record of one BILLSTATUS file (BillParseError says what is wrong)."""
    return Bill.load(parse_billstatus(data))


# -- stages ----------------------------------------------------------------------------------

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


def action_event(action: dict[str, Any]) -> str | None:
    """What an action means for the stage, from codes first, then text."""
    events = []
    for code in action.get("codes") or ([action["code"]] if action.get("code") else []):
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
    return {a["chamber"] for a in bill.actions if a.get("chamber") and action_event(a) == "passed"}


def derive_stage(bill_type: str, actions: list[dict[str, Any]], laws: list[dict[str, Any]]) -> str:
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


# -- diff --------------------------------------------------------------------------------------


def _cosponsor_data(c: Person, date: str | None) -> dict[str, Any]:
    return {"name": c.get("name"), "bioguide_id": c.get("bioguide_id"), "party": c.get("party"),
            "state": c.get("state"), "date": date}


def diff_bill(old: Bill | None, new: Bill, entity: str) -> list[Change]:
    """What a human wants to hear about between two states of one bill."""
    label = bill_label(new)
    url = new.url
    if old is None:
        return [Change("bill.introduced", entity, f"{label} found: {new.title}",
                       dedupe_key(entity, "bill.introduced"), {}, url, new.introduced)]
    changes: list[Change] = []
    old_ids = {a["id"] for a in old.actions}
    for action in new.actions:
        if action["id"] in old_ids:
            continue
        changes.append(Change(
            "bill.action", entity, f"{label}: {action['text']}",
            dedupe_key(entity, "bill.action", action["id"]),
            {"date": action["date"], "code": action.get("code"), "text": action["text"],
             "chamber": action.get("chamber")},
            url, action["date"],
        ))
    if old.stage != new.stage and new.stage:
        latest = (new.latest_action or {}).get("date")
        changes.append(Change(
            "bill.stage", entity, f"{label} {STAGE_WORDS.get(new.stage, new.stage)}",
            dedupe_key(entity, "bill.stage", new.stage),
            {"from": old.stage, "to": new.stage}, url, latest,
        ))
    before = {c.get("bioguide_id"): c for c in old.cosponsors}
    for person in new.cosponsors:
        key = person.get("bioguide_id")
        previous = before.get(key)
        if previous is None and not person.get("withdrawn"):
            changes.append(Change(
                "bill.cosponsor_added", entity, f"{label}: {person.get('name')} joined as a cosponsor",
                dedupe_key(entity, "bill.cosponsor_added", key, person.get("date")),
                _cosponsor_data(person, person.get("date")), url, person.get("date"),
            ))
        elif person.get("withdrawn") and not (previous or {}).get("withdrawn"):
            changes.append(Change(
                "bill.cosponsor_withdrawn", entity, f"{label}: {person.get('name')} withdrew as a cosponsor",
                dedupe_key(entity, "bill.cosponsor_withdrawn", key, person.get("withdrawn")),
                _cosponsor_data(person, person.get("withdrawn")), url, person.get("withdrawn"),
            ))
    if old.title and new.title and old.title != new.title:
        changes.append(Change(
            "bill.title", entity, f"{label} is now titled: {new.title}",
            dedupe_key(entity, "bill.title", old.title, new.title),
            {"from": old.title, "to": new.title}, url, None,
        ))
    return changes


# -- title matching ------------------------------------------------------------------------------

_YEAR_SUFFIX = re.compile(r"\s+of\s+(19|20)\d\d$")


def normalize_title(title: str) -> str:
    """Case, punctuation and a trailing "of 2021" ignored."""
    text = re.sub(r"[^\w\s]+", " ", clean(title).lower())
    text = _SPACE.sub(" ", text).strip()
    return _YEAR_SUFFIX.sub("", text)


def title_matches(bill: Bill | dict[str, Any], phrase: str, *, contains: bool = False,
                  official: bool = False) -> bool:
    """Does a bill carry this title (any short title or its display title; the official title too
    when asked)? Case, punctuation and a trailing "of 2021" are ignored."""
    fields = bill.dump() if isinstance(bill, Bill) else bill
    wanted = normalize_title(phrase)
    if not wanted:
        return False
    titles = [*list(fields.get("short_titles") or []), fields.get("title") or ""]
    if official and fields.get("official_title"):
        titles.append(fields["official_title"])
    for title in titles:
        candidate = normalize_title(title)
        if candidate == wanted:
            return True
        if contains and re.search(rf"(^|\s){re.escape(wanted)}(\s|$)", candidate):
            return True
    return False
