"""Parse untrusted XML: never a DTD, an entity or a network fetch; HTML error pages named as such."""

from __future__ import annotations

import re

from lxml import etree

_FORBIDDEN = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.I)


def parse_xml(data: bytes, error: type[ValueError], what: str) -> etree._Element:
    """The root element, or `error` with one line saying what is wrong with `data` as `what`."""
    head = data[:1024].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")):
        raise error(f"an HTML page, not {what} (the server may be showing an error page)")
    if b"<!" in data and _FORBIDDEN.search(data):
        raise error("refused: the document declares a DTD or entities (possible XML bomb)")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                             remove_comments=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise error(f"truncated or malformed XML: {' '.join(str(exc).split())}") from None
    if root is None:
        raise error(f"empty document, not {what}")
    return root
