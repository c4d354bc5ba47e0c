"""A meeting called off, put back on, called off again: each is told (found by a review: there was
no "back on" change, and the second cancellation had the first one's dedupe key, so it was dropped).
A real crawl of the Detroit board's feed on loopback; its event 7858 is what changes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from statusjson import changes_json, status_json
from test_legistar import shifted_ics

from tracker.changes import Change
from tracker.config import load_config
from tracker.crawl import run_crawls
from tracker.demo.replay import ReplayServer
from tracker.meetings.diff import diff_meeting
from tracker.records import Meeting, MeetingStatus
from tracker.store import Store
from tracker.words import headline


def detroit(tmp_path: Path, replay: ReplayServer) -> Path:
    path = tmp_path / "tracker.toml"
    path.write_text(f'[crawl]\ndelay_seconds = 0\n[[meetings]]\nid = "dpscd"\nname = "Detroit Board of Education"\n'
                    f'timezone = "America/Detroit"\nical = "{replay.url}/detroit.ics"\n'
                    f"keywords = {json.dumps(['budget'])}\n")
    return path


def test_a_meeting_cancelled_back_on_and_cancelled_again_is_told_each_time(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T12:00:00Z")
    replay.add("/detroit.ics", shifted_ics())
    config = load_config(detroit(tmp_path, replay), env={})
    store = Store(config.database_url)
    assert run_crawls(config, store)[0].ok
    states = [shifted_ics(cancel="7858"), shifted_ics(), shifted_ics(cancel="7858"), shifted_ics(cancel="7858")]
    for hour, feed in enumerate(states, start=13):
        replay.replace("/detroit.ics", feed)
        monkeypatch.setenv("TRACKER_NOW", f"2023-06-01T{hour}:00:00Z")
        (report,) = run_crawls(config, store)
        assert report.ok, report.errors
    status = {mt["entity"]: mt for mt in status_json(store, config)["meetings"]}
    assert status["meeting:ical:dpscd:7858"]["status"] == "cancelled"
    told = [c["kind"] for c in changes_json(store) if c["entity"] == "meeting:ical:dpscd:7858"]
    # in order; the last crawl (still cancelled) tells nothing
    assert told == ["meeting.cancelled", "meeting.restored", "meeting.cancelled"], told
    back = next(c for c in changes_json(store) if c["kind"] == "meeting.restored")
    assert "back on" in back["summary"] and back["data"]["was"] == "CANCELLED"


def test_back_on_is_said_plainly() -> None:
    """The differ and the headline: "Back on: <meeting>, <when>" (an alert's title)."""
    old = Meeting(source="ical", source_ref="1", title="Regular Board Meeting", date="2026-12-10",
                  start="2026-12-10T22:00:00+00:00", timezone="America/Detroit", body="Board",
                  status=MeetingStatus.CANCELLED, status_text="Postponed")
    new = Meeting(source="ical", source_ref="1", title="Regular Board Meeting", date="2026-12-10",
                  start="2026-12-10T22:00:00+00:00", timezone="America/Detroit", body="Board")
    (change,) = diff_meeting(old, new, "meeting:ical:x:1")
    assert isinstance(change, Change) and change.kind == "meeting.restored"
    assert change.summary.endswith("back on (was postponed)")
    assert headline([change], new).startswith("Back on: ")
    assert diff_meeting(new, new, "meeting:ical:x:1") == []
