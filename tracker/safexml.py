"""Parse untrusted XML: never a DTD, an entity or a network fetch; HTML error pages named as such."""

from __future__ import annotations

import re

from lxml import etree

_FORBIDDEN = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.I)


def html_instead(data: bytes, expected: str) -> str | None:
    """One line when `data` is an HTML page where `expected` was asked for: servers answer an outage
    or a moved resource with an HTML page and status 200."""
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<!doctype html", b"<html")):
        return f"an HTML page, not {expected} (the server may be showing an error page)"
    return None


def parse_xml(data: bytes, error: type[ValueError], what: str, *, layout_only_blanks: bool = False,
              recover: bool = False) -> etree._Element:
    """The root element, or `error` with one line saying what is wrong with `data` as `what`.
    `layout_only_blanks`: the document has no mixed content, so white space between its elements
    is layout and is not kept (a third cheaper to parse). `recover`: read past mismatched tags (one
    record of a larger document; still no DTD, entity or network)."""
    if problem := html_instead(data, what):
        raise error(problem)
    if b"<!" in data and _FORBIDDEN.search(data):
        raise error("refused: the document declares a DTD or entities (possible XML bomb)")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                             remove_comments=True, collect_ids=False, remove_blank_text=layout_only_blanks,
                            recover=recover)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise error(f"truncated or malformed XML: {' '.join(str(exc).split())}") from None
    if root is None:
        raise error(f"empty document, not {what}")
    return root
