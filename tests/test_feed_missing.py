"""A feed that keeps only upcoming events or its latest entries drops a meeting once it is held:
that meeting is not "missing". One the feed stops listing while it is still ahead (or after the
earliest meeting the feed still lists) is. Through the real Scrapy engine, on loopback, from real
recordings (LAUSD's board events RSS, the Great Lakes Water Authority's iCal feed) and the same
feeds later, some entries taken out (derived)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from statusjson import status_json

from tracker.config import load_config
from tracker.crawl import run_crawls
from tracker.demo.replay import ReplayServer
from tracker.store import Store

CORPUS = Path(__file__).parent / "data" / "local" / "corpus"
LAUSD = (CORPUS / "feed" / "lausd_board_rss.xml").read_bytes()
GLWA = (CORPUS / "ical" / "glwa.ics").read_bytes()


def without_rss_items(feed: bytes, days: tuple[str, ...]) -> bytes:
    """The RSS feed without its items whose title starts with one of `days` ("9/24/2024")."""
    return re.sub(rb"<item><title>(\d+/\d+/\d{4}) .*?</item>",
                  lambda item: b"" if item.group(1).decode() in days else item.group(0), feed, flags=re.S)


def without_events(feed: bytes, days: tuple[str, ...]) -> bytes:
    """The iCal feed without its events that start on one of `days` ("20180627")."""
    return re.sub(rb"BEGIN:VEVENT\r?\n.*?END:VEVENT\r?\n",
                  lambda event: b"" if re.search(rb"DTSTART[^:]*:(\d{8})", event.group(0)).group(1).decode()  # type: ignore[union-attr]
                  in days else event.group(0), feed, flags=re.S)


CASES = {
    # At September 30: the 24th aged out (before the earliest the feed still lists, the 26th);
    # October 1 (tomorrow) and the 17th were taken off while ahead.
    "rss": ("feed", "America/Los_Angeles", "/site/RSS.aspx", LAUSD, "application/rss+xml",
            "2024-09-20T19:00:00Z", "2024-09-30T20:00:00Z",
            without_rss_items(LAUSD, ("9/24/2024", "10/1/2024", "10/17/2024")), {"2024-10-01", "2024-10-17"}),
    # At July 12: June 27 and July 11 were held and left the feed; July 20 was taken off while ahead
    # (the feed's earliest is now the 25th: tomorrow is sooner).
    "ical": ("ical", "America/Detroit", "/events/ical", GLWA, "text/calendar",
             "2018-06-20T16:00:00Z", "2018-07-12T16:00:00Z",
             without_events(GLWA, ("20180627", "20180711", "20180720")), {"2018-07-20"}),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_meeting_a_feed_drops_once_held_is_not_missing(case: str, tmp_path: Path, replay: ReplayServer,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    kind, zone, path, first, content_type, then, now, later, gone = CASES[case]
    replay.add(path, first, content_type=content_type)
    config_path = tmp_path / "tracker.toml"
    config_path.write_text(f'[crawl]\ndelay_seconds = 0\n[[meetings]]\nid = "board"\nname = "Board"\n'
                           f'timezone = "{zone}"\n{kind} = "{replay.url}{path}"\n')
    config = load_config(config_path, env={})
    store = Store(config.database_url)
    monkeypatch.setenv("TRACKER_NOW", then)
    assert run_crawls(config, store)[0].ok
    stored = {mt["entity"]: mt["date"] for mt in status_json(store, config)["meetings"]}
    assert len(stored) == len(re.findall(rb"<item>|BEGIN:VEVENT", first))
    assert later != first and gone <= set(stored.values())
    monkeypatch.setenv("TRACKER_NOW", now)
    replay.replace(path, later)
    assert run_crawls(config, store)[0].ok
    missing = {mt["date"] for mt in status_json(store, config)["meetings"] if mt["missing"]}
    assert missing == gone
