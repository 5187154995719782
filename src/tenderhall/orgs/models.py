"""Organisations: the region and its centres, tenderers and agencies, bidder companies."""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tenderhall.db.base import UUIDv7AuditBase


class Region(UUIDv7AuditBase):
    __tablename__ = "regions"
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))


class Centre(UUIDv7AuditBase):
    __tablename__ = "centres"
    region_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("regions.id"), index=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(50))


class OrganisationKind(StrEnum):
    TENDERER = "tenderer"
    AGENCY = "agency"


class Organisation(UUIDv7AuditBase):
    """A tenderer (招标人) or a procurement agency (招标代理机构)."""

    __tablename__ = "organisations"
    region_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("regions.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    uscc: Mapped[str] = mapped_column(String(18), unique=True)
    city: Mapped[str] = mapped_column(String(50))


class Company(UUIDv7AuditBase):
    """A bidder company with the registry data the collusion detector reads."""

    __tablename__ = "companies"
    region_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("regions.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    uscc: Mapped[str] = mapped_column(String(18), unique=True)
    city: Mapped[str] = mapped_column(String(50))
    address: Mapped[str] = mapped_column(String(300), default="")
    legal_representative: Mapped[str] = mapped_column(String(100))
    founded_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    sme: Mapped[bool] = mapped_column(default=False)  # small/micro enterprise (price deduction)
    persons: Mapped[list[CompanyPerson]] = relationship(
        back_populates="company", cascade="all, delete-orphan", lazy="selectin", order_by="CompanyPerson.role"
    )
    bank_accounts: Mapped[list[BankAccount]] = relationship(
        back_populates="company", cascade="all, delete-orphan", lazy="selectin"
    )


class PersonRole(StrEnum):
    LEGAL_REPRESENTATIVE = "legal_representative"
    SHAREHOLDER = "shareholder"
    AGENT = "agent"  # authorised agent for bidding (授权委托人)
    PROJECT_MANAGER = "project_manager"
    CONTACT = "contact"


class CompanyPerson(UUIDv7AuditBase):
    """A person linked to a company.  ``id_number_hash`` lets the detector match people across
    companies without the platform showing identity numbers."""

    __tablename__ = "company_persons"
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    id_number_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    phone: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    email: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    share_percent: Mapped[float | None] = mapped_column(Numeric(6, 3, asdecimal=False), nullable=True)
    certificate_no: Mapped[str | None] = mapped_column(String(64), nullable=True)
    company: Mapped[Company] = relationship(back_populates="persons")


class BankAccount(UUIDv7AuditBase):
    __tablename__ = "bank_accounts"
    __table_args__ = (UniqueConstraint("company_id", "account_no"),)
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    bank: Mapped[str] = mapped_column(String(100))
    account_no: Mapped[str] = mapped_column(String(40), index=True)
    account_name: Mapped[str] = mapped_column(String(200))
    company: Mapped[Company] = relationship(back_populates="bank_accounts")
