"""evaluation: price adjustments for the lowest evaluated price method (经评审的最低投标价法), and
the retry time of notification emails

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21 14:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
import advanced_alchemy.types


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_next_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True))
    op.create_table('price_adjustments',
    sa.Column('tender_id', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('company_id', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('proposed_by', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('amount', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('id', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_price_adjustments_company_id_companies')),
    sa.ForeignKeyConstraint(['proposed_by'], ['committee_seats.id'], name=op.f('fk_price_adjustments_proposed_by_committee_seats')),
    sa.ForeignKeyConstraint(['tender_id'], ['tenders.id'], name=op.f('fk_price_adjustments_tender_id_tenders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_price_adjustments'))
    )
    with op.batch_alter_table('price_adjustments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_price_adjustments_tender_id'), ['tender_id'], unique=False)

    op.create_table('adjustment_votes',
    sa.Column('adjustment_id', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('seat_id', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('agree', sa.Boolean(), nullable=False),
    sa.Column('id', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['adjustment_id'], ['price_adjustments.id'], name=op.f('fk_adjustment_votes_adjustment_id_price_adjustments')),
    sa.ForeignKeyConstraint(['seat_id'], ['committee_seats.id'], name=op.f('fk_adjustment_votes_seat_id_committee_seats')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_adjustment_votes')),
    sa.UniqueConstraint('adjustment_id', 'seat_id', name=op.f('uq_adjustment_votes_adjustment_id'))
    )
    with op.batch_alter_table('adjustment_votes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_adjustment_votes_adjustment_id'), ['adjustment_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('adjustment_votes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_adjustment_votes_adjustment_id'))
    op.drop_table('adjustment_votes')
    with op.batch_alter_table('price_adjustments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_price_adjustments_tender_id'))
    op.drop_table('price_adjustments')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_column('email_next_at')
