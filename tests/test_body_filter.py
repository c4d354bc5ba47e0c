"""A meeting watch's `bodies`: of a site listing every body of a city (IQM2, PrimeGov...), only the
meetings of the bodies organizers follow are stored, alerted and shown; what another choice of
bodies brings in is a baseline (no alert storm), and meetings of a body no longer followed leave the
watch unalerted, their changes kept."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from servers import Receiver
from statusjson import changes_json, status_json

from tracker.alerts.notifier import notify
from tracker.cli import main
from tracker.config import load_config
from tracker.crawl import run_crawls
from tracker.demo.replay import ReplayServer
from tracker.outbox import close_bundles
from tracker.store import Store

CORPUS = Path(__file__).parent / "data" / "local" / "corpus"
ATLANTA = (CORPUS / "iqm2" / "atlanta_calendar_list.html").read_bytes()
CALENDAR = "/Citizens/Calendar.aspx"
ZONING, PUBLIC_SAFETY = "4265", "4319"  # Atlanta's committees, both meeting on 27 April 2026
COUNCIL, COMMITTEE_ON_COUNCIL = "4258", "4392"  # the council on 20 April, a committee that day
LA_COUNCIL = (CORPUS / "primegov" / "lacity_council_meetings.json").read_bytes()


def atlanta_config(path: Path, url: str, bodies: str | None, extra: str = "") -> Path:
    path.write_text('[crawl]\ndelay_seconds = 0\n[[meetings]]\nid = "atl"\nname = "Atlanta City Council"\n'
                    f'timezone = "America/New_York"\niqm2 = "{url}/Citizens/default.aspx"\n'
                    + (f"bodies = {bodies}\n" if bodies is not None else "") + extra)
    return path


def bodies_shown(store: Store, config_path: Path) -> dict[str, int]:
    shown: dict[str, int] = {}
    for meeting in status_json(store, load_config(config_path, env={}))["meetings"]:
        shown[meeting["body"]] = shown.get(meeting["body"], 0) + 1
    return shown


def cancelled(page: bytes, meeting_id: str) -> bytes:
    """derived: the recorded calendar with one meeting's tooltip saying "Cancelled"."""
    return re.sub(rb'(Detail_Meeting\.aspx\?ID=' + meeting_id.encode() + rb'" title="[^"]*?Status:&#09;)Scheduled',
                  rb"\1Cancelled", page)


def relisted(page: bytes, meeting_id: str) -> bytes:
    """derived: the recorded calendar with one meeting listed under a new id (a new meeting, the old one gone)."""
    return page.replace(f"Detail_Meeting.aspx?ID={meeting_id}\"".encode(), f"Detail_Meeting.aspx?ID=9{meeting_id}\"".encode())


def test_following_some_bodies_of_a_city_calendar(tmp_path: Path, replay: ReplayServer, db_url: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_NOW", "2026-04-01T12:00:00Z")
    replay.add(CALENDAR, ATLANTA, content_type="text/html")
    storage = f'[storage]\nurl = "{db_url}"\n'
    config_path = atlanta_config(tmp_path / "tracker.toml", replay.url, None, storage)
    store = Store(load_config(config_path, env={}).database_url)
    (report,) = run_crawls(load_config(config_path, env={}), store)
    assert report.ok, report.errors
    every = bodies_shown(store, config_path)
    assert len(every) == 8 and every["Zoning Committee"] > 3

    # the organizers follow the council and its public safety committee: the others leave the
    # watch, unalerted and not "missing"; the listing is read whole though it has not changed
    # (but for a council meeting posted meanwhile, news: the council was followed before too)
    atlanta_config(config_path, replay.url, '["Atlanta City Council", "public safety"]', storage)
    config = load_config(config_path, env={})
    page = relisted(ATLANTA, COUNCIL)
    replay.replace(CALENDAR, page)
    asked = len(replay.requests)
    (report,) = run_crawls(config, store)
    assert report.ok and not report.warnings, (report.errors, report.warnings)
    assert [r.status for r in replay.requests[asked:] if r.path == CALENDAR] == [200]
    followed = bodies_shown(store, config_path)
    assert followed == {"Atlanta City Council": every["Atlanta City Council"] + 1,  # the one gone is missing
                        "Public Safety & Legal Administration Committee":
                            every["Public Safety & Legal Administration Committee"]}
    assert [m["entity"] for m in status_json(store, config)["meetings"] if m["missing"]] == [
        f"meeting:iqm2:atl:{COUNCIL}"]
    assert [(c["kind"], c["entity"]) for c in changes_json(store)] == [("meeting.added", f"meeting:iqm2:atl:9{COUNCIL}")]

    # a zoning meeting and a public safety meeting called off: only the one followed is news
    replay.replace(CALENDAR, cancelled(cancelled(page, ZONING), PUBLIC_SAFETY))
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    assert [(c["kind"], c["entity"].rsplit(":", 1)[1]) for c in changes_json(store)][1:] == [
        ("meeting.cancelled", PUBLIC_SAFETY)]

    # following every body again: the zoning committee's meetings are back, a baseline (its
    # cancellation came while nobody followed it), as is a meeting of another committee first seen
    # now; the public safety one is not said twice
    atlanta_config(config_path, replay.url, None, storage)
    config = load_config(config_path, env={})
    replay.replace(CALENDAR, relisted(cancelled(cancelled(page, ZONING), PUBLIC_SAFETY), COMMITTEE_ON_COUNCIL))
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    shown = bodies_shown(store, config_path)
    assert set(shown) == set(every) and shown["Committee on Council"] == every["Committee on Council"]
    assert len(changes_json(store)) == 2
    meetings = {m["entity"].rsplit(":", 1)[1]: m for m in status_json(store, config)["meetings"]}
    assert meetings[ZONING]["status"] == "cancelled" and f"9{COMMITTEE_ON_COUNCIL}" in meetings
    assert COMMITTEE_ON_COUNCIL not in meetings  # let go with its body, then no longer listed


def test_a_change_owed_before_its_body_was_let_go_stays_in_the_daily_bundle(
        tmp_path: Path, replay: ReplayServer, receiver: Receiver, db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_NOW", "2026-04-01T12:00:00Z")
    replay.add(CALENDAR, ATLANTA, content_type="text/html")
    daily = (f'[storage]\nurl = "{db_url}"\n[tracker]\ntimezone = "America/New_York"\n[alerts]\ndaily_at = "08:00"\n'
             '[[subscribers]]\n'
             f'id = "organizers"\nnotify = ["json://127.0.0.1:{receiver.port}/hook"]\nfollow = ["atl"]\n'
             'mode = "daily"\n')
    config_path = atlanta_config(tmp_path / "tracker.toml", replay.url, None, daily)
    config = load_config(config_path, env={})
    store = Store(config.database_url)
    run_crawls(config, store)
    assert close_bundles(store, config) == 0  # the follow starts here
    replay.replace(CALENDAR, cancelled(ATLANTA, ZONING))
    run_crawls(config, store)
    assert [c["entity"] for c in changes_json(store)] == [f"meeting:iqm2:atl:{ZONING}"]

    atlanta_config(config_path, replay.url, '["public safety"]', daily)  # zoning let go before the bundle
    config = load_config(config_path, env={})
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    assert not any(m["entity"].endswith(f":{ZONING}") for m in status_json(store, config)["meetings"])
    assert [c["entity"] for c in changes_json(store, watch="atl")] == [f"meeting:iqm2:atl:{ZONING}"]
    monkeypatch.setenv("TRACKER_NOW", "2026-04-02T12:00:00Z")  # 8:00 in Atlanta
    assert close_bundles(store, config) == 1
    assert notify(store, config).sent == 1
    (post,) = receiver.posts
    assert "Zoning Committee" in post["message"] and "cancelled" in post["message"].lower()


def la_council(path: Path, url: str, bodies: str) -> Path:
    path.write_text('[crawl]\ndelay_seconds = 0\n[[meetings]]\nid = "la"\nname = "Los Angeles City Council"\n'
                    f'timezone = "America/Los_Angeles"\nprimegov = "{url}/api/v2/PublicPortal/ListArchivedMeetings"\n'
                    f"bodies = {bodies}\n")
    return path


def test_a_list_whose_rows_name_no_body_is_matched_by_titles(tmp_path: Path, replay: ReplayServer,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """PrimeGov's rows carry no body: each meeting has the watch's name ("Los Angeles City Council"),
    which holds "City Council" for every committee; the titles tell them apart."""
    monkeypatch.setenv("TRACKER_NOW", "2024-10-01T12:00:00Z")
    replay.add("/api/v2/PublicPortal/ListArchivedMeetings", LA_COUNCIL, content_type="application/json")
    config = load_config(la_council(tmp_path / "tracker.toml", replay.url, '["City Council"]'), env={})
    store = Store(config.database_url)
    (report,) = run_crawls(config, store)
    assert report.ok and not report.warnings, (report.errors, report.warnings)
    titles = sorted(m["title"] for m in status_json(store, config)["meetings"])
    assert titles == ["City Council Meeting", "City Council Meeting", "City Council Meeting",
                      "City Council Meeting - SAP"]


def retitled(answer: bytes, meeting_id: int, title: str) -> bytes:
    """derived: the recorded PrimeGov list with one meeting's title rewritten."""
    rows = json.loads(answer)
    (row,) = [row for row in rows if row["id"] == meeting_id]
    row["title"] = title
    return json.dumps(rows).encode()


def test_a_meeting_followed_by_its_title_stays_followed_when_retitled(tmp_path: Path, replay: ReplayServer,
                                                                      db_url: str,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Where rows name no body, `bodies` is matched on titles, and a city may retitle a meeting to
    call it off ("Notice of Cancellation"): the watch follows the meeting it held (its alert is the
    cancellation, not a silent departure), while a new choice of bodies starts afresh."""
    monkeypatch.setenv("TRACKER_NOW", "2024-10-01T12:00:00Z")
    plum = 15684  # the Planning and Land Use Management Committee, October 1, 2024
    path = "/api/v2/PublicPortal/ListArchivedMeetings"
    replay.add(path, LA_COUNCIL, content_type="application/json")
    chosen = '["Planning and Land Use Management"]'
    config_path = la_council(tmp_path / "tracker.toml", replay.url, chosen)
    config_path.write_text(config_path.read_text() + f'[storage]\nurl = "{db_url}"\n')
    config = load_config(config_path, env={})
    store = Store(config.database_url)
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    held = {m["entity"]: m for m in status_json(store, config)["meetings"]}
    assert f"meeting:primegov:la:{plum}" in held and len(held) == 2  # and its special agenda packet

    replay.replace(path, retitled(LA_COUNCIL, plum, "Notice of Cancellation"))
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    meetings = {m["entity"]: m for m in status_json(store, config)["meetings"]}
    assert meetings.keys() == held.keys()
    assert meetings[f"meeting:primegov:la:{plum}"]["status"] == "cancelled"
    assert [(c["kind"], c["entity"]) for c in changes_json(store)] == [
        ("meeting.cancelled", f"meeting:primegov:la:{plum}")]

    # another choice of bodies: what it follows is told by titles again, the retitled one let go
    text = config_path.read_text().replace(chosen, '["Planning and Land Use Management Committee"]')
    config_path.write_text(text)
    config = load_config(config_path, env={})
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    assert [m["entity"] for m in status_json(store, config)["meetings"]] == ["meeting:primegov:la:16003"]


def test_where_rows_name_no_body_the_warning_names_the_bodies_the_titles_name(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """LA's PrimeGov rows name no body: a misspelt name is told what the titles name (the council,
    each committee once, its special agenda packets' "SAP - " aside), not thirteen titles."""
    monkeypatch.setenv("TRACKER_NOW", "2024-10-01T12:00:00Z")
    replay.add("/api/v2/PublicPortal/ListArchivedMeetings", LA_COUNCIL, content_type="application/json")
    config = load_config(la_council(tmp_path / "tracker.toml", replay.url, '["Pubic Safety"]'), env={})
    (report,) = run_crawls(config, Store(config.database_url))
    assert report.ok, report.errors
    (warning,) = report.warnings
    listed = warning.split("(it lists: ", 1)[1].removesuffix(")").split("; ")
    assert listed == ["City Council", "Civil Rights, Equity, Immigration, Aging and Disability Committee",
                      "Housing and Homelessness Committee", "Neighborhoods and Community Enrichment Committee",
                      "Personnel, Audits, and Hiring Committee", "Planning and Land Use Management Committee",
                      "Trade, Travel and Tourism Committee", "Transportation Committee"]


def test_bodies_that_keep_nothing_are_one_warning_naming_what_the_site_lists(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_NOW", "2026-04-01T12:00:00Z")
    replay.add(CALENDAR, ATLANTA, content_type="text/html")
    config_path = atlanta_config(tmp_path / "tracker.toml", replay.url, None)
    store = Store(load_config(config_path, env={}).database_url)
    run_crawls(load_config(config_path, env={}), store)
    config = load_config(atlanta_config(config_path, replay.url, '["Pubic Safety"]'), env={})
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors  # not "returned no items": the site listed meetings, of other bodies
    (warning,) = report.warnings
    assert warning.startswith("iqm2:atl: bodies: none of the window's meetings is of 'Pubic Safety' (it lists: ")
    assert "Public Safety & Legal Administration Committee" in warning and "\n" not in warning
    assert status_json(store, config)["meetings"] == [] and changes_json(store) == []


def test_config_check_says_the_bodies_a_watch_follows(tmp_path: Path) -> None:
    config_path = atlanta_config(tmp_path / "tracker.toml", "https://atlantacityga.iqm2.com",
                                 '["Atlanta City Council", "Public  Safety"]')
    result = CliRunner().invoke(main, ["--config", str(config_path), "config", "check"])
    assert result.exit_code == 0, result.output
    assert "meeting watch atl: Atlanta City Council: source iqm2:atl; bodies: Atlanta City Council, Public Safety" \
        in result.stdout.splitlines()


def test_two_watches_of_one_calendar_crawled_apart_each_see_its_change(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The council's watch and the public safety committee's read one calendar. Crawled apart, each
    keeps its own validators: the other's newer ones never make it take a change for "unchanged"."""
    monkeypatch.setenv("TRACKER_NOW", "2026-04-01T12:00:00Z")
    replay.add(CALENDAR, ATLANTA, content_type="text/html")
    head = f'[storage]\nurl = "sqlite:///{tmp_path / "tracker.db"}"\n[crawl]\ndelay_seconds = 0\n'
    watch = ('[[meetings]]\nid = "{id}"\nname = "{name}"\ntimezone = "America/New_York"\n'
             f'iqm2 = "{replay.url}/Citizens/default.aspx"\nbodies = ["{{name}}"]\n')
    council = watch.format(id="council", name="Atlanta City Council")
    safety = watch.format(id="safety", name="Public Safety & Legal Administration Committee")
    both, council_only = tmp_path / "both.toml", tmp_path / "council.toml"
    both.write_text(head + council + safety)
    council_only.write_text(head + council)
    store = Store(load_config(both, env={}).database_url)
    assert all(report.ok for report in run_crawls(load_config(both, env={}), store))

    replay.replace(CALENDAR, cancelled(ATLANTA, PUBLIC_SAFETY))  # a new page, a new ETag
    (report,) = run_crawls(load_config(council_only, env={}), store)  # the council's watch alone reads it
    assert report.ok and report.not_modified == 0
    asked = len(replay.requests)
    reports = run_crawls(load_config(both, env={}), store)
    assert [(r.source_id, r.not_modified) for r in reports] == [("iqm2:council", 1), ("iqm2:safety", 0)]
    # one request each, in either order (the two sources' requests run at once): the council's 304
    assert sorted(r.status for r in replay.requests[asked:] if r.path == CALENDAR) == [200, 304]
    assert [(c["kind"], c["watch"], c["entity"]) for c in changes_json(store)] == [
        ("meeting.cancelled", "safety", f"meeting:iqm2:safety:{PUBLIC_SAFETY}")]
