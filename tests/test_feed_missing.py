"""A feed drops a meeting once it is held, or once newer posts push it out: that meeting is not
"missing". Through the real Scrapy engine, on loopback, from real recordings (LAUSD's board events
RSS, the Great Lakes Water Authority's iCal feed) and the same feeds later, some entries taken out
(derived). A calendar feed speaks for the days after its earliest listed meeting's (or from
tomorrow, if sooner); an RSS feed keeps its latest posts, by when they were posted, so it speaks
only for the days from tomorrow."""

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


def without_rss_items(feed: bytes, starts: tuple[str, ...]) -> bytes:
    """The RSS feed without its items whose title starts with one of `starts` ("9/24/2024")."""
    return re.sub(rb"<item><title>([^<]*)</title>.*?</item>",
                  lambda item: b"" if item.group(1).decode().startswith(starts) else item.group(0), feed, flags=re.S)


def without_events(feed: bytes, starts: tuple[str, ...]) -> bytes:
    """The iCal feed without its events whose DTSTART starts with one of `starts` ("20180627")."""
    def kept(event: re.Match[bytes]) -> bytes:
        start = re.search(rb"DTSTART[^:]*:(\w+)", event.group(0))
        return b"" if start and start.group(1).decode().startswith(starts) else event.group(0)

    return re.sub(rb"BEGIN:VEVENT\r?\n.*?END:VEVENT\r?\n", kept, feed, flags=re.S)


RSS = ("feed", "America/Los_Angeles", "/site/RSS.aspx", LAUSD, "application/rss+xml", "2024-09-20T19:00:00Z")
ICAL = ("ical", "America/Detroit", "/events/ical", GLWA, "text/calendar", "2018-06-20T16:00:00Z")
CASES = {
    # At September 30: the 24th was pushed out; October 1 (tomorrow) and the 17th were taken off.
    "rss": (*RSS, "2024-09-30T20:00:00Z", ("9/24/2024", "10/1/2024", "10/17/2024"), {"2024-10-01", "2024-10-17"}),
    # At October 2 the 1st is past: a post gone from a feed of posts may just have been pushed out.
    "rss, past": (*RSS, "2024-10-02T20:00:00Z", ("9/24/2024", "10/1/2024"), set()),
    # At July 12: June 27 and July 11 were held and left the feed; July 20 was taken off while ahead
    # (the feed's earliest is now the 25th: tomorrow is sooner).
    "ical": (*ICAL, "2018-07-12T16:00:00Z", ("20180627", "20180711", "20180720"), {"2018-07-20"}),
    # At July 22 the feed still lists July 11: July 20, after it, was taken off.
    "ical, after its earliest": (*ICAL, "2018-07-22T16:00:00Z", ("20180627", "20180720"), {"2018-07-20"}),
    # At 6 pm on July 11: the 11 am meeting was held and left; the 1 pm one, that day too, is listed.
    "ical, same day": (*ICAL, "2018-07-11T22:00:00Z", ("20180627", "20180711T110000"), set()),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_meeting_a_feed_drops_once_held_is_not_missing(case: str, tmp_path: Path, replay: ReplayServer,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    kind, zone, path, first, content_type, then, now, taken, gone = CASES[case]
    later = (without_rss_items if kind == "feed" else without_events)(first, taken)
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
