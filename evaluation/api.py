"""Evaluation API: thin controllers over `evaluation.service.Evaluation`.

Outputs name experts only where the policy grants ``committee.view`` / ``expert.view``; everything
else labels members by seat ("M3").  Emails go out after the transaction commits (background task).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, patch, post, put
from litestar.background_tasks import BackgroundTask
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from evaluation.adjustments import AdjustmentView
from evaluation.avoidance import RelationKind
from evaluation.models import (
    CommitteeSeat,
    Expert,
    ExpertAbsence,
    ExpertRelation,
    Notification,
    Objection,
    SpecialtyCode,
    TendererDecision,
)
from evaluation.notify import render
from evaluation.registry import ABSENCE_KINDS, RowResult
from evaluation.service import Evaluation
from tenderhall.auth.policy import Resource, Subject, enforce
from tenderhall.errors import InvalidInput, NotFound
from tenderhall.i18n import translate
from tenderhall.services import Services
from tenderhall.web.api.schemas import Code, Input, PageLimit, PageOffset, SignedMoney, check_body, one_of
from tenderhall.web.openapi import PUBLIC
from tenderhall.web.problems import request_locale

Short = Annotated[str, msgspec.Meta(max_length=200)]
Long = Annotated[str, msgspec.Meta(max_length=10000)]


def ev(services: Services) -> Evaluation:
    return services.domain["evaluation"]  # type: ignore[no-any-return]


def deliver(services: Services) -> BackgroundTask:
    return BackgroundTask(ev(services).notifier.deliver_pending, services.sessionmaker)


def expert_out(e: Expert) -> dict[str, Any]:
    return {
        "id": str(e.id),
        "name": e.name,
        "city": e.city,
        "home_centre_id": str(e.home_centre_id),
        "employer": e.employer,
        "employer_uscc": e.employer_uscc,
        "titles": e.titles,
        "specialties": e.specialties,
        "status": e.status,
        "email": e.email,
        "phone": e.phone,
        "user_id": str(e.user_id) if e.user_id else None,
    }


def rows_out(rows: list[RowResult], locale: str) -> dict[str, Any]:
    return {
        "imported": sum(r.ok for r in rows),
        "rejected": sum(not r.ok for r in rows),
        "rows": [
            {
                "line": r.line,
                "ok": r.ok,
                "id": str(r.expert_id) if r.expert_id else None,
                "errors": [
                    {"field": f, "code": k, "message": translate(k, locale, field=f)} for k, f in r.errors
                ],
            }
            for r in rows
        ],
    }


def seat_out(s: CommitteeSeat) -> dict[str, Any]:
    return {
        "id": str(s.id),
        "tender_id": str(s.tender_id),
        "member": f"M{s.seat_no}",
        "kind": s.kind,
        "specialty": s.specialty,
        "status": s.status,
        "respond_by": s.respond_by.isoformat(),
        "declared_at": s.declared_at.isoformat() if s.declared_at else None,
    }


async def csv_body(request: Request[Any, Any, Any]) -> str:
    """The raw CSV body (UTF-8, optionally with a BOM, as spreadsheet programs write it)."""
    try:
        text = (await request.body()).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("csv.encoding") from None
    check_body(text)
    return text


# -- inputs -------------------------------------------------------------------------------------------
class ExpertPatch(Input):
    status: Short | None = None
    employer: Short | None = None
    employer_uscc: Short | None = None
    email: Short | None = None
    phone: Short | None = None
    titles: list[Short] | None = None
    specialties: list[Short] | None = None


class AbsenceIn(Input):
    starts_on: date
    ends_on: date
    reason: Long = ""
    kind: Annotated[Code, one_of(ABSENCE_KINDS)] = "leave"


class RelationIn(Input):
    kind: Annotated[Code, one_of(RelationKind)]
    party_uscc: Short
    party_name: Short
    ended_on: date | None = None
    note: Long = ""


class RepresentativeIn(Input):
    user_id: uuid.UUID


class AdjustmentIn(Input):
    company_id: uuid.UUID
    amount: SignedMoney  # positive makes the bid dearer
    reason: Long


class VoteIn(Input):
    agree: bool


def adjustment_out(v: AdjustmentView) -> dict[str, Any]:
    return {
        "id": str(v.row.id),
        "bidder": str(v.row.company_id),
        "amount": v.row.amount,
        "reason": v.row.reason,
        "proposed_by": v.member,
        "agree": v.agree,
        "disagree": v.disagree,
        "votes": v.votes,
        "outcome": v.outcome.value,
    }


class RatingIn(Input):
    tender_id: uuid.UUID
    score: int
    comment: Long = ""


class DrawIn(Input):
    seats: dict[Code, int]
    committee_size: int
    evaluation_date: date
    draw_at: datetime
    reserves: int | None = None
    remote_fraction: Annotated[str, msgspec.Meta(max_length=32)] | None = None


class DecisionIn(Input):
    approve: bool
    note: Long = ""


class RevealIn(Input):
    value: Annotated[str, msgspec.Meta(min_length=32, max_length=2048)]


class RespondIn(Input):
    accept: bool
    reason: Long = ""


class DeclareIn(Input):
    conflict: bool
    statement: Long = ""


class ReviewIn(Input):
    company_id: uuid.UUID
    passed: bool
    reason: Long = ""


class CommitIn(Input):
    digest: Short


class RevealSheetIn(Input):
    sheet: dict[str, Any]


class ReasonIn(Input):
    company_id: uuid.UUID
    item: Short
    reason: Long


class SignIn(Input):
    sha256: Short
    dissent: bool = False
    reason: Long = ""


class TextIn(Input):
    text: Long


class ChoiceIn(Input):
    company_id: uuid.UUID
    reason: Long
    votes: dict[Short, int] | None = None


class FileIn(Input):
    accept: bool
    note: Long = ""


# -- the registry ---------------------------------------------------------------------------------------
class ExpertController(Controller):
    path = "/api/v1/experts"
    tags = ["experts"]

    @get("/", summary="Experts of the caller's region (staff, supervisors)")
    async def list_experts(
        self,
        who: Subject,
        services: Services,
        db_session: AsyncSession,
        q: str | None = None,
        limit: PageLimit = 50,
        offset: PageOffset = 0,
    ) -> dict[str, Any]:
        rows, total = await ev(services).registry.search(db_session, who, q, limit, offset)
        return {"items": [expert_out(e) for e in rows], "total": total}

    @post("/", summary="Add one expert (same fields as a CSV row)")
    async def create(
        self, data: dict[str, str], who: Subject, services: Services, db_session: AsyncSession
    ) -> dict[str, Any]:
        check_body(data)
        return expert_out(await ev(services).registry.create(db_session, who, data))

    @post("/import", summary="Import experts from CSV; a bad row is reported and never stops the others")
    async def import_csv(
        self,
        request: Request[Any, Any, Any],
        who: Subject,
        services: Services,
        db_session: AsyncSession,
    ) -> dict[str, Any]:
        rows = await ev(services).registry.import_csv(db_session, who, await csv_body(request))
        return rows_out(rows, request_locale(request))

    @get("/export", summary="Export the region's experts as CSV", media_type="text/csv")
    async def export_csv(self, who: Subject, services: Services, db_session: AsyncSession) -> str:
        return await ev(services).registry.export_csv(db_session, who)

    @get("/specialties", summary="The specialty code table", opt=PUBLIC)
    async def specialties(self, db_session: AsyncSession) -> list[dict[str, Any]]:
        rows = await db_session.scalars(select(SpecialtyCode).order_by(SpecialtyCode.code))
        return [{"code": r.code, "name": r.name, "parent": r.parent_code} for r in rows]

    @post("/specialties/import", summary="Import specialty codes (CSV code,name,parent)")
    async def import_specialties(
        self,
        request: Request[Any, Any, Any],
        who: Subject,
        services: Services,
        db_session: AsyncSession,
    ) -> dict[str, Any]:
        rows = await ev(services).registry.import_specialties(db_session, who, await csv_body(request))
        return rows_out(rows, request_locale(request))

    @get("/me", summary="The signed-in expert's own registry entry")
    async def me(self, who: Subject, services: Services, db_session: AsyncSession) -> dict[str, Any]:
        return expert_out(await ev(services).registry.mine(db_session, who))

    @get("/{expert_id:uuid}", summary="One expert")
    async def get_expert(
        self, expert_id: uuid.UUID, who: Subject, services: Services, db_session: AsyncSession
    ) -> dict[str, Any]:
        return expert_out(await ev(services).registry.get(db_session, who, expert_id))

    @patch("/{expert_id:uuid}", summary="Change status, employer, titles or specialties")
    async def update(
        self,
        expert_id: uuid.UUID,
        data: ExpertPatch,
        who: Subject,
        services: Services,
        db_session: AsyncSession,
    ) -> dict[str, Any]:
        changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not None}
        return expert_out(await ev(services).registry.update(db_session, who, expert_id, changes))

    @post("/{expert_id:uuid}/absences", summary="Leave (the expert) or suspension (staff)")
    async def add_absence(
        self,
        expert_id: uuid.UUID,
        data: AbsenceIn,
        who: Subject,
        services: Services,
        db_session: AsyncSession,
    ) -> dict[str, Any]:
        a = await ev(services).registry.add_absence(
            db_session, who, expert_id, data.kind, data.starts_on, data.ends_on, data.reason
        )
        return absence_out(a)

    @get("/{expert_id:uuid}/absences", summary="Leave and suspensions")
    async def absences(
        self, expert_id: uuid.UUID, who: Subject, services: Services, db_session: AsyncSession
    ) -> list[dict[str, Any]]:
        return [absence_out(a) for a in await ev(services).registry.absences(db_session, who, expert_id)]

    @post("/{expert_id:uuid}/relations", summary="Declare a relation to a company or organisation")
    async def declare(
        self,
        expert_id: uuid.UUID,
        data: RelationIn,
        who: Subject,
        services: Services,
        db_session: AsyncSession,
    ) -> dict[str, Any]:
        r = await ev(services).registry.declare_relation(
            db_session, who, expert_id, data.kind, data.party_uscc, data.party_name, data.ended_on, data.note
        )
        return relation_out(r)

    @get("/{expert_id:uuid}/relations", summary="Declared relations")
    async def relations(
        self, expert_id: uuid.UUID, who: Subject, services: Services, db_session: AsyncSession
    ) -> list[dict[str, Any]]:
        return [relation_out(r) for r in await ev(services).registry.relations(db_session, who, expert_id)]

    @post("/{expert_id:uuid}/ratings", summary="Rate an expert's work on one evaluation (1-5)")
    async def rate(
        self, expert_id: uuid.UUID, data: RatingIn, who: Subject, services: Services, db_session: AsyncSession
    ) -> dict[str, Any]:
        r = await ev(services).registry.rate(
            db_session, who, expert_id, data.tender_id, data.score, data.comment
        )
        return {"id": str(r.id), "score": r.score}


def absence_out(a: ExpertAbsence) -> dict[str, Any]:
    return {
        "id": str(a.id),
        "kind": a.kind,
        "starts_on": a.starts_on.isoformat(),
        "ends_on": a.ends_on.isoformat(),
        "reason": a.reason,
    }


def relation_out(r: ExpertRelation) -> dict[str, Any]:
    return {
        "id": str(r.id),
        "kind": r.kind,
        "party_uscc": r.party_uscc,
        "party_name": r.party_name,
        "ended_on": r.ended_on.isoformat() if r.ended_on else None,
    }


# -- draws and seats ---------------------------------------------------------------------------------------
class DrawController(Controller):
    path = "/api/v1/draws"
    tags = ["evaluation"]

    @post("/{request_id:uuid}/decision", summary="Supervisor approves or rejects a request that bends a rule")
    async def decide(
        self,
        request_id: uuid.UUID,
        data: DecisionIn,
        who: Subject,
        services: Services,
        db_session: AsyncSession,
    ) -> dict[str, Any]:
        req = await ev(services).draws.decide(db_session, who, request_id, data.approve, data.note)
        return {"id": str(req.id), "status": req.status}

    @post("/{request_id:uuid}/reveal", summary="Supervisor supplies its random value; the draw runs")
    async def reveal(
        self,
        request_id: uuid.UUID,
        data: RevealIn,
        who: Subject,
        services: Services,
        db_session: AsyncSession,
    ) -> Response[dict[str, Any]]:
        row = await ev(services).draws.reveal(db_session, who, request_id, data.value)
        body = {"id": str(row.id), "commitment": row.commitment_digest, "record_sha256": row.record_sha256}
        return Response(body, status_code=201, background=deliver(services))


class SeatController(Controller):
    path = "/api/v1/seats"
    tags = ["evaluation"]

    @get("/", summary="The signed-in expert's seats")
    async def mine(self, who: Subject, services: Services, db_session: AsyncSession) -> list[dict[str, Any]]:
        return [
            {**seat_out(s), "reference": t.reference, "title": t.title}
            for s, t in await ev(services).draws.my_seats(db_session, who)
        ]

    @post("/{seat_id:uuid}/respond", summary="Accept or decline before the deadline")
    async def respond(
        self, seat_id: uuid.UUID, data: RespondIn, who: Subject, services: Services, db_session: AsyncSession
    ) -> Response[dict[str, Any]]:
        seat = await ev(services).draws.respond(db_session, who, seat_id, data.accept, data.reason)
        return Response(seat_out(seat), status_code=201, background=deliver(services))

    @post(
        "/{seat_id:uuid}/declaration",
        summary="The 回避声明: no conflict, or a conflict (triggers a replacement)",
    )
    async def declare(
        self, seat_id: uuid.UUID, data: DeclareIn, who: Subject, services: Services, db_session: AsyncSession
    ) -> Response[dict[str, Any]]:
        seat = await ev(services).draws.declare(db_session, who, seat_id, data.conflict, data.statement)
        return Response(seat_out(seat), status_code=201, background=deliver(services))

    @post("/{seat_id:uuid}/no-show", summary="Staff: the expert did not come; the next reserve is called")
    async def no_show(
        self, seat_id: uuid.UUID, who: Subject, services: Services, db_session: AsyncSession
    ) -> Response[dict[str, Any]]:
        seat = await ev(services).draws.no_show(db_session, who, seat_id)
        return Response(seat_out(seat), status_code=201, background=deliver(services))


class NotificationController(Controller):
    path = "/api/v1/notifications"
    tags = ["evaluation"]

    @get("/", summary="The caller's notifications, newest first")
    async def mine(
        self, request: Request[Any, Any, Any], who: Subject, db_session: AsyncSession
    ) -> list[dict[str, Any]]:
        enforce(who, "notification.view", Resource(kind="notification", user_id=who.user_id))
        rows = await db_session.scalars(
            select(Notification)
            .where(Notification.user_id == who.user_id)
            .order_by(Notification.created_at.desc())
        )
        locale = request_locale(request)
        out = []
        for n in rows:
            subject, body = render(n.kind, locale, n.params)
            out.append(
                {
                    "id": str(n.id),
                    "kind": n.kind,
                    "subject": subject,
                    "body": body,
                    "params": n.params,
                    "created_at": n.created_at.isoformat(),
                    "email_status": n.email_status,
                }
            )
        return out


# -- per tender ---------------------------------------------------------------------------------------------
class TenderEvaluationController(Controller):
    path = "/api/v1/tenders/{tender_id:uuid}/evaluation"
    tags = ["evaluation"]

    @put("/plan", summary="Evaluation settings of the tender (staff, before evaluation)")
    async def plan(
        self,
        tender_id: uuid.UUID,
        data: dict[str, Any],
        who: Subject,
        services: Services,
        db_session: AsyncSession,
    ) -> dict[str, Any]:
        for name in ("scoring_deadline", "signing_deadline"):
            if isinstance(data.get(name), str):
                try:
                    data[name] = datetime.fromisoformat(data[name])
                except ValueError:
                    raise InvalidInput("error.invalid") from None
        check_body(data)
        p = await ev(services).set_plan(db_session, who, tender_id, data)
        return {
            "decision_method": p.decision_method,
            "sme_deduction_pct": p.sme_deduction_pct,
            "outlier_threshold_pct": p.outlier_threshold_pct,
            "response_hours": p.response_hours,
        }

    @post("/draws", summary="Request an expert draw (staff)")
    async def request_draw(
        self, tender_id: uuid.UUID, data: DrawIn, who: Subject, services: Services, db_session: AsyncSession
    ) -> dict[str, Any]:
        req = await ev(services).draws.request(
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
        return {"id": str(req.id), "status": req.status, "bends": req.bends}

    @get("/draw", summary="The draw request and its commitment (no names)", opt=PUBLIC)
    async def draw(
        self, tender_id: uuid.UUID, who: Subject, services: Services, db_session: AsyncSession
    ) -> dict[str, Any]:
        req, row = await ev(services).draws.for_tender(db_session, who, tender_id)
        if req is None:
            raise NotFound("error.not_found", kind="draw")
        return {
            "id": str(req.id),
            "status": req.status,
            "bends": req.bends,
            "seats": req.seats,
            "committee_size": req.committee_size,
            "remote_fraction": req.remote_fraction,
            "draw_at": req.draw_at.isoformat(),
            "decision_note": req.decision_note,
            "commitment": row.commitment if row else None,
            "commitment_digest": row.commitment_digest if row else None,
            "commitment_ledger_index": row.commitment_index if row else None,
            "record_sha256": row.record_sha256 if row else None,
        }

    @get(
        "/draw/record",
        summary="The draw record (canonical JSON) for `tenderhall draw verify`",
        opt=PUBLIC,
        media_type="application/json",
    )
    async def record(
        self, tender_id: uuid.UUID, who: Subject, services: Services, db_session: AsyncSession
    ) -> Response[bytes]:
        data, digest = await ev(services).record(db_session, who, tender_id)
        return Response(data, media_type="application/json", headers={"x-commitment-digest": digest})

    @get(
        "/committee",
        summary="Seats with expert names (staff, supervisors; the public after the award)",
        opt=PUBLIC,
    )
    async def committee(
        self, tender_id: uuid.UUID, who: Subject, services: Services, db_session: AsyncSession
    ) -> list[dict[str, Any]]:
        return [
            {
                **seat_out(s),
                "expert_id": str(e.id) if e else None,
                "user_id": str(u.id) if u and not e else None,
                "name": e.name if e else (u.display_name if u else ""),
                "city": e.city if e else None,
                "reason": s.reason,
            }
            for s, e, u in await ev(services).draws.seats(db_session, who, tender_id)
        ]

    @post("/representatives", summary="The tenderer seats one of its staff as 招标人代表")
    async def appoint(
        self,
        tender_id: uuid.UUID,
        data: RepresentativeIn,
        who: Subject,
        services: Services,
        db_session: AsyncSession,
    ) -> Response[dict[str, Any]]:
        seat = await ev(services).representatives.appoint(db_session, who, tender_id, data.user_id)
        return Response(seat_out(seat), status_code=201, background=deliver(services))

    @post("/start", summary="Start evaluation: snapshot the opened bids (staff)")
    async def start(
        self, tender_id: uuid.UUID, who: Subject, services: Services, db_session: AsyncSession
    ) -> dict[str, Any]:
        t = await ev(services).workspace.start(db_session, who, tender_id)
        return {"state": t.state}

    @get("/progress", summary="Who has reviewed, committed and revealed (by seat)")
    async def progress(
        self, tender_id: uuid.UUID, who: Subject, services: Services, db_session: AsyncSession
    ) -> dict[str, Any]:
        return await ev(services).workspace.progress(db_session, who, tender_id)

    @get("/bids", summary="The opened bids (committee only)")
    async def bids(
        self, tender_id: uuid.UUID, who: Subject, services: Services, db_session: AsyncSession
    ) -> list[dict[str, Any]]:
        return await ev(services).workspace.bid_documents(db_session, who, tender_id)

    @post("/qualification", summary="A member's qualification review of one bid")
    async def review(
        self, tender_id: uuid.UUID, data: ReviewIn, who: Subject, services: Services, db_session: AsyncSession
    ) -> dict[str, Any]:
        r = await ev(services).scoring.review(
            db_session, who, tender_id, data.company_id, data.passed, data.reason
        )
        return {"company_id": str(r.company_id), "passed": r.passed}

    @post("/scores/commit", summary="Commit the SHA-256 of the canonical score sheet")
    async def commit(
        self, tender_id: uuid.UUID, data: CommitIn, who: Subject, services: Services, db_session: AsyncSession
    ) -> dict[str, Any]:
        s = await ev(services).scoring.commit(db_session, who, tender_id, data.digest)
        return {"digest": s.digest, "late": s.late}

    @post("/scores/reveal", summary="Reveal the sheet (only once every member committed)")
    async def reveal(
        self,
        tender_id: uuid.UUID,
        data: RevealSheetIn,
        who: Subject,
        services: Services,
        db_session: AsyncSession,
    ) -> dict[str, Any]:
        s = await ev(services).scoring.reveal(db_session, who, tender_id, data.sheet)
        return {"digest": s.digest, "revealed": True}

    @post("/scores/reasons", summary="Written reason for a score far from the committee median")
    async def reason(
        self, tender_id: uuid.UUID, data: ReasonIn, who: Subject, services: Services, db_session: AsyncSession
    ) -> dict[str, Any]:
        r = await ev(services).scoring.give_reason(
            db_session, who, tender_id, data.company_id, data.item, data.reason
        )
        return {"item": r.item, "company_id": str(r.company_id)}

    @post("/adjustments", summary="经评审的最低投标价法: a member proposes a price adjustment")
    async def propose_adjustment(
        self,
        tender_id: uuid.UUID,
        data: AdjustmentIn,
        who: Subject,
        services: Services,
        db_session: AsyncSession,
    ) -> dict[str, Any]:
        return adjustment_out(
            await ev(services).adjustments.propose(
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
        services: Services,
        db_session: AsyncSession,
    ) -> dict[str, Any]:
        return adjustment_out(
            await ev(services).adjustments.vote(db_session, who, tender_id, adjustment_id, data.agree)
        )

    @get("/adjustments", summary="Proposed price adjustments with votes and outcomes (by seat)")
    async def adjustments(
        self, tender_id: uuid.UUID, who: Subject, services: Services, db_session: AsyncSession
    ) -> list[dict[str, Any]]:
        return [adjustment_out(v) for v in await ev(services).adjustments.listing(db_session, who, tender_id)]

    @get("/statistics", summary="Per-member deviation, Kendall's W, outliers (staff, supervisors)")
    async def statistics(
        self, tender_id: uuid.UUID, who: Subject, services: Services, db_session: AsyncSession
    ) -> dict[str, Any]:
        return await ev(services).workspace.statistics(db_session, who, tender_id)

    @post("/report", summary="Draft the committee report from the revealed scores (staff)")
    async def draft(
        self, tender_id: uuid.UUID, who: Subject, services: Services, db_session: AsyncSession
    ) -> dict[str, Any]:
        r = await ev(services).reports.draft_report(db_session, who, tender_id)
        return {"sha256": r.content_sha256, "content": r.content}

    @get("/report", summary="The committee report (members by seat)")
    async def report(
        self, tender_id: uuid.UUID, who: Subject, services: Services, db_session: AsyncSession
    ) -> dict[str, Any]:
        r, sigs = await ev(services).reports.report(db_session, who, tender_id)
        return {
            "sha256": r.content_sha256,
            "content": r.content,
            "finalized_at": r.finalized_at.isoformat() if r.finalized_at else None,
            "signatures": [{"member": m, "verdict": s.verdict, "reason": s.reason} for m, s in sigs],
        }

    @post("/report/sign", summary="Sign the report, or dissent with reasons")
    async def sign(
        self, tender_id: uuid.UUID, data: SignIn, who: Subject, services: Services, db_session: AsyncSession
    ) -> dict[str, Any]:
        s = await ev(services).reports.sign(
            db_session, who, tender_id, data.dissent, data.reason, data.sha256
        )
        return {"verdict": s.verdict}

    @post("/report/finalize", summary="Close signing (silence is assent) and publish the candidates")
    async def finalize(
        self, tender_id: uuid.UUID, who: Subject, services: Services, db_session: AsyncSession
    ) -> dict[str, Any]:
        r = await ev(services).reports.finalize(db_session, who, tender_id)
        return {"sha256": r.content_sha256, "candidates": r.content["candidates"]}

    @get("/publicity", summary="Candidate publicity (public)", opt=PUBLIC)
    async def publicity(
        self, tender_id: uuid.UUID, who: Subject, services: Services, db_session: AsyncSession
    ) -> dict[str, Any]:
        return await ev(services).awards.publicity(db_session, who, tender_id)

    @post("/objections", summary="A bidder's objection during publicity")
    async def object(
        self, tender_id: uuid.UUID, data: TextIn, who: Subject, services: Services, db_session: AsyncSession
    ) -> dict[str, Any]:
        return objection_out(await ev(services).awards.object(db_session, who, tender_id, data.text))

    @get("/objections", summary="Objections (a bidder sees its own)")
    async def objections(
        self, tender_id: uuid.UUID, who: Subject, services: Services, db_session: AsyncSession
    ) -> list[dict[str, Any]]:
        return [objection_out(o) for o in await ev(services).awards.objections(db_session, who, tender_id)]

    @post("/objections/{objection_id:uuid}/answer", summary="The tenderer answers an objection")
    async def answer(
        self,
        tender_id: uuid.UUID,
        objection_id: uuid.UUID,
        data: TextIn,
        who: Subject,
        services: Services,
        db_session: AsyncSession,
    ) -> Response[dict[str, Any]]:
        o = await ev(services).awards.answer(db_session, who, tender_id, objection_id, data.text)
        return Response(objection_out(o), status_code=201, background=deliver(services))

    @post("/decision", summary="评定分离: the tenderer chooses among the candidates by the tender's method")
    async def decide(
        self, tender_id: uuid.UUID, data: ChoiceIn, who: Subject, services: Services, db_session: AsyncSession
    ) -> dict[str, Any]:
        return decision_out(
            await ev(services).awards.decide(
                db_session, who, tender_id, data.company_id, data.reason, data.votes
            )
        )

    @get("/decision", summary="The tenderer's decision and its filing")
    async def decision(
        self, tender_id: uuid.UUID, who: Subject, services: Services, db_session: AsyncSession
    ) -> dict[str, Any]:
        return decision_out(await ev(services).awards.decision(db_session, who, tender_id))

    @post("/decision/file", summary="Supervisor files (or returns) the decision")
    async def file(
        self, tender_id: uuid.UUID, data: FileIn, who: Subject, services: Services, db_session: AsyncSession
    ) -> dict[str, Any]:
        return decision_out(
            await ev(services).awards.file(db_session, who, tender_id, data.accept, data.note)
        )

    @post("/award", summary="Issue the award notice and the result notices")
    async def award(
        self, tender_id: uuid.UUID, who: Subject, services: Services, db_session: AsyncSession
    ) -> Response[list[dict[str, Any]]]:
        notices = await ev(services).awards.issue(db_session, who, tender_id)
        return Response([notice_out(n) for n in notices], status_code=201, background=deliver(services))

    @get("/notices", summary="Award and result notices (public after the award)", opt=PUBLIC)
    async def notices(
        self, tender_id: uuid.UUID, who: Subject, services: Services, db_session: AsyncSession
    ) -> list[dict[str, Any]]:
        return [notice_out(n) for n in await ev(services).awards.notices(db_session, who, tender_id)]


def objection_out(o: Objection) -> dict[str, Any]:
    return {
        "id": str(o.id),
        "company_id": str(o.company_id),
        "text": o.text,
        "raised_at": o.raised_at.isoformat(),
        "answer": o.answer,
        "answered_at": o.answered_at.isoformat() if o.answered_at else None,
    }


def decision_out(d: TendererDecision) -> dict[str, Any]:
    return {
        "method": d.method,
        "company_id": str(d.company_id),
        "votes": d.votes,
        "reason": d.reason,
        "supervisor_status": d.supervisor_status,
        "supervisor_note": d.supervisor_note,
    }


def notice_out(n: Any) -> dict[str, Any]:
    return {
        "company_id": str(n.company_id),
        "kind": n.kind,
        "content": n.content,
        "issued_at": n.issued_at.isoformat(),
    }


ROUTES = [
    ExpertController,
    DrawController,
    SeatController,
    NotificationController,
    TenderEvaluationController,
]
