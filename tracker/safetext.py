"""Text from sources made safe for the formats it is written into: the one place each boundary is
decided, so no field of any source can stop a writer or smuggle something into its output.

- `web_url`: every URL that reaches an `href`, a message or a calendar (http/https only; a
  `javascript:` or `data:` link from a source never becomes a clickable link).
- `one_line`: a value written where a line break is structure, not text: iCalendar properties
  (a raw CR or LF ends the content line, and icalendar refuses one in X-WR-CALNAME), mail subjects
  and message titles (a header), Atom entry titles.
- `xml_text`: text in HTML and Atom: the characters XML 1.0 forbids (NUL, the C0 controls but tab,
  LF and CR, lone surrogates, U+FFFE/U+FFFF) make a feed unreadable to every reader.

The ground floor: imports nothing of the project.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# http(s) with a host; no white space or control character anywhere (a tab or newline inside a
# scheme, "java\tscript:", is how filters are dodged).
_WEB = re.compile(r"^https?://[^\s/?#\\]+[^\s]*$", re.I)
_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*):(.+)$", re.I)
# C0 and C1 controls, DEL, and the Unicode line and paragraph separators (a line break to some readers).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_SPACE = re.compile(r"\s")  # any character str.isspace() calls white space (the same Unicode table)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# The common case in one match: an http(s) URL with neither white space nor a control character
# anywhere (what the three tests below accept, without stripping); anything else takes them.
_PLAIN_WEB = re.compile("https?://[^\\s/?#\\\\\x00-\x1f\x7f-\x9f\u2028\u2029][^\\s\x00-\x1f\x7f-\x9f\u2028\u2029]*", re.I)
# In ASCII, the printable characters but the space are exactly those it allows after the scheme:
# such a URL needs only its start matched (str methods read the rest several times faster).
_PLAIN_WEB_START = re.compile(r"https?://[^/?#\\]", re.I)


def web_url(value: object, *, also: Iterable[str] = ()) -> str | None:
    """`value` when it is an http(s) URL (or uses one of the schemes in `also`, e.g. `("mailto",
    "tel")` where a mail or phone link is meant), else None. White space around it is dropped;
    white space or a control character inside it refuses it."""
    if type(value) is str and ((value.isascii() and value.isprintable() and " " not in value
                                and _PLAIN_WEB_START.match(value)) or _PLAIN_WEB.fullmatch(value)):
        return value
    text = str(value or "").strip()
    if not text or _CONTROL.search(text) or _SPACE.search(text):
        return None
    if _WEB.match(text):
        return text
    allowed = {scheme.lower() for scheme in also}
    match = _SCHEME.match(text)
    return text if allowed and match and match.group(1).lower() in allowed else None


def one_line(value: object) -> str:
    """`value` as one line: every control character and line break becomes a space, runs of white
    space one space."""
    return " ".join(_CONTROL.sub(" ", str(value or "")).split())


def printable(text: str) -> str:
    """`text` with each character that is not printable (a NUL, an escape, a line break) shown as
    "?": for a problem line quoting what a source sent, which reaches logs, mails and terminals."""
    return text if text.isprintable() else "".join(c if c.isprintable() else "?" for c in text)


def xml_text(value: str) -> str:
    """`value` without the characters XML 1.0 does not allow (line breaks and tabs are kept)."""
    return _NOT_XML.sub("", value) if _NOT_XML.search(value) else value
