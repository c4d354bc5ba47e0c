"""A parser upgrade that says what it reads otherwise (`SourceKind.reads_anew`) tells every other
change of its first read as news: a council that cancelled a meeting while the tracker was down for
its upgrade is told, and what the new parser reads differently (here: documents and video links an
older reading missed) is still no news. An upgrade that does not say stays a baseline as a whole.
Served from the real Tulsa city council recording through the real engine on loopback."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from statusjson import changes_json, status_json
from test_meeting_documents import CLIP, NOW, PAGE, PATH, watch, without_documents

from tracker.crawl import run_crawls
from tracker.demo.replay import ReplayServer
from tracker.records import RECORDS
from tracker.sources import ROWS, SOURCES, upgrade_reads_anew
from tracker.store import Store

ROW_START = PAGE.rfind(b"<tr", 0, PAGE.find(b"clip_id=7169"))
ROW = PAGE[ROW_START:PAGE.find(b"</tr>", ROW_START) + len(b"</tr>")]
CANCELLED = PAGE.replace(b'id="Regular-Council-Meeting" scope="row">Regular Council Meeting</td>',
                         b'id="Regular-Council-Meeting" scope="row">Regular Council Meeting - CANCELLED</td>', 1)
DOCUMENTS = frozenset({"documents", "livestream_url"})


def upgraded_from_an_older_reading(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, replay: ReplayServer,
                                   page_before: bytes, page_after: bytes, reads_anew: frozenset[str] | None) -> Any:
    """A watch read twice by the older reading (no documents, no video; `granicus-old`), then the
    page as it is after the tracker's downtime read by the new version, which says it reads
    `reads_anew` otherwise (None: says nothing). The changes recorded by that first read."""
    monkeypatch.setenv("TRACKER_NOW", NOW)
    replay.add(PATH, page_before, content_type="text/html")
    config = watch(tmp_path, replay)
    store = Store(config.database_url)
    current = SOURCES["granicus"]
    monkeypatch.setitem(SOURCES, "granicus", replace(current, listing=without_documents(current.listing),
                                                     parser_version="granicus-old", reads_anew=()))
    run_crawls(config, store)
    run_crawls(config, store)  # the watch has its baseline
    assert changes_json(store) == []
    said = () if reads_anew is None else (("granicus-old", frozenset()), ("granicus-new", reads_anew))
    monkeypatch.setitem(SOURCES, "granicus", replace(current, parser_version="granicus-new", reads_anew=said))
    replay.replace(PATH, page_after)
    (upgraded,) = run_crawls(config, store)
    assert upgraded.ok, upgraded.errors
    meetings = {mt["entity"]: mt for mt in status_json(store, config)["meetings"]}
    assert meetings[CLIP]["livestream_url"] == "http://tulsa-ok.granicus.com/MediaPlayer.php?view_id=4&clip_id=7169"
    return [(c["kind"], c["entity"]) for c in changes_json(store)]


def test_a_cancellation_during_an_upgrade_that_says_what_it_reads_anew_is_told(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The council cancels its 19 November meeting while the tracker is being upgraded: the first
    read by the new version tells it (it was swallowed into the upgrade's baseline), and the
    documents and video the new version finds on every meeting are no news."""
    told = upgraded_from_an_older_reading(monkeypatch, tmp_path, replay, PAGE, CANCELLED, DOCUMENTS)
    assert told == [("meeting.cancelled", CLIP)]


def test_an_upgrade_that_says_nothing_of_what_it_reads_anew_is_a_baseline(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Not knowing which of the differences are its own reading, the upgrade tells none of them."""
    assert upgraded_from_an_older_reading(monkeypatch, tmp_path, replay, PAGE, CANCELLED, None) == []


def test_an_upgrade_reading_the_status_anew_tells_no_cancellation(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """A new version that reads cancellations otherwise may show one the source always had."""
    anew = DOCUMENTS | {"status", "status_text", "title"}
    assert upgraded_from_an_older_reading(monkeypatch, tmp_path, replay, PAGE, CANCELLED, anew) == []


@pytest.mark.parametrize(("reads_anew", "told"), [
    (DOCUMENTS, [("meeting.added", CLIP)]),  # a meeting the council scheduled meanwhile
    (DOCUMENTS | {ROWS}, []),  # it may be a row the older reading could not read
])
def test_a_meeting_first_listed_during_an_upgrade_is_news_unless_it_reads_rows_anew(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch,
        reads_anew: frozenset[str], told: list[tuple[str, str]]) -> None:
    without_row = PAGE.replace(ROW, b"", 1)
    assert without_row != PAGE
    assert upgraded_from_an_older_reading(monkeypatch, tmp_path, replay, without_row, PAGE, reads_anew) == told


def test_what_an_upgrade_reads_anew_is_each_version_s_since_the_stored_one() -> None:
    said = (("granicus-6", frozenset()), ("granicus-7", frozenset({"documents"})),
            ("granicus-8", frozenset({"start", "time_tbd"})))
    assert upgrade_reads_anew(said, "granicus-6", "granicus-8") == {"documents", "start", "time_tbd"}
    assert upgrade_reads_anew(said, "granicus-7", "granicus-8") == {"start", "time_tbd"}
    assert upgrade_reads_anew(said, "granicus-5", "granicus-8") is None  # before the record starts: not known
    assert upgrade_reads_anew(said, None, "granicus-8") is None
    assert upgrade_reads_anew(said, "granicus-8", "granicus-7") is None  # a downgrade
    assert upgrade_reads_anew((), "granicus-7", "granicus-8") is None


def test_every_source_kind_says_what_its_versions_read_anew_in_words_its_records_have() -> None:
    """Each kind's record of versions ends at its parser version, and names only its records'
    fields (a source's own fields are all `extra`) or "rows": a misspelt field would make an
    upgrade tell what its parser changed."""
    for kind in SOURCES.values():
        if not kind.reads_anew:
            continue
        assert kind.reads_anew[-1][0] == kind.parser_version, kind.name
        assert len({version for version, _ in kind.reads_anew}) == len(kind.reads_anew), kind.name
        known = {ROWS} | {f for entity in kind.entities for f in RECORDS[entity].__dataclass_fields__}
        for version, fields in kind.reads_anew:
            assert fields <= known, (version, fields - known)
