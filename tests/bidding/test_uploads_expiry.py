"""Resumable uploads that never complete: refused once the deadline has passed, their partial files
deleted and the uploads marked expired by the app's sweeper, idempotently, never under a request
that still holds the file."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bidding import plugin, uploads
from bidding.models import UploadSession
from bidding.service import Bidding
from tenderhall.app import create_app
from tenderhall.auth.models import User
from tenderhall.auth.service import subject_of
from tests.bidding.helpers import bid_package, make_scene, seal_bytes, sealing, start_upload


async def _half_uploaded(client: Any, scene: Any, name: str) -> tuple[str, bytes]:
    bidder = scene.bidders[0]
    blob = seal_bytes(
        bid_package(), bidder.keys.opening.recipient, str(scene.tender_id), name, await sealing(client, scene)
    )
    r = await start_upload(client, scene, bidder, blob, name)
    assert r.status_code == 201, r.text
    upload = r.json()["id"]
    half = len(blob) // 2
    r = await client.patch(
        f"/api/v1/uploads/{upload}", content=blob[:half], headers={**bidder.headers, "Upload-Offset": "0"}
    )
    assert r.status_code == 200, r.text
    return upload, blob


async def _state(services: Any, upload: str) -> str:
    async with services.sessionmaker() as db:
        session = await db.get(UploadSession, uuid.UUID(upload))
        assert session is not None
        return session.state


async def test_expired_upload_is_refused_and_swept(services, world, client, clock) -> None:
    scene = await make_scene(services, world, client, bidders=1)
    bidder = scene.bidders[0]
    upload, blob = await _half_uploaded(client, scene, "e0")
    bidding = services.get(Bidding)
    path = bidding.partials.path(uuid.UUID(upload))
    assert path.exists()
    await plugin.sweep(services)  # what the app's sweeper runs
    assert path.exists()  # before the deadline: kept
    assert await _state(services, upload) == "open"

    clock.set(scene.deadline)
    half = len(blob) // 2
    r = await client.patch(
        f"/api/v1/uploads/{upload}",
        content=blob[half:],
        headers={**bidder.headers, "Upload-Offset": str(half)},
    )
    assert r.status_code == 409
    assert r.json()["code"] == "bid.deadline_passed"
    r = await client.post(f"/api/v1/uploads/{upload}/complete", headers=bidder.headers)
    assert r.status_code == 409
    assert r.json()["code"] == "bid.deadline_passed"

    assert await bidding.sweep_uploads() == 1
    assert not path.exists()
    assert await _state(services, upload) == "expired"
    assert await bidding.sweep_uploads() == 0  # idempotent
    r = await client.get(f"/api/v1/uploads/{upload}", headers=bidder.headers)
    assert r.json()["state"] == "expired"
    assert r.json()["offset"] == 0
    for response in (
        await client.patch(
            f"/api/v1/uploads/{upload}", content=b"x", headers={**bidder.headers, "Upload-Offset": "0"}
        ),
        await client.post(f"/api/v1/uploads/{upload}/complete", headers=bidder.headers),
    ):
        assert response.status_code == 409
        assert response.json()["code"] == "bid.upload_expired"
        assert response.headers["content-type"].startswith("application/problem+json")

    # A request that got past its checks before all this cannot bring the file back.
    async def more() -> AsyncIterator[bytes]:
        yield b"late"

    with pytest.raises(uploads.Gone):
        await bidding.partials.append(uuid.UUID(upload), 0, more(), len(blob))
    with pytest.raises(uploads.Gone), bidding.partials.reader(uuid.UUID(upload)):
        pass
    assert not path.exists()


async def test_sweep_waits_for_a_request_holding_the_file(services, world, client, clock) -> None:
    """A slow append that began before the deadline still holds the file at the sweep: the file
    stays (the append is not cut short under it) and goes at the next sweep."""
    scene = await make_scene(services, world, client, bidders=1)
    upload, blob = await _half_uploaded(client, scene, "e1")
    bidding = services.get(Bidding)
    path = bidding.partials.path(uuid.UUID(upload))
    half = len(blob) // 2
    started, resume = asyncio.Event(), asyncio.Event()

    async def slow() -> AsyncIterator[bytes]:
        yield blob[half : half + 10]
        started.set()
        await resume.wait()
        yield blob[half + 10 :]

    async with services.sessionmaker() as db:
        user = await db.scalar(select(User).where(User.company_id == scene.bidders[0].company_id))
        who = subject_of(user)
        appending = asyncio.create_task(bidding.append(db, who, uuid.UUID(upload), half, slow()))
        await asyncio.wait_for(started.wait(), timeout=10)
        clock.set(scene.deadline + timedelta(minutes=5))
        assert await bidding.sweep_uploads() == 0
        assert path.exists()
        assert await _state(services, upload) == "open"
        resume.set()
        assert await asyncio.wait_for(appending, timeout=10) == len(blob)
    assert path.stat().st_size == len(blob)
    assert await bidding.sweep_uploads() == 1
    assert not path.exists()
    assert await _state(services, upload) == "expired"


async def test_the_app_sweeper_expires_uploads(settings, services, world, client, clock) -> None:
    scene = await make_scene(services, world, client, bidders=1)
    upload, _ = await _half_uploaded(client, scene, "e2")
    path = services.get(Bidding).partials.path(uuid.UUID(upload))
    clock.set(scene.deadline + timedelta(seconds=1))
    swept = create_app(settings, clock, sweeper=True)
    async with swept.lifespan():
        for _ in range(150):  # the sweeper runs every few seconds
            if not path.exists() and await _state(services, upload) == "expired":
                break
            await asyncio.sleep(0.1)
    assert not path.exists()
    assert await _state(services, upload) == "expired"
