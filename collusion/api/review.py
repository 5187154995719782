"""The review workflow's moves on one alert; each answers the alert as it now stands."""

from __future__ import annotations

import uuid

from litestar import Controller, post
from sqlalchemy.ext.asyncio import AsyncSession

from collusion.alerts import AlertReview
from collusion.api.paths import PREFIX
from collusion.api.schemas import AlertOut, AssignIn, CommentIn, CommentOut, NoteIn, ReasonIn
from collusion.models import Alert
from collusion.service import Collusion
from tenderhall.auth.policy import Subject


def _out(alerts: AlertReview, who: Subject, alert: Alert) -> AlertOut:
    return AlertOut.of(alert, alerts.moves(who, alert))


class AlertReviewController(Controller):
    path = f"{PREFIX}/alerts/{{alert_id:uuid}}"
    tags = ["collusion"]

    @post("/assign", status_code=200, summary="Assign the alert to a staff member of its centre")
    async def assign(
        self,
        collusion: Collusion,
        who: Subject,
        db_session: AsyncSession,
        alert_id: uuid.UUID,
        data: AssignIn,
    ) -> AlertOut:
        alerts = collusion.alerts
        return _out(alerts, who, await alerts.assign(db_session, who, alert_id, data.assignee_id))

    @post("/review", status_code=200, summary="Start reviewing the alert")
    async def review(
        self, collusion: Collusion, who: Subject, db_session: AsyncSession, alert_id: uuid.UUID
    ) -> AlertOut:
        alerts = collusion.alerts
        return _out(alerts, who, await alerts.start_review(db_session, who, alert_id))

    @post("/confirm", status_code=200, summary="Confirm collusion: findings on each suspect's record")
    async def confirm(
        self, collusion: Collusion, who: Subject, db_session: AsyncSession, alert_id: uuid.UUID, data: NoteIn
    ) -> AlertOut:
        alerts = collusion.alerts
        return _out(alerts, who, await alerts.confirm(db_session, who, alert_id, data.note))

    @post("/dismiss", status_code=200, summary="Dismiss the alert, with the reason")
    async def dismiss(
        self,
        collusion: Collusion,
        who: Subject,
        db_session: AsyncSession,
        alert_id: uuid.UUID,
        data: ReasonIn,
    ) -> AlertOut:
        alerts = collusion.alerts
        return _out(alerts, who, await alerts.dismiss(db_session, who, alert_id, data.reason))

    @post("/escalate", status_code=200, summary="Escalate the alert to the supervisor")
    async def escalate(
        self, collusion: Collusion, who: Subject, db_session: AsyncSession, alert_id: uuid.UUID, data: NoteIn
    ) -> AlertOut:
        alerts = collusion.alerts
        return _out(alerts, who, await alerts.escalate(db_session, who, alert_id, data.note))

    @post("/comments", status_code=201, summary="Comment on the alert")
    async def comment(
        self,
        collusion: Collusion,
        who: Subject,
        db_session: AsyncSession,
        alert_id: uuid.UUID,
        data: CommentIn,
    ) -> CommentOut:
        return CommentOut.of(await collusion.alerts.comment(db_session, who, alert_id, data.body))
