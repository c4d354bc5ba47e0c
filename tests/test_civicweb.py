"""CivicWeb / Diligent Community meeting lists: real recorded answers (tests/data/local/corpus/
civicweb, origins in its SOURCES.md), later states derived from them (labelled), the spider through
the real engine asking for the crawl's window, and `detect` naming the platform."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from listings import listing_of, meetings_of
from statusjson import changes_json, status_json

from tracker.config import load_config
from tracker.crawl import run_crawls
from tracker.demo.replay import Fault, ReplayServer
from tracker.meetings.civicweb import listing_url, parse_documents, parse_meetings
from tracker.meetings.normalize import SourceParseError
from tracker.store import Store

DATA = Path(__file__).parent / "data" / "local" / "corpus" / "civicweb"
DALLAS_ISD = (DATA / "dallasisd_meetings.json").read_bytes()
DOCUMENTS = (DATA.parent.parent / "civicweb_documents" / "dallasisd_826_documents.json").read_bytes()
LIST = "/Services/MeetingsService.svc/meetings"


def by_ref(meetings: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {mt["source_ref"]: mt for mt in meetings}


def read(name: str, host: str, zone: str = "America/Chicago") -> dict[str, dict[str, Any]]:
    meetings, problems = listing_of(parse_meetings, (DATA / name).read_bytes(), url=f"https://{host}{LIST}",
                                    body="Board", timezone=zone)
    assert problems == []
    return by_ref(meetings)


def test_a_school_boards_list_local_times_titles_and_pages() -> None:
    meetings = read("dallasisd_meetings.json", "dallasisd.community.highbond.com")
    assert len(meetings) == len(json.loads(DALLAS_ISD))
    hearing = meetings["826"]
    assert hearing["title"] == "Public Hearing Agenda and Notice"  # its name without the date the portal adds
    assert (hearing["date"], hearing["start"]) == ("2026-05-28", "2026-05-28T22:30:00+00:00")  # 5:30 PM in Dallas
    assert hearing["location"] == "Ada L. Williams Governance Room"
    assert hearing["url"] == "https://dallasisd.community.highbond.com/Portal/MeetingInformation.aspx?Org=Cal&Id=826"
    assert meetings["808"]["title"] == "Called Board Meeting-Public Facility Corporation Organizational Meeting"


def test_no_time_set_is_time_tbd_never_midnight() -> None:
    """Dallas ISD writes "00:00" with an empty `MeetingTime`; Kansas City Kansas schools' rows have no
    `MeetingTime` at all and write midnight for a meeting without a time."""
    audit = read("dallasisd_meetings.json", "dallasisd.community.highbond.com")["772"]
    assert audit["time_tbd"] is True and audit["start"] is None and audit["location"] is None
    kck = read("kckps_meetings.json", "kckps.community.highbond.com")
    assert kck["277"]["time_tbd"] is True and kck["277"]["date"] == "2020-02-22"
    assert kck["574"]["start"] == "2025-10-28T15:00:00+00:00"  # "2025-10-28 10:00"
    assert kck["574"]["title"] == "Academic Committee Meeting"


def test_cancelled_and_no_meeting_names() -> None:
    dallas = read("dallasisd_meetings.json", "dallasisd.community.highbond.com")
    assert dallas["755"]["status"] == "cancelled" and dallas["755"]["status_text"] == "CANCELLED"
    assert dallas["755"]["title"] == "CANCELLED - Audit Committee Meeting Agenda and Notice"
    assert dallas["826"]["status"] == "confirmed"
    sarpy = read("sarpy_meetings.json", "sarpy.civicweb.net")
    assert sarpy["5030"]["title"] == "Board Meetings - NO MEETING" and sarpy["5030"]["status"] == "cancelled"
    assert sarpy["5177"]["title"] == "Wastewater Agency - NO MEETING" and sarpy["5177"]["status"] == "cancelled"
    assert sarpy["4927"]["status"] == "confirmed" and sarpy["4927"]["title"] == "Board Meetings"


def test_a_draft_agenda_note_stays_in_the_title() -> None:
    tulsa = read("tulsaps_meetings.json", "tulsaschools.diligent.community")
    assert tulsa["213"]["title"] == "Regular Meeting (DRAFT AGENDA)"
    assert tulsa["213"]["start"] == "2026-12-14T23:30:00+00:00"


def test_keywords_in_a_title_are_its_item() -> None:
    meetings = meetings_of(parse_meetings, DALLAS_ISD, url=f"https://dallasisd.community.highbond.com{LIST}",
                           body="Board", timezone="America/Chicago", keywords=["Audit Committee"])
    matched = [mt for mt in meetings if mt["items"]]
    assert matched and all("Audit Committee" in mt["title"] for mt in matched)
    assert matched[0]["items"][0]["keywords"] == ["Audit Committee"]


def test_one_bad_row_is_its_own_line() -> None:
    rows = json.loads(DALLAS_ISD)
    rows[1]["MeetingDateTime"] = "soon"
    rows[2] = "not a row"
    del rows[3]["Id"]
    meetings, problems = listing_of(parse_meetings, json.dumps(rows).encode(),
                                    url=f"https://dallasisd.community.highbond.com{LIST}", timezone="America/Chicago")
    assert len(meetings) == len(rows) - 3 and len(problems) == 3
    assert problems[0] == "meeting 825 (Board Meeting Agenda and Notice - May 28 2026): unreadable: date 'soon' is not a date"
    assert "no meeting id" in problems[2]


def test_ids_and_times_the_list_never_writes_are_refused_per_row() -> None:
    """A row's id goes into its page's address and is its identity: a number or none; a time with a
    zone (the list writes wall-clock time) is refused rather than read six hours off."""
    rows = json.loads(DALLAS_ISD)[:4]
    rows[0]["Id"] = "1&x=<script>"
    rows[1]["Id"] = {"a": 1}
    rows[2]["MeetingDateTime"] = "2026-05-21T16:00:00Z"
    meetings, problems = listing_of(parse_meetings, json.dumps(rows).encode(),
                                    url=f"https://u:secret@dallasisd.community.highbond.com{LIST}", timezone="America/Chicago")
    assert [mt["source_ref"] for mt in meetings] == ["819"]
    assert "is not a number" in problems[0] and "is not a number" in problems[1] and "has a zone" in problems[2]
    assert meetings[0]["url"] == "https://dallasisd.community.highbond.com/Portal/MeetingInformation.aspx?Org=Cal&Id=819"
    assert listing_url("https://u:secret@sarpy.civicweb.net/Portal/", date(2026, 1, 1), date(2026, 2, 1)).startswith(
        "https://sarpy.civicweb.net/")


@pytest.mark.parametrize("bad", [b"", b"{}", b"<html><body>Server Error</body></html>", b"[{\"Id\": 1,"])
def test_an_answer_that_is_no_list_is_one_line(bad: bytes) -> None:
    with pytest.raises(SourceParseError) as raised:
        meetings_of(parse_meetings, bad, url=f"https://x.civicweb.net{LIST}", timezone="UTC")
    assert "\n" not in str(raised.value)


def test_the_window_asked_for_on_any_address_of_the_site() -> None:
    for given in ("https://sarpy.civicweb.net/Portal/MeetingSchedule.aspx",
                  "https://sarpy.civicweb.net/Portal/MeetingInformation.aspx?Org=Cal&Id=4927",
                  f"https://sarpy.civicweb.net{LIST}?from=2024-01-01&to=2027-12-31&_=1234567890"):
        assert listing_url(given, date(2026, 3, 2), date(2026, 7, 30)) == \
            f"https://sarpy.civicweb.net{LIST}?from=2026-03-02&to=2026-07-30"


def documents_of(name: str, host: str) -> list[tuple[str, str, str | None]]:
    answer = (DATA.parent.parent / "civicweb_documents" / name).read_bytes()
    return [(doc.kind, doc.url, doc.label) for doc in parse_documents(answer, f"https://{host}{LIST}/1/meetingDocuments")]


def test_a_meetings_documents_typed_and_linked_as_the_portal_serves_them() -> None:
    """Both shapes of the answer (Diligent Community's object, civicweb.net's array); the links the
    owners' tests assert (Dallas ISD's agenda, Dallas County's agenda packet) exactly."""
    assert documents_of("dallasisd_826_documents.json", "dallasisd.community.highbond.com") == [
        ("agenda", "https://dallasisd.community.highbond.com/document/49668/Public%20Hearing%20Agenda%20and%20Notice"
                   "%20%20-%20May%2028%202026.pdf", "Agenda"),
        ("packet", "https://dallasisd.community.highbond.com/document/49670/Public%20Hearing%20Agenda%20and%20Notice"
                   "%20%20-%20May%2028%202026.pdf", "Agenda Packet")]
    county = documents_of("dallascounty_2097_documents.json", "dallascounty.civicweb.net")
    assert [kind for kind, _, _ in county] == ["agenda", "packet", "minutes", "minutes"]
    assert ("packet", "https://dallascounty.civicweb.net/document/1051670/Commissioners%20Court%20-%20May%2019%202026.pdf",
            "Agenda Packet") in county
    cruces = documents_of("lascruces_10669_documents.json", "lascruces.civicweb.net")
    assert [label for _, _, label in cruces] == ["Agenda", "Agenda Packet", "Minutes Packet"]
    assert all(url.startswith("https://lascruces.civicweb.net/document/") and url.endswith(".pdf") for _, url, _ in cruces)
    sarpy = documents_of("sarpy_4927_documents.json", "sarpy.civicweb.net")
    assert [label for _, _, label in sarpy] == ["Agenda", "Agenda Packet", "Minutes", "Minutes Packet"]


def test_a_documents_answer_that_is_no_list_is_one_line() -> None:
    for bad in (b"<html><body>Runtime Error</body></html>", b'{"Message": "An error has occurred."}', b"[1,"):
        with pytest.raises(SourceParseError) as raised:
            parse_documents(bad, f"https://x.civicweb.net{LIST}/1/meetingDocuments")
        assert "\n" not in str(raised.value)
    assert parse_documents(b'[{"Name": "no id"}, 7]', f"https://x.civicweb.net{LIST}/1/meetingDocuments") == []


# -- through the engine -----------------------------------------------------------------------

def dallas_later() -> bytes:
    """derived: the recorded list with 14 May's board briefing (814) called off in its name and the
    12 May canvassing meeting (823) moved to 5 PM"""
    rows = json.loads(DALLAS_ISD)
    for row in rows:
        if row["Id"] == 814:
            row["Name"] = "CANCELLED - " + row["Name"]
        if row["Id"] == 823:
            row["MeetingDateTime"], row["MeetingTime"] = "2026-05-12 17:00", "05:00 PM"
    return json.dumps(rows).encode()


def served_documents(replay: ReplayServer, later: bool = False) -> None:
    """Each meeting's documents answer: Dallas ISD's recorded one for 826, an empty one for every other
    (derived: `{"Documents": []}`, the shape Diligent Community answers); `later` (derived): 825's
    agenda posted, its answer the recorded one with 825's id and name."""
    for row in json.loads(DALLAS_ISD):
        replay.replace(f"{LIST}/{row['Id']}/meetingDocuments", b'{"Documents": []}')
    replay.replace(f"{LIST}/826/meetingDocuments", DOCUMENTS)
    if later:
        answer = json.loads(DOCUMENTS)
        for doc in answer["Documents"]:
            doc["Id"] += 100
            doc["MeetingId"], doc["Name"] = 825, "Board Meeting Agenda and Notice - May 28 2026"
        replay.replace(f"{LIST}/825/meetingDocuments", json.dumps(answer).encode())


def test_civicweb_through_the_engine(tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_NOW", "2026-04-20T12:00:00Z")
    replay.add(LIST, DALLAS_ISD, content_type="application/json")
    served_documents(replay)
    config_path = tmp_path / "tracker.toml"
    config_path.write_text('[crawl]\ndelay_seconds = 0\n[[meetings]]\nid = "disd"\nname = "Dallas ISD Board"\n'
                           f'timezone = "America/Chicago"\ncivicweb = "{replay.url}/Portal/MeetingSchedule.aspx"\n')
    config = load_config(config_path, env={})
    store = Store(config.database_url)
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    asked = [r for r in replay.requests if r.path == LIST]
    assert [(r.query.get("from"), r.query.get("to")) for r in asked] == [("2026-03-21", "2026-08-18")]
    stored = {mt["entity"].rsplit(":", 1)[1]: mt for mt in status_json(store, config)["meetings"]}
    assert report.items == len(stored) > 10 and changes_json(store) == []  # the window's meetings, a baseline
    assert all("2026-03-21" <= mt["start"][:10] <= "2026-08-18" for mt in stored.values())
    # each meeting's documents asked for once; 826's agenda is where its owner's test says it is
    documents = sorted(r.path for r in replay.requests if r.path.endswith("/meetingDocuments"))
    assert documents == sorted(f"{LIST}/{ref}/meetingDocuments" for ref in stored)
    assert stored["826"]["agenda_url"] == ("http://127.0.0.1:{}/document/49668/Public%20Hearing%20Agenda%20and%20Notice"
                                           "%20%20-%20May%2028%202026.pdf").format(replay.url.rsplit(":", 1)[1])
    replay.replace(LIST, dallas_later())
    served_documents(replay, later=True)
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    found = sorted((c["kind"], c["entity"].rsplit(":", 1)[1]) for c in changes_json(store))
    assert found == [("meeting.agenda_posted", "825"), ("meeting.cancelled", "814"), ("meeting.rescheduled", "823")]
    assert all(c["entity"].startswith("meeting:civicweb:disd:") for c in changes_json(store))
    # nothing new: the list is read again, each documents answer is a 304, nothing is news
    before = status_json(store, config)["meetings"]
    (report,) = run_crawls(config, store)
    assert report.ok and report.not_modified == len(stored) and len(changes_json(store)) == 3
    assert status_json(store, config)["meetings"] == before
    # one meeting's documents failing is its one line: the meeting is read, its documents kept
    replay.set_fault(f"{LIST}/826/meetingDocuments", Fault.status(500))
    (report,) = run_crawls(config, store)
    assert len(report.errors) == 1 and "documents of meeting 826" in report.errors[0]
    assert status_json(store, config)["meetings"] == before and len(changes_json(store)) == 3
    # an HTML error page with 200 for the list is one clear line; what is stored stays
    replay.set_fault(LIST, Fault.html_error())
    (report,) = run_crawls(config, store)
    assert len(report.errors) == 1 and "HTML page" in report.errors[0] and "civicweb:disd" in report.errors[0]
    assert status_json(store, config)["meetings"] == before
