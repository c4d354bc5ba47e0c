"""Derived GovInfo BILLSTATUS bulk data for tests and benchmarks: packages and sitemaps.

No real BILLSTATUS ZIP package is small enough to keep in the repository (the 118th Congress's `hr`
package is 35.5 MB), so packages are *derived* from the real files under tests/data/federal: each
member is a real file with its bill number (and, where asked, Congress, type and title) rewritten,
and a comment at its top saying so. Sitemaps are written in GovInfo's form (`urlset`/`sitemapindex`
with `loc` and `lastmod`).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable
from pathlib import Path
from xml.sax.saxutils import escape

DERIVED = b"<!-- derived: a real BILLSTATUS file renumbered for a test package -->\n"
_DECL = re.compile(rb"^(<\?xml[^>]*\?>\s*)")


def _first(data: bytes, tags: tuple[str, ...], value: str) -> bytes:
    for tag in tags:
        pattern = re.compile(rb"<" + tag.encode() + rb">[^<]*</" + tag.encode() + rb">")
        if pattern.search(data):
            return pattern.sub(f"<{tag}>{value}</{tag}>".encode(), data, count=1)
    return data


def derive_bill(data: bytes, congress: int, bill_type: str, number: int, *, title: str | None = None,
                old_title: str | None = None) -> bytes:
    """A real file as another bill: number, type and Congress rewritten (both schemas); with
    `title`, every occurrence of its display title (`old_title`) becomes `title`."""
    legacy = b"<billNumber>" in data
    out = _first(data, ("billNumber",) if legacy else ("number",), str(number))
    out = _first(out, ("billType",) if legacy else ("type",), bill_type.upper())
    out = _first(out, ("congress",), str(congress))
    if title is not None and old_title:
        out = out.replace(escape(old_title).encode(), escape(title).encode())
    match = _DECL.match(out)
    if match:
        return match.group(1) + DERIVED + out[match.end():]
    return DERIVED + out


def write_package(path: Path, members: Iterable[tuple[str, bytes]], *,
                  date_time: tuple[int, int, int, int, int, int] = (2026, 11, 1, 12, 0, 0),
                  level: int = 6) -> int:
    """Write a ZIP package of (member name, bytes), one member at a time; returns the member count."""
    count = 0
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data, compresslevel=level)
            count += 1
    return count


def sitemap_xml(entries: Iterable[tuple[str, str | None]], *, index: bool = False) -> bytes:
    """A sitemap (or a sitemap index) listing (loc, lastmod)."""
    tag, item = ("sitemapindex", "sitemap") if index else ("urlset", "url")
    rows = "".join(
        f"<{item}><loc>{escape(loc)}</loc>" + (f"<lastmod>{mod}</lastmod>" if mod else "") + f"</{item}>"
        for loc, mod in entries
    )
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<{tag} xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"{rows}</{tag}>\n").encode()


def file_path(congress: int, bill_type: str, number: int) -> str:
    return f"/bulkdata/BILLSTATUS/{congress}/{bill_type}/BILLSTATUS-{congress}{bill_type}{number}.xml"


def package_path(congress: int, bill_type: str) -> str:
    return f"/bulkdata/BILLSTATUS/{congress}/{bill_type}/BILLSTATUS-{congress}-{bill_type}.zip"


def sitemap_path(congress: int, bill_type: str) -> str:
    return f"/sitemap/bulkdata/BILLSTATUS/{congress}{bill_type}/sitemap.xml"


INDEX_PATH = "/sitemap/bulkdata/BILLSTATUS/sitemapindex.xml"
