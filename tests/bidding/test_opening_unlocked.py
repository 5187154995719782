"""Sending a file key: the tender's lock is not held while the bid decrypts, yet every decision is
still made under it by the clock (a window that closes meanwhile wins); wrong keys are retried and
each attempt is on the record; a damaged payload behind a right key is the bidder's fault."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import tempfile
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bidding.decrypt_pool import shared_pool
from bidding.models import Bid, BidState
from bidding.opening import POOL_MIN_BYTES
from bidding.package import pack
from bidding.service import Bidding
from tenderhall.auth.models import User
from tenderhall.auth.service import subject_of
from tenderhall.errors import Conflict
from tenderhall.ledger.models import LedgerEntry
from tests.bidding.helpers import (
    bid_package,
    file_key_b64,
    make_scene,
    seal_and_submit,
    seal_bytes,
    sealing,
    submit,
)


async def _ledger(services: Any, kind: str) -> list[dict[str, Any]]:
    async with services.sessionmaker() as db:
        rows = await db.execute(
            select(LedgerEntry.body).where(LedgerEntry.kind == kind).order_by(LedgerEntry.id)
        )
        return [json.loads(body) for body in rows.scalars()]


async def _bid(services: Any, tender_id: Any, ref: str) -> Bid:
    async with services.sessionmaker() as db:
        bid = await db.scalar(select(Bid).where(Bid.tender_id == tender_id, Bid.bid_ref == ref))
        assert bid is not None
        return bid


async def _send_key(services: Any, bidder: Any, tender_id: Any, ref: str, key: str) -> str:
    """The hall's key handler, in-process (concurrent calls need their own sessions)."""
    hall = services.get(Bidding).hall
    async with services.sessionmaker() as db:
        user = await db.scalar(select(User).where(User.company_id == bidder.company_id))
        assert user is not None
        bid = await hall.send_file_key(db, subject_of(user), tender_id, ref, key)
        state: str = bid.state
        await db.commit()
        return state


class Gate:
    """Holds the decryption of one stored envelope until released (the real decryption runs)."""

    def __init__(self, hall: Any, storage_key: str) -> None:
        self.entered, self.release = threading.Event(), threading.Event()
        real: Callable[..., Any] = hall.blobs.open

        def gated(key: str, *args: Any) -> Any:
            if key == storage_key:
                self.entered.set()
                assert self.release.wait(30)
            return real(key, *args)

        hall.blobs.open = gated

    async def wait_entered(self) -> None:
        assert await asyncio.to_thread(self.entered.wait, 30)


async def test_other_bidders_proceed_while_a_bid_decrypts(services, world, client, clock) -> None:
    scene = await make_scene(services, world, client, bidders=2)
    tid, (b0, b1) = scene.tender_id, scene.bidders
    blobs = [await seal_and_submit(client, scene, b, f"u{i}") for i, b in enumerate((b0, b1))]
    clock.set(scene.deadline)
    hall = services.get(Bidding).hall
    gate = Gate(hall, (await _bid(services, tid, "u0")).storage_key)
    first = asyncio.create_task(_send_key(services, b0, tid, "u0", file_key_b64(blobs[0], b0.keys.opening)))
    await gate.wait_entered()
    # u0 is decrypting: the tender is not locked, so u1 is opened meanwhile (under the old
    # scheme this waited for the lock, and on SQLite for the database, until u0 was done).
    second = await asyncio.wait_for(
        _send_key(services, b1, tid, "u1", file_key_b64(blobs[1], b1.keys.opening)), timeout=20
    )
    assert second == BidState.DECRYPTED.value
    assert not first.done()
    gate.release.set()
    assert await asyncio.wait_for(first, timeout=30) == BidState.DECRYPTED.value
    assert [e["data"]["bid"] for e in await _ledger(services, "bid.decrypted")] == ["u1", "u0"]


async def test_the_key_handler_releases_the_lock_too(app, services, world, client, clock) -> None:
    """The same through the HTTP handler, whose session (a request's) is split by the action."""
    scene = await make_scene(services, world, client, bidders=2)
    tid, (b0, b1) = scene.tender_id, scene.bidders
    blobs = [await seal_and_submit(client, scene, b, f"h{i}") for i, b in enumerate((b0, b1))]
    clock.set(scene.deadline)
    gate = Gate(services.get(Bidding).hall, (await _bid(services, tid, "h0")).storage_key)

    async def post(bidder: Any, ref: str, blob: bytes) -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as http:
            return await http.post(
                f"/api/v1/tenders/{tid}/hall/bids/{ref}/key",
                json={"file_key": file_key_b64(blob, bidder.keys.opening)},
                headers=bidder.headers,
            )

    async with app.lifespan():
        first = asyncio.create_task(post(b0, "h0", blobs[0]))
        await gate.wait_entered()
        second = await asyncio.wait_for(post(b1, "h1", blobs[1]), timeout=20)
        assert second.status_code == 201, second.text
        assert not first.done()
        gate.release.set()
        r = await asyncio.wait_for(first, timeout=30)
    assert r.status_code == 201, r.text
    assert r.json()["state"] == BidState.DECRYPTED.value


async def test_a_callers_own_transaction_stays_whole(services, world, client, clock) -> None:
    """A caller that composes a unit of work (services.transaction(), e.g. the demo) keeps it:
    the action does not commit it halfway."""
    scene = await make_scene(services, world, client, bidders=1)
    tid, b0 = scene.tender_id, scene.bidders[0]
    blob = await seal_and_submit(client, scene, b0, "t0")
    clock.set(scene.deadline)
    hall = services.get(Bidding).hall
    decrypted_inside: list[str] = []

    async def unit_of_work() -> None:
        async with services.transaction() as db:
            user = await db.scalar(select(User).where(User.company_id == b0.company_id))
            key = file_key_b64(blob, b0.keys.opening)
            decrypted_inside.append((await hall.send_file_key(db, subject_of(user), tid, "t0", key)).state)
            raise RuntimeError("undo")  # the caller's unit of work fails after the action

    with pytest.raises(RuntimeError, match="undo"):
        await unit_of_work()
    assert decrypted_inside == [BidState.DECRYPTED.value]
    assert (await _bid(services, tid, "t0")).state == BidState.SUBMITTED.value
    assert await _ledger(services, "bid.decrypted") == []


async def test_window_closing_during_decryption_wins(services, world, client, clock) -> None:
    scene = await make_scene(services, world, client, bidders=1)
    tid, b0 = scene.tender_id, scene.bidders[0]
    blob = await seal_and_submit(client, scene, b0, "w0")
    clock.set(scene.deadline)
    hall = services.get(Bidding).hall
    gate = Gate(hall, (await _bid(services, tid, "w0")).storage_key)
    task = asyncio.create_task(_send_key(services, b0, tid, "w0", file_key_b64(blob, b0.keys.opening)))
    await gate.wait_entered()
    clock.advance(timedelta(hours=2))  # the window ends while the key is being checked
    gate.release.set()
    with pytest.raises(Conflict) as refused:
        await asyncio.wait_for(task, timeout=30)
    assert refused.value.key == "hall.window_closed"
    assert await _ledger(services, "bid.decrypted") == []
    hall_now = (await client.get(f"/api/v1/tenders/{tid}/hall", headers=scene.staff)).json()
    assert hall_now["phase"] == "ready"
    assert [b["status"] for b in hall_now["bids"]] == ["revoked"]  # 第三十一条: not decrypted in time


async def test_wrong_keys_are_counted_and_may_be_retried(services, world, client, clock) -> None:
    scene = await make_scene(services, world, client, bidders=1)
    tid, b0 = scene.tender_id, scene.bidders[0]
    blob = await seal_and_submit(client, scene, b0, "k0")
    clock.set(scene.deadline)
    url = f"/api/v1/tenders/{tid}/hall/bids/k0/key"
    for wrong in (bytes(16), b"\x01" * 16):
        r = await client.post(url, json={"file_key": base64.b64encode(wrong).decode()}, headers=b0.headers)
        assert r.status_code == 422
        assert r.json()["code"] == "hall.key_wrong"
    assert [e["data"]["attempt"] for e in await _ledger(services, "hall.key_rejected")] == [1, 2]
    r = await client.post(url, json={"file_key": file_key_b64(blob, b0.keys.opening)}, headers=b0.headers)
    assert r.status_code == 201, r.text
    assert r.json()["state"] == BidState.DECRYPTED.value
    bid = await _bid(services, tid, "k0")
    assert bid.key_attempts == 3
    assert bid.bid_form is not None
    assert bid.bid_form["price"] == "980000.00"


async def test_damaged_payload_behind_a_right_key_is_the_bidders_fault(
    services, world, client, clock
) -> None:
    scene = await make_scene(services, world, client, bidders=1)
    tid, b0 = scene.tender_id, scene.bidders[0]
    blob = bytearray(
        seal_bytes(bid_package(), b0.keys.opening.recipient, str(tid), "d0", await sealing(client, scene))
    )
    blob[-5] ^= 0x40  # inside the last chunk: the header (and so the key check) is intact
    r = await submit(client, scene, b0, bytes(blob), "d0")
    assert r.status_code == 201, r.text
    clock.set(scene.deadline)
    r = await client.post(
        f"/api/v1/tenders/{tid}/hall/bids/d0/key",
        json={"file_key": file_key_b64(bytes(blob), b0.keys.opening)},
        headers=b0.headers,
    )
    assert r.status_code == 201, r.text
    assert r.json()["state"] == "revoked"
    bid = await _bid(services, tid, "d0")
    assert bid.failure_cause == "bidder"
    assert (bid.classification_note or "").startswith("payload: ")
    assert bid.wrapped_file_key is None
    assert [e["data"]["cause"] for e in await _ledger(services, "bid.classified")] == ["bidder"]


def _large_package(size: int) -> bytes:
    """A bid package with a document of ``size`` random bytes (stored, as bidders pack them)."""
    out = io.BytesIO()
    with tempfile.TemporaryDirectory() as tmp:
        doc = Path(tmp) / "scan.pdf"
        doc.write_bytes(os.urandom(size))
        pack(
            {"price": "870000.00", "duration_days": 200, "quality": "合格", "project_manager": "李工"},
            [doc],
            out,
        )
    return out.getvalue()


async def test_large_bids_open_on_the_decrypt_workers(services, world, client, clock) -> None:
    """Envelopes past POOL_MIN_BYTES are opened by the worker processes: a sound one is read, a
    damaged one (one bit, mid-payload) is the bidder's fault, as with the sequential decoder."""
    scene = await make_scene(services, world, client, bidders=2)
    tid = scene.tender_id
    info = await sealing(client, scene)
    blobs = {}
    for ref, bidder in (("big0", scene.bidders[0]), ("big1", scene.bidders[1])):
        blob = bytearray(
            seal_bytes(
                _large_package(POOL_MIN_BYTES + 12345), bidder.keys.opening.recipient, str(tid), ref, info
            )
        )
        if ref == "big1":
            blob[len(blob) // 2] ^= 0x08
        blobs[ref] = bytes(blob)
        r = await submit(client, scene, bidder, blobs[ref], ref)
        assert r.status_code == 201, r.text
    clock.set(scene.deadline)
    states = {}
    for ref, bidder in (("big0", scene.bidders[0]), ("big1", scene.bidders[1])):
        r = await client.post(
            f"/api/v1/tenders/{tid}/hall/bids/{ref}/key",
            json={"file_key": file_key_b64(blobs[ref], bidder.keys.opening)},
            headers=bidder.headers,
        )
        assert r.status_code == 201, r.text
        states[ref] = r.json()["state"]
    assert states == {"big0": "decrypted", "big1": "revoked"}
    assert (await _bid(services, tid, "big0")).bid_form["price"] == "870000.00"
    assert "failed authentication" in ((await _bid(services, tid, "big1")).classification_note or "")
    pool = shared_pool()
    if (os.cpu_count() or 1) > 1:
        assert pool is not None
        assert pool.pids()
