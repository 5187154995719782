"""The region-wide expert registry (DESIGN §6)."""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum

from sqlalchemy import JSON, Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from tenderhall.db.base import UUIDv7AuditBase


class ExpertStatus(StrEnum):
    ACTIVE = "active"
    ON_LEAVE = "on_leave"
    SUSPENDED = "suspended"
    REMOVED = "removed"


class Expert(UUIDv7AuditBase):
    __tablename__ = "experts"
    region_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("regions.id"), index=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), nullable=True, unique=True)
    name: Mapped[str] = mapped_column(String(100))
    id_number_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    home_centre_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("centres.id"), index=True)
    city: Mapped[str] = mapped_column(String(50))
    employer: Mapped[str] = mapped_column(String(200))
    employer_uscc: Mapped[str | None] = mapped_column(String(18), nullable=True, index=True)
    titles: Mapped[list[str]] = mapped_column(JSON, default=list)
    specialties: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default=ExpertStatus.ACTIVE.value)
    leave_from: Mapped[date | None] = mapped_column(Date, nullable=True)
    leave_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    phone: Mapped[str | None] = mapped_column(String(32), nullable=True)
    email: Mapped[str | None] = mapped_column(String(200), nullable=True)
