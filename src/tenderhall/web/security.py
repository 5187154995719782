"""Request authentication (session cookie or API token), cookie-aware CSRF protection, and the
browser security headers every response carries."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.middleware.csrf import CSRFMiddleware
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.types import BeforeMessageSendHookHandler, Message, Receive, Scope, Send

from tenderhall.auth.models import User
from tenderhall.errors import Forbidden
from tenderhall.services import Services

SESSION_COOKIE = "th_session"
# Per client address (X-Forwarded-For only from trusted proxies), on the password endpoints only;
# the store is shared by all workers (app._stores).  The sign-in throttle (auth.throttle) is the
# second line.
LOGIN_RATE_LIMIT = RateLimitConfig(rate_limit=("minute", 30), store="login_rate_limit")
CSRF_COOKIE = "th_csrf"
# Endpoints that open a session.  A forged request there carries no session yet, but it would sign
# the victim's browser in as the attacker (login CSRF), so they are checked all the same.
SIGN_IN_FORM = "/login"
SIGN_IN_API = "/api/v1/auth/login"

# Every page is served by TenderHall itself (the API docs' Swagger UI too, from a Python package),
# so nothing outside 'self' is needed: no inline script or style, no plugins, no framing.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
HSTS_SECONDS = 365 * 86400


def services_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Services:
    return connection.app.state.services  # type: ignore[no-any-return]


class AuthMiddleware(AbstractAuthenticationMiddleware):
    """Resolve the user from ``Authorization: Bearer tht_…`` or the session cookie.

    Anonymous requests pass through with ``user = None``; the policy table decides what they may do.
    """

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        services = services_of(connection)
        header = connection.headers.get("authorization", "")
        cookie = connection.cookies.get(SESSION_COOKIE)
        user: User | None = None
        via = None
        if header[:7].lower() == "bearer ":
            async with services.reader() as db:
                user = await services.accounts.user_for_token(db, header[7:].strip())
            via = "token"
            if user is None:
                from tenderhall.errors import Unauthenticated

                raise Unauthenticated("auth.token_invalid")
        elif cookie:
            async with services.reader() as db:
                user = await services.accounts.user_for_session(db, cookie)
            via = "session" if user else None
        return AuthenticationResult(user=user, auth=via)


class SessionCSRFMiddleware(CSRFMiddleware):
    """Litestar's double-submit CSRF check, applied to requests that carry a session cookie and
    to the sign-in endpoints.

    A request with no session cookie has no ambient authority a forged request could borrow
    (API clients authenticate with a bearer token), so it skips the check, except where it would
    open a session: the sign-in form needs the token of the form it came from (the CSRF cookie
    is set when the form is shown), and the JSON sign-in needs a JSON body, which no cross-site
    form can send without a CORS preflight that this server never grants.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await super().__call__(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        cookie_header = headers.get(b"cookie", b"").decode("latin-1")
        has_session = any(part.strip().startswith(SESSION_COOKIE + "=") for part in cookie_header.split(";"))
        path = scope.get("path", "")
        if scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            # The token cookie is handed out to sessions and to the sign-in form only: an anonymous
            # visitor's pages hold no form that needs it, and those answers are shared through the
            # response cache (web/cache.py), which must never hand one visitor's cookie to another.
            if has_session or path == SIGN_IN_FORM:
                await super().__call__(scope, receive, send)
            else:
                await self.app(scope, receive, send)
            return
        if not has_session and path == SIGN_IN_API:
            media_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
            if media_type != b"application/json":
                raise Forbidden("error.csrf_sign_in_json")
            await self.app(scope, receive, send)
            return
        if not has_session and path != SIGN_IN_FORM:
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def security_headers(base_url: str) -> BeforeMessageSendHookHandler:
    """A hook that adds the browser security headers to every response the app sends: pages, API,
    static files, and errors raised before any route matched (404, 405), which route-level
    ``response_headers`` would miss."""
    fixed = {
        "content-security-policy": CONTENT_SECURITY_POLICY,
        "x-content-type-options": "nosniff",
        "referrer-policy": "same-origin",  # the language switch returns to the Referer
        "x-frame-options": "DENY",  # frame-ancestors for browsers without CSP level 2
    }
    if base_url.startswith("https://"):
        # Only under https: over plain http a browser ignores it, and a demo on http must not
        # make a browser refuse http for the host later.
        fixed["strict-transport-security"] = f"max-age={HSTS_SECONDS}"

    async def add(message: Message, scope: Scope) -> None:
        if message["type"] == "http.response.start":
            headers = MutableScopeHeaders.from_message(message)
            for name, value in fixed.items():
                if name not in headers:
                    headers[name] = value

    return add
