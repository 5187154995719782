"""Price adjustments for 经评审的最低投标价法 (lowest evaluated price).

The committee turns each compliant bid price into an evaluated price under the adjustment
criteria published in the tender documents (deviations, missing items, arithmetic corrections,
payment terms).  Any member proposes an adjustment (bid, amount, reason); every member votes, the
proposer's own vote included; an adjustment counts once more than half of the committee agrees
and is dropped once half or more disagrees.  The report waits until none is pending.  The
public ledger gets a digest of each proposal, not its content, like the score sheets.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from evaluation import committee
from evaluation import price_score as ps
from evaluation.access import label
from evaluation.hashrng import canonical_json, sha256_hex
from evaluation.models import AdjustmentVote, CommitteeReport, CommitteeSeat, PriceAdjustment
from tenderhall.auth.policy import Subject
from tenderhall.bounds import OutOfBounds, parse_yuan
from tenderhall.errors import Conflict, InvalidInput, NotFound
from tenderhall.services import Services

METHOD = "lowest_evaluated_price"


class Outcome(StrEnum):
    PENDING = "pending"
    ADOPTED = "adopted"
    REJECTED = "rejected"


def outcome(agree: int, disagree: int, members: int) -> Outcome:
    if 2 * agree > members:
        return Outcome.ADOPTED
    if 2 * disagree >= members:
        return Outcome.REJECTED
    return Outcome.PENDING


def parse_amount(raw: str) -> Decimal:
    """A non-zero amount in yuan with at most two decimals (fen), within the money bounds."""
    try:
        value = parse_yuan(raw.strip(), signed=True)
    except (OutOfBounds, AttributeError):
        raise InvalidInput("adjustment.amount_invalid") from None
    if value == 0:
        raise InvalidInput("adjustment.amount_invalid")
    return value


@dataclass(frozen=True)
class AdjustmentView:
    row: PriceAdjustment
    member: str  # the proposer's seat label
    agree: int
    disagree: int
    outcome: Outcome
    votes: dict[str, bool]  # seat label -> agree


class Adjustments:
    def __init__(self, services: Services) -> None:
        self.services = services

    async def _open(
        self, db: AsyncSession, who: Subject, tender_id: uuid.UUID
    ) -> tuple[uuid.UUID, CommitteeSeat]:
        tender = await committee.tender_for(self.services, db, who, tender_id, "evaluation.score")
        seat = await committee.my_seat(db, tender, who)
        if (tender.rubric or {}).get("price_method") != METHOD:
            raise Conflict("adjustment.not_this_method")
        if await db.scalar(select(CommitteeReport.id).where(CommitteeReport.tender_id == tender.id)):
            raise Conflict("adjustment.closed")
        return tender.id, seat

    async def propose(
        self,
        db: AsyncSession,
        who: Subject,
        tender_id: uuid.UUID,
        company_id: uuid.UUID,
        amount: str,
        reason: str,
    ) -> AdjustmentView:
        tid, seat = await self._open(db, who, tender_id)
        value = parse_amount(amount)
        if not reason.strip():
            raise InvalidInput("adjustment.reason_required")
        qualified = await committee.qualification(db, tid)
        if qualified is None:
            raise Conflict("scoring.qualification_pending")
        if company_id not in qualified:
            raise NotFound("error.not_found", kind="bid")
        if not qualified[company_id]:
            raise Conflict("adjustment.bid_not_qualified")
        row = PriceAdjustment(
            tender_id=tid,
            company_id=company_id,
            proposed_by=seat.id,
            amount=str(value),
            reason=reason.strip(),
        )
        db.add(row)
        await db.flush()
        db.add(AdjustmentVote(adjustment_id=row.id, seat_id=seat.id, agree=True))
        await db.flush()
        digest = sha256_hex(
            canonical_json({"bidder": str(company_id), "amount": str(value), "reason": row.reason})
        )
        await self.services.ledger.append(
            db,
            "adjustment.proposed",
            {"tender": str(tid), "adjustment": str(row.id), "member": label(seat), "sha256": digest},
            subject=f"tender:{tid}",
        )
        return await self._view(db, tid, row)

    async def vote(
        self, db: AsyncSession, who: Subject, tender_id: uuid.UUID, adjustment_id: uuid.UUID, agree: bool
    ) -> AdjustmentView:
        tid, seat = await self._open(db, who, tender_id)
        row = await db.get(PriceAdjustment, adjustment_id)
        if row is None or row.tender_id != tid:
            raise NotFound("error.not_found", kind="adjustment")
        before = await self._view(db, tid, row)
        if before.outcome is not Outcome.PENDING:
            raise Conflict("adjustment.decided", outcome=before.outcome.value)
        if label(seat) in before.votes:
            raise Conflict("adjustment.already_voted")
        db.add(AdjustmentVote(adjustment_id=row.id, seat_id=seat.id, agree=agree))
        await db.flush()
        after = await self._view(db, tid, row)
        await self.services.ledger.append(
            db,
            "adjustment.voted",
            {
                "tender": str(tid),
                "adjustment": str(row.id),
                "member": label(seat),
                "agree": agree,
                "outcome": after.outcome.value,
            },
            subject=f"tender:{tid}",
        )
        return after

    async def _view(self, db: AsyncSession, tender_id: uuid.UUID, row: PriceAdjustment) -> AdjustmentView:
        members = await committee.members(db, tender_id)
        return next(v for v in await views(db, tender_id, members) if v.row.id == row.id)

    async def listing(self, db: AsyncSession, who: Subject, tender_id: uuid.UUID) -> list[AdjustmentView]:
        tender = await committee.tender_for(self.services, db, who, tender_id, "evaluation.progress.view")
        return await views(db, tender.id, await committee.members(db, tender.id))


async def views(db: AsyncSession, tender_id: uuid.UUID, seats: list[CommitteeSeat]) -> list[AdjustmentView]:
    """Every proposal with its votes and outcome; only the current members' votes count."""
    members = {m.id: m for m in seats}
    rows = list(
        await db.scalars(
            select(PriceAdjustment).where(PriceAdjustment.tender_id == tender_id).order_by(PriceAdjustment.id)
        )
    )
    votes: dict[uuid.UUID, dict[str, bool]] = defaultdict(dict)
    if rows:
        for v in await db.scalars(
            select(AdjustmentVote).where(AdjustmentVote.adjustment_id.in_([r.id for r in rows]))
        ):
            if v.seat_id in members:
                votes[v.adjustment_id][label(members[v.seat_id])] = v.agree
    out = []
    for r in rows:
        mine = votes[r.id]
        agree = sum(mine.values())
        disagree = len(mine) - agree
        proposer = await db.get(CommitteeSeat, r.proposed_by)
        out.append(
            AdjustmentView(
                r,
                label(proposer) if proposer else "",
                agree,
                disagree,
                outcome(agree, disagree, len(members)),
                dict(sorted(mine.items())),
            )
        )
    return out


async def adopted_adjustments(
    db: AsyncSession, tender_id: uuid.UUID, seats: list[CommitteeSeat]
) -> dict[str, tuple[ps.Adjustment, ...]]:
    """Adopted adjustments per bidder; Conflict while any proposal is still undecided."""
    found: dict[str, list[ps.Adjustment]] = defaultdict(list)
    for v in await views(db, tender_id, seats):
        if v.outcome is Outcome.PENDING:
            raise Conflict("adjustment.pending")
        if v.outcome is Outcome.ADOPTED:
            found[str(v.row.company_id)].append(ps.Adjustment(v.row.reason, Decimal(v.row.amount)))
    return {k: tuple(a) for k, a in found.items()}
