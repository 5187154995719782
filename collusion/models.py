"""Collusion tables: bid history the detector reads, alerts and their review, confirmed findings.

History rows come from three places: the incremental run after an opening (``source="platform"``),
``tenderhall collusion import`` (``source="import:<file name>"``) and the demo.  The history is
region-wide (DESIGN §1: the collusion graph spans the region); alerts belong to one centre.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tenderhall.db.base import DateTimeUTC, UUIDv7AuditBase


class AlertStatus(StrEnum):
    NEW = "new"
    UNDER_REVIEW = "under_review"
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"
    ESCALATED = "escalated"


class HistoryBid(UUIDv7AuditBase):
    """One bid of the region's history, as the detector reads it (records.BidRecord)."""

    __tablename__ = "collusion_history_bids"
    __table_args__ = (UniqueConstraint("region_id", "tender_key", "bidder_key"),)
    region_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("regions.id"), index=True)
    source: Mapped[str] = mapped_column(String(200))
    tender_key: Mapped[str] = mapped_column(String(200), index=True)  # platform tender id or external id
    tender_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("tenders.id"), nullable=True, index=True)
    bidder_key: Mapped[str] = mapped_column(String(200), index=True)  # company id, USCC or external id
    company_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("companies.id"), nullable=True, index=True
    )
    bidder_name: Mapped[str] = mapped_column(String(200), default="")
    price: Mapped[float] = mapped_column(Float)
    bid_date: Mapped[date] = mapped_column(Date)
    is_winner: Mapped[bool] = mapped_column(Boolean, default=False)
    estimate: Mapped[float | None] = mapped_column(Float, nullable=True)
    ip: Mapped[str] = mapped_column(String(64), default="")
    device: Mapped[str] = mapped_column(String(128), default="")
    bond_account: Mapped[str] = mapped_column(String(64), default="")
    legal_rep: Mapped[str] = mapped_column(String(128), default="")
    # Further evidence the records carry (document metadata, agent, project managers, contacts,
    # error signatures, document signature), JSON-encoded; see history_rows.bid_record.
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Alert(UUIDv7AuditBase):
    __tablename__ = "collusion_alerts"
    __table_args__ = (UniqueConstraint("region_id", "tender_key"),)
    region_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("regions.id"), index=True)
    centre_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("centres.id"), index=True)
    tender_key: Mapped[str] = mapped_column(String(200))
    tender_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("tenders.id"), nullable=True, index=True)
    status: Mapped[str] = mapped_column(String(16), index=True, default=AlertStatus.NEW.value)
    level: Mapped[str] = mapped_column(String(16), index=True)
    risk: Mapped[float] = mapped_column(Float)
    hard: Mapped[bool] = mapped_column(Boolean, default=False)
    bidders: Mapped[list[str]] = mapped_column(JSON, default=list)  # bidder keys of the tender
    suspects: Mapped[list[str]] = mapped_column(JSON, default=list)  # bidder keys in suspect groups
    kinds: Mapped[list[str]] = mapped_column(JSON, default=list)  # evidence kinds, for filtering
    result: Mapped[dict[str, Any]] = mapped_column(JSON)  # TenderRisk.to_json(): reasons, evidence, groups
    assignee_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), nullable=True, index=True)
    dismissed_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    decided_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    escalated_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    detected_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)


class AlertMember(UUIDv7AuditBase):
    """Suspected bidders of an alert, one row each, so lists filter by company without JSON queries."""

    __tablename__ = "collusion_alert_members"
    __table_args__ = (UniqueConstraint("alert_id", "bidder_key"),)
    alert_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("collusion_alerts.id", ondelete="CASCADE"), index=True
    )
    bidder_key: Mapped[str] = mapped_column(String(200))
    company_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("companies.id"), nullable=True, index=True
    )


class AlertComment(UUIDv7AuditBase):
    __tablename__ = "collusion_alert_comments"
    alert_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("collusion_alerts.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    written_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))


class Finding(UUIDv7AuditBase):
    """A confirmed alert recorded against one bidder and the tender (the archive and the bidder's
    record read these)."""

    __tablename__ = "collusion_findings"
    __table_args__ = (UniqueConstraint("alert_id", "bidder_key"),)
    alert_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("collusion_alerts.id"), index=True)
    region_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("regions.id"), index=True)
    tender_key: Mapped[str] = mapped_column(String(200), index=True)
    tender_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("tenders.id"), nullable=True, index=True)
    bidder_key: Mapped[str] = mapped_column(String(200))
    company_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("companies.id"), nullable=True, index=True
    )
    kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    grounds: Mapped[list[str]] = mapped_column(JSON, default=list)
    summary_zh: Mapped[str] = mapped_column(Text, default="")
    summary_en: Mapped[str] = mapped_column(Text, default="")
    confirmed_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    confirmed_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
