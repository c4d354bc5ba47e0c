"""Decide whether a meeting's free-text note tells people how to take part.

Legistar's `EventComment` (and the notes other sources carry) is mostly not that: NYC writes "VOTE",
"Jointly with the Committee on Finance", "BUDGET ADOPTION" or a video label such as "PART ONE OF
VIDEO - Public Testimony". Shown as "How to take part", those mislead; they are plain notes. A note
is how to take part only when it is about public comment, testimony, speaking, registering or signing
up AND tells people something to do: a link, an address, a phone number or an instruction
("register", "submit", "to testify", "may", "please"...). A topic word alone is a label.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOPIC = re.compile(
    r"\b(public\s+(comments?|testimony|hearing|input|participation|speakers?)|testi(fy|fying|mony)"
    r"|comments?|speak(ers?|ing)?|register(ed|ing)?|registration|sign(ing)?[\s-]?ups?)\b",
    re.I,
)
# (An address is tried only from the start of its run of `[\w.+-]`: from inside it, it goes on as
# from the start, and a long word tried from each of its characters cost n² steps. The same first
# match, the one `search` gives, its only use.)
_INSTRUCTION = re.compile(
    r"https?://|\bwww\.|(?<![\w.+-])[\w.+-]++@[\w-]+\.[\w.]+|\(?\b\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}\b"
    r"|\b(register|sign[\s-]?up|submit|send|e-?mail|call|dial|visit|go\s+to|please|fill\s+out|complete"
    r"|to\s+(testify|speak|comment|give|participate|provide|submit|register|join|attend)"
    r"|may|can|must|should|wish(es)?\s+to|would\s+like\s+to|are\s+(invited|encouraged|welcome)"
    r"|will\s+be\s+(accepted|taken|heard)|in\s+person|remotely)\b",
    re.I,
)
# "PART ONE OF VIDEO - Public Testimony": a recording's label, whatever words follow.
_VIDEO_LABEL = re.compile(r"^\s*part\s+\w+\s+of\s+(the\s+)?video\b", re.I)


def how_to_take_part(text: str | None) -> str | None:
    """The source's note (trimmed) when it says how the public can comment, testify, speak,
    register or sign up; None for any other note, which the caller shows as a plain note."""
    note = (text or "").strip()
    if not note or _VIDEO_LABEL.match(note):
        return None
    if _TOPIC.search(note) and _INSTRUCTION.search(note):
        return note
    return None


@dataclass(frozen=True)
class Participation:
    """How the public can take part in a meeting, as its source says: the note itself, and the
    deadline the note states ("by 5:00 PM", "up to two hours before the hearing"), if any. Nothing
    is inferred: a note naming no deadline has none."""

    how: str
    deadline: str | None = None


# Where a note states a deadline: "by 5:00 PM the day before", "no later than noon on Monday",
# "up to two hours before the hearing", "deadline: December 1", "until 10 AM". "by" and "until" count
# only before a time, a day or a date ("submit by email" states none).
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_WHEN = (r"(?:\d{1,2}(?::\d\d)?\s*(?:[ap]\.?m\b|o'clock)|noon\b|midnight\b|(?:mon|tues|wednes|thurs|fri|satur|sun)day\b"
         rf"|{_MONTH}\s+\d|\d{{1,2}}/\d{{1,2}}\b|the\s+(?:day|end|close|start)\b"
         r"|(?:\d+|one|two|three|four|six|twelve|twenty-four|forty-eight)\s+(?:hours?|days?)\s+(?:before|prior))")
_DEADLINE = re.compile(
    r"\b(?:deadline\b(?:\s+(?:is|to\s+\w+(?:\s+\w+)?))?\s*:?\s*|(?:no|not)\s+later\s+than\s+"
    rf"|up\s+to\s+(?=[\w\s-]{{1,40}}\bbefore\b)|by\s+(?={_WHEN})|until\s+(?={_WHEN}))",
    re.I,
)
# Where the stated deadline's clause ends: a sentence's or clause's end, or a word that starts
# something else ("to be included", "at https://...", "and ..."), unless a date or time follows;
# "Dec. 7" and "5 p.m. on Friday" go on (no capital after the full stop).
_CLAUSE_END = re.compile(
    rf"[;\n]|\.(?:\s+(?=(?-i:[A-Z]))|$)|,\s+(?!{_MONTH}\s+\d|\d)"
    r"|\s(?:and|or|to|via|using|online|at(?!\s+(?:\d|noon|midnight)))\b|\s(?:https?://|www\.)",
    re.I,
)


def take_part(text: str | None) -> Participation | None:
    """How to take part (`how_to_take_part`) with the deadline its text states; None for any other
    note."""
    how = how_to_take_part(text)
    if how is None:
        return None
    return Participation(how, stated_deadline(how))


def stated_deadline(text: str) -> str | None:
    """The deadline a how-to-take-part note states, in its own words ("by 5:00 PM the day before"),
    or None when it states none."""
    found = _DEADLINE.search(text)
    if found is None:
        return None
    rest = text[found.end():found.end() + 80]
    end = _CLAUSE_END.search(rest)
    phrase = found.group(0) + (rest[:end.start()] if end else rest)
    phrase = " ".join(phrase.split()).rstrip(".,;: ")
    return phrase if phrase.lower() != found.group(0).strip().lower().rstrip(":") else None
