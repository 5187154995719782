"""Archive versions: one row per version of a tender's signed archive (一标一档).

A version is immutable once built; a later event on an archived tender makes a new version that
names the previous one's SHA-256 (``previous_sha256``).  The row is also the job's durable state:
a version that is ``pending`` (or ``building`` when its worker died) is work the reconciler
defers again (archive.jobs).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tenderhall.db.base import DateTimeUTC, UUIDv7AuditBase


class ArchiveStatus(StrEnum):
    PENDING = "pending"  # waiting for a worker (first run, or a retry after a failure)
    BUILDING = "building"
    BUILT = "built"
    FAILED = "failed"  # every attempt failed; an operator may build it again


class ArchiveVersion(UUIDv7AuditBase):
    __tablename__ = "archive_versions"
    __table_args__ = (UniqueConstraint("tender_id", "version"),)
    tender_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenders.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)  # 1, 2, ... per tender
    status: Mapped[str] = mapped_column(String(16), default=ArchiveStatus.PENDING.value, index=True)
    reason: Mapped[str] = mapped_column(String(40))  # what made it: the transition, or a later event
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    previous_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    storage_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    size: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    ledger_index: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
