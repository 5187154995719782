"""The region-wide expert registry: entries, CSV import/export, leave, declared relations, history,
ratings, and the pool as the avoidance rules see it."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from evaluation import avoidance, csvio
from evaluation.access import expert_resource
from evaluation.models import (
    Expert,
    ExpertAbsence,
    ExpertEvaluation,
    ExpertRating,
    ExpertRelation,
    ExpertStatus,
    SpecialtyCode,
)
from tenderhall.auth.policy import Resource, Subject, enforce, permits
from tenderhall.errors import InvalidInput, NotFound
from tenderhall.orgs import uscc as uscc_codec
from tenderhall.orgs.models import Centre
from tenderhall.services import Services

ABSENCE_KINDS = ("leave", "suspension")
MAX_IMPORT_ROWS = 20000


@dataclass
class RowResult:
    line: int
    ok: bool
    expert_id: uuid.UUID | None = None
    errors: list[tuple[str, str]] = field(default_factory=list)


class Registry:
    def __init__(self, services: Services) -> None:
        self.services = services

    # -- entries -----------------------------------------------------------------------------
    async def get(
        self, db: AsyncSession, who: Subject, expert_id: uuid.UUID, action: str = "expert.view"
    ) -> Expert:
        expert = await db.get(Expert, expert_id)
        if expert is None:
            raise NotFound("error.not_found", kind="expert")
        resource = await expert_resource(db, expert)
        if not permits(who, "expert.view", resource):
            raise NotFound("error.not_found", kind="expert")
        enforce(who, action, resource)
        return expert

    async def mine(self, db: AsyncSession, who: Subject) -> Expert:
        expert = await db.scalar(select(Expert).where(Expert.user_id == who.user_id)) if who.user_id else None
        if expert is None:
            raise NotFound("error.not_found", kind="expert")
        return expert

    async def search(
        self, db: AsyncSession, who: Subject, q: str | None, limit: int, offset: int
    ) -> tuple[list[Expert], int]:
        enforce(who, "expert.view", Resource(kind="expert", region_id=who.region_id))
        query = select(Expert).where(Expert.region_id == who.region_id)
        if q:
            query = query.where(Expert.name.contains(q) | Expert.employer.contains(q))
        total = int(await db.scalar(select(func.count()).select_from(query.subquery())) or 0)
        rows = await db.scalars(query.order_by(Expert.name, Expert.id).limit(limit).offset(offset))
        return list(rows), total

    async def _centres(self, db: AsyncSession, region_id: uuid.UUID | None) -> dict[str, Centre]:
        rows = await db.scalars(select(Centre).where(Centre.region_id == region_id))
        return {c.code: c for c in rows}

    async def specialties(self, db: AsyncSession) -> list[SpecialtyCode]:
        """The specialty code table (public: experts and tenders both use its codes)."""
        return list(await db.scalars(select(SpecialtyCode).order_by(SpecialtyCode.code)))

    async def _known_specialties(self, db: AsyncSession) -> frozenset[str] | None:
        codes = frozenset(await db.scalars(select(SpecialtyCode.code)))
        return codes or None  # an empty code table accepts any code (not yet imported)

    async def create(self, db: AsyncSession, who: Subject, raw: dict[str, str]) -> Expert:
        row: dict[str, str | None] = dict(raw)
        results = await self._import(db, who, [(1, row)])
        if not results[0].ok:
            key, fld = results[0].errors[0]
            raise InvalidInput(key, field=fld)
        expert = await db.get(Expert, results[0].expert_id)
        assert expert is not None
        return expert

    async def update(
        self, db: AsyncSession, who: Subject, expert_id: uuid.UUID, changes: dict[str, Any]
    ) -> Expert:
        expert = await self.get(db, who, expert_id, "expert.manage")
        if "status" in changes:
            if changes["status"] not in {s.value for s in ExpertStatus}:
                raise InvalidInput("csv.status_invalid", field="status")
            expert.status = changes["status"]
        for name in ("employer", "email", "phone"):
            if name in changes:
                setattr(expert, name, changes[name])
        if "employer_uscc" in changes:
            expert.employer_uscc = _uscc(changes["employer_uscc"]) if changes["employer_uscc"] else None
        for name in ("titles", "specialties"):
            if name in changes:
                setattr(expert, name, sorted({str(v) for v in changes[name]}))
        await db.flush()
        await self.services.ledger.append(
            db, "expert.updated", {"expert": str(expert.id), "fields": sorted(changes)}, actor=who.user_id
        )
        return expert

    async def link_user(
        self, db: AsyncSession, who: Subject, expert_id: uuid.UUID, user_id: uuid.UUID
    ) -> Expert:
        expert = await self.get(db, who, expert_id, "expert.manage")
        expert.user_id = user_id
        await db.flush()
        return expert

    # -- CSV -----------------------------------------------------------------------------------
    async def import_csv(self, db: AsyncSession, who: Subject, text: str) -> list[RowResult]:
        enforce(who, "expert.manage", Resource(kind="expert", region_id=who.region_id))
        header, rows = csvio.read_rows(text)
        missing = [c for c in csvio.REQUIRED if c not in header]
        if missing:
            raise InvalidInput("csv.header_missing", columns=", ".join(missing))
        return await self._import(db, who, list(rows)[:MAX_IMPORT_ROWS])

    async def _import(
        self, db: AsyncSession, who: Subject, rows: list[tuple[int, dict[str, str | None]]]
    ) -> list[RowResult]:
        enforce(who, "expert.manage", Resource(kind="expert", region_id=who.region_id))
        if who.region_id is None:
            raise InvalidInput("expert.region_missing")
        centres = await self._centres(db, who.region_id)
        known = await self._known_specialties(db)
        results: list[RowResult] = []
        for line, raw in rows:
            parsed = csvio.parse_row(line, raw, known)
            centre = centres.get(str(parsed.values.get("home_centre")))
            if centre is None and parsed.values.get("home_centre"):
                parsed.errors.append(("csv.centre_unknown", "home_centre"))
            if not parsed.ok or centre is None:
                results.append(RowResult(line, False, errors=parsed.errors))
                continue
            v = parsed.values
            id_number = v["id_number"]
            # A savepoint per row: a database error (e.g. a duplicate) undoes only this row.
            try:
                async with db.begin_nested():
                    expert = Expert(
                        region_id=who.region_id,
                        name=v["name"],
                        id_number_hash=self.services.companies.person_hash(str(id_number))
                        if id_number
                        else None,
                        home_centre_id=centre.id,
                        city=centre.city,
                        employer=v["employer"],
                        employer_uscc=v["employer_uscc"],
                        titles=v["titles"],
                        specialties=v["specialties"],
                        status=v["status"],
                        email=v["email"],
                        phone=v["phone"],
                    )
                    db.add(expert)
                    await db.flush()
            except IntegrityError:
                results.append(RowResult(line, False, errors=[("csv.row_rejected", "")]))
                continue
            results.append(RowResult(line, True, expert.id))
        ok = sum(r.ok for r in results)
        await self.services.ledger.append(
            db, "expert.imported", {"rows": len(results), "imported": ok}, actor=who.user_id
        )
        return results

    async def export_csv(self, db: AsyncSession, who: Subject) -> str:
        enforce(who, "expert.manage", Resource(kind="expert", region_id=who.region_id))
        centres = {c.id: c.code for c in (await self._centres(db, who.region_id)).values()}
        rows = await db.scalars(select(Expert).where(Expert.region_id == who.region_id).order_by(Expert.id))
        return csvio.write_rows(
            [
                {
                    "id": str(e.id),
                    "name": e.name,
                    "home_centre": centres.get(e.home_centre_id, ""),
                    "employer": e.employer,
                    "employer_uscc": e.employer_uscc,
                    "titles": list(e.titles),
                    "specialties": list(e.specialties),
                    "status": e.status,
                    "email": e.email,
                    "phone": e.phone,
                    "city": e.city,
                }
                for e in rows
            ]
        )

    async def import_specialties(self, db: AsyncSession, who: Subject, text: str) -> list[RowResult]:
        """CSV ``code,name,parent``; parents must exist (earlier in the file or already stored)."""
        enforce(who, "specialty.import", Resource(kind="specialty"))
        header, rows = csvio.read_rows(text)
        if "code" not in header or "name" not in header:
            raise InvalidInput("csv.header_missing", columns="code, name")
        known = set(await db.scalars(select(SpecialtyCode.code)))
        results = []
        for line, raw in rows:
            code, name = (raw.get("code") or "").strip(), (raw.get("name") or "").strip()
            parent = (raw.get("parent") or "").strip() or None
            errors = []
            if not code or len(code) > 20:
                errors.append(("csv.required", "code"))
            if not name:
                errors.append(("csv.required", "name"))
            if parent is not None and parent not in known:
                errors.append(("csv.parent_unknown", "parent"))
            if code in known:
                errors.append(("csv.duplicate", "code"))
            if errors:
                results.append(RowResult(line, False, errors=errors))
                continue
            db.add(SpecialtyCode(code=code, name=name, parent_code=parent))
            known.add(code)
            results.append(RowResult(line, True))
        await db.flush()
        return results

    # -- the expert's own entries ---------------------------------------------------------------
    async def add_absence(
        self,
        db: AsyncSession,
        who: Subject,
        expert_id: uuid.UUID,
        kind: str,
        starts: date,
        ends: date,
        reason: str,
    ) -> ExpertAbsence:
        action = "expert.self_edit" if kind == "leave" else "expert.manage"
        if kind not in ABSENCE_KINDS:
            raise InvalidInput("expert.absence_kind")
        expert = await self.get(
            db, who, expert_id, action if kind != "leave" or who.role == "expert" else "expert.manage"
        )
        if ends < starts:
            raise InvalidInput("expert.dates_invalid")
        row = ExpertAbsence(expert_id=expert.id, kind=kind, starts_on=starts, ends_on=ends, reason=reason)
        db.add(row)
        await db.flush()
        await self.services.ledger.append(db, f"expert.{kind}", {"expert": str(expert.id)}, actor=who.user_id)
        return row

    async def absences(self, db: AsyncSession, who: Subject, expert_id: uuid.UUID) -> list[ExpertAbsence]:
        expert = await self.get(db, who, expert_id)
        return list(await db.scalars(select(ExpertAbsence).where(ExpertAbsence.expert_id == expert.id)))

    async def declare_relation(
        self,
        db: AsyncSession,
        who: Subject,
        expert_id: uuid.UUID,
        kind: str,
        party_uscc: str,
        party_name: str,
        ended_on: date | None,
        note: str = "",
    ) -> ExpertRelation:
        expert = await self.get(
            db, who, expert_id, "expert.self_edit" if who.role == "expert" else "expert.manage"
        )
        if kind not in {k.value for k in avoidance.RelationKind}:
            raise InvalidInput("expert.relation_kind")
        row = ExpertRelation(
            expert_id=expert.id,
            kind=kind,
            party_uscc=_uscc(party_uscc),
            party_name=party_name.strip(),
            ended_on=ended_on,
            note=note,
        )
        db.add(row)
        await db.flush()
        await self.services.ledger.append(
            db, "expert.relation_declared", {"expert": str(expert.id)}, actor=who.user_id
        )
        return row

    async def relations(self, db: AsyncSession, who: Subject, expert_id: uuid.UUID) -> list[ExpertRelation]:
        expert = await self.get(db, who, expert_id)
        return list(await db.scalars(select(ExpertRelation).where(ExpertRelation.expert_id == expert.id)))

    async def rate(
        self,
        db: AsyncSession,
        who: Subject,
        expert_id: uuid.UUID,
        tender_id: uuid.UUID,
        score: int,
        comment: str,
    ) -> ExpertRating:
        expert = await self.get(db, who, expert_id, "expert.rate")
        if not 1 <= score <= 5:
            raise InvalidInput("expert.rating_invalid")
        done = await db.scalar(
            select(ExpertEvaluation.id).where(
                ExpertEvaluation.expert_id == expert.id, ExpertEvaluation.tender_id == tender_id
            )
        )
        if done is None:
            raise InvalidInput("expert.rating_no_evaluation")
        row = ExpertRating(
            expert_id=expert.id, tender_id=tender_id, rated_by=who.user_id, score=score, comment=comment
        )
        db.add(row)
        await db.flush()
        return row

    async def workload(self, db: AsyncSession, expert_id: uuid.UUID, year: int) -> int:
        return int(
            await db.scalar(
                select(func.count())
                .select_from(ExpertEvaluation)
                .where(
                    ExpertEvaluation.expert_id == expert_id,
                    ExpertEvaluation.on >= date(year, 1, 1),
                    ExpertEvaluation.on <= date(year, 12, 31),
                )
            )
            or 0
        )

    # -- the pool as avoidance sees it -----------------------------------------------------------
    async def pool(self, db: AsyncSession, region_id: uuid.UUID) -> list[avoidance.Expert]:
        experts = list(await db.scalars(select(Expert).where(Expert.region_id == region_id)))
        ids = [e.id for e in experts]
        rels: dict[uuid.UUID, list[avoidance.Relation]] = defaultdict(list)
        absent: dict[tuple[uuid.UUID, str], list[avoidance.DateRange]] = defaultdict(list)
        history: dict[uuid.UUID, list[avoidance.PastEvaluation]] = defaultdict(list)
        for r in await db.scalars(select(ExpertRelation).where(ExpertRelation.expert_id.in_(ids))):
            rels[r.expert_id].append(
                avoidance.Relation(avoidance.RelationKind(r.kind), r.party_uscc, r.ended_on)
            )
        for a in await db.scalars(select(ExpertAbsence).where(ExpertAbsence.expert_id.in_(ids))):
            absent[(a.expert_id, a.kind)].append(avoidance.DateRange(a.starts_on, a.ends_on))
        for h in await db.scalars(select(ExpertEvaluation).where(ExpertEvaluation.expert_id.in_(ids))):
            history[h.expert_id].append(avoidance.PastEvaluation(h.on, h.tenderer_uscc))
        out = []
        for e in experts:
            leaves = list(absent[(e.id, "leave")])
            if e.leave_from and e.leave_until and e.leave_until >= e.leave_from:
                leaves.append(avoidance.DateRange(e.leave_from, e.leave_until))
            suspensions = list(absent[(e.id, "suspension")])
            if e.status == ExpertStatus.SUSPENDED.value:
                suspensions.append(avoidance.DateRange(date.min, date.max))
            if e.status == ExpertStatus.ON_LEAVE.value and not (e.leave_from and e.leave_until):
                leaves.append(avoidance.DateRange(date.min, date.max))  # open-ended leave
            out.append(
                avoidance.Expert(
                    expert_id=str(e.id),
                    home_city=e.city,
                    specialties=frozenset(e.specialties),
                    employer_id=e.employer_uscc,
                    removed_on=date.min if e.status == ExpertStatus.REMOVED.value else None,
                    suspensions=tuple(suspensions),
                    leaves=tuple(leaves),
                    relations=tuple(rels[e.id]),
                    history=tuple(history[e.id]),
                )
            )
        return out


def _uscc(text: str) -> str:
    try:
        return uscc_codec.validate(text)
    except ValueError:
        raise InvalidInput("csv.uscc_invalid", field="uscc") from None
