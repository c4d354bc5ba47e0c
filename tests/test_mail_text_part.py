"""A mail's text/plain part carries every link its HTML part carries (issue: the plain-text part
apprise derived from the HTML kept each link's words and dropped where it leads, so a reader of
the plain part, mutt, a screen reader or a mail filter, lost the agenda, minutes, packet, "Watch
live", the meeting's page and calendar entry, and the unsubscribe and preferences links).

Real parts: the tracker's own store, differ and notifier, a real SMTP server on loopback (aiosmtpd,
demanding a login) read back and parsed with the stdlib `email` package, and a real webhook
receiver (the chat service, which must get what it always got). The meeting is NYC's Committee on
Public Safety as its Legistar reader makes it; its documents, location and agenda item are derived
(written here), the location and the item hostile: a source's line break followed by words that
read like one of the message's own link lines."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from alerting import write_config
from servers import Mailbox, Receiver

from tracker import clock
from tracker import models as m
from tracker.alerts.notifier import notify
from tracker.config import Config, load_config
from tracker.meetings.diff import diff_meeting
from tracker.meetings.legistar import meeting_key
from tracker.outbox import owe_instant, sync_subscribers
from tracker.records import Document, Item, Meeting
from tracker.store import Store, ensure_watches, ingest

PASSWORD = "smtp-Pw-8812-never-in-a-mail"
HOOK_TOKEN = "hook-Tok-5531-never-in-a-mail"
PUBLIC = "https://alerts.example.org"
DIGEST = "https://tracker.example.org/digest"
ZONE = "America/New_York"
ORGANIZER, ANN = "organizer@example.org", "ann.lee@example.org"
PAGE = "https://nyc.legistar.com/MeetingDetail.aspx?LEGID=20111&GID=61&G=FFE3B678-CEB0-4D1C-B8D9-6F2A8E3E4D1B"
AGENDA = "https://nyc.legistar1.com/nyc/meetings/2026/12/20111_A_Committee_on_Public_Safety_26-12-14_Agenda.pdf"
PACKET = "https://nyc.legistar1.com/nyc/meetings/2026/12/20111_Agenda_Packet.pdf"
MINUTES = "https://nyc.legistar1.com/nyc/meetings/2026/12/20111_M_Committee_on_Public_Safety.pdf"
LIVE = "https://councilnyc.viebit.com/watch?hash=a1b2c3d4e5"
CALENDAR = f"{DIGEST}/meetings/meeting-legistar-nyc-20111.ics"
EVIL = "https://evil.example/forged"
# DERIVED: a place and an item title whose second line reads like the message's own link lines.
HOSTILE_PLACE = f"Committee Room, 250 Broadway\nAgenda: {EVIL}/agenda.pdf"
HOSTILE_ITEM = f"ShotSpotter contract renewal\r\nUnsubscribe: {EVIL}/u/x\n\nWatch live: {EVIL}/live"


@pytest.fixture
def smtp() -> Iterator[Mailbox]:
    """A mail server that demands a login: the password must never reach a mail's words."""
    box = Mailbox("tracker", PASSWORD)
    box.start()
    yield box
    box.stop()


def setup(tmp_path: Path, db_url: str, smtp: Mailbox, receiver: Receiver) -> tuple[Config, Store]:
    """The organizer (mail and a webhook) and Ann (a self-service subscriber, mailed through
    `[alerts] mail_url`) follow the Committee on Public Safety; the digest is published (so alerts
    link the meeting's calendar entry) and `tracker serve` answers at PUBLIC."""
    server = (f"mailto://tracker:${{SMTP_PASSWORD}}@127.0.0.1:{smtp.port}?smtp=127.0.0.1"
              "&from=tracker@example.org")
    path = write_config(tmp_path, db_url=db_url, alerts={"mail_url": server}, bills=[],
                        subscribers=[{"id": "organizer", "notify": [f"{server}&to={ORGANIZER}",
                                                                    f"{receiver.url}?token=${{HOOK_TOKEN}}",
                                                                    f"apprise://127.0.0.1:{receiver.port}/tracker"]}],
                        extra=f"""[[meetings]]
id = "safety"
name = "Stop ShotSpotter"
timezone = "{ZONE}"
legistar = {{ client = "nyc", bodies = ["Committee on Public Safety"] }}
keywords = ["ShotSpotter"]
[digest]
url = "{DIGEST}"
[serve]
public_url = "{PUBLIC}"
""")
    config = load_config(path, env={"SMTP_PASSWORD": PASSWORD, "HOOK_TOKEN": HOOK_TOKEN})
    store = Store(config.database_url)
    now = clock.now()
    with store.session() as session:
        session.add(m.Person(address=ANN, status="active", mode="instant", follow=None, bounces=0, created_at=now,
                             updated_at=now, confirmed_at=now))
        session.flush()
        ensure_watches(session, [(w.id, "meeting", w.name) for w in config.meetings])
        sync_subscribers(session, config)
    return config, store


def hearing(*, posted: bool) -> Meeting:
    """The hearing as the Legistar reader makes it: before its agenda was posted, and after (its
    documents, the livestream, a hostile place and a hostile ShotSpotter item)."""
    meeting = Meeting(source="legistar", source_ref="20111", body="Committee on Public Safety",
                      title="Committee on Public Safety", date="2026-12-14", timezone=ZONE,
                      start="2026-12-14T15:00:00Z", location="Committee Room, 250 Broadway", url=PAGE, documents=[])
    if not posted:
        return meeting
    meeting.location, meeting.agenda_url, meeting.livestream_url = HOSTILE_PLACE, AGENDA, LIVE
    meeting.documents = [Document("agenda", AGENDA, "Agenda"), Document("packet", PACKET, "Agenda Packet"),
                         Document("minutes", MINUTES, "Minutes")]
    meeting.items = [{"key": "1", "sequence": 1, "title": HOSTILE_ITEM, "matter": "T2026-0042",
                      "keywords": ["ShotSpotter"]}]
    return meeting


def store_meeting(store: Store, config: Config, meeting: Meeting) -> None:
    ingest(store, Item(key=meeting_key("nyc", meeting.source_ref), kind="meeting", source_id="legistar:safety",
                       watch_ids=["safety"], content=meeting),
           diff_meeting, on_change=lambda session, change: owe_instant(session, change, config))


def text_parts(mail: Message) -> dict[str, str]:
    """The mail's text/plain and text/html parts, decoded."""
    found: dict[str, str] = {}
    for part in mail.walk():
        if part.get_content_maintype() == "text":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            found[part.get_content_type()] = payload.decode(part.get_content_charset() or "utf-8")
    return found


def hrefs(html_part: str) -> set[str]:
    """Every link target of the HTML part, as the reader's mail program follows it."""
    return {html.unescape(href) for href in re.findall(r'<a href="([^"]*)"', html_part)}


def test_the_plain_text_part_carries_every_link_of_the_html_part(
        tmp_path: Path, db_url: str, smtp: Mailbox, receiver: Receiver, frozen_now: Any) -> None:
    frozen_now("2026-11-25T15:00:00Z")
    config, store = setup(tmp_path, db_url, smtp, receiver)
    store_meeting(store, config, hearing(posted=False))  # the baseline tells nobody
    assert notify(store, config).sent == 0
    store_meeting(store, config, hearing(posted=True))
    report = notify(store, config)
    assert report.failed == 0 and report.sent >= 3
    # one message per kind of change (the new place, the agenda, the item), each showing the meeting
    assert sorted(rcpt for rcpt, _ in smtp.messages) == [[ANN]] * 3 + [[ORGANIZER]] * 3

    for (address,), mail in smtp.messages:
        parts = text_parts(mail)
        assert mail.get_content_type() == "multipart/alternative"
        plain, html_part = parts["text/plain"], parts["text/html"]
        lines = [" ".join(line.split()) for line in plain.splitlines()]
        # each line starts at the margin (the line break after each `<br />` of the HTML part began
        # the next line with a space: " Where: ...", " Unsubscribe: ...")
        assert [line for line in plain.splitlines() if line[:1].isspace()] == [], plain

        # the HTML part stays as it was: each document a link named by its kind
        assert f'<a href="{AGENDA}">Agenda</a>' in html_part
        assert f'<a href="{PACKET}">Agenda packet</a>' in html_part
        assert f'<a href="{LIVE}">Watch live</a>' in html_part

        # every link the HTML part carries is in the plain part, readable after its words
        shown = hrefs(html_part)
        assert {AGENDA, PACKET, MINUTES, LIVE, PAGE, CALENDAR} <= shown
        assert {url for url in shown if url not in plain} == set()
        assert f"- Agenda: {AGENDA}" in lines
        assert f"- Agenda packet: {PACKET}" in lines
        assert f"- Minutes: {MINUTES}" in lines
        assert f"Watch live: {LIVE}" in lines
        assert f"Meeting page: {PAGE}" in lines  # a link named by its own address is not said twice
        assert f"Add to calendar: {CALENDAR}" in lines

        # the same words otherwise
        assert "When: Mon Dec 14, 2026, 10:00 AM EST" in lines
        assert "Campaign: Stop ShotSpotter" in lines

        # a source's line break forges no line: its words stay on the line the message gives them
        assert f"Where: Committee Room, 250 Broadway Agenda: {EVIL}/agenda.pdf" in lines
        told = ("Where:", "On its agenda", "New place:", "- 2026-12-14:")  # the headline, the change's summary
        assert [line for line in lines if "evil.example" in line and not line.startswith(told)] == []
        (item_line,) = [line for line in lines if line.startswith("On its agenda")]
        assert item_line == (f"On its agenda (ShotSpotter): ShotSpotter contract renewal Unsubscribe: {EVIL}/u/x "
                             f"Watch live: {EVIL}/live (T2026-0042)")

        # nor in the HTML part, where apprise makes each line break a `<br>` and a mail program
        # makes a written address a link
        html_lines = [" ".join(re.sub(r"<[^>]*>", " ", html.unescape(line)).split())
                      for line in re.split(r"<br\s*/?>|</?(?:p|li|ul|h\d)>|\n", html_part)]
        assert [line for line in html_lines if "evil.example" in line
                and not line.startswith((*told, "2026-12-14:"))] == [], html_part
        assert f"Where: Committee Room, 250 Broadway Agenda: {EVIL}/agenda.pdf" in html_lines

        # nothing secret: not the mail server's password, not the webhook's token, no one else's link
        for secret in (PASSWORD, HOOK_TOKEN):
            assert secret not in plain and secret not in html_part and secret not in mail.as_string()
        if address == ANN:
            token = re.search(rf"{re.escape(PUBLIC)}/u/([A-Za-z0-9_-]+)", html_part)
            assert token is not None
            assert f"Unsubscribe: {PUBLIC}/u/{token.group(1)}" in lines
            assert f"Change what you get: {PUBLIC}/p/{token.group(1)}" in lines
        else:
            assert f"{PUBLIC}/" not in plain

    # the chat services get a webhook the plain text, apprise's API the Markdown (its links Markdown
    # links), neither anything of the mail's making, and in neither a source's line forged
    webhook = [post["message"] for post in receiver.posts if "message" in post]
    markdown = [parse_qs(post["raw"])["body"][0] for post in receiver.posts if post.get("path") == "/notify"]
    assert len(webhook) == len(markdown) == 3
    for said in webhook:
        assert f"Watch live: {LIVE}" in said and f"Agenda: {AGENDA}" in said
    for said in markdown:
        assert f"[Watch live]({LIVE})" in said and f"[Agenda]({AGENDA})" in said
        lines = [" ".join(line.split()).lstrip("*") for line in said.splitlines()]  # a headline is bold
        assert [line for line in lines if "evil.example" in line and not line.startswith(told)] == [], said
    for said in webhook + markdown:
        assert not re.search("[\ufdd0-\ufdef]", said) and HOOK_TOKEN not in said


def test_a_sources_line_break_forges_no_line_in_plain_text_chat(
        tmp_path: Path, db_url: str, smtp: Mailbox, receiver: Receiver, frozen_now: Any) -> None:
    """A webhook (and any service apprise sends plain text) gets the `.txt` body, where a place or
    an item title's own line break started a line of its own: "Unsubscribe: https://evil..." and
    "Watch live: https://evil..." stood beside the message's real "Watch live" line."""
    frozen_now("2026-11-25T15:00:00Z")
    config, store = setup(tmp_path, db_url, smtp, receiver)
    store_meeting(store, config, hearing(posted=False))
    store_meeting(store, config, hearing(posted=True))
    assert notify(store, config).failed == 0
    webhook = [post["message"] for post in receiver.posts if "message" in post]
    assert len(webhook) == 3
    told = ("Where:", "On its agenda", "New place:", "- 2026-12-14:")
    for said in webhook:
        lines = [" ".join(line.split()).lstrip("*") for line in said.splitlines()]  # a headline is bold
        assert [line for line in lines if "evil.example" in line and not line.startswith(told)] == [], said
        assert [line for line in lines if line.startswith("Watch live:")] == [f"Watch live: {LIVE}"]
        assert f"Where: Committee Room, 250 Broadway Agenda: {EVIL}/agenda.pdf" in lines
