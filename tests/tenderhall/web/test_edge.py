"""Bounded inputs at the edge (issue 14): each finding, refused before any work, alike on both
databases; pages render values stored before the bounds existed."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

import msgspec.inspect as mi
from litestar.datastructures import UploadFile
from sqlalchemy import func, select

from tenderhall.tenders.models import Tender
from tenderhall.tenders.service import TenderDraft
from tenderhall.web.api.schemas import Input

RUBRIC = {
    "price_method": "lowest_price",
    "items": [
        {"code": "T1", "name": "技术", "kind": "technical", "max_points": 60},
        {"code": "P1", "name": "价格", "kind": "price", "max_points": 40},
    ],
}
FAST = 1.0  # seconds: every refusal here is cheap


async def draft(services: Any, world: Any) -> Tender:
    async with services.transaction() as db:
        return await services.tenders.create(  # type: ignore[no-any-return]
            db,
            world.who("tenderer"),
            TenderDraft(
                title="草稿",
                procedure="open_tender",
                estimate_fen=100_000_00,
                tenderer_id=world.tenderers[0].id,
                centre_id=world.centres[0].id,
                rubric=RUBRIC,
            ),
        )


def refused(response: Any, status: int = 400) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return response.json()  # type: ignore[no-any-return]


async def test_a_huge_bond_from_anyone_is_refused_at_once(client, world) -> None:
    body = {"manifest": {}, "signature": "x", "idempotency_key": "k" * 8}
    url = f"/api/v1/tenders/{uuid.uuid4()}/uploads"
    for amount in ("1E+999999", "1E+400000"):
        for headers in ({}, world.auth("bidder")):
            started = time.monotonic()
            response = await client.post(
                url, json={**body, "bond": {"kind": "cash", "amount": amount}}, headers=headers
            )
            assert time.monotonic() - started < FAST
            # Anonymous: refused before the body is read; signed in: the amount's bounds.
            refused(response, 400 if headers else 401)


async def test_money_is_bounded_to_what_a_bigint_of_fen_holds(client, world) -> None:
    body = {
        "title": "项目",
        "procedure": "open_tender",
        "tenderer_id": str(world.tenderers[0].id),
        "centre_id": str(world.centres[0].id),
        "rubric": RUBRIC,
    }
    for estimate in ("99999999999999999999", "1e5", "１００", "100.00\n"):
        problem = refused(
            await client.post(
                "/api/v1/tenders", json={**body, "estimate": estimate}, headers=world.auth("tenderer")
            )
        )
        assert problem["code"] == "error.validation"
    made = await client.post(
        "/api/v1/tenders", json={**body, "estimate": "9999999999999.99"}, headers=world.auth("tenderer")
    )
    assert made.status_code == 201, made.text
    assert made.json()["estimate"] == "9999999999999.99"


async def test_a_deadline_beyond_the_horizon_is_refused(client, services, world) -> None:
    tender = await draft(services, world)
    for deadline in ("9999-12-31T23:59:59Z", "2100-01-01T00:00:00Z", "1999-12-31T23:59:59Z"):
        problem = refused(
            await client.post(
                f"/api/v1/tenders/{tender.id}/publish",
                json={"deadline": deadline},
                headers=world.auth("tenderer"),
            )
        )
        assert problem["errors"][0]["code"] == "input.outside_horizon"
        assert "2000-01-01" in problem["errors"][0]["message"]
    again = (await client.get(f"/api/v1/tenders/{tender.id}", headers=world.auth("tenderer"))).json()
    assert again["state"] == "draft"


async def test_pages_render_a_far_deadline_stored_before_the_horizon(client, services, world) -> None:
    tender = await draft(services, world)
    far = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
    async with services.transaction() as db:
        row = await db.get(Tender, tender.id)
        row.state, row.issued_at, row.deadline_at, row.opening_at = "published", far, far, far
    for path in ("/", f"/tenders/{tender.id}"):
        page = await client.get(path, headers={"accept": "text/html"})
        assert page.status_code == 200, page.text[:300]
        assert "9999-12-31 23:59" in page.text
    assert (await client.get(f"/api/v1/tenders/{tender.id}")).status_code == 200


async def test_a_nul_byte_is_refused_alike_on_every_database(client, services, world) -> None:
    async def tenders() -> int:
        async with services.transaction() as db:
            return int(await db.scalar(select(func.count()).select_from(Tender)) or 0)

    before = await tenders()
    body = {
        "title": "a\u0000b",
        "procedure": "open_tender",
        "estimate": "100.00",
        "tenderer_id": str(world.tenderers[0].id),
        "centre_id": str(world.centres[0].id),
        "rubric": RUBRIC,
    }
    problem = refused(await client.post("/api/v1/tenders", json=body, headers=world.auth("tenderer")))
    assert problem["errors"] == [
        {"field": "title", "message": "文本中不得含有控制字符（如 NUL）", "code": "input.control_character"}
    ]
    # Deep inside free-form JSON, in a key, in the address, and in a plain mapping body.
    nested = {**body, "title": "ok", "rubric": {**RUBRIC, "items": [{"code": "T\u0001"}]}}
    refused(await client.post("/api/v1/tenders", json=nested, headers=world.auth("tenderer")))
    keyed = {**body, "title": "ok", "rubric": {"\u0000": 1}}
    refused(await client.post("/api/v1/tenders", json=keyed, headers=world.auth("tenderer")))
    refused(await client.get("/api/v1/tenders?state=%00", headers=world.auth("tenderer")))
    refused(
        await client.get(f"/api/v1/tenders/{uuid.uuid4()}/bids/a%00b/content", headers=world.auth("bidder"))
    )
    refused(await client.post("/api/v1/experts", json={"name": "a\u0000"}, headers=world.auth("staff")))
    assert await tenders() == before
    # Line breaks and tabs are text.
    fine = {**body, "title": "ok", "description": "第一行\r\n第二行\t。"}
    assert (
        await client.post("/api/v1/tenders", json=fine, headers=world.auth("tenderer"))
    ).status_code == 201


async def test_an_unknown_company_and_a_hidden_one_answer_alike(client, world) -> None:
    hidden = await client.get(
        f"/api/v1/bidding/companies/{world.companies[1].id}/keys", headers=world.auth("bidder")
    )
    unknown = await client.get(f"/api/v1/bidding/companies/{uuid.uuid4()}/keys", headers=world.auth("bidder"))
    assert hidden.status_code == unknown.status_code == 404
    strip = ("instance",)
    assert {k: v for k, v in hidden.json().items() if k not in strip} == {
        k: v for k, v in unknown.json().items() if k not in strip
    }


async def test_every_text_field_of_every_body_has_a_length_limit(app) -> None:
    """Every request body type of every route, as msgspec sees it (Litestar's OpenAPI leaves out
    the limits of list items), so a new schema without limits, or not derived from ``Input``
    (which applies ``tenderhall.bounds``), fails here."""
    unbounded: list[str] = []

    def walk(info: mi.Type, where: str, seen: frozenset[type]) -> None:
        if isinstance(info, mi.StrType) and info.max_length is None:
            unbounded.append(where)
        elif isinstance(info, mi.UnionType):
            for alternative in info.types:
                walk(alternative, where, seen)
        elif isinstance(info, mi.ListType):
            walk(info.item_type, f"{where}[]", seen)
        elif isinstance(info, mi.StructType) and info.cls not in seen:
            for f in info.fields:
                walk(f.type, f"{info.cls.__name__}.{f.name}", seen | {info.cls})

    bodies = 0
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            data = handler.parsed_fn_signature.parameters.get("data")
            if data is None or data.annotation is UploadFile:
                continue
            bodies += 1
            info = mi.type_info(data.annotation)
            walk(info, f"{handler.handler_name} data", frozenset())
            if isinstance(info, mi.StructType) and not issubclass(info.cls, Input):
                unbounded.append(f"{info.cls.__name__} does not derive from schemas.Input")
    assert bodies > 40
    assert not unbounded, unbounded
