"""What the committee's workspace reads, as plain functions shared by the services that act on it
(qualification and scoring, price adjustments, the report): the tender as a member may see it,
the member's own seat, the active members, the opened bids, the qualification majority and the
revealed scores.  Nothing here writes.
"""

from __future__ import annotations

import uuid
from collections import Counter
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from evaluation import ranking as rk
from evaluation import result as res
from evaluation.access import active_seat, evaluation_resource, label
from evaluation.drawing import Draws
from evaluation.models import (
    CommitteeSeat,
    EvaluationBid,
    OutlierReason,
    QualificationReview,
    ScoreSheet,
    SeatStatus,
)
from tenderhall.auth.policy import Subject, enforce
from tenderhall.errors import NotFound
from tenderhall.services import Services
from tenderhall.tenders.models import Tender


async def tender_for(
    services: Services, db: AsyncSession, who: Subject, tender_id: uuid.UUID, action: str
) -> Tender:
    """The tender, locked, once the policy grants ``action``; hidden (404) from whoever may not
    even see the evaluation's progress."""
    tender = await services.tenders.load(db, Subject(role=None), tender_id, "tender.view", lock=True)
    resource = await evaluation_resource(services, db, tender, who)
    enforce(who, action, resource, hide="evaluation.progress.view")
    return tender


async def my_seat(db: AsyncSession, tender: Tender, who: Subject) -> CommitteeSeat:
    seat = await active_seat(db, tender.id, who.user_id)
    if seat is None:  # the policy already refused; kept for the type checker
        raise NotFound("error.not_found", kind="seat")
    return seat


async def members(db: AsyncSession, tender_id: uuid.UUID) -> list[CommitteeSeat]:
    return list(
        await db.scalars(
            select(CommitteeSeat)
            .where(CommitteeSeat.tender_id == tender_id, CommitteeSeat.status == SeatStatus.ACTIVE.value)
            .order_by(CommitteeSeat.seat_no)
        )
    )


async def bids(db: AsyncSession, tender_id: uuid.UUID) -> list[EvaluationBid]:
    return list(
        await db.scalars(
            select(EvaluationBid)
            .where(EvaluationBid.tender_id == tender_id)
            .order_by(EvaluationBid.company_id)
        )
    )


def price_rejections(tender: Tender, rows: list[EvaluationBid]) -> dict[str, dict[str, str]]:
    return res.price_rejections({str(b.company_id): Decimal(b.price) for b in rows}, tender.estimate_fen)


async def rejections(db: AsyncSession, tender: Tender) -> dict[str, dict[str, str]]:
    """Bids rejected by rule, by bidder id, with their ground and article (no vote needed)."""
    return price_rejections(tender, await bids(db, tender.id))


async def qualification(db: AsyncSession, tender_id: uuid.UUID) -> dict[uuid.UUID, bool] | None:
    """Majority per bidder once every member reviewed every bid, else None.  A bid rejected by
    rule (``rejections``) fails whatever the votes, and needs none."""
    tender = await db.get(Tender, tender_id)
    assert tender is not None
    seats = await members(db, tender_id)
    rows = await bids(db, tender_id)
    rejected = price_rejections(tender, rows)
    reviews = list(
        await db.scalars(select(QualificationReview).where(QualificationReview.tender_id == tender_id))
    )
    ids = {m.id for m in seats}
    votes: dict[uuid.UUID, Counter[bool]] = {
        b.company_id: Counter() for b in rows if str(b.company_id) not in rejected
    }
    for r in reviews:
        if r.seat_id in ids and r.company_id in votes:
            votes[r.company_id][r.passed] += 1
    if any(sum(v.values()) < len(seats) for v in votes.values()):
        return None
    passed = {c: v[True] > v[False] for c, v in votes.items()}
    return {b.company_id: passed.get(b.company_id, False) for b in rows}


async def scores(db: AsyncSession, tender: Tender) -> list[rk.ExpertScore] | None:
    """Every member's revealed scores, or None while any sheet is still sealed."""
    seats = {m.id: m for m in await members(db, tender.id)}
    sheets = [
        s
        for s in await db.scalars(select(ScoreSheet).where(ScoreSheet.tender_id == tender.id))
        if s.seat_id in seats
    ]
    if len(sheets) != len(seats) or any(s.sheet is None for s in sheets):
        return None
    out = []
    for s in sheets:
        assert s.sheet is not None
        m = label(seats[s.seat_id])
        out += [rk.ExpertScore(m, e["bidder"], e["item"], Decimal(e["score"])) for e in s.sheet["scores"]]
    return out


async def outliers(db: AsyncSession, tender: Tender, draws: Draws) -> list[tuple[str, str, str]]:
    """(member, bidder, item) of every score far from the committee median (the plan's threshold;
    the plan is read only once every sheet is revealed)."""
    revealed = await scores(db, tender)
    if revealed is None:
        return []
    plan = await draws.plan(db, tender.id)
    return res.outliers(revealed, tender.rubric, Decimal(plan.outlier_threshold_pct))


async def missing_reasons(db: AsyncSession, tender: Tender, draws: Draws) -> list[tuple[str, str, str]]:
    seats = {m.id: label(m) for m in await members(db, tender.id)}
    given = {
        (seats.get(r.seat_id), str(r.company_id), r.item)
        for r in await db.scalars(select(OutlierReason).where(OutlierReason.tender_id == tender.id))
    }
    return [o for o in await outliers(db, tender, draws) if o not in given]
