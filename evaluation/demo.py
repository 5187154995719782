"""Demo experts for the region's shared pool (300, deterministic)."""

from __future__ import annotations

from typing import Any

from evaluation.models import Expert, ExpertStatus

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
    """Draw in progress, evaluation under way, awarded tender: needs the kernel's demo tenders
    (called after them) and opened bids; see the report for what is still missing."""
    return None
