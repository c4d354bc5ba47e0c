"""Legistar Web API (OData JSON): a body's meetings, their agenda items, and the matters on them.

Why the listing is an OR-filter: `EventLastModifiedUtc` is not bumped when a meeting is moved,
when its agenda goes public or when minutes are published. So each run lists the events dated in
the window (30 days back, 120 ahead) OR modified / agenda-published / minutes-published since the
last complete run minus a week, paged by `EventId`. Events are diffed every run (one listing);
their items are fetched only for events whose own fields changed since they were last stored,
and a matter's history only when it first matches or an agenda shows it in a new status (the
item carries the matter's status), its own record at most daily for a few.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

import scrapy
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from spiders.base import NOT_JSON, TrackerSpider
from spiders.listing import FUTURE_DAYS, PAST_DAYS
from tracker import clock, secrets
from tracker.config import Config, MeetingWatch
from tracker.cursors import EventMark, LegistarCursor, MatterMark, Section
from tracker.meetings.legistar import (
    api_id,
    body_key,
    event_fingerprint,
    in_bodies,
    item_matter_fields,
    matter_fields,
    matter_key,
    meeting_key,
    normalize_event,
    normalize_items,
    normalize_matter,
)
from tracker.meetings.officers import body_members, person_ids
from tracker.records import AgendaItem, Body, Item, items_for
from tracker.sources import SOURCES, LegistarWatch

LOOK_BACK = timedelta(days=7)
PAGE_SIZE = 1000  # Legistar's cap on $top
# How long after the listing window's start a past meeting's fingerprint is kept: its minutes, a
# corrected agenda or a late cancellation notice are still news within a year.
KEEP_PAST_DAYS = 365
# How long a matter stays followed after its status last changed (its record is asked for daily).
KEEP_MATTER_DAYS = 365
MATTER_REFRESH = timedelta(days=1)
ROSTER_REFRESH = timedelta(days=1)  # who sits on a body changes rarely
MATTER_REFRESH_PER_RUN = 10
# A listing of more pages is a fault (an API making up events, or ignoring the filter): it ends
# there, incomplete, with a warning. A real window's listing is a page or two.
MAX_LISTING_PAGES = 50
MAX_BODY_IDS_IN_FILTER = 10  # longer `or` chains hit URL length limits: filter client-side instead
# A body's office records (every term ever served, the oldest first) are paged as the listing is:
# cut at Legistar's 1,000 rows, a long-lived body's roster lost its current members. More pages
# than this is a fault; the roster is stored from what was read, with a warning.
MAX_ROSTER_PAGES = 10
# A meeting's agenda longer than Legistar's 1,000 rows an answer is read again a page at a time, in
# the order of its items' ids (an answer with no `$orderby` has no order to page through); more
# pages than this is a fault, stored as read, with a warning.
MAX_ITEM_PAGES = 20


def _id_key(text: str) -> bool:
    """A cursor's key is an id this spider may put in a path (one an older version stored from a
    broken answer is not asked for; it ages out)."""
    return text.isascii() and text.isdigit()


def _literal(moment: datetime) -> str:
    return f"datetime'{moment.strftime('%Y-%m-%dT%H:%M:%S')}'"


class LegistarSpider(TrackerSpider):
    name = "legistar"

    def __init__(self, *args: Any, config: Config, watch: MeetingWatch, cursor: dict[str, Any] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        assert isinstance(watch.source, LegistarWatch), f"{watch.id} is not a Legistar watch"
        self.watch, self.source = watch, watch.source
        self.client = watch.source.client
        self.zone = watch.timezone or config.tracker.timezone
        self.api = f"{config.sources.legistar.base_url.rstrip('/')}/{self.client}"
        secrets.register(self.source.token)
        self.cursor = LegistarCursor.load(cursor)
        # What this run learned, applied to the stored cursor when the crawl is over.
        self.learned = self.report.cursor = LegistarCursor()
        # The registry's version, on every item: a new one's first snapshot of each entity is a
        # baseline, and it is in the meetings' fingerprints, so their items are read anew once.
        self.parser_version = SOURCES["legistar"].parser_version
        # A body the watch did not follow before this run brings its meetings in unalerted (a
        # baseline, as a listing's new choice of bodies): not a flood of "scheduled" for the
        # window's meetings, held weeks ago included. Not known (an older cursor): as now.
        followed = sorted({name.strip().casefold() for name in self.source.bodies})
        self.bodies_followed = followed
        self.bodies_before = followed if self.cursor.followed is None else self.cursor.followed
        self.started = clock.now()
        self.today = self.started.date().isoformat()
        self.undated: set[str] = set()  # fingerprints given a day by this run (`_date_old_fingerprints`)
        self._date_old_fingerprints()
        self._forget_quiet_matters()
        self.listed: set[Any] = set()
        self.pages = 0  # pages of the events listing read
        self.returned: set[str] = set()  # every event id the listing gave, of a body followed or not
        self.sent: set[str] = set()  # the meetings handed to the store (`closed`)
        self.matters_asked: set[str] = set()
        self.bodies: dict[int, str] = {}  # bodies meeting in the window: id -> name
        # Every watch of this client (this one included): a meeting two of them hold is one record,
        # whose items say which watch's keywords they match (`_keywords`).
        self.siblings = [(w.id, list(w.keywords), list(w.source.bodies)) for w in config.meetings
                         if isinstance(w.source, LegistarWatch) and w.source.client == self.client]

    def _date_old_fingerprints(self) -> None:
        """Fingerprints written before a meeting's day was kept get today's: they are forgotten a
        year from now by the rule that forgets past meetings (else they would be kept for ever)."""
        for event_id, mark in self.cursor.events.items():
            if mark.date is None:  # (its day is not known: never asked for as an unlisted meeting of the window)
                self.learned.events[event_id] = self.cursor.events[event_id] = EventMark(mark.fingerprint, self.today)
                self.undated.add(event_id)

    def _forget_quiet_matters(self) -> None:
        """A matter whose status has not changed for a year is no longer followed (its record is no
        longer asked for daily), or the cursor grows with every matter ever followed. Should it come
        up on a watched agenda again, it is followed again from there."""
        horizon = (self.started - timedelta(days=KEEP_MATTER_DAYS)).date().isoformat()
        quiet = [matter_id for matter_id, mark in self.cursor.matters.items() if (mark.changed or self.today) < horizon]
        self.cursor.matters.forget(quiet)
        self.learned.matters.forget(quiet)

    # -- requests ------------------------------------------------------------------------------

    def _url(self, path: str, **params: Any) -> str:
        if self.source.token:
            params["token"] = self.source.token
        query = urlencode(params, quote_via=quote, safe="$'(),:") if params else ""
        return f"{self.api}/{path}" + (f"?{query}" if query else "")

    def _get(self, url: str, callback: Any, what: str, **cb_kwargs: Any) -> scrapy.Request:
        return scrapy.Request(url, callback=callback, errback=self.failed, cb_kwargs=cb_kwargs,
                              headers={"Accept": "application/json"}, meta={"what": what}, dont_filter=True)

    def _events_filter(self) -> str:
        today = self.started.date()
        start = datetime.combine(today - timedelta(days=PAST_DAYS), datetime.min.time())
        end = datetime.combine(today + timedelta(days=FUTURE_DAYS), datetime.min.time())
        self.report.listing_window = (start.date().isoformat(), end.date().isoformat())
        clauses = [f"(EventDate ge {_literal(start)} and EventDate le {_literal(end)})"]
        since = self.cursor.since
        if since:
            after = _literal(datetime.fromisoformat(since) - LOOK_BACK)
            clauses += [f"EventLastModifiedUtc ge {after}", f"EventAgendaLastPublishedUTC ge {after}",
                        f"EventMinutesLastPublishedUTC ge {after}"]
        text = " or ".join(clauses)
        bodies = self.source.bodies
        if bodies and len(bodies) <= MAX_BODY_IDS_IN_FILTER and all(b.strip().isdigit() for b in bodies):
            text = f"({text}) and ({' or '.join(f'EventBodyId eq {b.strip()}' for b in bodies)})"
        return text

    def _events_page(self, skip: int) -> scrapy.Request:
        url = self._url("events", **{"$filter": self._events_filter(), "$orderby": "EventId",
                                     "$top": PAGE_SIZE, "$skip": skip})
        return self._get(url, self.parse_events, "events listing", skip=skip)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        yield self._events_page(0)
        for matter_id in self._matters_due():
            self.matters_asked.add(matter_id)
            yield self._get(self._url(f"matters/{matter_id}"), self.parse_matter, f"matter {matter_id}",
                            matter_id=matter_id)

    def _matters_due(self) -> list[str]:
        """Matters we follow whose status was last checked over a day ago, oldest first, a few a run."""
        cutoff = self.started - MATTER_REFRESH
        due = [(mark.checked or "", mid) for mid, mark in self.cursor.matters.items()
               if _id_key(mid) and (not mark.checked or datetime.fromisoformat(mark.checked) < cutoff)]
        return [mid for _, mid in sorted(due)[:MATTER_REFRESH_PER_RUN]]

    def _history(self, fields: dict[str, Any]) -> scrapy.Request:
        return self._get(self._url(f"matters/{fields['id']}/histories"), self.parse_histories,
                         f"history of matter {fields['id']}", fields=fields)

    # -- responses -----------------------------------------------------------------------------

    def _json(self, response: Response, what: str, shape: type) -> Any:
        """The parsed body, or None after one clear error line (HTML error page, bad JSON, API error)."""
        data = self.json_body(response, what)
        if data is NOT_JSON:
            return None
        if not isinstance(data, shape):
            message = data.get("Message") if isinstance(data, dict) else None
            self.fail(what, response.url, f"unexpected answer: {message or type(data).__name__}")
            return None
        return data

    def parse_events(self, response: Response, skip: int) -> Iterator[Any]:
        events = self._json(response, "events listing", list)
        if events is None:
            return
        fresh = {str(i) for e in events if isinstance(e, dict) and (i := api_id(e.get("EventId"))) is not None} \
            - self.returned
        if len(events) >= PAGE_SIZE and skip and not fresh:
            # A full page of events all read already: the API ignores `$skip` (or repeats itself).
            # Asking on would ask for ever; what was read is stored, the listing is not complete.
            self.warn("events listing", response.url, f"a full page at $skip={skip} brought no event not read "
                      "already (the API ignores $skip?); the listing ends here, incomplete")
            return
        self.pages += 1
        if len(events) >= PAGE_SIZE and self.pages >= MAX_LISTING_PAGES:
            self.warn("events listing", response.url, f"still full after {self.pages} pages; the listing ends "
                      "here, incomplete")
        elif len(events) >= PAGE_SIZE:
            yield self._events_page(skip + len(events))
        if len(events) < PAGE_SIZE:
            # The whole listing arrived: meetings it no longer shows may be noted missing, and the
            # next run may ask only for what moved since now.
            self.report.complete_listing = True
            self.learned.since = self.started.isoformat()
            self.learned.followed = self.bodies_followed  # the new choice's meetings are all read
        window = self.report.listing_window or ("", "")
        for n, event in enumerate(events):
            if isinstance(event, dict) and event.get("EventId") is None:
                continue
            # The id goes into the items' path and the meeting's key: text ("1?$top=1", "12/../x"),
            # a float or a bool is no id (it was sent as it came, and stored under its text).
            event_id = api_id(event.get("EventId")) if isinstance(event, dict) else None
            if event_id is None:
                said = f" ({str(event.get('EventId'))[:40]!r})" if isinstance(event, dict) else ""
                self.fail("events listing", response.url, f"row {skip + n + 1} is not an event with an id{said}")
                continue
            if event_id in self.listed:
                continue
            self.returned.add(str(event_id))
            if not in_bodies(event, self.source.bodies):
                if str(event_id) in self.cursor.events:  # of a body no longer followed: it leaves the watch
                    self.report.unfollowed.add(meeting_key(self.client, event_id))
                continue
            self.listed.add(event_id)
            known = self.cursor.events.get(str(event_id))
            in_window = window[0] <= str(event.get("EventDate") or "")[:10] <= window[1]
            if known is None and not in_window:
                continue  # an old meeting modified upstream that we never followed: not news
            body_id = api_id(event.get("EventBodyId"))
            if in_window and body_id is not None:
                self.bodies[body_id] = str(event.get("EventBodyName") or "")
            fingerprint = event_fingerprint(event, self._keywords(event), self.parser_version)
            if known is not None and known.fingerprint == fingerprint:
                yield from self._meeting(event, None, fingerprint)
            else:
                url = self._url(f"events/{event_id}/eventitems", AgendaNote=1, MinutesNote=1, Attachments=1)
                yield self._get(url, self.parse_items, f"items of meeting {event_id}", event=event,
                                fingerprint=fingerprint)
        if self.report.complete_listing:
            yield from self._unlisted_in_window()
            self._forget_the_past()
            yield from self._rosters_due()

    def _unlisted_in_window(self) -> Iterator[scrapy.Request]:
        """Meetings we hold in the window that a complete listing no longer shows: moved out of it
        (Legistar does not bump the modified stamp for a move, so it is not listed for that either)
        or deleted. Each is asked for by its id: a move is told (`meeting.rescheduled`) when it
        happens, not months later when the new day enters the window; a 404 leaves it noted
        missing. Normally none."""
        window = self.report.listing_window or ("", "")
        for event_id, mark in sorted(self.cursor.events.items()):
            if event_id not in self.returned and event_id not in self.undated and mark.date \
                    and window[0] <= mark.date <= window[1] and _id_key(event_id):
                yield self._get(self._url(f"events/{event_id}"), self.parse_unlisted, f"meeting {event_id}",
                                event_id=event_id, mark=mark)

    def parse_unlisted(self, response: Response, event_id: str, mark: EventMark) -> Iterator[Any]:
        """An unlisted meeting as it stands now, its items kept (its fingerprint too, with its new
        day: read in full when it comes back into the window, and not asked for again meanwhile)."""
        if response.body.strip() == b"null":  # gone, as some OData services say it: as a 404
            self.learned.events.forget([event_id])
            return
        event = self._json(response, f"meeting {event_id}", dict)
        if event is None or event.get("EventId") is None:
            return
        if str(api_id(event["EventId"])) != event_id:  # a cache or proxy mixing up answers: not this meeting
            self.fail(f"meeting {event_id}", response.url, f"answered with meeting {str(event['EventId'])[:40]}: "
                                                           "nothing stored from it; asked again next run")
            return
        if not in_bodies(event, self.source.bodies):  # of a body no longer followed (filtered by id)
            self.report.unfollowed.add(meeting_key(self.client, event["EventId"]))
            self.learned.events.forget([event_id])
            return
        for item in self._meeting(event, None, None):
            day = str(event.get("EventDate") or "")[:10] or self.today
            self.report.entity_cursor[item.key] = LegistarCursor(events=Section({str(event["EventId"]):
                                                                                EventMark(mark.fingerprint, day)}))
            yield item

    def _forget_the_past(self) -> None:
        """Drop what no run will look at again, or the cursor grows with every meeting ever held.
        Called after a whole listing only. A meeting's fingerprint is what lets a later change to a
        past meeting be news (minutes are often posted weeks or months after it: the listing shows a
        modified meeting again, and an unknown one outside the window is not followed), so it is
        kept for `KEEP_PAST_DAYS` after the window's start, then dropped once the listing no longer
        shows it (a meeting still changing stays). A body with no meeting in the window (a body no
        longer watched has none listed) loses its roster date: when it meets again its roster is due
        anyway."""
        start = (self.report.listing_window or ("", ""))[0]
        if start:
            horizon = (date.fromisoformat(start) - timedelta(days=KEEP_PAST_DAYS)).isoformat()
            listed = {str(event_id) for event_id in self.listed}
            self.learned.events.forget([event_id for event_id, mark in self.cursor.events.items()
                                        if event_id not in listed and (mark.date or self.today) < horizon])
        meeting = {str(body_id) for body_id in self.bodies}
        self.learned.bodies.forget([body_id for body_id in self.cursor.bodies if body_id not in meeting])

    # -- who sits on the bodies (at most daily) -------------------------------------------------

    def _rosters_due(self) -> Iterator[scrapy.Request]:
        """Office records of the bodies meeting in the window, each checked at most once a day: an
        alert about a body's meeting names its current members."""
        cutoff = self.started - ROSTER_REFRESH
        for body_id, name in sorted(self.bodies.items()):
            checked = self.cursor.bodies.get(str(body_id))
            if checked and datetime.fromisoformat(checked) > cutoff:
                continue
            yield self._roster_page(body_id, name, 0, [])

    def _roster_page(self, body_id: int, name: str, skip: int, before: list[dict[str, Any]]) -> scrapy.Request:
        url = self._url(f"bodies/{body_id}/officerecords",
                        **{"$orderby": "OfficeRecordId", "$top": PAGE_SIZE, "$skip": skip})
        return self._get(url, self.parse_officerecords, f"members of body {body_id}", body_id=body_id, name=name,
                         skip=skip, before=before)

    def parse_officerecords(self, response: Response, body_id: int, name: str, skip: int = 0,
                            before: list[dict[str, Any]] | None = None) -> Iterator[Any]:
        answer = self._json(response, f"members of body {body_id}", list)
        if answer is None:
            return
        others = {str(row.get("OfficeRecordBodyId"))[:20] for row in answer if isinstance(row, dict)
                  and row.get("OfficeRecordBodyId") is not None and api_id(row.get("OfficeRecordBodyId")) != body_id}
        if others:
            # A cache or proxy mixing up answers: another body's members would be named as whom to
            # write about this body's meetings. Nothing stored; asked again next run.
            self.fail(f"members of body {body_id}", response.url,
                      f"answered with records of body {', '.join(sorted(others)[:3])}: nothing stored from it")
            return
        rows = list(before or [])
        known = {api_id(row.get("OfficeRecordId")) for row in rows} - {None}
        for row in answer:
            if not isinstance(row, dict) or api_id(row.get("OfficeRecordId")) in known:
                continue  # a `null` row names no one; one read on an earlier page is read
            if row.get("OfficeRecordPersonId") is not None and api_id(row.get("OfficeRecordPersonId")) is None:
                # Not an id: `int()` made 7702.5 person 7702, whose contacts were then this member's.
                row = {**row, "OfficeRecordPersonId": None}  # named from the office record only
            rows.append(row)
        if len(answer) >= PAGE_SIZE:
            what, pages = f"members of body {body_id}", skip // PAGE_SIZE + 1
            if skip and len(rows) == len(before or []):
                self.warn(what, response.url, f"a full page at $skip={skip} brought no record not read already "
                          "(the API ignores $skip?); the roster is stored from what was read")
            elif pages >= MAX_ROSTER_PAGES:
                self.warn(what, response.url, f"still full after {pages} pages; the roster is stored from the "
                          f"first {len(rows)} office records")
            else:
                yield self._roster_page(body_id, name, skip + len(answer), rows)
                return
        # People's records for the members seated or to be seated only: the records run back decades
        # (every term ever served), and an ended term's person is never named whom to write to.
        since = (self.started - timedelta(days=1)).date()
        yield from self._next_person(body_id, name, rows, person_ids(rows, since), {})

    def _next_person(self, body_id: int, name: str, rows: list[dict[str, Any]], pending: list[int],
                     persons: dict[int, dict[str, Any]]) -> Iterator[Any]:
        """People's records one after another (a few per body), then the body's roster."""
        if pending:
            yield self._get(self._url(f"persons/{pending[0]}"), self.parse_person, f"person {pending[0]}",
                            body_id=body_id, name=name, rows=rows, pending=pending, persons=persons)
            return
        key = body_key(self.client, body_id)
        self.report.entity_cursor[key] = LegistarCursor(bodies=Section({str(body_id): self.started.isoformat()}))
        members = [member.dump() for member in body_members(rows, persons)]
        yield Item(key=key, kind="body", source_id=self.watch.source_id, watch_ids=[self.watch.id],
                   content=Body(source="legistar", source_ref=str(body_id), name=name or None, members=members),
                   parser_version=self.parser_version)

    def parse_person(self, response: Response, body_id: int, name: str, rows: list[dict[str, Any]],
                     pending: list[int], persons: dict[int, dict[str, Any]]) -> Iterator[Any]:
        record = self._json(response, f"person {pending[0]}", dict)
        if record is not None and api_id(record.get("PersonId")) != pending[0]:
            # A cache or proxy mixing up answers: another person's email and phone would be given
            # as this member's, whom to write to. Named from the office record, as a failed one.
            self.warn(f"person {pending[0]}", response.url, f"answered with person {str(record.get('PersonId'))[:40]}; "
                      "named from the office record only")
            record = None
        if record is not None:
            persons = {**persons, pending[0]: record}
        yield from self._next_person(body_id, name, rows, pending[1:], persons)

    def _items_page(self, event: dict[str, Any], fingerprint: str | None, before: list[Any],
                    skip: int) -> scrapy.Request:
        url = self._url(f"events/{event['EventId']}/eventitems", AgendaNote=1, MinutesNote=1, Attachments=1,
                        **{"$orderby": "EventItemId", "$top": PAGE_SIZE, "$skip": skip})
        return self._get(url, self.parse_items, f"items of meeting {event['EventId']}", event=event,
                         fingerprint=fingerprint, before=before, skip=skip)

    def parse_items(self, response: Response, event: dict[str, Any], fingerprint: str | None,
                    before: list[Any] | None = None, skip: int | None = None) -> Iterator[Any]:
        """A meeting's agenda items: one answer, or, for an agenda as long as Legistar's answers
        (1,000 rows), its pages in turn (`skip` the page's, `before` the rows of those before)."""
        rows = self._json(response, f"items of meeting {event['EventId']}", list)
        if rows is None:
            yield from self._meeting(event, None, None)  # keep the stored items; ask again next run
            return
        if skip is None and len(rows) >= PAGE_SIZE:  # a full answer: the rest, if any, a page at a time
            yield self._items_page(event, fingerprint, [], 0)
            return
        if skip is not None:
            known = {row.get("EventItemId") for row in before or [] if isinstance(row, dict)}
            fresh = [row for row in rows if not (isinstance(row, dict) and row.get("EventItemId") in known)]
            pages = skip // PAGE_SIZE + 1
            if len(rows) >= PAGE_SIZE and fresh and pages < MAX_ITEM_PAGES:
                yield self._items_page(event, fingerprint, [*(before or []), *fresh], skip + len(rows))
                return
            if len(rows) >= PAGE_SIZE:  # no end in sight: what was read is stored, and read again next run
                why = f"{pages} pages of {PAGE_SIZE} rows and no end" if fresh else \
                    f"a full page at $skip={skip} brought no item not read already (the API ignores $skip?)"
                self.warn(f"items of meeting {event['EventId']}", response.url,
                          f"{why}; the agenda may be cut; read again next run")
                fingerprint = None
            rows = [*(before or []), *fresh]
        named = {row.get("EventItemEventId") for row in rows if isinstance(row, dict)}
        if named and event["EventId"] not in named and all(api_id(n) is not None for n in named):
            # A cache or proxy mixing up answers: another meeting's agenda would be stored as this
            # one's (its items told as "on the agenda"). Kept as stored; asked again next run.
            other = ", ".join(str(n) for n in sorted(named)[:3])
            self.fail(f"items of meeting {event['EventId']}", response.url,
                      f"answered with items of meeting {other}: nothing stored from it; asked again next run")
            yield from self._meeting(event, None, None)
            return
        try:
            items = normalize_items(rows, self._keywords(event))
        except (ValueError, TypeError, AttributeError) as exc:  # a field of the wrong type
            self.fail(f"items of meeting {event['EventId']}", response.url, f"unreadable: {exc!r}")
            yield from self._meeting(event, None, None)  # keep the stored items; ask again next run
            return
        yield from self._meeting(event, items, fingerprint)
        for item in items_for(items, self.watch.id):  # this watch follows the matters on its own matches
            if not item["keywords"] or item["matter_id"] is None:
                continue
            if api_id(item["matter_id"]) is None:  # it would go into the history's path and the matter's key
                self.fail(f"items of meeting {event['EventId']}", response.url,
                          f"item {item['key'][:40]} names matter {str(item['matter_id'])[:40]!r}, not an id: "
                          "not followed")
                continue
            matter_id = str(item["matter_id"])
            mark = self.cursor.matters.get(matter_id)
            if matter_id not in self.matters_asked and (
                    mark is None or (item["matter_status"] and item["matter_status"] != mark.status)):
                self.matters_asked.add(matter_id)
                yield self._history(item_matter_fields(item))

    def _keywords(self, event: dict[str, Any]) -> dict[str, list[str]]:
        """What an event's items are matched with: the keywords of each watch of the client holding
        the event (by its bodies; this one's at least), by its id. Every holder's crawl then stores
        the same record: else each would rewrite the items' matches with its own keywords, and the
        watch storing second never be told of its own item. Named by watch even when one holds it,
        so what each watch was told of an item is known however many come to hold it."""
        holders = {watch_id: keywords for watch_id, keywords, bodies in self.siblings if in_bodies(event, bodies)}
        return holders or {self.watch.id: list(self.watch.keywords)}

    def _meeting(self, event: dict[str, Any], items: list[AgendaItem] | None,
                 fingerprint: str | None) -> Iterator[Item]:
        """The event as a meeting item; an event that cannot be read is that event's error line
        (the rest of the listing goes on, and its stored meeting is kept)."""
        key = meeting_key(self.client, event["EventId"])
        try:
            meeting = normalize_event(event, items, zone=self.zone)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:  # a field of the wrong type
            self.fail(f"meeting {event['EventId']}", event.get("EventInSiteURL"), f"unreadable: {exc}")
            return
        if fingerprint is not None:
            mark = EventMark(fingerprint, str(event.get("EventDate") or "")[:10] or self.today)
            self.report.entity_cursor[key] = LegistarCursor(events=Section({str(event["EventId"]): mark}))
        self.sent.add(key)
        yield Item(key=key, kind="meeting", source_id=self.watch.source_id, watch_ids=[self.watch.id],
                   content=meeting, url=event.get("EventInSiteURL"), discovered=in_bodies(event, self.bodies_before),
                   carry=["items"] if items is None else [], parser_version=self.parser_version)

    def _matter_failed(self, matter_id: str, gone: bool) -> bool:
        """A matter whose record or history could not be read. One followed already and gone from
        the source (404) is followed no more (True); another goes to the back of the daily queue
        (a few a run, the longest unchecked first: ten that fail every time must not take every
        turn). One first seen on an agenda is followed from now, asked for next run: its meeting's
        items are not read again while they are unchanged."""
        mark = self.cursor.matters.get(matter_id)
        if mark is not None and gone:
            self.learned.matters.forget([matter_id])
            return True
        if mark is not None:
            self.learned.matters[matter_id] = MatterMark(mark.status, self.started.isoformat(), mark.changed)
        elif not gone:
            self.learned.matters[matter_id] = MatterMark(None, None, self.today)
        return False

    def parse_matter(self, response: Response, matter_id: str) -> Iterator[Any]:
        record = self._json(response, f"matter {matter_id}", dict)
        if record is None:
            return
        if str(api_id(record.get("MatterId"))) != matter_id:
            # A cache or proxy mixing up answers: its id led the history's path and the key, so
            # another matter was stored and followed, and this one's check never recorded.
            self.fail(f"matter {matter_id}", response.url, f"answered with matter {str(record.get('MatterId'))[:40]}: "
                      "nothing stored from it; asked again tomorrow")
            self._matter_failed(matter_id, gone=False)
            return
        yield self._history(matter_fields(record))

    def parse_histories(self, response: Response, fields: dict[str, Any]) -> Iterator[Item]:
        matter_id = str(fields["id"])
        rows = self._json(response, f"history of matter {matter_id}", list)
        if rows is None:
            return
        try:
            matter = normalize_matter(fields, rows, client=self.client)
        except (ValueError, TypeError, AttributeError) as exc:  # a field of the wrong type
            self.fail(f"history of matter {matter_id}", response.url, f"unreadable: {exc!r}")
            self._matter_failed(matter_id, gone=False)  # followed all the same: asked again
            return
        if len(rows) >= PAGE_SIZE:  # Legistar's most rows an answer holds: say the history may be cut
            self.warn(f"history of matter {matter_id}", response.url,
                      f"{len(rows)} rows, as many as Legistar answers: the history may be cut")
        key = matter_key(self.client, matter_id)
        before = self.cursor.matters.get(matter_id)
        changed = before.changed if before is not None and before.status == matter.status else None
        mark = MatterMark(status=matter.status, checked=self.started.isoformat(), changed=changed or self.today)
        self.report.entity_cursor[key] = LegistarCursor(matters=Section({matter_id: mark}))
        yield Item(key=key, kind="matter", source_id=self.watch.source_id, watch_ids=[self.watch.id],
                   content=matter, url=matter.url, discovered=True, parser_version=self.parser_version)

    def closed(self, reason: str) -> None:
        """The bodies followed are recorded only once every meeting handed to the store was stored:
        a newly followed body's meeting whose store failed is still a baseline next run, not
        "scheduled" news (as a listing's choice of bodies, spiders/listing.py)."""
        if self.sent - self.report.seen:
            self.learned.followed = None

    def failed(self, failure: Failure) -> Iterator[Any]:
        request = failure.request  # type: ignore[attr-defined]
        what = request.meta.get("what", "request")
        gone = isinstance(failure.value, HttpError) and failure.value.response.status == 404
        if request.callback == self.parse_person:
            # The office record still names the member (and may give an email): one warning, and the
            # body's roster is stored with the others' records (a record that fails every time, a
            # 500 as a 404, must not keep the roster unread for good; it is read again in a day).
            problem = "HTTP 404: no such person record" if gone else self.describe(failure)
            self.warn(what, request.url, f"{problem}; named from the office record only")
            kwargs = request.cb_kwargs
            yield from self._next_person(kwargs["body_id"], kwargs["name"], kwargs["rows"], kwargs["pending"][1:],
                                         kwargs["persons"])
            return
        if gone and request.callback == self.parse_unlisted:  # deleted upstream: noted missing, not asked again
            self.learned.events.forget([request.cb_kwargs["event_id"]])
            return
        if gone and request.callback == self.parse_officerecords:
            # The client publishes no members: its meetings are what the source is for. Asked again
            # in a day, as a roster would be.
            self.warn(what, request.url, "HTTP 404: this client publishes no members")
            body_id = str(request.cb_kwargs["body_id"])
            self.learned.bodies[body_id] = self.started.isoformat()
            return
        if request.callback in (self.parse_matter, self.parse_histories):
            matter_id = request.cb_kwargs.get("matter_id") or request.cb_kwargs["fields"]["id"]
            if self._matter_failed(str(matter_id), gone):
                self.warn(what, request.url, "HTTP 404: the matter is gone from the source; no longer followed")
                return
        self.fail(what, request.url, self.describe(failure))
        event = request.cb_kwargs.get("event")
        if event is not None:  # its items could not be read: the meeting itself is still current
            yield from self._meeting(event, None, None)
