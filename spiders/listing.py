"""Sources that publish a body's meetings as one listing (an iCal feed, a portal's JSON or XML):
one conditional GET per crawl, every meeting of the window read from it by the source kind's
parser (tracker/sources.py), which gets the same context whatever the platform."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import date, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from spiders.base import TrackerSpider, address_login, asked_conditionally, read_in_time
from spiders.middlewares import without_login
from tracker import clock
from tracker.config import Config, MeetingWatch
from tracker.cursors import ListingCursor, Section, keywords_fingerprint
from tracker.meetings.normalize import MAX_MEETINGS, SourceParseError, match_keywords, titled_body, too_many
from tracker.records import Item, Listing, ListingContext, Meeting
from tracker.sources import FUTURE_DAYS, PAST_DAYS, ROWS, SOURCES, upgrade_reads_anew

# How far beyond the window a held meeting that a whole listing no longer shows in it is looked for
# (`moved_out`): a meeting put off by months, or moved back into the past.
MOVED_BACK = timedelta(days=365)
MOVED_AHEAD = timedelta(days=730)
# How long a held meeting whose wider span cannot be read is looked for again (each run reading the
# listing whole and warning): then it is noted missing and held no more, as one found nowhere is.
SEEK_FOR = timedelta(days=7)


_TABLE_OPENED = re.compile(rb"<table\b", re.I)
_TABLE_CLOSED = re.compile(rb"</table\s*>", re.I)
# Text that is no markup of the page: a comment (a layout left commented out), a script or a style
# (a table written as a string); to the end of the page when it is cut inside one.
_NOT_MARKUP = re.compile(rb"<!--.*?(?:-->|\Z)|<(script|style)\b.*?(?:</\1\s*>|\Z)", re.I | re.S)


def page_cut_short(body: bytes) -> str | None:
    """Why an HTML page looks cut short, else None: it ends inside a table it opened (its rows of
    meetings, or the page around them). A page may leave out its `</html>` (34 of the 101 recorded
    Granicus, CivicPlus, IQM2 and Legistar calendar pages do), but every one closes each table it
    opens; the HTML parser closes them itself, so the rows before the cut read as a whole page.
    Tables in comments, scripts and styles are no tables of the page: not counted."""
    body = _NOT_MARKUP.sub(b"", body)
    if len(_TABLE_OPENED.findall(body)) <= len(_TABLE_CLOSED.findall(body)):
        return None
    return "the page ends inside a table it opened (cut short)"


def _as_utf8(body: bytes) -> bytes:
    """A body written in UTF-16 (its byte order mark says so) as UTF-8, for looking at its end."""
    return body.decode("utf-16", "replace").encode() if body[:2] in (b"\xff\xfe", b"\xfe\xff") else body


class ListingSpider(TrackerSpider):
    """Subclasses name the source kind (`name`) and what they ask for (`accept`)."""

    accept = "*/*"
    noun = "listing"
    # From which day the listing speaks for the window's meetings (`listed_days`).
    speaks_from: Literal["window", "after earliest", "tomorrow"] = "window"

    def __init__(self, *args: Any, config: Config, watch: MeetingWatch, cursor: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.config, self.watch = config, watch
        # Each watch keeps its own validators, though another watch read the same listing (one IQM2
        # calendar, two choices of bodies): each stores what it read on its own.
        self.validators_scope = watch.source_id
        self.kind = SOURCES[self.name]
        self.zone = watch.timezone or config.tracker.timezone
        start, end = self.window(self.context(watch.source or ""))
        # A login in the address (`https://reader:PASSWORD@host/...`) is never in a request's URL:
        # AddressLoginMiddleware sends it as a header, to that origin only.
        _, self.login = address_login(watch.source or "")
        self.url: str = without_login(self.address_for(date.fromisoformat(start), date.fromisoformat(end)))
        # A listing read by another parser version, for other bodies or with other keywords, is
        # fetched whole once (not conditionally), so a parser upgrade, a new choice of bodies or new
        # keywords take effect without waiting for the source to change. What a new parser finds
        # first is a baseline, and so is what a new choice brings in (`is_news`); a meeting the old
        # choice followed too is news as ever. New keywords bring in no meeting, only new matches on
        # meetings already followed: news (`agenda.item_added`), as a match the source's own edit
        # brings is, so organizers hear of the meetings their new keyword finds. Keywords unknown
        # (a cursor written before they were kept) read the listing whole once.
        stored = ListingCursor.load(cursor)
        self.new_parser = stored.parser != self.kind.parser_version
        # a new parser reading meetings the one before could not (or not saying): those are no news
        anew = upgrade_reads_anew(self.kind.reads_anew, stored.parser, self.kind.parser_version)
        self.new_rows = self.new_parser and (anew is None or ROWS in anew)
        self.bodies_before = stored.bodies or []
        self.keywords = keywords_fingerprint(watch.keywords)
        # Meetings the last run could not store: read whole again (after a whole read the old
        # validators would answer 304), each judged news or not as that run judged it.
        self.unsaved_before = dict(stored.unsaved)
        self.refetch = (self.new_parser or self.bodies_before != watch.bodies_followed
                        or stored.keywords != self.keywords or bool(self.unsaved_before))
        self.learned = self.report.cursor = ListingCursor()
        # the meetings handed to the store: entity key -> (the source's id, news or not) (`closed`)
        self.sent: dict[str, tuple[str, bool]] = {}
        # The meetings followed before (every watch's, by their day: `moved_out`), followed on under
        # the same choice of bodies; another choice starts afresh.
        self.held_before = dict(stored.held)
        self.sought_before = dict(stored.sought)
        if self.bodies_before != watch.bodies_followed:
            self.learned.held.forget(list(self.held_before))
            self.learned.sought.forget(list(self.sought_before))
            self.held_before = self.sought_before = {}
        self.followed = 0  # meetings of the window kept, of the bodies the watch follows
        self.others: set[str] = set()  # the bodies of the window's meetings it does not follow

    async def start(self) -> AsyncIterator[scrapy.Request]:
        yield scrapy.Request(self.url, callback=self.parse_listing, errback=self.failed,
                             meta={"conditional": True, "refetch": self.refetch, "handle_httpstatus_list": [304]},
                             headers={"Accept": self.accept})

    def parse_listing(self, response: Response) -> Iterator[Item]:
        if response.status == 304:
            if not self.unasked_304(response):
                self.not_modified()
            return
        ctx = self.context(response.url)
        listing = self.read(response, ctx)
        if listing is None:
            return
        # read whole: what the last run could not store, or still looked for, is judged again here
        # (a listing that could not be read keeps them for the next run, not hidden behind a 304)
        self.learned.unsaved.forget(list(self.unsaved_before))
        # A listing with unreadable records is not whole: its stored meetings are not "missing".
        self.report.complete_listing = not listing.problems
        self.report.listing_window = self.listed_days(ctx, response.url, listing)
        if response.meta.get("validators"):
            self.report.listing_validators.append(response.meta["validators"])
        yield from self.meeting_items(listing, ctx, response.url)
        if self.report.complete_listing:
            yield from self.moved_out(response, ctx, listing)

    def unasked_304(self, response: Response) -> bool:
        """Whether a 304 answered a request that sent no validators (a first read, a whole read
        asked for): nothing of ours to reuse, so a server or cache saying "unchanged" then says
        nothing; one error line, else a run reading nothing would say it was ok."""
        if asked_conditionally(response):
            return False
        self.fail(self.noun, response.url, "answered 304 Not Modified to a request that sent no validators "
                                           "(If-None-Match, If-Modified-Since): nothing read")
        return True

    def address_for(self, start: date, end: date) -> str:
        """What is asked for the crawl's window (`start`..`end`): the watch's address itself, or,
        for a site whose listing takes dates, that listing of the window (from the watch's address)."""
        return self.watch.source or ""

    def context(self, url: str) -> ListingContext:
        """What the parser is told: the watch, its zone and keywords, and the crawl's window."""
        now = clock.now()
        return ListingContext(watch_id=self.watch.id, url=url, body=self.watch.name, timezone=self.zone,
                              keywords=tuple(self.watch.keywords), window_start=now - timedelta(days=PAST_DAYS),
                              window_end=now + timedelta(days=FUTURE_DAYS))

    @staticmethod
    def window(ctx: ListingContext) -> tuple[str, str]:
        return ctx.window_start.date().isoformat(), ctx.window_end.date().isoformat()

    def listed_days(self, ctx: ListingContext, url: str, listing: Listing) -> tuple[str, str]:
        """The days the listing speaks for, over which a stored meeting it no longer shows is noted
        missing (`speaks_from`): the crawl's window ("window"); for a calendar feed that may list
        only upcoming events, the days after its earliest listed meeting's, or from tomorrow if that
        is sooner ("after earliest": a meeting on or before that day may just have been held and
        left it); for a feed of its latest posts, which keeps them by when they were posted, not by
        the meeting's day, from tomorrow ("tomorrow")."""
        start, end = self.window(ctx)
        if self.speaks_from != "window":
            first = self.tomorrow()
            listed = [day for meeting in listing.meetings if start <= (day := (meeting.date or "")[:10]) <= end]
            if self.speaks_from == "after earliest" and listed:
                first = min(first, (date.fromisoformat(min(listed)) + timedelta(days=1)).isoformat())
            start = max(start, first)
        return start, end

    def today(self) -> date:
        """Today in the watch's zone (the body's, as near as the tracker can tell its clock)."""
        return clock.now().astimezone(ZoneInfo(self.zone)).date()

    def tomorrow(self) -> str:
        """The day after today in the watch's zone: a meeting today may already have been held."""
        return (self.today() + timedelta(days=1)).isoformat()

    def read(self, response: Response, ctx: ListingContext) -> Listing | None:
        """The listing the source kind's parser reads, each part it could not read an error line;
        None after one line when the whole answer cannot be read."""
        assert self.kind.listing is not None, f"source kind {self.name} has no listing parser"
        try:
            listing = read_in_time(self.kind.listing, response.body, ctx, seconds=self.config.crawl.parse_seconds)
        except SourceParseError as exc:
            self.fail(self.noun, response.url, str(exc))
            return None
        if len(listing.meetings) > MAX_MEETINGS:  # (a parser may refuse it sooner, as the iCal one does)
            self.fail(self.noun, response.url, too_many(len(listing.meetings)))
            return None
        self.note_problems(listing, response.url)
        if cut := self.cut_short(_as_utf8(response.body)):
            # cut after a whole meeting, the answer reads well: the meetings past the cut are unread, not gone
            self.fail(self.noun, response.url, f"{cut}: the meetings before it were read, none is noted missing")
            listing.problems.append(cut)
        return listing

    def cut_short(self, body: bytes) -> str | None:
        """Why the answer looks cut short, else None: an HTML page (`accept` text/html: Granicus,
        CivicPlus, IQM2, the Legistar calendar) by its tables (`page_cut_short`: it may leave out its
        `</html>`); a kind whose format has a last line or tag of its own says by it (iCalendar,
        feeds); others cannot tell."""
        return page_cut_short(body) if self.accept == "text/html" else None

    def note_problems(self, listing: Listing, url: str) -> None:
        for problem in listing.problems:
            self.fail(problem, url, "skipped; the other meetings were read")
        for warning in listing.warnings:
            self.warn(warning, url, "every meeting was read")

    def meeting_items(self, listing: Listing, ctx: ListingContext, url: str) -> Iterator[Any]:
        """An item for each meeting of the listing in the crawl's window."""
        for meeting in self.to_store(listing, ctx):
            yield self.meeting_item(meeting, url)

    def to_store(self, listing: Listing, ctx: ListingContext) -> Iterator[Meeting]:
        """The meetings of the listing in the crawl's window, of the bodies the watch follows; the
        others of the window are noted unfollowed (they leave the watch if it held them)."""
        self.learned.parser = self.kind.parser_version
        self.learned.bodies = self.watch.bodies_followed
        self.learned.keywords = self.keywords
        window = self.window(ctx)
        passed = [ref for ref, day in self.held_before.items() if day < window[0]]
        self.learned.held.forget(passed)
        self.learned.sought.forget([ref for ref in passed if ref in self.sought_before])
        for meeting in listing.meetings:
            if not window[0] <= (meeting.date or "") <= window[1]:
                continue
            if self.follows(meeting):
                self.followed += 1
                self.learned.held[meeting.source_ref] = (meeting.date or "")[:10]
                if meeting.source_ref in self.sought_before:  # back in the window: found, sought no more
                    self.learned.sought.forget([meeting.source_ref])
                yield meeting
            else:
                self.report.unfollowed.add(self.entity_key(meeting))
                self.others.add(self.named_body(meeting) or titled_body(meeting.title) or meeting.title)

    def moved_out(self, response: Response, ctx: ListingContext, listing: Listing) -> Iterator[Any]:
        """Meetings held on a day the whole listing speaks for that it no longer shows in the window:
        moved out of it (a meeting put off by months) or deleted. The parser skips rows outside the
        window, so only then is the same answer read again over a wider span (`MOVED_BACK`,
        `MOVED_AHEAD`), and each one found on its new day is stored at once: its move is told
        (`meeting.rescheduled`) now, not months later when the new day enters the window. Its held
        day becomes the new one once it is stored (not looked for again; read as any meeting when
        that day comes). One not found stays noted missing and is held no more, so it is not looked
        for again each run (as Legistar's API spider forgets a meeting its 404 says is gone).
        Normally none: nothing more is read. A site asked for the window's dates only (CivicPlus,
        IQM2, CivicWeb: `address_for`) is asked once more, for the wider span."""
        start, end = self.report.listing_window or self.window(ctx)
        first, last = self.window(ctx)
        shown = {meeting.source_ref for meeting in listing.meetings if first <= (meeting.date or "") <= last}
        missing = {ref for ref, day in self.held_before.items() if start <= day <= end and ref not in shown}
        if not missing:
            return
        wide = replace(ctx, window_start=ctx.window_start - MOVED_BACK, window_end=ctx.window_end + MOVED_AHEAD)
        wider = without_login(self.address_for(wide.window_start.date(), wide.window_end.date()))
        if wider != self.url:
            yield scrapy.Request(wider, callback=self.parse_moved, errback=self.moved_unread,
                                 cb_kwargs={"ctx": replace(wide, url=wider), "missing": missing, "shown": shown},
                                 headers={"Accept": self.accept}, dont_filter=True)
            return
        yield from self.found_moved(response.body, response.url, wide, missing, window=(first, last), shown=shown)

    def parse_moved(self, response: Response, ctx: ListingContext, missing: set[str],
                    shown: set[str]) -> Iterator[Any]:
        """The wider span's answer of a site asked for dates (`moved_out`)."""
        yield from self.found_moved(response.body, response.url, ctx, missing,
                                    window=self.window(self.context(self.url)), shown=shown)

    def moved_unread(self, failure: Failure) -> None:
        """The wider span could not be read: the missing meetings stay noted missing and held (looked
        for again next run); one warning, the run stays ok."""
        self.look_again(failure.request.cb_kwargs["missing"], failure.request.url,  # type: ignore[attr-defined]
                        self.describe(failure))

    def look_again(self, missing: set[str], url: str, problem: str) -> None:
        """One warning; the next run reads the listing whole (never a 304: `unsaved`), so it looks
        for them again, else the window's unchanged answer would hide them until the site changed.
        For a week (`SEEK_FOR`) from the first failure: then they are held no more (noted missing,
        as a meeting found nowhere is), so a wider span that keeps failing (a site refusing so many
        dates) does not cost a whole read and a warning every run until their days pass."""
        today = self.today()
        dropped = []
        for ref in sorted(missing):
            since = self.sought_before.get(ref, today.isoformat())
            if today - date.fromisoformat(since) < SEEK_FOR:
                self.learned.unsaved[ref] = self.unsaved_before.get(ref, "news")
                self.learned.sought[ref] = since
            else:
                dropped.append(ref)
        self.learned.held.forget(dropped)
        self.learned.sought.forget(dropped)
        if dropped:
            problem += (f"; {len(dropped)} meeting(s) looked for since {min(self.sought_before[r] for r in dropped)} "
                        "are left noted missing and no longer looked for")
        self.warn("meetings moved out of the window", url, problem)

    def found_moved(self, body: bytes, url: str, wide: ListingContext, missing: set[str], *,
                    window: tuple[str, str], shown: set[str], whole: bool = True) -> Iterator[Item]:
        """Each missing meeting a wide reading finds on a day outside the window, stored at once
        with its new held day; the ones not found are held no more, unless the answer is one page of
        several (`whole` False: they stay held). A wide answer lacking meetings the window's showed
        (`shown`) is not whole (a site answering so long a span with an empty list): nothing is
        judged from it."""
        assert self.kind.listing is not None
        try:
            found = read_in_time(self.kind.listing, body, wide, seconds=self.config.crawl.parse_seconds)
        except SourceParseError as exc:
            self.look_again(missing, url, str(exc))
            return
        if lacking := shown - {meeting.source_ref for meeting in found.meetings}:
            self.look_again(missing, url, f"the wider span's answer lacks {len(lacking)} of the "
                                          f"{len(shown)} meetings the window's showed: not whole")
            return
        self.learned.sought.forget(sorted(missing & set(self.sought_before)))
        first, last = window
        for meeting in found.meetings:
            day = (meeting.date or "")[:10]
            if meeting.source_ref in missing and day and not first <= day <= last:
                missing.discard(meeting.source_ref)
                item = self.moved_item(meeting, url)
                self.report.entity_cursor[item.key] = ListingCursor(held=Section({meeting.source_ref: day}))
                yield item
        if whole:
            self.learned.held.forget(sorted(missing))

    def moved_item(self, meeting: Meeting, url: str) -> Item:
        """The item storing a held meeting found moved out of the window (`moved_out`)."""
        return self.meeting_item(meeting, url)

    def follows(self, meeting: Meeting) -> bool:
        """Whether the watch follows the meeting: it is of one of the watch's `bodies`, or the watch
        followed it last time under the same choice (a title matched on platforms whose rows name
        no body may be rewritten: "Notice of Cancellation" is still that committee's meeting)."""
        return self.of_bodies(meeting, self.watch.bodies) or meeting.source_ref in self.held_before

    def is_news(self, meeting: Meeting) -> bool:
        """Whether a meeting first seen now is news: not when a new parser version reads the listing
        that may read rows an older one could not (a layout it did not know), nor when the watch did
        not follow its body before this run (a body followed from now on)."""
        if meeting.source_ref in self.unsaved_before:
            return self.unsaved_before[meeting.source_ref] == "news"
        return not self.new_rows and self.of_bodies(meeting, self.bodies_before)

    def of_bodies(self, meeting: Meeting, names: list[str]) -> bool:
        """Whether the meeting is of one of these bodies (none: of every body): one of the names is
        in its title or its body's name (`named_body`), as whole words in any case."""
        return not names or bool(match_keywords([meeting.title, self.named_body(meeting)], names))

    def named_body(self, meeting: Meeting) -> str | None:
        """The meeting's body as its source names it: a row naming none carries the watch's own
        name, which counts only where the platform's rows name their body."""
        body = meeting.body
        return body if body and (self.kind.names_bodies or body != self.watch.name) else None

    def closed(self, reason: str) -> None:
        """A meeting handed to the store and not stored (`report.seen`) is kept in `unsaved` with
        this run's verdict (news or a baseline): after a whole read the listing's old validators
        are still good, so it would be hidden behind a 304 (a CivicWeb meeting's documents with it)
        until the source changed; the next run reads the listing whole and judges it as this run
        did, while a meeting new then is news as any (the parser, bodies and keywords recorded).

        A choice of bodies that keeps none of the window's meetings is likely misspelt: one
        warning naming what the listing holds (the run stays ok: a body may simply not meet)."""
        for key, (ref, news) in sorted(self.sent.items()):
            if key not in self.report.seen:
                self.learned.unsaved[ref] = "news" if news else "baseline"
        if self.watch.bodies and not self.followed and self.others:
            shown = sorted(self.others)
            listed = "; ".join(shown[:8]) + (f"; and {len(shown) - 8} more" if len(shown) > 8 else "")
            self.warn("bodies", None, f"none of the window's meetings is of {', '.join(map(repr, self.watch.bodies))}"
                                      f" (it lists: {listed})")

    def entity_key(self, meeting: Meeting) -> str:
        return f"meeting:{self.name}:{self.watch.id}:{meeting.source_ref}"

    def meeting_item(self, meeting: Meeting, url: str, **more: Any) -> Item:
        """The item storing one meeting of the listing (`more`: validators, fields to carry)."""
        news = self.is_news(meeting)
        self.sent[self.entity_key(meeting)] = (meeting.source_ref, news)
        return Item(key=self.entity_key(meeting), kind="meeting",
                    source_id=self.watch.source_id, watch_ids=[self.watch.id], content=meeting,
                    url=url, discovered=news, parser_version=self.kind.parser_version, **more)

    def failed(self, failure: Failure) -> None:
        self.fail(self.noun, failure.request.url, self.describe(failure))  # type: ignore[attr-defined]
