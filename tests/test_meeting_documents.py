"""Every document and media link of a meeting, typed: stored with the meeting, shown by alerts and
the digest, in `status --json` beside the `agenda_url`/`minutes_url`/`livestream_url` scripts read;
and a parser upgrade that adds them is a baseline, never news. Served from the real Tulsa city
council recording (tests/data/local/corpus) through the real engine on loopback."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from recorded import local
from statusjson import changes_json, status_json

from tracker.alerts.render import render_group
from tracker.config import load_config
from tracker.crawl import run_crawls
from tracker.demo.replay import ReplayServer
from tracker.digest import write_site
from tracker.meetings.diff import diff_meeting
from tracker.records import Document, Listing, ListingContext, Meeting
from tracker.sources import SOURCES
from tracker.store import Store

PAGE = local("corpus/granicus/tulsa_council_viewpublisher.html")
PATH = "/ViewPublisher.php"  # its links are protocol-relative: http here, on loopback
NOW = "2025-11-18T18:00:00Z"  # the window holds the council's 7 and 19 November meetings; the 19th is ahead
CLIP = "meeting:granicus:council:clip-7169"


def watch(tmp_path: Path, replay: ReplayServer) -> Any:
    config_path = tmp_path / "tracker.toml"
    config_path.write_text(f'[crawl]\ndelay_seconds = 0\n[[meetings]]\nid = "council"\nname = "Tulsa City Council"\n'
                           f'timezone = "America/Chicago"\ngranicus = "{replay.url}{PATH}"\n'
                           f'[[subscribers]]\nid = "ana"\nnotify = ["json://127.0.0.1:9/"]\nfollow = ["council"]\n')
    return load_config(config_path, env={})


def without_documents(parse: Any) -> Any:
    """What the parser before documents stored: no `documents`, no video it found only in an onclick."""
    def parse_as_before(data: bytes, ctx: ListingContext) -> Listing:
        listing = parse(data, ctx)
        for meeting in listing.meetings:
            meeting.documents, meeting.livestream_url = None, None
        return listing
    return parse_as_before


def test_a_documents_only_difference_is_no_news() -> None:
    before = Meeting(source="granicus", source_ref="clip-1", body="B", title="Council", date="2025-11-19",
                     timezone="America/Chicago", agenda_url="https://x.example/a")
    after = replace(before, documents=[Document("agenda", "https://x.example/a", "Agenda"),
                                       Document("packet", "https://x.example/p.pdf", "Agenda Packet"),
                                       Document("video", "https://x.example/v", "Video")])
    assert diff_meeting(before, after, "meeting:granicus:w:clip-1") == []


def test_documents_arrive_with_an_upgrade_as_a_baseline_then_are_shown(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_NOW", NOW)
    replay.add(PATH, PAGE, content_type="text/html")
    config = watch(tmp_path, replay)
    store = Store(config.database_url)
    current = SOURCES["granicus"]
    monkeypatch.setitem(SOURCES, "granicus", replace(current, listing=without_documents(current.listing),
                                                     parser_version="1"))
    run_crawls(config, store)
    run_crawls(config, store)  # the watch has its baseline
    before = {mt["entity"]: mt for mt in status_json(store, config)["meetings"]}
    assert before[CLIP]["livestream_url"] is None

    monkeypatch.setitem(SOURCES, "granicus", current)
    (upgraded,) = run_crawls(config, store)  # the page has not changed, the parser has
    assert upgraded.ok and upgraded.new_snapshots > 0
    assert changes_json(store) == []  # the video and documents it now finds are no news
    meetings = {mt["entity"]: mt for mt in status_json(store, config)["meetings"]}
    council = meetings[CLIP]
    assert council["agenda_url"] == before[CLIP]["agenda_url"]  # what scripts read is unchanged
    assert council["livestream_url"] == "http://tulsa-ok.granicus.com/MediaPlayer.php?view_id=4&clip_id=7169"
    assert [(d["kind"], d["noun"], d["url"]) for d in council["documents"]] == [
        ("agenda", "Agenda", "http://tulsa-ok.granicus.com/AgendaViewer.php?view_id=4&clip_id=7169"),
        ("video", "Video", "http://tulsa-ok.granicus.com/MediaPlayer.php?view_id=4&clip_id=7169")]

    # derived later state: an agenda packet posted for the 19 November meeting: shown, not news of its own
    agenda = b"""<a href="//tulsa-ok.granicus.com/AgendaViewer.php?view_id=4&amp;clip_id=7169" target="_blank">Agenda</a>"""
    packet = b""" <a href="//tulsa-ok.granicus.com/DocumentViewer.php?file=tulsa-ok_packet_7169.pdf">Agenda Packet</a>"""
    later = PAGE.replace(agenda, agenda + packet, 1)
    assert later != PAGE
    replay.replace(PATH, later)
    run_crawls(config, store)
    assert changes_json(store) == []
    site = write_site(store, config, tmp_path / "site")
    shown = (site / "index.html").read_text() + "".join(p.read_text() for p in site.rglob("*.html"))
    assert 'href="http://tulsa-ok.granicus.com/DocumentViewer.php?file=tulsa-ok_packet_7169.pdf"' in shown
    assert ">Agenda packet</a>" in shown

    # derived: then the meeting is cancelled; the alert lists every document it has
    replay.replace(PATH, later.replace(b'id="Regular-Council-Meeting" scope="row">Regular Council Meeting</td>',
                                       b'id="Regular-Council-Meeting" scope="row">Regular Council Meeting - CANCELLED</td>', 1))
    run_crawls(config, store)
    (change,) = changes_json(store)
    assert (change["kind"], change["entity"]) == ("meeting.cancelled", CLIP)
    message = instant_message(store, config, change["id"])
    for line in ("Agenda: http://tulsa-ok.granicus.com/AgendaViewer.php?view_id=4&clip_id=7169",
                 "Agenda packet: http://tulsa-ok.granicus.com/DocumentViewer.php?file=tulsa-ok_packet_7169.pdf",
                 "Video: http://tulsa-ok.granicus.com/MediaPlayer.php?view_id=4&clip_id=7169"):
        assert line in message.body, message.body
    assert "[Agenda packet](http://tulsa-ok.granicus.com/DocumentViewer.php?file=tulsa-ok_packet_7169.pdf)" in (
        message.markdown or "")


@dataclass
class Row:
    """An outbox row as `render_group` reads one."""

    id: int
    subscriber_id: str
    target_hash: str
    change_id: int | None
    period: str | None = None
    payload: dict[str, Any] | None = None
    tries: int = 0
    group_key: str | None = None


def instant_message(store: Store, config: Any, change_id: int) -> Any:
    with store.session() as session:
        return render_group(session, [Row(1, "ana", "t", change_id)], config)
