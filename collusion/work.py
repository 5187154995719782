"""Collusion's part of the "my work" page (``plugin.work_items``): the alerts assigned to a staff
member, the centre's new alerts nobody has taken yet, and the escalated alerts a supervisor
decides.  Every item passes the policy table for its alert."""

from __future__ import annotations

import uuid

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from collusion.access import alert_resource
from collusion.api.paths import PREFIX
from collusion.models import Alert, AlertStatus
from tenderhall.auth.policy import Subject, permits
from tenderhall.auth.roles import Role
from tenderhall.services import Services
from tenderhall.tenders.models import Tender
from tenderhall.work.items import Urgency, WorkItem

MAX_ROWS = 200
OPEN = (AlertStatus.NEW.value, AlertStatus.UNDER_REVIEW.value)


async def work_items(db: AsyncSession, services: Services, who: Subject) -> list[WorkItem]:
    if who.role is Role.STAFF:
        mine_or_free = or_(Alert.assignee_id == who.user_id, Alert.assignee_id.is_(None))
        query = select(Alert).where(Alert.centre_id == who.centre_id, Alert.status.in_(OPEN), mine_or_free)
    elif who.role is Role.SUPERVISOR:
        query = select(Alert).where(
            Alert.region_id == who.region_id, Alert.status == AlertStatus.ESCALATED.value
        )
    else:
        return []
    alerts = list(await db.scalars(query.order_by(Alert.detected_at.desc()).limit(MAX_ROWS)))
    named = {a.tender_id for a in alerts if a.tender_id is not None}
    tenders: dict[uuid.UUID, Tender] = (
        {t.id: t for t in await db.scalars(select(Tender).where(Tender.id.in_(named)))} if named else {}
    )
    items = []
    for alert in alerts:
        resource = alert_resource(alert)
        if not permits(who, "collusion.alert.view", resource):
            continue
        if alert.status == AlertStatus.ESCALATED.value:
            if not permits(who, "collusion.alert.confirm", resource):
                continue
            kind, urgency = "alert.escalated", Urgency.SOON
        elif alert.assignee_id == who.user_id:
            kind, urgency = "alert.assigned", Urgency.NOW if alert.hard else Urgency.SOON
        elif permits(who, "collusion.alert.assign", resource):
            kind, urgency = "alert.unassigned", Urgency.SOON if alert.hard else Urgency.LATER
        else:
            continue
        tender = tenders.get(alert.tender_id) if alert.tender_id else None
        items.append(
            WorkItem(
                kind=kind,
                title=tender.title if tender else alert.tender_key,
                link=f"{PREFIX}/alerts/{alert.id}",
                urgency=urgency,
                tender_id=tender.id if tender else None,
                reference=tender.reference if tender else None,
                params={"level": alert.level},
            )
        )
    return items
