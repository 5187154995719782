"""Alembic is the only way a schema is made: upgrade from empty, check, downgrade to base, again."""

from __future__ import annotations

import asyncio

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine


async def table_names(url: str) -> set[str]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))
    finally:
        await engine.dispose()


def test_upgrade_check_downgrade_roundtrip(empty_database_url, run_cli) -> None:
    up = run_cli(empty_database_url, "db", "upgrade")
    assert up.returncode == 0, up.stderr
    tables = asyncio.run(table_names(empty_database_url))
    assert {"tenders", "users", "companies", "ledger_entries", "ledger_head", "experts"} <= tables
    check = run_cli(empty_database_url, "db", "check")
    assert check.returncode == 0, check.stderr  # autogenerate finds no difference
    assert "agree" in check.stdout
    current = run_cli(empty_database_url, "db", "current")
    assert "(head)" in current.stdout + current.stderr
    down = run_cli(empty_database_url, "db", "downgrade", "base", "--yes")
    assert down.returncode == 0, down.stderr
    assert asyncio.run(table_names(empty_database_url)) <= {"alembic_version"}
    again = run_cli(empty_database_url, "db", "upgrade")
    assert again.returncode == 0, again.stderr


def test_check_fails_when_models_and_schema_disagree(empty_database_url, run_cli) -> None:
    assert run_cli(empty_database_url, "db", "upgrade").returncode == 0
    assert run_cli(empty_database_url, "db", "downgrade", "base", "--yes").returncode == 0
    # A database with no schema disagrees with the models: check must fail, in one line.
    check = run_cli(empty_database_url, "db", "check")
    assert check.returncode != 0
