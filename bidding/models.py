"""Sealed-bid storage: bidder and custodian keys, tender remedies, uploads, bids, bonds, credit
checks, the deadline checkpoint and the opening hall (DESIGN §4).

Nothing here holds a key that opens a bid before opening: envelopes are stored as ciphertext, the
file key appears only after the bidder (or k custodians) released it, and then only wrapped under
the platform data key.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from tenderhall.db.base import DateTimeUTC, UUIDv7AuditBase


class KeyStatus(StrEnum):
    ACTIVE = "active"
    ROTATED = "rotated"  # replaced by a newer key; bids signed with it stay valid
    REVOKED = "revoked"  # compromised or withdrawn: refuses new signatures


class BidderKey(UUIDv7AuditBase):
    """A company's opening recipient (age X25519) and signing key (Ed25519); one active at a time."""

    __tablename__ = "bidder_keys"
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id"), index=True)
    opening_recipient: Mapped[str] = mapped_column(String(100))  # age1...
    signing_public: Mapped[str] = mapped_column(String(64))  # base64 raw Ed25519 public key
    fingerprint: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), default=KeyStatus.ACTIVE.value)
    registered_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    registered_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    retired_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    retired_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class CustodianKey(UUIDv7AuditBase):
    """A custodian's X25519 public key for HPKE-sealed shares (one active per user)."""

    __tablename__ = "custodian_keys"
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    public_key: Mapped[str] = mapped_column(String(100))  # age1... text form of the X25519 key
    status: Mapped[str] = mapped_column(String(16), default=KeyStatus.ACTIVE.value)
    registered_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))


class TenderRemedy(UUIDv7AuditBase):
    """The tender's remedy for failed decryption: k of the listed custodians may open a bid."""

    __tablename__ = "tender_remedies"
    tender_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenders.id", ondelete="CASCADE"), unique=True)
    k: Mapped[int] = mapped_column(Integer)
    # [{"id": stanza id (the custodian's user id), "user_id": ..., "public_key": "age1..."}]
    custodians: Mapped[list[dict[str, Any]]] = mapped_column(JSON)


class BidState(StrEnum):
    SUBMITTED = "submitted"  # accepted, sealed
    SUPERSEDED = "superseded"  # replaced by a resubmission; can never be opened
    WITHDRAWN = "withdrawn"  # signed withdrawal before the deadline, or 视为撤回 (第三十一条)
    DECRYPTED = "decrypted"  # opened in the hall
    REVOKED = "revoked"  # 视为撤销: not decrypted through the bidder's fault (第三十一条)


class Bid(UUIDv7AuditBase):
    __tablename__ = "bids"
    __table_args__ = (UniqueConstraint("tender_id", "bid_ref"),)
    tender_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenders.id"), index=True)
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id"), index=True)
    key_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("bidder_keys.id"))
    bid_ref: Mapped[str] = mapped_column(String(64))  # chosen by the client, bound into share stanzas
    envelope_sha256: Mapped[str] = mapped_column(String(64), index=True)
    envelope_size: Mapped[int] = mapped_column(BigInteger)
    storage_key: Mapped[str] = mapped_column(String(64))
    manifest: Mapped[dict[str, Any]] = mapped_column(JSON)
    manifest_signature: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(16), index=True)
    submitted_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    submitted_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    source_ip: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    user_agent: Mapped[str | None] = mapped_column(String(300), nullable=True)
    device_fingerprint: Mapped[str | None] = mapped_column(String(128), nullable=True, index=True)
    receipt: Mapped[dict[str, Any]] = mapped_column(JSON)
    ledger_index: Mapped[int] = mapped_column(BigInteger)
    superseded_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("bids.id"), nullable=True)
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    withdrawal_signature: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # Filled in the hall:
    key_attempts: Mapped[int] = mapped_column(Integer, default=0)
    decrypted_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    decrypted_via: Mapped[str | None] = mapped_column(String(16), nullable=True)  # bidder | custodians
    wrapped_file_key: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    bid_form: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    form_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Document metadata and text read at decryption (bidding.docscan), sealed under the data key.
    sealed_documents: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    failure_cause: Mapped[str | None] = mapped_column(String(16), nullable=True)  # bidder | other
    classification_note: Mapped[str | None] = mapped_column(Text, nullable=True)


class UploadState(StrEnum):
    OPEN = "open"
    COMPLETE = "complete"


class UploadSession(UUIDv7AuditBase):
    """A resumable upload; the bytes received so far live in a partial file named by the id."""

    __tablename__ = "bid_uploads"
    __table_args__ = (UniqueConstraint("company_id", "tender_id", "idempotency_key"),)
    tender_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenders.id"), index=True)
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id"), index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    key_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("bidder_keys.id"))
    idempotency_key: Mapped[str] = mapped_column(String(100))
    manifest: Mapped[dict[str, Any]] = mapped_column(JSON)
    manifest_signature: Mapped[str] = mapped_column(String(100))
    bond: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    size: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(16), default=UploadState.OPEN.value)
    bid_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("bids.id"), nullable=True)
    expires_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))


class BondKind(StrEnum):
    CASH = "cash"  # bank transfer: payer account is collusion evidence
    GUARANTEE = "guarantee"  # electronic guarantee (电子保函)


class BidBond(UUIDv7AuditBase):
    __tablename__ = "bid_bonds"
    bid_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("bids.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    payer_bank: Mapped[str | None] = mapped_column(String(100), nullable=True)
    payer_account: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    issuer: Mapped[str | None] = mapped_column(String(200), nullable=True)
    number: Mapped[str | None] = mapped_column(String(100), nullable=True)


class CreditList(UUIDv7AuditBase):
    """One imported version of the credit blacklist (严重失信主体名单)."""

    __tablename__ = "credit_lists"
    region_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("regions.id"), nullable=True, index=True)
    source: Mapped[str] = mapped_column(String(200))
    published_on: Mapped[date] = mapped_column(Date)
    version_hash: Mapped[str] = mapped_column(String(64), index=True)
    entry_count: Mapped[int] = mapped_column(Integer)
    imported_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    imported_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))


class CreditListEntry(UUIDv7AuditBase):
    __tablename__ = "credit_list_entries"
    list_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("credit_lists.id", ondelete="CASCADE"), index=True)
    uscc: Mapped[str] = mapped_column(String(18), index=True)
    name: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    listed_on: Mapped[date] = mapped_column(Date)
    until: Mapped[date | None] = mapped_column(Date, nullable=True)


class CreditCheck(UUIDv7AuditBase):
    """Evidence of one check: which list version a company was checked against, and the outcome."""

    __tablename__ = "credit_checks"
    tender_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenders.id"), index=True)
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id"), index=True)
    bid_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("bids.id"), nullable=True)
    list_version_hash: Mapped[str] = mapped_column(String(64))
    listed: Mapped[bool] = mapped_column()
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    checked_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))


class DeadlineCheckpoint(UUIDv7AuditBase):
    """The ordered set of envelope hashes accepted by the deadline; only these can be opened."""

    __tablename__ = "deadline_checkpoints"
    tender_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenders.id"), unique=True)
    envelope_hashes: Mapped[list[str]] = mapped_column(JSON)
    set_root: Mapped[str] = mapped_column(String(64))  # RFC 9162 root over the sorted hashes
    ledger_index: Mapped[int] = mapped_column(BigInteger)
    checkpoint_note: Mapped[str] = mapped_column(Text)
    taken_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))


class OpeningHall(UUIDv7AuditBase):
    """The live opening of one tender; ``phase`` follows bidding.hall.Phase."""

    __tablename__ = "opening_halls"
    tender_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenders.id"), unique=True)
    phase: Mapped[str] = mapped_column(String(16))
    opened_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    window_ends_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    record: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    record_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    record_published_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    sign_deadline: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)  # opened | failed


class ShareRelease(UUIDv7AuditBase):
    """A custodian's released share for one bid (only after the decryption window)."""

    __tablename__ = "share_releases"
    __table_args__ = (UniqueConstraint("bid_id", "custodian_id"),)
    bid_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("bids.id"), index=True)
    custodian_id: Mapped[str] = mapped_column(String(64))
    share_index: Mapped[int] = mapped_column(Integer)
    # Wrapped under the platform data key like file keys; bad shares are identified on recovery.
    wrapped_value: Mapped[bytes] = mapped_column(LargeBinary)
    released_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    released_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    bad: Mapped[bool] = mapped_column(default=False)


class RecordResponse(UUIDv7AuditBase):
    """A bidder's signature of the opening record, or an objection (异议) and the staff answer."""

    __tablename__ = "record_responses"
    tender_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenders.id"), index=True)
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # signed | objection | silent
    record_sha256: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str | None] = mapped_column(String(100), nullable=True)
    text: Mapped[str | None] = mapped_column(Text, nullable=True)
    at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    answer: Mapped[str | None] = mapped_column(Text, nullable=True)
    answered_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)


class ContentRead(UUIDv7AuditBase):
    """One reading of a decrypted bid package (the access log of bid content): who, in which
    role, when.  Kept private to the tender's centre and the supervisors; the public ledger holds
    only a blinded commitment to each reading."""

    __tablename__ = "bid_content_reads"
    tender_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenders.id"), index=True)
    bid_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("bids.id"), index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
