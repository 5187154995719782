"""Tender use cases through the HTTP API, on every database backend."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from tenderhall.ledger.models import LedgerEntry

RUBRIC = {
    "price_method": "lowest_price",
    "items": [
        {"code": "T1", "name": "技术方案", "kind": "technical", "max_points": "70"},
        {"code": "P", "name": "价格", "kind": "price", "max_points": "30"},
    ],
}


async def ledger_kinds(services: Any) -> list[str]:
    async with services.sessionmaker() as db:
        return list((await db.execute(select(LedgerEntry.kind).order_by(LedgerEntry.id))).scalars())


async def ledger_size(services: Any) -> int:
    async with services.sessionmaker() as db:
        return int(await db.scalar(select(func.count()).select_from(LedgerEntry)) or 0)


async def draft(client: Any, world: Any, who: str = "tenderer", **changes: Any) -> dict[str, Any]:
    body = {
        "title": "门诊楼改造工程",
        "procedure": "open_tender",
        "estimate": "1860000.50",
        "tenderer_id": str(world.tenderers[0].id),
        "centre_id": str(world.centres[0].id),
        "rubric": RUBRIC,
    }
    body.update(changes)
    response = await client.post("/api/v1/tenders", json=body, headers=world.auth(who))
    assert response.status_code == 201, response.text
    tender = response.json()
    doc = await client.post(
        f"/api/v1/tenders/{tender['id']}/documents",
        headers=world.auth(who),
        files={"data": ("招标文件.txt", "招标文件正文".encode(), "text/plain")},
    )
    assert doc.status_code == 201, doc.text
    return tender


async def published(client: Any, world: Any, clock: Any, days: int = 20) -> dict[str, Any]:
    tender = await draft(client, world)
    deadline = clock.now() + timedelta(days=days)
    response = await client.post(
        f"/api/v1/tenders/{tender['id']}/publish",
        json={"deadline": deadline.isoformat()},
        headers=world.auth("tenderer"),
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_draft_edit_publish_with_events(client, world, services, clock) -> None:
    tender = await draft(client, world)
    assert tender["state"] == "draft"
    assert tender["estimate"] == "1860000.50"
    assert tender["reference"] == "SH-2026-0001"
    # Optimistic concurrency: an edit against a stale version is refused and changes nothing.
    stale = await client.patch(
        f"/api/v1/tenders/{tender['id']}",
        json={"version": 1, "title": "新标题"},
        headers=world.auth("tenderer"),
    )
    assert stale.status_code == 409
    assert stale.json()["code"] == "tender.version_conflict"
    current = (await client.get(f"/api/v1/tenders/{tender['id']}", headers=world.auth("tenderer"))).json()
    edited = await client.patch(
        f"/api/v1/tenders/{tender['id']}",
        json={"version": current["version"], "title": "门诊楼改造工程（二期）"},
        headers=world.auth("tenderer"),
    )
    assert edited.status_code == 200
    assert edited.json()["title"] == "门诊楼改造工程（二期）"
    too_soon = clock.now() + timedelta(days=20) - timedelta(seconds=1)
    refused = await client.post(
        f"/api/v1/tenders/{tender['id']}/publish",
        json={"deadline": too_soon.isoformat()},
        headers=world.auth("tenderer"),
    )
    assert refused.status_code == 422
    assert refused.json()["code"] == "tender.period_too_short"
    naive = await client.post(
        f"/api/v1/tenders/{tender['id']}/publish",
        json={"deadline": "2026-05-01T00:00:00"},
        headers=world.auth("tenderer"),
    )
    assert naive.status_code == 422
    assert naive.json()["code"] == "error.timezone_required"
    ok = await client.post(
        f"/api/v1/tenders/{tender['id']}/publish",
        json={"deadline": (clock.now() + timedelta(days=20)).isoformat()},
        headers=world.auth("tenderer"),
    )
    assert ok.status_code == 201, ok.text
    body = ok.json()
    assert body["state"] == "published"
    assert body["opening_at"] == body["deadline_at"]
    kinds = await ledger_kinds(services)
    assert kinds[-4:] == ["tender.created", "tender.document_added", "tender.edited", "tender.publish"]


async def test_publish_needs_rubric_and_documents(client, world, clock) -> None:
    body = {
        "title": "无文件项目",
        "procedure": "open_tender",
        "estimate": "100",
        "tenderer_id": str(world.tenderers[0].id),
        "centre_id": str(world.centres[0].id),
    }
    tender = (await client.post("/api/v1/tenders", json=body, headers=world.auth("tenderer"))).json()
    response = await client.post(
        f"/api/v1/tenders/{tender['id']}/publish",
        json={"deadline": (clock.now() + timedelta(days=30)).isoformat()},
        headers=world.auth("tenderer"),
    )
    assert response.json()["code"] == "tender.rubric_missing"


async def test_bad_drafts_are_refused_without_changes(client, world, services) -> None:
    before = await ledger_size(services)
    for changes, code in [
        ({"procedure": "auction"}, "tender.procedure_unknown"),
        ({"estimate": "0"}, "tender.estimate_invalid"),
        ({"tenderer_id": str(world.tenderers[1].id)}, "tender.not_your_org"),
        ({"rubric": {"price_method": "lowest_price", "items": []}}, "rubric.no_items"),
    ]:
        body = {
            "title": "项目",
            "procedure": "open_tender",
            "estimate": "100",
            "tenderer_id": str(world.tenderers[0].id),
            "centre_id": str(world.centres[0].id),
            **changes,
        }
        response = await client.post("/api/v1/tenders", json=body, headers=world.auth("tenderer"))
        assert response.status_code == 422, response.text
        assert response.json()["code"] == code
        assert response.headers["content-type"].startswith("application/problem+json")
    assert await ledger_size(services) == before


async def test_deadline_is_decided_in_the_transaction_at_the_exact_instant(client, world, clock) -> None:
    tender = await published(client, world, clock)
    deadline = tender["deadline_at"]
    clock.set(clock.now() + timedelta(days=20) - timedelta(milliseconds=1))
    before = await client.post(f"/api/v1/tenders/{tender['id']}/registrations", headers=world.auth("bidder"))
    assert before.status_code == 201, before.text
    clock.advance(timedelta(milliseconds=1))  # exactly the deadline: bidding has closed
    at = await client.post(
        f"/api/v1/tenders/{tender['id']}/registrations", headers=world.auth("bidder_other")
    )
    assert at.status_code == 403
    state = (await client.get(f"/api/v1/tenders/{tender['id']}", headers=world.auth("tenderer"))).json()
    assert state["state"] == "closed"
    assert state["deadline_at"] == deadline


async def test_amendment_pushes_the_deadline(client, world, clock) -> None:
    tender = await published(client, world, clock, days=25)
    clock.advance(timedelta(days=15))  # 10 days left: a substantive change needs 15
    response = await client.post(
        f"/api/v1/tenders/{tender['id']}/amendments",
        json={"summary": "技术参数修改", "affects_preparation": True},
        headers=world.auth("tenderer"),
    )
    assert response.status_code == 201, response.text
    amendment = response.json()
    assert amendment["number"] == 1
    pushed = (await client.get(f"/api/v1/tenders/{tender['id']}", headers=world.auth("tenderer"))).json()
    assert pushed["deadline_at"] == amendment["new_deadline"]
    # pushed to exactly 15 days after the amendment (实施条例 第二十一条)
    assert datetime.fromisoformat(pushed["deadline_at"]) == clock.now() + timedelta(days=15)
    editorial = await client.post(
        f"/api/v1/tenders/{tender['id']}/amendments",
        json={"summary": "错别字更正", "affects_preparation": False},
        headers=world.auth("tenderer"),
    )
    assert editorial.json()["new_deadline"] == editorial.json()["old_deadline"]
    earlier = await client.post(
        f"/api/v1/tenders/{tender['id']}/amendments",
        json={"summary": "提前截止", "affects_preparation": False, "new_deadline": clock.now().isoformat()},
        headers=world.auth("tenderer"),
    )
    assert earlier.json()["code"] == "amendment.deadline_earlier"
    listed = await client.get(f"/api/v1/tenders/{tender['id']}/amendments")
    assert [a["number"] for a in listed.json()] == [1, 2]


async def test_clarifications_are_anonymous_and_need_registration(client, world, clock) -> None:
    tender = await published(client, world, clock)
    url = f"/api/v1/tenders/{tender['id']}/clarifications"
    unregistered = await client.post(url, json={"question": "能否延期？"}, headers=world.auth("bidder"))
    assert unregistered.status_code == 403
    for name in ("bidder", "bidder_other"):
        assert (
            await client.post(f"/api/v1/tenders/{tender['id']}/registrations", headers=world.auth(name))
        ).status_code == 201
    again = await client.post(f"/api/v1/tenders/{tender['id']}/registrations", headers=world.auth("bidder"))
    assert again.status_code == 201  # idempotent
    asked = await client.post(url, json={"question": "是否接受电子保函？"}, headers=world.auth("bidder"))
    assert asked.status_code == 201
    answered = await client.post(f"{url}/1/answer", json={"answer": "接受。"}, headers=world.auth("tenderer"))
    assert answered.status_code == 201
    assert answered.json()["answer"] == "接受。"
    twice = await client.post(f"{url}/1/answer", json={"answer": "再答"}, headers=world.auth("tenderer"))
    assert twice.status_code == 409
    mine = (await client.get(url, headers=world.auth("bidder"))).json()
    theirs = (await client.get(url, headers=world.auth("bidder_other"))).json()
    assert mine[0]["asked_by_me"] is True
    assert theirs[0]["asked_by_me"] is False
    assert "asked_by" not in theirs[0]
    regs = (
        await client.get(f"/api/v1/tenders/{tender['id']}/registrations", headers=world.auth("bidder"))
    ).json()
    assert [r["company_id"] for r in regs] == [str(world.companies[0].id)]
    staff = (
        await client.get(f"/api/v1/tenders/{tender['id']}/registrations", headers=world.auth("staff"))
    ).json()
    assert len(staff) == 2


async def test_registration_is_blinded_in_the_public_ledger(client, world, clock, services) -> None:
    tender = await published(client, world, clock)
    await client.post(f"/api/v1/tenders/{tender['id']}/registrations", headers=world.auth("bidder"))
    entries = (await client.get("/api/v1/ledger/entries", params={"start": 0, "end": 1000})).json()
    registered = [e for e in entries if e["kind"] == "tender.registered"]
    assert len(registered) == 1
    text = str(registered[0])
    assert str(world.companies[0].id) not in text
    assert tender["id"] not in text
    assert registered[0]["body"]["actor"] is None


async def test_terminate_needs_a_reason_and_is_final_for_bidding(client, world, clock) -> None:
    tender = await published(client, world, clock)
    response = await client.post(
        f"/api/v1/tenders/{tender['id']}/terminate", json={"reason": "预算取消"}, headers=world.auth("staff")
    )
    assert response.status_code == 201
    assert response.json()["state"] == "terminated"
    again = await client.post(
        f"/api/v1/tenders/{tender['id']}/terminate", json={"reason": "再次"}, headers=world.auth("staff")
    )
    assert again.status_code == 403
    register = await client.post(
        f"/api/v1/tenders/{tender['id']}/registrations", headers=world.auth("bidder")
    )
    assert register.status_code == 403


async def test_lists_filter_and_paginate(client, world, clock) -> None:
    for _ in range(3):
        await draft(client, world)
    await published(client, world, clock)
    everything = (
        await client.get("/api/v1/tenders", params={"limit": 2}, headers=world.auth("tenderer"))
    ).json()
    assert everything["total"] == 4
    assert len(everything["items"]) == 2
    page2 = (
        await client.get("/api/v1/tenders", params={"limit": 2, "offset": 2}, headers=world.auth("tenderer"))
    ).json()
    assert {t["id"] for t in page2["items"]}.isdisjoint({t["id"] for t in everything["items"]})
    drafts = (
        await client.get("/api/v1/tenders", params={"state": "draft"}, headers=world.auth("tenderer"))
    ).json()
    assert drafts["total"] == 3
    public = (await client.get("/api/v1/tenders")).json()
    assert public["total"] == 1  # anonymous visitors see published notices only
    bad = await client.get("/api/v1/tenders", params={"limit": 1000})
    assert bad.status_code == 400
    # An unknown state is refused at the edge, as the document's enum says (not an empty page).
    unknown = await client.get("/api/v1/tenders", params={"state": "flying"})
    assert unknown.status_code == 400
    assert unknown.headers["content-type"].startswith("application/problem+json")
    assert "state" in unknown.text


async def test_documents_download_with_their_hash(client, world) -> None:
    tender = await draft(client, world)
    tender_doc = (await client.get(f"/api/v1/tenders/{tender['id']}", headers=world.auth("tenderer"))).json()
    doc = tender_doc["documents"][0]
    response = await client.get(
        f"/api/v1/tenders/{tender['id']}/documents/{doc['id']}", headers=world.auth("tenderer")
    )
    assert response.status_code == 200
    assert response.content == "招标文件正文".encode()
    assert response.headers["x-content-sha256"] == doc["sha256"]
    hidden = await client.get(
        f"/api/v1/tenders/{tender['id']}/documents/{doc['id']}", headers=world.auth("bidder")
    )
    assert hidden.status_code == 404  # a draft's documents do not exist for outsiders


async def test_a_draft_terminated_before_publication_stays_private(client, world) -> None:
    tender = await draft(client, world)
    done = await client.post(
        f"/api/v1/tenders/{tender['id']}/terminate",
        json={"reason": "不再采购"},
        headers=world.auth("tenderer"),
    )
    assert done.status_code == 201
    assert done.json()["state"] == "terminated"
    for headers in ({}, world.auth("bidder"), world.auth("tenderer_other")):
        hidden = await client.get(f"/api/v1/tenders/{tender['id']}", headers=headers)
        assert hidden.status_code == 404
        listed = (await client.get("/api/v1/tenders", headers=headers)).json()
        assert tender["id"] not in {t["id"] for t in listed["items"]}
    owner = await client.get(f"/api/v1/tenders/{tender['id']}", headers=world.auth("tenderer"))
    assert owner.status_code == 200
