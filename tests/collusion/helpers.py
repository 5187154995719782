"""Shared set-up for the collusion database tests: imported history among the world's companies and
an opened platform tender."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from collusion.importing import ImportReport
from collusion.offline import Loaded
from collusion.records import BidRecord, TenderRecord
from collusion.service import Collusion
from collusion.sources import BidEvidence
from tenderhall.tenders.models import Tender


def collusion(services: Any) -> Collusion:
    return services.get(Collusion)


def history(world: Any, n: int = 6) -> Loaded:
    """n tenders: companies 0 and 1 pay bonds from one account (hard), company 2 and outsiders honest."""
    a, b, c = (x.uscc for x in world.companies)
    bids: list[BidRecord] = []
    tenders: dict[str, TenderRecord] = {}
    for i in range(n):
        tid = f"OLD-{i:03d}"
        day = dt.date(2024, 1, 1) + dt.timedelta(days=30 * i)
        tenders[tid] = TenderRecord(tid, day, estimate=2e6)
        rows = [
            (a, 1_800_000.0 + 1000 * i, "6222-0001"),
            (b, 1_900_000.0 + 1700 * i, "6222-0001"),
            (c, 1_870_000.0 + 900 * i, "6222-0003"),
            (f"EXT-{i}", 1_700_000.0 if i % 2 else 1_990_000.0 - 3300 * i, f"6222-9{i}"),
        ]
        low = min(p for _, p, _ in rows)
        for k, (firm, price, acct) in enumerate(rows):
            bids.append(
                BidRecord(tid, firm, price, day, price == low, 2e6, bond_account=acct, ip=f"10.0.{i}.{k}")
            )
    return Loaded(bids=bids, tenders=tenders, rows=len(bids), fmt="test")


async def import_history(services: Any, world: Any, n: int = 6) -> ImportReport:
    async with services.transaction() as db:
        return await collusion(services).importing.import_history(
            db, history(world, n), world.centres[0].id, "import:test.csv", actor=world.users["staff"].id
        )


async def opening_tender(db: AsyncSession, world: Any, ref: str = "SH-2026-0001", centre: int = 0) -> Tender:
    tender = Tender(
        centre_id=world.centres[centre].id,
        reference=ref,
        title="门诊楼改造工程",
        procedure="open_tender",
        state="opening",
        tenderer_id=world.tenderers[0].id,
        created_by=world.users["staff"].id,
        estimate_fen=200_000_000,
        rubric={},
        opening_at=dt.datetime(2026, 3, 2, 2, tzinfo=dt.UTC),
    )
    db.add(tender)
    await db.flush()
    return tender


class ListSource:
    """Stands in for bidding's source: the opened bids of tenders it was given."""

    def __init__(self) -> None:
        self.bids: dict[uuid.UUID, Sequence[BidEvidence]] = {}

    async def opened_bid_evidence(self, db: AsyncSession, tender_id: uuid.UUID) -> Sequence[BidEvidence]:
        return self.bids.get(tender_id, [])
