"""The parsers' regular expressions in linear time on hostile text. Python's `re` holds the GIL for a
whole match, and a page is read on a thread the crawl waits for (`spiders/base.py` `read_in_time`),
so one super-linear pattern on one odd page stalls every source. Each input below took seconds
before (its figure in the comment, on the machine the fix was measured on) and gives the same
result now in milliseconds; the bound (1 s) is far above the new cost and far below the old."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date
from typing import Any

from listings import listing_of

from tracker.meetings import agendas, civicweb, ical, iqm2, participation, portals
from tracker.meetings.normalize import _HEADING_AFTER, _HEADING_OF, cancellation

BOUND = 1.0
DAY = date(2026, 3, 10)


def timed(call: Callable[[], Any]) -> tuple[Any, float]:
    """What `call` returns, and the seconds it took."""
    start = time.perf_counter()
    result = call()
    return result, time.perf_counter() - start


def test_a_cancel_word_then_a_run_of_blanks() -> None:
    # "[ \t]*(?:notice)?[ \t]*" after the word: 7 s for 10,000 blanks
    comment = "CANCELLED" + " " * 10_000 + "x"
    found, seconds = timed(lambda: cancellation(comment=comment, day=DAY))
    assert found == "CANCELLED" and seconds < BOUND
    after, seconds = timed(lambda: _HEADING_AFTER.match(comment, 9))
    assert after is None and seconds < BOUND  # 3.4 s
    heads, seconds = timed(lambda: _HEADING_OF.match(comment, 9))
    assert heads is None and seconds < BOUND  # 3.3 s


def test_an_ical_description_of_a_cancel_word_then_blanks() -> None:
    # the feed's DESCRIPTION read for a cancellation: 3.7 s for 10,000 blanks
    feed = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:1\r\nDTSTART:20260310T180000Z\r\n"
            "SUMMARY:Council\r\nDESCRIPTION:CANCELLED" + " " * 10_000 + "x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n").encode()
    (meetings, problems), seconds = timed(lambda: listing_of(ical.parse_ical, feed))
    assert [meeting["status"] for meeting in meetings] == ["cancelled"] and problems == [] and seconds < BOUND


def test_dark_then_a_run_of_blanks_in_a_name() -> None:
    # "\s*\)?\s*$" after "dark": 2.9 s for 20,000 blanks
    found, seconds = timed(lambda: cancellation(title="Board - Dark" + " " * 20_000 + "x"))
    assert found is None and seconds < BOUND
    assert cancellation(title="Board - Dark" + " " * 20_000) == "Dark"


def test_a_date_then_blanks_then_thousands_of_cancel_words() -> None:
    # the text between the date and each word read again for each word: 4 s (6,000 blanks, 600 words)
    comment = "March 3, 2026" + " " * 6_000 + " cancelled" * 600
    found, seconds = timed(lambda: cancellation(comment=comment, day=DAY))
    assert found == "cancelled" and seconds < BOUND


def test_a_line_of_thousands_of_heading_words() -> None:
    # the line's start read again for each heading's word: 2.5 s (8,000 blanks, 800 words)
    comment = " " * 8_000 + " CANCELLED:" * 800
    found, seconds = timed(lambda: cancellation(comment=comment, day=DAY))
    assert found == "CANCELLED" and seconds < BOUND


def test_iqm2_place_patterns_on_a_run_of_blanks() -> None:
    # tried from each blank of the run: 2 s (blank fields) and 1 s (N/A) for 5,000
    text = " " * 5_000 + "x"
    blanked, seconds = timed(lambda: iqm2._BLANK_FIELDS.sub("", text))
    assert blanked == text and seconds < BOUND
    cleared, seconds = timed(lambda: iqm2._NOT_APPLICABLE.sub("", text))
    assert cleared == text and seconds < BOUND
    assert iqm2._place_line("City Hall, __, __  __") == "City Hall"


def test_an_onclick_with_a_run_of_blanks() -> None:
    # "\s*\(?\s*" after window.open: 1.7 s for 10,000 blanks
    opened, seconds = timed(lambda: agendas._opened("window.open" + " " * 10_000 + "x"))
    assert opened == [] and seconds < BOUND
    assert agendas._opened("window.open" + " " * 10_000 + "('/a.pdf')") == ["/a.pdf"]


def test_a_granicus_name_with_a_run_of_blanks() -> None:
    # "\s+on" tried from each blank: 2.1 s for 20,000
    name = "Council" + " " * 20_000 + "x"
    title, seconds = timed(lambda: agendas._ON_DATE.sub("", name))
    assert title == name and seconds < BOUND
    assert agendas._ON_DATE.sub("", "Finance Committee on 2018-06-21 - (8:30 a.m.)") == "Finance Committee"


def test_a_civicplus_heading_of_thousands_of_posted_words() -> None:
    # ".+?\d{4}" read to the end from each "Posted": 2.7 s for 30,000 characters
    words = " ".join(["Posted"] * 4_300)
    page = ('<table><tr class="catAgendaRow"><td><h4><a href="/AgendaCenter/ViewFile/Agenda/_03102026-7">'
            f"{words}</a></h4><p>City Council</p></td></tr></table>").encode()
    (meeting,), problems = timed(lambda: listing_of(agendas.parse_civicplus, page))[0]
    assert problems == [] and meeting["title"] == "City Council" and meeting["agenda_posted"] is None
    assert timed(lambda: listing_of(agendas.parse_civicplus, page))[1] < BOUND
    # the first "Posted" then starts the match, as the search found it (its words up to the date)
    dated = page.replace(b"</a></h4>", b" Mar 7, 2024 12:19 PM</a></h4>")
    assert listing_of(agendas.parse_civicplus, dated)[0][0]["agenda_posted"] == words[7:] + " Mar 7, 2024 12:19 PM"
    real = page.replace(words.encode(), b"Mar 10, 2026 Posted Mar 7, 2024 12:19 PM")
    assert listing_of(agendas.parse_civicplus, real)[0][0]["agenda_posted"] == "2024-03-07T12:19:00+00:00"


def test_a_feed_summary_of_unclosed_tags() -> None:
    # lxml refuses the control character; "<[^>]*>" read to the end from each "<": 1.8 s for 40,000
    summary = "\x01<" * 20_000
    text, seconds = timed(lambda: agendas._summary_text({"summary": summary}))
    assert text == summary and seconds < BOUND
    assert agendas._tags_out("a<b>c<d") == "a c<d"


def test_a_civicweb_name_with_a_run_of_blanks() -> None:
    # "\s*-" tried from each blank: 2 s for 30,000
    name = "Council" + " " * 30_000 + "x"
    found, seconds = timed(lambda: civicweb._DATE_IN_NAME.search(name))
    assert found is None and seconds < BOUND
    assert civicweb._without_its_date("Regular Meeting - Jan 09 2024", date(2024, 1, 9)) == "Regular Meeting"


def test_a_note_with_one_long_word() -> None:
    # "[\w.+-]+@" tried from each character of the word: 2.5 s for 25,000
    note = "public comment " + "a" * 25_000
    part, seconds = timed(lambda: participation.take_part(note))
    assert part is None and seconds < BOUND
    assert participation.how_to_take_part("Public comment: write to clerk@city.gov") is not None


def test_boarddocs_attributes_on_a_run_of_blanks() -> None:
    # "[ \t\n]+" tried from each blank: 1.6 s for 15,000
    found, seconds = timed(lambda: portals._FAST_ATTR.findall("\n" * 15_000 + "\x01"))
    assert found == [] and seconds < BOUND
    assert portals._FAST_ATTR.findall(' id="7"\n bodyname=\'Board\'') == [("id", "7", ""), ("bodyname", "", "Board")]


def test_a_legistar_item_title_of_blanks_without_a_line_break() -> None:
    # "[ \t]*\r?\n[ \t]*" tried from each blank of a run with no line break after it: 4.7 s for
    # 20,000 blanks (an API field's text, read by `legistar._text`)
    from tracker.meetings.legistar import normalize_items

    row = {"EventItemId": 1, "EventItemTitle": "Parks" + " " * 20_000 + "x\r\n  budget", "EventItemAgendaSequence": 1}
    items, seconds = timed(lambda: normalize_items([row], []))
    assert [item["title"] for item in items] == ["Parks" + " " * 20_000 + "x\nbudget"] and seconds < BOUND
