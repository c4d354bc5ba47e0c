"""What a state bill's action does, read from Open States' classification of it and, where the
states' scrapers leave it short, from its words (tracker/states.py's `derive_stage` reads the
stages from these). Each row of its tables is state-scoped and names a real action
(tests/data/states/recorded, with the survey of the bills they were read from in its SOURCES.md).
Imports nothing of the project: the tables grow as states are surveyed, apart from the stage rule."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# Decisive steps some states' scrapers leave unclassified (`classification: []`), read by their
# words, per state, and only then: a classification Open States gave is never second-guessed. Each
# row names a real action (windy-civi/toolkit's 2025 snapshots of the scraped bills and the
# govbot-data `<state>-legislation` repositories' of 2025-2026, see
# tests/data/states/recorded/SOURCES.md). A `committee` group is the committee now holding the
# bill; a `chamber` group ("House", "Senate", "H", "S") is the chamber that acted where the action's
# organization is another. Left out on purpose, as they decide nothing an organizer can rely on:
# tabling (Delaware "Laid On Table in House" / "Tabled in Committee": lifted again, 17 "Lifted
# From Table" in 2025), Delaware "Not Worked in Committee" (still there), Rhode Island's "Committee
# recommended indefinite postponement" (every one of the three is the original set aside for a
# Substitute A held the same day, which went on to pass), Wyoming's "No report prior to CoW
# Cutoff" (its "Died in Committee" follows, classified), and Vermont's "Read third time and
# passed", which is classified (`reading-3`) and so is not read again here. Nor California's "In
# committee: Held under submission" (the suspense file's usual end, yet a two-year session's bill
# can be taken up in January), "Stricken from file" (returned to the file again) or "Withdrawn from
# committee" (out of one committee, into the next or onto the floor: no withdrawal of the bill);
# Minnesota's "Referred to Rules and Administration for comparison with SF#, now on General
# Orders" (a companion's comparison, the bill on the floor) and Colorado's "Introduced In Senate -
# Assigned to" with no committee named.
RECOMMIT = "recommitted"  # not Open States' vocabulary: the floor sent a reported bill back
KEEPS = "kept"  # not Open States' vocabulary: a "referral" within the committee that holds it
FLOOR = "to the floor"  # not Open States' vocabulary: a "referral" to the whole chamber
RELIEVED = "relieved"  # not Open States' vocabulary: a "withdrawal" from one committee, not of the bill
_UNCLASSIFIED: tuple[tuple[str, re.Pattern[str], frozenset[str]], ...] = tuple(
    (state, re.compile(pattern, re.I), frozenset(kinds)) for state, pattern, kinds in (
        # Delaware SCR 1: "Passed In House by Voice Vote" (capital "In"; "Passed in House by Voice
        # Vote" is classified passage)
        ("de", r"^Passed In (?P<chamber>House|Senate) by Voice Vote$", {"passage"}),
        # Delaware HB 106: "Stricken in House". Delaware strikes a bill at its sponsor's request or
        # when a substitute takes its place (HB 98: "adopted in lieu of HB 98", then "Stricken in
        # House"); it is not taken up again. Told as withdrawn, not failed: no vote defeated it.
        # The bill's own line only: "Amendment HA 1 to HB 5 - Stricken in House" strikes an amendment
        ("de", r"^Stricken in (?P<chamber>House|Senate)$", {"withdrawal"}),
        # Rhode Island SB693: "03/12/2025 Committee transferred to Senate Finance"
        ("ri", r"\bCommittee transferred to (?P<committee>(?P<chamber>House|Senate) [^()]+?)$",
         {"referral-committee"}),
        # Rhode Island HB5602: "05/01/2025 House voted to recommit to House Education"
        ("ri", r"\b(?:House|Senate) voted to recommit to (?P<committee>(?P<chamber>House|Senate) [^()]+?)$",
         {"referral-committee", RECOMMIT}),
        # Rhode Island SB307: "06/20/2025 Defeated in Committee" (a committee's reconsideration and
        # report after it clears the failure, as HB5643's did)
        ("ri", r"^(?:[\d/]+ )?Defeated in Committee$", {"committee-failure"}),
        # Rhode Island SR12: "01/28/2025 Defeated by Senate"
        ("ri", r"^(?:[\d/]+ )?Defeated by (?P<chamber>House|Senate)$", {"failure"}),
        # Wyoming SF0001: "S postponed indefinitely" (the motion that kills a bill there)
        ("wy", r"^(?P<chamber>[HS]) postponed indefinitely$", {"failure"}),
        # Wyoming SF0006: "Became Law without Signature"
        ("wy", r"^Became Law without Signature$", {"became-law"}),
        # Idaho H0444: "Rules Suspended: Ayes 70 Nays 0 Abs/Excd 0, read in full as required –
        # PASSED - 47-22-1 ..." (the Senate's like words are classified passage); H0449: "– FAILED"
        ("id", r"^Rules Suspended\b.*\bread in full as required\s*[–-]+\s*PASSED\b", {"passage"}),
        ("id", r"^Rules Suspended\b.*\bread in full as required\s*[–-]+\s*FAILED\b", {"failure"}),
        # Vermont HCR 1: "Adopted pursuant to Joint Rule 16b" (House), "Adopted in concurrence per
        # Joint Rule 16b" (Senate); "Read and adopted in concurrence"
        ("vt", r"^(?:Read and )?adopted(?: in concurrence)?(?: (?:pursuant to|per) Joint Rule \w+)?$", {"passage"}),
        # Vermont S 109: "House message: House passed bill in concurrence with proposal(s) of
        # amendment" (the Senate's record of the House's passage); SCR 1: "House message: House
        # adopted in concurrence"
        ("vt", r"^(?:House|Senate) message: (?P<chamber>House|Senate) (?:passed bill|adopted) in concurrence\b",
         {"passage"}),
        # Vermont H1: "Allowed to become law without the signature of the Governor on June 5, 2025"
        ("vt", r"^Allowed to become law without the signature of the Governor\b", {"became-law"}),
        # Vermont H 10: "Referred to Committee on Government Operations per Temporary Senate Rule
        # 44A"; S 109: "Pending entry on Notice Calendar, referred to Committee on Appropriations per
        # Rule 35(a)"
        ("vt", r"^(?:Pending entry on Notice Calendar, )?referred to (?:the )?Committee on (?P<committee>.+?) "
               r"per (?:Temporary )?(?:Senate )?Rule\b", {"referral-committee"}),
        # Vermont H 134: "Rep. Kornheiser of Brattleboro moved that the Committee on Ways and Means be
        # relieved of the bill and that the same be committed to the Committee on Agriculture, Food
        # Resiliency, and Forestry, which was agreed to"; S 64: "Committee on Health and Welfare
        # relieved; bill committed to Committee on Government Operations on motion of Senator Lyons"
        ("vt", r"\bbe relieved of the bill and that the same be (?:re)?committed to the Committee on "
               r"(?P<committee>.+?), which was agreed to$", {"referral-committee"}),
        ("vt", r"^Committee on .+? relieved(?: of further consideration of the bill)?; bill committed to "
               r"Committee on (?P<committee>.+?) on motion of\b", {"referral-committee"}),
        # Vermont H479: "Rep. Mihaly of Calais moved to commit the bill to the Committee on General
        # and Housing, which was agreed to"; S 125: "Committed to Committee on Economic Development,
        # Housing and General Affairs on motion of Senator Clarkson"; SR 16: "Recommitted to Committee
        # on Health and Welfare on motion of Senator Gulick". A motion "disagreed to" is not read.
        ("vt", r"\bmoved (?:to commit the bill|that the bill be (?:re)?committed) to the Committee on "
               r"(?P<committee>.+?), which was agreed to$", {"referral-committee", RECOMMIT}),
        # Vermont H 230: "Rep. Satcowitz of Randolph reported for the Committee on Environment" (a
        # House committee's report, unclassified, 77 in 2025)
        ("vt", r"^Rep\. [^,]+? reported for the Committee on [^,]+$", {"committee-passage"}),
        ("vt", r"^(?:Rules suspended & bill )?(?:re)?committed to Committee on (?P<committee>.+?)"
               r"(?= with (?:the )?report of| on motion of|$)", {"referral-committee", RECOMMIT}),
        # California AB 709 (2025-2026): "Enrolled and presented to the Governor at 4 p.m." (the
        # Governor's signature or veto follows, classified)
        ("ca", r"^Enrolled and presented to the Governor at\b", {"executive-receipt"}),
        # Colorado HB 1128 (2026): "House Committee on State, Civic, Military, & Veterans Affairs Postpone
        # Indefinitely" (the committee's vote that kills a bill there; its other reports are classified)
        ("co", r"^(?:House|Senate) Committee on .+ Postpone Indefinitely$", {"committee-failure"}),
        # Colorado HB 1137 (2026): "House Third Reading Lost - No Amendments"; HB 1054: "Senate Third
        # Reading Lost with Amendments - Floor" (a vote on the bill itself; "Committee of the Whole
        # Amendment - Change from Passed to Lost" changes an amendment's fate and is not read)
        ("co", r"^(?:House|Senate) (?:Second|Third) Reading (?:Special Order - )?(?:Lay on the Table-Deemed )?Lost\b",
         {"failure"}),
        # Connecticut HB 5001 (2026): "REF. BY HOUSE TO COMMITTEE ON Appropriations"; HB 5033: "FAV.
        # CHG. OF REF. HOUSE TO COMM. ON Appropriations" (the first committee's favourable report on a
        # change of reference, agreed: the bill goes to the second)
        ("ct", r"^(?:REF\. BY|FAV\. CHG\. OF REF\.,?) (?:HOUSE|SEN\.) TO COMM(?:ITTEE|\.) ON (?P<committee>.+)$",
         {"referral-committee"}),
        # New Jersey A1052 (222nd): "WITHDRAWN APP P.L.2025, c.244." (withdrawn, the same law having
        # been approved already)
        ("nj", r"^WITHDRAWN APP P\.L\.", {"withdrawal"}),
        # New Jersey S1193 (222nd): "Reported from Senate Committee as a Substitute, 2nd Reading"
        ("nj", r"^Reported from (?:Assembly|Senate) Committee as a Substitute\b", {"committee-passage"}),
        # New Mexico HB 10 (2026): "action postponed indefinitely", the Legislature's at the session's
        # end, on every bill that did not pass (or, as SB 100, whose chambers never agreed)
        ("nm", r"^action postponed indefinitely$", {"failure"}),
        # Ohio HB 159 (136th): "Reported - Amended - Re-referred to Rules and Reference" (the
        # committee the action names reported it, and it goes to the one its words name); HB 186:
        # "Reported - Substitute", "Reported"
        ("oh", r"^Reported(?: - (?:Substitute|Amended))* - Re-referred to (?P<committee>.+)$",
         {"committee-passage", "referral-committee"}),
        ("oh", r"^Reported(?: - (?:Substitute|Amended))*$", {"committee-passage"}),
        # Florida HB 1007 (2026): "Now in State Affairs Committee" (of the three its referral named the
        # same day, the one it is with now; "Now in Commerce Committee" after the first's report)
        ("fl", r"^Now in (?P<committee>.+?)(?: Committee)?$", {"referral-committee"}),
        # Florida SB 1234 (2026): "CS by Regulated Industries; YEAS 8 NAYS 0", "CS/CS by- Rules; YEAS
        # 18 NAYS 4" (a Senate committee reporting its substitute; "Favorable by" is classified)
        ("fl", r"^(?:CS/)*CS by-? .+?; YEAS \d+ NAYS \d+$", {"committee-passage-favorable"}),
        # Michigan SB 579 (2025-2026): "REASSIGNED TO COMMITTEE ON APPROPRIATIONS"; HB 4085:
        # "re-referred to Committee on Communications and Technology"; HB 4499: "per Rule 40 referred to
        # Committee on Appropriations"
        ("mi", r"^(?:REASSIGNED TO|re-referred to|per Rule \d+ referred to) Committee on (?P<committee>.+)$",
         {"referral-committee"}),
        # Michigan HB 4085: "motion to discharge committee approved", HB 4002: "DISCHARGE COMMITTEE
        # APPROVED" (out of committee onto the floor without its report)
        ("mi", r"^(?:motion to )?discharge committee approved$", {FLOOR}),
        # Minnesota SF 2215 (2025-2026): "Withdrawn and re-referred to Human Services"; HF 1133: "Motion
        # to recall and re-refer, motion prevailed Elections Finance and Government Operations"; SF 4689:
        # "Pursuant to Senate Concurrent Resolution No. 6, referred to Rules and Administration"; HF
        # 1775: "Joint rule 2.03, Deadlines, re-referred to Rules and Legislative Administration"
        ("mn", r"^(?:Withdrawn and re-referred to|Motion to recall and re-refer, motion prevailed|Pursuant to "
               r"Senate Concurrent Resolution No\. \d+, referred to|Joint rule [\d.]+, Deadlines, re-referred to) "
               r"(?P<committee>.+)$", {"referral-committee"}),
        # Minnesota SF 1140: "Withdrawn and returned to author" (the bill withdrawn by its author;
        # "HF indefinitely postponed" sets a companion aside for the other chamber's file and is not
        # read, as New Jersey's "Substituted by A3318" is not: the companion carries the bill on)
        ("mn", r"^Withdrawn and returned to author$", {"withdrawal"}),
        # California AB 362 (2025-2026): "Withdrawn from committee." (out of the appropriations
        # committee onto the floor, "Ordered to second reading."; a re-referral follows when it goes
        # to another committee)
        ("ca", r"^Withdrawn from committee\.", {FLOOR}),
        # New Mexico SB 101 (2026): "germane", the Senate Committees' Committee's finding on a bill of
        # the short session (sent to it first, "Sent to Senate Committees' Committee & Senate Health and
        # Public Affairs Committee & ..."): its report, the bill on to the next committee named
        ("nm", r"^germane$", {"committee-passage"}),
        # Georgia SB 1 (2026 special session): "Senate Local Lost", the Senate's vote on a local bill
        # lost (8 of its 2026 bills; "Senate Reconsidered", "Senate Reconsidered Lost" follow: lost
        # again). The House's "House Third Reading Lost" is classified
        ("ga", r"^Senate Local Lost$", {"failure"}),
        # Washington SB 5629 (2025-2026): "By resolution, returned to Senate Rules Committee for third
        # reading." (the House's, at the session's end: out of its committee, back with the Senate's
        # Rules Committee, which sets the floor's calendar)
        ("wa", r"^By resolution, returned to (?P<committee>(?P<chamber>House|Senate) Rules) Committee for third "
               r"reading\.$", {"referral-committee"}),
    ))
_CHAMBER_WORD = {"house": "lower", "h": "lower", "senate": "upper", "s": "upper"}
# Steps whose words say more than the classification Open States gave: (state, a kind it gave,
# the words, the kinds they add; none where they add only the committee they name). Nothing given
# is dropped. Vermont's passages are classified as the third reading alone: "Read third time and passed" (H 230), "Read 3rd time & passed in
# concurrence with proposal of amendment", "Read 3rd time & adopted" (about 190 actions in 2025;
# "Third Reading ordered" and "Read third time" pass nothing); its first readings name the
# committee the bill goes to, classified as the introduction alone: "Read first time and referred to
# the Committee on Judiciary", "Read 1st time & referred to Committee on Rules" (752 in 2025: 564
# bills read as introduced with no committee).
_COMPLETING: tuple[tuple[str, str, re.Pattern[str], frozenset[str]], ...] = tuple(
    (state, given, re.compile(pattern, re.I), frozenset(kinds)) for state, given, pattern, kinds in (
        ("vt", "reading-3", r"^Read (?:third|3rd) time (?:and|&) (?:passed|adopted)\b", {"passage"}),
        ("vt", "introduction", r"^(?:Committee bill )?read (?:first|1st) time(?:,? (?:and|&)? ?treated as a bill)?"
                               r"(?:,? (?:and|&)|;) referred to (?:the )?Committee on (?P<committee>.+?)$",
         {"referral-committee"}),
        # Vermont's Senate committees report amended bills as "Favorable report with proposal of
        # amendment by Committee on Finance", classified as the amendment alone (142 in 2025)
        ("vt", "amendment-introduction", r"^Favorable report with proposal of amendment by Committee on\b",
         {"committee-passage-favorable"}),
        # Washington's passages too are the third reading alone: "Third reading, passed; yeas, 96;
        # nays, 0; absent, 0; excused, 2." (HB 1009, 2025-2026; 1,728 in 2025-2026; its final
        # passage after concurrence is classified); a report to a second committee names it in a
        # line of its own, "And refer to Ways & Means." (HB 1068)
        ("wa", "reading-3", r"^Third reading, passed\b", {"passage"}),
        ("wa", "referral-committee", r"^And refer to (?P<committee>.+?)\.?$", set()),
        # California AB 1006: "In committee: Set, first hearing. Referred to suspense file." (the
        # appropriations committee's suspense file: still with that committee, not a committee
        # called "suspense file.")
        ("ca", "referral-committee", r"^In committee: (?:Set, (?:first|second) hearing\. )?Referred to suspense file\.$",
         {KEEPS}),
        # Colorado HB 1128 (2026): "Introduced In House - Assigned to State, Civic, Military, & Veterans
        # Affairs", classified as the introduction alone ("+ Finance" names the next one)
        ("co", "introduction", r"^Introduced In (?:House|Senate) - Assigned to (?P<committee>[^+]+?)(?: \+ .*)?$",
         {"referral-committee"}),
        # Colorado HB 1069 (2026): "House Committee on Appropriations Refer Amended to House Committee of
        # the Whole", the committee's report to the floor: no committee holds the bill
        ("co", "referral-committee", r"\bRefer (?:Una|A)mended(?: - Consent Calendar)? to (?:House|Senate) "
                                     r"Committee of the Whole$", {FLOOR}),
        # Connecticut HB 5001: "REF. TO JOINT COMM. ON Government Administration and Elections" (the
        # committee in words only)
        ("ct", "referral-committee", r"^REF\. TO JOINT COMM\. ON (?P<committee>.+)$", set()),
        # Minnesota SF 1209 (2025-2026): "Comm report: To pass as amended and re-refer to Finance";
        # SF 1961: "Comm report: To pass and re-referred to Finance"
        ("mn", "referral-committee", r"^Comm report: To pass(?: as amended)? and re-refer(?:red)? to "
                                     r"(?P<committee>.+)$", set()),
        # New Jersey A1008 (222nd): "Reported and Referred to Assembly Oversight, Reform and Federal
        # Relations Committee"; A1142: "Reported out of Assembly Committee with Amendments and Referred
        # to Assembly Appropriations Committee" (a report, classified as the referral alone)
        ("nj", "referral-committee", r"^Reported (?:out of (?:Assembly|Senate) Committee )?(?:with Amendments )?"
                                     r"and Referred to (?P<committee>(?:Assembly|Senate) .+?) Committee$",
         {"committee-passage"}),
        # New Jersey A3899: "Transferred to Assembly State and Local Government Committee"; A2524:
        # "Recommitted to Assembly Budget Committee" (from the floor: its report undone)
        ("nj", "referral-committee", r"^Transferred to (?P<committee>(?:Assembly|Senate) .+?) Committee$", set()),
        ("nj", "referral-committee", r"^Recommitted to (?P<committee>(?:Assembly|Senate) .+?) Committee$",
         {RECOMMIT}),
        # New Mexico HB 10: "Sent to House Health & Human Services Committee & House Judiciary
        # Committee" (with the first it names now; "Sent to House Pre-file" names none)
        # SB 274 (2026): "referred to Senate Committees' Committee & Senate Finance Committee" (after
        # the bill was withdrawn from one)
        ("nm", "referral-committee", r"^(?:Sent|referred) to (?P<committee>(?:House|Senate) .+? Committee)(?= &|$)",
         set()),
        # Arizona writes no referral: its scraper (openstates-scrapers scrapers/az/bills.py) makes
        # actions of the readings and of the committees' reports only. The Speaker refers a bill to
        # its committees at its first reading, the President at its second (the Legislature's "How a
        # bill is made", as copies of it on the web quote it): by "House Second Reading" / "Senate
        # Second Reading" (HB 2001, SB 1007, 2026) it is in committee, which no action names until
        # that committee reports. A first reading alone (109 bills of 2026) is not read: a bill the
        # Speaker has not sent on, for all its actions say
        ("az", "reading-2", r"^(?:House|Senate) Second Reading$", {"referral-committee"}),
        # Arizona HB 2027 (2026): "DPA" (do pass amended), HB 2080 "DPA/SE" (strike everything), a
        # standing committee's report, classified as the amendment alone; the same words with no
        # committee are the Committee of the Whole's (`_BY_A_COMMITTEE`)
        ("az", "amendment-passage", r"^DPA(?:/SE)?$", {"committee-passage"}),
        # Arizona HB 2020 (2026): "W/D" naming Judiciary, the bill withdrawn from that committee, not
        # withdrawn: Government reported it, the House passed it (107 of the 140 "W/D" of 2026 are followed by a
        # report or a passage)
        ("az", "withdrawal", r"^W/D$", {RELIEVED}),
        # New Mexico SB 274 (2026): "withdrawn from committee" (classified `withdrawal`), then referred
        # again the same day and passed by the Senate three days later: out of one committee, not
        # the bill withdrawn (31 of its 2026 bills)
        ("nm", "withdrawal", r"^withdrawn from committee$", {RELIEVED}),
    ))
# The rows of `_COMPLETING` read only where the action names a committee (the scraper names one for a
# standing committee's action, none for the floor's): (state, the kind it gave)
_BY_A_COMMITTEE = {("az", "amendment-passage"), ("az", "withdrawal")}


def action_kinds(action: Mapping[str, Any], state: str) -> tuple[set[str], str | None, str | None]:
    """An action's kinds (Open States' classification, completed by its words where `_COMPLETING`
    says so), or where Open States gave none what its words decide in its state (`_UNCLASSIFIED`);
    with the committee and the chamber those words name (None where they name none)."""
    given = set(action.get("classification") or [])
    if given:
        for where, needs, pattern, kinds in _COMPLETING:
            if (where, needs) in _BY_A_COMMITTEE and not action.get("committees"):
                continue
            if where == state and needs in given and (match := pattern.search(action.get("text") or "")):
                return given | kinds, (match.groupdict().get("committee") or "").strip() or None, None
        return given, None, None
    text = action.get("text") or ""
    for where, pattern, kinds in _UNCLASSIFIED:
        match = pattern.search(text) if where == state else None
        if match:
            found = match.groupdict()
            chamber = _CHAMBER_WORD.get((found.get("chamber") or "").lower())
            return set(kinds), (found.get("committee") or "").strip() or None, chamber
    return set(), None, None


# Referrals naming the committees a bill goes to in turn, and what parts them: New Mexico HB 10 (2026)
# "Sent to House Health & Human Services Committee & House Judiciary Committee" is with the first,
# and after its report ("DO PASS committee report adopted", which names none) with the second
_IN_TURN: tuple[tuple[str, re.Pattern[str], re.Pattern[str]], ...] = (
    ("nm", re.compile(r"^(?:Sent|referred) to (?P<committees>(?:House|Senate) .+ Committee)$"),
     re.compile(r"(?<=Committee) & (?=(?:House|Senate) )")),
)


def committees_in_turn(action: Mapping[str, Any], state: str) -> list[str]:
    """The committees a referral sends the bill to one after another, in its words' order (none
    where it names fewer than two): a report that names no committee hands it to the next."""
    for where, pattern, parts in _IN_TURN:
        if where == state and (match := pattern.search(action.get("text") or "")):
            named = [part.strip() for part in parts.split(match.group("committees"))]
            return named if len(named) > 1 else []
    return []


# California's actions name committees by the clerks' abbreviations ("Referred to Com. on APPR.");
# its committees' votes on the same bills name them in full: "Do pass and be re-referred to the
# Committee on [Appropriations]" the day of the action "Do pass and re-refer to Com. on APPR.". Each
# row is an abbreviation that every such pair of one day, bill and chamber in 2025-2026 (govbot-data/
# ca-legislation, tests/data/states/recorded/SOURCES.md) names the same committee, two pairs or more;
# left abbreviated where a pair disagreed (the Assembly's JUD., P. & C.P., U. & E.) or only one was
# found: (state, chamber, abbreviation) -> the committee's name
_SPELLED_OUT: dict[tuple[str, str, str], str] = {
    **{("ca", "lower", short): name for short, name in (
        ("APPR.", "Appropriations"), ("B. & F.", "Banking and Finance"), ("B. & P.", "Business and Professions"),
        ("E.M.", "Emergency Management"), ("E.S & T.M.", "Environmental Safety and Toxic Materials"),
        ("ED.", "Education"), ("H. & C.D.", "Housing and Community Development"), ("HEALTH.", "Health"),
        ("HIGHER ED.", "Higher Education"), ("HUM. S.", "Human Services"), ("INS.", "Insurance"),
        ("L. & E.", "Labor and Employment"), ("L. GOV.", "Local Government"),
        ("M. & V.A.", "Military and Veterans Affairs"), ("NAT. RES.", "Natural Resources"),
        ("PUB. S.", "Public Safety"), ("REV. & TAX.", "Revenue and Taxation"), ("RLS.", "Rules"),
        ("TRANS.", "Transportation"))},
    **{("ca", "upper", short): name for short, name in (
        ("AGRI.", "Agriculture"), ("APPR.", "Appropriations"),
        ("B. P. & E.D.", "Business, Professions and Economic Development"),
        ("E. & C.A.", "Elections and Constitutional Amendments"), ("E., U & C.", "Energy, Utilities and Communications"),
        ("E.Q.", "Environmental Quality"), ("ED.", "Education"), ("G.O.", "Governmental Organization"),
        ("HEALTH.", "Health"), ("HOUSING.", "Housing"), ("HUMAN S.", "Human Services"), ("JUD.", "Judiciary"),
        ("L. GOV.", "Local Government"), ("L., P.E. & R.", "Labor, Public Employment and Retirement"),
        ("M. & V.A.", "Military and Veterans Affairs"), ("N.R. & W.", "Natural Resources and Water"),
        ("PUB. S.", "Public Safety"), ("REV. & TAX.", "Revenue and Taxation"), ("RLS.", "Rules"),
        ("TRANS.", "Transportation"))},
    # Michigan's Senate writes its actions in capitals ("REFERRED TO COMMITTEE ON GOVERNMENT
    # OPERATIONS", SB 9, 2025-2026); spelled as the same words are in its bills' other actions (the
    # House's "referred to Committee on Government Operations"), where they are: of the Senate's 17
    # committees so named in 2025-2026 (govbot-data/mi-legislation), these 5. "REGULATORY AFFAIRS",
    # "CIVIL RIGHTS, JUDICIARY, AND PUBLIC SAFETY" and the others appear in no other case, and stay
    **{("mi", "upper", name.upper()): name for name in (
        "Appropriations", "Government Operations", "Health Policy", "Oversight", "Transportation and Infrastructure")},
}


def committee_called(name: str, state: str, chamber: str | None) -> str:
    """A committee as the state's own list names it, where its actions abbreviate it or write it in
    capitals and its name is known for certain (`_SPELLED_OUT`): California's "Com. on APPR." in the
    Assembly is its Appropriations committee. Any other name is as the action gave it."""
    short = name.removeprefix("Com. on ").strip()
    return _SPELLED_OUT.get((state, chamber or "", short), name)
