"""Bill numbers: `hr1470-117` is the stored form; "H.R. 1470 (117th)" style input is accepted."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Order matters for display; keys are the canonical lower-case types GovInfo uses in paths.
BILL_TYPES = {
    "hr": "H.R.",
    "s": "S.",
    "hjres": "H.J.Res.",
    "sjres": "S.J.Res.",
    "hconres": "H.Con.Res.",
    "sconres": "S.Con.Res.",
    "hres": "H.Res.",
    "sres": "S.Res.",
}
# Congress.gov URL path segment per type.
URL_TYPE = {
    "hr": "house-bill",
    "s": "senate-bill",
    "hjres": "house-joint-resolution",
    "sjres": "senate-joint-resolution",
    "hconres": "house-concurrent-resolution",
    "sconres": "senate-concurrent-resolution",
    "hres": "house-resolution",
    "sres": "senate-resolution",
}

_FORM = re.compile(r"^\s*([a-z.\s]+?)\s*(\d+)\s*(?:-|\(|/|\s)\s*(\d+)(?:st|nd|rd|th)?\s*\)?\s*$", re.I)


@dataclass(frozen=True, order=True)
class BillNumber:
    congress: int
    type: str
    number: int

    @property
    def key(self) -> str:
        return f"{self.type}{self.number}-{self.congress}"

    @property
    def entity(self) -> str:
        return f"bill:{self.key}"

    @property
    def display(self) -> str:
        return f"{BILL_TYPES[self.type]} {self.number}"

    @property
    def url(self) -> str:
        return (
            f"https://www.congress.gov/bill/{ordinal(self.congress)}-congress/"
            f"{URL_TYPE[self.type]}/{self.number}"
        )

    def __str__(self) -> str:
        return self.key


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def parse_bill_number(text: str) -> BillNumber:
    """Parse `hr1470-117`, `HR1470-117`, `H.R. 1470-117` or `H.R. 1470 (117th)`.

    Raises ValueError with a message fit for a config error line.
    """
    match = _FORM.match(text or "")
    if not match:
        raise ValueError(f"{text!r} is not a bill number like 'hr1470-117'")
    raw_type, number, congress = match.groups()
    bill_type = re.sub(r"[.\s]", "", raw_type).lower()
    if bill_type not in BILL_TYPES:
        raise ValueError(
            f"{text!r} has unknown bill type {raw_type.strip()!r} (one of {', '.join(BILL_TYPES)})"
        )
    if int(number) < 1 or not 1 <= int(congress) <= 200:
        raise ValueError(f"{text!r} has an impossible number or congress")
    return BillNumber(int(congress), bill_type, int(number))


def current_congress(year: int) -> int:
    """The Congress sitting in most of `year` (a Congress starts on 3 January of an odd year)."""
    return (year - 1789) // 2 + 1
