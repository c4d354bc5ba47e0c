"""Benchmark: every meeting platform's listing parser on a 500-row listing (target: under 50 ms).

Each listing is built from a real recording of tests/data/local (a derived page: the recording's
own rows repeated until there are 500, each copy given its own id so none collapses into another;
everything around the rows is the recording's). Two readings of each:
- "all in window": a window of a century, so every one of the 500 rows is read whole (the worst
  case: a listing holding nothing but the next four months);
- "watch window": the window a watch reads (30 days back, 120 ahead) on a day in the recording's
  own span, as the spider calls the parser; rows outside it are skipped after their date.
Prints, of 15 parses after one warm-up (CPU time of the process), the fastest (the parser's own cost:
on a shared machine other work only ever adds to it) and the median, and the meetings read.

    python bench/parsers.py [--rounds 5]     # the table; with rounds, the median of each round's figures

A/B check of a change to a parser: every parse of every recording must give the same canonical
JSON (a moved hash is a new snapshot of a meeting, and any difference in what it says is news).
`--hashes` writes the sha256 of the canonical JSON of each parse (the meetings, the problem lines,
or the error) of every recorded meeting listing (tests/data/local, the demo's feed) and of each
500-row listing above, read by its platform's parser in a century-wide window and in a watch's
window on each of 67 days from 2016 to 2027 (every other month), with keywords. Run it against the
old code (`--code` a checkout of it) and the new, then compare:

    python bench/parsers.py --code /path/to/old/checkout --hashes old.json
    python bench/parsers.py --hashes new.json
    python bench/parsers.py --compare old.json new.json

`--compare` also prints, by platform, the fields that moved ("rows" where the meetings read are
not the same ones): a change that moves stored records bumps its kind's `parser_version`, and those
fields are what the new version reads otherwise (`reads_anew` in tracker/sources.py), so its first
read still tells every other change as news.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import itertools
import json
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# The code under test: this checkout, or the one `--code` names (read before the first import).
CODE = Path(sys.argv[sys.argv.index("--code") + 1]).resolve() if "--code" in sys.argv[:-1] else ROOT
sys.path.insert(0, str(CODE))

from tracker.meetings import agendas, ical, legistar, portals  # noqa: E402
from tracker.records import ListingContext  # noqa: E402

try:  # code from before Legistar's web calendar was read has no such parser: its pages are left out
    from tracker.meetings import legistar_calendar
except ImportError:
    legistar_calendar = None  # type: ignore[assignment]
try:  # nor, before CivicWeb was read, a CivicWeb parser
    from tracker.meetings import civicweb
except ImportError:
    civicweb = None  # type: ignore[assignment]
try:  # nor, before IQM2 was read, an IQM2 parser
    from tracker.meetings import iqm2
except ImportError:
    iqm2 = None  # type: ignore[assignment]
try:  # nor, before NovusAGENDA was read, a NovusAGENDA parser
    from tracker.meetings import novusagenda
except ImportError:
    novusagenda = None  # type: ignore[assignment]
try:  # nor, before Municode pages were read, a Municode parser
    from tracker.meetings import municode
except ImportError:
    municode = None  # type: ignore[assignment]

LOCAL = ROOT / "tests" / "data" / "local"
DEMO = ROOT / "tracker" / "demo" / "data"
ROWS = 500
RUNS = 15


def repeat(rows: list[bytes], renumber: Callable[[bytes, int], bytes]) -> bytes:
    """`ROWS` rows: the given ones over and over, copy n renumbered by `renumber`."""
    return b"".join(renumber(rows[n % len(rows)], n) for n in range(ROWS))


def html_rows(page: bytes, start: bytes, end: bytes) -> tuple[bytes, list[bytes], bytes]:
    """(before the first row, the rows, after the last row) of a page's rows from `start` to `end`."""
    at = [m.start() for m in re.finditer(re.escape(start), page)]
    rows = [page[a:page.index(end, a) + len(end)] for a in at]
    return page[:at[0]], rows, page[at[-1] + len(rows[-1]):]


def granicus() -> bytes:
    page = (LOCAL / "corpus/granicus/lawa_viewpublisher.html").read_bytes()
    head, rows, tail = html_rows(page, b'<tr class="odd"', b"</tr>")
    rows = [r for r in rows if b"clip_id=" in r]
    return head + repeat(rows, lambda row, n: re.sub(rb"clip_id=\d+", b"clip_id=%d" % (90000 + n), row)) + tail


def civicplus() -> bytes:
    page = (LOCAL / "civicplus/lascruces_agendacenter_search.html").read_bytes()
    head, rows, tail = html_rows(page, b'<tr id="row', b"</tr>")
    return head + repeat(rows, lambda row, n: re.sub(rb"_(\d{8})-\d+", lambda m: b"_%s-%d" % (m.group(1), 90000 + n),
                                                     row)) + tail


def feed() -> bytes:
    page = (LOCAL / "corpus/feed/lausd_board_rss.xml").read_bytes()
    head, rows, tail = html_rows(page, b"<item>", b"</item>")
    return head + repeat(rows, lambda row, n: row.replace(b"EventDateID=", b"EventDateID=%d" % (90000 + n))) + tail


def ics() -> bytes:
    feed = (DEMO / "ics/detroit_k12_board_of_education.ics").read_bytes()
    head, rows, tail = html_rows(feed, b"BEGIN:VEVENT", b"END:VEVENT\r\n")
    return head + repeat(rows, lambda row, n: re.sub(rb"UID:[^\r\n]+", b"UID:bench-%d" % n, row)) + tail


def calendar() -> bytes:
    page = (LOCAL / "corpus/legistar_calendar/nyc_calendar.html").read_bytes()
    head, rows, tail = html_rows(page, b'<tr class="rg', b"</tr>")
    return head + repeat(rows, lambda row, n: re.sub(rb"ID=(\d+)", b"ID=%d" % (90000 + n), row)) + tail


def iqm2_calendar() -> bytes:
    """Santa Monica's rows (each from its start to the next's, with any month heading between) over
    and over, then the page's last row and the rest of the page."""
    page = (LOCAL / "corpus/iqm2/santamonica_calendar_list.html").read_bytes()
    at = [m.start() for m in re.finditer(rb'<div class="Row MeetingRow', page)]
    rows = [page[start:end] for start, end in itertools.pairwise(at)]
    return page[:at[0]] + repeat(rows, lambda row, n: row.replace(b"Detail_Meeting.aspx?ID=", b"Detail_Meeting.aspx?ID=9%04d" % n)) \
        + page[at[-1]:]


def novusagenda_page() -> bytes:
    """Dinuba's meetings grid: its four rows over and over, each copy's MeetingID its own."""
    page = (LOCAL / "corpus/novusagenda/dinuba_meetingsgeneral.html").read_bytes()
    grid = page.index(b'id="SearchAgendasMeetings_radGridMeetings_ctl00"')
    start = page.index(b'<tr class="rgRow"', grid)
    end = page.index(b"</tbody>", start)
    rows = re.findall(rb'<tr class="rg(?:Alt)?Row".*?</tr>', page[start:end], re.S)
    return page[:start] + repeat(rows, lambda row, n: re.sub(rb"MeetingID=(\d+)", b"MeetingID=9%04d" % n, row)) \
        + page[end:]


def municode_page() -> bytes:
    """Mulberry's meetings table: its 28 rows over and over, each copy's meeting page its own."""
    page = (LOCAL / "corpus/municode/mulberry_meetings.html").read_bytes()
    body = page.index(b"<tbody")
    start = page.index(b"<tr", body)
    end = page.index(b"</tbody>", start)
    rows = re.findall(rb"<tr>.*?</tr>", page[start:end], re.S)
    return page[:start] + repeat(rows, lambda row, n: re.sub(rb'(/meeting/[^"]*)"', rb'\1-copy%d"' % n, row, count=1)) \
        + page[end:]


def json_list(path: Path, key: str, wrap: str | None = None, named: str | None = None) -> bytes:
    """The recording's rows over and over, each copy its own id (`key`) and, with `named`, its own
    name too (a copy "(2)"): CivicClerk reads one body's events at one time under one name as one
    sitting, so copies differing only in their id would be one meeting."""
    payload = json.loads(path.read_bytes())
    rows = payload[wrap] if wrap else payload
    rows = [r for r in rows if r]
    made = [{**rows[n % len(rows)], key: 90000 + n} for n in range(ROWS)]
    if named:
        for n, row in enumerate(made):
            if n >= len(rows) and isinstance(row.get(named), str):
                row[named] = f"{row[named]} ({n // len(rows) + 1})"
    return json.dumps({**payload, wrap: made} if wrap else made).encode()


def boarddocs_xml() -> bytes:
    export = (LOCAL / "corpus/boarddocs/cleveland_metro_schools_meetings.xml").read_bytes()
    head, rows, tail = html_rows(export, b"<meeting ", b"</meeting>")
    return head + repeat(rows, lambda row, n: row.replace(b' id="', b' id="B%d' % n, 1)) + tail


# platform: (parser, listing builder, what it is, a day in the recording's span for the watch window)
CASES: dict[str, tuple[Callable[..., object], Callable[[], bytes], str, str]] = {
    "legistar": (legistar.parse_events, lambda: json.dumps(
        json.loads((LOCAL / "legistar/nyc_events_2023.json").read_bytes())[:ROWS]).encode(), "real: 500 of 688 events",
        "2023-03-01"),
    "granicus": (agendas.parse_granicus, granicus, "LAWA's default template, onclick video links", "2021-06-01"),
    "civicplus": (agendas.parse_civicplus, civicplus, "Las Cruces search results", "2020-11-20"),
    "primegov": (portals.parse_primegov, lambda: json_list(LOCAL / "primegov/claytoncountyga_list_meetings.json", "id"),
                 "Clayton County list", "2026-02-01"),
    "civicclerk": (portals.parse_civicclerk, lambda: json_list(LOCAL / "civicclerk/southfultonga_events.json", "id",
                                                               "value", "eventName"), "South Fulton events",
                   "2026-04-01"),
    "boarddocs (XML)": (portals.parse_boarddocs, boarddocs_xml, "Cleveland export, every agenda item included",
                        "2017-02-01"),
    "boarddocs (list)": (portals.parse_boarddocs, lambda: json_list(
        LOCAL / "corpus/boarddocs/columbus_schools_meetings_list.json", "unique"), "Columbus BD-GetMeetingsList",
        "2020-01-15"),
    "ical": (ical.parse_ical, ics, "Detroit schools' events, no recurrence", "2019-03-01"),
    "feed": (agendas.parse_feed, feed, "LAUSD board RSS", "2024-09-20"),
}
if legistar_calendar is not None:
    CASES["legistar_calendar"] = (legistar_calendar.parse_calendar, calendar, "NYC council's calendar grid",
                                  "2019-01-15")
if iqm2 is not None:
    CASES["iqm2"] = (iqm2.parse_calendar, iqm2_calendar, "Santa Monica's calendar, 24 of 270 rows cancelled",
                     "2016-06-01")
if civicweb is not None:
    CASES["civicweb"] = (civicweb.parse_meetings, lambda: json_list(LOCAL / "corpus/civicweb/dallasisd_meetings.json",
                                                                    "Id"), "Dallas ISD meeting list", "2026-02-01")
if novusagenda is not None:
    CASES["novusagenda"] = (novusagenda.parse_meetings, novusagenda_page, "Dinuba's meetings grid (RadGrid)",
                            "2022-09-20")
if municode is not None:
    CASES["municode"] = (municode.parse_meetings, municode_page, "Mulberry's meetings table (Drupal views)",
                         "2026-06-01")


def measure(parse: Callable[..., object], data: bytes, ctx: ListingContext) -> tuple[float, float, int]:
    """(fastest, median) milliseconds of CPU time, and the meetings read."""
    parse(data, ctx)  # warm-up (imports, regex compilation)
    times, meetings = [], 0
    for _ in range(RUNS):
        started = time.process_time()
        listing = parse(data, ctx)
        times.append((time.process_time() - started) * 1000)
        meetings = len(listing.meetings)  # type: ignore[attr-defined]
    return min(times), statistics.median(times), meetings


# -- A/B: the canonical JSON of every parse -----------------------------------------------------

FOLDER_PLATFORM = {name: name for name in ("legistar", "granicus", "civicplus", "primegov", "civicclerk",
                                           "boarddocs", "ical", "feed", "legistar_calendar", "civicweb",
                                           "iqm2", "novusagenda", "municode")}
DERIVED = {"civicplus_agendacenter_rss.xml": "feed", "granicus_viewpublisher_rss.xml": "feed"}
PARSERS: dict[str, Callable[..., Any]] = {
    "legistar": legistar.parse_events, "granicus": agendas.parse_granicus, "civicplus": agendas.parse_civicplus,
    "primegov": portals.parse_primegov, "civicclerk": portals.parse_civicclerk, "boarddocs": portals.parse_boarddocs,
    "ical": ical.parse_ical, "feed": agendas.parse_feed,
}
if legistar_calendar is not None:
    PARSERS["legistar_calendar"] = legistar_calendar.parse_calendar
if civicweb is not None:
    PARSERS["civicweb"] = civicweb.parse_meetings
if iqm2 is not None:
    PARSERS["iqm2"] = iqm2.parse_calendar
if novusagenda is not None:
    PARSERS["novusagenda"] = novusagenda.parse_meetings
if municode is not None:
    PARSERS["municode"] = municode.parse_meetings
READ_ROWS = "rows"  # the meetings read (their ids): tracker/sources.py's word in `reads_anew`
DAYS = [datetime(2016 + m // 12, m % 12 + 1, 1, 12, tzinfo=UTC) for m in range(0, 12 * 11 + 1, 2)]


def recordings() -> dict[str, tuple[str, bytes]]:
    """name: (platform, bytes) of every recorded listing and every 500-row benchmark listing."""
    found: dict[str, tuple[str, bytes]] = {}
    for path in sorted(LOCAL.rglob("*")) + sorted((DEMO / "ics").glob("*.ics")):
        if not path.is_file() or path.suffix.lower() in (".md", ".toml", ".txt"):
            continue
        parts = path.relative_to(LOCAL).parts if path.is_relative_to(LOCAL) else ("ical", path.name)
        folder = parts[1] if parts[0] == "corpus" and len(parts) > 2 else parts[0]
        platform = DERIVED.get(path.name) if folder == "derived" else FOLDER_PLATFORM.get(folder)
        if platform == "legistar" and path.suffix.lower() != ".json":
            continue  # a Legistar page, not its Web API's events
        if platform in PARSERS:  # (older code: a platform it does not read yet is left out)
            found[str(path.relative_to(ROOT))] = (platform, path.read_bytes())
    for name, (parse, build, _what, _day) in CASES.items():
        platform = next(p for p, f in PARSERS.items() if f is parse)
        found[f"bench/{name}"] = (platform, build())
    return found


def by_field(meeting: Any) -> dict[str, Any]:
    """The meeting's stored fields, a source's own ones together as `extra` (as `reads_anew` names them)."""
    dumped = meeting.dump()
    own = {f.name for f in dataclasses.fields(meeting)}
    return {name: value for name, value in dumped.items() if name in own} | {
        "extra": {name: value for name, value in dumped.items() if name not in own}}


def outcome(parse: Callable[..., Any], data: bytes, ctx: Any) -> dict[str, Any]:
    """The sha256 of a parse's canonical JSON (its meetings and problem lines, or its error), and a
    short hash of each field across its meetings, of the meetings' ids ("rows") and of the problem
    lines: the fields a parser change moved are what its new version reads otherwise
    (`SourceKind.reads_anew`)."""
    try:
        listing = parse(data, ctx)
        meetings = sorted(([m.source_ref, by_field(m)] for m in listing.meetings), key=lambda pair: pair[0])
        said: Any = {"meetings": [m.dump() for m in listing.meetings], "problems": listing.problems}
    except Exception as exc:  # an error is an outcome too: it must stay the same error
        said, meetings = {"error": f"{type(exc).__name__}: {exc}"}, []

    def short(value: Any) -> str:
        return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]

    names = sorted({name for _, dumped in meetings for name in dumped})
    fields = {name: short([[ref, dumped.get(name)] for ref, dumped in meetings]) for name in names}
    fields |= {READ_ROWS: short([ref for ref, _ in meetings]), "problems": short(said.get("problems", said.get("error")))}
    whole = hashlib.sha256(json.dumps(said, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    return {"hash": whole, "fields": fields}


def hashes() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, (platform, data) in recordings().items():
        url = "https://go.boarddocs.com/oh/x/Board.nsf/XML-ActiveMeetings" if platform == "boarddocs" \
            else "https://example.gov/meetings"
        base = dict(watch_id="ab", url=url, body="Body", timezone="America/Chicago",
                    keywords=("budget", "police", "board", "minutes"))
        windows = [("all", datetime(1990, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))]
        windows += [(day.date().isoformat(), day - timedelta(days=30), day + timedelta(days=120)) for day in DAYS]
        for label, start, end in windows:
            ctx = ListingContext(**base, window_start=start, window_end=end)  # type: ignore[arg-type]
            out[f"{name}@{label}"] = {"platform": platform, **outcome(PARSERS[platform], data, ctx)}
    return out


def compare(old_path: Path, new_path: Path) -> int:
    """Every parse that moved, and by platform the fields that moved: where the meetings read are
    the same ("rows" did not move), each field moved; else "rows" (the fields of such parses are
    not told apart: a meeting more moves them all)."""
    old, new = json.loads(old_path.read_text()), json.loads(new_path.read_text())

    def whole(value: Any) -> Any:
        return value["hash"] if isinstance(value, dict) else value  # (a file of an older bench: hashes only)

    moved = sorted(k for k in old.keys() & new.keys() if whole(old[k]) != whole(new[k]))
    only = sorted(old.keys() ^ new.keys())
    for key in moved[:40]:
        print(f"moved: {key}")
    for key in only[:40]:
        print(f"only in {'old' if key in old else 'new'}: {key}")
    print(f"{len(old.keys() & new.keys())} parses compared, {len(moved)} moved, {len(only)} in one only")
    by_platform: dict[str, Counter[str]] = {}
    for key in moved:
        if not (isinstance(old[key], dict) and isinstance(new[key], dict)):
            continue
        was, now = old[key]["fields"], new[key]["fields"]
        count = by_platform.setdefault(new[key]["platform"], Counter())
        if was.get(READ_ROWS) != now.get(READ_ROWS):
            count[READ_ROWS] += 1
        else:
            count.update(name for name in was.keys() | now.keys() if was.get(name) != now.get(name))
    for platform, count in sorted(by_platform.items()):
        print(f"fields moved ({platform}): " + ", ".join(f"{name} x{n}" for name, n in sorted(count.items())))
    return 1 if moved or only else 0


def table(rounds: int) -> None:
    base = dict(watch_id="bench", url="https://go.boarddocs.com/oh/x/Board.nsf/BD-GetMeetingsList?open",
                body="Bench", timezone="America/Chicago", keywords=("budget", "police"))
    wide = ListingContext(**base, window_start=datetime(1990, 1, 1, tzinfo=UTC),  # type: ignore[arg-type]
                          window_end=datetime(2100, 1, 1, tzinfo=UTC))
    print(f"{'platform':18} {'bytes':>10} | all in window: {'min':>6} {'median':>6} {'read':>4} "
          f"| watch window: {'min':>6} {'median':>6} {'read':>4} (ms)")
    for name, (parse, build, what, day) in CASES.items():
        data = build()
        now = datetime.fromisoformat(day).replace(tzinfo=UTC)
        window = ListingContext(**base, window_start=now - timedelta(days=30),  # type: ignore[arg-type]
                                window_end=now + timedelta(days=120))
        runs = [(measure(parse, data, wide), measure(parse, data, window)) for _ in range(rounds)]
        (all_fastest, all_median, all_read), (fastest, median, read) = (
            (statistics.median(r[i][0] for r in runs), statistics.median(r[i][1] for r in runs), runs[0][i][2])
            for i in (0, 1))
        print(f"{name:18} {len(data):>10,} | {'':14} {all_fastest:>6.1f} {all_median:>6.1f} {all_read:>4} "
              f"| {'':13} {fastest:>6.1f} {median:>6.1f} {read:>4}  {what}")


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    args.add_argument("--rounds", type=int, default=1, help="rounds of the table (each figure: their median)")
    args.add_argument("--hashes", type=Path, help="write the hash of every parse of every recording here")
    args.add_argument("--code", type=Path, help="a checkout whose parsers to run (default: this one)")
    args.add_argument("--compare", type=Path, nargs=2, metavar=("OLD", "NEW"), help="compare two --hashes files")
    opts = args.parse_args()
    if opts.compare:
        sys.exit(compare(*opts.compare))
    if opts.hashes:
        found = hashes()
        opts.hashes.write_text(json.dumps(found, indent=0, sort_keys=True))
        print(f"{len(found)} parses hashed (the parsers of {Path(ical.__file__).parents[2]}) -> {opts.hashes}")
        return
    table(opts.rounds)


if __name__ == "__main__":
    main()
