"""`tracker status` and `status --check` in words: meeting times in the body's zone, run times in
the tracker's (the JSON keeps ISO stamps; its data are the typed views of tracker/views.py)."""

from __future__ import annotations

import re
import socket
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from tracker.billnumbers import ordinal
from tracker.config import Config
from tracker.logs import shorten
from tracker.views import MEETING_PAST_DAYS, EmptyWatch, Running, StatusView
from tracker.words import STAGE_WORDS, STAMP, day_words, local_time, runs_in_a_row

# The UTC instants `health.problems()` puts in its lines (`last …`, the lock's `since …`); the
# JSON keeps them as they are.
_PROBLEM_STAMP = re.compile(r"\b(last|since) (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")


def check_lines(problems: list[str], config: Config) -> list[str]:
    """`status --check` problem lines as printed: their UTC stamps in the tracker's zone, as every
    other line people read says a time (`status --check --json` prints `problems` unchanged)."""
    zone = config.display_zone()

    def local(stamp: re.Match[str]) -> str:
        return f"{stamp[1]} {local_time(stamp[2], zone, STAMP)}"

    return [shorten(_PROBLEM_STAMP.sub(local, line)) for line in problems]


def _counted(n: int, noun: str) -> str:
    """`1 sponsor`, `5 sponsors`."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _latest(action: Mapping[str, Any] | None) -> str:
    """A bill's latest action as people read it: "latest Thu Feb 18, 2021: Held at the desk."."""
    if not action or not (action.get("date") or action.get("text")):
        return "no action recorded yet"
    when, text = action.get("date"), action.get("text")
    return "latest" + (f" {day_words(when)}" if when else "") + (f": {text}" if text else "")


def _empty_line(empty: EmptyWatch) -> str:
    """One calm line for a watch holding nothing: what read fine, and what to look at (a wrong body
    name or keyword is the usual reason; a quiet season is another)."""
    quoted = ", ".join(f'"{word}"' for word in empty.searched)
    if empty.kind == "meeting":
        check = f"check its bodies ({quoted})" if empty.searched else "check it is the body's own listing"
        return (f"[{empty.watch}] no meetings: {empty.source} reads fine but lists none from "
                f"{MEETING_PAST_DAYS} days back on; {check}")
    what = "titles" if empty.kind == "bill" else "keywords"
    if not empty.searched:
        return f"[{empty.watch}] no bills: {empty.source} reads fine but has stored none of its numbers yet"
    return f"[{empty.watch}] no bills: {empty.source} reads fine but its {what} ({quoted}) match none yet; check them"


def _running(run: Running, zone: ZoneInfo) -> str:
    """A source's open run: going, interrupted (its process on this machine ended) or abandoned by a
    runner that stopped (a machine that died), in the words the next run closes it with."""
    since = local_time(run.since, zone, STAMP)
    who = f"pid {run.pid or '?'} on {run.host or '?'}"
    if not run.abandoned:
        return f"; running since {since} ({who})"
    if run.pid and run.host == socket.gethostname():  # judged by its process, as the next run closes it: no beats asked
        return f"; its run since {since} was interrupted ({who} ended): the next run closes it"
    beat = f"last heartbeat {local_time(run.last_heartbeat, zone, STAMP)}" if run.last_heartbeat else "no heartbeat"
    return f"; its run since {since} was abandoned ({who} stopped, {beat}): the next run closes it"


def status_lines(view: StatusView, config: Config) -> list[str]:
    """`tracker status` as text."""
    zone = config.display_zone()
    lines = []
    for b in view.bills:
        law = f", Public Law {b.law}" if b.law else ""
        lines.append(f"[{b.watch}] {b.number} ({ordinal(b.congress)}) {STAGE_WORDS.get(b.stage or '', b.stage)}"
                     f"{law}; {_counted(b.cosponsors, 'cosponsor')}; {_latest(b.latest_action)}")
    for sb in view.state_bills:
        held = f" ({sb.committee})" if sb.committee and sb.committee not in sb.where else ""  # said once
        lines.append(f"[{sb.watch}] {sb.label} ({sb.session}) {sb.where}{held}; {_counted(sb.sponsors, 'sponsor')}; "
                     f"{_latest(sb.latest_action)}")
    for mt in view.meetings:
        when = local_time(mt.start, config.display_zone(mt.watch), STAMP) if mt.start else mt.date
        lines.append(f"[{mt.watch}] {when} {mt.body}: {mt.title} ({mt.status})")
    lines.extend(_empty_line(empty) for empty in view.empty_watches)
    for s in view.sources:
        last = local_time(s.last_run, zone, STAMP) if s.last_run else "never"
        budget = (f"; {s.budget.left} of {s.budget.daily} requests left today (UTC {s.budget.day})"
                  if s.budget is not None else "")
        running = _running(s.running, zone) if s.running is not None else ""
        if s.ok is False:  # as `status --check` says it: the source named once, its error without its own name
            error = (s.error or "unknown error").removeprefix(f"{s.id}: ")
            lines.append(f"source {s.id}: failing ({runs_in_a_row(s.consecutive_failures)}, last run {last}){budget}"
                         f"{running}: {error}")
            continue
        health = "ok" if s.ok else "never run"
        lines.append(f"source {s.id}: {health} (last run {last}){budget}{running}")
    d = view.messages  # in messages, as notify and the digest count them (`--json` counts delivery rows)
    lines.append(f"deliveries: {d.pending} pending, {d.sent} sent, {d.failed} failed, {d.dead} dead (messages)")
    p = view.people
    if p.any:  # counts only: never an address
        lines.append(f"people: {p.active} active, {p.pending} pending, {p.unsubscribed} unsubscribed, "
                     f"{p.bounced} bounced; deliveries to them closed unsent: {p.dropped_deliveries} dropped "
                     f"(no longer subscribed), {p.bounced_deliveries} bounced")
    for person in p.addresses or []:
        lines.append(f"{person['subscriber']} ({person['status']}, {person['mode']}): {person['address']}")
    for dead in view.dead_deliveries:
        lines.append(f"dead delivery {dead.id} to subscriber {dead.subscriber} after {dead.tries} "
                     f"tr{'y' if dead.tries == 1 else 'ies'}: {dead.last_error}")
    return lines
