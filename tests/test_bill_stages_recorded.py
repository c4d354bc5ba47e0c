"""Federal bill stages on held-out real BILLSTATUS files (tests/data/federal, see SOURCES.md): the
stage, the latest action and the law an organizer would check against what the file itself says
(its own `<latestAction>`, `<laws>` and actions)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from lxml import etree
from recorded import federal

from tracker.bills.billstatus import parse_billstatus
from tracker.bills.committees import committees_holding
from tracker.bills.stages import chambers_passed
from tracker.demo.derive import billstatus_before
from tracker.records import Bill, Item
from tracker.sources import SOURCES, upgrade_reads_anew
from tracker.store import Store, ensure_watches, ingest
from tracker.words import STAGE_WORDS

# file, stage, chambers that passed it, law, committees holding it now
HELD_OUT = [
    ("BILLSTATUS-114hr3762.xml", "vetoed", {"House", "Senate"}, None, []),
    ("BILLSTATUS-114hr2822.xml", "reported", set(), None, []),
    ("BILLSTATUS-114hr22.xml", "enacted", {"House", "Senate"}, "114-94", []),
    ("BILLSTATUS-114hr1531.xml", "enacted", {"House", "Senate"}, "114-47", []),
    ("BILLSTATUS-114hr1155.xml", "passed_house", {"House"}, None, ["SSGA"]),
    ("BILLSTATUS-114hconres70.xml", "passed_both", {"House", "Senate"}, None, []),
    ("BILLSTATUS-114sres105.xml", "passed_senate", {"Senate"}, None, []),
    ("BILLSTATUS-114hjres45.xml", "referred", set(), None, ["HSJU"]),
    ("BILLSTATUS-115s2269.xml", "to_president", {"House", "Senate"}, None, []),
    ("BILLSTATUS-116s832.xml", "passed_senate", {"Senate"}, None, ["HSII"]),
]


def _file_latest_action(data: bytes) -> str:
    """The file's own `<bill><latestAction><text>`, as the file says it."""
    root = etree.fromstring(data)
    return " ".join((root.findtext("bill/latestAction/text") or "").split())


@pytest.mark.parametrize(("name", "stage", "passed", "law", "held"), HELD_OUT)
def test_held_out_bill_reads_as_its_file_says(name: str, stage: str, passed: set[str], law: str | None,
                                              held: list[str]) -> None:
    data = federal(name)
    bill = parse_billstatus(data)
    assert bill.stage == stage, STAGE_WORDS[bill.stage]
    assert chambers_passed(bill) == passed
    assert (bill.laws[0]["number"] if bill.laws else None) == law
    assert [h.code for h in committees_holding(bill)] == held
    assert bill.latest_action and bill.latest_action["text"] == _file_latest_action(data)


def test_a_vetoed_bill_ends_on_what_the_house_did_with_the_veto() -> None:
    """H.R.3762 (114th): vetoed on January 8, 2016; the House postponed the veto message to January
    26 that day, after an hour of debate that began at 1:00 PM. Legacy files write 12-hour times
    ("12:59PM", "01:00PM") and leave some rows of a day untimed; the file lists each day's rows in
    the order they happened, so its own order, not the time's words, says which came last."""
    bill = parse_billstatus(federal("BILLSTATUS-114hr3762.xml"))
    assert bill.stage == "vetoed"
    assert bill.latest_action == {
        "date": "2016-01-08",
        "text": "On motion to postpone consideration of the veto message until Jan. 26. Agreed to by voice vote.",
    }
    day = [a["text"] for a in bill.actions if a["date"] == "2016-01-08"]
    assert day[0].startswith("Vetoed by President.")
    assert day.index(next(t for t in day if t.startswith("The Chair announced"))) < \
        day.index(next(t for t in day if t.startswith("Floor summary: DEBATE")))


def test_an_evening_sitting_ends_after_the_one_past_midnight() -> None:
    """H.R.2822 (114th) on July 8, 2015: debate just after midnight ("12:07AM" to "12:52AM"), then the
    evening's sitting up to the Committee of the Whole rising at 8:37 PM ("08:37PM"); read as text,
    "12:52AM" came after "08:37PM"."""
    bill = parse_billstatus(federal("BILLSTATUS-114hr2822.xml"))
    assert bill.latest_action == {
        "date": "2015-07-08",
        "text": "Committee of the Whole House on the state of the Union rises leaving H.R. 2822 as unfinished business.",
    }


def _as_billstatus_2_read(bill: Bill) -> Bill:
    """The record as billstatus-2 stored it: each day's actions sorted by their `actionTime` words,
    untimed ones first (the same actions and ids, in that order), and its last one the latest."""
    actions = sorted(bill.actions, key=lambda a: (a["date"], a["time"] or ""))
    return replace(bill, actions=actions, latest_action={"date": actions[-1]["date"], "text": actions[-1]["text"]})


def _stored_then_upgraded(url: str, before: Bill, after: Bill) -> list[str]:
    """`before` stored by billstatus-2, then `after` read by the registry's version with its
    `reads_anew` record, as the crawl hands it to the store: the kinds of change recorded."""
    store = Store(url)
    with store.session() as session:
        ensure_watches(session, [("police", "bill", "Police accountability")])

    def item(bill: Bill, version: str) -> Item:
        return Item(key="bill:hr3762-114", kind="bill", source_id="govinfo", watch_ids=["police"], content=bill,
                    parser_version=version, reads_anew=SOURCES["govinfo"].reads_anew)

    ingest(store, item(before, "billstatus-2"))
    changes = ingest(store, item(after, SOURCES["govinfo"].parser_version)).changes
    told = [f"{c.kind}: {c.summary}" for c in changes]
    store.dispose()
    return told


def test_the_upgrade_s_first_read_tells_only_what_happened_meanwhile(tmp_path: Path) -> None:
    """billstatus-3 reads the latest action anew (no news: only its order moved), and still tells
    the veto that came while the tracker was down for the upgrade (through the store, as a crawl)."""
    anew = upgrade_reads_anew(SOURCES["govinfo"].reads_anew, "billstatus-2", SOURCES["govinfo"].parser_version)
    assert anew == frozenset({"latest_action"})
    data = federal("BILLSTATUS-114hr3762.xml")
    new = parse_billstatus(data)
    stored = _as_billstatus_2_read(new)
    assert stored.latest_action != new.latest_action
    assert _stored_then_upgraded(f"sqlite:///{tmp_path / 'same.db'}", stored, new) == []

    before_veto = _as_billstatus_2_read(parse_billstatus(billstatus_before(data, "2016-01-08")))
    told = _stored_then_upgraded(f"sqlite:///{tmp_path / 'veto.db'}", before_veto, new)
    assert "bill.stage: H.R. 3762 (114th) was vetoed" in told
    assert any(line.startswith("bill.action: ") and "Vetoed by President." in line for line in told), told
