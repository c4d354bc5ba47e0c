"""Entities count their states: `revision` goes up each time an entity's current state changes, a
state come back included. A meeting's calendar SEQUENCE was its number of distinct stored states,
and a state come back (a meeting back on, moved back) reuses its row: the event said CONFIRMED with
the SEQUENCE of its CANCELLED form, which a calendar app ignores. An entity starts at the count it
had (its distinct states less one), so no calendar sees a SEQUENCE go down.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("entities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("revision", sa.Integer(), nullable=False, server_default="0"))
    op.execute(sa.text(
        "UPDATE entities SET revision = (SELECT count(*) - 1 FROM snapshots WHERE snapshots.entity_key = entities.key) "
        "WHERE EXISTS (SELECT 1 FROM snapshots WHERE snapshots.entity_key = entities.key)"))


def downgrade() -> None:
    with op.batch_alter_table("entities", schema=None) as batch_op:
        batch_op.drop_column("revision")
