"""Request authentication (session cookie or API token) and cookie-aware CSRF protection."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.middleware.csrf import CSRFMiddleware
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.types import Receive, Scope, Send

from tenderhall.auth.models import User
from tenderhall.services import Services

SESSION_COOKIE = "th_session"
# Per client address (X-Forwarded-For only from trusted proxies), on the password endpoints only;
# the store is shared by all workers (app._stores).  The sign-in throttle (auth.throttle) is the
# second line.
LOGIN_RATE_LIMIT = RateLimitConfig(rate_limit=("minute", 30), store="login_rate_limit")
CSRF_COOKIE = "th_csrf"


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
            async with services.sessionmaker() as db:
                user = await services.accounts.user_for_token(db, header[7:].strip())
            via = "token"
            if user is None:
                from tenderhall.errors import Unauthenticated

                raise Unauthenticated("auth.token_invalid")
        elif cookie:
            async with services.sessionmaker() as db:
                user = await services.accounts.user_for_session(db, cookie)
            via = "session" if user else None
        return AuthenticationResult(user=user, auth=via)


class SessionCSRFMiddleware(CSRFMiddleware):
    """Litestar's double-submit CSRF check, applied to requests that carry a session cookie.

    A request with no session cookie has no ambient authority a forged request could borrow
    (API clients authenticate with a bearer token), so it skips the check.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP:
            headers = dict(scope.get("headers", []))
            cookie_header = headers.get(b"cookie", b"").decode("latin-1")
            has_session = any(
                part.strip().startswith(SESSION_COOKIE + "=") for part in cookie_header.split(";")
            )
            if not has_session and scope.get("method") not in ("GET", "HEAD", "OPTIONS"):
                await self.app(scope, receive, send)
                return
        await super().__call__(scope, receive, send)
