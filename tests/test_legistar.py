"""Legistar meetings: the real NYC and LA Metro records (tests/data/local/legistar), later states
derived from them (each labelled), and the spider through the real engine against the loopback
Legistar API (tracker/demo/legistar_api.py), which evaluates the OData queries it is sent."""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
import re
from pathlib import Path
from typing import Any

import pytest
from recorded import local
from statusjson import changes_json, status_json

from tracker import models as m
from tracker.config import Config, load_config
from tracker.crawl import run_crawls
from tracker.demo.legistar_api import LegistarApi, ODataError, compile_filter
from tracker.demo.replay import Fault, ReplayServer
from tracker.meetings.diff import diff_matter, diff_meeting
from tracker.meetings.legistar import (
    event_start,
    item_matter_fields,
    local_time,
    matter_fields,
    normalize_event,
    normalize_items,
    normalize_matter,
)
from tracker.store import Store

DATA = Path(__file__).parent / "data" / "local"


def load(name: str) -> Any:
    return json.loads((DATA / "legistar" / name).read_text())


NYC_EVENTS = load("nyc_events_2023.json")
KEYWORDS = ["NYPD", "police", "ShotSpotter", "crisis response"]


def event(event_id: int) -> dict[str, Any]:
    return copy.deepcopy(next(e for e in NYC_EVENTS if e["EventId"] == event_id))


# -- reading records -------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("10:00 AM", "10:00"), ("1:00 PM", "13:00"), ("13:00", "13:00"), ("9:30am", "09:30"),
    ("12:00 PM", "12:00"), (None, None), ("", None), ("TBD", None), ("Upon Recess", None)])
def test_local_time_strings(text: str | None, expected: str | None) -> None:
    found = local_time(text)
    assert (found.strftime("%H:%M") if found else None) == expected


def test_start_is_read_in_the_bodys_zone_across_daylight_saving() -> None:
    winter = {"EventDate": "2023-01-23T00:00:00", "EventTime": "10:00 AM"}
    summer = {"EventDate": "2023-06-20T00:00:00", "EventTime": "10:00 AM"}
    assert event_start(winter, "America/New_York") == ("2023-01-23T15:00:00+00:00", "2023-01-23", False)
    assert event_start(summer, "America/New_York") == ("2023-06-20T14:00:00+00:00", "2023-06-20", False)
    assert event_start({"EventDate": "2023-06-20T00:00:00", "EventTime": None}, "America/New_York") == (
        None, "2023-06-20", True)


def test_every_deferred_nyc_hearing_is_cancelled_with_the_sources_word() -> None:
    meetings = [normalize_event(e, [], zone="America/New_York") for e in NYC_EVENTS]
    cancelled = [mt for mt in meetings if mt.status == "cancelled"]
    assert len(cancelled) == 132
    assert {mt.status_text for mt in cancelled} == {"Deferred"}
    # "Jointly with the Committee on ..." comments are not cancellations
    joint = next(mt for mt in meetings if mt.source_ref == "19771")
    assert joint.status == "confirmed" and joint.comment.startswith("Jointly with")


def test_an_agenda_final_in_capitals_is_a_confirmed_meeting() -> None:
    """Oakland writes its agenda statuses in capitals ("FINAL", "DRAFT"): a final agenda is a
    confirmed meeting however it is written, a draft one tentative, a "CANCELED" comment cancelled."""
    events = json.loads(local("corpus/legistar/oakland_events.json"))
    meetings = {mt.source_ref: mt for mt in (normalize_event(e, [], zone="America/Los_Angeles") for e in events)}
    for event in events:
        meeting = meetings[str(event["EventId"])]
        if meeting.status != "cancelled":
            assert meeting.status == ("confirmed" if event["EventAgendaStatusName"] == "FINAL" else "tentative")
    assert {e["EventAgendaStatusName"] for e in events} == {"FINAL", "DRAFT"}
    assert meetings["574"].status == "cancelled" and meetings["574"].status_text == "CANCELED"
    assert sum(mt.status == "confirmed" for mt in meetings.values()) == 103


def test_an_agenda_as_amended_is_a_confirmed_meeting() -> None:
    """Laredo's clerk marks an agenda published and then amended "As Amended" (a recording in
    corpus/legistar): those meetings were held (minutes approved on four of the five), so it is a
    final agenda, as Seattle's "Revised" is; "Hidden" and "Closed" without a cancellation stay
    tentative."""
    events = json.loads((DATA / "corpus" / "legistar" / "laredo_events_2024.json").read_text())
    meetings = {mt.source_ref: mt for mt in (normalize_event(e, [], zone="America/Chicago") for e in events)}
    amended = [str(e["EventId"]) for e in events if e["EventAgendaStatusName"] == "As Amended"]
    assert amended == ["973", "983", "986", "1050", "994"]
    assert {meetings[ref].status for ref in amended} == {"confirmed"}
    assert meetings["973"].minutes_status == "Approved" and meetings["973"].agenda_status == "As Amended"
    hidden = [meetings[str(e["EventId"])] for e in events if e["EventAgendaStatusName"] == "Hidden"]
    assert len(hidden) == 43 and {mt.status for mt in hidden} == {"tentative"}
    assert meetings["969"].status == "cancelled"  # "Closed", its comment "Cancelled"


def test_metro_event_keeps_what_people_need_to_take_part() -> None:
    meeting = normalize_event(load("metro_event_2907.json"), None, zone="America/Los_Angeles")
    assert meeting.start == "2024-09-26T17:00:00+00:00" and meeting.date == "2024-09-26"
    assert meeting.comment.startswith("Watch online: https://boardagendas.metro.net")
    assert "public comment" in meeting.comment
    assert meeting.url.startswith("https://metro.legistar.com/MeetingDetail.aspx?LEGID=2907")
    assert meeting.agenda_url.endswith("_Agenda.pdf") and meeting.minutes_url is None
    assert meeting.location == "One Gateway Plaza, Los Angeles, CA 90012,\n3rd Floor, Metro Board Room"


def test_scraped_links_are_kept_only_when_they_are_web_links() -> None:
    # derived: the Metro event with a script link where its agenda file would be
    record = load("metro_event_2907.json") | {"EventAgendaFile": "javascript:alert(1)", "EventVideoPath": " data:x"}
    meeting = normalize_event(record, None, zone="America/Los_Angeles")
    assert meeting.agenda_url is None and meeting.livestream_url is None
    assert meeting.url.startswith("https://metro.legistar.com/")


def test_a_video_address_in_event_media_is_the_meetings_video() -> None:
    """Laredo's events (a recording in corpus/legistar) give each meeting's Swagit video as
    `EventMedia`, an address, where other clients give a media id there: the address is the
    meeting's video (Laredo's own tests show it), a number or a file name is none."""
    laredo = json.loads((DATA / "corpus" / "legistar" / "laredo_events.json").read_text())
    council = next(e for e in laredo if e["EventId"] == 1548)
    meeting = normalize_event(council, None, zone="America/Chicago")
    assert meeting.livestream_url == "https://laredotx.new.swagit.com/videos/394543"
    assert [link.kind for link in meeting.links] == ["agenda", "minutes", "video"]
    assert normalize_event(load("metro_event_2907.json"), None, zone="America/Los_Angeles").livestream_url is None  # "3231"
    file_name = event(next(e["EventId"] for e in NYC_EVENTS if str(e.get("EventMedia")).endswith(".mp4")
                           and not str(e["EventMedia"]).startswith("http")))
    assert normalize_event(file_name, None, zone="America/New_York").livestream_url is None
    viebit = event(next(e["EventId"] for e in NYC_EVENTS if str(e.get("EventMedia")).startswith("https://")))
    assert normalize_event(viebit, None, zone="America/New_York").livestream_url == viebit["EventMedia"]
    # a video path the API gives is still the one kept
    both = council | {"EventVideoPath": "https://laredotx.new.swagit.com/videos/394543/download"}
    assert normalize_event(both, None, zone="America/Chicago").livestream_url.endswith("/download")


def test_items_on_the_agenda_and_in_the_minutes_only() -> None:
    items = normalize_items(load("nyc_event_7_eventitems.json"), ["Aging"])
    assert [(i["key"], i["on_agenda"], i["action"]) for i in items] == [
        ("79416", True, "Hearing Held by Committee"), ("84616", False, "Filed, by Committee")]
    assert items[0]["matter"] == "T1999-1" and items[0]["matter_status"] == "Filed"
    assert items[0]["keywords"] == ["Aging"]
    assert normalize_items(load("nyc_event_7_eventitems.json"), ["police"])[0]["keywords"] == []


def test_matter_history_with_a_repeated_row() -> None:
    histories = load("nyc_matter_17071_histories.json")
    matter = normalize_matter(matter_fields(load("nyc_matter_17071.json")), histories, client="nyc")
    assert matter.status == "Adopted" and matter.file == "LU 1505-1997"
    assert matter.url == ("https://nyc.legistar.com/LegislationDetail.aspx?ID=17071"
                             "&GUID=53F93055-A307-4F27-B658-E4D96F60B477")
    assert len(matter.history) == len(histories) == 8
    assert [a["action"] for a in matter.history][-1] == "Approved by Council"
    # derived: Legistar repeats the approval row under a new id
    repeated = [*histories, dict(histories[-1], MatterHistoryId=999999, MatterHistoryGuid="derived")]
    assert normalize_matter(matter_fields(load("nyc_matter_17071.json")), repeated, client="nyc") == matter
    before = dataclasses.replace(matter, status="Committee")
    (change,) = diff_matter(before, matter, "matter:legistar:nyc:17071")
    assert change.data == {"matter": "LU 1505-1997", "from": "Committee", "to": "Adopted"}
    assert change.summary.startswith("LU 1505-1997: Committee → Adopted (")


def test_an_agenda_item_tells_the_same_facts_as_the_matter_record() -> None:
    (item, _) = normalize_items(load("nyc_event_7_eventitems.json"), [])
    fields = item_matter_fields(item)
    assert fields == {"id": 20629, "file": "T1999-1", "name": item["title"], "type": "Oversight",
                      "status": "Filed", "guid": "98D5C22F-1D59-4C93-A1F5-9C2B81E4A8A7"}
    assert set(fields) == set(matter_fields(load("nyc_matter_17071.json")))


def test_a_moved_deferred_meeting_is_one_cancellation_and_one_move() -> None:
    # derived: event 20115 as it was before NYC deferred it, at 1 PM
    before = event(20115) | {"EventAgendaStatusName": "Final", "EventTime": "1:00 PM"}
    old = normalize_event(before, [], zone="America/New_York")
    new = normalize_event(event(20115), [], zone="America/New_York")
    kinds = [c.kind for c in diff_meeting(old, new, "meeting:legistar:nyc:20115")]
    assert kinds == ["meeting.cancelled", "meeting.rescheduled"]


# -- the OData subset the loopback API evaluates ------------------------------------------------


def test_odata_filter_semantics() -> None:
    rec = {"EventDate": "2023-06-20T00:00:00", "EventBodyId": 3, "EventLastModifiedUtc": None}
    assert compile_filter("EventDate ge datetime'2023-06-01' and EventDate le datetime'2023-07-01'")(rec)
    assert not compile_filter("(EventDate ge datetime'2023-07-01') or EventLastModifiedUtc ge datetime'2023-01-01'")(rec)
    assert compile_filter("EventBodyId eq 3 or EventBodyId eq 4")(rec)
    with pytest.raises(ODataError, match="property named 'Nope'"):
        compile_filter("Nope eq 1")(rec)
    with pytest.raises(ODataError):
        compile_filter("EventDate ge")


# -- through the engine -------------------------------------------------------------------------


def derived_item(item_id: int, title: str, matter_status: str, sequence: int) -> dict[str, Any]:
    """derived: an eventitem shaped like NYC's recorded one, with our title, on matter 17071"""
    row = copy.deepcopy(load("nyc_event_7_eventitems.json")[0])
    row.update(EventItemId=item_id, EventItemTitle=title, EventItemMatterName=title, EventItemAgendaSequence=sequence,
               EventItemMatterId=17071, EventItemMatterFile="LU 1505-1997", EventItemMatterStatus=matter_status)
    return row


def baseline_state(api: LegistarApi) -> None:
    """derived: NYC's 2023 calendar as it stood before the recorded file (labelled per change)."""
    nyc = api.client("nyc")
    events = [e for e in copy.deepcopy(NYC_EVENTS) if e["EventId"] != 20193]  # 20193 not yet scheduled
    for e in events:
        if e["EventId"] == 20115:
            e["EventAgendaStatusName"] = "Final"  # not yet deferred
        if e["EventId"] == 20188:
            e["EventTime"] = "1:00 PM"  # later moved to 10:00 AM
        if e["EventId"] == 20180:
            e["EventAgendaFile"], e["EventAgendaStatusName"] = None, "Draft"  # agenda not yet public
        if e["EventId"] == 20111:
            e["EventAgendaLastPublishedUTC"] = "2023-05-30T10:00:00"  # republished later with a new item
        if e["EventId"] == 20159:
            e["EventTime"] = "3:00 PM"  # a Committee on Finance hearing, later moved: not a body we follow
    nyc.events.clear()
    nyc.add_events(events)
    nyc.eventitems[20111] = [derived_item(900001, "Oversight - NYPD Response to Mental Health Crises", "Committee", 1)]
    matter = load("nyc_matter_17071.json") | {"MatterStatusName": "Committee"}
    nyc.matters[17071] = matter
    nyc.histories[17071] = load("nyc_matter_17071_histories.json")[:4]


def later_state(api: LegistarApi) -> None:
    """The recorded NYC calendar, plus (derived) a ShotSpotter item on 20111 and matter 17071 adopted."""
    nyc = api.client("nyc")
    nyc.events.clear()
    nyc.add_events(copy.deepcopy(NYC_EVENTS))
    nyc.eventitems[20111] = [
        derived_item(900001, "Oversight - NYPD Response to Mental Health Crises", "Adopted", 1),
        derived_item(900002, "Int 0123-2023 - Ending the use of ShotSpotter", "Adopted", 2),
        derived_item(900003, "Parks maintenance policies", "Committee", 3) | {"EventItemMatterId": None},
    ]
    nyc.matters[17071] = load("nyc_matter_17071.json")
    histories = load("nyc_matter_17071_histories.json")
    nyc.histories[17071] = [*histories, dict(histories[-1], MatterHistoryId=999999)]  # derived repeat


def shifted_ics(without: str | None = None, cancel: str | None = None) -> bytes:
    """derived: the Detroit board feed moved from 2019 to 2023 so it shares the test's window."""
    data = local("ics/detroit_k12_board_of_education.ics")
    data = re.sub(rb"((?:DTSTART|DTEND)[^:\r\n]*:)2019", rb"\g<1>2023", data)
    blocks = data.split(b"BEGIN:VEVENT")
    out = [blocks[0]]
    for block in blocks[1:]:
        if without and f"UID:{without}\r\n".encode() in block:
            tail = block[block.index(b"END:VEVENT") + len(b"END:VEVENT\r\n"):]
            out.append(tail) if tail.strip() else None
            continue
        if cancel and f"UID:{cancel}\r\n".encode() in block:
            block = block.replace(b"STATUS:CONFIRMED", b"STATUS:CANCELLED")
        out.append(b"BEGIN:VEVENT" + block if b"END:VEVENT" in block else block)
    return b"".join(out)


def write_config(tmp_path: Path, replay: ReplayServer, token: str | None = None) -> Path:
    token_line = ', token = "${LEGISTAR_TOKEN}"' if token else ""
    path = tmp_path / "tracker.toml"
    path.write_text(f"""
[crawl]
delay_seconds = 0
[sources.legistar]
base_url = "{replay.url}/v1"
[[meetings]]
id = "nyc-council"
name = "New York City Council"
timezone = "America/New_York"
legistar = {{ client = "nyc", bodies = ["City Council", "Committee on Public Safety"]{token_line} }}
keywords = {json.dumps(KEYWORDS)}
[[meetings]]
id = "dpscd"
name = "Detroit Board of Education"
timezone = "America/Detroit"
ical = "{replay.url}/detroit.ics"
keywords = ["budget"]
""")
    return path



def test_two_bodies_and_a_feed_baseline_then_exactly_what_happened(
        tmp_path: Path, replay: ReplayServer, legistar: LegistarApi, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T12:00:00Z")
    baseline_state(legistar)
    replay.add("/detroit.ics", shifted_ics(without="15582"))
    config = load_config(write_config(tmp_path, replay), env={})
    store = Store(config.database_url)
    reports = {r.source_id: r for r in run_crawls(config, store)}
    assert all(r.ok for r in reports.values()), [r.errors for r in reports.values()]
    assert reports["legistar:nyc-council"].items > 5 and changes_json(store) == []
    # the baseline fetched items for every listed meeting of the two bodies, and the matching
    # item's matter history (its status is on the item: the matter record itself is not needed)
    items_asked = [r for r in replay.requests if r.path.endswith("/eventitems")]
    # 17071 is a matter, not a meeting; the two bodies' rosters are items too (asked once each)
    assert len(items_asked) == reports["legistar:nyc-council"].items - 1 - 2
    assert sorted(r.path for r in replay.requests if r.path.endswith("/officerecords")) == [
        "/v1/nyc/bodies/1/officerecords", "/v1/nyc/bodies/19/officerecords"]
    assert replay.count("/v1/nyc/matters/17071") == 0 and replay.count("/v1/nyc/matters/17071/histories") == 1

    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T13:00:00Z")
    later_state(legistar)
    replay.replace("/detroit.ics", shifted_ics(cancel="7858"))
    replay.clear_log()
    reports = {r.source_id: r for r in run_crawls(config, store)}
    assert all(r.ok for r in reports.values()), [r.errors for r in reports.values()]
    changes = changes_json(store)
    found = sorted((c["kind"], c["entity"]) for c in changes)
    assert found == [
        ("agenda.item_added", "meeting:legistar:nyc:20111"),
        ("matter.status", "matter:legistar:nyc:17071"),
        ("meeting.added", "meeting:ical:dpscd:15582"),
        ("meeting.added", "meeting:legistar:nyc:20193"),
        ("meeting.agenda_posted", "meeting:legistar:nyc:20180"),
        ("meeting.cancelled", "meeting:ical:dpscd:7858"),
        ("meeting.cancelled", "meeting:legistar:nyc:20115"),
        ("meeting.rescheduled", "meeting:legistar:nyc:20188"),
    ]
    by_kind = {(c["kind"], c["entity"]): c for c in changes}
    assert by_kind[("meeting.rescheduled", "meeting:legistar:nyc:20188")]["data"] == {
        "from": "2023-06-20T13:00:00-04:00", "to": "2023-06-20T10:00:00-04:00"}
    assert by_kind[("meeting.cancelled", "meeting:legistar:nyc:20115")]["data"] == {
        "start": "2023-06-09T10:00:00-04:00", "body": "Committee on Public Safety", "status_text": "Deferred"}
    assert "deferred" in by_kind[("meeting.cancelled", "meeting:legistar:nyc:20115")]["summary"]
    assert by_kind[("agenda.item_added", "meeting:legistar:nyc:20111")]["data"] == {
        "meeting": "meeting:legistar:nyc:20111", "title": "Int 0123-2023 - Ending the use of ShotSpotter",
        "matter": "LU 1505-1997", "keywords": ["ShotSpotter"]}
    assert by_kind[("matter.status", "matter:legistar:nyc:17071")]["data"] == {
        "matter": "LU 1505-1997", "from": "Committee", "to": "Adopted"}
    added = by_kind[("meeting.added", "meeting:legistar:nyc:20193")]["data"]
    assert added == {"start": "2023-06-22T11:00:00-04:00", "body": "Committee on Public Safety",
                     "location": "Committee Room - City Hall"}
    # items were asked for only where the meeting itself changed
    items_asked = sorted(r.path for r in replay.requests if r.path.endswith("/eventitems"))
    assert items_asked == [f"/v1/nyc/events/{i}/eventitems" for i in (20111, 20115, 20180, 20188, 20193)]
    # the listing asked for the window OR what moved since the last run minus a week
    listing = next(r for r in replay.requests if r.path == "/v1/nyc/events")
    assert listing.headers["Accept"] == "application/json"
    assert "EventDate ge datetime'2023-05-02T00:00:00'" in listing.query["$filter"]
    assert "EventMinutesLastPublishedUTC ge datetime'2023-05-25T12:00:00'" in listing.query["$filter"]

    status = {mt["entity"]: mt for mt in status_json(store, config)["meetings"]}
    hearing = status["meeting:legistar:nyc:20111"]
    assert hearing["start"] == "2023-06-26T10:00:00-04:00"
    assert hearing["items"] == [
        {"title": "Oversight - NYPD Response to Mental Health Crises", "matter": "LU 1505-1997", "keywords": ["NYPD"]},
        {"title": "Int 0123-2023 - Ending the use of ShotSpotter", "matter": "LU 1505-1997",
         "keywords": ["ShotSpotter"]}]
    assert status["meeting:legistar:nyc:20115"]["status"] == "cancelled"

    # an identical re-crawl: nothing new, one listing, no items asked for again
    replay.clear_log()
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T14:00:00Z")
    reports = {r.source_id: r for r in run_crawls(config, store)}
    assert all(r.ok for r in reports.values())
    assert len(changes_json(store)) == len(changes)
    assert [r.path for r in replay.requests if r.path.startswith("/v1/")] == ["/v1/nyc/events"]
    # a day later the matter's own record is checked again (its status can move off any agenda)
    replay.clear_log()
    monkeypatch.setenv("TRACKER_NOW", "2023-06-02T14:00:00Z")
    run_crawls(config, store)
    assert sorted(r.path for r in replay.requests if "/matters/" in r.path) == [
        "/v1/nyc/matters/17071", "/v1/nyc/matters/17071/histories"]
    assert len(changes_json(store)) == len(changes)


def crawled_baseline(tmp_path: Path, replay: ReplayServer, legistar: LegistarApi,
                     monkeypatch: pytest.MonkeyPatch) -> tuple[Config, Store]:
    """The NYC baseline state and the Detroit feed, crawled once on 1 June 2023."""
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T12:00:00Z")
    baseline_state(legistar)
    replay.add("/detroit.ics", shifted_ics())
    config = load_config(write_config(tmp_path, replay), env={})
    store = Store(config.database_url)
    run_crawls(config, store)
    return config, store


def test_failed_items_keep_what_was_stored_and_are_asked_again(
        tmp_path: Path, replay: ReplayServer, legistar: LegistarApi, monkeypatch: pytest.MonkeyPatch) -> None:
    config, store = crawled_baseline(tmp_path, replay, legistar, monkeypatch)
    later_state(legistar)
    replay.add("/v1/nyc/events/20111/eventitems", status=500, body=b"")
    (report, _) = run_crawls(config, store)
    assert len(report.errors) == 1 and "items of meeting 20111: HTTP 500" in report.errors[0]
    status = {mt["entity"]: mt for mt in status_json(store, config)["meetings"]}
    assert [i["keywords"] for i in status["meeting:legistar:nyc:20111"]["items"]] == [["NYPD"]]  # kept
    assert not [c for c in changes_json(store) if c["kind"] == "agenda.item_added"]
    # the next run asks again (the event's fields were not marked seen) and finds the new item
    replay.remove("/v1/nyc/events/20111/eventitems")  # the mounted API answers again
    (report, _) = run_crawls(config, store)
    assert report.ok
    assert [c["data"]["title"] for c in changes_json(store) if c["kind"] == "agenda.item_added"] == [
        "Int 0123-2023 - Ending the use of ShotSpotter"]


def test_one_unreadable_event_is_that_events_error(
        tmp_path: Path, replay: ReplayServer, legistar: LegistarApi, monkeypatch: pytest.MonkeyPatch) -> None:
    config, store = crawled_baseline(tmp_path, replay, legistar, monkeypatch)
    later_state(legistar)
    legistar.client("nyc").events[20188]["EventDate"] = "not a date"  # derived: a broken record
    (report, _) = run_crawls(config, store)
    assert len(report.errors) == 1 and report.errors[0].startswith("legistar:nyc-council: meeting 20188: unreadable")
    kinds = {(c["kind"], c["entity"]) for c in changes_json(store)}
    assert ("meeting.cancelled", "meeting:legistar:nyc:20115") in kinds  # the others went on
    assert not [k for k in kinds if k[1] == "meeting:legistar:nyc:20188"]
    status = {mt["entity"]: mt for mt in status_json(store, config)["meetings"]}
    assert status["meeting:legistar:nyc:20188"]["start"] == "2023-06-20T13:00:00-04:00"  # the stored one kept


def test_a_moved_modified_stamp_refetches_the_items(
        tmp_path: Path, replay: ReplayServer, legistar: LegistarApi, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only `EventLastModifiedUtc` moved on hearing 20111 (derived): Legistar's own word that
    something changed. Its items are asked for again and the new keyword item is reported; the
    stamp itself is never news."""
    config, store = crawled_baseline(tmp_path, replay, legistar, monkeypatch)
    nyc = legistar.client("nyc")
    hearing = nyc.events[20111]
    hearing["EventLastModifiedUtc"] = "2023-06-01T09:00:00.117"
    nyc.eventitems[20111] = [*nyc.eventitems[20111],
                             derived_item(900002, "Int 0123-2023 - Ending the use of ShotSpotter", "Committee", 2)]
    replay.clear_log()
    (report, _) = run_crawls(config, store)
    assert report.ok
    assert [r.path for r in replay.requests if r.path.endswith("/eventitems")] == ["/v1/nyc/events/20111/eventitems"]
    assert [(c["kind"], c["data"]["keywords"]) for c in changes_json(store)] == [("agenda.item_added", ["ShotSpotter"])]
    replay.clear_log()
    run_crawls(config, store)  # nothing moved since: the items are not asked for again
    assert not [r for r in replay.requests if r.path.endswith("/eventitems")]
    assert len(changes_json(store)) == 1


def stored_cursor(store: Store, source_id: str = "legistar:nyc-council") -> dict[str, Any]:
    with store.session() as session:
        state = session.get(m.SourceState, source_id)
        assert state is not None
        return dict(state.cursor)


def test_the_cursor_keeps_past_meetings_a_year_then_forgets_them(
        tmp_path: Path, replay: ReplayServer, legistar: LegistarApi, monkeypatch: pytest.MonkeyPatch) -> None:
    """The cursor does not grow with every meeting ever held, yet a past meeting stays followed for a
    year: what is added to it weeks later (minutes, a late item) is still news."""
    config, store = crawled_baseline(tmp_path, replay, legistar, monkeypatch)  # 1 June: window from 2 May
    cursor = stored_cursor(store)
    # 20107: Public Safety, 18 May, last modified 24 May. 20188: Public Safety, 20 June. 20178: City Council.
    assert {"20107", "20188", "20178"} <= set(cursor["events"])
    assert cursor["events"]["20107"]["date"] == "2023-05-18"
    assert set(cursor["bodies"]) == {"1", "19"}  # City Council, Committee on Public Safety

    # Three weeks on (window from 22 May) the watch follows Public Safety only.
    path = Path(config.path)
    path.write_text(path.read_text().replace('bodies = ["City Council", "Committee on Public Safety"]',
                                             'bodies = ["Committee on Public Safety"]'))
    config = load_config(path, env={})
    monkeypatch.setenv("TRACKER_NOW", "2023-06-21T12:00:00Z")
    (report, _) = run_crawls(config, store)
    assert report.ok, report.errors
    cursor = stored_cursor(store)
    assert {"20107", "20178", "20188"} <= set(cursor["events"])  # past the window, not past a year
    assert set(cursor["bodies"]) == {"19"}  # City Council meets no more for this watch: its roster date goes
    assert cursor["bodies"]["19"] == "2023-06-21T12:00:00+00:00"  # its roster was due (daily) and asked for

    # Nothing new an hour later: one listing, no items and no roster asked for again.
    changes = changes_json(store)
    replay.clear_log()
    monkeypatch.setenv("TRACKER_NOW", "2023-06-21T13:00:00Z")
    (report, _) = run_crawls(config, store)
    assert report.ok, report.errors
    assert [r.path for r in replay.requests if r.path.startswith("/v1/")] == ["/v1/nyc/events"]
    assert changes_json(store) == changes

    # 5 July: an item about ShotSpotter is added to the 18 May hearing (derived), seven weeks on.
    nyc = legistar.client("nyc")
    event = nyc.events[20107]
    event["EventLastModifiedUtc"] = "2023-07-05T10:00:00"
    nyc.eventitems[20107] = [*nyc.eventitems.get(20107, []),
                             derived_item(900010, "Oversight - the NYPD's ShotSpotter contract", "Committee", 9)]
    monkeypatch.setenv("TRACKER_NOW", "2023-07-05T12:00:00Z")
    (report, _) = run_crawls(config, store)
    assert report.ok, report.errors
    added = [c for c in changes_json(store) if c["kind"] == "agenda.item_added"]
    assert [c["entity"] for c in added] == ["meeting:legistar:nyc:20107"], added

    # A year and more on (window from 1 June 2024): meetings before 2 June 2023 that the listing no
    # longer shows are forgotten; later ones are kept. (The first run back lists everything modified
    # since the last one, 20107 included; the next shows only what moved since.)
    nyc.add_events([copy.deepcopy(nyc.events[20188]) | {  # derived: a hearing a year on, so the calendar is not empty
        "EventId": 30001, "EventDate": "2024-07-10T00:00:00", "EventLastModifiedUtc": "2024-06-20T10:00:00"}])
    for now in ("2024-07-01T12:00:00Z", "2024-07-01T13:00:00Z"):
        monkeypatch.setenv("TRACKER_NOW", now)
        (report, _) = run_crawls(config, store)
        assert report.ok, report.errors
    cursor = stored_cursor(store)
    assert not {"20107", "20058"} & set(cursor["events"])
    assert cursor["events"]["20188"]["date"] == "2023-06-20"


def a_hearing_on(legistar: LegistarApi, event_id: int, day: str) -> None:
    """derived: a Public Safety hearing (a copy of 20188) on another day, so the calendar of a later
    year is not empty."""
    nyc = legistar.client("nyc")
    nyc.add_events([copy.deepcopy(nyc.events[20188]) | {
        "EventId": event_id, "EventDate": f"{day}T00:00:00", "EventLastModifiedUtc": f"{day}T09:00:00"}])


def test_fingerprints_stored_without_a_day_get_one_and_are_forgotten_a_year_on(
        tmp_path: Path, replay: ReplayServer, legistar: LegistarApi, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cursor written before the day of each meeting was kept (bare fingerprints, no `dates`),
    with a 2019 hearing the listing no longer shows: the first run gives every fingerprint a day (the
    meeting's own when it is listed, else that run's), and a year on the old hearing is forgotten."""
    config, store = crawled_baseline(tmp_path, replay, legistar, monkeypatch)  # 1 June 2023
    with store.session() as session:
        state = session.get(m.SourceState, "legistar:nyc-council")
        assert state is not None
        events = state.cursor["events"]
        fingerprints = {event_id: mark if isinstance(mark, str) else mark["fingerprint"]
                        for event_id, mark in events.items()}
        state.cursor = {**{k: v for k, v in state.cursor.items() if k not in ("events", "dates")},
                        "events": {**fingerprints, "11111": "the fingerprint of a 2019 hearing"}}

    replay.clear_log()
    monkeypatch.setenv("TRACKER_NOW", "2023-06-21T12:00:00Z")
    (report, _) = run_crawls(config, store)
    assert report.ok, report.errors
    assert replay.count("/v1/nyc/events/20188/eventitems") == 0  # the old fingerprint still holds
    cursor = stored_cursor(store)
    assert cursor["events"]["11111"]["date"] == "2023-06-21"  # no day known: the day it was first dated
    assert cursor["events"]["20188"]["date"] == "2023-06-20"  # listed: its own day

    a_hearing_on(legistar, 30001, "2024-08-10")
    for now in ("2024-08-01T12:00:00Z", "2024-08-01T13:00:00Z"):  # window from 2 July 2024
        monkeypatch.setenv("TRACKER_NOW", now)
        (report, _) = run_crawls(config, store)
        assert report.ok, report.errors
    assert "11111" not in stored_cursor(store)["events"]


def test_a_matter_is_followed_until_a_year_after_its_last_change(
        tmp_path: Path, replay: ReplayServer, legistar: LegistarApi, monkeypatch: pytest.MonkeyPatch) -> None:
    """Matter 17071 is followed from 1 June 2023 and adopted on 21 June: its record is still asked
    for daily eleven months after the adoption, and no longer (nor kept in the cursor) once a year
    has passed without a change."""
    config, store = crawled_baseline(tmp_path, replay, legistar, monkeypatch)
    assert stored_cursor(store)["matters"]["17071"]["changed"] == "2023-06-01"
    later_state(legistar)  # 17071 adopted
    monkeypatch.setenv("TRACKER_NOW", "2023-06-21T12:00:00Z")
    run_crawls(config, store)
    assert [c["data"]["to"] for c in changes_json(store) if c["kind"] == "matter.status"] == ["Adopted"]
    assert stored_cursor(store)["matters"]["17071"]["changed"] == "2023-06-21"

    a_hearing_on(legistar, 30001, "2024-06-12")
    replay.clear_log()
    monkeypatch.setenv("TRACKER_NOW", "2024-05-30T12:00:00Z")  # a year after it was first followed
    (report, _) = run_crawls(config, store)
    assert report.ok, report.errors
    assert replay.count("/v1/nyc/matters/17071") == 1 and "17071" in stored_cursor(store)["matters"]

    a_hearing_on(legistar, 30002, "2024-07-10")
    replay.clear_log()
    monkeypatch.setenv("TRACKER_NOW", "2024-06-25T12:00:00Z")  # a year and four days after its adoption
    (report, _) = run_crawls(config, store)
    assert report.ok, report.errors
    assert replay.count("/v1/nyc/matters/17071") == 0 and "17071" not in stored_cursor(store).get("matters", {})


def test_bad_listing_loses_nothing_and_says_where(
        tmp_path: Path, replay: ReplayServer, legistar: LegistarApi, monkeypatch: pytest.MonkeyPatch) -> None:
    config, store = crawled_baseline(tmp_path, replay, legistar, monkeypatch)
    before = len(status_json(store, config)["meetings"])
    for fault, words in ((Fault.html_error(), "an HTML page, not JSON"), (Fault.short(100), "not valid JSON")):
        replay.set_fault("/v1", fault)
        reports = {r.source_id: r for r in run_crawls(config, store)}
        nyc = reports["legistar:nyc-council"]
        assert len(nyc.errors) == 1 and words in nyc.errors[0] and "events listing" in nyc.errors[0]
        assert reports["ical:dpscd"].ok  # the other source went on
        meetings = status_json(store, config)["meetings"]
        assert len(meetings) == before and changes_json(store) == []
        with store.session() as session:  # nothing marked missing: the listing was not whole
            assert not session.query(m.Entity).filter(m.Entity.missing_since.is_not(None)).count()


def test_429_is_waited_out(tmp_path: Path, replay: ReplayServer, legistar: LegistarApi,
                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T12:00:00Z")
    baseline_state(legistar)
    replay.add("/detroit.ics", shifted_ics())
    replay.set_fault("/v1", Fault.retry_after(1, times=1))
    config = load_config(write_config(tmp_path, replay), env={})
    reports = {r.source_id: r for r in run_crawls(config, Store(config.database_url))}
    assert reports["legistar:nyc-council"].ok and reports["legistar:nyc-council"].items > 5
    listing = [r for r in replay.requests if r.path == "/v1/nyc/events"]
    assert [r.status for r in listing] == [429, 200] and listing[1].time - listing[0].time >= 0.9


def test_token_never_shows(tmp_path: Path, replay: ReplayServer, legistar: LegistarApi,
                           monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T12:00:00Z")
    secret = "Zq8uVtoken4471"
    baseline_state(legistar)
    legistar.client("nyc").token = secret
    replay.add("/detroit.ics", shifted_ics())
    replay.add("/v1/nyc/events/20111/eventitems", status=500, body=b"")  # an error line with the URL
    config = load_config(write_config(tmp_path, replay, token=secret), env={"LEGISTAR_TOKEN": secret})
    store = Store(config.database_url)
    with caplog.at_level(logging.DEBUG):
        (report, _) = run_crawls(config, store)
    assert report.items > 5  # the token was sent: the API refuses requests without it
    assert all(r.query.get("token") == secret for r in replay.requests if r.path.startswith("/v1/"))
    assert "items of meeting 20111" in report.errors[0] and "token=***" in report.errors[0]
    assert secret not in caplog.text and "token=***" in caplog.text
    with store.engine.connect() as conn:
        dump = "\n".join(str(row) for table in ("snapshots", "runs", "http_validators", "source_state", "changes")
                         for row in conn.exec_driver_sql(f"select * from {table}"))
    assert secret not in dump and secret not in str(report.errors)
