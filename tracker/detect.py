"""`tracker sources detect URL`: which platform publishes a council's meetings, told from the page or
feed a person found, and the `[[meetings]]` block that watches it.

Pure recognition: everything here reads a fetched answer (`records.Page`: its address, type and
body); the fetching itself is the crawl's (`tracker.crawl.fetch`: robots.txt, the User-Agent, the
host's pace, a size cap). At most two answers are read: the address given (after at most a few
redirects), and, when that is a person's page, the one machine endpoint it leads to:

- a listing in the body itself: iCalendar, RSS/Atom, a BoardDocs XML export, PrimeGov or CivicClerk
  JSON, Legistar Web API JSON, a Granicus ViewPublisher or CivicPlus AgendaCenter page, a Legistar
  web calendar page (its meetings grid); a PrimeGov portal page at any address (its meeting list on
  the same host);
- else the address of a platform's own page: `<client>.legistar.com` (its Web API; when that
  answers 401/403, a token required, the calendar page given is read instead), a
  `go.boarddocs.com/<state>/<org>/Board.nsf` page (its XML export), `<client>.portal.civicclerk.com`
  (its API), a `<city>.primegov.com` portal (its meeting list), an AgendaCenter (its search);
- else a link on the page to one of those, or to an iCalendar or agenda feed.

A page is read as a browser shows it: in the encoding it names, without its HTML comments (an old
platform's link left in one is no evidence), its relative links against its `<base>`. An address
holding a key is never printed, and the block reads it from the environment.

Then the registry's parser (tracker/sources.py) reads the listing with the window a crawl uses, so
what is shown is what `tracker crawl` would store.
"""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urljoin, urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from parsel import Selector

from tracker import clock, secrets
from tracker.config import MeetingWatch
from tracker.meetings import civicweb, iqm2, legistar_calendar, municode, novusagenda
from tracker.meetings.agendas import civicplus_search_url
from tracker.meetings.legistar import normalize_event
from tracker.meetings.normalize import SourceParseError, titled_body
from tracker.meetings.pages import link_label, page_text
from tracker.meetings.portals import civicweb_list, read_json, read_rows
from tracker.records import Listing, ListingContext, Meeting, MeetingStatus, Page
from tracker.sources import FUTURE_DAYS, PAST_DAYS, SOURCES
from tracker.words import LONG, meeting_label, meeting_when

PLATFORMS = {
    "legistar": "Legistar",
    "legistar_calendar": "Legistar web calendar",
    "granicus": "Granicus ViewPublisher",
    "civicplus": "CivicPlus AgendaCenter",
    "primegov": "PrimeGov",
    "civicclerk": "CivicClerk",
    "boarddocs": "BoardDocs",
    "civicweb": "CivicWeb (Diligent Community)",
    "iqm2": "IQM2 calendar",
    "novusagenda": "NovusAGENDA",
    "municode": "CivicPlus Municode (Drupal) meetings page",
    "ical": "iCalendar feed",
    "feed": "RSS/Atom feed",
}
# Which platform wins when a person's page links to several (the richest listing first).
PREFERENCE = ("legistar", "legistar_calendar", "granicus", "civicclerk", "primegov", "boarddocs", "civicweb", "iqm2",
              "novusagenda", "municode", "civicplus", "ical", "feed")
JSON_TYPE, HTML_TYPE, XML_TYPE = "application/json", "text/html", "application/xml"
# The first request: a person's page, or any listing. JSON before XML: Legistar's Web API answers
# XML unless JSON is ranked first.
PAGE_ACCEPT = ("text/html, application/xhtml+xml, application/json;q=0.9, text/calendar;q=0.9, "
               "application/rss+xml;q=0.9, application/atom+xml;q=0.9, application/xml;q=0.8, */*;q=0.5")
ENDPOINT_ACCEPT = {"legistar": JSON_TYPE, "primegov": JSON_TYPE, "civicclerk": JSON_TYPE, "boarddocs": XML_TYPE,
                   "civicweb": JSON_TYPE, "iqm2": HTML_TYPE, "novusagenda": HTML_TYPE, "municode": HTML_TYPE,
                   "granicus": HTML_TYPE, "civicplus": HTML_TYPE, "legistar_calendar": HTML_TYPE,
                   "ical": "text/calendar, */*;q=0.5",
                   "feed": "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5"}
MAX_BYTES = 10 * 1024 * 1024  # the most `detect` downloads of one answer (less when [crawl] max_bytes is)
SHOWN = 5  # upcoming meetings listed
NAME_LENGTH = 100  # the most characters of the guessed watch name
# US zones as Windows names them (Outlook and Exchange write these in TZID).
WINDOWS_ZONES = {
    "eastern standard time": "America/New_York", "central standard time": "America/Chicago",
    "mountain standard time": "America/Denver", "us mountain standard time": "America/Phoenix",
    "pacific standard time": "America/Los_Angeles", "alaskan standard time": "America/Anchorage",
    "hawaiian standard time": "Pacific/Honolulu",
}
_GRANICUS_LINK = re.compile(r"(AgendaViewer|MediaPlayer|MinutesViewer|GeneratedAgendaViewer|DocumentViewer)"
                            r"\.php\?[^\"'<>\s]*?\b(view_id|clip_id|event_id)=", re.I)
_LEGISTAR_HOST = re.compile(r"https?://([a-z0-9-]+)\.legistar\.com\b", re.I)
_LEGISTAR_PAGE = re.compile(r"powered by Legistar|legistarinsite|\.legistar\.com", re.I)
# Legistar's web calendar: a RadGrid of meeting rows under named column headers.
_CALENDAR_GRID = ("//table[contains(concat(' ', normalize-space(@class), ' '), ' rgMasterTable ')]"
                  "[.//th[contains(@class, 'rgHeader')]]"
                  "[.//tr[contains(concat(' ', normalize-space(@class), ' '), ' rgRow ')"
                  " or contains(concat(' ', normalize-space(@class), ' '), ' rgAltRow ')]]")
# A ViewPublisher view's own template (`div#granicus`) listing upcoming events as `div#upcoming`
# rows, before any agenda is posted: no agenda or video link yet to tell it by (RTA's 2017 page).
_GRANICUS_UPCOMING = ("//div[@id='upcoming'][preceding::div[@id='granicus'] or ancestor::div[@id='granicus']]"
                      "//div[@id][contains(concat(' ', normalize-space(@class), ' '), ' row ')]")
_ABSOLUTE = re.compile(r"(?:https?|webcal)://[^\s\"'<>()\\]+", re.I)
_MEETINGISH = re.compile(r"agenda|minutes|meeting|calendar|hearing", re.I)


@dataclass(frozen=True)
class Lead:
    """Where a platform's machine-readable listing is, when the page read is not it."""

    url: str
    accept: str
    why: str  # "the Legistar Web API of client nyc"


@dataclass
class Recognised:
    """A platform named: the value its config key takes, and what told it."""

    platform: str  # a meeting source kind of tracker/sources.py
    value: str | dict[str, str]  # a URL, or Legistar's `{client = ...}`
    via: str  # "its content", "its address", "a link on the page (https://...)"
    name: str | None = None  # the body's name as the data gives it
    timezone: str | None = None  # only where the data says
    lead: Lead | None = None  # its listing is elsewhere: read that instead
    detail: str | None = None  # e.g. the publisher of a feed
    notes: list[str] = field(default_factory=list)  # lines for the block's comments
    # the page itself as a listing, read when the lead refuses to answer (a Legistar Web API asking
    # for a token, in front of the calendar page it was told by)
    fallback: Recognised | None = None


@dataclass
class Detection:
    """What `detect` found: the platform and the block to paste, the meetings the listing holds, or
    the one line saying why it cannot tell (`problem`, with `recognised` None) or could not read the
    listing (`problem` with `recognised` set)."""

    url: str
    recognised: Recognised | None = None
    read_url: str | None = None  # the answer the listing was read from
    zone: str = "UTC"  # the zone times are read and shown in
    today: str = ""  # the day "next" counts from, in `zone`
    zone_from_data: bool = False
    meetings: list[Meeting] = field(default_factory=list)  # in the crawl's window, by time
    listed: int = 0  # meetings the listing holds, in the window or not
    latest: Meeting | None = None  # the latest meeting listed, when none is in the window
    skipped: list[str] = field(default_factory=list)  # the parser's problem lines
    beyond: str | None = None  # what a crawl reads besides this answer (a web calendar's other periods)
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.recognised is not None and self.problem is None

    @property
    def watch_id(self) -> str:
        return watch_id(self.name)

    @property
    def name(self) -> str:
        """The body's name as the data gives it, one line of at most NAME_LENGTH characters (a title
        stuffed for search engines is no name), else the host's."""
        found = self.recognised
        return _short(found.name, NAME_LENGTH) if found and found.name and found.name.strip() \
            else _host_name(self.read_url or self.url)


Fetch = Callable[[str, str], Page]
# A crawl of a watch that stores nothing: the meetings it reads in its window, and its error lines
# (`tracker.crawl.preview`).
Preview = Callable[[MeetingWatch], tuple[list[Meeting], list[str]]]


# -- the one entry point ----------------------------------------------------------------------


def detect(url: str, fetch: Fetch, *, legistar_api: str, zone: str, now: datetime | None = None,
           preview: Preview | None = None) -> Detection:
    """Fetch `url`, name its platform, follow at most one endpoint, and read its listing.
    `legistar_api`: the Web API a `<client>.legistar.com` page leads to ([sources.legistar]);
    `zone`: the zone to read times in when the data names none ([tracker] timezone); `preview`:
    how to crawl the watch found, where its page does not hold all a crawl reads (a web calendar
    whose other periods or later pages a crawl asks for)."""
    now = now or clock.now()
    url = given_address(url)
    result = Detection(url=url, zone=zone)
    secrets.keep_url_secrets(url)
    page = fetch(url, PAGE_ACCEPT)
    secrets.keep_url_secrets(page.final_url)
    if page.problem:
        result.problem = f"{_sent(url, page)}: {page.problem}" + _refusal_words(page)
        return result
    if instead := granicus_single_meeting(url) or granicus_single_meeting(page.final_url) \
            or iqm2_single_meeting(url) or iqm2_single_meeting(page.final_url):
        result.problem = f"{shown(url)}: {instead}"
        return result
    found = recognise(page, legistar_api=legistar_api, today=now.date())
    if isinstance(found, str):
        result.problem = f"{_sent(url, page)}: {found}"
        return result
    listing_page = page
    for address in (found.value if isinstance(found.value, str) else "", found.lead.url if found.lead else ""):
        secrets.keep_url_secrets(address)  # a key in an address the page links to is masked as one given
    if found.lead is not None:
        endpoint = fetch(found.lead.url, found.lead.accept)
        if endpoint.problem and found.fallback is not None and endpoint.status in (401, 403):
            found = _refused(found, found.fallback, endpoint)  # the page given is read instead
        elif endpoint.problem:
            result.recognised = found
            result.problem = (f"{found.lead.why} ({shown(found.lead.url)}): {endpoint.problem}"
                              + _legistar_hint(found, endpoint))
            return result
        else:
            there = recognise(endpoint, legistar_api=legistar_api, today=now.date(), expected=found.platform)
            if isinstance(there, str) or there.lead is not None:
                result.recognised = found
                said = there if isinstance(there, str) else f"it leads on to {there.lead.url}: run detect on that"
                result.problem = f"{found.lead.why} ({shown(endpoint.final_url)}): {said}"
                return result
            found = _merge(found, there)
            listing_page = endpoint
    result.recognised = found
    result.read_url = listing_page.final_url
    if found.timezone:
        result.zone, result.zone_from_data = found.timezone, True
    result.today = now.astimezone(ZoneInfo(result.zone)).date().isoformat()
    _read(result, listing_page, now, preview)
    return result


def given_address(url: str) -> str:
    """The address as a browser takes it from a paste: without the spaces around it, nor the line
    breaks and tabs inside it (an address copied from a mail, wrapped)."""
    return re.sub(r"[\t\r\n]", "", url).strip()


def _sent(url: str, page: Page) -> str:
    """The address given, and where its redirects sent the reader when that is elsewhere: the page
    that failed or was read is the one to look at."""
    return shown(url) + ("" if page.final_url in (url, "") else f", sent on to {shown(page.final_url)}")


def _refusal_words(page: Page) -> str:
    """What a refusal of the page itself means to a person: a login (401), a site that will not
    show it to a program (403), a chain of redirects too long to follow."""
    if page.status == 401 and "@" not in urlsplit(page.url).netloc:  # a login given says its refusal itself
        return (" (the page asks for a login: tracker reads only public pages, and a feed whose login is "
                "written in its address, https://user:${PASSWORD}@host/...; give the address of the "
                "meetings as the public sees them)")
    if page.status == 403:
        return (" (forbidden: the site refuses the page to tracker, behind a login or closed to programs; "
                "give the address of the meetings as the public sees them, or the platform's own page)")
    if page.problem == "too many redirects":
        return " (open it in a browser and give the address it ends at)"
    return ""


# -- addresses holding a key ------------------------------------------------------------------------

def shown(url: str) -> str:
    """An address as printed: its credentials left out (the parameter, the password, the private
    path), and said to be; `secrets.mask` would print `token=***`, an address that reads nothing."""
    if not url or not secrets.url_secrets(url):
        return url
    parts = secrets.url_parts(url)
    query, fragment = ("&".join(pair for pair, name, _ in secrets.query_pairs(part) if not secrets.SECRET_NAME.search(name))
                       for part in (parts.query, parts.fragment))
    path = "/".join(_segment_shown(segment) for segment in secrets.PRIVATE_PATH.sub("/private-…", parts.path).split("/"))
    netloc = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, netloc, path, query, fragment)) + " (its key left out)"


def _segment_shown(segment: str) -> str:
    """A path segment as printed: its parameters naming a credential left out."""
    if ";" not in segment:
        return segment
    name, *params = segment.split(";")
    return ";".join([name, *(p for p in params if not secrets.SECRET_NAME.search(unquote(p.partition("=")[0])))])


def secret_variable(result: Detection) -> str:
    """The environment variable the block reads an address holding a key from (`WATCH_ID_URL`)."""
    name = result.watch_id.upper().replace("-", "_")
    return f"{name}_URL" if name[:1].isalpha() else f"MEETINGS_{name}_URL"


def block_value(result: Detection) -> str | dict[str, str]:
    """The watch's value as the block writes it: an address holding a key is read from the
    environment (`${WATCH_ID_URL}`), never written into a file that is shared and committed."""
    found = result.recognised
    assert found is not None
    if isinstance(found.value, str) and secrets.url_secrets(found.value):
        return f"${{{secret_variable(result)}}}"
    return found.value


def _merge(first: Recognised, endpoint: Recognised) -> Recognised:
    """The endpoint's answer, keeping what the person's page told (its name, how it was found)."""
    value = endpoint.value if first.platform != "legistar" else first.value
    if isinstance(first.value, dict) and isinstance(endpoint.value, dict):
        value = {**endpoint.value, **first.value}
    return Recognised(platform=endpoint.platform, value=value, via=first.via,
                      name=endpoint.name or first.name, timezone=endpoint.timezone or first.timezone,
                      detail=endpoint.detail or first.detail, notes=_notes(first.notes, endpoint.notes))


def _notes(first: list[str], endpoint: list[str]) -> list[str]:
    """The block's comments of a page and of the endpoint it led to, each said once: where both say
    the same thing ("its Web API is not the configured one: ..."), the endpoint's words."""
    said = {note.split(":", 1)[0] for note in endpoint}
    return [note for note in first if note.split(":", 1)[0] not in said] + endpoint


def _refused(found: Recognised, page_itself: Recognised, endpoint: Page) -> Recognised:
    """The page given, read as its own listing, when the endpoint it led to refuses (a Legistar Web
    API that asks for a token): the block watches the page, and says what a token would add."""
    assert found.lead is not None
    client = found.value.get("client") if isinstance(found.value, dict) else found.name
    page_itself.notes.append(f"{found.lead.why} answers {endpoint.problem}: this watches the web calendar "
                             "page instead (no agenda items); with a token from the clerk, "
                             f'legistar = {{ client = "{client}", token = "..." }} reads them too')
    return page_itself


def _legistar_hint(found: Recognised, endpoint: Page) -> str:
    if found.platform == "legistar" and endpoint.status in (401, 403):
        client = found.value.get("client") if isinstance(found.value, dict) else None
        page = f"https://{client}.legistar.com/Calendar.aspx" if client else "its Calendar.aspx page"
        return (" (this client's Web API needs a token: ask the clerk for one, then add `token` to the block; "
                f"or run detect on its web calendar page, {page})")
    return ""


def _read(result: Detection, page: Page, now: datetime, preview: Preview | None = None) -> None:
    """Run the platform's parser on the listing, as a crawl would, and keep the window's meetings;
    for a web calendar whose crawl also asks for other periods or later pages, crawl it as a watch
    would (`preview`)."""
    found = result.recognised
    assert found is not None
    ctx = ListingContext(watch_id=result.watch_id, url=page.final_url, body=result.name, timezone=result.zone,
                         keywords=(), window_start=now - timedelta(days=PAST_DAYS),
                         window_end=now + timedelta(days=FUTURE_DAYS))
    view = None
    try:
        if found.platform == "legistar_calendar":  # its list of periods read from the same tree
            listing, view = legistar_calendar.read_calendar(page.body, ctx)
        else:
            listing = read_listing(found.platform, page.body, ctx)
    except SourceParseError as exc:
        result.problem = f"{page.final_url}: {PLATFORMS[found.platform]}, but its parser cannot read it: {exc}"
        return
    result.skipped = listing.problems + listing.warnings
    if view is not None:
        today = date.fromisoformat(result.today) if result.today else ctx.window_start.date()
        start, end = ctx.window_start.date(), ctx.window_end.date()
        asking = legistar_calendar.periods_to_ask(view, start, end, today)
        # the page's own later pages, which a crawl reads where the window may reach them
        paged = asking.shown and view.next_page is not None and not view.later_pages_outside(start, end)
        result.beyond = _calendar_beyond(view, asking, paged)
        if (asking.periods or paged) and preview is not None:
            listing = _crawled(result, listing, view, asking, preview)
    first, last = ctx.window_start.date().isoformat(), ctx.window_end.date().isoformat()
    result.meetings = sorted((m for m in listing.meetings if first <= (m.date or "") <= last), key=_when)
    held = {m.source_ref: m for m in (*_all_listed(found.platform, page.body, ctx), *listing.meetings)}
    result.listed = len(held)
    if not result.meetings and held:
        result.latest = max(held.values(), key=_when)


def _all_listed(platform: str, body: bytes, ctx: ListingContext) -> list[Meeting]:
    """Every meeting the listing holds, whatever its day: parsers keep only the window's, and a
    person giving a feed whose meetings are all past must be told it holds some (and the latest)."""
    ever = replace(ctx, window_start=datetime(1900, 1, 1, tzinfo=UTC), window_end=datetime(2200, 1, 1, tzinfo=UTC))
    try:
        return read_listing(platform, body, ever).meetings
    except SourceParseError:  # never seen (the window's reading of the same bytes succeeded)
        return []


def _crawled(result: Detection, page: Listing, view: legistar_calendar.CalendarView, asking: legistar_calendar.Asking,
             preview: Preview) -> Listing:
    """The page's meetings and those a crawl of the watch reads in the periods asked for and the
    page's own later pages; the page's alone, with one more line, when that crawl has an error."""
    found = result.recognised
    assert found is not None
    watch = MeetingWatch.model_validate({"id": result.watch_id, "name": result.name, "timezone": result.zone,
                                         found.platform: found.value})
    read, errors = preview(watch)
    periods = " and ".join(repr(p) for p in asking.periods) or "its later pages"
    if errors:  # its first error line, without the source's id
        result.beyond = f"{result.beyond} Asking for {periods} here failed: {errors[0].split(': ', 1)[-1]}"
        return page
    shown = "The page lists its meetings on more than one page" if view.period_field is None else (
        f"The page shows {view.period or 'its default period'!r}"
        + ("" if asking.whole else " and its date range list cannot show the whole window"))
    result.beyond = f"{shown}; asked for {periods} as a crawl does, and read them too."
    crawled = {meeting.source_ref: meeting for meeting in read}
    return Listing([*crawled.values(), *(m for m in page.meetings if m.source_ref not in crawled)], page.problems)


def _calendar_beyond(view: legistar_calendar.CalendarView, asking: legistar_calendar.Asking,
                     paged: bool) -> str | None:
    """What a crawl of a web calendar reads besides the page as served: the periods of its date
    range list that the window needs (spiders/legistar_calendar.py asks for them), and the page's
    own later pages (`paged`)."""
    if view.period_field is None:
        return "The page has more pages of meetings: a crawl reads those the window needs." if paged else None
    asked, whole = asking.periods, asking.whole
    years = "the window's years" + (", but the one the page shows: its own pages are read" if asking.shown else "")
    read = f"{' and '.join(repr(p) for p in asked)} ({years}) and the pages of their rows it needs"
    if not whole:
        return (f"The page shows {view.period or 'its default period'!r} and its date range list cannot show the "
                f"whole window: a crawl reads {read if asked else 'the page as shown'}.")
    if not asked:
        return (f"The page shows {view.period!r} on more than one page: a crawl also reads the later ones the "
                "window needs.") if paged else None
    return f"The page shows {view.period!r}; a crawl also asks for {read}."


def _when(meeting: Meeting) -> tuple[str, str]:
    return meeting.date or "", meeting.start or ""


def read_listing(platform: str, body: bytes, ctx: ListingContext) -> Listing:
    """The registry's parser for a listing platform; Legistar's events list read as its spider
    reads each event (without the agenda items, which take a request per meeting)."""
    if platform == "legistar":
        rows = read_json(body, "Legistar events list")
        if not isinstance(rows, list):
            raise SourceParseError("a Legistar events list is a JSON array")
        return read_rows(rows, lambda row, c: normalize_event(row, None, zone=c.timezone), ctx,
                         lambda n, row: (row.get("EventId") if isinstance(row, dict) else f"row {n + 1}",
                                         row.get("EventBodyName") if isinstance(row, dict) else None))
    parser = SOURCES[platform].listing
    assert parser is not None, f"{platform} has no listing parser"
    return parser(body, ctx)


# -- recognition --------------------------------------------------------------------------------


def recognise(page: Page, *, legistar_api: str, today: date, expected: str | None = None) -> Recognised | str:
    """The platform of one answer (with a lead when its listing is elsewhere), or one phrase saying
    what it is instead ("an HTML page with no meeting listing recognised (title "...")").
    `expected`: the platform a lead was followed for (an empty Legistar list is still Legistar's)."""
    body = page.body
    if not body.strip():  # whatever its type says
        return f"an empty answer (HTTP {page.status})"
    kind = body_kind(page)
    if kind == "ical":
        return _ical(page)
    if kind == "json":
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            return "an answer that says it is JSON but cannot be read as JSON"
        return _json(page, data, legistar_api, today, expected) or _elsewhere(page, legistar_api, today) \
            or _linked(page, _text_of(body, xml=False), None, legistar_api, today) \
            or f"a JSON document with no meeting listing recognised{_said(data)}"
    if kind == "xml":
        root = xml_root(body)
        return _xml(page, root, legistar_api, today) or _elsewhere(page, legistar_api, today) \
            or _linked(page, _text_of(body, xml=True), None, legistar_api, today) \
            or f"an XML document (<{root}>) with no meeting listing recognised"
    if kind == "html":
        text = html_text(body, page.content_type)
        selector = Selector(text=text)
        title = page_title(selector)
        found = _html(page, text, selector) or _elsewhere(page, legistar_api, today) or _primegov_portal(page, text) \
            or _linked(page, text, selector, legistar_api, today)
        if found is not None:
            if found.name is None:
                found.name = title
            if found.platform == "legistar_calendar" and (site := by_address(page.final_url, legistar_api, today)):
                site.fallback = found  # a client's own calendar: its Web API first, the page if refused
                return site
            return found
        if _LEGISTAR_PAGE.search(text) and re.search(r"(Calendar|MeetingDetail|LegislationDetail)\.aspx", text):
            return ("a Legistar page whose client is named neither in its address nor in its content: give its "
                    "https://<client>.legistar.com address")
        if selector.xpath("//input[translate(@type, 'PASSWORD', 'password')='password']"):
            return ("a login page (it asks for a password), not a listing of meetings: tracker reads only public "
                    "pages; give the address of the meetings as the public sees them")
        return "an HTML page with no meeting listing recognised" + (f' (title "{_short(title)}")' if title else "")
    return f"a {page.content_type.split(';')[0] or 'document'} that is not a meeting listing"


def body_kind(page: Page) -> str:
    """ical | json | xml | html | other, from the body's first bytes (a type header often lies)."""
    head = page.body[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head[:15].upper() == b"BEGIN:VCALENDAR":
        return "ical"
    if head[:1] in (b"{", b"["):
        return "json"
    lowered = head[:1024].lower()
    if lowered.startswith((b"<!doctype html", b"<html")) or b"<html" in lowered:
        return "html"
    if head.startswith(b"<"):
        return "html" if xml_root(page.body).lower() in _HTML_ROOTS else "xml"
    if "html" in page.content_type:
        return "html"
    return "other"


# A fragment of HTML (a page's part loaded by script) starts with one of these, never a data format.
_HTML_ROOTS = {"html", "head", "body", "div", "style", "script", "table", "form", "meta", "link", "p", "span",
               "section", "main", "article", "ul", "h1", "h2", "h3", "a", "iframe", "br", "tr", "td"}
_PROLOG = re.compile(rb"\s*(?:<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>\[]*(?:\[.*?\])?\s*>)", re.S | re.I)
_ROOT = re.compile(rb"\s*<(?:[\w.-]+:)?([\w.-]+)")


def xml_root(data: bytes) -> str:
    """The local name of the first element (no parse: nothing in the document is resolved)."""
    head, pos = data[:65536].lstrip(b"\xef\xbb\xbf"), 0
    while (m := _PROLOG.match(head, pos)) and m.end() > pos:
        pos = m.end()
    m = _ROOT.match(head, pos)
    return m.group(1).decode("ascii", "replace") if m else ""


def _text_of(data: bytes, *, xml: bool) -> str:
    """A JSON or XML document's text; an XML one's without its comments (what a comment names is
    not in it; in JSON, `<!--` is words of a string)."""
    text = data[:2_000_000].decode("utf-8", "replace")
    return _XML_COMMENT.sub(" ", text) if xml else text


def html_text(data: bytes, content_type: str | None = None) -> str:
    """The page's text as a browser reads it (`pages.page_text`: in the encoding its header or its
    own `<meta>` names, one no text decodes with passed over), without its HTML comments. A link, an
    iframe or a script in a comment is not on the page (a city's old platform left there when it
    moved on), so it is no evidence of where its meetings are."""
    _, text = page_text(data, content_type)
    return without_comments(text)


# An HTML comment as a browser ends it (`-->`, `--!>`, the empty `<!-->` and `<!--->`, or the end of
# the page when it is never closed); the text of a script or style is passed over whole, since a
# `<!--` in a script (`<script><!-- ... //--></script>`, once the way to hide it from old browsers)
# starts no comment. A page that ends inside such a start tag (no `>` after it) ends there, as a
# browser reads it: tried as an element instead, each such opening was matched against the whole
# rest of the page (quadratic: 80,000 `<style ` openings, 560 KB, took half a minute).
_COMMENT = re.compile(r"(<(script|style|textarea|title)\b[^>]*>.*?(?:</\2\s*>|\Z))"
                      r"|<(?:script|style|textarea|title)\b[^>]*\Z"
                      r"|<!--(?:-?>|.*?(?:--!?>|\Z))", re.S | re.I)
_XML_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.S)


def without_comments(text: str) -> str:
    """`text` with each HTML comment a space (and a start tag the page ends in), scripts and
    styles kept as they are."""
    return _COMMENT.sub(lambda m: m.group(1) or " ", text)


def page_title(selector: Selector) -> str | None:
    title = " ".join(" ".join(selector.xpath("//head/title//text()").getall()).split())
    return title or None


# -- iCalendar, JSON, XML -----------------------------------------------------------------------


def _ical(page: Page) -> Recognised:
    text = page.body[:1_000_000].decode("utf-8", "replace")
    unfolded = re.sub(r"\r?\n[ \t]", "", text)
    name = re.search(r"^X-WR-CALNAME[^:\r\n]*:(.+)$", unfolded, re.M | re.I)
    zones = [re.search(r"^X-WR-TIMEZONE[^:\r\n]*:(.+)$", unfolded, re.M | re.I)]
    zones += list(re.finditer(r"^TZID[^:\r\n]*:(.+)$", unfolded, re.M | re.I))
    zones += list(re.finditer(r";TZID=\"?([^\";:]+)", unfolded, re.I))
    zone = next((z for m in zones if m and (z := known_zone(m.group(1)))), None)
    return Recognised("ical", page.final_url, "its content (an iCalendar feed)",
                      name=_ical_text(name.group(1)) if name else None, timezone=zone)


def _ical_text(value: str) -> str:
    return " ".join(value.replace("\\,", ",").replace("\\;", ";").replace("\\n", " ").split()) or ""


def known_zone(value: str) -> str | None:
    """An IANA zone name as written (or a US zone's Windows name), else None."""
    value = value.strip().strip('"')
    value = WINDOWS_ZONES.get(value.lower(), value)
    if not re.fullmatch(r"[A-Za-z_]+(?:/[A-Za-z0-9_+-]+)+", value):
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return value


def _said(data: Any) -> str:
    """An empty list, or the message an API answered with instead of data (Legistar's `Message`)."""
    if data in ([], {}):
        return " (an empty list)"
    message = data.get("Message") or data.get("message") if isinstance(data, dict) else None
    return f" (it says: {_short(str(message), 100)})" if message else ""


def _elsewhere(page: Page, legistar_api: str, today: date) -> Recognised | None:
    """A platform's page whose listing is at another address. An address that promises a listing
    (an `.ics`, a ViewPublisher page) whose answer is no such listing is not recognised: it is
    what it is (an error page, a moved feed)."""
    found = by_address(page.final_url, legistar_api, today)
    if found is None or (found.lead is not None and found.lead.url in (page.url, page.final_url)):
        return None
    return found


def _rows(data: Any) -> list[dict[str, Any]]:
    rows = data if isinstance(data, list) else [data]
    return [row for row in rows if isinstance(row, dict)]


def legistar_prefix(row: dict[str, Any]) -> str | None:
    """"Event" for an event: every Legistar Web API record has `<X>Id`, `<X>Guid` and `<X>RowVersion`
    or `<X>LastModifiedUtc`."""
    for key in row:
        if key.endswith("Guid") and (prefix := key[:-4]) and f"{prefix}Id" in row \
                and (f"{prefix}RowVersion" in row or f"{prefix}LastModifiedUtc" in row):
            return prefix
    return None


def _legistar_event(row: dict[str, Any]) -> bool:
    """An event with the fields the Legistar parser reads (`EventId`, `EventBodyName`, `EventDate`)
    but not every record's `EventGuid`: an answer a project saved with only some of its fields
    (Boston's events as jackhale98/commonhall kept them) is still the Web API's."""
    return all(key in row for key in ("EventId", "EventBodyName", "EventDate"))


def _json(page: Page, data: Any, legistar_api: str, today: date, expected: str | None) -> Recognised | None:
    rows = _rows(data.get("value") if isinstance(data, dict) and isinstance(data.get("value"), list) else data)
    first = rows[0] if rows else {}
    host = (urlsplit(page.final_url).hostname or "").lower()
    if legistar_prefix(first) or _legistar_event(first) or (expected == "legistar" and data == []):
        return _legistar_api(page, data, first, legistar_api, today)
    odata = str(data.get("@odata.context", "")) if isinstance(data, dict) else ""
    if isinstance(data, dict) and isinstance(data.get("value"), list) and (
            ("eventName" in first and "startDateTime" in first) or odata.endswith("#Events")
            or (not rows and (expected == "civicclerk" or host.endswith(".civicclerk.com")))):
        tenant = re.match(r"([a-z0-9-]+)\.api\.civicclerk\.com$", host)
        return Recognised("civicclerk", page.final_url, "its content (CivicClerk events)",
                          name=tenant.group(1) if tenant else first.get("categoryName") or None)
    primegov_row = ("id" in first and "title" in first and ("dateTime" in first or "date" in first)
                    and any(k in first for k in ("documentList", "meetingTypeId", "committeeId", "meetingState",
                                                 "videoUrl")))
    if isinstance(data, list) and (primegov_row or (not rows and (expected == "primegov"
                                                                  or host.endswith(".primegov.com")))):
        portal = re.match(r"([a-z0-9-]+)\.primegov\.com$", host)
        found = Recognised("primegov", page.final_url, "its content (PrimeGov meetings)",
                           name=portal.group(1) if portal else None)
        if _primegov_archive(page.final_url):
            return _asked_by_form(page, found, legistar_api, today, PRIMEGOV_ARCHIVE_NOTE)
        return found
    if isinstance(data, list) and "meetingId" in first and "meetingDate" in first and (
            "meetingTitle" in first or "documentList" in first):
        return _asked_by_form(page, Recognised("primegov", page.final_url, "its content (PrimeGov search results)"),
                              legistar_api, today, PRIMEGOV_SEARCH_NOTE)
    if civicweb_list(data) or (data == [] and (expected == "civicweb" or host.endswith(civicweb.HOSTS))):
        return Recognised("civicweb", civicweb.site_of(page.final_url),
                          "its content (a CivicWeb / Diligent Community meeting list)",
                          name=_site_name(host, civicweb.HOSTS))
    if isinstance(data, list) and "Unique" in first and "Date" in first:  # BD-GETMeetingsListForSEO: a plain GET
        return Recognised("boarddocs", page.final_url, "its content (a BoardDocs meeting list for search engines)")
    if isinstance(data, list) and "unique" in first and "numberdate" in first:
        return _asked_by_form(page, Recognised("boarddocs", page.final_url, "its content (a BoardDocs meeting list)"),
                              legistar_api, today, BOARDDOCS_LIST_NOTE)
    return None


# Listings a site's own page asks for by a form POST of one committee: a crawl makes one plain
# (conditional) GET per watch, so on the platform's host the watch is the listing a GET reads.
BOARDDOCS_LIST_NOTE = (
    "a BoardDocs meeting list (BD-GetMeetingsList) is a form POST of one committee with names and dates only; "
    "a watch reads the site's XML export (https://go.boarddocs.com/<state>/<org>/Board.nsf/XML-ActiveMeetings), "
    "a plain GET that also carries each meeting's agenda items")
PRIMEGOV_ARCHIVE_NOTE = (
    "a PrimeGov archive (api/v2/PublicPortal/ListArchivedMeetings?year=...) holds one year's meetings already held: "
    "a watch of it would tell of no meeting before it is held, and of none after that year; a watch reads the "
    "portal's meeting list (api/v2/PublicPortal/ListUpcomingMeetings)")
PRIMEGOV_SEARCH_NOTE = (
    "PrimeGov search results (api/v2/PublicPortal/search) are a form POST of one committee and dates; "
    "a watch reads the portal's meeting list (api/v2/PublicPortal/ListUpcomingMeetings), a plain GET of every "
    "committee's meetings")


def _primegov_archive(url: str) -> bool:
    """A PrimeGov year's archive (`ListArchivedMeetings`, `ListArchivedMeetingsByCommitteeId`): held
    meetings of the year its address names, so no watch of what is coming."""
    return "/listarchivedmeetings" in urlsplit(url).path.lower()


def _asked_by_form(page: Page, found: Recognised, legistar_api: str, today: date, note: str) -> Recognised:
    """A listing a platform's page asks for by a form POST (a BoardDocs meeting list, PrimeGov search
    results), or one no watch should read (a PrimeGov year's archive), answered here to a GET: on the
    platform's own host, the watch is the listing a plain GET reads there (the lead); anywhere else (a
    copy), this address, which a crawl's GET reads as detect's did."""
    site = by_address(page.final_url, legistar_api, today)
    if site is not None and site.platform == found.platform and site.lead is not None:
        site.via = found.via
        site.notes.append(note)
        return site
    found.notes.append(note)
    return found


def _legistar_api(page: Page, data: Any, first: dict[str, Any], legistar_api: str, today: date) -> Recognised | None:
    """Legistar Web API data: its client from the address (`/v1/<client>/...`) or from the records'
    own InSite links; the meetings are the client's events list for the window."""
    parts = urlsplit(page.final_url)
    at = re.match(r"(.*?/v1)/([A-Za-z0-9_-]+)(?:/|$)", parts.path)
    api = urlunsplit((parts.scheme, parts.netloc, at.group(1), "", "")) if at else legistar_api
    client = at.group(2) if at else None
    if client is None and (linked := _LEGISTAR_HOST.search(page.body[:1_000_000].decode("utf-8", "replace"))):
        client = linked.group(1).lower()
    if client is None:
        return None
    found = Recognised("legistar", {"client": client}, "its content (Legistar Web API data)", name=client)
    query = dict(parse_qsl(parts.query))
    is_window = parts.path.rstrip("/").lower().endswith("/events") and "$filter" in query and isinstance(data, list)
    if not is_window:
        found.lead = Lead(legistar_events_url(api, client, today), JSON_TYPE,
                          f"the Legistar Web API's meetings of client {client}")
    if api.rstrip("/") != legistar_api.rstrip("/"):
        found.notes.append(f'its Web API is not the configured one: set [sources.legistar] base_url = "{api}"')
    return _with_token(found, page.final_url) if at else found


def _with_token(found: Recognised, url: str) -> Recognised:
    """A Legistar Web API address holding the client's `token`: the events are asked for with it,
    and the block reads it from the environment (`${LEGISTAR_TOKEN}`), never from the file."""
    token = next((value for name, value in parse_qsl(urlsplit(url).query) if name.lower() == "token" and value), None)
    if token is None or not isinstance(found.value, dict):
        return found
    found.value = {**found.value, "token": "${LEGISTAR_TOKEN}"}
    if found.lead is not None:
        found.lead = replace(found.lead, url=f"{found.lead.url}&{urlencode({'token': token})}")
    found.notes.append("LEGISTAR_TOKEN: set it in the environment to the token of the address you gave "
                       "(not written here)")
    return found


def legistar_events_url(api: str, client: str, today: date) -> str:
    """The client's events of the crawl's window, soonest first."""
    start, end = crawl_window(today)
    params = {"$filter": f"EventDate ge datetime'{start.isoformat()}T00:00:00' and "
                         f"EventDate le datetime'{end.isoformat()}T00:00:00'",
              "$orderby": "EventDate", "$top": "1000"}
    return f"{api.rstrip('/')}/{client}/events?" + urlencode(params, quote_via=quote, safe="$'(),:")


def _xml(page: Page, root: str, legistar_api: str, today: date) -> Recognised | None:
    head = page.body[:65536]
    if root.startswith(("ArrayOfGranicus", "Granicus")):  # the Legistar Web API, answering XML
        return _legistar_api(page, None, {}, legistar_api, today)
    if root == "meetings" and b"<meeting" in head:
        org = re.search(r"/([a-z]{2})/([^/]+)/board\.nsf", urlsplit(page.final_url).path, re.I)
        name = re.search(rb"<meeting[^>]*\bbodyname=\"([^\"]+)\"", head)
        return Recognised("boarddocs", page.final_url, "its content (a BoardDocs meetings export)",
                          name=name.group(1).decode("utf-8", "replace") if name else org.group(2) if org else None)
    if root in ("rss", "feed", "RDF"):
        title = re.search(rb"<title[^>]*>\s*(?:<!\[CDATA\[)?(.*?)(?:\]\]>)?\s*</title>", head, re.S)
        url = page.final_url
        return Recognised("feed", url, f"its content (an {'Atom' if root == 'feed' else 'RSS'} feed)",
                          name=_unescape(_xml_decoded(title.group(1), head, page.content_type)) if title else None,
                          detail=_feed_publisher(head, url))
    return None


def _xml_decoded(data: bytes, head: bytes, content_type: str) -> str:
    """Bytes of an XML document in its encoding: the header's charset (RFC 7303), else its XML
    declaration's, else UTF-8. A name no codec has is passed over, and so is a codec that decodes no
    text with replacement ("undefined", "idna", "punycode": UnicodeError, a ValueError)."""
    said = re.search(r"charset=[\"']?([\w.:-]+)", content_type, re.I)
    declared = re.match(rb"<\?xml[^>]*?encoding=[\"']([\w.:-]+)", head.lstrip(b"\xef\xbb\xbf \t\r\n"))
    for encoding in (said.group(1) if said else None, declared.group(1).decode("ascii") if declared else None):
        if encoding:
            try:
                return data.decode(encoding, "replace")
            except (LookupError, ValueError):
                continue
    return data.decode("utf-8", "replace")


def _feed_publisher(head: bytes, url: str) -> str | None:
    """Who publishes a feed, by its address and its first entries: Granicus, or which of a CivicPlus
    site's modules (`RSSFeed.aspx?ModID=65` is the AgendaCenter's; the Media Center's entries link
    `/CivicMedia?VID=N`, its videos)."""
    if b"granicus.com/schema" in head or "ViewPublisherRSS" in url:
        return "published by Granicus ViewPublisher"
    if b"/AgendaCenter/" in head or re.search(r"RSSFeed\.aspx\?(?:[^#]*&)?ModID=65(?!\d)", url, re.I):
        return "published by CivicPlus AgendaCenter"
    if re.search(rb"/CivicMedia\b", head, re.I):
        return "published by CivicPlus Media Center (its videos)"
    return "published by CivicPlus" if "rssfeed.aspx" in url.lower() else None


def _unescape(text: str) -> str:
    return " ".join(html.unescape(text).split())


# -- HTML: a listing page, a platform's page, or a page that links to one ----------------------


def _html(page: Page, text: str, selector: Selector) -> Recognised | None:
    """A Legistar web calendar, Granicus ViewPublisher or CivicPlus AgendaCenter page that holds
    meetings itself."""
    url = page.final_url
    path = urlsplit(url).path.lower()
    # NovusAGENDA's meetings page is a Telerik RadGrid too (`rgMasterTable`, `rgRow`): told by its own
    # marks (its skin's folder, its grid's id, its title) before Legistar's grid is looked for.
    if novusagenda.PAGE_MARK.search(text):
        return Recognised("novusagenda", url, "its content (a NovusAGENDA meetings page)",
                          name=_site_name((urlsplit(url).hostname or "").lower(), novusagenda.HOST))
    # A CivicPlus Municode (Drupal) site's meetings table: the page itself is the listing (the
    # site's `/rss.xml` dates entries by when a page was made, not by the meeting).
    if municode.is_meetings_page(text):
        return Recognised("municode", url, "its content (a CivicPlus Municode meetings table)",
                          name=municode.site_of(page_title(selector)))
    if selector.xpath(_CALENDAR_GRID):
        return Recognised("legistar_calendar", url, "its content (Legistar's web calendar grid)")
    if _IQM2_ROWS.search(text) and _IQM2_OWN_MEETING.search(text):  # its rows, linking meetings on its own site
        return Recognised("iqm2", _iqm2_calendar(url), "its content (IQM2 calendar rows)",
                          name=_site_name(urlsplit(url).hostname or "", iqm2.HOST))
    # A Legistar calendar that plays its meetings' video from Granicus is Legistar's listing.
    legistar_page = bool(_LEGISTAR_PAGE.search(text) and re.search(r"(Calendar|MeetingDetail)\.aspx", text))
    if path.endswith("viewpublisher.php") or (len(_GRANICUS_LINK.findall(text)) >= 2 and not legistar_page):
        return Recognised("granicus", url, "its " + ("address" if path.endswith("viewpublisher.php")
                                                     else "content (Granicus agenda and video links)"))
    if selector.xpath(_GRANICUS_UPCOMING):
        return Recognised("granicus", url, "its content (Granicus upcoming events)")
    if "catAgendaRow" in text or re.search(r"/AgendaCenter/ViewFile/(Agenda|Minutes)/", text, re.I):
        # Its AgendaCenter: from its address, a link into it, else the address the page declares
        # itself at (an Agenda Center with no category has no link into itself: Larkspur's).
        base = agenda_center(url) or next(
            (found for href in selector.xpath("//a/@href").getall()
             if (found := agenda_center(urljoin(url, href)))), None) or next(
            (found for href in selector.xpath("//meta[@property='og:url']/@content | //link[@rel='canonical']/@href")
             .getall() if (found := agenda_center(urljoin(url, href.strip())))), None)
        if base is None:
            return None
        rows = re.search(r"""class=["']catAgendaRow\b|/AgendaCenter/ViewFile/(Agenda|Minutes)/""", text, re.I)
        return Recognised("civicplus", civicplus_value(url, base),
                          "its content (AgendaCenter agenda rows)" if rows else "its content (an AgendaCenter page)")
    return None


# PrimeGov's public portal page: its own scripts name it. Its meetings are loaded from the portal's
# meeting list on the same host, whether that is `<city>.primegov.com` or the city's own domain.
_PRIMEGOV_PORTAL = re.compile(r"PrimeGov\.Views\.PublicPortal\b")


def _primegov_portal(page: Page, text: str) -> Recognised | None:
    """A PrimeGov portal page at an address that does not say so (`by_address` knows
    `<city>.primegov.com`): its meeting list is at the same host."""
    if not _PRIMEGOV_PORTAL.search(text):
        return None
    parts = urlsplit(page.final_url)
    api = f"{parts.scheme}://{parts.netloc}/api/v2/PublicPortal/ListUpcomingMeetings"
    return Recognised("primegov", api, "its content (a PrimeGov portal page)", name=_host_name(page.final_url),
                      lead=Lead(api, JSON_TYPE, "the PrimeGov meeting list"))


# One meeting's pages on Granicus: its agenda, minutes, video player, generated agenda, a document.
_GRANICUS_ONE_MEETING = {"agendaviewer.php": "agenda", "minutesviewer.php": "minutes", "mediaplayer.php": "video player",
                         "generatedagendaviewer.php": "agenda", "documentviewer.php": "document",
                         "asx.php": "video file"}


_IQM2_ROWS = re.compile(r"""class=["'](?:Row MeetingRow|RowLink["'])""")  # its rows, or their links alone
_IQM2_OWN_MEETING = re.compile(r"""href=["'](?:/Citizens/)?Detail_Meeting\.aspx\?""", re.I)


def _iqm2_calendar(url: str) -> str:
    """The calendar of the IQM2 site `url` is on (the crawl fills in the window's dates)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc.rsplit("@", 1)[-1], "/Citizens/Calendar.aspx", "", ""))


def crawl_window(today: date) -> tuple[date, date]:
    """The days a crawl reads from `today` (`sources.PAST_DAYS` back, `FUTURE_DAYS` ahead)."""
    return today - timedelta(days=PAST_DAYS), today + timedelta(days=FUTURE_DAYS)


def _site_name(host: str, hosts: str | tuple[str, ...]) -> str | None:
    """The site a platform's host names (`atlantacityga` of `atlantacityga.iqm2.com`, `sarpy` of
    `sarpy.civicweb.net`), where `host` is one of the platform's `hosts`."""
    return host.split(".", 1)[0] if host.endswith(hosts) else None


def iqm2_single_meeting(url: str) -> str | None:
    """What to say of one meeting's page on IQM2 (`Detail_Meeting.aspx?ID=N`, `SplitView.aspx`):
    the site's calendar is the listing to give."""
    parts = urlsplit(url)
    page = parts.path.rsplit("/", 1)[-1].lower()
    if not (parts.hostname or "").lower().endswith(iqm2.HOST) or page not in ("detail_meeting.aspx", "splitview.aspx"):
        return None
    return ("one meeting's page on IQM2, not a listing of meetings: give the site's calendar instead, "
            f"{_iqm2_calendar(url)}")


def granicus_single_meeting(url: str) -> str | None:
    """What to say of one meeting's page on Granicus (`AgendaViewer.php?view_id=3&event_id=…`,
    a `MediaPlayer.php` clip): it names the platform and the listing to give instead, the
    ViewPublisher page of the same `view_id` (the body's listing, which the crawl reads)."""
    parts = urlsplit(url)
    what = _GRANICUS_ONE_MEETING.get(parts.path.rsplit("/", 1)[-1].lower())
    query = {key.lower(): value for key, value in parse_qsl(parts.query)}
    if what is None or not ({"view_id", "event_id", "clip_id", "meta_id"} & query.keys()):
        return None
    view = query.get("view_id", "")
    listing = urlunsplit((parts.scheme, parts.netloc, "/ViewPublisher.php",
                          urlencode({"view_id": view}) if view.isdigit() else "", ""))
    give = listing if view.isdigit() else f"{listing}?view_id=<the body's view>"
    return (f"one meeting's {what} on Granicus, not a listing of meetings: give the body's ViewPublisher "
            f"listing instead, {give}")


def civicplus_value(url: str, base: str) -> str:
    """The AgendaCenter, or its search when that keeps only some bodies: a search's `CIDs`, or the
    one body of a category's page (`/AgendaCenter/City-Council-4`: category 4, the page's `cat4`
    panel). The crawl fills in the dates of its window either way."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    cids = query.get("CIDs", "")
    if category := _CATEGORY_PAGE.search(parts.path):
        query, cids = {}, category.group(1)
    elif not parts.path.rstrip("/").lower().endswith("/agendacenter/search"):
        cids = ""
    if cids and cids.lower() != "all":
        return f"{base}/Search/?" + urlencode({"term": query.get("term", ""), "CIDs": cids}, safe=",")
    return base


_CATEGORY_PAGE = re.compile(r"/AgendaCenter/(?!(?:Search|ViewFile)/)[A-Za-z][^/]*-(\d+)/?$", re.I)


def agenda_center(url: str) -> str | None:
    """`https://<city>/AgendaCenter` from any address inside it."""
    parts = urlsplit(url)
    at = re.search(r"/AgendaCenter(?=/|$)", parts.path, re.I)
    if at is None or parts.scheme not in ("http", "https"):
        return None
    return urlunsplit((parts.scheme, parts.netloc, parts.path[:at.end()], "", ""))


def by_address(url: str, legistar_api: str, today: date) -> Recognised | None:
    """A platform told from an address alone, with the endpoint its listing is at (maybe itself)."""
    parts = urlsplit(url)
    host, path, scheme = (parts.hostname or "").lower(), parts.path, parts.scheme.lower()
    lowered = path.lower()
    here = "its address"
    if (m := re.fullmatch(r"([a-z0-9-]+)\.legistar\.com", host)) and m.group(1) not in ("webapi", "www"):
        client = m.group(1)
        return Recognised("legistar", {"client": client}, here, name=client,
                          lead=Lead(legistar_events_url(legistar_api, client, today), JSON_TYPE,
                                    f"the Legistar Web API's meetings of client {client}"))
    if host == "webapi.legistar.com" and (m := re.match(r"/v1/([A-Za-z0-9_-]+)", path)):
        api = f"{scheme}://{parts.netloc}/v1"
        found = Recognised("legistar", {"client": m.group(1)}, here, name=m.group(1),
                           lead=Lead(legistar_events_url(api, m.group(1), today), JSON_TYPE,
                                     f"the Legistar Web API's meetings of client {m.group(1)}"))
        if api.rstrip("/") != legistar_api.rstrip("/"):
            found.notes.append(f'its Web API is not the configured one: set [sources.legistar] base_url = "{api}"')
        return _with_token(found, url)
    if host.endswith("granicus.com") and lowered.endswith("viewpublisher.php"):
        return Recognised("granicus", url, here, lead=Lead(url, HTML_TYPE, "the Granicus ViewPublisher page"))
    if host.endswith("granicus.com") and lowered.endswith("viewpublisherrss.php"):
        return Recognised("feed", url, here, detail="published by Granicus ViewPublisher",
                          lead=Lead(url, ENDPOINT_ACCEPT["feed"], "the Granicus agenda feed"))
    if host.endswith("boarddocs.com") and (m := re.match(r"(/[a-z]{2}/[^/]+/board\.nsf)", path, re.I)):
        export = f"{scheme}://{parts.netloc}{m.group(1)}/XML-ActiveMeetings"
        org = m.group(1).split("/")[2]
        return Recognised("boarddocs", export, here, name=org,
                          lead=Lead(export, XML_TYPE, "the BoardDocs meetings export"))
    if m := re.fullmatch(r"([a-z0-9-]+)\.(portal|api)\.civicclerk\.com", host):
        api = url if m.group(2) == "api" and "/v1/events" in lowered else f"https://{m.group(1)}.api.civicclerk.com/v1/Events"
        return Recognised("civicclerk", api, here, name=m.group(1),
                          lead=Lead(api, JSON_TYPE, "the CivicClerk events API"))
    if (m := re.fullmatch(r"([a-z0-9-]+)\.primegov\.com", host)) and m.group(1) not in ("www", "support", "help"):
        # Its search is a form POST (detect's GET of it is no watch), a year's archive holds only meetings
        # already held: the meeting list is the watch.
        listed = "/api/" in lowered and not lowered.rstrip("/").endswith("/search") and not _primegov_archive(url)
        api = url if listed else f"{scheme}://{parts.netloc}/api/v2/PublicPortal/ListUpcomingMeetings"
        return Recognised("primegov", api, here, name=m.group(1),
                          lead=Lead(api, JSON_TYPE, "the PrimeGov meeting list"))
    if host.endswith(iqm2.HOST) and not host.startswith("www."):
        start, end = crawl_window(today)
        calendar = _iqm2_calendar(url)
        return Recognised("iqm2", calendar, here, name=_site_name(host, iqm2.HOST),
                          lead=Lead(iqm2.calendar_url(calendar, start, end), HTML_TYPE,
                                    "the IQM2 calendar of the window"))
    if host.endswith(civicweb.HOSTS) and not host.startswith("www."):  # (www: the vendor's own site)
        start, end = crawl_window(today)
        site = civicweb.site_of(url)
        return Recognised("civicweb", site, here, name=_site_name(host, civicweb.HOSTS),
                          lead=Lead(civicweb.listing_url(site, start, end), JSON_TYPE,
                                    "the CivicWeb meeting list of the window"))
    if host.endswith(novusagenda.HOST) and not host.startswith("www."):
        page = url if novusagenda.page_of(url) else urlunsplit(
            (scheme, parts.netloc, "/agendapublic/meetingsgeneral.aspx", parts.query, ""))
        return Recognised("novusagenda", page, here, name=_site_name(host, novusagenda.HOST),
                          lead=Lead(page, HTML_TYPE, "the NovusAGENDA meetings page"))
    if base := agenda_center(url):
        start, end = crawl_window(today)
        value = civicplus_value(url, base)
        return Recognised("civicplus", value, here, lead=Lead(civicplus_search_url(value, start, end), HTML_TYPE,
                                                              "the AgendaCenter search of the window"))
    if lowered.endswith("rssfeed.aspx") and dict(parse_qsl(parts.query.lower())).get("modid") == "65":
        return Recognised("feed", url, here, detail="published by CivicPlus AgendaCenter",
                          lead=Lead(url, ENDPOINT_ACCEPT["feed"], "the AgendaCenter feed"))
    if scheme == "webcal" or lowered.endswith((".ics", ".ical", ".ifb")) or "icalfeed" in lowered:
        feed = "https" + url[len("webcal"):] if scheme == "webcal" else url
        return Recognised("ical", feed, here, lead=Lead(feed, ENDPOINT_ACCEPT["ical"], "the iCalendar feed"))
    return None


# What an address must hold for `by_address` to name a platform by it: checked first, so the thousands
# of ordinary links of a large page are passed over without being read as addresses.
_PLATFORM_HINT = re.compile("|".join([
    r"legistar\.com", r"viewpublisher", r"boarddocs\.com", r"civicclerk\.com", r"primegov\.com",
    *(re.escape(host.lstrip(".")) for host in (iqm2.HOST, *civicweb.HOSTS, novusagenda.HOST)),
    r"agendacenter", r"rssfeed\.aspx", r"webcal", r"\.ics", r"\.ical", r"\.ifb", r"icalfeed"]), re.I)
MAX_LINKS = 500  # the most links of one kind (one hint) read as addresses on a page
# A school body's words: on a city's page, a link so labelled (its school board's BoardDocs) is not
# the city's own meetings, however rich its platform.
_SCHOOL = re.compile(r"\b(?:schools?|board of education|education|school board|school district|isd|usd|k-?12)\b",
                     re.I)


def _linked(page: Page, text: str, selector: Selector | None, legistar_api: str, today: date) -> Recognised | None:
    """A person's page (a city's meetings page; or any document, by the addresses written in it)
    that links to a platform or a calendar feed: the platform the most useful link goes to, with
    that link's endpoint as the lead. A link whose words name a school body counts after the others
    on a page that is not a school's (a city's page linking its school board's BoardDocs beside its
    own calendar); every other platform linked is named in a note, so a person can pick another."""
    base = page.final_url
    if selector is not None and (declared := selector.xpath("//head/base/@href").get()):
        base = urljoin(base, declared.strip())  # what the page's relative links are relative to
    links: list[tuple[str, str | None, str]] = []  # (address, the platform its <link> type says, its words)
    nodes = selector.xpath("//link[@rel='alternate'][@href]") if selector is not None else []
    for node in nodes:
        kind = (node.attrib.get("type") or "").lower()
        href = urljoin(base, node.attrib["href"])
        title = node.attrib.get("title") or ""
        if kind == "text/calendar":
            links.append((href, "ical", title))
        elif kind in ("application/rss+xml", "application/atom+xml") and _MEETINGISH.search(f"{title} {href}"):
            links.append((href, "feed", title))
    seen: set[str] = set()
    kinds: Counter[str] = Counter()  # links taken of each hint

    def wanted(href: str) -> bool:
        """A link not taken yet that may name a platform, while fewer than MAX_LINKS of its kind were."""
        hint = _PLATFORM_HINT.search(href)
        if hint is None or href in seen or kinds[kind := hint.group(0).lower()] >= MAX_LINKS:
            return False
        seen.add(href)
        kinds[kind] += 1
        return True

    if selector is not None:
        for node in selector.xpath("//iframe[@src] | //frame[@src] | //a[@href]"):
            element = node.root
            href = (element.get("href" if element.tag == "a" else "src") or "").strip()
            if wanted(href):
                links.append((urljoin(base, href), None, link_label(element) or ""))
    links += [(href, None, "") for href in _ABSOLUTE.findall(text) if wanted(href)]
    own = urlsplit(page.final_url)
    # each listing linked (a platform and its value: two Legistar clients are two), first link first
    candidates: dict[tuple[str, str], tuple[Recognised, str, str]] = {}
    for link, said, words in links:
        link = link.strip()
        parts = urlsplit(link)
        if (parts.netloc, parts.path) == (own.netloc, own.path):
            continue  # the page itself
        found = by_address(link, legistar_api, today)
        if found is None and said is not None:
            found = Recognised(said, link, "", lead=Lead(link, ENDPOINT_ACCEPT[said], f"the page's {PLATFORMS[said]}"))
        if found is not None and (key := (found.platform, str(found.value))) not in candidates:
            candidates[key] = (found, link, words)
    if not candidates:
        return None
    school_page = selector is not None and bool(_SCHOOL.search(
        " ".join(selector.xpath("//head/title//text() | //h1//text()").getall())))

    def rank(key: tuple[str, str]) -> tuple[bool, int]:
        other_body = not school_page and bool(_SCHOOL.search(candidates[key][2]))
        return other_body, PREFERENCE.index(key[0])

    ranked = sorted(candidates, key=rank)  # stable: the first link of a platform first
    found, link, words = candidates[ranked[0]]
    if rank(ranked[0])[0]:
        found.notes.append(f'its link says "{_short(words, 60)}", a school body, on a page that is not a '
                           "school's: check that this is the body you follow")
    found.via = f"a link {'on the page' if selector is not None else 'in it'} ({_short(shown(link), 100)})"
    # each other platform's first listing, then the other listings of platforms already named
    named, heads, tails = {ranked[0][0]}, [], []
    for key in ranked[1:]:
        (tails if key[0] in named else heads).append(key)
        named.add(key[0])
    rest = heads + tails
    others = [_linked_words(*candidates[key][1:], platform=key[0]) for key in rest[:OTHERS_NAMED]]
    if len(rest) > OTHERS_NAMED:
        others.append(f"and {len(rest) - OTHERS_NAMED} more")
    if others:
        found.notes.append("the page also links to: " + "; ".join(others)
                           + ": if one of those is the body you follow, run detect on its address")
    return found


OTHERS_NAMED = 5  # the other listings a page links to named in the block's note


def _linked_words(link: str, words: str, *, platform: str) -> str:
    """A platform a page links to, as a note names it: `BoardDocs "School Board" (https://...)`."""
    label = f' "{_short(words, 40)}"' if words.strip() else ""
    return f"{PLATFORMS[platform]}{label} ({_short(shown(link), 80)})"


# -- saying it ----------------------------------------------------------------------------------


def watch_id(name: str) -> str:
    """A watch id from a name: lower case, words joined by hyphens, at most 40 characters."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40].strip("-")
    return slug or "meetings"


def _host_name(url: str) -> str:
    host = (urlsplit(url).hostname or "meetings").lower()
    return host.removeprefix("www.")


def _short(text: str | None, limit: int = 60) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def toml_string(value: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(value, ensure_ascii=False)


def platform_words(found: Recognised) -> str:
    return PLATFORMS[found.platform] + (f" ({found.detail})" if found.detail else "")


def config_block(result: Detection, default_zone: str) -> str:
    """The `[[meetings]]` block to paste: a valid watch as it stands (id and name are guesses)."""
    found = result.recognised
    assert found is not None
    lines = ["[[meetings]]", f"id = {toml_string(result.watch_id)}   # id and name are guesses: change them",
             f"name = {toml_string(result.name)}"]
    if result.zone_from_data:
        lines.append(f"timezone = {toml_string(result.zone)}")
    else:
        lines.append(f"# timezone = {toml_string(default_zone)}   # the data does not say: set the body's zone "
                     "(default: [tracker] timezone)")
    value = block_value(result)
    if isinstance(value, dict):
        inner = ", ".join(f"{key} = {toml_string(item)}" for key, item in value.items())
        lines.append(f"{found.platform} = {{ {inner} }}")
        if "token" not in value:
            lines.append('# token = "${LEGISTAR_TOKEN}"   # inside legistar = {...}, for a client whose Web API asks for one')
    else:
        lines.append(f"{found.platform} = {toml_string(value)}")
        if value != found.value:
            lines.append(f"# {value[2:-1]}: set it in the environment to the address you gave, which holds a key "
                         f"(not written here): {shown(found.value)}")
    lines.extend(f"# {note}" for note in found.notes)
    if len(bodies := listed_bodies(result)) > 1:
        offered = ", ".join(toml_string(body) for body in bodies[:BODIES_SHOWN])
        of = f"{BODIES_SHOWN} of the {len(bodies)}" if len(bodies) > BODIES_SHOWN else f"the {len(bodies)}"
        if isinstance(found.value, dict):  # Legistar: a watch's bodies are part of its `legistar` table
            lines.append(f"# to follow only some of {of} bodies in the window, inside legistar = {{...}}: "
                         f"bodies = [{offered}]")
        else:
            lines.append(f"# bodies = [{offered}]   # to follow only some of {of} bodies in the window")
    lines.append('# keywords = ["police", "budget"]   # agenda items to alert on')
    return "\n".join(lines) + "\n"


BODIES_SHOWN = 12


def listed_bodies(result: Detection) -> list[str]:
    """The bodies the window's meetings name, most meetings first: what a watch's `bodies` can
    choose from. Where the platform's rows name their own (IQM2's boards, CivicClerk's categories),
    those names; elsewhere (a Granicus view or a PrimeGov portal of every committee), the bodies the
    titles name (`titled_body`), since there `bodies` is matched on titles."""
    found = result.recognised
    if found is None:
        return []
    # A Legistar event names its body as the Web API filters on it (`EventBodyName`).
    names_bodies = SOURCES[found.platform].names_bodies or found.platform == "legistar"
    spelt: dict[str, Counter[str]] = {}  # each name's spellings in titles ("City Council", "CITY COUNCIL")
    for meeting in result.meetings:
        if (body := meeting.body if names_bodies else titled_body(meeting.title)):
            spelt.setdefault(body if names_bodies else body.casefold(), Counter())[body] += 1
    named = [(forms.total(), forms.most_common(1)[0][0]) for forms in spelt.values()]
    return [name for _count, name in sorted(named, key=lambda counted: (-counted[0], counted[1]))]


def meeting_line(meeting: Meeting, name: str = "") -> str:
    """One meeting as the tracker says it elsewhere: when (in the body's zone), what, and a word on
    its status. A meeting whose body is only the guessed watch `name` is named by its own title."""
    when = meeting_when(meeting, LONG) if meeting.start else f"{meeting.date or 'a date to be announced'}, time TBA"
    status = ""
    if meeting.status == MeetingStatus.CANCELLED:
        said = (meeting.status_text or "cancelled").strip()
        status = "" if said.casefold() in meeting.title.casefold() else f" ({said})"  # "... - Cancelled" says it
    elif meeting.status == MeetingStatus.TENTATIVE:
        status = " (tentative)"
    label = meeting.title if meeting.body == name else meeting_label(meeting)
    return f"{when}  {_short(label, 90)}{status}"


def report_lines(result: Detection, default_zone: str) -> list[str]:
    """What `detect` says on stdout when it named the platform (the block included)."""
    found = result.recognised
    assert found is not None
    lines = [f"{platform_words(found)}: told by {found.via}", ""]
    lines += ["Paste into your config file:", "", config_block(result, default_zone).rstrip("\n"), ""]
    if result.problem:
        return lines
    zone_word = "from the data" if result.zone_from_data else "[tracker] timezone until you set one"
    lines.append(f"Read {unquote(shown(result.read_url or ''))}: {result.listed} meeting{'s' if result.listed != 1 else ''} listed, "
                 f"{len(result.meetings)} in the window a crawl keeps ({PAST_DAYS} days back, {FUTURE_DAYS} ahead); times in {result.zone} ({zone_word}).")
    upcoming = [m for m in result.meetings if (m.date or "") >= result.today]
    if upcoming:
        lines.append("The next meetings it would read:")
        lines += [f"  {meeting_line(m, result.name)}" for m in upcoming[:SHOWN]]
        if len(upcoming) > SHOWN:
            lines.append(f"  ... and {len(upcoming) - SHOWN} more")
    elif result.meetings:
        lines.append("No meeting ahead yet; the latest in the window:")
        lines.append(f"  {meeting_line(result.meetings[-1], result.name)}")
    elif result.latest is not None:
        lines.append(f"None in the window now; the latest listed: {meeting_line(result.latest, result.name)}")
    elif not result.listed:
        lines.append("It lists no meeting at all: a crawl stores nothing from it until it does. A listing the site "
                     "no longer fills reads the same: check that this is where the body posts its meetings.")
    if result.skipped:
        lines.append(f"{len(result.skipped)} parts of the listing could not be read, e.g.: {result.skipped[0]}")
    if result.beyond:
        lines.append(result.beyond)
    return lines


def as_json(result: Detection, default_zone: str) -> dict[str, Any]:
    """`detect --json`: the platform, the config value and block, and the window's meetings."""
    found = result.recognised
    return {
        "url": shown(result.url),
        "platform": found.platform if found else None,
        "platform_name": platform_words(found) if found else None,
        "via": found.via if found else None,
        "config": ({"id": result.watch_id, "name": result.name,
                    "timezone": result.zone if result.zone_from_data else None, found.platform: block_value(result)}
                   if found else None),
        "block": config_block(result, default_zone) if found else None,
        "read": shown(result.read_url or "") or None,
        "timezone": result.zone,
        "listed": result.listed,
        "meetings": [m.dump() for m in result.meetings],
        "skipped": result.skipped,
        "problem": result.problem,
    }
