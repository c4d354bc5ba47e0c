"""A meeting two campaigns watch: two watches follow the Public Safety committee of the NYC client
("safety" with police words, "budget" with "budget"), crawled for real against the loopback Legistar
API (as tests/test_legistar_cursor_faults.py does). What each campaign's subscribers are told and
shown: the meeting's page, an item matching both, the campaign line, a meeting alert, reminders,
`changes --watch`. Each test failed on the first form of per-watch matches (found by a review)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lxml import html
from statusjson import changes_json
from test_legistar import KEYWORDS, baseline_state, derived_item
from test_legistar_cursor_faults import NYC, _owed, nyc_watches

from tracker import models as m
from tracker.alerts.render import render_group
from tracker.config import Config, load_config
from tracker.crawl import run_crawls
from tracker.demo.legistar_api import LegistarApi
from tracker.demo.replay import ReplayServer
from tracker.digest import write_site
from tracker.reminders import owe_reminders, reminder_stands
from tracker.store import Store
from tracker.views import collect_status, list_changes
from tracker.words import meeting_page

SAFETY = ["Committee on Public Safety"]
HEARING = NYC + "20111"  # the Public Safety hearing of June 26
NYPD_ITEM = "Oversight of NYPD overtime"
BUDGET_ITEM = "Participatory budget hearing"



def two_campaigns(tmp_path: Path, replay: ReplayServer, legistar: LegistarApi, monkeypatch: pytest.MonkeyPatch,
                  subscribers: str, *items: tuple[int, str]) -> tuple[Config, Store]:
    """A baseline crawl of the two watches, then `items` (id, title) put on hearing 20111 and crawled."""
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T12:00:00Z")
    baseline_state(legistar)
    path = nyc_watches(tmp_path, replay, ("safety", SAFETY, KEYWORDS), ("budget", SAFETY, ["budget"]))
    path.write_text(path.read_text() + subscribers)
    config = load_config(path, env={})
    store = Store(config.database_url)
    assert all(r.ok for r in run_crawls(config, store)) and changes_json(store) == []
    nyc = legistar.client("nyc")
    nyc.events[20111]["EventLastModifiedUtc"] = "2023-06-01T12:30:00"
    nyc.eventitems[20111] = [*nyc.eventitems[20111], *(
        derived_item(item_id, title, "Committee", 3 + n)
        | {"EventItemMatterId": None, "EventItemMatterFile": None}
        for n, (item_id, title) in enumerate(items))]
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T13:00:00Z")
    assert all(r.ok for r in run_crawls(config, store))
    return config, store


def sub(name: str, follow: list[str] | None, extra: str = "") -> str:
    text = f'[[subscribers]]\nid = "{name}"\nnotify = ["json://127.0.0.1:9/"]\n'
    if follow is not None:
        text += f"follow = {follow!r}\n".replace("'", '"')
    return text + extra


def instant_message(store: Store, config: Config, subscriber: str) -> Any:
    """The one instant message owed to the subscriber, rendered as notify renders it."""
    from sqlalchemy import select

    with store.session() as session:
        rows = session.scalars(select(m.Delivery).where(m.Delivery.subscriber_id == subscriber)
                               .order_by(m.Delivery.id)).all()
        assert rows and len({row.group_key for row in rows}) == 1
        return render_group(session, list(rows), config)


# -- 1. the digest's meeting page: one page per meeting, written once per holding watch -------------

def test_the_digest_page_of_a_shared_meeting_shows_every_campaigns_items(
        tmp_path: Path, replay: ReplayServer, legistar: LegistarApi, monkeypatch: pytest.MonkeyPatch) -> None:
    """The hearing's page (meetings/<slug>.html) is one file for both campaigns; safety's digest
    entry and its alerts link to it. It shows each campaign's items under its name (it was written
    once per holding watch, the last one winning: the NYPD item safety was alerted to was not on the
    page it was sent to)."""
    config, store = two_campaigns(tmp_path, replay, legistar, monkeypatch, "",
                                  (900004, NYPD_ITEM), (900005, BUDGET_ITEM))
    site = write_site(store, config, tmp_path / "site")
    page = html.parse(str(site / f"{meeting_page(HEARING)}.html")).getroot()
    sections = {h3.text_content(): h3.getnext().text_content()
                for h3 in page.xpath('//h2[.="Agenda items that match the campaigns"]/following-sibling::h3')}
    assert NYPD_ITEM in sections["NYC safety"] and BUDGET_ITEM not in sections["NYC safety"], sections
    assert BUDGET_ITEM in sections["NYC budget"] and NYPD_ITEM not in sections["NYC budget"], sections


# -- 2. one item matching both campaigns: told twice to whoever follows both -----------------------

def test_an_item_matching_both_campaigns_is_told_once_to_a_subscriber_of_both(
        tmp_path: Path, replay: ReplayServer, legistar: LegistarApi, monkeypatch: pytest.MonkeyPatch) -> None:
    """"NYPD budget" matches both watches. Dee follows every watch (no `follow`: the default): she
    is owed two changes for the one item, and her one message lists it twice."""
    config, store = two_campaigns(tmp_path, replay, legistar, monkeypatch, sub("dee", None),
                                  (900006, "NYPD budget overview"))
    owed = _owed(store, "dee")
    message = instant_message(store, config, "dee")
    assert message.body.count("NYPD budget overview") <= 2, message.body  # the change line and the agenda line
    assert len(owed) == 1, owed


# -- 3. the instant alert of one campaign's item names the other campaign too -----------------------

def test_an_item_told_to_one_campaign_is_not_signed_with_the_other(
        tmp_path: Path, replay: ReplayServer, legistar: LegistarApi, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ana follows safety only and is told of the NYPD item alone, yet the message says
    "Campaign: NYC safety, NYC budget": `_group_context` lists every watch holding the meeting."""
    config, store = two_campaigns(tmp_path, replay, legistar, monkeypatch, sub("ana", ["safety"]),
                                  (900004, NYPD_ITEM), (900005, BUDGET_ITEM))
    assert [summary for _, summary in _owed(store, "ana")] == [
        "Committee on Public Safety on Mon Jun 26, 10:00 AM: Oversight of NYPD overtime (NYPD)"]
    message = instant_message(store, config, "ana")
    assert BUDGET_ITEM not in message.body
    assert "Campaign: NYC safety\n" in message.body, message.body


# -- 4. a meeting-level alert shows every campaign's items, unnamed --------------------------------

def test_a_meeting_alert_to_one_campaign_does_not_list_the_others_items(
        tmp_path: Path, replay: ReplayServer, legistar: LegistarApi, monkeypatch: pytest.MonkeyPatch) -> None:
    """The hearing moves. Ana (safety only) is told; her message lists "On its agenda (budget):
    Participatory budget hearing", the budget campaign's item, as if it were hers (scope None:
    items_for(None) gives the union, naming no campaign)."""
    config, store = two_campaigns(tmp_path, replay, legistar, monkeypatch, sub("ana", ["safety"]),
                                  (900004, NYPD_ITEM), (900005, BUDGET_ITEM))
    with store.session() as session:
        from sqlalchemy import delete
        session.execute(delete(m.Delivery))
    nyc = legistar.client("nyc")
    nyc.events[20111]["EventTime"] = "1:00 PM"
    nyc.events[20111]["EventLastModifiedUtc"] = "2023-06-01T13:30:00"
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T14:00:00Z")
    assert all(r.ok for r in run_crawls(config, store))
    assert [kind for kind, _ in _owed(store, "ana")] == ["meeting.rescheduled"]
    message = instant_message(store, config, "ana")
    assert NYPD_ITEM in message.body
    assert BUDGET_ITEM not in message.body, message.body


# -- 5. reminders: one per subscriber and meeting, scoped to the first watch -----------------------

def _reminder_reasons(store: Store, config: Config, who: str) -> list[str]:
    from sqlalchemy import select

    with store.session() as session:
        (payload,) = session.scalars(select(m.Delivery.payload).where(m.Delivery.subscriber_id == who)
                                     .where(m.Delivery.group_key.like("reminder:%"))).all()
        standing = reminder_stands(session, config, who, payload["reminder"])
        return [] if standing is None else sorted(r.title or "" for r in standing.reasons)


def test_a_reminder_to_a_subscriber_of_both_campaigns_names_both_campaigns_items(
        tmp_path: Path, replay: ReplayServer, legistar: LegistarApi, monkeypatch: pytest.MonkeyPatch) -> None:
    """Dee follows both campaigns and asks for a reminder two days ahead. One reminder is owed
    (its key holds no watch: the first watch's wins) and it names safety's items only: the budget
    item she follows is left out."""
    config, store = two_campaigns(tmp_path, replay, legistar, monkeypatch, sub("dee", None, 'reminders = ["2d"]\n'),
                                  (900004, NYPD_ITEM), (900005, BUDGET_ITEM))
    monkeypatch.setenv("TRACKER_NOW", "2023-06-24T15:00:00Z")
    assert owe_reminders(store, config) == 1
    reasons = _reminder_reasons(store, config, "dee")
    assert NYPD_ITEM in reasons
    assert BUDGET_ITEM in reasons, reasons


def test_a_reminder_stands_while_any_followed_campaign_still_has_an_item(
        tmp_path: Path, replay: ReplayServer, legistar: LegistarApi, monkeypatch: pytest.MonkeyPatch) -> None:
    """Dee's reminder was owed for safety (its items matched). Before it goes out, safety's items
    leave the agenda; the budget item she also follows stays. The reminder is withdrawn (re-checked
    with safety's keywords only), and never owed again for budget (same key)."""
    config, store = two_campaigns(tmp_path, replay, legistar, monkeypatch, sub("dee", None, 'reminders = ["2d"]\n'),
                                  (900005, BUDGET_ITEM))
    monkeypatch.setenv("TRACKER_NOW", "2023-06-24T15:00:00Z")
    assert owe_reminders(store, config) == 1
    nyc = legistar.client("nyc")
    nyc.eventitems[20111] = [row for row in nyc.eventitems[20111]
                             if "budget" in (row.get("EventItemTitle") or "")]
    nyc.events[20111]["EventLastModifiedUtc"] = "2023-06-24T15:01:00"
    monkeypatch.setenv("TRACKER_NOW", "2023-06-24T15:05:00Z")
    assert all(r.ok for r in run_crawls(config, store))
    assert owe_reminders(store, config) == 0
    assert _reminder_reasons(store, config, "dee") == [BUDGET_ITEM]


# -- 6. changes --watch with a limit ---------------------------------------------------------------

def test_list_changes_of_a_watch_is_limited_after_other_watches_changes_are_left_out(
        tmp_path: Path, replay: ReplayServer, legistar: LegistarApi, monkeypatch: pytest.MonkeyPatch) -> None:
    """`list_changes(watch="safety", limit=1, newest_first=True)`: the database limits to the one
    newest change of the hearing (budget's item), then Python drops it as another watch's: nothing
    is listed though safety has a change."""
    _config, store = two_campaigns(tmp_path, replay, legistar, monkeypatch, "",
                                  (900004, NYPD_ITEM), (900005, BUDGET_ITEM))
    assert [c.data["title"] for c in list_changes(store, watch="safety")] == [NYPD_ITEM]
    assert [c.data["title"] for c in list_changes(store, watch="safety", limit=1, newest_first=True)] == [NYPD_ITEM]


# -- 5. the whole calendar: a shared meeting is one event -------------------------------------------

def test_the_whole_calendar_holds_a_shared_meeting_once(
        tmp_path: Path, replay: ReplayServer, legistar: LegistarApi, monkeypatch: pytest.MonkeyPatch) -> None:
    """meetings.ics, which organizers subscribe to, held each meeting both campaigns watch twice: two
    VEVENTs with one UID and no RECURRENCE-ID, which RFC 5545 (3.8.4.7) does not allow in one
    calendar (found by a review). Each watch's own calendar still holds it."""
    from icalendar import Calendar

    config, store = two_campaigns(tmp_path, replay, legistar, monkeypatch, "", (900004, NYPD_ITEM))
    site = write_site(store, config, tmp_path / "site")
    uids = [str(event["UID"]) for event in Calendar.from_ical((site / "meetings.ics").read_bytes()).walk("VEVENT")]
    assert f"{HEARING}@tracker" in uids
    assert len(uids) == len(set(uids)), sorted(uid for uid in uids if uids.count(uid) > 1)
    for watch in ("safety", "budget"):
        calendar = Calendar.from_ical((site / "watches" / watch / "meetings.ics").read_bytes())
        assert f"{HEARING}@tracker" in [str(event["UID"]) for event in calendar.walk("VEVENT")]


# -- 6. each campaign's Atom feed ----------------------------------------------------------------------

def test_each_campaigns_feed_tells_a_shared_meeting_moved(
        tmp_path: Path, replay: ReplayServer, legistar: LegistarApi, monkeypatch: pytest.MonkeyPatch) -> None:
    """The hearing both campaigns watch moves. Its change is recorded under one of the two watches
    ("budget", the first by name), and a watch's feed (watches/<id>/changes.atom) held only the
    changes recorded under it: safety's followers never saw their hearing move (found by a review).
    A watch's feed holds what `changes --watch` gives."""
    import feedparser

    config, store = two_campaigns(tmp_path, replay, legistar, monkeypatch, "")
    nyc = legistar.client("nyc")
    nyc.events[20111] |= {"EventTime": "2:00 PM", "EventLastModifiedUtc": "2023-06-01T13:30:00"}
    monkeypatch.setenv("TRACKER_NOW", "2023-06-01T14:00:00Z")
    assert all(r.ok for r in run_crawls(config, store))
    moved = [c for c in changes_json(store) if c["kind"] == "meeting.rescheduled" and c["entity"] == HEARING]
    assert len(moved) == 1
    site = write_site(store, config, tmp_path / "site")
    for watch in ("safety", "budget"):
        feed = feedparser.parse((site / "watches" / watch / "changes.atom").read_bytes())
        assert not feed.bozo
        assert any(entry.id.endswith(f"/change/{moved[0]['id']}") for entry in feed.entries), watch


# -- 7. the front page: a shared meeting is one card ---------------------------------------------------

def test_the_front_page_lists_a_shared_meeting_once_with_both_campaigns_items(
        tmp_path: Path, replay: ReplayServer, legistar: LegistarApi, monkeypatch: pytest.MonkeyPatch) -> None:
    """The hearing both campaigns watch was two cards in a row under "Coming up" (and every meeting
    of the body twice, in digest.txt too), each with one campaign's items: two hearings, to a
    reader (found by a review). It is one card naming both campaigns, with each one's items."""
    config, store = two_campaigns(tmp_path, replay, legistar, monkeypatch, "",
                                  (900004, NYPD_ITEM), (900005, BUDGET_ITEM))
    site = write_site(store, config, tmp_path / "site")
    index = html.parse(str(site / "index.html")).getroot()
    cards = [card for card in index.cssselect("article.card")
             if card.cssselect("h3 a")[0].get("href") == f"{meeting_page(HEARING)}.html"]
    assert len(cards) == 1, len(cards)
    campaign = cards[0].cssselect("p.campaign")[0].text_content()
    assert "NYC safety" in campaign and "NYC budget" in campaign, campaign
    reasons = [li.text_content() for li in cards[0].cssselect("ul.reasons li")]
    assert any(NYPD_ITEM in reason for reason in reasons) and any(BUDGET_ITEM in reason for reason in reasons)
    pages = [mt.page for mt in collect_status(store, config).meetings]
    shown = [a.get("href") for a in index.cssselect("article.card h3 a")]
    assert len(shown) == len(set(shown)) and set(shown) <= set(pages)
    text = (site / "digest.txt").read_text()
    assert text.split("== New since")[0].count("Jun 26, 2023") == 1


def test_a_meeting_whose_agenda_is_a_draft_is_confirmed_in_calendars(
        tmp_path: Path, replay: ReplayServer, legistar: LegistarApi, monkeypatch: pytest.MonkeyPatch) -> None:
    """A Legistar meeting is tentative in the tracker while its agenda is a draft, and calendars
    were told STATUS:TENTATIVE: every meeting ahead showed as a "maybe" on phones, though it is
    scheduled (found by a review). Its entry is CONFIRMED; `status` still says tentative."""
    from icalendar import Calendar
    from statusjson import status_json

    config, store = two_campaigns(tmp_path, replay, legistar, monkeypatch, "")
    drafts = {mt["entity"] for mt in status_json(store, config)["meetings"] if mt["status"] == "tentative"}
    assert drafts, "no meeting with a draft agenda in the recording"
    site = write_site(store, config, tmp_path / "site")
    events = {str(event["UID"]).removesuffix("@tracker"): str(event["STATUS"])
              for event in Calendar.from_ical((site / "meetings.ics").read_bytes()).walk("VEVENT")}
    assert drafts <= set(events) and {events[key] for key in drafts} == {"CONFIRMED"}, events
