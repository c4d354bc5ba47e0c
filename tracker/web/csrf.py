"""CSRF tokens for the forms: a signed double-submit cookie.

The browser holds a random nonce in a cookie (HttpOnly, SameSite=Strict) and the form carries
`{time}.{HMAC(key, nonce.time)}`: a POST is accepted only when the two belong together and the token
is younger than `MAX_AGE`. Nothing is kept per visitor on the server, so the digest's static pages
work: `tracker serve` fills the placeholder the digest wrote (digest.CSRF_PLACEHOLDER) with a token
for the visitor's cookie as it serves the page. A page opened elsewhere (a copy of the site on
another host) still holds the placeholder; its sign-up is refused with a fresh form to send again.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets as random_secrets

COOKIE = "tracker_csrf"
MAX_AGE = 24 * 3600  # a page left open for a day still signs up
_NONCE = 22  # token_urlsafe(16)


def new_nonce() -> str:
    return random_secrets.token_urlsafe(16)


def good_nonce(value: str | None) -> bool:
    return bool(value) and len(value) == _NONCE and all(c.isalnum() or c in "-_" for c in value)  # type: ignore[union-attr]


def _mac(key: bytes, nonce: str, stamp: int) -> str:
    return hmac.new(key, f"{nonce}.{stamp}".encode(), hashlib.sha256).hexdigest()[:40]


def token_for(key: bytes, nonce: str, now: float) -> str:
    stamp = int(now)
    return f"{stamp}.{_mac(key, nonce, stamp)}"


def valid(key: bytes, nonce: str | None, token: str | None, now: float) -> bool:
    """The form's token was made for this cookie by this server, less than MAX_AGE ago."""
    if not good_nonce(nonce) or not token or len(token) > 64 or "." not in token:
        return False
    stamp_text, mac = token.split(".", 1)
    if not (stamp_text.isascii() and stamp_text.isdigit()):  # isdigit() alone takes "²", which int() refuses
        return False
    stamp = int(stamp_text)
    if not (now - MAX_AGE <= stamp <= now + 60):
        return False
    return hmac.compare_digest(mac, _mac(key, nonce, stamp))  # type: ignore[arg-type]
