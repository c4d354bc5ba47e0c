"""`tracker demo`: the whole job on bundled recorded sources, on this machine only.

Serves real recorded files on 127.0.0.1, crawls an earlier (derived) state as the baseline, then the
real files, prints the changes found and writes the digest, all into its own folder: never the
user's config or database.
"""

from __future__ import annotations

import json
import re
import shlex
import tempfile
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from tracker import clock
from tracker.billnumbers import parse_bill_number
from tracker.changes import KINDS
from tracker.config import DEFAULT_CONFIG, load_config
from tracker.config import config_path as user_config_path
from tracker.demo.derive import billstatus_before
from tracker.demo.inbox import Inbox
from tracker.demo.legistar_api import LegistarApi
from tracker.demo.openstates_api import OpenStatesApi
from tracker.demo.replay import serve

DATA = Path(__file__).with_name("data")

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


# The recorded calendars' "today": their dates move forward by whole days so that this day falls on
# today. Whole weeks would keep weekdays but let "this week" lose the deferred hearing and the posted
# agenda on some weekdays (they are four days apart, a week's rounding is seven).
NYC_ANCHOR, DETROIT_ANCHOR = date(2023, 6, 7), date(2019, 4, 10)
NYC_EVENTS = DATA / "legistar" / "nyc_events_2023_council_public_safety.json"
DETROIT_FEED = DATA / "ics" / "detroit_k12_board_of_education.ics"
MEETINGS_CONFIG = """
[sources.legistar]
base_url = "{url}/v1"

[[meetings]]
id = "nyc-council"
name = "New York City Council"
timezone = "America/New_York"
legistar = {{ client = "nyc", bodies = ["City Council", "Committee on Public Safety"] }}
keywords = ["NYPD", "police", "ShotSpotter", "crisis response"]

[[meetings]]
id = "detroit-schools"
name = "Detroit Board of Education"
timezone = "America/Detroit"
ical = "{url}/detroit.ics"
keywords = ["budget"]
"""


def days_since(anchor: date, today: date) -> timedelta:
    """How far a recorded calendar moves so that its `anchor` day falls on `today`."""
    return timedelta(days=(today - anchor).days)


def nyc_events(shift: timedelta, *, later: bool) -> list[dict[str, Any]]:
    """The recorded NYC events moved by `shift`; the earlier state is derived (see SOURCES.md)."""
    events = json.loads(NYC_EVENTS.read_text())
    for event in events:
        for name in ("EventDate", "EventLastModifiedUtc", "EventAgendaLastPublishedUTC", "EventMinutesLastPublishedUTC"):
            if event.get(name):
                event[name] = (datetime.fromisoformat(event[name][:19]) + shift).isoformat()
    if later:
        return events
    earlier = []
    for event in events:
        if event["EventId"] == 20193:
            continue  # not yet scheduled
        if event["EventId"] == 20115:
            event["EventAgendaStatusName"] = "Final"  # not yet deferred
        if event["EventId"] == 20188:
            event["EventTime"] = "1:00 PM"  # later moved to 10:00 AM
        if event["EventId"] == 20180:
            event["EventAgendaFile"], event["EventAgendaStatusName"] = None, "Draft"  # agenda not yet public
        if event["EventId"] == 20111:
            event["EventAgendaLastPublishedUTC"] = None  # republished later with a new item
        earlier.append(event)
    return earlier


def nyc_items(*, later: bool) -> list[dict[str, Any]]:
    """Derived agenda items for hearing 20111 (the recorded NYC items are of a 1999 hearing)."""
    items = [{"EventItemId": 900001, "EventItemAgendaSequence": 1, "EventItemTitle":
              "Oversight - NYPD Response to Mental Health Crises", "EventItemActionName": "Hearing Held by Committee"}]
    if later:
        items.append({"EventItemId": 900002, "EventItemAgendaSequence": 2, "EventItemTitle":
                      "Int 0123-2023 - Ending the use of ShotSpotter", "EventItemMatterFile": "Int 0123-2023"})
    return items


def detroit_feed(shift: timedelta, *, later: bool) -> bytes:
    """The recorded Detroit feed moved by `shift`; the earlier state is derived (see SOURCES.md)."""
    def move(match: re.Match[bytes]) -> bytes:
        moved = datetime.strptime(match.group(2).decode(), "%Y%m%dT%H%M%SZ") + shift
        return match.group(1) + moved.strftime("%Y%m%dT%H%M%SZ").encode()

    data = re.sub(rb"((?:DTSTART|DTEND)[^:\r\n]*:)(\d{8}T\d{6}Z)", move, DETROIT_FEED.read_bytes())
    head, *events = data.split(b"BEGIN:VEVENT")
    kept = []
    for event in events:
        if not later and b"UID:15582\r\n" in event:
            kept.append(event[event.index(b"END:VEVENT") + len(b"END:VEVENT\r\n"):])  # not yet listed
            continue
        if later and b"UID:7858\r\n" in event:
            event = event.replace(b"STATUS:CONFIRMED", b"STATUS:CANCELLED")  # cancelled since
        kept.append(b"BEGIN:VEVENT" + event)
    return head + b"".join(kept)


# State bills: the recorded Open States answers (data/openstates/SOURCES.md), a baseline then a later
# state, behind the loopback API with this key (written in the demo's config: it is no secret).
OPENSTATES_KEY = "demo-open-states-key"
STATES_CONFIG = """
[sources.openstates]
base_url = "{url}/openstates"
api_key = "{key}"
per_minute = 6000
people_dir = "{people}"

[[bills]]
id = "qi-states"
name = "Qualified immunity in the statehouses"
states = ["co", "ma", "nm", "ny"]
keywords = ["qualified immunity"]
"""


def demo_config(server_url: str, inbox_url: str) -> str:
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

[sources.legislators]
base_url = "{server_url}/congress-legislators"

{bills}{STATES_CONFIG.format(url=server_url, key=OPENSTATES_KEY, people=DATA / "openstates" / "people")}
{MEETINGS_CONFIG.format(url=server_url)}
# A sample subscriber: an organizer in Massachusetts' 7th district (and in the Second Suffolk state
# senate district, the 5th Suffolk house district), alerted at once on a loopback inbox.
[[subscribers]]
id = "demo-organizer"
notify = ["{inbox_url}"]
state = "MA"
district = 7
state_senate_district = "Second Suffolk"
state_house_district = "5th Suffolk"
"""


def billstatus_path(number: str) -> str:
    bill = parse_bill_number(number)
    return f"/bulkdata/BILLSTATUS/{bill.congress}/{bill.type}/BILLSTATUS-{bill.congress}{bill.type}{bill.number}.xml"


def real_file(number: str) -> bytes:
    bill = parse_bill_number(number)
    return (DATA / "govinfo" / f"BILLSTATUS-{bill.congress}{bill.type}{bill.number}.xml").read_bytes()


# The kinds the demo's few examples are taken from, most telling first (one change each).
EXAMPLE_KINDS = ("bill.stage", "meeting.cancelled", "meeting.rescheduled", "agenda.item_added",
                 "meeting.agenda_posted", "bill.vote", "bill.cosponsor_withdrawn", "meeting.added")


def change_summary(changes: list[Any], examples: int = 6) -> list[str]:
    """The changes found, as a newcomer can take them in: counts by kind (the names `changes --kind`
    takes), then one example of each of a few kinds (the first by summary, so the same every run)."""
    counts: dict[str, int] = {}
    for change in changes:
        counts[change.kind] = counts.get(change.kind, 0) + 1
    order = sorted(counts, key=lambda kind: (KINDS.index(kind) if kind in KINDS else len(KINDS), kind))
    lines = ["  " + ", ".join(f"{counts[kind]} {kind}" for kind in order)]
    for kind in [k for k in EXAMPLE_KINDS if k in counts][:examples]:
        first = min((c for c in changes if c.kind == kind), key=lambda c: c.summary)
        lines.append(f"  [{kind}] {first.summary}")
    return lines


def next_steps(config_path: Path, command: str) -> list[str]:
    """The closing lines: commands to look around the demo's data, each running as printed (`command`
    is how this tracker was started), and the next step to a config of one's own."""
    demo = f"{command} --config {shlex.quote(str(config_path))}"
    lines = ["demo: look around (each line runs as printed):",
             f"  {demo} status", f"  {demo} changes --kind 'meeting.*'", f"  {demo} changes --json"]
    own = user_config_path()
    shown = "" if own == DEFAULT_CONFIG else f" --config {shlex.quote(str(own))}"
    if own.exists():
        lines.append(f"demo: your own tracker next: edit {own} (your watches and subscribers), then check it:")
    else:
        lines.append(f"demo: your own tracker next: write the sample config to {own}, edit it (your watches and "
                     "subscribers), then check it:")
        lines.append(f"  {command}{shown} config init")
    lines.append(f"  {command}{shown} config check")
    return lines


def run_demo(out: Path | None, *, say: Callable[[str], None], error: Callable[[str], None],
             command: str = "tracker") -> int:
    """`tracker demo`. The whole stack (Scrapy, the store, alerts, the digest) is imported here, when
    the demo runs: the tests and benchmarks import this module for its recorded data helpers.
    `command` is how the user started this tracker, for the commands printed at the end."""
    from tracker.alerts.notifier import notify
    from tracker.crawl import run_crawls
    from tracker.digest import write_site
    from tracker.store import Store
    from tracker.views import list_changes

    folder = out or Path(tempfile.mkdtemp(prefix="tracker-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    if (folder / "tracker.db").exists():
        error(f"{folder} already holds a demo database; choose an empty folder")
        return 2
    # Today where the demo's bodies meet (New York, Detroit: one zone), not in UTC, whose date is a
    # day ahead every evening: the meetings set for this week would fall a day later than meant.
    today = clock.now().astimezone(ZoneInfo("America/New_York")).date()
    nyc_shift, detroit_shift = days_since(NYC_ANCHOR, today), days_since(DETROIT_ANCHOR, today)
    with serve() as server, Inbox() as inbox:
        server.robots("User-agent: *\nAllow: /\n")
        server.add_dir("/congress-legislators", DATA / "legislators")
        for number, _watch, cutoff, _what in DEMO_BILLS:
            server.add(billstatus_path(number), billstatus_before(real_file(number), cutoff))
        legistar = LegistarApi("/v1")
        server.mount("/v1", legistar)
        nyc = legistar.client("nyc")
        nyc.add_events(nyc_events(nyc_shift, later=False))
        nyc.eventitems[20111] = nyc_items(later=False)
        nyc.officerecords[19] = json.loads((DATA / "legistar" / "officerecords_body19.json").read_text())
        nyc.persons = {p["PersonId"]: p for p in json.loads((DATA / "legistar" / "persons_body19.json").read_text())}
        server.add("/detroit.ics", detroit_feed(detroit_shift, later=False))
        openstates = OpenStatesApi.recorded("baseline", keys={OPENSTATES_KEY}, prefix="/openstates", per_minute=10_000)
        server.mount("/openstates", openstates)
        config_path = folder / "tracker.toml"
        config_path.write_text(demo_config(server.url, inbox.url))
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

        say(f"demo: serving {len(DEMO_BILLS)} recorded BILLSTATUS files, state bills from Open States, NYC "
            f"Council's Legistar events and Detroit's school-board feed on {server.url} (meeting dates moved to "
            "fall around today)")
        ok = crawl("crawl 1 (baseline, an earlier state derived from each real file)")
        for number, _watch, _cutoff, _what in DEMO_BILLS:
            server.replace(billstatus_path(number), real_file(number))
        nyc.events.clear()
        nyc.add_events(nyc_events(nyc_shift, later=True))
        nyc.eventitems[20111] = nyc_items(later=True)
        server.replace("/detroit.ics", detroit_feed(detroit_shift, later=True))
        openstates.load("later")
        ok = crawl("crawl 2 (the real records, as the sources serve them now)") and ok
        sent = notify(store, config)
        alerts = inbox.messages

    changes = list_changes(store)
    say(f"demo: {len(changes)} changes found (every one: the `changes` command below), by kind, and a few:")
    for line in change_summary(changes):
        say(line)
    site = write_site(store, config, config.digest_dir)
    (folder / "alerts.txt").write_text("".join(f"== {a.get('title')} ==\n{a.get('message')}\n\n" for a in alerts))
    say(f"demo: {len(alerts)} alerts to the sample subscriber (an organizer in MA-7), one per bill or meeting, "
        f"in {folder / 'alerts.txt'}:" + ("" if sent.failed == 0 else f" ({sent.failed} failed)"))
    for alert in alerts:
        say(f"  {alert.get('title')}")
    say(f"demo: data in {folder / 'tracker.db'} (config {config_path})")
    say(f"demo: digest at {site / 'index.html'}")
    for line in next_steps(config_path, command):
        say(line)
    store.dispose()
    return 0 if ok else 1
