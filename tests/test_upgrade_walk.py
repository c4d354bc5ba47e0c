"""An installation upgraded in place: what the older release left in the database and beside it is
read by the new code as that release meant it. Each test here failed before its fix.

Real parts: a SQLite store, files as the older release wrote them, `tracker notify` as an OS
process sending to a real HTTP receiver. `test_the_walk_from_the_previous_release` (slow) runs a
checkout of the older release itself, as its own processes, against the same database and folder,
then this one; it runs when TRACKER_PREVIOUS_RELEASE names that checkout, with its own venv:

    git worktree add ../tracker-previous 7eb60a0
    (cd ../tracker-previous && python3 -m venv .venv && .venv/bin/pip install -q -e .)
    TRACKER_PREVIOUS_RELEASE=../tracker-previous pytest tests/test_upgrade_walk.py

(its own venv: an editable install of this checkout would lend the older code these templates)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alerting import core_team, owe, record, statuses, write_config
from servers import Receiver
from sqlalchemy import delete, select, update
from test_journal_reused_ids import notify, statuses_ids, store_dir

from tracker import models as m
from tracker.alerts.journal import SentJournal
from tracker.config import load_config
from tracker.store import Store

WRITTEN = "2026-11-24T14:00:00Z"  # the older notifier's journal, written as it stopped
LATER = "2026-11-24T14:30:00Z"  # a change found after, by the upgraded release's first run


@pytest.fixture
def hook() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.stop()


def journal_of_ids_alone(store: Store, row_id: int, at: str) -> Path:
    """Row `row_id` sent and not recorded by a notifier of the older release, which wrote the
    journal as it did: ids alone (no mark of the row's dedupe key), the file last written at `at`."""
    with store.engine.begin() as conn:
        conn.execute(update(m.Delivery).where(m.Delivery.id == row_id)
                     .values(lease_owner="stopped-notifier", lease_until=m.Delivery.next_attempt_at))
    journal = SentJournal(store, store_dir(store), "stopped-notifier")
    journal.used = len(line := f"{row_id}\n".encode())
    os.pwrite(journal.fd, line, 0)  # type: ignore[arg-type]
    journal.close()
    stamp = datetime.fromisoformat(at).astimezone(UTC).timestamp()
    os.utime(journal.path, (stamp, stamp))
    return journal.path


def test_an_older_releases_journal_is_not_replayed_onto_a_delivery_made_after_it(
        tmp_path: Path, hook: Receiver, frozen_now: Any) -> None:
    """The older release's journal names rows by id alone. Between its notifier stopping and the
    upgraded release's first notify, a subscriber deleted their data (serve kept running through
    the upgrade) and SQLite gave the freed id to the next delivery made: the replay recorded that
    new delivery as sent, and it was never sent ("nothing owed is lost" broken). A row made after
    the journal's last write is not one its notifier sent: now it is sent."""
    path = write_config(tmp_path, db_url=f"sqlite:///{tmp_path / 'tracker.db'}", subscribers=[core_team(hook.url)])
    config = load_config(path, env={})
    frozen_now(WRITTEN)
    store = owe(config, bills=1)  # S. 1's four stages: rows 1-4
    newest = max(statuses_ids(store))
    journal_of_ids_alone(store, newest, WRITTEN)
    with store.engine.begin() as conn:  # its subscriber's rows deleted before the next notify
        conn.execute(delete(m.Delivery).where(m.Delivery.id == newest))
    frozen_now(LATER)
    record(store, config, "referred")
    record(store, config, "passed_senate")  # S. 35 passed the Senate: owed under the freed id
    assert max(statuses_ids(store)) == newest
    store.dispose()

    done = notify(path)
    assert done.returncode == 0, done.stderr
    assert "S. 35 passed the Senate" in hook.titles  # before: "recorded as sent", never sent
    assert len(hook.titles) == 4 and statuses(Store(config.database_url)) == {"sent": 4}
    assert not list(tmp_path.glob("tracker.db.sent.*"))


def test_an_older_releases_journal_still_records_what_it_sent(tmp_path: Path, hook: Receiver,
                                                              frozen_now: Any) -> None:
    """The row the older notifier did send is recorded, not sent again."""
    path = write_config(tmp_path, db_url=f"sqlite:///{tmp_path / 'tracker.db'}", subscribers=[core_team(hook.url)])
    config = load_config(path, env={})
    frozen_now(WRITTEN)
    store = owe(config, bills=1)
    newest = max(statuses_ids(store))
    journal_of_ids_alone(store, newest, WRITTEN)
    store.dispose()

    done = notify(path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == \
        "notify: 1 delivery sent earlier (the database could not record it then) recorded as sent"
    assert len(hook.titles) == 3
    assert statuses(Store(config.database_url)) == {"sent": 4}


# -- the walk: the previous release's own processes, then this one's, on one database and folder ---------

PREVIOUS = os.environ.get("TRACKER_PREVIOUS_RELEASE")  # a checkout of it (`git worktree add`) with its own .venv
ICS = "ics/detroit_k12_board_of_education.ics"  # 16 meetings in the window on 10 April 2019


def tracker_of(root: Path, config: Path, *args: str, now: str) -> subprocess.CompletedProcess[str]:
    """`tracker` as the release checked out at `root` runs it (its own venv, its own templates)."""
    return subprocess.run(walk_command(root, config, *args), capture_output=True, text=True, timeout=180,
                          env=walk_env(root, now), cwd=root)


def walk_command(root: Path, config: Path, *args: str) -> list[str]:
    python = root / ".venv" / "bin" / "python"
    return [str(python if python.exists() else sys.executable), "-m", "tracker.cli", "--config", str(config), *args]


def walk_env(root: Path, now: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "TRACKER_NOW": now, "PYTHONPATH": str(root)}
    env.pop("TRACKER_CONFIG", None)
    return env


def stored_validators(db_url: str) -> set[str]:
    store = Store(db_url)
    with store.session() as session:
        found = set(session.scalars(select(m.HttpValidator.url_hash)))
    store.dispose()
    return found


def entry_ids(atom: Path) -> list[str]:
    return re.findall(r"<entry>.*?<id>([^<]*)</id>", atom.read_text(), re.S)


def events(ics: Path) -> dict[str, str]:
    """Each event's UID and SEQUENCE."""
    text = ics.read_text().replace("\r\n ", "")
    return dict(re.findall(r"UID:(\S+)\r?\n(?:.*\r?\n)*?SEQUENCE:(\d+)", text))


@pytest.mark.slow
@pytest.mark.skipif(PREVIOUS is None, reason="TRACKER_PREVIOUS_RELEASE names no checkout of the previous release")
def test_the_walk_from_the_previous_release(tmp_path: Path, db_url: str, hook: Receiver) -> None:
    """The previous release crawls a school board's feed, alerts a team whose webhook is down
    (deliveries owed), writes the digest twice (a meeting cancelled in between: one entry readers
    have seen), and is killed (-9) mid-crawl. This release then upgrades the database and runs:
    the owed alerts go out once, the killed run is closed as interrupted and is no failure of the
    source, the stored validators still ask (304), the feed's entry keeps its id over several
    digests, the calendar's UIDs and SEQUENCEs stay."""
    from recorded import local

    from tracker.demo.replay import Fault, serve

    old, new = Path(PREVIOUS or ".").resolve(), Path(__file__).resolve().parent.parent
    with serve() as replay:
        listing = local(ICS)
        cancelled = listing.replace(b"SUMMARY:", b"SUMMARY:CANCELLED ", 1)
        replay.add("/board.ics", listing)
        config = tmp_path / "tracker.toml"
        config.write_text(
            f'[tracker]\ntimezone = "America/Detroit"\n[storage]\nurl = "{db_url}"\n[crawl]\ndelay_seconds = 0\n'
            '[digest]\nout = "site"\n'
            f'[[meetings]]\nid = "board"\nname = "Detroit Board of Education"\nical = "{replay.url}/board.ics"\n'
            f'[[subscribers]]\nid = "team"\nnotify = ["{hook.url}"]\nfollow = ["board"]\n', encoding="utf-8")
        hook.status = 503  # the team's webhook is down while the old release alerts
        for args, now in ((["run"], "2019-04-10T12:00:00Z"), (["digest"], "2019-04-10T12:00:00Z")):
            done = tracker_of(old, config, *args, now=now)
            assert done.returncode == 0, done.stderr
        replay.replace("/board.ics", cancelled)
        done = tracker_of(old, config, "run", now="2019-04-10T13:00:00Z")
        assert "will retry" in done.stdout and not hook.titles
        seen = entry_ids(tmp_path / "site" / "changes.atom")
        calendar = events(tmp_path / "site" / "meetings.ics")
        assert len(seen) == 1 and len(calendar) >= 10 and "1" in calendar.values()
        replay.add("/board.ics", cancelled, fault=Fault.delay(30))
        crawl = subprocess.Popen(walk_command(old, config, "run"), env=walk_env(old, "2019-04-10T14:00:00Z"), cwd=old,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(6)
        crawl.send_signal(signal.SIGKILL)
        crawl.wait()
        twice = cancelled.replace(b"SUMMARY:D", b"SUMMARY:CANCELLED D", 1)  # found by this release's first run
        replay.add("/board.ics", twice)
        hook.status = 200
        validators = stored_validators(db_url)
        assert validators

        now = "2019-04-10T15:00:00Z"
        assert tracker_of(new, config, "db", "upgrade", now=now).returncode == 0
        check = tracker_of(new, config, "status", "--check", now=now)
        assert check.returncode == 0 and check.stdout.strip() == "ok", check.stdout
        done = tracker_of(new, config, "run", now=now)
        assert done.returncode == 0, done.stderr
        # a release whose parser reads otherwise takes its first reading as a baseline (0 changes)
        found = int(re.findall(r"(\d+) changes?\b", done.stdout)[0])
        assert f"{1 + found} sent" in done.stdout and len(hook.titles) == 1 + found  # what was owed, once
        assert stored_validators(db_url) == validators | stored_validators(db_url)  # kept, asked with anew
        for _ in range(2):
            assert tracker_of(new, config, "digest", now=now).returncode == 0
            ids = entry_ids(tmp_path / "site" / "changes.atom")
            assert ids[found:] == seen  # readers see nothing twice
            assert not any(i.startswith("tag:tracker,2026:change/") for i in ids[:found])  # its own ids
            shown = events(tmp_path / "site" / "meetings.ics")
            # the meeting cancelled since (one more SEQUENCE, even where its parser's first reading told no news)
            moved = {uid for uid in calendar if shown.get(uid) != calendar[uid]}
            assert len(moved) <= 1 and all(int(shown[uid]) == int(calendar[uid]) + 1 for uid in moved), (calendar, shown)
            assert shown.keys() == calendar.keys()
        replay.add("/board.ics", twice)
        done = tracker_of(new, config, "run", now="2019-04-10T16:00:00Z")
        assert "1 unchanged (304)" in done.stdout and len(hook.titles) == 1 + found, done.stdout
        status = tracker_of(new, config, "status", now=now)
        assert "source ical:board: ok" in status.stdout and "abandoned" not in status.stdout
        store = Store(db_url)
        with store.session() as session:
            states = list(session.scalars(select(m.Run.state).where(m.Run.finished_at.is_not(None))))
            assert "interrupted" in states
            assert session.scalar(select(m.Run.id).where(m.Run.finished_at.is_(None))) is None
        store.dispose()


@pytest.mark.slow
def test_status_says_a_killed_run_of_this_machine_was_interrupted_as_the_next_run_closes_it(
        tmp_path: Path, db_url: str) -> None:
    """The previous release's crawl killed (-9) on this machine left its Run row open, as that
    release wrote it (no heartbeat: it had none). `tracker status` said it "was abandoned (pid P on
    HOST stopped, no heartbeat)", words for a machine that died, and on SQLite, which never beats,
    the heartbeat meant nothing; the next run then closed it as interrupted. Now status says so."""
    from test_operator_round3 import tracker

    from tracker.runs import start_runs

    config = tmp_path / "tracker.toml"
    config.write_text(f'[storage]\nurl = "{db_url}"\n[[meetings]]\nid = "board"\nname = "Board"\n'
                      'ical = "http://127.0.0.1:9/board.ics"\n', encoding="utf-8")
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    store = Store(db_url)
    (report,) = start_runs(store, [("ical:board", ["board"])])
    with store.session() as session:  # as a killed process of the previous release left it
        session.execute(update(m.Run).where(m.Run.id == report.run_id).values(pid=int(ended.stdout)))
    store.dispose()
    status = tracker(config, "status")
    assert status.returncode == 0, status.stderr
    line = next(line for line in status.stdout.splitlines() if line.startswith("source ical:board"))
    assert f"was interrupted (pid {int(ended.stdout)} on {socket.gethostname()} ended): the next run closes it" in line
    assert "heartbeat" not in line
    assert tracker(config, "status", "--check").stdout.strip() == "ok"


def test_a_digest_written_before_news_marks_lends_its_old_ids_only_to_what_it_showed(
        tmp_path: Path, frozen_now: Any) -> None:
    """A release before news marks (before 2 December 2026) recorded only when its digest was
    written. The upgraded release's first `tracker run` crawls before it writes the digest: the
    changes that crawl found were given the old shared ids too (every change up to the newest at
    that moment), ids another installation's feed also uses, so a reader holding both hid one.
    Now only the changes detected by the time of that last write keep the old ids."""
    from test_digest_round3 import bill_change, feed_ids, installation

    from tracker.digest import write_site
    from tracker.health import DIGEST_STATE

    frozen_now("2026-11-30T12:00:00Z")
    config, store = installation(tmp_path / "org")
    for n in range(3):  # a baseline, then changes 1 and 2, which the old digest showed
        bill_change(store, f"title {n}", n)
    with store.session() as session:  # the `digest` state row as that release wrote it
        session.add(m.SourceState(source_id=DIGEST_STATE, alerted_failing=False, cursor={
            "attempted_at": "2026-11-30T12:00:00Z", "error": None, "skipped": [], "skipped_count": 0,
            "written_at": "2026-11-30T12:00:00Z"}))
    frozen_now("2026-12-05T06:00:00Z")  # upgraded; its first run finds change 3, then writes the digest
    bill_change(store, "title 3", 3)
    _, ids = feed_ids(write_site(store, config, config.digest_dir))
    assert ids[1:] == ["tag:tracker,2026:change/2", "tag:tracker,2026:change/1"]
    assert ids[0] != "tag:tracker,2026:change/3" and ids[0].endswith("/change/3")
    store.dispose()
