"""The caller's in-app notifications (draws, seats, objections), rendered in its locale."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from sqlalchemy.ext.asyncio import AsyncSession

from evaluation.api.schemas import NotificationOut
from evaluation.notify import render
from evaluation.service import Evaluation
from tenderhall.auth.policy import Subject
from tenderhall.web.problems import request_locale


class NotificationController(Controller):
    path = "/api/v1/notifications"
    tags = ["evaluation"]

    @get("/", summary="The caller's notifications, newest first")
    async def mine(
        self, request: Request[Any, Any, Any], who: Subject, evaluation: Evaluation, db_session: AsyncSession
    ) -> list[NotificationOut]:
        locale = request_locale(request)
        out = []
        for n in await evaluation.notifier.inbox(db_session, who):
            subject, body = render(n.kind, locale, n.params)
            out.append(
                NotificationOut(
                    id=n.id,
                    kind=n.kind,
                    subject=subject,
                    body=body,
                    params=n.params,
                    created_at=n.created_at.isoformat(),
                    email_status=n.email_status,
                )
            )
        return out
