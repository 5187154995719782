"""Archive test set-up: a real small builder (WeasyPrint renders a one-page PDF of the tender),
one that fails a given number of times first, and a tender that has just ended."""

from __future__ import annotations

import time
import uuid
from typing import Any

from weasyprint import HTML

from archive.jobs import Archives
from archive.models import ArchiveVersion
from tenderhall.jobs import Tuning
from tests.support.tenders import draft_tender


class PdfBuilder:
    """Renders the tender's id into a real PDF (the document itself is built elsewhere)."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def build(self, tender_id: uuid.UUID) -> bytes:
        self.calls.append(time.monotonic())
        html = f"<h1>招标档案</h1><p>{tender_id}</p>"
        return HTML(string=html).write_pdf()  # type: ignore[no-any-return]


class FlakyBuilder(PdfBuilder):
    """Fails its first ``failures`` builds (as a builder whose signing service is away would)."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    async def build(self, tender_id: uuid.UUID) -> bytes:
        if len(self.calls) < self.failures:
            self.calls.append(time.monotonic())
            raise ConnectionError(f"signing service unreachable (call {len(self.calls)})")
        return await super().build(tender_id)


RUBRIC = {
    "price_method": "lowest_price",
    "items": [
        {"code": "T1", "name": "技术", "kind": "technical", "max_points": "60"},
        {"code": "P", "name": "价格", "kind": "price", "max_points": "40"},
    ],
}
FAST = Tuning(poll_seconds=0.05, retry_base_seconds=0.2, retry_max_seconds=2.0, reconcile_seconds=30.0)


def archives(services: Any, builder: Any) -> Archives:
    """The app's archive service with a test builder and a fast queue."""
    service = services.get(Archives)
    service.builder = builder
    services.jobs.tuning.__dict__.update(FAST.__dict__)
    return service


async def staff_draft(services: Any, db: Any, world: Any, title: str = "档案测试项目") -> Any:
    """A draft tender of the first centre, drafted by its staff."""
    return await draft_tender(
        services,
        db,
        world.who("staff"),
        title=title,
        estimate_fen=1_000_000,
        tenderer_id=world.tenderers[0].id,
        centre_id=world.centres[0].id,
        rubric=RUBRIC,
    )


async def ended_tender(services: Any, world: Any, *, transition: str = "terminate") -> Any:
    """A tender of the first centre that has just ended by ``transition`` (terminate a draft; or,
    for ``award``/``fail``, one set to where that transition leaves from)."""
    async with services.transaction() as db:
        tender = await staff_draft(services, db, world)
        if transition == "terminate":
            await services.tenders.terminate(db, world.who("staff"), tender.id, "预算取消")
        else:
            # The evaluation that leads here is other packages' tests; this sets where it leaves.
            tender.state = "recommended"
            await db.flush()
            await services.tenders.transition(db, tender, transition, None, {})
    return tender


async def version_of(services: Any, tender_id: uuid.UUID, number: int = 1) -> ArchiveVersion:
    from sqlalchemy import select

    async with services.transaction() as db:
        row = await db.scalar(
            select(ArchiveVersion).where(
                ArchiveVersion.tender_id == tender_id, ArchiveVersion.version == number
            )
        )
    assert row is not None
    return row
