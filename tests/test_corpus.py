"""Every platform's parser on every real recording of the corpus (tests/data/local/corpus/SOURCES.md),
checked against the values the recording project's own test asserts (tests/data/local/corpus/
expected.toml). Where the tracker deliberately differs from that project (it never invents a time
the page does not state; it does not follow the agenda document to read one), the table holds the
project's value under `peer` and says why in `peer_differs`; everything else must match."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from listings import listing_read
from recorded import local

from tracker.meetings import (
    agendas,
    civicweb,
    ical,
    iqm2,
    legistar,
    legistar_calendar,
    municode,
    novusagenda,
    portals,
)
from tracker.records import DOCUMENT_KINDS
from tracker.sources import ListingParser

LOCAL = Path(__file__).parent / "data" / "local"
TABLE = tomllib.loads((LOCAL / "corpus" / "expected.toml").read_text())
PARSERS: dict[str, ListingParser] = {
    "legistar": legistar.parse_events, "granicus": agendas.parse_granicus, "civicplus": agendas.parse_civicplus,
    "primegov": portals.parse_primegov, "civicclerk": portals.parse_civicclerk, "boarddocs": portals.parse_boarddocs,
    "ical": ical.parse_ical, "feed": agendas.parse_feed, "legistar_calendar": legistar_calendar.parse_calendar,
    "civicweb": civicweb.parse_meetings, "iqm2": iqm2.parse_calendar, "novusagenda": novusagenda.parse_meetings,
    "municode": municode.parse_meetings,
}
# Fields a meeting entry may check; anything else in the table is a mistake in the table.
CHECKED = {"ref", "title", "date", "start", "time_tbd", "cancelled", "status", "status_text", "location", "links", "documents",
           "agenda_url", "agenda_posted", "minutes_url", "livestream_url", "url", "body", "peer", "peer_differs", "item_titles"}


def platform_of(path: str) -> str:
    """The platform a recording is read as: its folder (`corpus/granicus/x.html`, `granicus/y.html`;
    `ics/` is the demo's iCalendar folder)."""
    folder = Path(path).parent.name
    return "ical" if folder == "ics" else folder


def local_start(meeting: dict[str, Any], zone: str) -> str | None:
    start = meeting.get("start")
    return datetime.fromisoformat(start).astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M") if start else None


def schemeless(url: str) -> str:
    """An address without its scheme: the peers write `http:` before Granicus's protocol-relative
    links where the tracker takes the page's own scheme; both name the same document."""
    return url.split("://", 1)[-1]


def find(meetings: list[dict[str, Any]], expected: dict[str, Any], zone: str) -> dict[str, Any]:
    """The meeting an entry is about: by the platform's own id, else by its title and date."""
    if "ref" in expected:
        found = [mt for mt in meetings if mt["source_ref"] == str(expected["ref"])]
    else:
        found = [mt for mt in meetings if mt["title"] == expected["title"] and mt["date"] == expected["date"]]
    assert len(found) == 1, f"{len(found)} meetings match {expected.get('ref') or (expected['title'], expected['date'])}"
    return found[0]


def check_meeting(meeting: dict[str, Any], expected: dict[str, Any], zone: str) -> None:
    unknown = set(expected) - CHECKED
    assert not unknown, f"unknown fields in the table: {unknown}"
    if "peer" in expected:
        assert expected.get("peer_differs"), "a value the peer asserts differently needs its reason"
    for key in ("title", "date", "time_tbd", "status", "location", "status_text", "agenda_url", "agenda_posted", "minutes_url",
                "livestream_url", "url", "body"):
        if key in expected:
            assert meeting[key] == expected[key], (key, meeting[key], expected[key])
    if "start" in expected:
        assert local_start(meeting, zone) == expected["start"]
        assert meeting["time_tbd"] is False
    if "cancelled" in expected:
        assert (meeting["status"] == "cancelled") is expected["cancelled"], meeting["status"]
    documents = meeting.get("documents") or []
    assert all(doc["kind"] in DOCUMENT_KINDS and doc["url"].startswith(("http://", "https://")) for doc in documents)
    listed = {schemeless(doc["url"]) for doc in documents} | {
        schemeless(meeting[k]) for k in ("agenda_url", "minutes_url", "livestream_url", "url") if meeting.get(k)}
    for link in expected.get("links", []):
        assert schemeless(link) in listed, f"the peer's link {link} is not among the meeting's documents"
    for kind, url in expected.get("documents", []):
        assert [kind, schemeless(url)] in [[doc["kind"], schemeless(doc["url"])] for doc in documents], (kind, url)
    if "item_titles" in expected:  # the agenda items read, in order
        assert [item["title"] for item in meeting.get("items") or []] == expected["item_titles"]


@pytest.mark.parametrize("entry", TABLE["file"], ids=lambda entry: entry["path"])
def test_recording(entry: dict[str, Any]) -> None:
    window = [datetime.fromisoformat(w).replace(tzinfo=UTC) for w in entry.get("window", ["1990-01-01", "2100-01-01"])]
    listing = listing_read(PARSERS[platform_of(entry["path"])], local(entry["path"]), url=entry["url"],
                           timezone=entry["timezone"], body=entry.get("body", "Body"),
                           window_start=window[0], window_end=window[1])
    meetings, problems = [meeting.dump() for meeting in listing.meetings], listing.problems
    assert len(problems) == entry.get("problems", 0), problems
    for words in entry.get("problem_has", []):
        assert any(words in line for line in problems), (words, problems)
    assert len(listing.warnings) == entry.get("warnings", 0), listing.warnings
    for words in entry.get("warning_has", []):
        assert any(words in line for line in listing.warnings), (words, listing.warnings)
    assert len(meetings) >= entry.get("min_meetings", 1)
    if "meetings" in entry:
        assert len(meetings) == entry["meetings"]
    for key in ("time_tbd_max",):
        if key in entry:
            assert sum(1 for mt in meetings if mt["time_tbd"]) <= entry[key]
    for expected in entry.get("meeting", []):
        check_meeting(find(meetings, expected, entry["timezone"]), expected, entry["timezone"])


def test_the_corpus_covers_every_platform_with_real_recordings() -> None:
    """At least 60 real recordings, every platform among them, each file listed in SOURCES."""
    paths = [entry["path"] for entry in TABLE["file"]]
    recorded = [entry["path"] for entry in TABLE["file"] if not entry.get("written_by_owner")]
    assert len(set(paths)) == len(paths) and len(recorded) >= 60
    assert {platform_of(p) for p in recorded} == set(PARSERS)
    assert {platform_of(p) for p in paths} == set(PARSERS)
    sources = (LOCAL / "corpus" / "SOURCES.md").read_text() + (LOCAL / "SOURCES.md").read_text()
    assert all(Path(p).name in sources for p in paths)
    on_disk = {str(p.relative_to(LOCAL)) for p in (LOCAL / "corpus").glob("*/*")}
    assert on_disk <= set(paths), f"recordings without expectations: {sorted(on_disk - set(paths))}"
