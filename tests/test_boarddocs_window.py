"""A BoardDocs export read for a watch's window skips, on the bytes, the meetings that cannot be in
it (`_boarddocs_window`): the listing must be exactly the one the whole export gives, for windows
around every meeting of the real recordings (each date on the window's edges) and for exports
derived from Cleveland's (each derivation said where made) with what could fool a scan of the
bytes: a comment, a CDATA section or a processing instruction holding a fake meeting, a namespace,
a meeting without an id or with a bad date outside the window, a broken meeting, a cut download."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from listings import listing_of
from lxml import etree
from recorded import local

from tracker.meetings import portals
from tracker.meetings.normalize import keywords_each
from tracker.records import ListingContext
from tracker.safetext import web_url

CLEVELAND = "corpus/boarddocs/cleveland_metro_schools_meetings.xml"
RECORDINGS = (CLEVELAND, "boarddocs/ctpf_chicago_boarddocs_meetings.xml",
              "corpus/boarddocs/akron_public_schools_meetings.xml")
KEYWORDS = ("budget", "police", "minutes")


def dates(data: bytes) -> list[date]:
    """The start dates written in an export (one that is no date left out)."""
    found = set()
    for written in re.findall(rb'format="yyyy-mm-dd">(\d{4}-\d\d-\d\d)<', data):
        try:
            found.add(date.fromisoformat(written.decode()))
        except ValueError:
            continue
    return sorted(found)


def windows(data: bytes, edges: bool = True) -> Iterator[tuple[datetime, datetime]]:
    """A watch's window (30 days back, 120 ahead) on each meeting's day, and, with `edges`, windows
    that start or end on the day before, of or after a meeting (the edge of `in_window`)."""
    yield datetime(1990, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
    for day in dates(data):
        noon = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
        yield noon - timedelta(days=30), noon + timedelta(days=120)
        for shift in (-1, 0, 1) if edges else ():
            yield noon + timedelta(days=1 + shift), noon + timedelta(days=60)  # the day on the start edge
            yield noon - timedelta(days=60), noon - timedelta(days=1 + shift)  # on the end edge


def outcome(data: bytes, start: datetime, end: datetime) -> Any:
    try:
        return listing_of(portals.parse_boarddocs, data, url="https://go.boarddocs.com/oh/cmsd/Board.nsf/XML-ActiveMeetings",
                          timezone="America/New_York", keywords=KEYWORDS, window_start=start, window_end=end)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"


def whole(data: bytes, start: datetime, end: datetime, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The listing of the whole export parsed (no meeting skipped on the bytes)."""
    with monkeypatch.context() as patch:
        patch.setattr(portals, "_boarddocs_window", lambda _data, _ctx: None)
        return outcome(data, start, end)


def assert_same_as_whole(data: bytes, monkeypatch: pytest.MonkeyPatch, edges: bool = True) -> None:
    for start, end in windows(data, edges):
        assert outcome(data, start, end) == whole(data, start, end, monkeypatch), (start, end)


@pytest.mark.parametrize("path", RECORDINGS)
def test_a_watch_window_lists_what_the_whole_export_lists(path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert_same_as_whole(local(path), monkeypatch)


def test_meetings_outside_the_window_are_not_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cleveland's 17 meetings over ten years: a watch in early 2017 reads the two it can show, from
    their text (no tree is built)."""
    data = local(CLEVELAND)
    parsed: list[int] = []
    read: list[int] = []
    real, fast = portals.parse_xml, portals._boarddocs_fast
    monkeypatch.setattr(portals, "parse_xml", lambda doc, *a, **k: parsed.append(len(doc)) or real(doc, *a, **k))
    monkeypatch.setattr(portals, "_boarddocs_fast", lambda chunk, ctx: read.append(len(chunk)) or fast(chunk, ctx))
    meetings, problems = outcome(data, datetime(2017, 1, 2, tzinfo=UTC), datetime(2017, 6, 1, tzinfo=UTC))
    assert sorted(m["date"] for m in meetings) == ["2017-01-24", "2017-03-07"] and problems == []
    assert parsed == [] and len(read) == 2 and sum(read) < len(data) // 3


@pytest.mark.parametrize("path", RECORDINGS)
def test_the_recordings_meetings_are_read_from_their_text(path: str) -> None:
    """The meetings of the usual shape are read from their text (`_boarddocs_fast`), not a tree:
    every one of Cleveland's and Chicago's; Akron's export is not well-formed (read meeting by
    meeting). What the text reading gives is checked against the tree by every test here."""
    data = local(path)
    wide = ListingContext(watch_id="w", url="https://x.example/", body="B", timezone="UTC", keywords=KEYWORDS,
                          window_start=datetime(1990, 1, 1, tzinfo=UTC), window_end=datetime(2100, 1, 1, tzinfo=UTC))
    kept = portals._boarddocs_window(data, wide)
    if "akron" in path:
        assert kept is None
        return
    assert kept and all(portals._boarddocs_fast(data[start:end], wide) is not portals._NOT_PLAIN for start, end in kept)


def meeting_spans(data: bytes) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(rb"<meeting .*?</meeting>", data, re.S)]


def cleveland_with(n: int, change: Any) -> bytes:
    """Cleveland's export with its meeting number `n` (in the file's order) changed by `change`."""
    data = local(CLEVELAND)
    start, end = meeting_spans(data)[n]
    return data[:start] + change(data[start:end]) + data[end:]


# a fake meeting in the window, then the start of one far outside it: hidden in meeting 16 (2009), the
# bytes hold what looks like a meeting to list between two that look skippable
FAKE = (b'</meeting>\n<meeting bodyid="X" bodyname="Fake" id="FAKE0000" order="99"><name>Fake</name><start>'
        b'<date format="yyyy-mm-dd">2017-02-01</date></start><link>http://x/</link></meeting>\n'
        b'<meeting bodyid="X" bodyname="Fake" id="FAKE0001" order="98"><name>Fake</name><start>'
        b'<date format="yyyy-mm-dd">2009-01-13</date></start>')
EMPTY = b'\n<meeting id="EMPTY0001"/>'  # read meeting by meeting, the export says it has no end


def after_description(text: bytes) -> Any:
    return lambda meeting: meeting.replace(b"</description>", b"</description>" + text, 1)


def wrapped(start: bytes, end: bytes) -> bytes:
    """Cleveland's export with its meetings 5 to 10 (in the file's order) in an element."""
    data = local(CLEVELAND)
    spans = meeting_spans(data)
    first, last = spans[5][0], spans[10][1]
    return data[:first] + start + data[first:last] + end + data[last:]


# derived exports: (what, Cleveland's export changed); meeting 16 is 2009-01-13, meeting 0 2017-01-24
DERIVED: dict[str, bytes] = {
    "a meeting without an id (outside most windows)": cleveland_with(16, lambda m: re.sub(rb' id="\w+"', b"", m, count=1)),
    "a meeting with an empty id": cleveland_with(16, lambda m: re.sub(rb' id="\w+"', b' id=""', m, count=1)),
    "a meeting whose date is no date": cleveland_with(16, lambda m: m.replace(b">2009-01-13<", b">2009-02-30<")),
    "a meeting whose date is written with a character reference": cleveland_with(
        16, lambda m: m.replace(b">2009-01-13<", b">&#50;009-01-13<")),
    "a meeting whose date has a blank": cleveland_with(16, lambda m: m.replace(b">2009-01-13<", b"> 2009-01-13<")),
    "a date attribute holding a '>'": cleveland_with(16, lambda m: m.replace(b'format="yyyy-mm-dd"', b'format=">"')),
    "a namespace on a meeting's date": cleveland_with(16, lambda m: m.replace(b"<date ", b'<date xmlns="urn:x" ', 1)),
    "an id attribute in single quotes, a '>' in another": cleveland_with(
        16, lambda m: re.sub(rb' id="(\w+)"', rb" id='\1' note='a>b'", m, count=1)),
    "a broken meeting (a </category> never opened, as Akron's), an empty one": cleveland_with(
        16, lambda m: m.replace(b"</meeting>", b"</category>\n</meeting>") + EMPTY),
    "a prefix never declared, an empty meeting": cleveland_with(
        16, lambda m: after_description(b"<x:note>a</x:note>")(m) + EMPTY),
    "a comment hiding a fake meeting": cleveland_with(16, after_description(b"<!-- " + FAKE + b" -->")),
    "a CDATA section hiding a fake meeting": cleveland_with(
        16, lambda m: m.replace(b"<description></description>", b"<description><![CDATA[" + FAKE + b"]]></description>")),
    "a processing instruction hiding a fake meeting": cleveland_with(16, after_description(b"<?note " + FAKE + b" ?>")),
    "a meeting nested in another": cleveland_with(16, after_description(FAKE[11:FAKE.index(b"\n<meeting", 20)])),
    "an empty meeting element": cleveland_with(16, lambda m: m + EMPTY),
    "an element whose name starts with meeting": cleveland_with(16, after_description(b"<meetingnote/>")),
    "a default namespace on the root": local(CLEVELAND).replace(b"<meetings>", b'<meetings xmlns="urn:x">', 1),
    "meetings in an element of a namespace": wrapped(b'<group xmlns="urn:x">\n', b"\n</group>"),
    "meetings in another element": wrapped(b"<group>", b"</group>"),
    "a default namespace on one meeting": cleveland_with(0, lambda m: m.replace(b"<meeting ", b'<meeting xmlns="urn:x" ', 1)),
    "xml:space on the root": local(CLEVELAND).replace(b"<meetings>", b'<meetings xml:space="preserve">', 1),
    "an export declared in Latin-1 (bytes that UTF-8 reads as one letter)": local(CLEVELAND).replace(
        b'encoding="UTF-8"', b'encoding="ISO-8859-1"', 1).replace(b"Meeting - 6:30", b"Meeting \xc3\xa9 - 6:30", 1),
    "an export without its XML declaration": local(CLEVELAND).split(b"?>", 1)[1],
    "text between meetings": local(CLEVELAND).replace(b"</meeting>\n", b"</meeting>\nstray\n", 1),
    "an export cut short": local(CLEVELAND)[: len(local(CLEVELAND)) * 2 // 3],
    "an export cut at a meeting's end": local(CLEVELAND)[: meeting_spans(local(CLEVELAND))[8][1]],
    "a DTD": local(CLEVELAND).replace(b"<meetings>", b"<!DOCTYPE meetings [<!ENTITY a 'b'>]>\n<meetings>", 1),
}



def meeting_0(change: Any) -> bytes:
    """Cleveland's export with its first meeting (2017-01-24) changed by `change`."""
    return cleveland_with(0, change)


def replaced(*pairs: tuple[bytes, bytes]) -> Any:
    def change(meeting: bytes) -> bytes:
        for old, new in pairs:
            assert old in meeting, old
            meeting = meeting.replace(old, new, 1)
        return meeting
    return change


LOCATION = b"<name>1.01 James Ford Rhodes High School, 5100 Biddulph Avenue, Cleveland, OH 44144</name>"
ROLL_CALL = b"<name>2.02 Roll Call</name>"
# meetings of the usual shape but for one thing, read from their text or, not of that shape, from
# the tree: either way the listing is the whole tree's
SHAPES: dict[str, bytes] = {
    "references in an item's fields": meeting_0(replaced(
        (ROLL_CALL, b"<name>2.02 Roll &lt;Call&gt; &quot;a&quot; &apos;b&apos; &amp;amp; &#38;lt; &#x41;&#10;c</name>"),
        (b"<actiontype>Procedural</actiontype>", b"<actiontype>Pro&amp;cedural &#233;</actiontype>"),
        (b"<link>http://go.boarddocs.com/oh/cmsd/Board.nsf/goto?open&amp;id=AHJRWG6D1FE9</link>",
         b"<link>http://go.boarddocs.com/a?b=&lt;c&gt;&amp;d=&quot;&apos;</link>"))),
    "a link with a character reference": meeting_0(replaced((
        b"<link>http://go.boarddocs.com/oh/cmsd/Board.nsf/goto?open&amp;id=AHJRWG6D1FE9</link>",
        b"<link>http://go.boarddocs.com/a&#32;b</link>"))),
    "links web_url refuses or tidies": meeting_0(replaced(
        (b"<link>http://go.boarddocs.com/oh/cmsd/Board.nsf/goto?open&amp;id=AHJRWG6D1FE9</link>", b"<link></link>"),
        (b"<link>http://go.boarddocs.com/oh/cmsd/Board.nsf/goto?open&amp;id=AHJRWK6D1FEC</link>",
         b"<link> http://go.boarddocs.com/x </link>"),
        (b"<link>http://go.boarddocs.com/oh/cmsd/Board.nsf/goto?open&amp;id=AHJRWN6D1FEF</link>",
         b"<link>javascript:alert(1)</link>"),
        (b"<link>http://go.boarddocs.com/oh/cmsd/Board.nsf/goto?open&amp;id=AHJRWS6D1FF3</link>",
         b"<link>HTTP://&amp;x.org/</link>"))),
    "blank, empty and spread titles and fields": meeting_0(replaced(
        (ROLL_CALL, b"<name>  </name>"), (b"<name>2.01 Call to Order</name>", b"<name></name>"),
        (b"<name>2.03 Certification of Notice of Meeting</name>", b"<name>\n2.03  Certification\tof\n</name>"),
        (b"<actiontype>Procedural</actiontype>", b"<actiontype> </actiontype>"),
        (b"<description></description>", b"<description>At 5:30 PM &amp; later</description>"))),
    "line ends of CR LF and CR": meeting_0(lambda m: m.replace(b"\n", b"\r\n").replace(
        b"2.02 Roll Call", b"2.02 Roll\rCall\r\n").replace(b'order="1"', b'order="1"\r', 1)),
    "fields more in items (as Akron's)": meeting_0(replaced(
        (b"<actiontype>Procedural</actiontype>", b"<actiontype>Procedural</actiontype>\n<recommendedaction>a &amp; b"
                                                 b"</recommendedaction>\n<note></note>"),)),
    "an element named item in an item": meeting_0(replaced(
        (b"<actiontype>Information</actiontype>", b"<actiontype>Information</actiontype><item>x</item>"),)),
    "an item in an item": meeting_0(replaced((b"<actiontype>Report</actiontype>",
                                              b'<actiontype>Report</actiontype><item id="N" order="1"><name>Nested</name>'
                                              b"<link>http://x.org/</link><actiontype>A</actiontype></item>"))),
    "items written otherwise": meeting_0(replaced(
        (b'<item id="AHJRWD6D1FE6" order="1">', b'<item order="1" id="AHJRWD6D1FE6">'),
        (b'<item id="AHJRWG6D1FE9" order="2">', b'<item order="2">'),
        (b'<item id="AHJRWK6D1FEC" order="3">', b"<item id='AHJRWK6D1FEC' order=\"3\">"))),
    "an item's fields in another order": meeting_0(replaced((
        b"<name>2.01 Call to Order</name>\n<link>http://go.boarddocs.com/oh/cmsd/Board.nsf/goto?open&amp;id=AHJRWD6D1FE6"
        b"</link>", b"<link>http://go.boarddocs.com/oh/cmsd/Board.nsf/goto?open&amp;id=AHJRWD6D1FE6</link><name>2.01 Call "
        b"to Order</name>"))),
    "an empty item and empty fields": meeting_0(replaced(
        (b"<actiontype>Procedural</actiontype>", b"<actiontype/>"),
        (b"</agendaitems>", b'<item id="E"/></agendaitems>'))),
    "categories without items, first, among others and last": meeting_0(lambda m: replaced(
        (b'<category id="AHJRW86D1F49" order="1">', b'<category id="L1" order="0"><name>0. Empty</name><agendaitems>'
                                                   b'</agendaitems></category>\n<category id="AHJRW86D1F49" order="1">'),
        (b'<category id="AHJRWC6D1FE5" order="2">', b'<category id="L2" order="1"><name>1. Location of Meeting</name>'
                                                   b'</category>\n<category id="AHJRWC6D1FE5" order="2">'))(m).replace(
        b"</meeting>", b'<category id="L3"><name>Last</name></category></meeting>')),
    "a category with no items among others": meeting_0(replaced((
        b'<category id="AHJRWC6D1FE5" order="2">', b'<category id="L2" order="1"><name>Empty</name><agendaitems>'
                                                  b'</agendaitems></category>\n<category id="AHJRWC6D1FE5" order="2">'),)),
    "a category whose items name no room, a category name with references": meeting_0(replaced(
        (LOCATION, b"<name>1.01 </name>"), (b"<name>2. Opening Items</name>", b"<name>2. Location of Meeting &amp; &#233;</name>"))),
    "the room in a later category": meeting_0(replaced((b"<name>1. Location of Meeting</name>", b"<name>1. Where</name>"),
                                                      (b"<name>3. Minutes</name>", b"<name>3. LOCATION OF MEETING</name>"))),
    "a category without a name, a category in a category": meeting_0(replaced(
        (b"<name>1. Location of Meeting</name>", b""),
        (b"<name>3. Minutes</name>", b'<name>3. Minutes</name><category id="I"><name>Inner</name></category>'))),
    "text between items and categories": meeting_0(lambda m: m.replace(b"</item>\n", b"</item>tail\n").replace(
        b"</category>\n", b"</category> more &amp; text\n")),
    "blanks in tags": meeting_0(replaced((ROLL_CALL, b"<name >2.02 Roll Call</name >"),
                                         (b"<agendaitems>", b"<agendaitems >"))),
    "a meeting's attributes to normalize": meeting_0(replaced((b'bodyname="Main Governing Board"',
                                                               b'bodyname="Main\tGoverning &amp; Board"'))),
    "a meeting's attributes in single quotes": meeting_0(replaced((b'bodyname="Main Governing Board"',
                                                                   b"bodyname='Main \"Governing\" Board'"))),
    "a meeting without its weekday, its name and its link empty": meeting_0(lambda m: re.sub(
        rb"<english>.*?</english>\n", b"", m, flags=re.S).replace(
        b"<name>Cleveland Municipal School District Board Business Meeting - 6:30 PM</name>", b"<name></name>", 1).replace(
        b"<link>http://go.boarddocs.com/oh/cmsd/Board.nsf/goto?open&amp;id=AHJRW76D1F43</link>", b"<link></link>", 1)),
    "a meeting without an id, in every window": meeting_0(lambda m: re.sub(rb' id="\w+"', b"", m, count=1)),
    "a meeting whose date is no date, in every window": meeting_0(replaced((b">2017-01-24<", b">2017-02-30<"))),
    "a meeting with an item's id holding a reference": meeting_0(replaced((b'<item id="AHJRWD6D1FE6"',
                                                                           b'<item id="A&amp;B"'))),
    "the word xmlns in a title": meeting_0(replaced((ROLL_CALL, b"<name>xmlns</name>"))),
    "a meeting of no usual shape among plain ones": cleveland_with(3, replaced((b"<agendaitems>", b"<agendaitems >"))),
}


@pytest.mark.parametrize("what", SHAPES)
def test_a_meeting_read_from_its_text_is_the_one_its_tree_gives(what: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert_same_as_whole(SHAPES[what], monkeypatch, edges=False)


@pytest.mark.parametrize("what", DERIVED)
def test_a_derived_export_lists_in_any_window_what_the_whole_export_lists(what: str,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    assert_same_as_whole(DERIVED[what], monkeypatch, edges=False)


def test_a_fake_meeting_in_a_comment_cdata_or_instruction_is_never_listed() -> None:
    for what in ("a comment hiding a fake meeting", "a CDATA section hiding a fake meeting",
                 "a processing instruction hiding a fake meeting"):
        meetings, problems = outcome(DERIVED[what], datetime(2017, 1, 2, tzinfo=UTC), datetime(2017, 6, 1, tzinfo=UTC))
        assert sorted(m["source_ref"] for m in meetings) == ["AAUM6H5994F0", "AHJRW76D1F43"] and problems == [], what


def test_an_unreadable_meeting_outside_the_window_is_still_its_problem_line() -> None:
    window = datetime(2017, 1, 2, tzinfo=UTC), datetime(2017, 6, 1, tzinfo=UTC)  # 2009's meeting is far outside
    _, problems = outcome(DERIVED["a meeting without an id (outside most windows)"], *window)
    assert problems == ["meeting ? (Cleveland Municipal School District 2009 Organization Meeti…): unreadable: no meeting id"]
    _, problems = outcome(DERIVED["a meeting whose date is no date"], *window)
    assert problems == ["meeting 842M521D156C (Cleveland Municipal School District 2009 Organization Meeti…): "
                        "unreadable: start date '2009-02-30' is not a date"]
    meetings, problems = outcome(DERIVED["a broken meeting (a </category> never opened, as Akron's), an empty one"],
                                 *window)  # read meeting by meeting: the broken one is outside the window
    assert len(meetings) == 2 and len(problems) == 1 and problems[0].startswith("1 meeting element(s) without an end")
    with pytest.raises(Exception, match="truncated or malformed"):
        listing_of(portals.parse_boarddocs, DERIVED["an export cut at a meeting's end"], window_start=window[0],
                   window_end=window[1])


def test_an_agenda_item_link_is_kept_exactly_when_web_url_keeps_it() -> None:
    """The items' links are checked by a shortcut of `web_url`: the same answer for every link of
    the recordings and for links it must refuse or tidy."""
    links: list[Any] = [link.decode() for path in RECORDINGS for link in re.findall(rb"<link>([^<]*)</link>", local(path))]
    links += [None, "", " http://x.org/a", "http://x.org/a b", "http://x.org/\x7f", "http://x.org/\u00e9", "HTTP://X.ORG/",
              "https://", "http:///a", "http://?a", "http://#a", "http://\\a", "https:/x.org", "ftp://x.org/", "http://x",
              "https://x.org/a\tb", "http://x.org/\u2028", "mailto:a@x.org", "http://x.org/a\n",
              "https://go.boarddocs.com@evil.example/a", "https://a.org/b@c", "https://a.org?b@c", "https://a\\@b.org/"]
    for char in [chr(code) for code in range(0x100)] + ["\u2028", "\u3000", "\ufeff", "\U0001f600"]:
        links += [f"http://{char}x.org/", f"https://{char}x.org/", f"https://{char}", f"http://x.org/a{char}b",
                  f"http{char}://x.org/", f"{char}http://x.org/", f"http://x.org/{char}"]
    assert len(links) > 1500
    assert [portals._item_url(link) for link in links] == [web_url(link) for link in links]


@pytest.mark.parametrize("keywords", [(), ("budget", "police"), ("board", "minutes", "Approval of"), ("BOARD MEETING",),
                                      ("café",), ("",), ("cleveland", "school district", "resolution", "contract")])
def test_agenda_item_keywords_are_those_keywords_each_finds(keywords: tuple[str, ...]) -> None:
    """The items' keywords are found by a shortcut of `keywords_each` (only titles holding a
    keyword's first word looked at): the same keywords for every meeting's titles."""
    for path in RECORDINGS:
        for meeting in re.findall(rb"<meeting .*?</meeting>", local(path), re.S):
            titles = [" ".join(t.decode().replace("&amp;", "&").split()) for t in re.findall(rb"<item .*?<name>([^<]*)</name>",
                                                                                               meeting, re.S)]
            titles += ["Café budget", "police\u00a0report"] if b"2019" in meeting else []
            assert portals._item_keywords(titles, keywords) == keywords_each(titles, keywords), (path, keywords)


def test_a_title_is_put_on_one_line_as_split_and_join_would() -> None:
    """Titles are put on one line by a shortcut of `" ".join(text.split())`: the same text for
    every title and name of the recordings and with every character at its start, middle or end."""
    texts = [t.decode() for path in RECORDINGS for t in re.findall(rb"<name>([^<]*)</name>", local(path))]
    for code in range(0x3100):
        texts += [f"{chr(code)}Board", f"Board{chr(code)}Meeting", f"Board{chr(code)}", f"a {chr(code)} b"]
    texts += ["", " ", "a  b", " a", "a ", "a\u00a0 b", "a \u3000b", "\ufeffa", "a\u200bb"]
    assert [portals._one_line(text) for text in texts] == [" ".join(text.split()) for text in texts]


def test_a_category_name_is_the_first_name_child_as_child_text_reads_it() -> None:
    """Categories' names are read by a loop over their children: the same text as `_child_text`
    for every category of the recordings and for names not first, in a namespace, a processing
    instruction so named, empty, doubled, or missing."""
    categories = [c for path in RECORDINGS for m in re.findall(rb"<meeting .*?</meeting>", local(path), re.S)
                  for c in etree.fromstring(m, etree.XMLParser(recover=True)).iter("category")]
    for xml in (b"<category><agendaitems/><name>A</name></category>", b'<category xmlns:x="urn:x"><x:name>A</x:name></category>',
                b"<category><?name A?><name>B</name></category>", b"<category><name/></category>", b"<category/>",
                b"<category><name>A</name><name>B</name></category>", b"<category><name>A<b>c</b>d</name></category>",
                b'<category xmlns="urn:x"><name>A</name></category>', b"<category>text<name> A </name></category>"):
        categories.append(etree.fromstring(xml))
    assert len(categories) > 700
    assert [portals._name_text(c) for c in categories] == [portals._child_text(c, "name") for c in categories]
