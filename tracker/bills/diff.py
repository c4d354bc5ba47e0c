"""What a human wants to hear about between two states of one bill (a pure function of two records)."""

from __future__ import annotations

from typing import Any

from tracker.changes import Change, dedupe_key
from tracker.records import Bill, Person
from tracker.words import STAGE_WORDS, bill_label


def _cosponsor_data(c: Person, date: str | None) -> dict[str, Any]:
    return {"name": c.get("name"), "bioguide_id": c.get("bioguide_id"), "party": c.get("party"),
            "state": c.get("state"), "date": date}


def _who(person: Person) -> str:
    """A cosponsor as an alert names them: a file may give only their id (never "None")."""
    return person.get("name") or "a member"


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
        latest = new.latest_action["date"] if new.latest_action else None
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
                "bill.cosponsor_added", entity, f"{label}: {_who(person)} joined as a cosponsor",
                dedupe_key(entity, "bill.cosponsor_added", key, person.get("date")),
                _cosponsor_data(person, person.get("date")), url, person.get("date"),
            ))
        elif person.get("withdrawn") and not (previous or {}).get("withdrawn"):
            changes.append(Change(
                "bill.cosponsor_withdrawn", entity, f"{label}: {_who(person)} withdrew as a cosponsor",
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
