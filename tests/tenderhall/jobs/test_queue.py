"""The kernel's job queue: after-commit deferral, backoff, and on PostgreSQL durability across a
worker restart and one run per job however many workers take from the queue."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime

import pytest
from procrastinate.jobs import Job

from tenderhall.jobs import Backoff, GiveUp, Jobs, Tuning

FAST = Tuning(poll_seconds=0.05, retry_base_seconds=0.2, retry_max_seconds=1.0, concurrency=4)


def _job(attempts: int) -> Job:
    return Job(id=1, queue="default", lock=None, queueing_lock=None, task_name="t", attempts=attempts)


def test_backoff_doubles_up_to_its_cap_and_stops() -> None:
    backoff = Backoff(Tuning(retry_base_seconds=10, retry_max_seconds=60, max_attempts=5))
    assert [backoff.delay(n) for n in range(5)] == [10, 20, 40, 60, 60]
    decision = backoff.get_retry_decision(exception=OSError("x"), job=_job(1))
    assert decision is not None
    assert isinstance(decision.retry_at, datetime)
    assert backoff.get_retry_decision(exception=GiveUp("recorded"), job=_job(0)) is None
    assert backoff.get_retry_decision(exception=OSError("x"), job=_job(4)) is None  # 5 runs made


async def todo(jobs: Jobs) -> list[Job]:
    return [j for j in await jobs.app.job_manager.list_jobs_async() if j.status == "todo"]


async def _defer_then_fail(services, jobs: Jobs) -> None:
    async with services.transaction() as db:
        jobs.defer_after_commit(db, "test.record", n=1)
        raise RuntimeError("rolled back")


async def test_a_job_is_deferred_only_when_the_unit_of_work_commits(services) -> None:
    jobs = Jobs(services.settings.database_url, FAST)
    ran: list[int] = []

    async def record(n: int) -> None:
        ran.append(n)

    jobs.register("test.record", record)
    await jobs.open()
    try:
        with pytest.raises(RuntimeError):
            await _defer_then_fail(services, jobs)
        async with services.transaction() as db:
            jobs.defer_after_commit(db, "test.record", n=2)
            await jobs.settle()
            assert await todo(jobs) == []  # not before the commit either
        await jobs.settle()
        assert [j.task_kwargs for j in await todo(jobs)] == [{"n": 2}]
        await jobs.work(until_idle=True)
        assert ran == [2]
    finally:
        await jobs.close()


async def test_a_closed_queue_defers_nothing_and_a_lock_queues_once(services) -> None:
    jobs = Jobs(services.settings.database_url, FAST)

    async def noop() -> None:
        return None

    jobs.register("test.noop", noop)
    async with services.transaction() as db:
        jobs.defer_after_commit(db, "test.noop")  # no queue runs here: the reconciler's work
    try:
        await jobs.open()
        assert await todo(jobs) == []
        assert await jobs.defer("test.noop", lock="k") is True
        assert await jobs.defer("test.noop", lock="k") is False  # one waits already
        assert len(await todo(jobs)) == 1
    finally:
        await jobs.close()


def _pg(services) -> None:
    if not services.jobs.durable:
        pytest.skip("the queue is durable on PostgreSQL; SQLite's is made durable by reconcilers")


async def test_a_deferred_and_a_retrying_job_survive_a_worker_restart(services) -> None:
    _pg(services)
    url = services.settings.database_url
    runs: Counter[str] = Counter()

    def queue() -> Jobs:
        jobs = Jobs(url, FAST)

        async def flaky(name: str) -> None:
            runs[name] += 1
            if name == "flaky" and runs[name] == 1:
                raise ConnectionError("first run fails")

        jobs.register("test.flaky", flaky)
        return jobs

    first = queue()
    try:
        await first.defer("test.flaky", name="flaky")
        await first.work(until_idle=True)  # fails once; its retry waits in the table
        await first.defer("test.flaky", name="later")  # deferred, never run by this worker
    finally:
        await first.close()  # the worker process ends
    assert runs == {"flaky": 1}

    await asyncio.sleep(FAST.retry_base_seconds + 0.1)
    second = queue()  # a new process: nothing in memory
    try:
        await second.work(until_idle=True)
        assert runs == {"flaky": 2, "later": 1}
        assert await todo(second) == []
    finally:
        await second.close()


async def test_two_workers_never_run_one_job_twice(services) -> None:
    _pg(services)
    url = services.settings.database_url
    runs: list[tuple[str, int]] = []

    def worker(name: str) -> Jobs:
        jobs = Jobs(url, FAST)

        async def work(n: int) -> None:
            runs.append((name, n))
            await asyncio.sleep(0.01)  # long enough for the other worker to look for jobs

        jobs.register("test.work", work)
        return jobs

    a, b = worker("a"), worker("b")
    try:
        for n in range(60):
            await a.defer("test.work", n=n)
        await asyncio.gather(a.work(name="a", until_idle=True), b.work(name="b", until_idle=True))
    finally:
        await a.close()
        await b.close()
    counts = Counter(n for _, n in runs)
    assert sorted(counts) == list(range(60))
    assert set(counts.values()) == {1}
    assert {name for name, _ in runs} == {"a", "b"}  # both took jobs
