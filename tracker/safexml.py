"""Parse untrusted XML: never a DTD, an entity or a network fetch; HTML error pages named as such."""

from __future__ import annotations

import re

from lxml import etree

_FORBIDDEN = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.I)
REFUSED = "refused: the document declares a DTD or entities (possible XML bomb)"


class _NothingExternal(etree.Resolver):
    """No file, and no address, is ever read for a document: lxml's `no_network` leaves the file
    system open to a DTD's external entities (`<!ENTITY % z SYSTEM "file:///dev/zero"> %z;` read
    forever; any local file read on a document's word)."""

    def resolve(self, url: str | None, pubid: str | None, context: object) -> object:
        return self.resolve_string("", context)


def safe_parser(**options: object) -> etree.XMLParser:
    """An XML parser that resolves no entity, loads no DTD, builds no huge tree and reads nothing
    outside the document it is given (`options`: the caller's own, a target, recovery...)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                             collect_ids=False, **options)
    parser.resolvers.add(_NothingExternal())
    return parser


def declared_in_bytes(data: bytes) -> bool:
    """Whether `data` declares a DTD or an entity where its bytes show it (UTF-8 and its kin; a
    document in UTF-16 hides it from this, never from `parse_xml`)."""
    return b"<!" in data and _FORBIDDEN.search(data) is not None


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
    record of a larger document; still no DTD, entity or network). A DTD is refused whatever the
    document's encoding: seen in the bytes (UTF-8 and its kin), else in what the parser met."""
    if problem := html_instead(data, what):
        raise error(problem)
    if declared_in_bytes(data):
        raise error(REFUSED)
    parser = safe_parser(remove_comments=True, remove_blank_text=layout_only_blanks, recover=recover)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        if _has_dtd(data):  # (a DTD in an encoding the bytes' check cannot read: UTF-16, UTF-32...)
            raise error(REFUSED) from None
        raise error(f"truncated or malformed XML: {' '.join(str(exc).split())}") from None
    if root is None:
        raise error(f"empty document, not {what}")
    tree = root.getroottree()
    if tree.docinfo.internalDTD is not None or tree.docinfo.doctype:
        raise error(REFUSED)
    return root


def _has_dtd(data: bytes) -> bool:
    """Whether a document the parser could not read declares a DTD, in whatever encoding: read again
    past its faults (only when it failed), nothing outside it read."""
    parser = safe_parser(recover=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError:
        return False
    if root is None:
        return False
    docinfo = root.getroottree().docinfo
    return docinfo.internalDTD is not None or bool(docinfo.doctype)
