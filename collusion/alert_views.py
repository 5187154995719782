"""What a reviewer reads about one alert: the tender's bids and their evidence, names, comments,
and the alert's ledger events."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from collusion.alert_ledger import alert_subject
from collusion.alerts import AlertReview
from collusion.models import Alert, AlertComment, HistoryBid
from collusion.runs import as_uuid
from tenderhall.auth.policy import Subject
from tenderhall.ledger.models import LedgerEntry
from tenderhall.orgs.models import Company


@dataclass
class AlertDetail:
    alert: Alert
    moves: list[str]  # what the reader may do with it now
    names: dict[str, str]  # company names by bidder key (registered companies only)
    bids: list[HistoryBid]  # the tender's bids, cheapest first: the evidence behind the reasons
    comments: list[AlertComment]


async def company_names(db: AsyncSession, keys: Iterable[str]) -> dict[str, str]:
    ids = [i for i in map(as_uuid, keys) if i is not None]
    if not ids:
        return {}
    rows = await db.execute(select(Company.id, Company.name).where(Company.id.in_(ids)))
    return {str(i): n for i, n in rows.tuples()}


class AlertViews:
    def __init__(self, review: AlertReview) -> None:
        self.review = review

    async def detail(self, db: AsyncSession, who: Subject, alert_id: uuid.UUID) -> AlertDetail:
        alert = await self.review.get(db, who, alert_id)
        bids = await db.scalars(
            select(HistoryBid)
            .where(HistoryBid.region_id == alert.region_id, HistoryBid.tender_key == alert.tender_key)
            .order_by(HistoryBid.price)
        )
        return AlertDetail(
            alert,
            self.review.moves(who, alert),
            await company_names(db, alert.bidders),
            list(bids),
            await self.comments(db, alert),
        )

    async def comments(self, db: AsyncSession, alert: Alert) -> list[AlertComment]:
        return list(
            await db.scalars(
                select(AlertComment)
                .where(AlertComment.alert_id == alert.id)
                .order_by(AlertComment.written_at, AlertComment.id)
            )
        )

    async def events(self, db: AsyncSession, who: Subject, alert_id: uuid.UUID) -> list[LedgerEntry]:
        alert = await self.review.get(db, who, alert_id)
        return list(
            await db.scalars(
                select(LedgerEntry)
                .where(LedgerEntry.subject == alert_subject(alert.id))
                .order_by(LedgerEntry.id)
            )
        )
