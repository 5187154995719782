"""Bidding's part of the "my work" page (``plugin.work_items``): a bidder's registered tenders
with their deadlines, its bids, the opening halls to sign in to and the records to sign; staff's
objections to answer in the hall; a custodian's shares to release.

Every item passes the policy table for its object; the queries only narrow what is read.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.hall import Phase
from bidding.models import Bid, BidState, OpeningHall, RecordResponse, ShareRelease, TenderRemedy
from tenderhall.auth.policy import Resource, Subject, permits
from tenderhall.auth.roles import Role
from tenderhall.services import Services
from tenderhall.tenders.lifecycle import TenderState as T
from tenderhall.tenders.models import Registration, Tender
from tenderhall.work.items import Urgency, WorkItem, urgency_of

LIVE_BIDS = (BidState.SUBMITTED.value, BidState.DECRYPTED.value)
# Tenders a bidder still has something to do or watch in; later stages are the results' pages.
BIDDER_STATES = (T.PUBLISHED.value, T.CLOSED.value, T.OPENING.value, T.OPENED.value)
MAX_ROWS = 200


async def work_items(db: AsyncSession, services: Services, who: Subject) -> list[WorkItem]:
    match who.role:
        case Role.BIDDER:
            return await _bidder(db, services, who)
        case Role.STAFF:
            return await _hall_objections(db, services, who)
        case Role.CUSTODIAN:
            return await _shares(db, services, who)
    return []


def _item(
    kind: str, tender: Tender, urgency: Urgency, deadline: datetime | None, **extra: object
) -> WorkItem:
    link = f"/tenders/{tender.id}/hall" if kind.startswith("hall.") else None
    detail = str(extra.pop("detail", ""))
    return WorkItem.about(tender, kind, urgency, deadline, link=link, detail=detail, params=extra)


async def _bidder(db: AsyncSession, services: Services, who: Subject) -> list[WorkItem]:
    tenders = list(
        await db.scalars(
            select(Tender)
            .join(Registration, Registration.tender_id == Tender.id)
            .where(Registration.company_id == who.company_id, Tender.state.in_(BIDDER_STATES))
            .order_by(Tender.deadline_at)
            .limit(MAX_ROWS)
        )
    )
    if not tenders:
        return []
    ids = [t.id for t in tenders]
    bids = {
        b.tender_id: b
        for b in await db.scalars(
            select(Bid).where(
                Bid.tender_id.in_(ids), Bid.company_id == who.company_id, Bid.state.in_(LIVE_BIDS)
            )
        )
    }
    halls = {
        h.tender_id: h for h in await db.scalars(select(OpeningHall).where(OpeningHall.tender_id.in_(ids)))
    }
    answered = set(
        await db.scalars(
            select(RecordResponse.tender_id).where(
                RecordResponse.tender_id.in_(ids), RecordResponse.company_id == who.company_id
            )
        )
    )
    resources = await services.tenders.resources(db, tenders, who)
    now = services.clock.now()
    items = []
    for tender in tenders:
        resource = resources[tender.id]
        if not permits(who, "tender.registration.view", resource):
            continue
        bid, hall = bids.get(tender.id), halls.get(tender.id)
        mine = dataclasses.replace(resource, kind="bid", company_id=who.company_id)
        state = services.tenders.state_now(tender)
        if state == T.PUBLISHED.value:
            if bid is None and permits(who, "bid.submit", resource):
                items.append(
                    _item("bid.to_submit", tender, urgency_of(tender.deadline_at, now), tender.deadline_at)
                )
            elif bid is not None and permits(who, "bid.view", mine):
                items.append(
                    _item("bid.submitted", tender, Urgency.INFO, tender.deadline_at, bid=bid.bid_ref)
                )
        elif bid is None or not permits(who, "bid.view", mine):
            continue
        elif hall is None and state == T.CLOSED.value:
            # The hall opens at the opening time: the bidder signs in then to decrypt its bid.
            when = tender.opening_at or tender.deadline_at
            items.append(_item("hall.sign_in", tender, urgency_of(when, now), when))
        elif hall is not None and bid.state == BidState.SUBMITTED.value and now < hall.window_ends_at:
            if permits(who, "bid.decrypt", mine):
                items.append(_item("hall.decrypt", tender, Urgency.NOW, hall.window_ends_at))
        elif (
            hall is not None
            and hall.phase == Phase.SIGNING.value
            and tender.id not in answered
            and permits(who, "record.respond", mine)
        ):
            deadline = hall.sign_deadline
            items.append(_item("hall.sign_record", tender, urgency_of(deadline, now), deadline))
    return items


async def _hall_objections(db: AsyncSession, services: Services, who: Subject) -> list[WorkItem]:
    """Objections to the opening record (开标异议) that staff answer in the hall, on the spot."""
    rows = (
        (
            await db.execute(
                select(RecordResponse, Tender)
                .join(Tender, Tender.id == RecordResponse.tender_id)
                .where(
                    Tender.centre_id == who.centre_id,
                    RecordResponse.kind == "objection",
                    RecordResponse.answer.is_(None),
                )
                .order_by(RecordResponse.at)
                .limit(MAX_ROWS)
            )
        )
        .tuples()
        .all()
    )
    resources = await services.tenders.resources(db, [t for _, t in rows], who)
    return [
        _item("hall.objection", tender, Urgency.NOW, None, detail=response.text or "")
        for response, tender in rows
        if permits(who, "hall.run", resources[tender.id])
    ]


async def _shares(db: AsyncSession, services: Services, who: Subject) -> list[WorkItem]:
    """Bids a custodian is asked to help open: the window ended and they are still sealed."""
    rows = (
        (
            await db.execute(
                select(Tender, OpeningHall, TenderRemedy)
                .join(OpeningHall, OpeningHall.tender_id == Tender.id)
                .join(TenderRemedy, TenderRemedy.tender_id == Tender.id)
                .where(
                    Tender.state == T.OPENING.value,
                    OpeningHall.phase.in_((Phase.DECRYPTING.value, Phase.CUSTODIANS.value)),
                )
                .limit(MAX_ROWS)
            )
        )
        .tuples()
        .all()
    )
    now = services.clock.now()
    items = []
    for tender, hall, remedy in rows:
        slot = next((c for c in remedy.custodians if c.get("user_id") == str(who.user_id)), None)
        if slot is None or (hall.phase == Phase.DECRYPTING.value and now < hall.window_ends_at):
            continue
        if not permits(who, "share.release", Resource(kind="share", state=tender.state, user_id=who.user_id)):
            continue
        sealed = list(
            await db.scalars(
                select(Bid.id).where(Bid.tender_id == tender.id, Bid.state == BidState.SUBMITTED.value)
            )
        )
        released = set(
            await db.scalars(
                select(ShareRelease.bid_id).where(
                    ShareRelease.bid_id.in_(sealed), ShareRelease.custodian_id == str(slot["id"])
                )
            )
        )
        waiting = len([b for b in sealed if b not in released])
        if waiting:
            items.append(_item("hall.release_share", tender, Urgency.NOW, None, bids=waiting))
    return items
