"""Deterministic demo data: the 长三角 region, three centres, 40 bidder companies, 300 experts, a
dozen tenders across the lifecycle, and accounts for every role.

Everything goes through the real services, so every demo change has its ledger event.  The seed
runs as a timeline on a movable clock starting 40 days ago: tenders published then have passed
their deadlines by now and close through the ordinary time-driven transition.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import click
from faker import Faker
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tenderhall.auth.models import User
from tenderhall.auth.policy import Subject
from tenderhall.auth.roles import Role
from tenderhall.auth.service import subject_of
from tenderhall.clock import FixedClock, SystemClock
from tenderhall.compose import build_services, domain_plugins, import_models
from tenderhall.orgs import uscc
from tenderhall.orgs.models import Centre, Company, Organisation, OrganisationKind, Region
from tenderhall.orgs.service import CompanyData, PersonData
from tenderhall.services import Services
from tenderhall.settings import Settings
from tenderhall.tenders.models import Tender, TenderDocument
from tenderhall.tenders.service import TenderDraft

DEMO_PASSWORD = "Demo-2026-tenderhall"  # noqa: S105 - printed for newcomers; demo databases only
SEED = 2026

CENTRES = [
    ("SH", "上海市公共资源交易中心", "上海", "310000"),
    ("HZ", "杭州市公共资源交易中心", "杭州", "330100"),
    ("NJ", "南京市公共资源交易中心", "南京", "320100"),
]
TENDERERS = [
    ("上海市第一人民医院", "上海", "310000"),
    ("杭州市城市建设投资集团有限公司", "杭州", "330100"),
    ("南京市交通运输局", "南京", "320100"),
    ("上海市浦东新区教育局", "上海", "310000"),
]
AGENCIES = [("上海华东招标代理有限公司", "上海", "310000"), ("浙江中诚工程咨询有限公司", "杭州", "330100")]
INDUSTRIES = [
    "建设工程有限公司",
    "市政工程有限公司",
    "信息技术有限公司",
    "医疗器械有限公司",
    "环境科技有限公司",
    "交通工程有限公司",
    "建筑装饰工程有限公司",
    "智能科技有限公司",
]
WORKS_RUBRIC = {
    "price_method": "benchmark_price",
    "items": [
        {"code": "T1", "name": "施工组织设计", "kind": "technical", "max_points": "30"},
        {"code": "T2", "name": "项目管理机构", "kind": "technical", "max_points": "15"},
        {"code": "C1", "name": "类似项目业绩", "kind": "commercial", "max_points": "10"},
        {"code": "C2", "name": "信用评价", "kind": "commercial", "max_points": "5"},
        {"code": "P", "name": "投标报价", "kind": "price", "max_points": "40"},
    ],
}
GOODS_RUBRIC = {
    "price_method": "lowest_price",
    "items": [
        {"code": "T1", "name": "技术参数响应", "kind": "technical", "max_points": "40"},
        {"code": "T2", "name": "售后服务方案", "kind": "technical", "max_points": "15"},
        {"code": "C1", "name": "企业业绩", "kind": "commercial", "max_points": "15"},
        {"code": "P", "name": "价格", "kind": "price", "max_points": "30"},
    ],
}


@dataclass
class DemoContext:
    """What domain packages' ``seed_demo`` receive: the kernel's demo objects and the clock."""

    services: Services
    clock: FixedClock
    region: Region
    centres: dict[str, Centre]
    tenderers: list[Organisation]
    agencies: list[Organisation]
    companies: list[Company]
    users: dict[str, User] = field(default_factory=dict)
    accounts: list[tuple[str, str, str]] = field(default_factory=list)  # role, username, what it shows
    # The kernel's demo tenders by stage (closed, terminated, open, draft), for domain demos.
    tenders: dict[str, list[Any]] = field(default_factory=dict)
    tender_states: dict[str, int] = field(default_factory=dict)  # filled at the end, for the banner
    # Places worth a first look (what, path, who to sign in as), printed with the accounts.
    highlights: list[tuple[str, str, str]] = field(default_factory=list)
    # For each role, an account whose "my work" page has something waiting (for the banner).
    work_waiting: dict[str, str] = field(default_factory=dict)
    # Stories registered by domain packages in the second phase (see ``story``).
    stories: list[AsyncIterator[datetime]] = field(default_factory=list)
    rng: random.Random = field(default_factory=lambda: random.Random(SEED))
    faker: Faker = field(default_factory=lambda: _faker())

    async def user(
        self, db: AsyncSession, username: str, role: Role, display: str, note: str, **links: Any
    ) -> User:
        user = await self.services.accounts.create_user(
            db,
            username=username,
            password=DEMO_PASSWORD,
            role=role,
            display_name=display,
            region_id=self.region.id,
            **links,
        )
        self.users[username] = user
        self.accounts.append((role.value, username, note))
        return user

    def who(self, username: str) -> Subject:
        return subject_of(self.users[username])

    def story(self, steps: AsyncIterator[datetime]) -> None:
        """Register a demo story: an async generator that first yields the moment it starts, then
        after each step the moment its next step is due (it does nothing before its first yield).

        After every ``seed_demo_tenders`` ran, the kernel runs all stories interleaved, earliest
        step first, with the clock set to each step's moment and never moved back; so stories of
        several packages (bids opened by bidding, then evaluated by evaluation) share one timeline
        and the ledger's event times do not go backwards within it.
        """
        self.stories.append(steps)


def _faker() -> Faker:
    fake = Faker("zh_CN")
    fake.seed_instance(SEED)
    return fake


def _code(rng: random.Random, division: str, kind: str = "91") -> str:
    body = "".join(rng.choice(uscc.ALPHABET[:10]) for _ in range(8)) + rng.choice(uscc.ALPHABET)
    return uscc.make(kind + division + body)


async def _is_empty(services: Services) -> bool:
    async with services.sessionmaker() as db:
        return await db.scalar(select(Region.id).limit(1)) is None


async def seed(settings: Settings, only_if_empty: bool = True) -> DemoContext | None:
    import_models()
    real = SystemClock(settings.clock_offset)
    now = real.now().replace(minute=0, second=0, microsecond=0)
    clock = FixedClock(now - timedelta(days=40))
    services = build_services(settings, clock)
    try:
        if not await _is_empty(services):
            if only_if_empty:
                return None
            raise click.ClickException("the database is not empty; demo data goes only into a new database")
        async with services.transaction() as db:
            ctx = await _organisations(services, db, clock)
            await _accounts(ctx, db)
            for plugin in domain_plugins():
                await plugin.seed_demo(db, ctx)
            await _tenders(ctx, db, now)
            # Second phase: domain data that needs the kernel's tenders (bids, draws, alerts).
            for plugin in domain_plugins():
                after = getattr(plugin, "seed_demo_tenders", None)
                if after is not None:
                    await after(db, ctx)
            await _run_stories(ctx)
            clock.set(max(real.now(), clock.now()))
            await services.tenders.sweep(db)  # deadlines that passed during the timeline
            await services.ledger.checkpoint(db, "demo data seeded")
            ctx.work_waiting = await _work_waiting(ctx, db)
            rows = await db.execute(select(Tender.state, func.count()).group_by(Tender.state))
            ctx.tender_states = {state: int(n) for state, n in rows.tuples()}
        return ctx
    finally:
        await services.engine.dispose()


async def _work_waiting(ctx: DemoContext, db: AsyncSession) -> dict[str, str]:
    """For each role, the first account (in the banner's order) with work waiting on its page."""
    from tenderhall.compose import work_items
    from tenderhall.work.items import Urgency

    found: dict[str, str] = {}
    for role, username, _ in ctx.accounts:
        if role in found:
            continue
        items = await work_items(db, ctx.services, ctx.who(username))
        if any(i.urgency < Urgency.INFO for i in items):
            found[role] = username
    return found


async def _run_stories(ctx: DemoContext) -> None:
    """Run the registered stories on one timeline (see ``DemoContext.story``).

    The timeline starts at the earliest story's first moment: the one step back in time of the
    seed, since the kernel's own tenders were made up to today before the second phase.
    """
    queue: list[tuple[datetime, int, AsyncIterator[datetime]]] = []
    for number, steps in enumerate(ctx.stories):
        first = await anext(steps, None)
        if first is not None:
            queue.append((first, number, steps))
    ctx.stories.clear()
    heapq.heapify(queue)
    if queue:
        ctx.clock.set(queue[0][0])
    while queue:
        when, number, steps = heapq.heappop(queue)
        if when > ctx.clock.now():
            ctx.clock.set(when)
        following = await anext(steps, None)
        if following is not None:
            heapq.heappush(queue, (following, number, steps))


async def _organisations(services: Services, db: AsyncSession, clock: FixedClock) -> DemoContext:
    rng = random.Random(SEED)
    region = Region(code="YRD", name="长三角")
    db.add(region)
    await db.flush()
    centres = {}
    for code, name, city, _ in CENTRES:
        centres[code] = Centre(region_id=region.id, code=code, name=name, city=city)
        db.add(centres[code])
    tenderers = [
        Organisation(
            region_id=region.id,
            kind=OrganisationKind.TENDERER.value,
            name=n,
            city=c,
            uscc=_code(rng, d, "12"),
        )
        for n, c, d in TENDERERS
    ]
    agencies = [
        Organisation(
            region_id=region.id, kind=OrganisationKind.AGENCY.value, name=n, city=c, uscc=_code(rng, d)
        )
        for n, c, d in AGENCIES
    ]
    db.add_all([*tenderers, *agencies])
    await db.flush()
    ctx = DemoContext(
        services=services,
        clock=clock,
        region=region,
        centres=centres,
        tenderers=tenderers,
        agencies=agencies,
        companies=[],
    )
    admin = await ctx.user(db, "admin", Role.ADMIN, "平台管理员", "centres, accounts, companies")
    fake = ctx.faker
    for i in range(40):
        city, division = [(c[2], c[3]) for c in CENTRES][i % 3]
        name = (
            f"{city}{fake.last_name()}{rng.choice(['达', '恒', '远', '诚', '信', '瑞', '安', '正'])}"
            f"{rng.choice(['建', '泰', '隆', '华', '通', '和', '盛', '鑫'])}{rng.choice(INDUSTRIES)}"
        )
        legal = fake.name()
        persons = [
            PersonData("legal_representative", legal, id_number=fake.ssn(), phone=fake.phone_number()),
            PersonData(
                "shareholder", legal, id_number=None, share_percent=float(rng.choice([51, 60, 70, 100]))
            ),
        ]
        if persons[1].share_percent and persons[1].share_percent < 100:
            persons.append(
                PersonData(
                    "shareholder",
                    fake.name(),
                    id_number=fake.ssn(),
                    share_percent=100 - persons[1].share_percent,
                )
            )
        persons += [
            PersonData("agent", fake.name(), id_number=fake.ssn(), phone=fake.phone_number()),
            PersonData(
                "project_manager",
                fake.name(),
                id_number=fake.ssn(),
                certificate_no=f"{division[:2]}1{rng.randrange(10**9, 10**10)}",
            ),
            PersonData("contact", fake.name(), phone=fake.phone_number(), email=fake.company_email()),
        ]
        data = CompanyData(
            name=name,
            uscc=_code(rng, division),
            city=city,
            legal_representative=legal,
            region_id=region.id,
            address=fake.address(),
            sme=rng.random() < 0.6,
            persons=persons,
            bank_accounts=[
                (
                    rng.choice(["中国工商银行", "中国建设银行", "中国银行", "招商银行", "交通银行"])
                    + f"{city}分行",
                    "".join(str(rng.randrange(10)) for _ in range(19)),
                    name,
                )
            ],
        )
        ctx.companies.append(await services.companies.create(db, subject_of(admin), data))
    return ctx


async def _accounts(ctx: DemoContext, db: AsyncSession) -> None:
    for code, centre in ctx.centres.items():
        await ctx.user(
            db,
            f"staff.{code.lower()}",
            Role.STAFF,
            f"{centre.city}中心工作人员",
            f"runs {centre.name}",
            centre_id=centre.id,
        )
    await ctx.user(db, "supervisor", Role.SUPERVISOR, "长三角行政监督", "reads everything in the region")
    for i, org in enumerate(ctx.tenderers, 1):
        await ctx.user(
            db, f"tenderer{i}", Role.TENDERER, f"{org.name}采购负责人", org.name, organisation_id=org.id
        )
    for i, org in enumerate(ctx.agencies, 1):
        await ctx.user(db, f"agent{i}", Role.AGENT, f"{org.name}项目经理", org.name, organisation_id=org.id)
    for i, company in enumerate(ctx.companies, 1):
        await ctx.user(
            db, f"bidder{i:02d}", Role.BIDDER, f"{company.name}投标专员", company.name, company_id=company.id
        )
    for i, holder in enumerate(["交易中心", "行政监督部门", "公证处"], 1):
        await ctx.user(
            db, f"custodian{i}", Role.CUSTODIAN, f"启封保管人（{holder}）", f"key share holder: {holder}"
        )


async def _document(ctx: DemoContext, db: AsyncSession, tender: Any) -> None:
    text = (
        f"{tender.title}\n招标文件\n项目编号：{tender.reference}\n\n第一章 招标公告\n第二章 投标人须知\n"
        f"第三章 评标办法（见结构化评分办法）\n第四章 合同条款\n第五章 技术要求\n"
    ).encode()

    async def one() -> Any:
        yield text

    stored = await ctx.services.storage.put(one(), 1 << 20)
    db.add(
        TenderDocument(
            tender_id=tender.id,
            name=f"招标文件-{tender.reference}.txt",
            media_type="text/plain; charset=utf-8",
            sha256=stored.sha256,
            size=stored.size,
        )
    )
    await db.flush()
    await db.refresh(tender, ["documents"])


async def _tender(
    ctx: DemoContext,
    db: AsyncSession,
    creator: str,
    title: str,
    tenderer: int,
    estimate_yuan: int,
    category: str = "works",
    agency: int | None = None,
    procedure: str = "open_tender",
) -> Any:
    who = ctx.who(creator)
    tender = await ctx.services.tenders.create(
        db,
        who,
        TenderDraft(
            title=title,
            procedure=procedure,
            estimate_fen=estimate_yuan * 100,
            tenderer_id=ctx.tenderers[tenderer].id,
            agency_id=ctx.agencies[agency].id if agency is not None else None,
            centre_id=ctx.centres[
                {"上海": "SH", "杭州": "HZ", "南京": "NJ"}[ctx.tenderers[tenderer].city]
            ].id,
            description=f"{title}。资金来源：财政资金，已落实。",
            category=category,
            rubric=WORKS_RUBRIC if category == "works" else GOODS_RUBRIC,
        ),
    )
    await _document(ctx, db, tender)
    return tender


async def _tenders(ctx: DemoContext, db: AsyncSession, now: datetime) -> None:
    svc = ctx.services.tenders
    clock = ctx.clock
    # Day -40: three tenders published whose deadlines pass before today -> closed.
    closed = [
        await _tender(ctx, db, "tenderer1", "上海市第一人民医院门诊楼改造工程", 0, 18_600_000),
        await _tender(ctx, db, "tenderer2", "杭州市滨江区道路综合整治工程", 1, 42_300_000, agency=1),
        await _tender(ctx, db, "tenderer4", "浦东新区中小学智慧教室设备采购", 3, 3_850_000, category="goods"),
    ]
    for days, tender in zip((21, 25, 28), closed, strict=True):
        await svc.publish(
            db,
            ctx.who(
                "tenderer1" if tender is closed[0] else "staff.hz" if tender is closed[1] else "tenderer4"
            ),
            tender.id,
            clock.now() + timedelta(days=days),
        )
        for bidder in ctx.rng.sample(range(1, 41), 6):
            await svc.register(db, ctx.who(f"bidder{bidder:02d}"), tender.id)
    ctx.tenders["closed"] = closed
    # Day -35: one published and then terminated (the budget was withdrawn).
    clock.set(now - timedelta(days=35))
    stopped = await _tender(
        ctx, db, "staff.nj", "南京市交通信号控制系统升级项目", 2, 6_200_000, category="goods"
    )
    await svc.publish(db, ctx.who("staff.nj"), stopped.id, clock.now() + timedelta(days=25))
    clock.set(now - timedelta(days=30))
    await svc.terminate(db, ctx.who("staff.nj"), stopped.id, "项目资金计划调整，经批准终止招标。")
    ctx.tenders["terminated"] = [stopped]
    # Day -10: five tenders open for bidding now, one amended with a pushed deadline.
    clock.set(now - timedelta(days=10))
    open_now = [
        await _tender(
            ctx,
            db,
            "agent1",
            "上海市第一人民医院医疗设备采购（CT）",
            0,
            12_000_000,
            category="goods",
            agency=0,
        ),
        await _tender(
            ctx,
            db,
            "tenderer2",
            "杭州城投大厦物业管理服务",
            1,
            2_400_000,
            category="services",
            procedure="competitive_consultation",
        ),
        await _tender(ctx, db, "tenderer3", "南京长江大桥养护维修工程", 2, 95_000_000),
        await _tender(ctx, db, "staff.sh", "浦东新区学校食堂改造工程", 3, 7_800_000),
        await _tender(ctx, db, "tenderer3", "南京地铁站点无障碍设施改造", 2, 15_500_000),
    ]
    deadlines = [12, 13, 21, 20, 16]
    for tender, days in zip(open_now, deadlines, strict=True):
        centre_staff = {"SH": "staff.sh", "HZ": "staff.hz", "NJ": "staff.nj"}
        code = next(c for c, v in ctx.centres.items() if v.id == tender.centre_id)
        await svc.publish(db, ctx.who(centre_staff[code]), tender.id, now + timedelta(days=days))
        for bidder in ctx.rng.sample(range(1, 41), 5):
            await svc.register(db, ctx.who(f"bidder{bidder:02d}"), tender.id)
    first = open_now[0]
    registered = [u for u in ctx.users if u.startswith("bidder")]
    askers = []
    for name in registered:
        regs = await svc.registrations(db, ctx.who("staff.sh"), first.id)
        if any(r.company_id == ctx.users[name].company_id for r in regs):
            askers.append(name)
    clock.set(now - timedelta(days=6))
    clarify = ctx.services.clarifications
    await clarify.ask(
        db, ctx.who(askers[0]), first.id, "技术参数第3.2条要求的探测器排数是否允许等效替代方案？"
    )
    await clarify.ask(db, ctx.who(askers[1]), first.id, "投标保证金是否接受电子保函？")
    clock.set(now - timedelta(days=5))
    await clarify.answer(
        db, ctx.who("agent1"), first.id, 1, "允许，但须提供等效性证明材料，并在偏离表中逐项说明。"
    )
    await clarify.answer(db, ctx.who("agent1"), first.id, 2, "接受银行或保险机构出具的电子保函。")
    clock.set(now - timedelta(days=1))
    await svc.amend(
        db,
        ctx.who("agent1"),
        first.id,
        "第五章技术要求第3.2条修改：探测器排数由128排调整为不少于64排。",
        affects_preparation=True,
    )
    ctx.tenders["open"] = open_now
    # Today: three drafts still being prepared.
    clock.set(now)
    ctx.tenders["draft"] = [
        await _tender(
            ctx, db, "tenderer1", "上海市第一人民医院信息化平台建设", 0, 5_600_000, category="goods"
        ),
        await _tender(ctx, db, "agent2", "杭州市西湖区污水管网改造工程", 1, 33_000_000, agency=1),
        await _tender(
            ctx, db, "tenderer3", "南京市交通运输局办公楼节能改造", 2, 2_100_000, procedure="simplified"
        ),
    ]


def print_accounts(ctx: DemoContext, address: str) -> None:
    states = ", ".join(f"{state} {n}" for state, n in sorted(ctx.tender_states.items()))
    click.echo("")
    click.echo(
        f"Demo data seeded: region 长三角 (YRD), {len(ctx.centres)} centres, {len(ctx.companies)} bidder "
        f"companies, 300 experts, {sum(ctx.tender_states.values())} tenders ({states})."
    )
    click.echo(f"Every demo account has the password: {DEMO_PASSWORD}")
    shown: dict[str, list[str]] = {}
    for role, username, _ in ctx.accounts:
        shown.setdefault(role, []).append(username)
    for role, names in shown.items():
        listed = ", ".join(names if len(names) <= 6 else [*names[:3], "…", names[-1]])
        click.echo(f"  {role:<11} {listed}")
    if ctx.work_waiting:
        waiting = ", ".join(f"{role} {name}" for role, name in ctx.work_waiting.items())
        click.echo(
            f"Every account starts on its work page ({address.rstrip('/')}/work); work waits for: {waiting}"
        )
    if ctx.highlights:
        click.echo("Worth a look:")
        for what, path, who in ctx.highlights:
            click.echo(f"  {what}: {address.rstrip('/')}{path}  (as {who})")
    click.echo("")
