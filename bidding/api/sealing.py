"""A tender's sealing terms: the custodian remedy (k of n) and what bidders seal to."""

from __future__ import annotations

import uuid

import msgspec
from litestar import Controller, get, put
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.api.inputs import RemedyIn
from bidding.api.schemas import RemedyOut, SealingOut
from bidding.service import Bidding
from tenderhall.auth.policy import Subject
from tenderhall.web.openapi import PUBLIC


class SealingController(Controller):
    path = "/api/v1/tenders/{tender_id:uuid}"
    tags = ["bidding"]

    @put("/remedy", summary="Set the custodian remedy (k of n) of a draft")
    async def remedy(
        self, tender_id: uuid.UUID, data: RemedyIn, who: Subject, bidding: Bidding, db_session: AsyncSession
    ) -> RemedyOut:
        remedy = await bidding.sealing_terms.set_remedy(db_session, who, tender_id, data.k, data.custodians)
        return msgspec.convert({"k": remedy.k, "custodians": remedy.custodians}, RemedyOut)

    @get("/sealing", summary="What to seal to: custodians, k/n, deadline, bond cap", opt=PUBLIC)
    async def sealing(
        self, tender_id: uuid.UUID, who: Subject, bidding: Bidding, db_session: AsyncSession
    ) -> SealingOut:
        return msgspec.convert(await bidding.sealing_terms.sealing(db_session, who, tender_id), SealingOut)
