"""Sealed-bid demo data (second seeding phase, as stories on the demo timeline):

- a tender in bidding with sealed bids (one of them resubmitted);
- one whose opening is in progress: the decryption window is over, three bids were decrypted by
  their bidders and the fourth waits for the custodians (one share of k = 2 released);
  ``custodian2`` can release the second with ``tenderhall release-share``;
- one opened: every bid decrypted, the record published and signed, the opening closed.

Everything goes through the real services (keys, sealing, signed manifests, uploads, credit and
bond checks, receipts, the hall), so every step has its ledger event.  Demo bidders' and
custodians' private keys are written (0600) under ``<data dir>/demo-keys/<username>/`` so a
newcomer can drive ``tenderhall bid`` against them.

The helpers (`bidder_keys`, `submit_bid`, `open_tender`) are also used by evaluation's demo.
"""

from __future__ import annotations

import base64
import io
import tempfile
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from bidding import envelope, sealed, signing
from bidding.client.keys import BidderKeys, generate, load
from bidding.package import pack
from bidding.sealing import bond_cap
from bidding.service import Bidding, BondIn, Evidence

BANKS = ["中国工商银行", "中国建设银行", "中国银行", "招商银行"]


def _bidding(ctx: Any) -> Bidding:
    bidding: Bidding = ctx.services.get(Bidding)
    return bidding


def _key_dir(ctx: Any, username: str) -> Path:
    path: Path = ctx.services.settings.data_dir / "demo-keys" / username
    return path


async def bidder_keys(db: Any, ctx: Any, username: str) -> BidderKeys:
    """The demo bidder's keys: made and registered on first use, loaded afterwards."""
    bidding = _bidding(ctx)
    company_id = ctx.users[username].company_id
    directory = _key_dir(ctx, username)
    active = await bidding.active_key(db, company_id)
    if active is not None and (directory / "opening.key").exists():
        keys = load(directory)
        if keys.recipient == active.opening_recipient:
            return keys
    keys = generate(directory, force=True)
    statement = signing.registration_statement(str(company_id), keys.recipient, keys.signing_public)
    await bidding.register_key(
        db, ctx.who(username), keys.recipient, keys.signing_public, signing.sign(keys.signing, statement)
    )
    return keys


def _package(form: dict[str, Any], title: str, author: str = "") -> bytes:
    """A bid package: the form and a technical proposal, a placeholder or, with ``author``, a PDF
    whose metadata names its author and tool (what the opening's document scan reads)."""
    out = io.BytesIO()
    with tempfile.TemporaryDirectory() as tmp:
        if author:
            from weasyprint import HTML

            doc = Path(tmp) / "技术标.pdf"
            plan = "供货方案：按采购需求分批送货安装，提供五年质保与上门维修服务。" * 12
            body = f"<h1>{title}</h1><p>{plan}</p>"
            HTML(
                string=f'<html><head><meta name="author" content="{author}">'
                '<meta name="generator" content="标书编制工具 V3.2">'
                '<meta name="dcterms.created" content="2026-01-15T10:20:00+08:00">'
                f"</head><body>{body}</body></html>"
            ).write_pdf(doc)
        else:
            doc = Path(tmp) / "技术标.txt"  # a placeholder too short to compare with others'
            doc.write_text(f"{form['project_manager']} 技术标（示例）\n", encoding="utf-8")
        pack(form, [doc], out)
    return out.getvalue()


async def _one(data: bytes) -> AsyncIterator[bytes]:
    yield data


@dataclass(frozen=True)
class SealedBid:
    username: str
    ref: str
    blob: bytes
    keys: BidderKeys


async def submit_bid(
    db: Any,
    ctx: Any,
    username: str,
    tender: Any,
    ref: str,
    price: Decimal,
    *,
    duration_days: int = 300,
    device: int = 0,
    author: str = "",
) -> SealedBid:
    """Seal a bid package to the bidder's key (and the tender's custodians), sign the manifest,
    upload it and have it accepted, with a bid bond, as the bidder's client and the API would."""
    from tenderhall.orgs.models import Company

    bidding = _bidding(ctx)
    keys = await bidder_keys(db, ctx, username)
    who = ctx.who(username)
    company = await db.get(Company, who.company_id)
    sealing = await bidding.sealing(db, who, tender.id)
    form = {
        "price": f"{price:.2f}",
        "duration_days": duration_days,
        "quality": "合格",
        "project_manager": f"{company.legal_representative[:1]}工",
    }
    plain = _package(form, tender.title, author)
    blob = sealed.seal_bytes(plain, keys.opening.recipient, sealing["remedy"], str(tender.id), ref)
    manifest = sealed.manifest(
        blob, tender=str(tender.id), bidder=company.uscc, bid=ref, client={"tool": "tenderhall-bid/demo"}
    )
    bank = company.bank_accounts[0] if company.bank_accounts else None
    rules = await ctx.services.tenders.rules(db, tender)
    amount = min(bond_cap(tender.estimate_fen, rules.bond_cap_percent), 20_000_000)
    bond = (
        BondIn("cash", amount, payer_bank=bank.bank, payer_account=bank.account_no)
        if bank is not None and device % 2 == 0
        else BondIn("guarantee", amount, issuer=f"{BANKS[device % len(BANKS)]}上海分行", number=f"BH-{ref}")
    )
    session = await bidding.start_upload(
        db,
        who,
        tender.id,
        manifest,
        signing.sign(keys.signing, manifest),
        f"demo-{uuid.uuid4().hex}",
        bond,
    )
    stored = await ctx.services.storage.put(_one(blob), len(blob))
    assert stored.sha256 == manifest["envelope_sha256"]
    await bidding.accept(
        db,
        who,
        session,
        stored.key,
        Evidence(f"10.{20 + device}.{device}.{device + 10}", "tenderhall-bid/0.1", f"demo-device-{device}"),
    )
    # start_upload made the upload's (empty) partial file; the envelope went straight to storage:
    # accept removes the partial file once the demo's unit of work commits.
    return SealedBid(username, ref, blob, keys)


async def decrypt(db: Any, ctx: Any, tender: Any, bid: SealedBid) -> None:
    """The bidder unwraps its file key locally and sends it to the hall."""
    header, _ = envelope.parse_header(io.BytesIO(bid.blob))
    file_key = envelope.unwrap_file_key(header, [bid.keys.opening])
    await _bidding(ctx).hall.send_file_key(
        db, ctx.who(bid.username), tender.id, bid.ref, base64.b64encode(file_key).decode()
    )


def staff_of(ctx: Any, tender: Any) -> str:
    code = next(c for c, v in ctx.centres.items() if v.id == tender.centre_id)
    return f"staff.{code.lower()}"


async def open_tender(
    db: Any, ctx: Any, tender: Any, bids: list[SealedBid], *, absent: int = 0
) -> AsyncIterator[datetime]:
    """A story fragment: the whole opening of a tender from its deadline.  Every bidder decrypts,
    the record is published and signed, the opening closes (outcome opened).  With ``absent``
    the last bidders do not decrypt and the fragment ends with the hall waiting for custodians.
    """
    hall = _bidding(ctx).hall
    staff = staff_of(ctx, tender)
    at = tender.deadline_at + timedelta(minutes=1)
    yield at
    await hall.snapshot(db, ctx.who(staff), tender.id)  # the hall opens on first view
    present = bids[: len(bids) - absent]
    for n, bid in enumerate(present, 1):
        yield at + timedelta(minutes=n)
        await decrypt(db, ctx, tender, bid)
    rules = await ctx.services.tenders.rules(db, tender)
    yield tender.deadline_at + timedelta(minutes=rules.decryption_window_minutes + 1)
    await hall.snapshot(db, ctx.who(staff), tender.id)  # the window has ended
    if absent:
        return
    current = await hall.publish_record(db, ctx.who(staff), tender.id)
    assert current.record_sha256 is not None
    for n, bid in enumerate(bids, 1):
        yield tender.deadline_at + timedelta(minutes=rules.decryption_window_minutes + 2 + n)
        statement = signing.record_statement(str(tender.id), current.record_sha256)
        await hall.respond(
            db, ctx.who(bid.username), tender.id, signature=signing.sign(bid.keys.signing, statement)
        )
    yield tender.deadline_at + timedelta(minutes=rules.decryption_window_minutes + 10)
    await hall.finish(db, ctx.who(staff), tender.id)


async def custodian_keys(db: Any, ctx: Any, usernames: list[str]) -> dict[str, BidderKeys]:
    """Custodians' X25519 keys (written like bidder keys, so ``release-share`` can use them)."""
    out = {}
    for name in usernames:
        keys = generate(_key_dir(ctx, name), force=True)
        await _bidding(ctx).register_custodian_key(db, ctx.who(name), keys.recipient)
        out[name] = keys
    return out


async def release_share(db: Any, ctx: Any, custodian: str, keys: BidderKeys, tender: Any) -> None:
    """What ``tenderhall release-share`` does for a custodian: open its share of every bid it
    is asked about and release it."""
    hall = _bidding(ctx).hall
    who = ctx.who(custodian)
    for request in await hall.share_requests(db, who, tender.id):
        header, _ = envelope.parse_header(io.BytesIO(base64.b64decode(request["header"])))
        share = envelope.open_custodian_share(
            header,
            envelope.Binding(str(tender.id), request["bid"]),
            request["custodian"],
            keys.opening.private_key,
        )
        await hall.release_share(
            db, who, tender.id, request["bid"], share.index, base64.b64encode(share.value).decode()
        )


async def _credit_list(db: Any, ctx: Any) -> None:
    from tenderhall.orgs import uscc

    text = (
        "uscc,name,reason,listed_on,until\n"
        f"{uscc.make('91310000MA1K0DXY7')},上海示例失信建筑有限公司,"
        "拖欠农民工工资被列入严重失信主体名单,"
        f"{(ctx.clock.now() - timedelta(days=200)).date().isoformat()},\n"
    )
    await _bidding(ctx).import_credit_list(
        db, ctx.who("admin"), text.encode(), "csv", "信用中国（示例）", ctx.clock.now().date()
    )


async def seed_bids(db: Any, ctx: Any) -> None:
    """Register the sealed-bid stories on the demo timeline (run by the kernel)."""
    today = ctx.clock.now()
    ctx.story(_in_bidding(db, ctx, today))
    ctx.story(_opening_in_progress(db, ctx, today))
    ctx.story(_opened(db, ctx, today))


BIDDERS = ["bidder03", "bidder07", "bidder11", "bidder19"]
PRICES = [Decimal("9860000.00"), Decimal("9720000.00"), Decimal("9905000.00"), Decimal("9650000.00")]


async def _publish(
    db: Any, ctx: Any, tender: Any, creator: str, deadline: datetime, bidders: list[str]
) -> None:
    services = ctx.services
    await services.tenders.publish(db, ctx.who(creator), tender.id, deadline)
    for name in bidders:
        await services.tenders.register(db, ctx.who(name), tender.id)


async def _in_bidding(db: Any, ctx: Any, today: datetime) -> AsyncIterator[datetime]:
    from tenderhall.demo import _tender

    yield today - timedelta(days=30)
    await _credit_list(db, ctx)  # the region's blacklist: every submission is checked against it
    yield today - timedelta(days=6)
    tender = await _tender(ctx, db, "staff.sh", "浦东新区政务服务中心智能化改造（投标中）", 0, 9_900_000)
    await _publish(db, ctx, tender, "staff.sh", today + timedelta(days=15), BIDDERS)
    for i, name in enumerate(BIDDERS):
        yield today - timedelta(days=3 - i * 0.5)
        await submit_bid(db, ctx, name, tender, f"ZN-{i + 1}", PRICES[i], device=i)
    yield today - timedelta(hours=5)  # a resubmission supersedes the first envelope
    await submit_bid(db, ctx, BIDDERS[0], tender, "ZN-1b", PRICES[0] - 60_000, device=0)


async def _opening_in_progress(db: Any, ctx: Any, today: datetime) -> AsyncIterator[datetime]:
    from tenderhall.demo import _tender

    custodians = ["custodian1", "custodian2", "custodian3"]
    yield today - timedelta(days=26)
    keys = await custodian_keys(db, ctx, custodians)
    tender = await _tender(ctx, db, "staff.sh", "上海市第一人民医院后勤楼修缮工程（开标中）", 0, 9_800_000)
    ctx.highlights.append(("opening hall, custodians called", f"/tenders/{tender.id}/hall", "staff.sh"))
    await _bidding(ctx).set_remedy(
        db, ctx.who("staff.sh"), tender.id, 2, [ctx.users[c].id for c in custodians]
    )
    yield today - timedelta(days=25)
    await _publish(db, ctx, tender, "staff.sh", today - timedelta(hours=3), BIDDERS)
    bids = []
    for i, name in enumerate(BIDDERS):
        yield today - timedelta(days=5 - i * 0.25)
        bids.append(await submit_bid(db, ctx, name, tender, f"HQ-{i + 1}", PRICES[(i + 1) % 4], device=i))
    await db.refresh(tender)
    async for at in open_tender(db, ctx, tender, bids, absent=1):
        yield at
    # The last bidder never came: custodian1 has released its share; one more opens the bid.
    yield today - timedelta(hours=2)
    await release_share(db, ctx, "custodian1", keys["custodian1"], tender)


async def _opened(db: Any, ctx: Any, today: datetime) -> AsyncIterator[datetime]:
    from tenderhall.demo import _tender

    yield today - timedelta(days=9)
    tender = await _tender(
        ctx,
        db,
        "tenderer4",
        "上海市浦东新区教育局课桌椅询价采购（已开标）",
        3,
        2_950_000,
        category="goods",
        procedure="inquiry",
    )
    await _publish(db, ctx, tender, "tenderer4", today - timedelta(days=2), BIDDERS)
    ctx.highlights.append(("opened tender: record, signatures", f"/tenders/{tender.id}/hall", "staff.sh"))
    bids = []
    for i, name in enumerate(BIDDERS):
        yield today - timedelta(days=4, hours=-i)
        price = Decimal("2860000.00") - 35_000 * i
        # Two of them had their proposals written by the same person with the same tool at the
        # same minute (文件属性一致): the opening reads it, the detector raises an alert.
        author = "孙立" if i in (1, 2) else ""
        bids.append(await submit_bid(db, ctx, name, tender, f"KZ-{i + 1}", price, device=i, author=author))
    await db.refresh(tender)
    async for at in open_tender(db, ctx, tender, bids):
        yield at
