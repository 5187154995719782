"""Browser pages: sign-in, the public ledger (tenders: ``tender_pages``).  Text comes from the catalogues."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from tenderhall.bounds import yuan_text
from tenderhall.errors import DomainError
from tenderhall.i18n import LOCALES, translate
from tenderhall.services import Services
from tenderhall.web.api.auth import session_cookie
from tenderhall.web.deps import READ
from tenderhall.web.problems import request_locale
from tenderhall.web.security import LOGIN_RATE_LIMIT, SESSION_COOKIE

BEIJING = ZoneInfo("Asia/Shanghai")


def money(amount_fen: int) -> str:
    """Yuan with thousands separators, as on a Chinese notice: 15,500,000.00."""
    return yuan_text(amount_fen, grouped=True)


def local_time(value: datetime | None, locale: str) -> str:
    """Times are stored in UTC and shown in Beijing time, which every centre in China uses."""
    if value is None:
        return "—"
    try:
        return f"{value.astimezone(BEIJING):%Y-%m-%d %H:%M} {translate('time.zone', locale)}"
    except (OverflowError, ValueError):
        # A value stored before the horizon was enforced (9999-12-31 overflows in Beijing time):
        # shown as stored, so the page still renders.
        return f"{value:%Y-%m-%d %H:%M} {translate('time.zone_utc', locale)}"


def page_context(request: Request[Any, Any, Any], **extra: Any) -> dict[str, Any]:
    """What every page template gets: locale, user, formatters, the CSRF token; plus ``extra``."""
    return {
        "locale": request_locale(request),
        "user": request.scope.get("user"),
        "yuan": money,
        "when": local_time,
        "csrf_token": request.scope.get("_csrf_token") or _csrf(request),
        **extra,
    }


def _csrf(request: Request[Any, Any, Any]) -> str:
    from litestar.utils.scope.state import ScopeState

    token = ScopeState.from_scope(request.scope).csrf_token
    return token if isinstance(token, str) else ""


@get("/login", include_in_schema=False)
async def login_form(request: Request[Any, Any, Any]) -> Template:
    return Template("login.html.jinja", context=page_context(request, error=None))


@post("/login", include_in_schema=False, middleware=[LOGIN_RATE_LIMIT.middleware])
async def login_submit(
    request: Request[Any, Any, Any],
    services: Services,
    db_session: AsyncSession,
    data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Response[Any]:
    source = request.client.host if request.client else None
    try:
        user = await services.accounts.authenticate(
            db_session, data.get("username", ""), data.get("password", ""), source
        )
    except DomainError as exc:
        return Template(
            "login.html.jinja",
            status_code=exc.status,
            headers=dict(exc.headers),
            context=page_context(
                request, error=exc.message(request_locale(request)), username=data.get("username", "")
            ),
        )
    login = await services.accounts.open_session(db_session, user, source, request.headers.get("user-agent"))
    # Every role starts on its "my work" page (web/work_pages.py).
    response: Response[Any] = Redirect("/work")
    response.set_cookie(session_cookie(services, login.token, services.settings.session_hours * 3600))
    return response


@post("/logout", include_in_schema=False)
async def logout(
    request: Request[Any, Any, Any], services: Services, db_session: AsyncSession
) -> Response[Any]:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        await services.accounts.close_session(db_session, cookie)
    response: Response[Any] = Redirect("/")
    response.set_cookie(session_cookie(services, "", 0))
    return response


@get("/lang/{code:str}", include_in_schema=False)
async def set_language(request: Request[Any, Any, Any], code: str) -> Response[Any]:
    response: Response[Any] = Redirect(request.headers.get("referer") or "/")
    if code in LOCALES:
        response.set_cookie("th_lang", code, max_age=365 * 86400, samesite="lax", httponly=True)
    return response


@get("/ledger", include_in_schema=False, dependencies=READ, cache=True)
async def ledger_page(
    request: Request[Any, Any, Any], services: Services, db_session: AsyncSession
) -> Template:
    size, _ = await services.ledger.tree_head(db_session)
    entries = await services.ledger.entries(db_session, max(0, size - 30), size)
    rows = [{"index": e.id, "kind": e.kind, "body": json.loads(e.body)} for e in reversed(entries)]
    return Template(
        "ledger.html.jinja",
        context=page_context(
            request,
            size=size,
            checkpoint=services.ledger.sign(size, (await services.ledger.tree_head(db_session))[1]),
            verifier=services.ledger.verifier.key_string(),
            entries=rows,
        ),
    )


PAGES = [login_form, login_submit, logout, set_language, ledger_page]
