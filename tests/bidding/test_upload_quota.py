"""Per-company upload quotas: open uploads and the bytes they declare, refused before any work
(one bidder once opened 20 uploads declaring 4 GiB each)."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import func, select

from bidding import signing
from bidding.models import CreditCheck, UploadSession
from bidding.service import MAX_ENVELOPE
from tenderhall.ledger.models import LedgerEntry
from tests.bidding.helpers import Bidder, Scene, make_scene, seal_bytes, sealing, start_upload

PROBLEM = "application/problem+json"


async def _state(services: Any) -> tuple[int, int, int]:
    """What a refused start must not change: uploads, credit-check evidence, the ledger."""
    async with services.sessionmaker() as db:
        return (
            int(await db.scalar(select(func.count()).select_from(UploadSession)) or 0),
            int(await db.scalar(select(func.count()).select_from(CreditCheck)) or 0),
            int(await db.scalar(select(func.count()).select_from(LedgerEntry)) or 0),
        )


async def _declare(client: Any, scene: Scene, bidder: Bidder, bid: str, size: int) -> Any:
    """Start an upload that declares ``size`` bytes (none are sent)."""
    manifest = signing.manifest(
        tender=str(scene.tender_id),
        bidder=bidder.uscc,
        bid=bid,
        envelope_sha256=hashlib.sha256(bid.encode()).hexdigest(),
        size=size,
        client={"tool": "tests"},
    )
    body = {
        "manifest": manifest,
        "signature": signing.sign(bidder.keys.signing, manifest),
        "idempotency_key": f"idempotency-{bid}",
    }
    return await client.post(f"/api/v1/tenders/{scene.tender_id}/uploads", json=body, headers=bidder.headers)


async def test_the_21st_open_upload_is_refused_until_one_completes(services, world, client) -> None:
    scene = await make_scene(services, world, client, bidders=2)
    first, other = scene.bidders
    blob = seal_bytes(
        b"bid", first.keys.opening.recipient, str(scene.tender_id), "q0", await sealing(client, scene)
    )
    real = await start_upload(client, scene, first, blob, "q0")
    assert real.status_code == 201, real.text
    for i in range(1, 20):
        r = await _declare(client, scene, first, f"q{i}", 1024)
        assert r.status_code == 201, r.text
    before = await _state(services)
    refused = await _declare(client, scene, first, "q20", 1024)
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"].startswith(PROBLEM)
    assert refused.json()["code"] == "bid.upload_quota_open"
    assert "20" in refused.json()["detail"]
    assert await _state(services) == before  # refused before the credit check or any file
    # Retrying an upload already started is no new upload: it still answers.
    again = await _declare(client, scene, first, "q7", 1024)
    assert again.status_code == 201, again.text
    # The quota is the company's: another bidder is not affected.
    assert (await _declare(client, scene, other, "o0", 1024)).status_code == 201
    # A completed upload no longer counts.
    upload_id = real.json()["id"]
    r = await client.patch(
        f"/api/v1/uploads/{upload_id}", content=blob, headers={**first.headers, "Upload-Offset": "0"}
    )
    assert r.status_code == 200, r.text
    done = await client.post(f"/api/v1/uploads/{upload_id}/complete", headers=first.headers)
    assert done.status_code == 201, done.text
    assert (await _declare(client, scene, first, "q20", 1024)).status_code == 201


async def test_declared_bytes_beyond_the_company_quota_are_refused(services, world, client) -> None:
    scene = await make_scene(services, world, client, bidders=1)
    bidder = scene.bidders[0]
    quota = services.settings.upload_max_bytes
    assert quota == 16 * 1024**3  # the default: four envelopes of the largest size
    for i in range(quota // MAX_ENVELOPE):
        r = await _declare(client, scene, bidder, f"big{i}", MAX_ENVELOPE)
        assert r.status_code == 201, r.text
    before = await _state(services)
    for size in (MAX_ENVELOPE, 1):
        refused = await _declare(client, scene, bidder, f"more{size}", size)
        assert refused.status_code == 409, refused.text
        assert refused.json()["code"] == "bid.upload_quota_bytes"
    assert await _state(services) == before
