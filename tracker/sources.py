"""One registry of source kinds: what each is called in config, what its watch value looks like,
which parser reads its responses, which entity kinds it yields, and its parser's version.

Config validation, the crawl, the ingest worker and the diff all read this table; nothing else
lists source kinds. A source kind's Scrapy spider is the spider whose `name` is the kind's name
(found by Scrapy's own spider loader in `spiders/`), so the core never imports a spider.

Adding a platform = one row here + a parser (bytes + ListingContext -> Listing) + a spider (for a
listing, a `ListingSpider` subclass naming its `Accept` header) + a recorded response and its test.
"""

from __future__ import annotations

import functools
import importlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Protocol

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from tracker.bills.billstatus import parse_billstatus
from tracker.bills.diff import diff_bill
from tracker.changes import EVERYONE, Audience, Change
from tracker.meetings.diff import diff_matter, diff_meeting
from tracker.records import Listing, ListingContext, Record
from tracker.states import diff_bill as diff_state_bill

ListingParser = Callable[[bytes, ListingContext], Listing]
RawReader = Callable[[bytes], Record]


def parser(name: str) -> ListingParser:
    """The listing parser `tracker.meetings.<name>`, imported when it first reads a listing: a
    command that reads none (status, notify, digest, an ingest worker) does not import every
    platform's parser and their libraries (icalendar, feedparser), a tenth of a second at each
    start of a process."""
    module, function = f"tracker.meetings.{name}".rsplit(".", 1)

    @functools.cache
    def load() -> ListingParser:
        parse: ListingParser = getattr(importlib.import_module(module), function)
        return parse

    def read(data: bytes, ctx: ListingContext) -> Listing:
        return load()(data, ctx)

    read.__qualname__ = read.__name__ = name
    return read


class Differ(Protocol):
    """What changed between two states of an entity. `audience`: who may hear of what matches only
    some watches (meetings; the other kinds' changes are every holding watch's)."""

    def __call__(self, old: Any, new: Any, entity: str, /, *, audience: Audience = ...) -> list[Change]: ...


def for_every_watch(differ: Callable[[Any, Any, str], list[Change]]) -> Differ:
    """A differ whose changes are news to every watch holding the entity (no `audience` to ask)."""
    def diff(old: Any, new: Any, entity: str, /, *, audience: Audience = EVERYONE) -> list[Change]:
        return differ(old, new, entity)
    return diff


def check_http_url(value: str) -> str:
    """An http(s) address, kept exactly as written: a watch's `/feed/` and `/feed` are two addresses,
    and the crawl asks for the one `tracker sources detect` read."""
    if not re.match(r"^https?://[^\s/]+", value):
        raise ValueError(f"{value!r} is not an http(s) URL")
    return value


def check_base_url(value: str) -> str:
    """An http(s) address that paths are joined to (`{base_url}/bulkdata/...`): without its final "/"."""
    return check_http_url(value).rstrip("/")


HttpUrl = Annotated[str, AfterValidator(check_http_url)]
BaseUrl = Annotated[str, AfterValidator(check_base_url)]


class LegistarWatch(BaseModel):
    """`legistar = { client, bodies, token }` on a meeting watch."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    client: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]+$")]
    bodies: list[str] = []  # body names or numeric body ids; empty = every body
    token: str | None = None


@dataclass(frozen=True)
class SourceKind:
    name: str  # the config key, the prefix of its source ids, and its Scrapy spider's name
    entities: tuple[str, ...]  # entity kinds its items carry
    watch_value: Any = None  # type of the value on a meeting watch (None: not a meeting source)
    listing: ListingParser | None = None  # reads one listing response (listing sources)
    read_raw: RawReader | None = None  # reads a raw response in the ingest worker
    # Stored on every snapshot: a new version's first snapshot of an entity is a baseline, so what
    # appears only because a parser changed is never news, unless `reads_anew` says what it changed.
    parser_version: str = "1"
    # The versions since what each reads otherwise was recorded, oldest first, each with what it reads
    # otherwise than the one before it (`upgrade_reads_anew`): the record fields whose values it may
    # change, and "rows" when it reads meetings the one before could not (a layout it did not know).
    # An upgrade read then tells every other field's change as news, so a cancellation that came
    # while the tracker was down for its upgrade is not swallowed into the baseline. The first
    # entry's own fields are never asked; the last entry is `parser_version`. Fill it from the A/B
    # check's moved fields (`python bench/parsers.py --compare`).
    reads_anew: tuple[tuple[str, frozenset[str]], ...] = ()
    # Its rows name their own body (an IQM2 row's board, a CivicClerk category), so a watch's
    # `bodies` are matched against it even where it is the watch's own name; else only a body
    # other than the watch's name (the one given to rows that name none) is.
    names_bodies: bool = False


SOURCES: dict[str, SourceKind] = {kind.name: kind for kind in (
    # billstatus-2: committees keep their codes and activities (who holds a bill, whom to call).
    # billstatus-3: a day's actions are in the file's order, not sorted by `actionTime` (a legacy
    # file's 12-hour "12:52AM" came after "08:37PM", its untimed rows before every timed one), so the
    # latest action is the one the file says (H.R.3762's veto postponed, not a row before it). The
    # A/B check moved `actions` (their order only: every action keeps its id, and a diff reads
    # actions by id) and `latest_action`; only the latter is read anew, so an action that came while
    # the tracker was down for the upgrade is still news. No stage moved.
    SourceKind("govinfo", ("bill",), read_raw=parse_billstatus, parser_version="billstatus-3",
               reads_anew=(("billstatus-2", frozenset()), ("billstatus-3", frozenset({"latest_action"})))),
    # legistar-2: an agenda status written "FINAL" or "Final-revised" is a final agenda (a confirmed meeting).
    # legistar-3: a minutes status "Cancelled" cancels the meeting, whatever its agenda status says;
    # an agenda status "Revised" is a final agenda.
    # legistar-4: an address in `EventMedia` (Laredo's Swagit, New York's Viebit videos) is the
    # meeting's video; it was dropped, so the first read by legistar-4 is a baseline. An agenda
    # status "As Amended" (Laredo's) is a final agenda.
    SourceKind("legistar", ("meeting", "matter", "body"), watch_value=LegistarWatch, parser_version="legistar-4"),
    # Members of Congress and committees (whom to call about a bill): crawled when bills are watched.
    SourceKind("legislators", ("reference",)),
    # State legislatures (Open States API v3): state bills, and state legislators as reference data.
    # openstates-2: a committee's report clears a failure (a bill reconsidered in committee goes on);
    # a referral to several committees is with the one its words name first (the stored list is
    # alphabetical); DC's executive actions are the Mayor's. Nothing is read anew: the recorded bills
    # read alike, a committee or a chamber word is told by no change of its own (actions and votes
    # are compared by id), and a stage read otherwise corrects what subscribers were told (a bill
    # reconsidered in committee was "failed"): the upgrade's first read tells it.
    # openstates-3 (real bills of five states, tests/data/states/recorded): a second chamber's
    # passage says the first passed too (Delaware's and Vermont's first passages are often
    # unclassified); Rhode Island's "held for further study" keeps the bill in committee, not failed;
    # a list of actions newest first (Wyoming's) is newest first within a day too; an action left
    # unclassified counts by its words where they decide a step in its state. Nothing is read
    # anew, as for openstates-2: a stage read otherwise corrects what subscribers were told.
    # openstates-4 (Arizona, New Mexico, California, Michigan, Georgia surveyed): an Arizona bill is
    # in committee from its second reading, a committee's "DPA" is its report, "W/D" takes the bill
    # out of one committee (it was read as the bill withdrawn: 80 live bills told "withdrawn"); New
    # Mexico's referral to committees in turn holds the bill with the next after each report, and its
    # "withdrawn from committee" is out of one committee, not the bill withdrawn;
    # California's abbreviated and Michigan's capitalised committee names spelled as the state's list
    # has them where certain; Georgia's "Senate Local Lost" fails a bill. Nothing is read anew: the
    # corrections are news to those told otherwise.
    SourceKind("openstates", ("statebill", "reference"), parser_version="openstates-4",
               reads_anew=(("openstates-1", frozenset()), ("openstates-2", frozenset()),
                           ("openstates-3", frozenset()), ("openstates-4", frozenset()))),
    # ical-2: meetings whose titles match a keyword show it as their item (ical-1 ignored keywords).
    # ical-3: ATTACH links as documents; an all-day event's own words give its time.
    # ical-4, feed-3, civicplus-3, granicus-4, primegov-4, civicclerk-3, boarddocs-3 (the listing
    # sources, one cancellation rule): "Deferred Compensation" in a name is a board, not a deferral;
    # a name saying "No Meeting", "will not meet" or "Rescheduled to <date>" is a cancelled meeting;
    # a time whose minutes run into its am/pm ("530pm") is read; a date written "2026.12.08"; a name
    # moving its meeting to another day ("Rescheduled to August 3") cancels it; BoardDocs' meeting list
    # for search engines.
    # ical-5, feed-6, primegov-6, boarddocs-4 (and the HTML pages' versions below), from a sweep of
    # broken and hostile copies of the recordings: what such a document held is read where it was
    # lost (a series whose moved instance lost its RECURRENCE-ID, a feed with a character reference
    # to no character, a portal search with one bad row, a UTF-16 document, a row nested hundreds
    # deep), so what appears then is a baseline, not news. With them, civicclerk-6 and civicweb-3 (every
    # listing source): a name ending in "dark" as councils say it ("Board of Library Trustees - Dark
    # Meeting", "City Council (DARK)") is a meeting that is not held.
    # ical-6: a place's HTML tags (`<p>James P Austin Community Center</p> - ...`, Lake Wales' CivicPlus
    # feed) out, and a separator with nothing before it (" -   Lake Wales FL 33853") dropped.
    # ical-7: The Events Calendar's meetings (`PRODID:... - ECPv6...`) known by their post and site
    # ("10814@auburndalefl.com"), not by the UID holding their start and end (a meeting moved an hour
    # was a new one): meetings stored under the old keys show once as missing after the upgrade.
    SourceKind("ical", ("meeting",), watch_value=HttpUrl, listing=parser("ical.parse_ical"), parser_version="ical-7"),
    # *-2 (listing sources): every document and media link typed (`Meeting.documents`); times only
    # where the source writes them (names, descriptions, date cells); the layouts real sites serve.
    # feed-4: a video feed's entry (Granicus `mode=video`) is the meeting's video, not its agenda; a
    # Granicus entry whose title and description name no day is its problem line (its own dates are
    # its video's or its agenda's posting's, not the meeting's).
    # feed-5: a CivicPlus Media Center feed's entry (`/CivicMedia?VID=N`) is the meeting's video too.
    # (Not a version, in any listing source: a notice's cancel word about another day's meeting, "the
    # meeting of October 18, 2022 has been canceled" on October 11's, no longer cancels its own; nor
    # does "Meeting_Cancellation" go unread; nor "The March 10, 2026 Regular Meeting is cancelled", a
    # heading naming no day over such a notice, a date without a year, or the day a "Cancelled:"
    # heading heads ("Cancelled: the March 10 meeting moved to March 17" on March 17's). Each moves a
    # rare meeting: of 10,404 recorded parses, only those of the Saint Paul calendar the first was
    # found on (the later cases none); and that change of status is news to watchers.)
    # feed-7: "12:00 AM - 11:59 PM" (a CivicPlus calendar's all-day event) states no time: time TBD,
    # not a midnight start.
    # feed-8: a CivicPlus calendar feed's own fields (`calendarEvent:EventDates`, `EventTimes`,
    # `Location`) before the title's words ("Intro to iNaturalist - 5:30 PM" at 5:00 PM), its place
    # kept; an event is its guid without the edit's ticks it ends with (each edit made it a new
    # meeting): meetings stored under the old keys show once as missing after the upgrade.
    # feed-9: the same for every CivicPlus feed's guid (an Agenda Center agenda's `PreviousVersions/N/
    # <ticks>`: a revised agenda was a new meeting; a Media Center video's `CivicMedia?VID=N/<ticks>`).
    # feed-10: an Agenda Center entry naming no day is its problem line (its own date is its agenda's
    # posting, Lake Alfred's); dates with an ordinal ("April 27th 2026", "27th April 2026") are read,
    # and one with no year ("Monday April 6th") in the year nearest the entry's own date. (Shared:
    # of the recorded parses only Lake Wales' Agenda Center feed moved.)
    # feed-11: a Drupal site's item fields saying when its page was made are not the meeting's words,
    # and such an item naming no day is its problem line (Eagle Lake, Mulberry, Polk City); a dashed
    # "03-16-2026" is read where a text names no other day.
    SourceKind("feed", ("meeting",), watch_value=HttpUrl, listing=parser("agendas.parse_feed"), parser_version="feed-11",
               names_bodies=True),
    # civicplus-4, granicus-5, legistar-calendar-2, iqm2-2 (the HTML pages): a page declaring a
    # single-byte Latin charset whose bytes are UTF-8 is read as UTF-8 (Burbank's "TREASURER’S").
    # civicplus-5: an Agenda Center with no category (its search form's category list offers only "All
    # Categories", no table: Larkspur's) is an empty listing, not "no meeting rows found" each crawl.
    SourceKind("civicplus", ("meeting",), watch_value=HttpUrl, listing=parser("agendas.parse_civicplus"),
               parser_version="civicplus-5", names_bodies=True),
    # granicus-2 also names a row without links by its name and date (rows of one name were one meeting).
    # granicus-3: a district's own table of meetings playing them on Granicus (LAUSD) is read.
    # granicus-6: a date written with spaces about its slashes ("03 / 24 / 2026", Novato's date
    # cells) is read: those rows were problem lines, so a page of them comes in as a baseline. (No
    # other platform's recordings write dates so; one that did would tell such rows as new.)
    # granicus-7: the place a row's name writes after an "@" ("Regular Meeting @ LAX") is its location.
    # granicus-8: a clip's start is the one its name announces ("... on 2026-05-13 2:00 PM"), not its
    # date cell's recording start ("01:57 PM", Saint Paul's archive), when the two are minutes apart.
    # granicus-9: a row without links (known by its name and day) repeating a linked row's name, day
    # and time is that meeting, not a second one (Winter Haven's September 10, 2025).
    SourceKind("granicus", ("meeting",), watch_value=HttpUrl, listing=parser("agendas.parse_granicus"),
               parser_version="granicus-9"),
    # Legistar's web calendar page (Calendar.aspx), for clients whose Web API asks for a token.
    SourceKind("legistar_calendar", ("meeting",), watch_value=HttpUrl, listing=parser("legistar_calendar.parse_calendar"),
               parser_version="legistar-calendar-2", names_bodies=True),
    # primegov-3: a meeting whose documents hold a "Notice of Cancellation" is cancelled; primegov-5:
    # a "Recess Notice" too. primegov-7: the room or address a meeting list names in `location`
    # (Worcester's) is the meeting's place; it was dropped, so its first read is a baseline.
    SourceKind("primegov", ("meeting",), watch_value=HttpUrl, listing=parser("portals.parse_primegov"),
               parser_version="primegov-7"),
    # civicclerk-2 also: the place's name and zip; deleted events are no meetings. civicclerk-4: a
    # recording's relative `stream/...` path is joined to the API's host, as its files' are.
    # civicclerk-5: an event without a name is titled by its agenda's name ("Budget Workshop").
    # civicclerk-7: and one named "One Time Event" (Brandon's work sessions); a place's second
    # address line repeating its first is written once (South Fulton's).
    # civicclerk-8: one body's events at one time under one name are one meeting (Brandon's Board of
    # Aldermen lists sittings twice: the event of the year's schedule and the one its agenda went
    # to), known by the earlier event's id: the later event's key shows once as missing after the
    # upgrade, and its agenda, now the earlier's, is part of that baseline.
    SourceKind("civicclerk", ("meeting",), watch_value=HttpUrl, listing=parser("portals.parse_civicclerk"),
               parser_version="civicclerk-8", names_bodies=True),
    # boarddocs-2 also: the "Location of Meeting" room; the JSON meeting list. boarddocs-5: items in
    # an `<agendaitems>` right under the meeting (no category) are read: what appears is a baseline.
    # boarddocs-6: in an export that is not well-formed, the categories after an end tag never
    # opened are read (libxml2's recovery ended the meeting there, unsaid).
    # boarddocs-7: a time glued to the zip code before it ("Eureka, MO 630253:30 p.m.": the list for
    # search engines drops a description's line breaks) is the meeting's start, not time TBD. (The
    # reading is shared, in any listing's text; of the recorded parses only BoardDocs' moved.)
    # boarddocs-8: a time before an aside in brackets naming only other days is the meeting's ("Board
    # Meeting @ 5:30 p.m. (Reconvening of Recessed Meeting - September 8, 2025)"), not time TBD.
    # (Shared too; of the recorded parses only Grand Rapids' list moved.)
    # boarddocs-9: the place a meeting's name writes after its time ("Board Meeting @ 6:30 p.m. @
    # Ottawa Hills High School", "- LOCATION CHANGE - ...") is its location where the export names
    # no "Location of Meeting" room (the list has no place field): a baseline, then a move is news.
    SourceKind("boarddocs", ("meeting",), watch_value=HttpUrl, listing=parser("portals.parse_boarddocs"),
               parser_version="boarddocs-9", names_bodies=True),
    # CivicWeb / Diligent Community: the site's meeting list for the crawl's window. civicweb-2: each
    # meeting's documents too (a baseline: documents first read are no "agenda posted").
    SourceKind("civicweb", ("meeting",), watch_value=HttpUrl, listing=parser("civicweb.parse_meetings"),
               parser_version="civicweb-3"),
    # IQM2 (Accela, now Granicus): the site's calendar in its list view for the crawl's window.
    # iqm2-3: an address line of nothing but "N/A" fields is no address (Creve Coeur's online meetings).
    SourceKind("iqm2", ("meeting",), watch_value=HttpUrl, listing=parser("iqm2.parse_calendar"), parser_version="iqm2-3",
               names_bodies=True),
    # NovusAGENDA (Granicus): the meetings page the watch names (`meetingsgeneral.aspx` or
    # `meetingsresponsive.aspx`, its query choosing the bodies and the span), each row a meeting.
    SourceKind("novusagenda", ("meeting",), watch_value=HttpUrl, listing=parser("novusagenda.parse_meetings"),
               parser_version="novusagenda-1", names_bodies=True),
    # CivicPlus Municode (Drupal): a small city's "Upcoming Meetings" page (`/meetings`), a views
    # table of rows, each a meeting known by its own page's path (its "View Details" link).
    SourceKind("municode", ("meeting",), watch_value=HttpUrl, listing=parser("municode.parse_meetings"),
               parser_version="municode-1", names_bodies=True),
)}
MEETING_SOURCES = tuple(name for name, kind in SOURCES.items() if kind.watch_value is not None)
# The window of meetings a meeting source reads (days before and after now): listing spiders keep
# the meetings dated in it, the Legistar spider asks for them, `tracker sources detect` shows them.
PAST_DAYS, FUTURE_DAYS = 30, 120

# What changed between two states of an entity, by entity kind (pure functions of two records).
def no_news(old: Any, new: Any, key: str) -> list[Change]:
    """Reference data and body rosters are read by alerts, never news themselves."""
    return []


DIFFERS: dict[str, Differ] = {"bill": for_every_watch(diff_bill), "meeting": diff_meeting,
                              "matter": for_every_watch(diff_matter), "reference": for_every_watch(no_news),
                              "body": for_every_watch(no_news), "statebill": for_every_watch(diff_state_bill)}


ROWS = "rows"  # in `reads_anew`: meetings the version before could not read are read


def upgrade_reads_anew(versions: Sequence[tuple[str, frozenset[str]]], old: str | None,
                       new: str) -> frozenset[str] | None:
    """What a snapshot by parser version `new` may read otherwise than one by `old`: the fields its
    kind's record of `versions` (`SourceKind.reads_anew`) names for each version after `old`, up to
    `new`; None when that is not recorded (an older version, one not listed): the upgrade read is
    then a baseline."""
    names = [version for version, _ in versions]
    if new not in names or old not in names or names.index(old) >= names.index(new):
        return None
    return frozenset().union(*(fields for _, fields in versions[names.index(old) + 1:names.index(new) + 1]))


def source_kind(source_id: str) -> SourceKind:
    """The kind of a source id (`govinfo`, `legistar:nyc-council`, `ical:detroit-schools`)."""
    return SOURCES[source_id.split(":", 1)[0]]
