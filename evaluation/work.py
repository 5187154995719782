"""Evaluation's part of the "my work" page (``plugin.work_items`` and ``plugin.notices``): an
expert's invitations to answer, declarations, sheets to commit or reveal and reports to sign; the
tenderer's 评定分离 decision and the publicity objections to answer; the supervisor's draws to
approve or witness and decisions to file; and everyone's in-app notifications.

Every item passes the policy table for its object; the queries only narrow what is read.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from evaluation.access import evaluation_resource, seat_resource
from evaluation.models import (
    CommitteeReport,
    CommitteeSeat,
    DrawRequest,
    DrawStatus,
    EvaluationPlan,
    Objection,
    Publicity,
    ReportSignature,
    ScoreSheet,
    SeatStatus,
    TendererDecision,
)
from evaluation.notify import render
from evaluation.service import Evaluation
from tenderhall.auth.policy import Subject, permits
from tenderhall.auth.roles import Role
from tenderhall.i18n import translate
from tenderhall.orgs.models import Centre
from tenderhall.services import Services
from tenderhall.tenders.lifecycle import TenderState as T
from tenderhall.tenders.models import Tender
from tenderhall.work.items import Notice, Urgency, WorkItem, urgency_of

MAX_ROWS = 200
MAX_NOTICES = 30  # the newest; the notifications API has them all
BEIJING = ZoneInfo("Asia/Shanghai")


async def work_items(db: AsyncSession, services: Services, who: Subject) -> list[WorkItem]:
    items: list[WorkItem] = []
    if who.role in (Role.EXPERT, Role.TENDERER):  # a tenderer's staff may hold a representative's seat
        items += await _member(db, services, who)
    if who.role in (Role.TENDERER, Role.AGENT):
        items += await _owner(db, services, who)
    if who.role is Role.SUPERVISOR:
        items += await _supervisor(db, services, who)
    return items


def _item(
    kind: str, tender: Tender, urgency: Urgency, deadline: datetime | None, detail: str = "", **params: object
) -> WorkItem:
    return WorkItem.about(tender, kind, urgency, deadline, detail=detail, params=params)


async def _member(db: AsyncSession, services: Services, who: Subject) -> list[WorkItem]:
    """The seats of ``who``: invitations, declarations, then the committee's work on each tender."""
    waiting = (SeatStatus.NOTIFIED.value, SeatStatus.ACCEPTED.value, SeatStatus.ACTIVE.value)
    rows = (
        (
            await db.execute(
                select(CommitteeSeat, Tender)
                .join(Tender, Tender.id == CommitteeSeat.tender_id)
                .where(CommitteeSeat.user_id == who.user_id, CommitteeSeat.status.in_(waiting))
                .order_by(CommitteeSeat.respond_by)
                .limit(MAX_ROWS)
            )
        )
        .tuples()
        .all()
    )
    now = services.clock.now()
    items = []
    for seat, tender in rows:
        if seat.status == SeatStatus.NOTIFIED.value and permits(who, "seat.respond", seat_resource(seat)):
            items.append(_item("seat.respond", tender, urgency_of(seat.respond_by, now), seat.respond_by))
        elif seat.status == SeatStatus.ACCEPTED.value and permits(who, "seat.declare", seat_resource(seat)):
            items.append(_item("seat.declare", tender, Urgency.NOW, None))
        elif seat.status == SeatStatus.ACTIVE.value and tender.state == T.EVALUATING.value:
            found = await _committee_step(db, services, who, seat, tender)
            if found is not None:
                items.append(found)
    return items


async def _committee_step(
    db: AsyncSession, services: Services, who: Subject, seat: CommitteeSeat, tender: Tender
) -> WorkItem | None:
    """What this member does next on an evaluating tender: commit, reveal, or sign."""
    resource = await evaluation_resource(services, db, tender, who)
    plan = await db.scalar(select(EvaluationPlan).where(EvaluationPlan.tender_id == tender.id))
    now = services.clock.now()
    report = await db.scalar(select(CommitteeReport).where(CommitteeReport.tender_id == tender.id))
    if report is not None:
        if report.finalized_at is not None or not permits(who, "evaluation.sign", resource):
            return None
        signed = await db.scalar(
            select(ReportSignature.id).where(
                ReportSignature.report_id == report.id, ReportSignature.seat_id == seat.id
            )
        )
        if signed is not None:
            return None
        deadline = plan.signing_deadline if plan else None
        return _item("evaluation.sign", tender, min(urgency_of(deadline, now), Urgency.SOON), deadline)
    if not permits(who, "evaluation.score", resource):
        return None
    sheet = await db.scalar(select(ScoreSheet).where(ScoreSheet.seat_id == seat.id))
    deadline = plan.scoring_deadline if plan else None
    if sheet is None:
        return _item("evaluation.commit", tender, min(urgency_of(deadline, now), Urgency.SOON), deadline)
    if sheet.revealed_at is None:
        return _item("evaluation.reveal", tender, min(urgency_of(deadline, now), Urgency.SOON), deadline)
    return None


async def _owner(db: AsyncSession, services: Services, who: Subject) -> list[WorkItem]:
    """评定分离: recommended tenders of the user's organisation without a standing decision, and the
    publicity objections (异议) it answers."""
    owned = or_(Tender.tenderer_id == who.organisation_id, Tender.agency_id == who.organisation_id)
    tenders = list(
        await db.scalars(select(Tender).where(owned, Tender.state == T.RECOMMENDED.value).limit(MAX_ROWS))
    )
    if not tenders:
        return []
    ids = [t.id for t in tenders]
    resources = await services.tenders.resources(db, tenders, who)
    decisions = {
        d.tender_id: d
        for d in await db.scalars(select(TendererDecision).where(TendererDecision.tender_id.in_(ids)))
    }
    publicity = {
        p.tender_id: p for p in await db.scalars(select(Publicity).where(Publicity.tender_id.in_(ids)))
    }
    objections = list(
        await db.scalars(
            select(Objection)
            .where(Objection.tender_id.in_(ids), Objection.answer.is_(None))
            .order_by(Objection.raised_at)
        )
    )
    now = services.clock.now()
    by_id = {t.id: t for t in tenders}
    items = []
    for tender in tenders:
        resource = dataclasses.replace(resources[tender.id], kind="evaluation")
        decision = decisions.get(tender.id)
        ends = publicity[tender.id].ends_at if tender.id in publicity else None
        if permits(who, "decision.make", resource) and (
            decision is None or decision.supervisor_status == "returned"
        ):
            kind = "decision.make" if decision is None else "decision.returned"
            items.append(_item(kind, tender, urgency_of(ends, now) if ends else Urgency.SOON, ends))
    for objection in objections:
        tender = by_id[objection.tender_id]
        resource = dataclasses.replace(resources[tender.id], kind="evaluation")
        if permits(who, "objection.answer", resource):
            items.append(_item("objection.answer", tender, Urgency.NOW, None, detail=objection.text))
    return items


async def _supervisor(db: AsyncSession, services: Services, who: Subject) -> list[WorkItem]:
    """Draws that bend a rule (to approve), draws committed and waiting for the supervisor's random
    value (to witness), and tenderers' decisions to file, in the supervisor's region."""
    in_region = Tender.centre_id.in_(select(Centre.id).where(Centre.region_id == who.region_id))
    draws = (
        (
            await db.execute(
                select(DrawRequest, Tender)
                .join(Tender, Tender.id == DrawRequest.tender_id)
                .where(
                    in_region,
                    DrawRequest.status.in_((DrawStatus.PENDING_APPROVAL.value, DrawStatus.COMMITTED.value)),
                )
                .order_by(DrawRequest.draw_at)
                .limit(MAX_ROWS)
            )
        )
        .tuples()
        .all()
    )
    decisions = (
        (
            await db.execute(
                select(TendererDecision, Tender)
                .join(Tender, Tender.id == TendererDecision.tender_id)
                .where(in_region, TendererDecision.supervisor_status == "pending")
                .limit(MAX_ROWS)
            )
        )
        .tuples()
        .all()
    )
    tenders = {t.id: t for _, t in [*draws, *decisions]}
    resources = await services.tenders.resources(db, list(tenders.values()), who)
    now = services.clock.now()
    items = []
    for draw, tender in draws:
        resource = dataclasses.replace(resources[tender.id], kind="evaluation")
        if draw.status == DrawStatus.PENDING_APPROVAL.value and permits(who, "draw.approve", resource):
            items.append(_item("draw.approve", tender, urgency_of(draw.draw_at, now), draw.draw_at))
        elif draw.status == DrawStatus.COMMITTED.value and permits(who, "draw.reveal", resource):
            items.append(_item("draw.reveal", tender, urgency_of(draw.draw_at, now), draw.draw_at))
    for decision, tender in decisions:
        resource = dataclasses.replace(resources[tender.id], kind="evaluation")
        if permits(who, "decision.file", resource):
            items.append(_item("decision.file", tender, Urgency.SOON, None, detail=decision.reason))
    return items


async def notices(db: AsyncSession, services: Services, who: Subject, locale: str) -> list[Notice]:
    """The user's own notifications (draws, seats, objections), newest first, in ``locale``."""
    if who.user_id is None:
        return []
    found = []
    for row in (await services.get(Evaluation).notifier.inbox(db, who))[:MAX_NOTICES]:
        subject, body = render(row.kind, locale, _beijing(row.params, locale))
        found.append(Notice(subject, body, row.created_at, row.read_at is None))
    return found


def _beijing(params: dict[str, Any], locale: str) -> dict[str, Any]:
    """Notification parameters with their times (stored as UTC ISO text) in Beijing time, named."""
    shown = dict(params)
    for name, value in params.items():
        if not isinstance(value, str) or len(value) > 40 or "T" not in value:
            continue
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            continue
        if when.tzinfo is not None:
            shown[name] = f"{when.astimezone(BEIJING):%Y-%m-%d %H:%M} {translate('time.zone', locale)}"
    return shown
