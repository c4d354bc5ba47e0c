"""Open States API v3: the bills of state bill watches, and the state legislators alerts name.

Every run asks `/jurisdictions` first: one answer holds every state's `latest_bill_update`. A query
(one state's named bills, a keyword in one state, or a keyword in every state at once) is sent only
when its state moved past the query's mark, with `updated_since` = that mark and
`sort=updated_asc`, 20 bills a page: a run with nothing new costs that one request, and a run
stopped half way (the daily budget spent, a 429) has read an unbroken run of the oldest updates,
so its mark moves to the last bill it read and the next run goes on from there. The next page is
asked by `updated_since` = the last bill read (keyset), not by page number: a bill updated while
the pages are read moves to the end, and would shift a later page past a bill never read. A query
is read whole again, once, when its mark was read by another parser version or for fewer keyword
watches than share it now; the query that has waited longest for its turn goes first.

The key allows so many requests a minute and a day: requests go one after another, spaced to the
configured rate (`meta["host_pace"]`), each counted against the day's budget (UTC days, kept in the
cursor: refused requests count at the API too). A 429 is not retried (its daily limit answers no
Retry-After): one error line, and what was read is stored. A refused key is one error line naming
the source; the other sources go on.

Bills are yielded once per run, when the reading stops: a bill found by several queries (named and
by a keyword, or by two keywords) is one item with every watch it belongs to and every place a
keyword matched (its title, or only its text through the API's search). State legislators with
their offices are read at most weekly for the states where subscribers gave their districts, unless
`people_dir` points at a checkout of openstates/people (read from disk by the alerts instead).
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from spiders.base import NOT_JSON, TrackerSpider
from tracker import clock, secrets
from tracker.config import Config, StateBillWatch
from tracker.cursors import OpenStatesCursor, ReadMark, Section, fingerprint
from tracker.records import Item, Reference, StateBill, session_key
from tracker.report import StateBillRule
from tracker.sources import SOURCES
from tracker.statepeople import people_reference_key
from tracker.states import (
    StateBillParseError,
    bills_query,
    in_title,
    latest_updates,
    read_bill,
    read_instant,
)

PEOPLE_REFRESH = timedelta(days=7)  # legislators change seats rarely: read at most weekly
# marks written before they kept their parser were all read by the only version until then
LEGACY_PARSER = "openstates-1"
PEOPLE_PER_PAGE = 50  # the API's most for /people
IDENTIFIERS_PER_QUERY = 20  # the API's most `identifier=` values in one request
ALL_STATES = "*"
# the lists asked for (`include=`) whose absence would read as none: actions, sponsors, votes
PARTIAL_IF_LACKING = ("actions", "sponsorships", "votes")


@dataclass
class Query:
    """One series of `/bills` pages: a state's named bills of a session, or a keyword in a state
    (or every state). `id` names its mark in the cursor."""

    id: str
    state: str | None  # None: every state
    session: str | None = None
    identifiers: list[str] = field(default_factory=list)
    keyword: str | None = None
    # named bill key -> the watches naming it; a keyword query: the watches searching it
    watches_of: dict[str, list[str]] = field(default_factory=dict)
    keyword_watches: list[str] = field(default_factory=list)
    # this run's progress
    whole: bool = False  # read from the start (a first read, a new parser, a new keyword watch)
    page: int = 1
    since: datetime | None = None  # `updated_since` of the next request: the mark, then the last bill read
    answers: int = 0  # pages read
    latest: datetime | None = None  # the state's latest_bill_update this run: the mark once read whole
    newest: str | None = None  # updated_at of the last bill read (ISO)
    keys: list[str] = field(default_factory=list)  # bills read
    complete: bool = False
    broken: bool = False  # a bill it returned could not be read: its mark stays
    # a page not oldest update first (the API ignored `sort`): `updated_since` from its last bill
    # would skip older ones, so pages go by number and a stopped read moves no mark
    unordered: bool = False


def plan_queries(watches: list[StateBillWatch]) -> list[Query]:
    """The queries the watches need, merged: one per state and session for named bills (20 bills a
    request), one per keyword and place, whichever watches share them."""
    named: dict[tuple[str, str], dict[str, tuple[str, list[str]]]] = {}
    keywords: dict[tuple[str, str | None, str], tuple[str, list[str]]] = {}
    for watch in watches:
        if watch.numbers and watch.state and watch.session:
            bills = named.setdefault((watch.state, watch.session), {})
            for number, key in zip(watch.numbers, watch.number_keys, strict=True):
                bills.setdefault(key, (number, []))[1].append(watch.id)
        for keyword in watch.keywords:
            for place in watch.keyword_states or [ALL_STATES]:
                session = watch.session if watch.state else None
                entry = keywords.setdefault((place, session, keyword.casefold()), (keyword, []))
                entry[1].append(watch.id)
    queries: list[Query] = []
    for (state, session), bills in sorted(named.items()):
        keys = sorted(bills)
        for start in range(0, len(keys), IDENTIFIERS_PER_QUERY):
            chunk = keys[start:start + IDENTIFIERS_PER_QUERY]
            digest = hashlib.sha256("\n".join(chunk).encode()).hexdigest()[:12]
            queries.append(Query(id=f"{state}|{session}|bills:{digest}", state=state, session=session,
                                 identifiers=[bills[k][0] for k in chunk],
                                 watches_of={k: sorted(set(bills[k][1])) for k in chunk}))
    for (place, session, folded), (keyword, watch_ids) in sorted(keywords.items(), key=lambda kv: str(kv[0])):
        queries.append(Query(id=f"{place}|{session or ''}|q:{folded}", state=None if place == ALL_STATES else place,
                             session=session, keyword=keyword, keyword_watches=sorted(set(watch_ids))))
    # keyword queries first: a bill both named and found is read with its matches before its name
    return [q for q in queries if q.keyword] + [q for q in queries if not q.keyword]


@dataclass
class Found:
    """A bill read this run: its latest answer, its watches, where keywords matched it, and
    whether a query that had gone through whole before found it (then a first sighting is news)."""

    data: dict[str, Any]
    record: StateBill
    watch_ids: set[str] = field(default_factory=set)
    matches: dict[str, str] = field(default_factory=dict)  # keyword -> title | text
    discovered: bool = False
    queries: set[str] = field(default_factory=set)  # the keyword queries (ids) that found it


class OpenStatesSpider(TrackerSpider):
    name = "openstates"
    source_id = "openstates"

    def __init__(self, *args: Any, config: Config, watches: list[StateBillWatch],
                 cursor: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        source = config.sources.openstates
        self.base = source.base_url.rstrip("/")
        self.key = source.api_key or ""
        secrets.register(self.key)
        self.budget = source.daily_budget
        # a hair over 60/N seconds apart: never N+1 requests within one of the API's minutes
        self.spacing = 60.0 / source.per_minute * 1.02
        self.cursor = OpenStatesCursor.load(cursor)
        self.learned = self.report.cursor = OpenStatesCursor()
        self.started = clock.now()
        self.today = self.started.astimezone(UTC).date().isoformat()
        self.used = self.cursor.used_on(self.today)
        self.queries = plan_queries(watches)
        self.parser_version = SOURCES["openstates"].parser_version
        # a watch naming a bill already stored holds it though its query is not asked (a bill
        # another watch named, read before and not updated since): tracker/runs.py links them
        self.report.held = {f"statebill:{key}": ids for q in self.queries for key, ids in q.watches_of.items()}
        # which keyword queries found each bill: the stored record, with this run's finds (`_flush`)
        self.found_by: dict[str, list[str]] = dict(self.cursor.found)
        # the keyword queries of the whole config (not only this run's watches, `crawl --watch`):
        # a finder no watch has any more is dropped from the record
        every = plan_queries([w for w in config.bills if isinstance(w, StateBillWatch)])
        self.searched = {q.id for q in every if q.keyword is not None}
        # every query of the whole config: a `crawl --watch` run forgets no other watch's marks
        self.planned = {q.id for q in every} | {q.id for q in self.queries}
        self._judge_changed(config, watches)
        self.queue: list[Query] = []
        self.found: dict[str, Found] = {}
        self.people_due = [] if source.people_dir else self._people_states(config, watches)
        self.people: dict[str, list[dict[str, Any]]] = {}
        self.stopped = False

    def _judge_changed(self, config: Config, watches: list[StateBillWatch]) -> None:
        """A watch whose config changed (or is new to the cursor) lets go of the bills it no longer
        holds, a number, a keyword or a state taken out: tracker/runs.py, from its rule. A keyword
        watch holds what one of its keyword queries found (`StateBillRule`)."""
        before = dict(self.cursor.watches)
        for watch in watches:
            queries = frozenset(q.id for q in self.queries if watch.id in q.keyword_watches)
            session = session_key(watch.session) if watch.state and watch.session else None
            places = tuple((place, session) for place in watch.keyword_states or [None]) if watch.keywords else ()
            rule = StateBillRule(watch.id, frozenset(f"statebill:{key}" for key in watch.number_keys), places,
                                 queries, self.found_by)
            shape = fingerprint([sorted(rule.numbers), sorted(queries)])
            if before.get(watch.id) != shape:
                self.report.rules.append(rule)
                self.learned.watches[watch.id] = shape
        everyone = {w.id for w in config.bills if isinstance(w, StateBillWatch)}
        self.learned.watches.forget(sorted(set(before) - everyone))  # gone from the config

    def _people_states(self, config: Config, watches: list[StateBillWatch]) -> list[str]:
        """States whose legislators alerts need (a subscriber gave their districts there, and a watch
        covers it) and were last read over a week ago."""
        covered: set[str] = set()
        everywhere = False
        for watch in watches:
            if watch.state:
                covered.add(watch.state)
            if watch.keywords:
                if watch.keyword_states is None:
                    everywhere = True
                else:
                    covered.update(watch.keyword_states)
        wanted = {s.state.lower() for s in config.subscribers
                  if s.state and (s.state_senate_district or s.state_house_district) and not s.paused}
        due = []
        for state in sorted(wanted if everywhere else wanted & covered):
            last = self.cursor.people.get(state)
            if not last or datetime.fromisoformat(last) <= self.started - PEOPLE_REFRESH:
                due.append(state)
        return due

    # -- requests ----------------------------------------------------------------------------------

    def _request(self, path: str, params: list[tuple[str, str]], callback: Any, what: str,
                 **cb_kwargs: Any) -> scrapy.Request:
        """One API request, counted against the day's budget before it is sent."""
        self.used += 1
        return scrapy.Request(
            f"{self.base}{path}?{urlencode(params)}", callback=callback, errback=self.failed, cb_kwargs=cb_kwargs,
            headers={"X-API-KEY": self.key, "Accept": "application/json"}, dont_filter=True,
            meta={"what": what, "handle_httpstatus_all": True, "host_pace": self.spacing,
                  # counted requests: none sent again behind our back (a retry is one more of the
                  # day's budget), none waited for (a 429 here means the day's or minute's limit)
                  "dont_retry": True, "dont_retry_after": True,
                  # an API used with its key under its own terms, not pages crawled: robots.txt
                  # would be one more request every run
                  "dont_obey_robotstxt": True})

    def _budget_left(self) -> bool:
        if self.used < self.budget:
            return True
        self.warn("daily budget", None, f"the day's budget of {self.budget} requests is spent ({self.today}, "
                  "UTC): stopped; what was read is kept, the rest is read after midnight UTC")
        self.stopped = True
        return False

    async def start(self) -> AsyncIterator[scrapy.Request]:
        if not self.queries and not self.people_due:
            return
        if not self._budget_left():
            self.not_modified()  # nothing asked: not an empty answer
            return
        yield self._request("/jurisdictions", [("classification", "state"), ("per_page", "52")],
                            self.parse_jurisdictions, "jurisdictions")

    def _next(self) -> Iterator[Any]:
        """The next request, one at a time; when there is none (or the run stopped), the bills read."""
        while not self.stopped and self.queue and self._budget_left():
            query = self.queue[0]
            params = bills_query(query.state, since=query.since, session=query.session, keyword=query.keyword,
                                 identifiers=query.identifiers, page=query.page)
            what = f"bills ({self._describe(query)})"
            length, limit = len(f"{self.base}/bills?{urlencode(params)}"), self.settings.getint("URLLENGTH_LIMIT")
            if limit and length > limit:
                # Scrapy drops such a request with a line at INFO: the next one is asked only from
                # its answer, so the run would end there, storing nothing, and say it went well
                self.fail(what[:200], None, f"its request would be {length} characters long, over the "
                          f"{limit} a URL may have: shorten the keyword")
                query.broken = True
                self.queue.pop(0)
                continue
            yield self._request("/bills", params, self.parse_bills, what, query=query)
            return
        yield from self._flush()
        if not self.stopped and self.people_due and self._budget_left():
            state = self.people_due[0]
            yield self._people_request(state, 1)

    def _people_request(self, state: str, page: int) -> scrapy.Request:
        params = [("jurisdiction", state), ("include", "offices"), ("per_page", str(PEOPLE_PER_PAGE)),
                  ("page", str(page))]
        return self._request("/people", params, self.parse_people, f"legislators of {state.upper()}",
                             state=state, page=page)

    @staticmethod
    def _describe(query: Query) -> str:
        where = query.state.upper() if query.state else "every state"
        if query.keyword:
            return f'"{query.keyword}" in {where}' + (f" {query.session}" if query.session else "")
        return f"{where} {query.session}: {', '.join(query.identifiers)}"

    # -- answers -----------------------------------------------------------------------------------

    def _answer(self, response: Response, what: str) -> Any:
        """The JSON of a 200, or None after the run was stopped with one line (a refused key, a 429)
        or one error line (anything else)."""
        status = response.status
        if status == 200:
            data = self.json_body(response, what)
            if data is NOT_JSON:
                return None
            if isinstance(data, dict):
                return data
            self.fail(what, response.url, f"unexpected answer: {type(data).__name__}")
            return None
        detail = _detail(response.body)
        if status in (401, 403):
            self.stopped = True
            self.fail("API key", None, f"Open States refused the key (HTTP {status}: {detail}); check [sources.openstates] "
                      "api_key")
        elif status == 429:
            self.stopped = True
            self.fail("rate limit", None, f"HTTP 429 from Open States ({detail}): stopped; what was read is kept, "
                      "the rest is read next run")
        else:
            self.fail(what, response.url, f"HTTP {status}" + (f": {detail}" if detail else ""))
        return None

    def parse_jurisdictions(self, response: Response) -> Iterator[Any]:
        data = self._answer(response, "jurisdictions")
        if data is None:
            self.stopped = True  # nothing to go by
            return
        latest = latest_updates(data)
        newest = max(latest.values(), default=None)
        for query in self.queries:
            moved = newest if query.state is None else latest.get(query.state)
            if moved is None:
                self.warn(f"bills ({self._describe(query)})", None, "Open States lists no such state")
                continue
            mark = self.cursor.reads.get(query.id)
            since = read_instant(mark.since) if mark is not None and not self._read_whole(query, mark) else None
            if since is None or moved > since:
                query.whole, query.since, query.latest = since is None, since, moved
                self.queue.append(query)
        # the query that has waited longest first (never read: first of all), so one whose pages
        # outrun the daily budget does not take every day's budget from the others
        self.queue.sort(key=lambda q: self.cursor.turns.get(q.id, ""))
        if not self.queue:
            self.not_modified()  # no watched state moved: this one request was the whole run
        yield from self._next()

    def _read_whole(self, query: Query, mark: ReadMark) -> bool:
        """Whether a query read before is read from the start again: its bills were read by another
        parser version (the new one's first snapshot of each is a baseline, tracker/store.py), or
        for fewer keyword watches than share it now (a new one gets every bill it finds)."""
        if (mark.parser or LEGACY_PARSER) != self.parser_version:
            return True
        return mark.watches is not None and not set(query.keyword_watches) <= set(mark.watches)

    def parse_bills(self, response: Response, query: Query) -> Iterator[Any]:
        what = f"bills ({self._describe(query)})"
        if response.status == 404 and query.page > 1:  # past the last page (the total shrank)
            query.complete = True
            self.queue.pop(0)
            yield from self._next()
            return
        data = self._answer(response, what)
        if data is None:
            if not self.stopped:  # this query failed: the others go on, its mark stays
                query.broken = True
                self.queue.pop(0)
            yield from self._next()
            return
        self.learned.turns[query.id] = self.started.astimezone(UTC).isoformat()  # it had its turn
        query.answers += 1
        results = data.get("results") if isinstance(data.get("results"), list) else []
        known = set(query.keys)
        for row in results:
            self._read(row, query)
        if not _ascending(results):
            query.unordered = True
        pagination = data.get("pagination") if isinstance(data.get("pagination"), dict) else {}
        max_page = pagination.get("max_page") if isinstance(pagination.get("max_page"), int) else query.page
        if not results and query.answers == 1:
            self.not_modified()
        if query.page < max_page and set(query.keys) <= known and not _from_its_second(results, query):
            # more pages said to follow, yet none of this one's bills is new (an empty page, the
            # last bill again): an API whose `max_page` lies would take the day's whole budget
            self.queue.pop(0)
            self.warn(what, None, f"page {query.page} of {max_page} brought no bill not read already: stopped "
                      "reading it this run; the next run goes on from the last bill read")
        elif query.page < max_page:
            self._next_page(query, results[-1] if results else None)
        else:
            query.complete = True
            self.queue.pop(0)
            if query.whole and query.keyword is None:  # a whole read sees every named bill
                for key in sorted(set(query.watches_of) - set(query.keys)):
                    self.warn(f"bill {key}", None, "Open States has no such bill (check the watch's `state`, "
                              "`session` and `numbers`)")
        yield from self._next()

    @staticmethod
    def _next_page(query: Query, last: Any) -> None:
        """The next request goes on from the last bill of this page (`updated_since` is inclusive
        and read to the second: that bill is read again, never one past it). Only a whole page of
        bills updated in the one second it started from goes on by page number."""
        try:
            after = read_instant(last["updated_at"]).replace(microsecond=0)
        except (TypeError, KeyError, ValueError):
            after = None
        if after is not None and not query.unordered and (query.since is None or after > query.since.replace(microsecond=0)):
            query.since, query.page = after, 1
        else:
            query.page += 1

    def _read(self, row: Any, query: Query) -> None:
        """One bill of an answer, added to what this run found. A bill lacking a list asked for
        (`include=actions`...) is a partial answer, one error line: read as it is, its actions and
        sponsors would be none, the stored bill "introduced" again and every sponsor gone."""
        lacking = [name for name in PARTIAL_IF_LACKING if isinstance(row, dict) and row.get(name) is None]
        if lacking:
            query.broken = True
            self.fail(f"bill in {self._describe(query)}", None,
                      f"Open States bill {str(row.get('identifier') or row.get('id') or '?')[:60]} came without its "
                      f"{', '.join(lacking)} (a partial answer): not read, the stored bill is kept")
            return
        try:
            record = read_bill(row)
        except StateBillParseError as exc:
            query.broken = True
            self.fail(f"bill in {self._describe(query)}", None, str(exc))
            return
        key = record.key
        if query.keyword is None:
            watch_ids = query.watches_of.get(key)
            if not watch_ids:  # the API normalized a number we did not name: not ours
                return
        else:
            watch_ids = query.keyword_watches
        found = self.found.get(key)
        if found is None:
            found = self.found[key] = Found(row, record)
        else:
            found.data, found.record = row, record
        found.watch_ids.update(watch_ids)
        if query.keyword is not None:
            where = "title" if in_title(record.title, query.keyword) else "text"
            if found.matches.get(query.keyword) != "title":
                found.matches[query.keyword] = where
            mark = self.cursor.reads.get(query.id)
            found.discovered = found.discovered or bool(mark and mark.done)
            found.queries.add(query.id)
        query.keys.append(key)
        if isinstance(row.get("updated_at"), str):
            query.newest = row["updated_at"]

    def _flush(self) -> Iterator[Item]:
        """The bills read, oldest update first, each once with all its watches and matches."""
        version = self.parser_version
        for _key, found in sorted(self.found.items(), key=lambda kv: (str(kv[1].data.get("updated_at")), kv[0])):
            record = found.record
            record.matches = [{"keyword": k, "where": w} for k, w in sorted(found.matches.items())]
            # its finders, kept once it is stored (a bill read by its number alone: [], none)
            finders = sorted((set(self.found_by.get(record.key, [])) | found.queries) & self.searched)
            self.found_by[record.key] = finders
            self.report.entity_cursor[record.entity] = OpenStatesCursor(found=Section({record.key: finders}))
            yield Item(key=record.entity, kind="statebill", source_id=self.source_id,
                       watch_ids=sorted(found.watch_ids), content=record, url=record.url,
                       discovered=found.discovered, parser_version=version)
        self.found = {}

    def parse_people(self, response: Response, state: str, page: int) -> Iterator[Any]:
        data = self._answer(response, f"legislators of {state.upper()}")
        if data is None:
            if not self.stopped:
                self.people_due.pop(0)
                yield from self._next()
            return
        read = self.people.setdefault(state, [])
        known = {_person(r) for r in read}
        rows = data.get("results") if isinstance(data.get("results"), list) else []
        fresh = [r for r in rows if isinstance(r, dict) and _person(r) not in known]
        read.extend(fresh)
        pagination = data.get("pagination") if isinstance(data.get("pagination"), dict) else {}
        max_page = pagination.get("max_page") if isinstance(pagination.get("max_page"), int) else page
        # a page with no one new ends them: an API whose `max_page` lies would take the day's budget
        if page < max_page and fresh:
            if self._budget_left():
                yield self._people_request(state, page + 1)
            return
        self.people_due.pop(0)
        body = json.dumps({"results": self.people.pop(state)}, sort_keys=True, separators=(",", ":")).encode()
        name = f"openstates-people-{state}"
        yield Item(key=people_reference_key(state), kind="reference", source_id=self.source_id, watch_ids=[],
                   content=Reference(name=name, sha256=hashlib.sha256(body).hexdigest(), size=len(body)),
                   url=response.url, raw=body, parser_version=SOURCES["openstates"].parser_version)
        yield from self._next()

    def failed(self, failure: Failure) -> Iterator[Any]:
        """The request got no answer (a refused connection, a timeout): one line; the query's mark
        stays, the others go on."""
        request = failure.request  # type: ignore[attr-defined]
        self.fail(request.meta.get("what", "request"), request.url, self.describe(failure))
        query = request.cb_kwargs.get("query")
        if query is not None and self.queue and self.queue[0] is query:
            query.broken = True
            self.queue.pop(0)
        elif "state" in request.cb_kwargs and self.people_due:
            self.people_due.pop(0)
        if request.meta.get("what") == "jurisdictions":
            self.stopped = True
        yield from self._next()

    # -- what the cursor keeps ---------------------------------------------------------------------

    def closed(self, reason: str) -> None:
        """Each query's mark: the state's latest update once read whole, else the last bill read (an
        unbroken run of the oldest updates), but only when every bill it read was stored. It names
        the parser that read them and the keyword watches they were read for: a query stopped half
        way through a whole read resumes from its last bill and is not read whole again."""
        self.learned.day, self.learned.used = self.today, self.used
        for query in self.queries:
            if query.broken or any(f"statebill:{key}" not in self.report.seen for key in query.keys):
                continue
            before = self.cursor.reads.get(query.id)
            watches = query.keyword_watches if query.keyword is not None else None
            if query.complete and query.latest is not None:
                self.learned.reads[query.id] = ReadMark(query.latest.isoformat(), True, self.parser_version, watches)
            elif query.newest and not query.unordered:
                self.learned.reads[query.id] = ReadMark(read_instant(query.newest).isoformat(),
                                                        bool(before and before.done), self.parser_version, watches)
        planned = self.planned
        for key, finders in self.cursor.found.items():  # a query no watch has any more holds nothing
            if any(q not in self.searched for q in finders):
                self.learned.found[key] = [q for q in finders if q in self.searched]
        self.learned.reads.forget([read_id for read_id in self.cursor.reads if read_id not in planned])
        self.learned.turns.forget([read_id for read_id in self.cursor.turns if read_id not in planned])
        for state in {k.split(":")[-1] for k in self.report.seen if k.startswith("reference:openstates:people:")}:
            self.learned.people[state] = self.started.isoformat()


def _ascending(rows: list[Any]) -> bool:
    """Whether a page's bills are oldest update first, as `sort=updated_asc` asks (one whose
    `updated_at` cannot be read breaks the order: nothing can be said of it)."""
    instants = []
    for row in rows:
        try:
            instants.append(read_instant(row["updated_at"]))
        except (TypeError, KeyError, ValueError, AttributeError):
            if isinstance(row, dict):
                return False
    return all(a <= b for a, b in itertools.pairwise(instants))


def _from_its_second(rows: list[Any], query: Query) -> bool:
    """Whether this is the first page asked from the second the last one ended in, every bill of it
    updated in that second: a bulk update's bills, read already, repeated by no lie (the next page
    is asked by number: `_next_page`). Only a first page can be so: the mark moves on at every page
    whose last bill is later, so at most a page of bills of that second was read before."""
    if query.page != 1 or query.since is None or not rows:
        return False
    second = query.since.replace(microsecond=0)
    try:
        return all(read_instant(row["updated_at"]).replace(microsecond=0) == second for row in rows)
    except (TypeError, KeyError, ValueError, AttributeError):
        return False


def _person(row: dict[str, Any]) -> str:
    """A legislator as told apart from the others of an answer: their id (or, lacking one, all of them)."""
    return str(row.get("id") or json.dumps(row, sort_keys=True))


def _detail(body: bytes) -> str:
    """FastAPI's `{"detail": ...}` as one short phrase; nothing from an answer that is not that (one
    nested past Python's limit raised in the callback: no line said which answer failed)."""
    try:
        detail = json.loads(body).get("detail")
    except (ValueError, AttributeError, RecursionError):
        return ""
    text = detail if isinstance(detail, str) else json.dumps(detail)[:120]
    return " ".join(str(text).split())[:160]

