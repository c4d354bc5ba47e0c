"""What a human wants to hear about between two states of one bill (a pure function of two records)."""

from __future__ import annotations

from typing import Any

from tracker.changes import Change, dedupe_key
from tracker.records import STAGES, Bill, Person
from tracker.words import STAGE_WORDS, bill_label, stage_back_words

# The stages a bill moves forward through; vetoed and failed are news whatever came before.
_PROGRESS = [stage for stage in STAGES if stage not in ("vetoed", "failed")]


def _cosponsor_data(c: Person, date: str | None) -> dict[str, Any]:
    return {"name": c.get("name"), "bioguide_id": c.get("bioguide_id"), "party": c.get("party"),
            "state": c.get("state"), "date": date}


def _who(person: Person) -> str:
    """A cosponsor as an alert names them: a file may give only their id (never "None")."""
    return person.get("name") or "a member"


def _went_back(was: str | None, now: str) -> bool:
    """Whether the record now shows less than it did (an action taken out of the file)."""
    return was in _PROGRESS and now in _PROGRESS and _PROGRESS.index(now) < _PROGRESS.index(was)


def _sponsorships(cosponsors: list[Person]) -> dict[str | None, list[Person]]:
    """Each member's sponsorships in the file's order (oldest first), by bioguide id."""
    by_member: dict[str | None, list[Person]] = {}
    for person in cosponsors:
        by_member.setdefault(person.get("bioguide_id"), []).append(person)
    return by_member


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
        now = STAGE_WORDS.get(new.stage, new.stage)
        # Keyed by the day of the latest action too: a stage reached again after the record went
        # back (a vote recorded anew) is news; the same file state seen twice is not.
        if _went_back(old.stage, new.stage):
            changes.append(Change(
                "bill.stage", entity, f"{label}: {stage_back_words(old.stage)}; as it stands, it {now}",
                dedupe_key(entity, "bill.stage", new.stage, old.stage, latest),
                {"from": old.stage, "to": new.stage, "back": True}, url, latest,
            ))
        else:
            changes.append(Change(
                "bill.stage", entity, f"{label} {now}", dedupe_key(entity, "bill.stage", new.stage, latest),
                {"from": old.stage, "to": new.stage}, url, latest,
            ))
    # A member who withdrew and rejoined is listed once per sponsorship, oldest first: the n-th of
    # theirs in the new file is the n-th in the old one (a corrected date is no new sponsorship).
    # A second sponsorship after one not withdrawn is the same one listed twice: no news.
    before = _sponsorships(old.cosponsors)
    seen: dict[str | None, int] = {}
    last: dict[str | None, Person] = {}  # each member's sponsorship before this one, in the new file
    for person in new.cosponsors:
        key = person.get("bioguide_id")
        nth = seen[key] = seen.get(key, -1) + 1
        earlier = before.get(key, [])
        previous = earlier[nth] if nth < len(earlier) else None
        listed_before, last[key] = last.get(key), person
        if previous is None and not person.get("withdrawn"):
            if listed_before is not None and not listed_before.get("withdrawn"):
                continue  # still a cosponsor by the sponsorship before it
            again = listed_before is not None
            changes.append(Change(
                "bill.cosponsor_added", entity, f"{label}: {_who(person)} {'rejoined' if again else 'joined'} as a cosponsor",
                dedupe_key(entity, "bill.cosponsor_added", key, person.get("date")),
                {**_cosponsor_data(person, person.get("date")), **({"rejoined": True} if again else {})}, url,
                person.get("date"),
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
