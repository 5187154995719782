"""Alembic environment: one history for every package (DESIGN §2).

Run through ``tenderhall db ...`` (advanced-alchemy's Alembic commands hand us the engine).
"""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context
from sqlalchemy import Column
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.types import TypeDecorator

from tenderhall.compose import import_models
from tenderhall.db.base import metadata
from tenderhall.jobs.schema import is_queue_table

import_models()
config: Any = context.config


def _compare_type(
    ctx: Any, inspected_column: Any, metadata_column: Any, inspected_type: Any, metadata_type: Any
) -> bool | None:
    """Compare decorated types (GUID, DateTimeUTC) by what they store on this dialect.

    SQLite reflects BINARY(16) as NUMERIC by affinity, so on SQLite a decorated type only has to
    match its implementation's affinity; elsewhere Alembic's own comparison decides.
    """
    if isinstance(metadata_type, TypeDecorator):
        impl = metadata_type.load_dialect_impl(ctx.dialect)
        if ctx.dialect.name == "sqlite":
            return False
        return ctx.impl.compare_type(inspected_column, Column(metadata_column.name, impl))  # type: ignore[no-any-return]
    return None


def _include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """The job queue's tables are procrastinate's (revision 0010_jobs), not our models'."""
    return not (type_ == "table" and is_queue_table(name))


def _configure(**kwargs: Any) -> None:
    context.configure(
        include_name=_include_name,
        target_metadata=metadata,
        compare_type=_compare_type,
        render_as_batch=True,
        version_table=getattr(config, "version_table_name", "alembic_version"),
        **kwargs,
    )


def run_offline() -> None:
    _configure(url=config.db_url, literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def _run(connection: Connection) -> None:
    _configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


async def run_online() -> None:
    engine: AsyncEngine = config.engine
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()


if context.is_offline_mode():
    run_offline()
else:
    asyncio.run(run_online())
