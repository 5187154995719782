"""The remote evaluation workspace: qualification, commit-reveal scoring, outlier reasons, the
committee report and its signatures.  Members act on their *active* seat only (policy: SELF on
the evaluation resource); everything they produce is labelled by seat ("M3"), never by name.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from evaluation import ranking as rk
from evaluation import result as res
from evaluation.access import active_seat, evaluation_resource, label
from evaluation.adjustments import adopted_adjustments
from evaluation.draw import DrawRecord
from evaluation.drawing import Draws
from evaluation.hashrng import canonical_json, sha256_hex
from evaluation.models import (
    CommitteeReport,
    CommitteeSeat,
    DrawRecordRow,
    DrawRequest,
    EvaluationBid,
    ExpertEvaluation,
    OutlierReason,
    Publicity,
    QualificationReview,
    ReportSignature,
    ScoreSheet,
    SeatKind,
    SeatStatus,
)
from evaluation.opened import OpenedBidSource, snapshot
from tenderhall.auth.policy import Subject, enforce
from tenderhall.errors import Conflict, InvalidInput, NotFound
from tenderhall.orgs.models import Company, Organisation
from tenderhall.services import Services
from tenderhall.tenders.models import Tender


def _rejected(tender: Tender, bids: list[EvaluationBid]) -> dict[str, dict[str, str]]:
    return res.price_rejections({str(b.company_id): Decimal(b.price) for b in bids}, tender.estimate_fen)


class Workspace:
    def __init__(self, services: Services, draws: Draws, source: OpenedBidSource) -> None:
        self.services = services
        self.draws = draws
        self.source = source

    async def _tender(self, db: AsyncSession, who: Subject, tender_id: uuid.UUID, action: str) -> Tender:
        tender = await self.services.tenders.load(db, Subject(role=None), tender_id, "tender.view", lock=True)
        resource = await evaluation_resource(self.services, db, tender, who)
        enforce(who, action, resource, hide="evaluation.progress.view")
        return tender

    async def _seat(self, db: AsyncSession, tender: Tender, who: Subject) -> CommitteeSeat:
        seat = await active_seat(db, tender.id, who.user_id)
        if seat is None:  # the policy already refused; kept for the type checker
            raise NotFound("error.not_found", kind="seat")
        return seat

    async def members(self, db: AsyncSession, tender_id: uuid.UUID) -> list[CommitteeSeat]:
        return list(
            await db.scalars(
                select(CommitteeSeat)
                .where(CommitteeSeat.tender_id == tender_id, CommitteeSeat.status == SeatStatus.ACTIVE.value)
                .order_by(CommitteeSeat.seat_no)
            )
        )

    async def bids(self, db: AsyncSession, tender_id: uuid.UUID) -> list[EvaluationBid]:
        return list(
            await db.scalars(
                select(EvaluationBid)
                .where(EvaluationBid.tender_id == tender_id)
                .order_by(EvaluationBid.company_id)
            )
        )

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
        members = await self.members(db, tender.id)
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

    # -- qualification ---------------------------------------------------------------------------
    async def review(
        self,
        db: AsyncSession,
        who: Subject,
        tender_id: uuid.UUID,
        company_id: uuid.UUID,
        passed: bool,
        reason: str,
    ) -> QualificationReview:
        tender = await self._tender(db, who, tender_id, "evaluation.review")
        seat = await self._seat(db, tender, who)
        if company_id not in {b.company_id for b in await self.bids(db, tender.id)}:
            raise NotFound("error.not_found", kind="bid")
        if not passed and not reason.strip():
            raise InvalidInput("qualification.reason_required")
        rejected = (await self.rejections(db, tender)).get(str(company_id))
        if passed and rejected is not None:
            raise InvalidInput(rejected["ground"], price=rejected["price"], ceiling=rejected["ceiling"])
        if (
            await db.scalar(select(ScoreSheet.id).where(ScoreSheet.tender_id == tender.id).limit(1))
            is not None
        ):
            raise Conflict("qualification.closed")
        row = await db.scalar(
            select(QualificationReview).where(
                QualificationReview.seat_id == seat.id, QualificationReview.company_id == company_id
            )
        )
        if row is None:
            row = QualificationReview(
                tender_id=tender.id,
                seat_id=seat.id,
                company_id=company_id,
                passed=passed,
                reason=reason.strip(),
            )
            db.add(row)
        else:  # a member may change its own review until scoring starts
            row.passed, row.reason = passed, reason.strip()
        await db.flush()
        await self.services.ledger.append(
            db,
            "qualification.reviewed",
            {"tender": str(tender.id), "member": label(seat), "bidder": str(company_id), "passed": passed},
            subject=f"tender:{tender.id}",
        )
        return row

    async def rejections(self, db: AsyncSession, tender: Tender) -> dict[str, dict[str, str]]:
        """Bids rejected by rule, by bidder id, with their ground and article (no vote needed)."""
        return _rejected(tender, await self.bids(db, tender.id))

    async def qualification(self, db: AsyncSession, tender_id: uuid.UUID) -> dict[uuid.UUID, bool] | None:
        """Majority per bidder once every member reviewed every bid, else None.  A bid rejected
        by rule (``rejections``) fails whatever the votes, and needs none."""
        tender = await db.get(Tender, tender_id)
        assert tender is not None
        members = await self.members(db, tender_id)
        bids = await self.bids(db, tender_id)
        rejected = _rejected(tender, bids)
        reviews = list(
            await db.scalars(select(QualificationReview).where(QualificationReview.tender_id == tender_id))
        )
        ids = {m.id for m in members}
        votes: dict[uuid.UUID, Counter[bool]] = {
            b.company_id: Counter() for b in bids if str(b.company_id) not in rejected
        }
        for r in reviews:
            if r.seat_id in ids and r.company_id in votes:
                votes[r.company_id][r.passed] += 1
        if any(sum(v.values()) < len(members) for v in votes.values()):
            return None
        passed = {c: v[True] > v[False] for c, v in votes.items()}
        return {b.company_id: passed.get(b.company_id, False) for b in bids}

    # -- scoring ---------------------------------------------------------------------------------
    async def commit(self, db: AsyncSession, who: Subject, tender_id: uuid.UUID, digest: str) -> ScoreSheet:
        tender = await self._tender(db, who, tender_id, "evaluation.score")
        seat = await self._seat(db, tender, who)
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise InvalidInput("scoring.digest_invalid")
        if await self.qualification(db, tender.id) is None:
            raise Conflict("scoring.qualification_pending")
        if await db.scalar(select(ScoreSheet.id).where(ScoreSheet.seat_id == seat.id)) is not None:
            raise Conflict("scoring.already_committed")
        now = self.services.clock.now()
        plan = await self.draws.plan(db, tender.id)
        late = plan.scoring_deadline is not None and now > plan.scoring_deadline
        row = ScoreSheet(tender_id=tender.id, seat_id=seat.id, digest=digest, committed_at=now, late=late)
        db.add(row)
        await db.flush()
        await self.services.ledger.append(
            db,
            "scoring.committed",
            {"tender": str(tender.id), "member": label(seat), "digest": digest, "late": late},
            subject=f"tender:{tender.id}",
        )
        return row

    async def reveal(
        self, db: AsyncSession, who: Subject, tender_id: uuid.UUID, sheet: dict[str, Any]
    ) -> ScoreSheet:
        tender = await self._tender(db, who, tender_id, "evaluation.score")
        seat = await self._seat(db, tender, who)
        members = await self.members(db, tender.id)
        sheets = {
            s.seat_id: s
            for s in await db.scalars(select(ScoreSheet).where(ScoreSheet.tender_id == tender.id))
        }
        if any(m.id not in sheets for m in members):
            raise Conflict("scoring.not_all_committed", committed=len(sheets), members=len(members))
        mine = sheets[seat.id]
        if mine.sheet is not None:
            raise Conflict("scoring.already_revealed")
        if res.sheet_digest(sheet) != mine.digest:
            raise InvalidInput("scoring.digest_mismatch")
        qualified = await self.qualification(db, tender.id) or {}
        bidders = sorted(str(c) for c, ok in qualified.items() if ok)
        try:
            res.check_sheet(sheet, str(tender.id), label(seat), bidders, res.rubric_items(tender.rubric))
        except res.SheetError as exc:
            raise InvalidInput(exc.key, detail=exc.detail) from None
        mine.sheet, mine.revealed_at = sheet, self.services.clock.now()
        await db.flush()
        await self.services.ledger.append(
            db,
            "scoring.revealed",
            {"tender": str(tender.id), "member": label(seat), "digest": mine.digest},
            subject=f"tender:{tender.id}",
        )
        return mine

    async def scores(self, db: AsyncSession, tender: Tender) -> list[rk.ExpertScore] | None:
        """Every member's revealed scores, or None while any sheet is still sealed."""
        members = {m.id: m for m in await self.members(db, tender.id)}
        sheets = [
            s
            for s in await db.scalars(select(ScoreSheet).where(ScoreSheet.tender_id == tender.id))
            if s.seat_id in members
        ]
        if len(sheets) != len(members) or any(s.sheet is None for s in sheets):
            return None
        out = []
        for s in sheets:
            assert s.sheet is not None
            m = label(members[s.seat_id])
            out += [rk.ExpertScore(m, e["bidder"], e["item"], Decimal(e["score"])) for e in s.sheet["scores"]]
        return out

    async def outliers(self, db: AsyncSession, tender: Tender) -> list[tuple[str, str, str]]:
        scores = await self.scores(db, tender)
        if scores is None:
            return []
        plan = await self.draws.plan(db, tender.id)
        return res.outliers(scores, tender.rubric, Decimal(plan.outlier_threshold_pct))

    async def give_reason(
        self,
        db: AsyncSession,
        who: Subject,
        tender_id: uuid.UUID,
        company_id: uuid.UUID,
        item: str,
        reason: str,
    ) -> OutlierReason:
        tender = await self._tender(db, who, tender_id, "evaluation.score")
        seat = await self._seat(db, tender, who)
        if (label(seat), str(company_id), item) not in await self.outliers(db, tender):
            raise Conflict("scoring.no_reason_needed")
        if not reason.strip():
            raise InvalidInput("scoring.reason_required")
        row = OutlierReason(
            tender_id=tender.id, seat_id=seat.id, company_id=company_id, item=item, reason=reason.strip()
        )
        db.add(row)
        await db.flush()
        await self.services.ledger.append(
            db,
            "scoring.outlier_reason",
            {"tender": str(tender.id), "member": label(seat), "bidder": str(company_id), "item": item},
            subject=f"tender:{tender.id}",
        )
        return row

    async def missing_reasons(self, db: AsyncSession, tender: Tender) -> list[tuple[str, str, str]]:
        members = {m.id: label(m) for m in await self.members(db, tender.id)}
        given = {
            (members.get(r.seat_id), str(r.company_id), r.item)
            for r in await db.scalars(select(OutlierReason).where(OutlierReason.tender_id == tender.id))
        }
        return [o for o in await self.outliers(db, tender) if o not in given]

    # -- views -----------------------------------------------------------------------------------
    async def progress(self, db: AsyncSession, who: Subject, tender_id: uuid.UUID) -> dict[str, Any]:
        tender = await self._tender(db, who, tender_id, "evaluation.progress.view")
        members = await self.members(db, tender.id)
        sheets = {
            s.seat_id: s
            for s in await db.scalars(select(ScoreSheet).where(ScoreSheet.tender_id == tender.id))
        }
        qualified = await self.qualification(db, tender.id)
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
            "rejected": await self.rejections(db, tender),
            "outliers_missing_reason": [list(o) for o in await self.missing_reasons(db, tender)],
            "me": label(me) if me else None,
        }

    async def bid_documents(
        self, db: AsyncSession, who: Subject, tender_id: uuid.UUID
    ) -> list[dict[str, Any]]:
        tender = await self._tender(db, who, tender_id, "evaluation.bids.view")
        names = {
            c.id: c.name
            for c in await db.scalars(
                select(Company).where(Company.id.in_([b.company_id for b in await self.bids(db, tender.id)]))
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
            for b in await self.bids(db, tender.id)
        ]

    async def statistics(self, db: AsyncSession, who: Subject, tender_id: uuid.UUID) -> dict[str, Any]:
        tender = await self._tender(db, who, tender_id, "evaluation.stats.view")
        scores = await self.scores(db, tender)
        if scores is None:
            raise Conflict("scoring.not_revealed")
        totals = rk.expert_totals(scores, res.rubric_items(tender.rubric))
        w = rk.kendalls_w(totals)
        reasons = {
            (r.seat_id, str(r.company_id), r.item): r.reason
            for r in await db.scalars(select(OutlierReason).where(OutlierReason.tender_id == tender.id))
        }
        seats = {label(m): m.id for m in await self.members(db, tender.id)}
        return {
            "deviation": {m: str(v) for m, v in rk.expert_deviation_summary(scores).items()},
            "kendalls_w": None if w is None else f"{float(w):.4f}",
            "outliers": [
                {"member": m, "bidder": b, "item": i, "reason": reasons.get((seats[m], b, i))}
                for m, b, i in await self.outliers(db, tender)
            ],
        }

    # -- report ------------------------------------------------------------------------------------
    async def draft_report(self, db: AsyncSession, who: Subject, tender_id: uuid.UUID) -> CommitteeReport:
        tender = await self.services.tenders.load(db, who, tender_id, "tender.view", lock=True)
        enforce(who, "committee.manage", await evaluation_resource(self.services, db, tender, who))
        if tender.state != "evaluating":
            raise Conflict("tender.transition_invalid", transition="report", state=tender.state)
        if await db.scalar(select(CommitteeReport.id).where(CommitteeReport.tender_id == tender.id)):
            raise Conflict("report.exists")
        scores = await self.scores(db, tender)
        if scores is None:
            raise Conflict("scoring.not_revealed")
        if await self.missing_reasons(db, tender):
            raise Conflict("scoring.reasons_missing")
        qualified = await self.qualification(db, tender.id) or {}
        adjusted = await adopted_adjustments(db, tender.id, await self.members(db, tender.id))
        rows = [
            res.BidRow(
                str(b.company_id),
                Decimal(b.price),
                b.is_sme,
                qualified.get(b.company_id, False),
                adjusted.get(str(b.company_id), ()),
            )
            for b in await self.bids(db, tender.id)
        ]
        plan = await self.draws.plan(db, tender.id)
        rules = await self.services.tenders.rules(db, tender)
        seed = await self._lot_seed(db, tender.id)
        try:
            content = res.evaluate(
                tender.rubric,
                {
                    "sme_deduction_pct": plan.sme_deduction_pct,
                    "benchmark": plan.benchmark,
                    "trim_extremes": plan.trim_extremes,
                },
                rows,
                scores,
                seed,
                min(rules.max_candidates, 3),
            )
        except (rk.RankingError, ValueError) as exc:
            raise Conflict("report.cannot_rank", detail=str(exc)) from None
        content["qualification"] = {
            str(c): ok for c, ok in sorted(qualified.items(), key=lambda kv: str(kv[0]))
        }
        content["rejected"] = await self.rejections(db, tender)
        content["tender"] = str(tender.id)
        digest = sha256_hex(canonical_json(content))
        report = CommitteeReport(tender_id=tender.id, content=content, content_sha256=digest)
        db.add(report)
        await db.flush()
        await self.services.ledger.append(
            db,
            "report.drafted",
            {"tender": str(tender.id), "sha256": digest, "candidates": content["candidates"]},
            actor=who.user_id,
            subject=f"tender:{tender.id}",
        )
        return report

    async def _lot_seed(self, db: AsyncSession, tender_id: uuid.UUID) -> bytes:
        """The draw's seed: public with the draw record, fixed before any score existed."""
        row = await db.scalar(
            select(DrawRecordRow).where(
                DrawRecordRow.tender_id == tender_id, DrawRecordRow.record.is_not(None)
            )
        )
        assert row is not None
        assert row.record is not None
        return DrawRecord.from_json(row.record.encode()).seed

    async def report(
        self, db: AsyncSession, who: Subject, tender_id: uuid.UUID
    ) -> tuple[CommitteeReport, list[ReportSignature]]:
        tender = await self._tender(db, who, tender_id, "evaluation.report.view")
        report = await db.scalar(select(CommitteeReport).where(CommitteeReport.tender_id == tender.id))
        if report is None:
            raise NotFound("error.not_found", kind="report")
        sigs = list(await db.scalars(select(ReportSignature).where(ReportSignature.report_id == report.id)))
        return report, sigs

    async def sign(
        self, db: AsyncSession, who: Subject, tender_id: uuid.UUID, dissent: bool, reason: str, sha256: str
    ) -> ReportSignature:
        tender = await self._tender(db, who, tender_id, "evaluation.sign")
        seat = await self._seat(db, tender, who)
        report = await db.scalar(select(CommitteeReport).where(CommitteeReport.tender_id == tender.id))
        if report is None:
            raise NotFound("error.not_found", kind="report")
        if sha256 != report.content_sha256:
            raise InvalidInput("report.hash_mismatch")
        if dissent and not reason.strip():
            raise InvalidInput("report.dissent_reason")
        if await db.scalar(
            select(ReportSignature.id).where(
                ReportSignature.report_id == report.id, ReportSignature.seat_id == seat.id
            )
        ):
            raise Conflict("report.already_signed")
        sig = ReportSignature(
            report_id=report.id,
            seat_id=seat.id,
            verdict="dissent" if dissent else "assent",
            reason=reason.strip() or None,
            signed_at=self.services.clock.now(),
        )
        db.add(sig)
        await db.flush()
        await self.services.ledger.append(
            db,
            "report.signed",
            {
                "tender": str(tender.id),
                "member": label(seat),
                "verdict": sig.verdict,
                "sha256": report.content_sha256,
            },
            subject=f"tender:{tender.id}",
        )
        return sig

    async def finalize(self, db: AsyncSession, who: Subject, tender_id: uuid.UUID) -> CommitteeReport:
        """Close signing: silence counts as assent (实施条例 第五十三条); candidates go to publicity."""
        tender = await self.services.tenders.load(db, who, tender_id, "tender.view", lock=True)
        enforce(who, "committee.manage", await evaluation_resource(self.services, db, tender, who))
        report = await db.scalar(select(CommitteeReport).where(CommitteeReport.tender_id == tender.id))
        if report is None:
            raise NotFound("error.not_found", kind="report")
        now = self.services.clock.now()
        signed = {
            s.seat_id
            for s in await db.scalars(select(ReportSignature).where(ReportSignature.report_id == report.id))
        }
        silent = [m for m in await self.members(db, tender.id) if m.id not in signed]
        plan = await self.draws.plan(db, tender.id)
        if silent and (plan.signing_deadline is None or now < plan.signing_deadline):
            raise Conflict("report.signatures_pending", missing=len(silent))
        for m in silent:
            db.add(ReportSignature(report_id=report.id, seat_id=m.id, verdict="silent", signed_at=now))
        report.finalized_at = now
        rules = await self.services.tenders.rules(db, tender)
        ends = now + timedelta(days=rules.publicity_days)
        db.add(
            Publicity(
                tender_id=tender.id,
                starts_at=now,
                ends_at=ends,
                candidates=[
                    r for r in report.content["ranking"] if r["bidder"] in report.content["candidates"]
                ],
            )
        )
        await db.flush()
        await self.services.tenders.transition(
            db,
            tender,
            "recommend",
            who.user_id,
            {
                "report_sha256": report.content_sha256,
                "candidates": report.content["candidates"],
                "silent": len(silent),
                "publicity_ends": ends.isoformat(),
            },
        )
        return report
