"""archive: one row per version of a tender's signed archive, which is also its build job's state

Revision ID: 0011_archives
Revises: 0010_jobs
Create Date: 2026-12-08 02:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
import advanced_alchemy.types


revision: str = '0011_archives'
down_revision: str | None = '0010_jobs'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('archive_versions',
    sa.Column('id', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('tender_id', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('started_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
    sa.Column('finished_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('previous_sha256', sa.String(length=64), nullable=True),
    sa.Column('storage_key', sa.String(length=64), nullable=True),
    sa.Column('size', sa.BigInteger(), nullable=True),
    sa.Column('ledger_index', sa.BigInteger(), nullable=True),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tender_id'], ['tenders.id'], name=op.f('fk_archive_versions_tender_id_tenders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_archive_versions')),
    sa.UniqueConstraint('tender_id', 'version', name=op.f('uq_archive_versions_tender_id')),
    )
    with op.batch_alter_table('archive_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_archive_versions_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_archive_versions_tender_id'), ['tender_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('archive_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_archive_versions_tender_id'))
        batch_op.drop_index(batch_op.f('ix_archive_versions_status'))
    op.drop_table('archive_versions')
