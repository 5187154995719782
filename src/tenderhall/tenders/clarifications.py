"""Clarifications (答疑): a registered bidder's question on a tender and its answer, both in the
ledger without naming who asked."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tenderhall.auth.policy import Subject
from tenderhall.clock import Clock
from tenderhall.errors import Conflict, InvalidInput, NotFound
from tenderhall.ledger.service import Ledger
from tenderhall.tenders.models import Clarification
from tenderhall.tenders.service import Tenders, check_text


class Clarifications:
    def __init__(self, clock: Clock, ledger: Ledger, tenders: Tenders) -> None:
        self.clock = clock
        self.ledger = ledger
        self.tenders = tenders

    async def ask(self, db: AsyncSession, who: Subject, tender_id: uuid.UUID, question: str) -> Clarification:
        tender = await self.tenders.load(db, who, tender_id, "clarification.ask", lock=True)
        check_text(question, "clarification.question_invalid", 5000)
        if who.user_id is None:
            raise InvalidInput("error.unauthenticated")
        number = (
            int(
                await db.scalar(
                    select(func.count())
                    .select_from(Clarification)
                    .where(Clarification.tender_id == tender.id)
                )
                or 0
            )
            + 1
        )
        item = Clarification(
            tender_id=tender.id,
            number=number,
            question=question.strip(),
            asked_by=who.user_id,
            asked_at=self.clock.now(),
        )
        db.add(item)
        await db.flush()
        # The event names the clarification, never who asked.
        await self.ledger.append(
            db,
            "clarification.asked",
            {"tender": str(tender.id), "number": number},
            subject=f"tender:{tender.id}",
        )
        return item

    async def answer(
        self, db: AsyncSession, who: Subject, tender_id: uuid.UUID, number: int, answer: str
    ) -> Clarification:
        tender = await self.tenders.load(db, who, tender_id, "clarification.answer", lock=True)
        check_text(answer, "clarification.answer_invalid", 10000)
        item = await db.scalar(
            select(Clarification).where(Clarification.tender_id == tender.id, Clarification.number == number)
        )
        if item is None:
            raise NotFound("error.not_found", kind="clarification")
        if item.answer is not None:
            raise Conflict("clarification.already_answered")
        item.answer = answer.strip()
        item.answered_by = who.user_id
        item.answered_at = self.clock.now()
        await db.flush()
        await self.ledger.append(
            db,
            "clarification.answered",
            {"tender": str(tender.id), "number": number},
            actor=who.user_id,
            subject=f"tender:{tender.id}",
        )
        return item

    async def clarifications(
        self, db: AsyncSession, who: Subject, tender_id: uuid.UUID
    ) -> list[Clarification]:
        tender = await self.tenders.load(db, who, tender_id, "clarification.view")
        return await self.clarifications_of(db, tender.id)

    async def clarifications_of(self, db: AsyncSession, tender_id: uuid.UUID) -> list[Clarification]:
        """A tender's clarifications; the caller has checked ``clarification.view``."""
        rows = await db.execute(
            select(Clarification).where(Clarification.tender_id == tender_id).order_by(Clarification.number)
        )
        return list(rows.scalars())
