"""Time as organizers meet it: the clocks changing (US 2026: March 8 and November 1), bodies in New
York, Phoenix (no daylight saving) and Honolulu under a tracker set to another zone, a meeting whose
time is to be announced. Bundles and reminders go through the real outbox and a real SMTP server on
loopback; the digest is written to disk and read back (lxml, icalendar); time moves with the frozen
clock (TRACKER_NOW). Meetings are derived (written here), stored and diffed by the real store and
differ."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from email.header import decode_header, make_header
from pathlib import Path
from typing import Any

import icalendar
import pytest
from alerting import POLICE, fresh_store, record, write_config
from lxml import html
from servers import Mailbox
from test_reminders import shown

from tracker.alerts.notifier import notify
from tracker.changes import Change, dedupe_key
from tracker.config import Config, load_config
from tracker.meetings.diff import diff_meeting
from tracker.outbox import close_bundles, owe_instant, sync_subscribers
from tracker.records import Bill, Item, Meeting
from tracker.reminders import owe_reminders
from tracker.store import Store, ensure_watches, ingest

ANA = "ana@example.org"
# Three bodies, each its own watch and zone; the tracker (bundles, operator lines) in Chicago.
ZONES = {"nyc": "America/New_York", "phx": "America/Phoenix", "hnl": "Pacific/Honolulu"}
WATCHES = "".join(f'[[meetings]]\nid = "{watch}"\nname = "Campaign {watch}"\ntimezone = "{zone}"\n'
                  f'ical = "https://example.org/{watch}.ics"\nkeywords = ["police"]\n' for watch, zone in ZONES.items())


def mail_to(mailbox: Mailbox) -> str:
    return f"mailto://127.0.0.1:{mailbox.port}?smtp=127.0.0.1&from=tracker@example.org&to={ANA}"


def subjects(mailbox: Mailbox) -> list[str]:
    return [str(make_header(decode_header(mail["Subject"]))) for _, mail in mailbox.messages]


def texts(mailbox: Mailbox) -> list[str]:
    """Each message's HTML part as its reader sees it (tests/test_reminders.py `shown`)."""
    return [shown(mail) for _, mail in mailbox.messages]


def plain_parts(mailbox: Mailbox) -> list[str]:
    return [part.get_payload(decode=True).decode() for _, mail in mailbox.messages for part in mail.walk()
            if part.get_content_type() == "text/plain"]


def meetings_config(tmp_path: Path, db_url: str, subscribers: list[dict[str, Any]],
                    tracker_zone: str = "America/Chicago") -> tuple[Config, Store]:
    path = write_config(tmp_path, db_url=db_url, alerts={"daily_at": "08:00"}, bills=[], subscribers=subscribers,
                        extra=WATCHES + f'[tracker]\ntimezone = "{tracker_zone}"\n')
    config = load_config(path, env={})
    store = Store(config.database_url)
    with store.session() as session:
        ensure_watches(session, [(w.id, "meeting", w.name) for w in config.meetings])
        sync_subscribers(session, config)
    return config, store


def police_meeting(watch: str, ref: str, day: str, start: str | None, **fields: Any) -> Meeting:
    """DERIVED: a meeting of `watch`'s body whose title holds the campaign's keyword (its one item)."""
    return Meeting(source="ical", source_ref=ref, body=f"{watch.upper()} Council", title="Police oversight",
                   date=day, timezone=ZONES[watch], start=start, time_tbd=start is None,
                   items=[{"key": "title", "title": "Police oversight", "matter": None, "keywords": ["police"]}],
                   **fields)


def store_meeting(store: Store, config: Config, watch: str, meeting: Meeting) -> None:
    ingest(store, Item(key=f"meeting:ical:{watch}:{meeting.source_ref}", kind="meeting", source_id=f"ical:{watch}",
                       watch_ids=[watch], content=meeting),
           diff_meeting, on_change=lambda session, change: owe_instant(session, change, config))


# -- bundles: the close at `daily_at` across a change of clocks ------------------------------------------------


def test_a_daily_bundle_closing_in_the_hour_clocks_repeat_closes_once(tmp_path: Path, db_url: str, mailbox: Mailbox,
                                                                      frozen_now: Any) -> None:
    """`daily_at = "01:30"` in New York: on Sunday November 1 the clocks read 1:30 twice. The period
    closes once, at the first (05:30 UTC); a change of the hour between goes in the next day's
    bundle; notify, run every five minutes as cron does, never fails."""
    path = write_config(tmp_path, db_url=db_url, alerts={"daily_at": "01:30"}, bills=[POLICE],
                        subscribers=[{"id": "ana", "notify": [mail_to(mailbox)], "mode": "daily"}],
                        extra='[tracker]\ntimezone = "America/New_York"\n')
    config = load_config(path, env={})
    frozen_now("2026-10-31T12:00:00Z")
    store = fresh_store(config)
    record(store, config, "referred")  # the baseline
    news = {datetime(2026, 11, 1, 5, 0, tzinfo=UTC): "passed_senate",  # 1:00 AM EDT, before the close
            datetime(2026, 11, 1, 6, 5, tzinfo=UTC): "passed_both"}  # 1:05 AM EST, after it
    owed: dict[str, int] = {}
    now = datetime(2026, 11, 1, 4, 0, tzinfo=UTC)
    while now <= datetime(2026, 11, 1, 8, 0, tzinfo=UTC):
        frozen_now(now.isoformat())
        if now in news:
            record(store, config, news[now])
        if count := close_bundles(store, config):
            owed[now.isoformat()] = count
        notify(store, config)
        now += timedelta(minutes=5)
    assert owed == {"2026-11-01T05:30:00+00:00": 1}
    assert subjects(mailbox) == ["tracker daily digest for 2026-11-01: 1 change"]
    assert "passed the Senate" in texts(mailbox)[0] and "passed both" not in texts(mailbox)[0]
    frozen_now("2026-11-02T06:30:00Z")  # the next close: 1:30 AM EST on Monday
    assert close_bundles(store, config) == 1 and notify(store, config).sent == 1
    assert subjects(mailbox)[1] == "tracker daily digest for 2026-11-02: 1 change"
    assert "passed both chambers" in texts(mailbox)[1]


def action(store: Store, config: Config, text: str) -> None:
    """DERIVED: S. 35 with a new latest action, told as a `bill.action` change of its own."""
    content = Bill(number="s35-117", display="S. 35", congress=117, type="s", stage="referred", title="Derived",
                   latest_action={"date": "2026-11-01", "text": text})
    ingest(store, Item(key="bill:s35-117", kind="bill", source_id="govinfo", watch_ids=["police"], content=content),
           lambda old, new, key: [Change("bill.action", key, f"S. 35: {text}", dedupe_key(key, "action", text),
                                         {"text": text})] if old is not None else [],
           on_change=lambda session, change: owe_instant(session, change, config))


@pytest.mark.parametrize(("first", "closes"), [
    ("2026-03-07T00:00:00Z", ["2026-03-07T13:00:00+00:00", "2026-03-08T12:00:00+00:00"]),  # a 23-hour day
    ("2026-10-31T00:00:00Z", ["2026-10-31T12:00:00+00:00", "2026-11-01T13:00:00+00:00"])])  # a 25-hour day
def test_a_daily_bundle_closes_at_8_am_on_each_side_of_a_change(first: str, closes: list[str], tmp_path: Path,
                                                                 sqlite_url: str, mailbox: Mailbox,
                                                                 frozen_now: Any) -> None:
    """The default `daily_at` in New York, the tracker's zone: the period closes once a day at 8:00
    on the wall, 23 or 25 hours apart when the clocks change between; a change each quarter hour is
    in exactly one bundle."""
    path = write_config(tmp_path, db_url=sqlite_url, alerts={"daily_at": "08:00"}, bills=[POLICE],
                        subscribers=[{"id": "ana", "notify": [mail_to(mailbox)], "mode": "daily"}],
                        extra='[tracker]\ntimezone = "America/New_York"\n')
    config = load_config(path, env={})
    frozen_now(first)
    store = fresh_store(config)
    action(store, config, "Referred")  # the baseline
    closed: list[str] = []
    now = datetime.fromisoformat(first)
    while now < datetime.fromisoformat(first) + timedelta(hours=47):
        frozen_now(now.isoformat())
        action(store, config, f"Action of {now:%b %d %H:%M}Z")  # a change every quarter hour
        if close_bundles(store, config):
            closed.append(now.isoformat())
        now += timedelta(minutes=15)
    assert closed == closes
    assert notify(store, config).sent == 2
    counts = [int(subject.rsplit(": ", 1)[1].split()[0]) for subject in subjects(mailbox)]
    hours = (datetime.fromisoformat(closes[1]) - datetime.fromisoformat(closes[0])).total_seconds() / 3600
    assert counts[1] == hours * 4  # the day's changes, each once: one each quarter hour since the last close


# -- a meeting whose time is to be announced, as alerts say it ------------------------------------------------


def tba_meeting_moved_to_room_2(tmp_path: Path, db_url: str, mailbox: Mailbox) -> None:
    """Ana (instant) follows New York's body; its Thursday meeting, time to be announced, gets a new place."""
    config, store = meetings_config(tmp_path, db_url, [{"id": "ana", "notify": [mail_to(mailbox)], "follow": ["nyc"]}])
    for place in ("City Hall", "Room 2"):  # a baseline, then the new place
        store_meeting(store, config, "nyc", police_meeting("nyc", "1", "2026-11-26", None, location=place))
    assert notify(store, config).sent == 1


def test_an_alert_says_the_day_of_a_meeting_whose_time_is_to_be_announced_in_words(
        tmp_path: Path, db_url: str, mailbox: Mailbox, frozen_now: Any) -> None:
    """The digest says "Thu Nov 26, 2026, time to be announced"; the alert said "When: 2026-11-26",
    the ISO form and not that its time is still to come, in the HTML part and the plain-text one."""
    tba_meeting_moved_to_room_2(tmp_path, db_url, mailbox)
    (text,) = texts(mailbox)
    assert "When: Thu Nov 26, 2026, time to be announced" in text.splitlines()
    (plain,) = plain_parts(mailbox)
    assert "When: Thu Nov 26, 2026, time to be announced" in plain and "When: 2026-11-26" not in plain


def test_an_alerts_subject_says_the_day_of_a_meeting_whose_time_is_to_be_announced_in_words(
        tmp_path: Path, db_url: str, mailbox: Mailbox, frozen_now: Any) -> None:
    tba_meeting_moved_to_room_2(tmp_path, db_url, mailbox)
    (subject,) = subjects(mailbox)
    assert subject.startswith("New place: NYC Council Police oversight, Thu Nov 26"), subject
    assert "2026-11-26" not in subject


# -- what holds (guards): reminders and alert times across the change, the digest's days and calendar --------


def test_reminders_and_alert_times_across_the_fall_back_in_three_zones(tmp_path: Path, sqlite_url: str,
                                                                        mailbox: Mailbox, frozen_now: Any) -> None:
    """Ana asks for reminders two days before and on the morning of each meeting; the tracker is set
    to Chicago. Each body's 10 AM meeting of Sunday November 1 (New York falls back that night;
    Phoenix and Honolulu keep their time) and New York's of Friday October 30 (still EDT): each
    alert says the body's own time and zone on its side of the change, each reminder goes once, at
    48 hours before or 8:00 on the meeting's morning where its body sits (8:00 EST on November 1,
    not 8:00 EDT), read every quarter hour as cron runs notify."""
    config, store = meetings_config(tmp_path, sqlite_url, [
        {"id": "ana", "notify": [mail_to(mailbox)], "reminders": ["2d", "morning"]}])
    frozen_now("2026-10-25T12:00:00Z")
    starts = {("nyc", "fri"): ("2026-10-30", "2026-10-30T14:00:00+00:00"),  # 10 AM EDT
              ("nyc", "sun"): ("2026-11-01", "2026-11-01T15:00:00+00:00"),  # 10 AM EST
              ("phx", "sun"): ("2026-11-01", "2026-11-01T17:00:00+00:00"),  # 10 AM MST
              ("hnl", "sun"): ("2026-11-01", "2026-11-01T20:00:00+00:00")}  # 10 AM HST
    for (watch, ref), (day, start) in starts.items():  # listed a day early, then moved: an alert each
        store_meeting(store, config, watch, police_meeting(watch, ref, "2026-10-29", "2026-10-29T14:00:00+00:00"))
        store_meeting(store, config, watch, police_meeting(watch, ref, day, start))
    assert notify(store, config).sent == 4
    moved = {subject: next(line for line in text.splitlines() if line.startswith("When: "))
             for subject, text in zip(subjects(mailbox), texts(mailbox), strict=True)}
    assert moved == {
        "Moved: NYC Council Police oversight, now Fri Oct 30, 10:00 AM": "When: Fri Oct 30, 2026, 10:00 AM EDT",
        "Moved: NYC Council Police oversight, now Sun Nov 1, 10:00 AM": "When: Sun Nov 1, 2026, 10:00 AM EST",
        "Moved: PHX Council Police oversight, now Sun Nov 1, 10:00 AM": "When: Sun Nov 1, 2026, 10:00 AM MST",
        "Moved: HNL Council Police oversight, now Sun Nov 1, 10:00 AM": "When: Sun Nov 1, 2026, 10:00 AM HST"}
    got: list[tuple[str, str, str, str]] = []
    now = datetime(2026, 10, 30, 0, 0, tzinfo=UTC)
    while now <= datetime(2026, 11, 1, 21, 0, tzinfo=UTC):
        frozen_now(now.isoformat())
        owe_reminders(store, config)
        if notify(store, config).sent:
            for line in texts(mailbox)[-1].splitlines():
                if line.startswith("Reminder: "):
                    said = line.rsplit(" meets ", 1)[1]
                if line.startswith("When: "):
                    got.append((now.strftime("%b %d %H:%MZ"), subjects(mailbox)[-1].split(",")[0], said, line))
        now += timedelta(minutes=15)
    assert got == [
        # New York's Friday meeting: its two days' reminder was due before notify ran, its morning 8:00 EDT
        ("Oct 30 00:00Z", "Reminder: NYC Council Police oversight", "in 14 hours.", "When: Fri Oct 30, 2026, 10:00 AM EDT"),
        ("Oct 30 12:00Z", "Reminder: NYC Council Police oversight", "in 2 hours.", "When: Fri Oct 30, 2026, 10:00 AM EDT"),
        # Sunday's: 48 hours before each (11 AM EDT Friday in New York), then 8:00 where each body sits
        ("Oct 30 15:00Z", "Reminder: NYC Council Police oversight", "in 2 days.", "When: Sun Nov 1, 2026, 10:00 AM EST"),
        ("Oct 30 17:00Z", "Reminder: PHX Council Police oversight", "in 2 days.", "When: Sun Nov 1, 2026, 10:00 AM MST"),
        ("Oct 30 20:00Z", "Reminder: HNL Council Police oversight", "in 2 days.", "When: Sun Nov 1, 2026, 10:00 AM HST"),
        ("Nov 01 13:00Z", "Reminder: NYC Council Police oversight", "in 2 hours.", "When: Sun Nov 1, 2026, 10:00 AM EST"),
        ("Nov 01 15:00Z", "Reminder: PHX Council Police oversight", "in 2 hours.", "When: Sun Nov 1, 2026, 10:00 AM MST"),
        ("Nov 01 18:00Z", "Reminder: HNL Council Police oversight", "in 2 hours.", "When: Sun Nov 1, 2026, 10:00 AM HST")]


def test_the_digest_puts_each_meeting_on_its_bodys_day_and_its_calendar_at_the_stored_instant(
        tmp_path: Path, frozen_now: Any) -> None:
    """Seen at 8:30 UTC on Monday October 26: 4:30 AM Monday in New York, 1:30 AM in Phoenix, 10:30
    PM Sunday in Honolulu; the tracker set to Chicago. "This week" is today to six days on where each
    body meets: New York's and Phoenix's through Sunday November 1 (the day New York falls back: its
    1:30 AM twice, 11:30 PM), Honolulu's through Saturday October 31. Each card and meeting page says
    the body's time and zone; each VEVENT's DTSTART, read by the icalendar package, is the stored
    instant."""
    from test_digest_this_week import one_bill_store

    from tracker.digest import write_site
    from tracker.words import meeting_page

    frozen_now("2026-10-26T08:30:00Z")
    config, store = one_bill_store(tmp_path, WATCHES + '[tracker]\ntimezone = "America/Chicago"\n')
    meetings = {  # ref: (watch, local day, stored start, what its card says, its section)
        "nyc-1": ("nyc", "2026-11-01", "2026-11-01T05:30:00+00:00", "Sun Nov 1, 2026, 1:30 AM EDT", "this-week"),
        "nyc-2": ("nyc", "2026-11-01", "2026-11-01T06:30:00+00:00", "Sun Nov 1, 2026, 1:30 AM EST", "this-week"),
        "nyc-3": ("nyc", "2026-11-01", "2026-11-02T04:30:00+00:00", "Sun Nov 1, 2026, 11:30 PM EST", "this-week"),
        "nyc-4": ("nyc", "2026-11-02", "2026-11-02T05:00:00+00:00", "Mon Nov 2, 2026, 12:00 AM EST", "coming-up"),
        "phx-1": ("phx", "2026-11-01", "2026-11-02T06:30:00+00:00", "Sun Nov 1, 2026, 11:30 PM MST", "this-week"),
        "phx-2": ("phx", "2026-11-02", "2026-11-02T07:00:00+00:00", "Mon Nov 2, 2026, 12:00 AM MST", "coming-up"),
        "hnl-1": ("hnl", "2026-10-25", "2026-10-26T09:00:00+00:00", "Sun Oct 25, 2026, 11:00 PM HST", "this-week"),
        "hnl-2": ("hnl", "2026-10-31", "2026-11-01T09:30:00+00:00", "Sat Oct 31, 2026, 11:30 PM HST", "this-week"),
        "hnl-3": ("hnl", "2026-11-01", "2026-11-01T20:00:00+00:00", "Sun Nov 1, 2026, 10:00 AM HST", "coming-up")}
    for ref, (watch, day, start, _, _) in meetings.items():
        ingest(store, Item(key=f"meeting:ical:{watch}:{ref}", kind="meeting", source_id=f"ical:{watch}",
                           watch_ids=[watch], content=police_meeting(watch, ref, day, start)), lambda old, new, key: [])
    site = write_site(store, config, tmp_path / "site")
    page = html.parse(str(site / "index.html")).getroot()
    pages = {f"{meeting_page(f'meeting:ical:{watch}:{ref}')}.html": ref for ref, (watch, *_) in meetings.items()}
    cards = {}
    for section in ("this-week", "coming-up"):
        for card in page.cssselect(f"section[aria-labelledby='{section}'] article"):
            ref = pages[card.cssselect("h3 a")[0].get("href")]
            cards[ref] = section
            assert meetings[ref][3] in " ".join(card.text_content().split()), ref
    assert cards == {ref: section for ref, (*_, section) in meetings.items()}
    for ref, (watch, _, _, said, _) in meetings.items():
        own = html.parse(str(site / f"{meeting_page(f'meeting:ical:{watch}:{ref}')}.html")).getroot()
        assert said in " ".join(own.text_content().split()), ref
    calendar = icalendar.Calendar.from_ical((site / "meetings.ics").read_bytes())
    starts = {str(event["UID"]).split(":")[-1].removesuffix("@tracker"): event.decoded("DTSTART")
              for event in calendar.walk("VEVENT")}
    assert starts == {ref: datetime.fromisoformat(start) for ref, (_, _, start, _, _) in meetings.items()}


def test_a_listed_time_the_clocks_repeat_or_skip_is_one_instant_stored_and_shown() -> None:
    """1:30 AM on November 1 happens twice in New York, 2:30 AM on March 8 not at all. A Legistar
    row and an iCalendar feed (TZID, and a floating time read in the watch's zone) each store one UTC
    instant, and alerts show that instant: the first 1:30 (EDT); the skipped 2:30 read with the offset
    before the change (RFC 5545 3.3.5), so 3:30 AM EDT. None fails to read."""
    from listings import listing_of

    from tracker.meetings.ical import parse_ical
    from tracker.meetings.legistar import event_start
    from tracker.words import local_time

    zone = "America/New_York"
    expected = {"2026-11-01": ("2026-11-01T05:30:00+00:00", "Sun Nov 1, 2026, 1:30 AM EDT"),
                "2026-03-08": ("2026-03-08T07:30:00+00:00", "Sun Mar 8, 2026, 3:30 AM EDT")}
    listed = {"2026-11-01": "1:30 AM", "2026-03-08": "2:30 AM"}
    for day, clock in listed.items():
        start, _, tbd = event_start({"EventDate": f"{day}T00:00:00", "EventTime": clock}, zone)
        assert (start, local_time(start, zone)) == expected[day] and not tbd
    feed = (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:derived\r\n"
            b"BEGIN:VEVENT\r\nUID:tzid-fall\r\nSUMMARY:Board\r\nDTSTART;TZID=America/New_York:20261101T013000\r\n"
            b"END:VEVENT\r\nBEGIN:VEVENT\r\nUID:float-fall\r\nSUMMARY:Board\r\nDTSTART:20261101T013000\r\nEND:VEVENT\r\n"
            b"BEGIN:VEVENT\r\nUID:tzid-spring\r\nSUMMARY:Board\r\nDTSTART;TZID=America/New_York:20260308T023000\r\n"
            b"END:VEVENT\r\nBEGIN:VEVENT\r\nUID:float-spring\r\nSUMMARY:Board\r\nDTSTART:20260308T023000\r\n"
            b"END:VEVENT\r\nEND:VCALENDAR\r\n")
    meetings, problems = listing_of(parse_ical, feed, watch_id="x", body="Board", timezone=zone,
                                    window_start=datetime(2026, 1, 1, tzinfo=UTC),
                                    window_end=datetime(2027, 1, 1, tzinfo=UTC))
    assert problems == []
    assert {m["source_ref"]: (m["start"], local_time(m["start"], zone)) for m in meetings} == {
        "tzid-fall": expected["2026-11-01"], "float-fall": expected["2026-11-01"],
        "tzid-spring": expected["2026-03-08"], "float-spring": expected["2026-03-08"]}


def test_whom_to_write_to_is_the_bodys_members_on_its_own_day(tmp_path: Path, frozen_now: Any) -> None:
    """At 10 PM in New York on December 4 (03:00 UTC on the 5th), a member whose term ends on the
    4th still sits, and one whose term starts on the 5th does not yet: the roster was judged by the
    UTC date, so the first was left out of whom to write to, and the second named, hours early."""
    from tracker.meetings.legistar import body_key, meeting_key
    from tracker.meetings.officers import BodyMember
    from tracker.queries import body_members_now
    from tracker.records import Body, Item, Meeting
    from tracker.store import Store, ensure_watches, ingest

    frozen_now("2026-12-05T03:00:00Z")
    store = Store(f"sqlite:///{tmp_path / 'roster.db'}")
    with store.session() as session:
        ensure_watches(session, [("safety", "meeting", "Stop ShotSpotter")])
    meeting = Meeting(source="legistar", source_ref="20111", body="Committee on Public Safety",
                      title="Committee on Public Safety", date="2026-12-10", timezone="America/New_York",
                      start="2026-12-10T15:00:00Z", extra={"body_id": 19})
    ingest(store, Item(key=meeting_key("nyc", "20111"), kind="meeting", source_id="legistar:safety",
                       watch_ids=["safety"], content=meeting), lambda old, new, key: [])
    members = [BodyMember(person_id=1, name="Ana Outgoing", title="Chair", start=date(2022, 1, 1), end=date(2026, 12, 4),
                          email="ana@council.example.gov", phone=None, url=None),
               BodyMember(person_id=2, name="Bo Incoming", title="Chair", start=date(2026, 12, 5), end=None,
                          email="bo@council.example.gov", phone=None, url=None)]
    ingest(store, Item(key=body_key("nyc", 19), kind="body", source_id="legistar:safety", watch_ids=["safety"],
                       content=Body(source="legistar", source_ref="19", name="Committee on Public Safety",
                                    members=[member.dump() for member in members])), lambda old, new, key: [])
    with store.session() as session:
        roster = body_members_now(session, meeting_key("nyc", "20111"))
    assert roster is not None
    assert roster.lines == ["Chair: Ana Outgoing, ana@council.example.gov"]
