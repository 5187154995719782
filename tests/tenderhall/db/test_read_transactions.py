"""Read transactions take no write lock and cannot write; writing ones still serialize.

Real concurrency on real connections (the test settings use no pool, so every session has its
own): a writer holds a tender's lock (SQLite: the database's write lock, from ``BEGIN
IMMEDIATE``; PostgreSQL: the row lock) while a reader and a second writer try.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from tenderhall.db.engine import ReadOnlyViolation, make_engine, read_only
from tenderhall.orgs.models import Region
from tenderhall.tenders.models import Tender
from tests.tenderhall.db.statements import recorded
from tests.tenderhall.tenders.test_tender_api import published as published_tender

PATIENCE = 5.0  # seconds a read may take while the writer holds the lock (it takes milliseconds)
BLOCKED = 0.5  # seconds a second writer is watched to be still waiting


async def test_reads_run_beside_a_writer_and_writers_queue(client, services, world, clock) -> None:
    tender_id = uuid.UUID((await published_tender(client, world, clock))["id"])
    staff = world.who("staff")
    async with services.transaction() as writer:
        locked = await services.tenders.load(writer, staff, tender_id, lock=True)
        locked.title = "改名中"
        await writer.flush()  # the writer now holds the lock and an uncommitted change

        async def read() -> str:
            async with services.reader() as db:
                seen, _ = await services.tenders.view(db, staff, tender_id)
                return seen.title

        # The reader neither waits for the writer nor sees its uncommitted change.
        assert await asyncio.wait_for(read(), PATIENCE) == "门诊楼改造工程"

        async def write() -> str:
            async with services.transaction() as db:
                return (await services.tenders.load(db, staff, tender_id, lock=True)).title

        second = asyncio.create_task(write())
        await asyncio.sleep(BLOCKED)
        assert not second.done(), "a second writer went ahead while the first held the lock"
    # The first writer has committed: the second proceeds and sees its change.
    assert await asyncio.wait_for(second, PATIENCE) == "改名中"


async def test_a_read_session_cannot_write(services, world) -> None:
    async with services.reader() as db:
        assert (await db.scalar(select(Region.code).where(Region.id == world.region.id))) == "YRD"
        with pytest.raises(ReadOnlyViolation):
            await db.execute(update(Region).where(Region.id == world.region.id).values(name="改"))
    async with services.reader() as db:
        db.add(Region(code="NEW", name="新区域"))
        with pytest.raises(ReadOnlyViolation):
            await db.flush()


async def test_a_pooled_connection_writes_again_after_a_read(database_url, world) -> None:
    """The read-only option belongs to the read transaction only, not to the pooled connection."""
    engine = make_engine(database_url, pool_size=1, max_overflow=0)
    try:
        reader = async_sessionmaker(read_only(engine))
        writer = async_sessionmaker(engine)
        for _ in range(2):
            async with reader() as db:
                await db.execute(text("SELECT 1"))
            async with writer() as db, db.begin():
                await db.execute(update(Region).where(Region.id == world.region.id).values(name="长三角区域"))
        async with reader() as db:
            assert await db.scalar(select(Region.name).where(Region.id == world.region.id)) == "长三角区域"
    finally:
        await engine.dispose()


async def test_the_statements_of_reads_and_writes(client, services, world, clock) -> None:
    """A read session begins without a lock; a writing one still with ``BEGIN IMMEDIATE`` on
    SQLite (on PostgreSQL the driver begins, and a locking read says ``FOR UPDATE``)."""
    tender_id = uuid.UUID((await published_tender(client, world, clock))["id"])
    sqlite = services.engine.dialect.name == "sqlite"
    with recorded(services) as sent:
        async with services.reader() as db:
            await services.tenders.view(db, world.who("staff"), tender_id)
        reads = list(sent)
        sent.clear()
        async with services.transaction() as db:
            await services.tenders.load(db, world.who("staff"), tender_id, lock=True)
        writes = list(sent)
    assert not any("FOR UPDATE" in s or "IMMEDIATE" in s for s in reads), reads
    if sqlite:
        assert reads[0] == "BEGIN"
        assert writes[0] == "BEGIN IMMEDIATE"
    else:
        assert any("FOR UPDATE" in s for s in writes), writes
    assert (await _state(services, tender_id)) == "published"


async def _state(services: Any, tender_id: Any) -> str:
    async with services.reader() as db:
        return str(await db.scalar(select(Tender.state).where(Tender.id == tender_id)))
