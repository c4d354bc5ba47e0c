"""State bills end to end through the real `tracker` CLI: the loopback Open States API v3 (it enforces
the key, the per-minute and per-day limits counting refused requests, pagination and
`updated_since`; tracker/demo/openstates_api.py), the real openstates/people YAML as `people_dir`,
and a real SMTP receiver.

The recorded API states (`baseline`, `later`; tracker/demo/data/openstates/SOURCES.md) are used as
they are; earlier states of Colorado SB 217 are derived from the recorded one
(`derive.state_bill_before`: its later actions removed) and the New York bills the keyword tests add
are fiction, built here and labelled so.
"""

from __future__ import annotations

import copy
import itertools
import json
from email.header import decode_header, make_header
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from alerting import write_config
from click.testing import CliRunner, Result
from recorded import DEMO, federal, serve_openstates
from servers import Mailbox, Receiver

from tracker.cli import main
from tracker.demo.derive import state_bill_before
from tracker.demo.openstates_api import DATA, OpenStatesApi
from tracker.demo.replay import ReplayServer

KEY = "os-Key-5521-abcdef"
RECORDED = {state: json.loads((DATA / "api" / f"{state}.json").read_text()) for state in ("baseline", "later")}
CO_BASELINE = RECORDED["baseline"]["bills"][0]
CO_LATER = RECORDED["later"]["bills"][0]
JUNE = "2020-06-12T15:00:00Z"  # the tracker's clock: after Colorado SB 217 passed the Senate
NAMED = {"id": "co-sb217", "name": "Colorado SB 217", "state": "co", "session": "2020A", "numbers": ["SB 217"]}
KEYWORDS = {"id": "qi-states", "name": "Qualified immunity in three states", "states": ["co", "nm", "ny"],
            "keywords": ["qualified immunity"]}


def tracker(*args: str, now: str = JUNE, key: str = KEY) -> Result:
    return CliRunner().invoke(main, list(args), env={"TRACKER_NOW": now, "OPENSTATES_API_KEY": key},
                              catch_exceptions=False)


def mail_to(mailbox: Mailbox, address: str) -> str:
    return f"mailto://127.0.0.1:{mailbox.port}?smtp=127.0.0.1&from=tracker@example.org&to={address}"


def openstates(base: str, **keys: Any) -> str:
    """The `[sources.openstates]` table: the key from the environment, paced fast for the loopback."""
    fields = {"base_url": base, "api_key": "${OPENSTATES_API_KEY}", "per_minute": 6000,
              "people_dir": str(DEMO / "openstates" / "people"), **keys}
    return "[sources.openstates]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in fields.items())


def subject(mail: Message) -> str:
    return str(make_header(decode_header(mail["Subject"])))


def body_of(mail: Message) -> str:
    part = mail.get_payload(0) if mail.is_multipart() else mail
    return part.get_payload(decode=True).decode()


def latest_update(recorded: str, state: str) -> str:
    """A state's `latest_bill_update` in a recorded `/jurisdictions` answer."""
    (row,) = [j for j in RECORDED[recorded]["jurisdictions"]["results"] if j["id"].endswith(f"/state:{state}/government")]
    return str(row["latest_bill_update"])


def put_colorado(api: OpenStatesApi, bill: dict[str, Any], latest: str) -> None:
    """Colorado's bill as it stands, and the state's `latest_bill_update` moved with it."""
    api.put_bill(bill)
    api.touch("co", latest)


@pytest.fixture
def api_and_base(replay: ReplayServer) -> tuple[OpenStatesApi, str]:
    return serve_openstates(replay, keys={KEY}, per_minute=1000)


def test_a_state_bill_through_committee_and_the_senate(tmp_path: Path, replay: ReplayServer, mailbox: Mailbox,
                                                        api_and_base: tuple[OpenStatesApi, str], db_url: str) -> None:
    """A named state bill and a keyword watch across three states: a baseline tells nobody; while
    the bill sits in the Senate Appropriations Committee the alert names its chair; its passage by
    the Senate is one alert titled by the headline naming the subscriber's own state senator and
    representative with their phones; a run with nothing new is one request."""
    api, base = api_and_base
    # derived: SB 217 as it stood on June 3 (introduced, assigned to the Senate Judiciary Committee)
    put_colorado(api, state_bill_before(CO_BASELINE, "2020-06-04", "2020-06-03T18:00:00+00:00"), "2020-06-03T18:05:00")
    config = write_config(tmp_path, bills=[NAMED, KEYWORDS], db_url=db_url,
                          subscribers=[{"id": "denver", "notify": [mail_to(mailbox, "organizer@example.org")],
                                        "state": "CO", "state_senate_district": "34", "state_house_district": 8}],
                          extra="[crawl]\ndelay_seconds = 0\n" + openstates(base))
    first = tracker("--config", str(config), "--quiet", "crawl")
    assert first.exit_code == 0, first.output
    assert first.stdout == first.stderr == ""
    assert tracker("--config", str(config), "notify").exit_code == 0 and mailbox.messages == []  # a baseline

    # derived: June 4, the Judiciary Committee sends it on to Appropriations, which holds it now
    put_colorado(api, state_bill_before(CO_BASELINE, "2020-06-05", "2020-06-04T19:00:00+00:00"), "2020-06-04T19:05:00")
    assert tracker("--config", str(config), "--quiet", "crawl").exit_code == 0
    assert tracker("--config", str(config), "notify").exit_code == 0
    (committee_mail,) = [mail for _, mail in mailbox.messages]
    text = body_of(committee_mail)
    assert subject(committee_mail).startswith("Colorado SB 217")
    assert "In committee now: the Senate Appropriations Committee; its chair:" in text
    assert "Chris Hansen" in text and "303-866-4861" in text  # the chair, from the committees YAML
    assert "Julie Gonzales" in text and "Leslie Herod" in text

    # recorded: the later state, SB 217 passed the Senate on June 9 (32-3) and gained a sponsor
    put_colorado(api, CO_LATER, latest_update("later", "co"))
    assert tracker("--config", str(config), "--quiet", "crawl").exit_code == 0
    assert tracker("--config", str(config), "notify").exit_code == 0
    assert len(mailbox.messages) == 2
    passed = mailbox.messages[-1][1]
    assert subject(passed) == "Colorado SB 217 passed the Senate"
    text = body_of(passed)
    assert "Your state legislators:" in text
    # the HTML part lists the subscriber's legislators under that line, not beside it as more items
    html = next(p for p in passed.walk() if p.get_content_type() == "text/html").get_payload(decode=True).decode()
    yours = html.split("Your state legislators:", 1)[1].split("</li>", 1)[0]
    assert "<ul>" in yours and "Senator Julie Gonzales" in yours, html
    assert "Senator Julie Gonzales (Democratic, Senate District 34): 303-866-4862" in text
    assert "Representative Leslie Herod (Democratic, House District 8): 303-866-2959" in text
    assert "Sponsor: Leroy Garcia" in text and "Senate vote 32-3 on Third Reading (passed)" in text
    assert "In committee now" not in text  # out of committee: no chair to call
    assert "Found by the keyword watch" not in text

    before = api.count()
    quiet = tracker("--config", str(config), "crawl")
    assert quiet.exit_code == 0
    assert api.count() - before == 1 and api.requests[-1].path == "/jurisdictions"  # nothing new: one request
    assert "openstates: ok; 0 items, 0 changes, 1 unchanged (304), 1 request" in quiet.stdout

    status = json.loads(tracker("--config", str(config), "status", "--json").stdout)
    co = [b for b in status["state_bills"] if b["entity"] == "statebill:co:2020a:sb217"]
    assert {b["watch"] for b in co} == {"co-sb217", "qi-states"}  # named, and found by its text
    assert co[0]["stage"] == "passed_upper" and co[0]["where"] == "passed the Senate" and co[0]["number"] == "SB 217"
    assert {b["entity"] for b in status["state_bills"]} == {
        "statebill:co:2020a:sb217", "statebill:nm:2021:hb4", "statebill:ny:2021-2022:a99901"}
    (source,) = [s for s in status["sources"] if s["id"] == "openstates"]
    assert source["ok"] is True and source["budget"] == {"day": "2020-06-12", "daily": 250, "used": api.count(),
                                                         "left": 250 - api.count()}
    assert all("budget" not in s for s in status["sources"] if s["id"] != "openstates")
    text_status = tracker("--config", str(config), "status").stdout
    assert "source openstates: ok" in text_status and f"{250 - api.count()} of 250 requests left today" in text_status
    assert "[co-sb217] Colorado SB 217 (2020A) passed the Senate" in text_status

    changes = json.loads(tracker("--config", str(config), "changes", "--json", "--kind", "bill.stage").stdout)
    assert [(c["summary"], c["data"]["to"], c["data"]["state"]) for c in changes] == [
        ("Colorado SB 217 came out of committee and was sent to the Senate Appropriations Committee", "reported", "co"),
        ("Colorado SB 217 passed the Senate", "passed_upper", "co")]

    site = tmp_path / "site"
    assert tracker("--config", str(config), "digest", "--out", str(site)).exit_code == 0
    index = (site / "index.html").read_text()
    assert "Colorado SB 217 (2020A)" in index and "Qualified immunity in three states" in index
    page = (site / "statebills" / "co-2020a-sb217.html").read_text()
    assert '<li class="done">Senate</li>' in page and '<li class="todo">House</li>' in page
    assert '<li class="todo">Governor</li>' in page and "Third Reading" in page
    assert "Colorado SB 217 passed the Senate" in (site / "changes.atom").read_text()
    assert "- Colorado SB 217 (2020A): Enhance Law Enforcement Integrity\n  passed the Senate; latest Tue Jun 9, 2020" \
        in (site / "digest.txt").read_text()
    assert KEY not in index + page


def fiction(number: int, title: str, text: str | None, updated: str) -> tuple[dict[str, Any], str | None]:
    """A New York bill that does not exist (fiction, for the keyword rule): A 99901's record with
    another number, title and update time."""
    bill = copy.deepcopy(RECORDED["baseline"]["bills"][3])
    bill["id"] = f"ocd-bill/00000000-0000-4000-8000-{number:012d}"
    bill["identifier"] = f"A {number}"
    bill["title"] = title
    bill["abstracts"] = []
    bill["updated_at"] = updated
    bill["openstates_url"] = f"https://openstates.org/ny/bills/2021-2022/A{number}/"
    return bill, text


def test_a_daily_bundle_says_where_each_state_bill_stands(tmp_path: Path, replay: ReplayServer, mailbox: Mailbox,
                                                          api_and_base: tuple[OpenStatesApi, str]) -> None:
    """FAILED before: a daily reader's bundle listed SB 217's changes (two actions) but never where
    the bill stands, which the instant message says; the changes alone do not (the committee that
    holds it now is named only there). By mail (the Markdown bundle) and to a chat webhook (json://,
    the plain-text one)."""
    api, base = api_and_base
    hook = Receiver()
    put_colorado(api, state_bill_before(CO_BASELINE, "2020-06-04", "2020-06-03T18:00:00+00:00"), "2020-06-03T18:05:00")
    config = write_config(tmp_path, bills=[NAMED],
                          subscribers=[{"id": "denver", "notify": [mail_to(mailbox, "organizer@example.org"), hook.url],
                                        "mode": "daily", "state": "CO"}],
                          extra="[crawl]\ndelay_seconds = 0\n" + openstates(base))
    assert tracker("--config", str(config), "--quiet", "crawl", now="2020-06-04T15:00:00Z").exit_code == 0
    # derived: June 4, the Judiciary Committee sends it on to Appropriations, which holds it now
    put_colorado(api, state_bill_before(CO_BASELINE, "2020-06-05", "2020-06-04T19:00:00+00:00"), "2020-06-04T19:05:00")
    assert tracker("--config", str(config), "--quiet", "crawl", now="2020-06-04T20:00:00Z").exit_code == 0
    try:
        sent = tracker("--config", str(config), "notify", now="2020-06-05T15:00:00Z")  # the next morning's bundle
        assert sent.exit_code == 0, sent.output
        (post,) = hook.posts
    finally:
        hook.stop()
    (bundle,) = [mail for _, mail in mailbox.messages]
    stands = "Where it stands: came out of committee and was sent to the Senate Appropriations Committee"
    for text in (body_of(bundle), post["message"]):
        assert "in your daily digest" in text
        assert stands in text


def test_committee_steps_without_a_new_stage_are_told_as_stages(tmp_path: Path, replay: ReplayServer, mailbox: Mailbox,
                                                                 api_and_base: tuple[OpenStatesApi, str]) -> None:
    """FAILED before: a committee step that is no new stage was only `bill.action`, so a subscriber
    to stages alone (`kinds = ["bill.stage"]`) never heard it. Colorado SB 217 on June 5
    (derived from the recording: its later actions removed): the Appropriations Committee sends it
    on to the floor; the bill was "reported" before and after. Told as a stage: the committee it
    came out of, so the subscriber knows the fight moved to the floor."""
    api, base = api_and_base
    put_colorado(api, state_bill_before(CO_BASELINE, "2020-06-05", "2020-06-04T19:00:00+00:00"), "2020-06-04T19:05:00")
    config = write_config(tmp_path, bills=[NAMED],
                          subscribers=[{"id": "denver", "notify": [mail_to(mailbox, "organizer@example.org")],
                                        "kinds": ["bill.stage"]}],
                          extra="[crawl]\ndelay_seconds = 0\n" + openstates(base))
    assert tracker("--config", str(config), "--quiet", "crawl", now="2020-06-04T20:00:00Z").exit_code == 0
    assert tracker("--config", str(config), "notify", now="2020-06-04T20:00:00Z").exit_code == 0
    put_colorado(api, state_bill_before(CO_BASELINE, "2020-06-06", "2020-06-05T19:00:00+00:00"), "2020-06-05T19:05:00")
    assert tracker("--config", str(config), "--quiet", "crawl", now="2020-06-05T20:00:00Z").exit_code == 0
    sent = tracker("--config", str(config), "notify", now="2020-06-05T20:00:00Z")
    assert sent.exit_code == 0, sent.output
    (mail,) = [m for _, m in mailbox.messages]
    assert subject(mail) == "Colorado SB 217 came out of the Senate Appropriations Committee"
    assert "In committee now" not in body_of(mail)


def test_the_other_chamber_s_committee_is_a_stage_and_the_same_one_is_not() -> None:
    """New Mexico HB 4 (recorded; its state before the Senate's referral derived): passed the House
    on February 24, sent to the Senate Judiciary Committee the next day. Its stage stays "passed
    the House"; the committee holding it is new: `bill.stage` "went to the Senate Judiciary
    Committee". A later state holding it in the same committee tells no stage."""
    from tracker.states import diff_bill, headline, read_bill

    (hb4,) = [b for b in RECORDED["baseline"]["bills"] if b["identifier"] == "HB 4"]
    before = read_bill(state_bill_before(hb4, "2021-02-25", "2021-02-24T20:00:00+00:00"))
    after = read_bill(hb4)
    assert before.stage == after.stage == "passed_lower" and before.committee is None
    changes = diff_bill(before, after, "statebill:nm-hb4")
    stages = [c for c in changes if c.kind == "bill.stage"]
    assert [c.summary for c in stages] == ["New Mexico HB 4 went to the Senate Judiciary Committee"]
    assert headline(changes, after) == "New Mexico HB 4 went to the Senate Judiciary Committee"
    assert [c.kind for c in diff_bill(after, after, "statebill:nm-hb4")] == []


def test_a_bill_that_dies_in_committee_says_which() -> None:
    """New Mexico HB 4 in the Senate Judiciary Committee (recorded), then tabled there (DERIVED: an
    action added, "SJC: Tabled", classified `committee-failure` as Open States classifies New
    Mexico's tablings). FAILED before: "New Mexico HB 4 failed", as if the Senate had voted it down;
    organizers who lost it in committee know whom to hold to account."""
    from tracker.states import diff_bill, headline, read_bill, where_it_stands

    (hb4,) = [b for b in RECORDED["baseline"]["bills"] if b["identifier"] == "HB 4"]
    held = read_bill(hb4)
    tabled = copy.deepcopy(hb4)
    tabled["actions"].append({**tabled["actions"][-1], "date": "2021-03-10", "description": "SJC: Tabled",
                              "classification": ["committee-failure"], "related_entities": [],
                              "order": len(tabled["actions"])})
    died = read_bill(tabled)
    assert died.stage == "failed" and died.committee is None
    changes = diff_bill(held, died, "statebill:nm-hb4")
    (stage,) = [c for c in changes if c.kind == "bill.stage"]
    assert stage.summary == "New Mexico HB 4 failed in the Senate Judiciary Committee"
    assert headline(changes, died) == "New Mexico HB 4 failed in the Senate Judiciary Committee"
    assert where_it_stands(died) == "failed"  # the record alone no longer holds the committee


def test_the_keyword_rule(tmp_path: Path, replay: ReplayServer, mailbox: Mailbox,
                          api_and_base: tuple[OpenStatesApi, str]) -> None:
    """"qualified immunity", whole words, any case: a title holding the phrase matches by its
    title; a bill whose title does not but whose text does is found by the API's text search and
    said to match by its text; one holding the two words apart is never found."""
    api, base = api_and_base
    config = write_config(tmp_path, bills=[KEYWORDS],
                          subscribers=[{"id": "albany", "notify": [mail_to(mailbox, "ny@example.org")]}],
                          extra="[crawl]\ndelay_seconds = 0\n" + openstates(base))
    assert tracker("--config", str(config), "--quiet", "crawl", now="2021-03-05T12:00:00Z").exit_code == 0
    for bill, text in (
        fiction(99911, "Relates to QUALIFIED-IMMUNITY for police officers", None, "2021-03-10T10:00:00+00:00"),
        fiction(99912, "Relates to civil actions for the deprivation of rights",
                "Qualified immunity shall not be a defense to such an action.", "2021-03-10T10:05:00+00:00"),
        fiction(99913, "Relates to immunity from suit for qualified health professionals",
                "Grants immunity to persons qualified as emergency health professionals.",
                "2021-03-10T10:10:00+00:00")):
        api.put_bill(bill, text)
    api.touch("ny", "2021-03-10T10:15:00")
    assert tracker("--config", str(config), "--quiet", "crawl", now="2021-03-10T12:00:00Z").exit_code == 0
    found = json.loads(tracker("--config", str(config), "changes", "--json", "--kind", "bill.introduced",
                               now="2021-03-10T12:00:00Z").stdout)
    found.sort(key=lambda c: c["entity"])  # two bills of one crawl: stored in either order
    assert [(c["entity"], c["data"]["matches"]) for c in found] == [
        ("statebill:ny:2021-2022:a99911", [{"keyword": "qualified immunity", "where": "title"}]),
        ("statebill:ny:2021-2022:a99912", [{"keyword": "qualified immunity", "where": "text"}])]
    assert found[1]["summary"] == ("New York A 99912 found: Relates to civil actions for the deprivation of rights "
                                   "(“qualified immunity” in its text)")
    status = json.loads(tracker("--config", str(config), "status", "--json", now="2021-03-10T12:00:00Z").stdout)
    entities = {b["entity"] for b in status["state_bills"]}
    assert "statebill:ny:2021-2022:a99913" not in entities  # the words apart: not found
    assert "statebill:ny:2021-2022:s99902" not in entities  # the recorded one with the words apart
    assert tracker("--config", str(config), "notify", now="2021-03-10T12:00:00Z").exit_code == 0
    mails = {subject(mail): body_of(mail) for _, mail in mailbox.messages}
    text_match = mails["New York A 99912 found: Relates to civil actions for the deprivation of rights "
                       "(“qualified immunity” in its text)"]
    assert "Found by the keyword watch: “qualified immunity” in its text (Open States' full-text search)\r\n" in text_match
    assert len(mails) == 2


def test_a_429_mid_run_and_a_spent_budget_lose_nothing(tmp_path: Path, replay: ReplayServer) -> None:
    """The API's per-minute limit refuses a request mid-run: one line, what was read is stored, the
    next run (a minute later) reads only what is left. A spent daily budget: one line, no request
    more that day, the next day's run goes on."""
    clock = [1_591_974_000.0]  # 2020-06-12 15:00 UTC, frozen: every request falls in one minute
    api, base = serve_openstates(replay, keys={KEY}, per_minute=3, clock=lambda: clock[0])
    config = write_config(tmp_path, bills=[NAMED, KEYWORDS], subscribers=[],
                          extra="[crawl]\ndelay_seconds = 0\n" + openstates(base))
    stopped = tracker("--config", str(config), "crawl")
    assert stopped.exit_code == 1
    lines = [line for line in stopped.stderr.splitlines() if line.strip()]
    assert lines == ["openstates: rate limit: HTTP 429 from Open States (exceeded limit of 3/min: 4): stopped; what "
                     "was read is kept, the rest is read next run"]
    assert [(r.path, r.status) for r in api.requests] == [("/jurisdictions", 200), ("/bills", 200), ("/bills", 200),
                                                           ("/bills", 429)]
    status = json.loads(tracker("--config", str(config), "status", "--json").stdout)
    assert {b["entity"] for b in status["state_bills"]} == {"statebill:co:2020a:sb217", "statebill:nm:2021:hb4"}

    clock[0] += 60
    again = tracker("--config", str(config), "crawl")
    assert again.exit_code == 0, again.output
    queries = [dict(r.params) for r in api.requests[4:]]
    assert [q.get("jurisdiction") for q in queries] == [None, "ny", "co"]  # only what was left
    status = json.loads(tracker("--config", str(config), "status", "--json").stdout)
    assert {b["entity"] for b in status["state_bills"]} == {
        "statebill:co:2020a:sb217", "statebill:nm:2021:hb4", "statebill:ny:2021-2022:a99901"}
    assert {b["watch"] for b in status["state_bills"] if b["number"] == "SB 217"} == {"co-sb217", "qi-states"}

    # the daily budget: 7 requests sent today; a budget of 9 allows two more
    api.load("later")
    clock[0] += 60
    tight = write_config(tmp_path, bills=[NAMED, KEYWORDS], subscribers=[],
                         extra="[crawl]\ndelay_seconds = 0\n" + openstates(base, daily_budget=9))
    spent = tracker("--config", str(tight), "crawl")
    assert spent.exit_code == 0
    lines = [line for line in spent.stderr.splitlines() if line.strip()]
    assert lines == ["warning: openstates: daily budget: the day's budget of 9 requests is spent (2020-06-12, UTC): "
                     "stopped; what was read is kept, the rest is read after midnight UTC"]
    assert len(api.requests) == 9
    status = json.loads(tracker("--config", str(tight), "status", "--json").stdout)
    (source,) = [s for s in status["sources"] if s["id"] == "openstates"]
    assert source["budget"] == {"day": "2020-06-12", "daily": 9, "used": 9, "left": 0}
    assert tracker("--config", str(tight), "crawl").exit_code == 0 and len(api.requests) == 9  # none more today

    clock[0] += 86_400
    api.per_minute = 10  # the free key's own: the spider's pace (6000 a minute here) is not what is tested now
    tomorrow = tracker("--config", str(tight), "crawl", now="2020-06-13T15:00:00Z")
    assert tomorrow.exit_code == 0 and "budget" not in tomorrow.stderr
    changes = json.loads(tracker("--config", str(tight), "changes", "--json", "--kind", "bill.stage",
                                 now="2020-06-13T15:00:00Z").stdout)
    assert {c["summary"] for c in changes} == {"Colorado SB 217 passed the Senate",
                                               "New Mexico HB 4 passed the Senate, and so both chambers",
                                               "New York A 99901 passed the Assembly"}


def test_a_wrong_key_is_one_line_and_the_others_go_on(tmp_path: Path, replay: ReplayServer,
                                                       api_and_base: tuple[OpenStatesApi, str]) -> None:
    api, base = api_and_base
    replay.add("/bulkdata/BILLSTATUS/117/s/BILLSTATUS-117s35.xml", federal("BILLSTATUS-117s35.xml"))
    config = write_config(tmp_path, bills=[{"id": "police", "name": "Police", "numbers": ["s35-117"]}, NAMED],
                          subscribers=[],
                          extra=f'[crawl]\ndelay_seconds = 0\n[sources.govinfo]\nbase_url = "{replay.url}"\n'
                                + openstates(base))
    result = tracker("--config", str(config), "crawl", key="not-the-Key-998877")
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == ["openstates: API key: Open States refused the key (HTTP 401: Invalid API Key. Login and visit "
                     "https://openstates.org/account/profile/ for your API key.); check [sources.openstates] api_key"]
    assert "govinfo: ok; 1 item," in result.stdout
    assert "not-the-Key-998877" not in result.output
    assert [(r.path, r.status, r.key) for r in api.requests] == [("/jurisdictions", 401, "wrong")]
    check = tracker("--config", str(config), "status", "--check", key="not-the-Key-998877")
    assert check.exit_code == 1 and "source openstates: failing" in check.output


def test_without_people_dir_legislators_come_from_the_api_at_most_weekly(
        tmp_path: Path, replay: ReplayServer, mailbox: Mailbox, api_and_base: tuple[OpenStatesApi, str]) -> None:
    """No openstates/people checkout: the subscriber's state's legislators are read from `/people`
    (with their offices) after the bills, once a week, and alerts name them with their phones (no
    committee chair: the API's people carry no committees)."""
    api, base = api_and_base
    config = write_config(tmp_path, bills=[NAMED],
                          subscribers=[{"id": "denver", "notify": [mail_to(mailbox, "organizer@example.org")],
                                        "state": "CO", "state_senate_district": 34, "state_house_district": "8"}],
                          extra="[crawl]\ndelay_seconds = 0\n" + openstates(base).replace(
                              f'people_dir = {json.dumps(str(DEMO / "openstates" / "people"))}\n', ""))
    assert tracker("--config", str(config), "--quiet", "crawl").exit_code == 0
    people = [r for r in api.requests if r.path == "/people"]
    assert [(dict(r.params)["jurisdiction"], dict(r.params)["include"], r.status) for r in people] == [
        ("co", "offices", 200)]
    put_colorado(api, CO_LATER, latest_update("later", "co"))
    assert tracker("--config", str(config), "--quiet", "crawl", now="2020-06-15T15:00:00Z").exit_code == 0
    assert len([r for r in api.requests if r.path == "/people"]) == 1  # read three days ago: not again
    assert tracker("--config", str(config), "notify", now="2020-06-15T15:00:00Z").exit_code == 0
    (mail,) = [m for _, m in mailbox.messages]
    text = body_of(mail)
    assert subject(mail) == "Colorado SB 217 passed the Senate"
    assert "Senator Julie Gonzales (Democratic, Senate District 34): 303-866-4862, julie.gonzales.senate@state.co.us" \
        in text
    assert "Representative Leslie Herod (Democratic, House District 8): 303-866-2959" in text
    api.touch("co", "2020-06-22T10:00:00")
    assert tracker("--config", str(config), "--quiet", "crawl", now="2020-06-22T15:00:00Z").exit_code == 0
    assert len([r for r in api.requests if r.path == "/people"]) == 2  # a week on: read again


def test_query_planning_and_the_stage_bar_in_the_states_chambers() -> None:
    """Watches' queries merged (one per state and session for named bills, one per keyword and
    place), and the digest's bar: origin chamber first, the state's own names."""
    from spiders.openstates import plan_queries
    from tracker.config import StateBillWatch
    from tracker.digest import state_stage_steps
    from tracker.states import read_bill

    watches = [StateBillWatch(**NAMED), StateBillWatch(**KEYWORDS),
               StateBillWatch(id="more", name="m", state="co", session="2020A", numbers=["sb217", "HB 1"],
                              keywords=["Qualified immunity"]),
               StateBillWatch(id="all", name="a", keywords=["use of force"])]
    queries = plan_queries(watches)
    assert [(q.id.split("|bills:")[0], q.state, q.keyword) for q in queries] == [
        ("*||q:use of force", None, "use of force"),
        ("co|2020A|q:qualified immunity", "co", "Qualified immunity"),
        ("co||q:qualified immunity", "co", "qualified immunity"),
        ("nm||q:qualified immunity", "nm", "qualified immunity"),
        ("ny||q:qualified immunity", "ny", "qualified immunity"),
        ("co|2020A", "co", None)]
    assert queries[-1].identifiers == ["HB 1", "SB 217"]
    assert queries[-1].watches_of == {"co:2020a:hb1": ["more"], "co:2020a:sb217": ["co-sb217", "more"]}

    def bar(bill: dict[str, Any]) -> list[tuple[str, bool]]:
        return [(step["label"], step["done"]) for step in state_stage_steps(read_bill(bill))]

    assert bar(CO_LATER) == [("Introduced", True), ("Committee", True), ("Senate", True), ("House", False),
                             ("Governor", False), ("Law", False)]
    va = next(b for b in RECORDED["later"]["bills"] if b["identifier"] == "HB 99903")
    assert bar(va) == [("Introduced", True), ("Committee", True), ("House of Delegates", True), ("Senate", False),
                       ("Governor", False), ("Law", False)]
    ny = next(b for b in RECORDED["later"]["bills"] if b["identifier"] == "A 99901")
    assert [label for label, _ in bar(ny)][2:4] == ["Assembly", "Senate"]


def test_requests_keep_to_the_keys_rate(tmp_path: Path, replay: ReplayServer,
                                        api_and_base: tuple[OpenStatesApi, str]) -> None:
    """`per_minute` spaces every request to the API (the free key's 10 a minute, here 300 so the
    test is quick): no two requests closer than 60/300 s."""
    api, base = api_and_base
    config = write_config(tmp_path, bills=[NAMED, KEYWORDS], subscribers=[],
                          extra="[crawl]\ndelay_seconds = 0\n" + openstates(base, per_minute=300))
    assert tracker("--config", str(config), "--quiet", "crawl").exit_code == 0
    times = [r.time for r in api.requests]
    assert len(times) == 5
    assert min(b - a for a, b in itertools.pairwise(times)) >= 0.2


def test_a_named_bill_open_states_does_not_have_is_one_warning(tmp_path: Path, replay: ReplayServer,
                                                                api_and_base: tuple[OpenStatesApi, str]) -> None:
    _api, base = api_and_base
    typo = {**NAMED, "numbers": ["SB 217", "SB 2170"]}
    config = write_config(tmp_path, bills=[typo], subscribers=[],
                          extra="[crawl]\ndelay_seconds = 0\n" + openstates(base))
    result = tracker("--config", str(config), "crawl")
    assert result.exit_code == 0
    assert [line for line in result.stderr.splitlines() if line.strip()] == [
        "warning: openstates: bill co:2020a:sb2170: Open States has no such bill (check the watch's `state`, "
        "`session` and `numbers`)"]
    assert "openstates: ok (1 warning); 1 item," in result.stdout
