"""collusion: history bids, alerts, comments, members, findings

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 12:00:00

Written by hand (generated against 0003, then cut to the collusion tables only) because 0002 and
0003 are still changing; `tenderhall db check` confirms it once the chain is complete.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
import advanced_alchemy.types


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('collusion_alerts',
    sa.Column('id', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('region_id', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('centre_id', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('tender_key', sa.String(length=200), nullable=False),
    sa.Column('tender_id', advanced_alchemy.types.guid.GUID(length=16), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('risk', sa.Float(), nullable=False),
    sa.Column('hard', sa.Boolean(), nullable=False),
    sa.Column('bidders', sa.JSON(), nullable=False),
    sa.Column('suspects', sa.JSON(), nullable=False),
    sa.Column('kinds', sa.JSON(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=False),
    sa.Column('assignee_id', advanced_alchemy.types.guid.GUID(length=16), nullable=True),
    sa.Column('dismissed_reason', sa.Text(), nullable=True),
    sa.Column('decided_by', advanced_alchemy.types.guid.GUID(length=16), nullable=True),
    sa.Column('decided_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
    sa.Column('escalated_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
    sa.Column('detected_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assignee_id'], ['users.id'], name=op.f('fk_collusion_alerts_assignee_id_users')),
    sa.ForeignKeyConstraint(['centre_id'], ['centres.id'], name=op.f('fk_collusion_alerts_centre_id_centres')),
    sa.ForeignKeyConstraint(['decided_by'], ['users.id'], name=op.f('fk_collusion_alerts_decided_by_users')),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_collusion_alerts_region_id_regions')),
    sa.ForeignKeyConstraint(['tender_id'], ['tenders.id'], name=op.f('fk_collusion_alerts_tender_id_tenders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_collusion_alerts')),
    sa.UniqueConstraint('region_id', 'tender_key', name=op.f('uq_collusion_alerts_region_id'))
    )
    with op.batch_alter_table('collusion_alerts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_collusion_alerts_assignee_id'), ['assignee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_collusion_alerts_centre_id'), ['centre_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_collusion_alerts_level'), ['level'], unique=False)
        batch_op.create_index(batch_op.f('ix_collusion_alerts_region_id'), ['region_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_collusion_alerts_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_collusion_alerts_tender_id'), ['tender_id'], unique=False)

    op.create_table('collusion_history_bids',
    sa.Column('id', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('region_id', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('tender_key', sa.String(length=200), nullable=False),
    sa.Column('tender_id', advanced_alchemy.types.guid.GUID(length=16), nullable=True),
    sa.Column('bidder_key', sa.String(length=200), nullable=False),
    sa.Column('company_id', advanced_alchemy.types.guid.GUID(length=16), nullable=True),
    sa.Column('bidder_name', sa.String(length=200), nullable=False),
    sa.Column('price', sa.Float(), nullable=False),
    sa.Column('bid_date', sa.Date(), nullable=False),
    sa.Column('is_winner', sa.Boolean(), nullable=False),
    sa.Column('estimate', sa.Float(), nullable=True),
    sa.Column('ip', sa.String(length=64), nullable=False),
    sa.Column('device', sa.String(length=128), nullable=False),
    sa.Column('bond_account', sa.String(length=64), nullable=False),
    sa.Column('legal_rep', sa.String(length=128), nullable=False),
    sa.Column('extra', sa.JSON(), nullable=False),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_collusion_history_bids_company_id_companies')),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_collusion_history_bids_region_id_regions')),
    sa.ForeignKeyConstraint(['tender_id'], ['tenders.id'], name=op.f('fk_collusion_history_bids_tender_id_tenders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_collusion_history_bids')),
    sa.UniqueConstraint('region_id', 'tender_key', 'bidder_key', name=op.f('uq_collusion_history_bids_region_id'))
    )
    with op.batch_alter_table('collusion_history_bids', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_collusion_history_bids_bidder_key'), ['bidder_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_collusion_history_bids_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_collusion_history_bids_region_id'), ['region_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_collusion_history_bids_tender_id'), ['tender_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_collusion_history_bids_tender_key'), ['tender_key'], unique=False)

    op.create_table('collusion_alert_comments',
    sa.Column('id', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('alert_id', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('author_id', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('written_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['alert_id'], ['collusion_alerts.id'], name=op.f('fk_collusion_alert_comments_alert_id_collusion_alerts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_collusion_alert_comments_author_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_collusion_alert_comments'))
    )
    with op.batch_alter_table('collusion_alert_comments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_collusion_alert_comments_alert_id'), ['alert_id'], unique=False)

    op.create_table('collusion_alert_members',
    sa.Column('id', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('alert_id', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('bidder_key', sa.String(length=200), nullable=False),
    sa.Column('company_id', advanced_alchemy.types.guid.GUID(length=16), nullable=True),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['alert_id'], ['collusion_alerts.id'], name=op.f('fk_collusion_alert_members_alert_id_collusion_alerts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_collusion_alert_members_company_id_companies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_collusion_alert_members')),
    sa.UniqueConstraint('alert_id', 'bidder_key', name=op.f('uq_collusion_alert_members_alert_id'))
    )
    with op.batch_alter_table('collusion_alert_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_collusion_alert_members_alert_id'), ['alert_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_collusion_alert_members_company_id'), ['company_id'], unique=False)

    op.create_table('collusion_findings',
    sa.Column('id', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('alert_id', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('region_id', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('tender_key', sa.String(length=200), nullable=False),
    sa.Column('tender_id', advanced_alchemy.types.guid.GUID(length=16), nullable=True),
    sa.Column('bidder_key', sa.String(length=200), nullable=False),
    sa.Column('company_id', advanced_alchemy.types.guid.GUID(length=16), nullable=True),
    sa.Column('kinds', sa.JSON(), nullable=False),
    sa.Column('grounds', sa.JSON(), nullable=False),
    sa.Column('summary_zh', sa.Text(), nullable=False),
    sa.Column('summary_en', sa.Text(), nullable=False),
    sa.Column('confirmed_by', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('confirmed_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['alert_id'], ['collusion_alerts.id'], name=op.f('fk_collusion_findings_alert_id_collusion_alerts')),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_collusion_findings_company_id_companies')),
    sa.ForeignKeyConstraint(['confirmed_by'], ['users.id'], name=op.f('fk_collusion_findings_confirmed_by_users')),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_collusion_findings_region_id_regions')),
    sa.ForeignKeyConstraint(['tender_id'], ['tenders.id'], name=op.f('fk_collusion_findings_tender_id_tenders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_collusion_findings')),
    sa.UniqueConstraint('alert_id', 'bidder_key', name=op.f('uq_collusion_findings_alert_id'))
    )
    with op.batch_alter_table('collusion_findings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_collusion_findings_alert_id'), ['alert_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_collusion_findings_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_collusion_findings_region_id'), ['region_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_collusion_findings_tender_id'), ['tender_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_collusion_findings_tender_key'), ['tender_key'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('collusion_findings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_collusion_findings_tender_key'))
        batch_op.drop_index(batch_op.f('ix_collusion_findings_tender_id'))
        batch_op.drop_index(batch_op.f('ix_collusion_findings_region_id'))
        batch_op.drop_index(batch_op.f('ix_collusion_findings_company_id'))
        batch_op.drop_index(batch_op.f('ix_collusion_findings_alert_id'))

    op.drop_table('collusion_findings')
    with op.batch_alter_table('collusion_alert_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_collusion_alert_members_company_id'))
        batch_op.drop_index(batch_op.f('ix_collusion_alert_members_alert_id'))

    op.drop_table('collusion_alert_members')
    with op.batch_alter_table('collusion_alert_comments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_collusion_alert_comments_alert_id'))

    op.drop_table('collusion_alert_comments')
    with op.batch_alter_table('collusion_history_bids', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_collusion_history_bids_tender_key'))
        batch_op.drop_index(batch_op.f('ix_collusion_history_bids_tender_id'))
        batch_op.drop_index(batch_op.f('ix_collusion_history_bids_region_id'))
        batch_op.drop_index(batch_op.f('ix_collusion_history_bids_company_id'))
        batch_op.drop_index(batch_op.f('ix_collusion_history_bids_bidder_key'))

    op.drop_table('collusion_history_bids')
    with op.batch_alter_table('collusion_alerts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_collusion_alerts_tender_id'))
        batch_op.drop_index(batch_op.f('ix_collusion_alerts_status'))
        batch_op.drop_index(batch_op.f('ix_collusion_alerts_region_id'))
        batch_op.drop_index(batch_op.f('ix_collusion_alerts_level'))
        batch_op.drop_index(batch_op.f('ix_collusion_alerts_centre_id'))
        batch_op.drop_index(batch_op.f('ix_collusion_alerts_assignee_id'))

    op.drop_table('collusion_alerts')
