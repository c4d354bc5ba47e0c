"""The congress-legislators source (spiders/legislators.py) switched off: `[sources.legislators]
enabled = false`. Through the real engine against the loopback server, a real SMTP receiver and the
CLI's `config check`."""

from __future__ import annotations

from pathlib import Path

from alerting import write_config
from click.testing import CliRunner
from recorded import federal, serve_legislators
from servers import Mailbox
from sqlalchemy import select
from statusjson import status_json

from tracker import models as m
from tracker.alerts.notifier import notify
from tracker.cli import main
from tracker.config import Config, load_config
from tracker.contacts import LEGISLATOR_FILES, reference_key
from tracker.crawl import run_crawls
from tracker.demo.derive import billstatus_before
from tracker.demo.replay import ReplayServer
from tracker.store import Store

S35 = "/bulkdata/BILLSTATUS/117/s/BILLSTATUS-117s35.xml"


def boston_config(folder: Path, replay: ReplayServer, mailbox: Mailbox, legislators: str) -> Config:
    """A Boston organizer (MA-7) following S. 35, with `legislators` as `[sources.legislators]`."""
    path = write_config(folder, subscribers=[{
        "id": "boston", "state": "MA", "district": 7,
        "notify": [f"mailto://127.0.0.1:{mailbox.port}?smtp=127.0.0.1&from=tracker@example.org&to=organizer@example.org"]}],
        extra=f'[crawl]\ndelay_seconds = 0\n[sources.govinfo]\nbase_url = "{replay.url}"\n[sources.legislators]\n{legislators}\n')
    return load_config(path, env={})


def test_switched_off_it_is_neither_fetched_nor_used(tmp_path: Path, replay: ReplayServer, mailbox: Mailbox,
                                                     frozen_now: object) -> None:
    """Members of Congress were read while the source was on; switched off, nothing is asked of it,
    `config check` and `status` say so, and S. 35's alert names no member from the directory (not
    even from the copy stored before): only the sponsor the bill's own file names."""
    real = federal("BILLSTATUS-117s35.xml")
    replay.add(S35, billstatus_before(real, "2021-02-12"))  # derived: before it passed the Senate
    config = boston_config(tmp_path, replay, mailbox, f'base_url = "{serve_legislators(replay)}"')
    path = config.path
    store = Store(config.database_url)
    assert [r.source_id for r in run_crawls(config, store)] == ["govinfo", "legislators"]
    with store.session() as session:  # stored while it was on
        keys = set(session.scalars(select(m.Entity.key).where(m.Entity.kind == "reference")))
    assert keys == {reference_key(name) for name in LEGISLATOR_FILES}

    config = boston_config(tmp_path, replay, mailbox,
                           f'base_url = "{replay.url}/congress-legislators"\nenabled = false')
    checked = CliRunner().invoke(main, ["--config", str(path), "config", "check"])
    assert checked.exit_code == 0, checked.output
    assert "sources: govinfo, legislators (switched off)" in checked.output.splitlines()

    replay.replace(S35, real)
    frozen_now("2026-11-26T14:00:00Z")  # type: ignore[operator]  # a day on: the files would be due again
    replay.clear_log()
    reports = run_crawls(config, store)
    assert [r.source_id for r in reports] == ["govinfo"] and reports[0].ok and reports[0].changes
    assert not [r for r in replay.requests if r.path.startswith("/congress-legislators/")]
    assert [s["id"] for s in status_json(store, config)["sources"]] == ["govinfo"]

    assert notify(store, config).sent == 1
    ((_rcpt, mail),) = mailbox.messages
    part = mail.get_payload(0) if mail.is_multipart() else mail
    text = part.get_payload(decode=True).decode()
    assert mail["Subject"] == "S. 35 passed the Senate"
    # Nobody from the switched-off directory: no senators or representative, no phone; the sponsor
    # still comes from the bill's own BILLSTATUS file, as plain words.
    assert "Warren" not in text and "Pressley" not in text and "Markey" not in text
    contact = text.split("Who to contact:", 1)[1].split("\n--", 1)[0]
    assert [line for line in contact.splitlines() if line.strip()] == [
        "- Sponsor: Sen. Chris Van Hollen (D-MD)"]
