"""Keep secrets out of every output: a registry of known secret values plus URL patterns.

Config loading registers every value that came from `${VAR}` and every token/api key; `mask()`
is applied to log records (a logging filter on the root logger), CLI output and stored errors.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import SplitResult, unquote, urlsplit

MASK = "***"
_known: set[str] = set()

# key=value pairs in query strings or text whose value is a credential (no `<` or `>`, never in an
# address: `<GET https://…?token=…>` keeps its bracket).
_QUERY_SECRET = re.compile(
    r"(?i)([?&;]|\b)(token|api_key|apikey|key|password|pass|secret|access_token|auth)=([^&\s\"'#<>]+)"
)
# user:password@ in URLs (apprise mailto://user:pass@host, https://user:pass@host), any password
# apprise takes (an unencoded ? or # in it too), but not a port and its query: in
# `mailto://127.0.0.1:2525?smtp=…&from=alerts@example.org` the `@` is the sender's, the port no
# password, and masking it would hide the host.
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^/\s:@]+):(?!\d{1,5}[?#][^@\s]*=)([^/\s@]+)@")


def register(value: str | None) -> None:
    """Remember a secret value so it is masked wherever it would appear."""
    if value and len(value) >= 4:
        _known.add(value)


def forget(value: str) -> None:
    """No longer mask a value registered as a secret (a number or true/false from the environment
    where its key takes one: masking "false" or "8080" would hide every one said)."""
    _known.discard(value)


def url_passwords(text: str) -> list[str]:
    """The passwords written in URLs' `user:password@` (one written literally in the config file is
    a secret all the same)."""
    return [found.group(3) for found in _USERINFO.finditer(text)]


def mask(text: str) -> str:
    """Replace registered secrets and credential-shaped URL parts with ***."""
    if not text:
        return text
    for value in sorted(_known, key=len, reverse=True):
        if value in text:
            text = text.replace(value, MASK)
    text = _USERINFO.sub(lambda m: f"{m.group(1)}{m.group(2)}:{MASK}@", text)
    return _QUERY_SECRET.sub(_masked_pair, text)


def _masked_pair(found: re.Match[str]) -> str:
    """`key=***`, closing brackets and a sentence's stops after the value kept: an address said in
    parentheses (`… (https://host/feed.ics?token=…)`) ends the line with its `)`, not in the secret."""
    value = found.group(3)
    kept = value.rstrip(")].,;:!?")
    if not kept:
        return found.group(0)
    return f"{found.group(1)}{found.group(2)}={MASK}{value[len(kept):]}"


def mask_url_path(url: str) -> str:
    """Apprise puts webhook secrets in the path (discord://id/TOKEN, json://host/path): keep the
    scheme and host only, for labels shown to operators. Given a masked URL (`mask` first), so a
    password is already `***`; a port is kept only when nothing after it could be the rest of an
    unencoded password (`json://me:12/34@host`: no `@` in the path)."""
    match = re.match(r"^([a-z][a-z0-9+.-]*)://([^/?#]*)", url, re.I)
    if not match:
        return MASK
    host = match.group(2).rsplit("@", 1)[-1]
    bracket = host.find("]") + 1 if host.startswith("[") else 0  # [::1]:2525
    name, _, port = host[bracket:].partition(":")
    name = host[:bracket] + name
    path = re.split(r"[?#]", url[match.end():], maxsplit=1)[0]
    keep = port.isdigit() and "@" not in path
    return f"{match.group(1)}://{name}{':' + port if keep else ''}/…"


# A query parameter whose value is a credential (the names `secrets.mask` hides, and more): an
# address holding one is never printed whole, and the block reads it from the environment.
SECRET_NAME = re.compile(r"token|secret|passw|api_?key|signature|credential"
                          r"|^(?:.*[_.-])?(?:key|pass|pwd|auth|sig|jwt)$", re.I)
# A calendar's private address (Google's `/private-<hex>/basic.ics`): the path is the key.
PRIVATE_PATH = re.compile(r"/private-([0-9a-f]{16,})(?=/|$)", re.I)


def query_pairs(query: str) -> list[tuple[str, str, str]]:
    """(the pair as written, its name, its value as written) of each part of a query."""
    pairs = []
    for pair in query.split("&"):
        name, _, value = pair.partition("=")
        pairs.append((pair, unquote(name.replace("+", " ")), value))
    return pairs


def _path_params(path: str) -> list[tuple[str, str, str]]:
    """(the parameter as written, its name, its value) of each `;name=value` a path's segments
    carry (`/calendar.ics;token=…`: `urlsplit` leaves them in the path)."""
    return [pair for segment in path.split("/") if ";" in segment
            for pair in query_pairs(segment.replace(";", "&").split("&", 1)[1])]


def url_parts(url: str) -> SplitResult:
    """`urlsplit(url)`, also of an address with a "[" or "]" that makes no IPv6 host (a typo in the
    config): `urlsplit` refuses it, and every command failed on it as the config loaded. Read with
    them escaped (each key is also given decoded, as written)."""
    try:
        return urlsplit(url)
    except ValueError:
        return urlsplit(url.replace("[", "%5B").replace("]", "%5D"))


def url_secrets(url: str) -> list[str]:
    """The credentials an address holds, as written and decoded: a key's value in its query or a
    path segment's parameters, the password before its host, a private calendar's path."""
    parts = url_parts(url)
    found = [value for _, name, value in query_pairs(parts.query) + query_pairs(parts.fragment)
             + _path_params(parts.path) if value and SECRET_NAME.search(name)]
    if parts.password:
        found.append(parts.password)
    found += [m.group(1) for m in PRIVATE_PATH.finditer(parts.path)]
    return [form for value in found for form in dict.fromkeys((value, unquote(value.replace("+", " "))))]


def keep_url_secrets(url: str) -> None:
    """Register the credentials of an address, so that every line printed or logged masks them: of
    at least 6 characters (a `key=2024` registered would mask every year said), and not a word (a
    page's `?token=Finance` would mask "Finance" in every meeting's name it lists; a key is never
    a word of letters in one case, and one of 16 letters or more is no word; nor are words, as
    `?token=Finance+Committee` decodes: "Finance Committee" masked every meeting's name saying it)."""
    for value in url_secrets(url):
        words = value.split(" ")
        said = all(w.isalpha() and (w.islower() or w.isupper() or w.istitle()) for w in words)
        if len(value) >= 6 and (not said or (len(words) == 1 and len(value) >= 16)):
            register(value)


class MaskingFilter(logging.Filter):
    """Masks secrets in every log record, Scrapy's request lines included."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not hide the record
            return True
        masked = mask(message)
        if masked != message:
            record.msg = masked
            record.args = None
        return True


def install_log_masking() -> None:
    root = logging.getLogger()
    if not any(isinstance(f, MaskingFilter) for f in root.filters):
        root.addFilter(MaskingFilter())
    for handler in root.handlers:
        if not any(isinstance(f, MaskingFilter) for f in handler.filters):
            handler.addFilter(MaskingFilter())
