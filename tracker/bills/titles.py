"""Does a bill carry a title a watch names? Case, punctuation and a trailing "of 2021" ignored."""

from __future__ import annotations

import re

from tracker.bills.billstatus import clean
from tracker.records import Bill

_SPACE = re.compile(r"\s+")
_YEAR_SUFFIX = re.compile(r"\s+of\s+(19|20)\d\d$")


def normalize_title(title: str) -> str:
    """Case, punctuation and a trailing "of 2021" ignored."""
    text = re.sub(r"[^\w\s]+", " ", clean(title).lower())
    text = _SPACE.sub(" ", text).strip()
    return _YEAR_SUFFIX.sub("", text)


def title_matches(bill: Bill, phrase: str, *, contains: bool = False, official: bool = False) -> bool:
    """Does a bill carry this title (any short title or its display title; the official title too
    when asked)? Case, punctuation and a trailing "of 2021" are ignored."""
    wanted = normalize_title(phrase)
    if not wanted:
        return False
    titles = [*bill.short_titles, bill.title or ""]
    if official and bill.official_title:
        titles.append(bill.official_title)
    for title in titles:
        candidate = normalize_title(title)
        if candidate == wanted:
            return True
        if contains and re.search(rf"(^|\s){re.escape(wanted)}(\s|$)", candidate):
            return True
    return False
