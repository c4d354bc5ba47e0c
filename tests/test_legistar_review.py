"""A review of the Legistar Web API path against answers a client could really give: ids that are
not ids, an answer about another record than the one asked (a cache or proxy mixing them up), and
collections cut at Legistar's 1,000 rows. Real crawls (`run_crawls`) through the real
engine against the loopback API (tracker/demo/legistar_api.py), of NYC's calendar as
`test_legistar.baseline_state` derives it, behind the rewriting front of test_legistar_hostile."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from recorded import local
from statusjson import changes_json
from test_legistar import derived_item, later_state
from test_legistar_hostile import EVERY, NYC, crawl, front, meetings

from tracker import models as m
from tracker.crawl import run_crawls
from tracker.demo.legistar_api import LegistarApi
from tracker.demo.replay import ReplayServer
from tracker.store import Store

# The requests the spider means to send: a path of numeric ids only.
ASKED = re.compile(r"^/v1/nyc/(events|events/\d+(/eventitems)?|matters/\d+(/histories)?|"
                   r"bodies/\d+/officerecords|persons/\d+)$")
# derived: ids a broken or hostile answer could give, each where an EventId belongs
BAD_EVENT_IDS: list[Any] = ["20188/../../matters/17071/histories?", "1?$top=1", "1#", 30188.0, True, -5, 10**30]


def body_19_records() -> list[dict[str, Any]]:
    """The Committee on Public Safety's recorded office records (body 19)."""
    return list(json.loads(local("legistar/officerecords_body19.json")))


def body_19_persons() -> list[dict[str, Any]]:
    """The recorded people of body 19's office records."""
    return list(json.loads(local("legistar/persons_body19.json")))


def with_body_19(api: LegistarApi, records: list[dict[str, Any]] | None = None) -> Any:
    """NYC's client of `api` serving body 19's office records (`records`, else the recorded ones)
    and its recorded people; returned for a test to add to."""
    nyc = api.client("nyc")
    nyc.officerecords[19] = body_19_records() if records is None else records
    nyc.persons.update({p["PersonId"]: p for p in body_19_persons()})
    return nyc


def stored(store: Store, key: str) -> dict[str, Any] | None:
    with store.session() as session:
        entity = session.get(m.Entity, key)
        if entity is None or entity.current_snapshot_id is None:
            return None
        snapshot = session.get(m.Snapshot, entity.current_snapshot_id)
        assert snapshot is not None
        return dict(json.loads(snapshot.content))


def test_event_and_matter_ids_that_are_not_ids_go_into_no_address_or_key(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Events whose `EventId` is text with a path or a query in it, a float, a bool, a negative or
    a huge number (copies of hearing 20188, derived), and matching agenda items whose
    `EventItemMatterId` is such text or a float: each went into a request's path as it was
    (`events/20188/../../matters/...`, `events/1?$top=1/eventitems`, one cut at a `#` without its
    token) and into an entity key (`meeting:legistar:nyc:1?$top=1`). Each is one line now; no
    request is sent for it and nothing is stored under it; every real meeting is stored."""
    api = LegistarApi("/v1")

    def spoil(path: str, query: dict[str, str], data: Any) -> Any:
        if path.endswith("/events") and data:
            hearing = next(e for e in data if e["EventId"] == 20188)
            return [*data, *(copy.deepcopy(hearing) | {"EventId": bad} for bad in BAD_EVENT_IDS)]
        if path.endswith("/events/20111/eventitems"):
            return [*data,
                    derived_item(900051, "NYPD overtime audit", "Committee", 5)
                    | {"EventItemMatterId": "17071/../../../events/20111?"},
                    derived_item(900052, "NYPD body cameras", "Committee", 6) | {"EventItemMatterId": 17071.0}]
        return data

    asked = front(replay, api, spoil)
    config, store, report = crawl(tmp_path, replay, api, monkeypatch)
    assert [path for path in asked if not ASKED.match(path)] == []
    assert all("spider error" not in e for e in report.errors), report.errors
    with store.session() as session:
        keys = [key for (key,) in session.query(m.Entity.key)]
    assert [key for key in keys if ":legistar:" in key and not re.search(r":\d+$", key)] == []
    assert meetings(store, config) == EVERY
    assert len([e for e in report.errors if "events listing" in e]) == len(BAD_EVENT_IDS), report.errors
    assert len([e for e in report.errors if "items of meeting 20111" in e]) == 2, report.errors
    # the good item on 20111 still has its matter followed
    assert stored(store, "matter:legistar:nyc:17071") is not None


def test_a_matter_record_answered_for_another_matter_is_not_stored_as_it(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The daily check of matter 17071 is answered with matter 17072's record (derived: a cache or
    proxy mixing up answers, as `events/{id}` guards against). Its `MatterId` led the history
    request and the key: 17072, no watch's matter, was stored and followed daily for a year, and
    17071's check never recorded (asked first every run). Now it is 17071's one line, nothing is
    stored from it, and 17071 goes to the back of the queue."""
    api = LegistarApi("/v1")
    asked = front(replay, api, lambda path, query, data: data)
    config, store, _report = crawl(tmp_path, replay, api, monkeypatch)
    nyc = api.client("nyc")
    other = copy.deepcopy(nyc.matters[17071]) | {"MatterId": 17072, "MatterFile": "Int 0002-2023",
                                                 "MatterGuid": "00000000-0000-0000-0000-000000017072"}
    nyc.matters[17072], nyc.histories[17072] = other, copy.deepcopy(nyc.histories[17071])
    nyc.matters[17071] = other  # what `matters/17071` answers now
    monkeypatch.setenv("TRACKER_NOW", "2023-06-02T14:00:00Z")
    asked.clear()
    report = next(r for r in run_crawls(config, store) if r.source_id == "legistar:nyc-council")
    assert "/v1/nyc/matters/17071" in asked and "/v1/nyc/matters/17072/histories" not in asked
    assert stored(store, "matter:legistar:nyc:17072") is None
    assert [e for e in report.errors if "matter 17071" in e], report.errors
    with store.session() as session:
        state = session.get(m.SourceState, "legistar:nyc-council")
        assert state is not None
        matters = dict(state.cursor["matters"])
    assert set(matters) == {"17071"}
    assert matters["17071"]["checked"] == "2023-06-02T14:00:00+00:00"  # to the back of the queue


def test_an_office_record_whose_person_id_is_a_float_names_no_other_person(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """A member's `OfficeRecordPersonId` is 7702.5 (derived): `int()` made it 7702, so the member
    was given person 7702's email, someone else's, as whom to write to. A member whose person id
    is not an id is named from the office record only."""
    api = LegistarApi("/v1")
    records = body_19_records()
    stranger = copy.deepcopy(records[-1]) | {"OfficeRecordId": 9999, "OfficeRecordFullName": "Pat Stranger",
                                             "OfficeRecordPersonId": 7702.5, "OfficeRecordEmail": None}
    with_body_19(api, [*records, stranger])
    front(replay, api, lambda path, query, data: data)
    _config, store, _report = crawl(tmp_path, replay, api, monkeypatch)
    body = stored(store, "body:legistar:nyc:19")
    assert body is not None
    (member,) = [member for member in body["members"] if member["name"] == "Pat Stranger"]
    assert member["person_id"] is None and member["email"] is None


def test_a_bodys_office_records_past_a_thousand_are_all_read(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Body 19 has 1,000 office records of long-ended terms (derived) before its recorded ones:
    Legistar answers at most 1,000 rows, the oldest first, so the roster was stored from the ended
    terms alone (its current members silently dropped). The office records are paged now."""
    api = LegistarApi("/v1")
    records = body_19_records()
    ended = [copy.deepcopy(records[0]) | {"OfficeRecordId": n, "OfficeRecordFullName": f"Former Member {n}",
                                          "OfficeRecordPersonId": None, "OfficeRecordStartDate": "1990-01-01T00:00:00",
                                          "OfficeRecordEndDate": "1993-12-31T00:00:00"} for n in range(1, 1001)]
    with_body_19(api, [*ended, *records])
    front(replay, api, lambda path, query, data: data)
    _config, store, report = crawl(tmp_path, replay, api, monkeypatch)
    assert report.ok, report.errors
    body = stored(store, "body:legistar:nyc:19")
    assert body is not None
    names = {member["name"] for member in body["members"]}
    assert {r["OfficeRecordFullName"] for r in records} <= names
    assert len(body["members"]) == len(ended) + len(records)


def test_a_listing_of_exactly_a_thousand_events_asks_once_more_and_is_complete(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Evidence, not a fault: the window's listing padded to exactly 1,000 events (derived: old
    hearings of a body not followed). The full page asks for `$skip=1000`, whose empty answer
    ends a complete listing; nothing is dropped and there is no line."""
    api = LegistarApi("/v1")
    asked: list[dict[str, str]] = []

    def pad(path: str, query: dict[str, str], data: Any) -> Any:
        if path.endswith("/events"):
            asked.append(dict(query))
            if query.get("$skip", "0") == "0":
                filler = {"EventBodyName": "Committee on Finance", "EventBodyId": 7,
                          "EventDate": "2023-06-15T00:00:00"}
                data = [*data, *(filler | {"EventId": 10_000_000 + n} for n in range(1000 - len(data)))]
                assert len(data) == 1000
        return data

    front(replay, api, pad)
    config, store, report = crawl(tmp_path, replay, api, monkeypatch)
    assert [q.get("$skip") for q in asked] == ["0", "1000"]
    assert report.complete_listing and report.errors == [] and report.warnings == []
    assert meetings(store, config) == EVERY
    assert NYC + "10000000" not in meetings(store, config)


def test_items_and_a_history_of_a_thousand_rows_are_said_to_be_cut(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hearing 20111's items and matter 17071's history answer 1,000 rows each, whatever the page
    asked (derived: padded with procedural rows; an API ignoring `$skip`), as many as Legistar
    gives: the rest, if any, was dropped without a word, and the items, their fingerprint kept,
    never asked for again. The items are asked for a page at a time until a page brings nothing
    new; each is a warning, and the items are read again next run."""
    api = LegistarApi("/v1")

    def pad(path: str, query: dict[str, str], data: Any) -> Any:
        if path.endswith("/events/20111/eventitems"):
            return [*data, *(derived_item(800000 + n, f"Roll call {n}", "Committee", 100 + n)
                             | {"EventItemMatterId": None} for n in range(1000 - len(data)))]
        if path.endswith("/matters/17071/histories"):
            return [*data, *(dict(data[-1], MatterHistoryId=700000 + n) for n in range(1000 - len(data)))]
        return data

    asked = front(replay, api, pad)
    config, store, report = crawl(tmp_path, replay, api, monkeypatch)
    assert report.errors == [], report.errors
    assert [w.split(": ")[1] for w in report.warnings] == ["items of meeting 20111", "history of matter 17071"], \
        report.warnings
    assert "brought no item not read already (the API ignores $skip?); the agenda may be cut" in report.warnings[0]
    assert meetings(store, config) == EVERY
    asked.clear()
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T13:00:00Z")
    report = next(r for r in run_crawls(config, store) if r.source_id == "legistar:nyc-council")
    items_asked = [p for p in asked if p.endswith("/eventitems")]
    assert items_asked and set(items_asked) == {"/v1/nyc/events/20111/eventitems"}  # read again


def test_an_agenda_of_more_than_a_thousand_items_is_read_a_page_at_a_time(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hearing 20111's agenda grows to 1,501 items (derived: procedural rows beside the recorded
    ones), the ShotSpotter bill among the last. Legistar answers 1,000 rows at most: before, the
    rest was dropped and the bill never told, only a warning that the agenda "may be cut", every
    run. Now a full answer is read again in pages of 1,000 by the items' ids: the bill is told,
    nothing is said to be cut, and a run with nothing new asks for no item."""
    api = LegistarApi("/v1")
    asked = front(replay, api, lambda path, query, data: data)
    config, store, report = crawl(tmp_path, replay, api, monkeypatch)
    assert report.errors == [] and report.warnings == [], report.errors + report.warnings
    later_state(api)
    nyc = api.client("nyc")
    nyc.eventitems[20111] = [*nyc.eventitems[20111], *(
        derived_item(800000 + n, f"Roll call {n}", "Committee", 100 + n) | {"EventItemMatterId": None}
        for n in range(1501 - len(nyc.eventitems[20111])))]
    assert len(nyc.eventitems[20111]) == 1501
    asked.clear()
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T13:00:00Z")
    report = next(r for r in run_crawls(config, store) if r.source_id == "legistar:nyc-council")
    assert report.errors == [] and report.warnings == [], report.errors + report.warnings
    # 1,000 rows, then its two pages (the other meetings the later state changed are asked once each)
    assert asked.count("/v1/nyc/events/20111/eventitems") == 3
    told = [c["summary"] for c in changes_json(store) if c["kind"] == "agenda.item_added"]
    assert any("ShotSpotter" in summary for summary in told), told
    asked.clear()
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T14:00:00Z")
    report = next(r for r in run_crawls(config, store) if r.source_id == "legistar:nyc-council")
    assert report.warnings == [] and [p for p in asked if p.endswith("/eventitems")] == []


def test_a_person_record_answered_for_another_person_gives_no_one_its_contacts(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """`persons/7705` (Grace Okafor, no email of her own) is answered with person 7702's record
    (derived: a cache or proxy mixing up answers): Marcus Ortega's email was stored as hers, the
    address an alert gives to write to her. Now it is a warning and she is named from her office
    record only."""
    api = LegistarApi("/v1")
    nyc = with_body_19(api)

    def mix(path: str, query: dict[str, str], data: Any) -> Any:
        return copy.deepcopy(nyc.persons[7702]) if path.endswith("/persons/7705") else data

    front(replay, api, mix)
    _config, store, report = crawl(tmp_path, replay, api, monkeypatch)
    body = stored(store, "body:legistar:nyc:19")
    assert body is not None
    (grace,) = [member for member in body["members"] if member["name"] == "Grace Okafor"]
    assert grace["email"] is None
    assert [w for w in report.warnings if "person 7705" in w], report.warnings


def test_office_records_answered_for_another_body_name_no_one(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """`bodies/1/officerecords` (the City Council) is answered with body 19's records (derived: a
    cache or proxy mixing up answers): the Committee on Public Safety's members were stored as the
    Council's, named in alerts about its meetings. Now it is the Council roster's one line and
    nothing is stored from it; body 19's own roster is stored."""
    api = LegistarApi("/v1")
    nyc = with_body_19(api)

    def mix(path: str, query: dict[str, str], data: Any) -> Any:
        return copy.deepcopy(nyc.officerecords[19]) if path.endswith("/bodies/1/officerecords") else data

    front(replay, api, mix)
    _config, store, report = crawl(tmp_path, replay, api, monkeypatch)
    council = stored(store, "body:legistar:nyc:1")
    assert council is None or council["members"] == []
    assert [e for e in report.errors if "members of body 1:" in e], report.errors
    committee = stored(store, "body:legistar:nyc:19")
    assert committee is not None and len(committee["members"]) == len(nyc.officerecords[19])


def test_only_members_seated_or_to_be_seated_are_asked_for_their_contacts(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Body 19 with 30 long-ended terms of people with records of their own (derived) before its
    recorded members: each was asked for at `persons/{id}` every day, though an ended term's
    person is never named whom to write to. Now only the members not ended are; the ended terms
    stay in the roster, named from their office records."""
    api = LegistarApi("/v1")
    records, persons = body_19_records(), body_19_persons()
    ended = [copy.deepcopy(records[0]) | {"OfficeRecordId": 90000 + n, "OfficeRecordFullName": f"Former Member {n}",
                                          "OfficeRecordPersonId": 80000 + n, "OfficeRecordStartDate": "1990-01-01T00:00:00",
                                          "OfficeRecordEndDate": "1993-12-31T00:00:00"} for n in range(30)]
    nyc = with_body_19(api, [*ended, *records])
    nyc.persons.update({80000 + n: copy.deepcopy(persons[0]) | {"PersonId": 80000 + n} for n in range(30)})
    front(replay, api, lambda path, query, data: data)
    _config, store, report = crawl(tmp_path, replay, api, monkeypatch)
    assert report.ok, report.errors
    asked = {int(r.path.rsplit("/", 1)[1]) for r in replay.requests if r.path.startswith("/v1/nyc/persons/")}
    assert not asked & {80000 + n for n in range(30)}
    assert {p["PersonId"] for p in persons if any(r["OfficeRecordPersonId"] == p["PersonId"] for r in records)} <= asked
    body = stored(store, "body:legistar:nyc:19")
    assert body is not None
    assert {f"Former Member {n}" for n in range(30)} <= {member["name"] for member in body["members"]}


def test_items_answered_for_another_meeting_are_not_stored_as_its_agenda(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Meeting 20111's agenda, republished, is asked for again and answered with meeting 20099's
    items (derived: each row naming 20099, a cache or proxy mixing up answers, as the other
    answers are guarded against): they were stored as 20111's agenda, "ShotSpotter" told as on
    it. Now it is 20111's one line and its stored items stay."""
    api = LegistarApi("/v1")
    swap = {"on": False}

    def rewrite(path: str, query: Any, data: Any) -> Any:
        if swap["on"] and path.endswith("/events/20111/eventitems"):
            return [row | {"EventItemEventId": 20099, "EventItemTitle": "Another meeting's ShotSpotter contract"}
                    for row in data]
        return data

    front(replay, api, rewrite)
    config, store, _report = crawl(tmp_path, replay, api, monkeypatch)
    before = stored(store, "meeting:legistar:nyc:20111")
    assert before is not None and before["items"]
    api.client("nyc").events[20111]["EventAgendaLastPublishedUTC"] = "2023-06-01T20:00:00"
    swap["on"] = True
    monkeypatch.setenv("TRACKER_NOW", "2023-06-02T14:00:00Z")
    report = next(r for r in run_crawls(config, store) if r.source_id == "legistar:nyc-council")
    assert [e for e in report.errors if "items of meeting 20111" in e and "meeting 20099" in e], report.errors
    after = stored(store, "meeting:legistar:nyc:20111")
    assert after is not None and after["items"] == before["items"]
