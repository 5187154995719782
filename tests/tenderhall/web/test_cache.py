"""Anonymous answers of the public reads are reused for a short while; nobody else's are."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import event

from tenderhall.app import create_app
from tenderhall.clock import Clock
from tenderhall.services import Services
from tenderhall.settings import Settings
from tenderhall.web.cache import BoundedMemoryStore
from tests.conftest import World, from_address
from tests.support.tenders import draft_tender

from .test_pages import RUBRIC

SECONDS = 1


@pytest.fixture
async def app(settings: Settings, clock: Clock) -> AsyncIterator[Litestar]:
    cached = dataclasses.replace(settings, public_cache_seconds=SECONDS)
    application = create_app(cached, clock, sweeper=False)
    yield application
    await application.state.services.engine.dispose()


async def _publish(client: AsyncTestClient[Litestar], world: World, title: str) -> str:
    made = await client.post(
        "/api/v1/tenders/",
        json={
            "title": title,
            "procedure": "open_tender",
            "estimate": "1000000",
            "tenderer_id": str(world.tenderers[0].id),
            "centre_id": str(world.centres[0].id),
            "rubric": RUBRIC,
        },
        headers=world.auth("staff"),
    )
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


async def test_signed_in_users_are_never_served_a_kept_answer(
    client: AsyncTestClient[Litestar], world: World
) -> None:
    # The staff member asks first, so a cache that kept signed-in answers would now hold this one.
    before = await client.get("/api/v1/tenders/", headers=world.auth("staff"))
    assert before.status_code == 200
    assert "缓存之后的新项目" not in before.text
    await _publish(client, world, "缓存之后的新项目")
    # Within the expiry, the staff member's own list already shows the new draft.
    own = await client.get("/api/v1/tenders/", headers=world.auth("staff"))
    assert "缓存之后的新项目" in own.text


async def test_a_public_change_shows_to_anonymous_visitors_after_the_expiry(
    client: AsyncTestClient[Litestar], services: Services, world: World
) -> None:
    async with services.transaction() as db:
        tender = await draft_tender(
            services,
            db,
            world.who("staff"),
            title="公开项目",
            estimate_fen=100_000_000,
            tenderer_id=world.tenderers[0].id,
            centre_id=world.centres[0].id,
            rubric=RUBRIC,
        )
    before = await client.get("/")
    assert "公开项目" not in before.text  # a draft
    published = await client.post(
        f"/api/v1/tenders/{tender.id}/publish",
        json={"deadline": "2026-04-15T02:00:00Z"},
        headers=world.auth("staff"),
    )
    assert published.status_code in (200, 201), published.text
    stale = await client.get("/")
    assert "公开项目" not in stale.text  # still the kept answer
    await asyncio.sleep(SECONDS + 0.2)
    fresh = await client.get("/")
    assert "公开项目" in fresh.text


async def test_languages_are_kept_apart(client: AsyncTestClient[Litestar], world: World) -> None:
    zh = await client.get("/")
    en = await client.get("/", headers={"accept-language": "en"})
    assert 'lang="zh-CN"' in zh.text
    assert 'lang="en"' in en.text
    assert 'lang="en"' in (await client.get("/", headers={"accept-language": "en"})).text
    assert 'lang="zh-CN"' in (await client.get("/")).text


async def test_no_cookie_is_handed_out_with_a_shared_answer(
    client: AsyncTestClient[Litestar], world: World
) -> None:
    for _ in range(2):
        for path in ("/", "/api/v1/tenders/", "/ledger"):
            answer = await client.get(path)
            assert answer.status_code == 200, path
            assert "set-cookie" not in answer.headers, path
            # The security headers are on every answer, kept or fresh, once.
            assert answer.headers.get_list("x-frame-options") == ["DENY"], path
    # The sign-in form still hands out the token its form needs.
    assert "th_csrf=" in (await client.get("/login")).headers.get("set-cookie", "")


async def test_the_store_holds_no_more_than_its_cap() -> None:
    store = BoundedMemoryStore(max_entries=3)
    for i in range(10):
        await store.set(f"k{i}", b"x", expires_in=60)
    assert [await store.exists(f"k{i}") for i in range(5)] == [True, True, True, False, False]
    await store.set("k0", b"y", expires_in=60)  # an existing key may be refreshed at the cap
    assert await store.get("k0") == b"y"
    short = BoundedMemoryStore(max_entries=2)
    await short.set("a", b"1", expires_in=1)
    await short.set("b", b"1", expires_in=1)
    await asyncio.sleep(1.1)
    await short.set("c", b"1", expires_in=60)  # expired entries make room
    assert await short.exists("c")


async def test_a_crowd_after_an_expiry_makes_the_answer_once(
    client: AsyncTestClient[Litestar], app: Litestar, services: Services, world: World
) -> None:
    counted: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT COUNT"):
            counted.append(statement)

    event.listen(services.engine.sync_engine, "before_cursor_execute", count)
    try:
        async with from_address(app, "192.0.2.10") as crowd:
            answers = await asyncio.gather(*(crowd.get("/api/v1/tenders/") for _ in range(20)))
        assert {a.status_code for a in answers} == {200}
        assert len({a.content for a in answers}) == 1
        assert len(counted) == 1  # one request counted the tenders; nineteen waited for it
        # A signed-in crowd is never held back behind each other: each asks the database.
        counted.clear()
        async with from_address(app, "192.0.2.11", **world.auth("staff")) as staff:
            await asyncio.gather(*(staff.get("/api/v1/tenders/") for _ in range(3)))
        assert len(counted) == 3
    finally:
        event.remove(services.engine.sync_engine, "before_cursor_execute", count)
