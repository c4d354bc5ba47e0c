"""Compiled templates are kept between processes (Jinja's bytecode cache, tracker/templating.py):
compiling the digest's and the alerts' templates was half a second of every `tracker run`. What a
user would check: a second process renders the same bytes from the cache; each kind of environment
(escaping HTML or not) reads its own files; a cache that is damaged, unusable or on a full disk
costs only the compiling, never the page."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

RENDER = """
import sys
from tracker import templating
folder, purpose, html = sys.argv[1], sys.argv[2], sys.argv[3] == "html"
env = templating.environment(purpose, folder, html=html)
sys.stdout.write(env.get_template("probe.html.j2").render(value="<b>Budget</b> & Safety"))
"""


def render(temp: Path, folder: Path, purpose: str, kind: str) -> str:
    """One template rendered in a process of its own, its temp folder (and so its cache) `temp`."""
    env = {**os.environ, "TMPDIR": str(temp)}
    done = subprocess.run([sys.executable, "-c", RENDER, str(folder), purpose, kind],
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def templates(tmp_path: Path) -> Path:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "probe.html.j2").write_text("{{ value }}|{{ value | line }}\n", encoding="utf-8")
    return folder


def cache_dir(temp: Path) -> Path:
    return temp / f"_jinja2-cache-{os.getuid()}"


def test_a_second_process_renders_the_same_from_the_kept_templates(tmp_path: Path, templates: Path) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    first = render(temp, templates, "digest", "html")
    assert first == "&lt;b&gt;Budget&lt;/b&gt; &amp; Safety|&lt;b&gt;Budget&lt;/b&gt; &amp; Safety"
    (kept,) = cache_dir(temp).glob("__tracker_digest_html_*.cache")
    written = kept.stat().st_mtime_ns
    assert render(temp, templates, "digest", "html") == first
    assert kept.stat().st_mtime_ns == written  # read, not compiled and written again

    # Plain text (alerts): the same template compiled without escaping, in files of its own.
    assert render(temp, templates, "alerts", "text") == "<b>Budget</b> & Safety|<b>Budget</b> & Safety"
    assert len(list(cache_dir(temp).glob("__tracker_alerts_text_*.cache"))) == 1
    assert render(temp, templates, "digest", "html") == first

    # An edited template is compiled afresh: the cache is checked against its source.
    (templates / "probe.html.j2").write_text("[{{ value }}]\n", encoding="utf-8")
    assert render(temp, templates, "digest", "html") == "[&lt;b&gt;Budget&lt;/b&gt; &amp; Safety]"


def test_a_damaged_or_unusable_cache_costs_only_the_compiling(tmp_path: Path, templates: Path) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    first = render(temp, templates, "digest", "html")
    for kept in cache_dir(temp).iterdir():
        kept.write_bytes(b"j2\x00not bytecode at all")
    assert render(temp, templates, "digest", "html") == first

    # The cache folder is not a folder of ours: no cache at all, the page as before.
    other = tmp_path / "other"
    other.mkdir()
    cache_dir(other).write_text("a file where the cache folder would be", encoding="utf-8")
    assert render(other, templates, "digest", "html") == first


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 1 MB file system (tmpfs) with every byte taken (needs root; skipped elsewhere with
    the reason, never under CI=true)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)],
                             capture_output=True, text=True)
    if mounted.returncode:
        problem = mounted.stderr.strip() or f"exit {mounted.returncode}"
        if IN_CI:
            pytest.fail(f"a small tmpfs is required under CI=true (run as root): {problem}")
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {problem}")
    try:
        cache_dir(disk).mkdir(mode=0o700)
        fd = os.open(disk / "filler", os.O_WRONLY | os.O_CREAT)
        try:
            for size in (65536, 4096, 512, 1):
                try:
                    while os.write(fd, b"\0" * size):
                        pass
                except OSError:
                    pass
        finally:
            os.close(fd)
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def test_a_cache_on_a_full_disk_costs_only_the_compiling(full_disk: Path, templates: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from tracker import templating

    monkeypatch.setattr(tempfile, "tempdir", str(full_disk))
    env = templating.environment("full-disk-probe", templates, html=True)
    assert env.bytecode_cache is not None and Path(env.bytecode_cache.directory) == cache_dir(full_disk)
    page = env.get_template("probe.html.j2").render(value="<b>Budget</b>")
    assert page == "&lt;b&gt;Budget&lt;/b&gt;|&lt;b&gt;Budget&lt;/b&gt;"
    assert list(cache_dir(full_disk).iterdir()) == []  # nothing could be written, nothing left behind
