"""The archive's status for staff: ``GET /api/v1/tenders/{tender_id}/archive``.

Who may see it is the policy table's ``archive.status.view`` (centre staff of the tender's centre,
supervisors of its region); whoever may not even see the tender gets 404.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller, get
from sqlalchemy.ext.asyncio import AsyncSession

from archive.jobs import Archives
from archive.models import ArchiveStatus, ArchiveVersion
from tenderhall.auth.policy import Subject
from tenderhall.web.api.schemas import documented, one_of
from tenderhall.web.deps import READ

StatusName = Annotated[str, one_of(ArchiveStatus)]
Timestamp = Annotated[str, documented(format="date-time")]
Digest = Annotated[str, documented(pattern="^[0-9a-f]{64}$")]


class ArchiveVersionOut(msgspec.Struct, omit_defaults=True):
    version: int
    status: StatusName
    reason: str  # the transition that ended the tender, or the later event
    attempts: int
    last_error: str | None = None
    started_at: Timestamp | None = None
    finished_at: Timestamp | None = None
    sha256: Digest | None = None
    previous_sha256: Digest | None = None
    size: int | None = None
    ledger_index: int | None = None

    @classmethod
    def of(cls, v: ArchiveVersion) -> ArchiveVersionOut:
        return cls(
            version=v.version,
            status=v.status,
            reason=v.reason,
            attempts=v.attempts,
            last_error=v.last_error,
            started_at=_iso(v.started_at),
            finished_at=_iso(v.finished_at),
            sha256=v.sha256,
            previous_sha256=v.previous_sha256,
            size=v.size,
            ledger_index=v.ledger_index,
        )


class ArchiveStatusOut(msgspec.Struct):
    tender_id: uuid.UUID
    tender_state: str
    versions: list[ArchiveVersionOut]  # newest first; empty until the tender has ended


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


class ArchiveController(Controller):
    path = "/api/v1/tenders"
    tags = ["archive"]

    @get(
        "/{tender_id:uuid}/archive",
        summary="The tender's archive versions and their build status (staff, supervisors)",
        dependencies=READ,
    )
    async def archive_status(
        self, archives: Archives, who: Subject, db_session: AsyncSession, tender_id: uuid.UUID
    ) -> ArchiveStatusOut:
        tender = await archives.tenders.load(db_session, who, tender_id, "archive.status.view")
        versions = await archives.versions(db_session, tender.id)
        return ArchiveStatusOut(
            tender_id=tender.id,
            tender_state=tender.state,
            versions=[ArchiveVersionOut.of(v) for v in versions],
        )
