"""iCalendar feeds (icalendar + recurring-ical-events).

A meeting's identity is its UID, plus its RECURRENCE-ID for one instance of a recurring series,
never its start time: a moved meeting is the same meeting (The Events Calendar writes its events'
times into their UIDs: its meetings are known by their post, `_keyed_by_post`). One broken VEVENT (its DTSTART, DTEND,
DURATION, RRULE, RDATE, EXDATE or RECURRENCE-ID) is one problem line and is skipped; the rest of the
feed is still read. Each event is checked before expansion, and the expansion itself is guarded: if
it still fails, the series that makes it fail is found, reported and dropped, and the rest expanded.

A feed the icalendar library cannot read whole (a VTIMEZONE with two TZID lines, one event it
chokes on) is read component by component: the parts that still fail are one problem line each and
dropped. An event's time zone is the VTIMEZONE its TZID names, else the zone that name is (an Olson
or Windows name), else, for a time without one, the feed's `X-WR-TIMEZONE`, else the watch's zone.

An all-day event whose own title or description states a time ("Board Meeting - 6:30 PM") starts
then; one stating none stays time TBD. ATTACH links are the meeting's documents.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import recurring_ical_events
from dateutil.rrule import rrulestr
from icalendar import Calendar, Event
from icalendar.parser import Parameters
from icalendar.parser.content_line import NEWLINE, UFOLD, Contentline
from icalendar.parser.property import unescape_backslash
from icalendar.parser_tools import to_unicode
from icalendar.prop import vDDDTypes
from recurring_ical_events.util import make_comparable, time_span_contains_event

from tracker.meetings.normalize import (
    MAX_MEETINGS,
    DocumentList,
    SourceParseError,
    cancellation,
    moved_in_name,
    place_line,
    time_for_day,
    title_items,
    too_many,
    utf8_of,
)
from tracker.records import Listing, ListingContext, Meeting, MeetingStatus
from tracker.safetext import printable, web_url
from tracker.safexml import html_instead

_FREQS = {"SECONDLY", "MINUTELY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY"}
# A meeting series repeats daily at most, a few sittings a day at most: a rule repeating by the hour,
# minute or second (or times of day beyond this) would make a feed hundreds of thousands of
# "meetings" (FREQ=MINUTELY: 216,000 in a crawl's window, half a minute to expand).
_TOO_OFTEN = {"SECONDLY", "MINUTELY", "HOURLY"}
_TIMES_A_DAY = 24
# RFC 5545 3.3.10: the allowed values of each BY* part (negative values count from the end).
_BY_RANGES = {"BYSECOND": (0, 60, False), "BYMINUTE": (0, 59, False), "BYHOUR": (0, 23, False),
              "BYMONTHDAY": (1, 31, True), "BYYEARDAY": (1, 366, True), "BYWEEKNO": (1, 53, True),
              "BYMONTH": (1, 12, False), "BYSETPOS": (1, 366, True)}


def _instant(value: Any, zone: ZoneInfo) -> tuple[datetime, bool]:
    """(UTC instant, all-day?) from a DTSTART value; floating times are in the body's zone."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=zone)
        return value.astimezone(UTC), False
    if isinstance(value, date):
        return datetime.combine(value, time(0, 0), zone).astimezone(UTC), True
    raise ValueError(f"DTSTART {value!r} is not a date or time")


def _shown(value: Any, limit: int = 40) -> str:
    """A source's raw value as written in the feed, short enough for a one-line problem."""
    try:
        raw = value.to_ical()
        text = raw.decode() if isinstance(raw, bytes) else str(raw)
    except Exception:
        text = str(value)
    text = " ".join(text.replace("\\;", ";").replace("\\,", ",").split())
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def _props(component: Event, name: str) -> list[Any]:
    """Every occurrence of a property (RDATE and EXDATE may be given on several lines)."""
    value = component.get(name)
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _moment(prop: Any, name: str) -> date:
    """A DTSTART/DTEND/RECURRENCE-ID value as a date or datetime, or ValueError naming it."""
    try:
        value = prop.dt
    except Exception:  # icalendar keeps an unreadable value as a "broken" property that raises here
        value = None
    if not isinstance(value, date):
        raise ValueError(f"{name} {_shown(prop)} is not a date or time")
    return value


def _check_rule(prop: Any, start: date) -> None:
    """An RRULE that dateutil (which expands it) reads, and that cannot make it loop for ever
    (`INTERVAL=0` does)."""
    try:
        parts = {key.upper(): value for key, value in prop.items()}
        text = prop.to_ical().decode()
    except Exception:
        raise ValueError(f"RRULE {_shown(prop)} is not a recurrence rule") from None
    freq = [str(f).upper() for f in parts.get("FREQ") or []]
    if len(freq) != 1 or freq[0] not in _FREQS:
        raise ValueError(f"RRULE {_shown(text)}: FREQ must be one of {', '.join(sorted(_FREQS))}")
    if freq[0] in _TOO_OFTEN:
        raise ValueError(f"RRULE {_shown(text)}: a meeting series repeats daily at most, not {freq[0]}")
    for key in ("INTERVAL", "COUNT"):
        for value in parts.get(key) or []:
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"RRULE {_shown(text)}: {key} must be a whole number of at least 1")
    times = 1
    for key in ("BYHOUR", "BYMINUTE", "BYSECOND"):
        times *= max(1, len(parts.get(key) or []))
    if times > _TIMES_A_DAY:
        raise ValueError(f"RRULE {_shown(text)}: {times} times a day is no meeting series")
    for key, (low, high, signed) in _BY_RANGES.items():
        for value in parts.get(key) or []:
            if not isinstance(value, int) or not (low <= abs(value) <= high if signed else low <= value <= high) \
                    or (signed and value == 0):
                raise ValueError(f"RRULE {_shown(text)}: {key}={value} is out of range")
    naive = start.replace(tzinfo=None) if isinstance(start, datetime) else datetime.combine(start, time(0, 0))
    try:
        rrulestr(text, dtstart=naive, ignoretz=True)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise ValueError(f"RRULE {_shown(text)} is not a recurrence rule: {exc}") from None


def _check_event(component: Event, zone: ZoneInfo) -> None:
    """Everything expansion and storage read from one VEVENT, or ValueError with one short reason."""
    if not str(component.get("UID") or ""):
        raise ValueError("no UID")
    starts = _props(component, "DTSTART")
    if len(starts) != 1:
        raise ValueError("no DTSTART" if not starts else "more than one DTSTART")
    start = _moment(starts[0], "DTSTART")
    _instant(start, zone)
    ends, durations = _props(component, "DTEND"), _props(component, "DURATION")
    if len(ends) > 1 or len(durations) > 1:
        raise ValueError("more than one DTEND" if len(ends) > 1 else "more than one DURATION")
    for prop in ends:
        _moment(prop, "DTEND")
    for prop in durations:
        try:
            value = prop.dt
        except Exception:
            value = None
        if not isinstance(value, timedelta):
            raise ValueError(f"DURATION {_shown(prop)} is not a duration like 'PT2H'")
    for prop in _props(component, "RECURRENCE-ID"):
        _moment(prop, "RECURRENCE-ID")
    for prop in _props(component, "RRULE"):
        _check_rule(prop, start)
    for name in ("RDATE", "EXDATE"):
        for prop in _props(component, name):
            try:
                values = [entry.dt for entry in prop.dts]
            except Exception:
                values = [None]
            for value in values:
                periods = value if isinstance(value, tuple) else (value,)
                if not values or not all(isinstance(v, date | timedelta) for v in periods):
                    raise ValueError(f"{name} {_shown(prop)} is not a list of dates or times")


def _end_before_start_dropped(component: Event) -> bool:
    """Drop a DTEND before the event's DTSTART (RFC 5545 has it later), saying whether one was: the
    expansion library reads such an event as running from its end to its start, so the meeting was
    stored an hour or a day early, at its DTEND."""
    ends = _props(component, "DTEND")
    if not ends:
        return False
    first, last = make_comparable((component["DTSTART"].dt, ends[0].dt))
    if last >= first:
        return False
    del component["DTEND"]
    return True


def _label(component: Event) -> str:
    """`event UID (title)`, as a problem line names an event."""
    uid = str(component.get("UID") or "") or "?"
    title = " ".join(str(component.get("SUMMARY") or "no title").split())
    return f"event {uid} ({title[:60] + '…' if len(title) > 60 else title})"


def _reason(exc: BaseException) -> str:
    text = printable(" ".join(str(exc).split()) or type(exc).__name__)  # (a NUL of the feed quoted in it)
    return text if len(text) <= 120 else text[:119] + "…"


def _expand(calendar: Calendar, ctx: ListingContext, problems: list[str]) -> list[Any]:
    """The event instances in the window. When the whole feed cannot be expanded, each series (one
    UID with its moved instances) is expanded on its own; a series that fails is one problem line."""
    try:
        return list(recurring_ical_events.of(calendar).between(ctx.window_start, ctx.window_end))
    except Exception:  # a failure the checks above did not foresee: find the series that causes it
        pass
    others = [c for c in calendar.subcomponents if c.name != "VEVENT"]
    series: dict[str, list[Event]] = {}
    for component in calendar.subcomponents:
        if component.name == "VEVENT":
            series.setdefault(str(component.get("UID")), []).append(component)
    found: list[Any] = []
    for events in series.values():
        single = Calendar()  # the feed's time zones and this one series
        for component in [*others, *events]:
            single.add_component(component)
        try:
            found.extend(recurring_ical_events.of(single).between(ctx.window_start, ctx.window_end))
        except Exception as exc:
            problems.append(f"{_label(events[0])}: cannot expand its recurrences: {_reason(exc)}")
    return found


def _meeting(event: Any, ctx: ListingContext, zone: ZoneInfo, floating: ZoneInfo, recurring: set[str]) -> Meeting:
    uid = str(event.get("UID"))
    start, all_day = _instant(event.decoded("DTSTART"), floating)
    ref = uid
    if uid in recurring:
        original = event.get("RECURRENCE-ID")
        instance = _instant(original.dt, floating)[0] if original is not None else start
        ref = f"{uid}@{instance.strftime('%Y%m%dT%H%M%SZ')}"
    title = str(event.get("SUMMARY") or "Meeting").strip()
    description = str(event.get("DESCRIPTION") or "")
    status_word = str(event.get("STATUS") or "")
    day = start.astimezone(zone).date() if not all_day else event.decoded("DTSTART")
    said = (cancellation(status=status_word, title=title, comment=description, day=day)
            or moved_in_name(title, day))
    if all_day and (clock := time_for_day(day, title, description)):  # the time its own words state
        start, all_day = datetime.combine(day, clock, zone).astimezone(UTC), False
    status = (MeetingStatus.CANCELLED if said
              else MeetingStatus.TENTATIVE if status_word.upper() == "TENTATIVE" else MeetingStatus.CONFIRMED)
    documents = DocumentList()
    for attach in _props(event, "ATTACH"):
        params = getattr(attach, "params", {}) or {}
        documents.add(str(attach), params.get("FILENAME") or params.get("X-FILENAME") or params.get("FMTTYPE"))
    return Meeting(
        source="ical", source_ref=ref, body=ctx.body, title=title, date=day.isoformat(), timezone=ctx.timezone,
        start=None if all_day else start.isoformat(), time_tbd=all_day,
        location=place_line(str(event.get("LOCATION") or "")), status=status, status_text=said,
        url=web_url(event.get("URL")), items=title_items(title, ctx.keywords),
        documents=documents.items or None)


def _events(calendar: Calendar) -> Iterable[Event]:
    return [c for c in calendar.subcomponents if c.name == "VEVENT"]


def _one_series_per_uid(calendar: Calendar, problems: list[str]) -> None:
    """Of events sharing a UID with no RECURRENCE-ID (a moved instance that lost that line), the
    series (RRULE or RDATE) or else the first is kept, and each other is one problem line: the
    library would let the last stand for the series, and its meetings would vanish without a word.
    A copy of the kept event, byte for byte, is dropped without one (nothing is lost)."""
    by_uid: dict[str, list[Event]] = {}
    for component in _events(calendar):
        if component.get("RECURRENCE-ID") is None and (uid := str(component.get("UID") or "")):
            by_uid.setdefault(uid, []).append(component)
    for same in by_uid.values():
        if len(same) < 2:
            continue
        keep = next((c for c in same if c.get("RRULE") or c.get("RDATE")), same[0])
        for component in same:
            if component is keep:
                continue
            if component.to_ical() != keep.to_ical():
                problems.append(f"{_label(component)}: unreadable: another event has its UID, and it does not say "
                                "which of its meetings it replaces (no RECURRENCE-ID)")
            calendar.subcomponents.remove(component)


_BEGIN_OR_END = ("B", "b", "E", "e")


def _components(text: str) -> tuple[list[str], list[tuple[str, list[str]]]] | None:
    """The calendar's own property lines and each top-level component (name, its lines), or None
    when the text is no VCALENDAR at all."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    head: list[str] = []
    parts: list[tuple[str, list[str]]] = []
    depth, current, seen_calendar = 0, None, False
    for line in lines:
        # only "b", "B", "e" and "E" upper-case to a "B" or an "E" (no other character does): any
        # other line is neither a BEGIN nor an END, and needs no upper-casing
        upper = line.upper() if line[:1] in _BEGIN_OR_END else ""
        if upper.startswith("BEGIN:"):
            depth += 1
            if depth == 1:
                seen_calendar = upper.strip() == "BEGIN:VCALENDAR"
                continue
            if depth == 2:
                current = (upper[6:].strip(), [])
                parts.append(current)
        if current is not None:
            current[1].append(line)
        elif depth == 1 and line.strip() and not upper.startswith("END:"):
            head.append(line)
        if upper.startswith("END:"):
            depth -= 1
            if depth == 1:
                current = None
    return (head, parts) if seen_calendar else None


def _component_label(name: str, lines: list[str]) -> str:
    """`time zone America/Chicago`, `event UID (title)`: how a problem line names a component."""
    values = {}
    for line in lines:
        key, _, value = line.partition(":")
        values.setdefault(key.split(";")[0].upper(), value.strip())
    if name == "VTIMEZONE":
        return f"time zone {values.get('TZID') or '?'}"
    if name == "VEVENT":
        title = values.get("SUMMARY") or "no title"
        return f"event {values.get('UID') or '?'} ({title[:60] + '…' if len(title) > 60 else title})"
    return name.lower()


def _read_by_component(data: bytes, whole: Exception, problems: list[str], warnings: list[str]) -> Calendar:
    """A calendar rebuilt from the components that can be read on their own; each one that cannot
    is one problem line. A broken VTIMEZONE whose every TZID is an IANA zone's name costs nothing
    (its events are read in the zone their TZID names): a warning, not a problem, so a feed such as
    Chicago's Low-Income Housing Trust Fund's (two TZID lines in one VTIMEZONE) is not failed on
    every run for what its events do not suffer."""
    text = data.decode("utf-8", "replace")
    found = _components(text)
    if found is None or not found[1]:
        raise SourceParseError(f"not a readable iCalendar feed: {_reason(whole)}")
    head, parts = found
    kept: list[str] = []
    for name, lines in parts:
        try:
            Calendar.from_ical("\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", *lines, "END:VCALENDAR", ""]))
        except Exception as exc:
            if name != "VTIMEZONE":
                problems.append(f"{_component_label(name, lines)}: unreadable: {_reason(exc)}")
                continue
            zones = [value.strip() for line in lines
                     for key, _, value in [line.partition(":")] if key.split(";")[0].upper() == "TZID"]
            why = f"it names {len(zones)} zones ({', '.join(zones)})" if len(zones) > 1 else _reason(exc)
            named = bool(zones) and all(_known_zone(zone) for zone in zones)
            (warnings if named else problems).append(
                f"{_component_label(name, lines)}: unreadable: {why}; its events use the zone their TZID names")
            continue
        kept.extend(lines)
    try:
        return Calendar.from_ical("\r\n".join(["BEGIN:VCALENDAR", *head, *kept, "END:VCALENDAR", ""]))
    except Exception:
        raise SourceParseError(f"not a readable iCalendar feed: {_reason(whole)}") from None


_RECURRING = ("RRULE", "RDATE", "EXDATE", "RECURRENCE-ID")
_EARLY = timedelta(days=31)  # an event starting this long before the window may still reach into it


# A line whose name (before its first ";" or ":", on a line holding a ":") is one of `_RECURRING`,
# or DTSTART: in ASCII, where a case-insensitive match is `.upper()` equality.
_RECURRING_LINE = re.compile(r"^(?:RRULE|RDATE|EXDATE|RECURRENCE-ID)(?::|;[^\n]*:)", re.I | re.M)
_START_LINE = re.compile(r"^DTSTART(?::|;[^\n]*:)[^\n]*", re.I | re.M)


def _single_start(lines: list[str]) -> str | None:
    """The value of a VEVENT's (last) DTSTART line as written ("" without one), None for an event
    with a line of `_RECURRING`. An event in ASCII is searched whole, each line otherwise."""
    text = "\n".join(lines)
    if text.isascii():
        if _RECURRING_LINE.search(text):
            return None
        starts = _START_LINE.findall(text)
        return (starts[-1] if starts else "").rsplit(":", 1)[-1].strip()
    keys = {line.split(":", 1)[0].split(";", 1)[0].upper(): line for line in lines if ":" in line}
    if any(key in keys for key in _RECURRING):
        return None
    return keys.get("DTSTART", "").rsplit(":", 1)[-1].strip()


def _window_only(data: bytes, ctx: ListingContext) -> bytes:
    """The feed without the single events that start far outside the window (feeds carry years of
    meetings; the icalendar library costs half a millisecond an event): read from each VEVENT's
    DTSTART text. Recurring events, their moved instances and anything unclear are kept for the
    library to decide."""
    if data.count(b"BEGIN:VEVENT") < 50:
        return data
    found = _components(data.decode("utf-8", "replace"))
    if found is None:
        return data
    head, parts = found
    first, last = (ctx.window_start - _EARLY).date(), (ctx.window_end + timedelta(days=1)).date()
    kept, dropped, events = [], 0, 0
    for name, lines in parts:
        if name == "VEVENT":
            events += 1
            start = _single_start(lines)
            if start is not None and len(start) >= 8 and start[:8].isdigit():
                try:
                    day = date(int(start[:4]), int(start[4:6]), int(start[6:8]))
                except ValueError:
                    day = None
                if day is not None and not first <= day <= last:
                    dropped += 1
                    continue
        kept.extend(lines)
    if events - dropped > MAX_MEETINGS:  # refused before the library reads them: a gigabyte at 500,000
        raise SourceParseError(too_many(events - dropped))
    if not dropped:
        return data
    return "\r\n".join(["BEGIN:VCALENDAR", *head, *kept, "END:VCALENDAR", ""]).encode()


def _feed_zone(calendar: Calendar, watch_zone: ZoneInfo) -> ZoneInfo:
    """Where a time without a zone is: the feed's `X-WR-TIMEZONE` when it names a zone, else the watch's."""
    name = str(calendar.get("X-WR-TIMEZONE") or "").strip()
    try:
        return ZoneInfo(name) if name else watch_zone
    except (ValueError, KeyError, OSError):
        return watch_zone


# -- plain events, read without the library's whole-feed parse -----------------------------------
#
# The icalendar library costs about a third of a millisecond an event (every property of every
# event parsed, then each event copied by the recurrence expansion); a feed is mostly single
# meetings. A plain event (no recurrence, no sub-component, a UID no other event has, dates the
# library reads the same way whatever else the feed holds) is read here: its content lines unfolded
# and split as the library does, and only the properties a meeting uses turned into the library's
# own values by the library's own types, into a real `Event`; the window test is the expansion
# library's own (`Occurrence.is_in_span`). Anything else (and any plain event that does not come
# out as the library would read it) goes to the library with the feed's head and time zones, so
# the meetings and problem lines are those of the whole-feed reading.

_USED = frozenset({"UID", "DTSTART", "DTEND", "DURATION", "SUMMARY", "DESCRIPTION", "STATUS", "LOCATION", "URL",
                   "ATTACH"})
_NOT_PLAIN = frozenset(_RECURRING) | {"BEGIN", "END"}
_USE = {**dict.fromkeys(_NOT_PLAIN, False), **dict.fromkeys(_USED, True)}  # True: read, False: not plain
_PROPERTY = re.compile(r"([A-Za-z0-9-]+)([;:])")
_BOUNDARY = re.compile(r"[ \t]*(BEGIN|END)[ \t]*[;:]", re.I)
_ZONES: set[str] = set()


def _known_zone(tzid: str) -> bool:
    """A TZID the library reads as the IANA zone of that name whatever VTIMEZONE a feed defines."""
    if not _ZONES:
        _ZONES.update(zoneinfo.available_timezones())
    return tzid in _ZONES


# The library's line rules as this module knows them: a folded line is a line break then a space or
# tab (without one there is nothing to unfold), and lines end at "\r\n" or "\n" (a split at "\n"
# once each "\r\n" is one, without the regular expression's pass).
_LINES_AS_WRITTEN = (UFOLD.pattern == r"(?:(?<!\n)\r\n|(?<![\r\n])\n)(?:\r?\n)*[ \t]" and NEWLINE.pattern == r"\r?\n"
                     and not UFOLD.flags & ~re.UNICODE and not NEWLINE.flags & ~re.UNICODE)
# UFOLD with each look-behind after the line break's first character instead of before it: the same
# matches, and a pattern that starts with a character lets the regular-expression engine skip to the
# line breaks instead of trying every position (four times faster).
_UNFOLD = re.compile(r"(?:\r(?<!\n\r)\n|\n(?<![\r\n]\n))(?:\r?\n)*[ \t]")


def _feed_parts(data: bytes) -> tuple[list[str], list[tuple[str, list[str]]]] | None:
    """One VCALENDAR's own lines and its top-level components (name, unfolded lines), read as the
    library reads lines; None for anything else (several calendars, text around it, an END
    without its BEGIN), which the library reads whole as before."""
    text = to_unicode(data)
    if _LINES_AS_WRITTEN:
        unfolded = _UNFOLD.sub("", text) if "\n " in text or "\n\t" in text else text
        lines = [line for line in unfolded.replace("\r\n", "\n").split("\n") if line]
    else:
        lines = [line for line in NEWLINE.split(UFOLD.sub("", text)) if line]
    if len(lines) < 2 or lines[0].upper() != "BEGIN:VCALENDAR" or lines[-1].upper() != "END:VCALENDAR":
        return None
    head: list[str] = []
    parts: list[tuple[str, list[str]]] = []
    depth = 0
    for line in lines[1:-1]:
        boundary = _BOUNDARY.match(line)
        if boundary:
            word = boundary.group(1).upper()
            if line[:len(word) + 1].upper() != word + ":":
                return None  # BEGIN;X=..., "END :": as the library may read it, not here
            if word == "BEGIN":
                depth += 1
                if depth == 1:
                    parts.append((line[6:].upper(), [line]))
                    continue
            else:
                depth -= 1
                if depth < 0:
                    return None
                parts[-1][1].append(line)
                continue
        if depth == 0:
            head.append(line)
        else:
            parts[-1][1].append(line)
    return (head, parts) if depth == 0 else None


def _raw_uid(lines: list[str]) -> list[str]:
    # only "u" and "U" upper-case to "U" (no other character does, nor to more than one): the
    # first character tells the lines that may be a UID
    return [line.split(":", 1)[-1] for line in lines
            if (line[:1] == "U" or line[:1] == "u") and (line[:4].upper() == "UID:" or line[:4].upper() == "UID;")]


def _unescape(value: str) -> str:
    """`unescape_backslash`, which has nothing to do in a value without a backslash."""
    return unescape_backslash(value) if "\\" in value else value


class _Text(str):
    """A property's value as the library gives it (`str()` of its vText or vUri), with its parameters
    (empty ones made only when asked for: only an ATTACH's are read)."""

    given: Any = None

    @property
    def params(self) -> Any:
        if self.given is None:
            self.given = Parameters()
        return self.given


@dataclass
class _When:
    """A DTSTART/DTEND/DURATION value as the library's `vDDDTypes` holds it (`.dt`)."""

    dt: Any
    params: Any = None


class _PlainEvent(dict):
    """A plain event's used properties, read as `Event.get`/`decoded` give them to `_meeting`, and
    its occurrence's (start, end) (`_span`, found when it is read)."""

    span: tuple[Any, Any] = (None, None)

    def decoded(self, name: str) -> Any:
        return self[name].dt


_TEXT_TYPES = {"UID": "TEXT", "SUMMARY": "TEXT", "DESCRIPTION": "TEXT", "LOCATION": "TEXT", "STATUS": "TEXT",
               "URL": "URI", "ATTACH": "URI"}


def _plain_event(lines: list[str]) -> _PlainEvent | None:
    """The event as the library reads the properties a meeting uses, or None when it is not plain
    (or anything in it might read otherwise there)."""
    event = _PlainEvent()
    for line in lines[1:-1]:
        m = _PROPERTY.match(line)
        if m is None:
            return None
        name = m.group(1).upper()
        used = _USE.get(name)
        if not used:
            if used is None:
                continue
            return None
        if m.group(2) == ";":
            try:
                _, params, value = Contentline(line).parts()
            except ValueError:
                return None
            value_type = params.value
        else:
            params, value, value_type = None, _unescape(line[m.end():]), None
        if name in _TEXT_TYPES:
            if value_type not in (None, _TEXT_TYPES[name]) or (_TEXT_TYPES[name] == "URI" and ("\r" in value
                                                                                             or "\n" in value)):
                return None  # another value type, or a URI the library keeps as unreadable
            text = _Text(value)
            text.given = params
            if name == "ATTACH":
                event.setdefault(name, []).append(text)
            elif name in event:
                return None  # said twice: the library keeps a list
            else:
                event[name] = text
            continue
        if name in event or value_type not in (None, "DATE", "DATE-TIME", "DURATION"):
            return None
        tzid = params.get("TZID") if params is not None and name != "DURATION" else None
        if tzid is not None and not _known_zone(tzid):
            return None  # a zone a VTIMEZONE of the feed may define
        try:
            parsed = vDDDTypes.from_ical(value, tzid) if tzid else vDDDTypes.from_ical(value)
        except (ValueError, TypeError):
            return None  # the library keeps it as unreadable: its checks say so
        if name == "DURATION" and not isinstance(parsed, timedelta):
            return None
        if name != "DURATION" and not (isinstance(parsed, date) and 1900 <= parsed.year <= 2200):
            return None
        event[name] = _When(parsed, params)
    uid = event.get("UID")
    if not uid or "\\" in uid or "DTSTART" not in event:
        return None
    event.span = _span(event)
    if event.span[0] is not event["DTSTART"].dt:
        return None  # its occurrence starts otherwise (an end before the start, a date ending at a time)
    return event


def _span(event: _PlainEvent) -> tuple[Any, Any]:
    """(start, end) of a plain event's one occurrence, as the expansion library computes it."""
    start = event["DTSTART"].dt
    if "DTEND" in event:
        end = event["DTEND"].dt
    elif "DURATION" in event:
        duration = event["DURATION"].dt
        base = datetime(start.year, start.month, start.day) if duration.seconds != 0 and not isinstance(
            start, datetime) else start
        end = base + duration
    else:
        end = start if isinstance(start, datetime) else start + timedelta(days=1)
    first, last = make_comparable((start, end))
    return (last, first) if first > last else (first, last)


def _split_plain(data: bytes) -> tuple[bytes, list[_PlainEvent]]:
    """(the feed the library reads: its head, time zones and every event not plain; the plain
    events, read here)."""
    found = _feed_parts(data)
    if found is None:
        return data, []
    head, parts = found
    uids: dict[str, int] = {}
    raw = [_raw_uid(lines) if name == "VEVENT" else [] for name, lines in parts]
    for said_uids in raw:
        for uid in said_uids:
            for said in {uid, _unescape(uid)}:
                uids[said] = uids.get(said, 0) + 1
    plain: list[_PlainEvent] = []
    kept: list[str] = []
    for (name, lines), said_uids in zip(parts, raw, strict=True):
        if name == "VEVENT" and all(uids.get(uid) == 1 for uid in said_uids) \
                and (event := _plain_event(lines)) is not None:
            plain.append(event)
        else:
            kept.extend(lines)
    if not plain:
        return data, []
    return "\r\n".join(["BEGIN:VCALENDAR", *head, *kept, "END:VCALENDAR", ""]).encode(), plain


def parse_ical(data: bytes, ctx: ListingContext) -> Listing:
    """Meetings in the window, and one line per event (or time zone) that could not be read. A
    meeting whose title matches a keyword shows it as its one item, as every listing without agenda
    items does."""
    return _parse(data, ctx, plain=True)


def _parse(data: bytes, ctx: ListingContext, *, plain: bool) -> Listing:
    """`plain`: read plain events here (False: the library reads every event, as a check)."""
    if problem := html_instead(data, "an iCalendar feed"):
        raise SourceParseError(problem)
    data = utf8_of(data).lstrip(b" \t\r\n")  # (a blank before BEGIN:VCALENDAR would fold it into nothing)
    problems: list[str] = []
    warnings: list[str] = []
    data = _window_only(data, ctx)
    data, plain_events = _split_plain(data) if plain else (data, [])
    try:
        calendar = Calendar.from_ical(data)
    except Exception as exc:
        calendar = _read_by_component(data, exc, problems, warnings)
    zone = ZoneInfo(ctx.timezone)
    floating = _feed_zone(calendar, zone)
    _one_series_per_uid(calendar, problems)
    recurring: set[str] = set()
    for component in list(_events(calendar)):
        try:
            _check_event(component, floating)
        except Exception as exc:
            problems.append(f"{_label(component)}: unreadable: {_reason(exc)}")
            calendar.subcomponents.remove(component)
            continue
        if _end_before_start_dropped(component):
            warnings.append(f"{_label(component)}: its DTEND is before its DTSTART: read from its DTSTART")
        if component.get("RRULE") or component.get("RDATE") or component.get("RECURRENCE-ID"):
            recurring.add(str(component.get("UID")))
    meetings: list[Meeting] = []
    in_window = [event for event in plain_events
                 if time_span_contains_event(ctx.window_start, ctx.window_end, *event.span)]
    for event in [*_expand(calendar, ctx, problems), *in_window]:
        try:
            meetings.append(_meeting(event, ctx, zone, floating, recurring))
        except Exception as exc:  # one instance that cannot be read is that instance's problem
            problems.append(f"{_label(event)}: unreadable: {_reason(exc)}")
    if _EVENTS_CALENDAR.search(data[:4096]):
        meetings = _keyed_by_post(meetings)
    meetings.sort(key=lambda mt: (mt.date or "", mt.source_ref))
    return Listing(meetings, problems, warnings)


# The Events Calendar (WordPress; `PRODID:-//<site> - ECPv6.15.20//NONSGML v1.0//EN`) writes each
# event's UID as its post's id, then its start and end as Unix times, then the site's host
# ("10814-1776711600-1776718800@auburndalefl.com"): a meeting moved to another hour would be a new
# UID, a new meeting, the old one left standing at its old time.
_EVENTS_CALENDAR = re.compile(rb"^PRODID:[^\r\n]* - ECPv[0-9]", re.M)
_POST_UID = re.compile(r"([0-9]{1,12})-[0-9]{1,12}-[0-9]{1,12}@([^@\s]+)")


def _keyed_by_post(meetings: list[Meeting]) -> list[Meeting]:
    """The Events Calendar's meetings each known by its post and site ("10814@auburndalefl.com"),
    not by the times in its UID; where two would share one (never seen), both keep their UIDs."""
    posts = [f"{m.group(1)}@{m.group(2)}" if (m := _POST_UID.fullmatch(mt.source_ref)) else None for mt in meetings]
    shared = {post for post in posts if post is not None and posts.count(post) > 1}
    return [replace(mt, source_ref=post) if post is not None and post not in shared else mt
            for mt, post in zip(meetings, posts, strict=True)]
