"""Config: the contract's schema, env interpolation, relative paths, one-line errors (exit 2)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tracker.config import ConfigError, load_config

ROOT = Path(__file__).resolve().parent.parent
CONTRACT_EXAMPLE = """
[tracker]
timezone = "America/New_York"
contact = "https://example.org/about"
[storage]
url = "sqlite:///tracker.db"
[digest]
out = "site"
[alerts]
max_tries = 8
retry_seconds = 300
daily_at = "08:00"
weekly_on = "monday"
[operator]
notify = ["mailtos://alerts:${SMTP_PASSWORD}@mail.example.org?to=ops@example.org"]
failures_before_alert = 3
[sources.govinfo]
base_url = "https://www.govinfo.gov"
[sources.congress_gov]
base_url = "https://api.congress.gov/v3"
api_key = "${CONGRESS_GOV_API_KEY}"
[sources.legistar]
base_url = "https://webapi.legistar.com/v1"
[[bills]]
id = "eqia"
name = "Ending Qualified Immunity Act"
numbers = ["hr7085-116", "hr1470-117", "s492-117", "hr2847-118", "hr3602-119", "s1913-119"]
titles = ["Ending Qualified Immunity Act"]
[[meetings]]
id = "nyc-council"
name = "New York City Council"
timezone = "America/New_York"
legistar = { client = "nyc", bodies = ["City Council", "Committee on Public Safety"], token = "${LEGISTAR_TOKEN}" }
keywords = ["NYPD", "police", "ShotSpotter", "crisis response"]
[[meetings]]
id = "detroit-schools"
name = "Detroit Board of Education"
timezone = "America/Detroit"
ical = "https://www.detroitk12.org/site/handlers/icalfeed.ashx?MIID=14864"
[[subscribers]]
id = "core-team"
notify = ["mailtos://alerts:${SMTP_PASSWORD}@mail.example.org?to=team@example.org", "json://127.0.0.1:8080/hook"]
follow = ["eqia", "nyc-council"]
mode = "instant"
"""
ENV = {"SMTP_PASSWORD": "s3cret-pw", "CONGRESS_GOV_API_KEY": "KEY-abc123", "LEGISTAR_TOKEN": "tok-9876"}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cfg" / "tracker.toml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    return path


def test_contract_example_loads(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, CONTRACT_EXAMPLE), env=ENV)
    assert [n.key for n in config.bills[0].numbers] == [
        "hr7085-116", "hr1470-117", "s492-117", "hr2847-118", "hr3602-119", "s1913-119"]
    assert config.meetings[0].source_id == "legistar:nyc-council"
    assert config.meetings[1].source_id == "ical:detroit-schools"
    assert config.meetings[0].legistar and config.meetings[0].legistar.token == "tok-9876"
    sub = config.subscribers[0]
    assert sub.notify[0].template.startswith("mailtos://alerts:${SMTP_PASSWORD}@")
    assert "s3cret-pw" in sub.notify[0].url
    assert "s3cret-pw" not in repr(sub)  # never shown, even by accident in a traceback


def test_relative_paths_follow_the_config_file(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, CONTRACT_EXAMPLE), env=ENV)
    assert config.database_url == f"sqlite:///{(tmp_path / 'cfg' / 'tracker.db').resolve()}"
    assert config.digest_dir == tmp_path / "cfg" / "site"


def test_bill_numbers_accept_display_forms(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, '[[bills]]\nid="x"\nname="x"\nnumbers=["H.R. 1470-117", "S 492 (117th)", "HJRES8-114"]\n'), env={})
    assert [n.key for n in config.bills[0].numbers] == ["hr1470-117", "s492-117", "hjres8-114"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[tracker]\ntimezon = "UTC"\n', "tracker.timezon: unknown key"),
        ('[tracker]\ntimezone = "Mars/Olympus"\n', "tracker.timezone: unknown time zone 'Mars/Olympus'"),
        ('[alerts]\nmax_tries = "eight"\n', "alerts.max_tries: "),
        ('[alerts]\ndaily_at = "8am"\n', "alerts.daily_at: '8am' is not a time"),
        ('[[bills]]\nid="eqia"\nname="x"\nnumbers=["hr1470-117", "hq12-117"]\n', "bills[eqia].numbers: 'hq12-117' has unknown bill type"),
        ('[[bills]]\nid="Bad Id"\nname="x"\nnumbers=["hr1-117"]\n', "bills[Bad Id].id: "),
        ('[[meetings]]\nid="m"\nname="x"\n', "meetings[m]: a meeting watch needs exactly one source"),
        ('[[meetings]]\nid="m"\nname="x"\nical="https://a/b"\nfeed="https://a/c"\n', "exactly one source"),
        ('[[meetings]]\nid="m"\nname="x"\nlegistar={client="nyc"}\nbodies=["City Council"]\n',
         "meetings[m]: bodies: a Legistar watch names its bodies in its own table"),
        ('[[meetings]]\nid="m"\nname="x"\niqm2="https://a.iqm2.com/"\nbodies=["Council", " "]\n',
         "meetings[m].bodies: a body's name is empty"),
        ('[[subscribers]]\nid="s"\nnotify=["json://x"]\nfollow=["nope"]\n', "no watch has id 'nope'"),
        ('[[subscribers]]\nid="s"\nnotify=["json://x"]\nmode="hourly"\n', "subscribers[s].mode: "),
        ('[[subscribers]]\nid="s"\nnotify=["json://x"]\nkinds=["bil.*"]\n', "'bil.*' matches no change kind"),
        ('[[subscribers]]\nid="s"\nnotify=["mailto://u:${MISSING_PW}@h"]\n', "environment variable MISSING_PW is not set"),
        ('[serve]\nsignups_per_hour = 0\n', "serve.signups_per_hour: Input should be greater than or equal to 1"),
        ("[tracker\n", "not valid TOML"),
    ],
)
def test_errors_name_file_key_and_problem(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    message = str(info.value)
    assert message.startswith(f"{path}: ")
    assert expected in message
    assert "\n" not in message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.toml", env={})


def test_bundled_config_runs_with_no_variables_set() -> None:
    config = load_config(ROOT / "config" / "tracker.toml", env={})
    ids = {w.id for w in config.bills}
    assert {"eqia", "gfjpa"} <= ids
    eqia = config.bill_watch("eqia")
    assert eqia is not None
    assert {n.key for n in eqia.numbers} >= {"hr7085-116", "hr1470-117", "s492-117", "hr2847-118", "hr3602-119", "s1913-119"}


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tracker.cli", *args], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=60)


def test_config_check_bad_key_exits_2_with_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, '[tracker]\ntimezone = "UTC"\n[[bills]]\nid="a"\nname="A"\nnumbers=["hr1-117"]\ncolour="red"\n')
    result = run_cli("--config", str(path), "config", "check")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [f"error: {path}: bills[a].colour: unknown key"]
    assert result.stdout == ""


def test_config_check_masks_secrets(tmp_path: Path) -> None:
    import os

    path = write(tmp_path, CONTRACT_EXAMPLE)
    result = run_cli("--config", str(path), "config", "check", env={**os.environ, **ENV})
    assert result.returncode == 0, result.stderr
    assert "bill watch eqia" in result.stdout and "legistar:nyc-council" in result.stdout
    assert "subscriber core-team" in result.stdout
    for secret in ENV.values():
        assert secret not in result.stdout + result.stderr


@pytest.mark.parametrize(("place", "words"), [
    ('state = "XX"', "unknown state 'XX'"),
    ('state = "MA"\ndistrict = 12', "MA has districts 1 to 9, not 12"),
    ('district = 7', "`district` needs `state`"),
])
def test_a_subscribers_place_must_exist(tmp_path: Path, place: str, words: str) -> None:
    path = tmp_path / "tracker.toml"
    path.write_text(f'[[subscribers]]\nid = "boston"\nnotify = ["json://127.0.0.1/hook"]\n{place}\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    assert "subscribers[boston]" in str(caught.value) and words in str(caught.value)


STATE_KEY = '[sources.openstates]\napi_key = "${OPENSTATES_API_KEY}"\n'


@pytest.mark.parametrize(("text", "expected"), [
    (STATE_KEY + '[[bills]]\nid="co"\nname="x"\nstate="co"\nsession="2020A"\nnumbers=["SB 217", "217"]\n',
     "bills[co].numbers: '217' is not a state bill number like 'SB 217'"),
    (STATE_KEY + '[[bills]]\nid="co"\nname="x"\nstate="co"\nnumbers=["SB 217"]\n',
     "bills[co]: `numbers` of state bills need `state` and `session`"),
    (STATE_KEY + '[[bills]]\nid="qi"\nname="x"\nstates=["co", "xx"]\nkeywords=["qualified immunity"]\n',
     "bills[qi].states: unknown state 'xx'"),
    (STATE_KEY + '[[bills]]\nid="qi"\nname="x"\nstate="co"\nstates=["nm"]\nkeywords=["qualified immunity"]\n',
     "bills[qi]: give `state` or `states`, not both"),
    (STATE_KEY + '[[bills]]\nid="qi"\nname="x"\nkeywords=["--"]\n', "bills[qi].keywords: keyword '--' has no words"),
    (STATE_KEY + '[[bills]]\nid="qi"\nname="x"\nstates=["co"]\n', "bills[qi]: a state bill watch needs `numbers`"),
    ('[[bills]]\nid="qi"\nname="x"\nkeywords=["qualified immunity"]\n',
     "sources.openstates.api_key: bills[qi] watches state bills: they need an Open States API key"),
    (STATE_KEY + '[sources.openstates.extra]\n', "sources.openstates.extra: unknown key"),
    ('[sources.openstates]\ndaily_budget = 0\n', "sources.openstates.daily_budget: "),
    ('[[subscribers]]\nid="s"\nnotify=["json://x"]\nstate_senate_district="34"\n',
     "subscribers[s].state_senate_district: `state_senate_district` needs `state`"),
    ('[sources.openstates]\npeople_dir = "no-such-folder"\n', "sources.openstates.people_dir: no folder "),
])
def test_state_bill_watch_errors_name_file_key_and_problem(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path, env={"OPENSTATES_API_KEY": "os-key-1234"})
    message = str(info.value)
    assert message.startswith(f"{path}: ") and expected in message and "\n" not in message


def test_state_bill_watches_beside_federal_ones(tmp_path: Path) -> None:
    path = write(tmp_path, STATE_KEY + '''
[[bills]]
id = "eqia"
name = "Ending Qualified Immunity Act"
numbers = ["hr1470-117"]
[[bills]]
id = "co"
name = "Colorado SB 217"
state = "CO"
session = "2020A"
numbers = ["sb0217"]
[[bills]]
id = "qi"
name = "Qualified immunity everywhere"
keywords = ["Qualified   Immunity"]
[[subscribers]]
id = "denver"
notify = ["json://127.0.0.1/hook"]
state = "co"
state_senate_district = 34
state_house_district = "08"
''')
    config = load_config(path, env={"OPENSTATES_API_KEY": "os-key-1234"})
    assert [w.id for w in config.federal_bills] == ["eqia"] and [w.id for w in config.state_bills] == ["co", "qi"]
    co, qi = config.state_bills
    assert co.state == "co" and co.number_keys == ["co:2020a:sb217"] and qi.keyword_states is None
    assert qi.keywords == ["Qualified Immunity"]
    denver = config.subscribers[0]
    assert (denver.state, denver.state_senate_district, denver.state_house_district) == ("CO", "34", "08")
    result = run_cli("--config", str(path), "config", "check",
                     env={**os.environ, "OPENSTATES_API_KEY": "os-key-1234"})
    assert result.returncode == 0, result.stderr
    assert "state bill watch co: Colorado SB 217: CO 2020A sb0217" in result.stdout
    assert 'state bill watch qi: Qualified immunity everywhere: keywords "Qualified Immunity" in every state' in result.stdout
    assert "sources: govinfo, legislators, openstates" in result.stdout
    assert "os-key-1234" not in result.stdout + result.stderr


def test_an_open_states_key_written_in_the_file_is_masked_too(tmp_path: Path) -> None:
    path = write(tmp_path, '[sources.openstates]\napi_key = "literal-Key-7788"\nbase_url = "http://127.0.0.1:9"\n'
                 '[[bills]]\nid="qi"\nname="x"\nstates=["co"]\nkeywords=["qualified immunity"]\n')
    load_config(path, env={})
    from tracker import secrets

    assert secrets.mask("sent literal-Key-7788") == "sent ***"


def test_config_check_shows_each_targets_host_and_never_its_password(tmp_path: Path) -> None:
    """A mail URL with a port and a `from=` address is shown whole, its host included (the port and
    query are no password); a password written in the file, even unencoded, is never printed."""
    path = write(tmp_path, '[[subscribers]]\nid = "team"\nnotify = [\n'
                 '  "mailto://127.0.0.1:2525?smtp=127.0.0.1&from=alerts@example.org&to=a@example.org",\n'
                 '  "mailtos://me:hunter2@smtp.example.net:465?from=alerts@example.org&to=b@example.org",\n'
                 '  "ntfy://me:Pa?ss=w0rd@ntfy.example.net/topic",\n'  # passwords apprise takes, written unencoded
                 '  "json://me:2024#Secure@hooks.example.net/x",\n'
                 ']\n')
    result = run_cli("--config", str(path), "config", "check")
    assert result.returncode == 0, result.stderr
    assert "mailto://127.0.0.1:2525?smtp=127.0.0.1&from=alerts@example.org&to=a@example.org" in result.stdout
    assert "mailtos://me:***@smtp.example.net:465?from=alerts@example.org&to=b@example.org" in result.stdout
    assert "hunter2" not in result.stdout + result.stderr
    assert "ntfy://me:***@ntfy.example.net/topic" in result.stdout and "json://me:***@hooks.example.net/x" in result.stdout
    for password in ("Pa?ss=w0rd", "2024#Secure", "Pa?ss", "2024"):
        assert password not in result.stdout + result.stderr
    path.write_text(path.read_text().replace("hunter2@smtp.example.net:465", "pa?ss@smtp.example.net"))
    refused = run_cli("--config", str(path), "config", "check")  # a URL apprise cannot read: refused...
    assert refused.returncode == 2 and "subscribers[team].notify[1]" in refused.stderr
    assert "pa?ss" not in refused.stdout + refused.stderr  # ...without its password


@pytest.mark.parametrize(("url", "label"), [
    ("mailto://127.0.0.1:2525?smtp=127.0.0.1&from=alerts@example.org&to=a@example.org", "mailto://127.0.0.1:2525/…"),
    ("mailtos://me:hunter2@smtp.example.net:465?from=alerts@example.org", "mailtos://smtp.example.net:465/…"),
    ("json://me:2024#Secure@hooks.example.net/x", "json://hooks.example.net/…"),
    ("json://me:12/34@hooks.example.net/x", "json://me/…"),  # an unencoded / in it: no port shown
    ("discord://4174216298/JHMHI8qBe7bk2ZwO5U711o3dV_js", "discord://4174216298/…"),
])
def test_a_targets_label_names_its_host_and_nothing_secret(url: str, label: str) -> None:
    """What `notify` lines and `--test` print for a target: scheme and host, never a password,
    token or path."""
    from tracker.targets import Target

    assert Target(url, url, None).label == label
