"""Expert draws and committee seats: the tender's evaluation plan, the draw request, the
supervisor's approval and random value, the public commitment and record, the seats (the
expert's answer and 回避声明, no-shows), and the tenderer's representatives."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec
from litestar import Controller, Response, get, post, put
from litestar.openapi.datastructures import ResponseSpec
from sqlalchemy.ext.asyncio import AsyncSession

from evaluation.api.deps import deliver
from evaluation.api.inputs import DecisionIn, DeclareIn, DrawIn, RepresentativeIn, RespondIn, RevealIn
from evaluation.api.schemas import (
    CommitmentOut,
    CommitteeSeatOut,
    DrawDecisionOut,
    DrawOut,
    DrawRecordOut,
    DrawRequestOut,
    DrawRevealOut,
    MySeatOut,
    PlanOut,
    SeatOut,
)
from evaluation.models import CommitteeSeat
from evaluation.service import Evaluation
from tenderhall.auth.policy import Subject
from tenderhall.errors import InvalidInput
from tenderhall.services import Services
from tenderhall.web.api.schemas import check_body
from tenderhall.web.openapi import PUBLIC


def seat_fields(s: CommitteeSeat) -> dict[str, Any]:
    """The fields every seat answer shares (members by seat label, never by name)."""
    return {
        "id": s.id,
        "tender_id": s.tender_id,
        "member": f"M{s.seat_no}",
        "kind": s.kind,
        "specialty": s.specialty,
        "status": s.status,
        "respond_by": s.respond_by.isoformat(),
        "declared_at": s.declared_at.isoformat() if s.declared_at else None,
    }


def seat_out(s: CommitteeSeat) -> SeatOut:
    return SeatOut(**seat_fields(s))


class DrawController(Controller):
    path = "/api/v1/draws"
    tags = ["evaluation"]

    @post("/{request_id:uuid}/decision", summary="Supervisor approves or rejects a request that bends a rule")
    async def decide(
        self,
        request_id: uuid.UUID,
        data: DecisionIn,
        who: Subject,
        evaluation: Evaluation,
        db_session: AsyncSession,
    ) -> DrawDecisionOut:
        req = await evaluation.draws.decide(db_session, who, request_id, data.approve, data.note)
        return DrawDecisionOut(id=req.id, status=req.status)

    @post("/{request_id:uuid}/reveal", summary="Supervisor supplies its random value; the draw runs")
    async def reveal(
        self,
        request_id: uuid.UUID,
        data: RevealIn,
        who: Subject,
        services: Services,
        evaluation: Evaluation,
        db_session: AsyncSession,
    ) -> Response[DrawRevealOut]:
        row = await evaluation.draws.reveal(db_session, who, request_id, data.value)
        body = DrawRevealOut(id=row.id, commitment=row.commitment_digest, record_sha256=row.record_sha256)
        return Response(body, status_code=201, background=deliver(evaluation, services))


class SeatController(Controller):
    path = "/api/v1/seats"
    tags = ["evaluation"]

    @get("/", summary="The signed-in expert's seats")
    async def mine(self, who: Subject, evaluation: Evaluation, db_session: AsyncSession) -> list[MySeatOut]:
        return [
            MySeatOut(**seat_fields(s), reference=t.reference, title=t.title)
            for s, t in await evaluation.draws.my_seats(db_session, who)
        ]

    @post("/{seat_id:uuid}/respond", summary="Accept or decline before the deadline")
    async def respond(
        self,
        seat_id: uuid.UUID,
        data: RespondIn,
        who: Subject,
        services: Services,
        evaluation: Evaluation,
        db_session: AsyncSession,
    ) -> Response[SeatOut]:
        seat = await evaluation.draws.respond(db_session, who, seat_id, data.accept, data.reason)
        return Response(seat_out(seat), status_code=201, background=deliver(evaluation, services))

    @post(
        "/{seat_id:uuid}/declaration",
        summary="The 回避声明: no conflict, or a conflict (triggers a replacement)",
    )
    async def declare(
        self,
        seat_id: uuid.UUID,
        data: DeclareIn,
        who: Subject,
        services: Services,
        evaluation: Evaluation,
        db_session: AsyncSession,
    ) -> Response[SeatOut]:
        seat = await evaluation.draws.declare(db_session, who, seat_id, data.conflict, data.statement)
        return Response(seat_out(seat), status_code=201, background=deliver(evaluation, services))

    @post("/{seat_id:uuid}/no-show", summary="Staff: the expert did not come; the next reserve is called")
    async def no_show(
        self,
        seat_id: uuid.UUID,
        who: Subject,
        services: Services,
        evaluation: Evaluation,
        db_session: AsyncSession,
    ) -> Response[SeatOut]:
        seat = await evaluation.draws.no_show(db_session, who, seat_id)
        return Response(seat_out(seat), status_code=201, background=deliver(evaluation, services))


class TenderDrawController(Controller):
    """The draw and the committee of one tender."""

    path = "/api/v1/tenders/{tender_id:uuid}/evaluation"
    tags = ["evaluation"]

    @put("/plan", summary="Evaluation settings of the tender (staff, before evaluation)")
    async def plan(
        self,
        tender_id: uuid.UUID,
        data: dict[str, Any],
        who: Subject,
        evaluation: Evaluation,
        db_session: AsyncSession,
    ) -> PlanOut:
        for name in ("scoring_deadline", "signing_deadline"):
            if isinstance(data.get(name), str):
                try:
                    data[name] = datetime.fromisoformat(data[name])
                except ValueError:
                    raise InvalidInput("error.invalid") from None
        check_body(data)
        p = await evaluation.set_plan(db_session, who, tender_id, data)
        return PlanOut(
            decision_method=p.decision_method,
            sme_deduction_pct=p.sme_deduction_pct,
            outlier_threshold_pct=p.outlier_threshold_pct,
            response_hours=p.response_hours,
        )

    @post("/draws", summary="Request an expert draw (staff)")
    async def request_draw(
        self,
        tender_id: uuid.UUID,
        data: DrawIn,
        who: Subject,
        evaluation: Evaluation,
        db_session: AsyncSession,
    ) -> DrawRequestOut:
        req = await evaluation.draws.request(
            db_session,
            who,
            tender_id,
            seats=data.seats,
            committee_size=data.committee_size,
            reserves=data.reserves,
            remote_fraction=data.remote_fraction,
            evaluation_date=data.evaluation_date,
            draw_at=data.draw_at,
        )
        return DrawRequestOut(id=req.id, status=req.status, bends=req.bends)

    @get("/draw", summary="The draw request and its commitment (no names)", opt=PUBLIC)
    async def draw(
        self, tender_id: uuid.UUID, who: Subject, evaluation: Evaluation, db_session: AsyncSession
    ) -> DrawOut:
        req, row = await evaluation.draws.current(db_session, who, tender_id)
        return DrawOut(
            id=req.id,
            status=req.status,
            bends=req.bends,
            seats=req.seats,
            committee_size=req.committee_size,
            remote_fraction=req.remote_fraction,
            draw_at=req.draw_at.isoformat(),
            decision_note=req.decision_note,
            commitment=msgspec.convert(row.commitment, CommitmentOut) if row else None,
            commitment_digest=row.commitment_digest if row else None,
            commitment_ledger_index=row.commitment_index if row else None,
            record_sha256=row.record_sha256 if row else None,
        )

    @get(
        "/draw/record",
        summary="The draw record (canonical JSON) for `tenderhall draw verify`",
        opt=PUBLIC,
        media_type="application/json",
        # The body is the stored canonical bytes (the digest is over them); this documents them.
        responses={200: ResponseSpec(DrawRecordOut, description="The draw record", generate_examples=False)},
    )
    async def record(
        self, tender_id: uuid.UUID, who: Subject, evaluation: Evaluation, db_session: AsyncSession
    ) -> Response[bytes]:
        data, digest = await evaluation.record(db_session, who, tender_id)
        return Response(data, media_type="application/json", headers={"x-commitment-digest": digest})

    @get(
        "/committee",
        summary="Seats with expert names (staff, supervisors; the public after the award)",
        opt=PUBLIC,
    )
    async def committee(
        self, tender_id: uuid.UUID, who: Subject, evaluation: Evaluation, db_session: AsyncSession
    ) -> list[CommitteeSeatOut]:
        return [
            CommitteeSeatOut(
                **seat_fields(s),
                expert_id=e.id if e else None,
                user_id=u.id if u and not e else None,
                name=e.name if e else (u.display_name if u else ""),
                city=e.city if e else None,
                reason=s.reason,
            )
            for s, e, u in await evaluation.draws.seats(db_session, who, tender_id)
        ]

    @post("/representatives", summary="The tenderer seats one of its staff as 招标人代表")
    async def appoint(
        self,
        tender_id: uuid.UUID,
        data: RepresentativeIn,
        who: Subject,
        services: Services,
        evaluation: Evaluation,
        db_session: AsyncSession,
    ) -> Response[SeatOut]:
        seat = await evaluation.representatives.appoint(db_session, who, tender_id, data.user_id)
        return Response(seat_out(seat), status_code=201, background=deliver(evaluation, services))
