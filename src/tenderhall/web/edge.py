"""Checks at the edge, before any body is read: the address carries no control characters.
(Anonymous callers of operations that need sign-in are refused by the app guard
``tenderhall.web.openapi.signed_in_unless_public``, also before any body is read.)"""

from __future__ import annotations

from urllib.parse import unquote

from litestar.types import ASGIApp, Receive, Scope, Send

from tenderhall import bounds
from tenderhall.web.api.schemas import refused

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def bounded_address(app: ASGIApp) -> ASGIApp:
    """Refuse a path or query with control characters (``%00``) on every route, pages included:
    PostgreSQL would refuse them in a lookup and SQLite would not, so both answer 400 here."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            query = unquote(scope.get("query_string", b"").decode("latin-1"), errors="replace")
            for source, value in (("path", scope["path"]), ("query", query)):
                if not bounds.clean_text(value):
                    raise refused(bounds.OutOfBounds("input.control_character", source), source)
        await app(scope, receive, send)

    return middleware
