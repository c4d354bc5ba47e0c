"""The federal path answered as a broken or hostile server would: GovInfo with a package holding a
damaged member, a bill file whose number is not one or that describes another bill, a sitemap entry
no number can be made of, a 304 nobody asked for, a gzip-encoded file, a title written another valid
way, a maintenance page or the wrong sitemap with a 200, a package trickling in or redirected to
FTP or to a mirror that shuts crawlers out, a Crawl-delay of a day, a new title watch's first read
spread over runs (mostly on the derived 118th Congress of tests/test_federal_packages.py); congress-legislators with a `null` among its rows,
a value of the wrong type or nobody at all. Real crawls (`run_crawls`) through the real engine
against the loopback server; each failed on the code before its fix (a value raising in a callback
ended the read of a whole sitemap or package while the cursor counted it read; a legislators file
was neither stored nor asked for again that day)."""

from __future__ import annotations

import gzip
import io
import json
import logging
import re
import socket
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
from recorded import DEMO, LEGISLATORS, federal
from sqlalchemy import select
from statusjson import changes_json, status_json
from test_federal_crawl import path_of
from test_federal_crawl import write_config as crawl_config
from test_federal_packages import (
    BREATHE_WATCH,
    CONGRESS,
    NEWER,
    OLD,
    PER_TYPE,
    SMALL,
    Upstream,
    entities,
    member,
    package,
    upstream,
    watched,
    write_config,
)

from spiders import govinfo
from tracker import models as m
from tracker.billnumbers import BILL_TYPES
from tracker.bills.billstatus import parse_billstatus
from tracker.config import Config, load_config
from tracker.contacts import reference_key
from tracker.crawl import run_crawls
from tracker.demo.derive import billstatus_before
from tracker.demo.packages import INDEX_PATH, derive_bill, file_path, package_path, sitemap_path, sitemap_xml
from tracker.demo.replay import Fault, ReplayServer
from tracker.store import Store

SHARED_FIXTURES = (upstream, watched)  # tests/test_federal_packages.py's, asked for by name below


def with_a_damaged_member(data: bytes, name: str) -> bytes:
    """The package with one member's compressed bytes spoilt (a bad sector, a cut-and-resumed
    upload): its names, sizes and directory are intact; its deflate stream is not."""
    spoilt = bytearray(data)
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(name)
    name_length, extra_length = int.from_bytes(spoilt[info.header_offset + 26:info.header_offset + 28], "little"), \
        int.from_bytes(spoilt[info.header_offset + 28:info.header_offset + 30], "little")
    start = info.header_offset + 30 + name_length + extra_length
    for at in range(start + 2, start + 40):
        spoilt[at] ^= 0xFF
    return bytes(spoilt)


def test_a_package_with_a_damaged_member_is_one_line_and_its_files_are_read_singly(
        watched: tuple[Config, Store], upstream: Upstream, caplog: pytest.LogCaptureFixture) -> None:
    """zlib's own error on a damaged deflate stream is the package's one line like any other damage,
    and the House bills are read one by one: the BREATHE Act is found. (It raised out of the
    package's callback: no House bill was read, yet the House sitemap and the title phrase were
    counted read, so the next runs read nothing of the House until its sitemap moved.)"""
    config, store = watched
    upstream.server.replace(package_path(CONGRESS, "hr"),
                            with_a_damaged_member(package("hr"), f"BILLSTATUS-{CONGRESS}hr20.xml"))
    upstream.server.clear_log()
    with caplog.at_level(logging.WARNING):
        (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    (line,) = [r.getMessage() for r in caplog.records if "BILLSTATUS package 118hr" in r.getMessage()]
    assert "BILLSTATUS-118hr20.xml" in line and f"reading its {PER_TYPE} files singly instead" in line, line
    assert entities(store, config) == {"bill:hr7-118", "bill:hr2-118", "bill:hr3-118", "bill:s4-118"}
    assert len([p for p in upstream.bill_requests() if "/118/hr/" in p]) == PER_TYPE


def package_with(bill_type: str, replaced: dict[int, bytes]) -> bytes:
    """The type's package as tests/test_federal_packages.py builds it, some members replaced."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for n in range(1, PER_TYPE + 1):
            archive.writestr(zipfile.ZipInfo(f"BILLSTATUS-{CONGRESS}{bill_type}{n}.xml", date_time=(2026, 11, 1, 12, 0, 0)),
                             replaced.get(n, member(bill_type, n)), compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def breathe_lookalike_numbered(bill_type: str, number: int, written: str) -> bytes:
    """A bill titled "BREATHE Act Amendments" (a title the fast path cannot tell from the BREATHE
    Act, so it is parsed) whose number is written as `written`."""
    source = SMALL[0].read_bytes()
    data = derive_bill(source, CONGRESS, bill_type, number, title="BREATHE Act Amendments",
                       old_title=parse_billstatus(source).title)
    return re.sub(rb"<(number|billNumber)>\d+</", f"<\\1>{written}</".encode(), data, count=1)


def test_a_bill_whose_number_is_no_number_is_one_line_and_the_rest_are_stored(
        watched: tuple[Config, Store], upstream: Upstream) -> None:
    """A member numbered "20²" (a digit to `str.isdigit`, none to `int`): its package falls back to
    single files, the bill is one line naming it, every other bill is read and the BREATHE Act found.
    (The parser's ValueError was not its BillParseError: it raised out of the package's callback,
    no House bill was read, and the House sitemap and the title phrase were counted read.)"""
    config, store = watched
    spoilt = breathe_lookalike_numbered("hr", 20, "20\u00b2")
    upstream.server.replace(package_path(CONGRESS, "hr"), package_with("hr", {20: spoilt}))
    upstream.server.replace(file_path(CONGRESS, "hr", 20), spoilt)
    (report,) = run_crawls(config, store)
    assert all("spider error" not in e for e in report.errors), report.errors
    (line,) = report.errors
    assert line.startswith("govinfo: bill hr20-118: ") and "number" in line and file_path(CONGRESS, "hr", 20) in line
    assert entities(store, config) == {"bill:hr7-118", "bill:hr2-118", "bill:hr3-118", "bill:s4-118"}


def listed_too(upstream: Upstream, bill_type: str, locs: list[str], lastmod: str) -> None:
    """The type's sitemap as published, with more entries (what GovInfo's own files are not)."""
    entries = [(upstream.url(file_path(CONGRESS, bill_type, n)), mod)
               for n, mod in sorted(upstream.lastmods[bill_type].items())]
    upstream.server.replace(sitemap_path(CONGRESS, bill_type), sitemap_xml(entries + [(loc, lastmod) for loc in locs]))


def test_a_sitemap_entry_of_no_possible_number_is_one_line_and_the_rest_are_read(
        watched: tuple[Config, Store], upstream: Upstream) -> None:
    """The Senate sitemap lists a new BREATHE Act and a file numbered with 5,000 digits (more than
    Python turns into a number): the BREATHE Act is found, the entry is one warning line. (Its
    `int()` raised in the sitemap's callback: nothing it listed was read, yet the sitemap, its
    validators and lastmod, was counted read, so the BREATHE Act stayed unread in the runs after.)"""
    config, store = watched
    run_crawls(config, store)
    when = "2026-11-24T11:00:00Z"
    breathe = derive_bill(federal("BILLSTATUS-117hr6658.xml"), CONGRESS, "s", 60, title="BREATHE Act",
                          old_title="Protecting Family and Small Business Tax Cuts Act of 2022")
    upstream.move("s", 60, breathe, when)
    bogus = upstream.url(f"/bulkdata/BILLSTATUS/{CONGRESS}/s/BILLSTATUS-{CONGRESS}s{'9' * 5000}.xml")
    listed_too(upstream, "s", [bogus], when)
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    (line,) = report.warnings
    assert line.startswith("govinfo: BILLSTATUS sitemap 118s: passed over 1 entry naming no bill file") and len(line) < 400, line
    found = [(c["entity"], c["watch"]) for c in changes_json(store) if c["kind"] == "bill.introduced"]
    assert found == [("bill:s60-118", "breathe")]


def test_a_sitemap_whose_callback_raised_is_read_again_next_run(
        watched: tuple[Config, Store], upstream: Upstream, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fault no one foresaw raising in the sitemap's callback (here a bug put into the reading of
    its entries) ends that answer's reading: the run says so, and what it learned as a whole is
    not kept, so the next run reads the sitemap again and finds the BREATHE Act. (The sitemap, its
    lastmod and validators were counted read though nothing it listed was: the bill stayed unread.)"""
    config, store = watched
    run_crawls(config, store)
    when = "2026-11-24T11:00:00Z"
    breathe = derive_bill(federal("BILLSTATUS-117hr6658.xml"), CONGRESS, "s", 60, title="BREATHE Act",
                          old_title="Protecting Family and Small Business Tax Cuts Act of 2022")
    upstream.move("s", 60, breathe, when)

    def a_bug(loc: str, congress: int, bill_type: str) -> Any:
        raise RuntimeError("a bug")

    with monkeypatch.context() as patched:
        patched.setattr(govinfo, "listed_file", a_bug)
        (failed,) = run_crawls(config, store)
    assert not failed.ok and any("could not be processed" in e for e in failed.errors), failed.errors
    assert [c for c in changes_json(store) if c["kind"] == "bill.introduced"] == []
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    found = [(c["entity"], c["watch"]) for c in changes_json(store) if c["kind"] == "bill.introduced"]
    assert found == [("bill:s60-118", "breathe")]


@pytest.mark.parametrize("bill", [("hr", 3), ("hr", 7)], ids=["named", "found-by-title"])
def test_a_file_describing_another_bill_is_one_line_and_the_bill_keeps_its_state(
        watched: tuple[Config, Store], upstream: Upstream, bill: tuple[str, int]) -> None:
    """H.R. 3 (named by the police watch, in a Congress the BREATHE watch reads by title) or H.R. 7
    (the BREATHE Act, found by title) moves, and its file now describes H.R. 20: one line saying so,
    and the bill stays as it was, told nothing. (Parsed in the spider for its title, it was stored
    under H.R. 3 or H.R. 7 as H.R. 20: the check the ingest worker makes of a named bill's file
    was never made.)"""
    config, store = watched
    run_crawls(config, store)
    before = {b["entity"]: b for b in status_json(store, config)["bills"]}
    bill_type, number = bill
    entity = f"bill:{bill_type}{number}-{CONGRESS}"
    source = SMALL[1].read_bytes()  # H.R. 20, titled as the title watch wants
    impostor = derive_bill(source, CONGRESS, "hr", 20, title="BREATHE Act", old_title=parse_billstatus(source).title)
    upstream.move(bill_type, number, impostor, NEWER)
    (report,) = run_crawls(config, store)
    (line,) = report.errors
    assert line.startswith(f"govinfo: bill {bill_type}{number}-{CONGRESS}: ") and "hr20-118" in line, line
    after = {b["entity"]: b for b in status_json(store, config)["bills"]}
    assert after[entity] == before[entity]
    assert [c for c in changes_json(store) if c["entity"] == entity] == []


# -- congress-legislators ------------------------------------------------------------------------------

S35 = "/bulkdata/BILLSTATUS/117/s/BILLSTATUS-117s35.xml"


def legislators_config(tmp_path: Path, replay: ReplayServer) -> Config:
    """S. 35 watched for a Boston organizer (whom to call: members of Congress read from the loopback server)."""
    replay.add(S35, billstatus_before(federal("BILLSTATUS-117s35.xml"), "2021-02-12"))
    path = tmp_path / "tracker.toml"
    path.write_text(f'[crawl]\ndelay_seconds = 0\nretries = 0\n[sources.govinfo]\nbase_url = "{replay.url}"\n'
                    f'[sources.legislators]\nbase_url = "{replay.url}/congress-legislators"\n'
                    '[[bills]]\nid = "police"\nname = "Police bills"\nnumbers = ["s35-117"]\n'
                    '[[subscribers]]\nid = "boston"\nstate = "MA"\ndistrict = 7\n'
                    f'notify = ["json://127.0.0.1:9/hook"]\n')
    return load_config(path, env={})


def legislators_files() -> dict[str, Any]:
    return {name: json.loads((DEMO / "legislators" / f"{name}.json").read_bytes()) for name in LEGISLATORS}


def serve_files(replay: ReplayServer, files: dict[str, Any], *, first: bool) -> None:
    for name, data in files.items():
        (replay.add if first else replay.replace)(f"/congress-legislators/{name}.json", json.dumps(data).encode())


def stored_references(store: Store) -> dict[str, str]:
    """Each stored congress-legislators file's key and the hash of its current snapshot."""
    with store.session() as session:
        rows = session.execute(select(m.Entity.key, m.Snapshot.hash).join(
            m.Snapshot, m.Snapshot.id == m.Entity.current_snapshot_id).where(m.Entity.kind == "reference"))
        return {key: digest for key, digest in rows}


def test_a_null_among_the_legislators_rows_is_passed_over(tmp_path: Path, replay: ReplayServer) -> None:
    """A `null` among the members, their offices, the committees, their subcommittees and a committee's
    members: every file is stored, the rest of it read. (Each raised in the file's callback: the file
    was not stored, the run said only "a spider error", and the files were not asked for again that day.)"""
    files = legislators_files()
    files["legislators-current"].insert(0, None)
    files["legislators-district-offices"].insert(0, None)
    files["legislators-district-offices"][1]["offices"].insert(0, None)
    files["committees-current"].insert(0, None)
    files["committees-current"][1].setdefault("subcommittees", []).insert(0, None)
    files["committee-membership-current"]["HSJU"].insert(0, None)
    serve_files(replay, files, first=True)
    config = legislators_config(tmp_path, replay)
    store = Store(config.database_url)
    reports = {r.source_id: r for r in run_crawls(config, store)}
    assert reports["legislators"].ok, reports["legislators"].errors
    assert set(stored_references(store)) == {reference_key(name) for name in LEGISLATORS}


@pytest.mark.parametrize(("name", "spoil"), [
    ("legislators-current", lambda rows: next(r for r in rows if r["terms"][-1]["type"] == "rep")["terms"][-1]
     .update(district="at-large")),
    ("legislators-current", lambda rows: rows[5].update(terms="senator")),
    ("legislators-district-offices", lambda rows: rows[3].update(offices=["Boston"])),
    ("committees-current", lambda rows: rows[2].update(subcommittees="none")),
    ("committee-membership-current", lambda table: table.update(HSJU="Jim Jordan")),
], ids=["district-as-words", "terms-as-text", "office-as-text", "subcommittees-as-text", "members-as-text"])
def test_a_legislators_value_of_the_wrong_type_is_one_line_and_the_last_copy_stays(
        tmp_path: Path, replay: ReplayServer, frozen_now: Any, name: str, spoil: Any) -> None:
    """A day after a good read, one file comes with a value of the wrong type: one line naming the
    file, its last good copy stays, and it is asked for again the next run, not a day later. (Each
    raised in the callback: "a spider error", and the day's read was counted done.)"""
    files = legislators_files()
    serve_files(replay, files, first=True)
    config = legislators_config(tmp_path, replay)
    store = Store(config.database_url)
    run_crawls(config, store)
    good = stored_references(store)
    spoil(files[name])
    serve_files(replay, {name: files[name]}, first=False)
    frozen_now("2026-11-25T15:00:00Z")
    reports = {r.source_id: r for r in run_crawls(config, store)}
    (line,) = reports["legislators"].errors
    assert line.startswith(f"legislators: {name}: ") and "spider error" not in line and "\n" not in line, line
    assert stored_references(store) == good
    replay.clear_log()
    frozen_now("2026-11-25T16:00:00Z")
    run_crawls(config, store)
    assert replay.count(f"/congress-legislators/{name}.json") == 1


@pytest.mark.parametrize(("name", "empty"), [
    *((name, []) for name in LEGISLATORS if name != "committee-membership-current"),
    *((name, [None, None]) for name in LEGISLATORS if name != "committee-membership-current"),
    ("committee-membership-current", {}),
])
def test_a_legislators_file_holding_nobody_is_one_line_and_the_last_copy_stays(
        tmp_path: Path, replay: ReplayServer, frozen_now: Any, name: str, empty: Any) -> None:
    """A day after a good read, a file comes back empty (`[]` or `{}`: a publish gone wrong), or
    holding only `null`s: one line, and its last good copy stays. (An empty one was stored: alerts
    and the digest read every senator and representative as a vacant seat, or no committee, until
    the next good copy a day later.)"""
    files = legislators_files()
    serve_files(replay, files, first=True)
    config = legislators_config(tmp_path, replay)
    store = Store(config.database_url)
    run_crawls(config, store)
    good = stored_references(store)
    serve_files(replay, {name: empty}, first=False)
    frozen_now("2026-11-25T15:00:00Z")
    reports = {r.source_id: r for r in run_crawls(config, store)}
    (line,) = reports["legislators"].errors
    assert line.startswith(f"legislators: {name}: ") and "\n" not in line, line
    assert stored_references(store) == good


# -- GovInfo: answers that are not what they say -------------------------------------------------------

def test_a_304_to_a_request_that_was_not_conditional_is_one_line_and_asked_again(
        tmp_path: Path, replay: ReplayServer) -> None:
    """GovInfo answers "not modified" to a bill never asked for conditionally (its first request):
    one line saying so, and the next run asks again and stores it. (The 304 was taken for "as
    stored": the watch never held the bill, and every run said all was well.)"""
    replay.add(path_of("s35-117"), federal("BILLSTATUS-117s35.xml"), fault=Fault.status(304))
    config = crawl_config(tmp_path, replay, ["s35-117"])
    store = Store(config.database_url)
    (report,) = run_crawls(config, store)
    (line,) = report.errors
    assert line.startswith("govinfo: bill s35-117: HTTP 304") and path_of("s35-117") in line, line
    replay.set_fault(path_of("s35-117"), None)
    (again,) = run_crawls(config, store)
    assert again.ok and again.items == 1, again.errors
    assert [b["entity"] for b in status_json(store, config)["bills"]] == ["bill:s35-117"]


@pytest.mark.parametrize("written", [b'<title xml:lang="en">BREATHE Act</title>', b"<title><![CDATA[BREATHE Act]]></title>"],
                         ids=["with-an-attribute", "in-cdata"])
def test_a_title_written_another_valid_way_still_reaches_the_title_watch(
        watched: tuple[Config, Store], upstream: Upstream, written: bytes) -> None:
    """A new Senate bill whose titles are written with an attribute or in a CDATA section (XML all
    the same, the parser reads the same title): the BREATHE watch is told. (The title fast path
    looked only for `<title>` followed by text, found no title at all, and dropped the file unparsed.)"""
    config, store = watched
    run_crawls(config, store)
    source = federal("BILLSTATUS-117hr6658.xml")
    breathe = derive_bill(source, CONGRESS, "s", 60, title="BREATHE Act",
                          old_title="Protecting Family and Small Business Tax Cuts Act of 2022")
    breathe = breathe.replace(b"<title>BREATHE Act</title>", written)
    assert written in breathe and parse_billstatus(breathe).title == "BREATHE Act"
    upstream.move("s", 60, breathe, "2026-11-24T11:00:00Z")
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    found = [(c["entity"], c["watch"]) for c in changes_json(store) if c["kind"] == "bill.introduced"]
    assert found == [("bill:s60-118", "breathe")]


@pytest.mark.parametrize("broken", [INDEX_PATH, sitemap_path(CONGRESS, "hr")], ids=["index", "sitemap"])
def test_a_sitemap_answered_with_an_html_page_still_leaves_the_named_bills_asked_for(
        watched: tuple[Config, Store], upstream: Upstream, broken: str) -> None:
    """The sitemap index, or the House sitemap, answers 200 with a maintenance page while H.R. 3 (named)
    moved: one line for the page, and H.R. 3's news is stored all the same, as when the same page
    comes with a 500. (Read as a sitemap that could not be parsed, it ended there: the named bills
    were not asked for that run.)"""
    config, store = watched
    run_crawls(config, store)
    later = derive_bill(federal("BILLSTATUS-117s35.xml"), CONGRESS, "hr", 3)
    upstream.move("hr", 3, later, NEWER)
    upstream.server.set_fault(broken, Fault.html_error())
    (report,) = run_crawls(config, store)
    (line,) = report.errors
    assert "an HTML page" in line and broken in line, line
    stages = [(c["entity"], c["data"]["to"]) for c in changes_json(store) if c["kind"] == "bill.stage"]
    assert stages == [("bill:hr3-118", "passed_senate")]


def test_a_sitemap_answered_with_the_index_is_one_line_and_its_bills_are_read_next_run(
        tmp_path: Path, upstream: Upstream) -> None:
    """On the BREATHE watch's first run, the House sitemap's address answers with the sitemap index
    (a server sending unknown paths to its index): one line, and the next run reads the House whole
    and finds the BREATHE Act. (Read as a sitemap listing no file, the House was counted read whole
    for the phrase: no later run looked for the BREATHE Act until the House sitemap moved.)"""
    config = write_config(tmp_path, upstream.server, BREATHE_WATCH)
    store = Store(config.database_url)
    index = sitemap_xml([(upstream.url(sitemap_path(CONGRESS, t)), OLD) for t in BILL_TYPES], index=True)
    upstream.server.replace(sitemap_path(CONGRESS, "hr"), index)
    (first,) = run_crawls(config, store)
    (line,) = first.errors
    assert line.startswith("govinfo: BILLSTATUS sitemap 118hr: ") and "index" in line, line
    upstream.publish()
    run_crawls(config, store)
    assert entities(store, config) == {"bill:hr7-118"}


def test_a_cosponsor_with_no_name_is_told_as_a_member_never_as_none(tmp_path: Path, replay: ReplayServer) -> None:
    """S. 35's next file names one of its three new cosponsors by id only (no `fullName`): the alert's
    line says "a member joined", as its headline does. (It said "None joined as a cosponsor".)"""
    real = federal("BILLSTATUS-117s35.xml")
    replay.add(path_of("s35-117"), billstatus_before(real, "2021-02-12"))
    config = crawl_config(tmp_path, replay, ["s35-117"])
    store = Store(config.database_url)
    run_crawls(config, store)
    nameless = real.replace(b"<fullName>Sen. McConnell, Mitch [R-KY]</fullName>", b"")
    assert nameless != real
    replay.replace(path_of("s35-117"), nameless)
    run_crawls(config, store)
    joined = sorted(c["summary"] for c in changes_json(store) if c["kind"] == "bill.cosponsor_added")
    assert len(joined) == 3 and not [s for s in joined if "None" in s], joined
    assert "S. 35 (117th): a member joined as a cosponsor" in joined


def test_a_bill_file_sent_gzip_encoded_is_read_not_called_truncated(tmp_path: Path, replay: ReplayServer) -> None:
    """GovInfo (or a cache before it) sends S. 35's file gzip-encoded, as HTTP lets it when asked
    (`Accept-Encoding: gzip`): it is read and stored. (Its Content-Length, the encoded size, was held
    against the decoded body: "truncated", every run.)"""
    data = federal("BILLSTATUS-117s35.xml")
    replay.add(path_of("s35-117"), gzip.compress(data), content_type="application/xml",
               headers={"Content-Encoding": "gzip"})
    config = crawl_config(tmp_path, replay, ["s35-117"])
    store = Store(config.database_url)
    (report,) = run_crawls(config, store)
    assert report.ok and report.items == 1, report.errors
    assert [b["entity"] for b in status_json(store, config)["bills"]] == ["bill:s35-117"]


def test_a_package_that_trickles_in_is_given_up_and_its_files_are_read_singly(
        tmp_path: Path, upstream: Upstream, caplog: pytest.LogCaptureFixture) -> None:
    """The House package comes 1 KB every 0.2 s (each read well inside `[crawl] timeout_seconds`, the
    whole taking minutes): it is given up within a few timeouts with one line, and the House files
    are read singly. (Only each read had a timeout: the run, and its lock, lasted as long as the
    server cared to trickle.)"""
    path = tmp_path / "tracker.toml"
    path.write_text(f'[crawl]\ndelay_seconds = 0\nretries = 0\ntimeout_seconds = 2\n'
                    f'[sources.govinfo]\nbase_url = "{upstream.server.url}"\n{BREATHE_WATCH}')
    config = load_config(path, env={})
    store = Store(config.database_url)
    upstream.server.set_fault(package_path(CONGRESS, "hr"), Fault.trickle(0.2))
    started = time.monotonic()
    with caplog.at_level(logging.WARNING):
        (report,) = run_crawls(config, store)
    assert time.monotonic() - started < 20
    assert report.ok, report.errors
    (line,) = [r.getMessage() for r in caplog.records if "BILLSTATUS package 118hr" in r.getMessage()]
    assert "singly" in line, line
    assert entities(store, config) == {"bill:hr7-118"}


def test_a_package_redirected_off_the_web_is_not_followed(
        watched: tuple[Config, Store], upstream: Upstream, caplog: pytest.LogCaptureFixture) -> None:
    """The House package answers with a redirect to an `ftp://` address: no connection is made there,
    the package is one line and its files are read singly. (The package's own download followed it,
    as Python's URL opener does, to whatever host and port the answer named, by FTP.)"""
    config, store = watched
    connections: list[str] = []
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def answer() -> None:
        while True:
            try:
                peer, _ = listener.accept()
            except OSError:
                return
            connections.append("ftp")
            peer.close()  # no greeting: an FTP client gives up at once

    threading.Thread(target=answer, daemon=True).start()
    upstream.server.add(package_path(CONGRESS, "hr"), b"moved\n", status=302,
                        headers={"Location": f"ftp://127.0.0.1:{port}/BILLSTATUS-118-hr.zip"})
    try:
        with caplog.at_level(logging.WARNING):
            (report,) = run_crawls(config, store)
    finally:
        listener.close()
    assert connections == []
    assert report.ok, report.errors
    (line,) = [r.getMessage() for r in caplog.records if "BILLSTATUS package 118hr" in r.getMessage()]
    assert "singly" in line, line
    assert entities(store, config) == {"bill:hr7-118", "bill:hr2-118", "bill:hr3-118", "bill:s4-118"}


def test_a_new_title_watch_whose_first_read_takes_several_runs_is_told_nothing_it_found_then(
        tmp_path: Path, upstream: Upstream) -> None:
    """A new BREATHE watch's first run meets a broken House package: its 55 files are read 20 a run
    (`max_files_per_run`). H.R. 40 and H.R. 50, two more "BREATHE Act"s standing since before the watch
    began, are read in its second and third runs: stored and held, no "found" alert, as for H.R. 7 in
    the first. (The watch
    took its baseline after the first run, so what the rest of its first read found was news.)"""
    source = SMALL[1].read_bytes()
    for number in (40, 50):
        upstream.server.replace(file_path(CONGRESS, "hr", number), derive_bill(
            source, CONGRESS, "hr", number, title="BREATHE Act", old_title=parse_billstatus(source).title))
    config = write_config(tmp_path, upstream.server, "max_files_per_run = 20\n" + BREATHE_WATCH)
    store = Store(config.database_url)
    upstream.server.set_fault(package_path(CONGRESS, "hr"), Fault.status(500))
    for _ in range(3):
        (report,) = run_crawls(config, store)
        assert report.ok, report.errors
    assert entities(store, config) == {"bill:hr7-118", "bill:hr40-118", "bill:hr50-118"}
    assert changes_json(store) == []
    # the first read done, the watch has its baseline: a BREATHE Act new upstream is news
    breathe = derive_bill(federal("BILLSTATUS-117hr6658.xml"), CONGRESS, "s", 60, title="BREATHE Act",
                          old_title="Protecting Family and Small Business Tax Cuts Act of 2022")
    upstream.move("s", 60, breathe, "2026-11-24T11:00:00Z")
    run_crawls(config, store)
    assert [(c["entity"], c["kind"]) for c in changes_json(store)] == [("bill:s60-118", "bill.introduced")]


def test_a_new_title_watch_takes_its_baseline_though_one_file_its_sitemap_lists_is_never_served(
        tmp_path: Path, upstream: Upstream) -> None:
    """A new BREATHE watch reads the 118th Congress whole; its House package is broken, so the House
    files are read singly, and one of them, H.R. 30, GovInfo lists but never serves (HTTP 404, run
    after run). The watch takes its baseline all the same: a BREATHE Act new upstream later is
    news. (H.R. 30 stayed owed a fresh read, and that kept the watch without a baseline for good:
    every bill it found from then on was stored without a word.)"""
    config = write_config(tmp_path, upstream.server, BREATHE_WATCH)
    store = Store(config.database_url)
    upstream.server.set_fault(package_path(CONGRESS, "hr"), Fault.status(500))
    upstream.server.set_fault(file_path(CONGRESS, "hr", 30), Fault.status(404))
    for _ in range(2):
        (report,) = run_crawls(config, store)
        assert any("not served (HTTP 404, the first H.R. 30)" in line for line in report.errors), report.errors
    assert entities(store, config) == {"bill:hr7-118"}
    assert changes_json(store) == []

    breathe = derive_bill(federal("BILLSTATUS-117hr6658.xml"), CONGRESS, "s", 60, title="BREATHE Act",
                          old_title="Protecting Family and Small Business Tax Cuts Act of 2022")
    upstream.move("s", 60, breathe, "2026-11-24T11:00:00Z")
    run_crawls(config, store)
    assert [(c["entity"], c["kind"]) for c in changes_json(store)] == [("bill:s60-118", "bill.introduced")]


def test_a_package_redirected_to_another_host_is_asked_there_as_its_robots_txt_allows(
        watched: tuple[Config, Store], upstream: Upstream, caplog: pytest.LogCaptureFixture) -> None:
    """The House package answers with a redirect to a mirror whose robots.txt shuts crawlers out:
    the package is not downloaded there, and the House files are read singly. (The package's own
    download followed the redirect itself, to any host, never asking its robots.txt nor keeping
    its pace.)"""
    config, store = watched
    mirror = ReplayServer().start()
    try:
        mirror.robots("User-agent: *\nDisallow: /\n")
        mirror.add(package_path(CONGRESS, "hr"), package("hr"))
        upstream.server.add(package_path(CONGRESS, "hr"), b"moved\n", status=302,
                            headers={"Location": mirror.url + package_path(CONGRESS, "hr")})
        with caplog.at_level(logging.WARNING):
            (report,) = run_crawls(config, store)
        assert [r.path for r in mirror.requests] == ["/robots.txt"]
    finally:
        mirror.stop()
    assert report.ok, report.errors
    (line,) = [r.getMessage() for r in caplog.records if "BILLSTATUS package 118hr" in r.getMessage()]
    assert "singly" in line, line
    assert entities(store, config) == {"bill:hr7-118", "bill:hr2-118", "bill:hr3-118", "bill:s4-118"}


def test_a_package_redirected_to_a_mirror_that_allows_it_is_read_from_there(
        watched: tuple[Config, Store], upstream: Upstream, caplog: pytest.LogCaptureFixture) -> None:
    """The same redirect to a mirror that lets crawlers in: the package is downloaded there once and
    read whole; no House file is asked for singly."""
    config, store = watched
    mirror = ReplayServer().start()
    try:
        mirror.add(package_path(CONGRESS, "hr"), package("hr"))
        upstream.server.add(package_path(CONGRESS, "hr"), b"moved\n", status=302,
                            headers={"Location": mirror.url + package_path(CONGRESS, "hr")})
        upstream.server.clear_log()
        with caplog.at_level(logging.WARNING):
            (report,) = run_crawls(config, store)
        assert [r.path for r in mirror.requests] == ["/robots.txt", package_path(CONGRESS, "hr")]
    finally:
        mirror.stop()
    assert report.ok, report.errors
    assert not [r for r in caplog.records if "BILLSTATUS package 118hr" in r.getMessage()]
    assert [p for p in upstream.bill_requests() if "/118/hr/" in p] == []
    assert entities(store, config) == {"bill:hr7-118", "bill:hr2-118", "bill:hr3-118", "bill:s4-118"}
