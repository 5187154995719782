"""A tender's public facts for OCDS, read from every package's tables (the only database code here).

Only what is public at the tender's state is read: bids (bidders, prices as read out in the
published opening record) only once the tender is awarded.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from archive.ocds.build import AmendmentFacts, AwardFacts, BidFacts, DocumentFacts, Org, TenderFacts
from archive.ocds.feed import Position
from bidding import queries
from bidding.models import OpeningHall
from evaluation.models import AwardNotice
from tenderhall.orgs.models import Company, Organisation
from tenderhall.tenders.lifecycle import TenderState
from tenderhall.tenders.models import Amendment, Tender

AWARDED = frozenset({TenderState.AWARDED.value, TenderState.ARCHIVED.value})


def public_tenders() -> Any:
    """Tenders that ever had a public notice (the ``ocds.view`` row's ``published`` scope)."""
    return select(Tender).where(Tender.state != TenderState.DRAFT.value, Tender.issued_at.is_not(None))


async def page(
    db: AsyncSession, after: Position | None, since: datetime | None, limit: int
) -> Sequence[Tender]:
    """Public tenders in (last change, id) order, after ``after`` and changed at or after ``since``."""
    query = public_tenders()
    if since is not None:
        query = query.where(Tender.updated_at >= since)
    if after is not None:
        query = query.where(
            or_(
                Tender.updated_at > after.changed_at,
                and_(Tender.updated_at == after.changed_at, Tender.id > after.tender_id),
            )
        )
    rows = await db.execute(query.order_by(Tender.updated_at, Tender.id).limit(limit))
    return list(rows.scalars())


def _org(row: Organisation | Company) -> Org:
    return Org(name=row.name, uscc=row.uscc, city=row.city or "")


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if value is not None else None
    except InvalidOperation:
        return None


async def _bids(db: AsyncSession, tender: Tender) -> list[BidFacts]:
    hall = await db.scalar(select(OpeningHall).where(OpeningHall.tender_id == tender.id))
    entries = {e["bid"]: e for e in ((hall.record or {}).get("bids", []) if hall is not None else [])}
    bids = await queries.participants(db, tender)
    companies = {
        c.id: c for c in await db.scalars(select(Company).where(Company.id.in_({b.company_id for b in bids})))
    }
    out = []
    for bid in bids:
        entry = entries.get(bid.bid_ref, {})
        out.append(
            BidFacts(
                ref=bid.bid_ref,
                bidder=_org(companies[bid.company_id]),
                state=bid.state,
                valid=bool(entry.get("valid")),
                price=_decimal(entry.get("price")),
                submitted_at=bid.submitted_at,
            )
        )
    return out


async def _awards(db: AsyncSession, tender: Tender, bids: Sequence[BidFacts]) -> list[AwardFacts]:
    rows = await db.execute(
        select(AwardNotice, Company)
        .join(Company, Company.id == AwardNotice.company_id)
        .where(AwardNotice.tender_id == tender.id, AwardNotice.kind == "award")
        .order_by(AwardNotice.issued_at, AwardNotice.id)
    )
    out = []
    for notice, company in rows.tuples():
        price = _decimal(notice.content.get("contract_price"))
        if price is None:
            continue  # every award notice names its price (evaluation.award); never guess one
        bid = next((b.ref for b in bids if b.bidder.uscc == company.uscc and b.valid), None)
        out.append(AwardFacts(str(notice.id), _org(company), price, notice.issued_at, bid))
    return out


async def tender_facts(db: AsyncSession, tender: Tender, ocid: str, base_url: str) -> TenderFacts:
    orgs = {
        o.id: o
        for o in await db.scalars(
            select(Organisation).where(Organisation.id.in_({tender.tenderer_id, tender.agency_id} - {None}))
        )
    }
    amendments = list(
        await db.scalars(select(Amendment).where(Amendment.tender_id == tender.id).order_by(Amendment.number))
    )
    # A document is published with the notice, or with the amendment that added it (the platform's
    # clock; the row's own creation time is the database's).
    published = {a.number: a.issued_at for a in amendments}
    bids: list[BidFacts] = []
    awards: list[AwardFacts] = []
    if tender.state in AWARDED:
        bids = await _bids(db, tender)
        awards = await _awards(db, tender, bids)
        if not awards:
            bids = []  # archived after failing or termination: no award, so no bid details
    ended_as = None
    if tender.state == TenderState.ARCHIVED.value:
        ended_as = "awarded" if awards else "terminated" if tender.terminated_reason else "failed"
    documents = [
        DocumentFacts(
            id=str(d.id),
            name=d.name,
            media_type=d.media_type,
            sha256=d.sha256,
            size=d.size,
            url=f"{base_url}/api/v1/tenders/{tender.id}/documents/{d.id}",
            published=published.get(d.amendment_no or 0) or tender.issued_at or d.created_at,
            amendment_no=d.amendment_no,
        )
        for d in tender.documents
    ]
    return TenderFacts(
        ocid=ocid,
        tender_id=str(tender.id),
        reference=tender.reference,
        title=tender.title,
        description=tender.description,
        state=tender.state,
        procedure=tender.procedure,
        category=tender.category,
        estimate_fen=tender.estimate_fen,
        changed_at=tender.updated_at,
        issued_at=tender.issued_at,
        deadline_at=tender.deadline_at,
        buyer=_org(orgs[tender.tenderer_id]),
        agency=_org(orgs[tender.agency_id]) if tender.agency_id in orgs else None,
        documents=documents,
        amendments=[
            AmendmentFacts(a.number, a.summary, a.issued_at, a.old_deadline, a.new_deadline)
            for a in amendments
        ],
        bids=bids,
        awards=awards,
        ended_as=ended_as,
    )


def tender_id_of(ocid: str, prefix: str) -> uuid.UUID | None:
    """The tender an ocid names, or None when it is not one of this platform's ocids."""
    head, _, tail = ocid.partition(f"{prefix}-")
    if head or not tail:
        return None
    try:
        tender_id = uuid.UUID(tail)
    except ValueError:
        return None
    return tender_id if str(tender_id) == tail else None  # one spelling per tender
