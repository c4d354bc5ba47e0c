"""GovInfo BILLSTATUS bulk data at full scale: a package of 100,000 members read whole, and a sitemap
of a million URLs (137 MB) refused at the download cap. The real engine against the loopback server,
as in test_federal_packages (whose helpers these tests use); the members are real small files renumbered
with `derive_bill`, written by the fast package writer (2 s for 100,000 members; zipfile's deflate
alone, 0.3 ms a member, would take half a minute)."""

from __future__ import annotations

import logging
import re
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from statusjson import status_json
from test_federal_packages import (
    BREATHE_WATCH,
    CONGRESS,
    OLD,
    SMALL,
    Upstream,
    entities,
    member,
    write_config,
)

from tracker.bills.billstatus import parse_billstatus
from tracker.cli import main
from tracker.crawl import run_crawls
from tracker.demo.packages import (
    INDEX_PATH,
    derive_bill,
    file_path,
    package_path,
    sitemap_path,
    sitemap_xml,
    write_package,
    write_package_fast,
)
from tracker.demo.replay import ReplayServer
from tracker.store import Store

MEMBERS = 100_000
BREATHE_NUMBERS = (7, 50_000, 99_999)  # the members a title watch for the BREATHE Act stores
SENTINEL = 987654321  # a bill number no template holds otherwise: where each member's number goes
MiB = 1024 * 1024


def templates(title: str | None = None) -> list[tuple[bytes, bytes]]:
    """The two smallest real House files as (before, after) the bill number of a derived hr member:
    `before + str(n) + after` is `derive_bill(source, 118, "hr", n)` (checked for a few n)."""
    out = []
    for source in (p.read_bytes() for p in sorted(SMALL, key=lambda p: p.stat().st_size)
                   if p.name.startswith("BILLSTATUS-") and "hr" in p.name and "hres" not in p.name):
        old = parse_billstatus(source).title if title else None
        whole = derive_bill(source, CONGRESS, "hr", SENTINEL, title=title, old_title=old)
        before, after = whole.split(str(SENTINEL).encode())  # exactly once, or this unpacking fails
        for n in (1, 42, MEMBERS):
            assert before + str(n).encode() + after == derive_bill(source, CONGRESS, "hr", n, title=title,
                                                                   old_title=old)
        out.append((before, after))
        if len(out) == 2:
            return out
    raise AssertionError("two small House files expected under tests/data")


def big_sitemap(base: str, congress: int, bill_type: str, count: int, lastmod: str) -> bytes:
    """`sitemap_xml` of `count` files of one type, written by joining bytes (a million in a second)."""
    head, tail = sitemap_xml([("@", lastmod)]).split(b"<url><loc>@</loc>")
    entry_tail = b"</loc>" + tail.split(b"</urlset>")[0]  # "</loc><lastmod>…</lastmod></url>"
    loc = f"<url><loc>{base}{file_path(congress, bill_type, 0)[:-len('0.xml')]}".encode()
    return b"".join([head, *(loc + b"%d.xml" % n + entry_tail for n in range(1, count + 1)), b"</urlset>\n"])


def vm(field: str) -> int:
    """A /proc/self/status figure in bytes (VmRSS, VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no {field} in /proc/self/status")


def test_the_fast_package_writer_writes_what_zipfile_writes(tmp_path: Path) -> None:
    """Members given whole: the bytes zipfile writes. Templated members: what zipfile reads back is
    the joined text, CRC-checked. And the test's big sitemap is `sitemap_xml`'s."""
    members = [(f"BILLSTATUS-{CONGRESS}hres{n}.xml", member("hres", n)) for n in range(1, 6)]
    members.append((f"BILLSTATUS-{CONGRESS}hres6.xml", b""))
    assert write_package(tmp_path / "zipfile.zip", members) == write_package_fast(tmp_path / "fast.zip", members) == 6
    assert (tmp_path / "fast.zip").read_bytes() == (tmp_path / "zipfile.zip").read_bytes()
    for level in (1, 9):
        write_package(tmp_path / "zipfile.zip", members, level=level, date_time=(2025, 1, 2, 3, 4, 5))
        write_package_fast(tmp_path / "fast.zip", members, level=level, date_time=(2025, 1, 2, 3, 4, 5))
        assert (tmp_path / "fast.zip").read_bytes() == (tmp_path / "zipfile.zip").read_bytes()

    (before, after), _ = templates()
    parts = [(f"BILLSTATUS-{CONGRESS}hr{n}.xml", (before, str(n).encode(), after)) for n in range(1, 4)]
    parts.append(("BILLSTATUS-118hr4.xml", (b"<billStatus>", b"4", b"</billStatus>")))  # stored blocks only
    write_package_fast(tmp_path / "parts.zip", parts)
    with zipfile.ZipFile(tmp_path / "parts.zip") as archive:
        assert archive.testzip() is None
        assert archive.namelist() == [name for name, _ in parts]
        for name, pieces in parts:
            assert archive.read(name) == b"".join(pieces)
            assert archive.getinfo(name).date_time == (2026, 11, 1, 12, 0, 0)

    base = "http://127.0.0.1:8080"
    assert big_sitemap(base, CONGRESS, "hr", 3, OLD) == sitemap_xml(
        [(base + file_path(CONGRESS, "hr", n), OLD) for n in (1, 2, 3)])


@pytest.mark.slow
def test_the_fast_package_writer_writes_zipfiles_zip64_end_records(tmp_path: Path) -> None:
    """Above 65,535 members (a package of 100,000) the end records are ZIP64's, as zipfile writes them."""
    many = [(f"BILLSTATUS-{CONGRESS}hr{n}.xml", b"<billStatus/>") for n in range(1, 65_538)]
    write_package(tmp_path / "zipfile.zip", many)
    write_package_fast(tmp_path / "fast.zip", many)
    assert (tmp_path / "fast.zip").read_bytes() == (tmp_path / "zipfile.zip").read_bytes()


@pytest.mark.slow
def test_a_package_of_100000_members_is_read_whole_in_bounded_time_and_memory(
        tmp_path: Path, replay: ReplayServer, caplog: pytest.LogCaptureFixture) -> None:
    """A title watch reads the 118th Congress whole; its `hr` sitemap lists 100,000 files and the
    package (352 MiB, as real members weigh: the real 10,564-member package is 35.5 MB) holds them
    all. One package request, no single file, the three BREATHE Acts stored, the operator's line
    right. The download, the scan and the engine run in this process (the reactor's thread and its
    pool), the ingest worker only stores the three bills: the peak is this process's VmHWM, reset
    just before the crawl."""
    started = time.monotonic()
    plain, breathe = templates(), templates(title="BREATHE Act")

    def members() -> Iterator[tuple[str, tuple[bytes, bytes, bytes]]]:
        for n in range(1, MEMBERS + 1):
            before, after = (breathe if n in BREATHE_NUMBERS else plain)[n % 2]
            yield f"BILLSTATUS-{CONGRESS}hr{n}.xml", (before, str(n).encode(), after)

    target = tmp_path / "package.zip"
    assert write_package_fast(target, members()) == MEMBERS
    body = target.read_bytes()
    target.unlink()
    replay.add(package_path(CONGRESS, "hr"), body)
    sitemap = big_sitemap(replay.url, CONGRESS, "hr", MEMBERS, OLD)
    replay.add(sitemap_path(CONGRESS, "hr"), sitemap)
    replay.add(INDEX_PATH, sitemap_xml([(replay.url + sitemap_path(CONGRESS, "hr"), OLD)], index=True))
    config = write_config(tmp_path, replay, BREATHE_WATCH)
    store = Store(config.database_url)
    setup = time.monotonic() - started

    rss = vm("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM from here on: the crawl's peak
    crawl_started = time.monotonic()
    # the spider's own logger: a `tracker` command run earlier in this process set `spiders` to ERROR
    with caplog.at_level(logging.INFO, logger="spiders.govinfo"):
        (report,) = run_crawls(config, store)
    crawl = time.monotonic() - crawl_started
    growth = vm("VmHWM") - rss
    total = time.monotonic() - started
    print(f"\nsetup {setup:.1f} s (package {len(body) / MiB:.0f} MiB, sitemap {len(sitemap) / MiB:.1f} MiB); "
          f"crawl {crawl:.1f} s; peak RSS growth {growth / MiB:.0f} MiB over {rss / MiB:.0f} MiB; total {total:.1f} s")

    assert report.ok, report.errors
    lines = [r.getMessage() for r in caplog.records if "BILLSTATUS package" in r.getMessage()]
    assert lines == [f"govinfo: BILLSTATUS package {CONGRESS}hr: {MEMBERS} members, {len(BREATHE_NUMBERS)} "
                     "stored from it, 0 newer fetched singly"]
    assert entities(store, config) == {f"bill:hr{n}-{CONGRESS}" for n in BREATHE_NUMBERS}
    assert {b["title"] for b in status_json(store, config)["bills"]} == {"BREATHE Act"}
    upstream = Upstream(replay)
    assert upstream.bill_requests() == []  # not one of the 100,000 files asked for singly
    assert upstream.package_requests() == [package_path(CONGRESS, "hr")]
    assert report.requests == 4  # robots.txt, the index, the sitemap, the package
    assert not list(tmp_path.rglob(".govinfo-package-*"))
    assert growth < 300 * MiB, f"the crawl's peak memory grew {growth / MiB:.0f} MiB"
    assert crawl < 90 and total < 90, (setup, crawl)  # 25 s here: a bound, not a benchmark


def refused_line(stderr: str, group: str) -> str:
    (line,) = [line for line in stderr.splitlines() if f"sitemap {group}" in line]
    return line


@pytest.mark.slow
def test_a_sitemap_of_a_million_urls_is_refused_at_the_download_cap_in_one_line(
        tmp_path: Path, replay: ReplayServer) -> None:
    """One type's sitemap (137 MB, a million URLs) above `[crawl] max_bytes` (50 MB): `tracker crawl
    --quiet` says so in one line naming the group and the URL and exits 1; the other types are read
    and their bills stored, nothing stored before is lost, and the next run asks for it again."""
    upstream = Upstream(replay)
    # Run 1: three House bills, the BREATHE Act among them, read from their package and stored.
    house = {n: member("hr", n) for n in (1, 7, 9)}
    write_package(tmp_path / "hr.zip", ((f"BILLSTATUS-{CONGRESS}hr{n}.xml", data) for n, data in house.items()))
    replay.add(package_path(CONGRESS, "hr"), (tmp_path / "hr.zip").read_bytes())
    for n, data in house.items():
        replay.add(file_path(CONGRESS, "hr", n), data)
    replay.add(sitemap_path(CONGRESS, "hr"), sitemap_xml([(upstream.url(file_path(CONGRESS, "hr", n)), OLD)
                                                          for n in house]))
    replay.add(INDEX_PATH, sitemap_xml([(upstream.url(sitemap_path(CONGRESS, "hr")), OLD)], index=True))
    config = write_config(tmp_path, replay, BREATHE_WATCH)
    config_path = str(tmp_path / "tracker.toml")
    runner = CliRunner()
    first = runner.invoke(main, ["--config", config_path, "--quiet", "crawl"])
    assert first.exit_code == 0 and first.stderr == "", first.output
    store = Store(config.database_url)
    assert entities(store, config) == {f"bill:hr7-{CONGRESS}"}

    # Run 2: the House sitemap lists a million files (137 MB); two more types have their first files.
    started = time.monotonic()
    huge = big_sitemap(replay.url, CONGRESS, "hr", 1_000_000, "2026-11-20T08:00:00Z")
    made = time.monotonic() - started
    assert len(huge) > config.crawl.max_bytes and huge.count(b"<url>") == 1_000_000
    replay.replace(sitemap_path(CONGRESS, "hr"), huge)
    senate = {n: member("s", n) for n in (2, 3)}
    senate[7] = derive_bill(SMALL[0].read_bytes(), CONGRESS, "s", 7, title="BREATHE Act",
                            old_title=parse_billstatus(SMALL[0].read_bytes()).title)
    write_package(tmp_path / "s.zip", ((f"BILLSTATUS-{CONGRESS}s{n}.xml", data) for n, data in senate.items()))
    replay.add(package_path(CONGRESS, "s"), (tmp_path / "s.zip").read_bytes())
    replay.add(file_path(CONGRESS, "hres", 5), derive_bill(SMALL[1].read_bytes(), CONGRESS, "hres", 5,
                                                           title="BREATHE Act",
                                                           old_title=parse_billstatus(SMALL[1].read_bytes()).title))
    replay.add(sitemap_path(CONGRESS, "s"), sitemap_xml([(upstream.url(file_path(CONGRESS, "s", n)), OLD)
                                                         for n in senate]))
    replay.add(sitemap_path(CONGRESS, "hres"), sitemap_xml([(upstream.url(file_path(CONGRESS, "hres", 5)), OLD)]))
    replay.replace(INDEX_PATH, sitemap_xml([(upstream.url(sitemap_path(CONGRESS, t)), "2026-11-20T08:00:00Z")
                                            for t in ("hr", "s", "hres")], index=True))
    replay.clear_log()
    second = runner.invoke(main, ["--config", config_path, "--quiet", "crawl"])
    took = time.monotonic() - started
    print(f"\nmillion-URL sitemap: {len(huge) / MiB:.0f} MiB made in {made:.2f} s; refused run {took:.1f} s")
    assert second.exit_code == 1, second.output
    url = upstream.url(sitemap_path(CONGRESS, "hr"))
    line = refused_line(second.stderr, f"{CONGRESS}hr")
    assert url in line and "larger than the download size cap" in line, line
    # its size (in MB, rounded up: about 130.6, as the port's digits make it) and the setting to raise
    said = re.search(r"\((\d+\.\d) MB; \[crawl\] max_bytes is 50 MB\): not read \((.+)\)$", line)
    assert said and said.group(2) == url, line
    assert 0 <= float(said.group(1)) - len(huge) / MiB < 0.1 and len(line) < 200
    assert second.stderr.count(url) == 1 and second.stderr.count("download size cap") == 1, second.stderr
    asked = [r.path for r in replay.requests if r.path.startswith("/sitemap/")]
    assert sorted(asked) == sorted([INDEX_PATH, *(sitemap_path(CONGRESS, t) for t in ("hr", "s", "hres"))])
    # The other types were read and their BREATHE Acts stored; the House bill stored before is still there.
    assert entities(store, config) == {f"bill:hr7-{CONGRESS}", f"bill:s7-{CONGRESS}", f"bill:hres5-{CONGRESS}"}
    assert {b["title"] for b in status_json(store, config)["bills"]} == {"BREATHE Act"}

    # Run 3: nothing moved upstream, yet the House sitemap is asked for again (it was not marked read);
    # the two read whole are not. (The index is read whole too: a failed run keeps no listing validators.)
    replay.clear_log()
    third = runner.invoke(main, ["--config", config_path, "--quiet", "crawl"])
    assert third.exit_code == 1
    assert [r.path for r in replay.requests if r.path.startswith("/sitemap/")] == [
        INDEX_PATH, sitemap_path(CONGRESS, "hr")]
    assert url in refused_line(third.stderr, f"{CONGRESS}hr")
    assert entities(store, config) == {f"bill:hr7-{CONGRESS}", f"bill:s7-{CONGRESS}", f"bill:hres5-{CONGRESS}"}
