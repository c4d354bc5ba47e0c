"""Review of the day's changes (6): each test failed before its fix."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from test_state_stages_recorded import api_bill

from tracker import secrets
from tracker.cli import main
from tracker.digest import state_stage_steps
from tracker.statepeople import bill_contact_lines
from tracker.states import committee_label, read_bill


def _chambers_done(name: str) -> dict[str, bool]:
    bill = read_bill(api_bill(name))
    return {step["key"]: step["done"] for step in state_stage_steps(bill) if step["key"] in ("upper", "lower")}


def test_a_vetoed_vermont_bill_shows_both_chambers_passed_on_its_page() -> None:
    """Vermont S 125 (2025): passed by the Senate ("Read 3rd time & passed", classified as the third
    reading alone) and the House ("Read third time and passed in concurrence..."), then vetoed. Its
    stage reads the passages by their words (stateactions), but the digest page's tracker bar read
    the classifications alone: the House was shown not to have passed a bill the Governor vetoed."""
    assert read_bill(api_bill("vt-2025-2026-S125.json")).stage == "vetoed"
    assert _chambers_done("vt-2025-2026-S125.json") == {"upper": True, "lower": True}


def test_an_idaho_bill_failed_in_the_senate_shows_the_house_passed_it() -> None:
    """Idaho H0450 (2025): the House's passage under suspended rules is unclassified ("Rules
    Suspended ... read in full as required – PASSED"), read by its words; the Senate then failed it.
    The page showed neither chamber passed."""
    assert read_bill(api_bill("id-2025-H0450.json")).stage == "failed"
    assert _chambers_done("id-2025-H0450.json") == {"lower": True, "upper": False}


def test_a_new_jersey_assembly_committee_is_named_once() -> None:
    """New Jersey A4317 (222nd): "Reported and Referred to Assembly State and Local Government
    Committee" names the committee with its chamber's word, as New Jersey does ("Assembly ...
    Committee"), though the chamber is the General Assembly: the label said the chamber twice, "the
    General Assembly Assembly State and Local Government Committee", in the alert's "In committee
    now" line. Maryland's House of Delegates names its committees "House ..." alike."""
    bill = read_bill(api_bill("nj-222-A4317.json"))
    assert bill.committee == {"name": "Assembly State and Local Government", "chamber": "lower"}
    assert bill_contact_lines(bill, None)[0] == "In committee now: the Assembly State and Local Government Committee"
    assert committee_label({"name": "House Appropriations", "chamber": "lower"}, "md") == \
        "the House Appropriations Committee"
    # a name without its chamber's word still gets the state's
    assert committee_label({"name": "Appropriations", "chamber": "lower"}, "nj") == \
        "the General Assembly Appropriations Committee"


def test_a_meeting_address_with_a_stray_bracket_is_no_crash(tmp_path: Path) -> None:
    """Every meeting address of the config is now read for keys as it loads (`keep_url_secrets`),
    and `urlsplit` raises on a "[" or "]" in the host ("Invalid IPv6 URL"): a typo in one address
    made every command a traceback, `config check` included, where it loaded before. Its key is
    still masked."""
    config = tmp_path / "tracker.toml"
    config.write_text('[[meetings]]\nid = "x"\nname = "X"\n'
                      'ical = "https://cal.example.org]/feed.ics?token=Ab3dE5fG7h"\n')
    result = CliRunner().invoke(main, ["--config", str(config), "config", "check"])
    assert not isinstance(result.exception, ValueError), result.output
    assert "Ab3dE5fG7h" not in result.output
    assert secrets.mask("fetching Ab3dE5fG7h failed") == "fetching *** failed"


def test_words_given_as_a_key_are_not_masked_wherever_they_are_said(tmp_path: Path) -> None:
    """A word given as a key's value (`?token=Finance`) is no key, and is not masked wherever it is
    said: so too words (`?token=Finance+Committee`, decoded "Finance Committee"), which were
    registered as a secret as the config loaded and printed the watch's own name as "***"."""
    config = tmp_path / "tracker.toml"
    config.write_text('[[meetings]]\nid = "finance"\nname = "Finance Committee"\n'
                      'ical = "https://city.example.org/calendar.ics?token=Finance+Committee"\n')
    result = CliRunner().invoke(main, ["--config", str(config), "config", "check"])
    assert result.exit_code == 0, result.output
    assert "meeting watch finance: Finance Committee" in result.output
    # a key of letters and digits is still one
    secrets.keep_url_secrets("https://city.example.org/calendar.ics?token=Fin4nce+C0mmittee")
    assert secrets.mask("Fin4nce C0mmittee") == "***"


def test_sources_detect_on_an_address_with_a_stray_bracket_and_a_key_is_no_crash() -> None:
    """`sources detect 'https://cal.example.org]/feed.ics?token=…'` (a typo): `shown` split the
    address itself and `urlsplit` raised "Invalid IPv6 URL", a traceback. The address is said with
    its key left out, and the key is in no line."""
    from tracker.detect import shown

    url = "https://cal.example.org]/feed.ics?token=Zq7xW2mP9kLr"
    said = shown(url)
    assert "Zq7xW2mP9kLr" not in said and said.endswith("(its key left out)")
