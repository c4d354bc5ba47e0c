"""Who to contact about a bill, from the real congress-legislators data (tests/data/federal/legislators/,
JSON derived from the project's YAML, snapshot of 2026-06-15) and the real BILLSTATUS files."""

from __future__ import annotations

import json
import urllib.request
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from recorded import DEMO, federal

from tracker.bills.billstatus import parse_billstatus
from tracker.bills.committees import committees_holding
from tracker.contacts import (
    HOUSE_SEATS,
    STATES,
    ContactsError,
    Directory,
    Legislator,
    all_seats,
    check_place,
    committee_code,
    committee_leaders,
    congress_on,
    contact_lines,
    load_directory,
    members_for,
    parse_legislators,
    sponsor,
)
from tracker.records import Bill

DATA = Path(__file__).parent / "data"
LEGISLATORS = DEMO / "legislators"
FILES = ("legislators-current", "committees-current", "committee-membership-current",
         "legislators-district-offices")
TODAY = date(2026, 11, 24)  # after the 2026-11-03 end of two appointed Senate terms in the data


@pytest.fixture(scope="module")
def directory() -> Directory:
    return load_directory(*(LEGISLATORS.joinpath(f"{name}.json").read_bytes() for name in FILES))


def bill(name: str) -> Bill:
    return parse_billstatus(federal(name))


# -- a subscriber's members ------------------------------------------------------------------------


def test_ma7_is_pressley_with_warren_and_markey(directory: Directory) -> None:
    seats = members_for("MA", 7, directory.legislators.values(), TODAY)
    assert [(s.chamber, s.member.name if s.member else None) for s in seats] == [
        ("senate", "Elizabeth Warren"), ("senate", "Edward J. Markey"), ("house", "Ayanna Pressley"),
    ]
    pressley = seats[2].member
    assert pressley is not None
    assert (pressley.phone, pressley.party, pressley.contact_url) == (
        "202-225-5111", "Democrat", "https://pressley.house.gov")
    lines = contact_lines(seats)
    assert lines[2] == ("Rep. Ayanna Pressley (D-MA-7): 202-225-5111, https://pressley.house.gov; "
                        "Boston office 617-850-0040")
    # Senators' offices: the one nearest the subscriber's district (Boston), not the first listed.
    assert lines[0] == ("Sen. Elizabeth Warren (D-MA): 202-224-4543, https://www.warren.senate.gov/"
                        "?p=email_senator; Boston office 617-565-3170")
    assert "Boston office 617-565-8519" in lines[1]  # Markey
    # Without a House seat to place the subscriber, an explicit point picks the office (Springfield).
    springfield = contact_lines(seats[:1], near=(42.10, -72.59))
    assert springfield[0].endswith("Springfield office 413-788-2690")


def test_dc_and_territories_have_a_delegate_and_no_senators(directory: Directory) -> None:
    dc = members_for("DC", None, directory.legislators.values(), TODAY)
    assert [(s.chamber, s.member.name if s.member else None) for s in dc] == [
        ("house", "Eleanor Holmes Norton")]
    assert contact_lines(dc)[0].startswith("Del. Eleanor Holmes Norton (D-DC): 202-225-8050")
    pr = members_for("PR", 0, directory.legislators.values(), TODAY)
    assert len(pr) == 1 and pr[0].name == "Resident Commissioner for PR"
    assert contact_lines(pr)[0].startswith("Res. Comm. Pablo José Hernández (D-PR)")
    for territory in ("GU", "VI", "AS", "MP"):
        seats = members_for(territory, 0, directory.legislators.values(), TODAY)
        assert [s.chamber for s in seats] == ["house"] and not seats[0].vacant


def test_at_large_state(directory: Directory) -> None:
    seats = members_for("WY", 0, directory.legislators.values(), TODAY)
    assert [s.member.name for s in seats if s.member] == [
        "John Barrasso", "Cynthia M. Lummis", "Harriet M. Hageman"]
    assert "(R-WY-AL)" in contact_lines(seats)[2]
    # No district given: an at-large state still has its one seat.
    assert len(members_for("WY", None, directory.legislators.values(), TODAY)) == 3
    # A district-less subscriber in a districted state gets the senators only.
    assert [s.chamber for s in members_for("MA", None, directory.legislators.values(), TODAY)] == [
        "senate", "senate"]


def test_vacant_seats(directory: Directory) -> None:
    # Nobody in the data holds FL-20; FL's appointed senator's term ended 2026-11-03.
    seats = members_for("FL", 20, directory.legislators.values(), TODAY)
    assert [s.vacant for s in seats] == [False, True, True]
    assert contact_lines(seats)[1:] == [
        "Senator for FL: vacant (Ashley Moody's term ended 2026-11-03)",
        "Representative for FL-20: vacant",
    ]
    # Before that day the same data names her.
    before = members_for("FL", 20, directory.legislators.values(), date(2026, 11, 2))
    assert before[1].member is not None and before[1].member.name == "Ashley Moody"
    oh = members_for("OH", 4, directory.legislators.values(), TODAY)
    assert [s.member.name if s.member else "vacant" for s in oh] == ["Bernie Moreno", "vacant", "Jim Jordan"]


def test_member_without_phone_or_page(directory: Directory) -> None:
    seats = members_for("CA", 1, directory.legislators.values(), TODAY)
    assert contact_lines(seats[2:]) == ["Rep. James Gallagher (R-CA-1): no phone listed"]


def test_unknown_state_and_district_are_errors(directory: Directory) -> None:
    assert "unknown state 'ZZ'" in (check_place("ZZ", None) or "")
    with pytest.raises(ContactsError, match="unknown state"):
        members_for("ZZ", 1, directory.legislators.values(), TODAY)
    assert check_place("MA", 12) == "MA has districts 1 to 9, not 12"
    assert check_place("WY", 1) == "WY has a single at-large seat: use district = 0"
    assert check_place("ma", 7) is None and check_place("DC", 0) is None


def test_states_and_apportionment_match_the_data(directory: Directory) -> None:
    assert len(STATES) == 56 and sum(HOUSE_SEATS.values()) == 435
    for member in directory.legislators.values():
        assert member.state in STATES
        if member.chamber == "house" and member.state in HOUSE_SEATS:
            assert (member.district or 0) <= HOUSE_SEATS[member.state]
            assert (member.district == 0) == (HOUSE_SEATS[member.state] == 1), member.label


def test_bad_data_is_one_line() -> None:
    with pytest.raises(ContactsError, match="legislators-current: not JSON"):
        parse_legislators(b"<html>Service Unavailable</html>")
    with pytest.raises(ContactsError, match="expected a list"):
        parse_legislators(b'{"error": "rate limited"}')


# -- committees ------------------------------------------------------------------------------------


def test_committee_codes() -> None:
    assert committee_code("hsju00") == "HSJU"
    assert committee_code("hsju08") == "HSJU08"
    assert committee_code("SSBK") == "SSBK"
    with pytest.raises(ContactsError):
        committee_code("judiciary")


def test_house_judiciary_leaders(directory: Directory) -> None:
    leaders = committee_leaders("hsju00", directory, today=TODAY)
    assert leaders is not None
    assert leaders.committee.name == "House Committee on the Judiciary"
    assert leaders.chair and (leaders.chair.role, leaders.chair.legislator.name) == ("Chair", "Jim Jordan")
    assert leaders.ranking and (leaders.ranking.role, leaders.ranking.legislator.name) == (
        "Ranking Member", "Jamie Raskin")
    lines = contact_lines([leaders])
    assert lines[0] == "House Committee on the Judiciary, (202) 225-6906, https://judiciary.house.gov/"
    assert lines[1].startswith("  Chair: Rep. Jim Jordan (R-OH-4): 202-225-2676")
    assert lines[2].startswith("  Ranking Member: Rep. Jamie Raskin (D-MD-8): 202-225-5341")


def test_subcommittee_code_resolves_to_the_subcommittee(directory: Directory) -> None:
    leaders = committee_leaders("hsju08", directory)
    assert leaders is not None
    assert leaders.committee.display == ("House Committee on the Judiciary, "
                                         "Subcommittee on Crime and Federal Government Surveillance")
    assert leaders.chair and leaders.chair.legislator and leaders.chair.legislator.name == "Andy Biggs"
    assert leaders.ranking and leaders.ranking.legislator and leaders.ranking.legislator.name == "Lucy McBath"


def test_your_members_on_the_committee(directory: Directory) -> None:
    seats = members_for("MA", 7, directory.legislators.values(), TODAY)
    oversight = committee_leaders("hsgo00", directory, yours=seats, today=TODAY)
    assert oversight is not None
    assert [y.legislator.name for y in oversight.yours if y.legislator] == ["Ayanna Pressley"]
    assert contact_lines([oversight])[-1].startswith("  Your member on it: Rep. Ayanna Pressley (D-MA-7)")
    banking = committee_leaders("ssbk00", directory, yours=seats, today=TODAY)
    assert banking is not None and banking.chair and banking.chair.role == "Chairman"
    assert contact_lines([banking])[-1].startswith(
        "  Your member on it (Ranking Member): Sen. Elizabeth Warren (D-MA)")
    judiciary = committee_leaders("HSJU", directory, yours=seats, today=TODAY)
    assert judiciary is not None and judiciary.yours == ()


def test_leaders_by_rank_when_no_title(directory: Directory) -> None:
    # Synthetic membership (derived): the same committee with the titles removed.
    untitled = Directory(directory.legislators, directory.committees,
                         {"HSJU": tuple(replace(m, title=None) for m in directory.membership["HSJU"])})
    leaders = committee_leaders("HSJU", untitled)
    assert leaders and leaders.chair and leaders.ranking
    assert (leaders.chair.role, leaders.chair.membership.name) == ("Chair", "Jim Jordan")
    assert (leaders.ranking.role, leaders.ranking.membership.name) == ("Ranking Member", "Jamie Raskin")
    # A select subcommittee with no minority members names its chair only.
    select = committee_leaders("HSQJ", directory)
    assert select and select.chair and select.ranking is None
    assert committee_leaders("HSXX", directory) is None


# -- the leaders of the committees holding a bill (tests/test_bills.py: which committees) ----------


def test_leaders_of_the_committees_holding_a_bill(directory: Directory) -> None:
    held = committees_holding(bill("BILLSTATUS-115hr367.xml"))
    assert [h.code for h in held] == ["HSJU", "HSWM"]
    names = [committee_leaders(h.code, directory).chair.legislator.name for h in held]  # type: ignore[union-attr]
    assert names == ["Jim Jordan", "Jason Smith"]


def test_congress_on() -> None:
    assert congress_on(date(2026, 11, 24)) == 119
    assert congress_on(date(2025, 1, 2)) == 118
    assert congress_on(date(2025, 1, 3)) == 119


# -- the files as the source will fetch them -------------------------------------------------------


def test_files_are_servable_as_the_source_requests_them(replay) -> None:  # type: ignore[no-untyped-def]
    for name in FILES:
        replay.add(f"/congress-legislators/{name}.json", LEGISLATORS / f"{name}.json")
    base = f"{replay.url}/congress-legislators"
    bodies = []
    for name in FILES:
        with urllib.request.urlopen(f"{base}/{name}.json", timeout=10) as response:
            assert response.headers["Content-Type"].startswith("application/json")
            assert response.headers["ETag"]
            bodies.append(response.read())
    fetched = load_directory(*bodies)
    seats = members_for("MA", 7, fetched.legislators.values(), TODAY)
    assert seats[2].member and seats[2].member.phone == "202-225-5111"
    assert json.loads(bodies[2])["HSJU"][0]["name"] == "Jim Jordan"


def test_find_your_members_table(directory: Directory) -> None:
    seats = all_seats(directory.legislators.values(), TODAY)
    assert len(seats) == 100 + 435 + 6
    assert sorted(s.name for s in seats if s.vacant) == [
        "Representative for CA-14", "Representative for FL-20", "Representative for GA-13",
        "Representative for TX-23", "Senator for FL", "Senator for OH"]
    ma = [s.member.name for s in seats if s.state == "MA" and s.member]
    assert ma[:2] == ["Elizabeth Warren", "Edward J. Markey"] and ma[2 + 6] == "Ayanna Pressley"


def test_sponsor(directory: Directory) -> None:
    jeffries = sponsor(bill("BILLSTATUS-117hr2471.xml"), directory)
    assert isinstance(jeffries, Legislator) and jeffries.label == "Rep. Hakeem S. Jeffries (D-NY-8)"
    # Jeff Duncan no longer serves: the name as BILLSTATUS gives it, no phone to call.
    assert sponsor(bill("BILLSTATUS-115hr367.xml"), directory) == "Rep. Duncan, Jeff [R-SC-3]"
