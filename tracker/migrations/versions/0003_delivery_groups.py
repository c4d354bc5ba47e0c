"""instant deliveries of one entity from one crawl share a group key: one message per group

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("group_key", sa.String(length=400), nullable=True))
        batch_op.create_index("ix_deliveries_group", ["subscriber_id", "target_hash", "group_key"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_group")
        batch_op.drop_column("group_key")
