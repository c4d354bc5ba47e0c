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

    python bench/parsers.py
"""

from __future__ import annotations

import json
import re
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tracker.meetings import agendas, ical, legistar, portals  # noqa: E402
from tracker.records import ListingContext  # noqa: E402

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


def json_list(path: Path, key: str, wrap: str | None = None) -> bytes:
    payload = json.loads(path.read_bytes())
    rows = payload[wrap] if wrap else payload
    rows = [r for r in rows if r]
    made = [{**rows[n % len(rows)], key: 90000 + n} for n in range(ROWS)]
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
                                                               "value"), "South Fulton events", "2026-04-01"),
    "boarddocs (XML)": (portals.parse_boarddocs, boarddocs_xml, "Cleveland export, every agenda item included",
                        "2017-02-01"),
    "boarddocs (list)": (portals.parse_boarddocs, lambda: json_list(
        LOCAL / "corpus/boarddocs/columbus_schools_meetings_list.json", "unique"), "Columbus BD-GetMeetingsList",
        "2020-01-15"),
    "ical": (ical.parse_ical, ics, "Detroit schools' events, no recurrence", "2019-03-01"),
    "feed": (agendas.parse_feed, feed, "LAUSD board RSS", "2024-09-20"),
}


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


def main() -> None:
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
        all_fastest, all_median, all_read = measure(parse, data, wide)
        fastest, median, read = measure(parse, data, window)
        print(f"{name:18} {len(data):>10,} | {'':14} {all_fastest:>6.1f} {all_median:>6.1f} {all_read:>4} "
              f"| {'':13} {fastest:>6.1f} {median:>6.1f} {read:>4}  {what}")


if __name__ == "__main__":
    main()
