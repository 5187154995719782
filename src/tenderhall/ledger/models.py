"""Ledger storage: entries, perfect-subtree nodes, the head (size + compact range), checkpoints and
witnessing (cosignatures this log got, and the witness role's latest cosigned checkpoint per log)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tenderhall.db.base import BigIntBase, DateTimeUTC, UUIDv7AuditBase


class LedgerEntry(BigIntBase):
    """One event; the primary key is its leaf index in the Merkle tree."""

    __tablename__ = "ledger_entries"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)  # leaf index
    kind: Mapped[str] = mapped_column(String(64), index=True)
    subject: Mapped[str | None] = mapped_column(String(80), index=True, nullable=True)
    body: Mapped[bytes] = mapped_column(LargeBinary)  # RFC 8785 canonical JSON
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LedgerNode(BigIntBase):
    """Hash of a perfect subtree; the primary key packs (level, index) so lookups use one index."""

    __tablename__ = "ledger_nodes"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LedgerHead(BigIntBase):
    """The single row every append locks: tree size and compact range, so appends read nothing else."""

    __tablename__ = "ledger_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger)
    frontier: Mapped[bytes] = mapped_column(LargeBinary)


class LedgerCheckpoint(UUIDv7AuditBase):
    __tablename__ = "ledger_checkpoints"
    size: Mapped[int] = mapped_column(BigInteger, index=True)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(String(120))
    signed_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))


class LedgerCosignature(UUIDv7AuditBase):
    """A witness's cosignature line on this log's checkpoint of ``size`` (C2SP tlog-cosignature)."""

    __tablename__ = "ledger_cosignatures"
    __table_args__ = (UniqueConstraint("size", "witness", name="uq_ledger_cosignatures_size_witness"),)
    size: Mapped[int] = mapped_column(BigInteger, index=True)
    witness: Mapped[str] = mapped_column(String(255))  # the witness's verifier key string
    line: Mapped[str] = mapped_column(Text)
    timestamp: Mapped[int] = mapped_column(BigInteger)


class LedgerWitnessState(UUIDv7AuditBase):
    """What this log knows of one witness it asks: the size it last cosigned, and failed attempts
    (a witness that is down is retried later with back-off; submissions never wait for it)."""

    __tablename__ = "ledger_witness_states"
    witness: Mapped[str] = mapped_column(String(255), unique=True)  # verifier key string
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    retry_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    cosigned_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)


class WitnessedLog(UUIDv7AuditBase):
    """The witness role: per log origin, the latest checkpoint this deployment cosigned."""

    __tablename__ = "witness_logs"
    origin: Mapped[str] = mapped_column(String(255), unique=True)
    size: Mapped[int] = mapped_column(BigInteger)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    # The checkpoint with the log's signature and this witness's cosignature, for monitors.
    note: Mapped[str] = mapped_column(Text)
