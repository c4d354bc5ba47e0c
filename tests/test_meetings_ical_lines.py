"""iCalendar content lines read faster than the icalendar library's own rules spell them, and the
same: unfolding (every short mix of line breaks, blanks and text, and every recorded feed) and the
UID/DTSTART/recurrence lines an event is sorted by (every pair of the spellings that could go
wrong: case, a name with a letter that upper-cases to an ASCII one, parameters, a line with no ":")."""

from __future__ import annotations

from itertools import product
from pathlib import Path

from icalendar.parser.content_line import NEWLINE, UFOLD

from tracker.meetings import ical

ROOT = Path(__file__).resolve().parent.parent
FEEDS = sorted((ROOT / "tests" / "data" / "local").rglob("*.ics")) + sorted(
    (ROOT / "tracker" / "demo" / "data" / "ics").glob("*.ics"))


def test_unfolding_is_the_librarys() -> None:
    assert ical._LINES_AS_WRITTEN  # the library's rules are still the ones this module reads by
    for size in range(8):
        for chars in product("\r\n \ta", repeat=size):
            text = "".join(chars)
            assert ical._UNFOLD.sub("", text) == UFOLD.sub("", text), repr(text)
    assert FEEDS
    for path in FEEDS:
        data = path.read_bytes()
        parts = ical._feed_parts(data)
        if parts is not None:
            library = [line for line in NEWLINE.split(UFOLD.sub("", data.decode("utf-8-sig"))) if line]
            head, components = parts
            assert [*head, *(line for _, lines in components for line in lines)] == library[1:-1], path.name


def _old_start(lines: list[str]) -> str | None:
    keys = {line.split(":", 1)[0].split(";", 1)[0].upper(): line for line in lines if ":" in line}
    if any(key in keys for key in ical._RECURRING):
        return None
    return keys.get("DTSTART", "").rsplit(":", 1)[-1].strip()


def test_event_lines_are_told_apart_as_before() -> None:
    names = ["DTSTART", "dtStart", "DTSTARTX", " DTSTART", "DTſTART", "RRULE", "rrule", "RDATE", "EXDATE",
             "recurrence-id", "X-RRULE", "UID", "uid", "UıD", "BEGIN", "end", ""]
    tails = [":20190416T213000Z", ";TZID=America/Chicago:20190416T213000", ";X=1", ":", "", ";a:b:c", " :x"]
    lines = [name + tail for name, tail in product(names, tails)]
    for pair in product(lines, repeat=2):
        event = list(pair)
        assert ical._single_start(event) == _old_start(event), event
        assert ical._raw_uid(event) == [line.split(":", 1)[-1] for line in event
                                        if line[:4].upper() == "UID:" or line[:4].upper() == "UID;"], event
