"""Bidder company registry: create, edit, read, with the policy applied."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tenderhall.auth.policy import Resource, Subject, enforce
from tenderhall.auth.roles import Role
from tenderhall.errors import Conflict, InvalidInput, NotFound
from tenderhall.ledger.service import Ledger
from tenderhall.orgs import uscc
from tenderhall.orgs.models import (
    BankAccount,
    Centre,
    Company,
    CompanyPerson,
    Organisation,
    OrganisationKind,
    PersonRole,
    Region,
)


@dataclass(frozen=True)
class PersonData:
    role: str
    name: str
    id_number: str | None = None
    phone: str | None = None
    email: str | None = None
    share_percent: float | None = None
    certificate_no: str | None = None


@dataclass(frozen=True)
class CompanyData:
    name: str
    uscc: str
    city: str
    legal_representative: str
    region_id: uuid.UUID | None = None
    address: str = ""
    sme: bool = False
    persons: Sequence[PersonData] = field(default_factory=tuple)
    bank_accounts: Sequence[tuple[str, str, str]] = field(default_factory=tuple)  # bank, number, name


class Companies:
    def __init__(self, ledger: Ledger, person_key: bytes) -> None:
        self.ledger = ledger
        self.person_key = person_key

    def person_hash(self, id_number: str) -> str:
        """Keyed hash of an identity number: matches people across companies, reveals nothing."""
        return hmac.new(self.person_key, id_number.strip().upper().encode(), hashlib.sha256).hexdigest()

    def resource(self, company: Company) -> Resource:
        return Resource(kind="company", region_id=company.region_id, company_id=company.id)

    async def get(
        self, db: AsyncSession, who: Subject, company_id: uuid.UUID, action: str = "company.view"
    ) -> Company:
        company = await db.get(Company, company_id)
        if company is None:
            raise NotFound("error.not_found", kind="company")
        enforce(who, action, self.resource(company), hide="company.view")
        return company

    async def search(
        self, db: AsyncSession, who: Subject, q: str | None, limit: int, offset: int
    ) -> tuple[list[Company], int]:
        query = select(Company)
        if who.role is Role.BIDDER:
            query = query.where(Company.id == who.company_id)
        elif who.role in (Role.STAFF, Role.SUPERVISOR):
            query = query.where(Company.region_id == who.region_id)
        elif who.role is not Role.ADMIN:
            raise NotFound("error.not_found_path")
        if q:
            query = query.where((Company.name.contains(q)) | (Company.uscc == q.upper()))
        total = int(await db.scalar(select(func.count()).select_from(query.subquery())) or 0)
        rows = await db.execute(query.order_by(Company.name, Company.id).limit(limit).offset(offset))
        return list(rows.scalars()), total

    def _persons(self, persons: Sequence[PersonData]) -> list[CompanyPerson]:
        out = []
        roles = {r.value for r in PersonRole}
        for p in persons:
            if p.role not in roles:
                raise InvalidInput("company.person_role", role=p.role, allowed=", ".join(sorted(roles)))
            out.append(
                CompanyPerson(
                    role=p.role,
                    name=p.name.strip(),
                    phone=p.phone,
                    email=(p.email or None),
                    id_number_hash=self.person_hash(p.id_number) if p.id_number else None,
                    share_percent=p.share_percent,
                    certificate_no=p.certificate_no,
                )
            )
        shares = sum(p.share_percent or 0 for p in persons if p.role == PersonRole.SHAREHOLDER)
        if shares > 100.0001:
            raise InvalidInput("company.shares_over_100")
        return out

    async def create(self, db: AsyncSession, who: Subject, data: CompanyData) -> Company:
        region_id = data.region_id or who.region_id
        enforce(who, "company.create", Resource(kind="company", region_id=region_id))
        if region_id is None or await db.get(Region, region_id) is None:
            raise InvalidInput("company.region_unknown")
        try:
            code = uscc.validate(data.uscc)
        except uscc.USCCError as exc:
            raise InvalidInput(exc.code, detail=str(exc)) from None
        if await db.scalar(select(Company.id).where(Company.uscc == code)) is not None:
            raise Conflict("company.uscc_exists", uscc=code)
        company = Company(
            region_id=region_id,
            name=data.name.strip(),
            uscc=code,
            city=data.city.strip(),
            address=data.address.strip(),
            legal_representative=data.legal_representative.strip(),
            sme=data.sme,
            persons=self._persons(data.persons),
            bank_accounts=[
                BankAccount(bank=b, account_no=n.replace(" ", ""), account_name=a)
                for b, n, a in data.bank_accounts
            ],
        )
        db.add(company)
        await db.flush()
        await self.ledger.append(
            db,
            "company.registered",
            {"company": str(company.id), "uscc": code},
            actor=who.user_id,
            subject=f"company:{company.id}",
        )
        return company

    async def edit(self, db: AsyncSession, who: Subject, company_id: uuid.UUID, data: CompanyData) -> Company:
        company = await self.get(db, who, company_id, "company.edit")
        try:
            code = uscc.validate(data.uscc)
        except uscc.USCCError as exc:
            raise InvalidInput(exc.code, detail=str(exc)) from None
        if code != company.uscc:
            raise InvalidInput("company.uscc_immutable")
        persons = self._persons(data.persons)
        accounts = [
            BankAccount(bank=b, account_no=n.replace(" ", ""), account_name=a)
            for b, n, a in data.bank_accounts
        ]
        # Delete the old rows first: the unit of work would insert the new ones before deleting
        # the orphans, and an unchanged bank account would then violate (company, account_no).
        company.persons = []
        company.bank_accounts = []
        await db.flush()
        company.name = data.name.strip()
        company.city = data.city.strip()
        company.address = data.address.strip()
        company.legal_representative = data.legal_representative.strip()
        company.sme = data.sme
        company.persons = persons
        company.bank_accounts = accounts
        await db.flush()
        await self.ledger.append(
            db,
            "company.updated",
            {"company": str(company.id)},
            actor=who.user_id,
            subject=f"company:{company.id}",
        )
        return company


class Directory:
    """Regions, centres, tenderers and agencies: created by the platform admin."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    async def create_region(self, db: AsyncSession, who: Subject, code: str, name: str) -> Region:
        enforce(who, "org.manage", Resource(kind="region"))
        if await db.scalar(select(Region.id).where(Region.code == code)) is not None:
            raise Conflict("org.code_exists", code=code)
        region = Region(code=code, name=name.strip())
        db.add(region)
        await db.flush()
        await self.ledger.append(
            db,
            "region.created",
            {"region": str(region.id), "code": code},
            actor=who.user_id,
            subject=f"region:{region.id}",
        )
        return region

    async def create_centre(
        self, db: AsyncSession, who: Subject, region_id: uuid.UUID, code: str, name: str, city: str
    ) -> Centre:
        enforce(who, "org.manage", Resource(kind="centre", region_id=region_id))
        if await db.get(Region, region_id) is None:
            raise InvalidInput("company.region_unknown")
        if await db.scalar(select(Centre.id).where(Centre.code == code)) is not None:
            raise Conflict("org.code_exists", code=code)
        centre = Centre(region_id=region_id, code=code, name=name.strip(), city=city.strip())
        db.add(centre)
        await db.flush()
        await self.ledger.append(
            db,
            "centre.created",
            {"centre": str(centre.id), "code": code},
            actor=who.user_id,
            subject=f"centre:{centre.id}",
        )
        return centre

    async def create_organisation(
        self, db: AsyncSession, who: Subject, region_id: uuid.UUID, kind: str, name: str, code: str, city: str
    ) -> Organisation:
        enforce(who, "org.manage", Resource(kind="organisation", region_id=region_id))
        if kind not in {k.value for k in OrganisationKind}:
            raise InvalidInput("org.kind_invalid", allowed=", ".join(k.value for k in OrganisationKind))
        if await db.get(Region, region_id) is None:
            raise InvalidInput("company.region_unknown")
        try:
            valid = uscc.validate(code)
        except uscc.USCCError as exc:
            raise InvalidInput(exc.code, detail=str(exc)) from None
        if await db.scalar(select(Organisation.id).where(Organisation.uscc == valid)) is not None:
            raise Conflict("company.uscc_exists", uscc=valid)
        org = Organisation(region_id=region_id, kind=kind, name=name.strip(), uscc=valid, city=city.strip())
        db.add(org)
        await db.flush()
        await self.ledger.append(
            db,
            "organisation.created",
            {"organisation": str(org.id), "kind": kind, "uscc": valid},
            actor=who.user_id,
            subject=f"organisation:{org.id}",
        )
        return org
