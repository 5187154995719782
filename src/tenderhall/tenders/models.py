"""Tenders and what hangs off them before bidding closes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tenderhall.db.base import DateTimeUTC, UUIDv7AuditBase


class ProcedureOverride(UUIDv7AuditBase):
    """A region's override of one procedure parameter (DESIGN §3: rules are data)."""

    __tablename__ = "procedure_overrides"
    __table_args__ = (UniqueConstraint("region_id", "procedure", "parameter"),)
    region_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("regions.id"), index=True)
    procedure: Mapped[str] = mapped_column(String(40))
    parameter: Mapped[str] = mapped_column(String(60))
    value: Mapped[str] = mapped_column(String(60))


class Tender(UUIDv7AuditBase):
    __tablename__ = "tenders"
    centre_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("centres.id"), index=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    procedure: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(16), index=True)
    tenderer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    agency_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organisations.id"), nullable=True)
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    estimate_fen: Mapped[int] = mapped_column(BigInteger)  # estimated price in fen (0.01 CNY)
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(16), default="works")  # works | goods | services
    rubric: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    issued_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    deadline_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    opening_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    terminated_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    documents: Mapped[list[TenderDocument]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="TenderDocument.created_at"
    )


class TenderDocument(UUIDv7AuditBase):
    __tablename__ = "tender_documents"
    tender_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenders.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    media_type: Mapped[str] = mapped_column(String(100))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    amendment_no: Mapped[int | None] = mapped_column(Integer, nullable=True)


class Amendment(UUIDv7AuditBase):
    __tablename__ = "amendments"
    __table_args__ = (UniqueConstraint("tender_id", "number"),)
    tender_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenders.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(Text)
    affects_preparation: Mapped[bool] = mapped_column()
    issued_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    old_deadline: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    new_deadline: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))


class Clarification(UUIDv7AuditBase):
    """A question and its answer.  ``asked_by`` is kept for the archive but never shown to anyone
    but the asker: everyone else sees the Q&A anonymously."""

    __tablename__ = "clarifications"
    tender_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenders.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    question: Mapped[str] = mapped_column(Text)
    asked_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    asked_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    answer: Mapped[str | None] = mapped_column(Text, nullable=True)
    answered_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)


class Registration(UUIDv7AuditBase):
    """A bidder company's registration of interest (报名), required before it may submit."""

    __tablename__ = "registrations"
    __table_args__ = (UniqueConstraint("tender_id", "company_id"),)
    tender_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenders.id", ondelete="CASCADE"), index=True)
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id"), index=True)
    registered_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    registered_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
