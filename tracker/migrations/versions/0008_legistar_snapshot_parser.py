"""Legistar snapshots name the parser that made them

Until now the Legistar spider put no parser version on its items, so every Legistar snapshot says
"1". The first run of a spider that does would take each entity's next state for an upgrade's
baseline and tell nothing, a real cancellation in that run included. Those snapshots were read by
the Legistar reading of their day; they are labelled with the version current at this revision.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

LEGISTAR_VERSION = "legistar-3"  # tracker/sources.py at this revision


def upgrade() -> None:
    op.execute(sa.text(
        "UPDATE snapshots SET parser = :version WHERE parser = '1' AND (entity_key LIKE 'meeting:legistar:%' "
        "OR entity_key LIKE 'matter:legistar:%' OR entity_key LIKE 'body:legistar:%')"
    ).bindparams(version=LEGISTAR_VERSION))


def downgrade() -> None:
    op.execute(sa.text(
        "UPDATE snapshots SET parser = '1' WHERE parser = :version AND (entity_key LIKE 'meeting:legistar:%' "
        "OR entity_key LIKE 'matter:legistar:%' OR entity_key LIKE 'body:legistar:%')"
    ).bindparams(version=LEGISTAR_VERSION))
