"""A meeting's place written in its name, where the portal has no place field: Grand Rapids Public
Schools' BoardDocs list ("Board Meeting @ 6:30 p.m. @ Ottawa Hills High School", "... - LOCATION
CHANGE - OTTAWA HILLS HIGH SCHOOL AUDITORIUM") and LAWA's Granicus page ("Regular Meeting @ LAX").
An organizer needs to know where to go, and to hear when the board moves a meeting to another
school. The values each recording holds are in tests/data/local/corpus/expected.toml too."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from listings import listing_read
from recorded import local
from statusjson import changes_json

from tracker.config import load_config
from tracker.crawl import run_crawls
from tracker.demo.replay import ReplayServer
from tracker.meetings.agendas import parse_granicus
from tracker.meetings.normalize import place_in_name
from tracker.meetings.portals import parse_boarddocs
from tracker.store import Store

GRAND_RAPIDS = local("corpus/boarddocs/grand_rapids_schools_meetings_list_2025.json")
GRAND_RAPIDS_2023 = local("corpus/boarddocs/grand_rapids_schools_meetings_list.json")
LIST_URL = "https://go.boarddocs.com/mi/grand/Board.nsf/BD-GetMeetingsList?open"


def places(data: bytes) -> dict[str, str | None]:
    listing = listing_read(parse_boarddocs, data, url=LIST_URL, timezone="America/Detroit")
    assert not listing.problems
    return {meeting.source_ref: meeting.location for meeting in listing.meetings}


def test_a_place_after_the_time_in_a_boarddocs_name_is_the_meeting_s() -> None:
    """FAILED before (every location None): the place after the time's "@" is read; an aside after
    it ("(Note - Room Change)") is no part of it; "@ 6:30 p.m." alone names no place."""
    found = places(GRAND_RAPIDS)
    assert found["DRTQWX6B55B9"] == "Ottawa Hills High School"  # Board Meeting @ 6:30 p.m. @ Ottawa Hills High School
    assert found["DQJS28708741"] == "GRPS University, Mulitpurpose Room Two"  # ... (Note - Room Change)
    assert found["DLVKDW516E32"] == "GRPS University - 1400 Fuller Avenue NE"
    assert found["DLDU7B7AA61F"] == "Ottawa Hills High School"  # after an aside naming another day
    assert found["DVDHLR490E4B"] is None  # "Special Board Meeting/Work Session @ 6:30 p.m."
    older = places(GRAND_RAPIDS_2023)
    assert older["CQUJJM4D57B0"] == "OTTAWA HILLS HIGH SCHOOL AUDITORIUM"  # "- LOCATION CHANGE - ..."
    assert older["CRQN4X5E2B5E"] == "Southwest Middle High School - Gymnasium"
    names = {row["unique"]: row["name"] for row in json.loads(GRAND_RAPIDS) if row}
    read = {ref: place for ref, place in found.items() if place}
    assert len(read) == 24
    # each place is what the name writes after an "@" (or a "LOCATION CHANGE -"), never made up
    assert all(f"@ {place}" in names[ref] or f"CHANGE - {place}" in names[ref] for ref, place in read.items())


def test_names_stating_only_a_time_or_other_words_give_no_place() -> None:
    for name in ("Board Meeting @ 6:30 p.m.", "Board Meeting @ Noon", "Special Board Meeting @ 4:30 p.m. "
                 "(Electronic Participation Component)",
                 "Notice of a Public Meeting @ 5:30 p.m. Concerning Kensington School (Administration Led Meeting)",
                 'Board Meeting (Virtual Board Meeting) @ 6:30 p.m. - Click "here" to view',
                 "Questions to clerk@grps.org", "Board Meeting @ 6:30", "", None):
        assert place_in_name(name) is None, name
    assert place_in_name("Special Meeting @ Union High School - Canceled") == "Union High School"


def test_lawa_meetings_at_lax_are_at_lax() -> None:
    listing = listing_read(parse_granicus, local("corpus/granicus/lawa_viewpublisher.html"),
                           url="http://lawa.granicus.com/ViewPublisher.php?view_id=4", timezone="America/Los_Angeles")
    at = {meeting.source_ref: meeting.location for meeting in listing.meetings}
    assert at["clip-582"] == "LAX"  # "Regular Meeting @ LAX"
    assert at["clip-838"] is None  # "Regular Meeting"
    assert sum(1 for place in at.values() if place == "LAX") == 15


def test_many_at_signs_are_read_in_linear_time() -> None:
    name = "Board Meeting" + " @ 6:30 p.m." * 2000 + " - x" * 2000
    start = time.perf_counter()
    assert place_in_name(name) is None
    assert time.perf_counter() - start < 1.0


def test_a_meeting_moved_to_another_school_is_told(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Through the real engine from a loopback server: the board's list as recorded, then (DERIVED)
    the March 9 meeting's name moved from Ottawa Hills High School to Union High School, as the
    board writes a change of place. Before, the change of name was all there was to see (no change
    was told); now one `meeting.location` says where it is now."""
    monkeypatch.setenv("TRACKER_NOW", "2026-03-01T15:00:00Z")
    path = tmp_path / "tracker.toml"
    path.write_text(f'[crawl]\ndelay_seconds = 0\n[[meetings]]\nid = "grps"\nname = "GRPS Board of Education"\n'
                    f'timezone = "America/Detroit"\nboarddocs = "{replay.url}/mi/grand/Board.nsf/BD-GetMeetingsList"\n')
    config = load_config(path, env={})
    store = Store(config.database_url)
    replay.add("/mi/grand/Board.nsf/BD-GetMeetingsList", GRAND_RAPIDS, content_type="application/json")
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    assert changes_json(store) == []  # the first reading is a baseline
    old = b'"unique": "DRTQWX6B55B9","name": "Board Meeting @ 6:30 p.m. @ Ottawa Hills High School"'
    assert GRAND_RAPIDS.count(old) == 1
    moved = GRAND_RAPIDS.replace(old, old.replace(b"Ottawa Hills High School", b"Union High School, Auditorium"))
    replay.add("/mi/grand/Board.nsf/BD-GetMeetingsList", moved, content_type="application/json")
    monkeypatch.setenv("TRACKER_NOW", "2026-03-02T15:00:00Z")
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    told = [(change["kind"], change["summary"]) for change in changes_json(store)]
    assert [kind for kind, _ in told] == ["meeting.location"], told
    assert "Union High School, Auditorium" in told[0][1], told
