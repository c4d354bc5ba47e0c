"""Parse one of bench/parsers.py's 500-row listings N times, for an instruction count that no other
load on the machine moves (wall-clock figures swing on a shared machine):

    PYTHONMALLOC=malloc valgrind --tool=callgrind --callgrind-out-file=/tmp/x.cg \
        python bench/parse_loop.py ical all 5
    callgrind_annotate /tmp/x.cg | head        # the "PROGRAM TOTALS" line

Run it with N=0 too: the difference, divided by N, is one parse (the imports, the listing's
building and one warm-up parse are in both). WINDOW: `all` (a century) or `watch` (the window the
table reads, on the case's own day).
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta

from parsers import CASES

from tracker.records import ListingContext


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    args.add_argument("case", choices=sorted(CASES))
    args.add_argument("window", choices=("all", "watch"))
    args.add_argument("runs", type=int)
    opts = args.parse_args()
    parse, build, _what, day = CASES[opts.case]
    data = build()
    if opts.window == "all":
        start, end = datetime(1990, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
    else:
        now = datetime.fromisoformat(day).replace(tzinfo=UTC)
        start, end = now - timedelta(days=30), now + timedelta(days=120)
    ctx = ListingContext(watch_id="bench", url="https://go.boarddocs.com/oh/x/Board.nsf/BD-GetMeetingsList?open",
                         body="Bench", timezone="America/Chicago", keywords=("budget", "police"),
                         window_start=start, window_end=end)
    parse(data, ctx)  # warm-up: imports, regex compilation
    for _ in range(opts.runs):
        parse(data, ctx)


if __name__ == "__main__":
    main()
