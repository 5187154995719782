"""Tenderer representatives (招标人代表) on the evaluation committee.

The law lets the tenderer seat its own staff on the committee, as long as drawn experts stay at
least two thirds of it (招标投标法 第三十七条); the draw request fixes how many.  A representative
is appointed, not drawn: the seat starts *accepted*, and like every member the representative
signs the 回避声明 before seeing anything.  A representative who declares a conflict, or does not
come, leaves the seat empty until the tenderer appoints someone else; the draw's reserve list is
for expert seats only.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from evaluation.access import evaluation_resource
from evaluation.models import CommitteeSeat, DrawRequest, DrawStatus, SeatKind, SeatStatus
from evaluation.notify import Notifier
from tenderhall.auth.models import User
from tenderhall.auth.policy import Subject, enforce
from tenderhall.auth.roles import Role
from tenderhall.errors import Conflict, InvalidInput
from tenderhall.services import Services

VACANT = frozenset({SeatStatus.DECLINED.value, SeatStatus.NO_SHOW.value, SeatStatus.CONFLICT.value})


def representative_seats(req: DrawRequest) -> int:
    """Seats the committee keeps for tenderer representatives: size minus drawn experts."""
    return req.committee_size - sum(req.seats.values())


async def live_request(db: AsyncSession, tender_id: uuid.UUID) -> DrawRequest | None:
    found: DrawRequest | None = await db.scalar(
        select(DrawRequest)
        .where(DrawRequest.tender_id == tender_id, DrawRequest.status != DrawStatus.REJECTED.value)
        .order_by(DrawRequest.created_at.desc())
        .limit(1)
    )
    return found


class Representatives:
    def __init__(self, services: Services, notifier: Notifier) -> None:
        self.services = services
        self.notifier = notifier

    async def appoint(
        self, db: AsyncSession, who: Subject, tender_id: uuid.UUID, user_id: uuid.UUID
    ) -> CommitteeSeat:
        tender = await self.services.tenders.load(db, who, tender_id, lock=True)
        resource = await evaluation_resource(self.services, db, tender, who)
        enforce(who, "committee.representative.appoint", resource, hide="tender.view")
        req = await live_request(db, tender.id)
        if req is None:
            raise Conflict("representative.no_draw")
        needed = representative_seats(req)
        if needed <= 0:
            raise Conflict("representative.none_needed")
        user = await db.get(User, user_id)
        if (
            user is None
            or user.role != Role.TENDERER.value
            or user.organisation_id != tender.tenderer_id
            or not user.is_active
        ):
            raise InvalidInput("representative.not_tenderer_staff")
        seats = list(
            await db.scalars(
                select(CommitteeSeat).where(
                    CommitteeSeat.tender_id == tender.id,
                    CommitteeSeat.kind == SeatKind.REPRESENTATIVE.value,
                )
            )
        )
        if any(s.user_id == user.id for s in seats):
            # Seated already, or vacated the seat (a declared conflict stays a conflict).
            raise Conflict("representative.already_appointed")
        held = {s.seat_no for s in seats if s.status not in VACANT}
        if len(held) >= needed:
            raise Conflict("representative.seats_full", needed=needed)
        experts = sum(req.seats.values())
        seat_no = min(n for n in range(experts + 1, req.committee_size + 1) if n not in held)
        now = self.services.clock.now()
        seat = CommitteeSeat(
            tender_id=tender.id,
            kind=SeatKind.REPRESENTATIVE.value,
            draw_id=None,
            expert_id=None,
            user_id=user.id,
            seat_no=seat_no,
            specialty="",
            status=SeatStatus.ACCEPTED.value,
            respond_by=now,
            responded_at=now,
        )
        db.add(seat)
        await db.flush()
        # Public ledger: the seat number and a keyed commitment, never the person.
        await self.services.ledger.append(
            db,
            "seat.representative_appointed",
            {
                "tender": str(tender.id),
                "seat_no": seat_no,
                "member": self.services.ledger.blind("seat", str(tender.id), str(user.id)),
            },
            actor=who.user_id,
            subject=f"tender:{tender.id}",
        )
        await self.notifier.notify(
            db,
            user.id,
            "representative",
            {"reference": tender.reference, "title": tender.title, "seat": str(seat.id)},
            email=user.email,
        )
        return seat
