"""经评审的最低投标价法 over the API: members propose price adjustments and vote on them; adopted ones
change the evaluated price and so the ranking, rejected ones change nothing, and the report waits
until none is pending.

Bids (conftest.PRICES): c0 980,000, c1 1,000,000, c2 1,050,000.  Adopted: c0 +30,000 (missing
item) and c1 +5,000 (arithmetic correction); rejected: c2 -60,000.  Evaluated prices: c0 1,010,000,
c1 1,005,000, c2 1,050,000, so c1 ranks first although c0 bid lowest.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from tenderhall.ledger.models import LedgerEntry
from tenderhall.tenders.models import Tender

PRICE_ONLY = {
    "price_method": "lowest_evaluated_price",
    "items": [{"code": "P", "name": "评标价", "kind": "price", "max_points": "100", "guidance": ""}],
}


async def test_adjustments_decide_the_evaluated_price(
    client: Any, world: Any, pool: Any, tender: Any, clock: Any, helpers: Any, services: Any
) -> None:
    tid = tender.id
    base = f"/api/v1/tenders/{tid}/evaluation"
    staff = world.auth("staff")
    async with services.transaction() as db:  # set-up: the published rubric of this method
        row = await db.get(Tender, tid)
        assert row is not None
        row.rubric = PRICE_ONLY

    await helpers.seat_committee(client, world, pool, tender, clock, {"A01": 5})
    members = {
        s["member"]: pool.auth(s["expert_id"])
        for s in (await client.get(f"{base}/committee", headers=staff)).json()
    }
    assert sorted(members) == ["M1", "M2", "M3", "M4", "M5"]
    await helpers.open_tender(world, clock, tender)
    assert (await client.post(f"{base}/start", headers=staff)).status_code == 201
    companies = [str(c.id) for c in world.companies]

    async def propose(
        member: str, company: str, amount: str, reason: str = "依据招标文件评标价格调整方法"
    ) -> Any:
        return await client.post(
            f"{base}/adjustments",
            headers=members[member],
            json={"company_id": company, "amount": amount, "reason": reason},
        )

    async def vote(member: str, adjustment: str, agree: bool) -> Any:
        return await client.post(
            f"{base}/adjustments/{adjustment}/vote", headers=members[member], json={"agree": agree}
        )

    r = await propose("M1", companies[0], "30000")
    assert r.status_code == 409
    assert r.json()["code"] == "scoring.qualification_pending"
    for h in members.values():
        for c in companies:
            r = await client.post(
                f"{base}/qualification", headers=h, json={"company_id": c, "passed": True, "reason": ""}
            )
            assert r.status_code == 201, r.text

    # Bad input changes nothing.
    for amount in ("abc", "0", "1.234", "NaN", "1e20", ""):
        r = await propose("M1", companies[0], amount)
        assert r.status_code == 422, (amount, r.text)
        assert r.json()["code"] == "adjustment.amount_invalid"
    r = await propose("M1", companies[0], "30000", reason="  ")
    assert r.status_code == 422
    assert r.json()["code"] == "adjustment.reason_required"
    assert (
        await client.post(
            f"{base}/adjustments",
            headers=world.auth("tenderer"),
            json={"company_id": companies[0], "amount": "1", "reason": "x"},
        )
    ).status_code in (403, 404)
    assert (await client.get(f"{base}/adjustments", headers=staff)).json() == []

    # Adopted by 3 of 5 (the proposer's vote counts); a vote after the outcome is refused.
    r = await propose("M1", companies[0], "30000", "缺项：按其他投标人最高报价补足")
    assert r.status_code == 201, r.text
    a0 = r.json()
    assert (a0["outcome"], a0["agree"], a0["proposed_by"]) == ("pending", 1, "M1")
    assert (await vote("M1", a0["id"], True)).json()["code"] == "adjustment.already_voted"
    assert (await vote("M2", a0["id"], True)).json()["outcome"] == "pending"
    assert (await vote("M3", a0["id"], True)).json()["outcome"] == "adopted"
    r = await vote("M4", a0["id"], False)
    assert r.status_code == 409
    assert r.json()["code"] == "adjustment.decided"

    # Rejected once half or more disagree.
    a2 = (await propose("M2", companies[2], "-60000", "工期提前的奖励性让利")).json()
    for m in ("M3", "M4"):
        assert (await vote(m, a2["id"], False)).json()["outcome"] == "pending"
    assert (await vote("M5", a2["id"], False)).json()["outcome"] == "rejected"

    # The report waits for a pending adjustment.
    a1 = (await propose("M4", companies[1], "5000.00", "算术错误修正：分项合计与总价不符")).json()
    sheets = {m: helpers.make_sheet(tid, m, {}) for m in members}  # nothing to score but the price
    for m, sheet in sheets.items():
        r = await client.post(
            f"{base}/scores/commit", headers=members[m], json={"digest": helpers.digest(sheet)}
        )
        assert r.status_code == 201, r.text
    for m, sheet in sheets.items():
        r = await client.post(f"{base}/scores/reveal", headers=members[m], json={"sheet": sheet})
        assert r.status_code == 201, r.text
    r = await client.post(f"{base}/report", headers=staff)
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "adjustment.pending"
    listing = (await client.get(f"{base}/adjustments", headers=members["M5"])).json()
    assert [a["outcome"] for a in listing] == ["adopted", "rejected", "pending"]
    assert (await client.get(f"{base}/adjustments", headers=world.auth("bidder"))).status_code in (403, 404)
    assert (await vote("M1", a1["id"], True)).json()["outcome"] == "pending"
    assert (await vote("M2", a1["id"], True)).json()["outcome"] == "adopted"

    r = await client.post(f"{base}/report", headers=staff)
    assert r.status_code == 201, r.text
    content = r.json()["content"]
    prices = content["price_scores"]
    assert {c: prices[c]["evaluated_price"] for c in companies} == {
        companies[0]: "1010000.00",
        companies[1]: "1005000.00",
        companies[2]: "1050000.00",
    }
    assert prices[companies[0]]["bid_price"] == "980000.00"
    assert prices[companies[0]]["adjustments"] == [
        {"reason": "缺项：按其他投标人最高报价补足", "amount": "30000"}
    ]
    assert prices[companies[2]]["adjustments"] == []
    # 1,005,000 / 1,010,000 x 100 = 99.5049... -> 99.50; 1,005,000 / 1,050,000 x 100 = 95.7142... -> 95.71
    assert [prices[c]["score"] for c in companies] == ["99.50", "100.00", "95.71"]
    assert [row["bidder"] for row in content["ranking"]] == [companies[1], companies[0], companies[2]]
    assert (await propose("M1", companies[2], "1000")).json()["code"] == "adjustment.closed"

    async with services.sessionmaker() as db:
        entries = list(
            await db.scalars(
                select(LedgerEntry).where(LedgerEntry.kind.in_(["adjustment.proposed", "adjustment.voted"]))
            )
        )
    assert len(entries) == 3 + 7  # refused votes leave no trace
    for e in entries:  # the ledger carries a digest, not the reason or the amount
        assert "缺项".encode() not in e.body
        assert b"30000" not in e.body
