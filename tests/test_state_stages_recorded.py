"""State bill stages on real Open States bills (tests/data/states/recorded, see SOURCES.md): the
stage, the committee holding the bill and the latest action a person reading each bill's own
actions would state, written by hand from those actions. The files are Open States' scraped bill
JSON (Delaware, Rhode Island, Vermont, Wyoming and Idaho, 2025; Arizona, California, Colorado,
Connecticut, Florida, Georgia, Michigan, Minnesota, New Jersey, New Mexico, Ohio and Washington, 2025-2026); `api_bill`
renames only what the API v3 names differently, and the tracker's own `read_bill` reads the
result."""

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
    # California, 2025-2026: "Referred to suspense file" is the appropriations committee's own file,
    # the bill still with that committee; "Withdrawn from committee." puts it on the floor
    ("ca-20252026-AB709.json", "enacted", None,
     ("2025-10-07", "Chaptered by Secretary of State - Chapter 439, Statutes of 2025.")),
    # "Referred to Com. on REV. & TAX.": the Assembly's Revenue and Taxation committee, as its
    # committees' votes name it ("... re-referred to the Committee on [Revenue and Taxation]")
    ("ca-20252026-AB918.json", "referred", ("Revenue and Taxation", "lower"),
     ("2025-05-05", "In committee: Set, second hearing. Held under submission.")),
    ("ca-20252026-AB362.json", "reported", None,
     ("2026-01-16", "Ordered to inactive file at the request of Assembly Member Ramos.")),
    # Colorado, 2026: the list runs newest first; "Introduced In House - Assigned to X" is classified
    # as the introduction alone, "Postpone Indefinitely" and "Third Reading Lost" not at all
    ("co-2026A-HB1128.json", "failed", None,
     ("2026-03-09", "House Committee on State, Civic, Military, & Veterans Affairs Postpone Indefinitely")),
    ("co-2026A-HB1137.json", "failed", None, ("2026-03-10", "House Third Reading Lost - No Amendments")),
    # reported to the Committee of the Whole, which is the House itself: no committee holds it
    ("co-2026A-HB1080.json", "reported", None,
     ("2026-04-29", "House Second Reading Special Order - Laid Over to 05/14/2026 - No Amendments")),
    # Connecticut, 2026: joint committees, named in the referral's words only
    ("ct-2026-HB05357.json", "reported", ("Appropriations", "lower"),
     ("2026-04-14", "REF. BY HOUSE TO COMMITTEE ON Appropriations")),
    ("ct-2026-HB05475.json", "reported", ("Environment", "lower"),
     ("2026-03-19", "FAV. CHG. OF REF., SEN. TO COMM. ON Environment")),
    ("ct-2026-HB05466.json", "referred", ("Commerce", "lower"), ("2026-03-05", "REF. TO JOINT COMM. ON Commerce")),
    # New Jersey, 222nd Legislature
    ("nj-222-S3178.json", "withdrawn", None, ("2026-01-13", "WITHDRAWN APP P.L.2025, c.285.")),
    ("nj-222-A4317.json", "reported", ("Assembly State and Local Government", "lower"),
     ("2026-03-16", "Reported and Referred to Assembly State and Local Government Committee")),
    ("nj-222-S4012.json", "referred", ("Senate Budget and Appropriations", "upper"),
     ("2026-06-22", "Transferred to Senate Budget and Appropriations Committee")),
    # recommitted and reported again; then substituted by its Assembly companion (not read)
    ("nj-222-S3612.json", "reported", None, ("2026-06-30", "Substituted by A4085/4523 (ACS/3R)")),
    # New Mexico, 2026: passed the House; the session's end postponed it indefinitely
    ("nm-2026-HB10.json", "failed", None, ("2026-03-24", "action postponed indefinitely")),
    # Ohio, 136th General Assembly: committee reports are unclassified
    ("oh-136-HB159.json", "reported", ("Finance", "lower"), ("2025-10-15", "Reported - Re-referred to Finance")),
    ("oh-136-HB234.json", "reported", None, ("2025-05-21", "Reported")),
    # Washington, 2025-2026
    ("wa-2025-2026-SB5481.json", "referred", ("Health & Long-Term Care", "upper"),
     ("2026-01-12", "By resolution, reintroduced and retained in present status.")),
    # passed the Senate ("Third reading, passed", classified as the third reading alone); the House
    # returned it to the Senate Rules Committee at the session's end
    ("wa-2025-2026-SB6102.json", "passed_upper", ("Senate Rules", "upper"),
     ("2026-03-12", "By resolution, returned to Senate Rules Committee for third reading.")),
    # Minnesota, 2025-2026
    ("mn-2025-2026-SF2259.json", "reported", ("State and Local Government", "upper"),
     ("2025-03-24", "Comm report: To pass as amended and re-refer to State and Local Government")),
    ("mn-2025-2026-SF3613.json", "referred", ("State and Local Government", "upper"),
     ("2026-03-05", "Withdrawn and re-referred to State and Local Government")),
    ("mn-2025-2026-SF2278.json", "withdrawn", None, ("2025-03-24", "Withdrawn and returned to author")),
    ("mn-2025-2026-SF4404.json", "reported", ("Rules and Administration", "upper"),
     ("2026-04-21", "Pursuant to Senate Concurrent Resolution No. 6, referred to Rules and Administration")),
    ("mn-2025-2026-HF348.json", "referred", ("Environment and Natural Resources Finance and Policy", "lower"),
     ("2025-03-03", "Motion to recall and re-refer, motion prevailed Environment and Natural Resources Finance and "
      "Policy")),
    # Michigan, 2025-2026
    # the Senate's capitals, spelled as the bills' other actions spell the same words
    ("mi-2025-2026-SB0876.json", "referred", ("Appropriations", "upper"),
     ("2026-04-14", "REASSIGNED TO COMMITTEE ON APPROPRIATIONS")),
    ("mi-2025-2026-SB0009.json", "referred", ("Government Operations", "upper"),
     ("2025-01-08", "REFERRED TO COMMITTEE ON GOVERNMENT OPERATIONS")),
    # "Regulatory Affairs" is in no action in other than capitals: left as written
    ("mi-2025-2026-SB0014.json", "referred", ("REGULATORY AFFAIRS", "upper"),
     ("2025-01-08", "REFERRED TO COMMITTEE ON REGULATORY AFFAIRS")),
    ("mi-2025-2026-HB4499.json", "referred", ("Appropriations", "lower"),
     ("2025-05-20", "per Rule 40 referred to Committee on Appropriations")),
    # discharged from its committee onto the floor, unreported
    ("mi-2025-2026-HB5761.json", "referred", None, ("2026-07-02", "placed on third reading")),
    # Arizona, 57th Legislature, 2nd Regular Session (2026): no referral is written; by its second
    # reading a bill is in committee, which only the committee's report ("DP", "DPA") names
    ("az-57th-2nd-regular-HB2001.json", "referred", None, ("2026-01-13", "House Second Reading")),
    ("az-57th-2nd-regular-SB1007.json", "referred", None, ("2026-01-14", "Senate Second Reading")),
    # a standing committee's "DPA" (do pass amended), "DPA/SE" (strike everything): reported
    ("az-57th-2nd-regular-HB2027.json", "reported", None, ("2026-02-10", "DPA")),
    ("az-57th-2nd-regular-HB2080.json", "reported", None, ("2026-02-18", "DPA/SE")),
    # "W/D" naming Judiciary: out of that committee; Government reported it, the House passed it and
    # the Senate's Education committee reported it
    ("az-57th-2nd-regular-HB2020.json", "passed_lower", None, ("2026-03-11", "DP")),
    # withdrawn from Transportation & Infrastructure, nothing after: still referred, not withdrawn
    ("az-57th-2nd-regular-HB2059.json", "referred", None, ("2026-02-09", "W/D")),
    # New Mexico, 2026: passed both chambers, signed
    ("nm-2026-SB101.json", "enacted", None, ("2026-03-06", "Signed")),
    # Georgia, 2026 special session: a local bill lost in the Senate ("Senate Local Lost",
    # unclassified), reconsidered and lost again
    ("ga-2026_ss-SB1.json", "failed", None, ("2026-06-20", "Senate Reconsidered Lost")),
    # lost on third reading in the House, reconsidered, lost again
    ("ga-2026_ss-HB1.json", "failed", None, ("2026-06-22", "House Lost Reconsidered Bill/Resolution")),
    ("ga-2026_ss-SB3.json", "enacted", None, ("2026-06-25", "Effective Date")),
    # Florida, 2026
    ("fl-2026-HB75.json", "withdrawn", None, ("2025-11-18", "Withdrawn prior to introduction")),
    ("fl-2026-SB1748.json", "failed", None, ("2026-03-13", "Died in Commerce and Tourism")),
    # New Mexico SB 274: withdrawn from one committee, referred again, passed by the Senate; postponed
    # indefinitely at the session's end
    ("nm-2026-SB274.json", "failed", None, ("2026-03-24", "action postponed indefinitely")),
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
    # Connecticut's committees are joint ones: no chamber said
    ("ct-2026-HB05466.json", "was referred to the Commerce Committee"),
    ("nj-222-S3178.json", "was withdrawn"),
    ("co-2026A-HB1128.json", "failed"),
    # California's abbreviated committee, spelled out
    ("ca-20252026-AB918.json", "was referred to the Assembly Revenue and Taxation Committee"),
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


# Steps whose words say more than their classification (`stateactions._COMPLETING`) or that have none:
# the bill as the API answered on a day of the session, its actions up to that day (each a real
# action).
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
    # California AB 709: "Enrolled and presented to the Governor at 4 p.m.", unclassified
    ("ca-20252026-AB709.json", "2025-09-23", "to_governor", None),
    # California AB 362 on the suspense file: with the appropriations committee, not "suspense file."
    ("ca-20252026-AB362.json", "2025-05-23", "reported", ("Appropriations", "lower")),
    # Colorado HB26-1128 assigned to its committee, before the committee postponed it indefinitely
    ("co-2026A-HB1128.json", "2026-02-04", "referred", ("State, Civic, Military, & Veterans Affairs", "lower")),
    # New Jersey S3612: "Reported from Senate Committee as a Substitute" (unclassified), referred
    # to Budget the same day; then "Recommitted to Senate Budget and Appropriations Committee"
    # from the floor: in committee again, its report undone
    ("nj-222-S3612.json", "2026-03-16", "reported", ("Senate Budget and Appropriations", "upper")),
    ("nj-222-S3612.json", "2026-06-26", "referred", ("Senate Budget and Appropriations", "upper")),
    # New Mexico HB 10: "Sent to House Health & Human Services Committee & House Judiciary Committee"
    # (with the first), and after the House passed it, to the Senate's
    ("nm-2026-HB10.json", "2026-01-20", "referred", ("House Health & Human Services Committee", "lower")),
    ("nm-2026-HB10.json", "2026-01-29", "passed_lower", ("Senate Health and Public Affairs Committee", "upper")),
    # each committee's report ("DO PASS committee report adopted", naming none) hands it to the next
    # the referral named: House Judiciary, then after the Senate's first report, Senate Judiciary
    ("nm-2026-HB10.json", "2026-01-21", "reported", ("House Judiciary Committee", "lower")),
    ("nm-2026-HB10.json", "2026-01-27", "reported", None),
    ("nm-2026-HB10.json", "2026-02-14", "passed_lower", ("Senate Judiciary Committee", "upper")),
    # SB 101: "germane" (unclassified), the Senate Committees' Committee's report, then Health and
    # Public Affairs' and Finance's; in the House, Consumer & Public Affairs', then Health & Human
    # Services'
    ("nm-2026-SB101.json", "2026-01-23", "referred", ("Senate Committees' Committee", "upper")),
    ("nm-2026-SB101.json", "2026-01-27", "reported", ("Senate Health and Public Affairs Committee", "upper")),
    ("nm-2026-SB101.json", "2026-02-02", "reported", ("Senate Finance Committee", "upper")),
    ("nm-2026-SB101.json", "2026-02-04", "reported", None),
    ("nm-2026-SB101.json", "2026-02-13", "passed_upper", ("House Health & Human Services Committee", "lower")),
    ("nm-2026-SB101.json", "2026-02-16", "passed_upper", None),
    # Arizona HB 2020 the day it was withdrawn from Judiciary: in committee still, not withdrawn
    ("az-57th-2nd-regular-HB2020.json", "2026-01-29", "referred", None),
    # Washington SB 5481: "And refer to Health & Long-Term Care." the day of the first committee's
    # report; SB 6102: "Third reading, passed", then the House's committee
    ("wa-2025-2026-SB5481.json", "2025-01-27", "referred", ("Health & Long-Term Care", "upper")),
    ("wa-2025-2026-SB6102.json", "2026-02-04", "passed_upper", None),
    ("wa-2025-2026-SB6102.json", "2026-02-06", "passed_upper", ("Appropriations", "lower")),
    # Florida HB 75: referred to two committees the same day, "Now in Intergovernmental Affairs
    # Subcommittee"; SB 1748: "CS by Judiciary; YEAS 8 NAYS 3", "Now in Commerce and Tourism"
    ("fl-2026-HB75.json", "2025-10-07", "referred", ("Intergovernmental Affairs Subcommittee", "lower")),
    ("fl-2026-SB1748.json", "2026-02-12", "reported", ("Commerce and Tourism", "upper")),
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


def test_a_wyoming_bill_whose_actions_fall_on_one_day_is_read_newest_first() -> None:
    """Wyoming lists a bill's actions newest first, told by their dates; a bill whose actions all
    fall on one day (SF0014's three of January 21, as the API would answer for them alone) has no
    dates to tell it, and was read oldest first: "recommend do pass" as its last word, not the
    floor's failure listed before it."""
    data = api_bill("wy-2025-SF0014.json")
    data["actions"] = [a for a in data["actions"] if a["date"][:10] == "2025-01-21"]
    bill = read_bill(data)
    assert bill.stage == "failed"
    assert bill.latest_action == {"date": "2025-01-21", "text": "S COW:Failed 6-23-2-0-0"}


def test_a_new_mexico_bill_withdrawn_from_one_committee_goes_on() -> None:
    """New Mexico SB 274 (2026): "withdrawn from committee" (classified `withdrawal`), then "referred
    to Senate Committees' Committee & Senate Finance Committee" the same day, "germane", reported
    ("DO NOT PASS, replaced with committee substitute"), "passed Senate": it read "withdrawn" from
    the 15th on."""
    data = api_bill("nm-2026-SB274.json")
    for day, stage in (("2026-02-15", "referred"), ("2026-02-16", "reported"), ("2026-02-17", "reported"),
                       ("2026-02-18", "passed_upper")):
        bill = read_bill({**data, "actions": [a for a in data["actions"] if a["date"][:10] <= day]})
        assert bill.stage == stage, day


def test_a_new_mexico_bill_s_committees_in_turn_and_the_house_s_after_the_senate_passed_it() -> None:
    """New Mexico SB 274 (2026), FAILED before on both days (no committee): "referred to Senate
    Committees' Committee & Senate Finance Committee" is New Mexico's referral to committees in
    turn, as its "Sent to" is: after the first's "germane" the bill is with Finance. "Sent to House
    Appropriations & Finance Committee" is listed before "passed Senate" of the same day: the House
    has the bill once the Senate passed it, so its committee holds it (read in the listed order,
    the passage took the bill out of the committee it had just been sent to)."""
    data = api_bill("nm-2026-SB274.json")
    for day, committee in (("2026-02-16", ("Senate Finance Committee", "upper")),
                           ("2026-02-18", ("House Appropriations & Finance Committee", "lower"))):
        bill = read_bill({**data, "actions": [a for a in data["actions"] if a["date"][:10] <= day]})
        assert bill.committee == {"name": committee[0], "chamber": committee[1]}, day
    bill = read_bill({**data, "actions": [a for a in data["actions"] if a["date"][:10] <= "2026-02-18"]})
    assert [a["text"] for a in bill.actions][-2:] == ["passed Senate", "Sent to House Appropriations & Finance Committee"]
