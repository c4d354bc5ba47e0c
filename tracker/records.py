"""The records that flow between parts: what a spider yields (`Item`) and the typed snapshots of
bills, meetings and council matters, each with ONE load (from stored JSON) and ONE dump (to it).

This module is the ground floor: it imports nothing of the project but the change kinds, so
spiders, parsers and pure differs never import the database. A record's `dump()` gives exactly
the dict that has always been stored, key for key, so a stored snapshot's hash never moves and a
restructuring is never news.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Item:
    """One entity as a spider yields it, on its way to the ingest worker and the store."""

    key: str  # entity key, e.g. bill:hr1470-117
    kind: str  # bill | meeting | matter
    source_id: str  # govinfo | legistar:nyc-council ...
    watch_ids: list[str]
    content: dict[str, Any]
    url: str | None = None
    raw: bytes | None = None
    # True when the entity was found by searching (a title watch, a meeting listing) rather than
    # named in config: once the watch has a baseline, its first sighting is news.
    discovered: bool = False
    validators: dict[str, str | None] | None = None  # {"url", "etag", "last_modified"}
    # Version label of the parser that made `content`, stored on the snapshot: a new version's
    # first snapshot of an entity is a baseline, never news.
    parser_version: str = "1"
    # Source kind whose parser turns `raw` into `content` in the ingest worker (None: already set).
    parse_with: str | None = None
    # Content fields this crawl did not fetch (a Legistar event's items when the event is unchanged):
    # taken from the entity's last snapshot, so skipping a request never looks like a removal.
    carry: list[str] = field(default_factory=list)
