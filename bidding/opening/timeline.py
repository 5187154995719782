"""The hall's time-driven steps and its access checks.

Every hall action loads the tender under its row lock and first applies what is due by the
injected clock (start of opening, end of the window, end of signing), so time-driven steps are
decided in the transaction that acts on them.  Reading the hall takes the lock only when a step
is due.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bidding import hall, queries
from bidding.live import HallLive
from bidding.models import Bid, BidState, OpeningHall, RecordResponse
from tenderhall.auth.policy import Resource, Subject, enforce, permits
from tenderhall.auth.roles import Role
from tenderhall.clock import Clock
from tenderhall.ledger.service import Ledger
from tenderhall.tenders import lifecycle
from tenderhall.tenders.lifecycle import TenderState
from tenderhall.tenders.models import Tender
from tenderhall.tenders.service import Tenders


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


@dataclasses.dataclass(eq=False)
class Timeline:
    clock: Clock
    ledger: Ledger
    tenders: Tenders
    live: HallLive

    async def resource(self, db: AsyncSession, tender: Tender, who: Subject) -> Resource:
        resource = await self.tenders.resource(db, tender, who)
        if who.role is Role.CUSTODIAN and await self.slot(db, tender, who) is not None:
            resource = dataclasses.replace(resource, user_id=who.user_id)
        return resource

    async def slot(self, db: AsyncSession, tender: Tender, who: Subject) -> dict[str, Any] | None:
        remedy = await queries.remedy(db, tender.id)
        if remedy is None:
            return None
        return next((c for c in remedy.custodians if c["user_id"] == str(who.user_id)), None)

    async def load(
        self, db: AsyncSession, who: Subject, tender_id: uuid.UUID, action: str
    ) -> tuple[Tender, OpeningHall | None]:
        tender = await self.tenders.load(db, who, tender_id, "tender.view", lock=True)
        current = await self.advance(db, tender)
        resource = await self.resource(db, tender, who)
        if not permits(who, action, resource):
            enforce(who, action, resource, hide="hall.view")
        return tender, current

    async def read(
        self, db: AsyncSession, who: Subject, tender_id: uuid.UUID, action: str
    ) -> tuple[Tender, OpeningHall | None]:
        """As :meth:`load`, for reading: the tender's lock is taken only when a time-driven step
        is due, so that viewers (all of them, after every change) do not queue on it."""
        tender = await self.tenders.load(db, who, tender_id, "tender.view")
        due, current = await self._due(db, tender)
        if due:
            for stale in (tender, current):  # the locked read below must see the rows as they are
                if stale is not None:
                    db.expire(stale)
            return await self.load(db, who, tender_id, action)
        resource = await self.resource(db, tender, who)
        if not permits(who, action, resource):
            enforce(who, action, resource, hide="hall.view")
        return tender, current

    # -- time -------------------------------------------------------------------------------------
    @staticmethod
    def _opening_due(tender: Tender, current: OpeningHall | None, now: datetime) -> bool:
        return (
            current is None
            and tender.state == TenderState.CLOSED.value
            and tender.opening_at is not None
            and now >= tender.opening_at
        )

    async def _due(self, db: AsyncSession, tender: Tender) -> tuple[bool, OpeningHall | None]:
        """Whether :meth:`advance` (or the tender's own deadline) has anything to do now, and the
        hall as read."""
        now = self.clock.now()
        current = await queries.hall_of(db, tender)
        if lifecycle.due_transitions(TenderState(tender.state), tender.deadline_at, now):
            return True, current
        if self._opening_due(tender, current, now):
            return True, current
        if current is None or tender.state != TenderState.OPENING.value:
            return False, current
        unanswered = await self._unanswered_if_signing(db, tender, current)
        steps = hall.due_steps(
            hall.Phase(current.phase), now, current.window_ends_at, current.sign_deadline, unanswered
        )
        return bool(steps), current

    async def advance(self, db: AsyncSession, tender: Tender) -> OpeningHall | None:
        """Apply the hall steps due now; the caller holds the tender's row lock."""
        now = self.clock.now()
        current = await queries.hall_of(db, tender)
        if self._opening_due(tender, current, now):
            assert tender.opening_at is not None
            rules = await self.tenders.rules(db, tender)
            window_end = tender.opening_at + timedelta(minutes=rules.decryption_window_minutes)
            await self.tenders.transition(
                db,
                tender,
                "start_opening",
                None,
                {"opening_at": _iso(tender.opening_at), "window_ends_at": _iso(window_end)},
            )
            current = OpeningHall(
                tender_id=tender.id,
                phase=hall.Phase.DECRYPTING.value,
                opened_at=tender.opening_at,
                window_ends_at=window_end,
            )
            db.add(current)
            await db.flush()
            self.live.announce(db, tender.id, "opened")
        if current is None or tender.state != TenderState.OPENING.value:
            return current
        unanswered = await self._unanswered_if_signing(db, tender, current)
        for step in hall.due_steps(
            hall.Phase(current.phase), now, current.window_ends_at, current.sign_deadline, unanswered
        ):
            if step == "end_window":
                await self._end_window(db, tender, current)
            elif step == "finish":
                await self.finish_hall(db, tender, current, None)
        return current

    async def _end_window(self, db: AsyncSession, tender: Tender, current: OpeningHall) -> None:
        bids = await queries.participants(db, tender)
        sealed = [b for b in bids if b.state == BidState.SUBMITTED.value]
        remedy = await queries.remedy(db, tender.id)
        phase = hall.after_window(remedy is not None, len(sealed))
        current.phase = phase.value
        await self.ledger.append(
            db,
            "hall.window_closed",
            {"tender": str(tender.id), "sealed": [b.bid_ref for b in sealed], "next": phase.value},
            subject=f"tender:{tender.id}",
        )
        if phase is hall.Phase.CUSTODIANS:
            assert remedy is not None
            await self.ledger.append(
                db,
                "hall.shares_requested",
                {"tender": str(tender.id), "bids": [b.bid_ref for b in sealed], "k": remedy.k},
                subject=f"tender:{tender.id}",
            )
        else:
            for bid in sealed:
                await self.classify(db, tender, bid)
        await db.flush()
        self.live.announce(db, tender.id, "window_closed")

    async def classify(self, db: AsyncSession, tender: Tender, bid: Bid) -> None:
        cause = hall.Cause(bid.failure_cause or hall.Cause.BIDDER.value)
        bid.failure_cause = cause.value
        bid.state = hall.classify(cause).value
        await self.ledger.append(
            db,
            "bid.classified",
            {"tender": str(tender.id), "bid": bid.bid_ref, "cause": cause.value, "outcome": bid.state},
            subject=f"tender:{tender.id}",
        )

    async def _unanswered_if_signing(self, db: AsyncSession, tender: Tender, current: OpeningHall) -> int:
        """Objections hold only the end of signing (``hall.due_steps``); other phases skip the query."""
        return await self.unanswered(db, tender) if current.phase == hall.Phase.SIGNING.value else 0

    async def unanswered(self, db: AsyncSession, tender: Tender) -> int:
        rows = await db.execute(
            select(RecordResponse.id).where(
                RecordResponse.tender_id == tender.id,
                RecordResponse.kind == "objection",
                RecordResponse.answer.is_(None),
            )
        )
        return len(rows.all())

    async def finish_hall(
        self, db: AsyncSession, tender: Tender, current: OpeningHall, actor: uuid.UUID | None
    ) -> None:
        bids = await queries.participants(db, tender)
        responded = set(
            (
                await db.execute(
                    select(RecordResponse.company_id).where(RecordResponse.tender_id == tender.id)
                )
            ).scalars()
        )
        now = self.clock.now()
        for company_id in sorted({b.company_id for b in bids} - responded):
            db.add(
                RecordResponse(
                    tender_id=tender.id,
                    company_id=company_id,
                    kind="silent",
                    record_sha256=current.record_sha256 or "",
                    at=now,
                )
            )
        rules = await self.tenders.rules(db, tender)
        valid = int((current.record or {}).get("valid_bids", 0))
        result = hall.outcome(valid, rules.min_valid_bids)
        current.phase = hall.Phase.CLOSED.value
        current.outcome = result
        await db.flush()
        data = {
            "valid_bids": valid,
            "min_valid_bids": rules.min_valid_bids,
            "record_sha256": current.record_sha256,
        }
        await self.tenders.transition(
            db, tender, "finish_opening" if result == "opened" else "fail", actor, data
        )
        self.live.announce(db, tender.id, "finished")
