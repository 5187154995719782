"""The deadline checkpoint: the set of accepted envelopes when bidding closes, on the ledger;
only these can ever be opened."""

from __future__ import annotations

import dataclasses

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.models import Bid, BidState, DeadlineCheckpoint
from tenderhall.clock import Clock
from tenderhall.ledger import merkle
from tenderhall.ledger.service import Ledger
from tenderhall.tenders.models import Tender


@dataclasses.dataclass(eq=False)
class DeadlineCheckpoints:
    clock: Clock
    ledger: Ledger

    async def on_transition(self, db: AsyncSession, tender: Tender, transition: str) -> None:
        if transition == "close":
            await self.deadline_checkpoint(db, tender)

    async def deadline_checkpoint(self, db: AsyncSession, tender: Tender) -> DeadlineCheckpoint:
        """Record the set of accepted envelopes at the deadline; only these can ever be opened."""
        rows = await db.execute(
            select(Bid.envelope_sha256).where(
                Bid.tender_id == tender.id, Bid.state == BidState.SUBMITTED.value
            )
        )
        hashes = sorted(rows.scalars())
        root = merkle.root_of(merkle.leaf_hash(bytes.fromhex(h)) for h in hashes).hex()
        appended = await self.ledger.append(
            db,
            "bids.deadline_checkpoint",
            {"tender": str(tender.id), "reference": tender.reference, "envelopes": hashes, "root": root},
            subject=f"tender:{tender.id}",
        )
        checkpoint = await self.ledger.checkpoint(db, f"tender {tender.reference} deadline envelopes")
        row = DeadlineCheckpoint(
            tender_id=tender.id,
            envelope_hashes=hashes,
            set_root=root,
            ledger_index=appended.index,
            checkpoint_note=checkpoint.note,
            taken_at=self.clock.now(),
        )
        db.add(row)
        await db.flush()
        return row
