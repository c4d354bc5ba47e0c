"""GovInfo BILLSTATUS XML (both schemas) read into the `Bill` record, one reader per section of
the file (number, titles, sponsor, cosponsors, actions, committees, laws), the shape of
unitedstates/congress's bill_info `*_for` functions: each reader is a pure function of its part
of the document, and `parse_billstatus` only assembles the record, so a misspelt field is an error
where the record is built, never a silent extra key.

The record is the snapshot content: canonical JSON is hashed, so it holds no volatile fields (no
updateDate, no fetch time) and its lists are in a deterministic order. The legacy schema (no
`billStatus/version`, `bill/billNumber`) and v3 (`billStatus/version` 3.x, `bill/number`) give the
same facts, so a schema switch upstream is not news.

Speed matters (a Congress's package is ten thousand files): each node's children are read in one
pass (`_fields`) rather than one search per field, and the parser drops layout-only blank text.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Any, NamedTuple

from lxml import etree

from tracker.billnumbers import BILL_TYPES, BillNumber
from tracker.bills.stages import derive_stage
from tracker.records import (
    Bill,
    BillAction,
    BillCommittee,
    CommitteeActivity,
    LatestAction,
    Law,
    Person,
    Subcommittee,
)
from tracker.safexml import parse_xml

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


def _merge_library_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Merge each Library of Congress row into the chamber row it repeats (same date and text)."""
    chamber_rows = [r for r in rows if not _is_loc(r["source"], r["code"])]
    loc_rows = [r for r in rows if _is_loc(r["source"], r["code"])]
    merged = [dict(r, codes=[r["code"]] if r["code"] else []) for r in chamber_rows]
    index: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in merged:
        index.setdefault((row["date"], _merge_key(row["text"])), []).append(row)
    for loc in loc_rows:
        twin = next((r for key in _loc_keys(loc["text"]) for r in index.get((loc["date"], key), [])
                     if not r.get("_has_loc")), None)
        if twin is None:
            merged.append(dict(loc, codes=[loc["code"]] if loc["code"] else []))
            continue
        twin["_has_loc"] = True
        if loc["code"] and loc["code"] not in twin["codes"]:
            twin["codes"].append(loc["code"])
        if twin["chamber"] is None:
            twin["chamber"] = loc["chamber"]
    return merged


def _identified(rows: list[dict[str, Any]]) -> list[BillAction]:
    """The actions with an id made of what the event is (date, time, words, committees), so the
    same event has the same id in every later file."""
    actions: list[BillAction] = []
    seen: dict[str, int] = {}
    for row in rows:
        identity = hashlib.sha256(
            repr((row["date"], row["time"] or "", _norm_text(row["text"]), row["committees"])).encode()
        ).hexdigest()[:16]
        seen[identity] = seen.get(identity, 0) + 1
        if seen[identity] > 1:  # the very same event listed twice: keep both, told apart by order
            identity = f"{identity}-{seen[identity]}"
        action: BillAction = {
            "id": identity,
            "date": row["date"],
            "time": row["time"],
            "code": row["code"],
            "codes": sorted(row["codes"]),
            "text": row["text"],
            "chamber": row["chamber"],
            "committees": row["committees"],
            "type": row["type"],
        }
        actions.append(action)
    return actions


def _day(value: str | None) -> str | None:
    """The ISO day of a BILLSTATUS date or timestamp (None when absent)."""
    return (value or "")[:10] or None


def _person(fields: dict[str, str | None]) -> Person:
    return {
        "name": _field(fields, "fullName"),
        "bioguide_id": _field(fields, "bioguideId"),
        "party": _field(fields, "party"),
        "state": _field(fields, "state"),
        "district": _field(fields, "district"),
    }


def _activities(node: etree._Element) -> list[CommitteeActivity]:
    rows = [(_text(item, "name"), _text(item, "date") or "") for item in node.findall("activities/item")]
    activities: list[CommitteeActivity] = [{"name": name, "date": day} for name, day in rows if name and day]
    return sorted(activities, key=lambda a: (a["date"], a["name"]))


# -- one reader per section of the file -----------------------------------------------------------


def number_for(head: dict[str, str | None]) -> BillNumber:
    """The bill's number, type and Congress (v3 `number`/`type`, legacy `billNumber`/`billType`)."""
    number = _field(head, "number") or _field(head, "billNumber")
    bill_type = (_field(head, "type") or _field(head, "billType") or "").lower()
    congress = _field(head, "congress")
    if not (number and number.isdigit() and congress and congress.isdigit() and bill_type in BILL_TYPES):
        raise BillParseError(f"missing or unknown bill number/type/congress ({bill_type}{number}-{congress})")
    try:  # "²" is a digit to `isdigit`, not to `int`; nor is a number of thousands of digits
        return BillNumber(int(congress), bill_type, int(number))
    except ValueError:
        raise BillParseError(f"bill number or congress is not a number ({bill_type}{number[:20]}-{congress[:20]})") \
            from None


class Titles(NamedTuple):
    display: str  # what people call it: the file's own title, else a short title, else the official one
    short: list[str]
    official: str | None  # as introduced when the file has it


def _first_title(titles: list[tuple[str, str]], kind: str) -> str | None:
    return next((t for k, t in titles if t and k.lower().startswith(kind)), None)


def titles_for(bill: etree._Element, head: dict[str, str | None], number: BillNumber) -> Titles:
    titles = [(_field(f, "titleType") or "", _field(f, "title") or "")
              for f in map(_fields, bill.findall("titles/item"))]
    short = sorted({t for kind, t in titles if t and "short title" in kind.lower()})
    official = _first_title(titles, "official title as introduced") or _first_title(titles, "official title")
    display = _field(head, "title") or (short[0] if short else official) or number.display
    return Titles(display, short, official)


def sponsor_for(bill: etree._Element) -> Person | None:
    """The sponsor; None for a reserved number (no sponsor, or one without a bioguide id)."""
    node = bill.find("sponsors/item")
    fields = _fields(node) if node is not None else {}
    return _person(fields) if _field(fields, "bioguideId") else None


def cosponsors_for(bill: etree._Element) -> list[Person]:
    """Every cosponsor with the day they joined and the day they withdrew, in the order they joined."""
    cosponsors = []
    for fields in map(_fields, bill.findall("cosponsors/item")):
        person = _person(fields)
        del person["district"]
        person["date"] = _day(_field(fields, "sponsorshipDate"))
        person["withdrawn"] = _day(_field(fields, "sponsorshipWithdrawnDate"))
        person["original"] = (_field(fields, "isOriginalCosponsor") or "").lower() == "true"
        cosponsors.append(person)
    return sorted(cosponsors, key=lambda c: (c["date"] or "", c["bioguide_id"] or ""))


def actions_for(bill: etree._Element) -> list[BillAction]:
    """The bill's history, oldest first (by date, then the file's order), each event once: a
    Library of Congress row repeating a chamber's row is merged into it. Within a day the file's
    order decides, not `actionTime`: legacy files write it on a 12-hour clock ("12:52AM" sorts after
    "08:37PM" as text) and leave many rows of a timed day untimed, while the file lists a day's rows
    in the order they happened (so in every recorded file)."""
    merged = _merge_library_rows(_raw_actions(bill))
    merged.sort(key=lambda r: (r["date"], r["order"]))
    return _identified(merged)


def committees_for(bill: etree._Element) -> list[BillCommittee]:
    """The committees a bill went to (v3 `committees/item`, legacy `committees/billCommittees/item`),
    with their codes (`hsju00`: how congress-legislators names them) and activities (referred,
    reported, discharged...), which say who holds the bill now."""
    committees: list[BillCommittee] = []
    for item in bill.findall("committees/item") + bill.findall("committees/billCommittees/item"):
        name = _text(item, "name")
        if not name:
            continue
        subcommittees: list[Subcommittee] = [
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


def laws_for(bill: etree._Element) -> list[Law]:
    """The laws the bill became (any law means enacted, whatever the actions say)."""
    return [{"type": _text(item, "type") or "Public Law", "number": number}
            for item in bill.findall("laws/item") if (number := _text(item, "number"))]


def latest_action_for(actions: list[BillAction]) -> LatestAction | None:
    """The newest action's day and words (the file's own `latestAction` is not read: the merged,
    ordered actions decide, so both schemas agree)."""
    return {"date": actions[-1]["date"], "text": actions[-1]["text"]} if actions else None


def parse_billstatus(data: bytes) -> Bill:
    """One BILLSTATUS file (v3 or legacy) as the bill record (BillParseError says what is wrong)."""
    root = _safe_root(data)
    bill = root.find("bill")
    if bill is None:
        raise BillParseError("not a BILLSTATUS document: no <bill> element")
    head = _fields(bill)
    number = number_for(head)
    titles = titles_for(bill, head, number)
    sponsor = sponsor_for(bill)
    actions = actions_for(bill)
    laws = laws_for(bill)
    return Bill(
        number=number.key,
        congress=number.congress,
        type=number.type,
        display=number.display,
        title=titles.display,
        stage=derive_stage(number.type, actions, laws),
        url=number.url,
        short_titles=titles.short,
        official_title=titles.official,
        reserved=sponsor is None and titles.display.lower().startswith("reserved"),
        introduced=_day(_field(head, "introducedDate")),
        sponsor=sponsor,
        cosponsors=cosponsors_for(bill),
        actions=actions,
        committees=committees_for(bill),
        laws=laws,
        latest_action=latest_action_for(actions),
        policy_area=_text(bill, "policyArea/name"),
    )
