"""What evaluation needs from bidding: the opened bids of a tender.

`OpenedBidSource` is the read interface; bidding implements it (`bidding.opened.OpenedBids`,
wired in by `evaluation.plugin.providers` from ``services.get(Bidding)``), and `OpenedBid`
is bidding's record of one opened bid, re-exported here (the import goes evaluation → bidding).
Evaluation snapshots the answer into its own `evaluation_bids` table when evaluation starts, so
the committee scores a fixed set and the snapshot's hash is in the ledger.  `StoredSource` reads
snapshot rows already present (evaluation used alone, e.g. with fixture rows).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.opened import OpenedBid
from evaluation.models import EvaluationBid

__all__ = ["OpenedBid", "OpenedBidSource", "StoredSource", "snapshot"]


class OpenedBidSource(Protocol):
    async def opened_bids(self, db: AsyncSession, tender_id: uuid.UUID) -> Sequence[OpenedBid]:
        """Every bid of the tender decrypted in the hall (not withdrawn, revoked or superseded)."""
        ...


class StoredSource:
    """Reads the snapshot rows already present (evaluation without bidding, e.g. fixture rows)."""

    async def opened_bids(self, db: AsyncSession, tender_id: uuid.UUID) -> Sequence[OpenedBid]:
        rows = await db.scalars(select(EvaluationBid).where(EvaluationBid.tender_id == tender_id))
        return [
            OpenedBid(r.company_id, Decimal(r.price), r.is_sme, dict(r.form), dict(r.evidence)) for r in rows
        ]


async def snapshot(db: AsyncSession, tender_id: uuid.UUID, bids: Sequence[OpenedBid]) -> list[EvaluationBid]:
    """Store (or keep) one `EvaluationBid` per opened bid; returns the rows sorted by company."""
    existing = {
        r.company_id: r
        for r in await db.scalars(select(EvaluationBid).where(EvaluationBid.tender_id == tender_id))
    }
    for bid in bids:
        if bid.company_id not in existing:
            row = EvaluationBid(
                tender_id=tender_id,
                company_id=bid.company_id,
                price=str(bid.price),
                is_sme=bid.is_sme,
                form=dict(bid.form),
                evidence=dict(bid.evidence),
            )
            db.add(row)
            existing[bid.company_id] = row
    await db.flush()
    return sorted(existing.values(), key=lambda r: str(r.company_id))
