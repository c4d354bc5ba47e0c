"""What the nineteenth held-out check found wrong (tests/data/local/corpus/SOURCES.md): Saint Paul's
Granicus archive names each clip by its scheduled start ("Housing & Redevelopment Authority on
2026-05-13 2:00 PM") and dates it by its recording's ("May 13, 2026 - 01:57 PM"). The values the
recording holds are in tests/data/local/corpus/expected.toml (the table test)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from listings import listing_read
from recorded import local

from tracker.meetings.agendas import parse_granicus

SAINT_PAUL = local("corpus/granicus/stpaul_view37_viewpublisher.html")
URL = "https://stpaul.granicus.com/ViewPublisher.php?view_id=37"


def starts(page: bytes) -> dict[str, str]:
    listing = listing_read(parse_granicus, page, url=URL, timezone="America/Chicago")
    assert not listing.problems
    zone = ZoneInfo("America/Chicago")
    return {m.source_ref: datetime.fromisoformat(m.start).astimezone(zone).strftime("%H:%M")
            for m in listing.meetings if m.start}


def test_a_clip_starts_when_its_name_says_not_when_its_recording_began() -> None:
    """FAILED before: 13:57, 15:27, 09:58, 12:57 and 13:57, each clip's recording start."""
    assert starts(SAINT_PAUL) == {"clip-5882": "14:00", "clip-5885": "15:30", "clip-5881": "10:00",
                                  "clip-5866": "13:00", "clip-5867": "14:00"}


def test_a_date_cell_far_from_the_name_s_time_is_the_meeting_moved() -> None:
    """DERIVED: the Budget Committee's clip recorded from 11:02 AM, an hour after its name's 10:00 AM
    (the meeting was put back and the clip's name kept): the date cell is the start."""
    old = b"09:58&nbsp;AM"  # the cell as written: "May&nbsp;13,&nbsp;2026 - 09:58&nbsp;AM"
    assert SAINT_PAUL.count(old) == 1
    moved = SAINT_PAUL.replace(old, b"11:02&nbsp;AM")
    assert starts(moved)["clip-5881"] == "11:02"
