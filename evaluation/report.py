"""The committee report: drafted from the revealed scores, signed (or dissented from) by every
member, then closed, silence counting as assent, which publishes the candidates.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from evaluation import committee
from evaluation import ranking as rk
from evaluation import result as res
from evaluation.access import evaluation_resource, label
from evaluation.adjustments import adopted_adjustments
from evaluation.draw import DrawRecord
from evaluation.drawing import Draws
from evaluation.hashrng import canonical_json, sha256_hex
from evaluation.models import CommitteeReport, CommitteeSeat, DrawRecordRow, Publicity, ReportSignature
from tenderhall.auth.policy import Subject, enforce
from tenderhall.errors import Conflict, InvalidInput, NotFound
from tenderhall.services import Services


class Reports:
    def __init__(self, services: Services, draws: Draws) -> None:
        self.services = services
        self.draws = draws

    async def draft_report(self, db: AsyncSession, who: Subject, tender_id: uuid.UUID) -> CommitteeReport:
        tender = await self.services.tenders.load(db, who, tender_id, "tender.view", lock=True)
        enforce(who, "committee.manage", await evaluation_resource(self.services, db, tender, who))
        if tender.state != "evaluating":
            raise Conflict("tender.transition_invalid", transition="report", state=tender.state)
        if await db.scalar(select(CommitteeReport.id).where(CommitteeReport.tender_id == tender.id)):
            raise Conflict("report.exists")
        scores = await committee.scores(db, tender)
        if scores is None:
            raise Conflict("scoring.not_revealed")
        if await committee.missing_reasons(db, tender, self.draws):
            raise Conflict("scoring.reasons_missing")
        qualified = await committee.qualification(db, tender.id) or {}
        adjusted = await adopted_adjustments(db, tender.id, await committee.members(db, tender.id))
        rows = [
            res.BidRow(
                str(b.company_id),
                Decimal(b.price),
                b.is_sme,
                qualified.get(b.company_id, False),
                adjusted.get(str(b.company_id), ()),
            )
            for b in await committee.bids(db, tender.id)
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
        content["rejected"] = await committee.rejections(db, tender)
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
    ) -> tuple[CommitteeReport, list[tuple[str, ReportSignature]]]:
        """The report and its signatures in seat order, each with its member's label (a member
        replaced after signing keeps its seat's label)."""
        tender = await committee.tender_for(self.services, db, who, tender_id, "evaluation.report.view")
        report = await db.scalar(select(CommitteeReport).where(CommitteeReport.tender_id == tender.id))
        if report is None:
            raise NotFound("error.not_found", kind="report")
        seats = {
            s.id: s
            for s in await db.scalars(select(CommitteeSeat).where(CommitteeSeat.tender_id == tender.id))
        }
        sigs = await db.scalars(select(ReportSignature).where(ReportSignature.report_id == report.id))
        ordered = sorted(sigs, key=lambda s: seats[s.seat_id].seat_no)
        return report, [(label(seats[s.seat_id]), s) for s in ordered]

    async def sign(
        self, db: AsyncSession, who: Subject, tender_id: uuid.UUID, dissent: bool, reason: str, sha256: str
    ) -> ReportSignature:
        tender = await committee.tender_for(self.services, db, who, tender_id, "evaluation.sign")
        seat = await committee.my_seat(db, tender, who)
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
        silent = [m for m in await committee.members(db, tender.id) if m.id not in signed]
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
