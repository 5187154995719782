"""The committee report of one tender: drafted by staff, signed or dissented from by members,
then closed (silence is assent), which publishes the candidates."""

from __future__ import annotations

import uuid

from litestar import Controller, get, post
from sqlalchemy.ext.asyncio import AsyncSession

from evaluation.api.inputs import SignIn
from evaluation.api.schemas import DraftOut, FinalizeOut, ReportOut, SignatureOut, SignOut
from evaluation.service import Evaluation
from tenderhall.auth.policy import Subject


class ReportController(Controller):
    path = "/api/v1/tenders/{tender_id:uuid}/evaluation/report"
    tags = ["evaluation"]

    @post("/", summary="Draft the committee report from the revealed scores (staff)")
    async def draft(
        self, tender_id: uuid.UUID, who: Subject, evaluation: Evaluation, db_session: AsyncSession
    ) -> DraftOut:
        r = await evaluation.reports.draft_report(db_session, who, tender_id)
        return DraftOut(sha256=r.content_sha256, content=r.content)

    @get("/", summary="The committee report (members by seat)")
    async def report(
        self, tender_id: uuid.UUID, who: Subject, evaluation: Evaluation, db_session: AsyncSession
    ) -> ReportOut:
        r, signatures = await evaluation.reports.report(db_session, who, tender_id)
        return ReportOut(
            sha256=r.content_sha256,
            content=r.content,
            finalized_at=r.finalized_at.isoformat() if r.finalized_at else None,
            signatures=[SignatureOut(member=m, verdict=s.verdict, reason=s.reason) for m, s in signatures],
        )

    @post("/sign", summary="Sign the report, or dissent with reasons")
    async def sign(
        self,
        tender_id: uuid.UUID,
        data: SignIn,
        who: Subject,
        evaluation: Evaluation,
        db_session: AsyncSession,
    ) -> SignOut:
        s = await evaluation.reports.sign(db_session, who, tender_id, data.dissent, data.reason, data.sha256)
        return SignOut(verdict=s.verdict)

    @post("/finalize", summary="Close signing (silence is assent) and publish the candidates")
    async def finalize(
        self, tender_id: uuid.UUID, who: Subject, evaluation: Evaluation, db_session: AsyncSession
    ) -> FinalizeOut:
        r = await evaluation.reports.finalize(db_session, who, tender_id)
        return FinalizeOut(sha256=r.content_sha256, candidates=r.content["candidates"])
