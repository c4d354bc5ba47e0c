"""Text from sources made safe for the formats it is written into: the one place each boundary is
decided, so no field of any source can stop a writer or smuggle something into its output.

- `web_url`: every URL that reaches an `href`, a message or a calendar (http/https only; a
  `javascript:` or `data:` link from a source never becomes a clickable link; nor does one that
  reads as another address: user information before the host, a bidirectional override).
- `one_line`: a value written where a line break is structure, not text: iCalendar properties
  (a raw CR or LF ends the content line, and icalendar refuses one in X-WR-CALNAME), mail subjects
  and message titles (a header), Atom entry titles.
- `xml_text`: text in HTML and Atom: the characters XML 1.0 forbids (NUL, the C0 controls but tab,
  LF and CR, lone surrogates, U+FFFE/U+FFFF) make a feed unreadable to every reader.
- `markdown_text`: source text inside Markdown (alert bodies; titles where a chat service renders
  them): no raw HTML, no link or emphasis smuggled in.
- `no_mentions`: a message to a chat service: a source's "@everyone", "@channel" or "<!here>" is
  shown, never acted on (a word joiner after the "@": invisible, and no service's mention).
- `terminal`: what the CLI prints: an escape sequence from a source (ESC, OSC 52 clipboard writes,
  a screen clear) is shown as "?", never run by the terminal.

And one on the way in, since no writer could take it: `json_loads` (every JSON a source sends),
whose strings hold no lone UTF-16 surrogate (a source cutting a title in the middle of an emoji).

The ground floor: imports nothing of the project.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable
from typing import Any

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


# What makes a link read as another address than the one it leads to, in a message or calendar
# that shows it: the bidirectional formatting characters (RFC 3987 4.1: never in an IRI; U+202E
# shows ".../agenda<U+202E>fdp.exe" as ".../agendaexe.pdf") and user information before the host
# ("https://nyc.legistar.com@evil.example/" leads to evil.example). No public page needs either.
_BIDI = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_AUTHORITY_END = re.compile(r"[/?#]")


def _misleading(url: str) -> bool:
    """An http(s) URL that shows one address and leads to another (`_BIDI`, user information)."""
    if "@" in url and "@" in _AUTHORITY_END.split(url.split("://", 1)[1], maxsplit=1)[0]:
        return True
    return not url.isascii() and _BIDI.search(url) is not None


def web_url(value: object, *, also: Iterable[str] = ()) -> str | None:
    """`value` when it is an http(s) URL (or uses one of the schemes in `also`, e.g. `("mailto",
    "tel")` where a mail or phone link is meant), else None. White space around it is dropped;
    white space or a control character inside it refuses it, and so does what would make it read
    as another address (`_misleading`)."""
    if type(value) is str and ((value.isascii() and value.isprintable() and " " not in value
                                and _PLAIN_WEB_START.match(value)) or _PLAIN_WEB.fullmatch(value)):
        return None if _misleading(value) else value
    text = str(value or "").strip()
    if not text or _CONTROL.search(text) or _SPACE.search(text) or _BIDI.search(text):
        return None
    if _WEB.match(text):
        return None if _misleading(text) else text
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


def markdown_text(value: object, *, escape_html: bool = True) -> str:
    """Source text inside Markdown: no raw HTML (apprise turns Markdown into HTML for email),
    no emphasis, code or link smuggled in. `escape_html=False` for a chat title, which no service
    turns into HTML and some show as written ("&amp;" would be seen)."""
    text = str(value or "")
    return re.sub(r"([\\`*_\[\]])", r"\\\1", html.escape(text, quote=False) if escape_html else text)


# A mention: "@" starting a word ("@everyone", "@here", "@channel", "@all", "@room", "@name"), or
# "!", "@" or "#" right after "<" (Slack's "<!channel>", Discord's "<@123>"), also as "&lt;" (escaped
# Markdown, which apprise turns back into "<" for Slack). A web address is matched first and left
# whole ("https://mastodon.social/@council" stays a working link).
_MENTION = re.compile(r"(?i:https?://\S+)|(?:(?<=<)|(?<=&lt;))[!@#]|(?<![\w.+-])@(?=\w)")
_WORD_JOINER = "\u2060"


def no_mentions(text: str) -> str:
    """`text` for a chat service: each mention's "@" (or "<!", "<@") followed by a word joiner,
    which no service reads as a mention and no reader sees."""
    if "@" not in text and "<" not in text and "&lt;" not in text:
        return text
    return _MENTION.sub(lambda found: found.group() if len(found.group()) > 1 else found.group() + _WORD_JOINER,
                        text)


# What a terminal acts on: the C0 controls but tab and LF, DEL, the C1 controls (a lone 0x9b is CSI
# to some terminals) and the bidirectional overrides and isolates (a line that reads differently
# from what it says).
_TERMINAL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def terminal(text: str) -> str:
    """`text` as the CLI prints it: each character a terminal would act on shown as "?" (line
    breaks and tabs kept: several lines may be printed at once)."""
    return text if text.isprintable() else _TERMINAL.sub("?", text)


# A JSON escape of a UTF-16 surrogate: a pair ("\\ud83d\\udea8") is read as one character, but
# alone ("\\ud83d": a source that cut its text in the middle of an emoji) it is a lone surrogate,
# which no UTF-8 writer (the database, a page, a mail) can encode.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("\\\\u[dD][89a-fA-F]|[\ud800-\udfff]")  # in text: escaped, or there already
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def json_loads(data: bytes | str) -> Any:
    """`json.loads(data)`, each lone surrogate in its strings (keys too) made U+FFFD: one character
    of a source's text lost, not the record that holds it."""
    value = json.loads(data)
    suspect = _SURROGATE.search(data) if isinstance(data, str) else _SURROGATE_ESCAPE.search(data)
    return _whole(value) if suspect else value


def _whole(value: Any) -> Any:
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_whole(item) for item in value]
    if isinstance(value, dict):
        return {_whole(key): _whole(item) for key, item in value.items()}
    return value
