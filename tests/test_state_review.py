"""State bills as an organizer campaigning in a statehouse reads them, end to end: the real `tracker`
CLI crawling the loopback Open States API v3 (tracker/demo/openstates_api.py) through the real
Scrapy engine, mail through a real SMTP receiver on loopback, and the digest pages as written.

Colorado SB 217 (2020A) is the recorded bill (tracker/demo/data/openstates/api/baseline.json); its
earlier states are derived from it (`derive.state_bill_before`: later actions removed), and the
partial answer is the recorded bill with lists taken out by a rewriting front, labelled so."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from alerting import write_config
from recorded import serve_openstates
from servers import Mailbox
from test_openstates_hostile import front
from test_state_bills import (
    CO_BASELINE,
    KEY,
    KEYWORDS,
    NAMED,
    body_of,
    mail_to,
    openstates,
    put_colorado,
    subject,
    tracker,
)

from tracker.demo.derive import state_bill_before
from tracker.demo.replay import ReplayServer

DENVER = {"id": "denver", "state": "CO", "state_senate_district": "34", "state_house_district": 8}


def colorado_config(tmp_path: Path, base: str, mailbox: Mailbox, db_url: str,
                    bills: list[dict[str, Any]] | None = None) -> Path:
    return write_config(tmp_path, bills=bills or [NAMED], db_url=db_url,
                        subscribers=[{**DENVER, "notify": [mail_to(mailbox, "organizer@example.org")]}],
                        extra="[crawl]\ndelay_seconds = 0\n" + openstates(base))


def test_a_bill_sent_on_to_a_second_committee_is_not_said_to_be_out_of_committee(
        tmp_path: Path, replay: ReplayServer, mailbox: Mailbox, db_url: str) -> None:
    """June 4, 2020: the Senate Judiciary Committee "Refer Amended to Appropriations": SB 217 is in
    the Senate Appropriations Committee now, still to be won there. The alert was titled "Colorado
    SB 217 came out of committee" and said "Where it stands: came out of committee", as if it were
    on its way to the floor, while its own contact lines named the Appropriations chair.

    FAILED before: the subject was "Colorado SB 217 came out of committee"."""
    api, base = serve_openstates(replay, keys={KEY}, per_minute=1000)
    put_colorado(api, state_bill_before(CO_BASELINE, "2020-06-04", "2020-06-03T18:00:00+00:00"), "2020-06-03T18:05:00")
    config = colorado_config(tmp_path, base, mailbox, db_url)
    assert tracker("--config", str(config), "--quiet", "crawl").exit_code == 0
    assert tracker("--config", str(config), "notify").exit_code == 0 and mailbox.messages == []  # a baseline

    put_colorado(api, state_bill_before(CO_BASELINE, "2020-06-05", "2020-06-04T19:00:00+00:00"), "2020-06-04T19:05:00")
    assert tracker("--config", str(config), "--quiet", "crawl").exit_code == 0
    assert tracker("--config", str(config), "notify").exit_code == 0
    (mail,) = [m for _, m in mailbox.messages]
    sent_on = "came out of committee and was sent to the Senate Appropriations Committee"
    assert subject(mail) == f"Colorado SB 217 {sent_on}"
    text = body_of(mail)
    assert f"Where it stands: {sent_on} (latest action" in text
    assert "In committee now: the Senate Appropriations Committee; its chair:" in text

    # Appropriations reports it to the Committee of the Whole: now it is out of committee
    put_colorado(api, state_bill_before(CO_BASELINE, "2020-06-06", "2020-06-05T19:00:00+00:00"), "2020-06-05T19:05:00")
    assert tracker("--config", str(config), "--quiet", "crawl").exit_code == 0
    assert tracker("--config", str(config), "notify").exit_code == 0
    text = body_of(mailbox.messages[-1][1])
    assert "Where it stands: came out of committee (latest action" in text
    assert "In committee now" not in text

    changes = json.loads(tracker("--config", str(config), "changes", "--json", "--kind", "bill.stage").stdout)
    # the step to the floor is a stage too, naming the committee it came out of (no new stage by
    # its rank: "reported" before and after)
    assert sorted(c["summary"] for c in changes) == sorted(
        [f"Colorado SB 217 {sent_on}", "Colorado SB 217 came out of the Senate Appropriations Committee"])


def test_the_committee_holding_a_bill_is_said_once_on_the_pages_and_in_status(
        tmp_path: Path, replay: ReplayServer, mailbox: Mailbox, db_url: str) -> None:
    """A bill referred to a committee: its digest card and page said "Was referred to the Assembly
    Codes Committee — in the Assembly Codes Committee", and `tracker status` "... was referred to the
    Assembly Codes Committee (the Assembly Codes Committee)". A bill that passed one chamber and sits
    in the other's committee still names that committee.

    FAILED before: the committee was said twice on the pages and in status."""
    _, base = serve_openstates(replay, keys={KEY}, per_minute=1000)
    config = colorado_config(tmp_path, base, mailbox, db_url, bills=[KEYWORDS])
    assert tracker("--config", str(config), "--quiet", "crawl", now="2021-03-05T12:00:00Z").exit_code == 0
    status = tracker("--config", str(config), "status", now="2021-03-05T12:00:00Z").stdout
    assert "[qi-states] New York A 99901 (2021-2022) was referred to the Assembly Codes Committee; 1 sponsor" in status
    assert "New Mexico HB 4 (2021) passed the House (the Senate Judiciary Committee)" in status
    site = tmp_path / "site"
    assert tracker("--config", str(config), "digest", "--out", str(site), now="2021-03-05T12:00:00Z").exit_code == 0
    for page in (site / "index.html", site / "statebills" / "ny-2021-2022-a99901.html"):
        html = page.read_text()
        assert '<span class="stage referred">Was referred to the Assembly Codes Committee</span>.' in html
        assert "— in the Assembly Codes Committee" not in html, page
    assert "Passed the House</span> — in the Senate Judiciary Committee." in \
        (site / "statebills" / "nm-2021-hb4.html").read_text()


def test_a_bill_answered_without_its_actions_and_sponsors_keeps_what_was_stored(
        tmp_path: Path, replay: ReplayServer, mailbox: Mailbox, db_url: str) -> None:
    """A partial answer: SB 217 comes back without the `actions`, `sponsorships` and `votes` the
    request asked for (`include=`). It was read as a bill with none of them: its stored actions
    replaced by nothing, an alert titled "Colorado SB 217 was introduced" telling the organizer that
    all four sponsors had left, and the crawl said "ok". Now it is one error line naming the bill,
    the stored bill stays as it was, and nobody is told anything.

    FAILED before: "openstates: ok; 1 item, 5 changes" and a mail "Colorado SB 217 was introduced"."""
    api, base = serve_openstates(replay, keys={KEY}, per_minute=1000)
    partial = {"on": False}

    def spoil(pairs: list[tuple[str, str]], status: int, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if partial["on"]:
            for row in body.get("results", []):
                for name in ("actions", "sponsorships", "votes"):
                    row.pop(name, None)
        return status, body

    front(replay, api, spoil)
    config = colorado_config(tmp_path, base, mailbox, db_url)
    assert tracker("--config", str(config), "--quiet", "crawl").exit_code == 0
    before = json.loads(tracker("--config", str(config), "status", "--json").stdout)["state_bills"]
    assert before[0]["stage"] == "reported" and before[0]["sponsors"] == 4

    partial["on"] = True
    put_colorado(api, {**CO_BASELINE, "updated_at": "2020-06-11T00:00:00+00:00"}, "2020-06-11T00:05:00")
    run = tracker("--config", str(config), "crawl")
    assert "openstates: 1 error; 0 items, 0 changes" in run.stdout, run.output
    (line,) = [x for x in run.output.splitlines() if "partial answer" in x]
    assert "Open States bill SB 217 came without its actions, sponsorships, votes" in line
    assert KEY not in run.output
    assert tracker("--config", str(config), "notify").exit_code == 0
    assert mailbox.messages == []
    after = json.loads(tracker("--config", str(config), "status", "--json").stdout)["state_bills"]
    assert after == before

    partial["on"] = False  # the next run reads it whole again: nothing moved, nothing to say
    assert tracker("--config", str(config), "--quiet", "crawl").exit_code == 0
    assert tracker("--config", str(config), "notify").exit_code == 0
    assert mailbox.messages == []
