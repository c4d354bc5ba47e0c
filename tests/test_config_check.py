"""`tracker config check` catches the mistakes issue 13 found: every problem at once, one line each
(`FILE: key.path: problem`); apprise URLs read by apprise itself; the storage URL's driver
importable; bill numbers only where GovInfo's BILLSTATUS data can be; secrets never shown.

Every test runs the real command line in its own process, as an operator would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOW = "2026-11-24T14:00:00Z"  # the 119th Congress sits; the next is the 120th
PASSWORD = "pw-Zq81-never-shown"

GOOD = """
[tracker]
timezone = "America/New_York"
[storage]
url = "sqlite:///tracker.db"
[[bills]]
id = "eqia"
name = "Ending Qualified Immunity Act"
numbers = ["hr1470-117", "hr3602-119"]
[[subscribers]]
id = "core-team"
notify = ["mailtos://alerts:${SMTP_PASSWORD}@mail.example.org?to=team@example.org", "json://127.0.0.1:8080/hook"]
"""


def check(tmp_path: Path, text: str, now: str = NOW, command: tuple[str, ...] = ("config", "check")
          ) -> tuple[int, Path, list[str], str]:
    """(exit code, config path, the problem lines without the CLI's `error: ` prefix, all output)."""
    path = tmp_path / "tracker.toml"
    path.write_text(text)
    env = {**os.environ, "SMTP_PASSWORD": PASSWORD, "TRACKER_NOW": now}
    env.pop("TRACKER_CONFIG", None)
    result = subprocess.run([sys.executable, "-m", "tracker.cli", "--config", str(path), *command],
                            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    lines = [line.removeprefix("error: ") for line in result.stderr.splitlines() if line.strip()]
    return result.returncode, path, lines, result.stdout + result.stderr


def test_a_good_config_is_ok(tmp_path: Path) -> None:
    code, path, lines, output = check(tmp_path, GOOD)
    assert (code, lines) == (0, []), output
    assert f"{path}: ok" in output
    assert PASSWORD not in output


def test_every_problem_is_shown_at_once_one_line_each(tmp_path: Path) -> None:
    text = (GOOD.replace('timezone = "America/New_York"', 'timezone = "Mars/Olympus"')
            .replace('"hr1470-117"', '"hr7120-99"')
            .replace('"json://127.0.0.1:8080/hook"', '"notaurl"')
            + '[crawl]\ndelay = 2\n')
    code, path, lines, output = check(tmp_path, text)
    assert code == 2
    assert sorted(lines) == sorted([
        f"{path}: tracker.timezone: unknown time zone 'Mars/Olympus'",
        f"{path}: bills[eqia].numbers: hr7120-99: GovInfo's BILLSTATUS data starts with the 108th Congress",
        f"{path}: subscribers[core-team].notify[1]: not an apprise URL: it needs a scheme, like 'mailtos://...' "
        "or 'json://host/path'",
        f"{path}: crawl.delay: unknown key",
    ]), output
    assert "more problem" not in output


def test_an_unknown_apprise_scheme_names_the_subscriber(tmp_path: Path) -> None:
    code, path, lines, _ = check(tmp_path, GOOD.replace("json://127.0.0.1:8080/hook", "jsno://127.0.0.1/hook"))
    assert code == 2
    assert lines == [f"{path}: subscribers[core-team].notify[1]: unknown apprise scheme 'jsno://'"]


def test_commands_that_send_nothing_leave_urls_to_apprise_and_monitoring_still_hears(tmp_path: Path) -> None:
    """Apprise loads every service it knows to read one URL (a quarter of a second at each start):
    `status`, `changes` and `digest` send nothing and do not ask it, so an operator's look at the
    state is not refused for a subscriber's typo; `status --check` (monitoring), `config check` and
    the sending commands still refuse it, naming the subscriber; a URL with no scheme at all is
    refused by every command."""
    text = GOOD.replace("json://127.0.0.1:8080/hook", "jsno://127.0.0.1/hook")
    refusal = f"{tmp_path / 'tracker.toml'}: subscribers[core-team].notify[1]: unknown apprise scheme 'jsno://'"
    for command in (("status",), ("digest",)):
        code, _, lines, output = check(tmp_path, text, command=command)
        assert (code, lines) == (0, []), (command, output)
    for command in (("status", "--check"), ("run",)):
        code, _, lines, output = check(tmp_path, text, command=command)
        assert (code, lines) == (2, [refusal]), (command, output)
    code, path, lines, _ = check(tmp_path, GOOD.replace('"json://127.0.0.1:8080/hook"', '"notaurl"'),
                                 command=("status",))
    assert code == 2 and len(lines) == 1
    assert lines[0].startswith(f"{path}: subscribers[core-team].notify[1]: not an apprise URL")


def test_notaurl_is_refused_naming_the_subscriber(tmp_path: Path) -> None:
    code, path, lines, _ = check(tmp_path, GOOD.replace('"json://127.0.0.1:8080/hook"', '"notaurl"'))
    assert code == 2 and len(lines) == 1
    assert lines[0].startswith(f"{path}: subscribers[core-team].notify[1]: not an apprise URL")


def test_a_mail_target_whose_recipient_is_no_address_is_refused(tmp_path: Path) -> None:
    # apprise reads `to=nobody` as no recipient at all: the message would go nowhere
    text = GOOD.replace("?to=team@example.org", "?to=nobody")
    code, path, lines, output = check(tmp_path, text)
    assert code == 2
    assert lines == [f"{path}: subscribers[core-team].notify[0]: To email 'nobody' is not valid: apprise would drop it"]
    assert PASSWORD not in output


def test_one_bad_recipient_among_good_ones_is_refused(tmp_path: Path) -> None:
    code, path, lines, _ = check(tmp_path, GOOD.replace("?to=team@example.org", "?to=team@example.org,nobody"))
    assert code == 2
    assert lines == [f"{path}: subscribers[core-team].notify[0]: To email 'nobody' is not valid: apprise would drop it"]


def test_operator_targets_are_read_by_apprise_too(tmp_path: Path) -> None:
    code, path, lines, _ = check(tmp_path, GOOD + '[operator]\nnotify = ["notaurl"]\n')
    assert code == 2 and len(lines) == 1
    assert lines[0].startswith(f"{path}: operator.notify[0]: not an apprise URL")


def test_a_storage_url_whose_driver_is_missing_says_which(tmp_path: Path) -> None:
    text = GOOD.replace("sqlite:///tracker.db", f"mysql://tracker:{PASSWORD}@db.example.org/tracker")
    code, path, lines, output = check(tmp_path, text)
    assert code == 2
    assert len(lines) == 1, output
    assert lines[0].startswith(f"{path}: storage.url: the mysql driver 'mysqldb' is not installed")
    assert "No module named 'MySQLdb'" in lines[0]
    assert PASSWORD not in output


def test_postgresql_without_its_driver_names_the_extra_that_installs_it(tmp_path: Path) -> None:
    """A plain `pip install .` has no PostgreSQL driver (it is the `postgres` extra): the line says
    which command installs it. (The driver is hidden from this process by a module that cannot be
    imported, first on its path.)"""
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    (hidden / "psycopg.py").write_text('raise ImportError("No module named \'psycopg\'")\n')
    path = tmp_path / "tracker.toml"
    path.write_text(GOOD.replace("sqlite:///tracker.db", "postgresql+psycopg://tracker@db.example.org/tracker"))
    env = {**os.environ, "SMTP_PASSWORD": PASSWORD, "TRACKER_NOW": NOW, "PYTHONPATH": str(hidden)}
    env.pop("TRACKER_CONFIG", None)
    result = subprocess.run([sys.executable, "-m", "tracker.cli", "--config", str(path), "config", "check"],
                            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: {path}: storage.url: the postgresql driver 'psycopg' is not installed (No module named "
        "'psycopg'); install tracker's postgres extra (pip install '.[postgres]' in its source folder), or name "
        "an installed driver in the URL "
        "('postgresql+DRIVER://...')"]


def test_storage_urls_of_unknown_databases_are_refused(tmp_path: Path) -> None:
    code, path, lines, _ = check(tmp_path, GOOD.replace("sqlite:///tracker.db", "nosuchdb://host/x"))
    assert code == 2
    assert lines == [f"{path}: storage.url: unknown database kind 'nosuchdb' (SQLAlchemy has no dialect for it)"]


def test_postgresql_with_its_installed_driver_is_accepted(tmp_path: Path) -> None:
    code, _, lines, output = check(tmp_path, GOOD.replace("sqlite:///tracker.db",
                                                          "postgresql+psycopg://postgres@127.0.0.1:1/none"))
    assert (code, lines) == (0, []), output  # nothing is connected to by a check


def test_bills_before_billstatus_are_refused_with_the_reason(tmp_path: Path) -> None:
    text = GOOD.replace('"hr1470-117"', '"hr7120-99", "s1-107", "hr1-108"')
    code, path, lines, _ = check(tmp_path, text)
    assert code == 2
    assert lines == [
        f"{path}: bills[eqia].numbers: hr7120-99: GovInfo's BILLSTATUS data starts with the 108th Congress",
        f"{path}: bills[eqia].numbers: s1-107: GovInfo's BILLSTATUS data starts with the 108th Congress",
    ]


def test_bills_after_the_next_congress_are_refused_by_the_trackers_clock(tmp_path: Path) -> None:
    text = GOOD.replace('"hr1470-117"', '"hr1-120", "hr1-121"')
    code, path, lines, _ = check(tmp_path, text)
    assert code == 2
    assert lines == [f"{path}: bills[eqia].numbers: hr1-121: the 121st Congress is after the next one "
                     "(the 120th): no bill of it can exist yet"]
    # two years on, the 121st is the next Congress: the same file is fine
    code, _, lines, output = check(tmp_path, text, now="2028-11-24T14:00:00Z")
    assert (code, lines) == (0, []), output


def test_title_watch_congresses_follow_the_same_rule(tmp_path: Path) -> None:
    text = GOOD + '[[bills]]\nid = "breathe"\nname = "BREATHE Act"\ntitles = ["BREATHE Act"]\ncongresses = [93, 118, 130]\n'
    code, path, lines, _ = check(tmp_path, text)
    assert code == 2
    assert lines == [
        f"{path}: bills[breathe].congresses: 93: GovInfo's BILLSTATUS data starts with the 108th Congress",
        f"{path}: bills[breathe].congresses: 130: the 130th Congress is after the next one (the 120th): "
        "no bill of it can exist yet",
    ]


def test_unset_variables_are_each_reported_and_not_blamed_twice(tmp_path: Path) -> None:
    text = GOOD.replace("${SMTP_PASSWORD}", "${NO_SUCH_PW}").replace(
        "json://127.0.0.1:8080/hook", "json://127.0.0.1:8080/hook?token=${NO_SUCH_TOKEN}")
    code, path, lines, _ = check(tmp_path, text)
    assert code == 2
    assert lines == [
        f"{path}: subscribers[core-team].notify[0]: environment variable NO_SUCH_PW is not set",
        f"{path}: subscribers[core-team].notify[1]: environment variable NO_SUCH_TOKEN is not set",
    ]


def test_references_are_reported_with_everything_else(tmp_path: Path) -> None:
    text = (GOOD.replace('numbers = ["hr1470-117", "hr3602-119"]', 'numbers = ["hr7120-99"]')
            + 'follow = ["eqia", "nope"]\n')
    code, path, lines, _ = check(tmp_path, text)
    assert code == 2
    assert sorted(lines) == sorted([
        f"{path}: bills[eqia].numbers: hr7120-99: GovInfo's BILLSTATUS data starts with the 108th Congress",
        f"{path}: subscribers[core-team].follow[1]: no watch has id 'nope'",
    ])


def test_secrets_are_never_shown_in_problems(tmp_path: Path) -> None:
    # the password reaches every problem's URL: a refused mail target, a refused storage URL
    text = (GOOD.replace("?to=team@example.org", "?to=nobody")
            .replace("sqlite:///tracker.db", "mysql://tracker:${SMTP_PASSWORD}@db.example.org/tracker")
            .replace("json://127.0.0.1:8080/hook", f"jsno://127.0.0.1/hook?token={PASSWORD}"))
    code, _, lines, output = check(tmp_path, text)
    assert code == 2 and len(lines) == 3, output
    assert PASSWORD not in output
    assert "Zq81" not in output  # not even in part (apprise's own masking keeps a few letters)


def test_a_public_url_without_mail_url_warns_that_sign_up_is_closed(tmp_path: Path) -> None:
    """`tracker serve` said so only at its start: `config check` says it first, still exit 0; with
    `[alerts] mail_url` set too, nothing is said."""
    serve = '[serve]\npublic_url = "https://alerts.example.org"\n'
    code, _, lines, output = check(tmp_path, GOOD + serve)
    assert (code, lines) == (0, []), output
    assert ("warning: [serve] public_url without [alerts] mail_url: sign-up is closed (no mail to confirm an "
            "address); `tracker serve` serves the digest only") in output.splitlines()
    mail = '[alerts]\nmail_url = "mailtos://alerts:${SMTP_PASSWORD}@mail.example.org?from=alerts@example.org"\n'
    code, _, lines, output = check(tmp_path, GOOD + serve + mail)
    assert (code, lines) == (0, []), output
    assert "sign-up" not in output


def test_a_civicclerk_filter_with_days_of_its_own_is_warned_of(tmp_path: Path) -> None:
    """Copied from the portal's requests, the address keeps the portal's month in `$filter`; the
    crawl's window is joined to it with `and`, so after that month nothing is read. A filter of
    categories only is fine; either way the config is valid (exit 0)."""
    events = "https://southfultonga.api.civicclerk.com/v1/Events"
    month = "?$filter=startDateTime ge 2026-11-01T00:00:00Z and startDateTime lt 2026-12-01T00:00:00Z"
    watch = ('[[meetings]]\nid = "south-fulton"\nname = "South Fulton City Council"\n'
             'timezone = "America/New_York"\ncivicclerk = "{url}"\n')
    code, _, lines, output = check(tmp_path, GOOD + watch.format(url=events + month))
    assert (code, lines) == (0, []), output
    assert ("warning: meetings[south-fulton]: its CivicClerk $filter names startDateTime, days of its own: the "
            "crawl's window is added to them with `and`, so once those days are past nothing is read; remove its "
            "startDateTime terms") in output.splitlines()
    code, _, lines, output = check(tmp_path, GOOD + watch.format(url=events + "?$filter=categoryId in (26,27)"))
    assert (code, lines) == (0, []), output
    assert "startDateTime" not in output
