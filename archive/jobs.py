"""Building a tender's archive in the background (issue 9 point 5).

When a tender ends (``award``, ``fail`` or ``terminate``) the transition's own transaction adds a
``pending`` :class:`ArchiveVersion` and defers the build job once that transaction commits.  The
job asks the :class:`ArchiveBuilder` for the signed file, stores it, writes its SHA-256 to the
ledger, marks the version built and moves the tender to ``archived`` — whichever way it ended:
a failed (流标) or terminated tender is archived with what happened up to its end, as the
lifecycle allows ``archive`` from all three.  A failure is retried with exponential backoff;
the version shows its attempts and last error, and after ``MAX_ATTEMPTS`` it is ``failed``
(``tenderhall archive build`` tries again).  The version row is the durable state: the
reconciler defers again what is still pending (after a restart on SQLite, whose queue is in
process, or a defer lost between a commit and the queue on PostgreSQL).

A later event on an archived tender makes a new version that names the previous built one's
hash (:meth:`Archives.new_version`).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from archive.models import ArchiveStatus, ArchiveVersion
from archive.ports import ArchiveBuilder
from tenderhall.clock import Clock
from tenderhall.errors import Conflict
from tenderhall.jobs import GiveUp, Jobs
from tenderhall.ledger.service import Ledger
from tenderhall.storage import Storage
from tenderhall.tenders.lifecycle import TRANSITIONS, TenderState
from tenderhall.tenders.models import Tender
from tenderhall.tenders.service import Tenders

log = logging.getLogger("archive.jobs")

BUILD_JOB = "archive.build"
# The transitions that end a tender, and so start its archive.
ENDINGS = frozenset({"award", "fail", "terminate"})
MAX_ATTEMPTS = 5
# A version ``building`` for longer than this lost its worker (a build takes seconds).
STALE = timedelta(minutes=15)
MAX_ARCHIVE_BYTES = 1024 * 1024 * 1024
MAX_ERROR_CHARS = 2000


class ArchiveBuildError(Exception):
    """The builder answered something that is not an archive."""


def job_lock(tender_id: uuid.UUID) -> str:
    """One build of a tender's archive at a time, and one waiting in the queue."""
    return f"archive:{tender_id}"


def describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "…"


async def _one(data: bytes) -> AsyncIterator[bytes]:
    yield data


class Archives:
    def __init__(
        self,
        clock: Clock,
        ledger: Ledger,
        storage: Storage,
        tenders: Tenders,
        jobs: Jobs,
        sessionmaker: async_sessionmaker[AsyncSession],
        builder: ArchiveBuilder,
    ) -> None:
        self.clock = clock
        self.ledger = ledger
        self.storage = storage
        self.tenders = tenders
        self.jobs = jobs
        self.sessionmaker = sessionmaker
        self.builder = builder

    def attach(self) -> None:
        """Register the kernel hooks: the transition listener, the job and its reconciler."""
        self.tenders.add_listener(self.on_transition)
        self.jobs.register(BUILD_JOB, self.run)
        self.jobs.add_reconciler(self.reconcile)

    # -- starting versions -------------------------------------------------------------------
    async def on_transition(self, db: AsyncSession, tender: Tender, transition: str) -> None:
        if transition in ENDINGS:
            await self.start(db, tender.id, reason=transition)

    async def versions(self, db: AsyncSession, tender_id: uuid.UUID) -> Sequence[ArchiveVersion]:
        """Every version of the tender's archive, newest first."""
        rows = await db.scalars(
            select(ArchiveVersion)
            .where(ArchiveVersion.tender_id == tender_id)
            .order_by(ArchiveVersion.version.desc())
        )
        return rows.all()

    async def start(self, db: AsyncSession, tender_id: uuid.UUID, reason: str) -> ArchiveVersion:
        """A pending version (the next number, naming the last built version's hash), built by a
        job deferred once ``db`` commits."""
        last = await db.scalar(
            select(func.max(ArchiveVersion.version)).where(ArchiveVersion.tender_id == tender_id)
        )
        previous = await db.scalar(
            select(ArchiveVersion.sha256)
            .where(ArchiveVersion.tender_id == tender_id, ArchiveVersion.status == ArchiveStatus.BUILT.value)
            .order_by(ArchiveVersion.version.desc())
            .limit(1)
        )
        version = ArchiveVersion(
            tender_id=tender_id,
            version=(last or 0) + 1,
            status=ArchiveStatus.PENDING.value,
            reason=reason,
            attempts=0,
            previous_sha256=previous,
        )
        db.add(version)
        await db.flush()
        self.defer(db, version)
        return version

    def defer(self, db: AsyncSession, version: ArchiveVersion) -> None:
        self.jobs.defer_after_commit(
            db, BUILD_JOB, lock=job_lock(version.tender_id), version_id=str(version.id)
        )

    async def new_version(self, db: AsyncSession, tender_id: uuid.UUID, reason: str) -> ArchiveVersion:
        """After a late event on an archived tender (an objection answered after the award, a
        confirmed collusion finding): a new version that names the previous one's hash.  The
        built versions stay as they are."""
        tender = await db.scalar(select(Tender).where(Tender.id == tender_id).with_for_update())
        if tender is None or tender.state != TenderState.ARCHIVED.value:
            raise Conflict("archive.not_archived")
        return await self.start(db, tender_id, reason=reason)

    # -- the job ---------------------------------------------------------------------------
    async def run(self, version_id: str) -> None:
        """Build one version (the job; also ``tenderhall archive build``)."""
        claimed = await self._claim(uuid.UUID(version_id))
        if claimed is None:
            return  # built (or given up) meanwhile
        version, attempt = claimed
        try:
            data = await self.builder.build(version.tender_id)
            if not isinstance(data, bytes) or not data.startswith(b"%PDF-"):
                raise ArchiveBuildError("the builder did not answer a PDF file")
            if len(data) > MAX_ARCHIVE_BYTES:
                raise ArchiveBuildError(f"the archive is larger than {MAX_ARCHIVE_BYTES} bytes")
            stored = await self.storage.put(_one(data), MAX_ARCHIVE_BYTES)
            await self._finish(version.id, attempt, stored.key, stored.sha256, stored.size)
        except Exception as exc:
            final = await self._failed(version.id, attempt, exc)
            if final:
                raise GiveUp(describe(exc)) from exc
            raise

    async def _claim(self, version_id: uuid.UUID) -> tuple[ArchiveVersion, int] | None:
        async with self.sessionmaker() as db, db.begin():
            version = await db.scalar(
                select(ArchiveVersion).where(ArchiveVersion.id == version_id).with_for_update()
            )
            if version is None or version.status not in (ArchiveStatus.PENDING, ArchiveStatus.BUILDING):
                return None
            # A version still ``building`` here lost its worker: the job's lock lets one build of
            # a tender's archive run at a time, so nobody else is building it.
            version.status = ArchiveStatus.BUILDING.value
            version.attempts += 1
            version.started_at = self.clock.now()
            version.finished_at = None
            return version, version.attempts

    async def _mine(self, db: AsyncSession, version_id: uuid.UUID, attempt: int) -> ArchiveVersion | None:
        """The version, locked, if this attempt is still the one building it."""
        version = await db.scalar(
            select(ArchiveVersion).where(ArchiveVersion.id == version_id).with_for_update()
        )
        if version is None or version.status != ArchiveStatus.BUILDING or version.attempts != attempt:
            return None
        return version

    async def _finish(self, version_id: uuid.UUID, attempt: int, key: str, sha256: str, size: int) -> None:
        async with self.sessionmaker() as db, db.begin():
            version = await self._mine(db, version_id, attempt)
            if version is None:
                return  # another attempt (an operator's build) finished it
            tender = await db.scalar(
                select(Tender)
                .where(Tender.id == version.tender_id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
            assert tender is not None  # a foreign key
            appended = await self.ledger.append(
                db,
                "archive.built",
                {
                    "tender": str(tender.id),
                    "reference": tender.reference,
                    "version": version.version,
                    "sha256": sha256,
                    "previous_sha256": version.previous_sha256,
                    "size": size,
                },
                subject=f"tender:{tender.id}",
            )
            version.status = ArchiveStatus.BUILT.value
            version.sha256 = sha256
            version.storage_key = key
            version.size = size
            version.ledger_index = appended.index
            version.last_error = None
            version.finished_at = self.clock.now()
            if TenderState(tender.state) in TRANSITIONS["archive"][0]:
                await self.tenders.transition(
                    db, tender, "archive", None, {"archive_version": version.version, "sha256": sha256}
                )

    async def _failed(self, version_id: uuid.UUID, attempt: int, exc: BaseException) -> bool:
        """Record a failed attempt; answers whether it was the last one."""
        async with self.sessionmaker() as db, db.begin():
            version = await self._mine(db, version_id, attempt)
            if version is None:
                return True
            final = version.attempts >= MAX_ATTEMPTS
            version.status = (ArchiveStatus.FAILED if final else ArchiveStatus.PENDING).value
            version.last_error = describe(exc)
            version.finished_at = self.clock.now()
        # Recorded on the version; at info level so that a command says it once, in its own words.
        log.info("archive build %s failed (attempt %d): %s", version_id, attempt, describe(exc))
        return final

    # -- durability ------------------------------------------------------------------------
    async def reconcile(self, at_start: bool) -> int:
        """Defer again every version that is pending, or building without a live worker: older
        than ``STALE``, or any at the start of an in-process (SQLite) queue, which a restart
        emptied.  A version whose job still waits in the queue is not queued twice."""
        stale = self.clock.now() - STALE
        building = ArchiveVersion.status == ArchiveStatus.BUILDING.value
        if not (at_start and not self.jobs.durable):
            building = building & (ArchiveVersion.started_at < stale)
        async with self.sessionmaker() as db:
            rows = await db.execute(
                select(ArchiveVersion.id, ArchiveVersion.tender_id).where(
                    or_(ArchiveVersion.status == ArchiveStatus.PENDING.value, building)
                )
            )
            todo = rows.tuples().all()
        deferred = 0
        for version_id, tender_id in todo:
            if await self.jobs.defer(BUILD_JOB, lock=job_lock(tender_id), version_id=str(version_id)):
                deferred += 1
        return deferred

    async def retry(self, db: AsyncSession, version: ArchiveVersion) -> None:
        """An operator's new try at a failed version: one more attempt, no automatic retries (its
        attempts so far stay counted)."""
        if version.status == ArchiveStatus.FAILED:
            version.status = ArchiveStatus.PENDING.value
            await db.flush()
