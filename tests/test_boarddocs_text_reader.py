"""BoardDocs exports read from their text (tracker/meetings/portals.py `_boarddocs_fast`) against
the tree reader: random edits of Cleveland's meetings give the tree's meeting wherever the text
reader takes them; crafted 4.7 MB exports are read in linear time; a title repeating a keyword is
no quadratic search (it was: 3.3 s for 0.4 MB of titles). Direct parser calls (found by a review)."""

from __future__ import annotations

import random
import re
import time
from datetime import UTC, datetime

import pytest
from recorded import local

from tracker.meetings import portals
from tracker.records import ListingContext

# -- 3. the BoardDocs text reader against the tree ---------------------------------------------------

CLEVELAND = "corpus/boarddocs/cleveland_metro_schools_meetings.xml"
WIDE = ListingContext(watch_id="w", url="https://x.example/", body="B", timezone="America/New_York",
                      keywords=("budget", "roll call", "board", "policy"),
                      window_start=datetime(1990, 1, 1, tzinfo=UTC), window_end=datetime(2100, 1, 1, tzinfo=UTC))


def _tree(chunk: bytes) -> object:
    node = portals.parse_xml(b"<meetings>" + chunk + b"</meetings>", portals.SourceParseError,
                             "a BoardDocs XML export", layout_only_blanks=True)[0]
    try:
        return portals._boarddocs_meeting(node, WIDE)
    except Exception as exc:
        return portals.row_problem("meeting", node.get("id"), node.findtext("name"), exc)


def _as_plain(outcome: object) -> object:
    return outcome.dump() if hasattr(outcome, "dump") else outcome  # type: ignore[union-attr]


MUTATIONS = [
    (b"<name>", b"<name> &amp;&#x20;&lt;b&gt;\t"), (b"</name>", b" &#233;&#10;</name>"),
    (b"</actiontype>", b"&#13;</actiontype>"), (b"\n", b"\r\n"), (b"\n", b"  \n\t"),
    (b"</item>", b"<note>x &amp; y</note></item>"), (b"</item>", b"</item>tail"),
    (b"<agendaitems>", b"<agendaitems>\n"), (b"&amp;", b"&#38;"), (b"&amp;", b"&amp;amp;"),
    (b"http://", b"https://"), (b"http://", b"HTTP://"), (b"</link>", b"&#x20;</link>"),
    (b"</category>", b"</category><category><name>L</name></category>"),
    (b'order="', b'order ="'), (b"<description>", b"<description>At 9 AM &amp; "),
    (b"</name>", b"\xc2\xa0</name>"), (b"</name>", b"\xe2\x80\xa8</name>"),
    # a name's blanks and characters `isprintable` refuses, where its title is read without it
    (b"</name>", b"\x7f</name>"), (b"</name>", b" </name>"), (b"<name>", b"<name> "), (b"</name>", b"\n</name>"),
    (b" ", b"  "), (b" ", b"\t"), (b"</name>", b"&#9;</name>"), (b"</description>", b"\t\xc3\xa9</description>"),
]


def test_the_text_reader_gives_the_trees_meeting_under_random_edits() -> None:
    """Cleveland's meetings, each edited at random (references, blanks, line ends, extra fields,
    tails, empty categories): wherever `_boarddocs_fast` reads a meeting, it reads what the tree
    reads."""
    data = local(CLEVELAND)
    spans = portals._boarddocs_window(data, WIDE)
    assert spans
    rng = random.Random(7)
    read = 0
    for _ in range(400):
        start, end = rng.choice(spans)
        chunk = data[start:end]
        for _ in range(rng.randint(1, 4)):
            old, new = rng.choice(MUTATIONS)
            places = [i.start() for i in re.finditer(re.escape(old), chunk)]
            if places:
                at = rng.choice(places)
                chunk = chunk[:at] + new + chunk[at + len(old):]
        fast = portals._boarddocs_fast(chunk, WIDE)
        if fast is portals._NOT_PLAIN:
            continue
        read += 1
        assert _as_plain(fast) == _as_plain(_tree(chunk)), chunk[:300]
    assert read > 100


@pytest.mark.parametrize("stray", [b"<x/>", b"<note>n</note>", b"<item/>", b"<category><name>C</name></category>"])
def test_a_part_of_another_shape_between_items_is_read_from_the_tree(stray: bytes) -> None:
    """An element the item pattern does not take, between two items or after the last (where the
    tag count used to tell it): the meeting is not read from its text, and the tree reads it."""
    data = local(CLEVELAND)
    start, end = portals._boarddocs_window(data, WIDE)[0]
    chunk = data[start:end]
    for at in (chunk.index(b"</item>") + len(b"</item>"), chunk.rindex(b"</item>") + len(b"</item>")):
        edited = chunk[:at] + stray + chunk[at:]
        assert portals._boarddocs_fast(edited, WIDE) is portals._NOT_PLAIN
        export = b"<meetings>" + edited + b"</meetings>"
        assert [_as_plain(m) for m in portals.parse_boarddocs(export, WIDE).meetings] == [_as_plain(_tree(edited))]


def test_items_right_under_a_meeting_are_read_in_no_section() -> None:
    """A well-formed meeting whose first category's items sit in `<agendaitems>` right under the
    meeting (the shape of Albany's public hearing and Akron's archive entries, there past a
    `</category>` never opened): not read from its text; the tree reads them, in no section, in
    their place among the categories' items (they used to be dropped)."""
    data = local(CLEVELAND)
    start, end = portals._boarddocs_window(data, WIDE)[0]
    chunk = data[start:end]
    category = re.search(rb"<category[^>]*>\s*<name>([^<]*)</name>\s*(<agendaitems>.*?</agendaitems>)\s*</category>",
                         chunk, re.S)
    assert category is not None
    edited = chunk[:category.start()] + category.group(2) + chunk[category.end():]
    assert portals._boarddocs_fast(edited, WIDE) is portals._NOT_PLAIN
    (before,) = portals.parse_boarddocs(b"<meetings>" + chunk + b"</meetings>", WIDE).meetings
    (after,) = portals.parse_boarddocs(b"<meetings>" + edited + b"</meetings>", WIDE).meetings
    moved = category.group(2).count(b"<item ")
    assert moved and len(after.items) == len(before.items)
    assert [(i["title"], i["section"]) for i in after.items[:moved]] == [(i["title"], "") for i in before.items[:moved]]
    assert [i["title"] for i in after.items] == [i["title"] for i in before.items]


def _export(meeting: bytes, count: int) -> bytes:
    return b'<?xml version="1.0" encoding="UTF-8"?>\n<meetings>\n' + meeting * count + b"</meetings>\n"


@pytest.mark.parametrize("shape", ["many fields then no end", "links of many references", "lone categories",
                                   "long blanks"])
def test_a_crafted_export_of_4_7_mb_is_read_in_time(shape: str) -> None:
    """Exports of about 4.7 MB built to make the patterns backtrack: read in the time of the tree
    reading (well under a second each)."""
    head = (b'<meeting id="M" bodyname="B"><name>N</name><start><date>2020-01-01</date></start>'
            b"<description></description><link>http://x.org/</link>")
    if shape == "many fields then no end":
        item = (b'<item id="I" order="1"><name>budget</name><link>http://x.org/</link><actiontype>A</actiontype>'
                + b"<f>x</f>" * 2000 + b"<item/></item>")
        meeting = head + b"<category><name>C</name><agendaitems>" + item * 30 + b"</agendaitems></category></meeting>\n"
    elif shape == "links of many references":
        link = b"http://x.org/?" + b"a=1&amp;" * 20000 + b"&lt;"
        item = b'<item id="I" order="1"><name>n</name><link>' + link + b"</link><actiontype>A</actiontype></item>"
        meeting = head + b"<category><name>C</name><agendaitems>" + item * 3 + b"</agendaitems></category></meeting>\n"
    elif shape == "lone categories":
        meeting = head + b"<category><name>C</name><agendaitems></agendaitems></category>" * 8000 + b"<x/></meeting>\n"
    else:
        item = (b'<item id="I" order="1"><name>n</name>' + b" " * 50000 + b"<link>http://x.org/</link>"
                + b" " * 50000 + b"<actiontype>A</actiontype>" + b" " * 50000 + b"<x/></item>")
        meeting = head + b"<category><name>C</name><agendaitems>" + item * 3 + b"</agendaitems></category></meeting>\n"
    data = _export(meeting, max(1, 4_700_000 // len(meeting)))
    assert 4_000_000 < len(data) < 6_000_000
    began = time.process_time()
    portals.parse_boarddocs(data, WIDE)
    took = time.process_time() - began
    assert took < 3.0, (shape, took)


# -- 5. (the read path of 3, code of 71644a2) a title repeating a keyword's first word: quadratic ----

def test_an_export_whose_titles_repeat_a_keyword_is_read_in_linear_time() -> None:
    """One agenda item whose title is "budget " repeated (0.4 MB; a watch's keyword "budget"):
    `_item_keywords` counts the line breaks before every hit from the start of the joined titles
    (`lowered.count("\\n", 0, at)`), so the time grows with the square of the text: 0.1 MB 0.2 s,
    0.2 MB 0.9 s, 0.4 MB 3.3 s here; a 4.7 MB export so written would take minutes. Both the text
    reader and the tree reader go through it."""
    head = (b'<meeting id="M" bodyname="B"><name>N</name><start><date>2020-01-01</date></start>'
            b"<description></description><link>http://x.org/</link>")
    item = (b'<item id="K" order="1"><name>' + b"budget " * 60_000 + b"</name><link>http://x.org/?a</link>"
            b"<actiontype>P</actiontype></item>\n")
    data = _export(head + b"<category><name>C</name><agendaitems>" + item + b"</agendaitems></category></meeting>\n", 1)
    began = time.process_time()
    listing = portals.parse_boarddocs(data, WIDE)
    took = time.process_time() - began
    assert listing.meetings and listing.meetings[0].items[0]["keywords"] == ["budget"]
    assert took < 1.0, f"{len(data) / 1e6:.2f} MB read in {took:.1f} s"



def test_items_under_a_meeting_level_agendaitems_holding_a_category_are_read_once() -> None:
    """A well-formed meeting whose `<agendaitems>` right under it wraps a category (its items in that
    category's own `<agendaitems>`): each item is read once, in its category's section, as before
    boarddocs-5 (the meeting-level block read every item below it, the category's a second time)."""
    head = (b'<meeting id="M" bodyname="B"><name>N</name><start><date>2020-01-01</date></start>'
            b"<description></description><link>http://x.org/</link>")
    item = (b'<item id="I1" order="1"><name>Budget hearing</name><link>http://x.org/1</link>'
            b"<actiontype>A</actiontype></item>")
    loose = (b'<item id="I0" order="1"><name>Roll call</name><link>http://x.org/0</link>'
             b"<actiontype>A</actiontype></item>")
    chunk = (head + b"<agendaitems>" + loose + b"<category><name>Finance</name><agendaitems>" + item
             + b"</agendaitems></category></agendaitems></meeting>")
    assert portals._boarddocs_fast(chunk, WIDE) is portals._NOT_PLAIN
    (meeting,) = portals.parse_boarddocs(b"<meetings>" + chunk + b"</meetings>", WIDE).meetings
    assert [(i["key"], i["section"], i["sequence"]) for i in meeting.items] == [("I0", "", 1), ("I1", "Finance", 1)]
