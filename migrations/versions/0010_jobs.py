"""jobs: procrastinate's job queue tables on PostgreSQL (nothing on SQLite, whose queue runs in
process)

Revision ID: 0010_jobs
Revises: 0009
Create Date: 2026-12-08 02:00:00

The schema is the pinned procrastinate release's (tenderhall.jobs.schema), so nothing is ever run
by hand.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from tenderhall.jobs import schema

revision: str = '0010_jobs'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PINNED = "03.04.00_50_post_add_retry_failed_job_procedure.sql"


def upgrade() -> None:
    schema.upgrade(op.get_bind(), PINNED)


def downgrade() -> None:
    schema.downgrade(op.get_bind())
