"""The remote evaluation workspace of one tender: start, progress, the opened bids, qualification
reviews, commit-reveal score sheets, outlier reasons, price adjustments and score statistics.
Members appear by seat ("M3")."""

from __future__ import annotations

import uuid

import msgspec
from litestar import Controller, get, post
from sqlalchemy.ext.asyncio import AsyncSession

from evaluation.adjustments import AdjustmentView
from evaluation.api.inputs import AdjustmentIn, CommitIn, ReasonIn, RevealSheetIn, ReviewIn, VoteIn
from evaluation.api.schemas import (
    AdjustmentOut,
    BidOut,
    CommitOut,
    ProgressOut,
    ReasonOut,
    RevealOut,
    ReviewOut,
    StartOut,
    StatisticsOut,
)
from evaluation.service import Evaluation
from tenderhall.auth.policy import Subject


def adjustment_out(v: AdjustmentView) -> AdjustmentOut:
    return AdjustmentOut(
        id=v.row.id,
        bidder=v.row.company_id,
        amount=v.row.amount,
        reason=v.row.reason,
        proposed_by=v.member,
        agree=v.agree,
        disagree=v.disagree,
        votes=v.votes,
        outcome=v.outcome,
    )


class WorkspaceController(Controller):
    path = "/api/v1/tenders/{tender_id:uuid}/evaluation"
    tags = ["evaluation"]

    @post("/start", summary="Start evaluation: snapshot the opened bids (staff)")
    async def start(
        self, tender_id: uuid.UUID, who: Subject, evaluation: Evaluation, db_session: AsyncSession
    ) -> StartOut:
        t = await evaluation.workspace.start(db_session, who, tender_id)
        return StartOut(state=t.state)

    @get("/progress", summary="Who has reviewed, committed and revealed (by seat)")
    async def progress(
        self, tender_id: uuid.UUID, who: Subject, evaluation: Evaluation, db_session: AsyncSession
    ) -> ProgressOut:
        view = await evaluation.workspace.progress(db_session, who, tender_id)
        return msgspec.convert(view, ProgressOut)

    @get("/bids", summary="The opened bids (committee only)")
    async def bids(
        self, tender_id: uuid.UUID, who: Subject, evaluation: Evaluation, db_session: AsyncSession
    ) -> list[BidOut]:
        return msgspec.convert(
            await evaluation.workspace.bid_documents(db_session, who, tender_id), list[BidOut]
        )

    @post("/qualification", summary="A member's qualification review of one bid")
    async def review(
        self,
        tender_id: uuid.UUID,
        data: ReviewIn,
        who: Subject,
        evaluation: Evaluation,
        db_session: AsyncSession,
    ) -> ReviewOut:
        r = await evaluation.scoring.review(
            db_session, who, tender_id, data.company_id, data.passed, data.reason
        )
        return ReviewOut(company_id=r.company_id, passed=r.passed)

    @post("/scores/commit", summary="Commit the SHA-256 of the canonical score sheet")
    async def commit(
        self,
        tender_id: uuid.UUID,
        data: CommitIn,
        who: Subject,
        evaluation: Evaluation,
        db_session: AsyncSession,
    ) -> CommitOut:
        s = await evaluation.scoring.commit(db_session, who, tender_id, data.digest)
        return CommitOut(digest=s.digest, late=s.late)

    @post("/scores/reveal", summary="Reveal the sheet (only once every member committed)")
    async def reveal(
        self,
        tender_id: uuid.UUID,
        data: RevealSheetIn,
        who: Subject,
        evaluation: Evaluation,
        db_session: AsyncSession,
    ) -> RevealOut:
        s = await evaluation.scoring.reveal(db_session, who, tender_id, data.sheet)
        return RevealOut(digest=s.digest, revealed=True)

    @post("/scores/reasons", summary="Written reason for a score far from the committee median")
    async def reason(
        self,
        tender_id: uuid.UUID,
        data: ReasonIn,
        who: Subject,
        evaluation: Evaluation,
        db_session: AsyncSession,
    ) -> ReasonOut:
        r = await evaluation.scoring.give_reason(
            db_session, who, tender_id, data.company_id, data.item, data.reason
        )
        return ReasonOut(item=r.item, company_id=r.company_id)

    @post("/adjustments", summary="经评审的最低投标价法: a member proposes a price adjustment")
    async def propose_adjustment(
        self,
        tender_id: uuid.UUID,
        data: AdjustmentIn,
        who: Subject,
        evaluation: Evaluation,
        db_session: AsyncSession,
    ) -> AdjustmentOut:
        return adjustment_out(
            await evaluation.adjustments.propose(
                db_session, who, tender_id, data.company_id, data.amount, data.reason
            )
        )

    @post("/adjustments/{adjustment_id:uuid}/vote", summary="A member agrees or disagrees with an adjustment")
    async def vote_adjustment(
        self,
        tender_id: uuid.UUID,
        adjustment_id: uuid.UUID,
        data: VoteIn,
        who: Subject,
        evaluation: Evaluation,
        db_session: AsyncSession,
    ) -> AdjustmentOut:
        return adjustment_out(
            await evaluation.adjustments.vote(db_session, who, tender_id, adjustment_id, data.agree)
        )

    @get("/adjustments", summary="Proposed price adjustments with votes and outcomes (by seat)")
    async def adjustments(
        self, tender_id: uuid.UUID, who: Subject, evaluation: Evaluation, db_session: AsyncSession
    ) -> list[AdjustmentOut]:
        return [adjustment_out(v) for v in await evaluation.adjustments.listing(db_session, who, tender_id)]

    @get("/statistics", summary="Per-member deviation, Kendall's W, outliers (staff, supervisors)")
    async def statistics(
        self, tender_id: uuid.UUID, who: Subject, evaluation: Evaluation, db_session: AsyncSession
    ) -> StatisticsOut:
        return msgspec.convert(
            await evaluation.workspace.statistics(db_session, who, tender_id), StatisticsOut
        )
