"""Earlier states of real BILLSTATUS files, for the demo and the tests.

No public archive keeps a bill's status file as it was on each day, so an earlier state is
*derived* from a real file: actions dated on or after a cutoff are removed, as are cosponsors who
joined then and withdrawals made then; a law is removed when the action that made it is. Every
derived file says so in a comment at its top.
"""

from __future__ import annotations

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
