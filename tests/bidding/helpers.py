"""Shared pieces of the sealed-bid tests: a published tender with registered bidders, keys,
sealing and submission through the real API."""

from __future__ import annotations

import base64
import io
import json
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bidding import envelope, sealed, signing
from bidding.client.keys import BidderKeys
from bidding.package import pack
from tenderhall.auth.roles import Role
from tests.support.tenders import draft_tender

RUBRIC = {
    "price_method": "lowest_price",
    "items": [
        {"code": "T1", "name": "技术", "kind": "technical", "max_points": "60"},
        {"code": "P", "name": "价格", "kind": "price", "max_points": "40"},
    ],
}
PASSWORD = "correct-horse-battery"
ESTIMATE_YUAN = 1_000_000


@dataclass
class Bidder:
    name: str
    company_id: uuid.UUID
    uscc: str
    headers: dict[str, str]
    keys: BidderKeys


@dataclass
class Custodian:
    name: str
    user_id: uuid.UUID
    headers: dict[str, str]
    identity: envelope.X25519Identity


@dataclass
class Scene:
    tender_id: uuid.UUID
    deadline: Any
    bidders: list[Bidder]
    custodians: list[Custodian] = field(default_factory=list)
    staff: dict[str, str] = field(default_factory=dict)


def new_keys() -> BidderKeys:
    return BidderKeys(envelope.X25519Identity.generate(), Ed25519PrivateKey.generate())


def bid_package(price: str = "980000.00", canary: str = "", **extra: Any) -> bytes:
    form = {"price": price, "duration_days": 180, "quality": "合格", "project_manager": "张工", **extra}
    out = io.BytesIO()
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        doc = Path(tmp) / "技术标.txt"
        doc.write_text(f"施工组织设计 {canary}\n" * 50, encoding="utf-8")
        pack(form, [doc], out)
    return out.getvalue()


def seal_bytes(
    plain: bytes, recipient: envelope.X25519Recipient, tender: str, bid: str, sealing: dict[str, Any]
) -> bytes:
    return sealed.seal_bytes(plain, recipient, sealing.get("remedy"), tender, bid)


async def make_scene(
    services: Any,
    world: Any,
    client: Any,
    *,
    bidders: int = 4,
    custodians: int = 0,
    k: int = 2,
    rubric: dict[str, Any] | None = None,
    estimate_yuan: int = ESTIMATE_YUAN,
) -> Scene:
    """A published tender (deadline T0 + 21 days) with ``bidders`` registered companies whose keys
    are registered, and optionally a k-of-n custodian remedy (and another scoring rubric, or
    another estimate: the tender's ceiling price)."""
    from tenderhall.orgs.models import Company

    bidder_list: list[Bidder] = []
    cust_list: list[Custodian] = []
    async with services.transaction() as db:
        tender = await draft_tender(
            services,
            db,
            world.who("tenderer"),
            title="测试工程",
            estimate_fen=estimate_yuan * 100,
            tenderer_id=world.tenderers[0].id,
            centre_id=world.centres[0].id,
            rubric=rubric or RUBRIC,
        )
        companies = list(world.companies)
        for i in range(len(companies), bidders):
            from tests.conftest import make_uscc

            c = Company(
                region_id=world.region.id,
                name=f"投标公司{i}",
                uscc=make_uscc(500 + i),
                city="上海",
                legal_representative=f"法人{i}",
            )
            db.add(c)
            companies.append(c)
        await db.flush()
        names = []
        for i, company in enumerate(companies[:bidders]):
            name = f"b{i}"
            user = await services.accounts.create_user(
                db,
                username=f"bidder.{i}",
                password=PASSWORD,
                role=Role.BIDDER,
                display_name=name,
                region_id=world.region.id,
                company_id=company.id,
            )
            _, secret = await services.accounts.create_token(db, user, "tests", None)
            names.append((name, company, {"Authorization": f"Bearer {secret}"}))
        for i in range(custodians):
            user = await services.accounts.create_user(
                db,
                username=f"cust.{i}",
                password=PASSWORD,
                role=Role.CUSTODIAN,
                display_name=f"c{i}",
                region_id=world.region.id,
            )
            _, secret = await services.accounts.create_token(db, user, "tests", None)
            cust_list.append(
                Custodian(
                    f"c{i}",
                    user.id,
                    {"Authorization": f"Bearer {secret}"},
                    envelope.X25519Identity.generate(),
                )
            )
        tender_id = tender.id
    for c in cust_list:
        r = await client.post(
            "/api/v1/bidding/custodian-keys",
            json={"public_key": str(c.identity.recipient)},
            headers=c.headers,
        )
        assert r.status_code == 201, r.text
    if cust_list:
        r = await client.put(
            f"/api/v1/tenders/{tender_id}/remedy",
            json={"k": k, "custodians": [str(c.user_id) for c in cust_list]},
            headers=world.auth("tenderer"),
        )
        assert r.status_code == 200, r.text
    deadline = services.clock.now() + timedelta(days=21)
    r = await client.post(
        f"/api/v1/tenders/{tender_id}/publish",
        json={"deadline": deadline.isoformat()},
        headers=world.auth("tenderer"),
    )
    assert r.status_code == 201, r.text
    for name, company, headers in names:
        r = await client.post(f"/api/v1/tenders/{tender_id}/registrations", headers=headers)
        assert r.status_code == 201, r.text
        keys = new_keys()
        statement = signing.registration_statement(str(company.id), keys.recipient, keys.signing_public)
        r = await client.post(
            "/api/v1/bidding/keys",
            headers=headers,
            json={
                "opening": keys.recipient,
                "signing": keys.signing_public,
                "proof": signing.sign(keys.signing, statement),
            },
        )
        assert r.status_code == 201, r.text
        bidder_list.append(Bidder(name, company.id, company.uscc, headers, keys))
    return Scene(
        tender_id=tender_id,
        deadline=deadline,
        bidders=bidder_list,
        custodians=cust_list,
        staff=world.auth("staff"),
    )


async def sealing(client: Any, scene: Scene) -> dict[str, Any]:
    r = await client.get(f"/api/v1/tenders/{scene.tender_id}/sealing")
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def start_upload(client: Any, scene: Scene, bidder: Bidder, blob: bytes, bid: str, **extra: Any) -> Any:
    manifest = sealed.manifest(
        blob, tender=str(scene.tender_id), bidder=bidder.uscc, bid=bid, client={"tool": "tests"}
    )
    body = {
        "manifest": manifest,
        "signature": signing.sign(bidder.keys.signing, manifest),
        "idempotency_key": extra.pop("idempotency_key", f"idempotency-{bid}"),
        **extra,
    }
    return await client.post(f"/api/v1/tenders/{scene.tender_id}/uploads", json=body, headers=bidder.headers)


async def submit(client: Any, scene: Scene, bidder: Bidder, blob: bytes, bid: str, **extra: Any) -> Any:
    """Start, upload in one PATCH, complete; returns the completion response."""
    r = await start_upload(client, scene, bidder, blob, bid, **extra)
    assert r.status_code == 201, r.text
    up = r.json()
    if up.get("receipt"):
        return r
    r = await client.patch(
        f"/api/v1/uploads/{up['id']}", content=blob, headers={**bidder.headers, "Upload-Offset": "0"}
    )
    assert r.status_code == 200, r.text
    return await client.post(
        f"/api/v1/uploads/{up['id']}/complete",
        headers={**bidder.headers, "X-Device-Fingerprint": f"dev-{bidder.name}"},
    )


async def seal_and_submit(
    client: Any,
    scene: Scene,
    bidder: Bidder,
    bid: str,
    price: str = "980000.00",
    canary: str = "",
    bond: dict[str, Any] | None = None,
    package: bytes | None = None,
) -> bytes:
    """Seal ``package`` (default: a package of ``bid_package(price, canary)``) and submit it."""
    info = await sealing(client, scene)
    plain = package if package is not None else bid_package(price, canary)
    blob = seal_bytes(plain, bidder.keys.opening.recipient, str(scene.tender_id), bid, info)
    r = await submit(client, scene, bidder, blob, bid, **({"bond": bond} if bond else {}))
    assert r.status_code == 201, r.text
    return blob


def file_key_b64(blob: bytes, identity: envelope.X25519Identity) -> str:
    header, _ = envelope.parse_header(io.BytesIO(blob))
    return base64.b64encode(envelope.unwrap_file_key(header, [identity])).decode()


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
