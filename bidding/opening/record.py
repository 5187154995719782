"""The opening record (唱标) and what follows it: staff record why bids stayed sealed and publish
the record; bidders sign it or object; staff answer objections and close the opening.
"""

from __future__ import annotations

import dataclasses
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bidding import hall, queries, signing
from bidding.access import BidAccess
from bidding.live import HallLive
from bidding.models import Bid, BidBond, BidState, OpeningHall, RecordResponse
from bidding.opening.timeline import Timeline
from tenderhall.auth.policy import Subject, enforce
from tenderhall.clock import Clock
from tenderhall.errors import Conflict, InvalidInput, NotFound
from tenderhall.ledger.service import Ledger
from tenderhall.orgs.models import Company


@dataclasses.dataclass(eq=False)
class OpeningRecord:
    clock: Clock
    ledger: Ledger
    timeline: Timeline
    access: BidAccess
    live: HallLive

    # -- staff ---------------------------------------------------------------------------------------
    async def set_cause(
        self, db: AsyncSession, who: Subject, tender_id: uuid.UUID, bid_ref: str, cause: str, note: str
    ) -> Bid:
        """Staff record why a bid could not be decrypted (e.g. a platform outage → other cause)."""
        tender, _current = await self.timeline.load(db, who, tender_id, "hall.run")
        try:
            parsed = hall.Cause(cause)
        except ValueError:
            raise InvalidInput("hall.cause_invalid") from None
        bid = await db.scalar(select(Bid).where(Bid.tender_id == tender.id, Bid.bid_ref == bid_ref))
        if bid is None or not await queries.in_checkpoint(db, tender, bid):
            raise NotFound("error.not_found", kind="bid")
        if bid.state != BidState.SUBMITTED.value:
            raise Conflict("hall.bid_not_sealed", state=bid.state)
        bid.failure_cause = parsed.value
        bid.classification_note = note.strip() or None
        await db.flush()
        await self.ledger.append(
            db,
            "hall.cause_recorded",
            {"tender": str(tender.id), "bid": bid.bid_ref, "cause": parsed.value},
            actor=who.user_id,
            subject=f"tender:{tender.id}",
        )
        return bid

    async def publish_record(self, db: AsyncSession, who: Subject, tender_id: uuid.UUID) -> OpeningHall:
        tender, current = await self.timeline.load(db, who, tender_id, "hall.run")
        assert current is not None
        bids = await queries.participants(db, tender)
        sealed = [b for b in bids if b.state == BidState.SUBMITTED.value]
        if current.phase == hall.Phase.DECRYPTING.value and sealed:
            raise Conflict("hall.window_open")
        if current.phase not in (hall.Phase.DECRYPTING, hall.Phase.CUSTODIANS, hall.Phase.READY):
            raise Conflict("hall.record_exists")
        for bid in sealed:  # the custodians could not open it either: 第三十一条
            await self.timeline.classify(db, tender, bid)
        now = self.clock.now()
        rows = []
        for bid in bids:
            company = await db.get(Company, bid.company_id)
            bond = await db.scalar(select(BidBond).where(BidBond.bid_id == bid.id))
            assert company is not None
            rows.append(
                hall.RecordRow(
                    bid=bid.bid_ref,
                    company=company.name,
                    uscc=company.uscc,
                    status=bid.state,
                    form=bid.bid_form,
                    form_error=bid.form_error,
                    bond_fen=bond.amount_fen if bond else None,
                )
            )
        record = hall.build_record(
            str(tender.id), tender.reference, tender.title, current.opened_at, rows, tender.estimate_fen
        )
        current.record = record
        current.record_sha256 = hall.record_digest(record)
        current.record_published_at = now
        current.sign_deadline = hall.sign_deadline(now)
        current.phase = hall.Phase.SIGNING.value
        await db.flush()
        await self.ledger.append(
            db,
            "hall.record_published",
            {
                "tender": str(tender.id),
                "record_sha256": current.record_sha256,
                "valid_bids": record["valid_bids"],
                "bids_above_ceiling": record["bids_above_ceiling"],
            },
            actor=who.user_id,
            subject=f"tender:{tender.id}",
        )
        await self.ledger.checkpoint(db, f"tender {tender.reference} opening record")
        self.live.announce(db, tender.id, "record")
        return current

    async def respond(
        self,
        db: AsyncSession,
        who: Subject,
        tender_id: uuid.UUID,
        *,
        signature: str | None = None,
        objection: str | None = None,
    ) -> RecordResponse:
        """A bidder signs the record it saw (Ed25519) or raises an objection (异议)."""
        tender, current = await self.timeline.load(db, who, tender_id, "hall.view")
        mine = [b for b in await queries.participants(db, tender) if b.company_id == who.company_id]
        if not mine:
            raise NotFound("error.not_found", kind="bid")
        enforce(who, "record.respond", await self.access.bid_resource(db, tender, mine[0], who))
        if current is None or current.phase != hall.Phase.SIGNING.value or current.record_sha256 is None:
            raise Conflict("hall.no_record")
        assert who.company_id is not None
        if signature is not None:
            if await db.scalar(
                select(RecordResponse.id).where(
                    RecordResponse.tender_id == tender.id,
                    RecordResponse.company_id == who.company_id,
                    RecordResponse.kind == "signed",
                )
            ):
                raise Conflict("hall.already_signed")
            key = await queries.active_key(db, who.company_id)
            try:
                if key is None:
                    raise signing.SignatureError("no key")
                signing.verify(
                    key.signing_public,
                    signing.record_statement(str(tender.id), current.record_sha256),
                    signature,
                )
            except signing.SignatureError:
                raise InvalidInput("hall.record_signature_invalid") from None
            kind, text = "signed", None
        else:
            if not objection or not objection.strip() or len(objection) > 5000:
                raise InvalidInput("hall.objection_invalid")
            kind, text = "objection", objection.strip()
        response = RecordResponse(
            tender_id=tender.id,
            company_id=who.company_id,
            kind=kind,
            record_sha256=current.record_sha256,
            signature=signature,
            text=text,
            at=self.clock.now(),
        )
        db.add(response)
        await db.flush()
        await self.ledger.append(
            db,
            "hall.record_signed" if kind == "signed" else "hall.objection_raised",
            {
                "tender": str(tender.id),
                "company": str(who.company_id),
                "record_sha256": current.record_sha256,
            },
            actor=who.user_id,
            subject=f"tender:{tender.id}",
        )
        self.live.announce(db, tender.id, kind)
        return response

    async def answer(
        self, db: AsyncSession, who: Subject, tender_id: uuid.UUID, response_id: uuid.UUID, text: str
    ) -> RecordResponse:
        tender, _current = await self.timeline.load(db, who, tender_id, "hall.run")
        response = await db.get(RecordResponse, response_id)
        if response is None or response.tender_id != tender.id or response.kind != "objection":
            raise NotFound("error.not_found", kind="objection")
        if response.answer is not None:
            raise Conflict("hall.objection_answered")
        if not text.strip() or len(text) > 5000:
            raise InvalidInput("hall.answer_invalid")
        response.answer = text.strip()
        response.answered_by = who.user_id
        response.answered_at = self.clock.now()
        await db.flush()
        await self.ledger.append(
            db,
            "hall.objection_answered",
            {"tender": str(tender.id), "objection": str(response.id)},
            actor=who.user_id,
            subject=f"tender:{tender.id}",
        )
        self.live.announce(db, tender.id, "answer")
        return response

    async def finish(self, db: AsyncSession, who: Subject, tender_id: uuid.UUID) -> OpeningHall:
        """Close the opening before the signing deadline once every bidder has signed."""
        tender, current = await self.timeline.load(db, who, tender_id, "hall.run")
        if current is None or current.phase != hall.Phase.SIGNING.value:
            raise Conflict("hall.no_record")
        if await self.timeline.unanswered(db, tender):
            raise Conflict("hall.paused")
        companies = {b.company_id for b in await queries.participants(db, tender)}
        signed = set(
            (
                await db.execute(
                    select(RecordResponse.company_id).where(
                        RecordResponse.tender_id == tender.id, RecordResponse.kind == "signed"
                    )
                )
            ).scalars()
        )
        assert current.sign_deadline is not None
        if companies - signed and self.clock.now() < current.sign_deadline:
            raise Conflict("hall.signatures_pending")
        await self.timeline.finish_hall(db, tender, current, who.user_id)
        return current
