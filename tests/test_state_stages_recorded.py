"""State bill stages on real Open States bills (tests/data/states/recorded, see SOURCES.md): the
stage, the committee holding the bill and the latest action a person reading each bill's own
actions would state, written by hand from those actions. The files are Open States' scraped bill
JSON (Delaware, Rhode Island, Vermont, Wyoming and Idaho, 2025); `api_bill` renames only what the
API v3 names differently, and the tracker's own `read_bill` reads the result."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tracker.states import committee_label, read_bill, where_it_stands

RECORDED = Path(__file__).parent / "data" / "states" / "recorded"


def _pseudo(value: Any) -> dict[str, Any] | None:
    """A scraper's pseudo-id (`"~{\\"classification\\": \\"lower\\"}"`) as the API's object."""
    if isinstance(value, str) and value.startswith("~"):
        found = json.loads(value[1:])
        return found if isinstance(found, dict) else None
    return value if isinstance(value, dict) else None


def api_bill(name: str) -> dict[str, Any]:
    """A recorded scraped bill with the API's names: `session` for `legislative_session`, the
    `from_organization` and each action's `organization` as objects (the scraper writes pseudo-ids,
    `organization_id`), and each action's `order`, its position in the list (what openstates-core
    stores and the API returns). Nothing else is touched: descriptions, dates and classifications
    are the recording's."""
    data = json.loads((RECORDED / name).read_bytes())
    bill = dict(data)
    bill["session"] = data["legislative_session"]
    bill["from_organization"] = _pseudo(data.get("from_organization"))
    bill["actions"] = [
        {**{k: v for k, v in action.items() if k != "organization_id"},
         "organization": _pseudo(action.get("organization_id")), "order": position}
        for position, action in enumerate(data["actions"])
    ]
    return bill


# file, stage, committee holding it now (name, chamber), latest action (date, words)
BILLS: list[tuple[str, str, tuple[str, str] | None, tuple[str, str]]] = [
    # Delaware, 153rd General Assembly
    ("de-153-HB1.json", "enacted", None, ("2025-08-13", "Signed by Governor")),
    ("de-153-SB63.json", "vetoed", None, ("2025-08-28", "Vetoed by Governor")),
    ("de-153-HB245.json", "failed", None,
     ("2025-08-13", "Defeated By House. Votes: 15 YES 6 NO 18 NOT VOTING 2 ABSENT. Reason Taken: HB 245 MTSR")),
    # "Passed In House by Voice Vote" carries no classification; the Senate's passage does, and
    # the Senate passes only what the House passed
    ("de-153-HCR1.json", "passed_both", None, ("2025-01-16", "Passed By Senate. Votes: 18 YES 1 ABSENT 2 VACANT")),
    ("de-153-HB10.json", "passed_both", None, ("2025-03-25", "Passed By Senate. Votes: 21 YES")),
    # the Senate passed it, then "Passed In House by Voice Vote", unclassified: read by its words
    ("de-153-SCR1.json", "passed_both", None, ("2025-01-15", "Passed In House by Voice Vote")),
    # reported, then struck from consideration: Delaware's "Stricken", told as withdrawn
    ("de-153-HB106.json", "withdrawn", None, ("2025-05-22", "Stricken in House")),
    # passed the House; the Senate's committee has reported it: no committee holds it
    ("de-153-HB117.json", "passed_lower", None,
     ("2025-06-11", "Reported Out of Committee (Agriculture) in Senate with 5 Favorable")),
    ("de-153-HB100.json", "referred", ("Appropriations", "lower"),
     ("2025-01-15", "Introduced and Assigned to Appropriations Committee in House")),
    ("de-153-SB124.json", "reported", None,
     ("2025-05-07", "Reported Out of Committee (Judiciary) in Senate with 2 Favorable, 3 On Its Merits")),
    # Rhode Island, 2025: "held for further study" keeps a bill in its committee (three of these
    # were held so and went on)
    ("ri-2025-HB5768.json", "vetoed", None, ("2025-07-02", "07/02/2025 Vetoed by Governor")),
    ("ri-2025-HB5066.json", "withdrawn", None, ("2025-01-29", "01/29/2025 Withdrawn at sponsor's request")),
    ("ri-2025-HB5017.json", "enacted", None, ("2025-06-26", "06/26/2025 Signed by Governor")),
    ("ri-2025-HB5018.json", "referred", ("House Corporations", "lower"),
     ("2025-03-20", "03/20/2025 Committee recommended measure be held for further study")),
    ("ri-2025-HB5025.json", "enacted", None, ("2025-07-05", "07/05/2025 Effective without Governor's signature")),
    ("ri-2025-HB5802.json", "passed_lower", ("Senate Housing and Municipal Government", "upper"),
     ("2025-06-18", "06/18/2025 Committee recommended measure be held for further study")),
    ("ri-2025-SB830.json", "vetoed", None, ("2025-07-02", "07/02/2025 Vetoed by Governor")),
    ("ri-2025-SR1156.json", "enacted", None, ("2025-06-26", "06/26/2025 Signed by Governor")),
    ("ri-2025-HB5034.json", "passed_lower", ("Senate Judiciary", "upper"),
     ("2025-06-02", "06/02/2025 Referred to Senate Judiciary")),
    ("ri-2025-SB1013.json", "referred", ("Senate Judiciary", "upper"),
     ("2025-05-02", "05/02/2025 Introduced, referred to Senate Judiciary")),
    # postponed at the sponsor's request: still with the committee the referral names
    ("ri-2025-HB5608.json", "referred", ("House Environment and Natural Resources", "lower"),
     ("2025-03-18", "03/18/2025 Committee postponed at request of sponsor (03/20/2025)")),
    # unclassified steps read by their words: recommitted from the House calendar to the committee
    # that had reported it; transferred from one committee to another; defeated
    ("ri-2025-HB5602.json", "referred", ("House Education", "lower"),
     ("2025-05-01", "05/01/2025 House voted to recommit to House Education")),
    ("ri-2025-HB5103.json", "referred", ("House Judiciary", "lower"),
     ("2025-03-18", "03/18/2025 Committee recommended measure be held for further study")),
    # "Committee recommended indefinite postponement" of the original, the day its Substitute A is
    # held for further study: still with the Finance committee it was transferred to
    ("ri-2025-SB693.json", "referred", ("Senate Finance", "upper"),
     ("2025-05-20", "05/20/2025 Committee recommended Substitute A be held for further study")),
    ("ri-2025-SB307.json", "failed", None, ("2025-06-20", "06/20/2025 Defeated in Committee")),
    # defeated in committee, reconsidered, recommended for passage
    ("ri-2025-HB5643.json", "reported", None, ("2025-04-29", "04/29/2025 Committee recommends passage")),
    ("ri-2025-SR12.json", "failed", None, ("2025-01-28", "01/28/2025 Defeated by Senate")),
    # Vermont, 2025-2026: "Read third time and passed" carries no passage classification
    ("vt-2025-2026-H1.json", "enacted", None,
     ("2025-06-09", "House message: Governor allowed to become law without signature on June 5, 2025")),
    ("vt-2025-2026-H141.json", "vetoed", None,
     ("2025-03-25", "Rep. Houghton of Essex Junction moved that the bill be committed to the Committee on "
      "Appropriations, which was agreed to")),
    ("vt-2025-2026-S125.json", "vetoed", None,
     ("2025-06-16", "Committed to Committee on Economic Development, Housing and General Affairs on motion of "
      "Senator Clarkson")),
    # passed the House (unclassified) and the Senate with amendments; the House then committed it
    # to its General and Housing committee, in words no classification marks
    ("vt-2025-2026-H479.json", "passed_both", ("General and Housing", "lower"),
     ("2025-05-30", "Rep. Mihaly of Calais moved to commit the bill to the Committee on General and Housing, "
      "which was agreed to")),
    ("vt-2025-2026-JRS15.json", "passed_both", None, ("2025-05-06", "As adopted by Senate and House")),
    ("vt-2025-2026-H489.json", "vetoed", None,
     ("2025-04-09", "Rep. Scheu of Middlebury moved that the bill be committed to the Committee on "
      "Appropriations, which was agreed to")),
    ("vt-2025-2026-S109.json", "enacted", None, ("2025-06-13", "Senate Message: Signed by Governor June 12, 2025")),
    # adopted by the Senate, then in concurrence by the House, all unclassified
    ("vt-2025-2026-SCR1.json", "passed_both", None, ("2025-01-17", "As adopted by Senate and House")),
    # reported by General and Housing (words the tracker does not read), then sent to Appropriations
    ("vt-2025-2026-H57.json", "referred", ("Appropriations", "lower"),
     ("2025-02-27", "Referred to Committee on Appropriations per Rule 35(a)")),
    ("vt-2025-2026-H134.json", "referred", ("Agriculture, Food Resiliency, and Forestry", "lower"),
     ("2025-02-06", "Rep. Kornheiser of Brattleboro moved that the Committee on Ways and Means be relieved of the "
      "bill and that the same be committed to the Committee on Agriculture, Food Resiliency, and Forestry, which "
      "was agreed to")),
    # moved from Health and Welfare to Government Operations, reported by it, then committed back to
    # Health and Welfare by the Senate: in committee again
    ("vt-2025-2026-S64.json", "referred", ("Health and Welfare", "upper"),
     ("2025-02-27", "Rules suspended & bill committed to Committee on Health and Welfare with the report of Committee "
      "on Government Operations intact, on motion of Senator Collamore")),
    # Wyoming, 2025: the state lists a bill's actions newest first, a day's actions too
    ("wy-2025-HB0004.json", "enacted", None, ("2025-02-25", "Assigned Chapter Number 38")),
    ("wy-2025-SF0014.json", "failed", None, ("2025-01-21", "S COW:Failed 6-23-2-0-0")),
    ("wy-2025-SF0003.json", "failed", None, ("2025-01-27", "S 3rd Reading:Failed 12-19-0-0-0")),
    ("wy-2025-HB0003.json", "failed", None, ("2025-03-03", "H:Died in Committee Returned Bill Pursuant to HR 5-4")),
    ("wy-2025-SF0002.json", "failed", None, ("2025-03-03", "H:Died in Committee Returned Bill Pursuant to HR 5-4")),
    ("wy-2025-HB0002.json", "failed", None, ("2025-02-11", "H COW:H Did not consider for COW")),
    # passed the Senate; after the conference committee, "S postponed indefinitely" (unclassified)
    ("wy-2025-SF0001.json", "failed", None, ("2025-03-06", "S postponed indefinitely")),
    # "Became Law without Signature" (unclassified) and, listed before it, the classified chapter
    ("wy-2025-SF0006.json", "enacted", None, ("2025-02-25", "Assigned Chapter Number 41")),
    # Idaho, 2025
    ("id-2025-H0444.json", "enacted", None,
     ("2025-04-03", "Reported Signed by Governor on April 2, 2025 Session Law Chapter 264 Effective: 04/02/2025 "
      "SECTION 4; 07/01/2025 SECTION 1-3, 5 & 6")),
    ("id-2025-H0450.json", "failed", None,
     ("2025-04-01", "Returned from Senate Failed; Filed in the office of the Chief Clerk")),
    ("id-2025-H0446.json", "introduced", None,
     ("2025-03-25", "Reported Printed; Filed in the Office of the Chief Clerk")),
    # the House's vote under suspended rules "– FAILED", unclassified
    ("id-2025-H0449.json", "failed", None,
     ("2025-03-26", "Rules Suspended: Ayes 68 Nays 0 Abs/Excd 2, read in full as required – FAILED - 32-33-5AYES – "
      "Achilles, Berch, Cheatum, Church, Clow, Egbert, Erickson, Fuhriman, Furniss, Galaviz, Gannon, Garner, "
      "Green(Lesmeister), Handy, Holtzclaw, Horman, Manwaring, Mathias, McCann, Mickelsen, Miller, Mitchell, Nelsen, "
      "Petzke, Pickett, Pohanka, Price, Raybould, Raymond, Rubel, Sauter, WheelerNAYS – Alfieri, Andrus, Barbieri, "
      "Beiswenger, Boyle, Bruce, Burgoyne, Cayler, Cornilles, Crane(12), Dygert, Ehardt, Ehlers, Harris, Hawkins, "
      "Hill, Hostetler, Leavitt, Marmon, Mendive, Monks, Palmer, Rasor, Redman, Scott, Shepherd, Shirts, Tanner(13), "
      "Tanner(14), Thompson, Vander Woude, Wisniewski, Mr. SpeakerAbsent – Cannon, Crane(13), Healey, Skaug, "
      "WeberFloor Sponsor - PetzkeFiled in Office of the Chief Clerk")),
]


@pytest.mark.parametrize(("name", "stage", "committee", "latest"), BILLS, ids=[b[0] for b in BILLS])
def test_a_real_bill_reads_as_its_actions_say(name: str, stage: str, committee: tuple[str, str] | None,
                                              latest: tuple[str, str]) -> None:
    bill = read_bill(api_bill(name))
    assert bill.stage == stage
    held = bill.committee and (bill.committee.get("name"), bill.committee.get("chamber"))
    assert (held or None) == committee
    assert bill.latest_action == {"date": latest[0], "text": latest[1]}


@pytest.mark.parametrize(("name", "words"), [
    ("ri-2025-HB5018.json", "was referred to the House Corporations Committee"),
    ("ri-2025-HB5608.json", "was referred to the House Environment and Natural Resources Committee"),
    ("de-153-HB100.json", "was referred to the House Appropriations Committee"),
    ("de-153-HCR1.json", "passed the Senate, and so both chambers"),
    ("vt-2025-2026-JRS15.json", "passed the House, and so both chambers"),
    ("ri-2025-HB5034.json", "passed the House"),
    ("wy-2025-HB0004.json", "became law"),
    ("vt-2025-2026-S125.json", "was vetoed by the Governor"),
    ("wy-2025-SF0014.json", "failed"),
    # stages read from unclassified words, the chamber said as the words say it
    ("de-153-SCR1.json", "passed the House, and so both chambers"),
    ("vt-2025-2026-SCR1.json", "passed the House, and so both chambers"),
    ("ri-2025-HB5602.json", "was referred to the House Education Committee"),
    ("de-153-HB106.json", "was withdrawn"),
    ("wy-2025-SF0001.json", "failed"),
])
def test_where_a_real_bill_stands_in_words(name: str, words: str) -> None:
    assert where_it_stands(read_bill(api_bill(name))) == words


def test_a_committee_the_referral_names_with_its_chamber_is_said_once() -> None:
    """Rhode Island's referrals name the chamber ("Referred to Senate Judiciary")."""
    bill = read_bill(api_bill("ri-2025-HB5034.json"))
    assert committee_label(bill.committee, bill.state) == "the Senate Judiciary Committee"


def test_a_bill_the_other_chamber_took_up_is_out_of_the_first_ones_committee() -> None:
    """Vermont H 230 went to the House Appropriations Committee ("Referred to Committee on
    Appropriations per Rule 35(a)", unclassified), passed the House ("Read third time and passed",
    classified `reading-3` only) and was read first in the Senate: no longer with the House's
    committee, but with the Senate's it was referred to."""
    bill = read_bill(api_bill("vt-2025-2026-H230.json"))
    assert bill.committee == {"name": "Rules", "chamber": "upper"}
    assert bill.latest_action == {"date": "2025-05-13", "text": "Read 1st time & referred to Committee on Rules"}


# Vermont's steps whose words say more than their classification (`states._COMPLETING`): the bill as
# the API answered on a day of the session, its actions up to that day (each a real action).
AS_OF: list[tuple[str, str, str, tuple[str, str] | None]] = [
    # the Senate's first reading "Read 1st time & referred to Committee on Government Operations"
    # is classified as the introduction alone
    ("vt-2025-2026-H1.json", "2025-03-19", "passed_lower", ("Government Operations", "upper")),
    # "Favorable report with proposal of amendment by Committee on Government Operations" is
    # classified as the amendment alone: out of the committee
    ("vt-2025-2026-H1.json", "2025-05-13", "passed_lower", None),
    # "Rep. Satcowitz of Randolph reported for the Committee on Environment", unclassified: out of
    # the committees (the two money committees' recommendations the same day)
    ("vt-2025-2026-H230.json", "2025-05-08", "reported", None),
    # "Read third time and passed" is classified as the third reading alone
    ("vt-2025-2026-H230.json", "2025-05-09", "passed_lower", None),
    # the whole record: passed the House, read first in the Senate and referred to its Rules committee
    ("vt-2025-2026-H230.json", "2099-12-31", "passed_lower", ("Rules", "upper")),
]


@pytest.mark.parametrize(("name", "day", "stage", "committee"), AS_OF, ids=[f"{a[0]}@{a[1]}" for a in AS_OF])
def test_a_real_bill_as_it_stood_on_a_day(name: str, day: str, stage: str, committee: tuple[str, str] | None) -> None:
    data = api_bill(name)
    data["actions"] = [a for a in data["actions"] if a["date"][:10] <= day]
    bill = read_bill(data)
    held = bill.committee and (bill.committee.get("name"), bill.committee.get("chamber"))
    assert (bill.stage, held or None) == (stage, committee)


def test_every_recorded_file_is_read_by_a_test() -> None:
    named = {b[0] for b in BILLS} | {a[0] for a in AS_OF}
    assert {p.name for p in RECORDED.glob("*.json")} == named
