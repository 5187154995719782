"""The live hall across app instances: an action through one app reaches the server-sent-event
listeners of another app at once through Redis (two Litestar apps in this process, one database,
the Redis at 127.0.0.1:6379, a channel namespace of their own) or, without Redis, through the
PostgreSQL database's LISTEN/NOTIFY; and listeners of the same app through the in-memory backend
(SQLite).  The hall's own safety tick is 30 s, so only an event can make
these deadlines."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
from litestar import Litestar

from tenderhall.app import create_app
from tests.bidding.helpers import file_key_b64, make_scene, seal_and_submit

REDIS_URL = os.environ.get("TENDERHALL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
PROMPT = 5.0  # seconds; far below the 30 s tick and the 30 min to the end of the window


class Listener:
    """A server-sent-event stream of one app, read as it arrives (ASGI, no buffering client)."""

    def __init__(self, app: Litestar, path: str, headers: dict[str, str]) -> None:
        self.events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._gone = asyncio.Event()
        self._buffer = b""
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"testserver.local")]
            + [(k.lower().encode(), v.encode()) for k, v in headers.items()],
            "client": ("127.0.0.1", 50000),
            "server": ("testserver.local", 80),
        }
        self.status: int | None = None
        self._task = asyncio.create_task(app(scope, self._receive, self._send))

    async def _receive(self) -> dict[str, Any]:
        if not hasattr(self, "_asked"):
            self._asked = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await self._gone.wait()
        return {"type": "http.disconnect"}

    async def _send(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            return
        self._buffer += message.get("body", b"")
        while b"\r\n\r\n" in self._buffer or b"\n\n" in self._buffer:
            sep = b"\r\n\r\n" if b"\r\n\r\n" in self._buffer else b"\n\n"
            block, self._buffer = self._buffer.split(sep, 1)
            lines = block.decode().splitlines()
            data = "\n".join(line[5:].lstrip() for line in lines if line.startswith("data:"))
            if any(line.strip() == "event: hall" for line in lines) and data:
                await self.events.put(json.loads(data))

    async def next(self, within: float) -> dict[str, Any]:
        return await asyncio.wait_for(self.events.get(), within)

    async def close(self) -> None:
        self._gone.set()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._task


@contextlib.asynccontextmanager
async def listening(app: Litestar, tender_id: uuid.UUID, headers: dict[str, str]) -> AsyncIterator[Listener]:
    listener = Listener(app, f"/api/v1/tenders/{tender_id}/hall/events", headers)
    try:
        yield listener
    finally:
        await listener.close()


def _status(snapshot: dict[str, Any], bid: str) -> str:
    return str(next(b["status"] for b in snapshot["bids"] if b["bid"] == bid))


async def _until(listener: Listener, bid: str, status: str) -> float:
    """Seconds until a snapshot shows ``bid`` in ``status``; fails after PROMPT seconds."""
    began = time.monotonic()
    while True:
        left = PROMPT - (time.monotonic() - began)
        snapshot = await listener.next(within=max(left, 0.01))
        if _status(snapshot, bid) == status:
            return time.monotonic() - began


async def _scene(services: Any, world: Any, client: Any, clock: Any) -> tuple[Any, str]:
    scene = await make_scene(services, world, client, bidders=1)
    blob = await seal_and_submit(client, scene, scene.bidders[0], "live0")
    clock.set(scene.deadline)  # opening time: the hall opens on first use
    return scene, file_key_b64(blob, scene.bidders[0].keys.opening)


async def _send_key(app: Litestar, scene: Any, key: str) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as http:
        r = await http.post(
            f"/api/v1/tenders/{scene.tender_id}/hall/bids/live0/key",
            json={"file_key": key},
            headers=scene.bidders[0].headers,
        )
    assert r.status_code == 201, r.text


async def _redis_available() -> bool:
    from redis.asyncio import Redis

    redis = Redis.from_url(REDIS_URL)
    try:
        return bool(await redis.ping())
    except OSError:
        return False
    finally:
        await redis.aclose()


async def _across_apps(shared: Any, scene: Any, key: str, clock: Any) -> float:
    """Two apps on ``shared`` settings: a key sent through A reaches B's listener; seconds taken."""
    app_a = create_app(shared, clock, sweeper=False)
    app_b = create_app(shared, clock, sweeper=False)
    async with (
        app_a.lifespan(),
        app_b.lifespan(),
        listening(app_b, scene.tender_id, scene.bidders[0].headers) as on_b,
    ):
        first = await on_b.next(within=PROMPT)
        assert on_b.status == 200
        assert first["phase"] == "decrypting"
        assert _status(first, "live0") == "sealed"
        await asyncio.sleep(0.2)  # margin: B subscribed before its first event; let the backend settle
        await _send_key(app_a, scene, key)
        return await _until(on_b, "live0", "decrypted")


async def test_an_action_in_one_app_reaches_listeners_of_another_through_redis(
    settings, services, world, client, clock
) -> None:
    if not await _redis_available():
        pytest.fail(f"Redis is needed at {REDIS_URL} (TENDERHALL_TEST_REDIS_URL)")
    scene, key = await _scene(services, world, client, clock)
    shared = replace(settings, redis_url=REDIS_URL, extra={"channel_namespace": f"test-{uuid.uuid4().hex}"})
    assert await _across_apps(shared, scene, key, clock) < PROMPT


async def test_an_action_in_one_app_reaches_listeners_of_another_through_postgresql(
    settings, services, world, client, clock
) -> None:
    """Without Redis, a PostgreSQL deployment carries the events itself (LISTEN/NOTIFY)."""
    if settings.is_sqlite:
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's; SQLite deployments run one worker")
    scene, key = await _scene(services, world, client, clock)
    shared = replace(settings, redis_url="", extra={"channel_namespace": f"test-{uuid.uuid4().hex}"})
    assert await _across_apps(shared, scene, key, clock) < PROMPT


async def test_listeners_of_the_same_app(settings, services, world, client, clock) -> None:
    scene, key = await _scene(services, world, client, clock)
    assert not settings.redis_url
    app = create_app(settings, clock, sweeper=False)
    async with app.lifespan(), listening(app, scene.tender_id, scene.bidders[0].headers) as listener:
        first = await listener.next(within=PROMPT)
        assert _status(first, "live0") == "sealed"
        await _send_key(app, scene, key)
        assert await _until(listener, "live0", "decrypted") < PROMPT
