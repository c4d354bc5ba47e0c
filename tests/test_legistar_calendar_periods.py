"""Legistar's web calendar beyond the period it shows by default: the page's date range list and its
grid's pager read from the real pages (tests/data/local/corpus/legistar_calendar), and the spider
asking, through the real engine on loopback, for the periods that cover the crawl's window and for
each page of their rows, as a browser posts the page's form back. The loopback server answers the
posts with pages derived from the real NYC calendar page (tests/calendar_answers.py)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from calendar_answers import LIST, LIST_STATE, NEXT, answer, choice, view_state
from recorded import local
from statusjson import status_json

from tracker.config import load_config
from tracker.crawl import run_crawls
from tracker.demo.replay import ReplayServer
from tracker.meetings.legistar_calendar import (
    CalendarView,
    calendar_view,
    parse_calendar,
    period_span,
    periods_to_ask,
)
from tracker.meetings.pages import html_tree
from tracker.records import ListingContext
from tracker.store import Store

NYC = local("corpus/legistar_calendar/nyc_calendar.html")
CORPUS = Path(__file__).parent / "data/local/corpus/legistar_calendar"
NYC_STATE = view_state(NYC)


# -- the page's list and pager ---------------------------------------------------------------------

def test_every_recorded_calendar_page_says_which_period_it_shows_and_offers_the_others() -> None:
    for name in ("chicago_calendar.html", "lametro_calendar.html", "nyc_calendar.html"):
        view = calendar_view(html_tree((CORPUS / name).read_bytes()))
        assert (view.period, view.period_field, view.period_state_field) == ("This Month", LIST, LIST_STATE), name
        assert {"All Years", "2019", "2018", "Last Year", "This Year", "Next Year", "This Month"} <= set(view.periods)
        assert view.next_page is None, name  # a month's meetings fit on one page of the grid
    nyc = calendar_view(html_tree(NYC))
    assert len(nyc.periods) == 39 and "Session 2018-2021" in nyc.periods
    # A department's page has no date range list: nothing to choose.
    assert calendar_view(html_tree((CORPUS / "ramsey_boc_departmentdetail.html").read_bytes())) == CalendarView()


@pytest.mark.parametrize("encoded", [True, False])
def test_the_pager_gives_the_postback_of_the_page_after_the_current_one(encoded: bool) -> None:
    assert calendar_view(html_tree(answer(NYC, "2019", "s", slice(0, 20), (1, 3), encoded))).next_page == NEXT.format(4)
    assert calendar_view(html_tree(answer(NYC, "2019", "s", slice(20, 40), (2, 3), encoded))).next_page == NEXT.format(6)
    assert calendar_view(html_tree(answer(NYC, "2019", "s", slice(0, 5), (3, 3), encoded))).next_page is None


def test_what_each_period_of_the_list_covers() -> None:
    today = date(2019, 1, 3)
    assert period_span("This Month", today) == (date(2019, 1, 1), date(2019, 1, 31))
    assert period_span("Last Month", today) == (date(2018, 12, 1), date(2018, 12, 31))
    assert period_span("Next Month", date(2019, 12, 31)) == (date(2020, 1, 1), date(2020, 1, 31))
    assert period_span("Next Year", today) == (date(2020, 1, 1), date(2020, 12, 31))
    assert period_span("2018", today) == (date(2018, 1, 1), date(2018, 12, 31))
    assert period_span("Session 2018-2021", today) == (date(2018, 1, 1), date(2021, 12, 31))
    assert period_span("All Years", today) == (date.min, date.max)
    assert period_span("Today", today) == (today, today)
    assert period_span("This Week", today) is None  # the client chooses the day a week starts


def test_the_periods_asked_for_cover_the_window_and_no_more() -> None:
    nyc = calendar_view(html_tree(NYC))
    # January 3, 2019: thirty days back reach into 2018.
    assert periods_to_ask(nyc, date(2018, 12, 4), date(2019, 5, 3), date(2019, 1, 3)) == ["2018", "2019"]
    assert periods_to_ask(nyc, date(2019, 5, 16), date(2019, 10, 13), date(2019, 6, 15)) == ["2019"]
    # November 2019: the list names no 2020 yet, only "Next Year".
    assert periods_to_ask(nyc, date(2019, 10, 16), date(2020, 3, 14), date(2019, 11, 15)) == ["2019", "Next Year"]
    # A page already showing a period that holds the window asks for nothing.
    shown = CalendarView("This Year", nyc.periods, LIST, LIST_STATE)
    assert periods_to_ask(shown, date(2019, 5, 16), date(2019, 10, 13), date(2019, 6, 15)) == []
    # A list that offers neither the year nor its relative name cannot cover the window.
    short = CalendarView("This Month", ("This Month", "2019"), LIST, LIST_STATE)
    assert periods_to_ask(short, date(2018, 12, 4), date(2019, 5, 3), date(2019, 1, 3)) is None
    assert periods_to_ask(CalendarView(), date(2018, 12, 4), date(2019, 5, 3), date(2019, 1, 3)) is None


# -- the spider ------------------------------------------------------------------------------------

def watch(tmp_path: Path, replay: ReplayServer) -> Any:
    config_path = tmp_path / "tracker.toml"
    config_path.write_text(f'[crawl]\ndelay_seconds = 0\n[[meetings]]\nid = "council"\nname = "New York City Council"\n'
                           f'timezone = "America/New_York"\nlegistar_calendar = "{replay.url}/Calendar.aspx"\n')
    return load_config(config_path, env={})


def serve_year(replay: ReplayServer, second_page: slice = slice(20, 40)) -> None:
    """NYC's calendar showing "This Month", and its answers: 2019 in two pages, 2018 empty."""
    replay.add("/Calendar.aspx", NYC, content_type="text/html")
    replay.add("/Calendar.aspx", answer(NYC, "2019", "year-2019-page-1", slice(0, 20), (1, 2)), content_type="text/html",
               form={"__EVENTTARGET": LIST, LIST_STATE: choice("2019"), "__VIEWSTATE": NYC_STATE})
    replay.add("/Calendar.aspx", answer(NYC, "2019", "year-2019-page-2", second_page, (2, 2)), content_type="text/html",
               form={"__EVENTTARGET": NEXT.format(4), "__VIEWSTATE": "year-2019-page-1"})
    replay.add("/Calendar.aspx", answer(NYC, "2018", "year-2018"), content_type="text/html",
               form={"__EVENTTARGET": LIST, LIST_STATE: choice("2018"), "__VIEWSTATE": NYC_STATE})


def the_meetings(store: Store, config: Any) -> dict[str, dict[str, Any]]:
    return {mt["entity"].rsplit(":", 1)[1]: mt for mt in status_json(store, config)["meetings"]}


def test_the_spider_asks_for_each_year_of_the_window_and_every_page_of_its_rows(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_NOW", "2019-01-03T18:00:00Z")  # the window: December 4, 2018 to May 3, 2019
    serve_year(replay)
    config = watch(tmp_path, replay)
    store = Store(config.database_url)
    (report,) = run_crawls(config, store)
    assert report.ok and not report.warnings, report
    posts = [r for r in replay.requests if r.method == "POST"]
    assert [(p.form or {}).get("__EVENTTARGET") for p in posts] == [LIST, LIST, NEXT.format(4)]
    chosen = {json.loads((p.form or {})[LIST_STATE])["value"] for p in posts[:2]}
    assert chosen == {"2018", "2019"}
    # Each post carries the page's own fields, as the browser posts them.
    assert all("__EVENTVALIDATION" in (p.form or {}) and "__VIEWSTATEGENERATOR" in (p.form or {}) for p in posts)
    assert [p.status for p in posts] == [200, 200, 200]
    every = parse_calendar(NYC, ListingContext(
        watch_id="council", url=f"{replay.url}/Calendar.aspx", body="New York City Council",
        timezone="America/New_York", keywords=(), window_start=_utc(2018, 12, 4), window_end=_utc(2019, 5, 3)))
    assert set(the_meetings(store, config)) == {m.source_ref for m in every.meetings}


def test_a_meeting_gone_from_a_later_page_of_the_year_is_noted_missing(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_NOW", "2019-01-03T18:00:00Z")
    # The served page shows only this month's first rows, so the year's pages are the whole listing.
    served = answer(NYC, "This Month", NYC_STATE, slice(0, 5))
    serve_year(replay)
    replay.add("/Calendar.aspx", served, content_type="text/html")
    config = watch(tmp_path, replay)
    store = Store(config.database_url)
    assert run_crawls(config, store)[0].ok
    gone = parse_calendar(answer(NYC, "2019", "x", slice(39, 40)), _ctx(replay)).meetings[0].source_ref
    serve_year(replay, second_page=slice(20, 39))
    replay.add("/Calendar.aspx", served, content_type="text/html")
    (second,) = run_crawls(config, store)
    assert second.ok, second
    missing = {ref for ref, mt in the_meetings(store, config).items() if mt["missing"]}
    assert missing == {gone}


def test_a_calendar_whose_list_cannot_cover_the_window_is_read_as_shown_with_a_warning(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_NOW", "2019-01-03T18:00:00Z")
    replay.add("/Calendar.aspx", answer(NYC, "This Month", NYC_STATE, slice(0, 40), offered=[b"This Month", b"2019"]),
               content_type="text/html")
    config = watch(tmp_path, replay)
    store = Store(config.database_url)
    (report,) = run_crawls(config, store)
    assert report.ok, report
    (warning,) = report.warnings
    assert "'This Month'" in warning and "cannot show the whole window" in warning
    assert [r.method for r in replay.requests if r.path == "/Calendar.aspx"] == ["GET"]
    assert len(the_meetings(store, config)) == len(parse_calendar(NYC, _ctx(replay)).meetings)


def test_an_answer_showing_another_period_than_asked_is_one_error_and_marks_nothing_missing(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_NOW", "2019-01-03T18:00:00Z")
    serve_year(replay)
    replay.add("/Calendar.aspx", answer(NYC, "This Month", NYC_STATE, slice(0, 5)), content_type="text/html")
    config = watch(tmp_path, replay)
    store = Store(config.database_url)
    assert run_crawls(config, store)[0].ok
    assert len(the_meetings(store, config)) > 5  # the year's pages hold the others
    # Legistar sometimes answers a choice with the period it showed before.
    replay.add("/Calendar.aspx", answer(NYC, "This Month", "again", slice(0, 2)), content_type="text/html",
               form={"__EVENTTARGET": LIST, LIST_STATE: choice("2019"), "__VIEWSTATE": NYC_STATE})
    (second,) = run_crawls(config, store)
    (error,) = second.errors
    assert "asked for the meetings of '2019'; the page answered with 'This Month': not read" in error
    assert not any(mt["missing"] for mt in the_meetings(store, config).values())


def _utc(year: int, month: int, day: int) -> Any:
    from datetime import UTC, datetime
    return datetime(year, month, day, tzinfo=UTC)


def _ctx(replay: ReplayServer) -> ListingContext:
    return ListingContext(watch_id="council", url=f"{replay.url}/Calendar.aspx", body="New York City Council",
                          timezone="America/New_York", keywords=(), window_start=_utc(2018, 12, 4),
                          window_end=_utc(2019, 5, 3))


def test_later_pages_are_needed_until_a_page_in_date_order_runs_past_the_window() -> None:
    def view(*days: str) -> CalendarView:
        return CalendarView(days=tuple(date.fromisoformat(day) for day in days))

    start, end = date(2019, 1, 21), date(2019, 6, 20)
    assert view("2019-01-31", "2019-01-22", "2019-01-17").later_pages_outside(start, end)  # latest first
    assert not view("2019-01-31", "2019-01-22").later_pages_outside(start, end)
    assert view("2019-06-01", "2019-06-30").later_pages_outside(start, end)  # earliest first
    assert not view("2019-01-31", "2019-01-17", "2019-01-25").later_pages_outside(start, end)  # no order
    assert not view("2019-01-17").later_pages_outside(start, end)
    paged = calendar_view(html_tree(answer(NYC, "2019", "s", slice(0, 20), (1, 2))))
    assert (paged.days[0], paged.days[-1], len(paged.days)) == (date(2019, 1, 31), date(2019, 1, 17), 20)


def test_a_grid_listing_the_latest_first_is_paged_only_as_far_back_as_the_window(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_NOW", "2019-02-20T18:00:00Z")  # the window: January 21 to June 20, 2019
    serve_year(replay)
    replay.add("/Calendar.aspx", answer(NYC, "This Month", NYC_STATE, slice(0, 3)), content_type="text/html")
    config = watch(tmp_path, replay)
    store = Store(config.database_url)
    (report,) = run_crawls(config, store)
    assert report.ok and not report.warnings, report
    # Page 1 of 2019 ends on January 17: page 2 holds older meetings only.
    assert [(p.form or {}).get("__EVENTTARGET") for p in replay.requests if p.method == "POST"] == [LIST]
    dates = sorted(mt["date"] for mt in the_meetings(store, config).values())
    assert (dates[0], dates[-1], len(dates)) == ("2019-01-22", "2019-01-31", 19)  # page 1 but its last row


def test_a_month_turning_on_a_page_that_shows_only_this_month_makes_no_meeting_look_gone(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    only_this_month = [b"This Month"]
    monkeypatch.setenv("TRACKER_NOW", "2019-01-03T18:00:00Z")
    replay.add("/Calendar.aspx", answer(NYC, "This Month", NYC_STATE, slice(0, 40), offered=only_this_month),
               content_type="text/html")
    config = watch(tmp_path, replay)
    store = Store(config.database_url)
    assert run_crawls(config, store)[0].ok
    # February 3: the page shows February now (three rows); January's meetings are off the page, not gone.
    monkeypatch.setenv("TRACKER_NOW", "2019-02-03T18:00:00Z")
    replay.add("/Calendar.aspx", answer(NYC, "This Month", NYC_STATE, slice(0, 3), offered=only_this_month),
               content_type="text/html")
    (second,) = run_crawls(config, store)
    assert second.ok and len(second.warnings) == 1, second
    meetings = the_meetings(store, config)
    assert len(meetings) == 40 and not any(mt["missing"] for mt in meetings.values())
