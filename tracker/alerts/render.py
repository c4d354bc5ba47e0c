"""What a message says: the alert templates, one message per group of rows (an entity's changes
from one crawl, a bundle, an operator notice), and whom to contact about a bill or a meeting.

Pure reading: it reads the store's records and changes and writes nothing; sending is send.py.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import jinja2
from sqlalchemy import select

from tracker import clock, states, templating
from tracker import models as m
from tracker.alerts.lease import DeliveryRow
from tracker.changes import scope_of
from tracker.config import Config, Subscriber
from tracker.contacts import bill_contact_lines, bill_contacts, sponsor_line
from tracker.meetings.participation import Participation, how_to_take_part, take_part
from tracker.people import person_id_of
from tracker.queries import (
    body_members_now,
    congress_directory,
    current_record,
    entity_watches,
    state_directory,
)
from tracker.records import AgendaItem, Bill, Meeting, Record, StateBill
from tracker.reminders import ReminderNote, note_of, reminded, reminder_stands
from tracker.safetext import markdown_text, one_line, web_url
from tracker.statepeople import bill_contact_lines as state_bill_contact_lines
from tracker.words import (
    STAGE_WORDS,
    change_words,
    headline,
    lead_change,
    local_time,
    meeting_label,
    meeting_page,
    meeting_when,
)

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass
class Message:
    """One message as rendered, before it is fitted to a service's limits (send.fit)."""

    title: str
    body: str  # plain text
    link: str | None = None  # where the rest is, when a service's length limit cuts the body
    markdown: str | None = None  # for targets whose native format is Markdown or HTML
    withdrawn: bool = False  # not to be sent (a reminder whose meeting moved or was cancelled)
    # How `body` and `markdown` end, kept whole when a service's length limit cuts them (send.fit):
    # a person's unsubscribe and preferences links, which every such mail must show.
    footer: str = ""
    markdown_footer: str = ""
    # What the message is about (a bill's or a meeting's key), for mail programs to show every alert
    # about it as one conversation (`send.thread_headers`); None for a bundle or a test
    thread: str | None = None


@dataclass(frozen=True)
class MeetingFacts:
    """What every alert about a meeting shows besides its record: how to take part (only where its
    source says how, with any deadline stated), where to watch it live, its page (the source's own,
    else the digest's, else where its body lists it) and its calendar entry in the digest."""

    record: Meeting
    participation: Participation | None
    watch_live: str | None
    link: str | None
    link_label: str
    calendar: str | None
    items: list[AgendaItem]  # its agenda items matching the keywords of the watch in scope (else any watch's)


def meeting_facts(record: Record | None, key: str, watch_id: str | None, config: Config, *,
                  scope: Collection[str] | None = None) -> MeetingFacts | None:
    """The facts of a meeting alert; None for anything that is not a meeting's record. `scope`: the
    watches whose matching items it names (the campaigns the message speaks for); None: every
    watch's."""
    if not isinstance(record, Meeting):
        return None
    site = str(config.digest.url).rstrip("/") if config.digest.url else None
    page = f"{site}/{meeting_page(key)}.html" if site else None
    video = next((doc.url for doc in record.links if doc.kind == "video"), None)
    link, label = web_url(record.url), "Meeting page"
    if not link and page:
        link, label = page, "Meeting page"
    if not link:
        link, label = _listing_url(config, watch_id), "Where it is listed"
    return MeetingFacts(record=record, participation=take_part(record.comment),
                        watch_live=web_url(record.livestream_url) or web_url(video), link=link, link_label=label,
                        calendar=f"{site}/{meeting_page(key)}.ics" if site else None,
                        items=record.matching_items_for(scope))


def _listing_url(config: Config, watch_id: str | None) -> str | None:
    """Where a watch's body lists its meetings, for a meeting whose source gives it no page of its
    own: the watch's listing address, or a Legistar client's public calendar."""
    watch = config.meeting_watch(watch_id) if watch_id else None
    if watch is None:
        return None
    source = watch.source
    if isinstance(source, str):
        return web_url(source)
    client = getattr(source, "client", None)
    return web_url(f"https://{client}.legistar.com/Calendar.aspx") if client else None


def _environment(config: Config) -> jinja2.Environment:
    folder = str(config.resolve(config.digest.templates)) if config.digest.templates else None
    return _environment_for(folder)


def _environment_for(folder: str | None) -> jinja2.Environment:
    """Plain-text bodies: no autoescape (Markdown escaping is the `md` filter's job). Cached by
    tracker.templating per folder: compiling per message cost 6 ms each."""
    return templating.environment("alerts", folder, html=False, filters={
        "stage_words": lambda s: STAGE_WORDS.get(s or "", s or ""),
        "local": local_time,
        "md": _md,
        "contact_item": contact_item,
        "take_part": how_to_take_part,
        "mdurl": lambda url: re.sub(r"[\s()<>]", lambda m: f"%{ord(m.group()):02X}", url or ""),
        "state_bill": states.label,
        "state_stage": states.where_it_stands,
    })


@dataclass(frozen=True)
class MailLinks:
    """The links every mail to a person carries (their "manage" token, issued at send time):
    one-click unsubscribe and the preferences page of `tracker serve`."""

    unsubscribe: str
    preferences: str


@functools.lru_cache(maxsize=4096)
def _footer(env: jinja2.Environment, subscriber: str, markdown: bool = False) -> str:
    """The config's subscribers' footer (the operator's words: its line breaks are its own)."""
    text = _clean(env.get_template("alerts/footer.txt.j2").render(subscriber=subscriber, links=None))
    return markdown_text(text).replace("\n", "  \n") if markdown else text


def _person_footer(env: jinja2.Environment, links: MailLinks, markdown: bool = False) -> str:
    """A person's footer: their own unsubscribe and preferences links (never cached: the token is
    this mail's)."""
    name = "alerts/person_footer.md.j2" if markdown else "alerts/person_footer.txt.j2"
    return _clean(env.get_template(name).render(links=links))


def person_test_message(config: Config, person: str, links: MailLinks) -> Message:
    """`notify --test person:N`: a test mail as a person's alerts reach them, their own unsubscribe
    and preferences links at the end."""
    env = _environment(config)
    body = (f"This is a test from tracker, sent by its operator to check that alerts reach you ({person}). "
            "You need not do anything.")
    footer = "\n" + _person_footer(env, links)
    return Message("tracker test message", body + footer, footer=footer)


# Around a source's words in the Markdown as rendered (`_md`): two Unicode noncharacters, kept for
# a program's own use (any a source sends is dropped). They let `_as_sent` put those words on one
# line, once the templates have laid out the message's own lines.
_FROM, _TO = "\ufdd0", "\ufdd1"
_MARKED = re.compile(f"{_FROM}([^{_TO}]*){_TO}")


def _md(text: object) -> str:
    """Scraped text inside Markdown (`safetext.markdown_text`), marked as a source's."""
    words = str(text or "")
    if _FROM in words or _TO in words:
        words = words.replace(_FROM, "").replace(_TO, "")
    return f"{_FROM}{markdown_text(words)}{_TO}"


def _as_sent(title: str, body: str, link: str | None, marked: str, footer: str = "", md_footer: str = "",
             thread: str | None = None) -> Message:
    """The message with its Markdown as sent to every service, each source's words on one line.
    A line break of theirs would start a line of its own: a meeting's place reading
    "...\nAgenda: https://elsewhere" would pass for the message's own link line, in a mail's
    plain-text part (its links are written out there, `send.plain_part`), in its HTML part (apprise
    makes each line break a `<br>`, and mail programs make a written address a link) and in chat.
    `footer` and `md_footer`: how `body` and `marked` end, kept whole by a cut (`Message.footer`)."""
    if _FROM not in marked:
        return Message(title, body, link, marked, footer=footer, markdown_footer=md_footer, thread=thread)

    def unmarked(text: str) -> str:
        return _MARKED.sub(lambda found: found.group(1) if found.group(1).isprintable() else one_line(found.group(1)),
                           text)

    return Message(title, body, link, unmarked(marked), footer=footer, markdown_footer=unmarked(md_footer),
                   thread=thread)


def _clean(text: str) -> str:
    return _CONTROL.sub("", text)


def contact_item(line: str) -> str:
    """A contact line as a Markdown list item: an indented one (a legislator under "Your state
    legislators:", a committee's leaders under it) nested under the line before it."""
    return ("    - " if line.startswith(" ") else "- ") + _md(line.strip())


def _contact(line: str) -> str:
    """A contact line as one line, its indent kept (a committee's leaders sit under it): names and
    offices come from sources, and a line break of theirs would start a line of its own."""
    rest = line.lstrip(" ")
    return line[:len(line) - len(rest)] + one_line(rest)


def _change_context(session: Any, change: m.Change, config: Config, follows: frozenset[str] | None) -> dict[str, Any]:
    """What the bundle template shows of one change (its entity's record, the zone to show it in),
    filed under the first campaign it speaks for that the subscriber follows."""
    entity = current_record(session, change.entity_key)
    shown = _shown(session, [change], follows)
    change = _as_told(change, shown)
    watch = shown[0] if shown else change.watch_id
    zone = config.display_zone(watch)
    return {"change": change, "watch": watch,
            "entity": entity, "zone": str(zone), "kind": change.entity_key.split(":", 1)[0],
            "words": change_words(change.kind, change.data),
            "meeting": meeting_facts(entity, change.entity_key, change.watch_id, config, scope=shown)}


def _group_context(session: Any, changes: list[m.Change], config: Config, shown: list[str]) -> dict[str, Any]:
    """What an instant message about one entity shows: its headline, every change newest first, the
    entity as it stands now, and the campaigns (`shown`) whose agenda items it names."""
    first = changes[0]
    entity = current_record(session, first.entity_key)
    newest_first = sorted(changes, key=lambda c: (c.occurred_at or "", c.id), reverse=True)
    kind = first.entity_key.split(":", 1)[0]
    names = {w.id: w.name for w in [*config.bills, *config.meetings]}
    return {"changes": newest_first, "change": lead_change(newest_first), "entity": entity,
            "zone": str(config.display_zone(first.watch_id)), "kind": kind,
            "headline": headline(newest_first, entity), "campaigns": [names[w] for w in shown if w in names],
            "meeting": meeting_facts(entity, first.entity_key, first.watch_id, config, scope=shown)}


def _as_told(change: m.Change, shown: list[str]) -> m.Change:
    """The change as these campaigns are told it: an agenda item several watches' keywords match
    names only theirs (its keywords, its summary's). A copy, never added to the session: the
    stored row stays as recorded."""
    mine = {w: words for w, words in sorted(((change.data or {}).get("watches") or {}).items()) if w in shown}
    if not mine or len(mine) == len(change.data["watches"]):
        return change
    keywords = list(dict.fromkeys(k for words in mine.values() for k in words))
    said = f" ({', '.join(change.data.get('keywords') or [])})"
    summary = change.summary[:-len(said)] + f" ({', '.join(keywords)})" if change.summary.endswith(said) else change.summary
    return m.Change(id=change.id, dedupe_key=change.dedupe_key, kind=change.kind, entity_key=change.entity_key,
                    watch_id=min(mine), summary=summary, data={**change.data, "keywords": keywords, "watches": mine},
                    url=change.url, detected_at=change.detected_at, occurred_at=change.occurred_at,
                    run_id=change.run_id)


def _subscriber(config: Config, subscriber_id: str, person: Subscriber | None) -> Subscriber | None:
    """Whom a delivery is for: the person it is mailed to, else the config's subscriber."""
    return person or next((s for s in config.subscribers if s.id == subscriber_id), None)


def _follows(config: Config, subscriber_id: str, person: Subscriber | None) -> frozenset[str] | None:
    """The watches a subscriber follows (None: every watch)."""
    subscriber = _subscriber(config, subscriber_id, person)
    return frozenset(subscriber.follow) if subscriber is not None and subscriber.follow is not None else None


def _shown(session: Any, changes: list[m.Change], follows: frozenset[str] | None,
           holding: dict[str, list[str]] | None = None) -> list[str]:
    """The campaigns a message about one entity's changes speaks for, its lead change's watch first:
    the watches the changes are for (`changes.scope_of`; else every watch holding the entity) that
    the subscriber follows. Two campaigns watching one meeting each see their own agenda items.
    `holding`: the watches holding each entity, kept for a notify run (one query an entity)."""
    first = changes[0]
    told = scope_of(changes)
    if told is not None:
        holders = sorted(told)
    else:
        holding = {} if holding is None else holding
        if first.entity_key not in holding:
            holding[first.entity_key] = entity_watches(session, first.entity_key)
        holders = [*([first.watch_id] if first.watch_id else []), *holding[first.entity_key]]
    if first.watch_id in holders:  # the lead change's watch first, once
        holders = [first.watch_id, *(w for w in holders if w != first.watch_id)]
    mine = [w for w in holders if follows is None or w in follows]
    return mine or holders


@dataclass
class RenderCache:
    """What one notify run renders once and reuses: a message per set of changes (every subscriber
    gets the same text plus their own footer), whom to contact per set of changes and place, and the
    congress directory (read from the database once per run)."""

    # by changes and campaigns; their Markdown still marked as rendered (`_md`)
    messages: dict[tuple[tuple[int, ...], tuple[str, ...]], Message] = field(default_factory=dict)
    holding: dict[str, list[str]] = field(default_factory=dict)  # entity key -> the watches holding it
    contacts: dict[tuple[Any, ...], list[str]] = field(default_factory=dict)
    directory: Any = None
    directory_read: bool = False


def render_group(session: Any, rows: list[DeliveryRow], config: Config, cache: RenderCache | None = None, *,
                 person: Subscriber | None = None, links: MailLinks | None = None) -> Message:
    """The one message a group of rows carries: one entity's changes from one crawl (titled by its
    headline), a bundle, or an operator message. `cache` keeps one rendering per set of changes for
    a notify run: every subscriber gets that same text plus their own footer (cached per subscriber).
    A person's message (`person`, with the `links` of this mail) ends with their unsubscribe and
    preferences links, and names whom to contact in their place."""
    env = _environment(config)
    cache = cache if cache is not None else RenderCache()
    first = rows[0]
    note = note_of(first.payload)
    if note is not None:
        return _reminder(session, first.subscriber_id, note, config, env, links)
    if first.payload:
        return Message(_clean(first.payload["title"]), _clean(first.payload["body"]))
    footer = _person_footer(env, links) if links else _footer(env, first.subscriber_id)
    md_footer = _person_footer(env, links, markdown=True) if links else _footer(env, first.subscriber_id, markdown=True)
    if first.change_id is not None:
        ids = tuple(sorted(row.change_id for row in rows if row.change_id is not None))
        changes = [session.get(m.Change, i) for i in ids]
        shown = _shown(session, changes, _follows(config, first.subscriber_id, person), cache.holding)
        cached = cache.messages.get((ids, tuple(shown)))
        if cached is None:
            context = _group_context(session, [_as_told(change, shown) for change in changes], config, shown)
            body = env.get_template("alerts/instant.txt.j2").render(**context)
            markdown = env.get_template("alerts/instant.md.j2").render(**context)
            # its Markdown still marked (`_md`): the footer is added before it is sent
            cached = Message(_clean(context["headline"]), _clean(body), web_url(context["change"].url), _clean(markdown))
            cache.messages[(ids, tuple(shown))] = cached
        who = _who_to_contact(session, config, first.subscriber_id, ids, cache, person)
        text_who = "\n".join(["", "Who to contact:", *who, ""]) if who else ""
        md_who = "\n".join(["", "**Who to contact:**", "", *map(contact_item, who), ""]) if who else ""
        if _reminded_of_cancelled(session, config, first.subscriber_id, ids):
            text_who, md_who = f"\n{REMINDED_CANCELLED}\n" + text_who, f"\n**{REMINDED_CANCELLED}**\n" + md_who
        return _as_sent(cached.title, cached.body + text_who + footer, cached.link,
                        (cached.markdown or "") + md_who + "\n" + md_footer, footer, "\n" + md_footer,
                        changes[0].entity_key)
    change_ids = session.scalars(select(m.DeliveryChange.change_id)
                                 .where(m.DeliveryChange.delivery_id == first.id).order_by(m.DeliveryChange.change_id))
    follows = _follows(config, first.subscriber_id, person)
    items = [_change_context(session, session.get(m.Change, i), config, follows) for i in change_ids]
    mode, _, day = (first.period or "").partition(":")
    watches = _bundle_groups(items, config)
    for watch in watches:  # whom to contact, once per bill or meeting
        for group in watch["entities"]:
            ids = tuple(sorted(i["change"].id for i in group["items"]))
            group["contacts"] = _who_to_contact(session, config, first.subscriber_id, ids, cache, person)
            group["reminded"] = REMINDED_CANCELLED if _reminded_of_cancelled(
                session, config, first.subscriber_id, ids) else None
    context = {"watches": watches, "count": len(items), "mode": mode, "day": day}
    body = env.get_template("alerts/bundle.txt.j2").render(**context)
    markdown = env.get_template("alerts/bundle.md.j2").render(**context)
    return _as_sent(f"tracker {mode} digest for {day}: {len(items)} change{'s' if len(items) != 1 else ''}",
                    _clean(body + footer), None,
                    _clean(markdown) + "\n" + md_footer, footer, "\n" + md_footer)


REMINDED_CANCELLED = "You were reminded of this meeting: it is cancelled."


def _reminded_of_cancelled(session: Any, config: Config, subscriber_id: str, change_ids: tuple[int, ...]) -> bool:
    """A meeting's cancellation to a subscriber a reminder of it already reached: the message says so
    (to a person too: whatever they ask for now, what reached them is in the outbox)."""
    if person_id_of(subscriber_id) is None:
        subscriber = next((s for s in config.subscribers if s.id == subscriber_id), None)
        if subscriber is None or not subscriber.reminders:
            return False
    changes = [session.get(m.Change, i) for i in change_ids]
    cancelled = next((c for c in changes if c.kind == "meeting.cancelled"), None)
    return cancelled is not None and reminded(session, cancelled.entity_key, subscriber_id)


def _reminder(session: Any, subscriber_id: str, note: ReminderNote, config: Config, env: jinja2.Environment,
              links: MailLinks | None = None) -> Message:
    """A reminder before a meeting: when and where, the items that make it matter, how to take part,
    its link and documents, whom to write; withdrawn when it no longer stands (tracker/reminders.py).
    A person's ends with their own unsubscribe and preferences links."""
    standing = reminder_stands(session, config, subscriber_id, note)
    if standing is None:
        return Message("", "", withdrawn=True)
    meeting = standing.meeting
    names = {w.id: w.name for w in config.meetings}
    roster = body_members_now(session, note["meeting"])
    context = {
        "meeting": meeting_facts(meeting, note["meeting"], note["watch"], config, scope=standing.watches),
        "zone": meeting.timezone or str(config.display_zone(note["watch"])),
        "label": meeting_label(meeting), "ahead": _ahead(clock.parse_instant(note["start"]) - clock.now()),
        "campaign": ", ".join(names.get(w, w) for w in standing.watches), "reminder": note["reminder"],
        "matters": [reason for reason in standing.reasons if reason.followed and not reason.keywords],
        "who": [_contact(line) for line in [f"Members of the {roster.body}:", *(f"  {line}" for line in roster.lines)]]
        if roster else [],
    }
    body = env.get_template("alerts/reminder.txt.j2").render(**context)
    markdown = env.get_template("alerts/reminder.md.j2").render(**context)
    title = one_line(f"Reminder: {meeting_label(meeting)}, {meeting_when(meeting)}")
    footer = _person_footer(env, links) if links else _footer(env, subscriber_id)
    md_footer = _person_footer(env, links, markdown=True) if links else _footer(env, subscriber_id, markdown=True)
    return _as_sent(_clean(title), _clean(body) + footer, web_url(meeting.url), _clean(markdown) + "\n" + md_footer,
                    footer, "\n" + md_footer, note["meeting"])


def _ahead(left: timedelta) -> str:
    """How long until a meeting starts, in round words: "in 2 days", "in 3 hours", "in 45 minutes"."""
    minutes = max(1, round(left.total_seconds() / 60))
    if minutes >= 36 * 60:
        count, unit = round(minutes / (24 * 60)), "day"
    elif minutes >= 120 or (minutes >= 60 and minutes % 60 == 0):
        count, unit = round(minutes / 60), "hour"
    else:
        count, unit = minutes, "minute"
    return f"in {count} {unit}{'s' if count != 1 else ''}"


def _who_to_contact(session: Any, config: Config, subscriber_id: str, change_ids: tuple[int, ...],
                    cache: RenderCache, person: Subscriber | None = None) -> list[str]:
    """Lines naming whom this subscriber can call about the changes' bill: their own senators and
    representative, the leaders of the committee holding it, its sponsor; about a Legistar meeting:
    its body's current members. Nothing when that data has not been read yet (the alert still goes
    out). Worked out once per set of changes and place in a notify run."""
    subscriber = _subscriber(config, subscriber_id, person)
    if subscriber is None:
        return []
    key = (change_ids, subscriber.state, subscriber.district, subscriber.state_senate_district,
           subscriber.state_house_district)
    if key not in cache.contacts:
        entity_key = session.get(m.Change, change_ids[0]).entity_key
        if entity_key.startswith("statebill:"):
            cache.contacts[key] = _state_bill_contacts(session, config, entity_key, subscriber)
        else:
            cache.contacts[key] = _contacts(session, config, change_ids, subscriber.state, subscriber.district, cache)
        cache.contacts[key] = [_contact(line) for line in cache.contacts[key]]
    return cache.contacts[key]


def _state_bill_contacts(session: Any, config: Config, entity_key: str, subscriber: Subscriber) -> list[str]:
    """A state bill: the subscriber's own state senator and representative (when they live in its
    state and gave their districts), the chair of the committee holding it, its sponsors."""
    bill = current_record(session, entity_key)
    if not isinstance(bill, StateBill):
        return []
    directory = state_directory(session, config, bill.state)
    lines = state_bill_contact_lines(bill, directory, state=subscriber.state,
                                     senate_district=subscriber.state_senate_district,
                                     house_district=subscriber.state_house_district)
    return [_clean(line) for line in lines]


def _contacts(session: Any, config: Config, change_ids: tuple[int, ...], state: str | None, district: int | None,
              cache: RenderCache) -> list[str]:
    change = session.get(m.Change, change_ids[0])
    if change.entity_key.startswith("meeting:legistar:"):
        roster = body_members_now(session, change.entity_key)
        return [f"Members of the {roster.body}:", *(f"  {_clean(line)}" for line in roster.lines)] if roster else []
    if not change.entity_key.startswith("bill:"):
        return []
    if not cache.directory_read:
        cache.directory, cache.directory_read = congress_directory(session, config), True
    bill = current_record(session, change.entity_key)
    if not isinstance(bill, Bill):
        return []
    if cache.directory is None:  # the members' data is off or unread: the bill still names its sponsor
        line = sponsor_line(bill, None)
        return [_clean(line)] if line else []
    found = bill_contacts(bill, cache.directory, today=clock.now().date(), state=state, district=district)
    return [_clean(line) for line in bill_contact_lines(found)]


def _bundle_groups(items: list[dict[str, Any]], config: Config) -> list[dict[str, Any]]:
    """A bundle's changes grouped by watch, then by bill or meeting (each with its headline),
    in the order of the config's watches."""
    names = {w.id: w.name for w in [*config.bills, *config.meetings]}
    by_watch: dict[str | None, dict[str, list[dict[str, Any]]]] = {}
    for item in items:
        change = item["change"]
        by_watch.setdefault(item.get("watch", change.watch_id), {}).setdefault(change.entity_key, []).append(item)
    order = list(names)
    watches = []
    for watch_id in sorted(by_watch, key=lambda w: order.index(w) if w in order else len(order)):
        entities = []
        for entity_items in by_watch[watch_id].values():
            changes = sorted((i["change"] for i in entity_items), key=lambda c: (c.occurred_at or "", c.id),
                             reverse=True)
            first = entity_items[0]
            entities.append({"entity": first["entity"], "kind": first["kind"], "zone": first["zone"],
                             "meeting": first["meeting"], "headline": headline(changes, first["entity"]),
                             "items": sorted(entity_items, key=lambda i: changes.index(i["change"]))})
        watches.append({"id": watch_id, "name": names.get(watch_id or "", watch_id or "other"), "entities": entities})
    return watches
