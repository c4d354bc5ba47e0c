"""No key a public page carries is kept in the repository's recordings or shipped data.

Public pages embed keys of the services they use (CivicPlus pages a Google Maps browser key,
Legistar and Granicus pages New Relic's browser licence key, some sites Monsido's site token). They
are public, but they are someone's keys: a recording here keeps the page with the key's value
masked (`x` for each character, so every recorded size stays true), and this test keeps it so.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PLACES = [ROOT / "tests" / "data", ROOT / "tracker", ROOT / "config", ROOT / "templates", ROOT / "docs",
          ROOT / "README.md"]
QUOTE = rb"""(?:\\?["']|&quot;)"""  # a quote as a page, a JSON string or an HTML attribute writes it
KEYS = {
    "a Google API key": re.compile(rb"(AIza[0-9A-Za-z_-]{35})"),
    "a New Relic licence key": re.compile(rb"licenseKey" + QUOTE + rb"?\s*[:=]\s*" + QUOTE + rb"([^\"'&\\\s]{6,})"),
    "a Monsido site token": re.compile(rb"_monsido.{0,200}?\btoken" + QUOTE + rb"?\s*:\s*" + QUOTE
                                       + rb"([^\"'&\\\s]{6,})", re.S),
}


def _files() -> list[Path]:
    found = []
    for place in PLACES:
        paths = sorted(place.rglob("*")) if place.is_dir() else [place]
        found += [path for path in paths if path.is_file() and "__pycache__" not in path.parts]
    return found


def _kept(data: bytes, pattern: re.Pattern[bytes]) -> bool:
    """Whether `data` holds a value of the key `pattern` finds that is not masked (all `x`)."""
    return any(match.group(1).strip(b"x") for match in pattern.finditer(data))


def test_recordings_and_shipped_files_hold_no_key() -> None:
    found = [f"{path.relative_to(ROOT)}: {what}" for path in _files() for what, pattern in KEYS.items()
             if _kept(path.read_bytes(), pattern)]
    assert not found, "keys kept (mask the value, see this test's docstring):\n" + "\n".join(found)


@pytest.mark.parametrize("written", [
    b'NREUM.info={"licenseKey":"2fdd6b8d1a"}', b"licenseKey: '2fdd6b8d1a'", b'{\\"licenseKey\\":\\"NRJS-2fdd6b8d1a\\"}',
    b"data-nr=\"{&quot;licenseKey&quot;:&quot;NRJS-2fdd6b8d1a&quot;}\"", b'window._monsido = {\n token: "clOqy7ag_iAX6i0aMz3GXQ"',
    b'window._monsido = {"token": "clOqy7ag_iAX6i0aMz3GXQ"}', b"key=AIzaSyA0123456789abcdefghijklmnopqrstuv",
])
def test_the_scan_finds_a_key_however_it_is_quoted(written: bytes) -> None:
    assert any(_kept(written, pattern) for pattern in KEYS.values())
    masked = re.sub(rb"2fdd6b8d1a|clOqy7ag_iAX6i0aMz3GXQ|AIza[0-9A-Za-z]{35}|NRJS-", lambda m: b"x" * len(m.group(0)),
                    written)
    assert not any(_kept(masked, pattern) for pattern in KEYS.values())


def test_the_scan_sees_the_recordings() -> None:
    """The places scanned hold the pages whose keys were masked (a scan of nothing proves nothing)."""
    names = {path.name for path in _files()}
    assert {"lascruces_agendacenter_search.html", "nyc_calendar.html", "inglewood_agendacenter.html"} <= names
    masked = (ROOT / "tests/data/local/corpus/civicplus/inglewood_agendacenter.html").read_bytes()
    assert b'token: "xxxxxxxxxxxxxxxxxxxxxx"' in masked
