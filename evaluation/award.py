"""评定分离 after the committee: candidate publicity, objections, the tenderer's decision, the
supervisor's filing, and the award and result notices.  Every step is a ledger event; the award
is the tender's ``award`` transition, which is also the moment expert names become public.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from evaluation.access import evaluation_resource
from evaluation.drawing import Draws
from evaluation.models import (
    AwardNotice,
    CommitteeReport,
    EvaluationBid,
    Objection,
    Publicity,
    TendererDecision,
)
from evaluation.notify import Notifier
from tenderhall.auth.models import User
from tenderhall.auth.policy import Subject, enforce
from tenderhall.errors import Conflict, InvalidInput, NotFound
from tenderhall.orgs.models import Company
from tenderhall.services import Services
from tenderhall.tenders.models import Tender

DECISION_METHODS = ("lowest_price", "committee_vote", "deliberation")


class Awards:
    def __init__(self, services: Services, draws: Draws, notifier: Notifier) -> None:
        self.services = services
        self.draws = draws
        self.notifier = notifier

    async def _tender(self, db: AsyncSession, who: Subject, tender_id: uuid.UUID, action: str) -> Tender:
        tender = await self.services.tenders.load(db, who, tender_id, "tender.view", lock=True)
        enforce(who, action, await evaluation_resource(self.services, db, tender, who))
        return tender

    async def _publicity(self, db: AsyncSession, tender_id: uuid.UUID) -> Publicity:
        row = await db.scalar(select(Publicity).where(Publicity.tender_id == tender_id))
        if row is None:
            raise NotFound("error.not_found", kind="publicity")
        return row

    async def publicity(self, db: AsyncSession, who: Subject, tender_id: uuid.UUID) -> dict[str, Any]:
        tender = await self._tender(db, who, tender_id, "publicity.view")
        pub = await self._publicity(db, tender.id)
        names = {
            str(c.id): c.name
            for c in await db.scalars(
                select(Company).where(Company.id.in_([uuid.UUID(c["bidder"]) for c in pub.candidates]))
            )
        }
        return {
            "tender": str(tender.id),
            "starts_at": pub.starts_at.isoformat(),
            "ends_at": pub.ends_at.isoformat(),
            "candidates": [{**c, "company": names.get(c["bidder"], "")} for c in pub.candidates],
        }

    # -- objections (异议) ---------------------------------------------------------------------------
    async def object(self, db: AsyncSession, who: Subject, tender_id: uuid.UUID, text: str) -> Objection:
        tender = await self._tender(db, who, tender_id, "objection.raise")
        pub = await self._publicity(db, tender.id)
        now = self.services.clock.now()
        if now >= pub.ends_at:  # decided by the clock inside this transaction
            raise Conflict("objection.publicity_over")
        if not text.strip() or who.company_id is None or who.user_id is None:
            raise InvalidInput("objection.text_required")
        row = Objection(
            tender_id=tender.id,
            company_id=who.company_id,
            raised_by=who.user_id,
            raised_at=now,
            text=text.strip(),
        )
        db.add(row)
        await db.flush()
        await self.services.ledger.append(
            db,
            "objection.raised",
            {"tender": str(tender.id), "objection": str(row.id)},
            subject=f"tender:{tender.id}",
        )
        return row

    async def answer(
        self, db: AsyncSession, who: Subject, tender_id: uuid.UUID, objection_id: uuid.UUID, text: str
    ) -> Objection:
        tender = await self._tender(db, who, tender_id, "objection.answer")
        row = await db.get(Objection, objection_id)
        if row is None or row.tender_id != tender.id:
            raise NotFound("error.not_found", kind="objection")
        if row.answer is not None:
            raise Conflict("objection.answered")
        if not text.strip():
            raise InvalidInput("objection.text_required")
        row.answer, row.answered_by, row.answered_at = text.strip(), who.user_id, self.services.clock.now()
        await db.flush()
        await self.services.ledger.append(
            db,
            "objection.answered",
            {"tender": str(tender.id), "objection": str(row.id)},
            actor=who.user_id,
            subject=f"tender:{tender.id}",
        )
        raiser = await db.get(User, row.raised_by)
        await self.notifier.notify(
            db,
            row.raised_by,
            "objection_answered",
            {"reference": tender.reference},
            email=raiser.email if raiser else None,
        )
        return row

    async def objections(self, db: AsyncSession, who: Subject, tender_id: uuid.UUID) -> list[Objection]:
        tender = await self._tender(db, who, tender_id, "objection.view")
        query = select(Objection).where(Objection.tender_id == tender.id)
        if who.role == "bidder":  # a bidder sees its own objections only
            query = query.where(Objection.company_id == who.company_id)
        return list(await db.scalars(query.order_by(Objection.raised_at)))

    # -- the tenderer's decision (定标) ------------------------------------------------------------
    async def decide(
        self,
        db: AsyncSession,
        who: Subject,
        tender_id: uuid.UUID,
        company_id: uuid.UUID,
        reason: str,
        votes: dict[str, int] | None = None,
    ) -> TendererDecision:
        tender = await self._tender(db, who, tender_id, "decision.make")
        report = await db.scalar(select(CommitteeReport).where(CommitteeReport.tender_id == tender.id))
        assert report is not None  # recommended implies a finalised report
        candidates: list[str] = report.content["candidates"]
        if str(company_id) not in candidates:
            raise InvalidInput("decision.not_candidate")
        if not reason.strip():
            raise InvalidInput("decision.reason_required")
        method = (await self.draws.plan(db, tender.id)).decision_method
        votes = {k: int(v) for k, v in (votes or {}).items()}
        if method == "lowest_price":
            prices = {
                str(b.company_id): Decimal(b.price)
                for b in await db.scalars(select(EvaluationBid).where(EvaluationBid.tender_id == tender.id))
            }
            lowest = min(candidates, key=lambda c: (prices[c], candidates.index(c)))
            if str(company_id) != lowest:
                raise InvalidInput("decision.method_violated", method=method)
        elif method == "committee_vote":
            if set(votes) - set(candidates) or not votes or any(v < 0 for v in votes.values()):
                raise InvalidInput("decision.votes_invalid")
            top = max(votes.values())
            if votes.get(str(company_id)) != top or list(votes.values()).count(top) > 1:
                raise InvalidInput("decision.method_violated", method=method)
        row = await db.scalar(select(TendererDecision).where(TendererDecision.tender_id == tender.id))
        if row is not None and row.supervisor_status != "returned":
            raise Conflict("decision.exists")
        if row is None:
            row = TendererDecision(tender_id=tender.id)
            db.add(row)
        assert who.user_id is not None
        row.method, row.company_id, row.votes, row.reason = method, company_id, votes, reason.strip()
        row.decided_by, row.decided_at = who.user_id, self.services.clock.now()
        row.supervisor_status, row.supervisor_id, row.supervisor_note, row.supervisor_at = (
            "pending",
            None,
            None,
            None,
        )
        await db.flush()
        await self.services.ledger.append(
            db,
            "decision.made",
            {"tender": str(tender.id), "method": method, "bidder": str(company_id)},
            actor=who.user_id,
            subject=f"tender:{tender.id}",
        )
        return row

    async def file(
        self, db: AsyncSession, who: Subject, tender_id: uuid.UUID, accept: bool, note: str
    ) -> TendererDecision:
        tender = await self._tender(db, who, tender_id, "decision.file")
        row = await db.scalar(select(TendererDecision).where(TendererDecision.tender_id == tender.id))
        if row is None or row.supervisor_status != "pending":
            raise Conflict("decision.not_pending")
        if not accept and not note.strip():
            raise InvalidInput("decision.note_required")
        row.supervisor_status = "filed" if accept else "returned"
        row.supervisor_id, row.supervisor_note, row.supervisor_at = (
            who.user_id,
            note.strip() or None,
            self.services.clock.now(),
        )
        await db.flush()
        await self.services.ledger.append(
            db,
            "decision.filed" if accept else "decision.returned",
            {"tender": str(tender.id)},
            actor=who.user_id,
            subject=f"tender:{tender.id}",
        )
        return row

    async def decision(self, db: AsyncSession, who: Subject, tender_id: uuid.UUID) -> TendererDecision:
        tender = await self._tender(db, who, tender_id, "decision.view")
        row = await db.scalar(select(TendererDecision).where(TendererDecision.tender_id == tender.id))
        if row is None:
            raise NotFound("error.not_found", kind="decision")
        return row

    # -- award ----------------------------------------------------------------------------------------
    async def issue(self, db: AsyncSession, who: Subject, tender_id: uuid.UUID) -> list[AwardNotice]:
        tender = await self._tender(db, who, tender_id, "award.issue")
        pub = await self._publicity(db, tender.id)
        now = self.services.clock.now()
        if now < pub.ends_at:
            raise Conflict("award.publicity_running", until=pub.ends_at.isoformat())
        open_objections = await db.scalar(
            select(Objection.id).where(Objection.tender_id == tender.id, Objection.answer.is_(None)).limit(1)
        )
        if open_objections is not None:
            raise Conflict("award.objections_open")
        decision = await db.scalar(select(TendererDecision).where(TendererDecision.tender_id == tender.id))
        if decision is None or decision.supervisor_status != "filed":
            raise Conflict("award.decision_not_filed")
        bids = list(await db.scalars(select(EvaluationBid).where(EvaluationBid.tender_id == tender.id)))
        winner = next(b for b in bids if b.company_id == decision.company_id)
        notices = []
        for b in bids:
            kind = "award" if b.company_id == decision.company_id else "result"
            content = {
                "tender": str(tender.id),
                "reference": tender.reference,
                "title": tender.title,
                "winner": str(decision.company_id),
                "contract_price": winner.price,
                "kind": kind,
            }
            notices.append(
                AwardNotice(
                    tender_id=tender.id, company_id=b.company_id, kind=kind, content=content, issued_at=now
                )
            )
        db.add_all(notices)
        await db.flush()
        await self.services.tenders.transition(
            db,
            tender,
            "award",
            who.user_id,
            {"winner": str(decision.company_id), "contract_price": winner.price, "notices": len(notices)},
        )
        users = await db.scalars(select(User).where(User.company_id.in_([b.company_id for b in bids])))
        for u in users:
            await self.notifier.notify(
                db, u.id, "result", {"reference": tender.reference, "title": tender.title}
            )
        return notices

    async def notices(self, db: AsyncSession, who: Subject, tender_id: uuid.UUID) -> list[AwardNotice]:
        tender = await self._tender(db, who, tender_id, "notice.view")
        return list(
            await db.scalars(
                select(AwardNotice)
                .where(AwardNotice.tender_id == tender.id)
                .order_by(AwardNotice.kind, AwardNotice.company_id)
            )
        )
