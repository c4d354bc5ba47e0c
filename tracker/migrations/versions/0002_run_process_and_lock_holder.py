"""runs record their process (pid, host) and can be interrupted; who holds the run lock

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pid", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("host", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("state", sa.String(length=20), nullable=True))

    op.create_table(
        "lock_holders",
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("backend_pid", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_lock_holders")),
    )


def downgrade() -> None:
    op.drop_table("lock_holders")
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_column("state")
        batch_op.drop_column("host")
        batch_op.drop_column("pid")
