"""The opening hall over the API: keys refused before opening, the deadline checkpoint,
decryption by bidders, a wrong key, custodians opening an absent bidder's bid (with one bad share
identified), classification, the record signed and objected to, silence as assent, the outcome."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import timedelta

from sqlalchemy import select

from bidding.models import DeadlineCheckpoint
from tenderhall.ledger.models import LedgerEntry
from tests.bidding.helpers import (
    bid_package,
    file_key_b64,
    make_scene,
    seal_and_submit,
    seal_bytes,
    sealing,
    start_upload,
)


async def _kinds(services) -> list[str]:
    async with services.sessionmaker() as db:
        return list((await db.execute(select(LedgerEntry.kind).order_by(LedgerEntry.id))).scalars())


async def test_full_opening(services, world, client, clock) -> None:
    scene = await make_scene(services, world, client, bidders=5, custodians=3, k=2)
    b = scene.bidders
    tid = scene.tender_id
    await seal_and_submit(client, scene, b[0], "b0-v1", price="990000")
    blobs = {
        "b0-v2": await seal_and_submit(client, scene, b[0], "b0-v2", price="950000"),
        "b1": await seal_and_submit(client, scene, b[1], "b1", price="960000"),
        "b2": await seal_and_submit(client, scene, b[2], "b2", price="970000"),
        "b3": await seal_and_submit(client, scene, b[3], "b3", price="940000"),
        "b4": await seal_and_submit(client, scene, b[4], "b4", price="930000"),
    }
    from bidding import signing

    stmt = signing.withdrawal_statement(str(tid), "b4", hashlib.sha256(blobs["b4"]).hexdigest())
    r = await client.post(
        f"/api/v1/tenders/{tid}/bids/b4/withdraw",
        json={"signature": signing.sign(b[4].keys.signing, stmt)},
        headers=b[4].headers,
    )
    assert r.status_code == 201

    # A file key before opening time is refused, and the attempt is on the record.
    key0 = file_key_b64(blobs["b0-v2"], b[0].keys.opening)
    r = await client.post(
        f"/api/v1/tenders/{tid}/hall/bids/b0-v2/key", json={"file_key": key0}, headers=b[0].headers
    )
    assert r.status_code in (403, 409), r.text
    clock.set(scene.deadline - timedelta(minutes=1))
    r = await client.post(
        f"/api/v1/tenders/{tid}/hall/bids/b0-v2/key", json={"file_key": key0}, headers=b[0].headers
    )
    assert r.status_code == 409
    assert r.json()["code"] in ("hall.key_too_early",)
    assert "hall.key_refused_early" in await _kinds(services)

    # The deadline: late submission refused; the checkpoint holds exactly the accepted envelopes.
    clock.set(scene.deadline)
    late = seal_bytes(
        bid_package(), b[4].keys.opening.recipient, str(tid), "late", await sealing(client, scene)
    )
    r = await start_upload(client, scene, b[4], late, "late")
    assert r.status_code == 409
    assert r.json()["code"] == "bid.deadline_passed"
    hall = (await client.get(f"/api/v1/tenders/{tid}/hall", headers=scene.staff)).json()
    assert hall["state"] == "opening"
    assert hall["phase"] == "decrypting"
    assert {x["bid"] for x in hall["bids"]} == {"b0-v2", "b1", "b2", "b3"}
    async with services.sessionmaker() as db:
        cp = await db.scalar(select(DeadlineCheckpoint).where(DeadlineCheckpoint.tender_id == tid))
    assert cp.envelope_hashes == sorted(
        hashlib.sha256(blobs[k]).hexdigest() for k in ("b0-v2", "b1", "b2", "b3")
    )

    # Bidders decrypt; one sends a wrong key (logged, may retry), one is absent.
    for i, ref in ((0, "b0-v2"), (1, "b1")):
        r = await client.post(
            f"/api/v1/tenders/{tid}/hall/bids/{ref}/key",
            json={"file_key": file_key_b64(blobs[ref], b[i].keys.opening)},
            headers=b[i].headers,
        )
        assert r.status_code == 201, r.text
        assert r.json()["state"] == "decrypted"
    wrong = base64.b64encode(bytes(16)).decode()
    r = await client.post(
        f"/api/v1/tenders/{tid}/hall/bids/b2/key", json={"file_key": wrong}, headers=b[2].headers
    )
    assert r.status_code == 422
    assert r.json()["code"] == "hall.key_wrong"
    assert "hall.key_rejected" in await _kinds(services)
    # Another company's bid: not even visible.
    r = await client.post(
        f"/api/v1/tenders/{tid}/hall/bids/b1/key", json={"file_key": key0}, headers=b[0].headers
    )
    assert r.status_code == 404
    # A custodian cannot release before the window ends.
    c = scene.custodians
    r = await client.post(
        f"/api/v1/tenders/{tid}/hall/bids/b3/share", json={"index": 1, "value": wrong}, headers=c[0].headers
    )
    assert r.status_code == 409

    # End of the window: the still-sealed bids go to the custodians.
    clock.advance(timedelta(minutes=30))
    hall = (await client.get(f"/api/v1/tenders/{tid}/hall", headers=scene.staff)).json()
    assert hall["phase"] == "custodians"
    import io

    from bidding import envelope

    requests = (await client.get(f"/api/v1/tenders/{tid}/hall/share-requests", headers=c[0].headers)).json()
    assert {q["bid"] for q in requests} == {"b2", "b3"}
    request = next(q for q in requests if q["bid"] == "b3")
    header, _ = envelope.parse_header(io.BytesIO(base64.b64decode(request["header"])))
    shares = {}
    for cust in c:
        shares[cust.name] = envelope.open_custodian_share(
            header, envelope.Binding(str(tid), "b3"), str(cust.user_id), cust.identity.private_key
        )
    # Custodian 0 releases a bad share; with 2 (= k) shares nothing opens, the third identifies it.
    bad = bytes(x ^ 0x55 for x in shares["c0"].value)
    for cust, value in ((c[0], bad), (c[1], shares["c1"].value)):
        r = await client.post(
            f"/api/v1/tenders/{tid}/hall/bids/b3/share",
            json={"index": shares[cust.name].index, "value": base64.b64encode(value).decode()},
            headers=cust.headers,
        )
        assert r.status_code == 201, r.text
        assert r.json()["opened"] is False
    r = await client.post(
        f"/api/v1/tenders/{tid}/hall/bids/b3/share",
        json={"index": shares["c2"].index, "value": base64.b64encode(shares["c2"].value).decode()},
        headers=c[2].headers,
    )
    assert r.json()["opened"] is True
    assert r.json()["bad_custodians"] == [str(c[0].user_id)]

    # The record: b2 (wrong key, bidder's fault) is deemed revoked; three valid bids.
    r = await client.post(f"/api/v1/tenders/{tid}/hall/record", headers=scene.staff)
    assert r.status_code == 201, r.text
    record = r.json()["record"]
    rows = {x["bid"]: x for x in record["bids"]}
    assert rows["b2"]["status"] == "revoked"
    assert not rows["b2"]["valid"]
    assert rows["b3"]["price"] == "940000.00"
    assert rows["b0-v2"]["price"] == "950000.00"
    assert record["valid_bids"] == 3

    # Bidders sign or object; staff answer; silence by the deadline is assent.
    from bidding.hall import record_digest
    from tests.bidding.helpers import new_keys  # noqa: F401 - keys are on the bidders

    stmt = signing.record_statement(str(tid), record_digest(record))
    r = await client.post(
        f"/api/v1/tenders/{tid}/hall/record/sign",
        json={"signature": signing.sign(b[0].keys.signing, stmt)},
        headers=b[0].headers,
    )
    assert r.status_code == 201, r.text
    r = await client.post(
        f"/api/v1/tenders/{tid}/hall/record/sign",
        json={"signature": signing.sign(b[0].keys.signing, stmt)},
        headers=b[1].headers,
    )
    assert r.status_code == 422  # another company's key
    r = await client.post(
        f"/api/v1/tenders/{tid}/hall/record/objections",
        json={"text": "我方工期应为150天"},
        headers=b[1].headers,
    )
    objection = r.json()["id"]
    hall = (await client.get(f"/api/v1/tenders/{tid}/hall", headers=scene.staff)).json()
    assert hall["paused"] is True
    clock.advance(timedelta(minutes=31))
    hall = (await client.get(f"/api/v1/tenders/{tid}/hall", headers=scene.staff)).json()
    assert hall["state"] == "opening"  # paused: an unanswered objection holds the opening
    r = await client.post(
        f"/api/v1/tenders/{tid}/hall/objections/{objection}/answer",
        json={"text": "经核对投标函，工期为180天，记录无误。"},
        headers=scene.staff,
    )
    assert r.status_code == 201
    hall = (await client.get(f"/api/v1/tenders/{tid}/hall", headers=scene.staff)).json()
    assert hall["state"] == "opened"
    assert hall["outcome"] == "opened"
    kinds = {x["kind"] for x in hall["responses"]}
    assert kinds == {"signed", "objection", "silent"}

    # After opening the content is decrypted on the fly for its bidder only.
    r = await client.get(f"/api/v1/tenders/{tid}/bids/b1/content", headers=b[1].headers)
    assert r.status_code == 200
    assert r.content[:2] == b"PK"
    assert (
        await client.get(f"/api/v1/tenders/{tid}/bids/b1/content", headers=b[0].headers)
    ).status_code == 404


async def test_fewer_than_three_valid_bids_fail(services, world, client, clock) -> None:
    scene = await make_scene(services, world, client, bidders=2)
    tid = scene.tender_id
    blobs = [await seal_and_submit(client, scene, x, f"x{i}") for i, x in enumerate(scene.bidders)]
    clock.set(scene.deadline)
    for i, x in enumerate(scene.bidders):
        r = await client.post(
            f"/api/v1/tenders/{tid}/hall/bids/x{i}/key",
            json={"file_key": file_key_b64(blobs[i], x.keys.opening)},
            headers=x.headers,
        )
        assert r.status_code == 201
    r = await client.post(f"/api/v1/tenders/{tid}/hall/record", headers=scene.staff)
    assert r.status_code == 201
    clock.advance(timedelta(minutes=31))
    hall = (await client.get(f"/api/v1/tenders/{tid}/hall", headers=scene.staff)).json()
    assert hall["state"] == "failed"
    assert hall["outcome"] == "failed"


async def test_hall_events_stream(services, world, client, clock) -> None:
    scene = await make_scene(services, world, client, bidders=1)
    clock.set(scene.deadline)
    async with client.stream(
        "GET", f"/api/v1/tenders/{scene.tender_id}/hall/events?once=true", headers=scene.bidders[0].headers
    ) as response:
        text = (await response.aread()).decode()
    assert "event: hall" in text
    assert '"phase": "decrypting"' in text
    r = await client.get(
        f"/api/v1/tenders/{scene.tender_id}/hall/events?once=true", headers=world.auth("bidder_other")
    )
    assert r.status_code in (403, 404)


async def test_a_price_above_the_ceiling_is_flagged(services, world, client, clock) -> None:
    """实施条例 第五十一条 第五项: the record reads out the ceiling (the tender's 预算/最高限价) and
    flags a price above it; the bid stays valid at opening, rejecting it is the committee's act."""
    scene = await make_scene(services, world, client, bidders=3)  # ceiling: ESTIMATE_YUAN
    tid = scene.tender_id
    prices = {"over": "1000000.01", "equal": "1000000", "under": "980000"}
    blobs = {
        ref: await seal_and_submit(client, scene, x, ref, price=prices[ref])
        for ref, x in zip(prices, scene.bidders, strict=True)
    }
    clock.set(scene.deadline)
    for ref, x in zip(prices, scene.bidders, strict=True):
        r = await client.post(
            f"/api/v1/tenders/{tid}/hall/bids/{ref}/key",
            json={"file_key": file_key_b64(blobs[ref], x.keys.opening)},
            headers=x.headers,
        )
        assert r.status_code == 201, r.text
    r = await client.post(f"/api/v1/tenders/{tid}/hall/record", headers=scene.staff)
    assert r.status_code == 201, r.text
    record = (await client.get(f"/api/v1/tenders/{tid}/hall", headers=scene.bidders[2].headers)).json()[
        "record"
    ]
    assert record["ceiling"] == "1000000.00"
    assert record["bids_above_ceiling"] == 1
    assert {x["bid"]: x["above_ceiling"] for x in record["bids"]} == {
        "over": True,
        "equal": False,
        "under": False,
    }
    assert record["valid_bids"] == 3
    async with services.sessionmaker() as db:
        published = await db.scalar(select(LedgerEntry).where(LedgerEntry.kind == "hall.record_published"))
    assert published is not None
    assert json.loads(published.body)["data"]["bids_above_ceiling"] == 1
