"""评定分离 after the report: candidate publicity, objections and answers, the tenderer's
decision and the supervisor's filing, the award and result notices."""

from __future__ import annotations

import uuid

import msgspec
from litestar import Controller, Response, get, post
from sqlalchemy.ext.asyncio import AsyncSession

from evaluation.api.deps import deliver
from evaluation.api.inputs import ChoiceIn, FileIn, TextIn
from evaluation.api.schemas import DecisionOut, NoticeOut, ObjectionOut, PublicityOut
from evaluation.models import AwardNotice, Objection, TendererDecision
from evaluation.service import Evaluation
from tenderhall.auth.policy import Subject
from tenderhall.services import Services
from tenderhall.web.openapi import PUBLIC


def objection_out(o: Objection) -> ObjectionOut:
    return ObjectionOut(
        id=o.id,
        company_id=o.company_id,
        text=o.text,
        raised_at=o.raised_at.isoformat(),
        answer=o.answer,
        answered_at=o.answered_at.isoformat() if o.answered_at else None,
    )


def decision_out(d: TendererDecision) -> DecisionOut:
    return DecisionOut(
        method=d.method,
        company_id=d.company_id,
        votes=d.votes,
        reason=d.reason,
        supervisor_status=d.supervisor_status,
        supervisor_note=d.supervisor_note,
    )


def notice_out(n: AwardNotice) -> NoticeOut:
    return NoticeOut(
        company_id=n.company_id, kind=n.kind, content=n.content, issued_at=n.issued_at.isoformat()
    )


class AwardController(Controller):
    path = "/api/v1/tenders/{tender_id:uuid}/evaluation"
    tags = ["evaluation"]

    @get("/publicity", summary="Candidate publicity (public)", opt=PUBLIC)
    async def publicity(
        self, tender_id: uuid.UUID, who: Subject, evaluation: Evaluation, db_session: AsyncSession
    ) -> PublicityOut:
        return msgspec.convert(await evaluation.awards.publicity(db_session, who, tender_id), PublicityOut)

    @post("/objections", summary="A bidder's objection during publicity")
    async def object(
        self,
        tender_id: uuid.UUID,
        data: TextIn,
        who: Subject,
        evaluation: Evaluation,
        db_session: AsyncSession,
    ) -> ObjectionOut:
        return objection_out(await evaluation.awards.object(db_session, who, tender_id, data.text))

    @get("/objections", summary="Objections (a bidder sees its own)")
    async def objections(
        self, tender_id: uuid.UUID, who: Subject, evaluation: Evaluation, db_session: AsyncSession
    ) -> list[ObjectionOut]:
        return [objection_out(o) for o in await evaluation.awards.objections(db_session, who, tender_id)]

    @post("/objections/{objection_id:uuid}/answer", summary="The tenderer answers an objection")
    async def answer(
        self,
        tender_id: uuid.UUID,
        objection_id: uuid.UUID,
        data: TextIn,
        who: Subject,
        services: Services,
        evaluation: Evaluation,
        db_session: AsyncSession,
    ) -> Response[ObjectionOut]:
        o = await evaluation.awards.answer(db_session, who, tender_id, objection_id, data.text)
        return Response(objection_out(o), status_code=201, background=deliver(evaluation, services))

    @post("/decision", summary="评定分离: the tenderer chooses among the candidates by the tender's method")
    async def decide(
        self,
        tender_id: uuid.UUID,
        data: ChoiceIn,
        who: Subject,
        evaluation: Evaluation,
        db_session: AsyncSession,
    ) -> DecisionOut:
        return decision_out(
            await evaluation.awards.decide(
                db_session, who, tender_id, data.company_id, data.reason, data.votes
            )
        )

    @get("/decision", summary="The tenderer's decision and its filing")
    async def decision(
        self, tender_id: uuid.UUID, who: Subject, evaluation: Evaluation, db_session: AsyncSession
    ) -> DecisionOut:
        return decision_out(await evaluation.awards.decision(db_session, who, tender_id))

    @post("/decision/file", summary="Supervisor files (or returns) the decision")
    async def file(
        self,
        tender_id: uuid.UUID,
        data: FileIn,
        who: Subject,
        evaluation: Evaluation,
        db_session: AsyncSession,
    ) -> DecisionOut:
        return decision_out(await evaluation.awards.file(db_session, who, tender_id, data.accept, data.note))

    @post("/award", summary="Issue the award notice and the result notices")
    async def award(
        self,
        tender_id: uuid.UUID,
        who: Subject,
        services: Services,
        evaluation: Evaluation,
        db_session: AsyncSession,
    ) -> Response[list[NoticeOut]]:
        notices = await evaluation.awards.issue(db_session, who, tender_id)
        return Response(
            [notice_out(n) for n in notices], status_code=201, background=deliver(evaluation, services)
        )

    @get("/notices", summary="Award and result notices (public after the award)", opt=PUBLIC)
    async def notices(
        self, tender_id: uuid.UUID, who: Subject, evaluation: Evaluation, db_session: AsyncSession
    ) -> list[NoticeOut]:
        return [notice_out(n) for n in await evaluation.awards.notices(db_session, who, tender_id)]
