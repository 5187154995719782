"""The tender itself: notice, procedure, rubric, documents, amendments, clarifications (anonymous)
and registrations (counts; by company only once the tender is awarded)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tenderhall.orgs.models import Centre, Organisation
from tenderhall.tenders.lifecycle import TenderState
from tenderhall.tenders.models import Amendment, Clarification, Registration, Tender
from tenderhall.tenders.procedures import ProcedureType, rules_for

from .common import companies

AFTER_AWARD = frozenset({TenderState.AWARDED.value, TenderState.ARCHIVED.value})


@dataclass(frozen=True)
class Notice:
    tender_id: uuid.UUID
    reference: str
    title: str
    description: str
    category: str
    procedure: str
    procedure_source: str  # the law the procedure's rules come from
    state: str
    centre: str
    tenderer: str
    agency: str | None
    estimate_fen: int
    issued_at: datetime | None
    deadline_at: datetime | None
    opening_at: datetime | None
    terminated_reason: str | None
    version: int


@dataclass(frozen=True)
class RubricItem:
    code: str
    name: str
    kind: str
    max_points: str


@dataclass(frozen=True)
class Document:
    name: str
    media_type: str
    size: int
    sha256: str
    amendment_no: int | None
    added_at: datetime


@dataclass(frozen=True)
class AmendmentRecord:
    number: int
    summary: str
    affects_preparation: bool
    issued_at: datetime
    old_deadline: datetime
    new_deadline: datetime


@dataclass(frozen=True)
class ClarificationRecord:
    """Anonymous in every edition: who asked is never in the archive's text."""

    number: int
    question: str
    asked_at: datetime
    answer: str | None
    answered_at: datetime | None


@dataclass(frozen=True)
class RegistrationRecord:
    company: str
    registered_at: datetime


@dataclass(frozen=True)
class KernelRecords:
    notice: Notice
    price_method: str | None
    rubric: tuple[RubricItem, ...]
    documents: tuple[Document, ...]
    amendments: tuple[AmendmentRecord, ...]
    clarifications: tuple[ClarificationRecord, ...]
    registration_count: int
    registrations: tuple[RegistrationRecord, ...] | None  # None until the award names them


async def gather(db: AsyncSession, tender: Tender) -> KernelRecords:
    centre = await db.get(Centre, tender.centre_id)
    tenderer = await db.get(Organisation, tender.tenderer_id)
    agency = await db.get(Organisation, tender.agency_id) if tender.agency_id else None
    notice = Notice(
        tender.id,
        tender.reference,
        tender.title,
        tender.description,
        tender.category,
        tender.procedure,
        rules_for(ProcedureType(tender.procedure)).source,
        tender.state,
        centre.name if centre else "",
        tenderer.name if tenderer else "",
        agency.name if agency else None,
        tender.estimate_fen,
        tender.issued_at,
        tender.deadline_at,
        tender.opening_at,
        tender.terminated_reason,
        tender.version,
    )
    rubric = tender.rubric or {}
    items = tuple(
        RubricItem(str(i["code"]), str(i["name"]), str(i["kind"]), str(i["max_points"]))
        for i in rubric.get("items", [])
    )
    documents = tuple(
        Document(d.name, d.media_type, d.size, d.sha256, d.amendment_no, d.created_at)
        for d in tender.documents
    )
    amendments = tuple(
        AmendmentRecord(
            a.number, a.summary, a.affects_preparation, a.issued_at, a.old_deadline, a.new_deadline
        )
        for a in await db.scalars(
            select(Amendment).where(Amendment.tender_id == tender.id).order_by(Amendment.number)
        )
    )
    clarifications = tuple(
        ClarificationRecord(c.number, c.question, c.asked_at, c.answer, c.answered_at)
        for c in await db.scalars(
            select(Clarification).where(Clarification.tender_id == tender.id).order_by(Clarification.number)
        )
    )
    count = await db.scalar(select(func.count()).where(Registration.tender_id == tender.id)) or 0
    named: tuple[RegistrationRecord, ...] | None = None
    if tender.state in AFTER_AWARD:
        rows = list(
            await db.scalars(
                select(Registration)
                .where(Registration.tender_id == tender.id)
                .order_by(Registration.registered_at, Registration.id)
            )
        )
        names = await companies(db, (r.company_id for r in rows))
        named = tuple(RegistrationRecord(names.get(str(r.company_id), ""), r.registered_at) for r in rows)
    return KernelRecords(
        notice,
        rubric.get("price_method"),
        items,
        documents,
        amendments,
        clarifications,
        int(count),
        named,
    )
