"""Credit blacklists (信用中国 and the like): each imported version, checked against at acceptance."""

from __future__ import annotations

from litestar import Controller, post
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.api.inputs import CreditListIn
from bidding.api.schemas import CreditListOut
from bidding.service import Bidding
from tenderhall.auth.policy import Subject


class CreditListController(Controller):
    path = "/api/v1/bidding"
    tags = ["bidding"]

    @post("/credit-lists", summary="Import a credit blacklist version (CSV or JSON)")
    async def credit_list(
        self, data: CreditListIn, who: Subject, bidding: Bidding, db_session: AsyncSession
    ) -> CreditListOut:
        row = await bidding.credit.import_credit_list(
            db_session, who, data.content.encode(), data.format, data.source, data.published_on
        )
        return CreditListOut(id=row.id, version=row.version_hash, entries=row.entry_count)
