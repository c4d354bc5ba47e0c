"""The listing parsers' address joins give what `urljoin` gives, byte for byte: a changed link is a
new snapshot of a meeting (and news to its subscribers). The links of the real recordings, and the
forms where a shortcut could go wrong (case, empty query, fragment, parameters, dots, white space,
brackets, another scheme, a base that is no http(s) address). And a feed's RFC 822 dates, read
directly in their usual form, as the email parser reads them."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from itertools import product
from pathlib import Path
from urllib.parse import urljoin

import pytest

from tracker.meetings.agendas import _stamp
from tracker.meetings.normalize import join_query, join_url

DATA = Path(__file__).parent / "data" / "local"
BASES = ["https://claytoncountyga.primegov.com/api/v2/PublicPortal/ListArchivedMeetings?year=2026",
         "http://example.gov/a/b?x=1#f", "", "HTTPS://Example.gov/", "https:relative", "ftp://host/p", "mailto:x@y",
         "example.gov/meetings", "https://[::1]/x", "https://[bad/x", "http\t://example.gov/", " https://example.gov/p",
         "https://example.gov/p;q?r"]
URLS = ["https://h.gov/p?q=1", "https://h.gov", "https://h.gov?", "https://h.gov/#", "https://h.gov/p;x",
        "https://h.gov:8080/p?a;b", "https://h.gov:/p", "HTTPS://h.gov/p", "Http://h.gov/p", "https://h.gov/a/../b",
        "https://h.gov/./b", "https://h.gov/p?q#frag", "https://h.gov/p?q#", "https://user@h.gov/p",
        "https://[::1]/p", "https://[bad/p", "https://h.gov/p q", " https://h.gov/p", "https://h.gov/p\t",
        "https://h\n.gov/p", "https://h.gov/é", "https://ℍ.gov/p", "https://h.gov/p%20q", "http:/h.gov/p", "http:h.gov",
        "//h.gov/MediaPlayer.php?clip_id=34", "//h.gov", "//", "///p", "//h.gov/p?", "//h.gov/p#x", "//h.gov/p;x",
        "//[::1]/p", "/Portal/Meeting?meetingId=1", "Portal/Meeting", "../x", "?q", "#f", "", "javascript:alert(1)",
        "mailto:clerk@h.gov", "ftp://h.gov/f", "httpx://h.gov/p", "https", "https:", "https:/"]
PATHS = ["/Portal/Meeting", "/Public/CompiledDocument", "//h.gov/p", "relative/p", "/a:b", "/a;b", "/a/../b", "/a?b",
         "", "/é"]
QUERIES = ["meetingId=554", "meetingTemplateId=4414&compileOutputType=1", "", "id=#x", "id=a b", "id=a\tb", "id=\n",
           "id=?x", "id=;x", "id=é", "id=None", "id=../x", "x=%2F"]


def _outcome(join: object, *args: str) -> str:
    try:
        return "=" + join(*args)  # type: ignore[operator]
    except Exception as exc:  # urljoin's error on a broken base or host must stay the same error
        return f"!{type(exc).__name__}: {exc}"


def _recorded_links() -> list[str]:
    """Every address-like string of the recorded PrimeGov listing and feeds."""
    found = [str(doc.get("link")) for row in json.loads((DATA / "primegov/claytoncountyga_list_meetings.json")
                                                        .read_bytes()) for doc in row.get("documentList") or []]
    found += [str(row.get("videoUrl")) for row in json.loads((DATA / "primegov/claytoncountyga_list_meetings.json")
                                                            .read_bytes())]
    for path in sorted((DATA / "corpus" / "feed").glob("*")) + sorted((DATA / "feed").glob("*")):
        text = path.read_bytes().decode("utf-8", "replace")
        found += re.findall(r"""(?:href=|url=|<link>|<guid[^>]*>)["']?([^"'<>\s]+)""", text)
    return found


@pytest.mark.parametrize("base", BASES)
def test_join_url_is_urljoin(base: str) -> None:
    for url in URLS + _recorded_links():
        assert _outcome(join_url, base, url) == _outcome(urljoin, base, url), (base, url)


@pytest.mark.parametrize("base", BASES)
def test_join_query_is_urljoin_of_path_and_query(base: str) -> None:
    for path, query in product(PATHS, QUERIES):
        assert _outcome(join_query, base, path, query) == _outcome(urljoin, base, f"{path}?{query}"), (base, path, query)


def _library_stamp(text: str) -> object:
    """A feed date as `_stamp` read every one before its shortcut for the usual form."""
    try:
        moment = parsedate_to_datetime(text.strip())
    except (TypeError, ValueError, IndexError):
        try:
            moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC).timetuple()


def test_feed_dates_read_as_the_email_parser_reads_them() -> None:
    days, months = ["Tue, ", "Mon, ", "", "Tue,", "Xyz, "], ["Sep", "Feb", "sep", "Sept", "September"]
    years, clocks = ["2024", "0999", "0050", "24", "99999"], ["20:00:00", "23:59:59", "24:00:00", "09:60:00", "9:05"]
    zones = ["GMT", "+0000", "-0000", "UTC", "+0100", "EST", "gmt"]
    for day, date_of, month, year, clock, zone, pad in product(days, ["24", "7", "31", "00"], months, years, clocks,
                                                                zones, ["", " \n"]):
        text = f"{pad}{day}{date_of} {month} {year} {clock} {zone}{pad}"
        assert _stamp(text) == _library_stamp(text), text
