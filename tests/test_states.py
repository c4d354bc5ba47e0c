"""State bills as pure functions (tracker/states.py): reading the recorded Open States v3 answers,
stages from the action vocabulary, the differ, headlines in each state's words, the keyword rule."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from tracker.demo.openstates_api import DATA
from tracker.records import StateBill, canonical_json, load_record, state_bill_key
from tracker.states import (
    KeywordMatch,
    StateBillParseError,
    bills_query,
    derive_stage,
    diff_bill,
    headline,
    in_title,
    keyword_matches,
    latest_updates,
    read_bill,
    search_query,
    since_param,
    state_info,
    states_to_read,
)

RECORDED = {state: json.loads((DATA / "api" / f"{state}.json").read_text()) for state in ("baseline", "later")}


def recorded(state: str, identifier: str) -> dict[str, Any]:
    return next(b for b in RECORDED[state]["bills"] if b["identifier"] == identifier)


def bill(state: str, identifier: str) -> StateBill:
    return read_bill(json.dumps(recorded(state, identifier)).encode())


def action(date: str, chamber: str, *classification: str, text: str = "", committee: str | None = None) -> dict[str, Any]:
    return {"date": date, "text": text or " ".join(classification), "classification": list(classification),
            "chamber": chamber, "committees": [committee] if committee else []}


# -- reading --------------------------------------------------------------------------------------


def test_reads_a_recorded_bill_with_its_sponsors_actions_votes_and_committee() -> None:
    sb217 = bill("later", "SB 217")
    assert (sb217.state, sb217.session, sb217.identifier, sb217.title) == (
        "co", "2020A", "SB 217", "Enhance Law Enforcement Integrity")
    assert sb217.key == "co:2020a:sb217" and sb217.entity == "statebill:co:2020a:sb217"
    assert sb217.url == "https://openstates.org/co/bills/2020A/SB217/"
    assert sb217.chamber == "upper" and sb217.introduced == "2020-06-03" and sb217.stage == "passed_upper"
    assert [s["name"] for s in sb217.sponsors] == ["Alec Garnett", "Leroy Garcia", "Leslie Herod", "Rhonda Fields",
                                                   "Julie Gonzales"]  # primary sponsors first
    assert sb217.sponsors[-1]["classification"] == "cosponsor" and sb217.sponsors[0]["district"] == "2"
    assert [(a["date"], a["chamber_name"]) for a in sb217.actions][-1] == ("2020-06-09", "Senate")
    assert sb217.actions[0]["committees"] == ["Judiciary"]
    assert sb217.votes == [{**sb217.votes[0], "date": "2020-06-09", "chamber_name": "Senate", "result": "pass",
                            "counts": {"yes": 32, "no": 3, "excused": 0, "absent": 0}}]
    assert sb217.latest_action == {"date": "2020-06-09", "text": "Senate Third Reading Passed"}
    assert "Qualified immunity" not in sb217.title and sb217.abstract.startswith("Concerning measures")


def test_the_record_round_trips_and_an_unchanged_bill_hashes_the_same() -> None:
    first, again = bill("baseline", "HB 4"), bill("baseline", "HB 4")
    assert canonical_json(first.dump()) == canonical_json(again.dump())
    assert load_record("statebill", canonical_json(first.dump())) == first
    assert "updated_at" not in first.dump()  # volatile: never part of the snapshot
    shuffled = recorded("baseline", "HB 4") | {"updated_at": "2030-01-01T00:00:00+00:00"}
    shuffled["sponsorships"] = list(reversed(shuffled["sponsorships"]))
    assert read_bill(shuffled) == first  # a re-scrape reordering sponsors or touching updated_at is not news


def test_action_ids_do_not_depend_on_open_states_uuids() -> None:
    data = recorded("baseline", "SB 217")
    data["actions"] = [{**a, "id": f"00000000-0000-0000-0000-{n:012d}"} for n, a in enumerate(data["actions"])]
    assert [a["id"] for a in read_bill(data).actions] == [a["id"] for a in bill("baseline", "SB 217").actions]


@pytest.mark.parametrize(("data", "words"), [
    (b"<html>maintenance</html>", "not JSON"),
    (b"[]", "not a JSON object"),
    (json.dumps({"id": "ocd-bill/x", "title": "t"}).encode(), "ocd-bill/x lacks its state, session or identifier"),
])
def test_an_unreadable_answer_is_one_line(data: bytes, words: str) -> None:
    with pytest.raises(StateBillParseError) as raised:
        read_bill(data)
    assert words in str(raised.value) and "\n" not in str(raised.value)


def test_scraped_text_is_cleaned_and_capped() -> None:
    data = recorded("baseline", "SB 217") | {"title": "Enhance\x00 Law\n\tEnforcement " + "x" * 5000}
    title = read_bill(data).title
    assert title.startswith("Enhance Law Enforcement x") and len(title) <= 1000 and "\x00" not in title


def test_state_bill_keys_are_normalized() -> None:
    assert state_bill_key("CO", "2020A", "SB 217") == state_bill_key("co", "2020a", "sb217") == "co:2020a:sb217"
    assert state_bill_key("nm", "2021", "HB 0004") == "nm:2021:hb4"
    assert state_bill_key("ny", "2021-2022", "A 99901") == "ny:2021-2022:a99901"
    assert state_bill_key("ma", "191st", "S.2963") == "ma:191st:s2963"


# -- stages -----------------------------------------------------------------------------------------

CO, NE = state_info("co"), state_info("ne")


def stage_of(*actions: dict[str, Any], info: Any = CO) -> tuple[str, Any]:
    return derive_stage(list(actions), info)


def test_stages_follow_the_action_vocabulary_and_the_committee_holding_it() -> None:
    intro = action("2020-06-03", "upper", "introduction", "referral-committee", committee="Judiciary")
    assert stage_of(intro) == ("referred", {"name": "Judiciary", "chamber": "upper"})
    out = action("2020-06-04", "upper", "committee-passage", "referral-committee", committee="Appropriations")
    assert stage_of(intro, out) == ("reported", {"name": "Appropriations", "chamber": "upper"})
    floor = action("2020-06-05", "upper", "committee-passage")
    assert stage_of(intro, out, floor) == ("reported", None)
    senate = action("2020-06-09", "upper", "reading-3", "passage")
    house_ref = action("2020-06-10", "lower", "referral-committee", committee="Judiciary")
    assert stage_of(intro, out, floor, senate, house_ref) == ("passed_upper", {"name": "Judiciary", "chamber": "lower"})
    house = action("2020-06-12", "lower", "passage")
    assert stage_of(intro, senate, house)[0] == "passed_both"
    sent = action("2020-06-15", "executive", "executive-receipt")
    assert stage_of(intro, senate, house, sent) == ("to_governor", None)
    signed = action("2020-06-19", "executive", "executive-signature")
    assert stage_of(intro, senate, house, sent, signed)[0] == "enacted"
    assert stage_of(intro, senate, house, action("2020-07-01", "executive", "became-law"))[0] == "enacted"


def test_failure_veto_and_withdrawal_end_it_and_an_override_by_both_chambers_makes_law() -> None:
    intro = action("2021-01-19", "lower", "introduction")
    house, senate = action("2021-02-24", "lower", "passage"), action("2021-03-15", "upper", "passage")
    veto = action("2021-04-01", "executive", "executive-veto")
    assert stage_of(intro, house, senate, veto)[0] == "vetoed"
    one = action("2021-04-05", "lower", "veto-override-passage")
    assert stage_of(intro, house, senate, veto, one)[0] == "vetoed"
    both = action("2021-04-06", "upper", "veto-override-passage")
    assert stage_of(intro, house, senate, veto, one, both)[0] == "enacted"
    assert stage_of(intro, action("2021-02-01", "lower", "committee-failure"))[0] == "failed"
    assert stage_of(intro, action("2021-02-01", "lower", "withdrawal")) == ("withdrawn", None)
    failed = action("2021-02-20", "lower", "failure")
    assert stage_of(intro, failed)[0] == "failed"
    assert stage_of(intro, failed, house)[0] == "passed_lower"  # reconsidered and passed
    assert stage_of(intro, house, senate, action("2021-04-01", "executive", "executive-veto-line-item"))[0] == "enacted"


def test_a_unicameral_legislature_passes_once() -> None:
    intro = action("2021-01-10", "legislature", "introduction", "referral-committee", committee="Judiciary")
    assert stage_of(intro, action("2021-03-01", "legislature", "passage"), info=NE) == ("passed_legislature", None)
    assert NE.chamber("upper") == "Legislature"


def test_a_committee_named_only_in_the_words() -> None:
    referral = action("2021-02-19", "lower", "referral-committee", text="referred to codes")
    assert stage_of(referral)[1] == {"name": "Codes", "chamber": "lower"}


# -- diff and words ----------------------------------------------------------------------------------


def test_the_senate_passage_is_a_stage_a_vote_with_counts_an_action_and_a_new_sponsor() -> None:
    old, new = bill("baseline", "SB 217"), bill("later", "SB 217")
    changes = diff_bill(old, new, new.entity)
    kinds = sorted(c.kind for c in changes)
    assert kinds == ["bill.action", "bill.cosponsor_added", "bill.stage", "bill.vote"]
    stage = next(c for c in changes if c.kind == "bill.stage")
    assert stage.data == {"from": "reported", "to": "passed_upper", "state": "co", "chamber": "Senate", "committee": None}
    assert stage.summary == "Colorado SB 217 passed the Senate" and stage.occurred_at == "2020-06-09"
    vote = next(c for c in changes if c.kind == "bill.vote")
    assert vote.data["counts"] == {"yes": 32, "no": 3, "excused": 0, "absent": 0}
    assert vote.summary == "Colorado SB 217: Senate vote 32-3 on Third Reading (passed)"
    added = next(c for c in changes if c.kind == "bill.cosponsor_added")
    assert added.data["name"] == "Julie Gonzales" and added.data["person_id"].startswith("ocd-person/")
    assert headline(changes, new) == "Colorado SB 217 passed the Senate"
    assert diff_bill(new, bill("later", "SB 217"), new.entity) == []  # read again: nothing new
    assert {c.dedupe_key for c in changes} == {c.dedupe_key for c in diff_bill(old, new, new.entity)}


@pytest.mark.parametrize(("identifier", "title"), [
    ("A 99901", "New York A 99901 passed the Assembly"),
    ("HB 99903", "Virginia HB 99903 passed the House of Delegates"),
    ("HB 4", "New Mexico HB 4 passed the Senate, and so both chambers"),
    ("S 2963", "Massachusetts S 2963 passed the Senate"),
])
def test_headlines_name_the_chamber_as_the_state_does(identifier: str, title: str) -> None:
    old, new = bill("baseline", identifier), bill("later", identifier)
    assert headline(diff_bill(old, new, new.entity), new) == title


def test_a_withdrawn_sponsor_and_a_bill_found_by_a_keyword_watch() -> None:
    old, new = bill("baseline", "HB 99903"), bill("later", "HB 99903")
    gone = [c for c in diff_bill(old, new, new.entity) if c.kind == "bill.cosponsor_withdrawn"]
    assert [c.data["name"] for c in gone] == ["Herring"] and gone[0].summary.endswith("is no longer a sponsor")
    found = diff_bill(None, bill("baseline", "SB 217"), "statebill:co:2020a:sb217",
                      matches=[KeywordMatch("qualified immunity", "text")])
    assert [c.kind for c in found] == ["bill.introduced"]
    assert found[0].data["matches"] == [{"keyword": "qualified immunity", "where": "text"}]
    assert headline(found, bill("baseline", "SB 217")) == (
        "Colorado SB 217 found: Enhance Law Enforcement Integrity (“qualified immunity” in its text)")


def test_a_stage_into_committee_names_it() -> None:
    old, new = bill("baseline", "HB 4"), bill("later", "HB 4")
    assert old.committee == {"name": "Judiciary", "chamber": "upper"} and new.committee is None  # passed the Senate
    data = recorded("baseline", "HB 4")
    filed, referred = read_bill(data | {"actions": []}), read_bill(data | {"actions": data["actions"][:1]})
    change = next(c for c in diff_bill(filed, referred, referred.entity) if c.kind == "bill.stage")
    assert change.summary == "New Mexico HB 4 was referred to the House Judiciary Committee"
    assert change.data["committee"] == {"name": "Judiciary", "chamber": "lower"}


# -- the keyword rule --------------------------------------------------------------------------------


@pytest.mark.parametrize(("title", "matches"), [
    ("Provides that Qualified Immunity shall not be a defense", True),
    ("QUALIFIED IMMUNITY; LIMITS", True),
    ("qualified-immunity reform", True),
    ("Relates to immunity from civil liability for qualified volunteer emergency responders", False),
    ("immunity qualified", False),
    ("disqualified immunity", False),
    ("qualified immunityless", False),
    ("Enhance Law Enforcement Integrity", False),
])
def test_a_keyword_is_a_phrase_of_whole_words_in_any_case(title: str, matches: bool) -> None:
    assert in_title(title, "qualified immunity") is matches


def test_a_bill_found_only_by_the_api_text_search_is_a_text_match() -> None:
    keywords = ["qualified immunity", "chokehold"]
    assert keyword_matches("Provides that Qualified Immunity shall not be a defense", keywords) == [
        KeywordMatch("qualified immunity", "title")]
    assert keyword_matches("Enhance Law Enforcement Integrity", keywords, found_by_text=["Qualified Immunity"]) == [
        KeywordMatch("qualified immunity", "text")]
    assert keyword_matches("Enhance Law Enforcement Integrity", keywords) == []


def test_the_search_sent_is_the_quoted_phrase() -> None:
    assert search_query("qualified immunity") == '"qualified immunity"'
    assert search_query(' 911 "calls" ') == '"911 calls"'


# -- the API's clock and cursors ---------------------------------------------------------------------


def test_updated_since_is_sent_in_the_form_every_api_version_reads() -> None:
    assert since_param(datetime(2020, 6, 9, 23, 11, 5, 523481, tzinfo=UTC)) == "2020-06-09 23:11:05"
    from zoneinfo import ZoneInfo
    assert since_param(datetime(2020, 6, 9, 17, 0, tzinfo=ZoneInfo("America/Denver"))) == "2020-06-09 23:00:00"


def test_only_watched_states_whose_bills_moved_are_read() -> None:
    before = latest_updates(RECORDED["baseline"]["jurisdictions"])
    after = latest_updates(json.dumps(RECORDED["later"]["jurisdictions"]))
    assert len(after) == 52 and after["co"] == datetime(2020, 6, 10, 4, 15, 37, tzinfo=UTC)
    assert states_to_read(after, before, ["co", "NM", "tx"]) == ["co", "nm"]  # tx did not move
    assert states_to_read(after, after, ["co", "nm", "ma"]) == []
    assert states_to_read(after, {}, ["ma"]) == ["ma"]  # no cursor yet


def test_a_bills_request_asks_oldest_first_with_every_include_repeated() -> None:
    params = bills_query("CO", since=datetime(2020, 6, 9, 23, 11, 5, tzinfo=UTC), keyword="qualified immunity", page=2)
    assert params[:4] == [("jurisdiction", "co"), ("updated_since", "2020-06-09 23:11:05"),
                          ("q", '"qualified immunity"'), ("sort", "updated_asc")]
    assert [v for k, v in params if k == "include"] == ["actions", "sponsorships", "votes", "abstracts", "sources",
                                                         "versions"]
    assert params[-2:] == [("per_page", "20"), ("page", "2")]
