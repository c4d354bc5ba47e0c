"""The ingest workers, in their real processes: a backlog starts a second worker, and every
entity's states are still stored in the order they came."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from recorded import federal
from sqlalchemy import select

from tracker import ingestworker
from tracker import models as m
from tracker.bills.billstatus import parse_billstatus
from tracker.config import load_config
from tracker.demo.derive import billstatus_before
from tracker.records import Item, canonical_json, text_hash
from tracker.store import Store, ensure_watches

# H.R. 2471 (117th) as it stood before each of these dates, then whole: four states, each later
# one with more actions than the one before.
CUTOFFS = ["2021-04-13", "2021-08-03", "2022-03-09"]


def digest(data: bytes) -> str:
    return text_hash(canonical_json(parse_billstatus(data).dump()))


def states(number: int) -> list[bytes]:
    whole = re.sub(rb"<number>2471</number>", f"<number>{number}</number>".encode(),
                   federal("BILLSTATUS-117hr2471.xml"), count=1)
    return [billstatus_before(whole, cutoff) for cutoff in CUTOFFS] + [whole]


@pytest.mark.slow
def test_a_backlog_starts_a_second_worker_and_each_entity_stays_in_order(db_url: str, tmp_path: Path) -> None:
    config_path = tmp_path / "tracker.toml"
    config_path.write_text(f'[storage]\nurl = "{db_url}"\n[[bills]]\nid = "named"\nname = "Named"\nnumbers = [\"hr1-117\"]\n')
    config = load_config(config_path, env={})
    store = Store(db_url)
    with store.session() as session:
        ensure_watches(session, [("named", "bill", "Named")])
    ingestworker.prepare(store.url, config, {})
    numbers = range(9101, 9101 + 2 * ingestworker.SPAWN_BACKLOG)  # more entities than one backlog
    versions = {n: states(n) for n in numbers}
    futures = []
    # All at once, interleaved: far more than one worker takes before the next ones arrive.
    for step in range(len(CUTOFFS) + 1):
        for n in numbers:
            key = f"bill:hr{n}-117"
            item = Item(key=key, kind="bill", source_id="govinfo", watch_ids=("named",), content=None,
                        raw=versions[n][step], parse_with="govinfo", parser_version="test", url=None)
            futures.append(ingestworker.submit(item))
    outcomes = [future.result(timeout=120) for future in futures]
    assert not [o.error for o in outcomes if o.error]
    assert len(ingestworker.worker_pids()) == 2  # the backlog started a second worker

    with store.session() as session:
        for n in numbers:
            key = f"bill:hr{n}-117"
            entity = session.get(m.Entity, key)
            current = session.get(m.Snapshot, entity.current_snapshot_id)
            # The last state is the one kept, and the snapshots were made in the order they came.
            assert current.hash == digest(versions[n][-1])
            made = list(session.scalars(select(m.Snapshot.hash).where(m.Snapshot.entity_key == key)
                                        .order_by(m.Snapshot.id)))
            assert made == [digest(v) for v in versions[n]]
            # Each state's new actions were news: as many as the states added up.
            added = set().union(*({a["id"] for a in parse_billstatus(later).actions} - {a["id"] for a in parse_billstatus(earlier).actions}
                                  for earlier, later in zip(versions[n], versions[n][1:], strict=False)))
            news = session.scalars(select(m.Change.id).where(m.Change.entity_key == key, m.Change.kind == "bill.action"))
            assert len(list(news)) == len(added) > 0
