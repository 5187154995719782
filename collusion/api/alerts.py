"""Reading alerts: the list, one alert with its evidence, its graph and its ledger events.

Every route answers 404 to roles the policy does not grant ``collusion.alert.view`` (bidders above
all), so the existence of an alert never leaks.
"""

from __future__ import annotations

import uuid

import msgspec
from litestar import Controller, get
from sqlalchemy.ext.asyncio import AsyncSession

from collusion.api.paths import PREFIX
from collusion.api.schemas import AlertDetailOut, AlertEventOut, AlertGraphOut, AlertOut, AlertPageOut
from collusion.service import Collusion
from tenderhall.auth.policy import Subject
from tenderhall.web.api.schemas import PageLimit, PageOffset


class AlertController(Controller):
    path = f"{PREFIX}/alerts"
    tags = ["collusion"]

    @get("/", summary="Alerts visible to the caller (centre staff: own centre; supervisors: region)")
    async def list_alerts(
        self,
        collusion: Collusion,
        who: Subject,
        db_session: AsyncSession,
        status: str | None = None,
        level: str | None = None,
        kind: str | None = None,
        centre_id: uuid.UUID | None = None,
        tender_id: uuid.UUID | None = None,
        company_id: uuid.UUID | None = None,
        assignee_id: uuid.UUID | None = None,
        limit: PageLimit = 20,
        offset: PageOffset = 0,
    ) -> AlertPageOut:
        alerts = collusion.alerts
        page = await alerts.search(
            db_session,
            who,
            status=status,
            level=level,
            kind=kind,
            centre_id=centre_id,
            tender_id=tender_id,
            company_id=company_id,
            assignee_id=assignee_id,
            limit=limit,
            offset=offset,
        )
        items = [AlertOut.of(a, alerts.moves(who, a)) for a in page.items]
        return AlertPageOut(items=items, total=page.total, limit=page.limit, offset=page.offset)

    @get("/{alert_id:uuid}", summary="One alert with its reasons, evidence and the tender's bids")
    async def show(
        self, collusion: Collusion, who: Subject, db_session: AsyncSession, alert_id: uuid.UUID
    ) -> AlertDetailOut:
        return AlertDetailOut.of_detail(await collusion.views.detail(db_session, who, alert_id))

    @get("/{alert_id:uuid}/graph", summary="Graph view of the alert: nodes, edges, evidence, groups")
    async def alert_graph(
        self, collusion: Collusion, who: Subject, db_session: AsyncSession, alert_id: uuid.UUID
    ) -> AlertGraphOut:
        view = await collusion.graphs.alert_graph(db_session, who, alert_id)
        return msgspec.convert(view, AlertGraphOut)

    @get("/{alert_id:uuid}/history", summary="The alert's ledger events")
    async def history(
        self, collusion: Collusion, who: Subject, db_session: AsyncSession, alert_id: uuid.UUID
    ) -> list[AlertEventOut]:
        return [AlertEventOut.of(e) for e in await collusion.views.events(db_session, who, alert_id)]
