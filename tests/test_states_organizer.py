"""State bills as an organizer sees them: the "who to contact" lines and headlines of a state bill
alert (tracker/statepeople.py, tracker/states.py) against the variety real states have. The people
are the real openstates/people files in tracker/demo/data/openstates/people and the recorded API
bills; where a shape is not among them (DC's council, a bill reconsidered in committee) it is built
here in the documented openstates/people and API v3 shapes, modelled on the real files it names."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path
from typing import Any

from alerting import write_config
from click.testing import CliRunner
from recorded import serve_openstates

from tracker.cli import main
from tracker.demo.openstates_api import DATA
from tracker.demo.replay import ReplayServer
from tracker.digest import state_stage_steps
from tracker.records import StateBill
from tracker.statepeople import (
    StateDirectory,
    bill_contact_lines,
    read_committee_yaml,
    read_legislator_yaml,
    read_people_dir,
)
from tracker.states import diff_bill, headline, read_bill, where_it_stands

PEOPLE = DATA / "people"
SPRING_2021 = date(2021, 3, 1)
LATER = json.loads((DATA / "api" / "later.json").read_text())
KEY = "os-Key-5521-abcdef"


def recorded(identifier: str) -> dict[str, Any]:
    return next(b for b in LATER["bills"] if b["identifier"] == identifier)


def api_bill(state: str, identifier: str, actions: list[tuple[str, str, list[str], str, list[str]]],
             *, jurisdiction: str = "state") -> dict[str, Any]:
    """An API v3 bill (`/bills` with `include=actions`): each action is (date, chamber role,
    classification, description, committees named)."""
    return {
        "id": f"ocd-bill/{state}-{identifier}", "session": "2025", "identifier": identifier,
        "title": "Tenant protections", "jurisdiction": {"id": f"ocd-jurisdiction/country:us/{jurisdiction}:{state}/government"},
        "from_organization": {"classification": actions[0][1]},
        "actions": [{"date": day, "description": text, "order": order, "classification": kinds,
                     "organization": {"classification": role},
                     "related_entities": [{"name": name, "entity_type": "organization"} for name in committees]}
                    for order, (day, role, kinds, text, committees) in enumerate(actions)],
    }


# -- the committee chair to call ----------------------------------------------------------------------


def test_a_new_york_senate_committee_chair_is_named() -> None:
    """New York's Senate committee files call the chair "committee chair": the alert named the
    committee holding A 99901 and no one to call."""
    assert "role: committee chair" in next((PEOPLE / "ny" / "committees").glob("upper-Codes-*.yml")).read_text()
    directory, problems = read_people_dir(PEOPLE, "ny", today=SPRING_2021)
    assert problems == []
    a99901 = read_bill(recorded("A 99901"))  # passed the Assembly, in the Senate's Codes Committee
    lines = bill_contact_lines(a99901, directory)
    assert lines[0] == "In committee now: the Senate Codes Committee; its chair:"
    assert lines[1] == "  Chair Jamaal T. Bailey (no phone known)"
    s99902 = read_bill(recorded("S 99902"))  # in the Senate Judiciary Committee
    lines = bill_contact_lines(s99902, directory)
    assert lines[0] == "In committee now: the Senate Judiciary Committee; its chair:"
    assert lines[1].startswith("  Chair Brad Hoylman (Democratic, Senate District 27): ")
    # Pennsylvania's House names the minority's chair beside the chair: never the one to call
    pa = read_committee_yaml(PA_APPROPRIATIONS, where="pa committee")
    assert [m.name for m in pa.chairs] == ["Jordan Harris"]


PA_APPROPRIATIONS = """id: ocd-organization/e50fbc1f-5bbb-4fac-8e13-81944b24cab3
jurisdiction: ocd-jurisdiction/country:us/state:pa/government
classification: committee
name: Appropriations
chamber: lower
members:
- name: Jordan Harris
  role: chair
  person_id: ocd-person/2313ce98-7ac4-44b9-a61d-5b128338a405
- name: Kyle Mullins
  role: vice chair
  person_id: ocd-person/625784c9-4cd0-417c-9c44-1acd53b34307
- name: Seth Grove
  role: republican chair
  person_id: ocd-person/f10a1cb3-df7f-432c-8d33-e6d3293b7f88
- name: Torren Ecker
  role: republican vice chair
  person_id: ocd-person/6f375652-451b-4c39-9b29-6ba5a07073c6
"""


def test_the_other_chambers_namesake_is_never_the_chair_to_call() -> None:
    """A bill in the House Judiciary Committee when only the Senate's Judiciary file is known: the
    alert named the Senate chair as the one holding it."""
    directory, _ = read_people_dir(PEOPLE, "co", today=SPRING_2021)
    senate_only = StateDirectory("co", directory.legislators,
                                 tuple(c for c in directory.committees if c.chamber == "upper"))
    bill = read_bill(api_bill("co", "HB 1001", [
        ("2025-01-10", "lower", ["introduction"], "Introduced In House", []),
        ("2025-01-10", "lower", ["referral-committee"], "Assigned to Judiciary", ["Judiciary"])]))
    assert bill.committee == {"name": "Judiciary", "chamber": "lower"}
    lines = bill_contact_lines(bill, senate_only)
    assert lines == ["In committee now: the House Judiciary Committee"]
    assert not any("Pete Lee" in line for line in lines)  # the Senate Judiciary chair
    assert bill_contact_lines(bill, directory)[1].startswith("  Chair ")  # both known: the House one
    assert "Pete Lee" not in bill_contact_lines(bill, directory)[1]


def test_a_bill_referred_to_two_committees_is_with_the_first_named() -> None:
    """"Referred to Judiciary then Appropriations": the bill is in Judiciary. The action's committees
    are kept in alphabetical order, and the first of them was taken as the one holding it, so the
    alert named the Appropriations chair."""
    directory, _ = read_people_dir(PEOPLE, "co", today=SPRING_2021)
    bill = read_bill(api_bill("co", "HB 1002", [
        ("2025-01-10", "lower", ["introduction"], "Introduced In House", []),
        ("2025-01-10", "lower", ["referral-committee"], "Introduced In House - Assigned to Judiciary + Appropriations",
         ["Judiciary", "Appropriations"])]))
    assert bill.committee == {"name": "Judiciary", "chamber": "lower"}
    assert where_it_stands(bill) == "was referred to the House Judiciary Committee"
    lines = bill_contact_lines(bill, directory)
    assert lines[0] == "In committee now: the House Judiciary Committee; its chair:"
    assert lines[1].startswith("  Chair Mike Weissman (Democratic, House District 36): ")


def test_a_chair_who_left_mid_session_is_not_the_one_to_call(tmp_path: Path) -> None:
    """Colorado's Senate Judiciary chair resigns: openstates/people ends his role (or moves his file
    to `retired/`) before the committee file is next updated. The alert still named him as the
    chair to call, "no phone known"."""
    source = PEOPLE / "co"
    sb217 = read_bill(api_bill("co", "SB 2001", [
        ("2021-03-01", "upper", ["introduction"], "Introduced In Senate", []),
        ("2021-03-01", "upper", ["referral-committee"], "Assigned to Judiciary", ["Judiciary"])]))
    lee = next((source / "legislature").glob("Pete-Lee-*.yml"))
    for how in ("ended", "retired"):
        copy = tmp_path / how / "co"
        shutil.copytree(source, copy)
        moved = copy / "legislature" / lee.name
        if how == "ended":
            moved.write_text(lee.read_text().replace("  start_date: '2019-01-04'\n",
                                                     "  start_date: '2019-01-04'\n  end_date: '2021-02-15'\n"))
        else:
            (copy / "retired").mkdir()
            moved.rename(copy / "retired" / lee.name)
        directory, problems = read_people_dir(tmp_path / how, "co", today=SPRING_2021)
        assert problems == [] and not [p for p in directory.legislators if p.name == "Pete Lee"]
        lines = bill_contact_lines(sb217, directory)
        assert lines[0] == "In committee now: the Senate Judiciary Committee", how
        assert not [line for line in lines if "Pete Lee" in line], how
    sitting, _ = read_people_dir(PEOPLE, "co", today=SPRING_2021)
    assert bill_contact_lines(sb217, sitting)[1].startswith("  Chair Pete Lee (Democratic, Senate District 11): ")
    elect = tmp_path / "elect" / "co"  # a member-elect the committee file already names has not left
    shutil.copytree(source, elect)
    (elect / "legislature" / lee.name).write_text(lee.read_text().replace("start_date: '2019-01-04'",
                                                                          "start_date: '2021-06-01'"))
    directory, _ = read_people_dir(tmp_path / "elect", "co", today=SPRING_2021)
    assert bill_contact_lines(sb217, directory)[1] == "  Chair Pete Lee (no phone known)"


DC_COMMITTEE = """id: ocd-organization/fa990463-ed0f-4c26-88d5-5e40b6d63c20
jurisdiction: ocd-jurisdiction/country:us/district:dc/government
classification: committee
name: Council Judiciary and Public Safety
chamber: legislature
members:
- name: Brooke Pinto
  role: chair
  person_id: ocd-person/bf329860-076e-4d14-bed2-969d0d13dfec
- name: Charles Allen
  role: member
  person_id: ocd-person/ab8e39c8-583e-4e9d-b481-0f43c21318ba
other_names:
- name: Committee on the Judiciary and Public Safety
"""


def test_a_committee_found_by_its_other_name() -> None:
    """DC's committee files are named "Council Judiciary and Public Safety"; its bills are referred
    to the "Committee on the Judiciary and Public Safety", the file's other name."""
    committee = read_committee_yaml(DC_COMMITTEE, where="dc committee")
    bill = read_bill(api_bill("dc", "B26-0001", [
        ("2025-01-10", "legislature", ["introduction"], "Introduced", []),
        ("2025-01-14", "legislature", ["referral-committee"],
         "Referred to Committee on the Judiciary and Public Safety",
         ["Committee on the Judiciary and Public Safety"])], jurisdiction="district"))
    lines = bill_contact_lines(bill, StateDirectory("dc", (), (committee,)))
    assert lines == ["In committee now: the Committee on the Judiciary and Public Safety; its chair:",
                     "  Chair Brooke Pinto (no phone known)"]


# -- your own legislators, by district as you wrote it ------------------------------------------------


def test_districts_as_subscribers_write_them() -> None:
    """Massachusetts names its Senate districts in words ("Second Suffolk") and its House districts
    in figures ("5th Suffolk"); a subscriber writing the other form, or "District 8" for Colorado's
    "8", was told of no legislator of theirs."""
    ma, _ = read_people_dir(PEOPLE, "ma", today=SPRING_2021)
    s2963 = read_bill(recorded("S 2963"))
    lines = bill_contact_lines(s2963, ma, state="MA", senate_district="2nd Suffolk", house_district="Fifth Suffolk")
    assert lines[0] == "Your state legislators:"
    assert lines[1].startswith("  Senator Sonia Chang-Diaz (Democratic, Senate, Second Suffolk District): ")
    assert lines[2].startswith("  Representative Liz Miranda (Democratic, House, 5th Suffolk District): ")
    co, _ = read_people_dir(PEOPLE, "co", today=SPRING_2021)
    sb217 = read_bill(recorded("SB 217"))
    for written in ("8", "08", "District 8", "House District 008"):
        lines = bill_contact_lines(sb217, co, state="CO", house_district=written)
        assert lines[0] == "Your state legislators:", written
        assert "House District 8" in lines[1], written


BONDS = """id: ocd-person/860fa95b-c737-43bd-948d-1dd6dc1b734e
name: Anita Bonds
email: abonds@dccouncil.gov
party:
- name: Democratic
roles:
- start_date: 2012-12-11
  type: upper
  jurisdiction: ocd-jurisdiction/country:us/district:dc/government
  district: At-large
- start_date: 2012-12-11
  type: legislature
  jurisdiction: ocd-jurisdiction/country:us/district:dc/government
  district: At-Large
offices:
- classification: district
  address: 1350 Pennsylvania Ave. NW Suite 404, Washington, DC 20004
  voice: 202-724-8064
"""


ALLEN = """id: ocd-person/ab8e39c8-583e-4e9d-b481-0f43c21318ba
name: Charles Allen
party:
- name: Democratic
roles:
- district: Ward 6
  jurisdiction: ocd-jurisdiction/country:us/district:dc/government
  type: legislature
contact_details:
- email: callen@dccouncil.us
  note: Capitol Office
  voice: 202-724-8072
"""
ALLEN_LINE = "  Councilmember Charles Allen (Democratic, Council, Ward 6): 202-724-8072, callen@dccouncil.us"


def dc_bill() -> StateBill:
    return read_bill(api_bill("dc", "B26-0001", [("2025-01-10", "legislature", ["introduction"], "Introduced", [])],
                              jurisdiction="district"))


def nh_representative(name: str, uuid: str) -> str:
    """A New Hampshire House member's file, in the shape of the real ones (`Hillsborough 43`)."""
    return f"""id: ocd-person/{uuid}
name: {name}
party:
- name: Democratic
roles:
- district: Hillsborough 43
  jurisdiction: ocd-jurisdiction/country:us/state:nh/government
  type: lower
contact_details:
- address: 895 Bridge Street;Manchester, NH 03104
  note: District Office
  voice: 603-315-1597
"""


def test_every_member_of_a_new_hampshire_district_as_its_people_write_it() -> None:
    """New Hampshire's House districts have several members, named by county and number; a
    subscriber writes "Hillsborough County District 43"."""
    people = tuple(read_legislator_yaml(nh_representative(name, uuid), where=name, today=SPRING_2021)
                   for name, uuid in (("Amy Bradley", "5b7f0213-5ecb-4d91-84c8-29c0abedfe7f"),
                                      ("Jane Doe", "00000000-0000-4000-8000-000000000043")))
    bill = read_bill(api_bill("nh", "HB 100", [("2025-01-10", "lower", ["introduction"], "Introduced", [])]))
    lines = bill_contact_lines(bill, StateDirectory("nh", people), state="NH",
                               house_district="Hillsborough County District 43")
    assert lines == ["Your state legislators:",
                     "  Representative Amy Bradley (Democratic, House, Hillsborough 43): 603-315-1597",
                     "  Representative Jane Doe (Democratic, House, Hillsborough 43): 603-315-1597"]


def test_a_seat_left_vacant_mid_session_is_said(tmp_path: Path) -> None:
    """Colorado's Senate District 34 member resigns (her role ends): the alert named the subscriber's
    representative and said nothing of their senator, as if they had given no Senate district."""
    copy = tmp_path / "co"
    shutil.copytree(PEOPLE / "co", copy)
    gonzales = next((copy / "legislature").glob("Julie-Gonzales-*.yml"))
    gonzales.write_text(gonzales.read_text().replace("  type: upper\n", "  type: upper\n  end_date: '2021-02-15'\n"))
    directory, _ = read_people_dir(tmp_path, "co", today=SPRING_2021)
    sb217 = read_bill(recorded("SB 217"))
    lines = bill_contact_lines(sb217, directory, state="CO", senate_district="34", house_district="8")
    assert lines[:3] == [
        "Your state legislators:",
        "  Representative Leslie Herod (Democratic, House District 8): 303-866-2959, leslie.herod.house@state.co.us",
        "  Senate District 34: no sitting member known (a vacant seat, or the district is written otherwise)"]
    sitting, _ = read_people_dir(PEOPLE, "co", today=SPRING_2021)
    lines = bill_contact_lines(sb217, sitting, state="CO", senate_district="34", house_district="8")
    assert not [line for line in lines if "no sitting member" in line]


def test_a_dc_ward_written_as_its_number() -> None:
    """DC's councilmembers sit for "Ward 6"; a subscriber in Ward 6 writes "6"."""
    allen = read_legislator_yaml(ALLEN, where="dc legislator", today=SPRING_2021)
    lines = bill_contact_lines(dc_bill(), StateDirectory("dc", (allen,)), state="DC", senate_district="6")
    assert lines == ["Your state legislators:", ALLEN_LINE]


def test_at_large_members_sit_for_every_district() -> None:
    """DC's at-large councilmembers (in the real files' shape: an old `upper` seat left open beside
    the `legislature` one) sit for every ward: a subscriber in Ward 6 was told only of Ward 6's."""
    bonds = read_legislator_yaml(BONDS, where="dc legislator", today=SPRING_2021)
    allen = read_legislator_yaml(ALLEN, where="dc legislator", today=SPRING_2021)
    assert (bonds.chamber, bonds.district) == ("legislature", "At-Large")
    for asked in ({"senate_district": "Ward 6"}, {"house_district": "Ward 6"}):
        lines = bill_contact_lines(dc_bill(), StateDirectory("dc", (bonds, allen)), state="DC", **asked)
        assert lines == ["Your state legislators:", ALLEN_LINE,
                         "  Councilmember Anita Bonds (Democratic, Council, At-Large): 202-724-8064, "
                         "abonds@dccouncil.gov"], asked


# -- stages ---------------------------------------------------------------------------------------------


def test_a_bill_reconsidered_in_committee_after_failing_goes_on() -> None:
    """A bill that failed in committee, was reconsidered and reported: the alert said it had
    failed, and the page kept saying so."""
    before = read_bill(api_bill("va", "HB 1500", [
        ("2025-01-10", "lower", ["introduction"], "Presented and ordered printed", []),
        ("2025-01-10", "lower", ["referral-committee"], "Referred to Committee for Courts of Justice",
         ["Courts of Justice"]),
        ("2025-01-20", "lower", ["committee-failure"], "Failed to report (defeated) in Courts of Justice (10-Y 12-N)",
         [])]))
    assert before.stage == "failed"
    after = read_bill(api_bill("va", "HB 1500", [
        ("2025-01-10", "lower", ["introduction"], "Presented and ordered printed", []),
        ("2025-01-10", "lower", ["referral-committee"], "Referred to Committee for Courts of Justice",
         ["Courts of Justice"]),
        ("2025-01-20", "lower", ["committee-failure"], "Failed to report (defeated) in Courts of Justice (10-Y 12-N)",
         []),
        ("2025-01-22", "lower", ["committee-passage"], "Reconsidered; reported from Courts of Justice (13-Y 9-N)",
         [])]))
    assert after.stage == "reported" and where_it_stands(after) == "came out of committee"
    changes = diff_bill(before, after, after.entity)
    assert headline(changes, after) == "Virginia HB 1500 came out of committee"


def test_a_nebraska_referral_in_nebraskas_words() -> None:
    """Nebraska has one chamber, and its committees no chamber word: the alert said the bill "was
    referred to the Legislature Judiciary Committee"."""
    before = read_bill(api_bill("ne", "LB 77", [
        ("2025-01-10", "legislature", ["introduction"], "Date of introduction", [])]))
    after = read_bill(api_bill("ne", "LB 77", [
        ("2025-01-10", "legislature", ["introduction"], "Date of introduction", []),
        ("2025-01-14", "legislature", ["referral-committee"], "Referred to Judiciary Committee", ["Judiciary"])]))
    assert headline(diff_bill(before, after, after.entity), after) == \
        "Nebraska LB 77 was referred to the Judiciary Committee"
    assert bill_contact_lines(after, None) == ["In committee now: the Judiciary Committee"]


def test_dc_bills_go_to_the_mayor() -> None:
    """DC's acts go to the Mayor, who signs or vetoes them; the alert said the Governor."""
    actions = [("2025-01-10", "legislature", ["introduction"], "Introduced", []),
               ("2025-03-04", "legislature", ["passage"], "Final Reading, Approved", [])]
    passed = read_bill(api_bill("dc", "B26-0002", actions, jurisdiction="district"))
    sent = read_bill(api_bill("dc", "B26-0002", [*actions, ("2025-03-10", "executive", ["executive-receipt"],
                                                            "Transmitted to Mayor", [])], jurisdiction="district"))
    vetoed = read_bill(api_bill("dc", "B26-0002", [*actions, ("2025-03-10", "executive", ["executive-receipt"],
                                                              "Transmitted to Mayor", []),
                                                   ("2025-03-20", "executive", ["executive-veto"], "Vetoed by Mayor",
                                                    [])], jurisdiction="district"))
    assert headline(diff_bill(passed, sent, sent.entity), sent) == "District of Columbia B26-0002 went to the Mayor"
    assert where_it_stands(vetoed) == "was vetoed by the Mayor"
    assert [s["label"] for s in state_stage_steps(sent)] == ["Introduced", "Committee", "Council", "Mayor", "Law"]
    assert sent.actions[-1]["chamber_name"] == "Mayor"


# -- a watch's numbers as organizers write them -----------------------------------------------------------


def test_named_bills_written_with_dots_are_found(tmp_path: Path, replay: ReplayServer) -> None:
    """"S.2963" (as the config's own example writes it) and "H.B. 4": the loopback API, like Open
    States, only adds a space and drops zeros, so it was asked for "S.2963" and "H.B. 4", which are
    no bills; the watches found nothing, and said nothing of it."""
    api, base = serve_openstates(replay, keys={KEY}, per_minute=1000)
    watches = [{"id": "ma-s2963", "name": "Massachusetts S.2963", "state": "ma", "session": "191st",
                "numbers": ["S.2963"]},
               {"id": "nm-hb4", "name": "New Mexico H.B. 4", "state": "nm", "session": "2021",
                "numbers": ["H.B. 4", "HB0004"]}]
    config = write_config(tmp_path, bills=watches, subscribers=[],
                          extra="[crawl]\ndelay_seconds = 0\n[sources.openstates]\n"
                                f'base_url = "{base}"\napi_key = "${{OPENSTATES_API_KEY}}"\nper_minute = 6000\n')
    env = {"TRACKER_NOW": "2021-04-01T12:00:00Z", "OPENSTATES_API_KEY": KEY}
    crawled = CliRunner().invoke(main, ["--config", str(config), "crawl"], env=env, catch_exceptions=False)
    assert crawled.exit_code == 0, crawled.output
    status = json.loads(CliRunner().invoke(main, ["--config", str(config), "status", "--json"], env=env).stdout)
    assert {(b["entity"], b["number"]) for b in status["state_bills"]} == {
        ("statebill:ma:191st:s2963", "S 2963"), ("statebill:nm:2021:hb4", "HB 4")}
    asked = sorted(v for r in api.requests if r.path == "/bills" for k, v in r.params if k == "identifier")
    assert asked == ["HB 4", "S 2963"]  # as Open States stores them


# -- sponsors ---------------------------------------------------------------------------------------------


def test_a_sponsor_linked_to_their_person_later_neither_left_nor_joined() -> None:
    """Open States links a sponsorship to its person some time after scraping it (`person` null,
    then the person): the alert told the sponsor had left and joined again."""
    linked = recorded("SB 217")
    unlinked = json.loads(json.dumps(linked))
    gonzales = next(s for s in unlinked["sponsorships"] if s["name"] == "Julie Gonzales")
    gonzales["person"] = None
    before, after = read_bill(unlinked), read_bill(linked)
    assert [s["person_id"] for s in before.sponsors if s["name"] == "Julie Gonzales"] == [None]
    assert [c.kind for c in diff_bill(before, after, after.entity)] == []
    assert [c.kind for c in diff_bill(after, before, after.entity)] == []  # and unlinked again
    gone = json.loads(json.dumps(linked))
    gone["sponsorships"] = [s for s in gone["sponsorships"] if s["name"] != "Julie Gonzales"]
    left = diff_bill(before, read_bill(gone), after.entity)
    assert [(c.kind, c.summary) for c in left] == [
        ("bill.cosponsor_withdrawn", "Colorado SB 217: Julie Gonzales is no longer a sponsor")]


def test_the_upgrade_corrects_a_failed_stage_and_tells_what_happened_meanwhile(tmp_path: Path) -> None:
    """openstates-2 reads a bill reconsidered in committee as reported (openstates-1 kept it
    failed, and its subscribers were told it failed): through the store, as a crawl hands it over,
    the upgrade's first read tells them it came out of committee, and a floor vote that came while
    the tracker was down for the upgrade is news, as any other read's."""
    from dataclasses import replace

    from tracker.records import Item
    from tracker.sources import SOURCES
    from tracker.store import Store, ensure_watches, ingest

    actions = [
        ("2025-01-10", "lower", ["introduction"], "Presented and ordered printed", []),
        ("2025-01-10", "lower", ["referral-committee"], "Referred to Committee for Courts of Justice",
         ["Courts of Justice"]),
        ("2025-01-20", "lower", ["committee-failure"], "Failed to report (defeated) in Courts of Justice (10-Y 12-N)",
         []),
        ("2025-01-22", "lower", ["committee-passage"], "Reconsidered; reported from Courts of Justice (13-Y 9-N)", [])]
    reported = read_bill(api_bill("va", "HB 1500", actions))
    assert reported.stage == "reported"
    as_openstates_1_stored = replace(reported, stage="failed")
    passed = read_bill(api_bill("va", "HB 1500", [
        *actions, ("2025-02-01", "lower", ["passage"], "Read third time and passed House (60-Y 40-N)", [])]))
    assert passed.stage == "passed_lower"
    kind = SOURCES["openstates"]

    def told(stored: StateBill, read: StateBill) -> list[str]:
        store = Store(f"sqlite:///{tmp_path / f'{len(read.actions)}.db'}")
        with store.session() as session:
            ensure_watches(session, [("tenants", "statebill", "Tenant protections")])

        def item(bill: StateBill, version: str) -> Item:
            return Item(key=bill.entity, kind="statebill", source_id="openstates", watch_ids=["tenants"],
                        content=bill, parser_version=version, reads_anew=kind.reads_anew)

        ingest(store, item(stored, "openstates-1"), diff_bill)
        changes = ingest(store, item(read, kind.parser_version), diff_bill).changes
        store.dispose()
        return [f"{c.kind}: {c.summary}" for c in changes]

    assert told(as_openstates_1_stored, reported) == ["bill.stage: Virginia HB 1500 came out of committee"]
    assert told(as_openstates_1_stored, passed) == [
        "bill.action: Virginia HB 1500: Read third time and passed House (60-Y 40-N)",
        "bill.stage: Virginia HB 1500 passed the House of Delegates"]
