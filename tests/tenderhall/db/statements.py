"""Recording the SQL statements a piece of code sends (SQLAlchemy's ``before_cursor_execute``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event


@contextmanager
def recorded(services: Any) -> Iterator[list[str]]:
    """The statements sent on ``services``' engine inside the block, BEGIN included where the
    driver sends it as one (SQLite here; asyncpg begins on its own)."""
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    event.listen(services.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(services.engine.sync_engine, "before_cursor_execute", record)


def locking(sent: list[str]) -> list[str]:
    """The statements that lock: a row lock (PostgreSQL) or SQLite's write lock."""
    return [s for s in sent if "FOR UPDATE" in s or s.startswith("BEGIN IMMEDIATE")]
