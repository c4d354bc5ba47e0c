"""Meeting listings from a broken or hostile server (a review of the listing spiders under attack):
real crawls through the real Scrapy engine against the loopback replay server, serving real
recordings, or recordings changed as a failing server changes them (labelled derived)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from calendar_answers import answer
from recorded import local
from statusjson import changes_json, status_json
from test_civicweb import DALLAS_ISD, LIST, served_documents
from test_feed_missing import GLWA, LAUSD
from test_legistar import shifted_ics
from test_legistar_calendar_periods import (
    NYC,
    NYC_STATE,
    PAGE_2,
    SESSION,
    YEAR_2019,
    serve_year,
    the_meetings,
    watch,
)
from test_listing_moved_out import FEED, detroit, held, meeting, moved_ics

from tracker.config import Config, load_config
from tracker.crawl import run_crawls
from tracker.demo.replay import Fault, ReplayServer
from tracker.report import SourceReport
from tracker.sources import SOURCES
from tracker.store import Store


def no_events(feed: bytes) -> bytes:
    """derived: the feed as a failing server sends it, its calendar holding no event at all."""
    return feed[:feed.index(b"BEGIN:VEVENT")] + b"END:VCALENDAR\r\n"


def test_an_empty_answer_forgets_no_meeting_so_a_later_move_is_still_told(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The board's feed answers once with no event at all (a failing server): the run says so and
    keeps what is stored, and the meetings it follows stay followed. So when the board then puts
    its 18 June meeting off to November, the next crawl tells the move (it forgot the meetings it
    held, and the meeting was only noted missing, untold)."""
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T12:00:00Z")
    replay.add(FEED, shifted_ics())
    config = detroit(tmp_path, replay)
    store = Store(config.database_url)
    (report,) = run_crawls(config, store)
    assert report.ok and changes_json(store) == [], report.errors
    followed = held(store, "ical:dpscd")
    assert "7858" in followed

    replay.add(FEED, no_events(shifted_ics()))
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T13:00:00Z")
    (report,) = run_crawls(config, store)
    assert any("returned no items" in line for line in report.errors), report.errors
    assert held(store, "ical:dpscd") == followed

    replay.add(FEED, moved_ics("7858", "20231119"))
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T14:00:00Z")
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    assert [(c["kind"], c["entity"]) for c in changes_json(store)] == [
        ("meeting.rescheduled", "meeting:ical:dpscd:7858")]
    assert not meeting(store, config, "meeting:ical:dpscd:7858")["missing"]


@pytest.mark.parametrize("kind", ["ical", "feed"])
def test_a_feed_cut_short_after_a_whole_meeting_notes_none_missing(
        kind: str, tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The server stops writing the feed after some whole event (RSS item) and ends the answer
    there, its length matching (a script that died, a cache that kept half). The half reads
    well: it was taken for the whole feed, every meeting after the cut noted missing (so no
    reminder of it went out) and no longer followed. Now the cut is one line, and nothing is noted
    missing; the meetings before the cut are read as ever."""
    feed, path, zone, now, end = ((GLWA, "/events/ical", "America/Detroit", "2018-06-20T16:00:00Z", b"END:VEVENT")
                                  if kind == "ical" else
                                  (LAUSD, "/site/RSS.aspx", "America/Los_Angeles", "2024-09-20T19:00:00Z", b"</item>"))
    replay.add(path, feed, content_type="text/calendar" if kind == "ical" else "application/rss+xml")
    config_path = tmp_path / "tracker.toml"
    config_path.write_text(f'[crawl]\ndelay_seconds = 0\n[[meetings]]\nid = "board"\nname = "Board"\n'
                           f'timezone = "{zone}"\n{kind} = "{replay.url}{path}"\n')
    config = load_config(config_path, env={})
    store = Store(config.database_url)
    monkeypatch.setenv("TRACKER_NOW", now)
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    before = status_json(store, config)["meetings"]
    assert not any(mt["missing"] for mt in before)

    cut = feed.index(end, len(feed) // 3) + len(end)  # a third in, after a whole entry
    replay.set_fault(path, Fault.short(cut))
    (report,) = run_crawls(config, store)
    assert len(report.errors) == 1 and "cut short" in report.errors[0], report.errors
    assert "board:" in report.errors[0] and path in report.errors[0]
    assert status_json(store, config)["meetings"] == before
    assert changes_json(store) == []


def test_a_listing_answering_304_to_a_request_without_validators_is_one_error(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """A server (or a cache before it) answers "304 Not Modified" to the watch's first request,
    which sent no validators: there is nothing stored to keep. The run said ok ("1 unchanged")
    and stored nothing, run after run, so the operator never learned the watch held no meeting.
    Now it is one error line; once the server answers, the feed is read."""
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T12:00:00Z")
    replay.add(FEED, b"", status=304)
    config = detroit(tmp_path, replay)
    store = Store(config.database_url)
    (report,) = run_crawls(config, store)
    (error,) = report.errors
    assert "304 Not Modified to a request that sent no validators" in error and FEED in error
    assert report.not_modified == 0 and status_json(store, config)["meetings"] == []

    replay.add(FEED, shifted_ics())
    (report,) = run_crawls(config, store)
    assert report.ok and report.items > 10, report.errors


def test_a_civicweb_documents_answer_of_304_to_a_request_without_validators_is_its_line(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Dallas ISD's list read for the first time; meeting 826's documents are answered "304 Not
    Modified" though nothing was asked conditionally. Its agenda went unread without a word, run
    after run (each a 304 to no validators); now it is the meeting's one line, the rest stored."""
    monkeypatch.setenv("TRACKER_NOW", "2026-04-20T12:00:00Z")
    replay.add(LIST, DALLAS_ISD, content_type="application/json")
    served_documents(replay)
    replay.add(f"{LIST}/826/meetingDocuments", b"", status=304)
    path = tmp_path / "tracker.toml"
    path.write_text('[crawl]\ndelay_seconds = 0\n[[meetings]]\nid = "disd"\nname = "Dallas ISD Board"\n'
                    f'timezone = "America/Chicago"\ncivicweb = "{replay.url}/Portal/MeetingSchedule.aspx"\n')
    config = load_config(path, env={})
    store = Store(config.database_url)
    (report,) = run_crawls(config, store)
    (error,) = report.errors
    assert "documents of meeting 826" in error and "304 Not Modified" in error
    assert report.not_modified == 0 and report.items > 10


def test_a_wider_answer_missing_the_windows_own_meetings_is_not_taken_as_whole(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Dallas ISD puts its 28 May hearing (826) off to 19 November. The window's list no longer
    shows it, so the site is asked for the wider span, and answers with an empty list (derived: a
    service refusing so long a span so). That answer cannot be whole: the wider span holds the
    window, whose meetings it lacks. It was taken as whole: 826 was found nowhere, held no more,
    and its move never told. Now it is one warning, 826 stays held, and the next run, the wider
    span answered, tells the move."""
    monkeypatch.setenv("TRACKER_NOW", "2026-04-20T12:00:00Z")
    replay.add(LIST, DALLAS_ISD, content_type="application/json")
    served_documents(replay)
    path = tmp_path / "tracker.toml"
    path.write_text('[crawl]\ndelay_seconds = 0\n[[meetings]]\nid = "disd"\nname = "Dallas ISD Board"\n'
                    f'timezone = "America/Chicago"\ncivicweb = "{replay.url}/Portal/MeetingSchedule.aspx"\n')
    config = load_config(path, env={})
    store = Store(config.database_url)
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    rows = json.loads(DALLAS_ISD)
    window = [row for row in rows if row["Id"] != 826]
    wide = [dict(row, MeetingDateTime="2026-11-19 17:30", MeetingDate="2026-11-19") if row["Id"] == 826 else row
            for row in rows]
    replay.add(LIST, json.dumps(window).encode(), query={"from": "2026-03-21"}, content_type="application/json")
    replay.add(LIST, b"[]", query={"from": "2025-03-21"}, content_type="application/json")
    monkeypatch.setenv("TRACKER_NOW", "2026-04-20T13:00:00Z")
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    (warning,) = report.warnings
    assert "meetings moved out of the window" in warning and "lacks" in warning, warning
    assert held(store, "civicweb:disd")["826"] == "2026-05-28" and changes_json(store) == []

    replay.add(LIST, json.dumps(wide).encode(), query={"from": "2025-03-21"}, content_type="application/json")
    monkeypatch.setenv("TRACKER_NOW", "2026-04-20T14:00:00Z")
    (report,) = run_crawls(config, store)
    assert report.ok and report.warnings == [], (report.errors, report.warnings)
    assert [(c["kind"], c["entity"]) for c in changes_json(store)] == [
        ("meeting.rescheduled", "meeting:civicweb:disd:826")]


# -- Legistar's web calendar -----------------------------------------------------------------------

COMBO = b"$create(Telerik.Web.UI.RadComboBox, {"


def test_a_calendar_page_whose_script_nests_past_pythons_limit_is_read(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """NYC's calendar page with its date range list's script holding a value nested 100,000 deep
    (derived: the page's text is the client's, and anyone's who can write into it). Reading the
    list's values raised in the callback: not one meeting of the calendar was read, and the run's
    line named no page. The values are then unknown (each period posted in its own words, as for
    a page whose script gives none) and the calendar is read as ever."""
    monkeypatch.setenv("TRACKER_NOW", "2019-01-03T18:00:00Z")
    serve_year(replay)
    at = NYC.index(COMBO, NYC.index(b'"clientStateFieldID":"ctl00_ContentPlaceHolder1_lstYears_ClientState"') - 3000)
    at += len(COMBO)
    replay.add("/Calendar.aspx", NYC[:at] + b'"x":' + b"[" * 100_000 + b"]" * 100_000 + b"," + NYC[at:],
               content_type="text/html", headers=SESSION)
    config = watch(tmp_path, replay)
    store = Store(config.database_url)
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    assert len([r for r in replay.requests if r.method == "POST"]) == 3  # 2018, 2019 and 2019's second page
    assert len(the_meetings(store, config)) == 40


@pytest.mark.parametrize("form", [b'method="post" enctype="multipart/form-data" action="https://nyc.legistar.com/Calendar.aspx"',
                                  b'method="post" action="https://[nyc.legistar.com/Calendar.aspx"'],
                         ids=["multipart", "bad action"])
def test_a_calendar_form_that_cannot_be_posted_back_is_its_line_and_notes_nothing_missing(
        form: bytes, tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The page's form says it posts as multipart/form-data, or names an action that is no address
    (derived). Building the postback raised in the callback: the run's only line was "1 responses
    could not be processed", naming neither the page nor why. Now each period not asked for is
    one line saying why; the page's own meetings are stored, none is noted missing."""
    monkeypatch.setenv("TRACKER_NOW", "2019-01-03T18:00:00Z")
    serve_year(replay)
    config = watch(tmp_path, replay)
    store = Store(config.database_url)
    assert run_crawls(config, store)[0].ok
    page = NYC.replace(b'method="post" action="https://nyc.legistar.com/Calendar.aspx"', form)
    assert page != NYC
    replay.add("/Calendar.aspx", page, content_type="text/html", headers=SESSION)
    (report,) = run_crawls(config, store)
    assert sorted(line.split(": listing: ")[1][:4] for line in report.errors) == ["2018", "2019"], report.errors
    assert all("the page's form cannot be posted back" in line and "/Calendar.aspx" in line for line in report.errors)
    meetings = the_meetings(store, config)
    assert len(meetings) == 40 and not any(mt["missing"] for mt in meetings.values())


def test_a_calendar_pager_that_does_not_move_on_is_read_once(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """2019's first page says a second follows, and the calendar answers the post for it with the
    first page again, every time (derived). The spider posted for 40 pages of the same rows, a
    whole calendar page each, every run, then said there were "more than 40 pages". Now the
    repeat is seen at once: one line saying so, nothing noted missing."""
    monkeypatch.setenv("TRACKER_NOW", "2019-01-03T18:00:00Z")
    serve_year(replay)
    config = watch(tmp_path, replay)
    store = Store(config.database_url)
    assert run_crawls(config, store)[0].ok
    first = answer(NYC, "2019", "year-2019-page-1", slice(0, 20), (1, 2))
    replay.add("/Calendar.aspx", first, content_type="text/html", form=PAGE_2)
    replay.clear_log()
    (report,) = run_crawls(config, store)
    (error,) = report.errors
    assert "2019, page 2: answered with the rows of an earlier page" in error, error
    assert len([r for r in replay.requests if r.method == "POST"]) == 3  # 2018, 2019, its "second" page
    assert not any(mt["missing"] for mt in the_meetings(store, config).values())


def test_bodies_added_while_a_period_failed_bring_their_later_meetings_in_as_a_baseline(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The watch follows the Finance committee, then the Zoning subcommittee too: its meetings
    are a baseline, not one "scheduled" alert each. In that run the calendar's answer for 2019
    fails (HTTP 500), so only the page's own rows are read; the cursor recorded the new choice of
    bodies all the same, and the next run, reading 2019, told each of Zoning's other meetings as
    news. The choice is recorded only once every answer was read."""
    monkeypatch.setenv("TRACKER_NOW", "2019-01-03T18:00:00Z")
    page = answer(NYC, "This Month", NYC_STATE, slice(0, 5))  # the year's pages hold the rest

    def crawl(bodies: list[str]) -> SourceReport:
        path = tmp_path / "tracker.toml"
        path.write_text('[crawl]\ndelay_seconds = 0\nretries = 0\n[[meetings]]\nid = "council"\n'
                        'name = "New York City Council"\ntimezone = "America/New_York"\n'
                        f'legistar_calendar = "{replay.url}/Calendar.aspx"\nbodies = {json.dumps(bodies)}\n')
        config = load_config(path, env={})
        (report,) = run_crawls(config, stores.setdefault("store", Store(config.database_url)))
        return report

    serve_year(replay)
    replay.add("/Calendar.aspx", page, content_type="text/html", headers=SESSION)
    stores: dict[str, Store] = {}
    assert crawl(["Committee on Finance"]).ok
    both = ["Committee on Finance", "Subcommittee on Zoning and Franchises"]
    replay.add("/Calendar.aspx", b"", status=500, form=YEAR_2019)
    report = crawl(both)
    assert any("2019, page 1): HTTP 500" in line for line in report.errors), report.errors
    serve_year(replay)
    replay.add("/Calendar.aspx", page, content_type="text/html", headers=SESSION)
    report = crawl(both)
    assert report.ok, report.errors
    assert changes_json(stores["store"]) == []


def test_a_period_answered_with_an_empty_grid_notes_none_of_its_meetings_missing(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The page shows January's first meetings; the calendar answers the choice of 2019 with the
    right period and an empty grid ("No records to display", derived), though the page itself
    shows meetings of 2019. The answer was taken as the whole year: 35 meetings noted missing, no
    reminder of any of them sent, the run ok. Now an answer lacking meetings another answer showed
    on its days is not taken as its period: a warning, nothing noted missing by it."""
    monkeypatch.setenv("TRACKER_NOW", "2019-01-03T18:00:00Z")
    serve_year(replay)
    replay.add("/Calendar.aspx", answer(NYC, "This Month", NYC_STATE, slice(0, 5)), content_type="text/html",
               headers=SESSION)
    config = watch(tmp_path, replay)
    store = Store(config.database_url)
    assert run_crawls(config, store)[0].ok
    replay.add("/Calendar.aspx", answer(NYC, "2019", "empty"), content_type="text/html", form=YEAR_2019)
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    (warning,) = report.warnings
    assert "answer for '2019' lacks 5 meeting(s) another of its answers showed" in warning, warning
    meetings = the_meetings(store, config)
    assert len(meetings) == 40 and not any(mt["missing"] for mt in meetings.values())


# -- politeness a host cannot be given --------------------------------------------------------------

@pytest.mark.timeout(90)
def test_a_robots_crawl_delay_longer_than_any_wait_allowed_is_one_line_not_a_hung_run(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The board's host asks in robots.txt for an hour between requests (sites write such delays to
    keep crawlers off). The feed's request waited that hour after the robots.txt request, and the
    whole run with it: every other source, the alerts and the digest. A delay longer than
    `[crawl] max_retry_after_seconds` (the longest wait a host may ask) is one line saying so; the
    host is not asked."""
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T12:00:00Z")
    replay.robots("User-agent: *\nCrawl-delay: 3600\n")
    replay.add(FEED, shifted_ics())
    config = detroit(tmp_path, replay)
    store = Store(config.database_url)
    (report,) = run_crawls(config, store)
    (error,) = report.errors
    assert "robots.txt asks 3600 s between requests" in error and "max_retry_after_seconds (300 s)" in error, error
    assert [r.path for r in replay.requests] == ["/robots.txt"]


# -- CivicClerk's pages ----------------------------------------------------------------------------

BRISTOL = [local(f"corpus/civicclerk/bristolct_events_{n}.json") for n in (1, 2)]
EVENTS = "/v1/Events"


def bristol(tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch,
            second: bytes | None = None) -> tuple[Config, Store]:
    """Bristol's council events in two pages (real), the first page's `@odata.nextLink` pointing at
    the loopback server (derived: it names the city's API host); `second`: another second page."""
    monkeypatch.setenv("TRACKER_NOW", "2026-10-01T12:00:00Z")  # the window: September 1 to January 29
    replay.add(EVENTS, BRISTOL[0].replace(b"https://bristolct.api.civicclerk.com", replay.url.encode()),
               content_type="application/json")
    replay.add(EVENTS, second or BRISTOL[1], query={"$skiptoken": "page2"}, content_type="application/json")
    path = tmp_path / "tracker.toml"
    path.write_text('[crawl]\ndelay_seconds = 0\n[[meetings]]\nid = "council"\nname = "Bristol City Council"\n'
                    f'timezone = "America/New_York"\ncivicclerk = "{replay.url}{EVENTS}"\n')
    config = load_config(path, env={})
    return config, Store(config.database_url)


def test_every_page_of_a_civicclerk_event_list_is_read(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """CivicClerk's API answers a page of events and the address of the next (`@odata.nextLink`,
    OData's server-driven paging). Only the first page was read, and taken as the whole listing:
    Bristol's meetings from mid-October on were never stored, never told, and any stored before
    would have been noted missing. Now each next page is asked for and read."""
    config, store = bristol(tmp_path, replay, monkeypatch)
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    days = sorted(mt["date"] for mt in status_json(store, config)["meetings"])
    assert days == ["2026-09-01", "2026-09-03", "2026-09-08", "2026-09-22", "2026-10-06", "2026-10-06",
                    "2026-10-13", "2026-11-03", "2026-11-10", "2026-12-01", "2026-12-08", "2027-01-05"]
    assert [r.query.get("$skiptoken") for r in replay.requests if r.path == EVENTS] == [None, "page2"]


def test_a_civicclerk_next_page_that_points_back_is_not_asked_for_ever(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The second page is the first again, its next page the second (derived: a server ignoring
    the skip token). It is read once, one line says the pages loop, nothing is noted missing."""
    config, store = bristol(tmp_path, replay, monkeypatch)
    assert run_crawls(config, store)[0].ok
    replay.add(EVENTS, BRISTOL[0].replace(b"https://bristolct.api.civicclerk.com", replay.url.encode()),
               query={"$skiptoken": "page2"}, content_type="application/json")
    replay.clear_log()
    (report,) = run_crawls(config, store)
    (error,) = report.errors
    assert "next page" in error and "already" in error, error
    assert len([r for r in replay.requests if r.path == EVENTS]) == 2
    assert not any(mt["missing"] for mt in status_json(store, config)["meetings"])


@pytest.mark.parametrize(("host", "said"), [(b"https://bristolct.api.civicclerk.com", "(https://bristolct.api.civicclerk.com/"),
                                            (b"https://[bristolct", "(https://[bristolct/v1/Events")],
                         ids=["another host", "no address"])
def test_a_civicclerk_next_page_on_another_host_is_one_line_and_notes_nothing_missing(
        host: bytes, said: str, tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Bristol's first page as recorded: its next page is on the city's API host, not the one the
    watch names (here the loopback server), or (derived) on none. It is not followed: one line, and
    since the listing is not whole, none of the meetings read before (from both pages) is noted
    missing or forgotten."""
    config, store = bristol(tmp_path, replay, monkeypatch)
    assert run_crawls(config, store)[0].ok
    followed = held(store, "civicclerk:council")
    replay.add(EVENTS, BRISTOL[0].replace(b"https://bristolct.api.civicclerk.com", host), content_type="application/json")
    (report,) = run_crawls(config, store)
    (error,) = report.errors
    assert "next page is on another host " + said in error, error
    assert not any(mt["missing"] for mt in status_json(store, config)["meetings"])
    assert held(store, "civicclerk:council") == followed


def test_civicweb_documents_that_failed_in_a_parser_upgrade_are_read_afresh_next_run(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CivicWeb parser is upgraded; in the upgrade's run meeting 826's documents answer fails
    (HTTP 500), so it is stored with the documents the old parser read. The next run asked for them
    conditionally with the old reading's validators: a 304, and the old reading was carried on,
    labelled with the new parser, until the district changed its documents. Now a documents answer
    that failed in a whole read is asked for whole again next run."""
    current = SOURCES["civicweb"]
    monkeypatch.setitem(SOURCES, "civicweb", replace(current, parser_version="civicweb-old"))
    monkeypatch.setenv("TRACKER_NOW", "2026-04-20T12:00:00Z")
    replay.add(LIST, DALLAS_ISD, content_type="application/json")
    served_documents(replay)
    path = tmp_path / "tracker.toml"
    path.write_text('[crawl]\ndelay_seconds = 0\nretries = 0\n[[meetings]]\nid = "disd"\nname = "Dallas ISD Board"\n'
                    f'timezone = "America/Chicago"\ncivicweb = "{replay.url}/Portal/MeetingSchedule.aspx"\n')
    config = load_config(path, env={})
    store = Store(config.database_url)
    assert run_crawls(config, store)[0].ok

    monkeypatch.setitem(SOURCES, "civicweb", current)  # the upgrade
    documents = f"{LIST}/826/meetingDocuments"
    replay.set_fault(documents, Fault.status(500))
    monkeypatch.setenv("TRACKER_NOW", "2026-04-20T13:00:00Z")
    (report,) = run_crawls(config, store)
    assert any("documents of meeting 826" in line for line in report.errors), report.errors

    replay.set_fault(documents, None)
    monkeypatch.setenv("TRACKER_NOW", "2026-04-20T14:00:00Z")
    replay.clear_log()
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    assert [r.status for r in replay.requests if r.path == documents] == [200]


def test_a_civicclerk_body_added_while_a_page_failed_brings_its_later_meetings_in_as_a_baseline(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The watch follows Bristol's City Council, then the Ordinance Committee too: a baseline. In
    that run the second page fails (HTTP 500); the next run reads it, and the committee's meetings
    on it are a baseline still, not one "scheduled" alert each."""
    _, store = bristol(tmp_path, replay, monkeypatch)
    path = tmp_path / "tracker.toml"

    def crawl(bodies: list[str]) -> SourceReport:
        path.write_text(path.read_text().split("bodies = ")[0].rstrip("\n") + f"\nbodies = {json.dumps(bodies)}\n")
        (report,) = run_crawls(load_config(path, env={}), store)
        return report

    assert crawl(["City Council"]).ok
    replay.set_fault(EVENTS, Fault.status(500), query={"$skiptoken": "page2"})
    report = crawl(["City Council", "Ordinance Committee"])
    assert any("HTTP 500" in line for line in report.errors), report.errors
    replay.set_fault(EVENTS, None, query={"$skiptoken": "page2"})
    report = crawl(["City Council", "Ordinance Committee"])
    assert report.ok, report.errors
    assert changes_json(store) == []
