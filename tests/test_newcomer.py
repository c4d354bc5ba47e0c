"""A newcomer's first minutes (issue 23, "Newcomer edges"), each as they meet it on the real command
line in its own process: a sample config to start from and a not-found error that says how; a
`config check` that warns when nobody will hear anything; the values apprise, HTTP and the CLI used
to print raw (`<AppriseResult ...>`, `Invalid ~From~ email specified`, a scheme asked of
`mailto:a@b.org`, a bare "HTTP 404" for a bill that does not exist) said in words; `changes --kind`
refusing a kind that matches nothing as the config does; every problem of one subscriber reported.

The demo's ending and the docs/cli.md examples are tested in the second half of this file."""

from __future__ import annotations

import itertools
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
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
    environ = {k: v for k, v in os.environ.items() if k != "TRACKER_CONFIG"}
    environ.update({"TRACKER_NOW": NOW, **(env or {})})
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
    named = tracker(tmp_path, "--config", "named/tracker.toml", "config", "init")
    assert named.returncode == 0 and (tmp_path / "named" / "tracker.toml").exists()

    # with $TRACKER_CONFIG naming another file, the default is still config/tracker.toml, and the next
    # step names the file written, since `config check` alone would read the other one
    written.unlink()
    env = tracker(tmp_path, "config", "init", env={"TRACKER_CONFIG": "other.toml"})
    assert env.returncode == 0 and written.exists() and not (tmp_path / "other.toml").exists()
    assert env.stdout.splitlines()[-1].endswith("--config config/tracker.toml config check")


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


def test_config_check_warns_of_a_primegov_watch_of_a_years_archive(tmp_path: Path) -> None:
    """A PrimeGov watch of a year's archive (the address the portal's archive tab asks for, and the
    one `sources detect` printed for it before) reads only that year's meetings already held: it tells
    of no meeting before it is held, and from the next January of none, with no error. `config
    check` says so and names the portal's meeting list; a watch of that list is not warned of."""
    heard = ('[operator]\nnotify = ["json://127.0.0.1:9/ops"]\n'
             '[[subscribers]]\nid = "team"\nnotify = ["json://127.0.0.1:9/team"]\n')
    archive = "https://lacity.primegov.com/api/v2/PublicPortal/ListArchivedMeetings?year=2025"
    (tmp_path / "tracker.toml").write_text(WATCH + heard + f'[[meetings]]\nid = "la"\nname = "LA"\nprimegov = "{archive}"\n')
    result = tracker(tmp_path, "--config", "tracker.toml", "config", "check")
    assert result.returncode == 0, result.stderr
    assert [line for line in result.stdout.splitlines() if line.startswith("warning:")] == [
        "warning: meetings[la]: its PrimeGov list is the archive of 2025, meetings already held: it tells of no "
        "meeting before it is held, and of none after 2025; the portal's meeting list is "
        "https://lacity.primegov.com/api/v2/PublicPortal/ListUpcomingMeetings"]
    upcoming = "https://lacity.primegov.com/api/v2/PublicPortal/ListUpcomingMeetings"
    (tmp_path / "tracker.toml").write_text(WATCH + heard + f'[[meetings]]\nid = "la"\nname = "LA"\nprimegov = "{upcoming}"\n')
    watched = tracker(tmp_path, "--config", "tracker.toml", "config", "check")
    assert watched.returncode == 0 and "warning:" not in watched.stdout, watched.stdout


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
        f"mailto://127.0.0.1:{closed_port}/… to team@example.org: failed: the mail server refused the connection "
        "(nothing listens at its host and port)",
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


# -- the demo's ending ---------------------------------------------------------------------------------


def printed_commands(output: str) -> list[str]:
    """The command lines the demo ends on (indented, after its "look around" line)."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("demo: look around"))
    return [line.strip() for line in lines[start:] if line.startswith("  ")]


@pytest.mark.slow
def test_the_demo_ends_on_commands_that_run_as_printed(tmp_path: Path) -> None:
    """As the README has it: from a project folder, `.venv/bin/tracker demo`, the venv not activated
    (its bin/ is not on PATH); then each command the demo prints, pasted as it is."""
    project = tmp_path / "project"
    project.mkdir()
    (project / ".venv").symlink_to(Path(sys.executable).parent.parent)  # this environment, as the README's .venv
    assert (project / ".venv" / "bin" / "tracker").exists()
    path = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep)
                           if p and not (Path(p) / "tracker").exists())  # no `tracker` on PATH
    env = {**os.environ, "PATH": path, "TRACKER_NOW": "2026-11-25T12:00:00Z"}
    env.pop("TRACKER_CONFIG", None)
    demo = subprocess.run([".venv/bin/tracker", "demo", "--out", str(tmp_path / "demo")], cwd=project, env=env,
                          capture_output=True, text=True, timeout=180)
    assert demo.returncode == 0, demo.stderr
    config = tmp_path / "demo" / "tracker.toml"
    commands = printed_commands(demo.stdout)
    assert commands == [
        f".venv/bin/tracker --config {config} status",
        f".venv/bin/tracker --config {config} changes --kind 'meeting.*'",
        f".venv/bin/tracker --config {config} changes --json",
        ".venv/bin/tracker config init",  # the next step: a config of one's own, from the sample
        ".venv/bin/tracker config check",
    ]
    assert "demo: your own tracker next: write the sample config to config/tracker.toml" in demo.stdout
    outputs = []
    for command in commands:
        ran = subprocess.run(command, shell=True, cwd=project, env=env, capture_output=True, text=True, timeout=120)
        assert ran.returncode == 0, f"{command}: exit {ran.returncode}\n{ran.stdout}\n{ran.stderr}"
        outputs.append(ran.stdout)
    assert "[police] S. 35 (117th) passed the Senate" in outputs[0]
    # one sponsor is one (it said "1 sponsors")
    assert "[qi-states] Massachusetts S 2963 (191st) passed the Senate; 1 sponsor; " in outputs[0], outputs[0]
    assert "Committee on Public Safety on Fri Nov 27, 10:00 AM: deferred" in outputs[1]
    assert (project / "config" / "tracker.toml").read_bytes() == (ROOT / "config" / "tracker.toml").read_bytes()
    assert outputs[4].startswith("config/tracker.toml: ok")

    # run again where a config is already there: the next step is to edit it, not to write it again
    again = subprocess.run([".venv/bin/tracker", "demo", "--out", str(tmp_path / "demo2")], cwd=project, env=env,
                           capture_output=True, text=True, timeout=180)
    assert "demo: your own tracker next: edit config/tracker.toml" in again.stdout
    assert printed_commands(again.stdout)[-1] == ".venv/bin/tracker config check"
    # the change list is summarised: counts by kind and a few examples, not one line per change
    assert sum(1 for line in again.stdout.splitlines() if line.startswith("  [")) <= 6
    assert len(again.stdout.splitlines()) < 60


# -- docs/cli.md examples are real output -----------------------------------------------------------

CLI_DOC = ROOT / "docs" / "cli.md"
DOC_NOW = "2026-11-25T13:05:54Z"  # the clock of the documented demo
SHOWN_DEMO_FOLDER = "/tmp/tracker-demo-x1y2"  # the demo's temporary folder as the examples show it
CHANGE_ID = re.compile(r"^ *(\d+) (?=\d{4}-\d\d-\d\d \d\d:\d\d )", flags=re.MULTILINE)
RECORDED = re.compile(r"<id> (\d{4}-\d\d-\d\d \d\d:\d\d \S+) ")


def same_minute_sorted(lines: list[str]) -> list[str]:
    """Change lines with ids masked, each run of lines recorded in the same minute sorted: the
    demo's changes of one crawl are stored by parallel ingest workers, in no set order (that the
    ids go up, oldest first, is checked before they are masked)."""
    def minute(line: str) -> str | None:
        return match.group(1) if (match := RECORDED.match(line)) else None

    return [line for when, run in itertools.groupby(lines, key=minute)
            for line in (sorted(run) if when else run)]


@dataclass
class Example:
    """One ```console block of docs/cli.md: where it runs, its commands and what each prints."""

    line: int
    fresh: bool  # "console fresh": in an empty folder; else where config/ holds the demo's data
    steps: list[tuple[str, list[str]]]


def console_examples(text: str) -> list[Example]:
    examples = []
    for block in re.finditer(r"^```console( fresh)?\n(.*?)^```$", text, flags=re.MULTILINE | re.DOTALL):
        steps: list[tuple[str, list[str]]] = []
        for line in block.group(2).splitlines():
            if line.startswith("$ "):
                steps.append((line[2:], []))
            else:
                assert steps, f"docs/cli.md: a console block must start with a `$ ` command: {line!r}"
                steps[-1][1].append(line)
        examples.append(Example(text[:block.start()].count("\n") + 1, bool(block.group(1)), steps))
    return examples


def same_output(expected: list[str], printed: list[str]) -> bool:
    """Line for line, where a `...` line stands for any number of lines."""
    pattern = "".join(r"(?:.*\n)*?" if line == "..." else re.escape(line) + r"\n" for line in expected)
    return re.fullmatch(pattern, "".join(line + "\n" for line in printed)) is not None


@dataclass
class Demo:
    folder: Path  # the demo's --out folder
    project: Path  # a project folder: its config/ a copy of the demo's folder
    output: list[str]  # what `tracker demo` printed, its folder shown as the docs show it
    env: dict[str, str]


@pytest.fixture(scope="module")
def documented_demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """`tracker demo` as docs/cli.md shows it: `tracker` on PATH, run from the project root (a
    folder holding the sample config/tracker.toml), with the documented clock."""
    base = tmp_path_factory.mktemp("documented")
    root = base / "root"
    (root / "config").mkdir(parents=True)
    shutil.copy(ROOT / "config" / "tracker.toml", root / "config" / "tracker.toml")
    bin_dir = Path(sys.executable).parent
    assert (bin_dir / "tracker").exists(), f"no tracker script beside {sys.executable}"
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "TRACKER_NOW": DOC_NOW}
    env.pop("TRACKER_CONFIG", None)
    folder = base / "demo"
    done = subprocess.run([str(bin_dir / "tracker"), "demo", "--out", str(folder)], cwd=root, env=env,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    project = base / "project"
    shutil.copytree(folder, project / "config")
    return Demo(folder, project, done.stdout.replace(str(folder), SHOWN_DEMO_FOLDER).splitlines(), env)


def run_example(example: Example, demo: Demo, tmp_path: Path) -> list[str]:
    """Each command of the example as the docs show it; the problems found, one line each."""
    where = tmp_path if example.fresh else demo.project
    problems = []
    code = 0
    for command, expected in example.steps:
        words = shlex.split(command, comments=True)
        if words == ["echo", "$?"]:
            printed = [str(code)]
        elif words == ["tracker", "demo"]:
            printed = demo.output
        elif words == ["tracker", "crawl"]:  # the demo's second crawl (its sources are gone after it)
            lines = demo.output[demo.output.index("demo: crawl 2 (the real records, as the sources serve them now)") + 1:]
            printed = [line[2:] for line in itertools.takewhile(lambda line: line.startswith("  "), lines)]
        else:
            assert words[0] == "tracker", f"docs/cli.md:{example.line}: {command!r} is no tracker command"
            ran = subprocess.run([str(Path(sys.executable).parent / "tracker"), *words[1:]], cwd=where, env=demo.env,
                                 capture_output=True, text=True, timeout=120)
            code = ran.returncode
            printed = (ran.stdout + ran.stderr).splitlines()
        if words[:2] == ["tracker", "changes"]:  # ids follow the order the demo's sources were read in
            ids = [int(n) for n in CHANGE_ID.findall("\n".join(printed))]
            if ids != sorted(ids):
                problems.append(f"docs/cli.md:{example.line}: `{command}` printed changes out of order: {ids}")
            printed = same_minute_sorted(CHANGE_ID.sub("<id> ", "\n".join(printed)).splitlines())
            expected = same_minute_sorted(CHANGE_ID.sub("<id> ", "\n".join(expected)).splitlines())
        if not same_output(expected, printed):
            problems.append(f"docs/cli.md:{example.line}: `{command}` printed:\n" + "\n".join(printed))
    return problems


@pytest.mark.slow
def test_the_console_examples_in_cli_md_are_what_the_commands_print(documented_demo: Demo, tmp_path: Path) -> None:
    examples = console_examples(CLI_DOC.read_text(encoding="utf-8"))
    commands = {" ".join(shlex.split(command, comments=True)[:3]) for e in examples for command, _ in e.steps}
    # the examples issue 23 found stale are among those checked
    assert {"tracker db upgrade", "tracker changes --watch", "tracker digest", "tracker demo",
            "tracker config init", "tracker status"} <= commands, commands
    problems = []
    for n, example in enumerate(examples):
        folder = tmp_path / f"example{n}"
        folder.mkdir()
        problems += run_example(example, documented_demo, folder)
    assert not problems, "\n\n".join(problems)


def test_the_output_matcher_itself() -> None:
    a, b = "<id> 2026-11-25 08:05 EST meeting cancelled x", "<id> 2026-11-25 08:05 EST meeting scheduled y"
    later = "<id> 2026-11-25 08:06 EST meeting added z"
    assert same_minute_sorted([b, a, later]) == same_minute_sorted([a, b, later]) == [a, b, later]
    assert same_minute_sorted([later, a]) == [later, a]  # minutes apart: their order is kept
    assert same_output(["a", "...", "d"], ["a", "b", "c", "d"]) and same_output(["a", "...", "d"], ["a", "d"])
    assert not same_output(["a", "d"], ["a", "b", "d"]) and not same_output(["a"], ["a", "b"])
    assert not same_output(["a.c"], ["abc"])  # a line is text, not a pattern
    (example,) = console_examples("x\n```console fresh\n$ tracker config check\nok\n$ echo $?\n0\n```\n")
    assert example.fresh and example.line == 2
    assert example.steps == [("tracker config check", ["ok"]), ("echo $?", ["0"])]


@pytest.mark.slow
def test_the_json_change_examples_in_cli_md_are_real_changes(documented_demo: Demo) -> None:
    """Each change shown under `tracker changes --json` is one the demo records, field for field
    (its id aside: ids follow the order the demo's sources were read in)."""
    text = CLI_DOC.read_text(encoding="utf-8")
    block = re.search(r"### `tracker changes --json`.*?```json\n(.*?)```", text, flags=re.DOTALL)
    assert block
    documented = json.loads(block.group(1))
    ran = subprocess.run([str(Path(sys.executable).parent / "tracker"), "changes", "--json"],
                         cwd=documented_demo.project, env=documented_demo.env, capture_output=True, text=True,
                         timeout=120)
    real = [{k: v for k, v in change.items() if k != "id"} for change in json.loads(ran.stdout)]
    assert len(documented) >= 3
    for change in documented:
        assert {k: v for k, v in change.items() if k != "id"} in real, change
    assert [c["id"] for c in documented] == sorted(c["id"] for c in documented)  # oldest first, as printed


@pytest.mark.slow
def test_the_demos_digest_txt_says_every_time_and_date_in_words(documented_demo: Demo) -> None:
    """digest.txt on the demo's data: no ISO time or date (the latest action's day included), no
    source's raw status word in capitals. (The Sources table's times in the tracker's zone and the
    alerts counted in messages are tests/test_digest_this_week.py's.)"""
    text = (documented_demo.folder / "site" / "digest.txt").read_text(encoding="utf-8")
    words = re.sub(r"https?://\S+", "", text)  # addresses may hold anything
    assert not re.search(r"\d{4}-\d\d-\d\d", words), re.search(r".*\d{4}-\d\d-\d\d.*", words)
    assert "CANCELLED" not in words and "(Cancelled)" not in words
    assert "  passed the Senate; latest Tue Jun 9, 2020: Senate Third Reading Passed" in text
    assert "cancelled (the source says \"Deferred\")" in text
