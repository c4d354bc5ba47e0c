"""A new operator's first day, followed from the README on loopback stand-ins: each test here failed
before its fix."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tracker.demo.replay import ReplayServer

ROOT = Path(__file__).resolve().parent.parent


def tracker(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("TRACKER_CONFIG", None)
    return subprocess.run([sys.executable, "-m", "tracker.cli", "--config", str(config), *args],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)


@pytest.mark.slow
def test_digest_txt_says_which_sources_fail_and_which_watches_hold_nothing_yet(
        tmp_path: Path, replay: ReplayServer, db_url: str) -> None:
    """A first run whose council feed answers 404 and whose title watch found nothing: index.html
    says "failing" under Sources and "Now tracking; nothing fetched yet." under the campaign, but
    digest.txt (which the README says "says the same in words") showed the campaign's heading with
    nothing under it and no source at all, so its reader took "Nothing new" for a quiet day."""
    config = tmp_path / "tracker.toml"
    config.write_text(
        f'[storage]\nurl = "{db_url}"\n[crawl]\ndelay_seconds = 0\n'
        f'[sources.govinfo]\nbase_url = "{replay.url}"\n'
        '[[bills]]\nid = "breathe"\nname = "The BREATHE Act"\ntitles = ["BREATHE Act"]\n'
        f'[[meetings]]\nid = "council"\nname = "City Council"\nical = "{replay.url}/council.ics"\n',
        encoding="utf-8")
    run = tracker(config, "run")
    assert run.returncode == 1, run.stderr
    assert "ical:council" in run.stderr
    text = (tmp_path / "site" / "digest.txt").read_text(encoding="utf-8")
    campaign = text.split("== The BREATHE Act ==", 1)[1].split("==", 1)[0]
    assert "Now tracking; nothing fetched yet." in campaign
    sources = text.split("== Sources ==", 1)[1]
    council = next(line for line in sources.splitlines() if line.startswith("- ical:council:"))
    assert "last success never; failing (1 run)" in council and "HTTP 404" in council
    assert "Alerts: 0 sent" in sources


@pytest.mark.slow
def test_a_sqlite_file_in_a_folder_that_does_not_exist_is_named_with_its_folder(tmp_path: Path) -> None:
    """`url = "sqlite:///data/tracker.db"` is relative to the config file's folder; with no data/
    folder there every command said only "cannot open the database: OperationalError: unable to
    open database file", naming neither the file nor why (the operator looked where they ran it)."""
    config = tmp_path / "config" / "tracker.toml"
    config.parent.mkdir()
    config.write_text('[storage]\nurl = "sqlite:///data/tracker.db"\n'
                      '[[bills]]\nid = "s35"\nname = "S. 35"\nnumbers = ["s35-117"]\n', encoding="utf-8")
    file, folder = config.parent / "data" / "tracker.db", config.parent / "data"
    for command in (["db", "upgrade"], ["--quiet", "run"], ["status"]):
        result = tracker(config, *command)
        assert result.returncode == 2, (command, result.stderr)
        assert result.stderr.splitlines() == [
            f"error: {config}: storage.url: cannot open the database: OperationalError: unable to open database file"
            f" ({file}: its folder {folder} does not exist)"]
        assert result.stdout == ""


def test_a_usage_error_is_one_line_as_the_docs_say(tmp_path: Path) -> None:
    """docs/cli.md: a usage or config error is exit 2 with one line, `error: ...`. An unknown
    option or command printed click's three lines ("Usage: ...", "Try ...", "Error: ...") to cron's
    mail. Help and a good command are as before."""
    config = tmp_path / "tracker.toml"
    config.write_text('[[bills]]\nid = "police"\nname = "Police accountability"\nnumbers = ["s35-117"]\n')
    for args, said in ((["notify", "--bogus"], "error: No such option '--bogus' (see "),
                       (["bogus"], "error: No such command 'bogus' (see ")):
        result = tracker(config, *args)
        assert result.returncode == 2 and result.stdout == "", result
        (line,) = result.stderr.splitlines()
        assert line.startswith(said) and line.endswith(" --help)"), line
    helped = tracker(config, "notify", "--help")
    assert helped.returncode == 0 and "--retry-dead" in helped.stdout and helped.stderr == ""
    checked = tracker(config, "config", "check")
    assert checked.returncode == 0, checked
