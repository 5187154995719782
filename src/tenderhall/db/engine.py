"""Engine configuration for the two supported backends, and the read path.

Writing transactions: SQLite runs them as ``BEGIN IMMEDIATE``, so writers queue on the database
lock instead of failing later when a read lock cannot be upgraded, which keeps deadline decisions
atomic in the embedded default; PostgreSQL uses row locks where order matters (the ledger, a
tender loaded for an action).

Reads: :func:`read_only` gives the same engine (and pool) with the execution option
``READ_ONLY``.  Its transactions take no write lock: a plain deferred ``BEGIN`` on SQLite, whose
WAL journal lets them read their snapshot while a writer holds the lock, and ``READ ONLY`` on
PostgreSQL.  They can never write (a check here refuses, and PostgreSQL would too), so a read
never upgrades its lock halfway, which SQLite would refuse at once under contention.  Handlers
that only read take their session from it (``web.deps.READ``); anything that may write, even on a
GET, keeps a writing transaction.
"""

from __future__ import annotations

from typing import Any

from advanced_alchemy.config import AlembicAsyncConfig, AsyncSessionConfig, SQLAlchemyAsyncConfig
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from tenderhall.paths import migrations_dir

READ_ONLY = "tenderhall_read_only"


class ReadOnlyViolation(RuntimeError):
    """A statement that writes was sent on a read-only connection: a programming error."""


def _sqlite_setup(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        reading = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")


def _refuse_writes(engine: AsyncEngine) -> None:
    """On both backends, so a write on the read path fails the same way, before it is sent."""

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _check(connection: Any, _cursor: Any, statement: str, _p: Any, context: Any, _m: Any) -> None:
        if context is None or not connection.get_execution_options().get(READ_ONLY, False):
            return
        if context.isinsert or context.isupdate or context.isdelete or context.isddl:
            raise ReadOnlyViolation(f"a read-only transaction may not write: {statement[:80]}")


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, **kwargs)
        _sqlite_setup(engine)
    else:
        kwargs.setdefault("pool_pre_ping", True)
        engine = create_async_engine(url, **kwargs)
    _refuse_writes(engine)
    return engine


def read_only(engine: AsyncEngine) -> AsyncEngine:
    """``engine`` for transactions that only read (same pool; see the module's docstring)."""
    options: dict[str, Any] = {READ_ONLY: True}
    if engine.dialect.name == "postgresql":
        options["postgresql_readonly"] = True
    return engine.execution_options(**options)


def sqlalchemy_config(url: str) -> SQLAlchemyAsyncConfig:
    return SQLAlchemyAsyncConfig(
        engine_instance=make_engine(url),
        session_config=AsyncSessionConfig(expire_on_commit=False),
        alembic_config=AlembicAsyncConfig(
            script_location=str(migrations_dir()),
            version_table_name="alembic_version",
            render_as_batch=True,
        ),
        create_all=False,
    )
