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

_TOPIC = re.compile(
    r"\b(public\s+(comments?|testimony|hearing|input|participation|speakers?)|testi(fy|fying|mony)"
    r"|comments?|speak(ers?|ing)?|register(ed|ing)?|registration|sign(ing)?[\s-]?ups?)\b",
    re.I,
)
_INSTRUCTION = re.compile(
    r"https?://|\bwww\.|[\w.+-]+@[\w-]+\.[\w.]+|\(?\b\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}\b"
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
