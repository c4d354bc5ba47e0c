"""IQM2 calendars: real recorded list views (tests/data/local/corpus/iqm2, origins in its SOURCES.md),
a later state derived from one (labelled), the spider through the real engine asking for the
window's list view, one meeting's page refused in one line, and `detect` naming the platform."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from listings import listing_of, meetings_of
from statusjson import changes_json, status_json

from tracker.cli import main
from tracker.config import load_config
from tracker.crawl import run_crawls
from tracker.demo.replay import Fault, ReplayServer
from tracker.meetings.iqm2 import calendar_url, parse_calendar
from tracker.meetings.normalize import SourceParseError
from tracker.store import Store

DATA = Path(__file__).parent / "data"
CORPUS = DATA / "local" / "corpus" / "iqm2"
ATLANTA = (CORPUS / "atlanta_calendar_list.html").read_bytes()
CALENDAR = "/Citizens/Calendar.aspx"


def read(name: str, host: str, zone: str = "America/Los_Angeles") -> dict[str, dict[str, Any]]:
    meetings, problems = listing_of(parse_calendar, (CORPUS / name).read_bytes(), url=f"https://{host}{CALENDAR}",
                                    body="Council", timezone=zone)
    assert problems == []
    return {mt["source_ref"]: mt for mt in meetings}


def test_a_cancelled_row_a_row_without_time_and_the_place_from_the_tooltip() -> None:
    meetings = read("santamonica_calendar_list.html", "santamonicacityca.iqm2.com")
    assert sum(mt["status"] == "cancelled" for mt in meetings.values()) == 24
    cancelled = meetings["1041"]
    assert (cancelled["status_text"], cancelled["title"], cancelled["documents"]) == ("Cancelled",
                                                                                    "City Council - Regular Meeting", [])
    untimed = meetings["1051"]  # "May 28, 2015" only; its tooltip says "12:00 AM"
    assert untimed["time_tbd"] is True and untimed["start"] is None and untimed["date"] == "2015-05-28"
    held = meetings["1034"]
    assert held["start"] == "2015-04-29T00:30:00+00:00" and held["body"] == "City Council"
    assert held["location"].startswith("City Hall Council Chambers, 1685 Main Street")


def test_documents_as_the_site_labels_them_and_the_video_in_an_onclick() -> None:
    clayton = read("claytoncounty_calendar_list.html", "claytoncountyga.iqm2.com", "America/New_York")["1342"]
    assert [(doc["kind"], doc["label"]) for doc in clayton["documents"]] == [
        ("agenda", "Agenda"), ("packet", "Agenda Packet"), ("other", "Summary"), ("minutes", "Minutes"),
        ("video", "Video")]
    assert clayton["livestream_url"] == \
        "https://claytoncountyga.iqm2.com/Citizens/SplitView.aspx?Mode=Video&MeetingID=1342&Format=Minutes"
    norcross = read("norcross_calendar_list.html", "norcrossga.iqm2.com", "America/New_York")["2365"]
    assert norcross["documents"] == [] and norcross["agenda_url"] is None  # every slot a placeholder


def test_a_status_in_any_spelling_and_a_scripts_address_never_stored() -> None:
    page = re.sub(rb'(Detail_Meeting\.aspx\?ID=4098" title="[^"]*?Status:&#09;)Closed', rb"\1Canceled", ATLANTA)
    page = page.replace(b'href="/Citizens/Detail_Meeting.aspx?ID=4259"', b'href="javascript:alert(1)//Detail_Meeting.aspx?ID=4259"')
    meetings, _ = listing_of(parse_calendar, page, url=f"https://atlantacityga.iqm2.com{CALENDAR}",
                             timezone="America/New_York")
    by_ref = {mt["source_ref"]: mt for mt in meetings}
    assert (by_ref["4098"]["status"], by_ref["4098"]["status_text"]) == ("cancelled", "Canceled")
    assert by_ref["4259"]["url"] == "https://atlantacityga.iqm2.com/Citizens/Detail_Meeting.aspx?ID=4259"


def test_one_bad_row_is_its_own_line() -> None:
    page = ATLANTA.replace(b"Detail_Meeting.aspx?ID=4259", b"Detail_Meeting.aspx", 1)
    page = page.replace(b">Jan 20, 2026", b">sometime", 1)
    meetings, problems = listing_of(parse_calendar, page, url=f"https://atlantacityga.iqm2.com{CALENDAR}",
                                    timezone="America/New_York")
    assert len(meetings) == 162 and len(problems) == 2
    assert "no meeting link (Detail_Meeting.aspx?ID=N)" in problems[0]
    assert "date 'sometime" in problems[1]


def test_one_meetings_page_and_other_pages_are_one_line() -> None:
    with pytest.raises(SourceParseError) as raised:
        listing_of(parse_calendar, (DATA / "not_listings" / "crevecoeur_iqm2_meeting.html").read_bytes(),
                   url="https://crevecoeurcitymo.iqm2.com/Citizens/Detail_Meeting.aspx?ID=5011")
    assert str(raised.value) == ("one meeting's page on IQM2 (Detail_Meeting.aspx), not its calendar: watch "
                                 "https://crevecoeurcitymo.iqm2.com/Citizens/Calendar.aspx")
    with pytest.raises(SourceParseError) as raised:
        listing_of(parse_calendar, b"<html><head><title>Parks</title></head><body><p>Pools</p></body></html>")
    assert str(raised.value).startswith("no meeting rows found: no IQM2 calendar rows (div.MeetingRow)")


def test_the_window_asked_for_on_any_address_of_the_site() -> None:
    for given in ("https://atlantacityga.iqm2.com/Citizens/default.aspx",
                  "https://atlantacityga.iqm2.com/Citizens/Calendar.aspx?Frame=Yes",
                  "https://u:secret@atlantacityga.iqm2.com/Citizens/Detail_Meeting.aspx?ID=4098"):
        assert calendar_url(given, date(2026, 3, 4), date(2026, 8, 1)) == \
            "https://atlantacityga.iqm2.com/Citizens/Calendar.aspx?View=List&From=3/2/2026&To=8/9/2026"


# -- through the engine -----------------------------------------------------------------------

def atlanta_later() -> bytes:
    """derived: the recorded calendar with the 20 April committee on council (4392) marked
    cancelled in its link's tooltip, and an agenda posted for the 20 April council meeting (4258)"""
    page = re.sub(rb'(Detail_Meeting\.aspx\?ID=4392" title="[^"]*?Status:&#09;)Scheduled', rb"\1Cancelled", ATLANTA)
    at = page.index(b"Detail_Meeting.aspx?ID=4258")
    hidden = b"<a href='' class='HiddenDocumentLink' target=''>Agenda</a>"
    slot = page.index(hidden, at)
    return page[:slot] + b"<a href='FileOpen.aspx?Type=14&ID=9999&Inline=True' class='' target='_blank'>Agenda</a>" + \
        page[slot + len(hidden):]


def test_iqm2_through_the_engine(tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_NOW", "2026-04-01T12:00:00Z")
    replay.add(CALENDAR, ATLANTA, content_type="text/html")
    config_path = tmp_path / "tracker.toml"
    config_path.write_text('[crawl]\ndelay_seconds = 0\n[[meetings]]\nid = "atl"\nname = "Atlanta City Council"\n'
                           f'timezone = "America/New_York"\niqm2 = "{replay.url}/Citizens/default.aspx"\n')
    config = load_config(config_path, env={})
    store = Store(config.database_url)
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    asked = [(r.path, r.query.get("View"), r.query.get("From"), r.query.get("To")) for r in replay.requests
             if r.path != "/robots.txt"]
    assert asked == [(CALENDAR, "List", "3/2/2026", "8/9/2026")]  # March 2 to July 30: 23 whole weeks
    stored = {mt["entity"].rsplit(":", 1)[1]: mt for mt in status_json(store, config)["meetings"]}
    assert report.items > 40 and changes_json(store) == []
    assert stored["4392"]["status"] == "confirmed" and stored["4258"]["agenda_url"] is None
    replay.replace(CALENDAR, atlanta_later())
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    found = sorted((c["kind"], c["entity"].rsplit(":", 1)[1]) for c in changes_json(store))
    assert found == [("meeting.agenda_posted", "4258"), ("meeting.cancelled", "4392")]
    # said as organizers would: the row's title names its board, which is not said twice
    summaries = {c["entity"].rsplit(":", 1)[1]: c["summary"] for c in changes_json(store)}
    assert summaries["4392"].startswith("Committee on Council - Regular Committee Meeting on Mon Apr 20"), summaries
    assert summaries["4258"].startswith("Atlanta City Council - Regular Meeting on Mon Apr 20"), summaries
    (report,) = run_crawls(config, store)
    assert report.not_modified == 1 and len(changes_json(store)) == 2
    replay.set_fault(CALENDAR, Fault.status(503))
    before = status_json(store, config)["meetings"]
    (report,) = run_crawls(config, store)
    assert len(report.errors) == 1 and "iqm2:atl" in report.errors[0]
    assert status_json(store, config)["meetings"] == before


def test_detect_names_an_iqm2_site_by_its_address_and_reads_the_window(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_NOW", "2026-04-01T12:00:00Z")
    replay.add("/Citizens/default.aspx", b"<!DOCTYPE html><html><head><title>Meeting Portal - Atlanta, GA</title>"
               b"</head><body><div id='calendar'></div></body></html>")
    replay.add(CALENDAR, ATLANTA, content_type="text/html")
    config = tmp_path / "tracker.toml"
    config.write_text(f'[crawl]\ndelay_seconds = 0\n[sources.legistar]\nbase_url = "{replay.url}/v1"\n')
    result = CliRunner(env={"http_proxy": replay.url, "no_proxy": "", "NO_PROXY": ""}).invoke(
        main, ["--config", str(config), "sources", "detect", "http://atlantacityga.iqm2.com/Citizens/default.aspx"],
        catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("IQM2 calendar: told by its address")
    assert 'iqm2 = "http://atlantacityga.iqm2.com/Citizens/Calendar.aspx"' in result.stdout
    assert "Atlanta City Council - Regular Meeting" in result.stdout.split("The next meetings it would read:", 1)[1]
    # the bodies its calendar lists, to choose from: commented out, most meetings first
    (offered,) = [line for line in result.stdout.splitlines() if line.startswith("# bodies = [")]
    assert offered.startswith('# bodies = ["Atlanta City Council", ') and '"Public Safety & Legal' in offered
    assert offered.endswith("]   # to follow only some of the 8 bodies in the window")
    replay.add("/Citizens/Detail_Meeting.aspx", DATA / "not_listings" / "crevecoeur_iqm2_meeting.html",
               content_type="text/html")
    one = CliRunner(env={"http_proxy": replay.url, "no_proxy": "", "NO_PROXY": ""}).invoke(
        main, ["--config", str(config), "sources", "detect",
               "http://atlantacityga.iqm2.com/Citizens/Detail_Meeting.aspx?ID=4098"])
    assert one.exit_code == 1 and one.stderr.strip().endswith(
        "one meeting's page on IQM2, not a listing of meetings: give the site's calendar instead, "
        "http://atlantacityga.iqm2.com/Citizens/Calendar.aspx")


# Two calendars as mroconnell/rtr-deeplink saved them (tests/fixtures/iqm2/, fetched 2026-09-13): cut down by
# their owner to the rows' `div.RowTop`s (Monroe County, FL) or to their `div.RowLink`s alone (Knoxville, TN),
# and the tooltips' line breaks lost in the saving ("9:00 AMBoard:<tab>...Type:<tab>..."). Rows as saved.
MONROE = (b"""<html><body>
<div class="RowTop">
<div class="RowLink"><a href="/Citizens/Detail_Meeting.aspx?ID=1179" title="WEDNESDAY, NOVEMBER 8, 2023  9:00 AMBoard:\t"""
          b"""Board of County CommissionersType:\tRegular MeetingStatus:\tScheduled\tThe Harvey Government Center\t1200 """
          b"""Truman Avenue, At Historic Truman School, Key West, FL  33040">Nov 8, 2023 9:00 AM </a></div>
<div class="RowRight MeetingLinks" id="ContentPlaceholder1_ctlMeetings_rptMeetings_DownloadLinks_2">
<div> <a class="HiddenDocumentLink" href="" target="">Agenda</a> </div>
</div>
</div>
<div class="RowTop">
<div class="RowLink"><a href="/Citizens/Detail_Meeting.aspx?ID=1180" title="WEDNESDAY, DECEMBER 13, 2023  9:00 AMBoard:\t"""
          b"""Board of County CommissionersType:\tRegular MeetingStatus:\tScheduled\tMurray E. Nelson Government Center\t"""
          b"""102050 Overseas Highway, Key Largo, FL  33037">Dec 13, 2023 9:00 AM </a></div>
<div class="RowRight MeetingLinks" id="ContentPlaceholder1_ctlMeetings_rptMeetings_DownloadLinks_3">
<div> <a class="HiddenDocumentLink" href="" target="">Agenda</a> </div>
<div class="WithoutSeparator"> <a href="javascript:void(0)" id="ContentPlaceholder1_ctlMeetings_rptMeetings_lnkMeetingVideo_3" """
          b"""onclick='javascript:OpenWindow("/Citizens/SplitView.aspx?Mode=Video&amp;MeetingID=1180&amp;Format=None");'>Video</a> </div>
</div>
</div>
</body></html>""")
KNOXVILLE = (b"""<html><body>
<div class="RowLink"><a href="/Citizens/Detail_Meeting.aspx?ID=1690" title="TUESDAY, NOVEMBER 25, 2025  6:00 PMBoard:\tCity """
             b"""CouncilType:\tRegular MeetingStatus:\tClosed\tCity County Building: Main Assembly Room\t400 Main St, Knoxville, TN  """
             b"""37902">Nov 25, 2025 6:00 PM </a></div>
<div class="RowLink"><a href="/Citizens/Detail_Meeting.aspx?ID=1691" title="TUESDAY, DECEMBER 9, 2025  6:00 PMBoard:\tCity """
             b"""CouncilType:\tRegular MeetingStatus:\tCancelled\tCity County Building: Main Assembly Room\t400 Main St, """
             b"""Knoxville, TN  37902">Dec 9, 2025 6:00 PM </a></div>
</body></html>""")


def test_rows_without_their_meetingrow_are_read_not_taken_for_an_empty_calendar() -> None:
    monroe, problems = listing_of(parse_calendar, MONROE, url="https://monroecountyfl.iqm2.com" + CALENDAR,
                                  timezone="America/New_York")
    assert problems == [] and [(m["source_ref"], m["start"]) for m in monroe] == [
        ("1179", "2023-11-08T14:00:00+00:00"), ("1180", "2023-12-13T14:00:00+00:00")]
    assert monroe[1]["body"] == "Board of County Commissioners" and monroe[1]["livestream_url"] == (
        "https://monroecountyfl.iqm2.com/Citizens/SplitView.aspx?Mode=Video&MeetingID=1180&Format=None")
    assert monroe[1]["location"] == "Murray E. Nelson Government Center, 102050 Overseas Highway, Key Largo, FL 33037"
    # the status is read from a tooltip without line breaks (the second row's, changed to Cancelled here)
    knoxville = {m["source_ref"]: m for m in meetings_of(parse_calendar, KNOXVILLE, timezone="America/New_York",
                                                         url="https://knoxvillecitytn.iqm2.com" + CALENDAR)}
    assert knoxville["1690"]["title"] == "City Council - Regular Meeting" and knoxville["1690"]["status"] == "confirmed"
    assert knoxville["1690"]["start"] == "2025-11-25T23:00:00+00:00"
    assert knoxville["1691"]["status"] == "cancelled"


def test_detect_names_a_calendar_of_bare_row_links(tmp_path: Path, replay: ReplayServer,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Knoxville's rows saved without their `div.MeetingRow`, at an address that does not say IQM2."""
    monkeypatch.setenv("TRACKER_NOW", "2025-11-20T12:00:00Z")
    replay.add(CALENDAR, KNOXVILLE, content_type="text/html")
    config = tmp_path / "tracker.toml"
    config.write_text(f'[crawl]\ndelay_seconds = 0\n[sources.legistar]\nbase_url = "{replay.url}/v1"\n')
    result = CliRunner(env={"http_proxy": replay.url, "no_proxy": "", "NO_PROXY": ""}).invoke(
        main, ["--config", str(config), "sources", "detect", f"http://meetings.example.gov{CALENDAR}?View=List"],
        catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("IQM2 calendar: told by its content (IQM2 calendar rows)")
    assert "Tue Nov 25, 2025, 6:00 PM EST  City Council - Regular Meeting" in result.stdout


def _corpus_links() -> tuple[list[str], list[str]]:
    """Every link address and every tooltip (`title`) of the recorded calendars, in their pages' order."""
    from tracker.meetings.pages import html_tree

    hrefs: list[str] = []
    tooltips: list[str] = []
    for path in sorted(CORPUS.glob("*.html")):
        for a in html_tree(path.read_bytes()).iter("a"):
            hrefs.append((a.get("href") or "").strip())
            if title := a.get("title"):
                tooltips.append(title)
    return hrefs, tooltips


def test_the_usual_meeting_address_is_read_by_one_match_as_its_parse_reads_it() -> None:
    """`_meeting_id`'s one match answers only for addresses `_parsed_meeting_id` reads the same:
    every link of the recorded calendars, and edited ones (other cases, hosts, parameters, escapes,
    fragments, digits, dot segments, white space)."""
    from tracker.meetings.iqm2 import _PLAIN_MEETING, _meeting_id, _parsed_meeting_id

    hrefs, _ = _corpus_links()
    meeting_links = [href for href in hrefs if "detail_meeting" in href.lower()]
    assert len(meeting_links) > 1000
    edits = [lambda h: h.lower(), lambda h: h.upper(), lambda h: h.replace("ID=", "id="),
             lambda h: "//" + h.lstrip("/"), lambda h: "https://x.iqm2.com" + h, lambda h: h + "&Other=1",
             lambda h: h.replace("?ID=", "?Other=1&ID="), lambda h: h + "#top", lambda h: h.replace("ID=", "ID=%31"),
             lambda h: h.replace("ID=", "ID=\uff11"), lambda h: h.replace("ID=", "ID=+"), lambda h: h + "x",
             lambda h: h.replace("/Detail", "/../Detail"), lambda h: h.replace("/Detail", "//Detail"),
             lambda h: h.replace("/Detail", "/a b/Detail"), lambda h: h.replace("/Detail", "/\tDetail"),
             lambda h: h.replace(".aspx", ".aspx;x"), lambda h: h.lstrip("/"), lambda h: h.split("=")[0] + "=",
             lambda h: h.replace("ID=", "ID=0"), lambda h: h.replace("/Citizens", "/Citi:zens"),
             lambda h: " " + h, lambda h: h.replace("?", "/?"), lambda h: "//" + h.rsplit("/", 1)[-1]]
    variants = meeting_links + [edit(href) for href in meeting_links[:40] for edit in edits]
    answered = 0
    for href in variants:
        assert _meeting_id(href) == _parsed_meeting_id(href), href
        answered += _PLAIN_MEETING.fullmatch(href) is not None
    assert answered >= len(meeting_links)  # the match answers for the recorded ones (and some edits)


def test_the_tooltip_is_read_as_the_regular_expressions_read_it() -> None:
    """`_tooltip` splits lines with str methods and tries `_BLANK_FIELDS` only on a line with "_":
    the same fields as the regular expressions' reading, on every recorded tooltip and edited ones
    (line breaks of each kind and in runs, empty template fields, tabs only, "N/A" lines)."""
    from tracker.meetings.iqm2 import _BLANK_FIELDS, _FIELD, _NOT_APPLICABLE, _RUN_LABEL, _tooltip

    def as_before(text: str) -> dict[str, str]:  # the reading before str methods took the line breaks
        if not re.search(r"[\r\n]", text):
            text = _RUN_LABEL.sub(r"\n\1:\t", text)
            head, label, tail = text.partition("\nStatus:\t")
            if label:
                text = head + label + "\n".join(tail.split("\t"))
        fields: dict[str, str] = {}
        place: list[str] = []
        for line in [line.strip() for line in re.split(r"[\r\n]+", text)][1:]:
            if field := _FIELD.match(line):
                fields[field.group(1)] = " ".join(field.group(2).split())
            elif line and "Status" in fields and (words := _BLANK_FIELDS.sub("", " ".join(line.split())).strip(" ,")) \
                    and not _NOT_APPLICABLE.fullmatch(words):
                place.append(words)
        if place:
            fields["place"] = ", ".join(place)
        return fields

    _, tooltips = _corpus_links()
    assert len(tooltips) > 1000
    edits = [lambda t: t.replace("\r", "\n"), lambda t: t.replace("\r", "\r\n"), lambda t: t.replace("\r", "\n\r\n"),
             lambda t: "\r" + t + "\r\r", lambda t: t.replace("\r", "\t"), lambda t: t.replace("\r", ""),
             lambda t: t.replace(", ", ", __, ___ _ "), lambda t: t.replace(", ", ", _ "),
             lambda t: t.replace("\t", " \t _x_ "),
             lambda t: t + "\rN/A, N/A", lambda t: t + "\r\t__, __  __\r\t,\r Status: x", lambda t: t.lower(),
             lambda t: t.replace("Status:", "Status:\u2028"), lambda t: t.replace("Board:", "Board: \x85")]
    for text in tooltips + [edit(text) for text in tooltips[::25] for edit in edits]:
        assert _tooltip(text) == as_before(text), text
