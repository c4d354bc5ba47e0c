"""CivicClerk portals that list one sitting twice: Brandon, MS's Board of Aldermen has, for
October 5, 2026, the event entered with the year's schedule (376, no agenda) and the one its agenda
was posted to (397), one body at one time under one name; so do two other sittings of the
recording. An organizer sees one meeting, and hears "agenda posted" when the agenda arrives, not a
second meeting appearing beside an empty one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from listings import listing_read
from recorded import local
from statusjson import changes_json

from tracker.config import load_config
from tracker.crawl import run_crawls
from tracker.demo.replay import ReplayServer
from tracker.meetings.portals import parse_civicclerk
from tracker.store import Store

BRANDON = local("corpus/civicclerk/brandonms_events.json")
API = "https://brandonms.api.civicclerk.com/v1/Events"


def test_a_sitting_listed_twice_is_one_meeting_with_the_agenda() -> None:
    """FAILED before: 15 meetings, the October 5 sitting twice (one with its agenda, one without),
    September 7's and August 24's twice too."""
    listing = listing_read(parse_civicclerk, BRANDON, url=API, timezone="America/Chicago")
    assert not listing.problems
    october = [m for m in listing.meetings if m.date == "2026-10-05" and m.title == "Regular Board Meeting"]
    assert len(october) == 1 and len(listing.meetings) == 12
    (sitting,) = october
    assert sitting.source_ref == "376"  # the earlier event: the meeting organizers already knew
    assert sitting.agenda_url == "https://brandonms.api.civicclerk.com/stream/BRANDONMS/f77ceeb7-8ad8-4ab0-b955-1bbd46735ef1.pdf"
    assert [doc.label for doc in sitting.documents or []] == ["Agenda 10.5.26 V2", "Press Packet 10.5.26"]
    assert sitting.url == "https://brandonms.portal.civicclerk.com/event/397/overview"  # the page with the agenda
    assert sitting.agenda_posted == "2026-10-05T13:50:01.62Z"
    # a work session the same evening at another time stays its own meeting
    assert any(m.title == "Work Session 10/05/2026" for m in listing.meetings)


def test_events_of_one_body_at_one_time_under_other_names_stay_apart() -> None:
    payload = json.loads(BRANDON)
    (event,) = [e for e in payload["value"] if e["id"] == 397]
    event["eventName"] = "Public Hearing"
    listing = listing_read(parse_civicclerk, json.dumps(payload).encode(), url=API, timezone="America/Chicago")
    assert {m.source_ref for m in listing.meetings if m.date == "2026-10-05" and m.start == "2026-10-05T23:00:00+00:00"} \
        == {"376", "397"}


def test_the_agenda_posted_to_the_second_event_is_the_meeting_s_agenda_posted(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Through the real engine from a loopback server: the list before event 397 was made (DERIVED:
    the recording without it), then the list as recorded (each as one whole page). Before, a second "Regular Board Meeting"
    appeared on October 5 (`meeting.added`) beside the first, still without an agenda; now the one
    meeting's agenda is posted."""
    monkeypatch.setenv("TRACKER_NOW", "2026-09-20T15:00:00Z")
    path = tmp_path / "tracker.toml"
    path.write_text(f'[crawl]\ndelay_seconds = 0\n[[meetings]]\nid = "brandon"\nname = "Brandon"\n'
                    f'timezone = "America/Chicago"\ncivicclerk = "{replay.url}/v1/Events"\n')
    config = load_config(path, env={})
    store = Store(config.database_url)
    # the recording is the first page of a longer answer: served here as the whole of it (DERIVED)
    payload = {key: value for key, value in json.loads(BRANDON).items() if key != "@odata.nextLink"}
    before = {**payload, "value": [e for e in payload["value"] if e["id"] != 397]}
    replay.add("/v1/Events", json.dumps(before).encode(), content_type="application/json")
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    assert changes_json(store) == []  # the first reading is a baseline
    replay.add("/v1/Events", json.dumps(payload).encode(), content_type="application/json")
    monkeypatch.setenv("TRACKER_NOW", "2026-10-05T15:00:00Z")
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    told = [(change["kind"], change["summary"]) for change in changes_json(store)]
    assert [kind for kind, _ in told] == ["meeting.agenda_posted"], told
    assert "Regular Board Meeting" in told[0][1], told
