"""What the detector needs from bidding: the opened bids of a tender with their submission evidence."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class BidEvidence:
    """One opened bid with the submission evidence captured by bidding (DESIGN §4)."""

    company_id: uuid.UUID
    price: float  # read-out price (唱标价), yuan
    is_winner: bool = False
    source_ip: str = ""
    device_fingerprint: str = ""
    bond_payer_account: str = ""
    doc_author: str = ""
    doc_tool: str = ""
    doc_created: dt.datetime | None = None
    doc_text: str = ""  # extracted text of the bid document (not stored: only its signature is)
    doc_signature: tuple[int, ...] = ()  # similarity.doc_signatures() row, if bidding computes it
    agent: str = ""  # person id (hash) who handled the bid
    project_managers: tuple[str, ...] = ()
    contacts: tuple[str, ...] = ()
    error_signatures: tuple[str, ...] = ()
    documents: tuple[str, ...] = ()  # names/hashes of the documents, for the evidence view


class BidEvidenceSource(Protocol):
    async def opened_bid_evidence(self, db: AsyncSession, tender_id: uuid.UUID) -> Sequence[BidEvidence]:
        """Every bid of the tender decrypted in the hall (not withdrawn, revoked or superseded)."""
        ...


class HistorySource:
    """Until bidding offers its source: the tender's bids are rows already in the history
    (imported, seeded by the demo or inserted by tests)."""

    async def opened_bid_evidence(self, db: AsyncSession, tender_id: uuid.UUID) -> Sequence[BidEvidence]:
        return []
