"""procrastinate's PostgreSQL schema, made through our Alembic history (revision ``0010_jobs``).

The revision applies the installed procrastinate's ``schema.sql`` (which procrastinate's own tests
keep equal to its released migration scripts applied in order) after checking that the package's
newest migration script is the pinned one: pyproject pins procrastinate to the releases with that
schema.  Upgrading procrastinate past them is a new revision that applies the scripts after the
pin (several in their own transactions where they add enum values) and moves the pin.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Connection
from sqlalchemy.util import await_only

# The newest procrastinate migration script our history has applied (procrastinate 3.4 to 3.10).
PINNED = "03.04.00_50_post_add_retry_failed_job_procedure.sql"


def newest_script() -> str:
    import procrastinate.schema

    scripts = Path(procrastinate.schema.SchemaManager.get_migrations_path()).glob("*.sql")
    return max(p.name for p in scripts)


def _execute_script(connection: Connection, sql: str) -> None:
    """Run a script of many statements (functions with $$ bodies) in the migration's transaction.

    asyncpg prepares what SQLAlchemy sends, and a prepared statement holds one command, so the
    script goes to the driver connection's simple-query ``execute``."""
    raw = connection.connection.driver_connection
    assert raw is not None
    await_only(raw.execute(sql))


def upgrade(connection: Connection, pinned: str) -> None:
    if connection.dialect.name != "postgresql":
        return  # SQLite runs the queue in process: no schema
    import procrastinate.schema

    newest = newest_script()
    if newest != pinned:
        raise RuntimeError(
            f"the installed procrastinate's schema is at {newest}, this revision makes {pinned}: "
            "install the procrastinate release pyproject.toml allows"
        )
    _execute_script(connection, procrastinate.schema.SchemaManager.get_schema())


DROP = """
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT tablename FROM pg_tables
             WHERE schemaname = current_schema() AND tablename LIKE 'procrastinate\\_%' LOOP
        EXECUTE format('DROP TABLE IF EXISTS %I CASCADE', r.tablename);
    END LOOP;
    FOR r IN SELECT p.oid::regprocedure AS fn FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
             WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate\\_%' LOOP
        EXECUTE format('DROP FUNCTION IF EXISTS %s CASCADE', r.fn);
    END LOOP;
    FOR r IN SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
             WHERE n.nspname = current_schema() AND t.typname LIKE 'procrastinate\\_%'
               AND t.typtype IN ('e', 'c') LOOP
        EXECUTE format('DROP TYPE IF EXISTS %I CASCADE', r.typname);
    END LOOP;
END $$;
"""


def downgrade(connection: Connection) -> None:
    """Remove every procrastinate object (tables, functions, types) of the current schema."""
    if connection.dialect.name != "postgresql":
        return
    _execute_script(connection, DROP)


def is_queue_table(name: str | None) -> bool:
    """Tables the queue owns, which our models do not describe (Alembic's comparison skips them)."""
    return bool(name) and str(name).startswith("procrastinate_")
