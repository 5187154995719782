"""Checks at the edge, before any body is read: the address carries no control characters, and a
write to the API needs a signed-in caller unless its handler says it is for anonymous callers
(``opt={"anonymous": True}``: signing in)."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.types import ASGIApp, Receive, Scope, Send

from tenderhall import bounds
from tenderhall.errors import Unauthenticated
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


def signed_in_to_write(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """Guards run before Litestar parses the body: an anonymous write is refused without it."""
    if (
        connection.scope.get("method", "GET") not in SAFE_METHODS
        and connection.scope["path"].startswith("/api/")
        and connection.scope.get("user") is None
        and not handler.opt.get("anonymous")
    ):
        raise Unauthenticated()
