"""Bids as the policy sees them: who may see or act on a bid, including the tender's committee."""

from __future__ import annotations

import dataclasses

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.models import Bid
from bidding.ports import CommitteeLookup
from tenderhall.auth.policy import Resource, Subject, enforce
from tenderhall.auth.roles import Role
from tenderhall.errors import NotFound
from tenderhall.tenders.models import Tender
from tenderhall.tenders.service import Tenders

# (db, tender id, user id) -> does the user hold an active seat on the tender's committee?


class BidAccess:
    """Who sits on a tender's evaluation committee is evaluation's answer; the composition root
    registers it (``committee``), so bidding's policy objects can name the committee (the import
    goes evaluation → bidding only).  Without it, no expert ever reads a bid."""

    def __init__(self, tenders: Tenders, committee: CommitteeLookup | None = None) -> None:
        self.tenders = tenders
        self.committee = committee

    async def bid_resource(self, db: AsyncSession, tender: Tender, bid: Bid, who: Subject) -> Resource:
        """The bid as the policy sees it; ``user_id`` is the asker's only if the asker holds an
        active seat on the tender's evaluation committee (so SELF reads "my committee")."""
        base = await self.tenders.resource(db, tender, who)
        member = (
            who.role in (Role.EXPERT, Role.TENDERER)  # experts, and the tenderer's representatives
            and who.user_id is not None
            and self.committee is not None
            and await self.committee(db, tender.id, who.user_id)
        )
        return dataclasses.replace(
            base, kind="bid", company_id=bid.company_id, user_id=who.user_id if member else None
        )

    async def own_bid(self, db: AsyncSession, who: Subject, tender: Tender, bid_ref: str, action: str) -> Bid:
        """A bid the subject may act on; 404 when it may not even see it (another company's)."""
        bid = await db.scalar(select(Bid).where(Bid.tender_id == tender.id, Bid.bid_ref == bid_ref))
        if bid is None:
            raise NotFound("error.not_found", kind="bid")
        enforce(who, action, await self.bid_resource(db, tender, bid, who), hide="bid.view")
        return bid
