"""Derived GovInfo BILLSTATUS bulk data for tests and benchmarks: packages and sitemaps.

No real BILLSTATUS ZIP package is small enough to keep in the repository (the 118th Congress's `hr`
package is 35.5 MB), so packages are *derived* from the real files under tests/data/federal: each
member is a real file with its bill number (and, where asked, Congress, type and title) rewritten,
and a comment at its top saying so. Sitemaps are written in GovInfo's form (`urlset`/`sitemapindex`
with `loc` and `lastmod`).
"""

from __future__ import annotations

import re
import struct
import zipfile
import zlib
from collections.abc import Iterable, Sequence
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


# ZIP records as zipfile writes them (APPNOTE 4.3): local header, central directory entry, the ZIP64
# end of central directory record and its locator, the end of central directory record.
_LOCAL = struct.Struct("<4s2B4HL2L2H")
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")
_END64 = struct.Struct("<4sQ2H2L4Q")
_LOCATOR64 = struct.Struct("<4sLQL")
_END = struct.Struct("<4s4H2LH")
_ZIP64_LIMIT = (1 << 31) - 1  # zipfile's: above it, sizes and offsets go to ZIP64 fields
_COUNT_LIMIT = (1 << 16) - 1
_STORED_BELOW = 64  # a part this short goes as a stored deflate block, without calling zlib


def _deflate(data: bytes, level: int, final: bool) -> bytes:
    if len(data) < _STORED_BELOW:
        # A stored block (BFINAL, BTYPE 00): byte-aligned here, since every part before ended with a flush.
        return bytes((1 if final else 0,)) + struct.pack("<HH", len(data), len(data) ^ 0xFFFF) + data
    compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush(zlib.Z_FINISH if final else zlib.Z_FULL_FLUSH)


def write_package_fast(path: Path, members: Iterable[tuple[str, bytes | Sequence[bytes]]], *,
                       date_time: tuple[int, int, int, int, int, int] = (2026, 11, 1, 12, 0, 0),
                       level: int = 6) -> int:
    """`write_package`, fast enough for a package of 100,000 members; returns the member count.

    A member given as bytes is deflated whole as zipfile deflates it, and the records are those
    zipfile writes (with ZIP64 end records above 65,535 members, as zipfile's): an archive of such
    members is byte for byte `write_package`'s. A member given as a sequence of parts (a template's
    text before a bill number, the number, the text after it) is the parts joined, and each part is
    deflated on its own up to a full flush (a byte-aligned, self-contained stretch of the deflate
    stream): a part that many members share is deflated once, its CRC-32 taken once when it comes
    first, and its bytes reused; a short part is a stored block, without zlib. Such a member is not
    zipfile's deflate of the same text (a few bytes longer) and every ZIP reader reads it."""
    dostime = date_time[3] << 11 | date_time[4] << 5 | (date_time[5] // 2)
    dosdate = (date_time[0] - 1980) << 9 | date_time[1] << 5 | date_time[2]
    shared: dict[tuple[bytes, bool], bytes] = {}  # deflated parts of templated members, by content
    first_crc: dict[bytes, int] = {}
    central: list[bytes] = []
    offset = 0
    with path.open("wb", buffering=1 << 20) as out:
        for name, data in members:
            if isinstance(data, bytes):  # as zipfile: one deflate of the whole member
                compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
                packed = compressor.compress(data) + compressor.flush()
                crc, size = zlib.crc32(data), len(data)
            else:
                chunks = []
                crc = size = 0
                last = len(data) - 1
                for i, part in enumerate(data):
                    if len(part) < _STORED_BELOW:
                        chunks.append(_deflate(part, level, i == last))
                    else:
                        chunk = shared.get((part, i == last))
                        if chunk is None:
                            chunk = shared[part, i == last] = _deflate(part, level, i == last)
                        chunks.append(chunk)
                    if i == 0 and len(part) >= _STORED_BELOW:
                        crc = first_crc.get(part, -1)
                        if crc < 0:
                            crc = first_crc[part] = zlib.crc32(part)
                    else:
                        crc = zlib.crc32(part, crc)
                    size += len(part)
                packed = b"".join(chunks)
            if size * 1.05 > _ZIP64_LIMIT:  # zipfile would write ZIP64 sizes: not for bill files
                raise ValueError(f"member {name} is too large for this writer")
            filename = name.encode("ascii")  # flag bits 0 say ASCII, as BILLSTATUS names are
            out.write(_LOCAL.pack(b"PK\x03\x04", 20, 0, 0, zipfile.ZIP_DEFLATED, dostime, dosdate,
                                  crc, len(packed), size, len(filename), 0))
            out.write(filename)
            out.write(packed)
            far = offset > _ZIP64_LIMIT  # zipfile's ZIP64 extra field for the header offset
            extra = struct.pack("<HHQ", 1, 8, offset) if far else b""
            version = 45 if far else 20
            central.append(_CENTRAL.pack(
                b"PK\x01\x02", version, 3, version, 0, 0, zipfile.ZIP_DEFLATED, dostime, dosdate, crc,
                len(packed), size, len(filename), len(extra), 0, 0, 0, 0o600 << 16, min(offset, 0xFFFFFFFF),
            ) + filename + extra)
            offset += _LOCAL.size + len(filename) + len(packed)
        start = offset
        out.writelines(central)
        length = sum(len(entry) for entry in central)
        count = len(central)
        if count > _COUNT_LIMIT or start > _ZIP64_LIMIT or length > _ZIP64_LIMIT:
            out.write(_END64.pack(b"PK\x06\x06", 44, 45, 45, 0, 0, count, count, length, start))
            out.write(_LOCATOR64.pack(b"PK\x06\x07", 0, start + length, 1))
        out.write(_END.pack(b"PK\x05\x06", 0, 0, min(count, 0xFFFF), min(count, 0xFFFF),
                            min(length, 0xFFFFFFFF), min(start, 0xFFFFFFFF), 0))
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
