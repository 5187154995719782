"""The archive build job on both backends: deferred after commit, built, retried with backoff,
reconciled after a crash, and a later version naming the previous hash."""

from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from archive.jobs import MAX_ATTEMPTS, STALE
from archive.models import ArchiveStatus, ArchiveVersion
from tenderhall.errors import Conflict
from tenderhall.ledger.models import LedgerEntry
from tenderhall.tenders.models import Tender
from tests.archive.helpers import FlakyBuilder, PdfBuilder, archives, ended_tender, staff_draft, version_of


async def queued(services) -> list:
    return [j for j in await services.jobs.app.job_manager.list_jobs_async() if j.status == "todo"]


@pytest.mark.parametrize("transition", ["terminate", "award", "fail"])
async def test_an_ended_tender_is_built_stored_ledgered_and_archived(services, world, transition) -> None:
    builder = PdfBuilder()
    service = archives(services, builder)
    await services.jobs.open()
    try:
        tender = await ended_tender(services, world, transition=transition)
        await services.jobs.settle()
        assert len(await queued(services)) == 1  # deferred once the transition committed
        version = await version_of(services, tender.id)
        assert (version.status, version.attempts, version.reason) == ("pending", 0, transition)

        await services.jobs.work(until_idle=True)
    finally:
        await services.jobs.close()
    version = await version_of(services, tender.id)
    assert version.status == ArchiveStatus.BUILT
    assert version.attempts == 1
    assert version.started_at is not None
    assert version.finished_at is not None
    with services.storage.open(version.storage_key) as f:
        data = f.read()
    assert data.startswith(b"%PDF-")
    assert hashlib.sha256(data).hexdigest() == version.sha256
    async with services.transaction() as db:
        entry = await db.get(LedgerEntry, version.ledger_index)
        assert entry is not None
        assert entry.kind == "archive.built"
        body = json.loads(entry.body)
        assert body["data"]["sha256"] == version.sha256
        assert body["data"]["tender"] == str(tender.id)
        assert (await db.get(Tender, tender.id)).state == "archived"
    assert len(builder.calls) == 1
    assert service.jobs is services.jobs


async def _terminate_then_fail(services, world) -> None:
    async with services.transaction() as db:
        tender = await staff_draft(services, db, world, "回滚")
        await services.tenders.terminate(db, world.who("staff"), tender.id, "取消")
        raise RuntimeError("the request fails after the transition")


async def test_a_rolled_back_ending_makes_and_defers_nothing(services, world) -> None:
    archives(services, PdfBuilder())
    await services.jobs.open()
    try:
        with pytest.raises(RuntimeError):
            await _terminate_then_fail(services, world)
        await services.jobs.settle()
        assert await queued(services) == []
        async with services.transaction() as db:
            assert await db.scalar(select(func.count()).select_from(ArchiveVersion)) == 0
    finally:
        await services.jobs.close()


async def test_a_failing_build_is_retried_with_backoff_and_shows_its_error(services, world) -> None:
    builder = FlakyBuilder(failures=2)
    archives(services, builder)
    await services.jobs.open()
    try:
        tender = await ended_tender(services, world)
        await services.jobs.settle()
        await services.jobs.work(until_idle=True)  # the first attempt fails; the retry is not due yet
        version = await version_of(services, tender.id)
        assert (version.status, version.attempts) == ("pending", 1)
        assert version.last_error == "ConnectionError: signing service unreachable (call 1)"
        for _ in range(100):
            await services.jobs.work(until_idle=True)
            if (await version_of(services, tender.id)).status == ArchiveStatus.BUILT:
                break
            await asyncio.sleep(0.05)
    finally:
        await services.jobs.close()
    version = await version_of(services, tender.id)
    assert (version.status, version.attempts, version.last_error) == ("built", 3, None)
    gaps = [b - a for a, b in zip(builder.calls, builder.calls[1:], strict=False)]
    base = services.jobs.tuning.retry_base_seconds
    assert gaps[0] >= base * 0.9
    assert gaps[1] >= 2 * base * 0.9


async def test_a_build_that_keeps_failing_ends_failed_with_its_attempts(services, world) -> None:
    archives(services, FlakyBuilder(failures=100))
    services.jobs.tuning.retry_base_seconds = 0.02
    await services.jobs.open()
    try:
        tender = await ended_tender(services, world)
        await services.jobs.settle()
        for _ in range(200):
            await services.jobs.work(until_idle=True)
            if (await version_of(services, tender.id)).status == ArchiveStatus.FAILED:
                break
            await asyncio.sleep(0.05)
        assert await queued(services) == []  # given up: no retry waits
    finally:
        await services.jobs.close()
    version = await version_of(services, tender.id)
    assert (version.status, version.attempts) == ("failed", MAX_ATTEMPTS)
    assert version.last_error.startswith("ConnectionError: signing service unreachable")
    async with services.transaction() as db:
        assert (await db.get(Tender, tender.id)).state == "terminated"


async def test_the_reconciler_defers_again_what_a_crash_lost(services, world, clock) -> None:
    # The tender ends while no queue runs (the process dies before deferring, or runs none).
    builder = PdfBuilder()
    archives(services, builder)
    tender = await ended_tender(services, world)
    other = await ended_tender(services, world)
    async with services.transaction() as db:  # a worker died while building the other one
        version = await db.scalar(select(ArchiveVersion).where(ArchiveVersion.tender_id == other.id))
        version.status, version.attempts, version.started_at = "building", 1, clock.now()
    try:
        await services.jobs.work(until_idle=True)  # a worker starts: reconcile, then work
        assert (await version_of(services, tender.id)).status == ArchiveStatus.BUILT
        crashed = await version_of(services, other.id)
        if services.jobs.durable:
            # On PostgreSQL another worker may be building it: only a stale one is taken back.
            assert crashed.status == ArchiveStatus.BUILDING
            clock.advance(STALE + timedelta(seconds=1))
            assert await services.jobs.reconcile() == 1
            await services.jobs.work(until_idle=True)
        crashed = await version_of(services, other.id)
        assert (crashed.status, crashed.attempts) == ("built", 2)
        assert await services.jobs.reconcile(at_start=True) == 0  # nothing left to do
    finally:
        await services.jobs.close()


async def test_a_later_version_names_the_previous_hash(services, world) -> None:
    service = archives(services, PdfBuilder())
    tender = await ended_tender(services, world)
    async with services.transaction() as db:
        with pytest.raises(Conflict) as refused:  # not archived yet
            await service.new_version(db, tender.id, "objection_answered")
    assert getattr(refused.value, "key", None) == "archive.not_archived"
    try:
        await services.jobs.work(until_idle=True)
        first = await version_of(services, tender.id)
        async with services.transaction() as db:
            second = await service.new_version(db, tender.id, "objection_answered")
            assert (second.version, second.previous_sha256) == (2, first.sha256)
        await services.jobs.work(until_idle=True)
    finally:
        await services.jobs.close()
    second = await version_of(services, tender.id, 2)
    assert second.status == ArchiveStatus.BUILT
    assert second.previous_sha256 == first.sha256
    assert (await version_of(services, tender.id)).sha256 == first.sha256  # the first stays
