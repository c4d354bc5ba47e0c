""""How to take part" only for notes that tell the public how to comment, testify, speak or sign up.

Negatives: EVERY distinct real `EventComment` of NYC's 2023 Legistar events (tests/data/local/legistar/
nyc_events_2023.json: "VOTE", "Jointly with the Committee on ...", "BUDGET ADOPTION", video labels such
as "PART ONE OF VIDEO - Public Testimony"). Positives: LA Metro's real comment, plus derived ones
(written by us in the forms councils use, labelled DERIVED below)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tracker.meetings.participation import how_to_take_part, take_part

LEGISTAR = Path(__file__).parent / "data" / "local" / "legistar"
NYC_COMMENTS = sorted({e["EventComment"] for e in json.loads((LEGISTAR / "nyc_events_2023.json").read_text())
                       if e.get("EventComment")})

# DERIVED: written by us (no recorded source text), in the forms council sites publish.
DERIVED_POSITIVES = [
    "Public testimony: register at https://council.nyc.gov/testify/ up to two hours before the hearing.",
    "To sign up to testify in person or remotely, visit council.nyc.gov/testify",
    "Members of the public may submit written testimony to testimony@council.nyc.gov",
    "Public comment will be taken at the start of the meeting. Speakers must register by 5:00 PM.",
    "Register to speak: https://example.legistar.com/speak",
    "Sign up to give public comment by calling (213) 922-4600.",
    "Those who wish to speak should fill out a speaker card at the door.",
]
# DERIVED: notes that mention no way to take part, or only how to watch.
DERIVED_NEGATIVES = [
    "Watch online: https://boardagendas.metro.net",
    "PART THREE OF VIDEO - Public Testimony",
    "Public Hearing",
    "Recessed to December 5",
    "Hearing Held",
    "",
    "   ",
    None,
]


def test_the_fixture_has_the_notes_the_issue_names() -> None:
    assert {"VOTE", "Jointly with the Committee on Oversight and Investigations",
            "PART ONE OF VIDEO - Public Testimony", "Public Testimony"} <= set(NYC_COMMENTS)
    assert len(NYC_COMMENTS) == 123


@pytest.mark.parametrize("comment", NYC_COMMENTS)
def test_every_real_nyc_comment_is_a_note(comment: str) -> None:
    assert how_to_take_part(comment) is None


@pytest.mark.parametrize("comment", DERIVED_NEGATIVES)
def test_derived_notes_are_notes(comment: str | None) -> None:
    assert how_to_take_part(comment) is None


@pytest.mark.parametrize("comment", DERIVED_POSITIVES)
def test_derived_instructions_are_how_to_take_part(comment: str) -> None:
    assert how_to_take_part(f"  {comment}\n") == comment


def test_real_metro_comment_is_how_to_take_part() -> None:
    comment = json.loads((LEGISTAR / "metro_event_2907.json").read_text())["EventComment"]
    shown = how_to_take_part(comment)
    assert shown is not None
    assert shown.endswith("To give written or live public comment, please see the top of page 4")
    assert shown.startswith("Watch online: https://boardagendas.metro.net")


# DERIVED: how-to-take-part notes and the deadline each states, in its own words (None: it states none).
DEADLINES = [
    ("Public testimony: register at https://council.nyc.gov/testify/ up to two hours before the hearing.",
     "up to two hours before the hearing"),
    ("Public comment will be taken at the start of the meeting. Speakers must register by 5:00 PM.", "by 5:00 PM"),
    ("Written comments must be received no later than noon on Monday, December 7, to be included.",
     "no later than noon on Monday, December 7"),
    ("Register to speak by Monday, Dec. 7 at 5 pm at https://example.gov/speak", "by Monday, Dec. 7 at 5 pm"),
    ("Submit public comment by email to clerk@example.org by 24 hours before the meeting.",
     "by 24 hours before the meeting"),
    ("Sign up to speak until 10 AM on the day of the meeting at www.example.gov", "until 10 AM on the day of the meeting"),
    ("Deadline to submit comments: December 1, 2026. Email clerk@example.gov", "Deadline to submit comments: December 1, 2026"),
    ("Members of the public may submit written testimony to testimony@council.nyc.gov", None),
    ("Sign up to give public comment by calling (213) 922-4600.", None),
    ("Those who wish to speak should fill out a speaker card at the door.", None),
]


@pytest.mark.parametrize(("note", "deadline"), DEADLINES)
def test_the_deadline_a_note_states(note: str, deadline: str | None) -> None:
    part = take_part(note)
    assert part is not None and part.how == note and part.deadline == deadline


def test_notes_that_are_not_how_to_take_part_have_no_deadline() -> None:
    assert take_part("Recessed to December 5 by 5:00 PM") is None
    assert all(take_part(comment) is None for comment in NYC_COMMENTS)
    metro = take_part(json.loads((LEGISTAR / "metro_event_2907.json").read_text())["EventComment"])
    assert metro is not None and metro.deadline is None
