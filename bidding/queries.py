"""Reads every bidding use case shares, as plain functions of the session (no service state)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.models import Bid, BidderKey, BidState, DeadlineCheckpoint, KeyStatus, OpeningHall, TenderRemedy
from tenderhall.auth.policy import Subject
from tenderhall.errors import InvalidInput
from tenderhall.orgs.models import Company
from tenderhall.tenders.models import Tender


async def remedy(db: AsyncSession, tender_id: uuid.UUID) -> TenderRemedy | None:
    """The tender's custodian remedy (k of n), if it has one."""
    return await db.scalar(select(TenderRemedy).where(TenderRemedy.tender_id == tender_id))


async def active_key(db: AsyncSession, company_id: uuid.UUID) -> BidderKey | None:
    return await db.scalar(
        select(BidderKey).where(
            BidderKey.company_id == company_id, BidderKey.status == KeyStatus.ACTIVE.value
        )
    )


async def company_of(db: AsyncSession, who: Subject) -> Company:
    """The acting bidder's company; refused for a user without one."""
    company = await db.get(Company, who.company_id) if who.company_id else None
    if company is None:
        raise InvalidInput("user.bidder_needs_company")
    return company


async def hall_of(db: AsyncSession, tender: Tender) -> OpeningHall | None:
    return await db.scalar(select(OpeningHall).where(OpeningHall.tender_id == tender.id))


def _counts(bid: Bid, allowed: set[str] | list[str]) -> bool:
    return (
        bid.envelope_sha256 in allowed
        and bid.state != BidState.SUPERSEDED.value
        and (bid.withdrawn_at is None or bid.state != BidState.WITHDRAWN.value)
    )


async def participants(db: AsyncSession, tender: Tender) -> list[Bid]:
    """Bids in the deadline checkpoint: the only ones the hall can open."""
    cp = await db.scalar(select(DeadlineCheckpoint).where(DeadlineCheckpoint.tender_id == tender.id))
    if cp is None:
        return []
    allowed = set(cp.envelope_hashes)
    rows = await db.execute(
        select(Bid)
        .where(Bid.tender_id == tender.id, Bid.state != BidState.SUPERSEDED.value)
        .order_by(Bid.submitted_at, Bid.id)
    )
    return [b for b in rows.scalars() if _counts(b, allowed)]


async def in_checkpoint(db: AsyncSession, tender: Tender, bid: Bid) -> bool:
    """Whether ``bid`` is one of :func:`participants`, without loading every bid."""
    hashes = await db.scalar(
        select(DeadlineCheckpoint.envelope_hashes).where(DeadlineCheckpoint.tender_id == tender.id)
    )
    return hashes is not None and _counts(bid, hashes)
