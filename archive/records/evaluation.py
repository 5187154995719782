"""Evaluation's records of one tender: the expert draw (parameters, commitment, the supervisor's
randomness, the replay verdict), the committee with declines, replacements and declarations,
qualification, scores, outlier reasons, adjustments, the committee report with dissent, candidates
and publicity, objections, 评定分离 and the supervisor's filing, and the award and result notices."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from evaluation import committee
from evaluation.access import label
from evaluation.draw_verify import verify_draw
from evaluation.models import (
    AdjustmentVote,
    AwardNotice,
    CommitteeReport,
    CommitteeSeat,
    DrawRecordRow,
    DrawRequest,
    Expert,
    Objection,
    OutlierReason,
    PriceAdjustment,
    Publicity,
    QualificationReview,
    ReportSignature,
    TendererDecision,
)
from tenderhall.ledger.models import LedgerEntry
from tenderhall.tenders.models import Tender

from .common import Edition, companies, person, user_names
from .kernel import AFTER_AWARD


@dataclass(frozen=True)
class Draw:
    seats: dict[str, int]
    committee_size: int
    reserves: int
    remote_fraction: str
    evaluation_date: date
    draw_at: datetime
    bends: tuple[str, ...]
    status: str
    params: dict[str, Any]
    commitment_digest: str | None
    commitment_index: int | None
    pool_size: int | None
    supervisor_value: str | None
    revealed_at: datetime | None
    record_sha256: str | None
    replay_ok: bool | None  # None: nothing to replay yet
    replay_problems: tuple[str, ...]


@dataclass(frozen=True)
class Seat:
    label: str  # "M3": how members appear in reports and the ledger
    name: str | None  # once the result is published (and always in the full edition)
    kind: str  # expert | representative
    specialty: str
    status: str
    responded_at: datetime | None
    declared_at: datetime | None
    reason: str | None  # decline or conflict explanation: full edition only
    replaced_by: str | None


@dataclass(frozen=True)
class Review:
    member: str
    company: str
    passed: bool
    reason: str


@dataclass(frozen=True)
class Score:
    member: str
    company: str
    item: str
    score: str


@dataclass(frozen=True)
class Ranked:
    rank: int
    company: str
    total: str
    technical: str
    price_score: str
    evaluated_price: str
    decided_by: str | None


@dataclass(frozen=True)
class Adjustment:
    company: str
    proposed_by: str
    amount: str
    reason: str
    agree: int
    disagree: int


@dataclass(frozen=True)
class Signature:
    member: str
    verdict: str  # assent | dissent | silent
    reason: str | None
    signed_at: datetime


@dataclass(frozen=True)
class ObjectionRecord:
    company: str
    raised_at: datetime
    text: str
    answer: str | None
    answered_at: datetime | None


@dataclass(frozen=True)
class Decision:
    method: str
    company: str
    votes: dict[str, int]
    reason: str
    decided_by: str | None
    decided_at: datetime
    supervisor_status: str
    supervisor: str | None
    supervisor_note: str | None
    supervisor_at: datetime | None


@dataclass(frozen=True)
class Notice:
    kind: str  # award (中标通知书) | result (结果通知书)
    company: str
    issued_at: datetime
    contract_price: str | None


@dataclass(frozen=True)
class EvaluationRecords:
    draws: tuple[Draw, ...]
    seats: tuple[Seat, ...]
    qualification: tuple[Review, ...]
    qualified: dict[str, bool]  # company -> majority verdict, from the signed report
    rejected: dict[str, dict[str, str]]  # company -> ground and article
    scores: tuple[Score, ...]
    outlier_reasons: tuple[tuple[str, str, str, str], ...]  # member, company, item, reason
    adjustments: tuple[Adjustment, ...]
    ranking: tuple[Ranked, ...]
    kendalls_w: str | None
    report_sha256: str | None
    report_finalized_at: datetime | None
    signatures: tuple[Signature, ...]
    candidates: tuple[Ranked, ...]
    publicity: tuple[datetime, datetime] | None
    objections: tuple[ObjectionRecord, ...]
    decision: Decision | None
    notices: tuple[Notice, ...]


async def _draws(db: AsyncSession, tender_id: uuid.UUID) -> tuple[Draw, ...]:
    out = []
    for req in await db.scalars(
        select(DrawRequest).where(DrawRequest.tender_id == tender_id).order_by(DrawRequest.draw_at)
    ):
        row = await db.scalar(select(DrawRecordRow).where(DrawRecordRow.request_id == req.id))
        ok: bool | None = None
        problems: tuple[str, ...] = ()
        if row is not None and row.record is not None:
            anchored = await db.get(LedgerEntry, row.commitment_index)
            digest = json.loads(anchored.body)["data"].get("commitment") if anchored else None
            verdict = verify_draw(row.record.encode(), anchored_commitment_digest=digest)
            ok, problems = verdict.ok, tuple(f"{p.kind}: {p.detail}" for p in verdict.problems)
        out.append(
            Draw(
                dict(req.seats),
                req.committee_size,
                req.reserves,
                req.remote_fraction,
                req.evaluation_date,
                req.draw_at,
                tuple(req.bends),
                req.status,
                dict(row.params) if row else {},
                row.commitment_digest if row else None,
                row.commitment_index if row else None,
                int(row.commitment.get("pool_size", 0)) if row else None,
                row.supervisor_value if row else None,
                row.revealed_at if row else None,
                row.record_sha256 if row else None,
                ok,
                problems,
            )
        )
    return tuple(out)


async def _seats(
    db: AsyncSession, tender: Tender, edition: Edition
) -> tuple[list[CommitteeSeat], tuple[Seat, ...]]:
    seats = list(
        await db.scalars(
            select(CommitteeSeat)
            .where(CommitteeSeat.tender_id == tender.id)
            .order_by(CommitteeSeat.seat_no, CommitteeSeat.id)
        )
    )
    experts = {
        e.id: e.name
        for e in await db.scalars(
            select(Expert).where(Expert.id.in_([s.expert_id for s in seats if s.expert_id]))
        )
    }
    users = await user_names(db, (s.user_id for s in seats if s.expert_id is None))
    named = edition is Edition.FULL or tender.state in AFTER_AWARD
    labels = {s.id: label(s) for s in seats}

    def name(s: CommitteeSeat) -> str | None:
        if not named:
            return None
        if s.expert_id is not None:
            return experts.get(s.expert_id)
        return users.get(s.user_id) if s.user_id else None

    return seats, tuple(
        Seat(
            labels[s.id],
            name(s),
            s.kind,
            s.specialty,
            s.status,
            s.responded_at,
            s.declared_at,
            s.reason if edition is Edition.FULL else None,
            labels.get(s.replaced_by) if s.replaced_by else None,
        )
        for s in seats
    )


def _ranked(rows: list[dict[str, Any]], names: dict[str, str]) -> tuple[Ranked, ...]:
    return tuple(
        Ranked(
            int(r["rank"]),
            names.get(str(r["bidder"]), str(r["bidder"])),
            str(r["total"]),
            str(r.get("technical", "")),
            str(r.get("price_score", "")),
            str(r.get("evaluated_price", "")),
            r.get("decided_by"),
        )
        for r in rows
    )


async def gather(db: AsyncSession, tender: Tender, edition: Edition) -> EvaluationRecords:
    tid = tender.id
    all_seats, seats = await _seats(db, tender, edition)
    labels = {s.id: label(s) for s in all_seats}
    report = await db.scalar(select(CommitteeReport).where(CommitteeReport.tender_id == tid))
    content: dict[str, Any] = dict(report.content) if report else {}
    reviews = list(await db.scalars(select(QualificationReview).where(QualificationReview.tender_id == tid)))
    reasons = list(await db.scalars(select(OutlierReason).where(OutlierReason.tender_id == tid)))
    adjustments = list(await db.scalars(select(PriceAdjustment).where(PriceAdjustment.tender_id == tid)))
    objections = list(
        await db.scalars(select(Objection).where(Objection.tender_id == tid).order_by(Objection.raised_at))
    )
    decision = await db.scalar(select(TendererDecision).where(TendererDecision.tender_id == tid))
    notices = list(
        await db.scalars(
            select(AwardNotice)
            .where(AwardNotice.tender_id == tid)
            .order_by(AwardNotice.kind, AwardNotice.issued_at)
        )
    )
    publicity = await db.scalar(select(Publicity).where(Publicity.tender_id == tid))
    bid_rows = await committee.bids(db, tid)
    names = await companies(
        db,
        {b.company_id for b in bid_rows}
        | {o.company_id for o in objections}
        | {n.company_id for n in notices}
        | ({decision.company_id} if decision else set()),
    )

    def co(key: uuid.UUID | str) -> str:
        return names.get(str(key), str(key))

    # Scores as revealed by the members (committee.scores), else as the signed report holds them.
    revealed = await committee.scores(db, tender)
    scores = (
        tuple(Score(s.expert_id, co(s.bidder_id), s.item_id, str(s.score)) for s in revealed)
        if revealed is not None
        else tuple(
            Score(s["member"], co(s["bidder"]), s["item"], s["score"]) for s in content.get("scores", [])
        )
    )
    votes: dict[uuid.UUID, list[bool]] = {}
    for v in await db.scalars(
        select(AdjustmentVote).where(AdjustmentVote.adjustment_id.in_([a.id for a in adjustments]))
    ):
        votes.setdefault(v.adjustment_id, []).append(v.agree)
    signatures: list[ReportSignature] = (
        list(
            await db.scalars(
                select(ReportSignature)
                .where(ReportSignature.report_id == report.id)
                .order_by(ReportSignature.signed_at)
            )
        )
        if report
        else []
    )
    people = await user_names(db, [decision.decided_by, decision.supervisor_id] if decision else [])
    ranking = _ranked(content.get("ranking", []), names)
    return EvaluationRecords(
        draws=await _draws(db, tid),
        seats=seats,
        qualification=tuple(
            Review(labels.get(r.seat_id, "?"), co(r.company_id), r.passed, r.reason)
            for r in sorted(reviews, key=lambda r: (labels.get(r.seat_id, ""), co(r.company_id)))
        ),
        qualified={co(k): bool(v) for k, v in content.get("qualification", {}).items()},
        rejected={co(k): dict(v) for k, v in content.get("rejected", {}).items()},
        scores=scores,
        outlier_reasons=tuple(
            (labels.get(r.seat_id, "?"), co(r.company_id), r.item, r.reason) for r in reasons
        ),
        adjustments=tuple(
            Adjustment(
                co(a.company_id),
                labels.get(a.proposed_by, "?"),
                a.amount,
                a.reason,
                sum(votes.get(a.id, [])),
                len(votes.get(a.id, [])) - sum(votes.get(a.id, [])),
            )
            for a in adjustments
        ),
        ranking=ranking,
        kendalls_w=content.get("kendalls_w"),
        report_sha256=report.content_sha256 if report else None,
        report_finalized_at=report.finalized_at if report else None,
        signatures=tuple(
            Signature(labels.get(s.seat_id, "?"), s.verdict, s.reason, s.signed_at) for s in signatures
        ),
        candidates=_ranked(publicity.candidates if publicity else [], names),
        publicity=(publicity.starts_at, publicity.ends_at) if publicity else None,
        objections=tuple(
            ObjectionRecord(co(o.company_id), o.raised_at, o.text, o.answer, o.answered_at)
            for o in objections
        ),
        decision=None
        if decision is None
        else Decision(
            decision.method,
            co(decision.company_id),
            dict(decision.votes),
            decision.reason,
            person(edition, people, decision.decided_by),
            decision.decided_at,
            decision.supervisor_status,
            person(edition, people, decision.supervisor_id),
            decision.supervisor_note,
            decision.supervisor_at,
        ),
        notices=tuple(
            Notice(n.kind, co(n.company_id), n.issued_at, n.content.get("contract_price")) for n in notices
        ),
    )
