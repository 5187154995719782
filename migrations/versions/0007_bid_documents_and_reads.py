"""bidding: document facts read at decryption; the access log of bid content

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 08:20:00

The collusion detector compares bids by document metadata and text (文件属性一致, near-identical
documents): they are read while the opening decrypts a bid and kept sealed like the file key.
Every reading of a decrypted bid package is logged (who, role, when), privately.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
import advanced_alchemy.types


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('bids', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sealed_documents', sa.LargeBinary(), nullable=True))
    op.create_table('bid_content_reads',
    sa.Column('id', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('tender_id', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('bid_id', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('user_id', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['bid_id'], ['bids.id'], name=op.f('fk_bid_content_reads_bid_id_bids')),
    sa.ForeignKeyConstraint(['tender_id'], ['tenders.id'], name=op.f('fk_bid_content_reads_tender_id_tenders')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_bid_content_reads_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bid_content_reads'))
    )
    with op.batch_alter_table('bid_content_reads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bid_content_reads_bid_id'), ['bid_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bid_content_reads_tender_id'), ['tender_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bid_content_reads_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('bid_content_reads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bid_content_reads_user_id'))
        batch_op.drop_index(batch_op.f('ix_bid_content_reads_tender_id'))
        batch_op.drop_index(batch_op.f('ix_bid_content_reads_bid_id'))
    op.drop_table('bid_content_reads')
    with op.batch_alter_table('bids', schema=None) as batch_op:
        batch_op.drop_column('sealed_documents')
