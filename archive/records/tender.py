"""Every stage's records of one tender, gathered in one read."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from tenderhall.errors import NotFound
from tenderhall.tenders.models import Tender

from . import bidding, collusion, evaluation, kernel, ledger
from .common import Edition


@dataclass(frozen=True)
class TenderArchive:
    edition: Edition
    locale: str
    built_at: datetime
    kernel: kernel.KernelRecords
    bidding: bidding.BiddingRecords
    evaluation: evaluation.EvaluationRecords
    alerts: tuple[collusion.AlertRecord, ...]
    ledger: ledger.LedgerRecords


async def gather(
    db: AsyncSession, tender_id: uuid.UUID, *, edition: Edition, locale: str, now: datetime
) -> TenderArchive:
    tender = await db.get(Tender, tender_id)
    if tender is None:
        raise NotFound("error.not_found", kind="tender")
    bids = await bidding.gather(db, tender, edition)
    evaluated = await evaluation.gather(db, tender, edition)
    extra = [s.ledger_index for s in bids.submissions]
    extra += [d.commitment_index for d in evaluated.draws if d.commitment_index is not None]
    if bids.checkpoint is not None:
        extra.append(bids.checkpoint.ledger_index)
    return TenderArchive(
        edition,
        locale,
        now,
        await kernel.gather(db, tender),
        bids,
        evaluated,
        await collusion.gather(db, tender, edition, locale),
        await ledger.gather(db, tender, extra),
    )
