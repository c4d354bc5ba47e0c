"""The outcome of crawling one source, shown as one summary line and stored on its Run row."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from tracker.cursors import Cursor
from tracker.records import Validators


@dataclass(frozen=True)
class BillRule:
    """What a federal bill watch holds by its config: the bills it names (entity keys) and the
    title phrases it matches, as the watch says, in the Congresses it names (none named: in any,
    so a new Congress does not take last Congress's bills from a watch "across Congresses")."""

    watch_id: str
    numbers: frozenset[str]
    titles: tuple[str, ...] = ()
    congresses: tuple[int, ...] = ()
    title_contains: bool = False
    official_titles: bool = False

    kind: ClassVar[str] = "bill"  # the entities it judges: `bill:…`


@dataclass(frozen=True)
class StateBillRule:
    """What a state bill watch holds by its config: the bills it names (entity keys), and the bills
    its keyword queries found in the places it searches them (each (state, session); state None:
    every state, session None: any). Open States matches a keyword by a full-text search that a
    stored record cannot repeat, so a bill keeps a keyword watch when one of the watch's keyword
    queries (`queries`, their ids) found it, by `found` (bill key, `co:2020a:sb217` -> the ids of
    the keyword queries that found it, as the cursor records them). A bill with no entry was read
    before the cursor recorded it: it cannot be judged and stays, if in a place the watch still
    searches."""

    watch_id: str
    numbers: frozenset[str]
    places: tuple[tuple[str | None, str | None], ...] = ()
    queries: frozenset[str] = frozenset()
    found: Mapping[str, list[str]] = field(default_factory=dict, compare=False, hash=False)

    kind: ClassVar[str] = "statebill"  # the entities it judges: `statebill:…`


@dataclass
class SourceReport:
    source_id: str
    watch_ids: list[str]
    run_id: int | None = None
    items: int = 0
    new_snapshots: int = 0
    not_modified: int = 0
    changes: int = 0
    requests: int = 0
    bytes: int = 0
    errors: list[str] = field(default_factory=list)
    # The disk filled while this source was crawled (a download beside the database): its crawl
    # stopped, and `run_crawls` raises this once every run is recorded, as the database's own would.
    disk_full: BaseException | None = None
    # Worth saying, not a failure: the source stays ok (a Legistar person record that is gone).
    warnings: list[str] = field(default_factory=list)
    # Set by a spider when its listing came back whole: entities not seen may be marked missing.
    complete_listing: bool = False
    seen: set[str] = field(default_factory=set)
    # Meetings the listing shows of bodies the watch does not follow (its `bodies`): they leave the
    # watch, unalerted, and are not "missing".
    unfollowed: set[str] = field(default_factory=set)
    # Only entities whose date falls in this window (ISO dates) may be marked missing.
    listing_window: tuple[str, str] | None = None
    # What the spider learned for its cursor (tracker/cursors.py), applied to the stored one after
    # the crawl (e.g. sitemap lastmods); None: a spider that keeps no cursor.
    cursor: Cursor | None = None
    # Cursor changes that hold only once an entity is stored (entity key -> change), e.g. "this
    # event's fields were seen": dropped when storing that entity failed, so it is retried.
    entity_cursor: dict[str, Cursor] = field(default_factory=dict)
    # Validators of a listing (a feed, a page) that holds many entities: saved only when the whole
    # crawl of the source went without error, so a meeting that failed to store is fetched again.
    listing_validators: list[Validators] = field(default_factory=list)
    # The spider keeps only validators of listings it handled whole (GovInfo's sitemaps): saved
    # even after an error elsewhere (a mistyped bill's 404 would make every run read them whole).
    validators_vetted: bool = False
    # Bill watches whose config changed since they were last crawled: the bills they no longer hold
    # (a number taken out, a phrase, keyword or state removed) leave them (tracker/runs.py).
    rules: list[BillRule | StateBillRule] = field(default_factory=list)
    # Entities a config names for watches (entity key -> watch ids), e.g. bills named by number:
    # linked to those watches if stored already, though this crawl stored nothing (a 304, no request).
    held: dict[str, list[str]] = field(default_factory=dict)
    # Watches whose first read is not done (a title watch's Congress still owed to its phrases: files
    # held back, a sitemap that failed): their baseline waits, so what later runs find that stood
    # before the watch began is no news, as what its first run found is not.
    unsettled: set[str] = field(default_factory=set)

    @property
    def ok(self) -> bool:
        return not self.errors

    def line(self) -> str:
        size = f"{self.bytes / 1_048_576:.1f} MB" if self.bytes >= 1_048_576 else f"{self.bytes / 1024:.0f} KB"
        status = "ok" if self.ok else f"{len(self.errors)} error{'s' if len(self.errors) > 1 else ''}"
        if self.warnings:
            status += f" ({len(self.warnings)} warning{'s' if len(self.warnings) > 1 else ''})"
        return (
            f"{self.source_id}: {status}; {self.items} item{'s' if self.items != 1 else ''}, "
            f"{self.changes} change{'s' if self.changes != 1 else ''}, {self.not_modified} unchanged (304), "
            f"{self.requests} request{'s' if self.requests != 1 else ''}, {size}"
        )
