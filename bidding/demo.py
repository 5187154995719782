"""Sealed-bid demo data: a tender in bidding with sealed bids, one whose opening is in progress
(its deadline passed ten minutes before the seed ends; the hall opens on first view), and one
opened with its record signed.  Demo bidders' private keys are written (0600) under
``<data dir>/demo-keys/<username>/`` so a newcomer can drive ``tenderhall bid`` against them.
"""

from __future__ import annotations

import hashlib
import io
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from bidding import envelope, signing
from bidding.client.keys import BidderKeys, generate
from bidding.package import pack
from bidding.service import Bidding, Evidence

PRICES = ["9860000.00", "9720000.00", "9905000.00", "9650000.00"]


def _package(price: str, i: int, tmp: Path) -> bytes:
    doc = tmp / f"技术标-{i}.txt"
    doc.write_text("施工组织设计（示例）\n" * 20, encoding="utf-8")
    out = io.BytesIO()
    form = {
        "price": price,
        "duration_days": 365 - 10 * i,
        "quality": "合格",
        "project_manager": f"项目经理{i}",
    }
    pack(form, [doc], out)
    return out.getvalue()


async def _one(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _submit(
    bidding: Bidding, db: Any, ctx: Any, username: str, keys: BidderKeys, tender: Any, i: int
) -> bytes:
    from tenderhall.orgs.models import Company

    who = ctx.who(username)
    company = await db.get(Company, who.company_id)
    ref = f"demo-{tender.reference}-{i}"
    sealing = await bidding.sealing(db, who, tender.id)
    plain = _package(PRICES[i % len(PRICES)], i, ctx.services.settings.data_dir)
    out = io.BytesIO()
    remedy = sealing["remedy"]
    if remedy:
        custodians = [
            envelope.Custodian(c["id"], envelope.X25519Recipient.parse(c["public_key"]).public_key)
            for c in remedy["custodians"]
        ]
        envelope.seal(
            io.BytesIO(plain),
            out,
            keys.opening.recipient,
            custodians,
            remedy["k"],
            envelope.Binding(str(tender.id), ref),
        )
    else:
        envelope.seal(io.BytesIO(plain), out, keys.opening.recipient)
    blob = out.getvalue()
    manifest = signing.manifest(
        tender=str(tender.id),
        bidder=company.uscc,
        bid=ref,
        envelope_sha256=hashlib.sha256(blob).hexdigest(),
        size=len(blob),
        client={"tool": "demo"},
    )
    session = await bidding.start_upload(
        db, who, tender.id, manifest, signing.sign(keys.signing, manifest), f"demo-{uuid.uuid4().hex}", None
    )
    stored = await ctx.services.storage.put(_one(blob), len(blob))
    locked = await bidding._open_tender(db, who, tender.id, lock=True)
    await bidding._record_bid(
        db,
        who,
        locked,
        company,
        session,
        stored.key,
        ctx.clock.now(),
        Evidence(f"10.0.{i}.{i + 10}", "tenderhall-bid/0.1", f"demo-device-{i}"),
        None,
    )
    return blob


async def seed_bids(db: Any, ctx: Any) -> None:
    from tenderhall.demo import _tender

    services = ctx.services
    bidding: Bidding = services.domain["bidding"]
    clock = ctx.clock
    start = clock.now()  # 40 days before the seed's "now"
    now = start + timedelta(days=40)
    users = [f"bidder{n:02d}" for n in (3, 7, 11, 19)]
    keys: dict[str, BidderKeys] = {}
    for name in users:
        directory = services.settings.data_dir / "demo-keys" / name
        keys[name] = generate(directory, force=True)
        company_id = ctx.users[name].company_id
        statement = signing.registration_statement(
            str(company_id), keys[name].recipient, keys[name].signing_public
        )
        await bidding.register_key(
            db,
            ctx.who(name),
            keys[name].recipient,
            keys[name].signing_public,
            signing.sign(keys[name].signing, statement),
        )
    specs = [
        (
            "staff.sh",
            "浦东新区政务服务中心智能化改造（投标中）",
            0,
            9_900_000,
            now + timedelta(days=15),
            "open_tender",
        ),
        (
            "staff.sh",
            "上海市第一人民医院后勤楼修缮工程（开标中）",
            0,
            9_800_000,
            now - timedelta(minutes=10),
            "open_tender",
        ),
        (
            "staff.sh",
            "上海市浦东新区教育局课桌椅询价采购（已开标）",
            3,
            9_950_000,
            start + timedelta(days=3),
            "inquiry",
        ),
    ]
    tenders = []
    for creator, title, org, estimate, deadline, procedure in specs:
        tender = await _tender(ctx, db, creator, title, org, estimate, procedure=procedure)
        await services.tenders.publish(db, ctx.who(creator), tender.id, deadline)
        for name in users:
            await services.tenders.register(db, ctx.who(name), tender.id)
        tenders.append(tender)
    blobs: dict[tuple[int, str], bytes] = {}
    for t_index, tender in enumerate(tenders):
        for i, name in enumerate(users):
            blobs[(t_index, name)] = await _submit(bidding, db, ctx, name, keys[name], tender, i)
    # The opened one: deadline, decryption by every bidder, record, signatures, outcome.
    opened = tenders[2]
    clock.set(start + timedelta(days=3, minutes=1))
    hall = bidding.hall
    await hall.snapshot(db, ctx.who("staff.sh"), opened.id)
    for i, name in enumerate(users):
        header, _ = envelope.parse_header(io.BytesIO(blobs[(2, name)]))
        file_key = envelope.unwrap_file_key(header, [keys[name].opening])
        import base64

        await hall.send_file_key(
            db, ctx.who(name), opened.id, f"demo-{opened.reference}-{i}", base64.b64encode(file_key).decode()
        )
    clock.advance(timedelta(minutes=30))
    current = await hall.publish_record(db, ctx.who("staff.sh"), opened.id)
    for name in users:
        assert current.record_sha256 is not None
        statement = signing.record_statement(str(opened.id), current.record_sha256)
        await hall.respond(
            db, ctx.who(name), opened.id, signature=signing.sign(keys[name].signing, statement)
        )
    await hall.finish(db, ctx.who("staff.sh"), opened.id)
    clock.advance(timedelta(minutes=5))
