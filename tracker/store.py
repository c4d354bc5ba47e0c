"""Database access: engines, migrations, the one-transaction-per-entity ingest, and the HTTP
validators saved with what was stored.

SQLite by default (WAL, foreign keys, a busy timeout so concurrent commands wait rather than
fail); PostgreSQL with the same code. `ingest()` is where a normalized item becomes a snapshot,
its diff becomes changes, and instant deliveries are owed, all committed together or not at all.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from tracker import clock, secrets
from tracker import models as m
from tracker.changes import TOGGLES, Audience, Change, dedupe_key, told_to
from tracker.records import Item, Record, Validators, canonical_json, load_record, text_hash
from tracker.sources import DIFFERS, PAST_DAYS, Differ, for_every_watch, upgrade_reads_anew

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).with_name("migrations")


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA synchronous=NORMAL")
            # A deleted row's bytes are zeroed, not left in the page for a copy of the file to show
            # (a person who deleted their data, a stranger's address forgotten: tracker/people.py).
            cur.execute("PRAGMA secure_delete=ON")
            # Reads through a memory map: with two ingest workers writing in turn, each one's page
            # cache is dropped at every write of the other, and re-reading through read() calls
            # cost a tenth of their time. (SQLite writes through write() calls all the same.)
            cur.execute("PRAGMA mmap_size=268435456")
            cur.close()

        # pysqlite's own transaction handling defers BEGIN; take the write lock at BEGIN instead,
        # so two writers queue on busy_timeout rather than failing on lock upgrade.
        @event.listens_for(engine, "connect")
        def _no_autobegin(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True)


def alembic_config(engine: Engine | None = None) -> AlembicConfig:
    """Alembic is imported only here and in the functions that migrate: the ingest workers never
    migrate, and importing it cost each of them a second of start-up."""
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if engine is not None:
        cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


def migration_heads() -> list[str]:
    from alembic.script import ScriptDirectory

    return list(ScriptDirectory.from_config(alembic_config()).get_heads())


MIGRATION_KEY = 0x7472616D  # "tram": one process at a time migrates a PostgreSQL database


def upgrade(engine: Engine) -> None:
    """Create or migrate the schema to the newest revision. On PostgreSQL under a transaction's
    advisory lock: processes opening a new database at once (cluster runners started together)
    each created the tables, and all but one failed on PostgreSQL's catalogue; the ones that wait
    find the schema made. (SQLite's first write takes its lock at BEGIN.)"""
    from alembic import command

    cfg = alembic_config(engine)
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_KEY})")
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")


def current_revision(engine: Engine) -> str | None:
    """The revision the database stands at (None: a new database), read from alembic's own table:
    a command or a test's process learning there is nothing to migrate does not import alembic (a
    fifth of a second at each start)."""
    try:
        with engine.connect() as connection:
            return connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar_one_or_none()
    except DBAPIError:  # no table yet: a new database, which alembic creates
        return None


def newest_migration() -> str:
    """The newest migration's revision by the project's naming (`versions/NNNN_what.py` holds
    revision "NNNN"; tests/test_store.py holds alembic's head to it): known without importing alembic."""
    return max(path.name[:4] for path in (MIGRATIONS / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))


class Store:
    """Owns the engine and session factory for one database URL."""

    def __init__(self, url: str, *, migrate: bool = True) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        if migrate and current_revision(self.engine) != newest_migration():
            upgrade(self.engine)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose transaction commits on success and rolls back on error."""
        with self.sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


# -- HTTP validators (ETag / Last-Modified), kept in the database so crawlers stay stateless ----------

_UPSERTS: dict[str, Any] = {}  # the validators upsert, built once per database kind


def save_validators(session: Session, validators: Validators, now: datetime) -> None:
    """One statement (an upsert, built once): it runs for every stored item."""
    dialect = session.get_bind().dialect.name
    upsert = _UPSERTS.get(dialect)
    if upsert is None:
        insert = m.insert(session, m.HttpValidator)
        upsert = _UPSERTS[dialect] = insert.on_conflict_do_update(
            index_elements=["url_hash"], set_={name: insert.excluded[name] for name in ("etag", "last_modified", "updated_at")})
    session.execute(upsert, {"url_hash": validators.key, "url": secrets.mask(validators.url),
                             "etag": validators.etag, "last_modified": validators.last_modified, "updated_at": now})


def load_validators(store: Store) -> dict[str, Validators]:
    """All stored validators by their key (`Validators.key`, with the masked URL): loaded once before a
    crawl, not per request."""
    # Plain rows, not ORM objects: a store of 100,000 validators loaded in 2.2 s as objects.
    query = select(m.HttpValidator.url_hash, m.HttpValidator.url, m.HttpValidator.etag, m.HttpValidator.last_modified)
    with store.session() as session:
        return {key: Validators(url, etag, last_modified) for key, url, etag, last_modified in session.execute(query)}


# -- ingest -------------------------------------------------------------------------------


@dataclass
class IngestResult:
    entity: str
    new_snapshot: bool = False
    baseline: bool = False
    changes: list[m.Change] = field(default_factory=list)


# Called inside the ingest transaction for each new change: owes deliveries (alerts module).
ChangeHook = Callable[[Session, m.Change], None]


def ensure_watches(session: Session, watches: list[tuple[str, str, str]]) -> None:
    """Insert watches (id, kind, name) not yet known; a known watch is left as it is.

    INSERT … ON CONFLICT DO NOTHING, not check-then-insert: processes starting together on a new
    config may both see a watch missing, and the one that inserts second must not fail.
    """
    known = set(session.scalars(select(m.Watch.id)))  # the usual case, every watch known, writes nothing
    now = clock.now()
    insert_missing(session, m.Watch, ["id"], [{"id": watch_id, "kind": kind, "name": name, "first_seen": now}
                                              for watch_id, kind, name in watches if watch_id not in known])


def insert_missing(session: Session, model: type[m.Base], keys: list[str], rows: list[dict[str, Any]]) -> None:
    """Insert the rows whose `keys` are not taken yet, leaving existing rows as they are, race-free
    (INSERT … ON CONFLICT DO NOTHING, SQLite's or PostgreSQL's)."""
    if rows:
        session.execute(m.insert(session, model).on_conflict_do_nothing(index_elements=keys), rows)


def ingest(
    store: Store,
    item: Item,
    differ: Callable[[Any, Any, str], list[Change]] | None = None,
    *,
    run_id: int | None = None,
    on_change: ChangeHook | None = None,
) -> IngestResult:
    """Store one entity's snapshot and its changes in one transaction.

    The first snapshot of an entity is a baseline (no changes), except that a discovered entity
    of a watch that already has its baseline yields what `differ(None, new)` says (e.g.
    `meeting.added`). A snapshot made by a new parser version is a baseline too: what appears only
    because a parser changed is not news, and so is one of an entity back in watches that had let
    it go (a body followed again). Validators are saved with the snapshot, so a failed
    parse is fetched again. `differ` (old, new, key) defaults to the entity kind's differ.
    """
    assert item.content is not None, f"{item.key}: no content to store"
    now = clock.now()
    result = IngestResult(entity=item.key)
    # What needs no stored state is done before the transaction, so it holds the database (SQLite:
    # the write lock every worker waits for) only for reads and writes.
    ready = None if item.carry else _content(item)
    with store.session() as session:
        entity, current, rejoined, joined = _entity(session, item, now)
        # The stored record is read only when needed: to carry fields, or to diff a new state.
        previous = load_record(item.kind, current.content) if current is not None and item.carry else None
        if previous is not None:
            _carry(item, previous)
        text, digest, raw = ready or _content(item)  # carried fields first, then the text
        if current is not None and current.hash == digest and current.parser != item.parser_version:
            current.parser = item.parser_version  # the new parser says the same: its snapshot now
        if current is None or current.hash != digest:
            if current is not None and previous is None:
                previous = load_record(item.kind, current.content)
            entity.current_snapshot_id = _snapshot(session, item, text, digest, raw, now,
                                                   reuse=current is not None).id
            if current is not None:
                entity.revision = (entity.revision or 0) + 1
            result.new_snapshot = True
            if rejoined or _is_baseline(session, item, current):
                result.baseline = True
            else:
                if current is not None and previous is not None and current.parser != item.parser_version:
                    previous = _as_read_anew(previous, item, current.parser)
                result.changes = _record_changes(session, item, previous,
                                                 for_every_watch(differ) if differ else DIFFERS[item.kind],
                                                 run_id=run_id, on_change=on_change, now=now, joined=joined)
        if item.validators and item.validators.url:
            save_validators(session, item.validators, now)
    return result


def _entity(session: Session, item: Item, now: datetime) -> tuple[m.Entity, m.Snapshot | None, bool, set[str]]:
    """The entity row (created on first sight, linked to the item's watches), its current snapshot,
    whether it comes back to watches after no watch held it, and the watches it joins now."""
    # Locked for this transaction (PostgreSQL): two ingests of one entity at once (a `--watch` crawl
    # beside a scheduled run) take turns, the second diffing against what the first stored; else
    # both diff against the same old state, and a change whose key counts the entity's earlier ones
    # (`changes.TOGGLES`) would be told twice.
    entity = session.get(m.Entity, item.key, with_for_update=True)
    if entity is None:
        entity = m.Entity(key=item.key, kind=item.kind, source_id=item.source_id, first_seen=now, last_seen=now)
        session.add(entity)
        for watch_id in item.watch_ids:
            session.add(m.WatchEntity(watch_id=watch_id, entity_key=item.key))
        return entity, None, False, set(item.watch_ids)
    entity.last_seen = now
    if entity.missing_since is not None:  # listed again: a new state, its calendar SEQUENCE goes up
        entity.revision = (entity.revision or 0) + 1
    entity.missing_since = None
    unlinked = [watch_id for watch_id in item.watch_ids if session.get(m.WatchEntity, (watch_id, item.key)) is None]
    # Held by no watch at all, as a meeting of a body its watch let go (never a matter a second
    # watch of the same client comes upon): back in one, what changed meanwhile was news to no
    # one following it, as a meeting first seen then is none; its next change is.
    rejoined = bool(unlinked) and len(unlinked) == len(item.watch_ids) and session.scalar(
        select(m.WatchEntity.watch_id).where(m.WatchEntity.entity_key == item.key).limit(1)) is None
    for watch_id in unlinked:
        session.add(m.WatchEntity(watch_id=watch_id, entity_key=item.key))
    current = session.get(m.Snapshot, entity.current_snapshot_id) if entity.current_snapshot_id else None
    return entity, current, rejoined, set(unlinked)


def _carry(item: Item, previous: Record) -> None:
    """Fields this crawl did not fetch keep their stored values (never a false removal)."""
    for name in item.carry:
        setattr(item.content, name, getattr(previous, name))


def _content(item: Item) -> tuple[str, str, bytes | None]:
    """The record's canonical text, its hash, and the raw response compressed (when kept)."""
    assert item.content is not None
    text = canonical_json(item.content.dump())
    return text, text_hash(text), zlib.compress(item.raw, 1) if item.raw is not None else None


def _snapshot(session: Session, item: Item, text: str, digest: str, raw: bytes | None, now: datetime, *,
              reuse: bool) -> m.Snapshot:
    """The snapshot row for this content: an older state that came back (a title reverted) reuses its
    row (`reuse`: the entity has snapshots to look through)."""
    snapshot = session.scalar(
        select(m.Snapshot).where(m.Snapshot.entity_key == item.key, m.Snapshot.hash == digest)) if reuse else None
    if snapshot is not None and snapshot.parser != item.parser_version:
        # the new parser says what an older one once did: its snapshot now (else the entity would
        # count as still on the old parser, and its next real change be taken for a baseline)
        snapshot.parser = item.parser_version
    if snapshot is None:
        snapshot = m.Snapshot(
            entity_key=item.key, hash=digest, content=text,
            raw=raw,
            raw_url=secrets.mask(item.url) if item.url else None, fetched_at=now, parser=item.parser_version,
        )
        session.add(snapshot)
        session.flush()
    return snapshot


def _is_baseline(session: Session, item: Item, current: m.Snapshot | None) -> bool:
    """No news from this snapshot: the entity's first (unless a watch with a baseline discovered
    it), or the first made by a new parser version that does not say what it reads otherwise."""
    if current is not None:
        return current.parser != item.parser_version and \
            upgrade_reads_anew(item.reads_anew, current.parser, item.parser_version) is None
    if not item.discovered:
        return True
    return not any((watch := session.get(m.Watch, w)) and watch.baseline_at for w in item.watch_ids)


def _as_read_anew(previous: Record, item: Item, parser: str | None) -> Record:
    """The stored state with the fields the new parser version reads otherwise (`reads_anew`; a
    source's own fields are all `extra`) as it reads them now: what they show differently is the
    upgrade, no news; every other field's change is news (a cancellation that came while the
    tracker was down for its upgrade)."""
    assert item.content is not None
    anew = (upgrade_reads_anew(item.reads_anew, parser, item.parser_version) or frozenset()) & {f.name for f in fields(previous)}
    return replace(previous, **{name: getattr(item.content, name) for name in anew})


def _record_changes(session: Session, item: Item, previous: Record | None, differ: Differ, *,
                    run_id: int | None, on_change: ChangeHook | None, now: datetime,
                    joined: set[str]) -> list[m.Change]:
    """The differ's changes not recorded before (a re-crawl, a reprocessed file or a schema switch
    repeats them), each owed to subscribers by `on_change` in this same transaction. What matches
    only some watches' keywords (`changes.told_to`) is no news to a watch that did not hold the
    entity before (`joined` now, or not at all: a body it just took up) or has no baseline yet (a
    new watch): it was on the agenda before the watch looked (`_audience`, asked by the differ)."""
    assert item.content is not None
    watch_id = sorted(item.watch_ids)[0] if item.watch_ids else None
    rows = []
    for change in differ(previous, item.content, item.key, audience=_audience(session, item.key, joined, now)):
        key = change.dedupe_key
        if change.kind in TOGGLES:  # the how-manieth call-off or return of this entity
            earlier = session.scalar(select(func.count()).select_from(m.Change).where(
                m.Change.entity_key == item.key, m.Change.kind.in_(sorted(TOGGLES))))
            key += f"|{earlier}"
        if session.scalar(select(m.Change.id).where(m.Change.dedupe_key == key)):
            continue
        row = m.Change(
            dedupe_key=key, kind=change.kind, entity_key=item.key, watch_id=min(told_to(change.data) or [watch_id]),
            summary=change.summary, data=change.data, url=change.url, detected_at=now,
            occurred_at=change.occurred_at, run_id=run_id,
        )
        session.add(row)
        session.flush()
        if on_change is not None:
            on_change(session, row)
        rows.append(row)
    return rows


def _audience(session: Session, key: str, joined: set[str], now: datetime) -> Audience:
    """Who may hear of an agenda item matching some watches of this entity (`changes.Audience`):
    a watch that held it before this ingest, with its baseline, not yet told of that item; a new
    match on an old item only for a meeting of the listing window (from `PAST_DAYS` ago)."""
    told: dict[str, set[str]] | None = None  # item -> the watches told of it (read when first asked)
    held: dict[str, bool] = {}

    def may_tell(watch_id: str, item: str) -> bool:
        nonlocal told
        if watch_id not in held:
            held[watch_id] = _held_before(session, watch_id, key, joined)
        if not held[watch_id]:
            return False
        if told is None:
            told = _items_told(session, key)
        return watch_id not in told.get(item, set()) | told.get(dedupe_key(key, "agenda.item_added", item), set())

    return Audience(may_tell, (now.date() - timedelta(days=PAST_DAYS)).isoformat())


def _items_told(session: Session, key: str) -> dict[str, set[str]]:
    """The entity's agenda items told, and to which watches: by the item, where several watches held
    the meeting (data "item"); by the change's key, which names the item alone, where one did (its
    watch the change's own)."""
    told: dict[str, set[str]] = {}
    for data, dedupe, watch in session.execute(select(m.Change.data, m.Change.dedupe_key, m.Change.watch_id)
                                               .where(m.Change.entity_key == key, m.Change.kind == "agenda.item_added")):
        if isinstance(data, dict) and "item" in data:
            told.setdefault(str(data["item"]), set()).update(told_to(data) or ())
        else:
            told.setdefault(dedupe, set()).add(watch or "")
    return told


def _held_before(session: Session, watch_id: str, key: str, joined: set[str]) -> bool:
    """Whether the watch held the entity before this ingest, with its baseline taken."""
    if watch_id in joined or session.get(m.WatchEntity, (watch_id, key)) is None:
        return False
    watch = session.get(m.Watch, watch_id)
    return watch is not None and watch.baseline_at is not None


def max_change_id(session: Session) -> int:
    return session.scalar(select(func.coalesce(func.max(m.Change.id), 0))) or 0
