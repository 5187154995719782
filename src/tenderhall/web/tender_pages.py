"""Tender pages for everyone and the bidder's work on them: the searchable list, a tender's page
(documents, amendments and the current deadline, clarifications), registration (报名) and asking
a clarification from it.  Tenders are named by reference number in every address they print.

A form's refusal (registration closed, a question too long) leaves through the error page with
the domain's own message, so its transaction rolls back and nothing is half-written."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tenderhall.auth.policy import Subject, permits
from tenderhall.errors import Forbidden, InvalidInput, Unauthenticated
from tenderhall.orgs.models import Centre, Organisation
from tenderhall.services import Services
from tenderhall.tenders.models import Registration, Tender
from tenderhall.web.deps import READ
from tenderhall.web.pages import page_context
from tenderhall.web.problems import request_locale
from tenderhall.web.tender_search import MAX_PAGE, PAGE_SIZE, PROCEDURES, STATES, read_search

# What a redirect back to the tender's page says happened (PRG: a reload sends nothing twice).
NOTICES = {
    "registered": "register.done",
    "already": "register.already",
    "asked": "clarification.asked",
}
MAX_QUESTION = 5000  # as the service's own check
# A form's body: one short field and the CSRF token; anything larger is not from our forms.
FORM_BODY = 64 * 1024


def tender_path(tender: Tender) -> str:
    return f"/tenders/{tender.reference}"


@get("/", include_in_schema=False, dependencies=READ, cache=True)
async def home(
    request: Request[Any, Any, Any], who: Subject, services: Services, db_session: AsyncSession
) -> Template:
    search = read_search(request.query_params)
    page = await services.tenders.search(
        db_session,
        who,
        state=search.state or None,
        centre_id=search.centre,
        procedure=search.procedure or None,
        q=search.q or None,
        limit=PAGE_SIZE,
        offset=search.offset,
    )
    # Every centre, for the filter and the rows: one statement however long the list.
    centres = list(await db_session.scalars(select(Centre).order_by(Centre.code)))
    return Template(
        "home.html.jinja",
        status_code=400 if search.problems else 200,
        context=page_context(
            request,
            page=page,
            centres={c.id: c for c in centres},
            search=search,
            problems=search.messages(request_locale(request)),
            states=STATES,
            procedures=PROCEDURES,
            page_size=PAGE_SIZE,
            max_page=MAX_PAGE,
            tender_path=tender_path,
        ),
    )


@get("/tenders/{tender_id:uuid}", include_in_schema=False, dependencies=READ, cache=True)
async def tender_page(
    request: Request[Any, Any, Any],
    tender_id: uuid.UUID,
    who: Subject,
    services: Services,
    db_session: AsyncSession,
    notice: Annotated[str | None, Parameter(query="notice", max_length=20)] = None,
) -> Template:
    tender, resource = await services.tenders.view(db_session, who, tender_id)
    clarifications = (
        await services.clarifications.clarifications_of(db_session, tender.id)
        if permits(who, "clarification.view", resource)
        else None
    )
    amendments = await services.tenders.amendments_of(db_session, tender.id)
    centre = await db_session.get(Centre, tender.centre_id)
    orgs = {
        o.id: o
        for o in await db_session.scalars(
            select(Organisation).where(
                Organisation.id.in_([o for o in (tender.tenderer_id, tender.agency_id) if o])
            )
        )
    }
    registered = (
        await db_session.scalar(
            select(Registration).where(
                Registration.tender_id == tender.id, Registration.company_id == who.company_id
            )
        )
        if who.company_id is not None and who.company_id in resource.registered_companies
        else None
    )
    return Template(
        "tender.html.jinja",
        context=page_context(
            request,
            tender=tender,
            centre=centre,
            tenderer=orgs.get(tender.tenderer_id),
            agency=orgs.get(tender.agency_id) if tender.agency_id else None,
            amendments=amendments,
            clarifications=clarifications,
            registration=registered,
            is_bidder=who.company_id is not None,
            can_register=permits(who, "tender.register", resource) and registered is None,
            can_ask=permits(who, "clarification.ask", resource),
            notice=NOTICES.get(notice or ""),
            max_question=MAX_QUESTION,
            tender_path=tender_path(tender),
        ),
    )


@post("/tenders/{tender_id:uuid}/register", include_in_schema=False, request_max_body_size=FORM_BODY)
async def register(
    tender_id: uuid.UUID, who: Subject, services: Services, db_session: AsyncSession
) -> Redirect:
    """报名 from the tender's page: the signed-in bidder's company registers, once."""
    if who.role is None:
        raise Unauthenticated("register.sign_in")
    if who.company_id is None:
        raise Forbidden("register.bidders_only")
    tender = await services.tenders.load(db_session, who, tender_id)
    resource = await services.tenders.resource(db_session, tender, who)
    if who.company_id in resource.registered_companies:
        return Redirect(f"{tender_path(tender)}?notice=already", status_code=303)
    await services.tenders.register(db_session, who, tender.id)
    return Redirect(f"{tender_path(tender)}?notice=registered", status_code=303)


@post("/tenders/{tender_id:uuid}/clarifications", include_in_schema=False, request_max_body_size=FORM_BODY)
async def ask(
    tender_id: uuid.UUID,
    who: Subject,
    services: Services,
    db_session: AsyncSession,
    data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Redirect:
    """A registered bidder's question (答疑), from the tender's page."""
    question = data.get("question", "")
    if not isinstance(question, str) or not question.strip() or len(question) > MAX_QUESTION:
        raise InvalidInput("clarification.question_invalid", limit=MAX_QUESTION)
    tender = await services.tenders.load(db_session, who, tender_id)
    await services.clarifications.ask(db_session, who, tender.id, question)
    return Redirect(f"{tender_path(tender)}?notice=asked#clarifications", status_code=303)


PAGES = [home, tender_page, register, ask]
