"""Regions, centres, organisations and the bidder company registry."""

from __future__ import annotations

import uuid
from dataclasses import fields
from typing import Annotated

from litestar import Controller, get, patch, post, put
from litestar.params import Parameter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tenderhall.auth.models import User
from tenderhall.auth.policy import Subject
from tenderhall.orgs.models import Centre, Company, Organisation, OrganisationKind, Region
from tenderhall.orgs.service import CompanyData, PersonData
from tenderhall.services import Services
from tenderhall.tenders.procedures import ProcedureRules, ProcedureType
from tenderhall.web.api.schemas import (
    BankAccountOut,
    CentreIn,
    CentreOut,
    CompanyIn,
    CompanyOut,
    OrganisationIn,
    OrganisationOut,
    PageLimit,
    PageOffset,
    PageOut,
    PersonOut,
    ProcedureRulesIn,
    ProcedureRulesOut,
    RegionIn,
    RegionOut,
    values_of,
)
from tenderhall.web.openapi import PUBLIC

ProcedurePath = Annotated[str, Parameter(schema_extra={"enum": values_of(ProcedureType)})]


def company_out(c: Company) -> CompanyOut:
    return CompanyOut(
        id=c.id,
        name=c.name,
        uscc=c.uscc,
        city=c.city,
        region_id=c.region_id,
        legal_representative=c.legal_representative,
        address=c.address,
        sme=c.sme,
        persons=[
            PersonOut(
                role=p.role,
                name=p.name,
                phone=p.phone,
                email=p.email,
                share_percent=p.share_percent,
                certificate_no=p.certificate_no,
            )
            for p in c.persons
        ],
        bank_accounts=[
            BankAccountOut(bank=b.bank, account_no=b.account_no, account_name=b.account_name)
            for b in c.bank_accounts
        ],
    )


def region_out(r: Region) -> RegionOut:
    return RegionOut(id=r.id, code=r.code, name=r.name)


def centre_out(c: Centre) -> CentreOut:
    return CentreOut(id=c.id, region_id=c.region_id, code=c.code, name=c.name, city=c.city)


def organisation_out(o: Organisation) -> OrganisationOut:
    return OrganisationOut(id=o.id, kind=o.kind, name=o.name, uscc=o.uscc, city=o.city)


def rules_out(rules: ProcedureRules) -> ProcedureRulesOut:
    return ProcedureRulesOut(**{f.name: str(getattr(rules, f.name)) for f in fields(rules)})


def company_data(data: CompanyIn) -> CompanyData:
    return CompanyData(
        name=data.name,
        uscc=data.uscc,
        city=data.city,
        legal_representative=data.legal_representative,
        region_id=data.region_id,
        address=data.address,
        sme=data.sme,
        persons=[
            PersonData(
                role=p.role,
                name=p.name,
                id_number=p.id_number,
                phone=p.phone,
                email=p.email,
                share_percent=p.share_percent,
                certificate_no=p.certificate_no,
            )
            for p in data.persons
        ],
        bank_accounts=[(b.bank, b.account_no, b.account_name) for b in data.bank_accounts],
    )


class DirectoryController(Controller):
    path = "/api/v1"
    tags = ["directory"]

    @get("/regions", summary="Regions", opt=PUBLIC)
    async def regions(self, db_session: AsyncSession) -> list[RegionOut]:
        rows = await db_session.execute(select(Region).order_by(Region.code))
        return [region_out(r) for r in rows.scalars()]

    @get("/centres", summary="Trading centres", opt=PUBLIC)
    async def centres(self, db_session: AsyncSession) -> list[CentreOut]:
        rows = await db_session.execute(select(Centre).order_by(Centre.code))
        return [centre_out(c) for c in rows.scalars()]

    @get("/organisations", summary="Tenderers and agencies (public directory)", opt=PUBLIC)
    async def organisations(
        self,
        db_session: AsyncSession,
        kind: OrganisationKind | None = None,  # an unknown kind is a malformed request (400)
    ) -> list[OrganisationOut]:
        query = select(Organisation).order_by(Organisation.name)
        if kind:
            query = query.where(Organisation.kind == kind)
        return [organisation_out(o) for o in (await db_session.execute(query)).scalars()]

    @post("/regions", summary="Create a region (admin)")
    async def create_region(
        self, data: RegionIn, who: Subject, services: Services, db_session: AsyncSession
    ) -> RegionOut:
        return region_out(await services.directory.create_region(db_session, who, data.code, data.name))

    @post("/centres", summary="Create a trading centre (admin)")
    async def create_centre(
        self, data: CentreIn, who: Subject, services: Services, db_session: AsyncSession
    ) -> CentreOut:
        return centre_out(
            await services.directory.create_centre(
                db_session, who, data.region_id, data.code, data.name, data.city
            )
        )

    @post("/organisations", summary="Register a tenderer or agency (admin; USCC checked)")
    async def create_organisation(
        self, data: OrganisationIn, who: Subject, services: Services, db_session: AsyncSession
    ) -> OrganisationOut:
        return organisation_out(
            await services.directory.create_organisation(
                db_session, who, data.region_id, data.kind, data.name, data.uscc, data.city
            )
        )

    @get(
        "/regions/{region_id:uuid}/procedures/{procedure:str}",
        summary="A procedure's rules in a region",
        opt=PUBLIC,
    )
    async def procedure_rules(
        self, region_id: uuid.UUID, procedure: ProcedurePath, services: Services, db_session: AsyncSession
    ) -> ProcedureRulesOut:
        return rules_out(await services.tenders.region_rules(db_session, region_id, procedure))

    @put(
        "/regions/{region_id:uuid}/procedures/{procedure:str}", summary="Override a procedure's rules (admin)"
    )
    async def set_procedure_rules(
        self,
        region_id: uuid.UUID,
        procedure: ProcedurePath,
        data: ProcedureRulesIn,
        who: Subject,
        services: Services,
        db_session: AsyncSession,
    ) -> ProcedureRulesOut:
        return rules_out(
            await services.tenders.set_overrides(db_session, who, region_id, procedure, data.overrides)
        )


class CompanyController(Controller):
    path = "/api/v1/companies"
    tags = ["companies"]

    @get("/", summary="Companies the caller may see (a bidder: only its own)")
    async def list_companies(
        self,
        user: User,
        who: Subject,
        services: Services,
        db_session: AsyncSession,
        q: Annotated[str | None, Parameter(max_length=100)] = None,
        limit: PageLimit = 20,
        offset: PageOffset = 0,
    ) -> PageOut[CompanyOut]:
        items, total = await services.companies.search(db_session, who, q, limit, offset)
        return PageOut(items=[company_out(c) for c in items], total=total, limit=limit, offset=offset)

    @post("/", summary="Register a bidder company (USCC checked per GB 32100-2015)")
    async def create(
        self, data: CompanyIn, who: Subject, services: Services, db_session: AsyncSession
    ) -> CompanyOut:
        return company_out(await services.companies.create(db_session, who, company_data(data)))

    @get("/{company_id:uuid}", summary="One company")
    async def get_company(
        self, company_id: uuid.UUID, user: User, who: Subject, services: Services, db_session: AsyncSession
    ) -> CompanyOut:
        return company_out(await services.companies.get(db_session, who, company_id))

    @patch("/{company_id:uuid}", summary="Update a company's registry data")
    async def edit(
        self,
        company_id: uuid.UUID,
        data: CompanyIn,
        who: Subject,
        services: Services,
        db_session: AsyncSession,
    ) -> CompanyOut:
        return company_out(await services.companies.edit(db_session, who, company_id, company_data(data)))
