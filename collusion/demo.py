"""Demo: two years of 上海 tender history among the demo companies, with a cartel the detector finds.

The cartel (three demo companies) pays bid bonds from one account, submits from one IP, lets one
agent handle all their bids and takes turns winning; honest firms bid with their own details.  The
history goes in through the import path (ledger event included), the batch opens alerts, and staff
and the supervisor move them into several states.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from collusion.offline import Loaded
from collusion.records import BidRecord, TenderRecord
from collusion.service import Collusion

CARTEL = (4, 9, 13)  # indices into the demo companies
HISTORY_TENDERS = 36
CARTEL_EVERY = 4  # every fourth tender the cartel bids together


async def seed_cartel(db: AsyncSession, ctx: Any) -> None:
    services = ctx.services
    svc: Collusion = services.get(Collusion)
    rng = ctx.rng
    companies = ctx.companies
    cartel = [companies[i] for i in CARTEL]
    honest = [c for i, c in enumerate(companies) if i not in CARTEL]
    start = dt.date(2024, 1, 8)
    bids: list[BidRecord] = []
    tenders: dict[str, TenderRecord] = {}
    for n in range(HISTORY_TENDERS):
        tid = f"SH-HIST-{2024 + n // 18}-{n % 18 + 1:03d}"
        day = start + dt.timedelta(days=20 * n)
        estimate = float(rng.randrange(200, 3000) * 10_000)
        tenders[tid] = TenderRecord(tid, day, estimate=estimate)
        rows: list[tuple[str, float, dict[str, Any]]] = []
        for c in rng.sample(honest, 3):
            price = round(estimate * rng.uniform(0.88, 0.99), 2)
            rows.append((c.uscc, price, {"ip": f"10.8.{rng.randrange(256)}.{rng.randrange(1, 255)}"}))
        if n % CARTEL_EVERY == 0:
            k = n // CARTEL_EVERY
            winner = k % len(cartel)  # rotation among the members
            floor = min(p for _, p, _ in rows)
            for j, c in enumerate(cartel):
                price = round(floor * (0.97 if j == winner else 1.01 + 0.02 * j), 2)
                rows.append(
                    (
                        c.uscc,
                        price,
                        {
                            "ip": "58.34.112.7",
                            "bond_account": cartel[0].bank_accounts[0].account_no,
                            "agent": "王建国#demo-agent",
                        },
                    )
                )
        low = min(p for _, p, _ in rows)
        for uscc, price, extra in rows:
            bids.append(
                BidRecord(
                    tid,
                    uscc,
                    price,
                    day,
                    price == low,
                    estimate,
                    ip=extra.get("ip", ""),
                    device=extra.get("device", ""),
                    bond_account=extra.get("bond_account", ""),
                    agent=extra.get("agent", ""),
                )
            )
    loaded = Loaded(bids=bids, tenders=tenders, rows=len(bids), fmt="demo")
    staff = ctx.users["staff.sh"]
    centre = ctx.centres["SH"]
    report = await svc.importing.import_history(db, loaded, centre.id, "demo:上海历史数据", actor=staff.id)
    page = await svc.alerts.search(db, ctx.who("staff.sh"), limit=100)
    alerts = sorted(page.items, key=lambda a: a.tender_key)
    if len(alerts) < 5 or report.alerts < 5:
        raise RuntimeError("the demo cartel was not detected")  # the demo must show what it promises
    ctx.highlights.append(("collusion alerts (API, with evidence)", "/api/v1/collusion/alerts", "staff.sh"))
    who_staff, who_sup = ctx.who("staff.sh"), ctx.who("supervisor")
    a_review, a_confirm, a_escalate, a_dismiss = alerts[0], alerts[1], alerts[2], alerts[3]
    await svc.alerts.start_review(db, who_staff, a_review.id)
    await svc.alerts.comment(db, who_staff, a_review.id, "已调取保证金转账凭证，待核实付款账户归属。")
    await svc.alerts.start_review(db, who_staff, a_confirm.id)
    await svc.alerts.confirm(
        db,
        who_staff,
        a_confirm.id,
        "三家投标人保证金均由同一账户转出，且由同一委托代理人办理，依法认定串通投标。",
    )
    await svc.alerts.escalate(db, who_staff, a_escalate.id, "涉及多个标段的轮流中标，移交行政监督部门处理。")
    await svc.alerts.comment(db, who_sup, a_escalate.id, "已收到，将会同市场监管部门调查。")
    await svc.alerts.start_review(db, who_staff, a_dismiss.id)
    await svc.alerts.dismiss(
        db, who_staff, a_dismiss.id, "示例：经核实该标段的共同 IP 为园区公共网络，其余证据不足。"
    )
