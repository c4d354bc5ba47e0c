"""Federal bills as pure functions, on every real BILLSTATUS fixture (tests/data/federal)."""

from __future__ import annotations

import re
import time
from dataclasses import replace

import pytest
from recorded import federal

from tracker.bills.billstatus import BillParseError, parse_billstatus
from tracker.bills.committees import committees_holding, thomas_id
from tracker.bills.diff import diff_bill
from tracker.bills.stages import derive_stage
from tracker.bills.titles import normalize_title, title_matches
from tracker.demo.derive import billstatus_before
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


def load(name: str) -> Bill:
    return parse_billstatus(federal(name))


# file, number, stage, latest action date, current cosponsors, law
EXPECTED = [
    ("BILLSTATUS-114hr3106.xml", "hr3106-114", "reported", "2015-12-03", 2, None),
    ("BILLSTATUS-114hres348.xml", "hres348-114", "passed_house", "2015-10-20", 45, None),
    ("BILLSTATUS-114s1300.xml", "s1300-114", "enacted", "2015-10-16", 21, "114-70"),
    ("BILLSTATUS-114sjres8.xml", "sjres8-114", "vetoed", "2015-05-05", 51, None),
    ("BILLSTATUS-115hr367.xml", "hr367-115", "referred", "2017-02-06", 166, None),
    ("BILLSTATUS-116hr4907.xml", "hr4907-116", "referred", "2019-10-29", 6, None),
    ("BILLSTATUS-117hr2471.xml", "hr2471-117", "enacted", "2022-03-15", 7, "117-103"),
    ("BILLSTATUS-117hr4350.xml", "hr4350-117", "passed_house", "2022-03-01", 1, None),
    ("BILLSTATUS-117hr6658.xml", "hr6658-117", "referred", "2022-02-09", 111, None),
    ("BILLSTATUS-117s35.xml", "s35-117", "passed_senate", "2021-02-18", 72, None),
    ("pre-v3/BILLSTATUS-117s35.xml", "s35-117", "passed_senate", "2021-02-18", 72, None),
    ("BILLSTATUS-117sconres7.xml", "sconres7-117", "referred", "2021-03-01", 38, None),
]


@pytest.mark.parametrize(("name", "number", "stage", "latest", "cosponsors", "law"), EXPECTED)
def test_every_fixture(name: str, number: str, stage: str, latest: str, cosponsors: int, law: str | None) -> None:
    bill = load(name)
    assert bill.number == number
    assert bill.stage == stage
    assert bill.latest_action and bill.latest_action["date"] == latest
    assert bill.active_cosponsors == sum(1 for c in bill.cosponsors if not c["withdrawn"]) == cosponsors
    assert (bill.laws[0]["number"] if bill.laws else None) == law
    assert bill.url and bill.url.startswith("https://www.congress.gov/bill/")
    assert bill.sponsor and bill.sponsor["bioguide_id"]
    dates = [a["date"] for a in bill.actions]
    assert dates == sorted(dates)
    assert len({a["id"] for a in bill.actions}) == len(bill.actions)


def test_v3_and_legacy_give_the_same_facts() -> None:
    v3, legacy = load("BILLSTATUS-117s35.xml"), load("pre-v3/BILLSTATUS-117s35.xml")
    for field in ("number", "congress", "type", "title", "short_titles", "sponsor", "cosponsors", "actions",
                  "committees", "laws", "stage", "latest_action", "introduced", "policy_area"):
        assert getattr(v3, field) == getattr(legacy, field), field
    # The one fact the schemas word differently: the official title ("A bill to..." vs "To...").
    assert diff_bill(legacy, v3, "bill:s35-117") == []
    assert diff_bill(v3, legacy, "bill:s35-117") == []


def test_library_of_congress_duplicate_rows_are_merged() -> None:
    bill = load("BILLSTATUS-117hr2471.xml")
    law = [a for a in bill.actions if a["text"].startswith("Became Public Law")]
    assert len(law) == 1 and set(law[0]["codes"]) == {"36000", "E40000"} and law[0]["code"] == "E40000"


def test_distinct_events_with_equal_text_stay_distinct() -> None:
    referrals = [a for a in load("BILLSTATUS-116hr4907.xml").actions if a["code"] == "H11100"]
    assert len(referrals) == 3
    assert len({tuple(a["committees"]) for a in referrals}) == 3
    # 117hr4350 repeats rows with the same date, code and text, told apart only by actionTime.
    from collections import Counter

    from lxml import etree

    raw = etree.fromstring(federal("BILLSTATUS-117hr4350.xml")).find("bill")
    raw_counts = Counter((i.findtext("actionDate"), i.findtext("actionCode"), i.findtext("text"))
                         for i in raw.findall("actions/item") if (i.findtext("actionCode") or "H")[0] == "H")
    parsed = Counter((a["date"], a["code"], a["text"]) for a in load("BILLSTATUS-117hr4350.xml").actions)
    repeats = {k: n for k, n in raw_counts.items() if n > 1}
    assert len(repeats) >= 5 and max(repeats.values()) == 5
    for key, n in repeats.items():
        assert parsed[key] == n, key


def test_withdrawn_cosponsor() -> None:
    bill = load("BILLSTATUS-115hr367.xml")
    withdrawn = [c for c in bill.cosponsors if c["withdrawn"]]
    assert [(c["withdrawn"], c["date"]) for c in withdrawn] == [("2017-10-04", "2017-06-20")]
    assert "DeFazio" in (withdrawn[0]["name"] or "")


def test_large_file_parses_fast() -> None:
    data = federal("BILLSTATUS-117hr4350.xml")
    started = time.perf_counter()
    parse_billstatus(data)
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
         b"<billStatus><bill>&lol2;</bill></billStatus>", "declares a DTD or entities"),
        (federal("BILLSTATUS-117s35.xml")[:20000], "truncated or malformed XML"),
        (b"<html><body>Service unavailable</body></html>", "not a BILLSTATUS document"),
        (b"", "truncated or malformed XML"),
    ],
)
def test_bad_input_is_a_clear_error(data: bytes, message: str) -> None:
    with pytest.raises(BillParseError, match=message):
        parse_billstatus(data)


def test_reserved_bill_number() -> None:
    data = (b"<billStatus><bill><billNumber>1</billNumber><billType>HR</billType><congress>119</congress>"
            b"<title>Reserved for the Speaker.</title></bill></billStatus>")
    bill = parse_billstatus(data)
    assert bill.reserved and bill.sponsor is None and bill.stage == "introduced"


def _declared(record_type: type) -> set[str]:
    return set(record_type.__required_keys__ | record_type.__optional_keys__)


@pytest.mark.parametrize("name", [row[0] for row in EXPECTED])
def test_the_parse_is_the_record_every_key_declared(name: str) -> None:
    """The parser builds the record itself: nothing lands in `extra`, and every nested row has only
    the keys its record type declares (a misspelt key would be a new, silent snapshot field)."""
    bill = load(name)
    assert isinstance(bill, Bill) and bill.extra == {}
    assert Bill.load(bill.dump()) == bill
    assert all(set(a) <= _declared(BillAction) for a in bill.actions)
    people = [*([bill.sponsor] if bill.sponsor else []), *bill.cosponsors]
    assert all(set(p) <= _declared(Person) for p in people)
    assert all(set(law) == _declared(Law) for law in bill.laws)
    assert bill.latest_action is None or set(bill.latest_action) == _declared(LatestAction)
    for committee in bill.committees:
        assert set(committee) == _declared(BillCommittee)
        activities = [*committee["activities"], *(a for s in committee["subcommittees"] for a in s["activities"])]
        assert all(set(sub) == _declared(Subcommittee) for sub in committee["subcommittees"])
        assert all(set(a) == _declared(CommitteeActivity) for a in activities)


# -- which committees hold a bill ------------------------------------------------------------------


def test_committees_keep_codes_and_activities() -> None:
    committees = load("BILLSTATUS-115hr367.xml").committees
    judiciary = next(c for c in committees if c.get("code") == "hsju00")
    assert judiciary["activities"] == [{"name": "Referred to", "date": "2017-01-09T17:00:15Z"}]
    assert judiciary["subcommittees"][0]["code"] == "hsju08"
    # The same bill in both schemas gives the same committees (legacy: committees/billCommittees).
    assert load("BILLSTATUS-117s35.xml").committees == load("pre-v3/BILLSTATUS-117s35.xml").committees


def test_committee_codes() -> None:
    assert thomas_id("hsju00") == "HSJU"
    assert thomas_id("hsju08") == "HSJU08"
    assert thomas_id("SSBK") == "SSBK"
    assert thomas_id("judiciary") is None and thomas_id(None) is None


def test_bill_in_two_committees_and_a_subcommittee() -> None:
    held = committees_holding(load("BILLSTATUS-115hr367.xml"))
    assert [(h.code, h.subcommittees) for h in held] == [("HSJU", ("HSJU08",)), ("HSWM", ())]
    assert [h.chamber for h in held] == ["House", "House"]


def test_bills_no_longer_in_committee() -> None:
    # Reported: by activity (S. 1300), and by action only (H.R. 3106's committee activities end at
    # "Markup by"; its actions say "Reported (Amended) by the Committee on Veterans' Affairs").
    assert committees_holding(load("BILLSTATUS-114s1300.xml")) == []
    assert committees_holding(load("BILLSTATUS-114hr3106.xml")) == []
    # Discharged (S. 35), and a House bill whose latest referral (Senate) was discharged even though
    # its House committee never reported (H.R. 2471).
    assert committees_holding(load("BILLSTATUS-117s35.xml")) == []
    assert committees_holding(load("BILLSTATUS-117hr2471.xml")) == []
    # Passed the House with its committee's subcommittee discharged (H. Res. 348).
    assert committees_holding(load("BILLSTATUS-114hres348.xml")) == []


def test_bills_still_in_committee() -> None:
    assert [h.code for h in committees_holding(load("BILLSTATUS-116hr4907.xml"))] == ["HSBU", "HSGO", "HSRU"]
    assert [h.code for h in committees_holding(load("BILLSTATUS-117sconres7.xml"))] == ["SSRA"]
    # A snapshot stored before committees carried codes and activities (parser billstatus-1): no guess.
    new = load("BILLSTATUS-117hr6658.xml")
    assert committees_holding(new)
    stored = new.dump()
    stored["committees"] = [{"name": c["name"], "chamber": c["chamber"]} for c in new.committees]
    old = Bill.load(stored)
    assert old.dump() == stored  # read back exactly as stored: its hash never moves
    assert committees_holding(old) == []


# -- stages on derived action lists --------------------------------------------------------------


def act(text: str, *codes: str, chamber: str | None = None, date: str = "2021-01-01") -> BillAction:
    return {"date": date, "time": None, "code": codes[0] if codes else None, "codes": list(codes),
            "text": text, "chamber": chamber}


@pytest.mark.parametrize(
    ("bill_type", "actions", "stage"),
    [
        ("hr", [act("Introduced in House", "1000", chamber="House")], "introduced"),
        ("hr", [act("Referred to the House Committee on the Judiciary.", "H11100", chamber="House")], "referred"),
        ("hr", [act("On passage Failed by the Yeas and Nays: 200 - 220.", "H37100", chamber="House")], "failed"),
        ("s", [act("Passed Senate without amendment by Unanimous Consent.", "17000", chamber="Senate"),
               act("Passed/agreed to in House: On motion to suspend the rules and pass the bill Agreed to by voice vote.", "8000", chamber="House")],
         "passed_both"),
        ("hr", [act("Presented to President.", "28000"), act("Vetoed by President.", "31000"),
                act("Passed House over veto by the Yeas and Nays: 300 - 100.", chamber="House"),
                act("Passed Senate over veto by Yea-Nay Vote. 70 - 30.", chamber="Senate")], "enacted"),
        ("hr", [act("Presented to President.", "28000"), act("Pocket Vetoed by President.")], "vetoed"),
        ("sres", [act("Submitted in the Senate. Resolution agreed to without amendment by Unanimous Consent.", "17000", chamber="Senate")], "passed_senate"),
        ("hr", [act("Motion to proceed to consideration of measure agreed to in Senate by Voice Vote.", chamber="Senate")], "introduced"),
    ],
)
def test_stage_rules(bill_type: str, actions: list[BillAction], stage: str) -> None:
    assert derive_stage(bill_type, actions, []) == stage


def test_a_law_means_enacted() -> None:
    assert derive_stage("hr", [], [Law(type="Public Law", number="117-1")]) == "enacted"


# -- diff on derived earlier states -----------------------------------------------------------


def test_diff_reports_new_actions_stage_and_cosponsors_once() -> None:
    # derived: the real S.35 file with actions and cosponsors dated 2021-02-12 or later removed
    real = federal("BILLSTATUS-117s35.xml")
    before, after = parse_billstatus(billstatus_before(real, "2021-02-12")), parse_billstatus(real)
    assert before.stage == "referred"
    changes = diff_bill(before, after, "bill:s35-117")
    kinds = [c.kind for c in changes]
    assert kinds.count("bill.stage") == 1
    stage = next(c for c in changes if c.kind == "bill.stage")
    assert stage.data == {"from": "referred", "to": "passed_senate"}
    assert stage.summary == "S. 35 (117th) passed the Senate"
    new_actions = [c for c in changes if c.kind == "bill.action"]
    assert len(new_actions) == len(after.actions) - len(before.actions)
    assert all(c.occurred_at >= "2021-02-12" for c in new_actions)
    added = [c for c in changes if c.kind == "bill.cosponsor_added"]
    assert len(added) == len(after.cosponsors) - len(before.cosponsors) > 0
    assert {"name", "bioguide_id", "party", "state", "date"} == set(added[0].data)
    assert len({c.dedupe_key for c in changes}) == len(changes)
    assert diff_bill(after, after, "bill:s35-117") == []


def test_diff_reports_a_withdrawal() -> None:
    # derived: the real H.R.367 file as of before DeFazio's withdrawal on 2017-10-04
    real = federal("BILLSTATUS-115hr367.xml")
    before, after = parse_billstatus(billstatus_before(real, "2017-10-01")), parse_billstatus(real)
    withdrawn = [c for c in diff_bill(before, after, "bill:hr367-115") if c.kind == "bill.cosponsor_withdrawn"]
    assert len(withdrawn) == 1 and withdrawn[0].data["date"] == "2017-10-04"


def test_diff_ignores_an_update_date_only_change() -> None:
    real = federal("BILLSTATUS-117hr6658.xml")
    # derived: GovInfo reprocessed the file, every updateDate moved and nothing else
    bumped, count = re.subn(rb"<updateDate>[^<]*</updateDate>", b"<updateDate>2030-01-01T00:00:00Z</updateDate>", real)
    assert count > 0 and bumped != real
    assert parse_billstatus(bumped) == parse_billstatus(real)
    assert diff_bill(parse_billstatus(real), parse_billstatus(bumped), "bill:hr6658-117") == []


def test_enactment_diff() -> None:
    # derived: the real H.R.2471 file as it was before 2022-03-09 (House passage of the final text)
    real = federal("BILLSTATUS-117hr2471.xml")
    before, after = parse_billstatus(billstatus_before(real, "2022-03-09")), parse_billstatus(real)
    stage = [c for c in diff_bill(before, after, "bill:hr2471-117") if c.kind == "bill.stage"]
    assert [c.data["to"] for c in stage] == ["enacted"]
    assert stage[0].summary == "H.R. 2471 (117th) became law"


def test_new_bill_found_by_title() -> None:
    bill = load("BILLSTATUS-117s35.xml")
    (change,) = diff_bill(None, bill, "bill:s35-117")
    assert change.kind == "bill.introduced" and change.data == {}


# -- titles ----------------------------------------------------------------------------------


def test_title_matching() -> None:
    # derived: a real bill's record with its titles replaced
    real = load("BILLSTATUS-117s35.xml")

    def titled(title: str, short: list[str], official: str | None = None) -> Bill:
        return replace(real, title=title, short_titles=short, official_title=official)

    bill = titled("Freedom to Breathe Act", ["Freedom to Breathe Act"],
                  "To end the use of chokeholds; the BREATHE Act of 2021 in spirit.")
    assert not title_matches(bill, "BREATHE Act")
    assert title_matches(bill, "BREATHE Act", official=True, contains=True)
    assert title_matches(titled("x", ["The BREATHE Act of 2021"]), "the breathe act")
    assert title_matches(titled("x", ["Ending Qualified Immunity Act"]), "Ending Qualified Immunity Act")
    assert title_matches(titled("George Floyd Justice in Policing Act of 2021", []),
                         "George Floyd Justice in Policing Act")
    assert title_matches(titled("x", ["Police Accountability and BREATHE Act"]), "BREATHE Act", contains=True)
    assert normalize_title("The B.R.E.A.T.H.E. Act!") != normalize_title("Breathe")
