"""The outside contract walked as an acceptance check walks it: the real CLI, only the forms the
contract names (config keys, exit codes, one error line, secrets never shown)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tracker.cli import main

NOW = "2026-11-25T13:05:54Z"


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def tracker(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tracker.cli", "--config", str(config), *args],
                          capture_output=True, text=True, timeout=120, cwd=config.parent,
                          env={**os.environ, "TRACKER_NOW": NOW})


WATCH = """
[[bills]]
id = "eqia"
name = "Ending Qualified Immunity Act"
numbers = ["hr1470-117"]
"""

SUBSCRIBER = """
[[subscribers]]
id = "core-team"
notify = ["json://127.0.0.1:9/hook"]
"""


@pytest.mark.parametrize(("text", "key"), [
    ('[alerts]\nmax_tries = "8"\n', "alerts.max_tries"),
    ("[tracker]\nlock_timeout_minutes = true\n", "tracker.lock_timeout_minutes"),
    ('[crawl]\ndelay_seconds = "1.5"\n', "crawl.delay_seconds"),
    ('[crawl]\nautothrottle = "yes"\n', "crawl.autothrottle"),
    ('[sources.legislators]\nenabled = "false"\n', "sources.legislators.enabled"),
    (SUBSCRIBER + "paused = 1\n", "subscribers[core-team].paused"),
    (SUBSCRIBER + 'state = "MA"\ndistrict = "7"\n', "subscribers[core-team].district"),
    (WATCH.replace('numbers = ["hr1470-117"]', 'titles = ["BREATHE Act"]\ncongresses = ["117"]'),
     "bills[eqia].congresses[0]"),
], ids=lambda value: value if "\n" not in value else "")
def test_a_wrong_type_is_a_config_error(tmp_path: Path, text: str, key: str) -> None:
    """A wrong type is a config error, as an unknown key or a malformed bill number is: one line
    naming the file, the key and what is wrong; exit code 2. A string where a number goes
    (`max_tries = "8"`), a boolean for minutes, "yes" for a boolean were taken as if right."""
    path = tmp_path / "tracker.toml"
    path.write_text(WATCH + text if "[[bills]]" not in text else text)
    code, out, err = invoke("--config", str(path), "config", "check")
    assert code == 2, out
    lines = err.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"error: {path}: {key}: "), lines[0]
    # any other command refuses it the same way, doing nothing
    assert invoke("--config", str(path), "status")[0] == 2
    assert not (tmp_path / "tracker.db").exists()


def test_right_types_are_still_taken(tmp_path: Path) -> None:
    """The strict reading refuses wrong types only: an integer where a float goes, a number where a
    state district's text goes (documented: read as its text), TOML's own booleans."""
    path = tmp_path / "tracker.toml"
    path.write_text(WATCH + "[tracker]\nlock_timeout_minutes = 90\n[crawl]\ndelay_seconds = 0\n"
                    "autothrottle = true\n[alerts]\ntimeout_seconds = 30\n" + SUBSCRIBER
                    + 'state = "CO"\ndistrict = 1\nstate_senate_district = 34\npaused = false\n')
    code, out, err = invoke("--config", str(path), "config", "check")
    assert code == 0, err
    assert out.startswith(f"{path}: ok")


def test_a_number_or_true_false_from_the_environment_is_read_as_its_keys_type(tmp_path: Path) -> None:
    """The environment holds only text: `port = "${PORT}"` (a container's port), a number of tries
    or true/false given there is read as its key's type, while the same written as text in the file
    (`max_tries = "8"`) stays a config error, and a text key given digits stays text. Strict typing
    refused the first forms (they were coerced, as every string was, before it)."""
    from tracker.config import ConfigError, load_config

    path = tmp_path / "tracker.toml"
    path.write_text(WATCH + '[serve]\nport = "${PORT}"\n[alerts]\nmax_tries = "${TRIES}"\n'
                    '[crawl]\nautothrottle = "${THROTTLE}"\ndelay_seconds = "${DELAY}"\n'
                    '[sources.legistar]\nbase_url = "https://webapi.legistar.com/v1"\n' + SUBSCRIBER)
    env = {"PORT": "8090", "TRIES": "5", "THROTTLE": "false", "DELAY": "1.5"}
    config = load_config(path, env=env)
    assert (config.serve.port, config.alerts.max_tries, config.crawl.autothrottle, config.crawl.delay_seconds) \
        == (8090, 5, False, 1.5)
    from tracker import secrets

    assert secrets.mask("port 8090, autothrottle false, 1.5 s") == "port 8090, autothrottle false, 1.5 s"
    with pytest.raises(ConfigError, match=r"alerts\.max_tries: Input should be a valid integer"):
        load_config(path, env={**env, "TRIES": "five"})
    path.write_text(WATCH + '[alerts]\nmax_tries = "8"\n' + SUBSCRIBER)
    with pytest.raises(ConfigError, match=r"alerts\.max_tries"):
        load_config(path, env={})
    # in a list too: each item given whole by one `${NAME}` read as the list's items are typed
    # (`congresses = ["${CONGRESS}"]` was refused: "Input should be a valid integer")
    path.write_text('[[bills]]\nid = "qi"\nname = "Qualified immunity"\ntitles = ["qualified immunity"]\n'
                    'congresses = ["${CONGRESS}", 118]\n' + SUBSCRIBER)
    (bill,) = load_config(path, env={"CONGRESS": "119"}).bills
    assert bill.congresses == [119, 118]
    with pytest.raises(ConfigError, match=r"congresses"):
        load_config(path, env={"CONGRESS": "next"})
    path.write_text('[[bills]]\nid = "qi"\nname = "Qualified immunity"\ntitles = ["qualified immunity"]\n'
                    'congresses = ["119"]\n' + SUBSCRIBER)
    with pytest.raises(ConfigError, match=r"congresses"):
        load_config(path, env={})  # text written in the file stays an error, as max_tries = "8"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_a_password_written_in_a_meeting_source_url_is_never_shown(tmp_path: Path) -> None:
    """Secrets (passwords, tokens, API keys) never appear in any output, log, database row or
    digest. A feed's address with its password written in the file
    (`https://reader:PASSWORD@host/feed.ics`, a private calendar) failed with the downloader's own
    words, `invalid hostname: reader:PASSWORD@127.0.0.1`, printed by crawl, status, status --check,
    --verbose, stored in the run's error and shown in the digest."""
    password = "Lit3ralFeedPw"
    path = tmp_path / "tracker.toml"
    path.write_text(f"""
[tracker]
timezone = "America/Chicago"
log_file = "tracker.log"
[crawl]
delay_seconds = 0
retries = 0
[[meetings]]
id = "board"
name = "School Board"
timezone = "America/Chicago"
ical = "http://reader:{password}@127.0.0.1:{_closed_port()}/feed.ics"
""")
    runs = [tracker(path, *args) for args in (["config", "check"], ["--verbose", "crawl"], ["crawl"],
                                               ["status"], ["status", "--json"], ["status", "--check"],
                                               ["status", "--check", "--json"], ["digest"])]
    assert runs[1].returncode == 1 and runs[2].returncode == 1  # the feed failed, as it should
    assert runs[5].returncode == 1
    for run in runs:
        assert password not in run.stdout + run.stderr, run.args
    for file in [tmp_path / "tracker.db", tmp_path / "tracker.log", *(tmp_path / "site").rglob("*")]:
        if file.is_file():
            assert password.encode() not in file.read_bytes(), file


def test_a_tracker_now_that_is_no_time_is_one_line_naming_it(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """`TRACKER_NOW` (ISO 8601), when set, is the clock every command uses. A value that is no time
    was blamed on the config, one line per bill watch (`bills[eqia].numbers: Invalid isoformat
    string: 'tomorrow'`): the file looked broken."""
    path = tmp_path / "tracker.toml"
    path.write_text(WATCH + WATCH.replace("eqia", "gfjpa"))
    monkeypatch.setenv("TRACKER_NOW", "tomorrow")
    for args in (["config", "check"], ["status"], ["--quiet", "run"]):
        code, _, err = invoke("--config", str(path), *args)
        assert code == 2
        assert err.splitlines() == ["error: TRACKER_NOW 'tomorrow' is not an ISO 8601 time (like 2026-11-24T14:00:00Z)"]


@pytest.mark.slow
def test_a_key_in_a_meeting_source_url_is_never_shown(tmp_path: Path) -> None:
    """The same for a key in a feed's address written in the file that `secrets.mask`'s patterns
    did not know (`?client_secret=…`, `?signature=…`, a private calendar's `/private-<hex>/` path):
    the failing feed's error line printed the whole address, keys and all, in crawl, status and the
    digest. (`sources detect` already leaves such keys out.)"""
    private, client, signed = "0123456789abcdef0123456789abcdef", "Cl1entSecretXyz", "S1gnatureValue9"
    path = tmp_path / "tracker.toml"
    port = _closed_port()
    path.write_text(f"""
[tracker]
timezone = "America/Chicago"
[crawl]
delay_seconds = 0
retries = 0
[[meetings]]
id = "board"
name = "School Board"
ical = "http://127.0.0.1:{port}/calendar/ical/board/private-{private}/basic.ics?client_secret={client}"
[[meetings]]
id = "council"
name = "City Council"
feed = "http://127.0.0.1:{port}/agendas.rss?signature={signed}"
""")
    runs = [tracker(path, *args) for args in (["crawl"], ["status"], ["status", "--json"], ["status", "--check"],
                                               ["digest"])]
    assert runs[0].returncode == 1 and "board" in runs[0].stderr and "council" in runs[0].stderr
    for run in runs:
        for key in (private, client, signed):
            assert key not in run.stdout + run.stderr, (run.args, key)
    for file in [tmp_path / "tracker.db", *(tmp_path / "site").rglob("*")]:
        if file.is_file():
            for key in (private, client, signed):
                assert key.encode() not in file.read_bytes(), (file, key)
