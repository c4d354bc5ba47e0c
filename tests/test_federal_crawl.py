"""Federal bills end to end: the GovInfo spider through the real Scrapy engine against the loopback
server, then `status` and `changes` as a user reads them."""

from __future__ import annotations

import json
import os
import re
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from recorded import federal
from sqlalchemy import func, select
from statusjson import changes_json, status_json

from tracker import ingestworker
from tracker import models as m
from tracker.cli import main
from tracker.config import Config, load_config
from tracker.crawl import run_crawls
from tracker.demo.derive import billstatus_before
from tracker.demo.packages import INDEX_PATH, sitemap_xml
from tracker.demo.replay import Fault, ReplayServer
from tracker.store import Store


def path_of(number: str) -> str:
    bill_type, rest = number.rstrip("0123456789-").split("-")[0], number
    digits = "".join(ch for ch in rest.split("-")[0] if ch.isdigit())
    congress = number.split("-")[1]
    return f"/bulkdata/BILLSTATUS/{congress}/{bill_type}/BILLSTATUS-{congress}{bill_type}{digits}.xml"


def real(name: str) -> bytes:
    return federal(name)


def write_config(tmp_path: Path, server: ReplayServer, numbers: list[str], extra: str = "") -> Config:
    path = tmp_path / "tracker.toml"
    path.write_text(
        f'[crawl]\ndelay_seconds = 0\nretries = 0\n[sources.govinfo]\nbase_url = "{server.url}"\n'
        f'[[bills]]\nid = "police"\nname = "Police bills"\nnumbers = {json.dumps(numbers)}\n{extra}'
    )
    return load_config(path, env={})


@pytest.fixture
def bills(tmp_path: Path, replay: ReplayServer) -> tuple[Config, Store]:
    # derived: each real file with actions/cosponsors dated on or after the cutoff removed
    replay.add(path_of("s35-117"), billstatus_before(real("BILLSTATUS-117s35.xml"), "2021-02-12"))
    replay.add(path_of("hr2471-117"), billstatus_before(real("BILLSTATUS-117hr2471.xml"), "2022-03-09"))
    replay.add(path_of("hr367-115"), real("BILLSTATUS-115hr367.xml"))
    config = write_config(tmp_path, replay, ["s35-117", "hr2471-117", "hr367-115"])
    return config, Store(config.database_url)


def by_entity(status: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["entity"]: b for b in status["bills"]}


def test_baseline_then_later_state_then_nothing(bills: tuple[Config, Store], replay: ReplayServer) -> None:
    config, store = bills
    (first,) = run_crawls(config, store)
    assert first.ok and first.items == 3 and first.changes == 0
    assert changes_json(store) == []  # a baseline alerts nobody
    status = by_entity(status_json(store, config))
    assert status["bill:s35-117"]["stage"] == "referred"
    assert status["bill:hr367-115"] | {} == status["bill:hr367-115"]
    assert status["bill:hr367-115"]["cosponsors"] == 166
    assert status["bill:hr367-115"]["number"] == "H.R. 367" and status["bill:hr367-115"]["congress"] == 115

    replay.replace(path_of("s35-117"), real("BILLSTATUS-117s35.xml"))
    replay.replace(path_of("hr2471-117"), real("BILLSTATUS-117hr2471.xml"))
    (second,) = run_crawls(config, store)
    assert second.ok and second.not_modified == 1  # hr367 unchanged: a 304
    changes = changes_json(store)
    stages = [(c["entity"], c["data"]["to"]) for c in changes if c["kind"] == "bill.stage"]
    assert sorted(stages) == [("bill:hr2471-117", "enacted"), ("bill:s35-117", "passed_senate")]
    s35_actions = [c for c in changes if c["kind"] == "bill.action" and c["entity"] == "bill:s35-117"]
    assert {c["data"]["date"] for c in s35_actions} == {"2021-02-12", "2021-02-16", "2021-02-18"}
    assert all(c["watch"] == "police" and c["url"].startswith("https://www.congress.gov/bill/117th-congress/")
               for c in changes)
    status = by_entity(status_json(store, config))
    assert status["bill:hr2471-117"]["law"] == "117-103"
    assert status["bill:hr2471-117"]["latest_action"] == {"date": "2022-03-15", "text": "Became Public Law No: 117-103."}
    assert status["bill:s35-117"]["stage"] == "passed_senate" and status["bill:s35-117"]["cosponsors"] == 72

    replay.clear_log()
    (third,) = run_crawls(config, store)
    assert third.changes == 0 and third.not_modified == 3
    assert replay.count(status=200) == 0  # no body downloaded
    assert len(changes_json(store)) == len(changes)


def test_switching_schema_is_not_news(tmp_path: Path, replay: ReplayServer) -> None:
    replay.add(path_of("s35-117"), real("pre-v3/BILLSTATUS-117s35.xml"))
    config = write_config(tmp_path, replay, ["s35-117"])
    store = Store(config.database_url)
    run_crawls(config, store)
    replay.replace(path_of("s35-117"), real("BILLSTATUS-117s35.xml"))
    (report,) = run_crawls(config, store)
    assert report.ok and report.items == 1 and report.changes == 0
    assert changes_json(store) == []


def test_update_date_only_file_is_not_news(tmp_path: Path, replay: ReplayServer) -> None:
    data = real("BILLSTATUS-117hr6658.xml")
    replay.add(path_of("hr6658-117"), data)
    config = write_config(tmp_path, replay, ["hr6658-117"])
    store = Store(config.database_url)
    run_crawls(config, store)
    bumped = data.replace(b"<updateDate>2022-", b"<updateDate>2030-", 1)
    assert bumped != data
    replay.replace(path_of("hr6658-117"), bumped)
    (report,) = run_crawls(config, store)
    assert report.items == 1 and report.new_snapshots == 0 and report.changes == 0


@pytest.mark.parametrize(
    ("fault", "body", "problem"),
    [
        (Fault.status(404), None, "HTTP 404"),
        (Fault.status(500), None, "HTTP 500"),
        (Fault.truncate(4000), None, "truncated"),
        (None, b'<?xml version="1.0"?><!DOCTYPE b [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
               b"<billStatus><bill>&b;</bill></billStatus>", "DTD or entities"),
        (Fault.huge(60 * 2**20), None, "download size cap"),
        (Fault.html_error(), None, "an HTML page, not a BILLSTATUS document"),
    ],
)
def test_a_broken_bill_is_one_clear_line_and_the_others_go_on(
    bills: tuple[Config, Store], replay: ReplayServer, fault: Fault | None, body: bytes | None, problem: str
) -> None:
    config, store = bills
    run_crawls(config, store)
    before = status_json(store, config)
    # The later state is served for S.35, but H.R.2471 breaks.
    replay.replace(path_of("s35-117"), real("BILLSTATUS-117s35.xml"))
    if body is not None:
        replay.replace(path_of("hr2471-117"), body)
    else:
        replay.set_fault(path_of("hr2471-117"), fault)
    (report,) = run_crawls(config, store)
    assert len(report.errors) == 1
    line = report.errors[0]
    assert line.startswith("govinfo: bill hr2471-117: ") and problem in line
    assert path_of("hr2471-117") in line and "\n" not in line
    # S.35 went on; H.R.2471 kept its last good state and produced no false change.
    kinds = {(c["entity"], c["kind"]) for c in changes_json(store)}
    assert ("bill:s35-117", "bill.stage") in kinds
    assert not any(entity == "bill:hr2471-117" for entity, _ in kinds)
    after = by_entity(status_json(store, config))
    assert after["bill:hr2471-117"] == by_entity(before)["bill:hr2471-117"]
    # The source's health shows the error.
    (source,) = status_json(store, config)["sources"]
    assert source["ok"] is False and problem in source["error"]
    # Fixed upstream: the next crawl records the bill's real news (validators were not saved).
    replay.set_fault(path_of("hr2471-117"), None)
    replay.replace(path_of("hr2471-117"), real("BILLSTATUS-117hr2471.xml"))
    (fixed,) = run_crawls(config, store)
    assert fixed.ok and any(c["entity"] == "bill:hr2471-117" and c["kind"] == "bill.stage" for c in changes_json(store))


def test_unreachable_host(tmp_path: Path) -> None:
    path = tmp_path / "tracker.toml"
    path.write_text('[crawl]\ndelay_seconds = 0\nretries = 0\ntimeout_seconds = 5\n[sources.govinfo]\n'
                    'base_url = "http://127.0.0.1:9"\n[[bills]]\nid = "x"\nname = "x"\nnumbers = ["s35-117"]\n')
    config = load_config(path, env={})
    (report,) = run_crawls(config, Store(config.database_url))
    assert len(report.errors) == 1 and "govinfo: bill s35-117:" in report.errors[0]
    assert "refused" in report.errors[0] or "unreachable" in report.errors[0]


def test_cli_crawl_status_changes(tmp_path: Path, replay: ReplayServer) -> None:
    """What an operator sees: summary lines, exit codes, JSON in the contract's shapes."""
    replay.add(path_of("s35-117"), billstatus_before(real("BILLSTATUS-117s35.xml"), "2021-02-12"))
    replay.add(path_of("hr1470-117"), b"", fault=Fault.status(404))
    write_config(tmp_path, replay, ["s35-117", "hr1470-117"])
    config_path = str(tmp_path / "tracker.toml")
    runner = CliRunner()
    result = runner.invoke(main, ["--config", config_path, "crawl"])
    assert result.exit_code == 1  # one bill failed, the rest was done
    assert "govinfo: 1 error; 1 item," in result.stdout
    assert "govinfo: bill hr1470-117: HTTP 404" in result.stderr
    replay.set_fault(path_of("hr1470-117"), None)
    replay.replace(path_of("hr1470-117"), real("BILLSTATUS-117s35.xml"))  # a file of another bill
    replay.replace(path_of("s35-117"), real("BILLSTATUS-117s35.xml"))
    result = runner.invoke(main, ["--config", config_path, "crawl", "--watch", "police"])
    assert "file describes s35-117, not hr1470-117" in result.stderr
    changes = json.loads(runner.invoke(main, ["--config", config_path, "changes", "--json"]).stdout)
    assert changes and [c["id"] for c in changes] == sorted(c["id"] for c in changes)
    first = changes[0]
    assert set(first) == {"id", "kind", "watch", "entity", "summary", "detected_at", "occurred_at", "url", "data"}
    assert first["detected_at"].endswith("Z")
    stage = [c for c in changes if c["kind"] == "bill.stage"]
    assert stage == [stage[0]] and stage[0]["summary"] == "S. 35 (117th) passed the Senate"
    only = json.loads(runner.invoke(main, ["--config", config_path, "changes", "--json", "--kind", "bill.stage"]).stdout)
    assert only == stage
    status = json.loads(runner.invoke(main, ["--config", config_path, "status", "--json"]).stdout)
    (bill,) = status["bills"]
    assert set(bill) == {"watch", "entity", "number", "congress", "title", "stage", "latest_action", "cosponsors",
                         "law", "url"}
    assert bill["title"] == "Officer Eugene Goodman Congressional Gold Medal Act"


def sitemap(entries: list[tuple[str, str]], index: bool = False) -> bytes:
    tag, item = ("sitemapindex", "sitemap") if index else ("urlset", "url")
    rows = "".join(f"<{item}><loc>{loc}</loc><lastmod>{mod}</lastmod></{item}>" for loc, mod in entries)
    return f'<?xml version="1.0"?><{tag} xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{rows}</{tag}>'.encode()


def test_title_watch_finds_a_new_bill_once(tmp_path: Path, replay: ReplayServer) -> None:
    """A bill with no number yet is watched by title; GovInfo's sitemaps say what changed."""
    base = replay.url
    replay.add("/sitemap/bulkdata/BILLSTATUS/sitemapindex.xml", sitemap([
        (f"{base}/sitemap/bulkdata/BILLSTATUS/117hr/sitemap.xml", "2022-11-01"),
        (f"{base}/sitemap/bulkdata/BILLSTATUS/117s/sitemap.xml", "2022-11-01"),
        (f"{base}/sitemap/bulkdata/BILLSTATUS/116hr/sitemap.xml", "2020-11-01"),  # not a watched Congress
    ], index=True))
    replay.add("/sitemap/bulkdata/BILLSTATUS/117hr/sitemap.xml",
               sitemap([(base + path_of("hr6658-117"), "2022-11-16T10:00:00Z")]))
    replay.add("/sitemap/bulkdata/BILLSTATUS/117s/sitemap.xml", sitemap([]))
    replay.add(path_of("hr6658-117"), real("BILLSTATUS-117hr6658.xml"))
    replay.add(path_of("s35-117"), real("BILLSTATUS-117s35.xml"))
    path = tmp_path / "tracker.toml"
    path.write_text(
        f'[crawl]\ndelay_seconds = 0\nretries = 0\n[sources.govinfo]\nbase_url = "{base}"\n'
        '[[bills]]\nid = "goodman"\nname = "Goodman medal"\ntitles = ["Officer Eugene Goodman Congressional Gold Medal Act"]\n'
        "congresses = [117]\n"
    )
    config = load_config(path, env={})
    store = Store(config.database_url)
    (first,) = run_crawls(config, store)
    assert first.ok and first.items == 0  # H.R.6658 read, its title does not match
    assert replay.count("/sitemap/bulkdata/BILLSTATUS/116hr/sitemap.xml") == 0
    assert replay.count(path_of("hr6658-117")) == 1

    # The Senate bill appears in the 117th Senate sitemap (and the index says that sitemap moved).
    replay.replace("/sitemap/bulkdata/BILLSTATUS/117s/sitemap.xml",
                   sitemap([(base + path_of("s35-117"), "2022-09-07T13:36:03Z")]))
    replay.replace("/sitemap/bulkdata/BILLSTATUS/sitemapindex.xml", sitemap([
        (f"{base}/sitemap/bulkdata/BILLSTATUS/117hr/sitemap.xml", "2022-11-01"),
        (f"{base}/sitemap/bulkdata/BILLSTATUS/117s/sitemap.xml", "2022-11-02"),
        (f"{base}/sitemap/bulkdata/BILLSTATUS/116hr/sitemap.xml", "2020-11-01"),
    ], index=True))
    (second,) = run_crawls(config, store)
    assert second.ok and second.items == 1
    (found,) = changes_json(store)
    assert found["kind"] == "bill.introduced" and found["entity"] == "bill:s35-117" and found["watch"] == "goodman"
    status = by_entity(status_json(store, config))
    assert status["bill:s35-117"]["stage"] == "passed_senate"

    # Nothing moved: no bill file is fetched again, nothing new recorded.
    replay.clear_log()
    (third,) = run_crawls(config, store)
    assert third.ok and not [r for r in replay.requests if r.path.startswith("/bulkdata/")]
    assert len(changes_json(store)) == 1


def test_a_new_bill_parser_reads_every_bill_again_once_and_is_not_news(
        bills: tuple[Config, Store], replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Bills stored by an older parser (the snapshots and cursor of billstatus-1, simulated) are
    fetched whole on the next run even though GovInfo answers 304 to a conditional GET: the new
    parser's snapshots are a baseline, no alert; the run after is conditional again."""
    from dataclasses import replace

    from sqlalchemy import select

    from tracker import models as m
    from tracker.sources import SOURCES

    config, store = bills
    current = SOURCES["govinfo"]
    monkeypatch.setitem(SOURCES, "govinfo", replace(current, parser_version="billstatus-1"))
    run_crawls(config, store)
    monkeypatch.setitem(SOURCES, "govinfo", current)
    replay.clear_log()
    (upgraded,) = run_crawls(config, store)
    assert upgraded.ok and upgraded.not_modified == 0  # read whole, not a 304
    assert replay.count(status=200) == 3 and changes_json(store) == []
    with store.session() as session:  # same facts: the stored snapshots are now the new parser's
        assert set(session.scalars(select(m.Snapshot.parser))) == {current.parser_version}
    replay.clear_log()
    (steady,) = run_crawls(config, store)
    assert steady.ok and steady.not_modified == 3 and steady.new_snapshots == 0


def renumbered(data: bytes, number: int) -> bytes:
    """The same real file under another bill number (either schema)."""
    data = re.sub(rb"<number>\d+</number>", f"<number>{number}</number>".encode(), data, count=1)
    return re.sub(rb"<billNumber>\d+</billNumber>", f"<billNumber>{number}</billNumber>".encode(), data, count=1)


@pytest.mark.slow
def test_an_ingest_worker_killed_mid_crawl_loses_only_what_it_held(tmp_path: Path, replay: ReplayServer) -> None:
    """The worker that parses and stores is killed (as the OOM killer would) while bills still
    arrive: the bills it held fail with one line each, a new worker stores the rest of the same
    crawl, nothing is half-stored, and the next crawl fetches the lost ones again."""
    numbers = [f"hr{n}-115" for n in range(9001, 9013)]
    original = real("BILLSTATUS-115hr367.xml")
    replay.add(INDEX_PATH, sitemap_xml([], index=True))  # no sitemaps: each bill by its own request
    for i, number in enumerate(numbers):
        path = path_of(number)
        replay.add(path, renumbered(original, 9001 + i))
        replay.set_fault(path, Fault.delay(0.25 * i))  # they arrive one by one over three seconds
    config = write_config(tmp_path, replay, numbers)
    store = Store(config.database_url)
    killed: list[int] = []

    def kill_the_worker_after_two_bills() -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with store.session() as session:
                if session.scalar(select(func.count()).select_from(m.Entity)) >= 2:
                    break
            time.sleep(0.02)
        pids = ingestworker.worker_pids()
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        killed.extend(pids)

    killer = threading.Thread(target=kill_the_worker_after_two_bills)
    killer.start()
    (report,) = run_crawls(config, store)
    killer.join()
    assert killed, "the worker was never killed"
    lost = [e for e in report.errors if "could not store" in e]
    assert report.items + len(lost) == len(numbers), report.errors
    assert 2 <= report.items < len(numbers) and len(lost) <= 2, report.errors  # only what it held
    with store.session() as session:
        stored = set(session.scalars(select(m.Entity.key)))
        assert all(session.get(m.Entity, key).current_snapshot_id for key in stored)  # nothing half-stored
    # What the crawl saw stored is stored. A bill the worker committed just before it died, and so
    # could not answer for, is stored and reported lost (the next crawl reads it again, unchanged).
    assert report.seen <= stored and len(report.seen) == report.items
    assert len(stored - report.seen) <= len(lost)

    for number in numbers:
        replay.set_fault(path_of(number), None)
    (again,) = run_crawls(config, store)
    unstored = len(numbers) - len(stored)
    assert again.ok and again.new_snapshots == unstored, again.errors  # the lost ones now; the rest unchanged
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(m.Entity)) == len(numbers)


def test_a_bill_that_never_answers_does_not_make_every_run_read_everything_again(
        tmp_path: Path, replay: ReplayServer) -> None:
    """A named bill GovInfo has no file for (a typo, a number not yet used) fails every run with one
    line; the other bills still cost a 304 each, not a whole download as after a parser upgrade."""
    replay.add(INDEX_PATH, sitemap_xml([], index=True))  # no sitemap for the type yet: bills asked for directly
    for number in (367, 368, 369):  # three of one type: the spider looks at the type's sitemap first
        replay.add(path_of(f"hr{number}-115"), renumbered(real("BILLSTATUS-115hr367.xml"), number))
    config = write_config(tmp_path, replay, ["hr367-115", "hr368-115", "hr369-115", "hr99999-115"])
    store = Store(config.database_url)
    (first,) = run_crawls(config, store)
    assert first.items == 3 and len(first.errors) == 1 and "hr99999-115" in first.errors[0], first.errors
    for _ in range(2):
        (again,) = run_crawls(config, store)
        assert again.items == 0, again.items  # the three stored ones: a 304 each
        assert len(again.errors) == 1 and "hr99999-115" in again.errors[0], again.errors


def test_a_bill_an_upgrade_could_not_read_is_read_whole_when_it_answers(
        tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """A parser upgrade reads every bill whole once; one that fails then (a 500) is read whole the
    next time it answers, while the others are conditional again at once."""
    from dataclasses import replace

    from tracker.sources import SOURCES

    replay.add(INDEX_PATH, sitemap_xml([], index=True))
    for number in (367, 368, 369):
        replay.add(path_of(f"hr{number}-115"), renumbered(real("BILLSTATUS-115hr367.xml"), number))
    config = write_config(tmp_path, replay, ["hr367-115", "hr368-115", "hr369-115"])
    store = Store(config.database_url)
    current = SOURCES["govinfo"]
    monkeypatch.setitem(SOURCES, "govinfo", replace(current, parser_version="billstatus-1"))
    run_crawls(config, store)  # stored by the older parser
    monkeypatch.setitem(SOURCES, "govinfo", current)

    replay.set_fault(path_of("hr368-115"), Fault.status(500))
    (upgrade,) = run_crawls(config, store)
    assert upgrade.new_snapshots == 0 and upgrade.items == 2 and len(upgrade.errors) == 1, upgrade.errors
    replay.set_fault(path_of("hr368-115"), None)
    replay.clear_log()
    (after,) = run_crawls(config, store)
    assert after.ok and after.items == 1  # hr368 read whole, the others a 304
    assert replay.count(path_of("hr368-115"), status=200) == 1
    assert replay.count(path_of("hr367-115"), status=304) == replay.count(path_of("hr369-115"), status=304) == 1
    with store.session() as session:  # every bill's snapshot is now the new parser's
        current_ids = select(m.Entity.current_snapshot_id)
        parsers = set(session.scalars(select(m.Snapshot.parser).where(m.Snapshot.id.in_(current_ids))))
        assert parsers == {current.parser_version}
    replay.clear_log()
    (steady,) = run_crawls(config, store)
    assert steady.ok and steady.items == 0
    assert [replay.count(path_of(f"hr{n}-115"), status=304) for n in (367, 368, 369)] == [1, 1, 1]
