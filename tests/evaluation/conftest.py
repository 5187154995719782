"""Evaluation fixtures: a regional pool with expert accounts and a tender that reaches `opened`.

To test evaluation alone, `open_tender` stands in for bidding's hall: it inserts the snapshot rows
(`EvaluationBid`) that bidding's `OpenedBidSource` would produce (the connected source answers
nothing for a tender without a hall, so the rows are kept).  `test_end_to_end_with_bids.py`
runs the same path on real sealed bids opened in bidding's hall.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from evaluation.models import EvaluationBid, Expert
from evaluation.result import SHEET_FORMAT, sheet_digest
from tenderhall.auth.roles import Role
from tenderhall.auth.service import subject_of
from tests.support.tenders import draft_tender

RUBRIC = {
    "price_method": "lowest_price",
    "items": [
        {"code": "T1", "name": "技术方案", "kind": "technical", "max_points": "40"},
        {"code": "C1", "name": "业绩", "kind": "commercial", "max_points": "20"},
        {"code": "P", "name": "价格", "kind": "price", "max_points": "40"},
    ],
}
PRICES = [Decimal("980000.00"), Decimal("1000000.00"), Decimal("1050000.00")]


@dataclass
class Pool:
    experts: list[Expert]
    tokens: dict[uuid.UUID, str] = field(default_factory=dict)  # expert id -> API token
    users: dict[uuid.UUID, Any] = field(default_factory=dict)

    def auth(self, expert_id: uuid.UUID | str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[uuid.UUID(str(expert_id))]}"}

    def names(self) -> list[str]:
        return [e.name for e in self.experts]


@pytest.fixture
async def pool(world: Any) -> Pool:
    """24 experts: 8 at home in 上海 (the tenderer's city), 16 from 杭州; one employed by a bidder."""
    services = world.services
    experts: list[Expert] = []
    out = Pool(experts)
    async with services.transaction() as db:
        for i in range(24):
            centre = world.centres[0] if i < 8 else world.centres[1]
            e = Expert(
                region_id=world.region.id,
                name=f"专家{i:02d}号",
                home_centre_id=centre.id,
                city=centre.city,
                employer=f"{centre.city}设计研究院",
                employer_uscc=world.companies[0].uscc if i == 23 else None,
                titles=["高级工程师"],
                specialties=["A01", "C02"] if i % 4 == 0 else ["A01"],
                email=f"expert{i:02d}@example.org",
            )
            db.add(e)
            await db.flush()
            user = await services.accounts.create_user(
                db,
                username=f"pool.expert{i:02d}",
                password="correct-horse-battery",
                role=Role.EXPERT,
                display_name=e.name,
                email=e.email,
                region_id=world.region.id,
            )
            e.user_id = user.id
            _, token = await services.accounts.create_token(db, user, "tests", None)
            out.tokens[e.id] = token
            out.users[e.id] = user
            experts.append(e)
    return out


@dataclass
class TenderFix:
    id: uuid.UUID
    reference: str
    deadline: Any


@pytest.fixture
async def tender(world: Any, clock: Any) -> TenderFix:
    """A published open tender of world.tenderers[0] at the 上海 centre, three registered bidders."""
    services = world.services
    async with services.transaction() as db:
        t = await draft_tender(
            services,
            db,
            world.who("tenderer"),
            title="门诊楼改造工程",
            estimate_fen=120_000_000,
            tenderer_id=world.tenderers[0].id,
            centre_id=world.centres[0].id,
            rubric=RUBRIC,
        )
        deadline = clock.now() + timedelta(days=21)
        await services.tenders.publish(db, world.who("tenderer"), t.id, deadline)
        for name in ("bidder", "bidder_other"):
            await services.tenders.register(db, world.who(name), t.id)
        # The third company has no account: register it directly.
        from tenderhall.tenders.models import Registration

        db.add(
            Registration(
                tender_id=t.id,
                company_id=world.companies[2].id,
                registered_by=world.users["admin"].id,
                registered_at=clock.now(),
            )
        )
    return TenderFix(t.id, t.reference, deadline)


async def open_tender(world: Any, clock: Any, tender: TenderFix) -> None:
    """Stand-in for bidding: pass the deadline, run the hall's transitions, store opened bids."""
    services = world.services
    clock.set(tender.deadline + timedelta(minutes=1))
    async with services.transaction() as db:
        t = await services.tenders.load(db, world.who("staff"), tender.id, lock=True)
        await services.tenders.transition(db, t, "start_opening", None, {})
        await services.tenders.transition(db, t, "finish_opening", None, {})
        for company, price in zip(world.companies, PRICES, strict=True):
            db.add(
                EvaluationBid(
                    tender_id=t.id,
                    company_id=company.id,
                    price=str(price),
                    is_sme=False,
                    form={"price": str(price), "duration_days": 180},
                    evidence={"credit": {"listed": False}, "bond": {"kind": "guarantee"}},
                )
            )


async def seat_committee(
    client: Any, world: Any, pool: Pool, tender: TenderFix, clock: Any, seats: dict[str, int]
) -> list[dict[str, Any]]:
    """Draw a committee through the API (committed at once, revealed at draw time) and have every
    drawn expert, and every replacement called in turn, accept without conflict; its active seats."""
    base = f"/api/v1/tenders/{tender.id}/evaluation"
    staff = world.auth("staff")
    draw_at = clock.now() + timedelta(days=20)
    r = await client.post(
        f"{base}/draws",
        headers=staff,
        json={
            "seats": seats,
            "committee_size": sum(seats.values()),
            "evaluation_date": tender.deadline.date().isoformat(),
            "draw_at": draw_at.isoformat(),
        },
    )
    assert r.status_code == 201, r.text
    clock.set(draw_at)
    r = await client.post(
        f"/api/v1/draws/{r.json()['id']}/reveal",
        headers=world.auth("supervisor"),
        json={"value": secrets.token_hex(32)},
    )
    assert r.status_code == 201, r.text
    for _ in range(3):
        for s in (await client.get(f"{base}/committee", headers=staff)).json():
            if s["status"] == "notified":
                h = pool.auth(s["expert_id"])
                r = await client.post(f"/api/v1/seats/{s['id']}/respond", headers=h, json={"accept": True})
                assert r.status_code == 201, r.text
                r = await client.post(
                    f"/api/v1/seats/{s['id']}/declaration", headers=h, json={"conflict": False}
                )
                assert r.status_code == 201, r.text
    seated = (await client.get(f"{base}/committee", headers=staff)).json()
    return [s for s in seated if s["status"] == "active"]


def make_sheet(tender_id: uuid.UUID, member: str, scores: dict[tuple[str, str], str]) -> dict[str, Any]:
    return {
        "format": SHEET_FORMAT,
        "tender": str(tender_id),
        "member": member,
        "salt": secrets.token_hex(16),
        "scores": [
            {"bidder": b, "item": i, "score": s, "comment": ""} for (b, i), s in sorted(scores.items())
        ],
    }


__all__ = ["Pool", "TenderFix", "make_sheet", "open_tender", "seat_committee", "sheet_digest", "subject_of"]


class Helpers:
    """The module's helpers, reachable from tests (test modules cannot import a conftest)."""

    open_tender = staticmethod(open_tender)
    seat_committee = staticmethod(seat_committee)
    make_sheet = staticmethod(make_sheet)
    digest = staticmethod(sheet_digest)


@pytest.fixture
def helpers() -> Helpers:
    return Helpers()
