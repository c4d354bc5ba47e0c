"""`tracker demo`: the whole job on bundled recorded sources, on this machine only.

Serves real recorded files on 127.0.0.1, crawls an earlier (derived) state as the baseline, then the
real files, prints the changes found and writes the digest, all into its own folder: never the
user's config or database.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from tracker.billnumbers import parse_bill_number
from tracker.config import load_config
from tracker.derive import billstatus_before

DATA = Path(__file__).with_name("demo_data")

# (bill, watch, cutoff of the derived baseline state, what the second crawl shows)
DEMO_BILLS = [
    ("s35-117", "police", "2021-02-12", "passes the Senate"),
    ("hr2471-117", "budget", "2022-03-09", "passes both chambers and becomes law"),
    ("hr6658-117", "budget", "2022-06-01", "gains cosponsors"),
    ("hr367-115", "firearms", "2017-10-01", "a cosponsor withdraws"),
    ("sjres8-114", "labor", "2015-03-30", "is vetoed"),
    ("s1300-114", "family", "2015-10-06", "becomes law"),
]
WATCH_NAMES = {
    "police": "Officer Eugene Goodman Congressional Gold Medal Act",
    "budget": "Appropriations and tax bills",
    "firearms": "Hearing Protection Act",
    "labor": "NLRB representation rule",
    "family": "Adoptive Family Relief Act",
}


def demo_config(server_url: str) -> str:
    watches = {}
    for number, watch, _cutoff, _what in DEMO_BILLS:
        watches.setdefault(watch, []).append(number)
    bills = "\n".join(
        f'[[bills]]\nid = "{watch}"\nname = "{WATCH_NAMES[watch]}"\nnumbers = {numbers!r}\n'.replace("'", '"')
        for watch, numbers in watches.items()
    )
    return f"""# Written by `tracker demo`: bundled recorded sources served on {server_url}
[tracker]
timezone = "America/New_York"
contact = "https://example.org/tracker-demo"

[storage]
url = "sqlite:///tracker.db"

[digest]
out = "site"

[crawl]
delay_seconds = 0

[sources.govinfo]
base_url = "{server_url}"

{bills}"""


def billstatus_path(number: str) -> str:
    bill = parse_bill_number(number)
    return f"/bulkdata/BILLSTATUS/{bill.congress}/{bill.type}/BILLSTATUS-{bill.congress}{bill.type}{bill.number}.xml"


def real_file(number: str) -> bytes:
    bill = parse_bill_number(number)
    return (DATA / "govinfo" / f"BILLSTATUS-{bill.congress}{bill.type}{bill.number}.xml").read_bytes()


def run_demo(out: Path | None, *, say: Callable[[str], None], error: Callable[[str], None]) -> int:
    from tracker.crawl import run_crawls
    from tracker.replay import serve
    from tracker.status import list_changes
    from tracker.store import Store

    folder = out or Path(tempfile.mkdtemp(prefix="tracker-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    if (folder / "tracker.db").exists():
        error(f"{folder} already holds a demo database; choose an empty folder")
        return 2
    with serve() as server:
        server.robots("User-agent: *\nAllow: /\n")
        for number, _watch, cutoff, _what in DEMO_BILLS:
            server.add(billstatus_path(number), billstatus_before(real_file(number), cutoff))
        config_path = folder / "tracker.toml"
        config_path.write_text(demo_config(server.url))
        config = load_config(config_path, env={})
        store = Store(config.database_url)

        def crawl(label: str) -> bool:
            say(f"demo: {label}")
            reports = run_crawls(config, store)
            for report in reports:
                say("  " + report.line())
                for line in report.errors:
                    error("  " + line)
            return all(report.ok for report in reports)

        say(f"demo: serving {len(DEMO_BILLS)} recorded BILLSTATUS files on {server.url}")
        ok = crawl("crawl 1 (baseline, an earlier state derived from each real file)")
        for number, _watch, _cutoff, _what in DEMO_BILLS:
            server.replace(billstatus_path(number), real_file(number))
        ok = crawl("crawl 2 (the real files, as GovInfo serves them now)") and ok

    changes = list_changes(store)
    say(f"demo: {len(changes)} changes found:")
    for change in changes:
        say(f"  [{change['kind']}] {change['summary']}")
    try:
        from tracker.digest import write_site
    except ImportError:
        site = None
    else:
        site = write_site(store, config, config.digest_dir)
    say(f"demo: data in {folder / 'tracker.db'} (config {config_path})")
    if site is not None:
        say(f"demo: digest at {site / 'index.html'}")
    say(f"demo: look around with: tracker --config {config_path} status")
    store.dispose()
    return 0 if ok else 1
