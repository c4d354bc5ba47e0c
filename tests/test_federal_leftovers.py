"""Federal bills, what earlier reviews left: each test failed before its fix. Real recorded
BILLSTATUS files (tests/data/federal, tracker/demo/data/govinfo), changed only where a test says so
(labelled as derived)."""

from __future__ import annotations

import copy
import io
import subprocess
import sys
import zipfile
from pathlib import Path

from alerting import tracker_env
from lxml import etree
from recorded import federal
from statusjson import changes_json, status_json
from test_disk_full import fill, small_disk
from test_federal_crawl import path_of
from test_federal_crawl import write_config as crawl_config
from test_federal_packages import (
    BREATHE_WATCH,
    CONGRESS,
    PER_TYPE,
    Upstream,
    member,
    upstream,
    watched,
    write_config,
)

from tracker.bills.billstatus import parse_billstatus
from tracker.bills.diff import diff_bill
from tracker.config import Config
from tracker.crawl import run_crawls
from tracker.demo.derive import billstatus_before
from tracker.demo.packages import derive_bill, file_path, package_path
from tracker.demo.replay import ReplayServer
from tracker.store import Store
from tracker.views import list_changes
from tracker.words import headline

SHARED_FIXTURES = (upstream, watched, small_disk)  # the other tests' fixtures, asked for by name below
HR367 = "bill:hr367-115"
DEFAZIO = "D000191"  # withdrew from H.R. 367 on 2017-10-04 (the real file)


def rejoined(data: bytes, on: str, *, first_joined: str | None = None) -> bytes:
    """Derived: the real H.R. 367 with DeFazio rejoining on `on` (BILLSTATUS then lists him twice:
    the withdrawn sponsorship and a newer one); `first_joined` corrects his first sponsorship's date."""
    root = etree.fromstring(data)
    cosponsors = root.find("bill/cosponsors")
    assert cosponsors is not None
    old = next(i for i in cosponsors.findall("item") if i.findtext("bioguideId") == DEFAZIO)
    if first_joined:
        old.find("sponsorshipDate").text = first_joined  # type: ignore[union-attr]
    again = copy.deepcopy(old)
    again.remove(again.find("sponsorshipWithdrawnDate"))  # type: ignore[arg-type]
    again.find("sponsorshipDate").text = on  # type: ignore[union-attr]
    cosponsors.append(again)
    root.addprevious(etree.Comment(f" derived: DeFazio rejoins on {on} "))
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")


def cosponsor_news(old: bytes, new: bytes) -> list[tuple[str, str | None]]:
    """What DeFazio's changes say (others joined meanwhile in a file of an earlier day)."""
    return [(c.summary, c.occurred_at) for c in diff_bill(parse_billstatus(old), parse_billstatus(new), HR367)
            if c.kind.startswith("bill.cosponsor") and c.data["bioguide_id"] == DEFAZIO]


def test_a_cosponsor_who_withdrew_and_rejoined_is_told_rejoining() -> None:
    real = federal("BILLSTATUS-115hr367.xml")
    later = rejoined(real, "2017-11-01")
    assert cosponsor_news(real, later) == [("H.R. 367 (115th): Rep. DeFazio, Peter A. [D-OR-4] rejoined as a cosponsor",
                                            "2017-11-01")]
    # nothing new: nothing told (the withdrawal was told again before)
    assert cosponsor_news(later, later) == []
    # the alert's title says so too ("joined" before: the data did not say it was a rejoin)
    told = [c for c in diff_bill(parse_billstatus(real), parse_billstatus(later), HR367)
            if c.kind == "bill.cosponsor_added" and c.data["bioguide_id"] == DEFAZIO]
    assert headline(told, parse_billstatus(later)) == "H.R. 367: Rep. DeFazio, Peter A. [D-OR-4] rejoined as a cosponsor"


def test_a_withdrawal_and_a_rejoin_between_two_crawls_are_both_told() -> None:
    real = federal("BILLSTATUS-115hr367.xml")
    before = billstatus_before(real, "2017-10-01")  # derived: DeFazio still a cosponsor
    assert cosponsor_news(before, rejoined(real, "2017-11-01")) == [
        ("H.R. 367 (115th): Rep. DeFazio, Peter A. [D-OR-4] withdrew as a cosponsor", "2017-10-04"),
        ("H.R. 367 (115th): Rep. DeFazio, Peter A. [D-OR-4] rejoined as a cosponsor", "2017-11-01"),
    ]


def test_a_corrected_sponsorship_date_is_no_news() -> None:
    real = federal("BILLSTATUS-115hr367.xml")
    told = rejoined(real, "2017-11-01")
    assert cosponsor_news(told, rejoined(real, "2017-11-02")) == []  # the rejoin's date corrected
    assert cosponsor_news(told, rejoined(real, "2017-11-01", first_joined="2017-06-21")) == []


def test_a_package_dated_in_the_future_does_not_hide_a_files_later_update(
        watched: tuple[Config, Store], upstream: Upstream) -> None:
    """Every hr file moved; the package's members and Last-Modified say 2031 (a date no copy can
    have), while its H.R. 2 is the copy from before H.R. 2 passed the Senate. Taken as newer than the
    move, that copy was stored and the passage never told (nor read until the file moved again)."""
    config, store = watched
    run_crawls(config, store)  # the baseline
    later = derive_bill(federal("BILLSTATUS-117s35.xml"), CONGRESS, "hr", 2)  # a named bill passes the Senate
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for n in range(1, PER_TYPE + 1):
            archive.writestr(zipfile.ZipInfo(f"BILLSTATUS-{CONGRESS}hr{n}.xml", date_time=(2031, 1, 1, 0, 0, 0)),
                             member("hr", n), compress_type=zipfile.ZIP_DEFLATED)
    upstream.server.replace(package_path(CONGRESS, "hr"), out.getvalue(), last_modified="Wed, 01 Jan 2031 00:00:00 GMT")
    upstream.server.replace(file_path(CONGRESS, "hr", 2), later)
    for n in range(1, PER_TYPE + 1):
        upstream.lastmods["hr"][n] = "2026-11-19T08:00:00Z"
    upstream.index_lastmod["hr"] = "2026-11-19T08:00:00Z"
    upstream.publish()
    upstream.server.clear_log()
    (report,) = run_crawls(config, store)
    assert report.ok, report.errors
    assert file_path(CONGRESS, "hr", 2) in upstream.bill_requests()
    assert [(c["entity"], c["data"]["to"]) for c in changes_json(store) if c["kind"] == "bill.stage"] == [
        ("bill:hr2-118", "passed_senate")]


def test_a_full_disk_while_a_package_is_downloaded_stops_the_crawl_in_one_line(
        small_disk: Path, pg_url: str, upstream: Upstream) -> None:
    """The package is written beside the config (the database is PostgreSQL's) on a disk with no
    space left: that was a "truncated" package on every type, each then read file by file. It is
    one line saying the disk is full, nothing read singly, no download left behind; with space
    again, the next run reads the packages."""
    disk = small_disk  # the database is PostgreSQL: the download goes beside the config
    config = write_config(disk, upstream.server, BREATHE_WATCH, pg_url)
    fill(disk)
    upstream.server.clear_log()
    full = subprocess.run([sys.executable, "-m", "tracker.cli", "--config", str(config.path), "crawl"],
                          capture_output=True, text=True, timeout=120, env=tracker_env())
    assert full.returncode == 1
    (line,) = full.stderr.splitlines()
    assert line.startswith("tracker crawl: stopped: the disk is full ("), line
    assert upstream.bill_requests() == []  # none of the packages' files asked for one by one
    assert sorted(p.name for p in disk.iterdir()) == ["filler", "tracker.toml"]

    (disk / "filler").unlink()
    (report,) = run_crawls(config, Store(config.database_url))
    assert report.ok, report.errors
    assert "bill:hr7-118" in {b["entity"] for b in status_json(Store(config.database_url), config)["bills"]}


def without_senate_passage(data: bytes, *, passed_on: str | None = None) -> bytes:
    """Derived: the real S. 35 with its Senate passage taken out (GovInfo correcting its record),
    or, with `passed_on`, recorded on that day instead (a vote taken anew)."""
    root = etree.fromstring(data)
    for item in root.findall("bill/actions/item"):
        if "Passed Senate with an amendment" in (item.findtext("text") or ""):  # and the LOC row repeating it
            if passed_on:
                item.find("actionDate").text = passed_on  # type: ignore[union-attr]
            else:
                item.getparent().remove(item)  # type: ignore[union-attr]
    root.addprevious(etree.Comment(" derived: S. 35's Senate passage " + (f"dated {passed_on} " if passed_on else "taken out ")))
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")


def test_a_bill_whose_record_goes_back_a_stage_says_so_and_its_next_passage_is_told(
        tmp_path: Path, replay: ReplayServer) -> None:
    """S. 35 passed the Senate; then its record no longer shows the passage: that was told as news
    that it "was referred to committee" (in January), and the passage recorded again later was never
    told as a stage (its key was spent). Now the first says what the record no longer shows, the
    second is "passed the Senate" again."""
    real = federal("BILLSTATUS-117s35.xml")
    replay.add(path_of("s35-117"), billstatus_before(real, "2021-02-12"))
    config = crawl_config(tmp_path, replay, ["s35-117"])
    store = Store(config.database_url)
    run_crawls(config, store)  # the baseline: referred
    replay.replace(path_of("s35-117"), real)
    run_crawls(config, store)  # passed the Senate
    replay.replace(path_of("s35-117"), without_senate_passage(real))
    run_crawls(config, store)
    replay.replace(path_of("s35-117"), without_senate_passage(real, passed_on="2021-02-24"))
    run_crawls(config, store)
    told = [(c["summary"], c["data"]["to"]) for c in changes_json(store) if c["kind"] == "bill.stage"]
    assert told == [
        ("S. 35 (117th) passed the Senate", "passed_senate"),
        ("S. 35 (117th): the record no longer shows that it passed the Senate; as it stands, it was referred "
         "to committee", "referred"),
        ("S. 35 (117th) passed the Senate", "passed_senate"),
    ]
    (back,) = [c for c in list_changes(store) if c.kind == "bill.stage" and (c.data or {}).get("back")]
    assert headline([back], parse_billstatus(without_senate_passage(real))) == (
        "S. 35: the record no longer shows that it passed the Senate")  # an alert's title


def test_a_file_served_with_a_last_modified_in_the_future_is_still_read_when_it_changes(
        tmp_path: Path, replay: ReplayServer) -> None:
    """A server without ETags whose clock said 2031 once: that date, sent back as If-Modified-Since,
    had every later change answered 304 (S. 35's passage never read); it is not kept."""
    real = federal("BILLSTATUS-117s35.xml")
    replay.add(path_of("s35-117"), billstatus_before(real, "2021-02-12"), headers={"ETag": ""},
               last_modified="Wed, 01 Jan 2031 00:00:00 GMT")
    config = crawl_config(tmp_path, replay, ["s35-117"])
    store = Store(config.database_url)
    run_crawls(config, store)  # the baseline
    replay.replace(path_of("s35-117"), real, last_modified="Fri, 04 Dec 2026 12:00:00 GMT")  # the clock put right
    (report,) = run_crawls(config, store)
    assert report.ok and report.not_modified == 0, report
    assert [c["summary"] for c in changes_json(store) if c["kind"] == "bill.stage"] == ["S. 35 (117th) passed the Senate"]


def test_a_member_listed_twice_without_a_withdrawal_is_no_news() -> None:
    """A file listing a cosponsor twice, the first sponsorship never withdrawn (a duplicate row, or a
    corrected date kept beside the old one): the second was told "rejoined as a cosponsor", though
    the member never left (found by a review). Nothing is told."""
    real = federal("BILLSTATUS-115hr367.xml")
    root = etree.fromstring(real)
    cosponsors = root.find("bill/cosponsors")
    assert cosponsors is not None
    staying = next(i for i in cosponsors.findall("item") if i.find("sponsorshipWithdrawnDate") is None
                   or not (i.findtext("sponsorshipWithdrawnDate") or "").strip())
    twice = copy.deepcopy(staying)
    twice.find("sponsorshipDate").text = "2017-11-01"  # type: ignore[union-attr]
    cosponsors.append(twice)
    root.addprevious(etree.Comment(" derived: one cosponsor listed twice "))
    doubled = etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")
    told = [c.summary for c in diff_bill(parse_billstatus(real), parse_billstatus(doubled), HR367)
            if c.kind.startswith("bill.cosponsor")]
    assert told == [], told
