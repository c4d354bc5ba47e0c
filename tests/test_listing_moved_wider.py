"""A meeting put off past the window on a site asked for the window's dates only (IQM2, CivicPlus,
CivicWeb): the site is asked once more for a wider span; a failure there (404, 500, a timeout, an
answer over the size cap) is one warning and the next run looks again; a CivicWeb meeting keeps its
documents; a moved meeting whose store failed is looked for again; a deleted one is asked for once;
CivicPlus's addresses. Real crawls through the loopback replay server (found by a review)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from statusjson import changes_json
from test_listing_moved_out import ATLANTA, CALENDAR, atlanta_row, held

from spiders.listing import MOVED_AHEAD, MOVED_BACK
from tracker.config import Config, load_config
from tracker.crawl import run_crawls
from tracker.demo.replay import Fault, ReplayServer
from tracker.meetings.iqm2 import calendar_url
from tracker.sources import FUTURE_DAYS, PAST_DAYS
from tracker.store import Store

WINDOW = {"From": "3/2/2026"}
WIDE = {"From": "2/24/2025"}


def atlanta(tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch, extra: str = "") -> tuple[Config, Store]:
    monkeypatch.setenv("TRACKER_NOW", "2026-04-01T12:00:00Z")
    replay.add(CALENDAR, ATLANTA, content_type="text/html")
    path = tmp_path / "tracker.toml"
    path.write_text(f'[crawl]\ndelay_seconds = 0\n{extra}[[meetings]]\nid = "atl"\nname = "Atlanta City Council"\n'
                    f'timezone = "America/New_York"\niqm2 = "{replay.url}/Citizens/default.aspx"\n')
    config = load_config(path, env={})
    store = Store(config.database_url)
    (report,) = run_crawls(config, store)
    assert report.ok and changes_json(store) == [], report.errors
    start, end = atlanta_row(ATLANTA, "4392")
    replay.add(CALENDAR, ATLANTA[:start] + ATLANTA[end:], query=WINDOW, content_type="text/html")
    return config, store


def addresses(replay: ReplayServer, now: str) -> tuple[str, str]:
    """The From of Atlanta's window address and of its wider span's on that day, as the spider asks them
    (IQM2's addresses cover whole weeks)."""
    day = datetime.fromisoformat(now).date()
    start, end = day - timedelta(days=PAST_DAYS), day + timedelta(days=FUTURE_DAYS)
    return tuple(parse_qs(urlsplit(calendar_url(replay.url, first, last)).query)["From"][0]  # type: ignore[return-value]
                 for first, last in ((start, end), (start - MOVED_BACK, end + MOVED_AHEAD)))


def moved_page() -> bytes:
    start, end = atlanta_row(ATLANTA, "4392")
    row = ATLANTA[start:end].replace(b"APRIL 20, 2026", b"SEPTEMBER 21, 2026").replace(b"Apr 20, 2026", b"Sep 21, 2026")
    return ATLANTA[:start] + row + ATLANTA[end:]


def wide_failed(config: Config, store: Store, monkeypatch: pytest.MonkeyPatch, said: str) -> None:
    """One run: the run stays ok, one warning line naming the failure, no error, the meeting held still."""
    monkeypatch.setenv("TRACKER_NOW", "2026-04-01T13:00:00Z")
    (report,) = run_crawls(config, store)
    assert report.ok and report.errors == [], report.errors
    (warning,) = report.warnings
    assert warning.startswith("iqm2:atl: meetings moved out of the window: ") and said in warning, warning
    assert held(store, "iqm2:atl")["4392"] == "2026-04-20" and changes_json(store) == []


@pytest.mark.parametrize(("fault", "said"), [(Fault.status(404), "HTTP 404"), (Fault.status(500), "HTTP 500")],
                         ids=["404", "500"])
def test_a_failed_wider_request_is_one_warning(tmp_path: Path, replay: ReplayServer,
                                               monkeypatch: pytest.MonkeyPatch, fault: Fault, said: str) -> None:
    config, store = atlanta(tmp_path, replay, monkeypatch)
    replay.add(CALENDAR, moved_page(), query=WIDE, content_type="text/html", fault=fault)
    wide_failed(config, store, monkeypatch, said)


def test_a_wider_answer_over_the_cap_is_one_warning(tmp_path: Path, replay: ReplayServer,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    config, store = atlanta(tmp_path, replay, monkeypatch, extra="max_bytes = 600000\n")
    replay.add(CALENDAR, moved_page() + b"<!--" + b"x" * 400000 + b"-->", query=WIDE, content_type="text/html")
    wide_failed(config, store, monkeypatch, "larger than the download size cap (780,579 bytes; [crawl] max_bytes is 600,000 bytes)")


def test_a_wider_request_timing_out_is_one_warning(tmp_path: Path, replay: ReplayServer,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    config, store = atlanta(tmp_path, replay, monkeypatch, extra="timeout_seconds = 1\nretries = 0\n")
    replay.add(CALENDAR, moved_page(), query=WIDE, content_type="text/html", fault=Fault.delay(3))
    wide_failed(config, store, monkeypatch, "timed out")


def test_a_civicweb_meeting_moved_out_keeps_its_documents(tmp_path: Path, replay: ReplayServer,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Dallas ISD's 28 May hearing (826, its agenda stored) is put off to 19 November: the list is
    asked once more for the wider span, the move told once, the agenda kept (`moved_item`'s carry)."""
    import json as _json

    from statusjson import status_json
    from test_civicweb import DALLAS_ISD, LIST, served_documents
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
    agenda = {mt["entity"]: mt for mt in status_json(store, config)["meetings"]}["meeting:civicweb:disd:826"]["agenda_url"]
    assert agenda
    rows = _json.loads(DALLAS_ISD)
    window = [r for r in rows if r["Id"] != 826]
    wide = [dict(r, MeetingDateTime="2026-11-19 17:30", MeetingDate="2026-11-19") if r["Id"] == 826 else r for r in rows]
    replay.add(LIST, _json.dumps(window).encode(), query={"from": "2026-03-21"}, content_type="application/json")
    replay.add(LIST, _json.dumps(wide).encode(), query={"from": "2025-03-21"}, content_type="application/json")
    replay.clear_log()
    monkeypatch.setenv("TRACKER_NOW", "2026-04-20T13:00:00Z")
    (report,) = run_crawls(config, store)
    assert report.ok and report.warnings == [], (report.errors, report.warnings)
    assert [(r.query.get("from"), r.query.get("to")) for r in replay.requests if r.path == LIST] == [
        ("2026-03-21", "2026-08-18"), ("2025-03-21", "2028-08-17")]
    (change,) = changes_json(store)
    assert (change["kind"], change["entity"], change["data"]["to"]) == (
        "meeting.rescheduled", "meeting:civicweb:disd:826", "2026-11-19T17:30:00-06:00")
    after = {mt["entity"]: mt for mt in status_json(store, config)["meetings"]}["meeting:civicweb:disd:826"]
    assert after["agenda_url"] == agenda and held(store, "civicweb:disd")["826"] == "2026-11-19"
    replay.clear_log()
    monkeypatch.setenv("TRACKER_NOW", "2026-04-20T14:00:00Z")
    (report,) = run_crawls(config, store)
    assert report.ok and [r.query.get("from") for r in replay.requests if r.path == LIST] == ["2026-03-21"]
    assert changes_json(store) == [change]


def test_a_wider_request_that_failed_is_asked_again_next_run(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The committee on council's 20 April meeting (4392) is put off to 21 September; the wider
    span's answer fails once (404). Next run the window's calendar is read whole (it used to answer
    304, unchanged, so the wider span was never asked and the move not told until the window's
    address changed), the wider span is asked, and the move told."""
    config, store = atlanta(tmp_path, replay, monkeypatch)
    replay.add(CALENDAR, moved_page(), query=WIDE, content_type="text/html", fault=Fault.status(404))
    replay.clear_log()
    monkeypatch.setenv("TRACKER_NOW", "2026-04-01T13:00:00Z")
    (report,) = run_crawls(config, store)
    assert report.ok and len(report.warnings) == 1 and "HTTP 404" in report.warnings[0]
    assert held(store, "iqm2:atl")["4392"] == "2026-04-20" and changes_json(store) == []

    replay.set_fault(CALENDAR, None, query=WIDE)  # the site answers again
    replay.clear_log()
    monkeypatch.setenv("TRACKER_NOW", "2026-04-01T14:00:00Z")
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    asked = [(r.query.get("From"), r.status) for r in replay.requests if r.path == CALENDAR]
    assert ("2/24/2025", 200) in asked, asked
    (change,) = changes_json(store)
    assert (change["kind"], change["data"]["to"]) == ("meeting.rescheduled", "2026-09-21T11:30:00-04:00")


def test_a_moved_meeting_whose_store_failed_is_looked_for_again(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """An item sent from the wider answer and not stored (`closed`: unsaved) is looked for again next
    run (the calendar read whole, the wider span asked), told once, then asked no more."""
    from test_listing_cursor_faults import refuse_snapshots
    config, store = atlanta(tmp_path, replay, monkeypatch)
    replay.add(CALENDAR, moved_page(), query=WIDE, content_type="text/html")
    refuse_snapshots(store, "2026-09-21")
    monkeypatch.setenv("TRACKER_NOW", "2026-04-01T13:00:00Z")
    (report,) = run_crawls(config, store)
    assert not report.ok and held(store, "iqm2:atl")["4392"] == "2026-04-20" and changes_json(store) == []
    refuse_snapshots(store, None)
    asked = []
    for hour in (14, 15):
        replay.clear_log()
        monkeypatch.setenv("TRACKER_NOW", f"2026-04-01T{hour}:00:00Z")
        (report,) = run_crawls(config, store)
        assert report.ok, report.errors
        asked.append([(r.query.get("From"), r.status) for r in replay.requests if r.path == CALENDAR])
    assert asked == [[("3/2/2026", 200), ("2/24/2025", 200)], [("3/2/2026", 304)]]
    (change,) = changes_json(store)
    assert change["data"]["to"] == "2026-09-21T11:30:00-04:00" and held(store, "iqm2:atl")["4392"] == "2026-09-21"


def test_a_deleted_meeting_is_asked_for_once_then_forgotten(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    config, store = atlanta(tmp_path, replay, monkeypatch)
    start, end = atlanta_row(ATLANTA, "4392")
    replay.add(CALENDAR, ATLANTA[:start] + ATLANTA[end:], query=WIDE, content_type="text/html")
    asked = []
    for hour in (13, 14):
        replay.clear_log()
        monkeypatch.setenv("TRACKER_NOW", f"2026-04-01T{hour}:00:00Z")
        (report,) = run_crawls(config, store)
        assert report.ok and report.warnings == [], (report.errors, report.warnings)
        asked.append([(r.query.get("From"), r.status) for r in replay.requests if r.path == CALENDAR])
    assert asked == [[("3/2/2026", 200), ("2/24/2025", 200)], [("3/2/2026", 304)]]
    assert "4392" not in held(store, "iqm2:atl") and changes_json(store) == []
    replay.replace(CALENDAR, ATLANTA[:start] + ATLANTA[end:] + b"\n", query=WINDOW)  # the calendar changes
    replay.clear_log()
    monkeypatch.setenv("TRACKER_NOW", "2026-04-01T15:00:00Z")
    (report,) = run_crawls(config, store)
    assert report.ok and [r.query.get("From") for r in replay.requests if r.path == CALENDAR] == ["3/2/2026"]


CP = Path(__file__).parent / "data" / "local" / "corpus" / "civicplus" / "columbuswi_agendacenter_search.html"


@pytest.mark.parametrize(("address", "asked"), [
    ("/AgendaCenter", [("08/31/2020", "all"), ("09/02/2019", "all")]),
    ("/AgendaCenter/Search/?term=&CIDs=15", [("08/31/2020", "15"), ("09/02/2019", "15")]),
    ("/AgendaCenter/Search/?term=&CIDs=all&startDate=01/01/2020&endDate=12/31/2021", [("01/01/2020", "all")]),
], ids=["home", "search", "dated"])
def test_civicplus_addresses_and_a_missing_meeting(tmp_path: Path, replay: ReplayServer,
                                                   monkeypatch: pytest.MonkeyPatch, address: str,
                                                   asked: list[tuple[str, str]]) -> None:
    """The AgendaCenter home or an undated search: the window's search, then the wider one when a
    held meeting (1621) is missing; a search that names its dates: fetched as given, its one answer
    read again (nothing more asked); the deleted meeting is held no more."""
    import re as _re
    page = CP.read_bytes()
    monkeypatch.setenv("TRACKER_NOW", "2020-10-01T12:00:00Z")
    replay.add("/AgendaCenter/Search/", page, content_type="text/html")
    path = tmp_path / "tracker.toml"
    path.write_text('[crawl]\ndelay_seconds = 0\n[[meetings]]\nid = "cw"\nname = "Columbus"\n'
                    f'timezone = "America/Chicago"\ncivicplus = "{replay.url}{address}"\n')
    config = load_config(path, env={})
    store = Store(config.database_url)
    (report,) = run_crawls(config, store)
    assert report.ok and report.items == 7, report.errors
    assert [(r.query.get("startDate"), r.query.get("CIDs")) for r in replay.requests if r.path == "/AgendaCenter/Search/"] == asked[:1]
    replay.replace("/AgendaCenter/Search/", _re.sub(rb"(?<=\D)1621(?=\D)", b"9621", page))
    replay.clear_log()
    monkeypatch.setenv("TRACKER_NOW", "2020-10-01T13:00:00Z")
    (report,) = run_crawls(config, store)
    assert report.ok and report.warnings == [], (report.errors, report.warnings)
    assert [(r.query.get("startDate"), r.query.get("CIDs")) for r in replay.requests if r.path == "/AgendaCenter/Search/"] == asked
    assert "1621" not in held(store, "civicplus:cw")


def test_a_wider_span_that_keeps_failing_is_looked_for_a_week_then_given_up(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The wider span answers 500 day after day (a site refusing so many dates): the meeting is
    looked for again each run for a week, a warning each time; then one warning says it is left
    noted missing, and the next run reads the window's calendar conditionally (a 304), quietly.
    It used to cost a whole read and a warning every run until its day left the window."""
    config, store = atlanta(tmp_path, replay, monkeypatch, extra="retries = 0\n")
    start, end = atlanta_row(ATLANTA, "4392")
    days = ["2026-04-01T13:00:00Z", "2026-04-05T13:00:00Z", "2026-04-07T13:00:00Z",
            "2026-04-08T13:00:00Z", "2026-04-09T13:00:00Z"]
    for now in days:
        window, wide = addresses(replay, now)
        replay.add(CALENDAR, ATLANTA[:start] + ATLANTA[end:], query={"From": window}, content_type="text/html")
        replay.add(CALENDAR, moved_page(), query={"From": wide}, content_type="text/html", fault=Fault.status(500))
    runs = []
    for now in days:
        replay.clear_log()
        monkeypatch.setenv("TRACKER_NOW", now)
        (report,) = run_crawls(config, store)
        assert report.ok and report.errors == [], report.errors
        runs.append(([(r.query.get("From"), r.status) for r in replay.requests if r.path == CALENDAR],
                     report.warnings, "4392" in held(store, "iqm2:atl")))
    for now, (asked, warnings, held_on) in zip(days[:3], runs[:3], strict=True):  # looked for again, each run
        window, wide = addresses(replay, now)
        assert asked == [(window, 200), (wide, 500)] and held_on, (now, asked)
        (warning,) = warnings
        assert "HTTP 500" in warning and "no longer looked for" not in warning, warning
    asked, warnings, held_on = runs[3]  # a week after the first failure
    assert asked == [(addresses(replay, days[3])[0], 200), (addresses(replay, days[3])[1], 500)] and not held_on
    (warning,) = warnings
    assert "HTTP 500; 1 meeting(s) looked for since 2026-04-01 are left noted missing and no longer looked for" in warning
    asked, warnings, held_on = runs[4]
    assert asked == [(addresses(replay, days[4])[0], 304)] and warnings == [] and not held_on
    assert [c for c in changes_json(store) if c["entity"].endswith(":4392")] == []  # others entered the window


def test_a_meeting_back_in_the_window_is_looked_for_a_full_week_when_it_goes_missing_again(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The wider span fails on 1 April (the meeting looked for since then); on 9 April the meeting
    is back in the window's listing. On 16 April it is missing again and the wider span fails
    again: a new search, looked for a week from that day. Its `sought` day of 1 April used to stay
    in the cursor once it was back, so the new search was given up at its first failure (the
    meeting held no more, never looked for)."""
    config, store = atlanta(tmp_path, replay, monkeypatch, extra="retries = 0\n")
    start, end = atlanta_row(ATLANTA, "4392")
    days = {"2026-04-01T13:00:00Z": False, "2026-04-09T13:00:00Z": True, "2026-04-16T13:00:00Z": False}
    for now, shown in days.items():
        window, wide = addresses(replay, now)
        replay.add(CALENDAR, ATLANTA if shown else ATLANTA[:start] + ATLANTA[end:], query={"From": window},
                   content_type="text/html")
        replay.add(CALENDAR, moved_page(), query={"From": wide}, content_type="text/html", fault=Fault.status(500))
    for now in days:
        monkeypatch.setenv("TRACKER_NOW", now)
        (report,) = run_crawls(config, store)
        assert report.ok and report.errors == [], report.errors
        assert "4392" in held(store, "iqm2:atl"), now
    (warning,) = report.warnings
    assert "HTTP 500" in warning and "no longer looked for" not in warning, warning


def test_a_failed_read_of_the_window_keeps_the_meeting_looked_for(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The wider span fails (the meeting looked for again next run: `unsaved` makes that run read
    the window whole); that next run's window request itself fails (500). The run after used to ask
    conditionally (its `unsaved` dropped at the start of the failed run), got a 304 and looked for
    the meeting no more, though still held and within its week."""
    config, store = atlanta(tmp_path, replay, monkeypatch, extra="retries = 0\n")
    replay.add(CALENDAR, moved_page(), query=WIDE, content_type="text/html", fault=Fault.status(500))
    start, end = atlanta_row(ATLANTA, "4392")
    monkeypatch.setenv("TRACKER_NOW", "2026-04-01T13:00:00Z")
    (report,) = run_crawls(config, store)
    assert report.ok and len(report.warnings) == 1, report.warnings
    replay.add(CALENDAR, ATLANTA[:start] + ATLANTA[end:], query=WINDOW, content_type="text/html", fault=Fault.status(500))
    monkeypatch.setenv("TRACKER_NOW", "2026-04-01T14:00:00Z")
    (report,) = run_crawls(config, store)
    assert not report.ok
    replay.add(CALENDAR, ATLANTA[:start] + ATLANTA[end:], query=WINDOW, content_type="text/html")
    replay.clear_log()
    monkeypatch.setenv("TRACKER_NOW", "2026-04-01T15:00:00Z")
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    asked = [(r.query.get("From"), r.status) for r in replay.requests if r.path == CALENDAR]
    assert asked == [(WINDOW["From"], 200), (WIDE["From"], 500)], asked
    assert "4392" in held(store, "iqm2:atl")
