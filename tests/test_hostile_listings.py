"""Listings made hostile or broken from real recordings, one fault at a time (a sweep of 36,000
mutations of the 165 recordings found each): the fault is that element's one problem line, or the
document's one line, never an exception of another kind, a silent loss, an expanded entity or a hang.
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta

import pytest
from listings import listing_read
from recorded import local

from tracker.meetings import civicweb, iqm2, legistar, legistar_calendar
from tracker.meetings.agendas import parse_civicplus, parse_feed, parse_granicus
from tracker.meetings.ical import parse_ical
from tracker.meetings.normalize import SourceParseError
from tracker.meetings.portals import parse_boarddocs, parse_civicclerk, parse_primegov

HACC = "corpus/feed/hacc_events_rss.xml"
HACC_URL = "https://thehacc.org/feed/"


def refs(listing: object) -> set[str]:
    return {meeting.source_ref for meeting in listing.meetings}  # type: ignore[attr-defined]


# -- XML entities, JSON depth, HTML depth ------------------------------------------------------------

def test_a_feed_declaring_entities_is_refused_never_expanded() -> None:
    """lxml refuses a DTD; feedparser, which then reads a feed leniently, would expand its entities
    into the titles. A feed declaring any is refused in one line, whatever it would have expanded to."""
    feed = local(HACC)
    for declared in (b'<!DOCTYPE rss [<!ENTITY e "ENTITYLEAK">]>',
                     b'<!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'):
        hostile = feed.replace(b"?>", b"?>" + declared, 1).replace(b"<title>", b"<title>&e;&b;", 2)
        with pytest.raises(SourceParseError, match=r"^refused: the feed declares entities in a DTD"):
            listing_read(parse_feed, hostile, url=HACC_URL)


@pytest.mark.parametrize("parser", [legistar.parse_events, parse_primegov, parse_civicclerk, parse_boarddocs,
                                    civicweb.parse_meetings],
                         ids=["legistar", "primegov", "civicclerk", "boarddocs", "civicweb"])
def test_json_nested_a_thousand_deep_is_one_line(parser: object) -> None:
    with pytest.raises(SourceParseError, match="nested too deep"):
        listing_read(parser, b"[" * 1000 + b"]" * 1000, url="https://go.boarddocs.com/oh/x/Board.nsf/BD-GetMeetingsList")
    rows = json.loads(local("corpus/civicclerk/lacey_events.json"))
    rows["value"][0]["x"] = "DEEP"
    deep = json.dumps(rows).encode().replace(b'"DEEP"', b"[" * 1000 + b"]" * 1000)
    with pytest.raises(SourceParseError, match="nested too deep"):
        listing_read(parse_civicclerk, deep)


DEEP_PAGES = [
    (parse_civicplus, "civicplus/lascruces_agendacenter_search.html", rb'<tr id="row'),
    (parse_granicus, "corpus/granicus/burbank_viewpublisher.html", rb'<tr class="odd'),
    (legistar_calendar.parse_calendar, "corpus/legistar_calendar/nyc_calendar.html", rb'<tr class="rg'),
    (iqm2.parse_calendar, "corpus/iqm2/atlanta_calendar_list.html", rb'<div class="Row MeetingRow'),
]


@pytest.mark.parametrize(("parser", "path", "row"), DEEP_PAGES, ids=[p for _, p, _ in DEEP_PAGES])
def test_a_row_nested_hundreds_deep_costs_no_other_row(parser: object, path: str, row: bytes) -> None:
    """libxml2 stops at 256 levels unless told otherwise, and the page's later rows were silently
    gone (New York's calendar read 2 of its 40 meetings). Nested 300 deep in its second row, the
    page reads whole; nested past 2048, the page is one line saying so, not a silent part."""
    page = local(path)
    whole = listing_read(parser, page, url="https://x.example/Calendar.aspx")
    second = [m.start() for m in re.finditer(re.escape(row), page)][1]
    text = re.compile(rb">([^<>]{3,})<").search(page, second)
    assert text is not None

    def nested(depth: int) -> bytes:
        return page[:text.start(1)] + b"<span>" * depth + b"x" + b"</span>" * depth + page[text.start(1):]

    deep = listing_read(parser, nested(300), url="https://x.example/Calendar.aspx")
    assert refs(deep) == refs(whole) and len(refs(whole)) > 10 and deep.problems == whole.problems
    with pytest.raises(SourceParseError, match="nests its elements deeper than 2048 levels"):
        listing_read(parser, nested(3000), url="https://x.example/Calendar.aspx")


# -- one row or entry broken -----------------------------------------------------------------------

def test_a_granicus_meetings_row_whose_date_is_no_date_is_its_own_line() -> None:
    """A row linking its meeting's clip, its date cell "02/30/2023": one problem line, not a
    heading row dropped without a word. A live meeting's "In Progress" (Tulsa) is no such date."""
    page = local("corpus/granicus/ladwp_viewpublisher.html")
    url = "https://ladwp.granicus.com/ViewPublisher.php?view_id=2"
    whole = listing_read(parse_granicus, page, url=url)
    broken = page.replace(b'Meeting-">Jan 11, 2022</td>', b'Meeting-">02/30/2023</td>', 1)
    assert broken != page
    listing = listing_read(parse_granicus, broken, url=url)
    (problem,) = listing.problems
    assert re.fullmatch(r"row 6 \(Board of Commissioners Meeting 02/30/2023.*\): unreadable: no date in '02/30/2023'",
                        problem), problem
    assert len(refs(whole) - refs(listing)) == 1 and refs(listing) < refs(whole)
    tulsa = listing_read(parse_granicus, local("corpus/granicus/tulsa_council_viewpublisher.html"),
                         url="https://tulsa-ok.granicus.com/ViewPublisher.php?view_id=4")
    assert tulsa.problems == []


def test_a_feed_entry_with_no_date_anywhere_is_its_own_line() -> None:
    feed = local(HACC)
    whole = listing_read(parse_feed, feed, url=HACC_URL)
    broken = feed.replace(b"<pubDate>Wed, 30 May 2018 22:30:00 +0000</pubDate>", b"<pubDate>garbage</pubDate>", 1)
    listing = listing_read(parse_feed, broken, url=HACC_URL)
    (problem,) = listing.problems
    assert "(HACC-Harper College Scholarship Info Session): unreadable: no date: its title and description name " \
           "no day, and its own date is missing or unreadable" in problem
    assert len(listing.meetings) == len(whole.meetings) - 1


@pytest.mark.parametrize("reference", [b"&#99999999999;", b"&#xD800;", b"&#x110000;", b"&#0;"])
def test_a_character_reference_to_no_character_costs_no_entry(reference: bytes) -> None:
    """feedparser raised on these (OverflowError, UnicodeEncodeError, ValueError) and the whole feed
    was lost: each is read as U+FFFD, as a browser reads it."""
    feed = local("corpus/feed/lausd_board_rss.xml")
    whole = listing_read(parse_feed, feed, url="https://lausd.granicus.com/ViewPublisherRSS.php")
    listing = listing_read(parse_feed, feed.replace(b"<title>", b"<title>" + reference, 2),
                           url="https://lausd.granicus.com/ViewPublisherRSS.php")
    assert refs(listing) == refs(whole) and listing.problems == []


def test_a_feed_too_large_to_read_leniently_is_one_line() -> None:
    """A feed that is not well-formed is read by feedparser at up to 10 s a MB: past 2 MB it is
    refused in one line rather than holding the crawl for minutes."""
    feed = local(HACC)
    broken = feed.replace(b"<title>", b"<title>" + b"<b><i>" * 400_000, 1)
    started = time.process_time()
    with pytest.raises(SourceParseError, match=r"not well-formed XML, and at 2\.\d MB too large to read leniently"):
        listing_read(parse_feed, broken, url=HACC_URL)
    assert time.process_time() - started < 1


def test_a_portal_search_row_naming_no_meeting_is_its_own_line() -> None:
    rows = json.loads(local("corpus/primegov/middlesex_planning_search.json"))
    whole = listing_read(parse_primegov, json.dumps(rows).encode())
    for bad in ({**rows[3], "meetingId": [1]}, None):
        listing = listing_read(parse_primegov, json.dumps([*rows[:3], bad, *rows[4:]]).encode())
        (problem,) = listing.problems
        assert problem.startswith("search row 4 (") and problem.endswith("): unreadable: no meeting id")
        assert refs(listing) <= refs(whole) and len(refs(listing)) >= len(refs(whole)) - 1 > 5


# -- iCalendar ------------------------------------------------------------------------------------

def test_a_rule_repeating_every_minute_is_one_line_not_a_hang() -> None:
    """FREQ=MINUTELY made 216,000 meetings of one event in a crawl's window, in half a minute."""
    feed = local("corpus/ical/glwa.ics")
    event = ("BEGIN:VEVENT\r\nUID:bad-1\r\nSUMMARY:Broken\r\nDTSTART:20240301T100000Z\r\n"
             "RRULE:{rule}\r\nEND:VEVENT\r\nEND:VCALENDAR")
    now = datetime(2024, 3, 1, tzinfo=UTC)
    for rule, said in (("FREQ=MINUTELY", "a meeting series repeats daily at most, not MINUTELY"),
                       ("FREQ=DAILY;BYHOUR=1,2,3,4,5,6;BYMINUTE=0,10,20,30,40,50", "36 times a day is no meeting series")):
        hostile = feed.replace(b"END:VCALENDAR", event.format(rule=rule).encode())
        started = time.process_time()
        listing = listing_read(parse_ical, hostile, window_start=now - timedelta(days=30),
                               window_end=now + timedelta(days=120))
        assert time.process_time() - started < 2
        (problem,) = listing.problems
        assert problem.startswith("event bad-1 (Broken): unreadable: RRULE") and problem.endswith(said), problem


def test_a_moved_meeting_that_lost_its_recurrence_id_costs_only_itself() -> None:
    """Saint Paul's board: a moved instance without its RECURRENCE-ID line shares its series' UID;
    the library let it stand for the series, and 18 of the series' meetings vanished without a
    word. The series is read, and the stray event is one problem line."""
    feed = local("corpus/ical/st_paul_schools_full.ics")
    whole = listing_read(parse_ical, feed)
    line = b"RECURRENCE-ID;TZID=America/Chicago:20231121T173000\r\n"
    assert feed.count(line) == 1
    listing = listing_read(parse_ical, feed.replace(line, b""))
    assert refs(listing) == refs(whole)
    (problem,) = set(listing.problems) - set(whole.problems)
    assert problem == ("event 5ki2v4jbcoibl4tae0t077b7qf@google.com (BOE | Regular Board of Education Meeting): "
                       "unreadable: another event has its UID, and it does not say which of its meetings it "
                       "replaces (no RECURRENCE-ID)")


def test_a_feed_in_utf_16_or_after_a_blank_reads_as_in_utf_8() -> None:
    feed = local("corpus/ical/chicago_lihtf.ics")
    whole = listing_read(parse_ical, feed)
    for variant in (feed.decode("utf-8").encode("utf-16"), b" \r\n" + feed):
        listing = listing_read(parse_ical, variant)
        assert refs(listing) == refs(whole) and listing.problems == whole.problems


def test_a_boarddocs_list_in_utf_16_is_read_as_a_list() -> None:
    data = local("corpus/boarddocs/columbus_schools_meetings_list.json")
    url = "https://go.boarddocs.com/oh/colum/Board.nsf/BD-GetMeetingsList?open"
    whole = listing_read(parse_boarddocs, data, url=url)
    listing = listing_read(parse_boarddocs, data.decode("utf-8").encode("utf-16"), url=url)
    assert refs(listing) == refs(whole) and len(refs(whole)) > 100


def test_a_problem_line_never_carries_a_control_character_of_the_row() -> None:
    """A row's NUL or escape in its name, quoted in its problem line, would reach the log, the
    mail to the operator and the terminal as it is."""
    rows = json.loads(local("corpus/boarddocs/columbus_schools_meetings_list.json"))
    rows[0] = {**rows[0], "name": "Regular\x00Meeting\x1b[31m", "numberdate": "garbage"}
    listing = listing_read(parse_boarddocs, json.dumps(rows).encode(),
                           url="https://go.boarddocs.com/oh/colum/Board.nsf/BD-GetMeetingsList?open")
    (problem,) = listing.problems
    assert problem.isprintable() and "(Regular?Meeting?[31m): unreadable: date 'garbage' is not a date" in problem
