"""List pages run a constant number of SQL statements, whatever their length.

Each list (the API's tender list, the home page) is requested with 2 tenders and with 12, as an
anonymous visitor, a bidder registered for some of them and centre staff, and the statements the
request sent to the database are counted (SQLAlchemy's ``before_cursor_execute``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tenderhall.tenders.models import TenderDocument
from tenderhall.tenders.service import TenderDraft
from tests.tenderhall.db.statements import recorded

RUBRIC = {
    "price_method": "lowest_price",
    "items": [
        {"code": "T1", "name": "技术方案", "kind": "technical", "max_points": "70"},
        {"code": "P", "name": "价格", "kind": "price", "max_points": "30"},
    ],
}
# Statements one list request may run: sign-in, count, page, documents, registrations, and a
# transaction's BEGIN where the driver sends it as a statement.
BOUND = 8
LISTS = [("/api/v1/tenders", {}), ("/", {"accept": "text/html"})]
CALLERS = [None, "bidder", "staff"]


async def add_tenders(services: Any, world: Any, clock: Any, n: int) -> None:
    """``n`` tenders over two centres, with a document each: most published, every fourth still a
    draft (staff see their centre's drafts), the bidder registered for every third."""
    for i in range(n):
        tenderer = world.tenderers[0]
        centre = world.centres[i % 2]
        async with services.transaction() as db:
            who = world.who("staff" if centre == world.centres[0] else "staff_other")
            tender = await services.tenders.create(
                db,
                who,
                TenderDraft(
                    title=f"工程{i}",
                    procedure="open_tender",
                    estimate_fen=(i + 1) * 100_000_00,
                    tenderer_id=tenderer.id,
                    rubric=RUBRIC,
                    agency_id=world.agency.id if i % 3 else None,
                ),
            )
            db.add(
                TenderDocument(
                    tender_id=tender.id,
                    name="招标文件.pdf",
                    media_type="application/pdf",
                    sha256="0" * 64,
                    size=1,
                )
            )
            await db.flush()
            await db.refresh(tender, ["documents"])
            if i % 4 == 3:
                continue
            await services.tenders.publish(db, who, tender.id, clock.now() + timedelta(days=25))
            if i % 3 == 0:
                await services.tenders.register(db, world.who("bidder"), tender.id)


async def statements_for(
    client: Any, services: Any, world: Any, path: str, headers: dict[str, str], who: Any
) -> int:
    auth = world.auth(who) if who else {}
    with recorded(services) as statements:
        response = await client.get(path, headers={**headers, **auth})
    assert response.status_code == 200, response.text
    return len(statements)


@pytest.mark.parametrize(("path", "headers"), LISTS, ids=["api", "home"])
async def test_lists_run_the_same_statements_for_2_and_12_tenders(
    client: Any, services: Any, world: Any, clock: Any, path: str, headers: dict[str, str]
) -> None:
    await add_tenders(services, world, clock, 2)
    few = {who: await statements_for(client, services, world, path, headers, who) for who in CALLERS}
    await add_tenders(services, world, clock, 10)
    many = {who: await statements_for(client, services, world, path, headers, who) for who in CALLERS}
    print(path, "2 tenders:", few, "12 tenders:", many)
    assert many == few
    assert max(many.values()) <= BOUND, many
