"""Benchmark: what a `tracker` command costs before it does anything, the price cron pays at each
start (and a crawl's ingest worker at its own). Each command runs in its own process on a config of
one iCalendar watch whose host refuses connections (the crawl fails at once, with its retries) and
a database already migrated; the CPU time of the process and its children, fastest and median of N.

    python bench/startup.py [--runs 12] [--code OTHER_CHECKOUT]

`--code` runs the same commands with another checkout's `tracker` (its own venv's python, else this
one's), interleaved with this one's, for an A/B on one loaded machine.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = (["status", "--json"], ["config", "check"], ["notify"], ["crawl"])
CONFIG = ('[crawl]\ndelay_seconds = 0\n[[meetings]]\nid = "city"\nname = "City Board"\n'
          'timezone = "America/Detroit"\nical = "http://127.0.0.1:1/feed.ics"\n')


def python_of(checkout: Path) -> str:
    own = checkout / ".venv" / "bin" / "python"
    return str(own) if own.exists() else sys.executable


def cpu_of(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    """CPU seconds (user and system) of one command and every process it waited for."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    args.add_argument("--runs", type=int, default=12)
    args.add_argument("--code", type=Path, default=None, help="another checkout to compare with")
    opts = args.parse_args()
    checkouts = {"this": ROOT} | ({"other": opts.code.resolve()} if opts.code else {})
    with tempfile.TemporaryDirectory() as work:
        env = {**os.environ, "TRACKER_NOW": "2019-04-10T12:00:00Z"}
        env.pop("TRACKER_CONFIG", None)
        folders = {}
        for name, checkout in checkouts.items():
            folder = Path(work) / name
            folder.mkdir()
            (folder / "tracker.toml").write_text(CONFIG)
            folders[name] = (folder, [python_of(checkout), "-m", "tracker.cli", "--config", "tracker.toml"],
                             {**env, "PYTHONPATH": str(checkout)})
            cpu_of([*folders[name][1], "status"], folder, folders[name][2])  # migrate, warm the disk cache
        for command in COMMANDS:
            times: dict[str, list[float]] = {name: [] for name in folders}
            for _ in range(opts.runs):
                for name, (folder, base, own_env) in folders.items():
                    times[name].append(cpu_of([*base, *command], folder, own_env))
            figures = "   ".join(f"{name}: {min(t):.2f} / {statistics.median(t):.2f} s" for name, t in times.items())
            print(f"tracker {' '.join(command):<14} CPU fastest / median of {opts.runs}   {figures}")


if __name__ == "__main__":
    main()
