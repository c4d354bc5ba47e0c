"""A Legistar body's current members with their contacts, from labelled derived samples of
`bodies/19/officerecords` and `persons/{PersonId}` (tests/data/local/derived/README.md says what is
real and what is invented), read from files and over a real loopback HTTP server."""

from __future__ import annotations

import json
import urllib.request
from datetime import date

from recorded import local

from tracker.meetings.officers import BodyMember, body_members, current_members, member_lines, person_ids

RECORDS = json.loads(local("legistar/officerecords_body19.json"))
PERSONS = json.loads(local("legistar/persons_body19.json"))
TODAY = date(2026, 11, 24)


def members_on(day: date) -> list[BodyMember]:
    return current_members(body_members(RECORDS, PERSONS), day)


def test_current_members_chair_first_and_not_the_former_chair() -> None:
    members = members_on(TODAY)
    assert [(m.title, m.name) for m in members] == [
        ("Chair", "Marcus Ortega"),  # OfficeRecordTitle null: the MemberType says Chair
        ("Member", "Grace Okafor"),
        ("Member", "Luis Acevedo"),
        ("Member", "Priya Raman"),
    ]
    emails = {m.email for m in members}
    assert "d41@council.nyc.example" not in emails  # Dana Whitfield, whose records ended
    assert "Henry Liu" not in {m.name for m in members}  # seated only from 2027-01-07


def test_email_falls_back_to_the_office_record() -> None:
    by_name = {m.name: m for m in members_on(TODAY)}
    assert by_name["Priya Raman"].email == "d26@council.nyc.example"  # PersonEmail wins
    assert by_name["Luis Acevedo"].email == "d44@council.nyc.example"  # no PersonEmail: OfficeRecordEmail
    assert by_name["Grace Okafor"].email is None
    assert by_name["Luis Acevedo"].end is None and by_name["Luis Acevedo"].phone == "212-555-0144"
    assert member_lines(members_on(TODAY)) == [
        "Chair: Marcus Ortega, d07@council.nyc.example, 212-555-0107",
        "Member: Grace Okafor, https://council.nyc.example/district-35/",
        "Member: Luis Acevedo, d44@council.nyc.example, 212-555-0144",
        "Member: Priya Raman, d26@council.nyc.example, 212-555-0126",
    ]


def test_membership_by_day() -> None:
    assert [(m.title, m.name) for m in members_on(date(2025, 6, 1))] == [
        ("Chair", "Dana Whitfield"), ("Member", "Marcus Ortega")]
    # An end date is the last day served.
    assert [m.name for m in members_on(date(2025, 12, 31))] == ["Dana Whitfield", "Marcus Ortega"]
    assert members_on(date(2026, 1, 1)) == []
    assert "Henry Liu" in {m.name for m in members_on(date(2027, 1, 7))}


def test_person_ids_each_once() -> None:
    assert person_ids(RECORDS) == [7701, 7702, 7703, 7704, 7705, 7706]


def test_unsafe_person_page_is_dropped() -> None:
    person = dict(PERSONS[4], PersonWWW="javascript:alert(1)")
    member = body_members([RECORDS[6]], [person])[0]
    assert member.url is None and member.name == "Grace Okafor"


def test_over_http_as_the_spider_will_request_them(replay) -> None:  # type: ignore[no-untyped-def]
    replay.add("/v1/nyc/bodies/19/officerecords", json.dumps(RECORDS))
    for person in PERSONS:
        replay.add(f"/v1/nyc/persons/{person['PersonId']}", json.dumps(person))

    def get(path: str) -> object:
        request = urllib.request.Request(f"{replay.url}{path}", headers={"Accept": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    records = get("/v1/nyc/bodies/19/officerecords")
    assert isinstance(records, list)
    persons = {pid: get(f"/v1/nyc/persons/{pid}") for pid in person_ids(records)}
    members = current_members(body_members(records, persons), TODAY)  # type: ignore[arg-type]
    assert [m.email for m in members] == [
        "d07@council.nyc.example", None, "d44@council.nyc.example", "d26@council.nyc.example"]
    assert replay.count("/v1/nyc/persons/7701") == 1
