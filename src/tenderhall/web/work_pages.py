"""The "my work" page: what waits for the signed-in user, gathered from every package through
``tenderhall.compose``, with the in-app notifications.  Anonymous visitors are sent to sign in."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from tenderhall import compose
from tenderhall.auth.policy import Subject
from tenderhall.services import Services
from tenderhall.web.deps import READ
from tenderhall.web.pages import page_context
from tenderhall.web.problems import request_locale
from tenderhall.work.items import Urgency

WORK_PATH = "/work"
DETAIL_SHOWN = 280  # characters of a quoted question or objection; the item's link has the rest


@get(WORK_PATH, include_in_schema=False, dependencies=READ)
async def work_page(
    request: Request[Any, Any, Any], who: Subject, services: Services, db_session: AsyncSession
) -> Template | Redirect:
    if who.role is None:
        return Redirect("/login")
    locale = request_locale(request)
    items = await compose.work_items(db_session, services, who)
    notices = await compose.notices(db_session, services, who, locale)
    return Template(
        "work.html.jinja",
        context=page_context(
            request,
            items=items,
            waiting=[i for i in items if i.urgency < Urgency.INFO],
            informing=[i for i in items if i.urgency >= Urgency.INFO],
            notices=notices,
            detail_shown=DETAIL_SHOWN,
            urgency_names={u: u.name.lower() for u in Urgency},
            # The badges' catalogue keys (work.urgency.overdue ... work.urgency.info).
            urgency_keys={u: f"work.urgency.{u.name.lower()}" for u in Urgency},
        ),
    )


PAGES = [work_page]
