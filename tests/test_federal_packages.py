"""Federal bills at the limit of the source: BILLSTATUS ZIP packages for the baseline, then sitemap
lastmods for every later run. The real engine against the loopback server, with a Congress of eight
packages derived from the real files under tests/data/federal (renumbered, labelled as derived)."""

from __future__ import annotations

import functools
import hashlib
import io
import json
import logging
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner
from recorded import DEMO, TESTS, federal
from statusjson import changes_json, status_json

from tracker.billnumbers import BILL_TYPES
from tracker.bills.billstatus import parse_billstatus
from tracker.cli import main
from tracker.config import Config, load_config
from tracker.crawl import run_crawls
from tracker.demo.derive import billstatus_before
from tracker.demo.packages import (
    INDEX_PATH,
    derive_bill,
    file_path,
    package_path,
    sitemap_path,
    sitemap_xml,
    write_package,
)
from tracker.demo.replay import Fault, ReplayServer
from tracker.store import Store

# The smaller real files (the NDAA and the omnibus would only make the packages slow to build).
SMALL = sorted((p for p in [*(TESTS / "federal").glob("**/BILLSTATUS-*.xml"), *(DEMO / "govinfo").glob("BILLSTATUS-*.xml")]
                if p.stat().st_size < 70_000), key=lambda p: (p.name, str(p)))
CONGRESS = 118
PER_TYPE = 55  # above the default package threshold (50 files to read)
OLD = "2026-10-20T09:00:00Z"  # lastmod of files the packages already hold
NEWER = "2026-11-03T16:00:00Z"  # after the packages were built (members dated 2026-11-01, served 2026-11-02)
BREATHE = ("hr", 7)  # the BREATHE Act (title watch)
LOOKALIKE = ("s", 9)  # "Freedom to Breathe Act": not the BREATHE Act
NAMED = [("hr", 2), ("hr", 3), ("s", 4)]  # named by number in the "police" watch
_BUILT: dict[str, bytes] = {}


def member(bill_type: str, number: int) -> bytes:
    key = f"{bill_type}{number}"
    if key not in _BUILT:
        source = SMALL[(number + list(BILL_TYPES).index(bill_type)) % len(SMALL)].read_bytes()
        title = {BREATHE: "BREATHE Act", LOOKALIKE: "Freedom to Breathe Act"}.get((bill_type, number))
        old = parse_billstatus(source).title if title else None
        _BUILT[key] = derive_bill(source, CONGRESS, bill_type, number, title=title, old_title=old)
    return _BUILT[key]


def package(bill_type: str) -> bytes:
    key = f"zip:{bill_type}"
    if key not in _BUILT:
        members = ((f"BILLSTATUS-{CONGRESS}{bill_type}{n}.xml", member(bill_type, n)) for n in range(1, PER_TYPE + 1))
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in members:
                archive.writestr(zipfile.ZipInfo(name, date_time=(2026, 11, 1, 12, 0, 0)), data,
                                 compress_type=zipfile.ZIP_DEFLATED)
        _BUILT[key] = out.getvalue()
    return _BUILT[key]


@dataclass
class Upstream:
    """GovInfo as the loopback server plays it: files, packages, sitemaps and their index."""

    server: ReplayServer
    lastmods: dict[str, dict[int, str]] = field(default_factory=dict)
    index_lastmod: dict[str, str] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return self.server.url + path

    def publish(self, first: bool = False) -> None:
        entries = []
        for bill_type, files in self.lastmods.items():
            body = sitemap_xml([(self.url(file_path(CONGRESS, bill_type, n)), mod) for n, mod in sorted(files.items())])
            (self.server.add if first else self.server.replace)(sitemap_path(CONGRESS, bill_type), body)
            entries.append((self.url(sitemap_path(CONGRESS, bill_type)), self.index_lastmod[bill_type]))
        index = sitemap_xml(entries, index=True)
        (self.server.add if first else self.server.replace)(INDEX_PATH, index)

    def move(self, bill_type: str, number: int, data: bytes, when: str) -> None:
        """A file changes upstream: its lastmod, its sitemap's lastmod in the index, its body."""
        path = file_path(CONGRESS, bill_type, number)
        if number in self.lastmods[bill_type]:
            self.server.replace(path, data)
        else:
            self.server.add(path, data)
        self.lastmods[bill_type][number] = when
        self.index_lastmod[bill_type] = when
        self.publish()

    def bill_requests(self) -> list[str]:
        return [r.path for r in self.server.requests if r.path.startswith("/bulkdata/") and r.path.endswith(".xml")]

    def package_requests(self) -> list[str]:
        return [r.path for r in self.server.requests if r.path.endswith(".zip")]


@pytest.fixture
def upstream(replay: ReplayServer) -> Upstream:
    up = Upstream(replay)
    for bill_type in BILL_TYPES:
        up.lastmods[bill_type] = {}
        for n in range(1, PER_TYPE + 1):
            replay.add(file_path(CONGRESS, bill_type, n), member(bill_type, n))
            up.lastmods[bill_type][n] = OLD
        replay.add(package_path(CONGRESS, bill_type), package(bill_type))
        up.index_lastmod[bill_type] = OLD
    up.publish(first=True)
    return up


def write_config(tmp_path: Path, server: ReplayServer, body: str, db_url: str | None = None) -> Config:
    path = tmp_path / "tracker.toml"
    storage = f'[storage]\nurl = "{db_url}"\n' if db_url else ""
    path.write_text(f'{storage}[crawl]\ndelay_seconds = 0\nretries = 0\n[sources.govinfo]\nbase_url = "{server.url}"\n'
                    + body)
    return load_config(path, env={})


BREATHE_WATCH = '[[bills]]\nid = "breathe"\nname = "BREATHE Act"\ntitles = ["BREATHE Act"]\ncongresses = [118]\n'
POLICE_WATCH = ('[[bills]]\nid = "police"\nname = "Police bills"\nnumbers = '
                + json.dumps([f"{t}{n}-{CONGRESS}" for t, n in NAMED]) + "\n")


@pytest.fixture
def watched(tmp_path: Path, upstream: Upstream) -> tuple[Config, Store]:
    config = write_config(tmp_path, upstream.server, BREATHE_WATCH + POLICE_WATCH)
    return config, Store(config.database_url)


def entities(store: Store, config: Config) -> set[str]:
    return {b["entity"] for b in status_json(store, config)["bills"]}


def test_baseline_from_packages_then_only_what_moved(tmp_path: Path, db_url: str, upstream: Upstream,
                                                     frozen_now: object) -> None:
    config = write_config(tmp_path, upstream.server, BREATHE_WATCH + POLICE_WATCH, db_url)
    store = Store(config.database_url)
    # Two files moved after the packages were built: the package's copy is older than the file.
    upstream.move("hr", 2, billstatus_before(member("hr", 2), "2010-01-01"), NEWER)  # fetched singly
    upstream.server.replace(file_path(CONGRESS, "hr", 2), member("hr", 2))
    upstream.move("sres", 30, member("sres", 30), NEWER)
    upstream.server.clear_log()

    (first,) = run_crawls(config, store)
    assert first.ok, first.errors
    assert sorted(upstream.package_requests()) == sorted(package_path(CONGRESS, t) for t in BILL_TYPES)
    # At most a handful of single files: exactly the two newer than their package.
    assert sorted(upstream.bill_requests()) == sorted([file_path(CONGRESS, "hr", 2), file_path(CONGRESS, "sres", 30)])
    assert first.requests <= 1 + 1 + 8 + 8 + 2  # robots.txt, index, sitemaps, packages, two files
    # The BREATHE Act and the three named bills are stored; the look-alike and the rest are not.
    assert entities(store, config) == {"bill:hr7-118", "bill:hr2-118", "bill:hr3-118", "bill:s4-118"}
    assert changes_json(store) == []  # a baseline alerts nobody
    status = {b["entity"]: b for b in status_json(store, config)["bills"]}
    newest = parse_billstatus(member("hr", 2))
    assert status["bill:hr2-118"]["latest_action"] == newest.latest_action  # the single file's state won
    assert status["bill:hr7-118"]["watch"] == "breathe" and status["bill:hr7-118"]["title"] == "BREATHE Act"
    assert not list(tmp_path.rglob(".govinfo-package-*"))  # the download was removed

    # Nothing new: the index (a 304) and nothing else; no bill file, no package.
    upstream.server.clear_log()
    (second,) = run_crawls(config, store)
    assert second.ok and second.items == 0
    assert upstream.bill_requests() == [] and upstream.package_requests() == []
    sitemaps = [r.path for r in upstream.server.requests if r.path.startswith("/sitemap/")]
    assert sitemaps == [INDEX_PATH]
    assert len([r for r in upstream.server.requests if r.path != "/robots.txt"]) <= 1 + 8

    # Two files move: a named bill gets a new stage, a new "BREATHE Act" bill appears in the Senate.
    before = member("hr", 3)
    upstream.server.replace(file_path(CONGRESS, "hr", 3), before)
    later = derive_bill(federal("BILLSTATUS-117s35.xml"), CONGRESS, "hr", 3)
    upstream.move("hr", 3, later, "2026-11-24T10:00:00Z")
    breathe = derive_bill(federal("BILLSTATUS-117hr6658.xml"), CONGRESS, "s", 60,
                          title="BREATHE Act", old_title="Protecting Family and Small Business Tax Cuts Act of 2022")
    upstream.move("s", 60, breathe, "2026-11-24T11:00:00Z")
    upstream.server.clear_log()
    (third,) = run_crawls(config, store)
    assert third.ok, third.errors
    assert sorted(upstream.bill_requests()) == sorted([file_path(CONGRESS, "hr", 3), file_path(CONGRESS, "s", 60)])
    assert upstream.package_requests() == []
    assert sorted(r.path for r in upstream.server.requests if r.path.startswith("/sitemap/")) == sorted(
        [INDEX_PATH, sitemap_path(CONGRESS, "hr"), sitemap_path(CONGRESS, "s")])
    changes = changes_json(store)
    introduced = [c for c in changes if c["kind"] == "bill.introduced"]
    assert [(c["entity"], c["watch"]) for c in introduced] == [("bill:s60-118", "breathe")]
    stage = [c for c in changes if c["kind"] == "bill.stage"]
    assert [(c["entity"], c["data"]["to"]) for c in stage] == [("bill:hr3-118", "passed_senate")]

    # A day later, the named bills get their one direct conditional request (a sitemap can lag).
    frozen_now("2026-11-25T15:00:00Z")  # type: ignore[operator]
    upstream.server.clear_log()
    (fourth,) = run_crawls(config, store)
    assert fourth.ok and fourth.changes == 0
    assert sorted(upstream.bill_requests()) == sorted(file_path(CONGRESS, t, n) for t, n in NAMED)
    upstream.server.clear_log()
    run_crawls(config, store)
    assert upstream.bill_requests() == []


def test_title_lookalike_is_not_the_breathe_act(watched: tuple[Config, Store], upstream: Upstream) -> None:
    config, store = watched
    run_crawls(config, store)
    found = entities(store, config)
    assert "bill:hr7-118" in found and "bill:s9-118" not in found
    assert parse_billstatus(member("s", 9)).title == "Freedom to Breathe Act"


def zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for n in range(1, PER_TYPE + 1):
            data = member("hr", n)
            if n == 3:
                data = b'<?xml version="1.0"?><billStatus>' + b" " * 40_000_000 + b"</billStatus>"
            archive.writestr(f"BILLSTATUS-{CONGRESS}hr{n}.xml", data)
    return out.getvalue()


def with_stranger() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", b"not a bill")
        for n in range(1, PER_TYPE + 1):
            archive.writestr(f"BILLSTATUS-{CONGRESS}hr{n}.xml", member("hr", n))
    return out.getvalue()


@pytest.mark.parametrize(
    ("fault", "body", "problem"),
    [
        (Fault.truncate(50_000), None, "truncated"),
        (Fault.short(50_000), None, "ZIP"),
        (None, b"PK\x03\x04 this is not really a zip archive at all", "ZIP"),
        (None, "bomb", "compression bomb"),
        (Fault.html_error(), None, "ZIP"),
        (None, "stranger", "is not a BILLSTATUS file"),
        (Fault.status(404), None, "HTTP 404"),
    ],
    ids=["truncated", "cut-short", "not-a-zip", "zip-bomb", "html-200", "stranger-member", "404"],
)
def test_a_broken_package_is_one_line_and_files_are_read_singly(
    watched: tuple[Config, Store], upstream: Upstream, caplog: pytest.LogCaptureFixture,
    fault: Fault | None, body: bytes | str | None, problem: str,
) -> None:
    config, store = watched
    path = package_path(CONGRESS, "hr")
    if body == "bomb":
        upstream.server.replace(path, zip_bomb())
    elif body == "stranger":
        upstream.server.replace(path, with_stranger())
    elif body is not None:
        upstream.server.replace(path, body)
    if fault is not None:
        upstream.server.set_fault(path, fault)
    upstream.server.clear_log()
    with caplog.at_level(logging.WARNING):
        (report,) = run_crawls(config, store)
    lines = [r.getMessage() for r in caplog.records if "package" in r.getMessage()]
    assert len(lines) == 1, lines
    assert lines[0].startswith("govinfo: BILLSTATUS package 118hr: ") and problem in lines[0] and "\n" not in lines[0]
    assert "singly" in lines[0]
    assert report.ok, report.errors  # the fallback worked: not an error
    # The House bills were read one by one; every other type came from its package.
    hr_files = [p for p in upstream.bill_requests() if "/118/hr/" in p]
    assert len(hr_files) == PER_TYPE
    assert entities(store, config) == {"bill:hr7-118", "bill:hr2-118", "bill:hr3-118", "bill:s4-118"}
    assert changes_json(store) == []
    assert not list(Path(config.base_dir).rglob(".govinfo-package-*"))


def test_broken_package_exit_code_and_quiet(tmp_path: Path, upstream: Upstream) -> None:
    write_config(tmp_path, upstream.server, BREATHE_WATCH)
    upstream.server.set_fault(package_path(CONGRESS, "s"), Fault.html_error())
    runner = CliRunner()
    result = runner.invoke(main, ["--config", str(tmp_path / "tracker.toml"), "crawl"])
    assert result.exit_code == 0, result.output
    assert result.stderr.count("BILLSTATUS package 118s") == 1
    quiet = runner.invoke(main, ["--config", str(tmp_path / "tracker.toml"), "--quiet", "crawl"])
    assert quiet.exit_code == 0 and quiet.stderr == "" and quiet.stdout == ""


def test_sixty_named_bills_of_one_type_follow_the_sitemap(tmp_path: Path, upstream: Upstream) -> None:
    numbers = [f"hr{n}-{CONGRESS}" for n in range(1, 56)] + [f"hr{n}-{CONGRESS}" for n in range(56, 61)]
    for n in range(56, 61):  # five more House bills, listed but not yet in the package
        upstream.move("hr", n, member("hr", n), OLD)
    config = write_config(tmp_path, upstream.server,
                          f'[[bills]]\nid = "many"\nname = "Many"\nnumbers = {json.dumps(numbers)}\n')
    store = Store(config.database_url)
    upstream.server.clear_log()
    (first,) = run_crawls(config, store)
    assert first.ok and first.items == 60
    assert upstream.package_requests() == [package_path(CONGRESS, "hr")]
    assert sorted(upstream.bill_requests()) == sorted(file_path(CONGRESS, "hr", n) for n in range(56, 61))
    upstream.server.clear_log()
    (second,) = run_crawls(config, store)
    assert second.ok and upstream.bill_requests() == [] and upstream.package_requests() == []
    assert [r.path for r in upstream.server.requests if r.path != "/robots.txt"] == [INDEX_PATH]
    # a bill it was never built from (too large for SMALL): S.35 would say what hr12 said, when
    # hr12 is S.35's legacy file
    upstream.move("hr", 12, derive_bill(federal("BILLSTATUS-117hr2471.xml"), CONGRESS, "hr", 12),
                  "2026-11-24T12:00:00Z")
    upstream.server.clear_log()
    (third,) = run_crawls(config, store)
    assert third.ok and upstream.bill_requests() == [file_path(CONGRESS, "hr", 12)]
    assert any(c["entity"] == "bill:hr12-118" for c in changes_json(store))


def test_a_new_congress_without_packages_reads_files(tmp_path: Path, replay: ReplayServer,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    """A Congress with a handful of bills and no package yet: the package is asked for once (the
    Congress is needed whole), its 404 is no warning, and the files are read one by one."""
    up = Upstream(replay)
    for bill_type in BILL_TYPES:
        up.lastmods[bill_type] = {}
        up.index_lastmod[bill_type] = OLD
    for n in (1, 2, 3):
        replay.add(file_path(CONGRESS, "hr", n), member("hr", n))
        up.lastmods["hr"][n] = OLD
    up.publish(first=True)
    config = write_config(tmp_path, replay, BREATHE_WATCH)
    with caplog.at_level(logging.WARNING):
        (report,) = run_crawls(config, Store(config.database_url))
    assert report.ok and len(up.bill_requests()) == 3
    assert [(r.path, r.status) for r in replay.requests if r.path.endswith(".zip")] == [(package_path(CONGRESS, "hr"), 404)]
    assert not [r for r in caplog.records if "package" in r.getMessage()]


# Bill types of the 118th Congress as a title watch meets them: two big ones, six with a few files.
FEW_FILES = {"hr": PER_TYPE, "s": PER_TYPE, "hres": 9, "sres": 7, "hjres": 5, "sjres": 4, "hconres": 3, "sconres": 2}


def test_a_congress_needed_whole_is_read_from_every_types_package(tmp_path: Path, replay: ReplayServer) -> None:
    """A title watch needs its Congress whole: every bill type comes from its package, those with
    fewer files than `package_min_files` too (one request each instead of one per file), and a
    BREATHE Act among the few joint resolutions (derived) is found there."""
    up = Upstream(replay)
    for bill_type, count in FEW_FILES.items():
        files = {n: member(bill_type, n) for n in range(1, count + 1)}
        if bill_type == "sjres":
            source = SMALL[0].read_bytes()
            files[3] = derive_bill(source, CONGRESS, "sjres", 3, title="BREATHE Act",
                                   old_title=parse_billstatus(source).title)
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for n, data in files.items():
                archive.writestr(zipfile.ZipInfo(f"BILLSTATUS-{CONGRESS}{bill_type}{n}.xml", date_time=(2026, 11, 1, 12, 0, 0)),
                                 data, compress_type=zipfile.ZIP_DEFLATED)
                replay.add(file_path(CONGRESS, bill_type, n), data)
        replay.add(package_path(CONGRESS, bill_type), out.getvalue())
        up.lastmods[bill_type] = dict.fromkeys(files, OLD)
        up.index_lastmod[bill_type] = OLD
    up.publish(first=True)
    config = write_config(tmp_path, replay, BREATHE_WATCH)
    store = Store(config.database_url)
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    assert sorted(up.package_requests()) == sorted(package_path(CONGRESS, t) for t in BILL_TYPES)
    assert up.bill_requests() == []
    assert report.requests == 1 + 1 + len(BILL_TYPES) * 2  # robots.txt, the index, each type's sitemap and package
    assert entities(store, config) == {"bill:hr7-118", "bill:sjres3-118"}


def test_package_writer_round_trip(tmp_path: Path) -> None:
    """The derived package is what the spider expects: BILLSTATUS members, each a parseable bill."""
    target = tmp_path / "p.zip"
    count = write_package(target, ((f"BILLSTATUS-{CONGRESS}hres{n}.xml", member("hres", n)) for n in (1, 2)))
    assert count == 2
    with zipfile.ZipFile(target) as archive:
        names = archive.namelist()
        assert names == [f"BILLSTATUS-{CONGRESS}hres1.xml", f"BILLSTATUS-{CONGRESS}hres2.xml"]
        data = archive.read(names[1])
    assert data.startswith(b"<?xml") and b"derived" in data[:200]
    assert parse_billstatus(data).number == "hres2-118"


def test_title_fast_path_never_drops_a_possible_match() -> None:
    """The fast path only looks at `<title>` elements; anything that might match goes on to the full
    parse (entities, punctuation, case), and a title without the phrase is dropped at once."""
    from spiders.billpackages import title_filter

    could = title_filter(["BREATHE Act", "Café Act"])
    assert could(b"<title>The BREATHE-Act</title>")
    assert could(b"<title>Caf&#233; Act of 2021</title>")
    assert could(b"<title>Freedom to Breathe Act</title>")  # a candidate: the full parse says no
    assert not could(b"<title>Clean Air Act</title><officialTitle>BREATHE Act</officialTitle>")


def test_many_moved_files_read_from_a_rebuilt_package(watched: tuple[Config, Store], upstream: Upstream) -> None:
    """A day when more files moved than the threshold: the (rebuilt) package again, not 55 requests;
    a package that was not rebuilt since it was read answers 304 and the files are read singly."""
    config, store = watched
    run_crawls(config, store)
    later = derive_bill(federal("BILLSTATUS-117s35.xml"), CONGRESS, "hr", 2)  # a named bill moves on
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for n in range(1, PER_TYPE + 1):
            archive.writestr(zipfile.ZipInfo(f"BILLSTATUS-{CONGRESS}hr{n}.xml", date_time=(2026, 11, 20, 6, 0, 0)),
                             later if n == 2 else member("hr", n), compress_type=zipfile.ZIP_DEFLATED)
    upstream.server.replace(package_path(CONGRESS, "hr"), out.getvalue())
    upstream.server.replace(file_path(CONGRESS, "hr", 2), later)
    for n in range(1, PER_TYPE + 1):
        upstream.lastmods["hr"][n] = "2026-11-19T08:00:00Z"
    upstream.index_lastmod["hr"] = "2026-11-19T08:00:00Z"
    upstream.publish()
    upstream.server.clear_log()
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    assert upstream.package_requests() == [package_path(CONGRESS, "hr")] and upstream.bill_requests() == []
    assert [(c["entity"], c["data"]["to"]) for c in changes_json(store) if c["kind"] == "bill.stage"] == [
        ("bill:hr2-118", "passed_senate")]

    # They move again, but the package was not rebuilt: a 304, then the files one by one.
    for n in range(1, PER_TYPE + 1):
        upstream.lastmods["hr"][n] = "2026-11-21T08:00:00Z"
    upstream.index_lastmod["hr"] = "2026-11-21T08:00:00Z"
    upstream.publish()
    upstream.server.clear_log()
    (again,) = run_crawls(config, store)
    assert again.ok and again.changes == 0
    assert [r.status for r in upstream.server.requests if r.path.endswith(".zip")] == [304]
    assert len(upstream.bill_requests()) == PER_TYPE


def test_members_named_with_a_path_are_read_in_memory_and_never_written(
        watched: tuple[Config, Store], upstream: Upstream, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A package whose members are named `../../BILLSTATUS-…xml` (a path climbing out of wherever an
    unzipping tool would put them, "zip slip") is read as any other: each member from memory, the
    bills stored, and no file written anywhere for them."""
    config, store = watched
    work = tmp_path / "deep" / "er"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for n in range(1, PER_TYPE + 1):
            name = f"../../BILLSTATUS-{CONGRESS}hr{n}.xml" if n % 2 else f"/tmp/BILLSTATUS-{CONGRESS}hr{n}.xml"
            archive.writestr(zipfile.ZipInfo(name, date_time=(2026, 11, 1, 12, 0, 0)), member("hr", n),
                             compress_type=zipfile.ZIP_DEFLATED)
    upstream.server.replace(package_path(CONGRESS, "hr"), out.getvalue())
    upstream.server.clear_log()
    before = set(Path("/tmp").glob("BILLSTATUS-*"))
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    assert [p for p in upstream.bill_requests() if "/118/hr/" in p] == []  # every House bill from the package
    assert entities(store, config) == {"bill:hr7-118", "bill:hr2-118", "bill:hr3-118", "bill:s4-118"}
    assert [p for p in tmp_path.rglob("*") if "BILLSTATUS" in p.name] == []
    assert set(Path("/tmp").glob("BILLSTATUS-*")) == before


@pytest.mark.slow
def test_a_package_of_more_members_than_its_cap_is_refused_before_it_is_read(
        tmp_path: Path, upstream: Upstream, caplog: pytest.LogCaptureFixture) -> None:
    """`package_max_members`: a package declaring more members than that is refused from its end
    record, before a record is made for each member (millions of tiny members would take gigabytes):
    one line naming the setting, and the files are read singly."""
    config = write_config(tmp_path, upstream.server, "package_max_members = 50\n" + BREATHE_WATCH + POLICE_WATCH)
    store = Store(config.database_url)
    with caplog.at_level(logging.WARNING):
        (report,) = run_crawls(config, store)
    lines = sorted(r.getMessage() for r in caplog.records if "package" in r.getMessage())
    assert len(lines) == len(BILL_TYPES), lines
    assert all(f"the archive declares {PER_TYPE} members, above [sources.govinfo] package_max_members (50): "
               "not read" in line and
               f"reading its {PER_TYPE} files singly instead" in line for line in lines), lines[0]
    assert report.ok, report.errors
    assert len(upstream.bill_requests()) == PER_TYPE * len(BILL_TYPES)
    assert entities(store, config) == {"bill:hr7-118", "bill:hr2-118", "bill:hr3-118", "bill:s4-118"}


@functools.cache
def many_members(count: int) -> bytes:
    """A package of `count` empty members, written once per worker (its six variants share it)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for n in range(1, count + 1):
            archive.writestr(f"BILLSTATUS-{CONGRESS}hres{n}.xml", b"")
    return buffer.getvalue()


@pytest.mark.parametrize("variant", ["plain", "trailing byte", "end record understating its ZIP64 record",
                                     "ZIP64 locator pointing elsewhere", "count understated",
                                     "count understated within the directory's size"])
def test_the_member_count_is_the_one_zipfile_reads_and_a_forged_one_is_caught(tmp_path: Path, variant: str) -> None:
    """The count comes from the end record zipfile will read (its ZIP64 record past 65,535 members),
    whatever follows it or however the plain record differs, so the package is refused before zipfile
    makes a record of each member; a record understating its members is caught by its directory's size,
    or, within that size, by the entries its directory holds."""
    from spiders.billpackages import PackageError, declared_members, scan_package

    data = bytearray(many_members(70_001))
    end = data.rfind(b"PK\x05\x06")
    if variant == "trailing byte":
        data += b"\0"  # zipfile reads an archive with bytes after its end record
    elif variant == "end record understating its ZIP64 record":
        data[end + 8:end + 16] = (1).to_bytes(2, "little") * 2 + (100).to_bytes(4, "little")
    elif variant == "ZIP64 locator pointing elsewhere":
        data[end - 20 + 8:end - 20 + 16] = bytes(8)  # zipfile reads the record just before the locator
    elif variant == "count understated":  # both records say 30 members: the directory holds 70,001
        end64 = data.rfind(b"PK\x06\x06")
        data[end64 + 24:end64 + 40] = (30).to_bytes(8, "little") * 2
    elif variant == "count understated within the directory's size":  # 40,000 said, 128 bytes each allowed
        end64 = data.rfind(b"PK\x06\x06")
        data[end64 + 24:end64 + 40] = (40_000).to_bytes(8, "little") * 2
    path = tmp_path / "package.zip"
    path.write_bytes(bytes(data))
    members, directory = declared_members(path)
    understated = {"count understated": 30, "count understated within the directory's size": 40_000}
    assert members == understated.get(variant, 70_001)
    assert directory == pytest.approx(70_001 * 71, rel=0.1)
    with pytest.raises(PackageError) as refused:
        scan_package(path, CONGRESS, "hres", wanted=lambda bill: "scan", lastmods={}, last_modified=None,
                     member_cap=10_000_000, max_members=50_000)
    if variant == "count understated":
        assert str(refused.value) == (f"the archive's directory of {directory:,} bytes is too large for the 30 "
                                      "members it declares: not read")
    elif variant == "count understated within the directory's size":  # refused before zipfile reads 70,001
        assert str(refused.value) == ("the archive's directory holds up to 70,001 entries, above [sources.govinfo] "
                                      "package_max_members (50,000): not read")
    else:
        assert str(refused.value) == ("the archive declares 70,001 members, above [sources.govinfo] "
                                      "package_max_members (50,000): not read")
    with pytest.raises(PackageError, match="no end of central directory"):
        (tmp_path / "cut.zip").write_bytes(bytes(data[:end]))  # the end record cut off
        declared_members(tmp_path / "cut.zip")


def test_files_found_by_title_beyond_the_runs_budget_wait_for_the_next_runs(
        tmp_path: Path, upstream: Upstream, caplog: pytest.LogCaptureFixture) -> None:
    """`max_files_per_run`: a title watch's first read when the House package is broken means 55
    House files one by one; 20 a run are read (named bills are never held back), the rest are left
    for the next runs with one line, and each file is read once, until the sitemap is done."""
    config = write_config(tmp_path, upstream.server, "max_files_per_run = 20\n" + BREATHE_WATCH + POLICE_WATCH)
    store = Store(config.database_url)
    upstream.server.set_fault(package_path(CONGRESS, "hr"), Fault.status(500))
    read: list[str] = []
    named = {file_path(CONGRESS, "hr", 2), file_path(CONGRESS, "hr", 3)}
    for run, (expected, left) in enumerate([(20, 33), (20, 13), (13, 0)], start=1):
        upstream.server.clear_log()
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            (report,) = run_crawls(config, store)
        assert report.ok, report.errors
        house = [p for p in upstream.bill_requests() if "/118/hr/" in p]
        # the two named House bills come on top of the budget (on the first run)
        assert len(set(house) - named) == expected, (run, house)
        assert not set(house) & set(read) - named, "a file read twice"
        read += house
        held = [r.getMessage() for r in caplog.records if "max_files_per_run" in r.getMessage()]
        assert held == ([f"govinfo: BILLSTATUS 118hr: {left} more file(s) to read than [sources.govinfo] "
                         "max_files_per_run (20) allows in one run: they are read in the next runs"] if left else [])
        if run == 1:
            assert "bill:hr7-118" in entities(store, config)  # the BREATHE Act is among the first 20
    assert {p for p in read} == {file_path(CONGRESS, "hr", n) for n in range(1, PER_TYPE + 1)}
    upstream.server.clear_log()
    (done,) = run_crawls(config, store)
    assert done.ok and upstream.bill_requests() == []
    assert entities(store, config) == {"bill:hr7-118", "bill:hr2-118", "bill:hr3-118", "bill:s4-118"}
    assert changes_json(store) == []


def test_files_a_sitemap_lists_but_govinfo_does_not_serve_are_one_line(tmp_path: Path, upstream: Upstream) -> None:
    """Files the sitemap lists, missing from the package and answering 404 when asked for singly: one
    line for the type (not one a file, nor the 'check the bill's number in the config' said of a
    number a person wrote), the run counts as failed, and the next run asks for them again."""
    for n in range(56, 60):
        upstream.lastmods["hr"][n] = NEWER  # listed, but neither in the package nor served
    upstream.index_lastmod["hr"] = NEWER
    upstream.publish()
    write_config(tmp_path, upstream.server, BREATHE_WATCH)
    runner = CliRunner()
    result = runner.invoke(main, ["--config", str(tmp_path / "tracker.toml"), "--quiet", "crawl"])
    assert result.exit_code == 1, result.output
    (line,) = result.stderr.splitlines()
    assert line == ("govinfo: BILLSTATUS 118hr: 4 file(s) its sitemap lists are not served (HTTP 404, the first "
                    f"H.R. 56): asked for again next run ({upstream.url(file_path(CONGRESS, 'hr', 56))})")
    upstream.server.clear_log()
    again = runner.invoke(main, ["--config", str(tmp_path / "tracker.toml"), "--quiet", "crawl"])
    assert again.exit_code == 1
    assert sorted(upstream.bill_requests()) == sorted(file_path(CONGRESS, "hr", n) for n in range(56, 60))


def test_files_held_back_in_a_whole_read_are_read_in_the_next_runs(
        tmp_path: Path, upstream: Upstream, caplog: pytest.LogCaptureFixture) -> None:
    """A new title phrase reads its Congress whole again, where every stored lastmod already is the
    sitemap's: the packages are asked for afresh (not a 304 leaving every file to single requests),
    and a file held back by `max_files_per_run` (here: every one a broken package leaves) is still
    read in a later run, once, and the bill the new phrase names found."""
    config = write_config(tmp_path, upstream.server, "max_files_per_run = 20\n" + BREATHE_WATCH)
    store = Store(config.database_url)
    (first,) = run_crawls(config, store)
    assert first.ok and entities(store, config) == {"bill:hr7-118"}
    lookalike = ('[[bills]]\nid = "freedom"\nname = "Freedom to Breathe"\ntitles = ["Freedom to Breathe Act"]\n'
                 "congresses = [118]\n")
    config = write_config(tmp_path, upstream.server, "max_files_per_run = 20\n" + BREATHE_WATCH + lookalike)
    upstream.server.set_fault(package_path(CONGRESS, "s"), Fault.status(500))  # the Senate's, where s9 is
    upstream.server.clear_log()
    (second,) = run_crawls(config, store)
    assert second.ok, second.errors
    assert [r.status for r in upstream.server.requests if r.path.endswith(".zip") and "/s/" not in r.path] == \
        [200] * (len(BILL_TYPES) - 1)  # afresh, though each answered before
    read = [p for p in upstream.bill_requests() if "/118/s/" in p]
    assert len(read) == 20
    for _ in range(3):
        upstream.server.clear_log()
        (later,) = run_crawls(config, store)
        assert later.ok, later.errors
        again = [p for p in upstream.bill_requests() if "/118/s/" in p]
        assert not set(again) & set(read), "a file read twice"
        read += again
    assert sorted(read) == sorted(file_path(CONGRESS, "s", n) for n in range(1, PER_TYPE + 1))
    assert entities(store, config) == {"bill:hr7-118", "bill:s9-118"}


def watch_links(store: Store) -> set[tuple[str, str]]:
    from sqlalchemy import select

    from tracker import models

    with store.session() as session:
        return {(w.watch_id, w.entity_key) for w in session.scalars(select(models.WatchEntity))}


ANOTHER_BREATHE = '[[bills]]\nid = "breathe2"\nname = "BREATHE again"\ntitles = ["BREATHE Act"]\ncongresses = [118]\n'


def test_a_new_watch_finds_a_stored_bill_whose_file_did_not_change(tmp_path: Path, upstream: Upstream) -> None:
    """A new title phrase's whole read asks for each file afresh even when it goes file by file (a
    broken package): a bill stored earlier from a single file would answer 304, and the new watch
    would never learn of it."""
    config = write_config(tmp_path, upstream.server, BREATHE_WATCH)
    store = Store(config.database_url)
    run_crawls(config, store)
    upstream.move("hr", 7, member("hr", 7).replace(b"</billStatus>", b"</billStatus>\n"), NEWER)
    (moved,) = run_crawls(config, store)  # read singly: its validators are stored
    assert moved.ok and watch_links(store) == {("breathe", "bill:hr7-118")}
    config = write_config(tmp_path, upstream.server, BREATHE_WATCH + ANOTHER_BREATHE)
    upstream.server.set_fault(package_path(CONGRESS, "hr"), Fault.status(500))
    upstream.server.clear_log()
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    assert [r.status for r in upstream.server.requests if r.path == file_path(CONGRESS, "hr", 7)] == [200]
    assert watch_links(store) == {("breathe", "bill:hr7-118"), ("breathe2", "bill:hr7-118")}


def test_an_upgrade_reads_the_files_it_held_back_with_the_new_parser(
        tmp_path: Path, upstream: Upstream, monkeypatch: pytest.MonkeyPatch) -> None:
    """A parser upgrade reads every file again; those `max_files_per_run` holds back are owed a
    fresh read in the next runs (not a 304 keeping the old parser's snapshot)."""
    from dataclasses import replace

    from sqlalchemy import select

    from tracker import models
    from tracker.sources import SOURCES

    current = SOURCES["govinfo"]
    monkeypatch.setitem(SOURCES, "govinfo", replace(current, parser_version="billstatus-old"))
    config = write_config(tmp_path, upstream.server, "max_files_per_run = 5\n" + BREATHE_WATCH)
    store = Store(config.database_url)
    run_crawls(config, store)
    upstream.move("hr", 7, member("hr", 7).replace(b"</billStatus>", b"</billStatus>\n"), NEWER)
    run_crawls(config, store)  # hr7 stored from its single file, with validators
    monkeypatch.setitem(SOURCES, "govinfo", current)
    upstream.server.set_fault(package_path(CONGRESS, "hr"), Fault.status(500))
    asked: list[int] = []
    for _ in range(3):
        upstream.server.clear_log()
        (report,) = run_crawls(config, store)
        assert report.ok, report.errors
        asked += [r.status for r in upstream.server.requests if r.path == file_path(CONGRESS, "hr", 7)]
    assert asked == [200]  # held back by the upgrade run, then read afresh once
    with store.session() as session:
        parsers = set(session.scalars(
            select(models.Snapshot.parser).join(models.Entity, models.Entity.current_snapshot_id == models.Snapshot.id)
            .where(models.Entity.key == "bill:hr7-118")))
    assert parsers == {current.parser_version}


def test_a_package_claiming_several_disks_is_one_line_and_its_files_are_read_singly(
        watched: tuple[Config, Store], upstream: Upstream, caplog: pytest.LogCaptureFixture) -> None:
    """zipfile refuses an archive whose ZIP64 locator counts two disks with an exception of its own
    (Python 3.11's `is_zipfile` lets it through): still the package's one line, never a lost type."""
    import struct

    config, store = watched
    data = package("hr")
    end = data.rfind(b"PK\x05\x06")
    upstream.server.replace(package_path(CONGRESS, "hr"),
                            data[:end] + struct.pack("<4sIQI", b"PK\x06\x07", 0, 0, 2) + data[end:])
    with caplog.at_level(logging.WARNING):
        (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    (line,) = [r.getMessage() for r in caplog.records if "BILLSTATUS package 118hr" in r.getMessage()]
    assert "not a readable ZIP archive" in line and "reading its 55 files singly instead" in line, line
    assert entities(store, config) == {"bill:hr7-118", "bill:hr2-118", "bill:hr3-118", "bill:s4-118"}


def test_after_a_package_failed_once_the_next_run_asks_for_it_afresh(tmp_path: Path, upstream: Upstream) -> None:
    """A package that failed once (its files left to the next runs, the sitemap forgotten) is asked
    for afresh next run: a 304 would leave its files to single requests, 20 a run."""
    body = "max_files_per_run = 20\npackage_min_files = 10\n" + BREATHE_WATCH
    config = write_config(tmp_path, upstream.server, body)
    store = Store(config.database_url)
    run_crawls(config, store)
    lookalike = ('[[bills]]\nid = "freedom"\nname = "Freedom to Breathe"\ntitles = ["Freedom to Breathe Act"]\n'
                 "congresses = [118]\n")
    config = write_config(tmp_path, upstream.server, body + lookalike)
    upstream.server.set_fault(package_path(CONGRESS, "s"), Fault.status(500))  # one bad run
    run_crawls(config, store)
    upstream.server.set_fault(package_path(CONGRESS, "s"), None)
    upstream.server.clear_log()
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    assert [(r.path, r.status) for r in upstream.server.requests if r.path.endswith(".zip")] == [
        (package_path(CONGRESS, "s"), 200)]
    assert [p for p in upstream.bill_requests() if "/118/s/" in p] == []
    assert entities(store, config) == {"bill:hr7-118", "bill:s9-118"}
    upstream.server.clear_log()
    (quiet,) = run_crawls(config, store)
    assert quiet.ok and upstream.package_requests() == [] and upstream.bill_requests() == []


def cursor_of(store: Store) -> dict[str, object]:
    from tracker import models

    with store.session() as session:
        return dict(session.get(models.SourceState, "govinfo").cursor)


def current_parser(store: Store, key: str) -> set[str]:
    from sqlalchemy import select

    from tracker import models

    with store.session() as session:
        return set(session.scalars(
            select(models.Snapshot.parser).join(models.Entity, models.Entity.current_snapshot_id == models.Snapshot.id)
            .where(models.Entity.key == key)))


def test_an_upgrade_keeps_what_a_whole_read_still_owes(
        tmp_path: Path, upstream: Upstream, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file a new phrase's whole read left unread is owed a fresh read; a parser upgrade run in
    between, whose House sitemap fails, keeps that debt (it used to start from nothing, and the
    file's 304 then hid it from the new watch for good)."""
    from dataclasses import replace

    from tracker.sources import SOURCES

    current = SOURCES["govinfo"]
    monkeypatch.setitem(SOURCES, "govinfo", replace(current, parser_version="billstatus-old"))
    body = "max_files_per_run = 5\n"
    config = write_config(tmp_path, upstream.server, body + BREATHE_WATCH)
    store = Store(config.database_url)
    run_crawls(config, store)
    upstream.move("hr", 7, member("hr", 7).replace(b"</billStatus>", b"</billStatus>\n"), NEWER)
    run_crawls(config, store)  # hr7 stored from its single file, with validators
    config = write_config(tmp_path, upstream.server, body + BREATHE_WATCH + ANOTHER_BREATHE)
    upstream.server.set_fault(package_path(CONGRESS, "hr"), Fault.status(500))
    run_crawls(config, store)  # the whole read: hr1-hr5 read, hr7 held back
    assert "hr7-118" in (cursor_of(store).get("reread") or [])  # type: ignore[operator]
    monkeypatch.setitem(SOURCES, "govinfo", current)
    upstream.server.set_fault(sitemap_path(CONGRESS, "hr"), Fault.status(500))
    run_crawls(config, store)  # the upgrade run, its House sitemap failing
    upstream.server.set_fault(sitemap_path(CONGRESS, "hr"), None)
    for _ in range(12):
        run_crawls(config, store)
    assert watch_links(store) == {("breathe", "bill:hr7-118"), ("breathe2", "bill:hr7-118")}
    assert current_parser(store, "bill:hr7-118") == {current.parser_version}


def test_an_upgrade_whose_sitemap_failed_still_rereads_the_bills_found_by_title(
        tmp_path: Path, upstream: Upstream, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the old parser read counts for nothing: a type whose sitemap failed during the upgrade
    run is read whole in a later run, so its bills found by title get the new parser too."""
    from dataclasses import replace

    from tracker.sources import SOURCES

    current = SOURCES["govinfo"]
    monkeypatch.setitem(SOURCES, "govinfo", replace(current, parser_version="billstatus-old"))
    config = write_config(tmp_path, upstream.server, BREATHE_WATCH)
    store = Store(config.database_url)
    run_crawls(config, store)
    assert current_parser(store, "bill:hr7-118") == {"billstatus-old"}
    monkeypatch.setitem(SOURCES, "govinfo", current)
    upstream.server.set_fault(sitemap_path(CONGRESS, "hr"), Fault.status(500))
    run_crawls(config, store)  # the upgrade run: the House sitemap fails
    upstream.server.set_fault(sitemap_path(CONGRESS, "hr"), None)
    (later,) = run_crawls(config, store)
    assert later.ok, later.errors
    assert current_parser(store, "bill:hr7-118") == {current.parser_version}


def test_files_a_sitemap_lists_but_govinfo_does_not_serve_cost_no_package_download(
        tmp_path: Path, upstream: Upstream) -> None:
    """Ten listed files, neither in the package nor served, every run: they are asked for singly
    each run, and the unchanged package answers 304 (it is not downloaded again each run)."""
    config = write_config(tmp_path, upstream.server, "package_min_files = 10\n" + BREATHE_WATCH)
    store = Store(config.database_url)
    (first,) = run_crawls(config, store)
    assert first.ok
    for n in range(56, 66):
        upstream.lastmods["hr"][n] = NEWER
    upstream.index_lastmod["hr"] = NEWER
    upstream.publish()
    for _ in range(3):
        upstream.server.clear_log()
        run_crawls(config, store)
        assert [r.status for r in upstream.server.requests if r.path == package_path(CONGRESS, "hr")] == [304]
        assert len([p for p in upstream.bill_requests() if "/118/hr/" in p]) == 10


NAMED7 = '[[bills]]\nid = "named7"\nname = "H.R. 7"\nnumbers = ["hr7-118"]\n'
OTHER_HR2 = '[[bills]]\nid = "other"\nname = "Other"\nnumbers = ["hr2-118"]\n'


@pytest.mark.parametrize("package_ok", [True, False], ids=["from the package", "file by file"])
def test_a_named_bill_that_a_title_watch_matches_is_linked_to_both(
        tmp_path: Path, upstream: Upstream, package_ok: bool) -> None:
    """H.R. 7 named by one watch is the BREATHE Act another watches by title: both hold it."""
    config = write_config(tmp_path, upstream.server, BREATHE_WATCH + NAMED7)
    if not package_ok:
        upstream.server.set_fault(package_path(CONGRESS, "hr"), Fault.status(500))
    store = Store(config.database_url)
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    assert watch_links(store) == {("breathe", "bill:hr7-118"), ("named7", "bill:hr7-118")}


@pytest.mark.parametrize("followed", [False, True], ids=["asked for directly", "through its sitemap"])
def test_a_new_watch_naming_a_stored_bill_holds_it_at_once(tmp_path: Path, upstream: Upstream,
                                                           followed: bool) -> None:
    """A second watch names H.R. 2, which another watch follows: it holds the bill from its first
    run, though the file answers 304 (or, its sitemap unchanged, is not asked for at all)."""
    base = (BREATHE_WATCH if followed else "") + POLICE_WATCH
    config = write_config(tmp_path, upstream.server, base)
    store = Store(config.database_url)
    run_crawls(config, store)
    config = write_config(tmp_path, upstream.server, base + OTHER_HR2)
    upstream.server.clear_log()
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    assert [r.status for r in upstream.server.requests if r.path == file_path(CONGRESS, "hr", 2)] in ([], [304])
    assert ("other", "bill:hr2-118") in watch_links(store)
    assert changes_json(store) == []  # no news: the bill did not change


def test_files_listed_without_a_lastmod_never_take_the_budget_from_a_file_that_moved(
        tmp_path: Path, upstream: Upstream) -> None:
    """Six files listed without a lastmod count as moved every run; with a budget of five, the one
    file that really moved (H.R. 30) is still read first."""
    config = write_config(tmp_path, upstream.server, "max_files_per_run = 5\n" + BREATHE_WATCH)
    store = Store(config.database_url)
    for n in range(1, 7):
        upstream.lastmods["hr"][n] = None  # type: ignore[assignment]
    upstream.publish()
    (first,) = run_crawls(config, store)
    assert first.ok, first.errors
    upstream.move("hr", 30, member("hr", 30).replace(b"</billStatus>", b"</billStatus>\n"), NEWER)
    upstream.server.clear_log()
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    assert file_path(CONGRESS, "hr", 30) in upstream.bill_requests()


def test_a_fresh_read_owed_to_a_bill_no_watch_names_any_more_is_dropped(
        tmp_path: Path, upstream: Upstream, monkeypatch: pytest.MonkeyPatch) -> None:
    """A mistyped number that answered 404 in an upgrade run is owed a fresh read; once the config
    no longer names it, the debt goes (it used to stay in the cursor for good)."""
    from dataclasses import replace

    from tracker.sources import SOURCES

    current = SOURCES["govinfo"]
    monkeypatch.setitem(SOURCES, "govinfo", replace(current, parser_version="billstatus-old"))
    typo = '[[bills]]\nid = "typo"\nname = "Typo"\nnumbers = ["hr999-118"]\n'
    config = write_config(tmp_path, upstream.server, POLICE_WATCH + typo)
    store = Store(config.database_url)
    run_crawls(config, store)
    monkeypatch.setitem(SOURCES, "govinfo", current)
    run_crawls(config, store)  # the upgrade run: hr999 answers 404
    assert "hr999-118" in (cursor_of(store).get("reread") or [])  # type: ignore[operator]
    config = write_config(tmp_path, upstream.server, POLICE_WATCH)  # the typo is fixed
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    assert "hr999-118" not in (cursor_of(store).get("reread") or [])  # type: ignore[operator]


def title_records(store: Store) -> dict[str, str]:
    return dict(cursor_of(store).get("titles") or {})  # type: ignore[call-overload]


def campaign_watch(*phrases: str) -> str:
    return '[[bills]]\nid = "campaign"\nname = "Campaign"\ntitles = ' + json.dumps(list(phrases)) + \
        "\ncongresses = [118]\n"


def test_removing_a_title_phrase_reads_nothing_whole_and_adding_it_back_does(tmp_path: Path,
                                                                             upstream: Upstream) -> None:
    """One fingerprint per (watch, phrase): a phrase removed costs no read of the Congress (eight
    packages, every file); added back, it reads the Congress whole again, and finds the bill that
    moved while it was gone (matched then without it)."""
    both = campaign_watch("BREATHE Act", "Ending Qualified Immunity Act")
    config = write_config(tmp_path, upstream.server, both + POLICE_WATCH)
    store = Store(config.database_url)
    (first,) = run_crawls(config, store)
    assert first.ok, first.errors
    assert len(upstream.package_requests()) == 8
    assert {len(r.split()) for r in title_records(store).values()} == {2}  # the mark and two fingerprints

    config = write_config(tmp_path, upstream.server, campaign_watch("BREATHE Act") + POLICE_WATCH)
    upstream.server.clear_log()
    (second,) = run_crawls(config, store)
    assert second.ok, second.errors
    assert upstream.package_requests() == [] and upstream.bill_requests() == []
    assert {len(r.split()) for r in title_records(store).values()} == {1}  # the removed phrase's is gone

    # While the phrase is gone, a bill of that title appears: read, matched without it, not stored.
    eqia = derive_bill(federal("BILLSTATUS-117hr6658.xml"), CONGRESS, "s", 61, title="Ending Qualified Immunity Act",
                       old_title="Protecting Family and Small Business Tax Cuts Act of 2022")
    upstream.move("s", 61, eqia, NEWER)
    upstream.server.clear_log()
    (third,) = run_crawls(config, store)
    assert third.ok and upstream.bill_requests() == [file_path(CONGRESS, "s", 61)]
    assert "bill:s61-118" not in entities(store, config)

    config = write_config(tmp_path, upstream.server, both + POLICE_WATCH)
    upstream.server.clear_log()
    (fourth,) = run_crawls(config, store)
    assert fourth.ok, fourth.errors
    assert len(upstream.package_requests()) == 8  # read whole again for the phrase added back
    assert "bill:s61-118" in entities(store, config)

    # A Congress no title watch reads any more is forgotten too: a watch added back reads it whole.
    config = write_config(tmp_path, upstream.server, POLICE_WATCH)
    run_crawls(config, store)
    assert title_records(store) == {}
    config = write_config(tmp_path, upstream.server, both + POLICE_WATCH)
    upstream.server.clear_log()
    run_crawls(config, store)
    assert len(upstream.package_requests()) == 8


def test_a_cursor_of_one_hash_for_all_phrases_is_read_as_before(tmp_path: Path, upstream: Upstream) -> None:
    """Cursors written before per-phrase fingerprints kept one hash of every title watch of the
    Congress: the same watches read nothing whole (the record is rewritten in the new form); other
    watches read the Congress whole, as then."""
    from tracker import models

    config = write_config(tmp_path, upstream.server, BREATHE_WATCH + POLICE_WATCH)
    store = Store(config.database_url)
    run_crawls(config, store)

    def write_titles(value: str) -> None:
        with store.session() as session:
            state = session.get(models.SourceState, "govinfo")
            state.cursor = {**state.cursor, "titles": {group: value for group in state.cursor["titles"]}}
            session.commit()

    # as the earlier version hashed the BREATHE watch: [id, titles, title_contains, official_titles]
    old = hashlib.sha256(json.dumps(["breathe", ["BREATHE Act"], False, False]).encode()).hexdigest()[:16]
    write_titles(old)
    upstream.server.clear_log()
    (same,) = run_crawls(config, store)
    assert same.ok, same.errors
    assert upstream.package_requests() == [] and upstream.bill_requests() == []
    assert all(r.startswith("phrases:") for r in title_records(store).values())

    write_titles("0123456789abcdef")  # another watch's set
    upstream.server.clear_log()
    (other,) = run_crawls(config, store)
    assert other.ok, other.errors
    assert len(upstream.package_requests()) == 8



def refuse_snapshots_of(store: Store, key: str | None) -> None:
    """A real PostgreSQL trigger refusing every new or updated snapshot of `key` (the failure a full
    disk or a lock timeout gives); None drops it."""
    from sqlalchemy import text

    with store.engine.begin() as connection:
        if key is None:
            connection.execute(text("DROP TRIGGER refuse_one ON snapshots"))
            return
        connection.execute(text(
            "CREATE OR REPLACE FUNCTION refuse_one() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF NEW.entity_key = '{key}' THEN RAISE EXCEPTION 'no space left on device'; END IF; "
            "RETURN NEW; END $$"))
        connection.execute(text("CREATE TRIGGER refuse_one BEFORE INSERT OR UPDATE ON snapshots "
                                "FOR EACH ROW EXECUTE FUNCTION refuse_one()"))


@pytest.mark.parametrize("whole_read", ["parser upgrade", "new title phrase"])
def test_a_bill_whose_store_failed_in_a_whole_read_is_read_afresh_and_stored_next_run(
        tmp_path: Path, pg_url: str, upstream: Upstream, monkeypatch: pytest.MonkeyPatch, whole_read: str) -> None:
    """The database refusing one bill's snapshot in a whole read (a real trigger): nothing stored is
    lost, the bill is still owed a fresh read, and the next run asks for it afresh and stores it,
    where a 304 would have kept the old parser's snapshot, or hidden the new content and the bill
    from the new watch, for good. (Its file read with nothing to store counts as read; a file whose
    store failed did too, before.)"""
    from dataclasses import replace

    from tracker.sources import SOURCES

    current = SOURCES["govinfo"]
    if whole_read == "parser upgrade":
        monkeypatch.setitem(SOURCES, "govinfo", replace(current, parser_version="billstatus-old"))
    config = write_config(tmp_path, upstream.server, BREATHE_WATCH + POLICE_WATCH, pg_url)
    store = Store(config.database_url)
    run_crawls(config, store)
    before = status_json(store, config)["bills"]
    refuse_snapshots_of(store, "bill:hr7-118")
    if whole_read == "parser upgrade":
        monkeypatch.setitem(SOURCES, "govinfo", current)
    else:  # hr7 moved after its package was built: the whole read fetches its file singly, afresh
        upstream.move("hr", 7, billstatus_before(member("hr", 7), "2010-01-01"), NEWER)
        config = write_config(tmp_path, upstream.server, BREATHE_WATCH + POLICE_WATCH + ANOTHER_BREATHE, pg_url)
    (refused,) = run_crawls(config, store)
    assert any("hr7-118" in line and "could not store" in line for line in refused.errors), refused.errors
    hr7 = [b for b in status_json(store, config)["bills"] if b["entity"] == "bill:hr7-118"]
    assert hr7 and hr7[0] in before  # what was stored is kept as it was
    assert "hr7-118" in (cursor_of(store).get("reread") or [])  # type: ignore[operator]

    refuse_snapshots_of(store, None)
    upstream.server.clear_log()
    (after,) = run_crawls(config, store)
    assert after.ok, after.errors
    assert file_path(CONGRESS, "hr", 7) in upstream.bill_requests()
    assert current_parser(store, "bill:hr7-118") == {current.parser_version}
    assert "hr7-118" not in (cursor_of(store).get("reread") or [])  # type: ignore[operator]
    if whole_read == "new title phrase":
        assert ("breathe2", "bill:hr7-118") in watch_links(store)
        stored = {b["entity"]: b for b in status_json(store, config)["bills"]}["bill:hr7-118"]
        assert stored["latest_action"] == parse_billstatus(billstatus_before(member("hr", 7), "2010-01-01")).latest_action


def test_a_mistyped_number_costs_its_sitemap_no_full_download_each_run(tmp_path: Path, upstream: Upstream) -> None:
    """A named bill GovInfo does not have (a typo, or one not published yet) in a type the spider
    follows: one line each run saying what to check, asked for again each run, and the type's
    sitemap, which simply does not list it, counts as read: the next run asks for it conditionally
    (a 304), not whole again every run."""
    typo = '[[bills]]\nid = "typo"\nname = "Typo"\nnumbers = ["hr999-118"]\n'
    config = write_config(tmp_path, upstream.server, POLICE_WATCH + typo)
    store = Store(config.database_url)
    for _ in range(2):
        upstream.server.clear_log()
        (report,) = run_crawls(config, store)
        assert [line for line in report.errors if "hr999" in line and "check the bill's number" in line], report.errors
        assert file_path(CONGRESS, "hr", 999) in upstream.bill_requests()
    sitemap = [r.status for r in upstream.server.requests if r.path == sitemap_path(CONGRESS, "hr")]
    assert sitemap == [304], sitemap
    assert entities(store, config) == {"bill:hr2-118", "bill:hr3-118", "bill:s4-118"}


def test_an_index_that_moved_only_for_other_types_is_no_failure(tmp_path: Path, upstream: Upstream) -> None:
    """The index changes daily for types no watch follows, and a new bill may match no title: a
    run that stores nothing then is the usual answer, not the "returned no items" alarm of a
    listing that emptied (it made the run fail)."""
    watch = '[[bills]]\nid = "many"\nname = "Many"\nnumbers = ["hr2-118", "hr3-118", "hr4-118"]\n'
    config = write_config(tmp_path, upstream.server, watch + BREATHE_WATCH)
    store = Store(config.database_url)
    (first,) = run_crawls(config, store)
    assert first.ok and first.items == 4
    upstream.move("sres", 30, member("sres", 30), NEWER)  # not the BREATHE Act: read, nothing stored
    (second,) = run_crawls(config, store)
    assert second.ok, second.errors
    config = write_config(tmp_path, upstream.server, watch)  # the House sitemap only
    upstream.move("sres", 31, member("sres", 31), "2026-11-04T16:00:00Z")
    upstream.server.clear_log()
    (third,) = run_crawls(config, store)
    assert third.ok and third.items == 0, third.errors
    assert [(r.path, r.status) for r in upstream.server.requests if r.path != "/robots.txt"] == [(INDEX_PATH, 200)]


def test_crawling_one_named_bill_watch_costs_the_title_watch_no_whole_read(
        watched: tuple[Config, Store], upstream: Upstream) -> None:
    """`tracker crawl --watch police` runs the GovInfo spider with that watch alone, on the one
    shared cursor: what it forgets (a phrase's record, a bill's daily check) is decided by the whole
    config, not by the run's watches. It used to forget every `titles` record of a Congress no title
    watch of the run reads, so the next ordinary run, nothing having moved, read the BREATHE watch's
    Congress whole again (eight packages). Found by a review."""
    config, store = watched
    assert all(r.ok for r in run_crawls(config, store))
    assert all(r.ok for r in run_crawls(config, store, ["police"]))
    upstream.server.clear_log()
    assert all(r.ok for r in run_crawls(config, store))
    assert upstream.package_requests() == [] and upstream.bill_requests() == []


def test_a_bill_matched_only_by_a_removed_phrase_leaves_the_watch_and_comes_back_with_it(
        tmp_path: Path, upstream: Upstream) -> None:
    """A watch reading "BREATHE Act" and "Ending Qualified Immunity Act" holds both bills; the second
    phrase is removed: that bill leaves the watch (its status, digest and alerts), the BREATHE Act
    stays, nothing stored is lost. Put back, the phrase brings the bill back."""
    eqia = derive_bill(federal("BILLSTATUS-117hr6658.xml"), CONGRESS, "s", 61, title="Ending Qualified Immunity Act",
                       old_title="Protecting Family and Small Business Tax Cuts Act of 2022")
    upstream.move("s", 61, eqia, NEWER)
    both = campaign_watch("BREATHE Act", "Ending Qualified Immunity Act")
    config = write_config(tmp_path, upstream.server, both)
    store = Store(config.database_url)
    run_crawls(config, store)
    assert watch_links(store) == {("campaign", "bill:hr7-118"), ("campaign", "bill:s61-118")}

    config = write_config(tmp_path, upstream.server, campaign_watch("BREATHE Act"))
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    assert watch_links(store) == {("campaign", "bill:hr7-118")}
    with store.session() as session:
        from tracker import models

        assert session.get(models.Entity, "bill:s61-118") is not None  # its record stays

    config = write_config(tmp_path, upstream.server, both)
    run_crawls(config, store)
    assert watch_links(store) == {("campaign", "bill:hr7-118"), ("campaign", "bill:s61-118")}
