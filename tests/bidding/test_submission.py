"""Sealed submission: deadline boundary, resumable and idempotent upload, supersede, withdrawal,
receipts, credit and bond checks, and the attacks a server must refuse."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bidding import signing
from bidding.models import Bid, CreditCheck
from bidding.receipt import ReceiptError, verify_receipt
from tests.bidding.helpers import (
    bid_package,
    make_scene,
    seal_and_submit,
    seal_bytes,
    sealing,
    start_upload,
    submit,
)


@pytest.mark.parametrize(("delta_ms", "accepted"), [(-1, True), (0, False), (1, False)])
async def test_deadline_is_decided_atomically_at_completion(
    services, world, client, clock, delta_ms, accepted
) -> None:
    scene = await make_scene(services, world, client, bidders=1)
    bidder = scene.bidders[0]
    blob = seal_bytes(
        bid_package(), bidder.keys.opening.recipient, str(scene.tender_id), "b1", await sealing(client, scene)
    )
    r = await start_upload(client, scene, bidder, blob, "b1")
    up = r.json()
    r = await client.patch(
        f"/api/v1/uploads/{up['id']}", content=blob, headers={**bidder.headers, "Upload-Offset": "0"}
    )
    assert r.status_code == 200
    clock.set(scene.deadline + timedelta(milliseconds=delta_ms))
    r = await client.post(f"/api/v1/uploads/{up['id']}/complete", headers=bidder.headers)
    if accepted:
        assert r.status_code == 201, r.text
        assert r.json()["submitted_at"] == clock.now().isoformat()
    else:
        assert r.status_code == 409
        assert r.json()["code"] == "bid.deadline_passed"
    async with services.sessionmaker() as db:
        assert await db.scalar(select(func.count()).select_from(Bid)) == (1 if accepted else 0)


async def test_interrupted_upload_resumes_and_receipt_verifies(services, world, client) -> None:
    scene = await make_scene(services, world, client, bidders=1)
    bidder = scene.bidders[0]
    plain = bid_package() + b""
    blob = seal_bytes(
        plain, bidder.keys.opening.recipient, str(scene.tender_id), "r1", await sealing(client, scene)
    )
    up = (await start_upload(client, scene, bidder, blob, "r1")).json()
    half = len(blob) // 2
    r = await client.patch(
        f"/api/v1/uploads/{up['id']}", content=blob[:half], headers={**bidder.headers, "Upload-Offset": "0"}
    )
    assert r.json()["offset"] == half
    r = await client.post(f"/api/v1/uploads/{up['id']}/complete", headers=bidder.headers)
    assert r.status_code == 409
    assert r.json()["code"] == "bid.upload_incomplete"
    # The client lost track: a wrong offset is refused with the server's offset.
    r = await client.patch(
        f"/api/v1/uploads/{up['id']}", content=blob, headers={**bidder.headers, "Upload-Offset": "0"}
    )
    assert r.status_code == 409
    assert r.json()["code"] == "bid.upload_offset"
    status = (await client.get(f"/api/v1/uploads/{up['id']}", headers=bidder.headers)).json()
    assert status["offset"] == half
    # Restarting with the same idempotency key finds the same upload.
    again = (await start_upload(client, scene, bidder, blob, "r1")).json()
    assert again["id"] == up["id"]
    assert again["offset"] == half
    r = await client.patch(
        f"/api/v1/uploads/{up['id']}",
        content=blob[half:],
        headers={**bidder.headers, "Upload-Offset": str(half)},
    )
    assert r.json()["offset"] == len(blob)
    r = await client.post(f"/api/v1/uploads/{up['id']}/complete", headers=bidder.headers)
    assert r.status_code == 201, r.text
    receipt = r.json()["receipt"]
    body = verify_receipt(receipt, services.ledger.verifier, services.ledger.origin)
    assert body["envelope_sha256"] == hashlib.sha256(blob).hexdigest()
    tampered = {**receipt, "body": {**receipt["body"], "size": 1}}
    with pytest.raises(ReceiptError):
        verify_receipt(tampered, services.ledger.verifier, services.ledger.origin)
    # The public ledger entry names neither the bidder nor the tender.
    entry = (
        await client.get(
            f"/api/v1/ledger/entries?start={receipt['ledger']['index']}&end={receipt['ledger']['index'] + 1}"
        )
    ).json()[0]
    assert entry["subject"] is None
    assert set(entry["body"]["data"]) == {"receipt"}


async def test_same_upload_retried_gives_one_bid_and_the_same_receipt(services, world, client) -> None:
    scene = await make_scene(services, world, client, bidders=1)
    bidder = scene.bidders[0]
    blob = seal_bytes(
        bid_package(), bidder.keys.opening.recipient, str(scene.tender_id), "i1", await sealing(client, scene)
    )
    first = (await submit(client, scene, bidder, blob, "i1")).json()
    second = await submit(client, scene, bidder, blob, "i1")
    assert second.status_code == 201
    assert second.json()["receipt"] == first["receipt"]
    up = (await start_upload(client, scene, bidder, blob, "i1")).json()
    r = await client.post(f"/api/v1/uploads/{up['id']}/complete", headers=bidder.headers)
    assert r.json()["receipt"] == first["receipt"]
    async with services.sessionmaker() as db:
        assert await db.scalar(select(func.count()).select_from(Bid)) == 1


async def test_resubmission_supersedes_and_withdrawal_is_signed(services, world, client) -> None:
    scene = await make_scene(services, world, client, bidders=1)
    bidder = scene.bidders[0]
    first = await seal_and_submit(client, scene, bidder, "v1", price="900000")
    await seal_and_submit(client, scene, bidder, "v2", price="880000")
    bids = {
        b["bid"]: b
        for b in (await client.get(f"/api/v1/tenders/{scene.tender_id}/bids", headers=bidder.headers)).json()
    }
    assert bids["v1"]["state"] == "superseded"
    assert bids["v2"]["state"] == "submitted"
    assert bids["v2"]["receipt"]["body"]["supersedes"] == "v1"
    # A superseded bid cannot be withdrawn; a withdrawal signed with another key is refused.
    stmt = signing.withdrawal_statement(str(scene.tender_id), "v1", hashlib.sha256(first).hexdigest())
    r = await client.post(
        f"/api/v1/tenders/{scene.tender_id}/bids/v1/withdraw",
        json={"signature": signing.sign(bidder.keys.signing, stmt)},
        headers=bidder.headers,
    )
    assert r.status_code == 409
    from tests.bidding.helpers import new_keys

    stmt = signing.withdrawal_statement(str(scene.tender_id), "v2", bids["v2"]["envelope_sha256"])
    r = await client.post(
        f"/api/v1/tenders/{scene.tender_id}/bids/v2/withdraw",
        json={"signature": signing.sign(new_keys().signing, stmt)},
        headers=bidder.headers,
    )
    assert r.status_code == 422
    assert r.json()["code"] == "bid.withdrawal_signature_invalid"
    r = await client.post(
        f"/api/v1/tenders/{scene.tender_id}/bids/v2/withdraw",
        json={"signature": signing.sign(bidder.keys.signing, stmt)},
        headers=bidder.headers,
    )
    assert r.status_code == 201
    assert r.json()["state"] == "withdrawn"


async def test_attacks_refused(services, world, client) -> None:
    scene = await make_scene(services, world, client, bidders=2, custodians=3, k=2)
    a, b = scene.bidders
    info = await sealing(client, scene)
    blob = seal_bytes(bid_package(), a.keys.opening.recipient, str(scene.tender_id), "a1", info)
    # Swapped content: the bytes uploaded are not those the manifest signs.
    up = (await start_upload(client, scene, a, blob, "a1")).json()
    swapped = bytearray(blob)
    swapped[-5] ^= 1
    await client.patch(
        f"/api/v1/uploads/{up['id']}", content=bytes(swapped), headers={**a.headers, "Upload-Offset": "0"}
    )
    r = await client.post(f"/api/v1/uploads/{up['id']}/complete", headers=a.headers)
    assert r.status_code == 422
    assert r.json()["code"] == "bid.hash_mismatch"
    # A manifest signed with a key that is not the company's.
    from tests.bidding.helpers import new_keys

    r = await start_upload(
        client, scene, type(a)(a.name, a.company_id, a.uscc, a.headers, new_keys()), blob, "a2"
    )
    assert r.status_code == 422
    assert r.json()["code"] == "bid.manifest_invalid"
    # Sealed without the tender's custodian stanzas.
    bare = seal_bytes(bid_package(), a.keys.opening.recipient, str(scene.tender_id), "a3", {"remedy": None})
    r = await submit(client, scene, a, bare, "a3")
    assert r.status_code == 422
    assert r.json()["code"] == "bid.envelope_invalid"
    # Another company's upload and bid are invisible (404).
    assert (await client.get(f"/api/v1/uploads/{up['id']}", headers=b.headers)).status_code == 404
    good = await seal_and_submit(client, scene, a, "a4")
    stmt = signing.withdrawal_statement(str(scene.tender_id), "a4", hashlib.sha256(good).hexdigest())
    r = await client.post(
        f"/api/v1/tenders/{scene.tender_id}/bids/a4/withdraw",
        json={"signature": signing.sign(b.keys.signing, stmt)},
        headers=b.headers,
    )
    assert r.status_code == 404


async def test_credit_blacklist_and_bond_cap(services, world, client) -> None:
    scene = await make_scene(services, world, client, bidders=2)
    a, b = scene.bidders
    csv = f"uscc,name,reason,listed_on\n{b.uscc},投标公司1,围标串标行政处罚（2025）,2025-01-01\n"
    r = await client.post(
        "/api/v1/bidding/credit-lists",
        headers=world.auth("admin"),
        json={"format": "csv", "source": "信用中国", "published_on": "2026-02-01", "content": csv},
    )
    assert r.status_code == 201, r.text
    version = r.json()["version"]
    info = await sealing(client, scene)
    assert info["bond_cap"] == "20000.00"  # 2% of 1 000 000
    blob = seal_bytes(bid_package(), b.keys.opening.recipient, str(scene.tender_id), "b1", info)
    r = await start_upload(client, scene, b, blob, "b1")
    assert r.status_code == 409
    assert r.json()["code"] == "bid.credit_listed"
    assert "围标串标" in r.json()["detail"]
    blob = seal_bytes(bid_package(), a.keys.opening.recipient, str(scene.tender_id), "a1", info)
    r = await start_upload(
        client,
        scene,
        a,
        blob,
        "a1",
        bond={"kind": "cash", "amount": "20000.01", "payer_bank": "工行", "payer_account": "6222"},
    )
    assert r.status_code == 422
    assert r.json()["code"] == "bond.above_cap"
    r = await submit(
        client,
        scene,
        a,
        blob,
        "a1",
        bond={"kind": "cash", "amount": "20000", "payer_bank": "工行", "payer_account": "6222"},
    )
    assert r.status_code == 201, r.text
    async with services.sessionmaker() as db:
        checks = list((await db.execute(select(CreditCheck))).scalars())
    assert {c.list_version_hash for c in checks} == {version}
    assert any(c.listed and c.company_id == b.company_id for c in checks)
    assert any(not c.listed and c.bid_id is not None for c in checks)
