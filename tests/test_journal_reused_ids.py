"""A notifier's journal of deliveries sent but not recorded (tracker/alerts/journal.py) names rows
by id. SQLite gives the id of the newest row, once deleted, to the next row made (a person deleting
their data deletes their outbox rows): the next notify's replay must record as sent only the rows
that were sent, never a new delivery under a sent one's id, which then would never go out.

Real parts: a SQLite store, the journal as a notifier writes it, `tracker notify` as an OS process
replaying it and sending to a real HTTP receiver."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alerting import core_team, owe, record, statuses, tracker_env, write_config
from servers import Receiver
from sqlalchemy import delete, select, update

from tracker import models as m
from tracker.alerts.journal import SentJournal
from tracker.config import load_config
from tracker.store import Store

LATER = "2026-11-24T15:00:00Z"  # past the 5-minute lease of what the stopped notifier held


@pytest.fixture
def hook() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.stop()


def notify(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tracker.cli", "--config", str(config), "notify"],
                          capture_output=True, text=True, timeout=120, env={**tracker_env(), "TRACKER_NOW": LATER})


def sent_unrecorded(store: Store, row_id: int, *, stamped: bool = True) -> None:
    """Row `row_id` claimed by a notifier that sent it, could not record it, and wrote it in its
    journal (as `notifier._unrecorded` does; `stamped=False`: ids only, as a release before marks wrote it)."""
    with store.engine.begin() as conn:
        conn.execute(update(m.Delivery).where(m.Delivery.id == row_id)
                     .values(lease_owner="stopped-notifier", lease_until=m.Delivery.next_attempt_at))
        key = conn.execute(select(m.Delivery.dedupe_key).where(m.Delivery.id == row_id)).scalar_one()
    journal = SentJournal(store, store_dir(store), "stopped-notifier")
    if stamped:
        assert journal.record([(row_id, key)])
    else:
        journal.used = len(line := f"{row_id}\n".encode())
        os.pwrite(journal.fd, line, 0)  # type: ignore[arg-type]
    journal.close()


def store_dir(store: Store) -> Path:
    return Path(store.engine.url.database).parent  # type: ignore[arg-type]


def test_a_new_delivery_under_a_sent_rows_id_is_sent_not_recorded_as_sent(tmp_path: Path, hook: Receiver,
                                                                            frozen_now: Any) -> None:
    path = write_config(tmp_path, db_url=f"sqlite:///{tmp_path / 'tracker.db'}", subscribers=[core_team(hook.url)])
    config = load_config(path, env={})
    store = owe(config, bills=1)  # S. 1's four stages: rows 1-4
    newest = max(statuses_ids(store))
    sent_unrecorded(store, newest)
    with store.engine.begin() as conn:  # its subscriber's rows deleted before the next notify
        conn.execute(delete(m.Delivery).where(m.Delivery.id == newest))
    record(store, config, "referred")
    record(store, config, "passed_senate")  # S. 35 passed the Senate: owed under the freed id
    assert max(statuses_ids(store)) == newest  # SQLite gave it the sent row's id
    store.dispose()

    done = notify(path)
    assert done.returncode == 0, done.stderr
    assert "S. 35 passed the Senate" in hook.titles  # before: "recorded as sent", never sent
    assert len(hook.titles) == 4 and statuses(Store(config.database_url)) == {"sent": 4}
    assert "recorded as sent" not in done.stdout
    assert not list(tmp_path.glob("tracker.db.sent.*"))  # the journal is done with


@pytest.mark.parametrize("stamped", [True, False], ids=["stamped", "written-before-marks"])
def test_a_sent_row_in_the_journal_is_recorded_and_never_sent_again(tmp_path: Path, hook: Receiver,
                                                                    frozen_now: Any, stamped: bool) -> None:
    path = write_config(tmp_path, db_url=f"sqlite:///{tmp_path / 'tracker.db'}", subscribers=[core_team(hook.url)])
    config = load_config(path, env={})
    store = owe(config, bills=1)
    newest = max(statuses_ids(store))
    sent_unrecorded(store, newest, stamped=stamped)
    store.dispose()

    done = notify(path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == \
        "notify: 1 delivery sent earlier (the database could not record it then) recorded as sent"
    assert len(hook.titles) == 3  # the other three; the journaled one is not sent twice
    assert statuses(Store(config.database_url)) == {"sent": 4}


def statuses_ids(store: Store) -> list[int]:
    with store.session() as session:
        return list(session.scalars(select(m.Delivery.id)))
