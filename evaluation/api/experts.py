"""The expert registry: experts of a region, their leave and relations, CSV import and export,
the specialty code table, ratings."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from litestar import Controller, Request, get, patch, post
from sqlalchemy.ext.asyncio import AsyncSession

from evaluation.api.deps import csv_body
from evaluation.api.inputs import AbsenceIn, ExpertPatch, RatingIn, RelationIn
from evaluation.api.schemas import (
    AbsenceOut,
    ExpertOut,
    ExpertPageOut,
    ImportOut,
    RatingOut,
    RelationOut,
    RowErrorOut,
    RowOut,
    SpecialtyOut,
)
from evaluation.models import Expert, ExpertAbsence, ExpertRelation
from evaluation.registry import RowResult
from evaluation.service import Evaluation
from tenderhall.auth.policy import Subject
from tenderhall.i18n import translate
from tenderhall.web.api.schemas import PageLimit, PageOffset, check_body
from tenderhall.web.openapi import PUBLIC
from tenderhall.web.problems import request_locale


def expert_out(e: Expert) -> ExpertOut:
    return ExpertOut(
        id=e.id,
        name=e.name,
        city=e.city,
        home_centre_id=e.home_centre_id,
        employer=e.employer,
        employer_uscc=e.employer_uscc,
        titles=e.titles,
        specialties=e.specialties,
        status=e.status,
        email=e.email,
        phone=e.phone,
        user_id=e.user_id,
    )


def rows_out(rows: list[RowResult], locale: str) -> ImportOut:
    return ImportOut(
        imported=sum(r.ok for r in rows),
        rejected=sum(not r.ok for r in rows),
        rows=[
            RowOut(
                line=r.line,
                ok=r.ok,
                id=r.expert_id,
                errors=[RowErrorOut(f, k, translate(k, locale, field=f)) for k, f in r.errors],
            )
            for r in rows
        ],
    )


def absence_out(a: ExpertAbsence) -> AbsenceOut:
    return AbsenceOut(id=a.id, kind=a.kind, starts_on=a.starts_on, ends_on=a.ends_on, reason=a.reason)


def relation_out(r: ExpertRelation) -> RelationOut:
    return RelationOut(
        id=r.id, kind=r.kind, party_uscc=r.party_uscc, party_name=r.party_name, ended_on=r.ended_on
    )


class ExpertController(Controller):
    path = "/api/v1/experts"
    tags = ["experts"]

    @get("/", summary="Experts of the caller's region (staff, supervisors)")
    async def list_experts(
        self,
        who: Subject,
        evaluation: Evaluation,
        db_session: AsyncSession,
        q: str | None = None,
        limit: PageLimit = 50,
        offset: PageOffset = 0,
    ) -> ExpertPageOut:
        rows, total = await evaluation.registry.search(db_session, who, q, limit, offset)
        return ExpertPageOut(items=[expert_out(e) for e in rows], total=total)

    @post("/", summary="Add one expert (same fields as a CSV row)")
    async def create(
        self, data: dict[str, str], who: Subject, evaluation: Evaluation, db_session: AsyncSession
    ) -> ExpertOut:
        check_body(data)
        return expert_out(await evaluation.registry.create(db_session, who, data))

    @post("/import", summary="Import experts from CSV; a bad row is reported and never stops the others")
    async def import_csv(
        self,
        request: Request[Any, Any, Any],
        who: Subject,
        evaluation: Evaluation,
        db_session: AsyncSession,
    ) -> ImportOut:
        rows = await evaluation.registry.import_csv(db_session, who, await csv_body(request))
        return rows_out(rows, request_locale(request))

    @get("/export", summary="Export the region's experts as CSV", media_type="text/csv")
    async def export_csv(self, who: Subject, evaluation: Evaluation, db_session: AsyncSession) -> str:
        return await evaluation.registry.export_csv(db_session, who)

    @get("/specialties", summary="The specialty code table", opt=PUBLIC)
    async def specialties(self, evaluation: Evaluation, db_session: AsyncSession) -> list[SpecialtyOut]:
        rows = await evaluation.registry.specialties(db_session)
        return [SpecialtyOut(code=r.code, name=r.name, parent=r.parent_code) for r in rows]

    @post("/specialties/import", summary="Import specialty codes (CSV code,name,parent)")
    async def import_specialties(
        self,
        request: Request[Any, Any, Any],
        who: Subject,
        evaluation: Evaluation,
        db_session: AsyncSession,
    ) -> ImportOut:
        rows = await evaluation.registry.import_specialties(db_session, who, await csv_body(request))
        return rows_out(rows, request_locale(request))

    @get("/me", summary="The signed-in expert's own registry entry")
    async def me(self, who: Subject, evaluation: Evaluation, db_session: AsyncSession) -> ExpertOut:
        return expert_out(await evaluation.registry.mine(db_session, who))

    @get("/{expert_id:uuid}", summary="One expert")
    async def get_expert(
        self, expert_id: uuid.UUID, who: Subject, evaluation: Evaluation, db_session: AsyncSession
    ) -> ExpertOut:
        return expert_out(await evaluation.registry.get(db_session, who, expert_id))

    @patch("/{expert_id:uuid}", summary="Change status, employer, titles or specialties")
    async def update(
        self,
        expert_id: uuid.UUID,
        data: ExpertPatch,
        who: Subject,
        evaluation: Evaluation,
        db_session: AsyncSession,
    ) -> ExpertOut:
        changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not None}
        return expert_out(await evaluation.registry.update(db_session, who, expert_id, changes))

    @post("/{expert_id:uuid}/absences", summary="Leave (the expert) or suspension (staff)")
    async def add_absence(
        self,
        expert_id: uuid.UUID,
        data: AbsenceIn,
        who: Subject,
        evaluation: Evaluation,
        db_session: AsyncSession,
    ) -> AbsenceOut:
        a = await evaluation.registry.add_absence(
            db_session, who, expert_id, data.kind, data.starts_on, data.ends_on, data.reason
        )
        return absence_out(a)

    @get("/{expert_id:uuid}/absences", summary="Leave and suspensions")
    async def absences(
        self, expert_id: uuid.UUID, who: Subject, evaluation: Evaluation, db_session: AsyncSession
    ) -> list[AbsenceOut]:
        return [absence_out(a) for a in await evaluation.registry.absences(db_session, who, expert_id)]

    @post("/{expert_id:uuid}/relations", summary="Declare a relation to a company or organisation")
    async def declare(
        self,
        expert_id: uuid.UUID,
        data: RelationIn,
        who: Subject,
        evaluation: Evaluation,
        db_session: AsyncSession,
    ) -> RelationOut:
        r = await evaluation.registry.declare_relation(
            db_session, who, expert_id, data.kind, data.party_uscc, data.party_name, data.ended_on, data.note
        )
        return relation_out(r)

    @get("/{expert_id:uuid}/relations", summary="Declared relations")
    async def relations(
        self, expert_id: uuid.UUID, who: Subject, evaluation: Evaluation, db_session: AsyncSession
    ) -> list[RelationOut]:
        return [relation_out(r) for r in await evaluation.registry.relations(db_session, who, expert_id)]

    @post("/{expert_id:uuid}/ratings", summary="Rate an expert's work on one evaluation (1-5)")
    async def rate(
        self,
        expert_id: uuid.UUID,
        data: RatingIn,
        who: Subject,
        evaluation: Evaluation,
        db_session: AsyncSession,
    ) -> RatingOut:
        r = await evaluation.registry.rate(
            db_session, who, expert_id, data.tender_id, data.score, data.comment
        )
        return RatingOut(id=r.id, score=r.score)
