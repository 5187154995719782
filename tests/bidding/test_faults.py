"""Real faults on a running platform (issue 14 point 6): ``kill -9`` of the server mid-upload,
during a burst of ledger appends and during an opening decryption, and a full storage volume.
After each, the platform restarts, ``tenderhall check`` passes, every receipt has its stored
envelope and ledger entry, nothing is half-written, and the interrupted work can be finished."""

from __future__ import annotations

import asyncio
import ctypes
import io
import os
import select
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select as sql_select

from bidding.client import api as client_api
from bidding.models import Bid, BidState
from bidding.package import pack
from tenderhall.ledger.models import LedgerEntry
from tests.bidding.helpers import (
    Scene,
    bid_package,
    file_key_b64,
    make_scene,
    seal_bytes,
    sealing,
    submit,
)
from tests.bidding.live_server import (
    LiveServer,
    assert_nothing_half_written,
    blob_path,
    check,
    client_submit,
    clock_offset,
    integrity_problems,
    ledger_size,
    request,
    sha,
    store_tender_document,
    wait_for,
    write_envelope,
)

pytestmark = pytest.mark.slow


def big_package(size: int) -> bytes:
    """A valid bid package whose document is ``size`` random (incompressible) bytes."""
    form = {"price": "950000.00", "duration_days": 180, "quality": "合格", "project_manager": "张工"}
    out = io.BytesIO()
    with tempfile.TemporaryDirectory() as tmp:
        doc = Path(tmp) / "图纸.bin"
        doc.write_bytes(os.urandom(size))
        pack(form, [doc], out)
    return out.getvalue()


async def start_upload(base: str, scene: Scene, blob: bytes, bid: str) -> uuid.UUID:
    """Start bidder 0's upload exactly as the bidder client does (so the client can resume it)."""
    from bidding import signing

    bidder = scene.bidders[0]
    manifest = signing.manifest(
        tender=str(scene.tender_id),
        bidder=bidder.uscc,
        bid=bid,
        envelope_sha256=sha(blob),
        size=len(blob),
        client={"tool": client_api.TOOL, "device": f"dev-{bidder.name}"},
    )
    body = {
        "manifest": manifest,
        "signature": signing.sign(bidder.keys.signing, manifest),
        "idempotency_key": client_api.idempotency_key(str(scene.tender_id), bid, sha(blob)),
    }
    started = await request(
        "POST", f"{base}/api/v1/tenders/{scene.tender_id}/uploads", json=body, headers=bidder.headers
    )
    assert started.status_code == 201, started.text
    return uuid.UUID(started.json()["id"])


async def seeded(services: Any, world: Any, client: Any, bidders: int) -> tuple[Scene, dict[str, Any]]:
    scene = await make_scene(services, world, client, bidders=bidders)
    await store_tender_document(services)
    return scene, await sealing(client, scene)


# -- kill -9 mid-upload -------------------------------------------------------------------------
async def test_kill_mid_upload_then_resume_byte_exact(
    services, world, client, settings, database_url, spawn_cli, run_cli, tmp_path
) -> None:
    scene, info = await seeded(services, world, client, bidders=1)
    bidder = scene.bidders[0]
    blob = seal_bytes(big_package(3 << 20), bidder.keys.opening.recipient, str(scene.tender_id), "up1", info)
    server = LiveServer(spawn_cli, database_url)
    base = server.start(TENDERHALL_CLOCK_OFFSET=clock_offset(scene.deadline - timedelta(days=1)))
    upload_id = await start_upload(base, scene, blob, "up1")
    partial = settings.storage_dir / ".partial" / f"{upload_id.hex}.part"

    # One PATCH declaring the whole envelope; half of it is sent, then the server dies mid-stream.
    half = len(blob) // 2
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(
            (
                f"PATCH /api/v1/uploads/{upload_id} HTTP/1.1\r\nHost: {host}\r\n"
                f"Authorization: {bidder.headers['Authorization']}\r\nUpload-Offset: 0\r\n"
                f"Content-Type: application/octet-stream\r\nContent-Length: {len(blob)}\r\n\r\n"
            ).encode()
        )
        sock.sendall(blob[:half])
        wait_for("the first half on disk", lambda: partial.stat().st_size == half)
        server.kill()

    base = server.start()
    status = await request("GET", f"{base}/api/v1/uploads/{upload_id}", headers=bidder.headers)
    assert status.status_code == 200, status.text
    offset = status.json()["offset"]
    # The session claims exactly the bytes on disk, and they are the envelope's first bytes.
    assert offset == partial.stat().st_size == half
    assert partial.read_bytes() == blob[:half]
    async with services.sessionmaker() as db:
        assert (await db.scalars(sql_select(Bid))).all() == []
    assert await integrity_problems(services) == []

    # The bidder client resumes the same upload (idempotency key) from the server's offset.
    receipt = await asyncio.to_thread(
        client_submit, base, scene, 0, write_envelope(tmp_path, "up1.age", blob), "up1"
    )
    assert receipt["body"]["envelope_sha256"] == sha(blob)
    async with services.sessionmaker() as db:
        bid = (await db.scalars(sql_select(Bid))).one()
    assert blob_path(settings.storage_dir, bid.storage_key).read_bytes() == blob
    assert not partial.exists()
    await assert_nothing_half_written(services)
    check(run_cli, database_url)


# -- kill -9 during a burst of ledger appends ----------------------------------------------------
async def test_kill_during_a_burst_of_submissions_loses_no_acknowledged_bid(
    services, world, client, database_url, spawn_cli, run_cli, tmp_path
) -> None:
    bidders, rounds = 4, 5
    scene, info = await seeded(services, world, client, bidders=bidders)
    envelopes: dict[tuple[int, int], Path] = {}
    for who in range(bidders):
        for n in range(rounds):
            ref = f"burst-{who}-{n}"
            blob = seal_bytes(
                bid_package(price=f"9{who}{n}000.00"),
                scene.bidders[who].keys.opening.recipient,
                str(scene.tender_id),
                ref,
                info,
            )
            envelopes[who, n] = write_envelope(tmp_path, f"{ref}.age", blob)
    server = LiveServer(spawn_cli, database_url)
    base = server.start(TENDERHALL_CLOCK_OFFSET=clock_offset(scene.deadline - timedelta(days=1)))
    before = await ledger_size(services)

    acknowledged: dict[str, dict[str, Any]] = {}
    cut_off: list[str] = []
    lock = threading.Lock()

    def bidder_burst(who: int) -> None:
        for n in range(rounds):
            ref = f"burst-{who}-{n}"
            try:
                receipt = client_submit(base, scene, who, envelopes[who, n], ref)
            except (httpx.HTTPError, client_api.ApiError):
                with lock:
                    cut_off.append(ref)
                return
            with lock:
                acknowledged[ref] = receipt

    with ThreadPoolExecutor(bidders) as pool:
        futures = [pool.submit(bidder_burst, who) for who in range(bidders)]
        # Kill once the burst is appending: a few receipts are in the log, more are on the way.
        end = time.monotonic() + 60
        while await ledger_size(services) < before + 3:
            assert time.monotonic() < end, "the burst did not start appending"
            assert not all(f.done() for f in futures), "the burst ended before the kill"
            await asyncio.sleep(0.01)
        server.kill()
        for f in futures:
            f.result(timeout=120)
    assert cut_off, "the kill landed after the burst"

    base = server.start()
    assert await integrity_problems(services) == []
    await assert_nothing_half_written(services)
    async with services.sessionmaker() as db:
        stored = {b.bid_ref: b for b in (await db.scalars(sql_select(Bid))).all()}
        for ref, receipt in acknowledged.items():  # a receipt implies a durable bid and log entry
            assert ref in stored, ref
            assert stored[ref].receipt == receipt
            entry = await db.get(LedgerEntry, receipt["ledger"]["index"])
            assert entry is not None

    # Every bidder carries on where the kill stopped it; retries of acknowledged bids are idempotent.
    for who in range(bidders):
        for n in range(rounds):
            ref = f"burst-{who}-{n}"
            receipt = await asyncio.to_thread(client_submit, base, scene, who, envelopes[who, n], ref)
            if ref in acknowledged:
                assert receipt == acknowledged[ref]
    async with services.sessionmaker() as db:
        assert len((await db.scalars(sql_select(Bid))).all()) == bidders * rounds
    await assert_nothing_half_written(services)
    check(run_cli, database_url)


# -- kill -9 during an opening decryption --------------------------------------------------------
IN_OPEN = 0x20


class OpenWatch:
    """inotify on one file: tells the moment any process opens it (no polling window to miss)."""

    def __init__(self, path: Path) -> None:
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.fd = self.libc.inotify_init1(os.O_CLOEXEC)
        if self.fd < 0 or self.libc.inotify_add_watch(self.fd, str(path).encode(), IN_OPEN) < 0:
            raise OSError(ctypes.get_errno(), "inotify")

    def wait(self, seconds: float) -> bool:
        ready, _, _ = select.select([self.fd], [], [], seconds)
        return bool(ready)

    def close(self) -> None:
        os.close(self.fd)


async def test_kill_during_opening_decryption_then_finish_the_opening(
    services, world, client, settings, database_url, spawn_cli, run_cli
) -> None:
    scene, info = await seeded(services, world, client, bidders=3)
    blobs = []
    for who, bidder in enumerate(scene.bidders):
        plain = big_package(24 << 20) if who == 0 else bid_package(price=f"9{who}0000.00")
        blob = seal_bytes(plain, bidder.keys.opening.recipient, str(scene.tender_id), f"open{who}", info)
        r = await submit(client, scene, bidder, blob, f"open{who}")
        assert r.status_code == 201, r.text
        blobs.append(blob)
    big = scene.bidders[0]
    async with services.sessionmaker() as db:
        big_bid = (await db.scalars(sql_select(Bid).where(Bid.bid_ref == "open0"))).one()
    server = LiveServer(spawn_cli, database_url)
    base = server.start(TENDERHALL_CLOCK_OFFSET=clock_offset(scene.deadline + timedelta(minutes=1)))
    key_path = f"{base}/api/v1/tenders/{scene.tender_id}/hall/bids/open0/key"
    key = {"file_key": file_key_b64(blobs[0], big.keys.opening)}

    watch = OpenWatch(blob_path(settings.storage_dir, big_bid.storage_key))
    answer: list[Any] = []

    def send() -> None:
        try:
            answer.append(httpx.post(key_path, json=key, headers=big.headers, timeout=60))
        except httpx.HTTPError as exc:
            answer.append(exc)

    sender = threading.Thread(target=send)
    sender.start()
    try:
        assert watch.wait(60), "the server never opened the envelope"
        server.kill()  # the envelope is open for decryption: mid-decryption
    finally:
        watch.close()
        sender.join(60)
    assert isinstance(answer[0], httpx.HTTPError), f"the decryption finished before the kill: {answer[0]}"

    base = server.start()
    assert await integrity_problems(services) == []
    await assert_nothing_half_written(services)
    async with services.sessionmaker() as db:
        bid = await db.get(Bid, big_bid.id)
        assert bid is not None
        assert bid.state == BidState.SUBMITTED.value  # not decrypted in part
        decrypted = (
            await db.scalars(sql_select(LedgerEntry).where(LedgerEntry.kind == "bid.decrypted"))
        ).all()
        assert decrypted == []

    # The opening goes on: the key again, and the other bidders' keys.
    key_path = f"{base}/api/v1/tenders/{scene.tender_id}/hall/bids/open0/key"
    r = await request("POST", key_path, json=key, headers=big.headers)
    assert r.status_code == 201, r.text
    assert r.json()["state"] == BidState.DECRYPTED.value
    for who in (1, 2):
        bidder = scene.bidders[who]
        r = await request(
            "POST",
            f"{base}/api/v1/tenders/{scene.tender_id}/hall/bids/open{who}/key",
            json={"file_key": file_key_b64(blobs[who], bidder.keys.opening)},
            headers=bidder.headers,
        )
        assert r.status_code == 201, r.text
    hall = await request("GET", f"{base}/api/v1/tenders/{scene.tender_id}/hall", headers=scene.staff)
    assert hall.status_code == 200, hall.text
    assert {b["status"] for b in hall.json()["bids"]} == {"decrypted"}
    await assert_nothing_half_written(services)
    check(run_cli, database_url)


# -- a full storage volume ----------------------------------------------------------------------
@pytest.fixture
def storage_volume(settings: Any) -> Iterator[Path]:
    """A 2 MiB tmpfs mounted as the storage folder (blobs and partial uploads); unmounted after."""
    root = settings.storage_dir
    root.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", str(root)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root / CAP_SYS_ADMIN): {mounted.stderr.strip()}")
    try:
        yield root
    finally:
        # Lazily: the server (stopped by spawn_cli's teardown, which may run later) can hold it.
        subprocess.run(["umount", "-l", str(root)], capture_output=True, timeout=30, check=False)


def fill(volume: Path, leave: int) -> Path:
    """A ballast file that leaves about ``leave`` bytes free on ``volume``."""
    stat = os.statvfs(volume)
    ballast = volume / "ballast"
    ballast.write_bytes(b"\0" * (stat.f_bavail * stat.f_frsize - leave))
    return ballast


async def test_full_storage_refuses_clearly_and_keeps_nothing_half_written(
    services, world, client, settings, storage_volume, database_url, spawn_cli, run_cli, tmp_path
) -> None:
    scene, info = await seeded(services, world, client, bidders=1)
    bidder = scene.bidders[0]
    blob = seal_bytes(big_package(1 << 20), bidder.keys.opening.recipient, str(scene.tender_id), "full", info)
    ballast = fill(storage_volume, 256 << 10)
    server = LiveServer(spawn_cli, database_url)
    base = server.start(TENDERHALL_CLOCK_OFFSET=clock_offset(scene.deadline - timedelta(days=1)))
    upload_id = await start_upload(base, scene, blob, "full")
    upload = f"{base}/api/v1/uploads/{upload_id}"
    partial = storage_volume / ".partial" / f"{upload_id.hex}.part"

    full = await request("PATCH", upload, content=blob, headers={**bidder.headers, "Upload-Offset": "0"})
    assert full.status_code == 507, full.text
    assert full.headers["content-type"].startswith("application/problem+json")
    assert full.headers["retry-after"] == "60"
    problem = full.json()
    assert problem["code"] == "error.storage_full"
    assert "存储空间已满" in problem["detail"]
    assert "Traceback" not in full.text

    # What reached the disk is kept and is the envelope's beginning; the session claims no more.
    offset = (await request("GET", upload, headers=bidder.headers)).json()["offset"]
    assert 0 < offset == partial.stat().st_size < len(blob)
    assert partial.read_bytes() == blob[:offset]
    again = await request(
        "PATCH",
        upload,
        content=blob[offset:],
        headers={**bidder.headers, "Upload-Offset": str(offset), "Accept-Language": "en"},
    )
    assert again.status_code == 507, again.text
    assert again.json()["detail"].startswith("Storage is full")
    # Completing now is refused as incomplete; no bid, no blob, no temporary file.
    done = await request("POST", f"{upload}/complete", headers=bidder.headers)
    assert done.status_code == 409, done.text
    assert done.json()["code"] == "bid.upload_incomplete"
    async with services.sessionmaker() as db:
        assert (await db.scalars(sql_select(Bid))).all() == []
    assert not services.storage.exists(sha(blob))
    assert not list(storage_volume.glob(".upload-*"))
    assert await integrity_problems(services) == []

    # Space freed: the bidder client resumes from the kept offset and the bid is accepted whole.
    ballast.unlink()
    receipt = await asyncio.to_thread(
        client_submit, base, scene, 0, write_envelope(tmp_path, "full.age", blob), "full"
    )
    assert receipt["body"]["envelope_sha256"] == sha(blob)
    assert blob_path(storage_volume, sha(blob)).read_bytes() == blob
    await assert_nothing_half_written(services)
    server.kill()
    check(run_cli, database_url)
