"""Qualification rejects by rule what the law leaves no vote on: a bid priced above the tender's
ceiling (招标投标法实施条例 第五十一条 第五项), with the ground and article on the record."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from tenderhall.tenders.models import Tender


async def test_a_price_above_the_ceiling_is_rejected_with_the_article(
    client: Any, world: Any, pool: Any, tender: Any, clock: Any, helpers: Any, services: Any
) -> None:
    base = f"/api/v1/tenders/{tender.id}/evaluation"
    staff = world.auth("staff")
    r = await client.put(f"{base}/plan", headers=staff, json={"decision_method": "lowest_price"})
    assert r.status_code == 200, r.text
    active = await helpers.seat_committee(client, world, pool, tender, clock, {"A01": 4, "C02": 1})
    assert len(active) == 5
    async with services.transaction() as db:  # ceiling 1,020,000: the 1,050,000 bid is above it
        await db.execute(update(Tender).where(Tender.id == tender.id).values(estimate_fen=102_000_000))
    await helpers.open_tender(world, clock, tender)
    r = await client.post(f"{base}/start", headers=staff)
    assert r.status_code == 201, r.text

    member = pool.auth(active[0]["expert_id"])
    bids = {b["price"]: b["company_id"] for b in (await client.get(f"{base}/bids", headers=member)).json()}
    over = bids["1050000.00"]
    rejected = (await client.get(f"{base}/progress", headers=staff)).json()["rejected"]
    assert rejected == {
        over: {
            "ground": "evaluation.rejected.above_ceiling",
            "article": "law.bidding_regulations.art51.5",
            "price": "1050000.00",
            "ceiling": "1020000.00",
        }
    }

    r = await client.post(
        f"{base}/qualification", headers=member, json={"company_id": over, "passed": True, "reason": ""}
    )
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "evaluation.rejected.above_ceiling"
    assert "1050000.00" in r.json()["detail"]
    assert "第五十一条第五项" in r.json()["detail"]

    # Every member passes the other two; the rejected bid needs no vote and fails whatever the votes.
    for s in active:
        for company in bids.values():
            if company != over:
                r = await client.post(
                    f"{base}/qualification",
                    headers=pool.auth(s["expert_id"]),
                    json={"company_id": company, "passed": True, "reason": ""},
                )
                assert r.status_code == 201, r.text
    qualification = (await client.get(f"{base}/progress", headers=staff)).json()["qualification"]
    assert qualification == {c: c != over for c in bids.values()}
