"""The Legistar web calendar spider against Legistar's own answers to its postbacks, recorded from
the live Nashville calendar (tests/data/legistar_answers, see its SOURCES.md): the choice of a year
in the date range list (June 2022) and the grid's next page of a year (June 2023). Where the spider
posts what the recording's client posted (the same field, the same value, the view state of the
page it holds), the loopback server gives the answer Legistar gave; any other post finds nothing
(404), so a post the real calendar never answered fails the crawl.

These settle, on the real server's answers, what tests/calendar_answers.py can only derive: that
the year is read from the list's client state (`{"value": "2021"}`), that an answer shows the year
asked for in the list's input, and that the pager's `__doPostBack` target read from a 2023 page is
the one Legistar answers with the next page of rows."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from calendar_answers import LIST, LIST_STATE, NEXT, view_state
from click.testing import CliRunner
from statusjson import status_json

from tracker.cli import main
from tracker.config import load_config
from tracker.crawl import run_crawls
from tracker.demo.replay import ReplayServer
from tracker.meetings.legistar_calendar import calendar_view, parse_calendar
from tracker.meetings.pages import html_tree
from tracker.records import ListingContext
from tracker.store import Store

ANSWERS = Path(__file__).parent / "data" / "legistar_answers"
THIS_YEAR = (ANSWERS / "nashville_this_year_2022-06-17.html").read_bytes()  # the page as served, June 17, 2022
YEARS = {"2021": (ANSWERS / "nashville_2021_2022-06-17.html").read_bytes(),  # the answers to the list's choice
         "2023": (ANSWERS / "nashville_2023_2022-06-17.html").read_bytes()}
PAGE_1 = (ANSWERS / "nashville_2022_page1_2023-06-20.html").read_bytes()  # 2022, its first 100 rows
PAGE_2 = (ANSWERS / "nashville_2022_page2_2023-06-20.html").read_bytes()  # the answer to its pager's next page
ZONE = "America/Chicago"


def watch(tmp_path: Path, replay: ReplayServer) -> Any:
    path = tmp_path / "tracker.toml"
    path.write_text(f'[crawl]\ndelay_seconds = 0\n[[meetings]]\nid = "metro"\nname = "Metro Nashville"\n'
                    f'timezone = "{ZONE}"\nlegistar_calendar = "{replay.url}/Calendar.aspx"\n')
    return load_config(path, env={})


def window(now: str) -> tuple[datetime, datetime]:
    today = datetime.fromisoformat(now)
    return today - timedelta(days=30), today + timedelta(days=120)


def listed(page: bytes, now: str) -> dict[str, str]:
    """The meetings of one answer in the crawl's window, as the parser reads them: id and day."""
    start, end = window(now)
    ctx = ListingContext(watch_id="metro", url="https://nashville.legistar.com/Calendar.aspx", body="Metro Nashville",
                         timezone=ZONE, keywords=(), window_start=start, window_end=end)
    return {meeting.source_ref: meeting.date for meeting in parse_calendar(page, ctx).meetings
            if start.date().isoformat() <= meeting.date <= end.date().isoformat()}


def stored(store: Store, config: Any) -> set[str]:
    return {mt["entity"].rsplit(":", 1)[1] for mt in status_json(store, config)["meetings"]}


def test_the_recorded_answers_are_what_they_are_said_to_be() -> None:
    """Each answer shows, in its date range list, the period it was asked for, and the pager's
    target read from 2022's first page is the one the recording's client posted."""
    assert calendar_view(html_tree(THIS_YEAR)).period == "This Year"
    for year, page in YEARS.items():
        assert calendar_view(html_tree(page)).period == year
    first, second = calendar_view(html_tree(PAGE_1)), calendar_view(html_tree(PAGE_2))
    assert (first.period, second.period) == ("2022", "2022")
    assert first.next_page == NEXT.format(4) and second.next_page is None  # the last page has no next
    assert (len(first.days), len(second.days)) == (100, 84)
    assert first.days[-1] >= second.days[0]  # latest first, page after page


@pytest.mark.parametrize(("now", "year"), [("2022-01-10T18:00:00+00:00", "2021"), ("2022-12-20T18:00:00+00:00", "2023")])
def test_a_year_the_window_touches_is_asked_for_and_the_real_answer_read(
        now: str, year: str, tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The page shows "This Year" (2022); a window reaching into `year` makes the spider choose
    it in the list, posting the page's own form back; Legistar's answer to that choice (recorded
    from the same calendar the same day) is read, and its meetings in the window stored."""
    monkeypatch.setenv("TRACKER_NOW", now)
    replay.add("/Calendar.aspx", THIS_YEAR, content_type="text/html")
    replay.add("/Calendar.aspx", YEARS[year], content_type="text/html",
               form={"__EVENTTARGET": LIST, "__VIEWSTATE": view_state(THIS_YEAR), LIST: year})
    config = watch(tmp_path, replay)
    store = Store(config.database_url)
    (report,) = run_crawls(config, store)
    assert report.ok and not report.errors and not report.warnings, report
    posts = [r for r in replay.requests if r.method == "POST"]
    assert len(posts) == 1 and posts[0].status == 200
    assert json.loads((posts[0].form or {})[LIST_STATE])["value"] == year  # what the recording's client posted
    assert stored(store, config) == set(listed(THIS_YEAR, now)) | set(listed(YEARS[year], now))
    if year == "2021":  # the window's December 2021 meetings are only in the answer to the choice of 2021
        assert sorted(listed(YEARS[year], now).values()) == ["2021-12-21"]


def test_the_next_page_of_a_year_is_asked_for_and_the_real_answer_read(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The page shows 2022 (its settings cookie chose it), latest first, 100 rows from December
    back to August 1; the window reaches back to June, so the spider posts the pager's next page,
    and Legistar's answer (recorded from the same page's twin, 2022's first page, the same day)
    gives the rest of the year's rows: the window's June and July meetings are only there."""
    now = "2022-07-15T18:00:00+00:00"
    monkeypatch.setenv("TRACKER_NOW", now)
    replay.add("/Calendar.aspx", PAGE_1, content_type="text/html")
    replay.add("/Calendar.aspx", PAGE_2, content_type="text/html",
               form={"__EVENTTARGET": NEXT.format(4), "__VIEWSTATE": view_state(PAGE_1)})
    config = watch(tmp_path, replay)
    store = Store(config.database_url)
    (report,) = run_crawls(config, store)
    assert report.ok and not report.errors and not report.warnings, report
    assert [(r.method, r.status) for r in replay.requests if r.path == "/Calendar.aspx"] == [("GET", 200), ("POST", 200)]
    first, second = listed(PAGE_1, now), listed(PAGE_2, now)
    assert min(first.values()) == "2022-08-01" and min(second.values()) < "2022-07-01"
    assert stored(store, config) == set(first) | set(second)


def test_detect_shows_the_meetings_of_the_later_pages_as_a_crawl_reads_them(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """`tracker sources detect` on the page showing 2022's first page: it asks for nothing else,
    but a crawl reads the later page the window reaches, and so does detect's preview (storing
    nothing): the meetings it shows are the crawl's, July's among them."""
    now = "2022-07-15T18:00:00+00:00"
    monkeypatch.setenv("TRACKER_NOW", now)
    replay.add("/Calendar.aspx", PAGE_1, content_type="text/html")
    replay.add("/Calendar.aspx", PAGE_2, content_type="text/html",
               form={"__EVENTTARGET": NEXT.format(4), "__VIEWSTATE": view_state(PAGE_1)})
    config = tmp_path / "tracker.toml"
    config.write_text(f'[crawl]\ndelay_seconds = 0\n[tracker]\ntimezone = "{ZONE}"\n')
    result = CliRunner().invoke(main, ["--config", str(config), "sources", "detect", f"{replay.url}/Calendar.aspx"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "The page shows '2022'; asked for its later pages as a crawl does, and read them too." in result.stdout
    both = {**listed(PAGE_1, now), **listed(PAGE_2, now)}
    assert f"{len(both)} in the window" in result.stdout, result.stdout
    upcoming = sorted(day for day in both.values() if day >= "2022-07-15")
    shown = result.stdout.split("The next meetings it would read:\n", 1)[1].splitlines()
    assert shown[0].strip().startswith(datetime.fromisoformat(upcoming[0]).strftime("%a %b %-d, 2022"))
    assert [r.method for r in replay.requests if r.path == "/Calendar.aspx"] == ["GET", "GET", "POST"]
