"""What the seventeenth held-out check found wrong, as a person meets it (tests/data/local/corpus/
SOURCES.md): `tracker sources detect` on a real recording served on loopback, through the crawl's
real engine, and the printed watch crawled the same way."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from tracker.cli import main
from tracker.demo.replay import ReplayServer

RTA_2017 = Path(__file__).parent / "data" / "local" / "corpus" / "granicus" / "rta_2017_viewpublisher_upcoming.html"


def detect(tmp_path: Path, url: str) -> str:
    config = tmp_path / "tracker.toml"
    config.write_text("[crawl]\ndelay_seconds = 0\n")
    result = CliRunner().invoke(main, ["--config", str(config), "sources", "detect", url], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_a_granicus_view_listing_upcoming_events_only_is_watched_itself(replay: ReplayServer, tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """RTA's 2017 upcoming view has no agenda or video link yet, and its feed links sit in an HTML
    comment ("Uncomment to show the rss feeds"): the watch is the page, not the minutes feed the
    comment names (a minutes feed never tells of a meeting to come)."""
    monkeypatch.setenv("TRACKER_NOW", "2017-08-01T12:00:00Z")
    replay.add("/ViewPublisher.php", RTA_2017, query={"view_id": "5"}, content_type="text/html")
    url = f"{replay.url}/ViewPublisher.php?view_id=5"
    out = detect(tmp_path, url)
    lines = out.splitlines()
    assert lines[0].startswith("Granicus ViewPublisher: told by its")
    assert f'granicus = "{url}"' in lines
    assert "ViewPublisherRSS" not in out
    assert "Read " in out and "6 meetings listed" in out
    assert "Finance Committee" in out


def test_the_page_at_another_address_is_told_by_its_rows(replay: ReplayServer, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The same page where the owner's spider read it (the RTA site's iframe, any address): told by
    its Granicus template's upcoming rows, not by a link."""
    monkeypatch.setenv("TRACKER_NOW", "2017-08-01T12:00:00Z")
    replay.add("/about-us/board-meetings", RTA_2017, content_type="text/html")
    url = f"{replay.url}/about-us/board-meetings"
    lines = detect(tmp_path, url).splitlines()
    assert lines[0] == "Granicus ViewPublisher: told by its content (Granicus upcoming events)"
    assert f'granicus = "{url}"' in lines
