"""A normal install works, not only the editable one the tests run from: the wheel carries the
templates, the migrations and the demo's recorded data, and `tracker demo` runs from it.

The wheel is built from a copy of the source (so no build/ folder lands in the working tree) and
installed with pip into a fresh venv. Its dependencies are not downloaded again: a .pth file adds
this environment's site-packages, where the dependencies are. Lines of a .pth file only extend
sys.path (the .pth files inside that folder are not run), so this environment's editable finder
for `tracker` is not loaded, and the test checks that `tracker` is imported from the new venv.
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from setuptools import find_namespace_packages

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ("pyproject.toml", "README.md", "tracker", "spiders", "templates", "config")


def test_every_python_package_is_listed_in_pyproject() -> None:
    """pyproject.toml lists its packages (templates/ is mapped in, which discovery cannot do): a new
    package folder missing from the list would be missing from the wheel."""
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {
        name for name in find_namespace_packages(where=str(ROOT), include=["tracker*", "spiders*"])
        if any((ROOT / name.replace(".", "/")).glob("*.py"))
    }
    assert found - listed == set(), f"missing from [tool.setuptools] packages: {sorted(found - listed)}"
    assert listed - found == {"tracker.templates", "tracker.sample"}, \
        f"listed but not in the source: {sorted(listed - found)}"


def _run(args: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 180) -> str:
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{args}: exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def _copy_source(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build")
    for name in SHIPPED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, src / name, ignore=ignore)
        else:
            shutil.copy2(source, src / name)
    return src


def _venv_with(tmp_path: Path, *install: str) -> tuple[Path, Path]:
    """A fresh venv with `pip install --no-deps *install` done by this environment's pip, and this
    environment's site-packages on its path for the dependencies. Returns (venv, its site-packages)."""
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], tmp_path)
    python = venv / "bin" / "python"
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--quiet", *install],
         tmp_path)
    target_site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                            tmp_path).strip())
    (target_site / "deps-from-test-env.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    return venv, target_site


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "TRACKER_CONFIG", "TRACKER_NOW")}


@pytest.mark.slow
def test_wheel_installs_and_runs_the_demo(tmp_path: Path) -> None:
    src = _copy_source(tmp_path)
    wheels = tmp_path / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(wheels), str(src)],
         tmp_path)
    (wheel,) = wheels.glob("tracker-*.whl")
    venv, target_site = _venv_with(tmp_path, str(wheel))
    python = venv / "bin" / "python"
    env = _clean_env()

    run_dir = tmp_path / "elsewhere"  # not the repo: nothing may come from the source tree
    run_dir.mkdir()
    script = ("import tracker, tracker.templating as t; "
              "print(tracker.__file__, type(t.bundled_loader()).__name__)")
    where = _run([str(python), "-c", script], run_dir, env).split()
    assert where[0].startswith(str(target_site)), f"tracker imported from {where[0]}, not from the wheel"
    assert where[1] == "PackageLoader", "bundled templates must come from the installed package"

    result = subprocess.run([str(venv / "bin" / "tracker"), "demo", "--out", str(run_dir / "demo")],
                            cwd=run_dir, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "changes found" in out and "[bill.stage]" in out and "[meeting.cancelled]" in out
    site_dir = run_dir / "demo" / "site"
    assert f"digest at {site_dir / 'index.html'}" in out
    page = (site_dir / "index.html").read_text(encoding="utf-8")
    assert "Officer Eugene Goodman" in page and "Committee on Public Safety" in page
    assert (site_dir / "changes.atom").exists() and (site_dir / "meetings.ics").exists()

    # The commands the demo ends on run as printed (this install's own script), the last two writing
    # and checking the sample config shipped in the wheel: the repo's config/tracker.toml, byte for byte.
    lines = out.splitlines()
    printed = [line.strip() for line in lines[next(i for i, line in enumerate(lines) if "look around" in line):]
               if line.startswith("  ")]
    assert len(printed) == 5 and printed[-2:] == [f"{venv / 'bin' / 'tracker'} config init",
                                                  f"{venv / 'bin' / 'tracker'} config check"], printed
    for command in printed:
        ran = subprocess.run(command, shell=True, cwd=run_dir, env=env, capture_output=True, text=True, timeout=120)
        assert ran.returncode == 0 and ran.stdout, f"{command}: exit {ran.returncode}\n{ran.stdout}\n{ran.stderr}"
    assert (run_dir / "config" / "tracker.toml").read_bytes() == (ROOT / "config" / "tracker.toml").read_bytes()
    again = subprocess.run([str(venv / "bin" / "tracker"), "config", "init"], cwd=run_dir, env=env,
                           capture_output=True, text=True, timeout=60)
    assert again.returncode == 2 and "already exists; not overwritten" in again.stderr


@pytest.mark.slow
def test_editable_install_loads_the_templates_as_a_package(tmp_path: Path) -> None:
    """`pip install -e .` maps `tracker.templates` to the top-level templates/ folder: the bundled
    templates load through the package, not through a path guessed from the source tree."""
    src = _copy_source(tmp_path)
    venv, _ = _venv_with(tmp_path, "--editable", str(src))
    script = ("import tracker.templating as t; loader = t.bundled_loader(); "
              "print(type(loader).__name__, loader.get_source(None, 'digest/index.html.j2')[1])")
    out = _run([str(venv / "bin" / "python"), "-c", script], tmp_path, _clean_env()).split()
    assert out == ["PackageLoader", str(src / "templates" / "digest" / "index.html.j2")]


def test_one_environment_per_purpose_and_folder(tmp_path: Path) -> None:
    """The digest escapes HTML, alert bodies do not; an override folder is searched first and the
    rest still comes from the bundled templates; a built environment is reused (compiling per
    message cost 6 ms), and an edited override file is still picked up."""
    from tracker import templating

    override = tmp_path / "mine"
    (override / "alerts").mkdir(parents=True)
    (override / "alerts" / "footer.txt.j2").write_text("mine: {{ subscriber }}")
    alerts = templating.environment("alerts", override, html=False, filters={"shout": str.upper})
    assert templating.environment("alerts", override, html=False) is alerts
    assert templating.environment("alerts", None, html=False) is not alerts
    assert alerts.get_template("alerts/footer.txt.j2").render(subscriber="<a&b>") == "mine: <a&b>"
    assert alerts.get_template("alerts/instant.txt.j2").filename.endswith("templates/alerts/instant.txt.j2")
    assert alerts.from_string("{{ 3 | ordinal }} {{ 'x' | shout }}").render() == "3rd X"

    digest = templating.environment("digest", override, html=True)
    assert digest is not alerts
    assert digest.from_string("{{ v }}").render(v="<b>") == "&lt;b&gt;"

    footer = override / "alerts" / "footer.txt.j2"
    footer.write_text("changed: {{ subscriber }}")
    os.utime(footer, (footer.stat().st_mtime + 5,) * 2)  # a later mtime, as an edit a moment later has
    assert alerts.get_template("alerts/footer.txt.j2").render(subscriber="s") == "changed: s"
