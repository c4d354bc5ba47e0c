"""Earlier states of real BILLSTATUS files and Open States bills, for the demo and the tests.

No public archive keeps a bill's status file as it was on each day, so an earlier state is
*derived* from a real file: actions dated on or after a cutoff are removed, as are cosponsors who
joined then and withdrawals made then; a law is removed when the action that made it is. Every
derived file says so in a comment at its top.
"""

from __future__ import annotations

import copy
from typing import Any

from lxml import etree

LAW_TEXT = ("became public law", "became private law")


def _parse(data: bytes) -> etree._ElementTree:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_blank_text=False)
    return etree.ElementTree(etree.fromstring(data, parser))


def billstatus_before(data: bytes, cutoff: str) -> bytes:
    """The file as it would have been before `cutoff` (YYYY-MM-DD)."""
    tree = _parse(data)
    bill = tree.getroot().find("bill")
    if bill is None:
        raise ValueError("not a BILLSTATUS file")
    actions = bill.find("actions")
    kept_law = False
    newest: etree._Element | None = None
    if actions is not None:
        for item in list(actions.findall("item")):
            date = item.findtext("actionDate") or ""
            if date >= cutoff:
                actions.remove(item)
                continue
            if any(t in (item.findtext("text") or "").lower() for t in LAW_TEXT):
                kept_law = True
            if newest is None or date >= (newest.findtext("actionDate") or ""):
                newest = item
    cosponsors = bill.find("cosponsors")
    if cosponsors is not None:
        for item in list(cosponsors.findall("item")):
            if (item.findtext("sponsorshipDate") or "") >= cutoff:
                cosponsors.remove(item)
                continue
            withdrawn = item.find("sponsorshipWithdrawnDate")
            if withdrawn is not None and (withdrawn.text or "") >= cutoff:
                withdrawn.text = None
    laws = bill.find("laws")
    if laws is not None and not kept_law:
        for item in list(laws):
            laws.remove(item)
    latest = bill.find("latestAction")
    if latest is not None and newest is not None:
        for tag in ("actionDate", "text", "actionTime"):
            target, source = latest.find(tag), newest.find(tag)
            if target is not None:
                target.text = source.text if source is not None else None
    root = tree.getroot()
    root.addprevious(etree.Comment(f" derived: real file with actions and cosponsors dated {cutoff} or later removed "))
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8")


def state_bill_before(bill: dict[str, Any], cutoff: str, updated_at: str) -> dict[str, Any]:
    """An Open States bill (an API answer with its includes) as it would have been before `cutoff`
    (YYYY-MM-DD): actions and votes dated then or later removed, the latest-action fields and
    `updated_at` (given: when the API would have last changed it) set to match. Sponsors stay: the
    API gives no sponsorship dates. Derived, never real: tests and the demo say so where they use it."""
    derived = copy.deepcopy(bill)
    derived["actions"] = [a for a in bill.get("actions") or [] if str(a.get("date"))[:10] < cutoff]
    derived["votes"] = [v for v in bill.get("votes") or [] if str(v.get("start_date"))[:10] < cutoff]
    latest = max(derived["actions"], key=lambda a: (str(a["date"])[:10], a.get("order", 0)), default=None)
    derived["latest_action_date"] = str(latest["date"])[:10] if latest else None
    derived["latest_action_description"] = latest["description"] if latest else ""
    passages = [str(a["date"])[:10] for a in derived["actions"] if "passage" in (a.get("classification") or [])]
    derived["latest_passage_date"] = max(passages, default="")
    derived["updated_at"] = updated_at
    return derived
