"""Legistar web calendar answers to a postback, derived from a real calendar page. Legistar's own
answers, recorded from the live Nashville calendar, are few (tests/data/legistar_answers: a year
chosen, a year's next page; tests/test_legistar_calendar_recorded_answers.py replays them), so
tests of everything else (an empty period, a wrong answer, a gone meeting) serve the real NYC
page changed as Legistar changes it (`answer`): its date range list showing the period asked
for, its own `__VIEWSTATE`, some of its own rows (or the "No records to display" row Telerik's grid
shows for an empty period), and a pager as Telerik writes it (`rgCurrentPage`, `__doPostBack`
targets, percent-encoded as Legistar writes its grid's links)."""

from __future__ import annotations

import re

LIST = "ctl00$ContentPlaceHolder1$lstYears"
LIST_STATE = "ctl00_ContentPlaceHolder1_lstYears_ClientState"
NEXT = "ctl00$ContentPlaceHolder1$gridCalendar$ctl00$ctl02$ctl00$ctl{:02d}"
ROW = re.compile(rb'<tr class="rg(?:Alt)?Row".*?</tr>', re.S)
VIEWSTATE = re.compile(rb'(name="__VIEWSTATE" id="__VIEWSTATE" value=")([^"]*)(")')
NO_RECORDS = (b'<tr class="rgNoRecords">\n\t\t\t\t\t\t<td colspan="10" style="text-align:left;">'
              b'<div>No records to display.</div></td>\n\t\t\t\t\t</tr>')


def view_state(page: bytes) -> str:
    found = VIEWSTATE.search(page)
    assert found is not None
    return found.group(2).decode()


def pager(page: int, pages: int, encoded: bool) -> bytes:
    """The grid's pager row at `page` of `pages`, as Telerik writes it (its empty form is in the real
    Ramsey County page: `<tr class="rgPager"><td colspan="11"></td></tr>`)."""
    links = []
    for n in range(1, pages + 1):
        target = NEXT.format(2 * n)
        target = target.replace("$", "%24") if encoded else target
        current = ' class="rgCurrentPage" onclick="returnfalse;"' if n == page else ""
        links.append(f'<a{current} href="javascript:__doPostBack(\'{target}\',\'\')" title="Go to Page {n}">'
                     f'<span>{n}</span></a>')
    return (f'<tr class="rgPager"><td colspan="10"><table summary="Data pager" border="0" '
            f'style="width:100%;border-spacing:0;"><tbody><tr><td class="rgPagerCell NextPrevAndNumeric">'
            f'<div class="rgWrap rgNumPart">{"".join(links)}</div><div class="rgWrap rgInfoPart">&nbsp;Page '
            f'<strong>{page}</strong> of <strong>{pages}</strong></div></td></tr></tbody></table></td></tr>').encode()


def answer(recorded: bytes, period: str, state: str, rows: slice | None = None, page: tuple[int, int] | None = None,
           encoded: bool = True, offered: list[bytes] | None = None) -> bytes:
    """The `recorded` page as Legistar answers a choice of `period`: the list showing it, its own
    view state, `rows` of the page's rows (none: the empty grid's row), at `page` (n, of) of a
    pager; `offered`: only these items left in the date range list."""
    found = ROW.findall(recorded)
    kept = found[rows] if rows is not None else []
    body = (recorded[:recorded.index(found[0])] + (b"".join(kept) or NO_RECORDS)
            + recorded[recorded.index(found[-1]) + len(found[-1]):])
    body = re.sub(rb'(id="ctl00_ContentPlaceHolder1_lstYears_Input" value=")[^"]*(")',
                  lambda m: m.group(1) + period.encode() + m.group(2), body, count=1)
    body = VIEWSTATE.sub(lambda m: m.group(1) + state.encode() + m.group(3), body, count=1)
    if page is not None:  # at the top of the grid's head, and as its foot before its body, as Telerik writes them
        grid = body.index(b'id="ctl00_ContentPlaceHolder1_gridCalendar_ctl00"')
        head = body.index(b"<thead>", grid) + len(b"<thead>")
        rows_start = body.index(b"<tbody>", head)  # (the pager row holds a table of its own)
        row = pager(*page, encoded)
        body = body[:head] + row + body[head:rows_start] + b"<tfoot>" + row + b"</tfoot>" + body[rows_start:]
    if offered is not None:
        body = re.sub(rb'<li class="rcbItem">([^<]*)</li>',
                      lambda m: m.group(0) if m.group(1) in offered else b"", body)
    return body
