"""Rules every meeting source shares: one cancellation decision, keyword matching, local times,
dates and times written in text, and what a document link is."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from tracker.records import AgendaItem, Document

# The many spellings of "this meeting will not happen as scheduled".
_CANCEL_WORDS = re.compile(r"\b(cancel+ed|cancel+ation|postponed|deferred|rescheduled to a later date)\b", re.I)
_CANCEL_STATUS = {"cancelled", "canceled", "deferred", "postponed"}


class SourceParseError(ValueError):
    """The response is not a usable listing; the message is one line for the operator."""


def cancellation(*, status: str | None = None, title: str | None = None, comment: str | None = None) -> str | None:
    """The source's own word when a meeting is off ("CANCELLED", "Deferred"), else None."""
    if status and status.strip().lower() in _CANCEL_STATUS:
        return status.strip()
    for text in (title, comment):
        match = _CANCEL_WORDS.search(text or "")
        if match:
            return match.group(1)
    return None


def web_url(value: object) -> str | None:
    """A scraped link, kept only when it is http(s): a `javascript:` or `data:` link from a source
    must never become a clickable link in the digest or an alert."""
    text = str(value or "").strip()
    return text if re.match(r"^https?://[^\s]+$", text, re.I) else None


def match_keywords(texts: list[str | None], keywords: Sequence[str]) -> list[str]:
    """Keywords found as whole words or phrases, case-insensitively ("police" is not in "policies")."""
    haystack = " ".join(t for t in texts if t)
    found = []
    for keyword in keywords:
        pattern = r"(?<!\w)" + r"\s+".join(re.escape(part) for part in keyword.split()) + r"(?!\w)"
        if re.search(pattern, haystack, re.I):
            found.append(keyword)
    return found


def utc_iso(local: datetime, zone: str) -> str:
    """A wall-clock time in the body's zone as the UTC instant we store."""
    return local.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC).isoformat()


def title_items(text: str | None, keywords: Sequence[str], title: str | None = None) -> list[AgendaItem]:
    """Listings without agenda items: a meeting whose own words match is reported as the item."""
    found = match_keywords([text], keywords)
    return [{"key": "title", "title": (title or text or "").strip(), "matter": None, "keywords": found}] if found else []


# -- dates and times written in text --------------------------------------------------------------

_MONTHS = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec"
_LONG_DATE = re.compile(rf"\b({_MONTHS})[a-z]*\.?\s+(\d{{1,2}}),?\s+(\d{{4}})\b", re.I)
_LONG_DATE_SHORT_YEAR = re.compile(rf"\b({_MONTHS})[a-z]*\.?\s+(\d{{1,2}}),\s*(\d\d)\b(?![\d:])", re.I)  # "Nov 09, 22"
_ISO_DATE = re.compile(r"\b(\d{4})-(\d\d)-(\d\d)\b")
_US_DATE = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b")
_SHORT_US_DATE = re.compile(r"\b(\d{1,2})([-/])(\d{1,2})\2(\d\d)\b(?![-/]\d)")  # Granicus "04-08-25 Regular..."
# "6:30 P.M.", "9:30 a.m.", "6 PM", "12:00pm", "12 noon"; not "14:75 pm" (checked below).
_CLOCK = re.compile(r"(?<![\d:])(\d{1,2})(?::(\d\d))?\s*([ap])\.?\s*m\b\.?|\b(?:12(?::00)?\s*)?(noon)\b", re.I)
_TEXT_LIMIT = 4000  # a description longer than this is read only this far (untrusted, and slow to scan)


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def dates_in(text: str | None) -> list[tuple[int, int, date]]:
    """Every date written in `text` as (start, end, date), in order ("Nov 19, 2020", "Nov 09, 22",
    "2018-06-21", "11/19/2020", "04-08-25"); a date that is no date (13/45/2020) is left out."""
    text = (text or "")[:_TEXT_LIMIT]
    found: list[tuple[int, int, date]] = []
    for m in _LONG_DATE.finditer(text):
        day = _safe_date(int(m.group(3)), datetime.strptime(m.group(1)[:3].title(), "%b").month, int(m.group(2)))
        if day:
            found.append((m.start(), m.end(), day))
    for m in _LONG_DATE_SHORT_YEAR.finditer(text):
        day = _safe_date(2000 + int(m.group(3)), datetime.strptime(m.group(1)[:3].title(), "%b").month, int(m.group(2)))
        if day:
            found.append((m.start(), m.end(), day))
    for m in _ISO_DATE.finditer(text):
        if day := _safe_date(int(m.group(1)), int(m.group(2)), int(m.group(3))):
            found.append((m.start(), m.end(), day))
    for m in _US_DATE.finditer(text):
        if day := _safe_date(int(m.group(3)), int(m.group(1)), int(m.group(2))):
            found.append((m.start(), m.end(), day))
    for m in _SHORT_US_DATE.finditer(text):
        if day := _safe_date(2000 + int(m.group(4)), int(m.group(1)), int(m.group(3))):
            found.append((m.start(), m.end(), day))
    found.sort()
    # one date written one way is not also a second date (the "2025" of "4/8/2025" is no "25")
    kept: list[tuple[int, int, date]] = []
    for item in found:
        if not kept or item[0] >= kept[-1][1]:
            kept.append(item)
    return kept


def find_date(text: str | None) -> date | None:
    """The first date written in `text`."""
    found = dates_in(text)
    return found[0][2] if found else None


def find_time(text: str | None) -> time | None:
    """The first clock time written in `text` ("8:30 a.m.", "6 PM", "12 noon")."""
    for m in _CLOCK.finditer((text or "")[:_TEXT_LIMIT]):
        if m.group(4):
            return time(12, 0)
        hour, minute = int(m.group(1)), int(m.group(2) or 0)
        if 1 <= hour <= 12 and minute <= 59:
            return time(hour % 12 + (12 if m.group(3).lower() == "p" else 0), minute)
        return None  # the first clock-like words are no time: do not guess further on
    return None


def time_for_day(day: date, *texts: str | None) -> time | None:
    """The time a meeting on `day` starts, as its own words state it (its name, then its notice),
    never invented: a text that names other days gives only the time written after this day's
    date ("... Monday, August 12, 2019, at 5:30 p.m. ... next meeting August 26, 2019, at 5:30 p.m.");
    a text that names no day gives its first time ("Work Session - 6:30 P.M.")."""
    for text in texts:
        if not text:
            continue
        text = text[:_TEXT_LIMIT]
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


# -- documents ------------------------------------------------------------------------------------

_PACKET = re.compile(r"packet", re.I)
_MINUTES_URL = re.compile(r"MinutesViewer|ViewFile/Minutes|/minutes/", re.I)
_AGENDA_URL = re.compile(r"AgendaViewer|GeneratedAgenda|ViewFile/Agenda|AgendaOnline|/agendas?/", re.I)
_VIDEO_URL = re.compile(r"MediaPlayer\.php|/player/|ASX\.php|\.(?:mp4|mp3|m4a|m3u8|wmv)\b|youtube\.com/|youtu\.be/"
                        r"|vimeo\.com/|swagit|boxcast", re.I)
_MINUTES_WORDS = re.compile(r"\b(minutes?|journal|summary of action)\b", re.I)
_VIDEO_WORDS = re.compile(r"\b(videos?|audio|watch|listen|live ?stream|stream|media|recordings?|mp4|mp3|youtube)\b", re.I)
_AGENDA_WORDS = re.compile(r"\bagenda\b", re.I)


def document_kind(url: str, label: str | None = None) -> str:
    """What a link is (agenda, packet, minutes, video, other): the platforms' own addresses say it
    best (Granicus `AgendaViewer`, CivicPlus `ViewFile/Minutes`), then the source's label."""
    words = label or ""
    if _PACKET.search(words) or _PACKET.search(url):
        return "packet"
    if _MINUTES_URL.search(url):
        return "minutes"
    if _AGENDA_URL.search(url):
        return "agenda"
    if _VIDEO_URL.search(url):
        return "video"
    if _MINUTES_WORDS.search(words):
        return "minutes"
    if _VIDEO_WORDS.search(words):
        return "video"
    if _AGENDA_WORDS.search(words):
        return "agenda"
    return "other"


class DocumentList:
    """A meeting's document and media links in the source's order, each once (by address), typed."""

    def __init__(self) -> None:
        self.items: list[Document] = []
        self._seen: set[str] = set()

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
