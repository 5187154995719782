"""Policy resources for evaluation objects (the rows live in the policy table's evaluation block)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from evaluation.models import CommitteeSeat, Expert, SeatStatus
from tenderhall.auth.policy import Resource, Subject
from tenderhall.orgs.models import Centre
from tenderhall.services import Services
from tenderhall.tenders.models import Tender


async def expert_resource(db: AsyncSession, expert: Expert) -> Resource:
    return Resource(kind="expert", region_id=expert.region_id, user_id=expert.user_id)


def label(seat: CommitteeSeat) -> str:
    """How members appear to each other, in reports and in the ledger: by seat, never by name."""
    return f"M{seat.seat_no}"


def seat_resource(seat: CommitteeSeat) -> Resource:
    return Resource(kind="seat", state=seat.status, user_id=seat.user_id)


async def active_seat(
    db: AsyncSession, tender_id: uuid.UUID, user_id: uuid.UUID | None
) -> CommitteeSeat | None:
    if user_id is None:
        return None
    found: CommitteeSeat | None = await db.scalar(
        select(CommitteeSeat).where(
            CommitteeSeat.tender_id == tender_id,
            CommitteeSeat.user_id == user_id,
            CommitteeSeat.status == SeatStatus.ACTIVE.value,
        )
    )
    return found


async def committee_member(db: AsyncSession, tender_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    """Does the user hold an active seat (accepted and declared free of conflicts) on the
    tender's committee?  Bidding and collusion ask this (``bidding.ports.COMMITTEE``) to let the
    committee, only, read."""
    return await active_seat(db, tender_id, user_id) is not None


async def evaluation_resource(services: Services, db: AsyncSession, tender: Tender, who: Subject) -> Resource:
    """The tender as evaluation sees it; ``user_id`` is the asker's only if it sits on the committee."""
    base = await services.tenders.resource(db, tender, who)
    seat = await active_seat(db, tender.id, who.user_id)
    return Resource(
        kind="evaluation",
        state=base.state,
        region_id=base.region_id,
        centre_id=base.centre_id,
        organisation_ids=base.organisation_ids,
        registered_companies=base.registered_companies,
        user_id=who.user_id if seat is not None else None,
    )


async def region_of_centre(db: AsyncSession, centre_id: uuid.UUID) -> uuid.UUID | None:
    centre = await db.get(Centre, centre_id)
    return centre.region_id if centre else None
