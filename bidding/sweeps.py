"""Housekeeping for the sweeper: partial uploads left behind at the deadline."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bidding import uploads
from bidding.models import UploadSession, UploadState
from tenderhall.clock import Clock
from tenderhall.tenders.lifecycle import TenderState
from tenderhall.tenders.models import Tender

UPLOAD_EXPIRED = "expired"  # an UploadSession state beside UploadState's open / complete
EXPIRY_BATCH = 500  # uploads expired per sweep; the next sweep takes the rest


@dataclasses.dataclass(eq=False)
class UploadSweep:
    clock: Clock
    partials: uploads.PartialUploads
    transaction: Callable[[], AbstractAsyncContextManager[AsyncSession]]

    async def expired_uploads(self, db: AsyncSession) -> list[uuid.UUID]:
        """Open uploads that can no longer become bids: their tender's deadline has passed (by
        the clock, read in this transaction) or the tender left the bidding state."""
        now = self.clock.now()
        rows = await db.execute(
            select(UploadSession.id)
            .join(Tender, Tender.id == UploadSession.tender_id)
            .where(
                UploadSession.state == UploadState.OPEN.value,
                or_(Tender.state != TenderState.PUBLISHED.value, Tender.deadline_at <= now),
            )
            .order_by(UploadSession.id)
            .limit(EXPIRY_BATCH)
        )
        return list(rows.scalars())

    async def sweep_uploads(self) -> int:
        """Delete the partial files of expired uploads and mark the uploads expired (the sweeper).

        Idempotent: a file is removed under its lock (an upload a request still holds is left for
        the next sweep), and an upload is marked only once its file is gone, so a sweep cut short
        is finished by the next one.  Past the deadline nothing re-creates a file: appends and
        completions are refused, and the partial store never re-creates a removed file.
        """
        async with self.transaction() as db:
            due = await self.expired_uploads(db)
        removed = [u for u in due if await asyncio.to_thread(self.partials.discard, u)]
        if removed:
            async with self.transaction() as db:
                await db.execute(
                    update(UploadSession)
                    .where(UploadSession.id.in_(removed), UploadSession.state == UploadState.OPEN.value)
                    .values(state=UPLOAD_EXPIRED)
                )
        return len(removed)
