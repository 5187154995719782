"""Sign-in throttling (auth.throttle): the same answers for unknown usernames, back-off per
(account, source) and per source, state shared by every app instance on the database."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from litestar import Litestar
from sqlalchemy import func, select

from tenderhall.app import create_app
from tenderhall.auth.models import LoginThrottle
from tenderhall.auth.throttle import Limits, SignInThrottle, source_of
from tenderhall.clock import FixedClock
from tenderhall.errors import TooManyRequests
from tenderhall.ledger.models import LedgerEntry
from tenderhall.services import Services
from tests.conftest import PASSWORD, World, from_address

LOGIN = "/api/v1/auth/login"


async def _count(services: Services, model: Any) -> int:
    async with services.sessionmaker() as db:
        return int(await db.scalar(select(func.count()).select_from(model)) or 0)


async def _answers(app: Litestar, address: str, username: str, attempts: int) -> list[tuple[Any, ...]]:
    """What a guesser sees: status, Retry-After and the whole problem body of each attempt."""
    seen = []
    async with from_address(app, address) as http:
        for _ in range(attempts):
            r = await http.post(LOGIN, json={"username": username, "password": "not-the-password"})
            seen.append((r.status_code, r.headers.get("retry-after"), r.headers["content-type"], r.json()))
    return seen


async def test_an_unknown_username_answers_exactly_as_a_known_one(
    app: Litestar, services: Services, world: World, client: Any
) -> None:
    ledger = await _count(services, LedgerEntry)
    known = await _answers(app, "192.0.2.10", "bidder", 8)
    unknown = await _answers(app, "192.0.2.11", "nobody.here", 8)
    assert [a[0] for a in known] == [401] * 6 + [429] * 2
    assert known == unknown
    # Neither leaves a trace anyone else can read: the ledger (public) did not grow.
    assert await _count(services, LedgerEntry) == ledger
    # Both are counted alike: one (account, source) and one source counter each.
    assert await _count(services, LoginThrottle) == 4


async def test_two_app_instances_share_the_throttle(
    settings: Any, clock: FixedClock, services: Services, world: World, client: Any
) -> None:
    """Workers are separate processes: what one counted, the other enforces."""
    one, two = create_app(settings, clock, sweeper=False), create_app(settings, clock, sweeper=False)
    async with one.lifespan(), two.lifespan():
        for app in (one, two, one, two, one, two):
            async with from_address(app, "192.0.2.20") as http:
                r = await http.post(LOGIN, json={"username": "bidder", "password": "wrong-password"})
                assert r.status_code == 401, r.text
        for app in (one, two):
            async with from_address(app, "192.0.2.20") as http:
                r = await http.post(LOGIN, json={"username": "bidder", "password": PASSWORD})
                assert r.status_code == 429, r.text
                assert r.json()["code"] == "auth.throttled"
    for app in (one, two):
        await app.state.services.engine.dispose()


async def test_a_source_trying_many_accounts_waits_but_their_owners_do_not(
    settings: Any, clock: FixedClock, world: World
) -> None:
    app = create_app(replace(settings, login_source_free_failures=3), clock, sweeper=False)
    async with app.lifespan():
        for name in ("admin", "staff", "expert"):  # one failure each: no pair reaches its limit
            async with from_address(app, "192.0.2.30") as http:
                r = await http.post(LOGIN, json={"username": name, "password": "wrong-password"})
                assert r.status_code == 401
        async with from_address(app, "192.0.2.30") as http:
            r = await http.post(LOGIN, json={"username": "supervisor", "password": "wrong-password"})
            assert r.status_code == 401  # the fourth failure from this source starts the back-off
            r = await http.post(LOGIN, json={"username": "supervisor", "password": PASSWORD})
            assert r.status_code == 429
        async with from_address(app, "192.0.2.31") as http:
            r = await http.post(LOGIN, json={"username": "supervisor", "password": PASSWORD})
            assert r.status_code == 201, r.text
    await app.state.services.engine.dispose()


def test_the_wait_doubles_and_is_capped() -> None:
    limits = Limits(free_failures=5, max_delay=timedelta(minutes=15))
    waits = [limits.delay(n, 5).total_seconds() for n in range(1, 20)]
    assert waits[:5] == [0] * 5
    assert waits[5:12] == [1, 2, 4, 8, 16, 32, 64]
    assert max(waits) == 900
    assert limits.delay(10_000, 5) == timedelta(minutes=15)
    assert limits.memory > limits.max_delay  # waiting out the delay does not reset the counter


def test_sources_group_an_ipv6_subscriber_and_unwrap_mapped_ipv4() -> None:
    assert source_of("2001:db8:1:2:aaaa::1") == source_of("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64"
    assert source_of("2001:db8:1:3::1") != source_of("2001:db8:1:2::1")
    assert source_of("::ffff:192.0.2.1") == source_of("192.0.2.1") == "192.0.2.1"
    assert source_of(None) == "unknown"


async def test_counters_are_forgotten_after_a_quiet_while_and_swept(
    services: Services, clock: FixedClock
) -> None:
    throttle = SignInThrottle(clock, b"k" * 32, Limits(free_failures=1))
    async with services.transaction() as db:
        await throttle.failed(db, "someone", "192.0.2.40")
        await throttle.failed(db, "someone", "192.0.2.40")
    async with services.transaction() as db:
        with pytest.raises(TooManyRequests):
            await throttle.check(db, "someone", "192.0.2.40")
        await throttle.check(db, "someone", "192.0.2.41")  # another source is not held
        rows = (await db.execute(select(LoginThrottle.key))).scalars().all()
    assert all("someone" not in key and "192.0.2" not in key for key in rows)  # keyed hashes only
    clock.advance(throttle.limits.memory)
    async with services.transaction() as db:
        await throttle.check(db, "someone", "192.0.2.40")
        await throttle.failed(db, "someone", "192.0.2.40")  # counts from one again: no wait
        await throttle.check(db, "someone", "192.0.2.40")
    clock.advance(throttle.limits.memory)
    async with services.transaction() as db:
        assert await throttle.sweep(db) == 2
    assert await _count(services, LoginThrottle) == 0


async def test_concurrent_failures_all_count(services: Services, clock: FixedClock) -> None:
    """Failures arriving at once (several workers) are counted atomically, none lost."""
    throttle = SignInThrottle(clock, b"k" * 32, Limits(free_failures=100, source_free_failures=100))

    async def fail() -> None:
        async with services.transaction() as db:
            await throttle.failed(db, "target", "192.0.2.50")

    await asyncio.gather(*(fail() for _ in range(12)))
    async with services.sessionmaker() as db:
        counts = sorted((await db.execute(select(LoginThrottle.failures))).scalars().all())
    assert counts == [12, 12]
