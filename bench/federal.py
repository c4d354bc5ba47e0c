"""Benchmark: GovInfo BILLSTATUS through the real engine against a loopback server in its own process.

Three scenarios, each run three times (a fresh process and database each time; three processes
share two cores, so figures are the median with the spread):

  (a) package baseline: a title watch ("BREATHE Act") and 20 named bills over one Congress whose
      `hr` package has --members members (derived: real files under tests/data/federal renumbered,
      the files under 70 KB, about the size of real BILLSTATUS files; labelled in each member),
      five files newer than the package fetched singly after it;
  (b) full sync of --bills named bills by single files (the real files, varied numbers) against a
      bare engine that downloads the same files and does nothing else, in the same process, after a
      warm-up crawl of 22 other files (one-time start-up is neither side's throughput);
  (c) a no-change run at --named named bills spread over the eight types of one Congress (after
      their package baseline).

Politeness is OFF (no download delay, no AutoThrottle, 16 concurrent requests): this measures our
own cost, not GovInfo's patience. Peak memory is each process's high-water mark (VmHWM): the main
process, the ingest worker it starts, and (apart) the loopback server.

    python bench/federal.py [--db URL] [--runs 3] [--members 10000] [--bills 2000] [--named 2000]
                            [--only abc] [--flat]    # --flat: (a) at 500 and 8,000 members too
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# The code under test: this checkout, or the one `--code` names (an A/B on this checkout's data;
# read before the first import, and handed on to every run's own process).
CODE = Path(sys.argv[sys.argv.index("--code") + 1]).resolve() if "--code" in sys.argv[:-1] else ROOT
sys.path.insert(0, str(CODE))

from tracker.billnumbers import BILL_TYPES  # noqa: E402
from tracker.demo.packages import (  # noqa: E402
    INDEX_PATH,
    derive_bill,
    file_path,
    package_path,
    sitemap_path,
    sitemap_xml,
    write_package,
)

# The real BILLSTATUS files: the tests' and those the demo ships (one copy of each).
PLACES = (ROOT / "tests" / "data" / "federal", ROOT / "tracker" / "demo" / "data" / "govinfo")
FIXTURES = sorted((p for place in PLACES for p in place.glob("BILLSTATUS-*.xml")), key=lambda p: p.name)
SMALL = sorted((p for place in PLACES for p in place.glob("**/BILLSTATUS-*.xml") if p.stat().st_size < 70_000),
               key=lambda p: (p.name, str(p)))
_NAME = re.compile(r"BILLSTATUS-(\d+)([a-z]+)(\d+)\.xml")
CONGRESS = 118
OLD = "2026-10-20T09:00:00Z"
NEWER = "2026-11-03T16:00:00Z"  # after the package (members dated 2026-11-01, served as of 2026-11-02)
TITLE = "BREATHE Act"
WARM_UP = 22  # (b): files crawled before the clock starts (each real file twice)


# -- data (written once per benchmark into a folder the loopback server serves) ----------------------


def _title(data: bytes) -> str:
    match = re.search(rb"<title>([^<]*)</title>", data)
    return match.group(1).decode() if match else ""


def members(bill_type: str, count: int, breathe: set[int]) -> Iterator[tuple[int, bytes]]:
    sources = [p.read_bytes() for p in SMALL]
    titles = [_title(s) for s in sources]
    for n in range(1, count + 1):
        i = (n + len(bill_type)) % len(sources)
        if n in breathe:
            yield n, derive_bill(sources[i], CONGRESS, bill_type, n, title=TITLE, old_title=titles[i])
        else:
            yield n, derive_bill(sources[i], CONGRESS, bill_type, n)


def write_congress(folder: Path, base: str, sizes: dict[str, int], newer: dict[str, list[int]],
                   breathe: dict[str, set[int]]) -> None:
    """Packages, sitemaps (lastmods) and the files newer than their package, for one Congress."""
    index = []
    for bill_type, count in sizes.items():
        late = set(newer.get(bill_type, []))
        target = folder / package_path(CONGRESS, bill_type).lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)

        def stream(bill_type: str = bill_type, count: int = count, late: set[int] = late) -> Iterator[tuple[str, bytes]]:
            for n, data in members(bill_type, count, breathe.get(bill_type, set())):
                if n in late:
                    (folder / file_path(CONGRESS, bill_type, n).lstrip("/")).write_bytes(data)
                yield f"BILLSTATUS-{CONGRESS}{bill_type}{n}.xml", data

        write_package(target, stream(), level=6)
        entries = [(base + file_path(CONGRESS, bill_type, n), NEWER if n in late else OLD) for n in range(1, count + 1)]
        site = folder / sitemap_path(CONGRESS, bill_type).lstrip("/")
        site.parent.mkdir(parents=True, exist_ok=True)
        site.write_bytes(sitemap_xml(entries))
        index.append((base + sitemap_path(CONGRESS, bill_type), OLD))
    (folder / INDEX_PATH.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
    (folder / INDEX_PATH.lstrip("/")).write_bytes(sitemap_xml(index, index=True))


def renumber(data: bytes, number: int) -> bytes:
    """The same real file under another bill number (both schemas)."""
    data = re.sub(rb"<number>\d+</number>", f"<number>{number}</number>".encode(), data, count=1)
    return re.sub(rb"<billNumber>\d+</billNumber>", f"<billNumber>{number}</billNumber>".encode(), data, count=1)


def write_singles(folder: Path, count: int) -> list[str]:
    numbers = []
    for i in range(count):
        source = FIXTURES[i % len(FIXTURES)]
        congress, bill_type, _ = _NAME.search(source.name).groups()  # type: ignore[union-attr]
        number = 20000 + i
        path = folder / file_path(int(congress), bill_type, number).lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(renumber(source.read_bytes(), number))
        numbers.append(f"{bill_type}{number}-{congress}")
    index = folder / INDEX_PATH.lstrip("/")
    index.parent.mkdir(parents=True, exist_ok=True)
    index.write_bytes(sitemap_xml([], index=True))  # no sitemaps: every named bill by its own request
    return numbers


# -- processes ---------------------------------------------------------------------------------------


def vm_hwm_mb(pid: int | str = "self") -> float:
    """A process's peak resident memory (VmHWM), in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def descendant_pids(root: int | None = None) -> list[int]:
    """Every live process below `root` (this one by default): ingest workers, and the resource
    tracker multiprocessing starts beside them, which is memory the tracker uses too."""
    root = os.getpid() if root is None else root
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = [], [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent]
        found += children
        frontier += children
    return found


def cpu_seconds(pid: int | str = "self") -> float:
    """CPU time (user + system) a process has used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


class Server:
    """The loopback server in its own process (`python -m tracker.demo.replay FOLDER`)."""

    def __init__(self, folder: Path, port: int) -> None:
        self.log = folder.parent / f"{folder.name}.requests.log"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tracker.demo.replay", str(folder), "--port", str(port)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=self.log.open("w"), text=True,
        )
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().strip()

    def stop(self) -> float:
        peak = vm_hwm_mb(self.proc.pid)
        self.proc.terminate()
        self.proc.wait(timeout=10)
        return peak


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- one run, in a child process ----------------------------------------------------------------------


def reset_database(url: str, work: Path) -> str:
    if url.startswith("sqlite"):
        path = work / "bench.db"
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        return f"sqlite:///{path}"
    import psycopg

    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")
    return url


def child(args: argparse.Namespace) -> dict[str, Any]:
    import scrapy

    from tracker import ingestworker
    from tracker.config import load_config
    from tracker.crawl import run_crawls
    from tracker.planning import SourceJob
    from tracker.report import SourceReport
    from tracker.store import Store

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    db = reset_database(args.db, work)
    spec = json.loads(args.spec)
    watches = ""
    if spec.get("title"):
        watches += f'[[bills]]\nid = "breathe"\nname = "BREATHE Act"\ntitles = ["{TITLE}"]\ncongresses = [{CONGRESS}]\n'
    if spec.get("numbers"):
        watches += f'[[bills]]\nid = "named"\nname = "Named"\nnumbers = {json.dumps(spec["numbers"])}\n'
    config_path = work / "tracker.toml"
    head = f'[storage]\nurl = "{db}"\n[crawl]\ndelay_seconds = 0\n[sources.govinfo]\nbase_url = "{args.url}"\n'
    config_path.write_text(head + watches)
    config = load_config(config_path, env={})
    if spec.get("warm"):
        warm_path = work / "warm.toml"
        warm_path.write_text(head + f'[[bills]]\nid = "warm"\nname = "Warm-up"\nnumbers = {json.dumps(spec["warm"])}\n')
        warm_config = load_config(warm_path, env={})
    store = Store(config.database_url)
    out: dict[str, Any] = {}

    def crawl(label: str) -> SourceReport:
        started = time.perf_counter()
        (report,) = run_crawls(config, store, polite=False)
        out[label] = {"seconds": time.perf_counter() - started, "requests": report.requests, "items": report.items,
                      "not_modified": report.not_modified, "bytes": report.bytes, "errors": report.errors[:3]}
        return report

    def cpu() -> tuple[float, float, float]:
        workers = ingestworker.worker_pids()
        server = int(args.server_pid or 0)
        return cpu_seconds(), sum(cpu_seconds(pid) for pid in workers), cpu_seconds(server) if server else 0.0

    if args.child == "a":
        crawl("baseline")
    elif args.child == "c":
        crawl("baseline")
        crawl("unchanged")
    elif args.child == "b":
        # A warm-up crawl of other files first: the process's one-time start-up (imports, the spider
        # loader, the ingest worker's spawn and imports) counts against neither side; the bare
        # engine, crawling second, would otherwise get it for free.
        run_crawls(warm_config, store, polite=False)
        before = cpu()
        crawl("full")
        after = cpu()
        out["full"]["cpu"] = [b - a for a, b in zip(before, after, strict=True)]

        class BareSpider(scrapy.Spider):
            """Downloads the same files and does nothing else: the engine's own rate."""

            name = "bare"

            def __init__(self, *a: Any, urls: list[str], report: SourceReport, **kw: Any) -> None:
                for key in ("config", "validators", "cursor"):
                    kw.pop(key, None)
                super().__init__(*a, **kw)
                self.urls, self.report = urls, report

            async def start(self) -> AsyncIterator[scrapy.Request]:
                for url in self.urls:
                    yield scrapy.Request(url, callback=self.parse)

            def parse(self, response: Any) -> None:
                self.report.items += 1

        urls = []
        for number in spec["numbers"]:
            bill_type, digits, congress = re.match(r"([a-z]+)(\d+)-(\d+)", number).groups()  # type: ignore[union-attr]
            urls.append(args.url + file_path(int(congress), bill_type, int(digits)))
        job = SourceJob("bare", "bare", [], {"urls": urls}, spider=BareSpider)
        started = time.perf_counter()
        before = cpu()
        run_crawls(config, store, polite=False, jobs=[job], settings={"ITEM_PIPELINES": {}})
        out["bare"] = {"seconds": time.perf_counter() - started, "files": len(urls),
                       "cpu": [b - a for a, b in zip(before, cpu(), strict=True)]}
    # Every process the run started (ingest workers and multiprocessing's resource tracker), not
    # only the workers: "all processes" means all of them.
    out["main_mb"] = vm_hwm_mb()
    out["worker_mb"] = sum(vm_hwm_mb(pid) for pid in descendant_pids())
    return out


# -- the parent: data, server, runs, table ------------------------------------------------------------


def run_child(scenario: str, url: str, db: str, work: Path, spec: dict[str, Any], server_pid: int = 0) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__).resolve()), "--child", scenario, "--url", url, "--db", db,
               "--work", str(work), "--spec", json.dumps(spec), "--server-pid", str(server_pid), "--code", str(CODE)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise SystemExit(f"benchmark run {scenario} failed:\n{done.stderr[-3000:]}")
    return json.loads(lines[-1])


def figure(values: list[float], fmt: str = "{:.2f}") -> str:
    med = statistics.median(values)
    return f"{fmt.format(med)} ({fmt.format(min(values))}–{fmt.format(max(values))})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default="sqlite", help="sqlite (default) or a postgresql+psycopg:// URL")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--bills", type=int, default=2000)
    parser.add_argument("--named", type=int, default=2000)
    parser.add_argument("--only", default="abc")
    parser.add_argument("--code", type=Path, help="a checkout whose code to run on this one's data (default: this one)")
    parser.add_argument("--flat", action="store_true", help="also (a) at 500 and 8,000 members: memory flat?")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    parser.add_argument("--spec", help=argparse.SUPPRESS)
    parser.add_argument("--server-pid", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args)))
        sys.stdout.flush()
        from tracker import ingestworker

        ingestworker.shutdown()  # it holds our stdout open
        os._exit(0)  # the reactor thread needs no orderly goodbye

    rows: list[tuple[str, str, str, str, str, str]] = []
    notes: list[str] = []
    backend = "SQLite" if args.db == "sqlite" else "PostgreSQL"
    print(f"politeness OFF (no delay, 16 concurrent requests); {backend}; {args.runs} runs each, "
          "median (min–max); loopback server in its own process", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-federal-") as tmp:
        root = Path(tmp)

        def congress_scenario(name: str, sizes: dict[str, int], newer: dict[str, list[int]],
                              breathe: dict[str, set[int]], spec: dict[str, Any], label: str) -> list[dict[str, Any]]:
            folder = root / name
            folder.mkdir()
            port = free_port()
            started = time.perf_counter()
            write_congress(folder, f"http://127.0.0.1:{port}", sizes, newer, breathe)
            size = sum((folder / package_path(CONGRESS, t).lstrip("/")).stat().st_size for t in sizes) / 1_048_576
            print(f"  {label}: data written in {time.perf_counter() - started:.0f} s ({size:.1f} MB of packages)",
                  flush=True)
            server = Server(folder, port)
            try:
                runs = [run_child(name[0], server.url, args.db, root / f"{name}-run{i}", spec) for i in range(args.runs)]
            finally:
                server_mb = server.stop()
            for run in runs:
                run["server_mb"] = server_mb
            return runs

        def package_a(count: int, tag: str) -> list[dict[str, Any]]:
            step = max(1, count // 20)
            spec = {"title": True, "numbers": [f"hr{n}-{CONGRESS}" for n in range(step, count + 1, step)][:20]}
            return congress_scenario(f"a{tag}", {"hr": count}, {"hr": [11, 222, 3333 % count, 4444 % count, 5]},
                                     {"hr": {7, count // 2}}, spec, f"(a) {count:,}-member package")

        def add_a(runs: list[dict[str, Any]], count: int) -> None:
            seconds = [r["baseline"]["seconds"] for r in runs]
            total = [r["main_mb"] + r["worker_mb"] for r in runs]
            first = runs[0]
            rows.append((f"(a) package baseline, {count:,} members", f"{figure(seconds)} s",
                         f"{first['baseline']['requests']} req, {first['baseline']['items']} stored",
                         f"{figure([r['main_mb'] for r in runs], '{:.0f}')} + {figure([r['worker_mb'] for r in runs], '{:.0f}')}",
                         f"{figure(total, '{:.0f}')} MB", "≤ 30 s, ≤ 400 MB"))

        if "a" in args.only:
            runs = package_a(args.members, "")
            add_a(runs, args.members)
        if args.flat:
            small, large = package_a(500, "500"), package_a(8000, "8000")
            add_a(small, 500)
            add_a(large, 8000)
            s = statistics.median(r["main_mb"] + r["worker_mb"] for r in small)
            big = statistics.median(r["main_mb"] + r["worker_mb"] for r in large)
            rows.append(("memory flat: 8,000 vs 500 members", f"{big / s - 1:+.0%}", "", "", f"{s:.0f} → {big:.0f} MB",
                         "within 20%"))
        if "b" in args.only:
            folder = root / "b"
            folder.mkdir()
            numbers = write_singles(folder, args.bills + WARM_UP)
            numbers, warm = numbers[:args.bills], numbers[args.bills:]
            server = Server(folder, free_port())
            try:
                runs = [run_child("b", server.url, args.db, root / f"b-run{i}", {"numbers": numbers, "warm": warm},
                                  server.proc.pid)
                        for i in range(args.runs)]
            finally:
                server.stop()
            rates = [len(numbers) / r["full"]["seconds"] for r in runs]
            bare = [r["bare"]["files"] / r["bare"]["seconds"] for r in runs]
            ratios = [rate / b for rate, b in zip(rates, bare, strict=True)]
            total = [r["main_mb"] + r["worker_mb"] for r in runs]
            rows.append((f"(b) full sync, {len(numbers):,} single files", f"{figure(rates, '{:.0f}')} bills/s",
                         f"bare engine {figure(bare, '{:.0f}')} files/s",
                         f"{figure([r['main_mb'] for r in runs], '{:.0f}')} + {figure([r['worker_mb'] for r in runs], '{:.0f}')}",
                         f"{figure(total, '{:.0f}')} MB", f"ratio {figure(ratios, '{:.0%}')} (≥ 45%)"))
            for label in ("full", "bare"):
                shares = [statistics.median(r[label]["cpu"][i] for r in runs) for i in range(3)]
                seconds = statistics.median(r[label]["seconds"] for r in runs)
                notes.append(f"(b) {label}: CPU seconds main {shares[0]:.1f}, ingest worker {shares[1]:.1f}, "
                             f"loopback server {shares[2]:.1f} in {seconds:.1f} s wall (2 cores: "
                             f"{sum(shares) / seconds / 2:.0%} busy)")
        if "c" in args.only:
            per = args.named // len(BILL_TYPES)
            sizes = {t: per + 50 for t in BILL_TYPES}
            numbers = [f"{t}{n}-{CONGRESS}" for t in BILL_TYPES for n in range(1, per + 1)]
            runs = congress_scenario("c", sizes, {}, {}, {"numbers": numbers}, f"(c) {len(numbers):,} named bills")
            seconds = [r["unchanged"]["seconds"] for r in runs]
            total = [r["main_mb"] + r["worker_mb"] for r in runs]
            first = runs[0]["unchanged"]
            rows.append((f"(c) no-change run, {len(numbers):,} named bills / 8 types", f"{figure(seconds)} s",
                         f"{first['requests']} req, {first['bytes']:,} B; baseline "
                         f"{figure([r['baseline']['seconds'] for r in runs])} s, {runs[0]['baseline']['requests']} req",
                         f"{figure([r['main_mb'] for r in runs], '{:.0f}')} + {figure([r['worker_mb'] for r in runs], '{:.0f}')}",
                         f"{figure(total, '{:.0f}')} MB", "≤ 12 req, ≤ 3 s"))
            errors = [e for r in runs for part in ("baseline", "unchanged") for e in r[part]["errors"]]
            if errors:
                print("errors:", *errors[:3], sep="\n  ")

    header = ("scenario", "time / rate", "requests", "peak MB main + worker", "total peak", "target")
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    print()
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("| " + " | ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)) + " |")
    for note in notes:
        print(note)


if __name__ == "__main__":
    main()
