"""The remote evaluation workspace as staff and the committee see it: starting the evaluation
(snapshot of the opened bids), the progress by seat, the opened bids, the score statistics.
What members do there lives in `evaluation.scoring`, the report in `evaluation.report`.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from evaluation import committee
from evaluation import ranking as rk
from evaluation import result as res
from evaluation.access import active_seat, evaluation_resource, label
from evaluation.drawing import Draws
from evaluation.hashrng import canonical_json, sha256_hex
from evaluation.models import DrawRequest, ExpertEvaluation, OutlierReason, ScoreSheet, SeatKind
from evaluation.opened import OpenedBidSource, snapshot
from tenderhall.auth.policy import Subject, enforce
from tenderhall.errors import Conflict
from tenderhall.orgs.models import Company, Organisation
from tenderhall.services import Services
from tenderhall.tenders.models import Tender


class Workspace:
    def __init__(self, services: Services, draws: Draws, source: OpenedBidSource) -> None:
        self.services = services
        self.draws = draws
        self.source = source

    # -- start ---------------------------------------------------------------------------------
    async def start(self, db: AsyncSession, who: Subject, tender_id: uuid.UUID) -> Tender:
        tender = await self.services.tenders.load(db, who, tender_id, "tender.view", lock=True)
        enforce(who, "committee.manage", await evaluation_resource(self.services, db, tender, who))
        await self.draws.apply_due(db, tender.id)
        req = await db.scalar(
            select(DrawRequest).where(DrawRequest.tender_id == tender.id, DrawRequest.status == "drawn")
        )
        if req is None:
            raise Conflict("evaluation.no_committee")
        members = await committee.members(db, tender.id)
        experts = [m for m in members if m.kind == SeatKind.EXPERT.value]
        if len(experts) != sum(req.seats.values()) or len(members) != req.committee_size:
            raise Conflict("evaluation.committee_incomplete", active=len(members), needed=req.committee_size)
        if (tender.rubric or {}).get("price_method") == "benchmark_price":
            bench = (await self.draws.plan(db, tender.id)).benchmark or {}
            if "k" not in bench:  # never score a benchmark tender with a K nobody drew
                raise Conflict("evaluation.k_not_drawn")
        rows = await snapshot(db, tender.id, await self.source.opened_bids(db, tender.id))
        if not rows:
            raise Conflict("evaluation.no_bids")
        digest = sha256_hex(
            canonical_json([{"company": str(r.company_id), "price": r.price, "sme": r.is_sme} for r in rows])
        )
        tenderer = await db.get(Organisation, tender.tenderer_id)
        assert tenderer is not None
        for seat in experts:  # the registry's history and workload count drawn experts only
            db.add(
                ExpertEvaluation(
                    expert_id=seat.expert_id,
                    tender_id=tender.id,
                    tenderer_uscc=tenderer.uscc,
                    on=req.evaluation_date,
                )
            )
        await self.services.tenders.transition(
            db,
            tender,
            "start_evaluation",
            who.user_id,
            {"bids": len(rows), "bids_sha256": digest, "members": len(members)},
        )
        return tender

    # -- views -----------------------------------------------------------------------------------
    async def progress(self, db: AsyncSession, who: Subject, tender_id: uuid.UUID) -> dict[str, Any]:
        tender = await committee.tender_for(self.services, db, who, tender_id, "evaluation.progress.view")
        members = await committee.members(db, tender.id)
        sheets = {
            s.seat_id: s
            for s in await db.scalars(select(ScoreSheet).where(ScoreSheet.tender_id == tender.id))
        }
        qualified = await committee.qualification(db, tender.id)
        me = await active_seat(db, tender.id, who.user_id)
        return {
            "state": tender.state,
            "members": [
                {
                    "member": label(m),
                    "committed": m.id in sheets,
                    "late": m.id in sheets and sheets[m.id].late,
                    "revealed": m.id in sheets and sheets[m.id].sheet is not None,
                }
                for m in members
            ],
            "qualification": None if qualified is None else {str(c): ok for c, ok in qualified.items()},
            "rejected": await committee.rejections(db, tender),
            "outliers_missing_reason": [
                list(o) for o in await committee.missing_reasons(db, tender, self.draws)
            ],
            "me": label(me) if me else None,
        }

    async def bid_documents(
        self, db: AsyncSession, who: Subject, tender_id: uuid.UUID
    ) -> list[dict[str, Any]]:
        tender = await committee.tender_for(self.services, db, who, tender_id, "evaluation.bids.view")
        names = {
            c.id: c.name
            for c in await db.scalars(
                select(Company).where(
                    Company.id.in_([b.company_id for b in await committee.bids(db, tender.id)])
                )
            )
        }
        return [
            {
                "company_id": str(b.company_id),
                "company": names.get(b.company_id, ""),
                "price": b.price,
                "is_sme": b.is_sme,
                "form": b.form,
                "evidence": b.evidence,
            }
            for b in await committee.bids(db, tender.id)
        ]

    async def statistics(self, db: AsyncSession, who: Subject, tender_id: uuid.UUID) -> dict[str, Any]:
        tender = await committee.tender_for(self.services, db, who, tender_id, "evaluation.stats.view")
        scores = await committee.scores(db, tender)
        if scores is None:
            raise Conflict("scoring.not_revealed")
        totals = rk.expert_totals(scores, res.rubric_items(tender.rubric))
        w = rk.kendalls_w(totals)
        reasons = {
            (r.seat_id, str(r.company_id), r.item): r.reason
            for r in await db.scalars(select(OutlierReason).where(OutlierReason.tender_id == tender.id))
        }
        seats = {label(m): m.id for m in await committee.members(db, tender.id)}
        return {
            "deviation": {m: str(v) for m, v in rk.expert_deviation_summary(scores).items()},
            "kendalls_w": None if w is None else f"{float(w):.4f}",
            "outliers": [
                {"member": m, "bidder": b, "item": i, "reason": reasons.get((seats[m], b, i))}
                for m, b, i in await committee.outliers(db, tender, self.draws)
            ],
        }
