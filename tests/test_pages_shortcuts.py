"""The shortcuts of tracker/meetings/pages.py and the page parsers give what the slow path gives:
a UTF-8 page parsed from its bytes is the tree of its decoded text; an onclick told apart by its
characters, or matched only where its words start, opens what the search finds; a Granicus row's
name and date cells found in one pass are the ones two searches found."""

from __future__ import annotations

from pathlib import Path

import pytest
from listings import listing_read
from lxml import etree
from w3lib.encoding import html_to_unicode

from tracker.meetings import agendas, pages

LOCAL = Path(__file__).parent / "data" / "local"
PAGES = sorted(path for path in LOCAL.rglob("*") if path.suffix.lower() in (".html", ".htm"))


def slow_tree(data: bytes) -> etree._Element:
    """The page as `html_tree` read every page before: its decoded text, parsed (in UTF-8 where it
    declares a Latin charset and its bytes are UTF-8, as Burbank's)."""
    encoding, text = html_to_unicode(None, data)
    if encoding in pages._LATIN:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            _, text = html_to_unicode("text/html; charset=utf-8", data)
    return etree.fromstring(text, pages._html_parser())


def same_tree(data: bytes) -> None:
    fast, slow = pages.html_tree(data), slow_tree(data)
    assert etree.tostring(fast, encoding="unicode") == etree.tostring(slow, encoding="unicode")
    assert [(el.sourceline, el.tag) for el in fast.iter()] == [(el.sourceline, el.tag) for el in slow.iter()]


def test_recorded_pages_parse_the_same() -> None:
    assert len(PAGES) > 40
    for path in PAGES:
        same_tree(path.read_bytes())


@pytest.mark.parametrize("data", [
    "<html><body><p>caf\u00e9 \u2014 \u25bc \U0001f600</p></body></html>".encode(),
    b"<html><head><meta charset='iso-8859-1'></head><body><p>caf\xe9</p></body></html>",
    b"<html><body><p>caf\xe9 (no charset: a bad UTF-8 byte)</p></body></html>",
    b"\xef\xbb\xbf<html><body><p>caf\xc3\xa9 after a byte order mark</p></body></html>",
    b"<html><head><meta charset='utf-8'></head><body><p>\xef\xbf\xbd written U+FFFD</p></body></html>",
    b"<html><body><p>a\x00b\x01c\x0cd\x7fe\r\nf</p><!-- x --><p>\xc2\x85 \xc2\xa0 next line, nbsp</p></body></html>",
    b"<html><head><meta http-equiv='Content-Type' content='text/html; charset=windows-1252'></head>"
    b"<body><p>\x93quoted\x94 \x81</p></body></html>",
    b"<p>no html element, \xe2\x80\x99 a quote</p>",
])
def test_made_pages_parse_the_same(data: bytes) -> None:
    same_tree(data)


@pytest.mark.parametrize("onclick", [
    "showDownloadMenu(808, 7, 'agendaDD808', event, false); return false;",
    "window.open('//lawa.granicus.com/MediaPlayer.php?view_id=4&clip_id=1','player')",
    "WINDOW.OPEN('/x')", "location = '/y'", "Location.Href='/z'", "location.assign('/w')",
    "toggle(this)", "", "\u017fhow('/x')", "window\uff0eopen('/x')",
    "location.reload(); window.open('/Agenda.PDF?ID=7')", "var location = 1; Window.Open( \"/B\" ); location.href='/C'",
    "window.openwindow.open('/a')", "locationlocation = '/d'", "window.open(url)", "window.open('/a', 'x'); window.open('/b')",
])
def test_onclick_shortcut_finds_what_the_search_finds(onclick: str) -> None:
    assert agendas._opened(onclick) == agendas._OPENED.findall(onclick)


def cell_named(cells: list[etree._Element], *names: str) -> etree._Element | None:
    """A Granicus row's cell as it was found before, one search per cell kind."""
    for cell in cells:
        headers = (cell.get("headers") or "").split(None, 1)
        if headers and headers[0].lower() in names:
            return cell
        if (classes := cell.get("class")) and any(word.lower() in names for word in classes.split()):
            return cell
    return None


@pytest.mark.parametrize("row", [
    '<td headers="Name" class="listItem">a</td><td headers="Date Regular-Meeting">b</td>',
    '<td class="listItem">a</td><td headers="EventDate x" class="Name">b</td><td class="date">c</td>',
    '<td class="name date">a</td><td headers="Name">b</td>',
    '<td headers=" eventname  x">a</td><td class="x \u0130 EVENTDATE">b</td>',
    '<td>a</td><td>b</td>', '',
])
def test_granicus_cells_found_in_one_pass_as_in_two(row: str) -> None:
    cells = list(etree.fromstring(f"<table><tr>{row}</tr></table>", etree.HTMLParser()).iter("td"))
    assert agendas._named_cells(cells) == (cell_named(cells, "name", "eventname"), cell_named(cells, "date", "eventdate"))


@pytest.mark.slow
def test_the_words_of_every_node_of_every_recorded_page_are_its_text_pieces_joined() -> None:
    """`words_of` reads a leaf's text, or one text under wrappers (`text_line`), directly: the same
    words as every text piece under the node, joined and collapsed."""
    checked = 0
    for path in PAGES:
        for node in pages.html_tree(path.read_bytes()).iter():
            if isinstance(node.tag, str) and len(node):
                assert pages.words_of(node) == " ".join(" ".join(node.xpath("descendant::text()")).split()), path
                checked += pages.text_line(node) is not None
    assert checked > 1_000  # the direct reading is met, not only the slow one


@pytest.mark.parametrize("charset", ["undefined", "base64", "idna", "utf-16", "UTF-16LE", "utf-32"])
def test_a_page_naming_a_charset_no_text_decodes_with_is_read_as_utf8(charset: str) -> None:
    """Tulsa council's Granicus page (real) declaring a charset Python has a codec of that decodes
    no text: html_tree raised UnicodeError or LookupError, no SourceParseError, and the page was no
    reading at all (a spider's exception, not a line); or one naming UTF-16 or UTF-32 over its
    ASCII-compatible bytes: read as CJK characters, no row found. Now it is read as a browser reads it."""
    page = (LOCAL / "corpus/granicus/tulsa_council_viewpublisher.html").read_bytes()
    declared = page.replace(b"<head>", f'<head><meta charset="{charset}">'.encode(), 1)
    assert declared != page
    plain, said = listing_read(agendas.parse_granicus, page), listing_read(agendas.parse_granicus, declared)
    assert said.meetings and said.meetings == plain.meetings and said.problems == plain.problems
