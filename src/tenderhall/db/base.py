"""Declarative bases shared by every package; one metadata, so one Alembic history."""

from __future__ import annotations

from advanced_alchemy.base import BigIntBase, UUIDv7AuditBase, UUIDv7Base, orm_registry
from advanced_alchemy.types import DateTimeUTC

metadata = orm_registry.metadata

__all__ = ["BigIntBase", "DateTimeUTC", "UUIDv7AuditBase", "UUIDv7Base", "metadata"]
