"""A newcomer's first minutes (issue 23, "Newcomer edges"), each as they meet it on the real command
line in its own process: a sample config to start from and a not-found error that says how; a
`config check` that warns when nobody will hear anything; the values apprise, HTTP and the CLI used
to print raw (`<AppriseResult ...>`, `Invalid ~From~ email specified`, a scheme asked of
`mailto:a@b.org`, a bare "HTTP 404" for a bill that does not exist) said in words; `changes --kind`
refusing a kind that matches nothing as the config does; every problem of one subscriber reported.

The demo's ending and the docs/cli.md examples are tested in the second half of this file."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tracker.changes import KINDS
from tracker.demo.replay import ReplayServer

ROOT = Path(__file__).resolve().parent.parent
NOW = "2026-11-24T14:00:00Z"

WATCH = """
[tracker]
timezone = "America/New_York"
[[bills]]
id = "eqia"
name = "Ending Qualified Immunity Act"
numbers = ["hr1470-117"]
"""


def tracker(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`tracker ARGS` in its own process, in `cwd`, with the clock set and no config from outside."""
    environ = {**os.environ, "TRACKER_NOW": NOW, **(env or {})}
    environ.pop("TRACKER_CONFIG", None)
    return subprocess.run([sys.executable, "-m", "tracker.cli", *args], cwd=cwd, env=environ,
                          capture_output=True, text=True, timeout=120)


def errors(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line.removeprefix("error: ") for line in result.stderr.splitlines() if line.strip()]


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port nothing listens on (bound, never listening): connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


# -- a config to start from ------------------------------------------------------------------------


def test_a_missing_config_says_how_to_write_one(tmp_path: Path) -> None:
    result = tracker(tmp_path, "status")
    assert result.returncode == 2
    assert errors(result) == ["config/tracker.toml: config file not found: `tracker config init` writes the "
                              "sample config there to edit"]
    named = tracker(tmp_path, "--config", "mine/tracker.toml", "status")
    assert errors(named) == ["mine/tracker.toml: config file not found: `tracker config init mine/tracker.toml` "
                             "writes the sample config there to edit"]


def test_config_init_writes_the_sample_config_and_never_overwrites(tmp_path: Path) -> None:
    result = tracker(tmp_path, "config", "init")
    assert result.returncode == 0, result.stderr
    written = tmp_path / "config" / "tracker.toml"
    # the one sample: the file the repo keeps at config/tracker.toml, byte for byte
    assert written.read_bytes() == (ROOT / "config" / "tracker.toml").read_bytes()
    assert result.stdout.splitlines()[0].startswith("config/tracker.toml: written: the sample config")
    assert "config check" in result.stdout.splitlines()[-1]
    assert tracker(tmp_path, "config", "check").returncode == 0  # it runs as it is

    written.write_text(WATCH)  # the organizer's own edits...
    again = tracker(tmp_path, "config", "init")
    assert again.returncode == 2
    assert errors(again) == ["config/tracker.toml: already exists; not overwritten (edit it, or name another file: "
                             "tracker config init PATH)"]
    assert written.read_text() == WATCH  # ...are kept

    other = tracker(tmp_path, "config", "init", "elsewhere/my.toml")
    assert other.returncode == 0 and (tmp_path / "elsewhere" / "my.toml").read_bytes() == (
        ROOT / "config" / "tracker.toml").read_bytes()
    assert "--config elsewhere/my.toml config check" in other.stdout


# -- config check: nobody will hear anything -------------------------------------------------------


def test_config_check_warns_when_nobody_will_hear_anything(tmp_path: Path) -> None:
    (tmp_path / "tracker.toml").write_text(WATCH)
    result = tracker(tmp_path, "--config", "tracker.toml", "config", "check")
    assert result.returncode == 0 and result.stderr == ""
    assert [line for line in result.stdout.splitlines() if line.startswith("warning:")] == [
        "warning: no [[subscribers]]: changes are recorded and shown in the digest, but nobody is alerted",
        "warning: no [operator] notify: nobody is told when a source keeps failing or a run is stuck",
    ]
    assert tracker(tmp_path, "--config", "tracker.toml", "--quiet", "config", "check").stdout == ""

    (tmp_path / "tracker.toml").write_text(WATCH + '[operator]\nnotify = ["json://127.0.0.1:9/ops"]\n'
                                           '[[subscribers]]\nid = "team"\nnotify = ["json://127.0.0.1:9/team"]\n')
    heard = tracker(tmp_path, "--config", "tracker.toml", "config", "check")
    assert heard.returncode == 0 and "warning:" not in heard.stdout, heard.stdout
    (tmp_path / "tracker.toml").write_text(WATCH + '[[subscribers]]\nid = "team"\nnotify = ["json://127.0.0.1:9/t"]\n'
                                           "paused = true\n")
    paused = tracker(tmp_path, "--config", "tracker.toml", "config", "check")
    assert "warning: every subscriber is paused: nobody is alerted" in paused.stdout.splitlines()


# -- every problem of a subscriber -----------------------------------------------------------------


def test_every_problem_of_one_subscriber_is_reported(tmp_path: Path) -> None:
    (tmp_path / "tracker.toml").write_text(WATCH + '[[subscribers]]\nid = "team"\nnotify = ["json://127.0.0.1:9/t"]\n'
                                           'kinds = ["meting.*", "bill.stage", "bil.action"]\ndistrict = 7\n'
                                           'state_house_district = "5th Suffolk"\n')
    result = tracker(tmp_path, "--config", "tracker.toml", "config", "check")
    assert result.returncode == 2
    known = ", ".join(KINDS)
    assert sorted(errors(result)) == sorted([
        f"tracker.toml: subscribers[team].kinds: 'meting.*' matches no change kind (the kinds: {known})",
        f"tracker.toml: subscribers[team].kinds: 'bil.action' matches no change kind (the kinds: {known})",
        "tracker.toml: subscribers[team].district: `district` needs `state`",
        "tracker.toml: subscribers[team].state_house_district: `state_house_district` needs `state`",
    ])
    # a wrong state is one problem, not also one for each district that needs it
    (tmp_path / "tracker.toml").write_text(WATCH + '[[subscribers]]\nid = "team"\nnotify = ["json://127.0.0.1:9/t"]\n'
                                           'state = "ZZ"\ndistrict = 7\nmode = "hourly"\n')
    lines = errors(tracker(tmp_path, "--config", "tracker.toml", "config", "check"))
    assert len(lines) == 2, lines
    assert lines[0].startswith("tracker.toml: subscribers[team].mode: ")
    assert lines[1].startswith("tracker.toml: subscribers[team].state: unknown state 'ZZ'")


def test_changes_kind_refuses_a_kind_that_matches_nothing(tmp_path: Path) -> None:
    (tmp_path / "tracker.toml").write_text(WATCH)
    result = tracker(tmp_path, "--config", "tracker.toml", "changes", "--kind", "meting.*")
    assert result.returncode == 2 and result.stdout == ""
    assert errors(result) == [f"--kind 'meting.*' matches no change kind (the kinds: {', '.join(KINDS)})"]
    for good in ("meeting.*", "bill.cosponsor_*", "agenda.item_added"):
        assert tracker(tmp_path, "--config", "tracker.toml", "changes", "--kind", good).returncode == 0


# -- raw values into words -------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "expected"), [
    ("mailto:a@b.org", "a 'mailto:' mail link is not an apprise URL: apprise needs the mail server to send "
                       "through, like 'mailtos://smtp.example.org?to=you@example.org' (its login, if any, as "
                       "user:password@ before the host)"),
    ("a@b.org", "a mail address is not an apprise URL: apprise needs the mail server to send through, like "
                "'mailtos://smtp.example.org?to=you@example.org' (its login, if any, as user:password@ before "
                "the host)"),
    ("json:127.0.0.1/hook", "'json:' needs two slashes: apprise URLs are written 'json://...'"),
    ("mailtos://alerts:pw@127.0.0.1:2525?from=nobody&to=team@example.org",
     "the sender's mail address is not valid (apprise makes it from the URL's user and host, or from=): "
     "set from= to a whole address, like from=alerts@example.org"),
    ("mailto://127.0.0.1:2525?to=team@example.org",
     "the sender's mail address is not valid (apprise makes it from the URL's user and host, or from=): "
     "add from= with an address, like from=alerts@example.org"),
])
def test_an_apprise_url_problem_is_said_in_words(tmp_path: Path, url: str, expected: str) -> None:
    (tmp_path / "tracker.toml").write_text(WATCH + f'[[subscribers]]\nid = "team"\nnotify = ["{url}"]\n')
    result = tracker(tmp_path, "--config", "tracker.toml", "config", "check")
    assert result.returncode == 2
    assert errors(result) == [f"tracker.toml: subscribers[team].notify[0]: {expected}"]
    assert "~" not in result.stderr and "b.org" not in result.stderr  # no apprise marks; the address not echoed


def test_notify_test_says_why_a_target_failed_in_words(tmp_path: Path, closed_port: int) -> None:
    hook = f"json://127.0.0.1:{closed_port}/hook"
    mail = f"mailto://alerts:pw@127.0.0.1:{closed_port}?from=alerts@example.org&to=team@example.org"
    (tmp_path / "tracker.toml").write_text(WATCH + f'[[subscribers]]\nid = "team"\nnotify = ["{hook}", "{mail}"]\n')
    result = tracker(tmp_path, "--config", "tracker.toml", "notify", "--test", "team")
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert lines == [
        f"json://127.0.0.1:{closed_port}/…: failed: the service refused the message or could not be reached: "
        "A Connection error occurred sending JSON notification to 127.0.0.1",
        f"mailto://127.0.0.1:{closed_port}/… to team@example.org: failed: the service refused the message or could "
        'not be reached: Connection error while submitting email to "127.0.0.1"',
    ], result.stderr
    assert "AppriseResult" not in result.stdout + result.stderr


def test_a_bill_govinfo_does_not_have_is_said_in_words(tmp_path: Path, replay: ReplayServer) -> None:
    """A typo in a bill number (H.R. 99999 of the 117th Congress): GovInfo answers 404."""
    (tmp_path / "tracker.toml").write_text(
        f'[crawl]\ndelay_seconds = 0\n[sources.govinfo]\nbase_url = "{replay.url}"\n'
        '[[bills]]\nid = "typo"\nname = "A typo"\nnumbers = ["hr99999-117"]\n')
    result = tracker(tmp_path, "--config", "tracker.toml", "crawl")
    assert result.returncode == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith("govinfo: bill hr99999-117: HTTP 404: GovInfo has no H.R. 99999 of the 117th Congress: "
                           "check the bill's number and Congress in the config"), line
