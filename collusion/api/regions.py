"""Region-wide reads and runs: the evidence graph, a tender's check and findings, a bidder's record."""

from __future__ import annotations

import uuid
from typing import Annotated

import msgspec
from litestar import Controller, get, post
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from collusion.api.paths import PREFIX
from collusion.api.schemas import CheckOut, FindingOut, RegionGraphOut, findings_out
from collusion.service import Collusion
from tenderhall.auth.policy import Subject


class RegionController(Controller):
    path = PREFIX
    tags = ["collusion"]

    @get("/graph", summary="The region's evidence graph (edges of at least min_weight, or hard)")
    async def region_graph(
        self,
        collusion: Collusion,
        who: Subject,
        db_session: AsyncSession,
        min_weight: Annotated[float, Parameter(ge=0, le=1)] = 0.5,
    ) -> RegionGraphOut:
        view = await collusion.graphs.region_graph(db_session, who, min_weight=min_weight)
        return msgspec.convert(view, RegionGraphOut)

    @post("/tenders/{tender_id:uuid}/check", status_code=200, summary="Run the detector on an opened tender")
    async def check(
        self, collusion: Collusion, who: Subject, db_session: AsyncSession, tender_id: uuid.UUID
    ) -> CheckOut:
        return CheckOut.of(tender_id, await collusion.runs.check(db_session, who, tender_id))

    @get("/tenders/{tender_id:uuid}/findings", summary="Confirmed findings of a tender (committee, staff)")
    async def tender_findings(
        self, collusion: Collusion, who: Subject, db_session: AsyncSession, tender_id: uuid.UUID
    ) -> list[FindingOut]:
        return findings_out(await collusion.findings.of_tender(db_session, who, tender_id))

    @get("/companies/{company_id:uuid}/findings", summary="A bidder's record of confirmed findings")
    async def company_findings(
        self, collusion: Collusion, who: Subject, db_session: AsyncSession, company_id: uuid.UUID
    ) -> list[FindingOut]:
        return findings_out(await collusion.findings.of_company(db_session, who, company_id))
