"""What the page parsers share (tracker/meetings/agendas.py, legistar_calendar.py): one HTML tree
per page, its links made absolute, the words of a node as a reader sees them, a link's label, and the
one line saying what a page that is no known listing holds. lxml's own HTML parser is used, not
lxml.html's: its element classes cost a Python call per node, and a 500-row page has tens of
thousands."""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable
from datetime import date, datetime, time
from urllib.parse import urljoin, urlsplit

from lxml import etree
from w3lib.encoding import html_to_unicode

from tracker.meetings.normalize import SourceParseError

__all__ = ["Resolver", "has_class", "html_tree", "link_label", "local_start", "page_seen", "page_text", "resolver", "slug",
           "text_line", "visible_words", "words_of"]


def _html_parser(encoding: str | None = None) -> etree.HTMLParser:
    """A parser of its own for each page (under a microsecond to make): lxml locks a parser while
    it reads, so a page left stalling it (`spiders.base.read_in_time`) would hold every later page
    that shared it. `huge_tree`: nesting up to 2048 levels (not 256: one row of a few hundred
    unclosed tags would end the page there, its later rows silently lost); the download cap bounds
    the rest it lifts. With `encoding` "utf-8" it reads UTF-8 bytes: given a `str`, lxml hands
    libxml2 its buffer in the string's own storage (UTF-16 once a page has a character past U+00FF)
    and libxml2 converts it all back."""
    return etree.HTMLParser(remove_comments=True, remove_pis=True, collect_ids=False, encoding=encoding,
                            huge_tree=True)


# the byte order marks of UTF-16 and UTF-32 (UTF-32LE's starts with UTF-16LE's)
_WIDE_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_BE)
# a `Content-Type` naming UTF-16 or UTF-32 (the header, unlike a `<meta>`, is taken at its word)
_WIDE_HEADER = re.compile(r"charset=[\"']?utf-?(?:16|32)", re.I)
# html_to_unicode's names of the single-byte Latin charsets pages declare (ISO-8859-1 is read as cp1252)
_LATIN = frozenset({"cp1252", "latin-1", "latin1", "iso8859-1", "iso8859-15", "cp1250", "iso8859-2"})


def page_text(data: bytes, content_type: str | None = None) -> tuple[str, str]:
    """(encoding, text) of a page as a browser reads it: by its BOM, the `Content-Type` header's
    charset, its `<meta charset>`, else UTF-8. A charset no text decodes with ("undefined",
    "base64": w3lib raises) is passed over, as a browser passes over one it does not know. A page
    declaring a single-byte Latin charset whose bytes are UTF-8 (Burbank's Granicus page says
    ISO-8859-1 and writes "’" in three bytes) is read as UTF-8: text in those charsets almost never
    forms valid UTF-8 sequences, and reading it as declared gives "TREASURERâ€™S". A `<meta>` naming
    UTF-16 or UTF-32 (no BOM, no header saying so) is read as UTF-8, as the HTML standard's sniffing
    has browsers do: its bytes are ASCII-compatible (the meta was read in them), and taken at its
    word the page was a run of CJK characters."""
    for header in dict.fromkeys((content_type or None, None)):
        try:
            encoding, text = html_to_unicode(header, data)
            break
        except (LookupError, ValueError):
            continue
    else:
        return "utf-8", data.decode("utf-8", "replace")
    if (encoding in _LATIN and not data.isascii() and _is_utf8(data)) or (
            encoding.startswith(("utf-16", "utf-32")) and not data.startswith(_WIDE_BOMS)
            and not _WIDE_HEADER.search(content_type or "")):
        encoding, text = html_to_unicode("text/html; charset=utf-8", data)
    return encoding, text


def html_tree(data: bytes) -> etree._Element:
    """The page as `page_text` reads it, parsed; comments dropped (templates keep old links in them)."""
    encoding, text = page_text(data)
    try:
        if not text or text.isspace():
            root = None
        elif _is_utf8_of(data, encoding, text):
            root = etree.fromstring(data, parser := _html_parser("utf-8"))  # the same characters, unconverted
        else:
            root = etree.fromstring(text, parser := _html_parser())
    except (etree.ParserError, ValueError):
        root = None
    if root is None:
        raise SourceParseError("an empty page, not a meeting listing")
    if any(error.type_name == "ERR_RESOURCE_LIMIT" for error in parser.error_log):
        # libxml2 stops reading a page nested past its limit (2048 levels with `huge_tree`; 256
        # without, which a sloppy page of unclosed tags can reach): what it kept is not the page
        raise SourceParseError("the page nests its elements deeper than 2048 levels: its rows after that "
                               "point cannot be read")
    return root


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _is_utf8_of(data: bytes, encoding: str, text: str) -> bool:
    """Whether `data` is exactly `text` in UTF-8: `html_to_unicode` read it as UTF-8 (`utf8` is its
    default's spelling) with no byte replaced (a bad byte becomes U+FFFD, so a text without one had
    none) and no byte order mark (which it drops from the text)."""
    return encoding in ("utf-8", "utf8") and not data.startswith(codecs.BOM_UTF8) and "\ufffd" not in text


Resolver = Callable[[str], str]


# a page in the base's own folder with a plain query (`FileOpen.aspx?Type=14&ID=3810`): no scheme,
# "/", "..", "#", blank or backslash, so joining it is appending it to the folder
_PLAIN_RELATIVE = re.compile(r"[A-Za-z][\w-]*\.[A-Za-z]{2,5}(?:\?[\w.=&%+-]*)?", re.ASCII)


def resolver(base: str) -> Resolver:
    """Absolute addresses of a page's links, the common forms (absolute, `//host/...`, `/path`, a
    page in the same folder) without `urljoin`'s full parse: a 500-row page has thousands of links."""
    parts = urlsplit(base)
    scheme, origin = parts.scheme or "https", f"{parts.scheme}://{parts.netloc}"
    # the folder a relative link is joined to, where joining needs no dot segment removed
    folder = f"{origin}{parts.path.rsplit('/', 1)[0]}/" if "/." not in parts.path and ";" not in parts.path else None

    def absolute(href: str) -> str:
        if href.startswith(("http://", "https://")):
            if "[" not in href and "]" not in href:  # no bracket in it, so none in its host
                return href
            host = href[href.index("//") + 2:].split("/", 1)[0]
            return urljoin(base, href) if "[" in host or "]" in host else href  # urljoin checks it
        if href.startswith("//"):
            return f"{scheme}:{href}"
        if href.startswith("/") and "/." not in href:
            return origin + href
        if folder is not None and _PLAIN_RELATIVE.fullmatch(href):
            return folder + href
        return urljoin(base, href)

    return absolute



# The text pieces under a node, as `itertext()` gives them (its text, each descendant's text and
# tail, in page order), read by libxml2 in one call: `itertext()` makes an element object per
# descendant. The same pieces: the parser joins adjacent text into one node, as lxml's `.text` does.
# Without `regexp=False` each call would register the EXSLT regular-expression functions again.
_TEXT_NODES = etree.XPath("descendant::text()", smart_strings=False, regexp=False)


# The class of an element (not a comment) in html_tree's trees; lxml.html's classes are others, and
# their nodes take the slow paths.
_PLAIN = etree._Element


def text_line(node: etree._Element) -> list[etree._Element] | None:
    """`node` and its one child, that child's one child and so on down (`<td><font>1/31/2019</font>
    </td>`: NYC's rows wrap every cell in `<font>`), when nothing along the way holds words but the
    last one's own text: then that text is all the words of `node`. Else None."""
    if (end := _line_end(node)) is None:
        return None
    line = [node]
    while line[-1] is not end:
        line.append(line[-1][0])
    return line


def _line_end(node: etree._Element) -> etree._Element | None:
    """The last element of `text_line(node)`, found without keeping the line (a 500-row page has
    thousands of cells)."""
    while count := len(node):  # counts comments too: a child that is not a plain element is no line
        if count > 1 or type(child := node[0]) is not _PLAIN:
            return None
        text = node.text
        if text and not text.isspace():
            return None
        tail = child.tail
        if tail and not tail.isspace():
            return None
        node = child
    return node


def row_cells(row: etree._Element) -> list[etree._Element]:
    """A table row's own cells (`td` and `th`), not those of a table nested in one."""
    return [cell for cell in row if cell.tag in ("td", "th")]


def words_of(node: etree._Element | None) -> str:
    """The node's words, white space (and `&nbsp;`) collapsed (a script's text too: a listing's
    cells hold none)."""
    if node is None:
        return ""
    if len(node) == 0:  # words only (most cells and paragraphs)
        return " ".join((node.text or "").split())
    if (end := _line_end(node)) is not None:  # one text under wrappers: the other pieces are white space
        return " ".join((end.text or "").split())
    return " ".join(" ".join(_TEXT_NODES(node)).split())  # an empty piece only adds white space


def visible_words(node: etree._Element) -> str:
    """The words a reader sees in `node`: without elements hidden by `display:none` (Granicus hides
    a sort key, the meeting's Unix time, inside its date links)."""
    if not any(element.get("style") for element in node.iterdescendants()):
        return words_of(node)  # nothing in it can be hidden (most links): its words
    parts: list[str] = []

    def walk(element: etree._Element) -> None:
        if element.text:
            parts.append(element.text)
        for child in element:
            if isinstance(child.tag, str) and "display:none" not in (child.get("style") or "").replace(" ", "").lower():
                walk(child)
            if child.tail:
                parts.append(child.tail)

    walk(node)
    return " ".join(" ".join(parts).split())


def has_class(node: etree._Element, name: str) -> bool:
    return name in (node.get("class") or "").split()


def link_label(element: etree._Element) -> str | None:
    """What a link says: its visible words, a button's value, its image's alt text, its title."""
    if len(element) == 0 and (text := element.text) and not text.isspace():  # most links: words only
        return " ".join(text.split())
    # one text under wrappers none of which has a style (`<a><font>Agenda</font></a>`): nothing can
    # be hidden, so its visible words are its words, and a link with words is labelled by them
    line = text_line(element)
    if line is not None and not any(el.get("style") for el in line[1:]) and (
            words := " ".join((line[-1].text or "").split())):
        return words
    return (visible_words(element) or element.get("value")
            or " ".join(img.get("alt") or "" for img in element.iter("img")).strip()
            or element.get("title") or element.get("aria-label"))



def page_seen(root: etree._Element) -> str:
    """What a page that is no known listing holds, for its one problem line."""
    title = " ".join((root.findtext(".//title") or "").split())[:60]
    tables = sum(1 for _ in root.iter("table"))
    rows = sum(1 for _ in root.iter("tr"))
    return f"the page ({title!r}) has {tables} tables and {rows} table rows" if title else \
        f"the page has {tables} tables and {rows} table rows"



def local_start(day: date, clock: time | None) -> datetime | None:
    return datetime.combine(day, clock) if clock else None



def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")[:80] or "meeting"
