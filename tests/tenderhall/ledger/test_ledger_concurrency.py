"""Concurrent appends on PostgreSQL: the head row lock must hand out contiguous indices.

Each task runs its transactions on its own connections (the test settings use NullPool, so every
session opens a fresh one), half of them keeping one session across transactions, half reading
the tree head before appending, as use cases do.  SQLite serialises writers with BEGIN IMMEDIATE,
so only PostgreSQL has anything to prove here.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import select

from tenderhall.ledger.models import LedgerEntry
from tenderhall.ledger.service import verify_log
from tenderhall.services import Services

TASKS = 8
PER_TASK = 50


class Boom(Exception):
    """Fails a transaction after its append, so the append must vanish."""


def require_postgresql(services: Services) -> None:
    if services.settings.is_sqlite:
        pytest.skip(
            "concurrent appends are a PostgreSQL property (SQLite serialises writers); "
            "run with TENDERHALL_TEST_BACKENDS=sqlite,postgresql"
        )


def doomed(task: int, seq: int, fail_every: int) -> bool:
    return bool(fail_every) and seq % fail_every == task % fail_every


async def worker(
    services: Services, task: int, start: asyncio.Event, fail_every: int
) -> list[tuple[int, int]]:
    """Appends PER_TASK events, one per transaction; returns (index, seq) of those committed."""
    committed: list[tuple[int, int]] = []
    reuse = task % 2 == 0
    shared = services.sessionmaker() if reuse else None
    await start.wait()
    try:
        for seq in range(PER_TASK):
            session = shared or services.sessionmaker()
            try:
                async with session.begin():
                    if task % 4 < 2:
                        await services.ledger.tree_head(session)  # an unlocked read before the lock
                    appended = await services.ledger.append(session, "race", {"task": task, "seq": seq})
                    if doomed(task, seq, fail_every):
                        raise Boom
                committed.append((appended.index, seq))
            except Boom:
                pass
            finally:
                if shared is None:
                    await session.close()
            await asyncio.sleep(0)
    finally:
        if shared is not None:
            await shared.close()
    return committed


async def race(services: Services, fail_every: int) -> None:
    async with services.sessionmaker() as db:
        base, _ = await services.ledger.tree_head(db)
    start = asyncio.Event()
    tasks = [asyncio.create_task(worker(services, t, start, fail_every)) for t in range(TASKS)]
    await asyncio.sleep(0.05)  # let every task reach the start line
    start.set()
    results = await asyncio.gather(*tasks)

    indices = sorted(index for done in results for index, _ in done)
    expected_total = sum(not doomed(t, s, fail_every) for t in range(TASKS) for s in range(PER_TASK))
    assert len(indices) == expected_total
    assert indices == list(range(base, base + expected_total)), "gaps or duplicates"
    async with services.sessionmaker() as db:
        rows = (await db.execute(select(LedgerEntry).where(LedgerEntry.id >= base))).scalars().all()
        stored = {row.id: json.loads(row.body)["data"] for row in rows}
        report = await verify_log(db, services.ledger.verifier, services.ledger.origin)
        size, _ = await services.ledger.tree_head(db)
    # Exactly the committed events are stored, each under the index its transaction was told.
    assert stored == {
        index: {"task": task, "seq": seq} for task, done in enumerate(results) for index, seq in done
    }
    assert size == base + expected_total
    assert report.ok, report.problem


async def test_concurrent_appends_are_contiguous(services: Services) -> None:
    require_postgresql(services)
    await race(services, fail_every=0)


async def test_concurrent_appends_with_rollbacks(services: Services) -> None:
    require_postgresql(services)
    await race(services, fail_every=7)  # about one transaction in seven rolls back after appending
