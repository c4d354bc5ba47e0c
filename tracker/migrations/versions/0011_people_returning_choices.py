"""A returning sign-up's choices held apart until its confirm: an unsubscribed or bounced address
signed up again had its choices replaced at once, so whoever held its old preferences link (the
address's previous holder, or its owner when a stranger typed it) saw the new sign-up's choices
(state, district) and could change what the confirm would start

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("returning_choices", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("returning_choices")
