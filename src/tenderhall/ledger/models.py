"""Ledger storage: entries, perfect-subtree nodes, the head (size + compact range) and checkpoints."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, LargeBinary, String, Text
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
