"""Benchmark and A/B check of the BILLSTATUS parser alone (no engine, no database).

A change to `tracker.bills.parse_billstatus` must not move a single snapshot hash (a moved hash is a
new snapshot of every bill, and any difference in what it says is news to subscribers). This reads
every recorded BILLSTATUS file (tests/data/federal, the demo's govinfo recordings, and any folder
named with --also), plus earlier states derived from each (one per day an action or a cosponsor
dates from: `tracker.demo.derive.billstatus_before`) and each renumbered and retitled
(`tracker.demo.packages.derive_bill`), and writes the sha256 of each parse's canonical JSON.
Run it once against the old code (`--code` a checkout of it) and once against the new, then compare:

    python bench/billstatus.py --code /path/to/old/checkout --hashes old.json
    python bench/billstatus.py --hashes new.json
    python bench/billstatus.py --compare old.json new.json

    python bench/billstatus.py --time [--rounds 30]    # ms a bill over the recorded files
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PLACES = (ROOT / "tests" / "data" / "federal", ROOT / "tracker" / "demo" / "data" / "govinfo")
_TITLE = re.compile(rb"<title>([^<]*)</title>")
_DATES = re.compile(rb"<(?:actionDate|sponsorshipDate|sponsorshipWithdrawnDate)>(\d{4}-\d\d-\d\d)")


def recorded(places: list[Path]) -> dict[str, bytes]:
    """Every BILLSTATUS file under the places, by its path (relative to the repository when in it)."""
    found: dict[str, bytes] = {}
    for place in places:
        for path in sorted(place.resolve().glob("**/BILLSTATUS-*.xml")):
            found[str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)] = path.read_bytes()
    return found


def inputs(places: list[Path]) -> dict[str, bytes]:
    """The recorded files, their derived earlier states and a renumbered, retitled copy of each."""
    from tracker.demo.derive import billstatus_before
    from tracker.demo.packages import derive_bill

    files = recorded(places)
    out = dict(files)
    for name, data in files.items():
        for day in sorted({d.decode() for d in _DATES.findall(data)}):
            out[f"{name}@before-{day}"] = billstatus_before(data, day)
        title = _TITLE.search(data)
        out[f"{name}@renumbered"] = derive_bill(data, 118, "hr", 9000, title="BREATHE Act",
                                                old_title=html.unescape(title.group(1).decode()) if title else None)
    out["bad/html"] = b"<!DOCTYPE html><html><body>down</body></html>"
    out["bad/no-bill"] = b"<billStatus><version>3.0.0</version></billStatus>"
    out["bad/no-number"] = b"<billStatus><bill><type>HR</type><congress>118</congress></bill></billStatus>"
    return out


def parser() -> tuple[Any, type[Exception]]:
    """The checkout's parser and its error, where it lives in that checkout (tracker/bills.py
    before the bills package)."""
    try:
        from tracker.bills.billstatus import BillParseError, parse_billstatus
    except ImportError:
        from tracker.bills import BillParseError, parse_billstatus  # type: ignore[attr-defined,no-redef]
    return parse_billstatus, BillParseError


def parse(data: bytes) -> Any:
    """What the parser under test gives, as the dict a snapshot stores (older checkouts gave the
    dict itself)."""
    result = parser()[0](data)
    return result.dump() if hasattr(result, "dump") else result


def hashes(places: list[Path]) -> dict[str, str]:
    from tracker.records import canonical_json

    BillParseError = parser()[1]

    out = {}
    for name, data in inputs(places).items():
        try:
            out[name] = hashlib.sha256(canonical_json(parse(data)).encode()).hexdigest()
        except BillParseError as exc:
            out[name] = f"error: {exc}"
    return out


def reader() -> Any:
    """What the ingest worker calls to make the record (older checkouts: `read_bill`, the parse's
    dict loaded into a `Bill`)."""
    try:
        from tracker.bills.billstatus import parse_billstatus
    except ImportError:
        from tracker.bills import read_bill  # type: ignore[attr-defined]

        return read_bill
    return parse_billstatus


def timing(places: list[Path], rounds: int) -> None:
    files = list({hashlib.sha256(d).digest(): d for d in recorded(places).values()}.values())
    size = sum(len(d) for d in files)
    read = reader()
    read(files[0])  # imports
    per_round = []
    for _ in range(rounds):
        started = time.process_time()  # CPU time: other processes sharing the cores do not count
        for data in files:
            read(data)
        per_round.append((time.process_time() - started) / len(files) * 1000)
    print(f"{len(files)} files ({size / 1024:.0f} KB), {rounds} rounds: "
          f"{statistics.median(per_round):.2f} ms of CPU a bill (median; "
          f"{min(per_round):.2f}–{max(per_round):.2f})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--code", type=Path, default=ROOT, help="the checkout whose parser to run")
    parser.add_argument("--also", type=Path, action="append", default=[], help="another folder of BILLSTATUS files")
    parser.add_argument("--hashes", type=Path, help="write {input: sha256} here")
    parser.add_argument("--compare", type=Path, nargs=2, metavar=("OLD", "NEW"))
    parser.add_argument("--time", action="store_true")
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    sys.path.insert(0, str(args.code.resolve()))
    places = [*PLACES, *args.also]
    if args.hashes:
        found = hashes(places)
        args.hashes.write_text(json.dumps(found, indent=1, sort_keys=True))
        files = recorded(places)
        distinct = len({hashlib.sha256(d).digest() for d in files.values()})
        print(f"{len(found)} inputs ({len(files)} recorded files, {distinct} distinct) hashed with "
              f"{args.code}: {args.hashes}")
    if args.compare:
        old, new = (json.loads(p.read_text()) for p in args.compare)
        differ = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
        for name in differ:
            print(f"DIFFERS {name}: {old.get(name)} → {new.get(name)}")
        print(f"{len(old.keys() & new.keys()) - len([k for k in differ if k in old and k in new])} identical, "
              f"{len(differ)} differ")
        sys.exit(1 if differ else 0)
    if args.time:
        timing(places, args.rounds)


if __name__ == "__main__":
    main()
