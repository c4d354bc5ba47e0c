"""Review of the day's changes (4): each defect found, through the real parts it broke."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from tracker.cli import main
from tracker.demo.replay import ReplayServer


def _detect(tmp_path: Path, server: ReplayServer, url: str) -> tuple[int, str, float]:
    config = tmp_path / "tracker.toml"
    config.write_text(f'[crawl]\ndelay_seconds = 0\n[sources.legistar]\nbase_url = "{server.url}/v1"\n')
    started = time.monotonic()
    result = CliRunner().invoke(main, ["--config", str(config), "sources", "detect", url], catch_exceptions=False)
    return result.exit_code, result.stderr, time.monotonic() - started


@pytest.mark.parametrize("opening", [b"<style ", b"<title ", b"<script "])
def test_a_page_of_unclosed_start_tags_is_read_in_seconds(opening: bytes, replay: ReplayServer,
                                                          tmp_path: Path) -> None:
    """`sources detect` on a page whose text ends in 80,000 `<style ` (or `<title `, `<script `)
    openings never closed by a `>` (560 KB, well under the 10 MB it reads): the comment stripper
    tried each opening against the whole rest of the page (quadratic: 112 KB took 1.8 s, 560 KB
    half a minute, 10 MB would take hours)."""
    replay.add("/council.html", b"<!DOCTYPE html><html><head><title>City Council</title></head><body>"
               b"<p>Agendas are posted before each meeting.</p>" + opening * 80_000, content_type="text/html")
    code, stderr, took = _detect(tmp_path, replay, f"{replay.url}/council.html")
    assert code == 1
    assert "an HTML page with no meeting listing recognised" in stderr
    assert took < 10, f"detect took {took:.1f} s"


FEED = (b"<?xml version='1.0'%s?><rss version='2.0'><channel><title>Agendas of the Caf\xc3\xa9 District</title>"
        b"<link>http://example.gov/</link><item><title>Council meeting</title></item></channel></rss>")


@pytest.mark.parametrize(("declaration", "content_type"), [
    (b"", "application/rss+xml; charset=undefined"),
    (b"", "application/rss+xml; charset=idna"),
    (b"", "application/rss+xml; charset=punycode"),
    (b" encoding='undefined'", "application/rss+xml"),
], ids=["header undefined", "header idna", "header punycode", "declaration undefined"])
def test_a_feed_naming_an_encoding_no_text_decodes_with_is_read_in_utf8(
        declaration: bytes, content_type: str, replay: ReplayServer, tmp_path: Path) -> None:
    """A feed whose header or XML declaration names a codec that exists but cannot decode text with
    replacement ("undefined", "idna", "punycode" on non-ASCII bytes): `sources detect` read the
    feed's title in it and died with a Python traceback (UnicodeError) instead of naming the feed;
    a name no codec has was already passed over (LookupError). Read as UTF-8, as then."""
    replay.add("/agendas.rss", FEED % declaration, content_type=content_type)
    config = tmp_path / "tracker.toml"
    config.write_text(f'[crawl]\ndelay_seconds = 0\n[sources.legistar]\nbase_url = "{replay.url}/v1"\n')
    result = CliRunner().invoke(main, ["--config", str(config), "sources", "detect", f"{replay.url}/agendas.rss"])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert 'name = "Agendas of the Café District"' in result.stdout, result.output


@pytest.mark.parametrize("content_type", ["text/plain; charset=undefined", "text/plain; charset=base64"])
def test_a_page_whose_header_names_an_encoding_no_text_decodes_with_is_still_read(
        content_type: str, replay: ReplayServer, tmp_path: Path) -> None:
    """A city's page served under a type that is not HTML, its header naming a charset no text
    decodes with: the page is read as HTML by its content, and reading it in the header's charset
    (new today) died with a Python traceback (UnicodeError, LookupError). The page is read as
    before the header was asked: by its own `<meta>`, else as UTF-8."""
    replay.add("/council.html", b"<!DOCTYPE html><html><head><title>City Council</title></head><body>Caf\xc3\xa9 "
               b"<a href='https://springfield.legistar.com/Calendar.aspx'>Calendar</a></body></html>",
               content_type=content_type)
    config = tmp_path / "tracker.toml"
    config.write_text(f'[crawl]\ndelay_seconds = 0\n[sources.legistar]\nbase_url = "{replay.url}/v1"\n')
    result = CliRunner().invoke(main, ["--config", str(config), "sources", "detect", f"{replay.url}/council.html"])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.stdout.startswith("Legistar: told by a link on the page"), result.output
