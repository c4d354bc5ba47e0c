"""Rules every meeting source shares: one cancellation decision, keyword matching, local times,
dates and times written in text, what a document link is, and the body a title names."""

from __future__ import annotations

import bisect
import codecs
import functools
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo

from tracker.records import AgendaItem, Document, ListingContext
from tracker.safetext import web_url

# The many spellings of "this meeting will not happen as scheduled". "Deferred compensation" is a
# retirement plan and the name of the board that runs it (Napa County's), no deferral.
# An underscore parts words as a space does ("City Council Special Meeting_Cancellation Notice").
_CANCEL_WORDS = re.compile(r"(?<![^\W_])(cancel+ed|cancel+ation|postponed|deferred(?![\s_]+comp)"
                           r"|rescheduled to a later date)(?![^\W_])", re.I)
# A notice's cancel word about a meeting named by its day (`_day_called_off`): the day written
# just before it ("the Regular Meeting ... of October 18, 2022 has been canceled", "scheduled ... on
# Tuesday, April 14, 2020, is canceled and shall now commence on ... April 21") or just after it ("act
# on the cancellation of the Tuesday, December 16, 2025 Regular Meeting", a heading's "Cancelled: the
# March 10 meeting moved to March 17"), as Saint Paul's school board writes its notices on the
# meeting that is held. Between the date and the word, on one line:
# verbs ("... October 18, 2022 has been canceled"); a short name of the meeting and verbs after "the
# <date>" ("The March 10, 2026 Regular Meeting is cancelled", "The Tuesday, March 10, 2026 Special
# Board Meeting has been postponed"); or none after a date naming a meeting ("Meeting of March 3,
# 2026 cancelled"). "Updated 02/27/2026, CANCELLED", "Posted 02/27/2026\nCANCELLED" and "Posted
# 02/27/2026 The Regular Meeting has been cancelled" date the notice, not the meeting called off. A
# date with no year ("The March 10 Regular Meeting is cancelled") is read in the year that puts it
# nearest the meeting's day. A word naming no day, a heading ("CANCELLATION NOTICE: The Regular
# Meeting of October 18, 2022 has been canceled"), goes with the notice's dated words when every one
# of them names another day; alone ("CANCELLED"), or with "this meeting" before it ("This meeting has
# been cancelled. The March 17, 2026 meeting has also been cancelled"), it is the meeting's own.
_VERB = r"(?:is|was|are|were|has|have|had|been|being|will|shall|be|hereby|now|also)[ \t]+"
_BEFORE_CANCEL = re.compile(rf"[ \t]*(?:,[ \t]*)?(?:{_VERB})*", re.I)
_NO_VERB = re.compile(r"[ \t]*(?:,[ \t]*)?")
# at most five words of letters ending in the kind of meeting, no article ("Posted 02/27/2026 The
# Regular Meeting has been ..." is no meeting's name)
_MEETINGS_NAME_BEFORE_CANCEL = re.compile(
    rf"[ \t]*(?:,[ \t]*)?(?:of[ \t]+the[ \t]+|(?!(?:the|this|that|a|an|our|its)[ \t])[a-z]+[ \t]+){{0,4}}"
    rf"(?:meeting|session|hearing|workshop)[ \t]+(?:{_VERB})+", re.I)
_A_MEETINGS_DATE = re.compile(r"\b(?:of|on|for)\s+(?:the\s+)?(?:[a-z]+day,?\s+)?$", re.I)  # what comes before it
_THE_DATE = re.compile(r"\bthe[ \t]+(?:[a-z]+day,?[ \t]+)?$", re.I)  # "The Tuesday, March 10, 2026 Special ..."
# "Posted on March 3 CANCELLED": the day the notice was written, not a meeting's
_POSTED_ON = re.compile(r"\b(?:posted|updated|revised|amended|published|issued|dated|added|modified|changed|edited|sent)"
                        r"\s+(?:on|of|for)\s+(?:the\s+)?(?:[a-z]+day,?\s+)?$", re.I)
# A heading's cancel word ("CANCELLATION NOTICE:", "MEETING CANCELLED" on a line of its own): at most
# three words before it on its line, none a verb, and after it only "notice" and a colon or the line's end.
_HEADING_BEFORE = re.compile(rf"[ \t*#>-]*(?:(?!{_VERB})[A-Za-z]+[ \t]+){{0,3}}", re.I)
# (Blanks taken possessively, "notice" with its own: "[ \t]*(?:notice)?[ \t]*" tried every way of
# sharing a run of blanks between its two halves, n² steps; what follows blanks here is no blank.)
_HEADING_AFTER = re.compile(r"[ \t]*+(?:(?:notice|notification)[ \t]*+)?(?::|\r?\n|$)", re.I)
_THIS_MEETING = re.compile(rf"\bthis[ \t]+(?:meeting|session|hearing|workshop)[ \t]+(?:{_VERB})*$", re.I)
# After "cancellation"/"canceled" only, and only "of" ("cancelled on 2/27/2026" says when it was
# called off; "postponed for March 10" names the new day).
_CANCEL_OF = re.compile(r"(?:\s+(?:meeting|session|hearing))?\s+of\s+(?:the\s+)?(?:[a-z]+day,?\s+)?", re.I)
# After a heading's "cancelled"/"cancellation" (not "postponed", whose date is often the new day),
# the day it heads: a date right there that stands alone or names a meeting called off or moved
# ("Cancelled: the March 10 meeting moved to March 17", "CANCELLED - Tuesday, March 10, 2026",
# "MEETING CANCELLED\nMarch 10, 2026"); not one held ("Cancelled - March 17 meeting will be held instead").
# (Its blanks taken as `_HEADING_AFTER` takes them.)
_HEADING_OF = re.compile(r"[ \t]*+(?:(?:notice|notification)[ \t]*+)?(?:[:\u2013\u2014-]|\r?\n)\s*(?:the\s+)?"
                         r"(?:[a-z]+day,?\s+)?", re.I)
_HEADED_DATE_ENDS = re.compile(
    rf"(?:[ \t]+(?:[a-z]+[ \t]+){{0,4}}?(?:meeting|session|hearing|workshop))?[ \t]*"
    rf"(?:$|[.;,)\r\n]|(?:{_VERB})*(?:moved|rescheduled|relocated|postponed|cancel+ed)\b)", re.I)
_CANCEL_STATUS = {"cancelled", "canceled", "deferred", "postponed"}
# Said in a meeting's own name ("03-17-26 City Council Agenda (No Meeting)", "THE BOARD WILL NOT MEET
# ON JULY 10"); in a description the same words may be about another meeting or an item. A name
# moving its meeting to another day is `moved_in_name`'s (it needs the meeting's day).
# A name saying the body does not meet: "No Meeting", "will not meet", or "dark" as councils say it
# ("Board of Library Trustees - Dark Meeting", "City Council (DARK)"): that word only as the name's
# last part, after a dash, colon, bar or parenthesis ("Dark Sky Committee" is a body).
# (The blanks after "dark" taken possessively: "\s*\)?\s*$" tried every split of a run of them.)
_OFF_IN_NAME = re.compile(r"\b(no meetings?|will not meet)(?!\w)|(?:^|[-\u2013\u2014:|(]\s*)(dark)(?:\s++meeting)?\s*+\)?\s*+$",
                          re.I)


class SourceParseError(ValueError):
    """The response is not a usable listing; the message is one line for the operator."""


# Meetings one listing may hold in the crawl's window. A city's calendar of every body lists a few
# hundred; a broken or hostile answer of half a million (a 50 MB feed) would be as many rows, pages
# and alerts, stored for an hour after a parse of a gigabyte. Refused whole: the meetings stored
# before stay, none noted missing (the listing was not read).
MAX_MEETINGS = 10_000


def too_many(count: int) -> str:
    """The operator's line for a listing of more than `MAX_MEETINGS` meetings in the window."""
    return (f"refused: {count:,} meetings in the crawl's window, more than a body's calendar holds "
            f"(at most {MAX_MEETINGS:,} are read): nothing stored from it")


_WIDE_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
              (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))  # UTF-32's first: it starts as UTF-16's


def utf8_of(data: bytes) -> bytes:
    """A UTF-16 or UTF-32 document (its byte order mark says so) as UTF-8, for the parsers that read
    text as UTF-8 (iCalendar, a BoardDocs export or list); any other document as it is."""
    for mark, encoding in _WIDE_BOMS:
        if data.startswith(mark):
            try:
                return data.decode(encoding).encode("utf-8")
            except UnicodeDecodeError:
                return data  # then read as it is, and said unreadable there
    return data


def cancellation(*, status: str | None = None, title: str | None = None, comment: str | None = None,
                 day: date | None = None) -> str | None:
    """The source's own word when a meeting is off ("CANCELLED", "Deferred"), else None. Given the
    meeting's `day`, a notice's word about another day's meeting (`_notice_calls_off`) is not this
    meeting's; a title's words are always its own."""
    if status and status.strip().lower() in _CANCEL_STATUS:
        return status.strip()
    if title and _may_cancel(title) and (match := _CANCEL_WORDS.search(title)):
        return match.group(1)
    if comment and _may_cancel(comment) and (word := _notice_calls_off(comment, day)):
        return word
    match = _OFF_IN_NAME.search(title) if title and _may_be_off(title) else None
    return (match.group(1) or match.group(2)) if match else None


def _notice_calls_off(text: str, day: date | None) -> str | None:
    """The first cancel word of a notice that calls off its own meeting, on `day`: one naming that
    day or none; but a heading's word naming no day goes with the notice's dated words when they
    all name another day ("CANCELLATION NOTICE: The Regular Meeting of October 18, 2022 has been
    canceled" on October 11's calls off none; "Cancelled. The March 24 meeting is also cancelled"
    on March 10's calls off its own)."""
    written = _dates_near(text, day) if day is not None else ()
    first_own = first_heading = None
    about_another = False
    before: list[int] = []  # the starts of the cancel words before this one
    for word in _CANCEL_WORDS.finditer(text):
        if day is None:
            return word.group(1)
        named = _day_called_off(text, word, day, written, before)
        if named is None and _heading(text, word, before):
            first_heading = first_heading or word.group(1)
        elif named is None:
            first_own = first_own or word.group(1)
        elif named != day and not _mistyped_year(named, day):
            about_another = True
        else:
            return first_own or first_heading or word.group(1)
        before.append(word.start())
    return first_own or (None if about_another else first_heading)


def _words_since(before: list[int], at: int) -> int:
    """How many of the cancel words that start at `before` (in order) start at or after `at`."""
    return len(before) - bisect.bisect_left(before, at)


def _mistyped_year(named: date, day: date) -> bool:
    """The meeting's own day with last or next year's number ("The January 6, 2025 Regular Meeting
    is cancelled" on January 6, 2026): a year mistyped as it turns, not a meeting a year away."""
    return (named.month, named.day) == (day.month, day.day) and abs(named.year - day.year) == 1


def _heading(text: str, word: re.Match[str], before: list[int]) -> bool:
    """Whether a cancel word is a heading's ("CANCELLATION NOTICE:", "MEETING CANCELLED" alone on
    its line), not a sentence's ("The meeting has been cancelled."). `before`: the starts of the
    notice's cancel words before it. At most three of them fit in the words before a heading's:
    with more on its line, none is read again (each read of the line's start costs its length, a
    line of thousands of cancel words cost as many times its length)."""
    line = text.rfind("\n", 0, word.start()) + 1
    return bool(_HEADING_AFTER.match(text, word.end())) and _words_since(before, line) <= 3 \
        and bool(_HEADING_BEFORE.fullmatch(text, line, word.start()))


def _day_called_off(text: str, word: re.Match[str], day: date,
                    written: tuple[tuple[int, int, date], ...], before: list[int]) -> date | None:
    """The day of the meeting the cancel word `word` of a notice on `day`'s meeting is said of, None
    when it names none (`written`: the notice's dates, `_dates_near`'s): the date written just
    before it on its line (verbs between: "October 18, 2022 has been canceled"; a meeting's name and
    verbs after "the": "The March 10, 2026 Regular Meeting is cancelled"; or none after "of"/"on":
    "Meeting of March 3, 2026 cancelled") or just after "cancellation of" ("... of the Tuesday,
    December 16, 2025 ...") or a heading's word ("Cancelled: the March 10 meeting moved to March
    17"); `day` after "this meeting". A notice that names no day for it
    ("Cancelled - rescheduled to 10/25", "Posted 10/01/2022: the meeting has been cancelled"), or
    dates its writing or the calling off ("Updated 02/27/2026, CANCELLED", "cancelled on
    2/27/2026") or names the new day ("Postponed for March 10, 2026"), names none. `before`: the
    starts of the notice's cancel words before `word`. Between the date and the word, verbs hold no
    cancel word and a meeting's short name at most four (its words): with more there, the text
    between is not read again (each read costs its length: a date followed by thousands of cancel
    words cost as many times the text)."""
    # the dates do not overlap: in order of their starts, they are in order of their ends
    if dated := bisect.bisect_right(written, word.start(), key=lambda found: found[1]):
        start, end, named = written[dated - 1]
        between = _words_since(before, end)
        if not between and _BEFORE_CANCEL.fullmatch(text, end, word.start()) and (
                not _NO_VERB.fullmatch(text, end, word.start())
                or (_A_MEETINGS_DATE.search(text, max(0, start - 40), start)
                    and not _POSTED_ON.search(text, max(0, start - 60), start))):
            return named
        if between <= 4 and _MEETINGS_NAME_BEFORE_CANCEL.fullmatch(text, end, word.start()) and _THE_DATE.search(
                text, max(0, start - 40), start):
            return named
    if word.group(1).lower().startswith("cancel") and (of := _CANCEL_OF.match(text, word.end())) and (
            found := _written_at(written, of.end())):
        return found[2]
    if word.group(1).lower().startswith("cancel") and (heads := _HEADING_OF.match(text, word.end())) and (
            found := _written_at(written, heads.end())) and _HEADED_DATE_ENDS.match(text, found[1]):
        return found[2]
    if _THIS_MEETING.search(text, max(0, word.start() - 80), word.start()):
        return day
    return None


def _written_at(written: tuple[tuple[int, int, date], ...], at: int) -> tuple[int, int, date] | None:
    """The date of `written` (start, end, date; in order of their starts) that starts at offset
    `at`, if one does."""
    found = bisect.bisect_left(written, at, key=lambda date_written: date_written[0])
    return written[found] if found < len(written) and written[found][0] == at else None


def _may_be_off(title: str) -> bool:
    """Whether `title` can hold one of `_OFF_IN_NAME`'s phrases: in ASCII, a case-insensitive
    match holds it in lower case (as `_may_cancel`); other text is searched."""
    if not title.isascii():
        return True
    lowered = title.lower()
    return "no meeting" in lowered or "will not meet" in lowered or "dark" in lowered


def _may_cancel(text: str) -> bool:
    """Whether `text` can hold one of `_CANCEL_WORDS`: in ASCII, a case-insensitive match holds
    one of their stems in lower case, which substring tests tell far faster than the search (most
    titles say nothing of a cancellation); other text is searched."""
    if not text.isascii():
        return True
    lowered = text.lower()
    return "cancel" in lowered or "postponed" in lowered or "deferred" in lowered or "rescheduled" in lowered


_SLACK = timedelta(days=1)


@functools.lru_cache(maxsize=1024)
def _keyword(keyword: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)" + r"\s+".join(re.escape(part) for part in keyword.split()) + r"(?!\w)", re.I)


def match_keywords(texts: list[str | None], keywords: Sequence[str]) -> list[str]:
    """Keywords found as whole words or phrases, case-insensitively ("police" is not in "policies")."""
    if not keywords:
        return []
    haystack = (texts[0] or "") if len(texts) == 1 else " ".join([t for t in texts if t])
    words = _ascii_words(tuple(keywords))
    if words is not None and haystack.isascii():
        # Most texts hold no keyword: in ASCII, a case-insensitive match holds every word of the
        # keyword in lower case, which a substring test tells ten times faster than the search.
        lowered = haystack.lower()
        keywords = [keyword for keyword, parts in words if all(part in lowered for part in parts)]
    return [keyword for keyword in keywords if _keyword(keyword).search(haystack)]


def keywords_each(texts: list[str], keywords: Sequence[str]) -> list[list[str]]:
    """`match_keywords([text], keywords)` of each text (a meeting's agenda items, say), the texts
    first tested together: when, all in ASCII, they do not even hold the words of a keyword, no
    one of them holds the keyword (the usual case, found in one pass instead of one per text)."""
    if keywords and (words := _ascii_words(tuple(keywords))) is not None:
        joined = "\n".join(texts)
        if joined.isascii():
            lowered = joined.lower()
            held = [(keyword, parts) for keyword, parts in words if all(part in lowered for part in parts)]
            if not held:
                return [[] for _ in texts]
            # each text as match_keywords reads an ASCII one: its words first, then the whole-word search
            found: list[list[str]] = []
            for text in texts:
                low = text.lower()
                found.append([keyword for keyword, parts in held if all(part in low for part in parts)
                              and _keyword(keyword).search(text)])
            return found
    return [match_keywords([text], keywords) for text in texts]


@functools.lru_cache(maxsize=256)
def _ascii_words(keywords: tuple[str, ...]) -> tuple[tuple[str, tuple[str, ...]], ...] | None:
    """Each keyword with its words in lower case, when all are ASCII (else None: no shortcut)."""
    if not all(keyword.isascii() for keyword in keywords):
        return None
    return tuple((keyword, tuple(keyword.lower().split())) for keyword in keywords)


def whole_weeks(start: date, end: date) -> tuple[date, date]:
    """The days a dated listing is asked for, covering `start`..`end`: from the Monday of `start`'s
    week, as many whole weeks as a window of this length can need from any weekday. The crawl's
    window moves a day a run, so the address (and the conditional GET it carries) changes only on
    Mondays, not also when the window's end crosses a Sunday."""
    first = start - timedelta(days=start.weekday())
    return first, first + timedelta(weeks=-(-((end - start).days + 7) // 7), days=-1)


def in_window(ctx: ListingContext, day: date | None) -> bool:
    """Whether a meeting on `day` can be in the listing's window (a day's slack either side for the
    zones): one outside it is dropped by the spider anyway, so a parser skips the rest of its row
    (its documents, its agenda items) and a page of years of meetings costs only its window's."""
    return day is not None and (ctx.window_start - _SLACK).date() <= day <= (ctx.window_end + _SLACK).date()


def utc_iso(local: datetime, zone: str) -> str:
    """A wall-clock time in the body's zone as the UTC instant we store (an offset written with it
    is not the body's: its wall clock is read). The zone's offset at that wall-clock time taken
    off, as `astimezone` does, without building the zone-aware time first (a third of the cost)."""
    if local.tzinfo is not None:
        local = local.replace(tzinfo=None)
    return (local - ZoneInfo(zone).utcoffset(local)).isoformat() + "+00:00"


def title_items(text: str | None, keywords: Sequence[str], title: str | None = None) -> list[AgendaItem]:
    """Listings without agenda items: a meeting whose own words match is reported as the item."""
    found = match_keywords([text], keywords)
    return [{"key": "title", "title": (title or text or "").strip(), "matter": None, "keywords": found}] if found else []


# -- dates and times written in text --------------------------------------------------------------

_MONTHS = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec"
# "April 27, 2026", "April 27th 2026", "April 23rd, 2026" (Lake Wales' agenda feed)
_LONG_DATE = re.compile(rf"\b({_MONTHS})[a-z]*\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b", re.I)
# "27 April 2026", "27th April, 2026", "6th of May 2026"
_DAY_MONTH_DATE = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_MONTHS})[a-z]*\.?,?\s+(\d{{4}})\b", re.I)
_LONG_DATE_SHORT_YEAR = re.compile(rf"\b({_MONTHS})[a-z]*\.?\s+(\d{{1,2}}),\s*(\d\d)\b(?![\d:])", re.I)  # "Nov 09, 22"
_ISO_DATE = re.compile(r"\b(\d{4})-(\d\d)-(\d\d)\b")
# "11/19/2020", and Novato, CA's Granicus date cells "03 / 24 / 2026" (a space each side of the slashes)
_US_DATE = re.compile(r"\b(\d{1,2})(?:/|[ \xa0]/[ \xa0])(\d{1,2})(?:/|[ \xa0]/[ \xa0])(\d{4})\b")
# "03-16-2026" (Eagle Lake, FL's "03-16-2026 Regular City Commission Meeting Canceled"): read only in a
# text naming no day otherwise, being what clerks type in names, and mistype ("City Commission Regular
# Meeting 12-6-2025 - Dec 16, 2025", Lake Wales' Granicus feed, whose own day follows)
_DASHED_US_DATE = re.compile(r"(?<![\d-])(\d{1,2})-(\d{1,2})-(\d{4})\b(?!-\d)")
_SHORT_US_DATE = re.compile(r"\b(\d{1,2})([-/])(\d{1,2})\2(\d\d)\b(?![-/]\d)")  # Granicus "04-08-25 Regular..."
# "6:30 P.M.", "9:30 a.m.", "6 PM", "12:00pm", "12 noon", "530pm" (the minutes run into the am/pm
# with no colon: Liberal, KS's "City Commission Meeting 530pm"); not "14:75 pm" (checked below).
# A clock starts after no digit, or right after an address's state and zip ("Eureka, MO 630253:30
# p.m.": BoardDocs' list for search engines drops the line break between the two lines).
_CLOCK = re.compile(r"(?:(?<![\d:])|(?<=\b(?-i:[A-Z]{2}) \d{5}))"
                    r"(\d{1,2})(?:(?::|(?=\d\d[ap]\.?m\b))(\d\d))?\s*([ap])\.?\s*m\b\.?"
                    r"|\b(?:12(?::00)?\s*)?(noon)\b", re.I)
_DIGIT = re.compile(r"\d")
# "12:00 AM - 11:59 PM": a CMS's span for a whole day (a CivicPlus calendar's all-day event), no start time
_WHOLE_DAY = re.compile(r"\s*(?:-|\u2013|\u2014|to)\s*11:59\s*p\.?\s*m\b", re.I)
_TEXT_LIMIT = 4000  # a description longer than this is read only this far (untrusted, and slow to scan)
# a month's number by its name's first three letters ("sep" of "Sept.")
MONTH_NUMBERS = {name: n for n, name in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep",
                                                   "oct", "nov", "dec"), start=1)}
_DOTTED_DATE = re.compile(r"\b(\d{4})\.(\d\d)\.(\d\d)\b(?!\.\d)")  # Perry, FL's "City Council Meeting 2026.12.08"


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


@functools.lru_cache(maxsize=8192)
def _dates_in(text: str) -> tuple[tuple[int, int, date], ...]:
    found: list[tuple[int, int, date]] = []
    for m in _LONG_DATE.finditer(text):
        if day := _safe_date(int(m.group(3)), MONTH_NUMBERS[m.group(1)[:3].lower()], int(m.group(2))):
            found.append((m.start(), m.end(), day))
    for m in _DAY_MONTH_DATE.finditer(text):
        if day := _safe_date(int(m.group(3)), MONTH_NUMBERS[m.group(2)[:3].lower()], int(m.group(1))):
            found.append((m.start(), m.end(), day))
    for m in _LONG_DATE_SHORT_YEAR.finditer(text):
        if day := _safe_date(2000 + int(m.group(3)), MONTH_NUMBERS[m.group(1)[:3].lower()], int(m.group(2))):
            found.append((m.start(), m.end(), day))
    for m in _ISO_DATE.finditer(text):
        if day := _safe_date(int(m.group(1)), int(m.group(2)), int(m.group(3))):
            found.append((m.start(), m.end(), day))
    for m in _DOTTED_DATE.finditer(text):
        if day := _safe_date(int(m.group(1)), int(m.group(2)), int(m.group(3))):
            found.append((m.start(), m.end(), day))
    for m in _US_DATE.finditer(text):
        if day := _safe_date(int(m.group(3)), int(m.group(1)), int(m.group(2))):
            found.append((m.start(), m.end(), day))
    for m in _SHORT_US_DATE.finditer(text):
        if day := _safe_date(2000 + int(m.group(4)), int(m.group(1)), int(m.group(3))):
            found.append((m.start(), m.end(), day))
    if not found:
        for m in _DASHED_US_DATE.finditer(text):
            if day := _safe_date(int(m.group(3)), int(m.group(1)), int(m.group(2))):
                found.append((m.start(), m.end(), day))
    found.sort()
    # one date written one way is not also a second date (the "2025" of "4/8/2025" is no "25")
    kept: list[tuple[int, int, date]] = []
    for item in found:
        if not kept or item[0] >= kept[-1][1]:
            kept.append(item)
    return tuple(kept)


def dates_in(text: str | None) -> tuple[tuple[int, int, date], ...]:
    """Every date written in `text` as (start, end, date), in order ("Nov 19, 2020", "Nov 09, 22",
    "2018-06-21", "2026.12.08", "11/19/2020", "04-08-25"); a date that is no date (13/45/2020) is left out.
    Listings repeat the same words row after row: each text is read once."""
    text = (text or "")[:_TEXT_LIMIT]
    return _dates_in(text) if _DIGIT.search(text) else ()


# A month's name and a day with no year ("The March 10 Regular Meeting", "Meeting of October 18th");
# not "Mayor 5" nor "March 10:30".
_MONTH_DAY = re.compile(r"\b(Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
                        r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?\s+(\d{1,2})"
                        r"(?:st|nd|rd|th)?(?![\w:/])", re.I)


def _dates_near(text: str, day: date) -> tuple[tuple[int, int, date], ...]:
    """`dates_in(text)` and the dates written there with no year ("Meeting of October 18 has been
    canceled"), each in the year that puts it nearest `day` (so within about six months of it): a
    notice on a meeting's entry speaks of meetings near it. Only notices read these: elsewhere a
    date with no year is no date."""
    text = text[:_TEXT_LIMIT]
    written = dates_in(text)
    yearless: list[tuple[int, int, date]] = []
    for m in _MONTH_DAY.finditer(text) if _DIGIT.search(text) else ():
        at = bisect.bisect_left(written, m.end(), key=lambda found: found[0])
        if at and written[at - 1][1] > m.start():
            continue  # the month and day of a date with its year ("March 10, 2026")
        month, number = MONTH_NUMBERS[m.group(1)[:3].lower()], int(m.group(2))
        candidates = [named for year in (day.year - 1, day.year, day.year + 1)
                      if (named := _safe_date(year, month, number))]
        if candidates:
            yearless.append((m.start(), m.end(), min(candidates, key=lambda candidate: abs(candidate - day))))
    return tuple(sorted(written + tuple(yearless))) if yearless else written


def find_date(text: str | None) -> date | None:
    """The first date written in `text`."""
    found = dates_in(text)
    return found[0][2] if found else None


def find_date_near(text: str | None, day: date) -> date | None:
    """The first date written in `text`, one with no year ("Monday April 6th") read in the year
    that puts it nearest `day` (`_dates_near`): a feed entry posted on `day` names its meeting so."""
    found = _dates_near(text or "", day)
    return found[0][2] if found else None


def find_time(text: str | None) -> time | None:
    """The first clock time written in `text` ("8:30 a.m.", "6 PM", "12 noon")."""
    return _find_time((text or "")[:_TEXT_LIMIT])


@functools.lru_cache(maxsize=8192)
def _find_time(text: str) -> time | None:
    for m in _CLOCK.finditer(text):
        if m.group(4):
            return time(12, 0)
        hour, minute = int(m.group(1)), int(m.group(2) or 0)
        if hour == 12 and minute == 0 and m.group(3).lower() == "a" and _WHOLE_DAY.match(text, m.end()):
            return None  # midnight to 11:59 PM is the whole day: no time stated
        if 1 <= hour <= 12 and minute <= 59:
            return time(hour % 12 + (12 if m.group(3).lower() == "p" else 0), minute)
        return None  # the first clock-like words are no time: do not guess further on
    return None


_ASIDE = re.compile(r"\([^()]*\)")


def _of_this_day_or_none(text: str, day: date) -> bool:
    """Whether `text` names no day, or names `day` among others."""
    written = dates_in(text)
    return not written or any(d[2] == day for d in written)


def time_for_day(day: date, *texts: str | None) -> time | None:
    """The time a meeting on `day` starts, as its own words state it (its name, then its notice),
    never invented: a text that names other days gives only the time written after this day's
    date ("... Monday, August 12, 2019, at 5:30 p.m. ... next meeting August 26, 2019, at 5:30 p.m."),
    an aside in brackets naming only other days left out ("Board Meeting @ 5:30 p.m. (Reconvening of
    Recessed Meeting - September 8, 2025)", of September 15); a text that names no day gives its
    first time ("Work Session - 6:30 P.M.")."""
    for text in texts:
        if not text:
            continue
        text = text[:_TEXT_LIMIT]
        written = dates_in(text)
        if "(" in text and any(d[2] != day for d in written):
            text = _ASIDE.sub(lambda aside: aside.group(0) if _of_this_day_or_none(aside.group(0), day) else " ", text)
            written = dates_in(text)
        mine = [d for d in written if d[2] == day]
        if not written or len(mine) == len(written):
            if clock := find_time(text):
                return clock
            continue
        for start, end, _ in mine:
            following = min((d[0] for d in written if d[0] > start), default=len(text))
            if clock := find_time(text[end:following]):
                return clock
    return None


_MARKUP = re.compile(r"</?[A-Za-z][^<>]*>")


def place_line(text: str | None) -> str | None:
    """A place as one line: a tag of the HTML a calendar left in it out ("<p>James P Austin
    Community Center</p> - 315 Dr Martin Luther King Jr Boulevard", Lake Wales' iCalendar feed), its
    blanks one space, and a separator with nothing before or after it dropped (" -   Lake Wales FL
    33853": a place whose room is empty); None for nothing."""
    if not text:
        return None
    line = " ".join((_MARKUP.sub(" ", text) if "<" in text else text).split())
    return line.strip(" -–,;") or None


# A meeting's name giving its place where the source has no place field: after an "@" that is not
# the time's ("Board Meeting @ 6:30 p.m. @ Ottawa Hills High School", Grand Rapids schools'
# BoardDocs; "Regular Meeting @ LAX", LAWA's Granicus page), or after "Location change" ("Board
# Meeting @ 6:30 p.m. - LOCATION CHANGE - OTTAWA HILLS HIGH SCHOOL AUDITORIUM").
_AT = re.compile(r"(?<=\S)[ \t]+@[ \t]+(?=\S)")
_PLACE_CHANGE = re.compile(r"\blocation[ \t]+change[ \t]*[-:\u2013\u2014][ \t]*(?=\S)", re.I)
# where a place written in a name ends: an aside in brackets ("@ GRPS University, Mulitpurpose Room
# Two (Note - Room Change)"), or a dash before what is said of the meeting ("- Canceled", "- Click here")
_PLACE_END = re.compile(r"[ \t]*\(|[ \t]+[-\u2013\u2014][ \t]+(?=[^-\u2013\u2014]*?(?:cancel|postpone|click|resched|virtual"
                        r"|online|zoom))", re.I)


def place_in_name(title: str | None) -> str | None:
    """The place a meeting's name states (see `_AT`), None when it states none: what follows an
    "@" starting with a letter and not a time ("@ 6:30 p.m.", "@ Noon" are the meeting's time), up to
    the next "@", an aside in brackets or a dash before a word about the meeting itself."""
    if not title or ("@" not in title and "ocation" not in title and "OCATION" not in title):
        return None
    title = title[:_TEXT_LIMIT]
    for at in _AT.finditer(title):
        rest = title[at.end():]
        if not rest[:1].isalpha() or _CLOCK.match(rest):
            continue
        if place := _place_part(_AT.split(rest, maxsplit=1)[0]):
            return place
    if changed := _PLACE_CHANGE.search(title):
        return _place_part(_AT.split(title[changed.end():], maxsplit=1)[0])
    return None


def _place_part(text: str) -> str | None:
    if end := _PLACE_END.search(text):
        text = text[:end.start()]
    return place_line(text)


# -- joining addresses ---------------------------------------------------------------------------
#
# `urljoin` parses both addresses and puts the result together again (a tenth of a millisecond
# here); listings join thousands. The forms it gives back as written are told by one match instead:
# an absolute http(s) address with a lower-case scheme, a plain host (and port), no `;` parameters in
# its path, no empty query, no fragment, and no character its parse strips or checks (white space,
# controls, non-ASCII, brackets). Anything else goes through `urljoin`.

_PLAIN_ABSOLUTE = re.compile(r"https?://[A-Za-z0-9.-]+(?::[0-9]*)?(?:/[^;?#]*)?(?:\?[^#]+)?")


def _plain_absolute(url: str) -> bool:
    return url.isascii() and url.isprintable() and " " not in url and _PLAIN_ABSOLUTE.fullmatch(url) is not None


def join_url(base: str, url: str) -> str:
    """`urljoin(base, url)`: a plain absolute http(s) address is itself whatever the base (one
    `urljoin` can read), and a plain protocol-relative one (`//host/path`) takes an http(s) base's
    scheme."""
    if url[:4] == "http" or url[:2] == "//":
        scheme = _base_scheme(base)
        if scheme is not None and url[:4] == "http" and _plain_absolute(url):
            return url
        if scheme in ("http", "https") and url[:2] == "//" and _plain_absolute(f"http:{url}"):
            return f"{scheme}:{url}"
    return urljoin(base, url)


@functools.lru_cache(maxsize=64)
def _base_scheme(base: str) -> str | None:
    """The scheme `urljoin` reads in `base` (a listing's own address), None when it cannot read it."""
    try:
        return urlsplit(base).scheme
    except (ValueError, TypeError):
        return None


@functools.lru_cache(maxsize=256)
def _joined_path(base: str, path: str) -> str | None:
    """`urljoin(base, path)` for a path from the root (`/Portal/Meeting`) with nothing a query could
    change, else None."""
    if path[:1] != "/" or path[1:2] == "/" or not path.isascii() or not path.isprintable() \
            or any(c in path for c in " :;?#"):
        return None
    return urljoin(base, path)


def join_query(base: str, path: str, query: str) -> str:
    """`urljoin(base, f"{path}?{query}")` for a path from the root: the joined path (the same for
    every row, joined once) with the query as written, when the query is one `urljoin` keeps
    as written (not empty, no fragment, no tab, line break or other control character)."""
    joined = _joined_path(base, path) if query and query.isprintable() and "#" not in query else None
    return f"{joined}?{query}" if joined is not None else urljoin(base, f"{path}?{query}")


# -- documents ------------------------------------------------------------------------------------

_MINUTES_URL = ("minutesviewer", "viewfile/minutes", "/minutes/")
_AGENDA_URL = ("agendaviewer", "generatedagenda", "viewfile/agenda", "agendaonline", "/agenda/", "/agendas/")
_VIDEO_URL = ("mediaplayer.php", "/player/", "asx.php", ".mp4", ".mp3", ".m4a", ".m3u8", ".wmv", "youtube.com/",
              "youtu.be/", "vimeo.com/", "swagit", "boxcast")
# the first of these a lowercased address holds says what it is (`_url_kind`)
_KIND_PARTS = tuple((part, kind) for kind, parts in (("minutes", _MINUTES_URL), ("agenda", _AGENDA_URL),
                                                       ("video", _VIDEO_URL)) for part in parts)
_MINUTES_WORDS = re.compile(r"\b(minutes?|journal|summary of action)\b", re.I)
_VIDEO_WORDS = re.compile(r"\b(videos?|audio|watch|listen|live ?stream|stream|media|recordings?|mp4|mp3|youtube)\b", re.I)
_AGENDA_WORDS = re.compile(r"\bagenda\b", re.I)


def document_kind(url: str, label: str | None = None) -> str:
    """What a link is (agenda, packet, minutes, video, other): the platforms' own addresses say it
    best (Granicus `AgendaViewer`, CivicPlus `ViewFile/Minutes`), then the source's label."""
    path, _, query = url.lower().partition("?")
    if "packet" in query:
        return "packet"
    if path.endswith(("/civicmedia", "/civicmedia.aspx")) and path.count("/") == 3:
        return "video"  # a CivicPlus site's Media Center: `https://<site>/CivicMedia?VID=285`, a meeting's video
    if kind := _path_kind(path, label or ""):
        return kind
    # only the query of a path that says nothing (no part holds a "?")
    return _url_kind(query) or label_kind(label or "")


def _url_kind(text: str) -> str | None:
    """The kind of the address part (`_KIND_PARTS`) that starts first in `text`, the first listed
    of those starting there; None when it holds none. What one search of all the parts as
    alternatives finds (leftmost, then first alternative), at a few `find`s' cost: the regular
    expression tries every part at every character, and a page's video addresses are long and
    each different."""
    first, kind = len(text), None
    for part, said in _KIND_PARTS:
        at = text.find(part, 0, first + len(part))  # only where it would start no later than the best
        if 0 <= at < first:
            first, kind = at, said
    return kind


@functools.lru_cache(maxsize=4096)
def _path_kind(path: str, label: str) -> str | None:
    """A packet when the path or the label says so, else the kind the first of the platforms'
    address parts in the path says; None when the query must be read. Pages link many addresses
    on few paths with few labels (`…/MediaPlayer.php?clip_id=N`, "Video"): each pair is read once."""
    if "packet" in path or label_kind(label) == "packet":
        return "packet"
    return _url_kind(path)


@functools.lru_cache(maxsize=2048)
def label_kind(label: str) -> str:
    """What a link's label says it is (labels repeat: "Agenda", "Video" on every row)."""
    if "packet" in label.lower():
        return "packet"
    if _MINUTES_WORDS.search(label):
        return "minutes"
    if _VIDEO_WORDS.search(label):
        return "video"
    if _AGENDA_WORDS.search(label):
        return "agenda"
    return "other"


class DocumentList:
    """A meeting's document and media links in the source's order, each once (by address), typed."""

    def __init__(self) -> None:
        self.items: list[Document] = []
        self._seen: set[str] = set()

    def __contains__(self, url: object) -> bool:
        return url in self._seen

    def add(self, url: str | None, label: str | None = None, kind: str | None = None) -> None:
        """Keep `url` when it is an http(s) link not already listed; `kind` from the link if not given."""
        link = web_url(url)
        if not link or link in self._seen:
            return
        self._seen.add(link)
        text = " ".join(str(label or "").split())[:200] or None
        self.items.append(Document(kind or document_kind(link, text), link, text))


def first_of(documents: Iterable[Document], *kinds: str) -> str | None:
    """The address of the first document of the first of `kinds` the meeting has."""
    listed = list(documents)
    for kind in kinds:
        for doc in listed:
            if doc.kind == kind:
                return doc.url
    return None


# A meeting's own name saying it moved to another day ("City Council Meeting Rescheduled to August 3",
# Lacey, WA's CivicClerk; "... MEETING - RESCHEDULED FOR SEPTEMBER 2, 2021", Columbus City Schools;
# "Library Agenda - 2/18/2020 - Rescheduled to 2/27/20", Columbus, WI): that day's meeting will not
# happen (the new day is its own event, its name naming its own day).
_MOVED_IN_NAME = re.compile(
    rf"\b(rescheduled\s+(?:to|for)\s+(?:[a-z]+day,?\s+)?"
    rf"(?:({_MONTHS})[a-z]*\.?\s+(\d{{1,2}})|(\d{{1,2}})/(\d{{1,2}})(?:/\d{{2,4}})?|\d{{4}}-(\d{{2}})-(\d{{2}})))(?![\d/])", re.I)
# The new day written first, as a name that opens with its meeting's day does ("2025-08-20 RESCHEDULED
# Agenda Beautification Advisory Board Meeting", Bartow, FL's Agenda Center, on the row of 6 August).
_MOVED_FIRST_IN_NAME = re.compile(r"(?<![\w-])(\d{4}-(\d{2})-(\d{2})\s+rescheduled)(?![\w-])", re.I)


def moved_in_name(title: str | None, day: date) -> str | None:
    """The words of a meeting's name that move it from `day` to another day ("Rescheduled to August
    3", "Rescheduled to 2/27/20", "2025-08-20 RESCHEDULED"); None when the name names `day` itself
    (the moved meeting's own entry). Every listing parser asks, beside `cancellation`."""
    if not title or (title.isascii() and "rescheduled" not in title.lower()):
        return None  # no match can be there: in ASCII, a case-blind match holds its first word in lower case
    match = _MOVED_IN_NAME.search(title[:_TEXT_LIMIT])
    if not match:
        first = _MOVED_FIRST_IN_NAME.search(title[:_TEXT_LIMIT])
        return None if not first or (int(first.group(2)), int(first.group(3))) == (day.month, day.day) else first.group(1)
    named = ((MONTH_NUMBERS[match.group(2)[:3].lower()], int(match.group(3))) if match.group(2)
             else (int(match.group(4)), int(match.group(5))) if match.group(4)
             else (int(match.group(6)), int(match.group(7))))  # "Rescheduled to 2025-08-20" (Bartow's way)
    return None if named == (day.month, day.day) else match.group(1)


# The nouns a public body's name ends in ("Public Safety Committee", "Board of Supervisors").
_BODY_NOUNS = frozenset({
    "council", "committee", "subcommittee", "sub-committee", "commission", "board", "authority", "agency",
    "trustees", "supervisors", "directors", "commissioners", "court", "corporation", "force", "panel", "assembly",
    "senate", "examiner", "group"})
# Words that say which sitting a title is, not whose: they end a name ("Regular City Council Meeting").
_SITTING_WORDS = frozenset({
    "meeting", "meetings", "regular", "special", "adjourned", "joint", "called", "annual", "closed", "session",
    "sessions", "agenda", "agendas", "notice", "cancelled", "canceled", "cancellation", "postponed", "rescheduled",
    "revised", "updated", "draft", "final", "retreat", "workshop", "work", "listening", "january", "february",
    "march", "april", "may", "june", "july", "august", "september", "october", "november", "december", "monday",
    "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"})
_JOINING_WORDS = frozenset({"and", "of", "the", "for", "on", "in", "&"})
_TITLE_WORD = re.compile(r"[\w'’./&]+(?:-[\w'’./&]+)*,?|\S")


def titled_body(title: str | None) -> str | None:
    """The body a meeting's title names, as written: the first run of capitalised words (joined by
    "and", "of", "&" or a comma) that holds a body's noun, cut after its last one unless "of" follows
    ("Regular Public Safety Committee Meeting - Cancelled": "Public Safety Committee"; "Board of
    Education Meeting": "Board of Education"); None where the title names none ("Work Session")."""
    run: list[str] = []
    words = [part for word in _TITLE_WORD.findall(title or "") for part in _sitting_apart(word)]
    for word in [*words, "-"]:
        bare = word.rstrip(",")
        if bare.lower() in _JOINING_WORDS and run:
            run.append(word)
            continue
        if bare[:1].isupper() and bare.lower() not in _SITTING_WORDS and not bare[:1].isdigit():
            run.append(word)
            continue
        if (name := _body_in(run)) is not None:
            return name
        run = []
    return None


def _sitting_apart(word: str) -> list[str]:
    """A hyphenated word parted where a part is a sitting word ("Meeting-Public": "Meeting", "-",
    "Public"); others ("Sub-Committee", "Park-South") stay whole."""
    parts = word.split("-")
    if len(parts) == 1 or not any(part.lower() in _SITTING_WORDS for part in parts):
        return [word]
    return [piece for n, part in enumerate(parts) for piece in ([part] if n == 0 else ["-", part]) if piece]


def _body_in(run: list[str]) -> str | None:
    """The body a run of capitalised words names, or None (see `titled_body`)."""
    nouns = [n for n, word in enumerate(run) if word.rstrip(",").lower() in _BODY_NOUNS]
    if not nouns:
        return None
    end = nouns[-1] + 1
    if end < len(run) and run[end].lower() == "of":
        end = len(run)
    words = run[:end]
    while words and words[-1].rstrip(",").lower() in _JOINING_WORDS:
        words.pop()
    while words and words[0].lower() in _JOINING_WORDS:  # "THE OVERSIGHT BOARD"
        words.pop(0)
    return " ".join(words).rstrip(",") or None
