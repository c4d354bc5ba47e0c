"""An index of changes by the crawl that found them: a crawl's Run row is deleted once it is old
(`[storage] keep_runs_days`) unless a change names it, which the index finds at once

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(op.f("ix_changes_run_id"), "changes", ["run_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_changes_run_id"), table_name="changes")
