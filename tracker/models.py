"""Database tables (SQLAlchemy 2 typed models). Alembic migrations in tracker/migrations mirror these.

Secrets never reach these rows: deliveries keep a subscriber id and a hash of the apprise URL
*template*; HTTP validators are keyed by a hash of the URL, with a masked copy for humans.
"""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite's INTEGER PRIMARY KEY is its rowid alias; BigInteger there would lose autoincrement.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Watch(Base):
    """A watch from config, remembered so baselines and follows survive restarts."""

    __tablename__ = "watches"
    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # bill | meeting
    name: Mapped[str] = mapped_column(String(300))
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime())
    baseline_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Entity(Base):
    """A thing with a stable key (`bill:hr1470-117`, `meeting:legistar:nyc:123`)."""

    __tablename__ = "entities"
    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # bill | meeting | matter
    source_id: Mapped[str] = mapped_column(String(150))
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime())
    # Set when a source stops listing the entity; cleared when it comes back. Never a "cancelled".
    missing_since: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The latest snapshot (no foreign key: snapshots already point at entities, and a cycle
    # would complicate SQLite batch migrations for no gain).
    current_snapshot_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    # Times its current state changed, a state come back included (which reuses its snapshot row):
    # a meeting's calendar SEQUENCE, which must go up with every change a calendar app is to take.
    revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class WatchEntity(Base):
    __tablename__ = "watch_entities"
    watch_id: Mapped[str] = mapped_column(ForeignKey("watches.id", ondelete="CASCADE"), primary_key=True)
    entity_key: Mapped[str] = mapped_column(ForeignKey("entities.key", ondelete="CASCADE"), primary_key=True)


class Snapshot(Base):
    """One distinct normalized state of an entity, with the raw response it came from."""

    __tablename__ = "snapshots"
    __table_args__ = (UniqueConstraint("entity_key", "hash"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    entity_key: Mapped[str] = mapped_column(ForeignKey("entities.key", ondelete="CASCADE"), index=True)
    hash: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text)  # canonical JSON
    raw: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # zlib-compressed response
    raw_url: Mapped[str | None] = mapped_column(Text, nullable=True)  # secrets masked
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime())
    parser: Mapped[str] = mapped_column(String(50), default="1")


class Change(Base):
    __tablename__ = "changes"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    dedupe_key: Mapped[str] = mapped_column(String(400), unique=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    entity_key: Mapped[str] = mapped_column(ForeignKey("entities.key", ondelete="CASCADE"), index=True)
    watch_id: Mapped[str | None] = mapped_column(String(100), nullable=True, index=True)
    summary: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    url: Mapped[str | None] = mapped_column(Text, nullable=True)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    occurred_at: Mapped[str | None] = mapped_column(String(40), nullable=True)
    # the crawl that found it (its Run row outlives `[storage] keep_runs_days` while a change names it)
    run_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("runs.id"), nullable=True, index=True)


class Run(Base):
    """One crawl of one source; source health is read from these."""

    __tablename__ = "runs"
    __table_args__ = (
        Index("ix_runs_source_id", "source_id", "id"),  # "a source's newest runs"
        # the unfinished runs alone: every run and status looks for those a dead process left open
        Index("ix_runs_open", "id", postgresql_where=text("finished_at IS NULL"),
              sqlite_where=text("finished_at IS NULL")),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    source_id: Mapped[str] = mapped_column(String(150))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    ok: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)  # first error line, masked
    errors: Mapped[int] = mapped_column(Integer, default=0)
    items: Mapped[int] = mapped_column(Integer, default=0)
    changes: Mapped[int] = mapped_column(Integer, default=0)
    requests: Mapped[int] = mapped_column(Integer, default=0)
    not_modified: Mapped[int] = mapped_column(Integer, default=0)
    bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    # Which process ran the crawl, so a later crawl can tell a killed run (its process gone from
    # this host) from a live one. Filled in by default: no caller has to pass them.
    pid: Mapped[int | None] = mapped_column(Integer, nullable=True, default=os.getpid)
    host: Mapped[str | None] = mapped_column(String(255), nullable=True, default=socket.gethostname)
    # None while running or once finished normally; "interrupted" when its process died mid-crawl.
    state: Mapped[str | None] = mapped_column(String(20), nullable=True)


class LockHolder(Base):
    """Who holds `tracker run`'s PostgreSQL advisory lock (SQLite keeps this in a file beside its
    lock file): the lock itself says nothing of its holder, and a hung holder stops all tracking."""

    __tablename__ = "lock_holders"
    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    pid: Mapped[int] = mapped_column(Integer)
    host: Mapped[str] = mapped_column(String(255))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    backend_pid: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the session holding the lock


class RunnerLease(Base):
    """A lease on a group of sources (all sources on one host: `group:<host>`) or on the digest
    (`digest`), so several `tracker run --cluster` on one PostgreSQL share the work: a group is
    crawled by whoever holds its lease, once per cycle; a dead runner's lease simply runs out."""

    __tablename__ = "runner_leases"
    name: Mapped[str] = mapped_column(String(300), primary_key=True)
    owner: Mapped[str | None] = mapped_column(String(200), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class HttpValidator(Base):
    """ETag / Last-Modified per URL, so an unchanged file costs a 304 (kept here, not on disk,
    so crawl workers stay stateless)."""

    __tablename__ = "http_validators"
    url_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    url: Mapped[str] = mapped_column(Text)  # masked, for humans
    etag: Mapped[str | None] = mapped_column(Text, nullable=True)
    last_modified: Mapped[str | None] = mapped_column(String(100), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SourceState(Base):
    """Per-source memory between runs: incremental cursors, operator-alert state."""

    __tablename__ = "source_state"
    source_id: Mapped[str] = mapped_column(String(150), primary_key=True)
    cursor: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    alerted_failing: Mapped[bool] = mapped_column(Boolean, default=False)


class Follow(Base):
    """When a subscriber started following a watch: bundles never include older changes."""

    __tablename__ = "follows"
    subscriber_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    watch_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    since_change_id: Mapped[int] = mapped_column(BigInteger)
    since: Mapped[datetime] = mapped_column(UTCDateTime())


class Delivery(Base):
    """The outbox: one row per (change or bundle, subscriber, target)."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("dedupe_key"),
        Index("ix_deliveries_due", "status", "next_attempt_at"),
        Index("ix_deliveries_group", "subscriber_id", "target_hash", "group_key"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # change:{id}|{subscriber}|{target_hash} or bundle:{period}|{subscriber}|{target_hash}
    dedupe_key: Mapped[str] = mapped_column(String(400))
    subscriber_id: Mapped[str] = mapped_column(String(100), index=True)
    target_hash: Mapped[str] = mapped_column(String(64))  # sha256 of the URL template (+ recipient)
    recipient: Mapped[str | None] = mapped_column(String(300), nullable=True)  # one `to=` of a mail URL
    change_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("changes.id"), nullable=True)
    period: Mapped[str | None] = mapped_column(String(40), nullable=True)  # bundle period, e.g. daily:2026-11-24
    # Instant rows of one entity from one crawl share it: claimed together, sent as one message.
    group_key: Mapped[str | None] = mapped_column(String(400), nullable=True)
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)  # operator messages
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending|failed|sent|dead
    tries: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lease_owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class DeliveryChange(Base):
    """Which changes a bundle delivery carries."""

    __tablename__ = "delivery_changes"
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"), primary_key=True)
    change_id: Mapped[int] = mapped_column(ForeignKey("changes.id", ondelete="CASCADE"), primary_key=True)


class BundleMark(Base):
    """Per-subscriber mark of the last change put into a daily/weekly bundle (GovTrack-style)."""

    __tablename__ = "bundle_marks"
    subscriber_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    last_change_id: Mapped[int] = mapped_column(BigInteger, default=0)
    last_period: Mapped[str | None] = mapped_column(String(40), nullable=True)


class Person(Base):
    """A self-service subscriber (signed up through `tracker serve`), beside the config's own.

    The address is kept because mail must reach it; it is never printed, logged or rendered (counts
    only). `status`: pending (not confirmed: nothing but the confirmation is sent; deleted once its
    link is long expired, people.forget_unconfirmed), active,
    unsubscribed (final until the address signs up and confirms again), bounced (deactivated after
    permanent failures). In the outbox a person is the subscriber `person:{id}`.
    """

    __tablename__ = "people"
    # AUTOINCREMENT: SQLite never gives a deleted person's id to the next sign-up (migration 0013)
    __table_args__ = (UniqueConstraint("address"), {"sqlite_autoincrement": True})
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    address: Mapped[str] = mapped_column(String(320))  # one mailbox, domain in lower case
    status: Mapped[str] = mapped_column(String(12), default="pending", index=True)
    mode: Mapped[str] = mapped_column(String(10), default="instant")  # instant|daily|weekly
    follow: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)  # watch ids; None = every watch
    state: Mapped[str | None] = mapped_column(String(2), nullable=True)
    district: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # ["2d", "morning"]; SQL NULL when none (never JSON null: "asked for reminders" is one IS NOT NULL)
    reminders: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    bounces: Mapped[int] = mapped_column(Integer, default=0)  # permanent failures in a row
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # An unsubscribed or bounced person signed up again: the new sign-up's choices (follow, mode,
    # state, district, reminders), applied by its confirm. Until then the person's own choices stand
    # (the sign-up may be a stranger's, or the address's new holder's).
    returning_choices: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True), nullable=True)


class PersonToken(Base):
    """A link's secret (confirm, or manage: unsubscribe and preferences), stored only as its SHA-256.

    Random (192 bits), so a hash without salt is enough: nothing to guess from. Revoked by deleting
    the row; an expired one is refused and pruned.
    """

    __tablename__ = "person_tokens"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(10))  # confirm|manage
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class PersonMail(Base):
    """A mail owed to a person by `tracker serve` (a confirmation, or an active address's
    preferences link when it signs up again): written in the sign-up's own transaction, sent after
    the answer by the server's mail worker, marked sent once the SMTP server took it (kept a while:
    when a mailbox was last mailed is what holds repeated sign-ups back). Holds no link:
    the worker issues the token when it sends, so nothing secret waits here."""

    __tablename__ = "person_mails"
    # AUTOINCREMENT: a pruned mail's id (its Message-ID) never goes to a later mail (migration 0013)
    __table_args__ = (Index("ix_person_mails_due", "status", "next_try_at"), {"sqlite_autoincrement": True})
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(10))  # confirm|manage
    # owed | sent | failed (gave up after [alerts] max_tries) | dropped (the person unsubscribed)
    status: Mapped[str] = mapped_column(String(8), default="owed")
    tries: Mapped[int] = mapped_column(Integer, default=0)
    next_try_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())  # the sign-up: at most one per [serve] resend_minutes
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ServeKey(Base):
    """A value the installation made for itself once and keeps: `csrf`, the signing key `tracker
    serve` makes when `[serve] secret` is not given (every process and restart signs alike), and
    `feeds`, the digest's own Atom ids (tracker/digest.py `feed_ids`)."""

    __tablename__ = "serve_keys"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


def insert(session: Any, model: type[Base]) -> Any:
    """An INSERT for the session's database that takes ON CONFLICT clauses (SQLite's and
    PostgreSQL's: the same clauses, each dialect's own statement class). The dialects are imported
    here, by the first insert: a process that only reads (`status`) never loads PostgreSQL's."""
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)
