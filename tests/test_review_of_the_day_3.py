"""Review of the day's changes (third round): each test fails before its fix."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from servers import Mailbox
from serving import running
from sqlalchemy import select, update
from test_operator_round3 import ICS, ROOT, source_line, tracker, wait_in_flight
from test_serve import Served, start
from test_serve_attack import _traces

from tracker import clock
from tracker import models as m
from tracker.demo.replay import Fault, ReplayServer
from tracker.store import Store


@pytest.mark.timeout(300)
def test_a_live_crawl_on_this_machine_is_never_closed_as_abandoned(tmp_path: Path, replay: ReplayServer,
                                                                   sqlite_url: str) -> None:
    """On SQLite nothing heartbeats (one machine), so a run of a `tracker crawl` (which takes no run
    lock) going for over two hours (a first crawl of a large source, a slow site) had no lease and
    was not the lock holder's: cron's next `tracker run` closed it as abandoned ("its runner ...
    stopped") and `status` said so, while the process was plainly alive on this very machine, where
    its pid tells a live process from a dead one (as `mark_interrupted` reads it)."""
    replay.add("/board.ics", ICS)
    config = tmp_path / "tracker.toml"
    config.write_text(
        f'[tracker]\ntimezone = "America/Detroit"\n[storage]\nurl = "{sqlite_url}"\n[crawl]\ndelay_seconds = 0\n'
        f'[[meetings]]\nid = "board"\nname = "Board"\nical = "{replay.url}/board.ics"\n', encoding="utf-8")
    gate = threading.Event()  # the crawl's answer is held until `status` and a whole run beside it are done
    replay.set_fault("/board.ics", Fault.hold(gate))
    robots = replay.count("/robots.txt")
    env = {"PYTHONDONTWRITEBYTECODE": "1", "TRACKER_NOW": "2019-04-10T12:00:00Z"}
    crawl = subprocess.Popen([sys.executable, "-m", "tracker.cli", "--config", str(config), "crawl"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env={**{k: v for k, v in os.environ.items() if k != "TRACKER_CONFIG"}, **env}, cwd=ROOT)
    try:
        wait_in_flight(replay, crawl, robots)
        # Three hours on by the clock of the commands started now: the crawl is still going here.
        line = source_line(config, "ical:board", "2019-04-10T15:00:00Z")
        assert "abandoned" not in line and "running since" in line and f"pid {crawl.pid}" in line, line
        replay.set_fault("/board.ics", None)
        beside = tracker(config, "run", now="2019-04-10T15:00:00Z")
        assert beside.returncode == 0, beside.stderr
        assert "abandoned" not in beside.stderr
        with Store(sqlite_url).session() as session:
            first = session.execute(select(m.Run.pid, m.Run.state, m.Run.finished_at).where(
                m.Run.source_id == "ical:board").order_by(m.Run.id).limit(1)).one()
        assert tuple(first) == (crawl.pid, None, None)  # still going, still open
        gate.set()
        out, err = crawl.communicate(timeout=120)
        assert crawl.returncode == 0, out + err
    finally:
        gate.set()
        if crawl.poll() is None:
            crawl.kill()
            crawl.wait()


def test_a_sign_up_forgotten_by_notify_leaves_no_trace_in_the_sqlite_files_while_serve_runs(
        tmp_path: Path, sqlite_url: str, mailbox: Mailbox) -> None:
    """Sign-ups never confirmed are forgotten by every notify too (`cli.forget_sign_ups`; serve runs
    only now and then), but only serve's forgetting emptied the write-ahead log: with `tracker serve`
    up (its connections keep the log from being removed as the last one closes), the stranger's
    address typed into the form stayed in tracker.db-wal after cron's notify had deleted it."""
    config = start(tmp_path, sqlite_url, mailbox)
    stranger = "typed.by.a.stranger@example.org"
    with running(config) as app:
        served = Served(app, config, mailbox)
        assert served.visitor().sign_up("kept@example.org").status_code == 200
        assert served.visitor().sign_up(stranger).status_code == 200
        served.link_in(stranger, "c")
        with served.store.session() as session:  # kept@ confirmed: only the stranger is forgotten
            session.execute(update(m.Person).where(m.Person.address == "kept@example.org").values(status="active"))
        later = clock.iso_z(clock.now() + timedelta(days=10))
        notified = tracker(Path(config.path), "notify", now=later)
        assert notified.returncode == 0, notified.stderr
        assert "1 sign-up never confirmed forgotten" in notified.stdout
        assert [p[0] for p in served.people()] == ["kept@example.org"]
        assert _traces(tmp_path, stranger) == []  # serve still up, holding its connections
        assert _traces(tmp_path, "kept@example.org")


def test_every_domain_idna_reads_two_ways_is_refused_not_only_the_four_deviations(
        tmp_path: Path, sqlite_url: str, mailbox: Mailbox) -> None:
    """The refusal named four letters (ß, ς, ZWJ, ZWNJ), but Python's IDNA 2003 codec reads 787 more
    otherwise than IDNA 2008 does: a capital sharp s (`ann@STRAẞE.de`, a phone's caps lock) was
    mailed at strasse.de, a Cherokee letter as its other case. A domain both read alike (bücher.de)
    and one IDNA 2008 refuses outright (a symbol, as before) are still taken."""
    config = start(tmp_path, sqlite_url, mailbox)
    with running(config) as app:
        served = Served(app, config, mailbox)
        for n, typed in enumerate(["ann@STRA\u1e9eE.de", "ann@a\u13a0b.example.org"]):
            answer = served.visitor(forwarded_for=f"203.0.113.{n}").sign_up(typed)
            assert answer.status_code == 400 and "xn--" in answer.text, typed
        assert served.people() == []
        assert served.visitor(forwarded_for="198.51.100.3").sign_up("bo@BÜCHER.de").status_code == 200
        assert served.visitor(forwarded_for="198.51.100.4").sign_up("cy@i\u2764.ws").status_code == 200
        served.settle()
        assert sorted(p[0] for p in served.people()) == ["bo@xn--bcher-kva.de", "cy@xn--i-7iq.ws"]


def test_a_site_reached_through_nat64_is_public_and_may_not_send_the_crawler_to_this_machine() -> None:
    """On an IPv6-only machine, DNS64 answers an IPv4-only site with 64:ff9b::a.b.c.d, which Python
    calls reserved: the guard took such a source for a reserved one, let it redirect the crawler to
    0.0.0.0 (this machine, on Linux), and refused its redirect to another IPv4-only public site
    only when the source itself had a native IPv6 address."""
    from spiders.middlewares import address_kind, redirect_refusal

    public_v4_via_nat64 = address_kind("64:ff9b::808:808")  # 8.8.8.8
    assert public_v4_via_nat64 == "public"
    assert address_kind("64:ff9b::a00:1") == "private" and address_kind("64:ff9b::7f00:1") == "loopback"
    assert redirect_refusal({public_v4_via_nat64}, {"0.0.0.0": address_kind("0.0.0.0")}) == (
        "a reserved address (0.0.0.0)")
    assert redirect_refusal({address_kind("2001:4860:4860::8888")},
                            {"64:ff9b::1.1.1.1": address_kind("64:ff9b::101:101")}) is None


def test_a_cancelled_meetings_calendar_entry_does_not_say_how_to_take_part(tmp_path: Path, frozen_now: Any) -> None:
    """The calendar's DESCRIPTION said "How to take part (by 5:00 PM the day before): To testify,
    register ..." for a meeting its source called off: the front page and digest.txt leave that
    out for a cancelled meeting (nothing to testify at), and the event is STATUS:CANCELLED, yet its
    text told an organizer to register. What else it says (the agenda, the pages) stays."""
    from icalendar import Calendar
    from test_digest_round3 import MEETINGS, installation

    from tracker.digest import write_site
    from tracker.records import Document, Item, Meeting
    from tracker.store import ingest

    config, store = installation(tmp_path / "org", extra=MEETINGS)
    meeting = Meeting(source="ical", source_ref="7", body="Committee on Public Safety", title="Hearing",
                      start="2026-12-01T15:00:00+00:00", date="2026-12-01", timezone="America/New_York",
                      status="cancelled", url="https://council.example.gov/m/7",
                      documents=[Document("agenda", "https://council.example.gov/a/7.pdf", "Agenda")],
                      comment="To testify, register at https://council.example.gov/testify by 5:00 PM the day before.",
                      items=[{"key": "1", "title": "ShotSpotter contract", "keywords": ["police"]}])
    ingest(store, Item(key="meeting:ical:nyc:7", kind="meeting", source_id="ical:nyc", watch_ids=["nyc"],
                       content=meeting), lambda old, new, key: [])
    site = write_site(store, config, config.digest_dir)
    store.dispose()
    assert "register at" not in (site / "digest.txt").read_text()  # as the text digest says it
    (event,) = Calendar.from_ical((site / "meetings.ics").read_bytes()).walk("VEVENT")
    assert str(event["STATUS"]) == "CANCELLED"
    assert str(event["DESCRIPTION"]).splitlines() == [
        "Cancelled",  # said in words (test_week_walk): a calendar app may not show STATUS
        "Matching agenda items:",
        "- police: ShotSpotter contract",
        "Agenda: https://council.example.gov/a/7.pdf",
        "Meeting page: https://council.example.gov/m/7",
    ]
