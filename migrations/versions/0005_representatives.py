"""evaluation: tenderer representatives (招标人代表) on the committee

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 14:00:00

A representative's seat has a kind, no expert and no draw record.  Batch mode because SQLite
cannot change a column's nullability in place.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
import advanced_alchemy.types


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('committee_seats', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=16), server_default='expert', nullable=False))
        batch_op.alter_column('draw_id', existing_type=advanced_alchemy.types.guid.GUID(length=16), nullable=True)
        batch_op.alter_column('expert_id', existing_type=advanced_alchemy.types.guid.GUID(length=16), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM committee_seats WHERE kind = 'representative'")
    with op.batch_alter_table('committee_seats', schema=None) as batch_op:
        batch_op.alter_column('expert_id', existing_type=advanced_alchemy.types.guid.GUID(length=16), nullable=False)
        batch_op.alter_column('draw_id', existing_type=advanced_alchemy.types.guid.GUID(length=16), nullable=False)
        batch_op.drop_column('kind')
