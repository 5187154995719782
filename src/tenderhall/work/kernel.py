"""The kernel's own work items: the centre's tenders by state with the next action on each
(staff), drafts to publish and questions to answer (tenderer, agent), and the admin's desk.

Every item passes the policy table for the user and the object it names; the queries only narrow
what is read.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tenderhall.auth.models import User
from tenderhall.auth.policy import Resource, Subject, permits
from tenderhall.auth.roles import Role
from tenderhall.orgs.models import Centre, Company
from tenderhall.services import Services
from tenderhall.tenders.lifecycle import TenderState as T
from tenderhall.tenders.models import Clarification, Tender
from tenderhall.work.items import Urgency, WorkItem, urgency_of

# Tenders that still need their centre: terminated and archived ones are done.
RUNNING = tuple(s.value for s in T if s not in (T.TERMINATED, T.ARCHIVED))
# What a centre does next with a tender in each state, and how pressing that is by default.
NEXT_URGENCY = {
    T.DRAFT.value: Urgency.LATER,
    T.PUBLISHED.value: Urgency.INFO,
    T.CLOSED.value: Urgency.NOW,
    T.OPENING.value: Urgency.NOW,
    T.OPENED.value: Urgency.SOON,
    T.EVALUATING.value: Urgency.INFO,
    T.RECOMMENDED.value: Urgency.SOON,
    T.AWARDED.value: Urgency.LATER,
    T.FAILED.value: Urgency.LATER,
}
MAX_TENDERS = 200  # a dashboard, not an archive: the oldest running tenders beyond this are left out


async def kernel_items(db: AsyncSession, services: Services, who: Subject) -> list[WorkItem]:
    match who.role:
        case Role.STAFF:
            return await _centre_dashboard(db, services, who)
        case Role.TENDERER | Role.AGENT:
            return await _owner_items(db, services, who)
        case Role.ADMIN:
            return await _admin_desk(db, who)
    return []


async def _open_questions(db: AsyncSession, tenders: list[Tender]) -> dict[object, int]:
    if not tenders:
        return {}
    rows = await db.execute(
        select(Clarification.tender_id, func.count())
        .where(Clarification.tender_id.in_([t.id for t in tenders]), Clarification.answer.is_(None))
        .group_by(Clarification.tender_id)
    )
    return dict(rows.tuples().all())


def _item(
    kind: str, tender: Tender, urgency: Urgency, deadline: datetime | None = None, **params: int
) -> WorkItem:
    return WorkItem.about(tender, kind, urgency, deadline, params=params)


async def _tenders(db: AsyncSession, *where: ColumnElement[bool]) -> list[Tender]:
    query = select(Tender).where(*where).order_by(Tender.created_at.desc()).limit(MAX_TENDERS)
    return list(await db.scalars(query))


async def _centre_dashboard(db: AsyncSession, services: Services, who: Subject) -> list[WorkItem]:
    tenders = await _tenders(db, Tender.centre_id == who.centre_id, Tender.state.in_(RUNNING))
    resources = await services.tenders.resources(db, tenders, who)
    questions = await _open_questions(db, tenders)
    now = services.clock.now()
    items = []
    for tender in tenders:
        if not permits(who, "tender.dashboard", resources[tender.id]):
            continue
        state = services.tenders.state_now(tender)
        if state == T.PUBLISHED.value:
            asked = questions.get(tender.id, 0)
            if asked:
                urgency = min(urgency_of(tender.deadline_at, now), Urgency.SOON)
                items.append(
                    _item("centre.published_questions", tender, urgency, tender.deadline_at, questions=asked)
                )
            else:
                items.append(_item("centre.published", tender, Urgency.INFO, tender.deadline_at))
        else:
            items.append(_item(f"centre.{state}", tender, NEXT_URGENCY.get(state, Urgency.INFO)))
    return items


async def _owner_items(db: AsyncSession, services: Services, who: Subject) -> list[WorkItem]:
    """A tenderer's or agency's drafts to finish and publish, and bidders' questions to answer."""
    owned = (Tender.tenderer_id == who.organisation_id) | (Tender.agency_id == who.organisation_id)
    tenders = await _tenders(db, owned, Tender.state.in_((T.DRAFT.value, T.PUBLISHED.value)))
    resources = await services.tenders.resources(db, tenders, who)
    questions = await _open_questions(db, tenders)
    now = services.clock.now()
    items = []
    for tender in tenders:
        resource, asked = resources[tender.id], questions.get(tender.id, 0)
        if permits(who, "tender.publish", resource):
            items.append(_item("owner.publish", tender, Urgency.LATER))
        elif asked and permits(who, "clarification.answer", resource):
            urgency = urgency_of(tender.deadline_at, now)
            items.append(_item("owner.clarifications", tender, urgency, tender.deadline_at, questions=asked))
        elif permits(who, "clarification.view", resource):
            items.append(_item("owner.bidding", tender, Urgency.INFO, tender.deadline_at))
    return items


async def _admin_desk(db: AsyncSession, who: Subject) -> list[WorkItem]:
    """An admin keeps accounts, centres and companies; never any tender's content."""
    items = []
    if permits(who, "user.view", Resource(kind="user")):
        users = int(await db.scalar(select(func.count()).select_from(User)) or 0)
        items.append(WorkItem("admin.accounts", "", "/api/docs", Urgency.LATER, params={"count": users}))
    if permits(who, "org.manage", Resource(kind="centre")):
        centres = int(await db.scalar(select(func.count()).select_from(Centre)) or 0)
        items.append(
            WorkItem("admin.centres", "", "/api/v1/centres", Urgency.LATER, params={"count": centres})
        )
    if permits(who, "company.view", Resource(kind="company")):
        companies = int(await db.scalar(select(func.count()).select_from(Company)) or 0)
        items.append(
            WorkItem("admin.companies", "", "/api/v1/companies", Urgency.LATER, params={"count": companies})
        )
    return items
