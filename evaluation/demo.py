"""Evaluation demo data: the region's shared pool (300 experts, deterministic; first phase) and,
on the demo timeline (second phase, as stories), three tenders that went through bidding's real
sealed bids and opening hall:

- a draw in progress (南京): committee drawn three hours ago, one seat accepted and declared, one
  declined and replaced, the others still answering;
- an evaluation under way (上海, goods, SME deduction): a conflict declared and replaced,
  qualification done, three of five score sheets committed;
- an awarded tender (杭州, works, benchmark price with K drawn at opening): a decline and
  replacement, qualification, commit-reveal scoring, the report with a dissent, publicity with
  an objection answered, 评定分离, the supervisor's filing and the award notice.

Drawn experts without an account get one when drawn (``expertNNN``, the demo password): 300
password hashes would slow the seed, and a real pool's experts sign in before any draw.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from bidding.service import Bidding
from evaluation import committee
from evaluation.access import label
from evaluation.models import CommitteeSeat, DrawRequest, Expert, ExpertStatus, Notification
from evaluation.ranking import ItemKind
from evaluation.result import SHEET_FORMAT, rubric_items, sheet_digest
from evaluation.service import Evaluation
from tenderhall.auth.policy import Subject

SPECIALTIES = {
    "A01": "房屋建筑工程",
    "A02": "市政公用工程",
    "A03": "公路桥梁工程",
    "A04": "水利水电工程",
    "B01": "信息化系统集成",
    "B02": "医疗设备",
    "B03": "教学仪器设备",
    "C01": "物业管理服务",
    "C02": "工程造价咨询",
    "C03": "法律事务",
}
TITLES = ["高级工程师", "正高级工程师", "工程师", "高级经济师", "注册造价工程师", "主任医师", "律师"]


async def seed_experts(db: Any, ctx: Any) -> None:
    rng, fake = ctx.rng, ctx.faker
    centres = list(ctx.centres.values())
    codes = list(SPECIALTIES)
    experts = []
    for i in range(300):
        centre = centres[i % len(centres)]
        # A few experts work for demo bidder companies, so avoidance has something to find.
        employer = ctx.companies[i % 40] if i % 25 == 0 else None
        status = (
            ExpertStatus.ON_LEAVE
            if i % 37 == 0
            else ExpertStatus.SUSPENDED
            if i % 97 == 0
            else ExpertStatus.ACTIVE
        )
        experts.append(
            Expert(
                region_id=ctx.region.id,
                name=fake.name(),
                home_centre_id=centre.id,
                city=centre.city,
                employer=employer.name
                if employer
                else f"{centre.city}{rng.choice(['大学', '设计研究院', '建设集团', '医院', '咨询公司'])}",
                employer_uscc=employer.uscc if employer else None,
                titles=rng.sample(TITLES, k=rng.randint(1, 2)),
                specialties=sorted(rng.sample(codes, k=rng.randint(1, 3))),
                status=status.value,
                phone=fake.phone_number(),
                email=fake.free_email(),
            )
        )
    db.add_all(experts)
    await db.flush()
    from tenderhall.auth.roles import Role

    for i, expert in enumerate(experts[:10], 1):
        user = await ctx.user(db, f"expert{i:03d}", Role.EXPERT, expert.name, f"pool expert in {expert.city}")
        expert.user_id = user.id
    await db.flush()


async def seed_evaluations(db: Any, ctx: Any) -> None:
    """Register the evaluation stories on the demo timeline (run by the kernel)."""
    today = ctx.clock.now()
    ctx.story(_awarded(db, ctx, today))
    ctx.story(_under_way(db, ctx, today))
    ctx.story(_draw_in_progress(db, ctx, today))
    ctx.story(_draw_to_approve(db, ctx, today))


def _ev(ctx: Any) -> Evaluation:
    evaluation: Evaluation = ctx.services.get(Evaluation)
    return evaluation


def _username(ctx: Any, user_id: uuid.UUID | None) -> str | None:
    return next((n for n, u in ctx.users.items() if u.id == user_id), None)


async def _seats(db: Any, tender_id: uuid.UUID) -> list[CommitteeSeat]:
    return list(
        await db.scalars(
            select(CommitteeSeat).where(CommitteeSeat.tender_id == tender_id).order_by(CommitteeSeat.seat_no)
        )
    )


async def _sign_in_seated(db: Any, ctx: Any, tender_id: uuid.UUID) -> None:
    """Give drawn experts without an account one (see the module docstring)."""
    from tenderhall.auth.roles import Role

    taken = [int(n[6:]) for n in ctx.users if n.startswith("expert") and n[6:].isdigit()]
    number = max(taken, default=0)
    for seat in await _seats(db, tender_id):
        if seat.user_id is not None:
            continue
        expert = await db.get(Expert, seat.expert_id)
        assert expert is not None
        if expert.user_id is None:
            number += 1
            user = await ctx.user(
                db, f"expert{number:03d}", Role.EXPERT, expert.name, f"drawn expert in {expert.city}"
            )
            await _ev(ctx).registry.link_user(db, ctx.who("admin"), expert.id, user.id)
        seat.user_id = expert.user_id
        # The call went out before the account existed: it belongs in the new account's inbox.
        for note in await db.scalars(
            select(Notification).where(Notification.user_id.is_(None), Notification.kind == "drawn")
        ):
            if note.params.get("seat") == str(seat.id):
                note.user_id = expert.user_id
    await db.flush()


async def _draw(
    db: Any,
    ctx: Any,
    tender: Any,
    staff: str,
    seats: dict[str, int],
    draw_at: datetime,
    representatives: int = 0,
) -> AsyncIterator[datetime]:
    """Request (no default bent, so committed at once), then the supervisor's value at draw time."""
    ev = _ev(ctx)
    assert tender.deadline_at is not None
    req = await ev.draws.request(
        db,
        ctx.who(staff),
        tender.id,
        seats=seats,
        committee_size=sum(seats.values()) + representatives,
        reserves=None,
        remote_fraction=None,
        evaluation_date=tender.deadline_at.date(),
        draw_at=draw_at,
    )
    yield draw_at
    await ev.draws.reveal(db, ctx.who("supervisor"), req.id, f"{ctx.rng.getrandbits(256):064x}")
    await _sign_in_seated(db, ctx, tender.id)


async def _answer(
    db: Any,
    ctx: Any,
    seat: CommitteeSeat,
    *,
    accept: bool = True,
    declare: bool = True,
    conflict: str = "",
    decline: str = "",
) -> None:
    ev = _ev(ctx)
    who = ctx.who(_username(ctx, seat.user_id))
    if decline:
        await ev.draws.respond(db, who, seat.id, False, decline)
        await _sign_in_seated(db, ctx, seat.tender_id)
        return
    await ev.draws.respond(db, who, seat.id, accept, "")
    if declare:
        await ev.draws.declare(
            db, who, seat.id, bool(conflict), conflict or "本人与本项目投标人、招标人均无利害关系。"
        )
        if conflict:
            await _sign_in_seated(db, ctx, seat.tender_id)


async def _fill_committee(db: Any, ctx: Any, tender_id: uuid.UUID) -> None:
    """Every seat still waiting accepts and declares (replacements included)."""
    for _ in range(10):
        open_seats = [s for s in await _seats(db, tender_id) if s.status in ("notified", "accepted")]
        if not open_seats:
            return
        for seat in open_seats:
            if seat.status == "notified":
                await _answer(db, ctx, seat)
            else:
                await _ev(ctx).draws.declare(
                    db, ctx.who(_username(ctx, seat.user_id)), seat.id, False, "无利害关系。"
                )


async def _members(db: Any, ctx: Any, tender_id: uuid.UUID) -> list[tuple[str, Subject]]:
    return [(label(s), ctx.who(_username(ctx, s.user_id))) for s in await committee.members(db, tender_id)]


def _sheet(ctx: Any, tender: Any, member: str, bidders: list[str], k: int) -> dict[str, Any]:
    scores = []
    for j, bidder in enumerate(bidders):
        for item in rubric_items(tender.rubric):
            if item.kind is ItemKind.PRICE:
                continue
            top = item.max_points
            # Every member close to the others (no outliers), bidders apart, a little spread.
            value = top * Decimal(80 - 6 * j + (k % 3) * 2) / 100
            scores.append(
                {
                    "bidder": bidder,
                    "item": item.item_id,
                    "score": f"{value:.1f}",
                    "comment": "符合招标文件要求",
                }
            )
    return {
        "format": SHEET_FORMAT,
        "tender": str(tender.id),
        "member": member,
        "salt": f"{ctx.rng.getrandbits(128):032x}",
        "scores": scores,
    }


async def _qualify(db: Any, ctx: Any, tender: Any) -> None:
    ev = _ev(ctx)
    hall = ctx.services.get(Bidding).hall
    bids = await committee.bids(db, tender.id)
    for k, (_, who) in enumerate(await _members(db, ctx, tender.id)):
        for j, bid in enumerate(bids):
            # Each member reads the package first (decrypted on the fly; the access log notes it).
            async for _ in await hall.content(db, who, tender.id, bid.evidence["bid"]):
                pass
            # One member fails one bidder on its bond evidence; the majority passes it.
            passed = not (k == 0 and j == len(bids) - 1)
            reason = "" if passed else "投标保证金凭证与投标人名称不一致，建议澄清"
            await ev.scoring.review(db, who, tender.id, bid.company_id, passed, reason)


async def _score(db: Any, ctx: Any, tender: Any, committing: int | None = None) -> dict[str, dict[str, Any]]:
    ev = _ev(ctx)
    qualified = await committee.qualification(db, tender.id) or {}
    bidders = sorted(str(c) for c, ok in qualified.items() if ok)
    sheets = {}
    for k, (member, who) in enumerate(await _members(db, ctx, tender.id)):
        if committing is not None and k >= committing:
            break
        sheets[member] = _sheet(ctx, tender, member, bidders, k)
        await ev.scoring.commit(db, who, tender.id, sheet_digest(sheets[member]))
    return sheets


BIDDERS_AWARDED = ["bidder02", "bidder05", "bidder08", "bidder14", "bidder21"]
BIDDERS_UNDER_WAY = ["bidder04", "bidder10", "bidder16", "bidder22"]
BIDDERS_DRAW = ["bidder06", "bidder12", "bidder18"]


async def _publish(db: Any, ctx: Any, tender: Any, who: str, deadline: datetime, bidders: list[str]) -> None:
    await ctx.services.tenders.publish(db, ctx.who(who), tender.id, deadline)
    for name in bidders:
        await ctx.services.tenders.register(db, ctx.who(name), tender.id)
    await db.refresh(tender)


async def _awarded(db: Any, ctx: Any, today: datetime) -> AsyncIterator[datetime]:
    from bidding.demo import open_tender, submit_bid
    from tenderhall.demo import _tender

    ev = _ev(ctx)
    staff, tenderer = "staff.hz", "tenderer2"
    yield today - timedelta(days=38)
    tender = await _tender(ctx, db, tenderer, "杭州市拱墅区运河沿岸景观提升工程", 1, 26_800_000)
    await ev.set_plan(
        db,
        ctx.who(staff),
        tender.id,
        {
            "decision_method": "lowest_price",
            "response_hours": 24,
            "benchmark": {
                "k_range": ["0.01", "0.03"],
                "k_step": "0.005",
                "deduction_above": "1",
                "deduction_below": "0.5",
                "drop_extremes_from": 5,
            },
        },
    )
    await _publish(db, ctx, tender, tenderer, today - timedelta(days=17), BIDDERS_AWARDED)
    prices = ["25960000.00", "26310000.00", "25480000.00", "26050000.00", "25720000.00"]
    bids = []
    for i, name in enumerate(BIDDERS_AWARDED):
        yield today - timedelta(days=21, hours=-5 * i)
        bids.append(await submit_bid(db, ctx, name, tender, f"YH-{i + 1}", Decimal(prices[i]), device=10 + i))
    yield today - timedelta(days=19)
    async for at in _draw(db, ctx, tender, staff, {"A01": 4, "C02": 1}, today - timedelta(days=18)):
        yield at
    yield today - timedelta(days=18, hours=-1)
    first = (await _seats(db, tender.id))[0]
    await _answer(db, ctx, first, decline="当日另有评标任务，无法参加")
    yield today - timedelta(days=18, hours=-2)
    await _fill_committee(db, ctx, tender.id)
    async for at in open_tender(db, ctx, tender, bids):  # K is drawn when the hall opens
        yield at
    start = tender.deadline_at + timedelta(hours=1)
    yield start
    await ev.workspace.start(db, ctx.who(staff), tender.id)
    yield start + timedelta(hours=1)
    await _qualify(db, ctx, tender)
    yield start + timedelta(hours=2)
    sheets = await _score(db, ctx, tender)
    yield start + timedelta(hours=3)
    for member, who in await _members(db, ctx, tender.id):
        await ev.scoring.reveal(db, who, tender.id, sheets[member])
    yield start + timedelta(hours=4)
    report = await ev.reports.draft_report(db, ctx.who(staff), tender.id)
    for k, (_, who) in enumerate(await _members(db, ctx, tender.id)):
        dissent = k == 4
        reason = "第一中标候选人施工组织设计中的度汛措施不足，不同意其排名" if dissent else ""
        await ev.reports.sign(db, who, tender.id, dissent, reason, report.content_sha256)
    yield start + timedelta(hours=5)
    await ev.reports.finalize(db, ctx.who(staff), tender.id)
    candidates: list[str] = report.content["candidates"]
    registered = {ctx.users[n].company_id: n for n in BIDDERS_AWARDED}
    objector = next(n for c, n in registered.items() if str(c) != candidates[0])
    yield start + timedelta(days=1)
    objection = await ev.awards.object(
        db, ctx.who(objector), tender.id, "第一中标候选人项目经理同时在其他在建项目任职，请核查。"
    )
    yield start + timedelta(days=2)
    await ev.awards.answer(
        db,
        ctx.who(tenderer),
        tender.id,
        objection.id,
        "经核查，该项目经理原任职项目已于上月竣工验收，不存在在建项目任职情况。",
    )
    prices_of = {str(b.company_id): Decimal(b.price) for b in await committee.bids(db, tender.id)}
    winner = min(candidates, key=lambda c: (prices_of[c], candidates.index(c)))
    yield start + timedelta(days=2, hours=2)
    await ev.awards.decide(
        db,
        ctx.who(tenderer),
        tender.id,
        uuid.UUID(winner),
        "按招标文件规定，在中标候选人中确定投标报价最低者。",
    )
    yield start + timedelta(days=3)
    await ev.awards.file(db, ctx.who("supervisor"), tender.id, True, "定标程序符合规定，予以备案。")
    yield start + timedelta(days=3, hours=6)  # publicity (3 days) is over
    await ev.awards.issue(db, ctx.who(staff), tender.id)


async def _under_way(db: Any, ctx: Any, today: datetime) -> AsyncIterator[datetime]:
    from bidding.demo import open_tender, submit_bid
    from tenderhall.demo import _tender

    ev = _ev(ctx)
    staff, tenderer = "staff.sh", "tenderer1"
    yield today - timedelta(days=27)
    tender = await _tender(
        ctx, db, tenderer, "上海市第一人民医院医学影像设备采购（MRI）", 0, 16_500_000, category="goods"
    )
    await ev.set_plan(
        db,
        ctx.who(staff),
        tender.id,
        {"decision_method": "lowest_price", "sme_deduction_pct": "10", "response_hours": 24},
    )
    await _publish(db, ctx, tender, tenderer, today - timedelta(days=4), BIDDERS_UNDER_WAY)
    prices = ["15880000.00", "16120000.00", "15640000.00", "16030000.00"]
    bids = []
    for i, name in enumerate(BIDDERS_UNDER_WAY):
        yield today - timedelta(days=7, hours=-6 * i)
        bids.append(await submit_bid(db, ctx, name, tender, f"MR-{i + 1}", Decimal(prices[i]), device=20 + i))
    yield today - timedelta(days=6)
    async for at in _draw(db, ctx, tender, staff, {"B02": 3, "C02": 1}, today - timedelta(days=5), 1):
        yield at
    # The fifth seat is the hospital's own: its equipment officer sits as 招标人代表.
    from tenderhall.auth.roles import Role

    rep = await ctx.user(
        db,
        "tenderer1.rep",
        Role.TENDERER,
        "医学装备部 工程师",
        "tenderer representative on the MRI committee",
        organisation_id=tender.tenderer_id,
    )
    await ev.representatives.appoint(db, ctx.who(tenderer), tender.id, rep.id)
    yield today - timedelta(days=5, hours=-1)
    second = (await _seats(db, tender.id))[1]
    await _answer(db, ctx, second, conflict="本人近三年曾在投标人之一处兼职技术顾问，申请回避。")
    yield today - timedelta(days=5, hours=-2)
    await _fill_committee(db, ctx, tender.id)
    async for at in open_tender(db, ctx, tender, bids):
        yield at
    start = tender.deadline_at + timedelta(hours=2)
    yield start
    await ev.workspace.start(db, ctx.who(staff), tender.id)
    yield start + timedelta(hours=1)
    await _qualify(db, ctx, tender)
    yield start + timedelta(hours=2)
    await _score(db, ctx, tender, committing=3)  # two members still scoring


async def _draw_in_progress(db: Any, ctx: Any, today: datetime) -> AsyncIterator[datetime]:
    from bidding.demo import submit_bid
    from tenderhall.demo import _tender

    ev = _ev(ctx)
    staff, tenderer = "staff.nj", "tenderer3"
    yield today - timedelta(days=19)
    tender = await _tender(ctx, db, tenderer, "南京市江北新区快速路匝道改造工程", 2, 38_600_000)
    await ev.set_plan(
        db, ctx.who(staff), tender.id, {"decision_method": "lowest_price", "response_hours": 24}
    )
    await _publish(db, ctx, tender, tenderer, today + timedelta(days=2), BIDDERS_DRAW)
    for i, name in enumerate(BIDDERS_DRAW):
        yield today - timedelta(days=3, hours=-8 * i)
        await submit_bid(
            db, ctx, name, tender, f"KS-{i + 1}", Decimal("37500000.00") + 410_000 * i, device=30 + i
        )
    yield today - timedelta(days=1)
    async for at in _draw(db, ctx, tender, staff, {"A01": 3, "A03": 2}, today - timedelta(hours=3)):
        yield at
    yield today - timedelta(hours=2)
    seats = await _seats(db, tender.id)
    await _answer(db, ctx, seats[0])
    await _answer(db, ctx, seats[1], decline="出差在外，无法按时参加")
    await _answer(db, ctx, seats[2], declare=False)


async def _draw_to_approve(db: Any, ctx: Any, today: datetime) -> AsyncIterator[datetime]:
    """The opened tender's centre asks for a draw without reserves, which bends the region's
    default: it waits on the supervisor's "my work" page for approval."""
    from tenderhall.tenders.lifecycle import TenderState
    from tenderhall.tenders.models import Tender

    yield today - timedelta(hours=1)
    asked = select(DrawRequest.tender_id)
    tender = await db.scalar(
        select(Tender)
        .where(Tender.state == TenderState.OPENED.value, Tender.id.not_in(asked))
        .order_by(Tender.created_at)
    )
    if tender is None:
        return
    staff = next(
        n for n, u in ctx.users.items() if n.startswith("staff.") and u.centre_id == tender.centre_id
    )
    await _ev(ctx).draws.request(
        db,
        ctx.who(staff),
        tender.id,
        seats={"A01": 5},
        committee_size=5,
        reserves=0,
        remote_fraction=None,
        evaluation_date=(today + timedelta(days=2)).date(),
        draw_at=today + timedelta(days=1),
    )
