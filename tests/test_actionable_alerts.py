"""Alerts people can act on, end to end through the real `tracker` CLI: loopback GovInfo,
congress-legislators and Legistar servers and a real SMTP receiver.

- S. 35 passes the Senate in one crawl (a stage and several actions): its subscriber in MA-7 gets
  exactly one email, titled by the stage, naming Warren, Markey and Pressley with their phones.
- A bill found by a title watch (the BREATHE Act, derived: the real H.R. 367 of the 115th Congress
  renumbered into the current one and retitled) names its committee's chair and ranking member.
- A ShotSpotter item on the Committee on Public Safety's agenda lists the committee's current
  members' emails, never a former member's (derived office records of NYC body 19).
- "VOTE" is never shown as how to take part; a testimony instruction is.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from email.header import decode_header, make_header
from email.message import Message
from pathlib import Path

import pytest
from alerting import POLICE, write_config
from recorded import DEMO, federal, serve_legislators
from servers import Mailbox

from tracker.billnumbers import BILL_TYPES
from tracker.bills.billstatus import parse_billstatus
from tracker.demo import NYC_ANCHOR, days_since, nyc_events, nyc_items
from tracker.demo.derive import billstatus_before
from tracker.demo.legistar_api import LegistarApi
from tracker.demo.packages import INDEX_PATH, derive_bill, file_path, sitemap_path, sitemap_xml
from tracker.demo.replay import ReplayServer

NOW = "2026-11-25T15:00:00Z"  # the 119th Congress
TESTIMONY = "Public testimony: register at https://council.nyc.gov/testify/ by 5 PM the day before."
S35 = "/bulkdata/BILLSTATUS/117/s/BILLSTATUS-117s35.xml"


def tracker(config: Path, *args: str, now: str = NOW) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TRACKER_NOW": now}
    return subprocess.run([sys.executable, "-m", "tracker.cli", "--config", str(config), *args], env=env,
                          capture_output=True, text=True, timeout=120)


def body_of(mail: Message) -> str:
    """The message's first (plain or Markdown) part, as the reader's mail program shows it as text."""
    part = mail.get_payload(0) if mail.is_multipart() else mail
    return part.get_payload(decode=True).decode()


def publish_congress(replay: ReplayServer, files: dict[str, dict[int, bytes]], lastmod: str) -> None:
    """GovInfo's sitemaps for the 119th Congress: one child per bill type, listing `files`."""
    index = []
    for bill_type in BILL_TYPES:
        entries = []
        for number, data in sorted(files.get(bill_type, {}).items()):
            path = file_path(119, bill_type, number)
            (replay.replace if replay._route(path, None) else replay.add)(path, data)
            entries.append((replay.url + path, lastmod))
        child = sitemap_path(119, bill_type)
        (replay.replace if replay._route(child, None) else replay.add)(child, sitemap_xml(entries))
        index.append((replay.url + child, lastmod))
    (replay.replace if replay._route(INDEX_PATH, None) else replay.add)(INDEX_PATH, sitemap_xml(index, index=True))


def mail_to(mailbox: Mailbox, address: str) -> str:
    return f"mailto://127.0.0.1:{mailbox.port}?smtp=127.0.0.1&from=tracker@example.org&to={address}"


@pytest.mark.slow
def test_alerts_name_whom_to_contact(tmp_path: Path, replay: ReplayServer, mailbox: Mailbox,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_NOW", NOW)
    real_s35 = federal("BILLSTATUS-117s35.xml")
    replay.add(S35, billstatus_before(real_s35, "2021-02-12"))  # derived: before it passed the Senate
    # derived: an unrelated bill of the current Congress, then the BREATHE Act (H.R. 367 of the 115th,
    # referred to Judiciary and Ways and Means, renumbered and retitled)
    other = derive_bill(federal("BILLSTATUS-117hr6658.xml"), 119, "hr", 1)
    hr367 = federal("BILLSTATUS-115hr367.xml")
    breathe = derive_bill(hr367, 119, "hr", 9, title="BREATHE Act", old_title=parse_billstatus(hr367).title)
    publish_congress(replay, {"hr": {1: other}}, "2026-11-01T10:00:00Z")
    legistar = LegistarApi("/v1")
    replay.mount("/v1", legistar)
    nyc = legistar.client("nyc")
    shift = days_since(NYC_ANCHOR, date(2026, 11, 25))
    nyc.add_events(nyc_events(shift, later=False))
    nyc.eventitems[20111] = nyc_items(later=False)
    nyc.officerecords[19] = json.loads((DEMO / "legistar" / "officerecords_body19.json").read_text())
    nyc.persons = {p["PersonId"]: p for p in json.loads((DEMO / "legistar" / "persons_body19.json").read_text())}
    config = write_config(tmp_path, bills=[POLICE, {"id": "breathe", "name": "The BREATHE Act", "titles": ["BREATHE Act"]}],
                          subscribers=[{"id": "boston", "notify": [mail_to(mailbox, "organizer@example.org")],
                                        "state": "MA", "district": 7},
                                       {"id": "boston-weekly-reader", "notify": [mail_to(mailbox, "digest@example.org")],
                                        "mode": "daily", "state": "MA", "district": 7}],
                          extra=f"""[crawl]
delay_seconds = 0
[sources.govinfo]
base_url = "{replay.url}"
[sources.legislators]
base_url = "{serve_legislators(replay)}"
[sources.legistar]
base_url = "{replay.url}/v1"
[[meetings]]
id = "nyc"
name = "New York City Council"
timezone = "America/New_York"
legistar = {{ client = "nyc", bodies = ["Committee on Public Safety"] }}
keywords = ["ShotSpotter", "NYPD"]
""")
    first = tracker(config, "--quiet", "crawl")
    assert first.returncode == 0, first.stderr
    assert tracker(config, "notify").returncode == 0 and mailbox.messages == []  # a baseline tells nobody

    # what moves: S. 35 passes the Senate, the BREATHE Act is introduced, a ShotSpotter item is added
    # to hearing 20111 whose note (derived) now says how to testify, and hearing 20115 is deferred
    # with the note "VOTE" (derived)
    replay.replace(S35, real_s35)
    publish_congress(replay, {"hr": {1: other, 9: breathe}}, "2026-11-24T10:00:00Z")
    later = nyc_events(shift, later=True)
    for event in later:
        if event["EventId"] == 20111:
            event["EventComment"] = TESTIMONY
        if event["EventId"] == 20115:
            event["EventComment"] = "VOTE"
    nyc.events.clear()
    nyc.add_events(later)
    nyc.eventitems[20111] = nyc_items(later=True)
    second = tracker(config, "--quiet", "crawl")
    assert second.returncode == 0, second.stderr
    sent = tracker(config, "notify")
    assert sent.returncode == 0, sent.stderr

    mails = {str(make_header(decode_header(mail["Subject"]))): body_of(mail) for rcpt, mail in mailbox.messages
             if rcpt == ["organizer@example.org"]}
    assert len(mails) == len(mailbox.messages)  # one message per bill or meeting, never two alike
    # S. 35: one email for the stage and its actions, with the subscriber's members and their phones
    s35 = [subject for subject in mails if subject.startswith("S. 35")]
    assert s35 == ["S. 35 passed the Senate"]
    text = mails["S. 35 passed the Senate"]
    assert text.count("\n- 2021-") >= 4  # the stage and several actions, in one message
    assert "Where it stands: passed the Senate (latest action Thu Feb 18, 2021)." in text  # a day in words
    assert "Rep. Ayanna Pressley (D-MA-7): 202-225-5111" in text
    assert "Sen. Elizabeth Warren (D-MA): 202-224-4543" in text and "Sen. Edward J. Markey (D-MA)" in text
    # the BREATHE Act: found by its title; in committee: its chair and ranking member
    text = mails["H.R. 9 introduced: BREATHE Act"]
    assert "Chairman: Rep. Jim Jordan (R-OH-4)" in text or "Chair: Rep. Jim Jordan (R-OH-4)" in text
    assert "Ranking Member: Rep. Jamie Raskin (D-MD-8)" in text
    # the committee's agenda item: its current members' emails, not a former member's
    agenda = next(body for subject, body in mails.items() if subject.startswith("On the agenda: ShotSpotter"))
    assert "Chair: Marcus Ortega, d07@council.nyc.example" in agenda and "d26@council.nyc.example" in agenda
    assert "Dana Whitfield" not in agenda and "d41@council.nyc.example" not in agenda
    assert "Henry Liu" not in agenda  # seated only from 2027
    assert f"How to take part: {TESTIMONY}" in agenda
    deferred = next(body for subject, body in mails.items() if subject.startswith("Deferred: Committee on Public Safety"))
    assert "Note: VOTE" in deferred and "How to take part: VOTE" not in deferred
    again = tracker(config, "notify")
    assert again.returncode == 0 and len(mailbox.messages) == len(mails)

    # the daily reader: one bundle the next morning, grouped by watch then bill or meeting, naming
    # whom to contact once per bill
    daily = tracker(config, "notify", now="2026-11-26T13:05:00Z")  # 8:05 in New York
    assert daily.returncode == 0, daily.stderr
    (bundle,) = [mail for rcpt, mail in mailbox.messages if rcpt == ["digest@example.org"]]
    text = body_of(bundle)
    assert "Police accountability" in text and "The BREATHE Act" in text
    # each bill where it stands, as the instant message says it (its changes alone may not say it)
    assert "Where it stands: passed the Senate (latest action Thu Feb 18, 2021)." in text
    assert "Where it stands: was referred to committee" in text  # the BREATHE Act
    assert text.count("Rep. Ayanna Pressley (D-MA-7): 202-225-5111") == 2  # S. 35 and the BREATHE Act
    assert "Ranking Member: Rep. Jamie Raskin (D-MD-8)" in text
    assert "Chair: Marcus Ortega, d07@council.nyc.example" in text


@pytest.mark.slow
def test_legislators_down_alerts_still_go_out_without_contacts(tmp_path: Path, replay: ReplayServer,
                                                               mailbox: Mailbox) -> None:
    """congress-legislators unreachable (500): the crawl says so in one line and exits 1; the bill's
    alert still goes out, without the contacts it cannot know (its sponsor is named from the bill)."""
    real_s35 = federal("BILLSTATUS-117s35.xml")
    replay.add(S35, billstatus_before(real_s35, "2021-02-12"))  # derived: before it passed the Senate
    for name in ("legislators-current", "committees-current", "committee-membership-current",
                 "legislators-district-offices"):
        replay.add(f"/congress-legislators/{name}.json", status=500, body=b"")
    config = write_config(tmp_path, subscribers=[{"id": "boston", "notify": [mail_to(mailbox, "organizer@example.org")],
                                                  "state": "MA", "district": 7}],
                          extra=f"""[crawl]
delay_seconds = 0
retries = 0
[sources.govinfo]
base_url = "{replay.url}"
[sources.legislators]
base_url = "{replay.url}/congress-legislators"
""")
    tracker(config, "--quiet", "crawl")
    replay.replace(S35, real_s35)
    crawl = tracker(config, "--quiet", "crawl")
    assert crawl.returncode == 1
    lines = crawl.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("legislators:") and "Traceback" not in crawl.stderr
    sent = tracker(config, "notify")
    assert sent.returncode == 0, sent.stderr
    ((_rcpt, mail),) = mailbox.messages
    text = body_of(mail)
    assert mail["Subject"] == "S. 35 passed the Senate" and "Your members of Congress" not in text
    # the bill itself still names its sponsor, in the shape every alert gives a sponsor (no phone known)
    assert "Sponsor: Sen. Chris Van Hollen (D-MD)" in text and "202-224-4654" not in text
