"""Agenda publishers read from their pages or feeds: CivicPlus AgendaCenter (HTML), Granicus
ViewPublisher (HTML) and RSS/Atom agenda feeds (feedparser). Meetings come out in the shared shape
(see tracker/meetings/ical.py), keyed by the publisher's own id, never the start time:

- CivicPlus: the agenda id of the `ViewFile/Agenda/_MMDDYYYY-ID` link (`ID`); the agenda and the
  minutes of one meeting share it.
- Granicus: `event-N` / `clip-N` from the `event_id` / `clip_id` of the row's links (prefixed: the
  two are separate number series and one page can carry both); a row with no link keeps only its
  own row id (name and date: a moved meeting without an agenda looks like a new one).
- Feeds: the publisher's id when the entry's link carries one (as above), else the entry's
  id/guid, else its link. An agenda entry and a minutes entry of one meeting become one meeting.

Times on these pages are local wall-clock times in the watch's zone; `start` is stored in UTC, and a
meeting without a written time is `time_tbd` with `start` None.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import feedparser
from parsel import Selector
from w3lib.encoding import html_to_unicode

from tracker.meetings.normalize import SourceParseError, title_items, utc_iso
from tracker.meetings.portals import meeting_record, row_problem
from tracker.records import Listing, ListingContext, Meeting
from tracker.safetext import web_url
from tracker.safexml import html_instead

log = logging.getLogger(__name__)

NO_ROWS = "no meeting rows found: the page layout may have changed"
_MONTHS = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec"
_LONG_DATE = re.compile(rf"\b({_MONTHS})[a-z]*\.?\s+(\d{{1,2}}),?\s+(\d{{4}})\b", re.I)
_ISO_DATE = re.compile(r"\b(\d{4})-(\d\d)-(\d\d)\b")
_US_DATE = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b")
_SHORT_US_DATE = re.compile(r"\b(\d{1,2})([-/])(\d{1,2})\2(\d\d)\b(?![-/]\d)")  # Granicus "04-08-25 Regular..."
_CLOCK = re.compile(r"\b(\d{1,2})(?::(\d\d))?\s*([ap])\.?\s*m\b\.?", re.I)
_CIVICPLUS_FILE = re.compile(r"/ViewFile/(Agenda|Minutes)/_(\d{2})(\d{2})(\d{4})-(\d+)", re.I)
_GRANICUS_ID = re.compile(r"[?&](event_id|clip_id)=(\d+)", re.I)
_POSTED = re.compile(r"\b(?:Posted|Amended)\s+(.+?\d{4}(?:\s+\d{1,2}:\d\d\s*[AP]M)?)", re.I)


def _html(data: bytes) -> Selector:
    """The page decoded by its BOM or `<meta charset>` (Granicus pages are often ISO-8859-1), else UTF-8."""
    _, text = html_to_unicode(None, data)
    return Selector(text=text)


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def find_date(text: str | None) -> date | None:
    """The first date written in `text` ("Nov 19, 2020", "2018-06-21", "11/19/2020", "04-08-25")."""
    text = text or ""
    candidates: list[tuple[int, date | None]] = []
    if m := _LONG_DATE.search(text):
        month = datetime.strptime(m.group(1)[:3].title(), "%b").month
        candidates.append((m.start(), _safe_date(int(m.group(3)), month, int(m.group(2)))))
    if m := _ISO_DATE.search(text):
        candidates.append((m.start(), _safe_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))))
    if m := _US_DATE.search(text):
        candidates.append((m.start(), _safe_date(int(m.group(3)), int(m.group(1)), int(m.group(2)))))
    if m := _SHORT_US_DATE.search(text):
        candidates.append((m.start(), _safe_date(2000 + int(m.group(4)), int(m.group(1)), int(m.group(3)))))
    found = [(at, day) for at, day in candidates if day is not None]
    return min(found)[1] if found else None


def find_time(text: str | None) -> time | None:
    """A clock time written in `text` ("8:30 a.m.", "6 PM")."""
    m = _CLOCK.search(text or "")
    if not m:
        return None
    hour, minute = int(m.group(1)), int(m.group(2) or 0)
    if not 1 <= hour <= 12 or minute > 59:
        return None
    return time(hour % 12 + (12 if m.group(3).lower() == "p" else 0), minute)


def _text(node: Selector, query: str = ".") -> str:
    return " ".join(" ".join(node.xpath(f"{query}//text()").getall()).split())


def _local(day: date, clock: time | None) -> datetime | None:
    return datetime.combine(day, clock) if clock else None


def _civicplus_file(link: str | None) -> tuple[str, str, date | None] | None:
    """("agenda" | "minutes", agenda id, meeting date) from a CivicPlus `ViewFile` link."""
    m = _CIVICPLUS_FILE.search(link or "")
    if not m:
        return None
    return m.group(1).lower(), m.group(5), _safe_date(int(m.group(4)), int(m.group(2)), int(m.group(3)))


def _granicus_ref(*links: str | None) -> str | None:
    """`event-N` or `clip-N` from the first Granicus link that names one."""
    for link in links:
        if m := _GRANICUS_ID.search(link or ""):
            return f"{m.group(1).lower().removesuffix('_id')}-{m.group(2)}"
    return None


def _posted(text: str, zone: str) -> str:
    """"Nov 16, 2020 11:47 AM" (local) as a UTC instant; a date alone as its ISO date."""
    text = " ".join(text.split())
    try:
        local = datetime.strptime(text, "%b %d, %Y %I:%M %p")
    except ValueError:
        try:
            return datetime.strptime(text, "%b %d, %Y").date().isoformat()
        except ValueError:
            return text
    return utc_iso(local, zone)


def civicplus_search_url(url: str, start: date, end: date) -> str:
    """The AgendaCenter search covering [start, end] (widened to whole weeks, so the address, and
    with it the conditional GET, stays the same for a week). The AgendaCenter home page shows one
    year per body and only the first rows of each, so it is no complete listing of the window; the
    search lists every agenda whose meeting date is in the range. A search URL that already names
    its dates, or any other page, is fetched as given."""
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    if path.lower().endswith("/agendacenter"):
        path, query = path + "/Search/", {}
    elif not path.lower().endswith("/agendacenter/search") or "startDate" in query or "endDate" in query:
        return url
    else:
        path += "/"  # the address AgendaCenter itself links to
    first = start - timedelta(days=start.weekday())
    last = end + timedelta(days=6 - end.weekday())
    query = {"term": query.get("term", ""), "CIDs": query.get("CIDs", "all"),
             "startDate": f"{first.month:02d}/{first.day:02d}/{first.year}",
             "endDate": f"{last.month:02d}/{last.day:02d}/{last.year}", "dateRange": "", "dateSelector": ""}
    return urlunsplit((parts.scheme, parts.netloc, path, urlencode(query, safe="/,"), ""))


def parse_civicplus(data: bytes, ctx: ListingContext) -> Listing:
    """AgendaCenter search/list page: one `tr.catAgendaRow` per meeting, grouped under body headings;
    the meeting date is the one in the agenda link (the title's own words may disagree)."""
    rows = _html(data).css("tr.catAgendaRow")
    if not rows:
        raise SourceParseError(NO_ROWS)
    meetings: dict[str, Meeting] = {}
    problems: list[str] = []
    for n, row in enumerate(rows):
        try:
            link = row.css("h4 a[href*='ViewFile']::attr(href)").get() or ""
            found = _civicplus_file(link)
            if not found:
                continue
            _, ref, day = found
            if day is None:
                raise ValueError(f"the date in its agenda link ({link.rsplit('/', 1)[-1][:40]}) is not a date")
            heading = row.xpath("ancestor::div[contains(@class,'listing')][1]//h2")
            group = " ".join(t.strip() for t in heading.xpath(".//text()").getall() if t.strip() not in ("", "▼"))
            title = _text(row, "./td[1]/p") or row.css("h4 a::attr(title)").get() or "Meeting"
            posted = _POSTED.search(_text(row, "./td[1]/h4"))
            minutes = row.css("td.minutes a::attr(href)").get()
            meetings.setdefault(ref, meeting_record(
                source="civicplus", ref=ref, body=group or ctx.body, title=title, local=None, day=day,
                zone=ctx.timezone, comment_text=title,
                agenda_url=web_url(urljoin(ctx.url, link.split("?")[0])),
                agenda_posted=_posted(posted.group(1), ctx.timezone) if posted else None,
                minutes_url=web_url(urljoin(ctx.url, minutes)) if minutes else None,
                url=web_url(urljoin(ctx.url, link)),
                items=title_items(title, ctx.keywords)))
        except Exception as exc:  # one row that cannot be read is that row's problem
            problems.append(row_problem("agenda row", n + 1, _text(row, "./td[1]/p") or _text(row, "./td[1]/h4"), exc))
    if not meetings and not problems:
        raise SourceParseError("meeting rows without agenda links: the page layout may have changed")
    return Listing(list(meetings.values()), problems)


def parse_granicus(data: bytes, ctx: ListingContext) -> Listing:
    """ViewPublisher listing (the "upcoming" block of a custom template, or the default
    `listingTable`): a row per event or clip. A row listed twice is one meeting."""
    rows = _html(data).xpath(
        "//div[@id='upcoming' or contains(@class,'archive')]//div[contains(@class,'row')][@id]"
        " | //table[contains(@class,'listingTable')]//tr[contains(@class,'listingRow')]")
    if not rows:
        raise SourceParseError(NO_ROWS)
    meetings: dict[str, Meeting] = {}
    problems: list[str] = []
    for n, row in enumerate(rows):
        try:
            name = (_text(row, ".//*[contains(@class,'committee') or contains(@headers,'Name')][1]")
                    or _text(row, "./td[1]"))
            text = _text(row)
            day = find_date(name) or find_date(text)
            if day is None:
                continue
            agenda = row.xpath(".//a[contains(@href,'AgendaViewer') or contains(@href,'GeneratedAgenda')]/@href").get()
            minutes = row.xpath(".//a[contains(@href,'MinutesViewer')]/@href").get()
            video = row.xpath(".//a[contains(@href,'MediaPlayer') or contains(@href,'player/clip')]/@href").get()
            ref = _granicus_ref(agenda, minutes, video) or f"row-{row.attrib.get('id') or name}"
            title = re.sub(r"\s+on\s+\d{4}-\d\d-\d\d.*$", "", name).strip() or name
            meetings.setdefault(ref, meeting_record(
                source="granicus", ref=ref, body=ctx.body, title=title, local=_local(day, find_time(name) or find_time(text)),
                day=day, zone=ctx.timezone, comment_text=name,
                agenda_url=web_url(urljoin(ctx.url, agenda)) if agenda else None,
                minutes_url=web_url(urljoin(ctx.url, minutes)) if minutes else None,
                livestream_url=web_url(urljoin(ctx.url, video)) if video else None, url=web_url(ctx.url),
                items=title_items(name, ctx.keywords)))
        except Exception as exc:  # one row that cannot be read is that row's problem
            problems.append(row_problem("row", row.attrib.get("id") or n + 1, _text(row, "./td[1]") or _text(row), exc))
    if not meetings and not problems:
        raise SourceParseError("meeting rows without dates: the page layout may have changed")
    return Listing(list(meetings.values()), problems)


def _feed_error(data: bytes, parsed: Any) -> str | None:
    """Why `data` is no usable feed (one line), or None. An HTML page is named as such: servers
    answer an outage or a moved feed with an HTML page and status 200."""
    if problem := html_instead(data, "an RSS/Atom feed"):
        return problem
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if parsed.entries:
        return None
    if not parsed.get("version"):
        if b"<html" in head:
            return "an HTML page, not an RSS/Atom feed (the server may be showing an error page)"
        if parsed.bozo:
            problem = str(parsed.get("bozo_exception") or "unreadable").splitlines()[0]
            return f"not a readable RSS/Atom feed: {problem}"
        return "not an RSS/Atom feed"
    if parsed.bozo:
        problem = str(parsed.get("bozo_exception") or "unreadable").splitlines()[0]
        return f"not a readable RSS/Atom feed: {problem}"
    return None


def _entry_day(entry: Any, texts: list[str], link_day: date | None, zone: str) -> date | None:
    """The meeting's date: the publisher's structured date (a CivicPlus link), the date written in
    the title or summary, Granicus's `gran:pubDateParts`, else the entry's own date in the zone."""
    if link_day:
        return link_day
    for text in texts:
        if day := find_date(text):
            return day
    parts = entry.get("gran_pubdateparts")
    if isinstance(parts, dict):
        try:
            return date(int(parts["yr"]), int(parts["mo"]), int(parts["day"]))
        except (KeyError, ValueError):
            pass
    stamp = entry.get("published_parsed") or entry.get("updated_parsed")
    if stamp:
        return datetime(*stamp[:6], tzinfo=UTC).astimezone(ZoneInfo(zone)).date()
    return None


def parse_feed(data: bytes, ctx: ListingContext) -> Listing:
    """RSS/Atom agenda feeds (CivicPlus AgendaCenter `RSSFeed.aspx?ModID=65`, Granicus
    `ViewPublisherRSS.php?mode=agendas|minutes`): one entry per agenda or minutes document. A feed
    feedparser calls malformed (`bozo`) is still read when it yields entries."""
    parsed = feedparser.parse(data, resolve_relative_uris=False, sanitize_html=True)
    if problem := _feed_error(data, parsed):
        raise SourceParseError(problem)
    if parsed.bozo:
        log.info("feed %s is not well-formed (%s); read leniently", ctx.url, parsed.get("bozo_exception"))
    groups: dict[str, dict[str, dict[str, Any]]] = {}  # ref -> {"agenda"|"minutes": the entry's document}
    problems: list[str] = []
    for entry in parsed.entries:
        try:
            title = " ".join(str(entry.get("title") or "Meeting").split())
            summary = " ".join(" ".join(Selector(text=f"<div>{entry.get('summary') or ''}</div>")
                                        .xpath("//text()").getall()).split())
            link = web_url(urljoin(ctx.url, str(entry.get("link") or "")))
            civicplus = _civicplus_file(link)
            lowered = title.lower()
            kind = (civicplus[0] if civicplus else "minutes" if "MinutesViewer" in (link or "")
                    else "minutes" if "minutes" in lowered and "agenda" not in lowered else "agenda")
            day = _entry_day(entry, [title, summary], civicplus[2] if civicplus else None, ctx.timezone)
            if day is None:
                continue
            ref = (civicplus[1] if civicplus else _granicus_ref(link)) or str(entry.get("id") or link or title)
            tags = entry.get("tags") or []
            groups.setdefault(ref, {}).setdefault(kind, {
                "title": title, "summary": summary, "link": link, "day": day,
                "body": str(tags[0].get("term") or "").strip() if tags else "",
                "clock": find_time(title) or find_time(summary)})
        except Exception as exc:  # one entry that cannot be read is that entry's problem
            problems.append(row_problem("entry", entry.get("id") or entry.get("link"), entry.get("title"), exc))
    meetings = []
    for ref, documents in groups.items():
        agenda, minutes = documents.get("agenda"), documents.get("minutes")
        main = agenda or documents["minutes"]  # the agenda entry speaks for the meeting when there is one
        meetings.append(meeting_record(
            source="feed", ref=ref, body=main["body"] or ctx.body, title=main["title"],
            local=_local(main["day"], main["clock"]), day=main["day"], zone=ctx.timezone, comment_text=main["summary"],
            agenda_url=agenda["link"] if agenda else None, minutes_url=minutes["link"] if minutes else None,
            url=main["link"], items=title_items(f"{main['title']} {main['summary']}", ctx.keywords, main["title"])))
    if parsed.bozo and not meetings:
        problem = str(parsed.get("bozo_exception") or "unreadable").splitlines()[0]
        raise SourceParseError(f"not a readable RSS/Atom feed: {problem}")
    return Listing(meetings, problems)
