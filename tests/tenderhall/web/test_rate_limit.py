"""The password endpoints' request rate limit (web.security.LOGIN_RATE_LIMIT): one count per
client address shared by every worker (database or Redis), and X-Forwarded-For believed only from
the proxies in TENDERHALL_TRUSTED_PROXIES."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import select, update

from tenderhall.app import create_app
from tenderhall.auth.models import RateLimitEntry, UserSession
from tenderhall.clock import FixedClock
from tenderhall.settings import Settings
from tests.conftest import PASSWORD, World, from_address
from tests.tenderhall.test_serve import free_port, wait_healthy

LOGIN = "/api/v1/auth/login"
LIMIT = 30  # per minute
REDIS_URL = "redis://127.0.0.1:6379/0"


async def _spend(app: Litestar, peer: str, times: int, **headers: str) -> list[int]:
    """``times`` sign-in requests (malformed: the limit counts them before the body is read)."""
    async with from_address(app, peer, **headers) as http:
        return [(await http.post(LOGIN, json={})).status_code for _ in range(times)]


@pytest.mark.parametrize("store", ["database", "redis"])
async def test_two_app_instances_share_the_rate_limit(
    settings: Settings, clock: FixedClock, store: str
) -> None:
    if store == "redis":
        # A namespace of its own, so that runs sharing the Redis server do not count together.
        settings = replace(settings, redis_url=REDIS_URL, extra={"channel_namespace": uuid.uuid4().hex})
    one, two = create_app(settings, clock, sweeper=False), create_app(settings, clock, sweeper=False)
    async with one.lifespan(), two.lifespan():
        assert await _spend(one, "192.0.2.1", LIMIT // 2) == [400] * (LIMIT // 2)
        assert await _spend(two, "192.0.2.1", LIMIT // 2) == [400] * (LIMIT // 2)
        async with from_address(one, "192.0.2.1") as http:
            refused = await http.post(LOGIN, json={})
        assert refused.status_code == 429
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["code"] == "error.too_many"
        # When to come back: the window's reset, in seconds (RFC 9110 §10.2.3).
        assert refused.headers["retry-after"] == refused.headers["ratelimit-reset"]
        assert 0 < int(refused.headers["retry-after"]) <= 60
        assert await _spend(two, "192.0.2.1", 1) == [429]
        assert await _spend(two, "192.0.2.2", 1) == [400]  # another address has its own count
    for app in (one, two):
        await app.state.services.engine.dispose()


async def test_forwarded_for_from_an_untrusted_peer_is_ignored(settings: Settings, clock: FixedClock) -> None:
    app = create_app(settings, clock, sweeper=False)  # no trusted proxies: the default
    async with app.lifespan():
        for i in range(LIMIT):
            assert await _spend(app, "192.0.2.9", 1, **{"x-forwarded-for": f"203.0.113.{i}"}) == [400]
        assert await _spend(app, "192.0.2.9", 1, **{"x-forwarded-for": "203.0.113.200"}) == [429]
    await app.state.services.engine.dispose()


async def test_forwarded_for_from_a_trusted_proxy_names_the_client(
    settings: Settings, clock: FixedClock, world: World, services: Any, client: Any
) -> None:
    app = create_app(replace(settings, trusted_proxies=("10.0.0.0/8",)), clock, sweeper=False)
    async with app.lifespan():
        for i in range(LIMIT + 5):  # each client behind the proxy has its own count
            assert await _spend(app, "10.1.2.3", 1, **{"x-forwarded-for": f"203.0.113.{i}"}) == [400]
        # The rightmost address not a trusted proxy is the client: one it added cannot be forged.
        forwarded = {"x-forwarded-for": "198.51.100.1, 203.0.113.77, 10.9.9.9"}
        async with from_address(app, "10.1.2.3", **forwarded) as http:
            r = await http.post(LOGIN, json={"username": "bidder", "password": PASSWORD})
            assert r.status_code == 201, r.text
    async with services.sessionmaker() as db:
        assert (await db.execute(select(UserSession.ip))).scalars().all() == ["203.0.113.77"]
    await app.state.services.engine.dispose()


@pytest.mark.slow
def test_the_server_ignores_a_spoofed_forwarded_for_from_a_local_peer(
    database_url: str, spawn_cli: Any
) -> None:
    """Under `tenderhall serve`, a client on the same host (uvicorn used to trust 127.0.0.1)
    cannot pick a fresh address per request to escape the limit."""
    port = free_port()
    proc = spawn_cli(database_url, "serve", "--port", str(port))
    base = f"http://127.0.0.1:{port}"
    wait_healthy(base, proc)
    codes = []
    with httpx.Client(base_url=base, timeout=10) as http:
        for i in range(LIMIT + 1):
            r = http.post(LOGIN, json={}, headers={"x-forwarded-for": f"203.0.113.{i}"})
            codes.append(r.status_code)
    assert codes == [400] * LIMIT + [429]


async def test_expired_counts_are_swept(settings: Settings, clock: FixedClock) -> None:
    app = create_app(settings, clock, sweeper=False)
    services = app.state.services
    async with app.lifespan():
        await _spend(app, "192.0.2.3", 2)
        await _spend(app, "192.0.2.4", 1)
    async with services.transaction() as db:
        await services.accounts.sweep(db)  # nothing has expired yet
        assert len((await db.execute(select(RateLimitEntry.key))).scalars().all()) == 2
        await db.execute(update(RateLimitEntry).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
        await services.accounts.sweep(db)
        assert (await db.execute(select(RateLimitEntry.key))).scalars().all() == []
    await services.engine.dispose()
