"""The custodian fallback: when bids stay sealed after the window, custodians release their
shares of the file keys, and a bid opens once k shares recover its key (bad shares are named).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import dataclasses
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bidding import envelope, hall, queries
from bidding.live import HallLive
from bidding.models import Bid, BidState, OpeningHall, ShareRelease, TenderRemedy
from bidding.opening.blobs import Blobs, Lines
from bidding.opening.decryption import Decryption
from bidding.opening.timeline import Timeline
from bidding.opening.vault import Vault
from tenderhall.auth.policy import Resource, Subject, enforce
from tenderhall.clock import Clock
from tenderhall.errors import Conflict, InvalidInput, NotFound
from tenderhall.ledger.service import Ledger
from tenderhall.tenders.models import Tender


@dataclasses.dataclass(eq=False)
class Custodians:
    clock: Clock
    ledger: Ledger
    timeline: Timeline
    blobs: Blobs
    decryption: Decryption
    vault: Vault
    live: HallLive

    async def _after_change(self, db: AsyncSession, tender: Tender, current: OpeningHall) -> None:
        """Leave the custodian phase once no bid is left sealed."""
        if current.phase == hall.Phase.CUSTODIANS.value:
            sealed = [
                b for b in await queries.participants(db, tender) if b.state == BidState.SUBMITTED.value
            ]
            if not sealed:
                current.phase = hall.Phase.READY.value
                await db.flush()

    # -- custodians -------------------------------------------------------------------------------
    async def share_requests(
        self, db: AsyncSession, who: Subject, tender_id: uuid.UUID
    ) -> list[dict[str, Any]]:
        """The bids this custodian is asked to help open, with their headers (no secrets)."""
        tender, current = await self.timeline.load(db, who, tender_id, "hall.view")
        slot = await self.timeline.slot(db, tender, who)
        if slot is None or current is None or current.phase != hall.Phase.CUSTODIANS.value:
            return []
        out = []
        for bid in await queries.participants(db, tender):
            if bid.state != BidState.SUBMITTED.value:
                continue
            header = await asyncio.to_thread(self.blobs.header_bytes, bid)
            out.append(
                {"bid": bid.bid_ref, "custodian": slot["id"], "header": base64.b64encode(header).decode()}
            )
        return out

    async def release_share(
        self, db: AsyncSession, who: Subject, tender_id: uuid.UUID, bid_ref: str, index: int, value_b64: str
    ) -> dict[str, Any]:
        tender, current = await self.timeline.load(db, who, tender_id, "hall.view")
        slot = await self.timeline.slot(db, tender, who)
        if slot is None:
            raise NotFound("error.not_found", kind="share")
        enforce(who, "share.release", Resource(kind="share", state=tender.state, user_id=who.user_id))
        if current is None or current.phase != hall.Phase.CUSTODIANS.value:
            raise Conflict("hall.no_share_request")
        bid = await db.scalar(select(Bid).where(Bid.tender_id == tender.id, Bid.bid_ref == bid_ref))
        if bid is None or not await queries.in_checkpoint(db, tender, bid):
            raise NotFound("error.not_found", kind="bid")
        if bid.state != BidState.SUBMITTED.value:
            raise Conflict("hall.bid_not_sealed", state=bid.state)
        try:
            value = base64.b64decode(value_b64, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInput("hall.share_malformed") from None
        if len(value) != 16 or not 1 <= index <= 255:
            raise InvalidInput("hall.share_malformed")
        if await db.scalar(
            select(ShareRelease.id).where(
                ShareRelease.bid_id == bid.id, ShareRelease.custodian_id == slot["id"]
            )
        ):
            raise Conflict("hall.share_already_released")
        assert who.user_id is not None
        db.add(
            ShareRelease(
                bid_id=bid.id,
                custodian_id=slot["id"],
                share_index=index,
                wrapped_value=self.vault.wrap(value, bid, f"share:{slot['id']}"),
                released_by=who.user_id,
                released_at=self.clock.now(),
            )
        )
        await db.flush()
        await self.ledger.append(
            db,
            "hall.share_released",
            {"tender": str(tender.id), "bid": bid.bid_ref, "custodian": slot["id"]},
            actor=who.user_id,
            subject=f"tender:{tender.id}",
        )
        result = await self._try_recover(db, tender, bid)
        await self._after_change(db, tender, current)
        self.live.announce(db, tender.id, "share")
        return result

    async def _try_recover(self, db: AsyncSession, tender: Tender, bid: Bid) -> dict[str, Any]:
        remedy = await db.scalar(select(TenderRemedy).where(TenderRemedy.tender_id == tender.id))
        assert remedy is not None
        rows = list((await db.execute(select(ShareRelease).where(ShareRelease.bid_id == bid.id))).scalars())
        if len(rows) < remedy.k:
            return {"opened": False, "released": len(rows), "k": remedy.k}
        shares = [
            envelope.Share(
                r.custodian_id,
                r.share_index,
                self.vault.unwrap(r.wrapped_value, bid, f"share:{r.custodian_id}"),
            )
            for r in rows
        ]
        header_bytes = await asyncio.to_thread(self.blobs.header_bytes, bid)
        header, _ = envelope.parse_header(Lines(header_bytes))
        try:
            recovery = envelope.recover_file_key(header, shares)
        except envelope.ShareError as exc:
            await self.ledger.append(
                db,
                "hall.share_recovery_failed",
                {"tender": str(tender.id), "bid": bid.bid_ref, "released": len(rows), "reason": str(exc)},
                subject=f"tender:{tender.id}",
            )
            return {"opened": False, "released": len(rows), "k": remedy.k}
        for row in rows:
            row.bad = row.custodian_id in recovery.bad_custodians
        if recovery.bad_custodians:
            await self.ledger.append(
                db,
                "hall.bad_shares",
                {"tender": str(tender.id), "bid": bid.bid_ref, "custodians": list(recovery.bad_custodians)},
                subject=f"tender:{tender.id}",
            )
        await self.decryption.open_and_record(db, tender, bid, recovery.file_key, "custodians")
        return {
            "opened": bid.state == BidState.DECRYPTED.value,
            "released": len(rows),
            "k": remedy.k,
            "bad_custodians": list(recovery.bad_custodians),
        }
