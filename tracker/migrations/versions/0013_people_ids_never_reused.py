"""Ids of people and of their sign-up mails are never given again. On SQLite both were plain
rowids, so the highest one deleted went to the next row: a deleted person's id to the next sign-up,
and what a running notifier or crawl still held of `person:{id}` (an alert being sent, a bounce to
record) reached the newcomer; a pruned sign-up mail's id to the next mail, whose Message-ID
(`tracker-person-mail-{id}`) was then the old one's, and a mailbox that already had it dropped the
new mail. AUTOINCREMENT never hands out an id used before. PostgreSQL's sequences never did;
nothing changes there.

SQLite cannot alter a primary key: both tables are made again in this migration's transaction.
With foreign keys on, dropping `people` deletes the rows naming it (ON DELETE CASCADE), so links
and mails are kept aside and put back, those of people still there.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

PEOPLE = ("id, address, status, mode, follow, state, district, bounces, created_at, updated_at, confirmed_at, "
          "unsubscribed_at, reminders, returning_choices")
MAILS = "id, person_id, purpose, status, tries, next_try_at, last_error, created_at, sent_at"


def _rebuild(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    key = "PRIMARY KEY AUTOINCREMENT" if autoincrement else "PRIMARY KEY"
    # Only a person's own: a row whose person was deleted with foreign keys off (the sqlite3 shell's
    # default) is not put back, which would fail the migration (the cascade leaves it in place).
    people = "WHERE person_id IN (SELECT id FROM people)"
    op.execute(f"CREATE TEMP TABLE kept_person_tokens AS SELECT * FROM person_tokens {people}")
    op.execute(f"CREATE TEMP TABLE kept_person_mails AS SELECT {MAILS} FROM person_mails {people}")
    op.execute("DELETE FROM person_tokens")
    op.execute(f"""CREATE TABLE people_new (
        id INTEGER NOT NULL CONSTRAINT pk_people {key},
        address VARCHAR(320) NOT NULL, status VARCHAR(12) NOT NULL, mode VARCHAR(10) NOT NULL,
        follow JSON, state VARCHAR(2), district INTEGER, bounces INTEGER NOT NULL,
        created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL, confirmed_at DATETIME,
        unsubscribed_at DATETIME, reminders JSON, returning_choices JSON,
        CONSTRAINT uq_people_address UNIQUE (address))""")
    op.execute(f"INSERT INTO people_new ({PEOPLE}) SELECT {PEOPLE} FROM people")
    op.execute("DROP TABLE person_mails")
    op.execute("DROP TABLE people")  # cascades to the links, kept above
    op.execute("ALTER TABLE people_new RENAME TO people")
    op.execute("CREATE INDEX ix_people_status ON people (status)")
    op.execute(f"""CREATE TABLE person_mails (
        id INTEGER NOT NULL CONSTRAINT pk_person_mails {key},
        person_id INTEGER NOT NULL, purpose VARCHAR(10) NOT NULL, status VARCHAR(8) NOT NULL,
        tries INTEGER NOT NULL, next_try_at DATETIME NOT NULL, last_error TEXT, created_at DATETIME NOT NULL,
        sent_at DATETIME,
        CONSTRAINT fk_person_mails_person_id_people FOREIGN KEY(person_id) REFERENCES people (id) ON DELETE CASCADE)""")
    op.execute("CREATE INDEX ix_person_mails_person_id ON person_mails (person_id)")
    op.execute("CREATE INDEX ix_person_mails_due ON person_mails (status, next_try_at)")
    op.execute("INSERT INTO person_tokens SELECT * FROM kept_person_tokens")
    op.execute(f"INSERT INTO person_mails ({MAILS}) SELECT {MAILS} FROM kept_person_mails")
    op.execute("DROP TABLE kept_person_tokens")
    op.execute("DROP TABLE kept_person_mails")


def upgrade() -> None:
    _rebuild(autoincrement=True)


def downgrade() -> None:
    _rebuild(autoincrement=False)
