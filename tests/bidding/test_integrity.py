"""Bidding's part of ``tenderhall check``: whole bids pass; half-written rows (what a crash in the
middle of an opening or a completion could leave if a transaction were ever split wrongly) are
named."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update

from bidding.models import Bid, BidState, UploadSession, UploadState
from tests.bidding.helpers import make_scene, seal_and_submit
from tests.bidding.live_server import integrity_problems, store_tender_document


async def test_check_names_half_written_rows(services, world, client) -> None:
    scene = await make_scene(services, world, client, bidders=1)
    await store_tender_document(services)
    await seal_and_submit(client, scene, scene.bidders[0], "whole")
    assert await integrity_problems(services) == []

    async with services.transaction() as db:
        bid = (await db.scalars(select(Bid))).one()
        await db.execute(
            update(Bid)
            .where(Bid.id == bid.id)
            .values(state=BidState.DECRYPTED.value, decrypted_at=datetime.now(UTC))
        )
        await db.execute(update(UploadSession).values(state=UploadState.COMPLETE.value, bid_id=None))
    problems = await integrity_problems(services)
    assert len(problems) == 2, problems
    assert problems[0].startswith("bid whole (")
    assert "decrypted in part" in problems[0]
    assert problems[1].startswith("upload ")
    assert problems[1].endswith("complete without its bid")
