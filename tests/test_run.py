"""`tracker run` end to end, source-health alerts to the operator, and secrets in logs."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from recorded import federal
from servers import Receiver

from tracker.cli import main
from tracker.demo.replay import Fault, ReplayServer

S35 = "/bulkdata/BILLSTATUS/117/s/BILLSTATUS-117s35.xml"
TOKEN = "tok-Sekret-4242"


@pytest.fixture
def hook() -> Iterator[tuple[int, list[dict[str, Any]]]]:
    """A webhook on loopback, recording what it is sent."""
    receiver = Receiver()
    yield receiver.port, receiver.posts
    receiver.server.shutdown()


def write(tmp_path: Path, replay: ReplayServer, port: int) -> Path:
    path = tmp_path / "tracker.toml"
    path.write_text(f"""
[crawl]
delay_seconds = 0
retries = 0
[sources.govinfo]
base_url = "{replay.url}"
[operator]
notify = ["json://127.0.0.1:{port}/ops?token=${{OPS_TOKEN}}"]
failures_before_alert = 2
[[bills]]
id = "police"
name = "Police"
numbers = ["s35-117"]
""")
    return path


def test_run_crawls_notifies_and_writes_the_digest(tmp_path: Path, replay: ReplayServer, hook: Any) -> None:
    port, posts = hook
    replay.add(S35, federal("BILLSTATUS-117s35.xml"))
    path = write(tmp_path, replay, port)
    result = CliRunner().invoke(main, ["--config", str(path), "run"], env={"OPS_TOKEN": TOKEN})
    assert result.exit_code == 0, result.stderr
    assert "govinfo: ok; 1 item," in result.stdout and "notify: 0 sent" in result.stdout
    assert (tmp_path / "site" / "index.html").exists() and (tmp_path / "site" / "changes.atom").exists()
    quiet = CliRunner().invoke(main, ["--config", str(path), "--quiet", "run"], env={"OPS_TOKEN": TOKEN})
    assert (quiet.exit_code, quiet.stdout, quiet.stderr) == (0, "", "")
    assert posts == []  # a healthy source does not bother the operator


def test_failing_source_alerts_the_operator_once_then_recovery_once(
    tmp_path: Path, replay: ReplayServer, hook: Any, caplog: pytest.LogCaptureFixture
) -> None:
    port, posts = hook
    replay.add(S35, b"", fault=Fault.status(500))
    path = write(tmp_path, replay, port)
    runner = CliRunner()
    env = {"OPS_TOKEN": TOKEN}
    codes = [runner.invoke(main, ["--config", str(path), "run"], env=env).exit_code for _ in range(3)]
    assert codes == [1, 1, 1]
    assert [p["title"] for p in posts] == ["tracker: source govinfo is failing"]
    assert "failed 2 runs in a row" in posts[0]["message"] and "HTTP 500" in posts[0]["message"]
    replay.set_fault(S35, None)
    replay.replace(S35, federal("BILLSTATUS-117s35.xml"))
    assert runner.invoke(main, ["--config", str(path), "run"], env=env).exit_code == 0
    runner.invoke(main, ["--config", str(path), "run"], env=env)
    assert [p["title"] for p in posts] == ["tracker: source govinfo is failing", "tracker: source govinfo recovered"]
    status = json.loads(runner.invoke(main, ["--config", str(path), "status", "--json"], env=env).stdout)
    assert status["sources"][0]["ok"] is True and status["sources"][0]["consecutive_failures"] == 0


def test_secrets_never_reach_logs_or_output(tmp_path: Path, replay: ReplayServer, hook: Any,
                                            caplog: pytest.LogCaptureFixture) -> None:
    """A token in a source URL is masked in Scrapy's own log lines, error lines and stored rows."""
    port, _ = hook
    replay.add(S35, b"", fault=Fault.status(404))
    path = write(tmp_path, replay, port)
    path.write_text(path.read_text().replace(f'base_url = "{replay.url}"', f'base_url = "{replay.url}"\n'
                                             '[sources.congress_gov]\napi_key = "${OPS_TOKEN}"'))
    # A GovInfo mirror that wants a key in the query: Scrapy logs the full URL of every request.
    text = path.read_text().replace(f'base_url = "{replay.url}"\n[sources.congress_gov]',
                                    f'base_url = "{replay.url}/?api_key=${{OPS_TOKEN}}&x="\n[sources.congress_gov]')
    path.write_text(text)
    caplog.set_level(logging.DEBUG)
    result = CliRunner().invoke(main, ["--config", str(path), "--verbose", "crawl"], env={"OPS_TOKEN": TOKEN})
    assert result.exit_code == 1
    everything = result.stdout + result.stderr + caplog.text
    assert "api_key=***" in everything
    assert TOKEN not in everything
    import sqlite3

    with sqlite3.connect(tmp_path / "tracker.db") as db:
        for (table,) in db.execute("select name from sqlite_master where type='table'"):
            for row in db.execute(f"select * from {table}"):
                assert TOKEN not in repr(row), table
