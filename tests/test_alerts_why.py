"""Every alert says why it matters, read back from a real SMTP server on loopback: the campaign by
name; a meeting's alert (a cancellation too) with its link, its matching agenda items, its
documents, how to take part with the deadline its source states, and its body's members; the
sponsor named the same way in an instant alert and in a daily bundle. Records are derived (written
here), stored and diffed by the real store and differs; time moves with TRACKER_NOW."""

from __future__ import annotations

from dataclasses import replace
from email.header import decode_header, make_header
from email.message import Message
from pathlib import Path
from typing import Any

from alerting import POLICE, record, write_config
from lxml import html
from servers import Mailbox

from tracker.alerts.notifier import notify
from tracker.config import Config, load_config
from tracker.meetings.diff import diff_meeting
from tracker.meetings.legistar import body_key
from tracker.outbox import close_bundles, owe_instant, sync_subscribers
from tracker.records import Body, Document, Item, Meeting
from tracker.store import Store, ensure_watches, ingest

TESTIMONY = "Public testimony: sign up at https://council.example.org/testify by 5:00 PM the day before."
MEETINGS = """[[meetings]]
id = "schools"
name = "Fund our schools"
timezone = "America/Detroit"
ical = "https://board.example.org/calendar.ics"
keywords = ["budget"]

[[meetings]]
id = "safety"
name = "Stop ShotSpotter"
timezone = "America/New_York"
legistar = { client = "nyc", bodies = ["Committee on Public Safety"] }
keywords = ["ShotSpotter"]
"""


def mail_to(mailbox: Mailbox, address: str) -> str:
    return f"mailto://127.0.0.1:{mailbox.port}?smtp=127.0.0.1&from=tracker@example.org&to={address}"


def setup(tmp_path: Path, mailbox: Mailbox) -> tuple[Config, Store]:
    path = write_config(tmp_path, bills=[POLICE], subscribers=[
        {"id": "ana", "notify": [mail_to(mailbox, "ana@example.org")]},
        {"id": "bo", "notify": [mail_to(mailbox, "bo@example.org")], "mode": "daily"}], extra=MEETINGS)
    config = load_config(path, env={})
    store = Store(config.database_url)
    with store.session() as session:
        ensure_watches(session, [(w.id, "bill", w.name) for w in config.bills]
                       + [(w.id, "meeting", w.name) for w in config.meetings])
        sync_subscribers(session, config)
    return config, store


def store_meeting(store: Store, config: Config, key: str, watch: str, meeting: Meeting) -> None:
    ingest(store, Item(key=key, kind="meeting", source_id=f"x:{watch}", watch_ids=[watch], content=meeting),
           diff_meeting, on_change=lambda session, change: owe_instant(session, change, config))


def mails(mailbox: Mailbox, address: str) -> dict[str, str]:
    """Each message to `address` by subject: the words and links its reader sees (the HTML part's
    text, each link followed by its address)."""
    return {str(make_header(decode_header(mail["Subject"]))): shown(mail)
            for rcpt, mail in mailbox.messages if rcpt == [address]}


def shown(mail: Message) -> str:
    part = next(p for p in mail.walk() if p.get_content_type() == "text/html")
    root = html.fromstring(part.get_payload(decode=True).decode())
    for link in root.iter("a"):
        link.tail = f" <{link.get('href')}>" + (link.tail or "")
    for br in root.iter("br"):
        br.tail = "\n" + (br.tail or "")
    return "\n".join(" ".join(line.split()) for line in root.text_content().splitlines())


BUDGET_HEARING = Meeting(
    source="ical", source_ref="15582", body="Board of Education", title="Budget Hearing",
    start="2026-12-08T21:00:00+00:00", date="2026-12-08", timezone="America/Detroit", location="6565 W. Outer Drive",
    comment=TESTIMONY, items=[{"key": "title", "title": "Budget Hearing", "keywords": ["budget"]}],
    documents=[Document("agenda", "https://board.example.org/agenda-15582.pdf", "Agenda"),
               Document("video", "https://board.example.org/live", "Livestream")])
HEARING_20115 = Meeting(
    source="legistar", source_ref="20115", body="Committee on Public Safety", title="Committee on Public Safety",
    start="2026-12-04T15:00:00+00:00", date="2026-12-04", timezone="America/New_York",
    location="Council Chambers - City Hall", url="https://nyc.legistar.com/MeetingDetail.aspx?LEGID=20115",
    agenda_url="https://nyc.legistar1.com/nyc/meetings/20115_A.pdf",
    items=[{"title": "Int 0123 - Ending the use of ShotSpotter", "matter": "Int 0123-2026",
            "keywords": ["ShotSpotter"]}], extra={"body_id": 19})
ROSTER = Body(source="legistar", source_ref="19", name="Committee on Public Safety", members=[
    {"person_id": 7, "name": "Marcus Ortega", "title": "Chair", "start": "2024-01-01", "end": None,
     "email": "d07@council.example.org", "phone": "212-555-0107", "url": None},
    {"person_id": 8, "name": "Dana Whitfield", "title": "Chair", "start": "2020-01-01", "end": "2023-12-31",
     "email": "d41@council.example.org", "phone": None, "url": None}])


def test_meeting_cancellations_say_why_they_matter_and_what_to_do(tmp_path: Path, mailbox: Mailbox,
                                                                   frozen_now: Any) -> None:
    config, store = setup(tmp_path, mailbox)
    ingest(store, Item(key=body_key("nyc", 19), kind="body", source_id="legistar:safety", watch_ids=["safety"],
                       content=ROSTER), lambda old, new, key: [])
    store_meeting(store, config, "meeting:ical:schools:15582", "schools", BUDGET_HEARING)
    store_meeting(store, config, "meeting:legistar:nyc:20115", "safety", HEARING_20115)
    assert notify(store, config).sent == 0  # baselines tell nobody

    store_meeting(store, config, "meeting:ical:schools:15582", "schools",
                  replace(BUDGET_HEARING, status="cancelled", status_text="CANCELLED"))
    store_meeting(store, config, "meeting:legistar:nyc:20115", "safety",
                  replace(HEARING_20115, status="cancelled", status_text="Deferred"))
    report = notify(store, config)
    assert report.sent == 2 and report.failed == 0
    got = mails(mailbox, "ana@example.org")
    schools = got["Cancelled: Board of Education Budget Hearing, Tue Dec 8, 4:00 PM"]
    assert "Campaign: Fund our schools" in schools
    assert "When: Tue Dec 8, 2026, 4:00 PM EST (cancelled)" in schools
    assert "On its agenda (budget): Budget Hearing" in schools  # why it matters to this campaign
    assert f"How to take part: {TESTIMONY}" in schools and "Deadline: by 5:00 PM the day before" in schools
    assert "Agenda <https://board.example.org/agenda-15582.pdf>" in schools
    assert "Video <https://board.example.org/live> (Livestream)" in schools
    assert "Watch live" not in schools  # it is cancelled
    # an iCal event with no page of its own links to where its body lists it
    assert "Where it is listed: https://board.example.org/calendar.ics <https://board.example.org/calendar.ics>" in schools

    safety = got["Deferred: Committee on Public Safety, Fri Dec 4, 10:00 AM"]
    assert "Campaign: Stop ShotSpotter" in safety
    assert 'cancelled: the source says "Deferred"' in safety
    assert "Meeting page: https://nyc.legistar.com/MeetingDetail.aspx?LEGID=20115 <https://nyc.legistar.com/" in safety
    assert "On its agenda (ShotSpotter): Int 0123 - Ending the use of ShotSpotter (Int 0123-2026)" in safety
    assert "Members of the Committee on Public Safety:" in safety
    assert "Chair: Marcus Ortega, d07@council.example.org, 212-555-0107" in safety and "Dana Whitfield" not in safety

    # the next morning's bundle says the same of each meeting, under each campaign's name
    frozen_now("2026-11-25T13:05:00Z")  # 8:05 in New York: the daily period closed
    close_bundles(store, config)
    notify(store, config)
    ((_subject, bundle),) = mails(mailbox, "bo@example.org").items()
    lines = bundle.splitlines()
    assert "Fund our schools" in lines and "Stop ShotSpotter" in lines
    assert "Where it is listed: https://board.example.org/calendar.ics <https://board.example.org/calendar.ics>" in lines
    assert "Deadline: by 5:00 PM the day before" in lines
    assert "Chair: Marcus Ortega, d07@council.example.org, 212-555-0107" in bundle
    assert any(line.startswith("Meeting page: https://nyc.legistar.com/MeetingDetail.aspx?LEGID=20115") for line in lines)


def test_sponsor_lines_have_one_shape_in_instant_alerts_and_bundles(tmp_path: Path, mailbox: Mailbox,
                                                                     frozen_now: Any) -> None:
    """No members' data stored (the legislators source has not been read): S. 35's sponsor, as
    BILLSTATUS names them ("Sen. Van Hollen, Chris [D-MD]"), is named as the directory would name them,
    in the instant alert and in the bundle alike."""
    config, store = setup(tmp_path, mailbox)
    record(store, config, "referred")  # baseline
    record(store, config, "passed_senate")
    notify(store, config)
    frozen_now("2026-11-25T13:05:00Z")
    close_bundles(store, config)
    notify(store, config)
    ((_s, instant),) = mails(mailbox, "ana@example.org").items()
    ((_b, bundle),) = mails(mailbox, "bo@example.org").items()
    for text in (instant, bundle):
        sponsor = [line.strip() for line in text.splitlines() if "Sponsor:" in line]
        assert sponsor == ["Sponsor: Sen. Chris Van Hollen (D-MD)"], text
    assert "Campaign: Police accountability" in instant and "Police accountability" in bundle.splitlines()
