"""Agenda publishers read from their pages or feeds: CivicPlus AgendaCenter (HTML), Granicus
ViewPublisher (HTML) and RSS/Atom agenda feeds (feedparser). Meetings come out in the shared shape
(see tracker/meetings/ical.py), keyed by the publisher's own id (an agenda id, an event id, an entry
id), never the start time where the source gives anything better.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Any
from urllib.parse import urljoin

import feedparser
from parsel import Selector

from tracker.meetings.ical import SourceParseError
from tracker.meetings.normalize import web_url
from tracker.meetings.portals import meeting_record, title_items

_MONTHS = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec"
_LONG_DATE = re.compile(rf"\b({_MONTHS})[a-z]*\.?\s+(\d{{1,2}}),?\s+(\d{{4}})\b", re.I)
_ISO_DATE = re.compile(r"\b(\d{4})-(\d\d)-(\d\d)\b")
_US_DATE = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b")
_CLOCK = re.compile(r"\b(\d{1,2})(?::(\d\d))?\s*([ap])\.?\s*m\b\.?", re.I)


def _html(data: bytes) -> Selector:
    return Selector(text=data.decode("utf-8", "replace"))


def find_date(text: str | None) -> date | None:
    """The first date written in `text` ("Nov 19, 2020", "2018-06-21", "11/19/2020")."""
    text = text or ""
    found = []
    if m := _LONG_DATE.search(text):
        month = datetime.strptime(m.group(1)[:3].title(), "%b").month
        found.append((m.start(), date(int(m.group(3)), month, int(m.group(2)))))
    if m := _ISO_DATE.search(text):
        found.append((m.start(), date(int(m.group(1)), int(m.group(2)), int(m.group(3)))))
    if m := _US_DATE.search(text):
        found.append((m.start(), date(int(m.group(3)), int(m.group(1)), int(m.group(2)))))
    return min(found)[1] if found else None


def find_time(text: str | None) -> time | None:
    """A clock time written in `text` ("8:30 a.m.", "6 PM")."""
    m = _CLOCK.search(text or "")
    if not m:
        return None
    hour = int(m.group(1)) % 12 + (12 if m.group(3).lower() == "p" else 0)
    return time(hour, int(m.group(2) or 0))


def _text(node: Selector, query: str = ".") -> str:
    return " ".join(" ".join(node.xpath(f"{query}//text()").getall()).split())


def parse_civicplus(data: bytes, *, url: str, body: str, timezone: str, keywords: list[str]) -> list[dict[str, Any]]:
    """AgendaCenter search/list page: one `tr.catAgendaRow` per meeting, grouped under body headings."""
    page = _html(data)
    rows = page.css("tr.catAgendaRow")
    if not rows:
        raise SourceParseError("no meeting rows found: the page layout may have changed")
    meetings = []
    for row in rows:
        link = row.css("h4 a[href*='ViewFile']::attr(href)").get() or ""
        ref = re.search(r"_(\d{2})(\d{2})(\d{4})-(\d+)", link)
        if not ref:
            continue
        day = date(int(ref.group(3)), int(ref.group(1)), int(ref.group(2)))
        heading = row.xpath("ancestor::div[contains(@class,'listing')][1]//h2")
        group = " ".join(t for t in heading.xpath(".//text()").getall() if t.strip() not in ("", "▼")).strip()
        title = _text(row, "./td[1]/p") or row.css("h4 a::attr(title)").get() or "Meeting"
        posted = re.search(r"Posted\s+(.+?\d{4}(?:\s+\d{1,2}:\d\d\s*[AP]M)?)", _text(row, "./td[1]/h4"))
        minutes = row.css("td.minutes a::attr(href)").get()
        meetings.append(meeting_record(
            source="civicplus", ref=ref.group(4), body=group or body, title=title, local=None, day=day,
            zone=timezone, comment_text=title,
            agenda_url=web_url(urljoin(url, link.split("?")[0])),
            agenda_posted=_posted(posted.group(1)) if posted else None,
            minutes_url=web_url(urljoin(url, minutes)) if minutes else None,
            url=web_url(urljoin(url, link)),
            items=title_items(title, keywords)))
    return meetings


def _posted(text: str) -> str:
    """"Nov 16, 2020 11:47 AM" (local) as ISO; left as written when it has another form."""
    for fmt in ("%b %d, %Y %I:%M %p", "%b %d, %Y"):
        try:
            return datetime.strptime(text.strip(), fmt).isoformat()
        except ValueError:
            continue
    return text


def parse_granicus(data: bytes, *, url: str, body: str, timezone: str, keywords: list[str]) -> list[dict[str, Any]]:
    """ViewPublisher listing: a row per event; its id is the agenda's `event_id` (or `clip_id`) when it
    has one, else the row's own id (name and date: a moved meeting without an agenda looks new)."""
    page = _html(data)
    rows = page.xpath("//div[@id='upcoming' or contains(@class,'archive')]//div[contains(@class,'row')][@id]"
                      " | //table[contains(@class,'listingTable')]//tr[contains(@class,'listingRow')]")
    if not rows:
        raise SourceParseError("no meeting rows found: the page layout may have changed")
    meetings: dict[str, dict[str, Any]] = {}
    for row in rows:
        name = _text(row, ".//*[contains(@class,'committee') or @headers='Name'][1]") or _text(row, "./td[1]")
        text = _text(row)
        day = find_date(text)
        if day is None:
            continue
        agenda = row.xpath(".//a[contains(@href,'AgendaViewer') or contains(@href,'GeneratedAgenda')]/@href").get()
        minutes = row.xpath(".//a[contains(@href,'MinutesViewer')]/@href").get()
        video = row.xpath(".//a[contains(@href,'MediaPlayer')]/@href").get()
        ident = re.search(r"(?:event_id|clip_id)=(\d+)", " ".join(filter(None, (agenda, minutes, video))))
        ref = ident.group(1) if ident else f"row:{row.attrib.get('id') or name}"
        clock = find_time(name)
        title = re.sub(r"\s+on\s+\d{4}-\d\d-\d\d.*$", "", name).strip() or name
        meetings.setdefault(ref, meeting_record(
            source="granicus", ref=ref, body=body, title=title, local=datetime.combine(day, clock) if clock else None,
            day=day, zone=timezone, comment_text=name,
            agenda_url=web_url(urljoin(url, agenda)) if agenda else None,
            minutes_url=web_url(urljoin(url, minutes)) if minutes else None,
            livestream_url=web_url(urljoin(url, video)) if video else None, url=web_url(url),
            items=title_items(name, keywords)))
    return list(meetings.values())


def parse_feed(data: bytes, *, url: str, body: str, timezone: str, keywords: list[str]) -> list[dict[str, Any]]:
    """RSS/Atom agenda feeds (CivicPlus AgendaCenter RSS, Granicus ViewPublisherRSS): one entry per
    agenda; the meeting's date is the one written in its title or summary, else its publication date."""
    head = data[:512].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")):
        raise SourceParseError("an HTML page, not an RSS/Atom feed (the server may be showing an error page)")
    parsed = feedparser.parse(data, resolve_relative_uris=False, sanitize_html=True)
    if parsed.bozo and not parsed.entries:
        raise SourceParseError(f"not a readable RSS/Atom feed: {parsed.get('bozo_exception')}")
    if not parsed.get("version") and not parsed.entries:
        raise SourceParseError("not an RSS/Atom feed")
    meetings = []
    for entry in parsed.entries:
        title = " ".join(str(entry.get("title") or "Meeting").split())
        summary = " ".join(Selector(text=f"<div>{entry.get('summary') or ''}</div>").xpath("//text()").getall())
        published = entry.get("published_parsed") or entry.get("updated_parsed")
        day = find_date(title) or find_date(summary) or (date(*published[:3]) if published else None)
        if day is None:
            continue
        link = web_url(urljoin(url, entry.get("link") or ""))
        ref = str(entry.get("id") or entry.get("link") or title)
        clock = find_time(title) or find_time(summary)
        is_minutes = "minutes" in title.lower() and "agenda" not in title.lower()
        meetings.append(meeting_record(
            source="feed", ref=ref, body=body, title=title, local=datetime.combine(day, clock) if clock else None,
            day=day, zone=timezone, comment_text=f"{title} {summary}",
            agenda_url=None if is_minutes else link, minutes_url=link if is_minutes else None, url=link,
            items=title_items(f"{title} {summary}", keywords, title)))
    return meetings
