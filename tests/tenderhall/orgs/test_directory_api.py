"""Regions, centres, organisations, companies and regional procedure rules through the API."""

from __future__ import annotations

from datetime import timedelta

from tenderhall.orgs import uscc


def code(n: int) -> str:
    return uscc.make(f"91330100{n:09d}")


async def test_admin_builds_the_directory(client, world) -> None:
    admin = world.auth("admin")
    region = await client.post("/api/v1/regions", json={"code": "JJJ", "name": "京津冀"}, headers=admin)
    assert region.status_code == 201, region.text
    rid = region.json()["id"]
    dup = await client.post("/api/v1/regions", json={"code": "JJJ", "name": "again"}, headers=admin)
    assert dup.status_code == 409
    assert dup.json()["code"] == "org.code_exists"
    centre = await client.post(
        "/api/v1/centres",
        json={"region_id": rid, "code": "BJ", "name": "北京中心", "city": "北京"},
        headers=admin,
    )
    assert centre.status_code == 201
    org = await client.post(
        "/api/v1/organisations",
        json={"region_id": rid, "kind": "tenderer", "name": "某局", "uscc": code(7), "city": "北京"},
        headers=admin,
    )
    assert org.status_code == 201
    bad = await client.post(
        "/api/v1/organisations",
        json={
            "region_id": rid,
            "kind": "tenderer",
            "name": "某局",
            "uscc": code(8)[:-1] + "0",
            "city": "北京",
        },
        headers=admin,
    )
    assert bad.status_code == 422
    assert bad.json()["code"] == "uscc.check"
    assert "校验位" in bad.json()["detail"]
    kind = await client.post(
        "/api/v1/organisations",
        json={"region_id": rid, "kind": "bank", "name": "x", "uscc": code(9), "city": "北京"},
        headers=admin,
    )
    assert kind.status_code == 422
    for who in ("staff", "tenderer", "bidder", "supervisor"):
        denied = await client.post(
            "/api/v1/regions", json={"code": "X" + who.upper()[:3], "name": "x"}, headers=world.auth(who)
        )
        assert denied.status_code == 403
    listed = (await client.get("/api/v1/centres")).json()
    assert "BJ" in {c["code"] for c in listed}


async def test_regional_overrides_change_the_rules_a_tender_follows(client, world, clock) -> None:
    url = f"/api/v1/regions/{world.region.id}/procedures/open_tender"
    assert (await client.get(url)).json()["min_bidding_period_days"] == "20"
    denied = await client.put(
        url, json={"overrides": {"min_bidding_period_days": "25"}}, headers=world.auth("staff")
    )
    assert denied.status_code == 403
    bad = await client.put(
        url, json={"overrides": {"min_bidding_period_days": "soon"}}, headers=world.auth("admin")
    )
    assert bad.status_code == 422
    assert bad.json()["code"] == "procedure.override_invalid"
    ok = await client.put(
        url, json={"overrides": {"min_bidding_period_days": "25"}}, headers=world.auth("admin")
    )
    assert ok.status_code == 200
    assert ok.json()["min_bidding_period_days"] == "25"
    rubric = {
        "price_method": "lowest_price",
        "items": [{"code": "P", "name": "价格", "kind": "price", "max_points": "100"}],
    }
    tender = (
        await client.post(
            "/api/v1/tenders",
            headers=world.auth("tenderer"),
            json={
                "title": "区域规则测试",
                "procedure": "open_tender",
                "estimate": "1000",
                "tenderer_id": str(world.tenderers[0].id),
                "centre_id": str(world.centres[0].id),
                "rubric": rubric,
            },
        )
    ).json()
    await client.post(
        f"/api/v1/tenders/{tender['id']}/documents",
        headers=world.auth("tenderer"),
        files={"data": ("a.txt", b"doc", "text/plain")},
    )
    short = await client.post(
        f"/api/v1/tenders/{tender['id']}/publish",
        headers=world.auth("tenderer"),
        json={"deadline": (clock.now() + timedelta(days=21)).isoformat()},
    )
    assert short.status_code == 422
    assert "25" in short.json()["detail"]


async def test_company_registry_and_who_sees_it(client, world) -> None:
    body = {
        "name": "杭州某某建设有限公司",
        "uscc": code(42),
        "city": "杭州",
        "legal_representative": "张三",
        "region_id": str(world.region.id),
        "sme": True,
        "persons": [
            {"role": "legal_representative", "name": "张三", "id_number": "330106199001011234"},
            {"role": "shareholder", "name": "李四", "share_percent": 60},
            {"role": "project_manager", "name": "王五", "certificate_no": "浙1330001"},
            {"role": "contact", "name": "赵六", "phone": "13800000000", "email": "zl@example.com"},
        ],
        "bank_accounts": [
            {"bank": "工商银行杭州分行", "account_no": "1202 0210 0910 0123 456", "account_name": "杭州某某"}
        ],
    }
    created = await client.post("/api/v1/companies", json=body, headers=world.auth("admin"))
    assert created.status_code == 201, created.text
    company = created.json()
    assert company["bank_accounts"][0]["account_no"] == "1202021009100123456"
    assert "id_number" not in str(company)  # identity numbers are stored only as keyed hashes
    wrong = await client.post(
        "/api/v1/companies", json={**body, "uscc": code(43)[:-1] + "A"}, headers=world.auth("admin")
    )
    assert wrong.status_code == 422
    assert wrong.json()["code"] in {"uscc.check", "uscc.charset"}
    over = await client.post(
        "/api/v1/companies",
        json={
            **body,
            "uscc": code(44),
            "persons": [
                {"role": "shareholder", "name": "甲", "share_percent": 70},
                {"role": "shareholder", "name": "乙", "share_percent": 40},
            ],
        },
        headers=world.auth("admin"),
    )
    assert over.status_code == 422
    assert over.json()["code"] == "company.shares_over_100"
    # A bidder sees only its own company; others do not exist for it.
    own = await client.get(f"/api/v1/companies/{world.companies[0].id}", headers=world.auth("bidder"))
    assert own.status_code == 200
    other = await client.get(f"/api/v1/companies/{company['id']}", headers=world.auth("bidder"))
    assert other.status_code == 404
    mine = (await client.get("/api/v1/companies", headers=world.auth("bidder"))).json()
    assert [c["id"] for c in mine["items"]] == [str(world.companies[0].id)]
    assert (
        await client.get(f"/api/v1/companies/{company['id']}", headers=world.auth("staff"))
    ).status_code == 200
    assert (
        await client.get(f"/api/v1/companies/{company['id']}", headers=world.auth("staff_far"))
    ).status_code == 404
