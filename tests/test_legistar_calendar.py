"""Legistar's web calendar page as a meeting source (`legistar_calendar = URL`): the real Chicago and
NYC calendar pages (tests/data/local/corpus/legistar_calendar) crawled through the real engine on
loopback, a meeting called off on the page reported as cancelled; and the parser's containment: a
page without the grid is one line, one unreadable row is that row's line. Inputs changed for a test
are derived from a real page and say so where made."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
from calendar_answers import LIST, answer, view_state
from listings import listing_of
from lxml import etree
from recorded import local
from statusjson import changes_json, status_json

from tracker.config import load_config
from tracker.crawl import run_crawls
from tracker.demo.replay import ReplayServer
from tracker.meetings import legistar_calendar as lc
from tracker.meetings.legistar_calendar import parse_calendar
from tracker.meetings.normalize import SourceParseError
from tracker.meetings.pages import Resolver, html_tree, link_label, resolver, visible_words, words_of
from tracker.store import Store

CHICAGO = local("corpus/legistar_calendar/chicago_calendar.html")
NYC = local("corpus/legistar_calendar/nyc_calendar.html")
CANCELLED_NOTE = b"<br><em>CANCELLED</em>"  # Chicago's note under the location of its 8 January meeting


def watch(tmp_path: Path, replay: ReplayServer) -> Any:
    config_path = tmp_path / "tracker.toml"
    config_path.write_text(f'[crawl]\ndelay_seconds = 0\n[[meetings]]\nid = "council"\nname = "Chicago City Council"\n'
                           f'timezone = "America/Chicago"\nlegistar_calendar = "{replay.url}/Calendar.aspx"\n')
    return load_config(config_path, env={})


def serve(replay: ReplayServer, page: bytes) -> None:
    """The calendar page showing "This Month", and its answers to the years of the crawl's window
    (January 3, 2019: 2018 and 2019), as Legistar answers the page's date range list: 2019's
    meetings are the month's, 2018 has none left in the window (tests/calendar_answers.py)."""
    replay.add("/Calendar.aspx", page, content_type="text/html")
    for year, rows in (("2019", slice(None)), ("2018", None)):
        replay.add("/Calendar.aspx", answer(page, year, f"answer-{year}", rows), content_type="text/html",
                   form={"__EVENTTARGET": LIST, LIST: year, "__VIEWSTATE": view_state(page)})


def test_a_meeting_called_off_on_the_calendar_page_is_reported_cancelled(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_NOW", "2019-01-03T18:00:00Z")
    assert CHICAGO.count(CANCELLED_NOTE) == 2  # in the grid and in the page's month view
    # The page before the clerk wrote the note: the real page without it.
    serve(replay, CHICAGO.replace(CANCELLED_NOTE, b""))
    config = watch(tmp_path, replay)
    store = Store(config.database_url)
    (first,) = run_crawls(config, store)
    assert first.ok, first
    meetings = {mt["entity"]: mt for mt in status_json(store, config)["meetings"]}
    assert len(meetings) == 8
    human = meetings["meeting:legistar_calendar:council:668019"]
    assert (human["status"], human["start"]) == ("confirmed", "2019-01-08T10:00:00-06:00")
    assert human["agenda_url"].endswith("/agenda%20hum%20rel.jan8_20190104101632.pdf")

    serve(replay, CHICAGO)  # the real page
    (second,) = run_crawls(config, store)
    assert second.ok, second
    (change,) = [c for c in changes_json(store) if c["kind"] == "meeting.cancelled"]
    assert change["entity"] == "meeting:legistar_calendar:council:668019"
    assert change["data"]["status_text"] == "CANCELLED" and change["data"]["body"] == "Committee on Human Relations"
    assert [c for c in changes_json(store) if c["kind"] == "meeting.added"] == []  # the first crawl was the baseline


def test_columns_are_found_by_their_names_and_words_in_the_time_cell_cancel() -> None:
    """NYC's grid adds a "Meeting Topic" column before the details: the meeting's words, never a
    document; "Deferred" where the time would be is a deferral without a time."""
    meetings, problems = listing_of(parse_calendar, NYC, url="https://nyc.legistar.com/Calendar.aspx",
                                    timezone="America/New_York")
    assert problems == []
    deferred = [mt for mt in meetings if mt["status"] == "cancelled"]
    assert {mt["source_ref"] for mt in deferred} == {"662893", "668208"}
    assert all(mt["time_tbd"] and mt["status_text"] == "Deferred" for mt in deferred)
    (joint,) = [mt for mt in meetings if mt["source_ref"] == "668220"]
    assert joint["comment"].startswith("Jointly with the Committee on Governmental Operations; ")
    assert joint["location"] == "Council Chambers - City Hall"


def test_a_page_without_the_grid_is_one_line() -> None:
    page = local("corpus/granicus/tulsa_council_viewpublisher.html")
    with pytest.raises(SourceParseError, match=r"^no Legistar calendar grid .*; the page .* tables and \d+ table rows"):
        listing_of(parse_calendar, page)


def test_one_unreadable_row_is_its_own_problem_and_the_others_are_read() -> None:
    # The real NYC page with one row's date cell emptied of its date (the 31 January landmarks hearing).
    cell = b'size="2">1/31/2019</font>'
    assert NYC.count(cell) == 2  # the grid's two meetings of that day
    broken = NYC.replace(cell, b'size="2"></font>', 1)
    meetings, problems = listing_of(parse_calendar, broken, url="https://nyc.legistar.com/Calendar.aspx",
                                    timezone="America/New_York")
    assert len(meetings) == 39
    (line,) = problems
    assert line.startswith("row 1 (Subcommittee on Landmarks") and "unreadable: meeting date '' is not a date" in line


# The parser's shortcuts, each checked against the slow path it replaces on every node of the real
# calendar pages (a cell's words, a link's label, a row's links, the event-id searches).
PAGES = {"chicago_calendar.html": "https://chicago.legistar.com/Calendar.aspx",
         "lametro_calendar.html": "https://metro.legistar.com/Calendar.aspx",
         "nyc_calendar.html": "https://nyc.legistar.com/Calendar.aspx",
         "ramsey_boc_departmentdetail.html": "https://ramseycounty.legistar.com/DepartmentDetail.aspx?ID=41635"
                                             "&GUID=342EB836-C0D1-463A-8A12-C5C1B8BB0EBF"}


def trees() -> list[tuple[etree._Element, str]]:
    """Each page as the parser reads it, and as a parser keeping comments reads it (a comment is no
    child the shortcuts may step into)."""
    pages = [(local(f"corpus/legistar_calendar/{name}"), url) for name, url in PAGES.items()]
    with_comments = etree.HTMLParser()
    return [(html_tree(page), url) for page, url in pages] + \
        [(etree.fromstring(page, with_comments), url) for page, url in pages]


def test_the_words_of_a_node_read_directly_are_its_words() -> None:
    """`words_of` and `link_label` read one text under wrappers directly (`text_line`): the same
    words as every text piece under the node joined, and the label the full reading gives."""
    for root, _ in trees():
        for node in root.iter():
            if isinstance(node.tag, str):
                assert words_of(node) == " ".join(" ".join(node.xpath("descendant::text()")).split()), \
                    etree.tostring(node)[:200]
            if node.tag == "a":
                assert link_label(node) == (visible_words(node) or node.get("value") or " ".join(
                    img.get("alt") or "" for img in node.iter("img")).strip() or node.get("title")
                    or node.get("aria-label")), etree.tostring(node)[:200]


def test_a_rows_links_from_one_walk_are_each_cells_links_in_turn() -> None:
    def cell_links(cell: etree._Element, absolute: Resolver, page: str) -> list[tuple[str, etree._Element]]:
        found = []
        for element in cell.iter("a"):
            opened = lc._OPENS.match(element.get("onclick") or "")
            href = opened.group(1) if opened else (element.get("href") or "").strip()
            if not href or href.startswith(("#", "javascript:", "mailto:")):
                continue
            link = absolute(href)
            if link.split("#")[0] != page:
                found.append((link, element))
        return found

    seen = 0
    for root, url in trees():
        absolute = resolver(url)
        for row in root.iter("tr"):
            cells = list(row.iterchildren("td"))
            assert cells == row.findall("td")
            slow = [(n, link, element) for n, cell in enumerate(cells) for link, element in cell_links(cell, absolute, url)]
            assert lc._row_links(row, cells, absolute, url) == slow
            seen += len(slow)
    assert seen > 500


def test_a_link_without_a_patterns_start_in_lower_case_cannot_match_it() -> None:
    links = [link for root, url in trees() for element in root.iter("a")
             for link in (urljoin(url, element.get("href") or ""),)]
    links += [link.upper() for link in links] + [link.swapcase() for link in links]
    for pattern, stem in ((lc._ICAL_ID, lc._ICAL_STEM), (lc._EVENT_ID, lc._EVENT_STEM)):
        matched = [link for link in links if pattern.search(link)]
        assert len(matched) > 100
        assert all(stem in link.lower() for link in matched if link.isascii())
