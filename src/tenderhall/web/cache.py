"""Reuse of anonymous answers on the public reads (issue 14's load target).

The public tender list, the tender page, the home page and the ledger page are the same for every
anonymous visitor who speaks the same language, and they are what a crowd reads before a deadline.
Handlers marked ``cache=True`` keep such an answer for ``Settings.public_cache_seconds`` in each
worker's memory (Litestar's response cache): a visitor then sees a change at most that late, and a
hit costs no database work. Signed-in users are never served from the cache and never fill it: what
they see depends on who they are, and they must see their own actions at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from litestar.config.response_cache import ResponseCacheConfig
from litestar.connection import Request
from litestar.enums import ScopeType
from litestar.stores.memory import MemoryStore
from litestar.types import ASGIApp, HTTPScope, Receive, Scope, Send

from tenderhall.web.problems import request_locale

STORE = "public_answers"
# How long a request waits for another one making the same answer before it makes its own.
FOLLOW_SECONDS = 10.0


def _anonymous(scope: Scope) -> bool:
    return scope.get("user") is None


def _key(request: Request[Any, Any, Any]) -> str:
    # Signed-in users' key is never filled (see worth_keeping): for them it is always a miss.
    who = "anon" if _anonymous(request.scope) else "signed-in"
    query = urlencode(sorted(request.query_params.multi_items()), doseq=True)
    return f"{who}|{request_locale(request)}|{request.method}{request.url.path}?{query}"


def response_cache(seconds: int) -> ResponseCacheConfig:
    def worth_keeping(scope: HTTPScope, status: int) -> bool:
        return seconds > 0 and status == 200 and _anonymous(scope)

    return ResponseCacheConfig(
        default_expiration=max(seconds, 1), key_builder=_key, store=STORE, cache_response_filter=worth_keeping
    )


class BoundedMemoryStore(MemoryStore):
    """Litestar's memory store with a cap on entries: every distinct query string is a key, so
    without one a visitor could fill the worker's memory with answers nobody asks for twice.
    At the cap it drops expired entries, and if none are, it keeps nothing new until some expire."""

    __slots__ = ("max_entries",)

    def __init__(self, max_entries: int) -> None:
        super().__init__()
        self.max_entries = max_entries

    async def set(self, key: str, value: str | bytes, expires_in: int | timedelta | None = None) -> None:
        if len(self._store) >= self.max_entries and key not in self._store:
            await self.delete_expired()
            if len(self._store) >= self.max_entries:
                return
        await super().set(key, value, expires_in)


def response_store(max_entries: int = 2_000) -> MemoryStore:
    """Per worker: the answers are cheap to remake and short-lived, so they need not be shared."""
    return BoundedMemoryStore(max_entries)


class SingleFlight:
    """When a kept answer expires under a crowd, one request remakes it and the others wait for
    that one instead of all querying the database at once (a cache stampede: at 50 concurrent
    visitors, 50 identical misses every expiry). After the leader has finished the followers ask
    the cache again; if the leader's answer was not kept (an error, a 404), each makes its own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.running: dict[str, asyncio.Event] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = scope.get("route_handler")
        if scope["type"] != ScopeType.HTTP or not getattr(handler, "cache", False) or not _anonymous(scope):
            await self.app(scope, receive, send)
            return
        key = _key(Request(scope))
        leader = self.running.get(key)
        if leader is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(leader.wait(), FOLLOW_SECONDS)
            await self.app(scope, receive, send)
            return
        done = self.running[key] = asyncio.Event()
        try:
            await self.app(scope, receive, send)
        finally:
            del self.running[key]
            done.set()
