"""Confirmed findings: the tender's (archive, its committee) and a bidder's record."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.ports import CommitteeLookup
from collusion import access
from collusion.models import Finding
from tenderhall.auth.policy import Subject, enforce
from tenderhall.auth.roles import Role
from tenderhall.errors import NotFound
from tenderhall.orgs.models import Company
from tenderhall.orgs.service import Companies
from tenderhall.tenders.models import Tender
from tenderhall.tenders.service import Tenders


class Findings:
    def __init__(
        self, tenders: Tenders, companies: Companies, committee: CommitteeLookup | None = None
    ) -> None:
        self.tenders = tenders
        self.companies = companies
        # Does this account sit on this tender's committee?  Evaluation's answer; without it only
        # staff and supervisors read findings.
        self.committee = committee

    async def of_tender(self, db: AsyncSession, who: Subject, tender_id: uuid.UUID) -> list[Finding]:
        tender = await db.get(Tender, tender_id)
        if tender is None:
            raise NotFound("error.not_found", kind="tender")
        member = False
        if who.role is Role.EXPERT and who.user_id is not None and self.committee is not None:
            member = await self.committee(db, tender.id, who.user_id)
        base = await self.tenders.resource(db, tender, who)
        enforce(
            who,
            "collusion.finding.view",
            access.finding_resource(base, who.user_id if member else None),
            hide="tender.view",
        )
        return list(
            await db.scalars(
                select(Finding).where(Finding.tender_id == tender_id).order_by(Finding.bidder_key)
            )
        )

    async def of_company(self, db: AsyncSession, who: Subject, company_id: uuid.UUID) -> list[Finding]:
        company = await db.get(Company, company_id)
        if company is None:
            raise NotFound("error.not_found", kind="company")
        enforce(who, "collusion.record.view", self.companies.resource(company), hide="company.view")
        return list(
            await db.scalars(
                select(Finding).where(Finding.company_id == company_id).order_by(Finding.confirmed_at)
            )
        )
