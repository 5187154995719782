"""Sealed bids and the opening hall: bidder and custodian keys, tender remedies, resumable
uploads, bids, bonds, credit lists and checks, the deadline checkpoint, halls, shares, responses.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
import advanced_alchemy.types


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('bidder_keys',
    sa.Column('id', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('company_id', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('opening_recipient', sa.String(length=100), nullable=False),
    sa.Column('signing_public', sa.String(length=64), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('registered_by', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('registered_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('retired_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
    sa.Column('retired_reason', sa.Text(), nullable=True),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_bidder_keys_company_id_companies')),
    sa.ForeignKeyConstraint(['registered_by'], ['users.id'], name=op.f('fk_bidder_keys_registered_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bidder_keys'))
    )
    with op.batch_alter_table('bidder_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bidder_keys_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bidder_keys_fingerprint'), ['fingerprint'], unique=False)

    op.create_table('credit_lists',
    sa.Column('id', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('region_id', advanced_alchemy.types.guid.GUID(length=16), nullable=True),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('published_on', sa.Date(), nullable=False),
    sa.Column('version_hash', sa.String(length=64), nullable=False),
    sa.Column('entry_count', sa.Integer(), nullable=False),
    sa.Column('imported_by', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('imported_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['imported_by'], ['users.id'], name=op.f('fk_credit_lists_imported_by_users')),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_credit_lists_region_id_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_lists'))
    )
    with op.batch_alter_table('credit_lists', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credit_lists_region_id'), ['region_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_credit_lists_version_hash'), ['version_hash'], unique=False)

    op.create_table('custodian_keys',
    sa.Column('id', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('user_id', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('public_key', sa.String(length=100), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('registered_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_custodian_keys_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_custodian_keys'))
    )
    with op.batch_alter_table('custodian_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_custodian_keys_user_id'), ['user_id'], unique=False)

    op.create_table('bids',
    sa.Column('id', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('tender_id', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('company_id', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('key_id', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('bid_ref', sa.String(length=64), nullable=False),
    sa.Column('envelope_sha256', sa.String(length=64), nullable=False),
    sa.Column('envelope_size', sa.BigInteger(), nullable=False),
    sa.Column('storage_key', sa.String(length=64), nullable=False),
    sa.Column('manifest', sa.JSON(), nullable=False),
    sa.Column('manifest_signature', sa.String(length=100), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('submitted_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('submitted_by', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('source_ip', sa.String(length=64), nullable=True),
    sa.Column('user_agent', sa.String(length=300), nullable=True),
    sa.Column('device_fingerprint', sa.String(length=128), nullable=True),
    sa.Column('receipt', sa.JSON(), nullable=False),
    sa.Column('ledger_index', sa.BigInteger(), nullable=False),
    sa.Column('superseded_by', advanced_alchemy.types.guid.GUID(length=16), nullable=True),
    sa.Column('withdrawn_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
    sa.Column('withdrawal_signature', sa.String(length=100), nullable=True),
    sa.Column('key_attempts', sa.Integer(), nullable=False),
    sa.Column('decrypted_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
    sa.Column('decrypted_via', sa.String(length=16), nullable=True),
    sa.Column('wrapped_file_key', sa.LargeBinary(), nullable=True),
    sa.Column('bid_form', sa.JSON(), nullable=True),
    sa.Column('form_error', sa.Text(), nullable=True),
    sa.Column('failure_cause', sa.String(length=16), nullable=True),
    sa.Column('classification_note', sa.Text(), nullable=True),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_bids_company_id_companies')),
    sa.ForeignKeyConstraint(['key_id'], ['bidder_keys.id'], name=op.f('fk_bids_key_id_bidder_keys')),
    sa.ForeignKeyConstraint(['submitted_by'], ['users.id'], name=op.f('fk_bids_submitted_by_users')),
    sa.ForeignKeyConstraint(['superseded_by'], ['bids.id'], name=op.f('fk_bids_superseded_by_bids')),
    sa.ForeignKeyConstraint(['tender_id'], ['tenders.id'], name=op.f('fk_bids_tender_id_tenders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bids')),
    sa.UniqueConstraint('tender_id', 'bid_ref', name=op.f('uq_bids_tender_id'))
    )
    with op.batch_alter_table('bids', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bids_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bids_device_fingerprint'), ['device_fingerprint'], unique=False)
        batch_op.create_index(batch_op.f('ix_bids_envelope_sha256'), ['envelope_sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_bids_source_ip'), ['source_ip'], unique=False)
        batch_op.create_index(batch_op.f('ix_bids_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_bids_tender_id'), ['tender_id'], unique=False)

    op.create_table('credit_list_entries',
    sa.Column('id', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('list_id', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('uscc', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('listed_on', sa.Date(), nullable=False),
    sa.Column('until', sa.Date(), nullable=True),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['list_id'], ['credit_lists.id'], name=op.f('fk_credit_list_entries_list_id_credit_lists'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_list_entries'))
    )
    with op.batch_alter_table('credit_list_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credit_list_entries_list_id'), ['list_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_credit_list_entries_uscc'), ['uscc'], unique=False)

    op.create_table('deadline_checkpoints',
    sa.Column('id', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('tender_id', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('envelope_hashes', sa.JSON(), nullable=False),
    sa.Column('set_root', sa.String(length=64), nullable=False),
    sa.Column('ledger_index', sa.BigInteger(), nullable=False),
    sa.Column('checkpoint_note', sa.Text(), nullable=False),
    sa.Column('taken_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tender_id'], ['tenders.id'], name=op.f('fk_deadline_checkpoints_tender_id_tenders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deadline_checkpoints')),
    sa.UniqueConstraint('tender_id', name=op.f('uq_deadline_checkpoints_tender_id'))
    )
    op.create_table('opening_halls',
    sa.Column('id', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('tender_id', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('phase', sa.String(length=16), nullable=False),
    sa.Column('opened_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('window_ends_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('record', sa.JSON(), nullable=True),
    sa.Column('record_sha256', sa.String(length=64), nullable=True),
    sa.Column('record_published_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
    sa.Column('sign_deadline', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tender_id'], ['tenders.id'], name=op.f('fk_opening_halls_tender_id_tenders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_opening_halls')),
    sa.UniqueConstraint('tender_id', name=op.f('uq_opening_halls_tender_id'))
    )
    op.create_table('record_responses',
    sa.Column('id', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('tender_id', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('company_id', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('record_sha256', sa.String(length=64), nullable=False),
    sa.Column('signature', sa.String(length=100), nullable=True),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('answered_by', advanced_alchemy.types.guid.GUID(length=16), nullable=True),
    sa.Column('answered_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['answered_by'], ['users.id'], name=op.f('fk_record_responses_answered_by_users')),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_record_responses_company_id_companies')),
    sa.ForeignKeyConstraint(['tender_id'], ['tenders.id'], name=op.f('fk_record_responses_tender_id_tenders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_record_responses'))
    )
    with op.batch_alter_table('record_responses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_record_responses_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_record_responses_tender_id'), ['tender_id'], unique=False)

    op.create_table('tender_remedies',
    sa.Column('id', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('tender_id', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('k', sa.Integer(), nullable=False),
    sa.Column('custodians', sa.JSON(), nullable=False),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tender_id'], ['tenders.id'], name=op.f('fk_tender_remedies_tender_id_tenders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tender_remedies')),
    sa.UniqueConstraint('tender_id', name=op.f('uq_tender_remedies_tender_id'))
    )
    op.create_table('bid_bonds',
    sa.Column('id', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('bid_id', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('payer_bank', sa.String(length=100), nullable=True),
    sa.Column('payer_account', sa.String(length=40), nullable=True),
    sa.Column('issuer', sa.String(length=200), nullable=True),
    sa.Column('number', sa.String(length=100), nullable=True),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['bid_id'], ['bids.id'], name=op.f('fk_bid_bonds_bid_id_bids')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bid_bonds')),
    sa.UniqueConstraint('bid_id', name=op.f('uq_bid_bonds_bid_id'))
    )
    with op.batch_alter_table('bid_bonds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bid_bonds_payer_account'), ['payer_account'], unique=False)

    op.create_table('bid_uploads',
    sa.Column('id', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('tender_id', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('company_id', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('user_id', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('key_id', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('idempotency_key', sa.String(length=100), nullable=False),
    sa.Column('manifest', sa.JSON(), nullable=False),
    sa.Column('manifest_signature', sa.String(length=100), nullable=False),
    sa.Column('bond', sa.JSON(), nullable=True),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('bid_id', advanced_alchemy.types.guid.GUID(length=16), nullable=True),
    sa.Column('expires_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['bid_id'], ['bids.id'], name=op.f('fk_bid_uploads_bid_id_bids')),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_bid_uploads_company_id_companies')),
    sa.ForeignKeyConstraint(['key_id'], ['bidder_keys.id'], name=op.f('fk_bid_uploads_key_id_bidder_keys')),
    sa.ForeignKeyConstraint(['tender_id'], ['tenders.id'], name=op.f('fk_bid_uploads_tender_id_tenders')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_bid_uploads_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bid_uploads')),
    sa.UniqueConstraint('company_id', 'tender_id', 'idempotency_key', name=op.f('uq_bid_uploads_company_id'))
    )
    with op.batch_alter_table('bid_uploads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bid_uploads_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bid_uploads_tender_id'), ['tender_id'], unique=False)

    op.create_table('credit_checks',
    sa.Column('id', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('tender_id', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('company_id', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('bid_id', advanced_alchemy.types.guid.GUID(length=16), nullable=True),
    sa.Column('list_version_hash', sa.String(length=64), nullable=False),
    sa.Column('listed', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('checked_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['bid_id'], ['bids.id'], name=op.f('fk_credit_checks_bid_id_bids')),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_credit_checks_company_id_companies')),
    sa.ForeignKeyConstraint(['tender_id'], ['tenders.id'], name=op.f('fk_credit_checks_tender_id_tenders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_checks'))
    )
    with op.batch_alter_table('credit_checks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credit_checks_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_credit_checks_tender_id'), ['tender_id'], unique=False)

    op.create_table('share_releases',
    sa.Column('id', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('bid_id', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('custodian_id', sa.String(length=64), nullable=False),
    sa.Column('share_index', sa.Integer(), nullable=False),
    sa.Column('wrapped_value', sa.LargeBinary(), nullable=False),
    sa.Column('released_by', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('released_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('bad', sa.Boolean(), nullable=False),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['bid_id'], ['bids.id'], name=op.f('fk_share_releases_bid_id_bids')),
    sa.ForeignKeyConstraint(['released_by'], ['users.id'], name=op.f('fk_share_releases_released_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_share_releases')),
    sa.UniqueConstraint('bid_id', 'custodian_id', name=op.f('uq_share_releases_bid_id'))
    )
    with op.batch_alter_table('share_releases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_share_releases_bid_id'), ['bid_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('share_releases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_share_releases_bid_id'))

    op.drop_table('share_releases')
    with op.batch_alter_table('credit_checks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credit_checks_tender_id'))
        batch_op.drop_index(batch_op.f('ix_credit_checks_company_id'))

    op.drop_table('credit_checks')
    with op.batch_alter_table('bid_uploads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bid_uploads_tender_id'))
        batch_op.drop_index(batch_op.f('ix_bid_uploads_company_id'))

    op.drop_table('bid_uploads')
    with op.batch_alter_table('bid_bonds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bid_bonds_payer_account'))

    op.drop_table('bid_bonds')
    op.drop_table('tender_remedies')
    with op.batch_alter_table('record_responses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_record_responses_tender_id'))
        batch_op.drop_index(batch_op.f('ix_record_responses_company_id'))

    op.drop_table('record_responses')
    op.drop_table('opening_halls')
    op.drop_table('deadline_checkpoints')
    with op.batch_alter_table('credit_list_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credit_list_entries_uscc'))
        batch_op.drop_index(batch_op.f('ix_credit_list_entries_list_id'))

    op.drop_table('credit_list_entries')
    with op.batch_alter_table('bids', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bids_tender_id'))
        batch_op.drop_index(batch_op.f('ix_bids_state'))
        batch_op.drop_index(batch_op.f('ix_bids_source_ip'))
        batch_op.drop_index(batch_op.f('ix_bids_envelope_sha256'))
        batch_op.drop_index(batch_op.f('ix_bids_device_fingerprint'))
        batch_op.drop_index(batch_op.f('ix_bids_company_id'))

    op.drop_table('bids')
    with op.batch_alter_table('custodian_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_custodian_keys_user_id'))

    op.drop_table('custodian_keys')
    with op.batch_alter_table('credit_lists', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credit_lists_version_hash'))
        batch_op.drop_index(batch_op.f('ix_credit_lists_region_id'))

    op.drop_table('credit_lists')
    with op.batch_alter_table('bidder_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bidder_keys_fingerprint'))
        batch_op.drop_index(batch_op.f('ix_bidder_keys_company_id'))

    op.drop_table('bidder_keys')
