"""Right after a real opening, the detector reads bidding's submission evidence and raises an alert.

Two of four bidders pay their bid bonds from the same bank account (实施条例 第四十条(六)): the
opening's ``finish_opening`` transition runs the check, and staff see a high alert naming both,
with the account as inspectable evidence.  Bidders learn nothing of it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bidding import signing
from tests.bidding.helpers import file_key_b64, make_scene, seal_and_submit

SHARED = {
    "kind": "cash",
    "amount": "15000.00",
    "payer_bank": "工商银行上海分行",
    "payer_account": "6222000099990001",
}
PRICES = ["980000.00", "1000000.00", "1050000.00", "960000.00"]


async def open_hall(client: Any, clock: Any, scene: Any, blobs: dict[int, bytes]) -> None:
    tid = scene.tender_id
    hall = f"/api/v1/tenders/{tid}/hall"
    clock.set(scene.deadline + timedelta(minutes=1))
    assert (await client.get(hall, headers=scene.staff)).json()["phase"] == "decrypting"
    for i, bidder in enumerate(scene.bidders):
        key = {"file_key": file_key_b64(blobs[i], bidder.keys.opening)}
        r = await client.post(f"{hall}/bids/bid-{i}/key", json=key, headers=bidder.headers)
        assert r.status_code == 201, r.text
    clock.set(scene.deadline + timedelta(minutes=31))
    assert (await client.post(f"{hall}/record", headers=scene.staff)).status_code == 201
    digest = (await client.get(hall, headers=scene.staff)).json()["record_sha256"]
    for bidder in scene.bidders:
        signature = signing.sign(bidder.keys.signing, signing.record_statement(str(tid), digest))
        r = await client.post(f"{hall}/record/sign", json={"signature": signature}, headers=bidder.headers)
        assert r.status_code == 201, r.text
    clock.advance(timedelta(minutes=31))  # the signing period ends; the hall concludes
    r = await client.get(hall, headers=scene.staff)
    assert r.json()["outcome"] == "opened", r.text


async def test_opening_feeds_the_detector(client, world, clock, services) -> None:
    scene = await make_scene(services, world, client, bidders=4)
    bonds = [SHARED, SHARED, None, None]
    blobs = {
        i: await seal_and_submit(client, scene, b, f"bid-{i}", PRICES[i], bond=bonds[i])
        for i, b in enumerate(scene.bidders)
    }
    staff = world.auth("staff")
    before = (await client.get("/api/v1/collusion/alerts", headers=staff)).json()
    assert before["total"] == 0  # nothing is checked before the opening
    await open_hall(client, clock, scene, blobs)

    listed = (await client.get("/api/v1/collusion/alerts?kind=shared_bond_account", headers=staff)).json()
    assert listed["total"] == 1, listed
    alert = listed["items"][0]
    assert alert["hard"]
    pair = {str(scene.bidders[0].company_id), str(scene.bidders[1].company_id)}
    assert pair <= set(alert["suspects"])
    detail = (await client.get(f"/api/v1/collusion/alerts/{alert['id']}", headers=staff)).json()
    reason = next(r for r in detail["reasons"] if r["key"] == "evidence.shared_bond_account")
    assert reason["evidence"]["value"] == "6222000099990001"
    assert {b["bond_account"] for b in detail["bids"]} >= {"6222000099990001"}
    assert all(b["ip"] for b in detail["bids"])  # the submission IP came along as evidence
    # The bidders in question never learn of the open alert.
    hidden = await client.get(f"/api/v1/collusion/alerts/{alert['id']}", headers=scene.bidders[0].headers)
    assert hidden.status_code == 404
