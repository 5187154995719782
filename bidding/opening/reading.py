"""Reading the hall: what every participant sees, what the asker may do, and the decrypted bid
packages, decrypted on the fly and logged at every reading.
"""

from __future__ import annotations

import asyncio
import dataclasses
import queue
import threading
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bidding import envelope, queries
from bidding.access import BidAccess
from bidding.models import Bid, BidState, ContentRead, RecordResponse
from bidding.opening.timeline import Timeline
from bidding.opening.vault import Vault
from tenderhall.auth.models import User
from tenderhall.auth.policy import Subject, enforce, permits
from tenderhall.clock import Clock
from tenderhall.errors import Conflict
from tenderhall.ledger.service import Ledger
from tenderhall.orgs.models import Company
from tenderhall.storage import Storage
from tenderhall.tenders.service import Tenders


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


@dataclasses.dataclass(eq=False)
class HallReading:
    clock: Clock
    ledger: Ledger
    tenders: Tenders
    storage: Storage
    timeline: Timeline
    access: BidAccess
    vault: Vault

    async def abilities(self, db: AsyncSession, who: Subject, tender_id: uuid.UUID) -> dict[str, bool]:
        """What the subject may do in the hall now (for the page's buttons; each action is still
        decided by its own endpoint): run it (staff), respond to the record (a bidder in it)."""
        tender = await self.tenders.load(db, who, tender_id, "tender.view")
        resource = await self.timeline.resource(db, tender, who)
        respond = False
        if who.company_id is not None:
            for bid in await queries.participants(db, tender):
                if bid.company_id == who.company_id:
                    bid_resource = await self.access.bid_resource(db, tender, bid, who)
                    respond = permits(who, "record.respond", bid_resource)
                    break
        return {"run": permits(who, "hall.run", resource), "respond": respond}

    async def snapshot(self, db: AsyncSession, who: Subject, tender_id: uuid.UUID) -> dict[str, Any]:
        """What every participant sees: countdown, window, who has decrypted; content only in the
        published record."""
        tender, current = await self.timeline.read(db, who, tender_id, "hall.view")
        now = self.clock.now()
        out: dict[str, Any] = {
            "tender": str(tender.id),
            "reference": tender.reference,
            "title": tender.title,
            "state": tender.state,
            "now": _iso(now),
            "opening_at": _iso(tender.opening_at),
            "seconds_to_opening": max(0.0, (tender.opening_at - now).total_seconds())
            if tender.opening_at
            else None,
            "phase": current.phase if current else "waiting",
            "bids": [],
        }
        remedy = await queries.remedy(db, tender.id)
        out["remedy"] = None if remedy is None else {"k": remedy.k, "n": len(remedy.custodians)}
        if current is None:
            return out
        out["window_ends_at"] = _iso(current.window_ends_at)
        out["seconds_left_in_window"] = max(0.0, (current.window_ends_at - now).total_seconds())
        bids = await queries.participants(db, tender)
        rows = await db.execute(
            select(Company.id, Company.name).where(Company.id.in_({b.company_id for b in bids}))
        )
        names = {company_id: name for company_id, name in rows}
        for bid in bids:
            out["bids"].append(
                {
                    "bid": bid.bid_ref,
                    "company": names.get(bid.company_id),
                    "status": "sealed" if bid.state == BidState.SUBMITTED.value else bid.state,
                    "via": bid.decrypted_via,
                }
            )
        responses = (
            await db.execute(
                select(RecordResponse)
                .where(RecordResponse.tender_id == tender.id)
                .order_by(RecordResponse.at)
            )
        ).scalars()
        out.update(
            record=current.record,
            record_sha256=current.record_sha256,
            sign_deadline=_iso(current.sign_deadline),
            outcome=current.outcome,
            responses=[
                {
                    "id": str(r.id),
                    "company": str(r.company_id),
                    "company_name": names.get(r.company_id),
                    "kind": r.kind,
                    "text": r.text,
                    "answer": r.answer,
                }
                for r in responses
            ],
        )
        out["paused"] = any(r["kind"] == "objection" and r["answer"] is None for r in out["responses"])
        return out

    async def reads(
        self, db: AsyncSession, who: Subject, tender_id: uuid.UUID
    ) -> list[tuple[ContentRead, str, str]]:
        """The access log of the tender's bid content: each reading with the bid and the reader's
        name, oldest first (the tender's centre staff and the supervisors)."""
        tender = await self.tenders.load(db, who, tender_id, "tender.view")
        enforce(who, "bid.reads.view", await self.timeline.resource(db, tender, who), hide="tender.view")
        rows = await db.execute(
            select(ContentRead, Bid.bid_ref, User.display_name)
            .join(Bid, Bid.id == ContentRead.bid_id)
            .join(User, User.id == ContentRead.user_id)
            .where(ContentRead.tender_id == tender.id)
            .order_by(ContentRead.at, ContentRead.id)
        )
        return [(read, ref, name) for read, ref, name in rows.tuples()]

    async def content(
        self, db: AsyncSession, who: Subject, tender_id: uuid.UUID, bid_ref: str
    ) -> AsyncIterator[bytes]:
        """The decrypted bid package, decrypted on the fly (never stored in the clear).  Every
        reading is logged (``reads``) in the request's transaction, with a blinded ledger entry."""
        tender = await self.tenders.load(db, who, tender_id, "tender.view")
        bid = await self.access.own_bid(db, who, tender, bid_ref, "bid.content.view")
        if bid.wrapped_file_key is None:
            raise Conflict("hall.bid_not_decrypted")
        file_key = self.vault.unwrap(bid.wrapped_file_key, bid, "file-key")
        # The policy admits signed-in users only.
        assert who.user_id is not None
        assert who.role is not None
        read = ContentRead(
            tender_id=tender.id, bid_id=bid.id, user_id=who.user_id, role=who.role.value, at=self.clock.now()
        )
        db.add(read)
        await db.flush()
        await self.ledger.append(
            db,
            "bid.content_read",
            # Who read is for the centre and the supervisors: the public entry commits to it.
            {
                "tender": str(tender.id),
                "bid": bid.bid_ref,
                "reading": self.ledger.blind("content-read", str(read.id)),
            },
            subject=f"tender:{tender.id}",
        )
        return _stream_plaintext(self.storage.open(bid.storage_key), file_key)


class _QueueSink:
    def __init__(self, q: queue.Queue[bytes | None]) -> None:
        self.q = q

    def write(self, data: memoryview | bytes, /) -> int:
        self.q.put(bytes(data))
        return len(data)


async def _stream_plaintext(handle: Any, file_key: bytes) -> AsyncIterator[bytes]:
    """Decrypt in a worker thread; a small bounded queue keeps memory flat."""
    q: queue.Queue[bytes | None] = queue.Queue(maxsize=4)

    def work() -> None:
        try:
            with handle:
                envelope.parse_header(handle)
                envelope.decrypt_payload(handle, _QueueSink(q), file_key)
        finally:
            q.put(None)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    while True:
        chunk = await asyncio.to_thread(q.get)
        if chunk is None:
            break
        yield chunk
