"""State legislators and committees (tracker/statepeople.py) from the real openstates/people YAML in
tracker/demo/data/openstates/people (both the `offices` and the older `contact_details` formats) and
from the recorded API v3 `/people` answers."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from tracker.demo.openstates_api import DATA
from tracker.statepeople import (
    CommitteeMember,
    PeopleParseError,
    StateLegislator,
    chairs_of,
    committee_key,
    district_key,
    find_committee,
    read_committee_yaml,
    read_legislator_yaml,
    read_person_json,
    representatives,
)

PEOPLE = DATA / "people"
SPRING_2021 = date(2021, 3, 1)


def yaml_file(pattern: str) -> Path:
    return next(PEOPLE.glob(pattern))


def legislators() -> list[StateLegislator]:
    read = [read_legislator_yaml(p.read_bytes(), where=p.name, today=SPRING_2021)
            for p in sorted(PEOPLE.glob("*/legislature/*.yml"))]
    return [p for p in read if p is not None]


def committees() -> list:
    return [read_committee_yaml(p.read_bytes(), where=p.name) for p in sorted(PEOPLE.glob("*/committees/*.yml"))]


def test_the_older_contact_details_format() -> None:
    fields = read_legislator_yaml(yaml_file("co/legislature/Rhonda-Fields-*.yml").read_bytes(), today=SPRING_2021)
    assert "contact_details:" in yaml_file("co/legislature/Rhonda-Fields-*.yml").read_text()
    assert (fields.name, fields.state, fields.chamber, fields.district, fields.title, fields.party) == (
        "Rhonda Fields", "co", "upper", "29", "Senator", "Democratic")
    assert fields.phones == ["303-866-4879"] and fields.emails == ["rhonda.fields.senate@state.co.us"]
    assert fields.offices[0].name == "Capitol Office" and fields.offices[0].classification == "capitol"
    assert fields.chamber_name == "Senate"


def test_the_offices_format_with_a_district_office() -> None:
    cervantes = read_legislator_yaml(yaml_file("nm/legislature/Joseph-Cervantes-*.yml").read_bytes(), today=SPRING_2021)
    assert "\noffices:" in yaml_file("nm/legislature/Joseph-Cervantes-*.yml").read_text()
    assert cervantes.phones == ["505-986-4861", "575-523-9334"]  # capitol first
    assert [o.classification for o in cervantes.offices] == ["capitol", "district"]
    bourne = read_legislator_yaml(yaml_file("va/legislature/Jeffrey-M-Bourne-*.yml").read_bytes(), today=SPRING_2021)
    assert (bourne.title, bourne.chamber_name, bourne.district) == ("Delegate", "House of Delegates", "71")
    assert bourne.offices[0].name == "District Office #1"
    dinowitz = read_legislator_yaml(yaml_file("ny/legislature/Jeffrey-Dinowitz-*.yml").read_bytes(), today=SPRING_2021)
    assert (dinowitz.title, dinowitz.chamber_name) == ("Assembly Member", "Assembly")


def test_every_selected_file_reads_and_a_role_that_ended_is_not_a_seat() -> None:
    people = legislators()
    assert len(people) == len(list(PEOPLE.glob("*/legislature/*.yml"))) == 42
    assert all(p.district and p.name and p.phones for p in people)
    text = """id: ocd-person/00000000-0000-0000-0000-000000000001
name: Former Member
party:
- name: Democratic
roles:
- type: lower
  jurisdiction: ocd-jurisdiction/country:us/state:co/government
  district: '8'
  end_date: 2019-01-09
"""
    assert read_legislator_yaml(text, today=SPRING_2021) is None
    assert read_legislator_yaml(text, today=date(2018, 5, 1)).district == "8"


def test_the_subscribers_own_two_legislators_by_district() -> None:
    people = legislators()
    mine = representatives(people, "co", senate_district="29", house_district="08")
    assert [(p.name, p.chamber) for p in mine] == [("Rhonda Fields", "upper"), ("Leslie Herod", "lower")]
    ma = representatives(people, "MA", senate_district="second suffolk", house_district=None)
    assert [p.name for p in ma] == ["Sonia Chang-Diaz"]
    assert representatives(people, "co", senate_district="99") == []
    assert district_key("08") == "8" and district_key("3rd Suffolk") == district_key("3RD  SUFFOLK")


def test_committee_chairs_in_either_case_never_the_vice_chair() -> None:
    found = committees()
    co_senate = find_committee(found, "co", "Judiciary", "upper")
    assert co_senate.chamber == "upper" and "role: Chair" in yaml_file("co/committees/upper-Judiciary-*.yml").read_text()
    assert [m.name for m in co_senate.chairs] == ["Pete Lee"]
    nm_senate = find_committee(found, "nm", "Senate Judiciary Committee", "upper")
    chair = chairs_of(nm_senate, legislators())
    assert [(c.name, c.phones[0]) for c in chair] == [("Joseph Cervantes", "505-986-4861")]  # by person id
    assert find_committee(found, "ma", "Senate Committee on Ways and Means", "upper").chairs[0].name == "Michael Rodrigues"
    joint = find_committee(found, "ma", "Judiciary", "upper")  # no Senate committee of that name: the joint one
    assert joint.chamber == "legislature" and [m.name for m in joint.chairs] == ["Lydia Edwards", "Mike Day"]
    va = chairs_of(find_committee(found, "va", "Committee for Courts of Justice", "lower"), legislators())
    assert [c.name for c in va] == ["Patrick A. Hope"]
    assert find_committee(found, "co", "Finance", "upper") is None
    assert committee_key("Senate Committee on Ways & Means") == committee_key("Ways and Means")


def test_a_chair_we_have_no_file_for_is_still_named() -> None:
    chair = chairs_of(find_committee(committees(), "co", "Appropriations", "lower"), [])
    assert chair == [CommitteeMember("Leslie Herod", "chair", "ocd-person/a91826de-a61a-44e8-84b1-9f31f3dd32cb")]


def test_people_from_the_recorded_api_answer() -> None:
    recorded = json.loads((DATA / "api" / "baseline.json").read_text())["people"]
    read = [read_person_json(p) for p in recorded["va"]]
    bourne = next(p for p in read if p and p.name == "Jeffrey M. Bourne")
    assert (bourne.chamber, bourne.district, bourne.title, bourne.phones) == ("lower", "71", "Delegate", ["804-698-1071"])
    fields = next(read_person_json(p) for p in recorded["co"] if p["name"] == "Rhonda Fields")
    from_yaml = read_legislator_yaml(yaml_file("co/legislature/Rhonda-Fields-*.yml").read_bytes(), today=SPRING_2021)
    assert (fields.phones, fields.email, fields.district) == (from_yaml.phones, from_yaml.email, from_yaml.district)
    assert read_person_json({"name": "Governor", "current_role": {"org_classification": "executive"}}) is None


@pytest.mark.parametrize(("text", "words"), [
    ("id: [unclosed", "not readable YAML"),
    ("- a list", "not a mapping"),
    ("!!python/object/apply:os.system ['echo unsafe']", "not readable YAML"),  # safe_load refuses it
])
def test_a_bad_file_is_one_line_naming_it(text: str, words: str) -> None:
    with pytest.raises(PeopleParseError) as raised:
        read_legislator_yaml(text, where="data/co/legislature/Broken.yml")
    message = str(raised.value)
    assert message.startswith("data/co/legislature/Broken.yml") and words in message and "\n" not in message


def test_whom_to_call_about_a_state_bill() -> None:
    """The subscriber's own state senator and representative (only about their own state's bills),
    the chair of the committee holding the bill, its sponsors, with phones where known."""
    from tracker.statepeople import StateDirectory, bill_contact_lines, read_people_dir
    from tracker.states import read_bill

    directory, problems = read_people_dir(PEOPLE, "nm", today=SPRING_2021)
    assert problems == [] and directory.legislators and directory.committees
    baseline = json.loads((DATA / "api" / "baseline.json").read_text())
    hb4 = read_bill(next(b for b in baseline["bills"] if b["identifier"] == "HB 4"))  # in the Senate Judiciary Committee
    lines = bill_contact_lines(hb4, directory, state="NM", senate_district="16", house_district="18")
    assert lines[0] == "Your state legislators:"
    assert lines[1].startswith("  Senator Antoinette Sedillo Lopez (Democratic, Senate District 16): 505-986-4389")
    assert lines[2].startswith("  Representative Gail Chasey (Democratic, House District 18): 505-986-4411")
    assert lines[3] == "In committee now: the Senate Judiciary Committee; its chair:"
    assert lines[4].startswith("  Chair Joseph Cervantes (Democratic, Senate District 31): 505-986-4861")
    assert any(line.startswith("Sponsor: ") for line in lines)
    elsewhere = bill_contact_lines(hb4, directory, state="CO", senate_district="16", house_district="18")
    assert "Your state legislators:" not in elsewhere  # a Coloradan's legislators vote on no New Mexico bill
    unknown = bill_contact_lines(hb4, StateDirectory("nm"), state="NM", senate_district="16")
    assert "In committee now: the Senate Judiciary Committee" in unknown and "Your state legislators:" not in unknown
