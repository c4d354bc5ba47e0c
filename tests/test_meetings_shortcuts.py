"""The shortcuts of tracker/meetings/normalize.py give what the searches they stand for give: a
link's kind from the address part that starts first (a few `find`s, not one search of all the parts
as alternatives), and a name's "no meeting" or "rescheduled to" looked for only in names that can
hold it. Checked on every address and every line of text in the recorded listings, and on made-up
cases where parts overlap, tie or differ only in case."""

from __future__ import annotations

import itertools
import re
from datetime import date
from pathlib import Path

from tracker.meetings import normalize
from tracker.meetings.normalize import cancellation, moved_in_name

LOCAL = Path(__file__).parent / "data" / "local"
RECORDED = sorted(path for path in LOCAL.rglob("*") if path.is_file() and path.suffix.lower() in (
    ".html", ".htm", ".json", ".xml", ".ics", ".rss"))

# The one search the shortcut replaced: every part an alternative, in the order listed.
KIND_SEARCH = re.compile("|".join(f"(?P<{kind}>{'|'.join(re.escape(p) for p in parts)})" for kind, parts in (
    ("minutes", normalize._MINUTES_URL), ("agenda", normalize._AGENDA_URL), ("video", normalize._VIDEO_URL))))


def searched_kind(text: str) -> str | None:
    found = KIND_SEARCH.search(text)
    return found.lastgroup if found else None


def recorded_text() -> str:
    return "\n".join(path.read_bytes().decode("utf-8", "replace") for path in RECORDED)


def test_a_links_kind_is_the_first_part_it_holds_on_every_recorded_address() -> None:
    addresses = set(re.findall(r"""(?:https?:)?//[^\s"'<>\\]+|/[A-Za-z][^\s"'<>\\]*""", recorded_text()))
    assert len(addresses) > 2_000
    kinds = set()
    for address in addresses:
        path, _, query = address.lower().partition("?")
        for text in (path, query):
            assert normalize._url_kind(text) == searched_kind(text), text
            kinds.add(searched_kind(text))
    assert kinds == {"minutes", "agenda", "video", None}  # every outcome is met


def test_a_links_kind_where_parts_overlap_tie_or_repeat() -> None:
    parts = [part for part, _kind in normalize._KIND_PARTS]
    made = ["", "x", "/agendas/", "/agenda/minutes/", "/minutes/agenda/", "agendaviewer.php/minutes/",
            "/player/agendaviewer", "media.mp4/agenda/", ".mp3.mp4", "swagitboxcast"]
    made += [a + b for a, b in itertools.product(parts, repeat=2)]  # every pair, both orders
    made += [f"/x/{a}y{b}" for a, b in itertools.product(parts[:6], parts[-6:])]
    for text in made:
        assert normalize._url_kind(text) == searched_kind(text), text


def searched_cancellation(title: str | None) -> str | None:
    match = normalize._OFF_IN_NAME.search(title or "")
    return cancellation(title="") or ((match.group(1) or match.group(2)) if match else None)


def searched_move(title: str | None, day: date) -> str | None:
    match = normalize._MOVED_IN_NAME.search((title or "")[:normalize._TEXT_LIMIT])
    if not match:
        first = normalize._MOVED_FIRST_IN_NAME.search((title or "")[:normalize._TEXT_LIMIT])
        return None if not first or (int(first.group(2)), int(first.group(3))) == (day.month, day.day) else first.group(1)
    named = ((normalize.MONTH_NUMBERS[match.group(2)[:3].lower()], int(match.group(3))) if match.group(2)
             else (int(match.group(4)), int(match.group(5))) if match.group(4)
             else (int(match.group(6)), int(match.group(7))))
    return None if named == (day.month, day.day) else match.group(1)


def test_a_name_calling_its_meeting_off_or_moving_it_on_every_recorded_line() -> None:
    lines = {line.strip() for line in re.split(r"[\n<>]", recorded_text()) if line.strip()}
    lines |= {"03-17-26 City Council Agenda (No Meeting)", "THE BOARD WILL NOT MEET ON JULY 10", "no meetings",
              "No  Meeting", "Nó Meeting", "NO MEETİNG", "City Council Meeting Rescheduled to August 3",
              "… MEETING - RESCHEDULED FOR SEPTEMBER 2, 2021", "Library Agenda - 2/18/2020 - Rescheduled to 2/27/20",
              "RESCHEDULED TO 2/18", "Rescheduled  to\tAugust 3", "Réunion rescheduled to August 3",
              "2025-08-20 RESCHEDULED Agenda Beautification Advisory Board Meeting",
              "City Council (DARK)", "Planning Commission \u2013 Dark", "Dark Sky Committee", "Darkness Hearing"}
    assert len(lines) > 10_000
    off = moved = 0
    for line in lines:
        # the titles' own decision without a cancel word (those are decided before: `_may_cancel`)
        if not normalize._may_cancel(line):
            assert cancellation(title=line) == searched_cancellation(line), line
            off += cancellation(title=line) is not None
        for day in (date(2020, 2, 18), date(2021, 8, 3)):
            assert moved_in_name(line, day) == searched_move(line, day), line
            moved += moved_in_name(line, day) is not None
    assert off >= 4 and moved >= 4  # the made-up names are found, so the comparison is not of two Nones
