"""The platform's job queue, on procrastinate (docs/architecture.md, "How to add a job").

Production (PostgreSQL, several app workers): jobs live in procrastinate's tables (created by our
Alembic revision ``0010_jobs``); a worker takes a job with ``FOR UPDATE SKIP LOCKED``, so each job
runs in one worker only, and a job waiting for its retry is a row that survives a restart.  The
embedded default (SQLite, one process) runs the same interface on procrastinate's in-memory
connector; what makes it durable there is our own state: each domain keeps its work's state in
its tables (e.g. an archive version is ``pending``) and registers a *reconciler* that re-defers
what that state says is unfinished.  Reconcilers run when a worker starts and periodically, on
both backends (on PostgreSQL they also catch a job lost between a commit and its defer; the
job's queueing lock keeps a second copy out of the queue).

Jobs are deferred after the unit of work commits (:meth:`Jobs.defer_after_commit`), so a
rolled-back request defers nothing.  A process that runs no queue (a command, a test without the
app's lifespan) defers nothing either: its work stays pending in the tables until a worker's
reconciler picks it up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import procrastinate
from procrastinate import testing
from procrastinate.exceptions import AlreadyEnqueued
from procrastinate.jobs import Job
from procrastinate.retry import BaseRetryStrategy, RetryDecision
from sqlalchemy.ext.asyncio import AsyncSession

from tenderhall.db.unit_of_work import after_commit

__all__ = ["Backoff", "GiveUp", "Jobs", "Reconciler", "Tuning"]

log = logging.getLogger("tenderhall.jobs")

# A reconciler re-defers the work its domain's tables say is unfinished and answers how many it
# deferred; ``at_start`` is true when the worker (re)starts, so work that was running when the
# process died (on SQLite) counts as unfinished.
Reconciler = Callable[[bool], Awaitable[int]]


class GiveUp(Exception):
    """A job's failure that must not be retried (the job has recorded why)."""


@dataclass
class Tuning:
    """Timings of the queue; tests shorten them."""

    poll_seconds: float = 2.0  # the longest a worker waits before looking for due jobs
    retry_base_seconds: float = 10.0  # the first retry's delay; each next one doubles it
    retry_max_seconds: float = 3600.0
    max_attempts: int = 8  # runs of one deferred job (a domain may give up sooner: GiveUp)
    reconcile_seconds: float = 60.0
    concurrency: int = 2


class Backoff(BaseRetryStrategy):
    """Exponential backoff: base, 2·base, 4·base … up to a cap; never after :class:`GiveUp`."""

    def __init__(self, tuning: Tuning) -> None:
        self.tuning = tuning

    def delay(self, attempts: int) -> float:
        """Seconds before the retry that follows ``attempts`` failed runs (0-based)."""
        return float(min(self.tuning.retry_max_seconds, self.tuning.retry_base_seconds * 2**attempts))

    def get_retry_decision(self, *, exception: BaseException, job: Job) -> RetryDecision | None:
        if isinstance(exception, GiveUp) or job.attempts + 1 >= self.tuning.max_attempts:
            return None
        return RetryDecision(retry_at=datetime.now(UTC) + timedelta(seconds=self.delay(job.attempts)))


def _dsn(database_url: str) -> str:
    """libpq's form of a SQLAlchemy URL (``postgresql+asyncpg://…`` → ``postgresql://…``)."""
    return "postgresql://" + database_url.split("://", 1)[1]


class Jobs:
    """The queue of one process: its registered jobs, reconcilers and (when started) worker."""

    def __init__(self, database_url: str, tuning: Tuning | None = None) -> None:
        self.durable = not database_url.startswith("sqlite")
        self.tuning = tuning or Tuning()
        connector: Any = (
            procrastinate.PsycopgConnector(conninfo=_dsn(database_url), min_size=1, max_size=4)
            if self.durable
            else testing.InMemoryConnector()
        )
        self.app = procrastinate.App(connector=connector)
        self.reconcilers: list[Reconciler] = []
        self._open = False
        self._deferring: set[asyncio.Task[None]] = set()

    # -- declaring -------------------------------------------------------------------------
    def register(self, name: str, run: Callable[..., Awaitable[None]]) -> None:
        """A job kind: ``run(**args)`` runs one job; an exception retries it with backoff."""
        self.app.task(name=name, retry=Backoff(self.tuning))(run)

    def add_reconciler(self, reconciler: Reconciler) -> None:
        self.reconcilers.append(reconciler)

    # -- opening ---------------------------------------------------------------------------
    @property
    def is_open(self) -> bool:
        return self._open

    async def open(self) -> None:
        if not self._open:
            await self.app.open_async()
            self._open = True

    async def close(self) -> None:
        await self.settle()
        if self._open:
            self._open = False
            await self.app.close_async()

    # -- deferring -------------------------------------------------------------------------
    async def defer(self, name: str, /, *, lock: str | None = None, **args: Any) -> bool:
        """Queue a job now; answers False if one with the same ``lock`` is already waiting.

        ``lock`` is both procrastinate's lock (jobs sharing it never run at the same time) and
        its queueing lock (at most one such job waits in the queue)."""
        await self.open()
        try:
            deferrer = self.app.configure_task(name, allow_unknown=False, lock=lock, queueing_lock=lock)
            await deferrer.defer_async(**args)
        except AlreadyEnqueued:
            return False
        return True

    def defer_after_commit(
        self, db: AsyncSession, name: str, /, *, lock: str | None = None, **args: Any
    ) -> None:
        """Queue a job once ``db`` commits; nothing if it rolls back, or if this process runs no
        queue (the reconciler then defers it from the domain's own state)."""
        if not self._open:
            return

        def go() -> None:
            task = asyncio.get_running_loop().create_task(self._defer_logged(name, lock, args))
            self._deferring.add(task)
            task.add_done_callback(self._deferring.discard)

        after_commit(db, go, key=("job", name, lock) if lock else None)

    async def _defer_logged(self, name: str, lock: str | None, args: dict[str, Any]) -> None:
        try:
            await self.defer(name, lock=lock, **args)
        except Exception:  # the work stays pending in its tables: the next reconcile defers it
            log.exception("deferring %s failed", name)

    async def settle(self) -> None:
        """Wait until the defers that commits started have reached the queue."""
        while self._deferring:
            await asyncio.gather(*list(self._deferring), return_exceptions=True)

    # -- working ---------------------------------------------------------------------------
    async def reconcile(self, at_start: bool = False) -> int:
        """Re-defer what the domains' tables say is unfinished; on PostgreSQL also put back the
        jobs of workers that died while running them (no heartbeat)."""
        await self.open()
        count = 0
        if self.durable:
            manager = self.app.job_manager
            for job in await manager.get_stalled_jobs():
                await manager.retry_job(job)
                count += 1
        for reconciler in self.reconcilers:
            try:
                count += await reconciler(at_start)
            except Exception:  # one domain's failure must not stop the others' work
                log.exception("reconciler %s failed", getattr(reconciler, "__qualname__", reconciler))
        return count

    async def work(self, *, name: str = "tenderhall", until_idle: bool = False) -> None:
        """Run a worker: reconcile, then take jobs (and reconcile periodically) until cancelled,
        or, with ``until_idle``, until no job is due."""
        await self.open()
        await self.reconcile(at_start=True)
        options: dict[str, Any] = {
            "name": name,
            "concurrency": self.tuning.concurrency,
            "install_signal_handlers": False,
            "fetch_job_polling_interval": self.tuning.poll_seconds,
            "listen_notify": self.durable,
            "delete_jobs": "successful",
        }
        if until_idle:
            await self.app.run_worker_async(wait=False, **options)
            return
        worker = asyncio.create_task(self.app.run_worker_async(wait=True, **options))
        try:
            while not worker.done():
                await asyncio.wait({worker}, timeout=self.tuning.reconcile_seconds)
                if not worker.done():
                    try:
                        await self.reconcile()
                    except Exception:  # e.g. the database away for a moment: try again next time
                        log.exception("periodic reconcile failed")
            worker.result()  # a worker that stopped by itself: say why
        finally:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker
