"""Who sits on a Legistar body, with how to reach them (pure functions).

Two Web API requests give it: `{base_url}/{client}/bodies/{BodyId}/officerecords` (one row per
term of office: `OfficeRecordFullName`, `OfficeRecordTitle` or `OfficeRecordMemberType` ("Chair",
"Member"), `OfficeRecordStartDate`/`EndDate`, `OfficeRecordPersonId`, `OfficeRecordEmail`) and
`{base_url}/{client}/persons/{PersonId}` (`PersonEmail`, `PersonPhone`, `PersonWWW`). A body's
history is all in the first: a member whose record has ended must never be named as someone to write
to, so "current" is decided here, by the caller's day, not by the source.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from tracker.records import Officer
from tracker.safetext import web_url

# Most senior first: a person with a Chair record and a Member record is named as Chair.
_RANK = ("chair", "co-chair", "vice chair", "secretary", "treasurer", "member")


@dataclass(frozen=True)
class BodyMember:
    """One person's seat on a body, with the contacts their person record (or office record) gives."""

    person_id: int | None
    name: str
    title: str  # "Chair", "Vice Chair", "Member"...
    start: date | None
    end: date | None  # None: open-ended
    email: str | None
    phone: str | None
    url: str | None

    def dump(self) -> Officer:
        """As a body snapshot stores it (dates as ISO days)."""
        return {"person_id": self.person_id, "name": self.name, "title": self.title,
                "start": self.start.isoformat() if self.start else None,
                "end": self.end.isoformat() if self.end else None,
                "email": self.email, "phone": self.phone, "url": self.url}

    @classmethod
    def load(cls, data: Officer) -> BodyMember:
        return cls(person_id=data.get("person_id"), name=data["name"], title=data.get("title") or "Member",
                   start=_day(data.get("start")), end=_day(data.get("end")), email=data.get("email"),
                   phone=data.get("phone"), url=web_url(data.get("url")))

    def current(self, today: date) -> bool:
        """Seated on `today`: started by then and not ended before it (an end day is still served)."""
        return (self.start is None or self.start <= today) and (self.end is None or self.end >= today)


def _text(value: Any) -> str | None:
    text = " ".join(str(value).split()) if value is not None else ""
    return text or None


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _email(value: Any) -> str | None:
    text = _text(value)
    return text if text and "@" in text and " " not in text else None


def _person_id(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def person_ids(officerecords: Iterable[Mapping[str, Any]], since: date | None = None) -> list[int]:
    """The `PersonId`s whose `persons/{PersonId}` records to fetch, each once, in first-seen order;
    with `since`, only of terms not ended before it (an ended term's person is never named whom to
    write to, and a roster runs back decades)."""
    seen: dict[int, None] = {}
    for row in officerecords:
        end = _day(row.get("OfficeRecordEndDate"))
        if since is not None and end is not None and end < since:
            continue
        if (pid := _person_id(row.get("OfficeRecordPersonId"))) is not None:
            seen.setdefault(pid, None)
    return list(seen)


def body_members(officerecords: Iterable[Mapping[str, Any]],
                 persons: Mapping[int, Mapping[str, Any]] | Iterable[Mapping[str, Any]] = ()) -> list[BodyMember]:
    """Every office record as a `BodyMember`, contacts from its person record: email = `PersonEmail`,
    else the record's `OfficeRecordEmail`; phone = `PersonPhone`; page = `PersonWWW` (http(s) only)."""
    if isinstance(persons, Mapping):
        by_id = {int(k): v for k, v in persons.items()}
    else:
        by_id = {pid: p for p in persons if (pid := _person_id(p.get("PersonId"))) is not None}
    members = []
    for row in officerecords:
        pid = _person_id(row.get("OfficeRecordPersonId"))
        person = by_id.get(pid, {}) if pid is not None else {}
        name = _text(row.get("OfficeRecordFullName")) or _text(person.get("PersonFullName"))
        if not name:
            continue
        members.append(BodyMember(
            person_id=pid,
            name=name,
            title=_text(row.get("OfficeRecordTitle")) or _text(row.get("OfficeRecordMemberType")) or "Member",
            start=_day(row.get("OfficeRecordStartDate")),
            end=_day(row.get("OfficeRecordEndDate")),
            email=_email(person.get("PersonEmail")) or _email(row.get("OfficeRecordEmail")),
            phone=_text(person.get("PersonPhone")),
            url=web_url(person.get("PersonWWW")),
        ))
    return members


def _seniority(title: str) -> int:
    lowered = title.lower()
    return _RANK.index(lowered) if lowered in _RANK else len(_RANK) - 1


def current_members(members: Iterable[BodyMember], today: date) -> list[BodyMember]:
    """Who sits on the body on `today`: one entry per person (their most senior current title),
    the chair first, then vice chairs, then members by name."""
    best: dict[object, BodyMember] = {}
    for m in members:
        if not m.current(today):
            continue
        key = m.person_id if m.person_id is not None else m.name
        if key not in best or _seniority(m.title) < _seniority(best[key].title):
            best[key] = m
    return sorted(best.values(), key=lambda m: (_seniority(m.title), m.name))


def member_lines(members: Iterable[BodyMember]) -> list[str]:
    """Plain-text lines for alerts: "Chair: Yusef Salaam, ysalaam@council.nyc.gov, 212-788-6969"."""
    lines = []
    for m in members:
        reach = [x for x in (m.email, m.phone) if x] or [m.url or "no email or phone listed"]
        lines.append(f"{m.title}: {m.name}, {', '.join(reach)}")
    return lines
