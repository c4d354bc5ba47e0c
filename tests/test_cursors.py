"""Cursors as typed records: cursors stored by earlier versions load (and convert), a change sets
and forgets entries explicitly, and a dump is what is stored."""

from __future__ import annotations

from tracker.cursors import EventMark, GovinfoCursor, LegistarCursor, MatterMark, Section


def test_a_legistar_cursor_of_every_earlier_shape_loads() -> None:
    """Bare fingerprints with their days in `dates` (or, earlier still, no day at all), matters
    without the day of their last change: all load, and the dump is the current shape."""
    stored = {
        "since": "2023-06-01T12:00:00+00:00",
        "events": {"20107": "fp-a", "20058": "fp-b"},
        "dates": {"20107": "2023-05-18"},
        "matters": {"17071": {"status": "Adopted", "checked": "2023-06-02T14:00:00+00:00"}},
        "bodies": {"19": "2023-06-01T12:00:00+00:00"},
    }
    cursor = LegistarCursor.load(stored)
    assert cursor.events == {"20107": EventMark("fp-a", "2023-05-18"), "20058": EventMark("fp-b", None)}
    assert cursor.matters["17071"] == MatterMark("Adopted", "2023-06-02T14:00:00+00:00", "2023-06-02")
    dumped = cursor.dump()
    assert "dates" not in dumped and dumped["since"] == stored["since"] and dumped["bodies"] == stored["bodies"]
    assert dumped["events"]["20107"] == {"fingerprint": "fp-a", "date": "2023-05-18"}
    assert LegistarCursor.load(dumped) == cursor  # the current shape reads back the same


def test_a_change_sets_and_forgets_entries_and_leaves_the_rest() -> None:
    stored = GovinfoCursor.load({"parser": "billstatus-2", "lastmod": {"hr1-118": "a", "hr2-118": "b"},
                                 "reread": ["hr3-118"], "future_key": {"kept": True}})
    change = GovinfoCursor()
    change.lastmod["hr1-118"] = "c"
    change.lastmod.forget(["hr2-118"])
    change.reread = []  # nothing owed any more
    assert change and not GovinfoCursor()
    stored.apply(change)
    assert stored.dump() == {"parser": "billstatus-2", "lastmod": {"hr1-118": "c"}, "future_key": {"kept": True}}


def test_setting_an_entry_again_undoes_its_forgetting() -> None:
    section: Section[str] = Section({"a": "1"})
    section.forget(["a", "b"])
    section["b"] = "2"
    assert section == {"b": "2"} and section.forgotten == {"a"}
    stored: Section[str] = Section({"a": "0", "b": "0", "c": "0"})
    stored.apply(section)
    assert stored == {"b": "2", "c": "0"}


def test_the_open_states_cursor_keeps_marks_the_days_count_and_people_reads() -> None:
    """Each query's mark and whether it went through whole, the requests of one UTC day (another
    day counts from zero), when each state's legislators were read; a query no watch needs is
    forgotten by a change."""
    from tracker.cursors import OpenStatesCursor, ReadMark

    stored = {"reads": {"co||q:qualified immunity": {"since": "2020-06-10T04:15:37+00:00", "done": True},
                        "gone|x": {"since": "2020-01-01T00:00:00+00:00", "done": True}, "junk": "x"},
              "day": "2020-06-12", "used": 11, "people": {"co": "2020-06-12T15:00:00+00:00"}, "later": 1}
    cursor = OpenStatesCursor.load(stored)
    assert cursor.reads["co||q:qualified immunity"] == ReadMark("2020-06-10T04:15:37+00:00", True)
    assert "junk" not in cursor.reads and cursor.extra == {"later": 1}
    assert cursor.used_on("2020-06-12") == 11 and cursor.used_on("2020-06-13") == 0
    change = OpenStatesCursor(day="2020-06-13", used=2)
    change.reads["ny||q:qualified immunity"] = ReadMark("2021-03-09T04:40:00+00:00")
    change.reads.forget(["gone|x"])
    cursor.apply(change)
    dumped = cursor.dump()
    assert dumped["reads"] == {"co||q:qualified immunity": {"since": "2020-06-10T04:15:37+00:00", "done": True},
                               "ny||q:qualified immunity": {"since": "2021-03-09T04:40:00+00:00", "done": False}}
    assert (dumped["day"], dumped["used"], dumped["people"]) == ("2020-06-13", 2, stored["people"])
    assert OpenStatesCursor.load(dumped) == cursor


def test_open_states_marks_keep_their_parser_and_watches_and_queries_their_turns() -> None:
    """A mark names the parser that read it and the keyword watches it was read for (marks written
    before either was kept load without them, and dump as they were); each query's last turn is a
    section a change sets and forgets."""
    from tracker.cursors import OpenStatesCursor, ReadMark

    older = {"reads": {"ny||q:qualified immunity": {"since": "2021-03-09T04:40:00+00:00", "done": True}}}
    cursor = OpenStatesCursor.load(older)
    assert cursor.reads["ny||q:qualified immunity"] == ReadMark("2021-03-09T04:40:00+00:00", True, None, None)
    assert cursor.dump() == older
    change = OpenStatesCursor()
    change.reads["ny||q:qualified immunity"] = ReadMark("2021-03-10T00:00:00+00:00", True, "openstates-2",
                                                        ["qi-ny", "qi-states"])
    change.turns["ny||q:qualified immunity"] = "2021-03-10T12:00:00+00:00"
    cursor.apply(change)
    dumped = cursor.dump()
    assert dumped["reads"]["ny||q:qualified immunity"] == {
        "since": "2021-03-10T00:00:00+00:00", "done": True, "parser": "openstates-2", "watches": ["qi-ny", "qi-states"]}
    assert dumped["turns"] == {"ny||q:qualified immunity": "2021-03-10T12:00:00+00:00"}
    assert OpenStatesCursor.load(dumped) == cursor
    forget = OpenStatesCursor()
    forget.turns.forget(["ny||q:qualified immunity"])
    cursor.apply(forget)
    assert "turns" not in cursor.dump()


def test_a_listing_cursor_keeps_the_meetings_held_until_a_change_forgets_them() -> None:
    """Listing cursors written before `held` load with none; a run that read the listing sets the
    meetings it followed and forgets those the window has passed; a run answered 304 (an empty
    change) leaves them as stored."""
    from tracker.cursors import ListingCursor

    earlier = ListingCursor.load({"parser": "primegov-3", "bodies": ["Planning Commission"]})
    assert earlier.held == {} and earlier.dump() == {"parser": "primegov-3", "bodies": ["Planning Commission"]}
    change = ListingCursor(parser="primegov-3", bodies=["Planning Commission"])
    change.held["15684"] = "2024-10-01"
    change.held["15600"] = "2024-08-01"
    change.held.forget(["15600"])  # its day has left the window
    earlier.apply(change)
    assert earlier.held == {"15684": "2024-10-01"}
    stored = earlier.dump()
    assert stored["held"] == {"15684": "2024-10-01"}
    kept = ListingCursor.load(stored)
    kept.apply(ListingCursor())  # not modified: nothing read, nothing changed
    assert kept == ListingCursor.load(stored) and kept.held == {"15684": "2024-10-01"}


def test_a_listing_cursor_keeps_a_fingerprint_of_the_keywords_it_was_read_with() -> None:
    """Written before the keywords were kept: unknown (None), which reads the listing whole once;
    a change sets it, a change without it (a 304, a whole read whose stores failed) leaves it."""
    from tracker.cursors import ListingCursor, keywords_fingerprint

    earlier = ListingCursor.load({"parser": "ical-5"})
    assert earlier.keywords is None and earlier.dump() == {"parser": "ical-5"}
    police = keywords_fingerprint(["police"])
    assert police == keywords_fingerprint(["police"]) != keywords_fingerprint(["police", "budget"])
    assert keywords_fingerprint([]) != keywords_fingerprint([""])
    earlier.apply(ListingCursor(parser="ical-5", keywords=police))
    assert earlier.dump() == {"parser": "ical-5", "keywords": police}
    earlier.apply(ListingCursor())
    assert ListingCursor.load(earlier.dump()).keywords == police
    assert ListingCursor.load({"keywords": ["police"]}).keywords is None  # not a shape it wrote
