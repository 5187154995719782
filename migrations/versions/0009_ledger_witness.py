"""ledger: witnessing (C2SP tlog-witness) — cosignatures this log got, its witnesses' state, and
the witness role's latest cosigned checkpoint per log

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-20 10:00:00

A rewrite of the newest entries is then caught against the witnesses' state, without anyone
having saved a checkpoint.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
import advanced_alchemy.types


revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _audit_columns() -> list[sa.Column]:
    return [
        sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
        sa.Column('created_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column('updated_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_table('ledger_cosignatures',
    sa.Column('id', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('witness', sa.String(length=255), nullable=False),
    sa.Column('line', sa.Text(), nullable=False),
    sa.Column('timestamp', sa.BigInteger(), nullable=False),
    *_audit_columns(),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_cosignatures')),
    sa.UniqueConstraint('size', 'witness', name='uq_ledger_cosignatures_size_witness')
    )
    with op.batch_alter_table('ledger_cosignatures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_cosignatures_size'), ['size'], unique=False)
    op.create_table('ledger_witness_states',
    sa.Column('id', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('witness', sa.String(length=255), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('retry_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('cosigned_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
    *_audit_columns(),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_witness_states')),
    sa.UniqueConstraint('witness', name=op.f('uq_ledger_witness_states_witness'))
    )
    op.create_table('witness_logs',
    sa.Column('id', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('origin', sa.String(length=255), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('root', sa.LargeBinary(length=32), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    *_audit_columns(),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_witness_logs')),
    sa.UniqueConstraint('origin', name=op.f('uq_witness_logs_origin'))
    )


def downgrade() -> None:
    op.drop_table('witness_logs')
    op.drop_table('ledger_witness_states')
    with op.batch_alter_table('ledger_cosignatures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_cosignatures_size'))
    op.drop_table('ledger_cosignatures')
