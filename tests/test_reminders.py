"""Reminders before meetings (issue 23), read back from a real SMTP server on loopback.

A subscriber with `reminders = ["2d", "morning"]` gets one message per reminder before each meeting
of a followed body that carries a matching item or a followed council matter: the item, how to take
part, the meeting's page and documents, and whom to write (the body's current members). A moved
meeting moves its reminder (the one owed for the old start is not sent), a cancelled one cancels
it (and its cancellation says so when the reminder already went), a subscriber who did not ask or
is paused gets none, and each goes once even with two `tracker notify` processes at once.

Meeting data: NYC's recorded Legistar events of the Committee on Public Safety (the demo's copy,
moved to the weeks around the frozen clock) and its recorded office records and persons, read by
the tracker's own Legistar readers; the agenda items are the demo's derived ones (tracker/demo), the
testimony note is derived (written here). Stored and diffed by the real store and differs; time
moves with the frozen clock (TRACKER_NOW).
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, date, datetime
from email.header import decode_header, make_header
from email.message import Message
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from alerting import statuses, tracker_env, write_config
from lxml import html
from servers import Mailbox

from tracker.alerts.notifier import notify
from tracker.config import Config, ConfigError, load_config
from tracker.demo import DATA, NYC_ANCHOR, days_since, nyc_events, nyc_items
from tracker.meetings.diff import diff_matter, diff_meeting
from tracker.meetings.legistar import (
    body_key,
    matter_fields,
    matter_key,
    meeting_key,
    normalize_event,
    normalize_items,
    normalize_matter,
)
from tracker.meetings.officers import body_members
from tracker.outbox import close_bundles, owe_instant, sync_subscribers
from tracker.records import Body, Item, Meeting
from tracker.reminders import due_at, owe_reminders
from tracker.store import Store, ensure_watches, ingest

ZONE = "America/New_York"
KEYWORDS = ["NYPD"]
# DERIVED: a testimony note in the form NYC's hearings give it (the recorded event has none).
TESTIMONY = "Public testimony: register at https://council.nyc.gov/testify/ by 5 PM the day before."
EVENTS = {event["EventId"]: event for event in nyc_events(days_since(NYC_ANCHOR, date(2026, 11, 25)), later=True)}
LEGISTAR = Path(__file__).parent / "data" / "local" / "legistar"
WATCH = f"""[[meetings]]
id = "safety"
name = "Stop ShotSpotter"
timezone = "{ZONE}"
legistar = {{ client = "nyc", bodies = ["Committee on Public Safety"] }}
keywords = {json.dumps(KEYWORDS)}
"""
ANA, BO, CY = "ana@example.org", "bo@example.org", "cy@example.org"


def mail_to(mailbox: Mailbox, address: str) -> str:
    return f"mailto://127.0.0.1:{mailbox.port}?smtp=127.0.0.1&from=tracker@example.org&to={address}"


def setup(tmp_path: Path, mailbox: Mailbox, db_url: str, subscribers: list[dict[str, Any]] | None = None) -> tuple[Config, Store]:
    """Ana asked for reminders two days before and on the morning; Bo did not ask; Cy asked but is
    paused. All three follow the Committee on Public Safety's watch."""
    subscribers = subscribers or [
        {"id": "ana", "notify": [mail_to(mailbox, ANA)], "reminders": ["2d", "morning"]},
        {"id": "bo", "notify": [mail_to(mailbox, BO)]},
        {"id": "cy", "notify": [mail_to(mailbox, CY)], "reminders": ["2d"], "paused": True}]
    path = write_config(tmp_path, db_url=db_url, alerts={"daily_at": "08:00"}, bills=[], subscribers=subscribers,
                        extra=WATCH)
    config = load_config(path, env={})
    store = Store(config.database_url)
    with store.session() as session:
        ensure_watches(session, [(w.id, "meeting", w.name) for w in config.meetings])
        sync_subscribers(session, config)
    roster = json.loads((DATA / "legistar" / "officerecords_body19.json").read_text())
    persons = json.loads((DATA / "legistar" / "persons_body19.json").read_text())
    members = [member.dump() for member in body_members(roster, persons)]
    ingest(store, Item(key=body_key("nyc", 19), kind="body", source_id="legistar:safety", watch_ids=["safety"],
                       content=Body(source="legistar", source_ref="19", name="Committee on Public Safety",
                                    members=members)), lambda old, new, key: [])
    return config, store


def hearing(event_id: int = 20111, *, day: str | None = None, time: str | None = None, status: str | None = None,
            items: list[dict[str, Any]] | None = None, comment: str | None = TESTIMONY) -> Meeting:
    """A recorded event as the Legistar reader makes it, moved to `day` (and `time`) or with its
    agenda status (`"Deferred"`) when given."""
    event = dict(EVENTS[event_id], EventComment=comment)
    if day:
        event["EventDate"] = f"{day}T00:00:00"
    if time is not None:
        event["EventTime"] = time
    if status:
        event["EventAgendaStatusName"] = status
    rows = nyc_items(later=True) if items is None else items
    return normalize_event(event, normalize_items(rows, KEYWORDS), zone=ZONE)


def store_meeting(store: Store, config: Config, meeting: Meeting) -> None:
    ingest(store, Item(key=meeting_key("nyc", meeting.source_ref), kind="meeting", source_id="legistar:safety",
                       watch_ids=["safety"], content=meeting),
           diff_meeting, on_change=lambda session, change: owe_instant(session, change, config))


def send(store: Store, config: Config) -> int:
    """What `tracker notify` does before claiming, then the claim: returns how many were sent."""
    owe_reminders(store, config)
    return notify(store, config).sent


def received(mailbox: Mailbox, address: str) -> list[tuple[str, str]]:
    """Each message to `address`, in order: its subject and the words and links its reader sees
    (the HTML part's text, each link followed by its address)."""
    return [(str(make_header(decode_header(mail["Subject"]))), shown(mail))
            for rcpt, mail in mailbox.messages if rcpt == [address]]


def shown(mail: Message) -> str:
    part = next(p for p in mail.walk() if p.get_content_type() == "text/html")
    root = html.fromstring(part.get_payload(decode=True).decode())
    for link in root.iter("a"):
        link.tail = f" <{link.get('href')}>" + (link.tail or "")
    for br in root.iter("br"):
        br.tail = "\n" + (br.tail or "")
    return "\n".join(" ".join(line.split()) for line in root.text_content().splitlines())


def subjects(mailbox: Mailbox, address: str) -> list[str]:
    return [subject for subject, _ in received(mailbox, address)]


def test_a_reminder_goes_at_its_time_with_the_item_how_to_take_part_and_whom_to_write(
        tmp_path: Path, mailbox: Mailbox, db_url: str, frozen_now: Any) -> None:
    config, store = setup(tmp_path, mailbox, db_url)
    store_meeting(store, config, hearing())  # Mon Dec 14, 10:00 AM in New York (15:00 UTC)
    assert send(store, config) == 0  # a baseline tells nobody, and no reminder is due

    frozen_now("2026-12-12T14:59:00Z")  # a minute before two days ahead
    assert owe_reminders(store, config) == 0 and send(store, config) == 0
    frozen_now("2026-12-12T15:00:00Z")
    assert owe_reminders(store, config) == 1  # Ana only: Bo did not ask, Cy is paused
    assert notify(store, config).sent == 1
    ((subject, text),) = received(mailbox, ANA)
    assert subject == "Reminder: Committee on Public Safety, Mon Dec 14, 10:00 AM"
    assert "Reminder: Committee on Public Safety meets in 2 days." in text
    assert "Campaign: Stop ShotSpotter" in text
    assert "When: Mon Dec 14, 2026, 10:00 AM EST" in text
    assert "On its agenda (NYPD): Oversight - NYPD Response to Mental Health Crises" in text
    assert f"How to take part: {TESTIMONY}" in text and "Deadline: by 5 PM the day before" in text
    assert "Meeting page: https://nyc.legistar.com/MeetingDetail.aspx?LEGID=20111" in text
    assert "Agenda <https://nyc.legistar1.com/nyc/meetings/2023/6/20111_A_Committee_on_Public_Safety" in text
    lines = text.splitlines()
    assert lines.index("Who to write:") < lines.index("Members of the Committee on Public Safety:")
    assert "Chair: Marcus Ortega, d07@council.nyc.example" in text  # the body's current members
    assert "Dana Whitfield" not in text  # a former member is not named
    assert received(mailbox, BO) == [] and received(mailbox, CY) == []

    assert send(store, config) == 0  # once: owing it again owes nothing new
    frozen_now("2026-12-14T12:59:00Z")
    assert send(store, config) == 0
    frozen_now("2026-12-14T13:00:00Z")  # 8:00 in New York: the morning's reminder
    assert send(store, config) == 1
    assert subjects(mailbox, ANA) == ["Reminder: Committee on Public Safety, Mon Dec 14, 10:00 AM"] * 2
    assert "Reminder: Committee on Public Safety meets in 2 hours." in received(mailbox, ANA)[1][1]
    frozen_now("2026-12-14T16:00:00Z")
    assert send(store, config) == 0 and len(mailbox.messages) == 2
    assert statuses(store) == {"sent": 2}


def test_a_moved_meeting_moves_its_reminder(tmp_path: Path, mailbox: Mailbox, db_url: str, frozen_now: Any) -> None:
    config, store = setup(tmp_path, mailbox, db_url)
    store_meeting(store, config, hearing())  # Mon Dec 14, 10:00 AM
    frozen_now("2026-12-12T15:00:00Z")
    assert send(store, config) == 1  # the two days' reminder of Dec 14 went
    # after the reminder went: the hearing moves to Wednesday; the move is an alert, no reminder yet
    frozen_now("2026-12-12T16:00:00Z")
    store_meeting(store, config, hearing(day="2026-12-16"))
    assert send(store, config) == 2  # the move, to Ana and to Bo
    assert subjects(mailbox, ANA) == ["Reminder: Committee on Public Safety, Mon Dec 14, 10:00 AM",
                                      "Moved: Committee on Public Safety, now Wed Dec 16, 10:00 AM"]
    # the new start gets its own reminder when due ...
    frozen_now("2026-12-14T15:00:00Z")
    assert owe_reminders(store, config) == 1
    # ... but before it is sent the hearing moves again, to Friday: the one owed for Wednesday is not sent
    store_meeting(store, config, hearing(day="2026-12-18"))
    assert send(store, config) == 2
    assert subjects(mailbox, ANA)[2:] == ["Moved: Committee on Public Safety, now Fri Dec 18, 10:00 AM"]
    assert statuses(store) == {"sent": 5}  # Ana's three messages, Bo's two; the withdrawn reminder is owed no more
    frozen_now("2026-12-16T15:00:00Z")
    assert send(store, config) == 1
    ((subject, text),) = received(mailbox, ANA)[3:]
    assert subject == "Reminder: Committee on Public Safety, Fri Dec 18, 10:00 AM"
    assert "When: Fri Dec 18, 2026, 10:00 AM EST" in text
    assert subjects(mailbox, BO) == ["Moved: Committee on Public Safety, now Wed Dec 16, 10:00 AM",
                                     "Moved: Committee on Public Safety, now Fri Dec 18, 10:00 AM"]


def test_a_cancelled_meeting_cancels_its_reminder_and_its_cancellation_says_if_one_went(
        tmp_path: Path, mailbox: Mailbox, db_url: str, frozen_now: Any) -> None:
    config, store = setup(tmp_path, mailbox, db_url)
    store_meeting(store, config, hearing(20188, items=nyc_items(later=False)))  # Tue Dec 8, 10:00 AM; NYPD item
    store_meeting(store, config, hearing())  # Mon Dec 14, 10:00 AM
    frozen_now("2026-12-06T15:00:00Z")
    assert owe_reminders(store, config) == 1  # Dec 8's reminder owed...
    store_meeting(store, config, hearing(20188, items=nyc_items(later=False), status="Deferred"))
    assert send(store, config) == 2  # ... and deferred before it went: only the cancellation goes (Ana, Bo)
    ((subject, text),) = received(mailbox, ANA)
    assert subject == "Deferred: Committee on Public Safety, Tue Dec 8, 10:00 AM"
    assert "You were reminded" not in text

    frozen_now("2026-12-12T15:00:00Z")
    assert send(store, config) == 1  # Dec 14's reminder went
    frozen_now("2026-12-13T15:00:00Z")
    store_meeting(store, config, hearing(status="Deferred"))
    assert send(store, config) == 2  # its cancellation to Ana and to Bo
    subject, text = received(mailbox, ANA)[-1]
    assert subject == "Deferred: Committee on Public Safety, Mon Dec 14, 10:00 AM"
    assert "You were reminded of this meeting: it is cancelled." in text
    assert "Campaign: Stop ShotSpotter" in text  # the usual cancellation alert besides
    assert "You were reminded" not in received(mailbox, BO)[-1][1]  # Bo had no reminder
    frozen_now("2026-12-14T13:00:00Z")  # the morning of a cancelled meeting: nothing
    assert send(store, config) == 0
    assert [s for s in subjects(mailbox, ANA) if s.startswith("Reminder")] == [
        "Reminder: Committee on Public Safety, Mon Dec 14, 10:00 AM"]


def test_a_daily_readers_bundle_says_a_reminder_went_before_the_cancellation(
        tmp_path: Path, mailbox: Mailbox, db_url: str, frozen_now: Any) -> None:
    """A subscriber reading a daily bundle still gets reminders on time, each its own message; the
    next bundle carrying the cancellation says the reminder went."""
    config, store = setup(tmp_path, mailbox, db_url, subscribers=[
        {"id": "di", "notify": [mail_to(mailbox, ANA)], "mode": "daily", "reminders": ["2d"]}])
    store_meeting(store, config, hearing())  # Mon Dec 14, 10:00 AM
    frozen_now("2026-12-12T15:00:00Z")
    assert send(store, config) == 1
    frozen_now("2026-12-13T15:00:00Z")
    store_meeting(store, config, hearing(status="Deferred"))
    frozen_now("2026-12-14T13:05:00Z")  # 8:05 in New York: the daily period closed
    close_bundles(store, config)
    assert send(store, config) == 1
    (reminder, bundle) = received(mailbox, ANA)
    assert reminder[0] == "Reminder: Committee on Public Safety, Mon Dec 14, 10:00 AM"
    assert bundle[0] == "tracker daily digest for 2026-12-14: 1 change"
    assert "You were reminded of this meeting: it is cancelled." in bundle[1]
    assert "Stop ShotSpotter" in bundle[1]


def test_a_reminder_is_owed_only_while_its_meeting_is_ahead(tmp_path: Path, mailbox: Mailbox, db_url: str,
                                                            frozen_now: Any) -> None:
    """notify did not run for days: a reminder of a meeting already held is never sent; of one
    still ahead, the latest due goes (not every reminder missed). A meeting whose time is to be
    announced gets none, nor one with nothing the campaign watches on its agenda."""
    config, store = setup(tmp_path, mailbox, db_url)
    store_meeting(store, config, hearing(20180, items=nyc_items(later=False)))  # Tue Dec 1, 11:00 AM
    store_meeting(store, config, hearing())  # Mon Dec 14, 10:00 AM
    store_meeting(store, config, hearing(20188, time="", items=nyc_items(later=False)))  # Dec 8, time TBD
    store_meeting(store, config, hearing(20193, items=[]))  # Thu Dec 10: no matching item
    frozen_now("2026-12-14T14:00:00Z")  # nothing ran since Nov 24: Dec 1 is over, Dec 14 in an hour
    assert owe_reminders(store, config) == 1
    assert notify(store, config).sent == 1
    ((subject, text),) = received(mailbox, ANA)
    assert subject == "Reminder: Committee on Public Safety, Mon Dec 14, 10:00 AM"
    assert "meets in 1 hour." in text
    assert send(store, config) == 0


def test_a_followed_council_matter_on_the_agenda_is_worth_a_reminder(tmp_path: Path, mailbox: Mailbox,
                                                                     db_url: str, frozen_now: Any) -> None:
    """No keyword on the agenda, but an item on a council matter the campaign follows (NYC's recorded
    matter LU 1505-1997, its status read from its record): the reminder names it."""
    config, store = setup(tmp_path, mailbox, db_url)
    matter = json.loads((LEGISTAR / "nyc_matter_17071.json").read_text())
    histories = json.loads((LEGISTAR / "nyc_matter_17071_histories.json").read_text())
    ingest(store, Item(key=matter_key("nyc", 17071), kind="matter", source_id="legistar:safety", watch_ids=["safety"],
                       content=normalize_matter(matter_fields(matter), histories, client="nyc")), diff_matter)
    # DERIVED: the hearing's one item is that matter
    item = {"EventItemId": 900101, "EventItemAgendaSequence": 1, "EventItemMatterFile": "LU 1505-1997",
            "EventItemTitle": "ULURP, City-Owned Properties, Manhattan (C970260PPM)"}
    store_meeting(store, config, hearing(items=[item]))
    frozen_now("2026-12-12T15:00:00Z")
    assert send(store, config) == 1
    ((_subject, text),) = received(mailbox, ANA)
    assert ("On its agenda (a matter the campaign follows, now: Adopted): "
            "ULURP, City-Owned Properties, Manhattan (C970260PPM) (LU 1505-1997)") in text


def test_reminders_are_checked_one_line_each(tmp_path: Path) -> None:
    path = write_config(tmp_path, bills=[], extra=WATCH, subscribers=[
        {"id": "ana", "notify": ["json://127.0.0.1:9/hook"], "reminders": ["2d", "morning", "2x", "48h", "0h", "61d"]}])
    with pytest.raises(ConfigError) as error:
        load_config(path, env={})
    lines = str(error.value).splitlines()
    where = f"{path}: subscribers[ana].reminders: "
    assert lines == [
        where + "'2x' is not a reminder: give a time before the meeting like \"2d\", \"3h\" or \"90m\" (days, hours, "
                "minutes), or \"morning\" (the meeting's day at [alerts] daily_at)",
        where + "'48h' is the same time as '2d': give each reminder once",
        where + "'0h' is not a reminder: give a time before the meeting like \"2d\", \"3h\" or \"90m\" (days, hours, "
                "minutes), or \"morning\" (the meeting's day at [alerts] daily_at)",
        where + "'61d' is more than 60 days before the meeting: meetings are rarely listed that far ahead"]
    path = write_config(tmp_path, bills=[], extra=WATCH, subscribers=[
        {"id": "ana", "notify": ["json://127.0.0.1:9/hook"], "reminders": ["90m", "3h", "morning"]}])
    assert load_config(path, env={}).subscribers[0].reminders == ["90m", "3h", "morning"]
    checked = subprocess.run([sys.executable, "-m", "tracker.cli", "--config", str(path), "config", "check"],
                             capture_output=True, text=True, env=tracker_env(), timeout=60)
    assert checked.returncode == 0, checked.stderr
    assert "; reminders 90m, 3h, morning before meetings" in checked.stdout


@pytest.mark.postgres
@pytest.mark.slow
def test_two_notify_commands_at_once_send_each_reminder_once(tmp_path: Path, pg_url: str, frozen_now: Any) -> None:
    """Cron's `tracker notify` overlapping a manual one: both owe the reminders due and claim them;
    each (subscriber, meeting, reminder) reaches its reader once."""
    box = Mailbox(delay=0.05)  # a relay taking 50 ms a message
    box.start()
    try:
        people = [f"p{n}" for n in range(12)]
        config, store = setup(tmp_path, box, pg_url, subscribers=[
            {"id": person, "notify": [mail_to(box, f"{person}@example.org")], "reminders": ["2d", "morning"]}
            for person in people])
        for event_id, time in {20111: "10:00 AM", 20188: "1:00 PM", 20193: "3:00 PM"}.items():
            store_meeting(store, config, hearing(event_id, day="2026-12-14", time=time))  # three hearings on Monday
        frozen_now("2026-12-12T20:00:00Z")  # every hearing's two days' reminder is due
        command = [sys.executable, "-m", "tracker.cli", "--config", str(tmp_path / "tracker.toml"), "notify"]
        procs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  env=tracker_env()) for _ in range(2)]
        outputs = [proc.communicate(timeout=120) for proc in procs]
        assert [proc.returncode for proc in procs] == [0, 0], outputs
        owed = sum(int(line.split()[1]) for out, _ in outputs for line in out.splitlines() if "reminders owed" in line)
        assert owed == 36, outputs  # owed once, whichever process owed it
        got = sorted((tuple(rcpt), str(mail["Subject"])) for rcpt, mail in box.messages)
        assert len(got) == 36 and len(set(got)) == 36  # 12 people x 3 hearings, none twice
        assert statuses(store) == {"sent": 36}
        frozen_now("2026-12-14T13:00:00Z")  # the morning: one more each, still once
        again = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  env=tracker_env()) for _ in range(2)]
        assert [proc.wait(timeout=120) for proc in again] == [0, 0]
        each = {}
        for rcpt, mail in box.messages:
            each[(tuple(rcpt), str(mail["Subject"]))] = each.get((tuple(rcpt), str(mail["Subject"])), 0) + 1
        assert len(each) == 36 and set(each.values()) == {2}  # two days before and the morning, once each
        assert statuses(store) == {"sent": 72}
    finally:
        box.stop()


def test_morning_is_the_meeting_day_at_daily_at_in_its_body_zone() -> None:
    """"morning": 8:00 on the meeting's day where its body sits, across a change of clocks; the day
    before for a meeting that starts earlier than that. A duration is counted back from the start."""
    la = ZoneInfo("America/Los_Angeles")
    ten = datetime(2026, 12, 14, 18, 0, tzinfo=UTC)  # 10:00 AM in Los Angeles
    assert due_at(ten, "morning", la, "08:00") == datetime(2026, 12, 14, 16, 0, tzinfo=UTC)
    seven = datetime(2026, 12, 14, 15, 0, tzinfo=UTC)  # 7:00 AM: the morning before
    assert due_at(seven, "morning", la, "08:00") == datetime(2026, 12, 13, 16, 0, tzinfo=UTC)
    after_dst = datetime(2026, 3, 9, 17, 0, tzinfo=UTC)  # 10:00 AM PDT, the day after clocks moved
    assert due_at(after_dst, "morning", la, "08:00") == datetime(2026, 3, 9, 15, 0, tzinfo=UTC)  # 8:00 PDT
    assert due_at(ten, "90m", la, "08:00") == datetime(2026, 12, 14, 16, 30, tzinfo=UTC)
    assert due_at(ten, "2d", la, "08:00") == datetime(2026, 12, 12, 18, 0, tzinfo=UTC)


def with_people(tmp_path: Path, mailbox: Mailbox, db_url: str) -> tuple[Config, Store, dict[str, int]]:
    """Bo (a config subscriber, no reminders) and people mailed through the same server: Dee (active,
    two days before and the morning), Eve (not confirmed yet, two days before), Fay (active, none);
    the active ones follow the watch from now."""
    from tracker import clock
    from tracker import models as m
    from tracker.people import start_follows

    bo = [{"id": "bo", "notify": [mail_to(mailbox, BO)]}]
    _, store = setup(tmp_path, mailbox, db_url, subscribers=bo)
    server = f"mailto://127.0.0.1:{mailbox.port}?smtp=127.0.0.1&from=tracker@example.org"
    config = load_config(write_config(tmp_path, db_url=db_url, alerts={"daily_at": "08:00", "mail_url": server},
                                      bills=[], subscribers=bo,
                                      extra=WATCH + '[serve]\npublic_url = "https://alerts.example.org"\n'), env={})
    people = {}
    with store.session() as session:
        for address, status, asked in (("dee@example.org", "active", ["2d", "morning"]),
                                       ("eve@example.org", "pending", ["2d"]), ("fay@example.org", "active", None)):
            person = m.Person(address=address, status=status, mode="instant", follow=None, reminders=asked, bounces=0,
                              created_at=clock.now(), updated_at=clock.now(),
                              confirmed_at=clock.now() if status == "active" else None)
            session.add(person)
            session.flush()
            if status == "active":
                start_follows(session, person, ["safety"])
            people[address] = person.id
    return config, store, people


def test_a_person_who_chose_reminders_gets_them_with_their_own_links(tmp_path: Path, mailbox: Mailbox, db_url: str,
                                                                     frozen_now: Any) -> None:
    """Self-service subscribers choose reminders on their preferences page: Dee (active, two days
    before and the morning) gets hers with her own unsubscribe and preferences links and the list
    headers; Eve (not confirmed yet) and Fay (asked for none) get none; once Dee unsubscribes, the
    morning's reminder already owed to her is not sent."""
    from sqlalchemy import select, update

    from tracker import models as m

    config, store, people = with_people(tmp_path, mailbox, db_url)
    store_meeting(store, config, hearing())  # Mon Dec 14, 10:00 AM in New York
    assert send(store, config) == 0

    frozen_now("2026-12-12T15:00:00Z")
    assert owe_reminders(store, config) == 1  # Dee only
    assert notify(store, config).sent == 1
    (mail,) = [mail for rcpt, mail in mailbox.messages if rcpt == ["dee@example.org"]]
    assert str(make_header(decode_header(mail["Subject"]))) == "Reminder: Committee on Public Safety, Mon Dec 14, 10:00 AM"
    assert mail["List-Unsubscribe"].startswith("<https://alerts.example.org/u/")
    text = shown(mail)
    assert "Reminder: Committee on Public Safety meets in 2 days." in text
    assert "https://alerts.example.org/u/" in text and "https://alerts.example.org/p/" in text
    assert "ask your tracker operator" not in text  # a person's footer, not a config subscriber's
    assert [rcpt for rcpt, _ in mailbox.messages] == [["dee@example.org"]]

    frozen_now("2026-12-14T13:00:00Z")  # the morning's reminder is owed ...
    assert owe_reminders(store, config) == 1
    with store.session() as session:  # ... and Dee unsubscribes before it goes
        session.execute(update(m.Person).where(m.Person.id == people["dee@example.org"]).values(status="unsubscribed"))
    assert notify(store, config).sent == 0
    assert len(mailbox.messages) == 1
    with store.session() as session:
        assert sorted(session.scalars(select(m.Delivery.status))) == ["dropped", "sent"]


def test_a_persons_cancellation_says_a_reminder_went(tmp_path: Path, mailbox: Mailbox, db_url: str,
                                                      frozen_now: Any) -> None:
    """As for a config subscriber: the cancellation of a meeting Dee was reminded of says so; Fay,
    who follows it without reminders, gets the cancellation alone."""
    config, store, _ = with_people(tmp_path, mailbox, db_url)
    store_meeting(store, config, hearing())  # Mon Dec 14, 10:00 AM
    assert send(store, config) == 0
    frozen_now("2026-12-12T15:00:00Z")
    assert send(store, config) == 1  # Dee's reminder
    frozen_now("2026-12-13T15:00:00Z")
    store_meeting(store, config, hearing(status="Deferred"))
    assert send(store, config) == 3  # the cancellation to Dee, Fay and Bo
    (dee, fay) = (shown(mail) for address in ("dee@example.org", "fay@example.org")
                  for rcpt, mail in mailbox.messages[1:] if rcpt == [address])
    assert "You were reminded of this meeting: it is cancelled." in dee and "https://alerts.example.org/u/" in dee
    assert "You were reminded" not in fay
