"""What a member does in the remote workspace before the report: the qualification review of
each bid, the commit-reveal score sheet, and a written reason for a score far from the median.
Members act on their *active* seat only (policy: SELF on the evaluation resource); everything
they produce is labelled by seat ("M3"), never by name.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from evaluation import committee
from evaluation import result as res
from evaluation.access import label
from evaluation.drawing import Draws
from evaluation.models import OutlierReason, QualificationReview, ScoreSheet
from tenderhall.auth.policy import Subject
from tenderhall.errors import Conflict, InvalidInput, NotFound
from tenderhall.services import Services


class Scoring:
    def __init__(self, services: Services, draws: Draws) -> None:
        self.services = services
        self.draws = draws

    async def review(
        self,
        db: AsyncSession,
        who: Subject,
        tender_id: uuid.UUID,
        company_id: uuid.UUID,
        passed: bool,
        reason: str,
    ) -> QualificationReview:
        tender = await committee.tender_for(self.services, db, who, tender_id, "evaluation.review")
        seat = await committee.my_seat(db, tender, who)
        if company_id not in {b.company_id for b in await committee.bids(db, tender.id)}:
            raise NotFound("error.not_found", kind="bid")
        if not passed and not reason.strip():
            raise InvalidInput("qualification.reason_required")
        rejected = (await committee.rejections(db, tender)).get(str(company_id))
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

    async def commit(self, db: AsyncSession, who: Subject, tender_id: uuid.UUID, digest: str) -> ScoreSheet:
        tender = await committee.tender_for(self.services, db, who, tender_id, "evaluation.score")
        seat = await committee.my_seat(db, tender, who)
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise InvalidInput("scoring.digest_invalid")
        if await committee.qualification(db, tender.id) is None:
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
        tender = await committee.tender_for(self.services, db, who, tender_id, "evaluation.score")
        seat = await committee.my_seat(db, tender, who)
        members = await committee.members(db, tender.id)
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
        qualified = await committee.qualification(db, tender.id) or {}
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

    async def give_reason(
        self,
        db: AsyncSession,
        who: Subject,
        tender_id: uuid.UUID,
        company_id: uuid.UUID,
        item: str,
        reason: str,
    ) -> OutlierReason:
        tender = await committee.tender_for(self.services, db, who, tender_id, "evaluation.score")
        seat = await committee.my_seat(db, tender, who)
        if (label(seat), str(company_id), item) not in await committee.outliers(db, tender, self.draws):
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
