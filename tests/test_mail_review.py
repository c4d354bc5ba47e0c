"""Whether tracker's mail lands, and reads right, in real mail systems (a mail review): the raw
messages a real SMTP server on loopback receives, parsed with the stdlib `email` package
(`policy=default`), against what Gmail, Outlook and Fastmail (and the filters in front of them:
SpamAssassin, Rspamd) expect of a mature sender.

Real parts: the tracker's store, differ and notifier (`notify`) and `tracker serve`'s mail worker
(`Mailer.send_due`), apprise sending through a real aiosmtpd server (demanding a login) that keeps
each message's bytes as they came. The meeting is derived: a Puerto Rico council with an accented
name, a title with an emoji, long scraped titles and a long document URL."""

from __future__ import annotations

import re
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from alerting import write_config
from servers import SMTP_PASSWORD, Mailbox, RawMailbox
from test_people_lifecycle import EVERYTHING

from tracker import clock
from tracker import models as m
from tracker.alerts.notifier import notify
from tracker.config import Config, load_config
from tracker.meetings.diff import diff_meeting
from tracker.meetings.legistar import meeting_key
from tracker.outbox import close_bundles, owe_instant, sync_subscribers
from tracker.records import Document, Item, Meeting
from tracker.store import Store, ensure_watches, ingest
from tracker.web import subscriptions
from tracker.web.mailer import Mailer

PUBLIC = "https://alerts.example.org"
ZONE = "America/Puerto_Rico"
ORGANIZER, ANN = "organizer@example.org", "ann.lee@example.org"
BODY = "Consejo Municipal de Bayamón"
PAGE = "https://bayamon.legistar.com/MeetingDetail.aspx?ID=20111"
# DERIVED: a document address longer than a mail line may be, and a title with an emoji and markup
LONG_URL = "https://bayamon.legistar1.com/View.ashx?M=A&ID=20111&GUID=" + "A1B2C3D4" * 150
TITLE = "Sesión ordinaria 🏛️ <b>Presupuesto</b> & enmiendas"
ITEM = 'ShotSpotter: contrato <img src="https://evil.example/pixel.png"> renovación'


def setup(tmp_path: Path, db_url: str, smtp: Mailbox, *, mode: str = "instant") -> tuple[Config, Store]:
    """The organizer (a config subscriber, by mail) and Ann (a self-service subscriber) follow the
    Bayamón council; mail goes through a relay known by its IP address, from tracker@example.org."""
    server = (f"mailto://tracker:${{SMTP_PASSWORD}}@127.0.0.1:{smtp.port}?smtp=127.0.0.1"
              "&from=tracker@example.org")
    path = write_config(tmp_path, db_url=db_url, alerts={"mail_url": server}, bills=[],
                        subscribers=[{"id": "organizer", "notify": [f"{server}&to={ORGANIZER}"]}],
                        extra=f"""[[meetings]]
id = "bayamon"
name = "Bayamón ✊ sin vigilancia"
timezone = "{ZONE}"
legistar = {{ client = "bayamon", bodies = ["{BODY}"] }}
keywords = ["ShotSpotter"]
[serve]
public_url = "{PUBLIC}"
""")
    config = load_config(path, env={"SMTP_PASSWORD": SMTP_PASSWORD})
    store = Store(config.database_url)
    now = clock.now()
    with store.session() as session:
        session.add(m.Person(address=ANN, status="active", mode=mode, follow=None, bounces=0, created_at=now,
                             updated_at=now, confirmed_at=now))
        session.flush()
        ensure_watches(session, [(w.id, "meeting", w.name) for w in config.meetings])
        sync_subscribers(session, config)
    return config, store


def meeting(title: str, *, posted: bool, items: list[dict[str, Any]] | None = None) -> Meeting:
    found = Meeting(source="legistar", source_ref="20111", body=BODY, title=title, date="2026-12-14", timezone=ZONE,
                    start="2026-12-14T15:00:00Z", location="Salón de Sesiones", url=PAGE, documents=[])
    if posted:
        found.agenda_url = LONG_URL
        found.documents = [Document("agenda", LONG_URL, "Agenda")]
        found.items = items if items is not None else [
            {"key": "1", "sequence": 1, "title": ITEM, "matter": "R-2026-7", "keywords": ["ShotSpotter"]}]
    return found


def store_meeting(store: Store, config: Config, record: Meeting) -> None:
    ingest(store, Item(key=meeting_key("bayamon", record.source_ref), kind="meeting", source_id="legistar:bayamon",
                       watch_ids=["bayamon"], content=record),
           diff_meeting, on_change=lambda session, change: owe_instant(session, change, config))


def alerts(store: Store, config: Config, title: str, **posted: Any) -> None:
    """The meeting stored as a baseline (nobody told), then with its agenda posted; notify."""
    store_meeting(store, config, meeting(title, posted=False))
    assert notify(store, config).sent == 0
    store_meeting(store, config, meeting(title, posted=True, **posted))
    report = notify(store, config)
    assert report.failed == 0 and report.sent >= 2, report


def text_parts(mail: EmailMessage) -> dict[str, str]:
    return {part.get_content_type(): part.get_content() for part in mail.walk()
            if part.get_content_maintype() == "text"}


def header_lines(raw: bytes) -> list[bytes]:
    return raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")


def to(mail: EmailMessage) -> str:
    return str(mail["To"])


# -- faults found (each test failed on the code as it was) -----------------------------------------


def test_a_non_ascii_subject_is_folded_into_encoded_words_of_at_most_75_characters(
        tmp_path: Path, sqlite_url: str, smtp: RawMailbox, frozen_now: Any) -> None:
    """FAILED before the fix: apprise serializes its message with `as_string()`, which never folds a
    header, so a subject with one non-ASCII character was ONE encoded-word of hundreds of
    characters (RFC 2047 allows 75), and a title of emoji (12 bytes of quoted-printable each, at
    apprise's 250 characters) made a Subject line of over 1,000 octets: past RFC 5322's 998, and
    this loopback server refused both mails ("500 Line too long"), again at every retry until they
    were dead. Now the subject is folded (lines of at most 78 octets here), in
    encoded-words of at most 75 characters, each whole characters, and the subject reads back as
    sent."""
    frozen_now("2026-11-25T15:00:00Z")
    config, store = setup(tmp_path, sqlite_url, smtp)
    title = f"{TITLE} {'🏛️' * 120}"
    alerts(store, config, title)
    received = smtp.parsed()
    assert {to(mail) for _, mail in received} == {ANN, ORGANIZER}
    for raw, mail in received:
        lines = header_lines(raw)
        assert max(len(line) for line in lines) <= 998
        start = next(n for n, line in enumerate(lines) if line.startswith(b"Subject:"))
        subject_lines = [lines[start], *(line for line in lines[start + 1:] if line[:1] in (b" ", b"\t"))]
        assert len(subject_lines) > 5 and max(len(line) for line in subject_lines) <= 78, subject_lines
        words = re.findall(rb"=\?[^?]+\?[bBqQ]\?[^?]*\?=", raw.split(b"\r\n\r\n", 1)[0])
        assert words and max(len(word) for word in words) <= 75
        subject = str(mail["Subject"])
        assert subject.startswith(("Agenda posted: ", "On the agenda: ShotSpotter — ")), subject
        assert f"{BODY} Sesión ordinaria 🏛️ <b>Presupuesto</b> & enmiendas 🏛️🏛️🏛️" in subject
        assert subject.endswith("🏛️…") and len(subject) <= 250  # cut to apprise's length, read back whole
        assert "\ufffd" not in subject and not mail.defects and not mail["Subject"].defects


def every_kind_of_mail(tmp_path: Path, sqlite_url: str, smtp: RawMailbox, frozen_now: Any) -> list[Any]:
    """An organizer's and a person's alert (`alerts`), and `tracker serve`'s sign-up mail to a
    third address, as received: (recipients, parsed message) each."""
    frozen_now("2026-11-25T15:00:00Z")
    config, store = setup(tmp_path, sqlite_url, smtp)
    alerts(store, config, TITLE)
    with store.session() as session:
        subscriptions.sign_up(session, "bob@example.net", EVERYTHING, clock.now(), timedelta(minutes=10))
    assert Mailer(store, config).send_due().sent == 1
    received = smtp.parsed()
    assert {to(mail) for _, mail in received} == {ANN, ORGANIZER, "bob@example.net"}
    return received


def test_the_message_id_names_the_sender_s_domain_not_the_relay_s_address(
        tmp_path: Path, sqlite_url: str, smtp: RawMailbox, frozen_now: Any) -> None:
    """FAILED before the fix: the Message-ID's right side was the SMTP relay's host, here its IP
    address (`<key@127.0.0.1>`; "localhost" for a relay on the same machine): Rspamd scores a bare IP
    there (MID_BARE_IP) and a name without a dot (MID_RHS_NOT_FQDN) as spam signs. It is the From
    address's domain, for alerts and `tracker serve`'s sign-up mail alike, still keyed for a repeat."""
    received = every_kind_of_mail(tmp_path, sqlite_url, smtp, frozen_now)
    for _, mail in received:
        (message_id,) = mail.get_all("Message-ID")
        assert not message_id.defects
        assert re.fullmatch(r"<[\w-]+@example\.org>", str(message_id)), str(message_id)
        if mail["X-Tracker-Delivery"]:
            assert str(message_id) == f"<{mail['X-Tracker-Delivery']}@example.org>"


def test_every_mail_says_it_was_sent_by_a_machine(
        tmp_path: Path, sqlite_url: str, smtp: RawMailbox, frozen_now: Any) -> None:
    """FAILED before the fix: no mail carried `Auto-Submitted: auto-generated` (RFC 3834), so
    vacation and out-of-office responders answered every alert and sign-up mail, to the From address
    (which is also the List-Unsubscribe mailto). Alerts, people's alerts and sign-up mail carry it."""
    received = every_kind_of_mail(tmp_path, sqlite_url, smtp, frozen_now)
    for _, mail in received:
        assert mail.get_all("Auto-Submitted") == ["auto-generated"], to(mail)


def test_a_person_s_mail_cut_to_the_service_s_length_keeps_its_unsubscribe_links(
        tmp_path: Path, sqlite_url: str, smtp: RawMailbox, frozen_now: Any) -> None:
    """FAILED before the fix: a message past apprise's mail length (32,768 characters; a busy
    agenda, a long bundle) was cut at its end, and with it a person's footer: no visible unsubscribe
    or preferences link, which Gmail's bulk-sender rules and CAN-SPAM ask of every such mail. The cut
    now leaves the footer whole, after the pointer to the rest."""
    frozen_now("2026-11-25T15:00:00Z")
    config, store = setup(tmp_path, sqlite_url, smtp)
    busy = [{"key": str(n), "sequence": n, "title": f"ShotSpotter {n}: " + "enmienda al contrato " * 30,
             "matter": f"R-2026-{n}", "keywords": ["ShotSpotter"]} for n in range(1, 81)]
    store_meeting(store, config, meeting(TITLE, posted=False))
    assert notify(store, config).sent == 0
    long_title = f"{TITLE} " + "x" * 40000  # one change whose message is past the length
    store_meeting(store, config, meeting(long_title, posted=True, items=busy[:1]))
    assert notify(store, config).failed == 0
    mine = [mail for _, mail in smtp.parsed() if to(mail) == ANN]
    assert mine
    for mail in mine:
        parts = text_parts(mail)
        assert any("truncated" in text for text in parts.values())
        token = re.search(rf"{re.escape(PUBLIC)}/u/([A-Za-z0-9_-]+)", str(mail["List-Unsubscribe"]))
        assert token is not None
        for text in parts.values():
            assert f"{PUBLIC}/u/{token.group(1)}" in text and f"{PUBLIC}/p/{token.group(1)}" in text
        assert parts["text/plain"].rstrip().endswith(f"Change what you get: {PUBLIC}/p/{token.group(1)}")


# -- what was found sound (passes on the code as it was; kept so it stays so) ----------------------


def test_what_every_alert_mail_gets_right(tmp_path: Path, sqlite_url: str, smtp: RawMailbox, frozen_now: Any) -> None:
    """Checked and sound before this review: CRLF line ends only and no line over 998 octets (a
    1,200-character document address included: the parts are quoted-printable), one Date, From the
    mail URL's `from`, To the one recipient, no Sender or Reply-To to disagree with it;
    multipart/alternative with text/plain and text/html in UTF-8 saying the same things; a source's
    markup escaped in the HTML and no remote resource in it; a person's mail with List-Unsubscribe
    (their own link and the From's mailto), List-Unsubscribe-Post (RFC 8058) and List-Id; the
    organizer's without them; the SMTP password nowhere; one message per change and recipient."""
    frozen_now("2026-11-25T15:00:00Z")
    config, store = setup(tmp_path, sqlite_url, smtp)
    alerts(store, config, TITLE)
    received = smtp.parsed()
    told = {address: sorted(str(mail["Subject"]) for _, mail in received if to(mail) == address)
            for address in (ANN, ORGANIZER)}
    # the agenda posted and the ShotSpotter item: one mail each, to each, none twice
    assert told[ANN] == told[ORGANIZER] and len(told[ANN]) == len(set(told[ANN])) == 2
    assert len(received) == 4
    for raw, mail in received:
        assert b"\r\n" in raw and raw.count(b"\n") == raw.count(b"\r\n") and raw.count(b"\r") == raw.count(b"\r\n")
        assert max(len(line) for line in raw.split(b"\r\n")) <= 998
        assert SMTP_PASSWORD.encode() not in raw
        assert not mail.defects
        assert len(mail.get_all("Date")) == 1 and mail["Date"].datetime is not None
        assert str(mail["From"]) == "tracker@example.org" and mail["Sender"] is None and mail["Reply-To"] is None
        assert len(mail["To"].addresses) == 1
        assert mail.get_content_type() == "multipart/alternative"
        assert [(p.get_content_type(), p.get_content_charset()) for p in mail.iter_parts()] == [
            ("text/plain", "utf-8"), ("text/html", "utf-8")]
        parts = text_parts(mail)
        plain, html_part = parts["text/plain"], parts["text/html"]
        assert LONG_URL in plain and f'href="{LONG_URL.replace("&", "&amp;")}"' in html_part
        for words in (BODY, "Sesión ordinaria 🏛️", "renovación", "Bayamón ✊ sin vigilancia"):
            assert words in plain and words in html_part
        assert "&lt;b&gt;Presupuesto&lt;/b&gt; &amp; enmiendas" in html_part
        assert "<img" not in html_part and "evil.example" not in re.sub(r"&lt;img[^&]*&gt;", "", html_part)
        tags = re.findall(r"<[^>]*>", html_part)  # the markup itself, not a source's escaped words
        assert not [tag for tag in tags if re.search(r"(?i)^</?(img|link|script|iframe|object|style)\b|src=|url\(", tag)]
        if to(mail) == ANN:
            unsubscribe = " ".join(str(mail["List-Unsubscribe"]).split())
            assert re.fullmatch(rf"<{re.escape(PUBLIC)}/u/[A-Za-z0-9_-]+>, <mailto:tracker@example.org\?subject=unsubscribe>",
                                unsubscribe)
            assert str(mail["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"
            assert str(mail["List-Id"]).startswith("Tracker alerts <") and str(mail["List-Id"]).endswith(">")
        else:
            assert mail["List-Unsubscribe"] is None and f"{PUBLIC}/" not in plain


def test_a_daily_person_s_bundle_is_sent_as_their_alerts_are(
        tmp_path: Path, sqlite_url: str, smtp: RawMailbox, frozen_now: Any) -> None:
    """The bundle path (a daily person): the same headers as an instant alert (list headers, the
    From's domain in its Message-ID, Auto-Submitted), its footer with their own links, CRLF and
    short lines. Passes with the fixes above (their Message-ID and Auto-Submitted failed before)."""
    frozen_now("2026-11-25T11:00:00Z")
    config, store = setup(tmp_path, sqlite_url, smtp, mode="daily")
    store_meeting(store, config, meeting(TITLE, posted=False))
    store_meeting(store, config, meeting(TITLE, posted=True))
    assert notify(store, config).sent >= 1  # the organizer's instant alerts
    frozen_now("2026-11-26T14:00:00Z")  # the next 08:00 in New York has passed
    assert close_bundles(store, config) == 1
    assert notify(store, config).sent == 1
    ((raw, mail),) = [(raw, mail) for raw, mail in smtp.parsed() if to(mail) == ANN]
    assert "daily digest" in str(mail["Subject"])
    assert raw.count(b"\n") == raw.count(b"\r\n") and max(len(line) for line in raw.split(b"\r\n")) <= 998
    assert str(mail["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click" and mail["List-Id"] is not None
    token = re.search(rf"{re.escape(PUBLIC)}/u/([A-Za-z0-9_-]+)", str(mail["List-Unsubscribe"]))
    assert token is not None
    assert re.fullmatch(r"<\w+@example\.org>", str(mail["Message-ID"]))
    assert mail.get_all("Auto-Submitted") == ["auto-generated"]
    assert mail["References"] is None and mail["In-Reply-To"] is None  # about many things: in no conversation
    for text in text_parts(mail).values():
        assert BODY in text and f"{PUBLIC}/p/{token.group(1)}" in text
