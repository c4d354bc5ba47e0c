"""No key a public page carries is kept in the repository's recordings or shipped data.

Public pages embed keys of the services they use (CivicPlus pages a Google Maps browser key,
Legistar and Granicus pages New Relic's browser licence key, some sites Monsido's site token). They
are public, but they are someone's keys: a recording here keeps the page with the key's value
masked (`x` for each character, so every recorded size stays true), and this test keeps it so.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLACES = [ROOT / "tests" / "data", ROOT / "tracker", ROOT / "config", ROOT / "templates"]
KEYS = {
    "a Google API key": re.compile(rb"AIza[0-9A-Za-z_-]{35}"),
    "a New Relic licence key": re.compile(rb'"?licenseKey"?\s*:\s*"(?!x+")[^"]{6,}"'),
    "a Monsido site token": re.compile(rb'_monsido[^;]{0,80}?token:\s*"(?!x+")[^"]{6,}"', re.S),
}


def _files() -> list[Path]:
    return [path for place in PLACES if place.exists() for path in sorted(place.rglob("*"))
            if path.is_file() and "__pycache__" not in path.parts]


def test_recordings_and_shipped_files_hold_no_key() -> None:
    found = [f"{path.relative_to(ROOT)}: {what}" for path in _files() for what, pattern in KEYS.items()
             if pattern.search(path.read_bytes())]
    assert not found, "keys kept (mask the value, see this test's docstring):\n" + "\n".join(found)


def test_the_scan_sees_the_recordings() -> None:
    """The places scanned hold the pages whose keys were masked (a scan of nothing proves nothing)."""
    names = {path.name for path in _files()}
    assert {"lascruces_agendacenter_search.html", "nyc_calendar.html", "inglewood_agendacenter.html"} <= names
    masked = (ROOT / "tests/data/local/corpus/civicplus/inglewood_agendacenter.html").read_bytes()
    assert b'token: "xxxxxxxxxxxxxxxxxxxxxx"' in masked
