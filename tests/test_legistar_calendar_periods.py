"""Legistar's web calendar beyond the period it shows by default: the page's date range list and its
grid's pager read from the real pages (tests/data/local/corpus/legistar_calendar), and the spider
asking, through the real engine on loopback, for the periods that cover the crawl's window and for
each page of their rows, as a browser posts the page's form back. The loopback server answers the
posts with pages derived from the real NYC calendar page (tests/calendar_answers.py)."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from calendar_answers import LIST, LIST_STATE, NEXT, ROW, answer, view_state
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
    sure_span,
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
    assert calendar_view(html_tree(NYC)).date_sorted  # its date column's header is marked sorted
    # A department's page has no date range list: nothing to choose.
    ramsey = calendar_view(html_tree((CORPUS / "ramsey_boc_departmentdetail.html").read_bytes()))
    assert (ramsey.period, ramsey.periods, ramsey.period_field, ramsey.next_page) == (None, (), None, None)


def test_each_period_is_posted_with_the_value_its_list_item_holds() -> None:
    """The client state carries the chosen item's value, which the page's script gives for each
    item of the list: a year's and "Next Year"'s are their words, "All Years"'s is "All", and
    NYC's sessions are queries."""
    for name in ("chicago_calendar.html", "lametro_calendar.html", "nyc_calendar.html"):
        view = calendar_view(html_tree((CORPUS / name).read_bytes()))
        assert len(view.period_values) == len(view.periods), name
        assert [view.value_of(p) for p in ("All Years", "2019", "This Year", "Next Year", "This Month")] == [
            "All", "2019", "This Year", "Next Year", "This Month"], name
    nyc = calendar_view(html_tree(NYC))
    assert nyc.value_of("Session 2018-2021") == "YEAR(M.meDate) BETWEEN 2018 AND 2021"
    # A page whose script does not give the values (cut out here): each item's own words.
    bare = calendar_view(html_tree(NYC.replace(b'"itemData":', b'"otherData":')))
    assert bare.period_values == () and bare.value_of("All Years") == "All Years"


def test_a_real_paged_answer_gives_its_period_its_next_page_and_its_order() -> None:
    """NYC's calendar as a browser saved it in 2014: "This Year", the first page of 100 rows, latest
    first, under Telerik's own pager (no derived markup)."""
    view = calendar_view(html_tree((CORPUS / "nyc_calendar_2014.html").read_bytes()))
    assert (view.period, view.period_field, view.period_state_field) == ("This Year", LIST, LIST_STATE)
    assert view.next_page == "ctl00$ContentPlaceHolder1$gridCalendar$ctl00$ctl02$ctl00$ctl04"
    assert len(view.days) == 100 and view.date_sorted
    assert (view.days[0], view.days[-1]) == (date(2014, 6, 12), date(2014, 4, 28))
    assert view.later_pages_outside(date(2014, 4, 29), date(2014, 9, 30))  # older pages: before the window
    assert not view.later_pages_outside(date(2014, 4, 1), date(2014, 9, 30))
    assert view.value_of("Session 2014-2017") == "YEAR(M.meDate) BETWEEN 2014 AND 2017"


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
    # Legistar counts "This Month" by its own clock: on the day a month turns it may be either.
    assert sure_span("This Month", date(2019, 1, 15)) == (date(2019, 1, 1), date(2019, 1, 31))
    assert sure_span("This Month", date(2019, 1, 31)) is None and sure_span("This Month", date(2019, 2, 1)) is None
    assert sure_span("This Year", date(2019, 12, 31)) is None and sure_span("2019", date(2019, 12, 31)) is not None


def test_the_periods_asked_for_cover_the_window_and_no_more() -> None:
    nyc = calendar_view(html_tree(NYC))
    # January 3, 2019: thirty days back reach into 2018.
    assert periods_to_ask(nyc, date(2018, 12, 4), date(2019, 5, 3), date(2019, 1, 3)) == (["2018", "2019"], True, False)
    assert periods_to_ask(nyc, date(2019, 5, 16), date(2019, 10, 13), date(2019, 6, 15)) == (["2019"], True, False)
    # November 2019: the list names no 2020 yet, only "Next Year".
    assert periods_to_ask(nyc, date(2019, 10, 16), date(2020, 3, 14), date(2019, 11, 15)) == (
        ["2019", "Next Year"], True, False)
    # A page already showing a period that holds the window on one page asks for nothing; on several
    # pages, nothing either for a year (its pages are read: NYC's real 2014 page shows "This Year"
    # paged), but the window's years for more ("All Years" listing the oldest first would be read to
    # its end).
    shown = CalendarView("This Year", nyc.periods, LIST, LIST_STATE)
    assert periods_to_ask(shown, date(2019, 5, 16), date(2019, 10, 13), date(2019, 6, 15)) == ([], True, True)
    this_year = calendar_view(html_tree((CORPUS / "nyc_calendar_2014.html").read_bytes()))
    assert this_year.next_page is not None
    assert periods_to_ask(this_year, date(2014, 4, 20), date(2014, 9, 17), date(2014, 5, 20)) == ([], True, True)
    # The window runs into next year: this one alone cannot hold it. The year shown is read through
    # its own pages (asking for it again would give the same pages); only the next is asked for.
    assert periods_to_ask(this_year, date(2014, 11, 1), date(2015, 3, 31), date(2014, 12, 1)) == (
        ["Next Year"], True, True)
    # On the last day of the year the client's clock may already say the next: "This Year" is then
    # no sure year, and both years are asked for by their names.
    assert periods_to_ask(this_year, date(2014, 12, 1), date(2015, 4, 30), date(2014, 12, 31)) == (
        ["2014", "Next Year"], True, False)
    paged = CalendarView("All Years", nyc.periods, LIST, LIST_STATE, next_page=NEXT.format(4))
    assert periods_to_ask(paged, date(2019, 5, 16), date(2019, 10, 13), date(2019, 6, 15)) == (["2019"], True, False)
    # A list that offers neither the year nor its relative name: the years it offers, not whole.
    short = CalendarView("This Month", ("This Month", "2019"), LIST, LIST_STATE)
    assert periods_to_ask(short, date(2018, 12, 4), date(2019, 5, 3), date(2019, 1, 3)) == (["2019"], False, False)
    assert periods_to_ask(CalendarView(), date(2018, 12, 4), date(2019, 5, 3), date(2019, 1, 3)) == ([], False, True)


# -- the spider ------------------------------------------------------------------------------------

def watch(tmp_path: Path, replay: ReplayServer) -> Any:
    config_path = tmp_path / "tracker.toml"
    config_path.write_text(f'[crawl]\ndelay_seconds = 0\n[[meetings]]\nid = "council"\nname = "New York City Council"\n'
                           f'timezone = "America/New_York"\nlegistar_calendar = "{replay.url}/Calendar.aspx"\n')
    return load_config(config_path, env={})


SESSION = {"Set-Cookie": "ASP.NET_SessionId=s3ss10n; path=/; HttpOnly"}


def serve_year(replay: ReplayServer, second_page: slice = slice(20, 40)) -> None:
    """NYC's calendar showing "This Month" (and setting a session cookie), and its answers: 2019 in
    two pages, 2018 empty."""
    replay.add("/Calendar.aspx", NYC, content_type="text/html", headers=SESSION)
    replay.add("/Calendar.aspx", answer(NYC, "2019", "year-2019-page-1", slice(0, 20), (1, 2)), content_type="text/html",
               form={"__EVENTTARGET": LIST, LIST: "2019", "__VIEWSTATE": NYC_STATE},
               headers={"Set-Cookie": "Setting-69-Calendar Year=2019; expires=Fri, 01-Jan-2100 00:00:00 GMT; path=/"})
    replay.add("/Calendar.aspx", answer(NYC, "2019", "year-2019-page-2", second_page, (2, 2)), content_type="text/html",
               form={"__EVENTTARGET": NEXT.format(4), "__VIEWSTATE": "year-2019-page-1"})
    replay.add("/Calendar.aspx", answer(NYC, "2018", "year-2018"), content_type="text/html",
               form={"__EVENTTARGET": LIST, LIST: "2018", "__VIEWSTATE": NYC_STATE})


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
    # Both years asked for (in either order: they are posted together), then 2019's next page, posted
    # from the form of 2019's first page once that answer came.
    targets = [(p.form or {}).get("__EVENTTARGET") for p in posts]
    assert sorted(targets) == sorted([LIST, LIST, NEXT.format(4)]) and targets[0] == LIST
    years = [p for p in posts if (p.form or {}).get("__EVENTTARGET") == LIST]
    (following,) = [p for p in posts if (p.form or {}).get("__EVENTTARGET") == NEXT.format(4)]
    assert (following.form or {})["__VIEWSTATE"] == "year-2019-page-1"
    assert posts.index(following) > posts.index(next(p for p in years if (p.form or {})[LIST] == "2019"))
    # The list's choice, in its field and in its Telerik client state, where the control reads it.
    chosen = {((p.form or {})[LIST], json.loads((p.form or {})[LIST_STATE])["value"]) for p in years}
    assert chosen == {("2018", "2018"), ("2019", "2019")}
    # Each post carries the page's own fields and cookies, as a browser posts them, but no disabled one.
    assert all("__EVENTVALIDATION" in (p.form or {}) and "__VIEWSTATEGENERATOR" in (p.form or {}) for p in posts)
    assert all("ctl00$ButtonAlerts" not in (p.form or {}) for p in posts)
    assert [p.headers.get("Cookie") for p in years] == ["ASP.NET_SessionId=s3ss10n"] * 2
    assert following.headers.get("Cookie") == "ASP.NET_SessionId=s3ss10n; Setting-69-Calendar Year=2019"  # as set
    assert [p.status for p in posts] == [200, 200, 200]
    every = parse_calendar(NYC, ListingContext(
        watch_id="council", url=f"{replay.url}/Calendar.aspx", body="New York City Council",
        timezone="America/New_York", keywords=(), window_start=_utc(2018, 12, 4), window_end=_utc(2019, 5, 3)))
    assert set(the_meetings(store, config)) == {m.source_ref for m in every.meetings}


@pytest.mark.parametrize("answered_again", [False, True])
def test_a_meeting_gone_from_a_later_page_of_the_year_is_noted_missing(
        answered_again: bool, tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """`answered_again`: the 2019 post is first answered with "This Month" (Legistar does this now
    and then); the same choice, posted once more from that answer's form, gets 2019's rows."""
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
    if answered_again:
        replay.add("/Calendar.aspx", answer(NYC, "This Month", "again", slice(0, 2)), content_type="text/html",
                   form=YEAR_2019)
        replay.add("/Calendar.aspx", answer(NYC, "2019", "year-2019-page-1", slice(0, 20), (1, 2)),
                   content_type="text/html", form={**YEAR_2019, "__VIEWSTATE": "again"})
    (second,) = run_crawls(config, store)
    assert second.ok and not second.errors, second.errors
    retried = [p for p in replay.requests if (p.form or {}).get("__VIEWSTATE") == "again"]
    assert len(retried) == answered_again
    if retried:
        assert (retried[0].form or {})[LIST] == "2019" and json.loads((retried[0].form or {})[LIST_STATE])["value"] == "2019"
    missing = {ref for ref, mt in the_meetings(store, config).items() if mt["missing"]}
    assert missing == {gone}


def test_the_year_the_page_shows_is_read_through_its_pages_while_the_other_year_is_asked_for(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """January 20, 2019: the window runs back into 2018. The page shows "This Year" (2019) on the
    first of two pages: 2018 is asked for, and 2019 is not asked for again but read through the
    page's own pager, so its second page's meetings are stored too (and nothing is posted twice)."""
    monkeypatch.setenv("TRACKER_NOW", "2019-01-20T18:00:00Z")
    replay.add("/Calendar.aspx", answer(NYC, "This Year", NYC_STATE, slice(0, 14), (1, 3)), content_type="text/html",
               headers=SESSION)
    replay.add("/Calendar.aspx", answer(NYC, "This Year", "this-year-page-2", slice(14, 28), (2, 3)),
               content_type="text/html", form={"__EVENTTARGET": NEXT.format(4), "__VIEWSTATE": NYC_STATE})
    replay.add("/Calendar.aspx", answer(NYC, "This Year", "this-year-page-3", slice(28, 40), (3, 3)),
               content_type="text/html", form={"__EVENTTARGET": NEXT.format(6), "__VIEWSTATE": "this-year-page-2"})
    replay.add("/Calendar.aspx", answer(NYC, "2018", "year-2018"), content_type="text/html",
               form={"__EVENTTARGET": LIST, LIST: "2018", "__VIEWSTATE": NYC_STATE},
               headers={"Set-Cookie": "Setting-69-Calendar Year=2018; expires=Fri, 01-Jan-2100 00:00:00 GMT; path=/"})
    config = watch(tmp_path, replay)
    store = Store(config.database_url)
    (report,) = run_crawls(config, store)
    assert report.ok and not report.errors and not report.warnings, report
    posts = [p for p in replay.requests if p.method == "POST"]
    targets = sorted((p.form or {}).get("__EVENTTARGET") or "" for p in posts)
    assert targets == sorted([LIST, NEXT.format(4), NEXT.format(6)])  # 2018 chosen, 2019 paged: no "2019" asked for
    later = [r.meetings for r in (parse_calendar(answer(NYC, "This Year", "x", rows), _ctx(replay))
                                  for rows in (slice(14, 28), slice(28, 40)))]
    assert all(later) and {m.source_ref for ms in later for m in ms} <= set(the_meetings(store, config))
    # Each period's posts carry the cookies of its own answers: 2019's last page is never asked for
    # with the year 2018's answer set (a browser's one jar would send it, and the calendar might go by it).
    assert all(p.headers.get("Cookie") == "ASP.NET_SessionId=s3ss10n" for p in posts), [p.headers.get("Cookie") for p in posts]


def test_a_calendar_whose_list_cannot_cover_the_window_reads_what_it_offers_with_a_warning(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_NOW", "2019-01-03T18:00:00Z")  # the window touches 2018: the list offers no 2018
    offered = [b"This Month", b"2019"]
    replay.add("/Calendar.aspx", answer(NYC, "This Month", NYC_STATE, slice(0, 3), offered=offered),
               content_type="text/html")
    replay.add("/Calendar.aspx", answer(NYC, "2019", "year-2019", slice(0, 40), offered=offered),
               content_type="text/html", form={"__EVENTTARGET": LIST, LIST: "2019", "__VIEWSTATE": NYC_STATE})
    config = watch(tmp_path, replay)
    store = Store(config.database_url)
    (report,) = run_crawls(config, store)
    assert report.ok, report
    (warning,) = report.warnings
    assert "shows 'This Month' and its date range list cannot show the whole window: read '2019'" in warning
    assert [r.method for r in replay.requests if r.path == "/Calendar.aspx"] == ["GET", "POST"]
    assert len(the_meetings(store, config)) == len(parse_calendar(NYC, _ctx(replay)).meetings)


YEAR_2019 = {"__EVENTTARGET": LIST, LIST: "2019", "__VIEWSTATE": NYC_STATE}
PAGE_2 = {"__EVENTTARGET": NEXT.format(4), "__VIEWSTATE": "year-2019-page-1"}


@pytest.mark.parametrize(("form", "answered", "said"), [
    # Legistar sometimes answers a choice with the period it showed before, here twice (asked again
    # from the first such answer's form).
    (YEAR_2019, {"body": answer(NYC, "This Month", "again", slice(0, 2))},
     "asked for the meetings of '2019'; the page answered with 'This Month': not read (asked twice)"),
    # ... or with its error page, by a redirect.
    (YEAR_2019, {"status": 302, "headers": {"Location": "/Error.aspx"}},
     "2019, page 1: the post was answered with a redirect to '/Error.aspx': not read"),
    (PAGE_2, {"status": 500}, "listing (2019, page 2): HTTP 500"),
])
def test_an_answer_not_read_is_one_error_and_marks_nothing_missing(
        form: dict[str, str], answered: dict[str, Any], said: str, tmp_path: Path, replay: ReplayServer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_NOW", "2019-01-03T18:00:00Z")
    serve_year(replay)
    replay.add("/Calendar.aspx", answer(NYC, "This Month", NYC_STATE, slice(0, 5)), content_type="text/html")
    config = watch(tmp_path, replay)
    store = Store(config.database_url)
    assert run_crawls(config, store)[0].ok
    assert len(the_meetings(store, config)) > 5  # the year's pages hold the others
    replay.add("/Calendar.aspx", content_type="text/html", form=form, **answered)
    replay.add("/Calendar.aspx", content_type="text/html", form={**form, "__VIEWSTATE": "again"}, **answered)
    (second,) = run_crawls(config, store)
    (error,) = second.errors
    assert said in error
    assert not any(mt["missing"] for mt in the_meetings(store, config).values())


@pytest.mark.parametrize(("name", "now", "row_of", "noted"), [
    # Ramsey County's real board page: no date range list, so it states no period and nothing is
    # noted missing from it.
    ("ramsey_boc_departmentdetail.html", "2026-04-01T15:00:00Z", b" 4/7/2026</td>", False),
    # NYC's real 2014 page: "This Year", latest first, its first page reaching back to April 28. On
    # May 30 the window starts April 30: nothing more is asked for (neither "2014", the same rows
    # again, nor the next page, all before the window), and the listing is whole.
    ("nyc_calendar_2014.html", "2014-05-30T16:00:00Z", b"ID=312878&", True),
])
def test_a_page_read_as_served_asks_for_nothing_more_and_notes_a_gone_meeting_only_if_it_states_its_period(
        name: str, now: str, row_of: bytes, noted: bool, tmp_path: Path, replay: ReplayServer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The page, then without one meeting's row (derived)."""
    page = (CORPUS / name).read_bytes()
    monkeypatch.setenv("TRACKER_NOW", now)
    replay.add("/Calendar.aspx", page, content_type="text/html")
    config = watch(tmp_path, replay)
    store = Store(config.database_url)
    (first,) = run_crawls(config, store)
    assert first.ok and not first.warnings and first.items > 3, first
    window_start = (datetime.fromisoformat(now) - timedelta(days=30)).date().isoformat()
    stored = the_meetings(store, config)
    assert all(mt["date"] >= window_start for mt in stored.values())
    (gone,) = [row for row in ROW.findall(page) if row_of in row]
    replay.replace("/Calendar.aspx", page.replace(gone, b""))
    assert run_crawls(config, store)[0].ok
    meetings = the_meetings(store, config)
    missing = {ref for ref, mt in meetings.items() if mt["missing"]}
    assert meetings.keys() == stored.keys() and len(missing) == noted
    assert not noted or missing == {"312878"}
    assert [r.method for r in replay.requests if r.path == "/Calendar.aspx"] == ["GET", "GET"]


def _utc(year: int, month: int, day: int) -> Any:
    from datetime import UTC, datetime
    return datetime(year, month, day, tzinfo=UTC)


def _ctx(replay: ReplayServer) -> ListingContext:
    return ListingContext(watch_id="council", url=f"{replay.url}/Calendar.aspx", body="New York City Council",
                          timezone="America/New_York", keywords=(), window_start=_utc(2018, 12, 4),
                          window_end=_utc(2019, 5, 3))


def test_later_pages_are_needed_until_a_page_in_date_order_runs_past_the_window() -> None:
    def view(*days: str, date_sorted: bool = True) -> CalendarView:
        return CalendarView(days=tuple(date.fromisoformat(day) for day in days), date_sorted=date_sorted)

    start, end = date(2019, 1, 21), date(2019, 6, 20)
    assert view("2019-01-31", "2019-01-22", "2019-01-17").later_pages_outside(start, end)  # latest first
    assert not view("2019-01-31", "2019-01-22").later_pages_outside(start, end)
    assert view("2019-06-01", "2019-06-30").later_pages_outside(start, end)  # earliest first
    assert not view("2019-01-31", "2019-01-17", "2019-01-25").later_pages_outside(start, end)  # no order
    assert not view("2019-01-17").later_pages_outside(start, end)
    # Sorted by another column (the name), a page may still look in date order.
    assert not view("2019-01-31", "2019-01-22", "2019-01-17", date_sorted=False).later_pages_outside(start, end)
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


@pytest.mark.parametrize(("first", "then", "left"), [
    ("2019-01-03T18:00:00Z", "2019-02-03T18:00:00Z", 3),  # February 3: the page shows February
    # January 31, 10 PM in New York: the client's server may already count "This Month" as February.
    ("2019-01-20T18:00:00Z", "2019-02-01T03:00:00Z", 1),
])
def test_a_month_turning_on_a_page_that_shows_only_this_month_makes_no_meeting_look_gone(
        first: str, then: str, left: int, tmp_path: Path, replay: ReplayServer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The page's February says nothing of January's meetings: they are off the page, not gone."""
    only_this_month = [b"This Month"]
    monkeypatch.setenv("TRACKER_NOW", first)
    replay.add("/Calendar.aspx", answer(NYC, "This Month", NYC_STATE, slice(0, 40), offered=only_this_month),
               content_type="text/html")
    config = watch(tmp_path, replay)
    store = Store(config.database_url)
    assert run_crawls(config, store)[0].ok
    monkeypatch.setenv("TRACKER_NOW", then)
    replay.add("/Calendar.aspx", answer(NYC, "This Month", NYC_STATE, slice(0, left), offered=only_this_month),
               content_type="text/html")
    (second,) = run_crawls(config, store)
    assert second.ok and len(second.warnings) == 1, second
    meetings = the_meetings(store, config)
    assert len(meetings) == 40 and not any(mt["missing"] for mt in meetings.values())


def test_a_spider_error_mid_crawl_marks_nothing_missing(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fault of the tracker's own (here building the post for the second page of 2019 raises)
    leaves the pages after it unread: the run fails, and nothing is noted missing."""
    import spiders.legistar_calendar as spider

    monkeypatch.setenv("TRACKER_NOW", "2019-01-03T18:00:00Z")
    serve_year(replay)
    replay.add("/Calendar.aspx", answer(NYC, "This Month", NYC_STATE, slice(0, 5)), content_type="text/html",
               headers=SESSION)
    config = watch(tmp_path, replay)
    store = Store(config.database_url)
    assert run_crawls(config, store)[0].ok
    real = spider.form2request

    def failing(form: Any, data: Any, **kwargs: Any) -> Any:
        if data.get("__EVENTTARGET") == NEXT.format(4):
            raise RuntimeError("a fault building the post")
        return real(form, data, **kwargs)

    monkeypatch.setattr(spider, "form2request", failing)
    (second,) = run_crawls(config, store)
    assert not second.ok
    assert not any(mt["missing"] for mt in the_meetings(store, config).values())


def test_a_meeting_whose_store_failed_is_kept_until_a_whole_read_stores_it(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """A meeting of the calendar that could not be stored is kept in the cursor (`unsaved`, with
    its verdict) until a run that read every answer stores it; then it leaves the cursor (else its
    old verdict would judge it for good)."""
    from test_listing_cursor_faults import refuse_snapshots

    from tracker import models as m

    def unsaved() -> dict[str, str]:
        with store.session() as session:
            state = session.get(m.SourceState, "legistar_calendar:council")
            return dict((state.cursor if state else {}).get("unsaved") or {})

    monkeypatch.setenv("TRACKER_NOW", "2019-01-03T18:00:00Z")
    serve_year(replay)
    config = watch(tmp_path, replay)
    store = Store(config.database_url)
    ref = parse_calendar(answer(NYC, "2019", "x", slice(3, 4)), _ctx(replay)).meetings[0].source_ref
    refuse_snapshots(store, ref)
    (first,) = run_crawls(config, store)
    assert not first.ok and set(unsaved()) == {ref}, (first.errors, unsaved())
    refuse_snapshots(store, None)
    for _ in range(2):
        (report,) = run_crawls(config, store)
        assert report.ok, report.errors
        assert unsaved() == {} and ref in the_meetings(store, config)


def test_a_meeting_stored_at_last_leaves_the_cursor_though_another_row_stays_unreadable(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """As above, with a row of the page that never reads (its date cell empty): the runs are never
    whole, yet the meeting stored at last leaves `unsaved` (found by a review: it used to stay for
    good, its old verdict judging it, and every store failure since added one more)."""
    from test_listing_cursor_faults import refuse_snapshots

    from tracker import models as m

    monkeypatch.setenv("TRACKER_NOW", "2019-01-03T18:00:00Z")
    serve_year(replay)
    replay.add("/Calendar.aspx", NYC.replace(b'size="2">1/31/2019</font>', b'size="2"></font>', 1),
               content_type="text/html", headers=SESSION)
    config = watch(tmp_path, replay)
    store = Store(config.database_url)
    ref = parse_calendar(answer(NYC, "2019", "x", slice(3, 4)), _ctx(replay)).meetings[0].source_ref
    refuse_snapshots(store, ref)
    unsaved = []
    for _ in range(2):
        (report,) = run_crawls(config, store)
        assert any("is not a date" in line for line in report.errors), report.errors
        refuse_snapshots(store, None)
        with store.session() as session:
            state = session.get(m.SourceState, "legistar_calendar:council")
            unsaved.append(set((state.cursor if state else {}).get("unsaved") or {}))
    assert unsaved == [{ref}, set()] and ref in the_meetings(store, config)
