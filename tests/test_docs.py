"""The docs in docs/ are the users' reference: every config key and every command and option must
have an entry, so a key or option added without documenting it fails here, naming it.

Conventions the checks rely on (docs/configuration.md, docs/cli.md):
- a section starts at a heading whose text begins with a backticked name: `[tracker]`,
  `[sources.govinfo]`, `[[meetings]]`, `legistar = {...}` (an inline table inside an array of
  tables), `tracker status`; other headings (examples) do not end a section;
- a config key has a table row starting with its backticked name in its table's section;
- a command's section names each of its options' long forms in backticks.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from pydantic import BaseModel

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
# Written as the loader builds them from a plain string or list, so they are keys, not tables.
LEAF_MODELS = {"NotifyUrl"}
# Config fields that are not TOML keys.
NOT_KEYS = {("Config", "path")}


# -- reading the docs ---------------------------------------------------------------------------


def sections(path: Path) -> dict[str, str]:
    """Section text by the backticked name that opens its heading (fenced code is not a heading)."""
    out: dict[str, str] = {}
    current: str | None = None
    fenced = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fenced = not fenced
        heading = None if fenced else re.match(r"#{1,6}\s+`([^`]+)`", line)
        if heading:
            current = heading.group(1).strip()
            out.setdefault(current, "")
            continue
        if current is not None:
            out[current] += line + "\n"
    return out


def has_key_row(text: str, key: str) -> bool:
    return re.search(rf"^\|\s*`{re.escape(key)}`", text, flags=re.MULTILINE) is not None


# -- walking the config models --------------------------------------------------------------------


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [] if annotation.__name__ in LEAF_MODELS else [annotation]
    found: list[type[BaseModel]] = []
    for arg in typing.get_args(annotation):
        found += _models_in(arg)
    return found


def _is_list(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin is list:
        return True
    if origin in (typing.Union, types.UnionType, typing.Annotated):
        return any(_is_list(a) for a in typing.get_args(annotation))
    return False


def config_keys() -> list[tuple[str, str]]:
    """(section heading, key) for every TOML key the config models accept, nested ones included."""
    from tracker.config import Config

    keys: list[tuple[str, str]] = []

    def walk(model: type[BaseModel], table: str | None, path: tuple[str, ...], in_array: bool) -> None:
        for name, field in model.model_fields.items():
            if (model.__name__, name) in NOT_KEYS:
                continue
            models = _models_in(field.annotation)
            # A sub-table is its own section ([sources.govinfo]); an inline table is a key of its table.
            if table is not None and (not models or in_array):
                keys.append((table, name))
            if not models:
                continue
            if _is_list(field.annotation):  # every model of a union ([[bills]]: Congress's or states')
                for each in models:
                    walk(each, f"[[{'.'.join((*path, name))}]]", (*path, name), True)
            elif in_array:
                walk(models[0], f"{name} = {{...}}", (*path, name), True)
            else:
                walk(models[0], f"[{'.'.join((*path, name))}]", (*path, name), False)

    walk(Config, None, (), False)
    return keys


def test_the_walk_sees_nested_and_inline_keys() -> None:
    """The walk itself: if it stopped finding nested tables, the doc check would pass vacuously."""
    keys = config_keys()
    assert ("[tracker]", "timezone") in keys
    assert ("[sources.govinfo]", "base_url") in keys
    assert ("[[meetings]]", "ical") in keys and ("[[meetings]]", "legistar") in keys
    assert ("legistar = {...}", "client") in keys
    assert ("[[subscribers]]", "notify") in keys and ("[[bills]]", "numbers") in keys
    assert ("[[bills]]", "keywords") in keys and ("[[bills]]", "titles") in keys  # both kinds of bill watch
    assert not any(key == "template" for _, key in keys)  # NotifyUrl is written as a string


def test_every_config_key_is_documented() -> None:
    doc = sections(DOCS / "configuration.md")
    missing = [
        f"{table} {key}" for table, key in config_keys()
        if table not in doc or not has_key_row(doc[table], key)
    ]
    assert not missing, "docs/configuration.md has no entry (a `key` table row in its section) for: " + \
        ", ".join(missing)


def test_every_bundled_template_is_named_for_overrides() -> None:
    """`[digest] templates` overrides files by their bundled names: the doc lists every one."""
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    names = sorted(str(p.relative_to(ROOT / "templates")) for p in (ROOT / "templates").rglob("*.j2"))
    assert len(names) >= 10
    missing = [name for name in names if f"`{name}`" not in text]
    assert not missing, f"docs/configuration.md ([digest] templates) does not name: {missing}"


def test_every_meeting_source_kind_has_an_example() -> None:
    """Each kind of meeting source has a TOML example a user can copy (`kind = ...` in a code block)."""
    from tracker.sources import MEETING_SOURCES

    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    blocks = "\n".join(re.findall(r"```toml\n(.*?)```", text, flags=re.DOTALL))
    kinds = list(MEETING_SOURCES)
    assert "ical" in kinds and "legistar" in kinds
    missing = [k for k in kinds if not re.search(rf"^{k}\s*=", blocks, flags=re.MULTILINE)]
    assert not missing, f"docs/configuration.md has no TOML example for meeting source kind(s): {missing}"


def test_documented_toml_examples_are_valid_configs(tmp_path: Path) -> None:
    """Every full example in configuration.md (a TOML block with a watch or a section) loads."""
    from tracker.config import load_config

    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    names = ("SMTP_PASSWORD", "LEGISTAR_TOKEN", "HOOK_TOKEN", "NTFY_TOPIC", "PGPASSWORD", "OPENSTATES_API_KEY")
    env = {name: "x" for name in names}
    checked = 0
    for n, block in enumerate(re.findall(r"```toml\n(.*?)```", text, flags=re.DOTALL)):
        if "# fragment" in block:
            continue
        config = tmp_path / f"example{n}.toml"
        config.write_text(block)
        for folder in re.findall(r'^templates = "([^"]+)"', block, flags=re.MULTILINE):
            (tmp_path / folder).mkdir(exist_ok=True)  # the operator's own templates, there as the example has them
        load_config(config, env=env)  # raises ConfigError naming the key
        checked += 1
    assert checked >= 5


# -- walking the command line ----------------------------------------------------------------------


def commands(command: click.Command, path: tuple[str, ...] = ("tracker",)
             ) -> Iterator[tuple[str, click.Command]]:
    yield " ".join(path), command
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            yield from commands(sub, (*path, name))


def test_every_command_and_option_is_documented() -> None:
    from tracker.cli import main

    doc = sections(DOCS / "cli.md")
    missing: list[str] = []
    for name, command in commands(main):
        if name not in doc:
            missing.append(f"command `{name}`")
            continue
        for param in command.params:
            if not isinstance(param, click.Option):
                continue
            for opt in param.opts + param.secondary_opts:
                if opt.startswith("--") and f"`{opt}" not in doc[name]:
                    missing.append(f"`{name} {opt}`")
    assert len(list(commands(main))) >= 10
    assert not missing, "docs/cli.md has no entry for: " + ", ".join(missing)


def _json_after(text: str, heading: str) -> Any:
    block = re.search(rf"{re.escape(heading)}.*?```json\n(.*?)```", text, flags=re.DOTALL)
    assert block, f"docs/cli.md: no JSON example after {heading!r}"
    return json.loads(block.group(1))


def _shape(value: Any) -> Any:
    """Keys of objects (and of the first element of lists), recursively: what a consumer relies on."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items() if k != "data"}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    return None


def _keys_match(doc: Any, real: Any, where: str) -> list[str]:
    problems: list[str] = []
    if isinstance(doc, dict) and isinstance(real, dict):
        if set(doc) != set(real):
            problems.append(f"{where}: documented {sorted(set(doc) - set(real))} not printed, "
                            f"printed {sorted(set(real) - set(doc))} not documented")
        for key in set(doc) & set(real):
            problems += _keys_match(doc[key], real[key], f"{where}.{key}")
    elif isinstance(doc, list) and isinstance(real, list) and doc and real:
        problems += _keys_match(doc[0], real[0], f"{where}[]")
    return problems


@pytest.mark.slow
def test_json_examples_match_what_the_commands_print(tmp_path: Path) -> None:
    """The `status --json` and `changes --json` examples in cli.md have the keys the commands print
    on the demo's database (so a field added or renamed fails here until the doc says so)."""
    from click.testing import CliRunner

    from tracker.cli import main

    runner = CliRunner()
    demo = runner.invoke(main, ["--quiet", "demo", "--out", str(tmp_path / "demo")])
    assert demo.exit_code == 0, demo.output
    config = str(tmp_path / "demo" / "tracker.toml")
    status = json.loads(runner.invoke(main, ["--config", config, "status", "--json"]).stdout)
    changes = json.loads(runner.invoke(main, ["--config", config, "changes", "--json"]).stdout)
    status["meetings"] = [m for m in status["meetings"] if m["items"]][:1]  # one with items, as documented
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    problems = _keys_match(_shape(_json_after(text, "`tracker status --json`")), _shape(status), "status")
    problems += _keys_match(_shape(_json_after(text, "`tracker changes --json`")), _shape(changes), "changes")
    assert not problems, "docs/cli.md JSON examples differ from the output: " + "; ".join(problems)


# -- nothing points outside the repo ------------------------------------------------------------------

OUTSIDE = ("../" + "shared", "CONTRACT" + ".md")  # spelled apart so this file does not match itself


def test_no_file_points_outside_the_repo() -> None:
    places = [ROOT / "README.md", ROOT / "pyproject.toml", ROOT / "deploy", ROOT / "docs", ROOT / "tracker",
              ROOT / "spiders", ROOT / "templates", ROOT / "config", ROOT / "bench", ROOT / "tests"]
    found = []
    for place in places:
        files = [place] if place.is_file() else sorted(p for p in place.rglob("*") if p.is_file())
        for file in files:
            if file.suffix in (".pyc", ".db", ".xml", ".json", ".ics", ".html") or file == Path(__file__):
                continue
            text = file.read_text(encoding="utf-8", errors="replace")
            for n, line in enumerate(text.splitlines(), 1):
                if any(word in line for word in OUTSIDE):
                    found.append(f"{file.relative_to(ROOT)}:{n}")
    assert not found, "these lines point at files outside the repo: " + ", ".join(found)


def anchors(path: Path) -> set[str]:
    """The heading anchors GitHub makes: lower case, punctuation dropped, spaces to hyphens."""
    out = set()
    fenced = False
    for line in path.read_text(encoding="utf-8").splitlines():
        fenced = fenced != line.startswith("```")
        heading = None if fenced else re.match(r"#{1,6}\s+(.*)", line)
        if heading:
            out.add(re.sub(r"[^\w\- ]", "", heading.group(1).strip().lower()).replace(" ", "-"))
    return out


def test_docs_link_only_to_files_and_headings_that_exist() -> None:
    broken = []
    for doc in [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]:
        for target, anchor in re.findall(r"\]\(([^)#\s]*)(?:#([^)\s]*))?\)", doc.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target):
                continue
            file = (doc.parent / target) if target else doc
            if not file.exists():
                broken.append(f"{doc.relative_to(ROOT)} -> {target}")
            elif anchor and file.suffix == ".md" and anchor not in anchors(file):
                broken.append(f"{doc.relative_to(ROOT)} -> {target}#{anchor}")
    assert not broken, f"broken links: {broken}"


# -- deploy/ units -----------------------------------------------------------------------------------


def test_systemd_units_verify(tmp_path: Path) -> None:
    """deploy/tracker.service and tracker.timer pass `systemd-analyze verify`. The service's
    ExecStart names the install's own path (/srv/tracker/...), absent here, so the check runs on a
    copy whose ExecStart points at this Python; everything else is verified as shipped."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed here (apt-get install systemd provides it)")
    service = (ROOT / "deploy" / "tracker.service").read_text()
    timer = (ROOT / "deploy" / "tracker.timer").read_text()
    exec_start = re.search(r"^ExecStart=(\S+)", service, flags=re.MULTILINE)
    assert exec_start and exec_start.group(1).endswith("/bin/tracker"), "ExecStart runs the tracker script"
    assert "--quiet run" in service and "OnCalendar=" in timer and "Unit=tracker.service" in timer
    (tmp_path / "tracker.service").write_text(service.replace(exec_start.group(1), sys.executable))
    (tmp_path / "tracker.timer").write_text(timer)
    units = [str(tmp_path / "tracker.service"), str(tmp_path / "tracker.timer")]
    result = subprocess.run([analyze, "verify", *units], capture_output=True, text=True, timeout=60)
    # Lines about the host's own units (no systemd as PID 1 in a container) are not about ours.
    ours = [line for line in (result.stdout + result.stderr).splitlines() if "tracker." in line]
    assert result.returncode == 0 and not ours, result.stdout + result.stderr


def documented_cron_lines() -> list[str]:
    """The cron lines README.md and docs/operations.md give for the tracker itself (fenced `cron`
    blocks, and the README's inline one), each as the shell command after its five time fields."""
    lines = re.findall(r"`(\S+ \S+ \S+ \S+ \S+ cd /srv/tracker [^`]*)`", (ROOT / "README.md").read_text())
    for block in re.findall(r"```cron\n(.*?)```", (DOCS / "operations.md").read_text(), flags=re.DOTALL):
        lines += [line.strip() for line in block.splitlines() if line.strip() and "=" not in line.split()[0]]
    return [" ".join(line.split()[5:]) for line in lines if ".venv/bin/tracker" in line]


@pytest.mark.slow
def test_the_documented_cron_lines_run_as_written(tmp_path: Path, replay: Any) -> None:
    """Cron runs a line with an empty environment: a config keeping its secrets in `${VAR}` (as
    the docs ask) must get them from /etc/tracker/env in every documented line, else the line
    fails every time with `environment variable ... is not set` (mailed by cron, or a monitor
    raising its alarm). Each line runs here under /bin/sh with only PATH set, its paths moved under
    tmp_path; with --quiet, a healthy tracker prints nothing and exits 0."""
    from recorded import federal

    replay.add("/bulkdata/BILLSTATUS/117/s/BILLSTATUS-117s35.xml", federal("BILLSTATUS-117s35.xml"))
    srv, etc = tmp_path / "srv", tmp_path / "etc"
    (srv / "config").mkdir(parents=True)
    (srv / ".venv" / "bin").mkdir(parents=True)
    etc.mkdir()
    script = srv / ".venv" / "bin" / "tracker"
    script.write_text(f'#!/bin/sh\nexec {sys.executable} -m tracker.cli "$@"\n')
    script.chmod(0o755)
    (etc / "env").write_text("SMTP_PASSWORD=pw-from-the-env-file\n")
    (srv / "config" / "tracker.toml").write_text(f"""
[crawl]
delay_seconds = 0
[sources.govinfo]
base_url = "{replay.url}"
[operator]
notify = ["mailtos://alerts:${{SMTP_PASSWORD}}@mail.example.org?to=ops@example.org"]
[[bills]]
id = "police"
name = "Police accountability"
numbers = ["s35-117"]
""")
    lines = documented_cron_lines()
    assert any(line.endswith("--quiet run") for line in lines) and any("status --check" in line for line in lines)
    for line in lines:
        command = line.replace("/srv/tracker", str(srv)).replace("/etc/tracker/env", str(etc / "env"))
        result = subprocess.run(["/bin/sh", "-c", command], capture_output=True, text=True, timeout=300,
                                env={"PATH": "/usr/bin:/bin"}, cwd=tmp_path)
        assert (result.returncode, result.stdout + result.stderr) == (0, ""), line
