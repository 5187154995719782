"""Bidders decrypt: a bid opened with the file key its bidder sends inside the decryption window.

The checks run under the tender's row lock; the key is verified and the bid decrypted between two
locked phases (``send_file_key``), so that the hall is not held while a large envelope decrypts.
Refusals that must stay on the record (a key sent early, a wrong key) undo the action and keep
only their evidence (``unit_of_work.refuse``).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import dataclasses
import json
import uuid
from collections.abc import Awaitable, Callable

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bidding import envelope, hall, queries
from bidding.access import BidAccess
from bidding.live import HallLive
from bidding.models import Bid, BidState, OpeningHall
from bidding.opening.blobs import Blobs, Opened
from bidding.opening.timeline import Timeline
from bidding.opening.vault import DOCUMENT_FACTS, Vault
from tenderhall.auth.policy import Subject, enforce
from tenderhall.clock import Clock
from tenderhall.db import unit_of_work
from tenderhall.errors import Conflict, InvalidInput, NotFound
from tenderhall.ledger.service import Ledger
from tenderhall.tenders.models import Tender
from tenderhall.tenders.service import Tenders


@dataclasses.dataclass(eq=False)
class Decryption:
    clock: Clock
    ledger: Ledger
    tenders: Tenders
    access: BidAccess
    timeline: Timeline
    blobs: Blobs
    vault: Vault
    live: HallLive

    async def open_and_record(
        self, db: AsyncSession, tender: Tender, bid: Bid, file_key: bytes, via: str
    ) -> None:
        opened = await asyncio.to_thread(
            self.blobs.open, bid.storage_key, str(tender.id), file_key, bid.envelope_size
        )
        await self.record_opened(db, tender, bid, file_key, via, opened)

    async def record_opened(
        self, db: AsyncSession, tender: Tender, bid: Bid, file_key: bytes, via: str, opened: Opened
    ) -> None:
        if opened.damage is not None:
            # The key is right but the payload is damaged: the bidder uploaded a broken envelope.
            bid.failure_cause = hall.Cause.BIDDER.value
            bid.classification_note = f"payload: {opened.damage}"
            await self.timeline.classify(db, tender, bid)
            return
        bid.state = BidState.DECRYPTED.value
        bid.decrypted_at = self.clock.now()
        bid.decrypted_via = via
        bid.wrapped_file_key = self.vault.wrap(file_key, bid, "file-key")
        bid.bid_form = opened.form
        bid.form_error = opened.form_error
        if opened.documents is not None:  # plaintext facts: sealed like the file key
            facts = json.dumps(opened.documents.to_json(), ensure_ascii=False).encode()
            bid.sealed_documents = self.vault.wrap(facts, bid, DOCUMENT_FACTS)
        await db.flush()
        await self.ledger.append(
            db,
            "bid.decrypted",
            {
                "tender": str(tender.id),
                "bid": bid.bid_ref,
                "via": via,
                "envelope_sha256": bid.envelope_sha256,
            },
            subject=f"tender:{tender.id}",
        )
        self.live.announce(db, tender.id, "decrypted")

    async def _key_checks(
        self, db: AsyncSession, who: Subject, tender_id: uuid.UUID, bid_ref: str, file_key_b64: str
    ) -> tuple[Tender, OpeningHall, Bid, bytes]:
        """Everything that decides whether a file key may be used now, under the tender's lock."""
        # Not self.load: a key sent early must be refused (and logged) even before the hall opens.
        tender = await self.tenders.load(db, who, tender_id, "tender.view", lock=True)
        current = await self.timeline.advance(db, tender)
        # As Bidding.own_bid, keeping the resource for the decrypt check below (one policy read).
        bid = await db.scalar(select(Bid).where(Bid.tender_id == tender.id, Bid.bid_ref == bid_ref))
        if bid is None:
            raise NotFound("error.not_found", kind="bid")
        resource = await self.access.bid_resource(db, tender, bid, who)
        enforce(who, "bid.view", resource, hide="bid.view")
        try:
            file_key = base64.b64decode(file_key_b64, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInput("hall.key_malformed") from None
        if current is None or tender.opening_at is None or self.clock.now() < tender.opening_at:
            # Never keep a key sent before opening time; the attempt itself is on the record.
            commitment = self.ledger.blind("early-key", str(tender_id), bid_ref)

            async def early(own: AsyncSession) -> None:
                await self.ledger.append(
                    own, "hall.key_refused_early", {"commitment": commitment}, actor=who.user_id
                )

            await unit_of_work.refuse(db, early, Conflict("hall.key_too_early"))
        if current.phase != hall.Phase.DECRYPTING.value:
            raise Conflict("hall.window_closed")
        enforce(who, "bid.decrypt", resource)
        if bid.state != BidState.SUBMITTED.value:
            raise Conflict("hall.bid_not_sealed", state=bid.state)
        if not await queries.in_checkpoint(db, tender, bid):
            raise Conflict("hall.bid_not_in_checkpoint")
        return tender, current, bid, file_key

    async def send_file_key(
        self, db: AsyncSession, who: Subject, tender_id: uuid.UUID, bid_ref: str, file_key_b64: str
    ) -> Bid:
        """Open a bid with the file key its bidder sends.

        The checks run under the tender's row lock; then the phase ends (``unit_of_work.end_phase``,
        which releases the lock) while the key is verified and the stored ciphertext decrypted: that
        takes seconds for a large envelope, and meanwhile every other action on the hall (on SQLite,
        every write) would wait.  The lock is taken again to record the result, after checking again
        what may have changed: the window may have closed meanwhile, which is decided there, under
        the lock, by the clock.

        Only a unit of work that began on its own (a request's) is cut so; a caller that began one
        explicitly composes a larger unit of work, which stays whole (and holds the lock).
        """
        tender, current, bid, file_key = await self._key_checks(db, who, tender_id, bid_ref, file_key_b64)
        blob = (bid.storage_key, str(tender.id), file_key, bid.envelope_size)  # usable after the cut
        cut = await unit_of_work.end_phase(db)
        opened: Opened | None
        try:
            opened = await asyncio.to_thread(self.blobs.open, *blob)
        except envelope.EnvelopeError:
            opened = None  # the key does not authenticate the header
        if cut:
            # Under the lock again, what may have changed meanwhile: the time (the window), the
            # hall's phase, the bid's state.  Who may act on the bid and the checkpoint cannot.
            for stale in (tender, current, bid):
                db.expire(stale)
            locked = select(Tender).where(Tender.id == tender_id).with_for_update()
            tender = (await db.execute(locked)).scalar_one()
            await self.tenders.apply_due(db, tender)
            now_hall = await self.timeline.advance(db, tender)
            await db.refresh(bid)
            if now_hall is None or now_hall.phase != hall.Phase.DECRYPTING.value:
                raise Conflict("hall.window_closed")
            if bid.state != BidState.SUBMITTED.value:
                raise Conflict("hall.bid_not_sealed", state=bid.state)
        if opened is None:
            # A wrong key may be retried inside the window; each attempt is on the record.
            await unit_of_work.refuse(
                db, self._wrong_key(tender.id, bid.id, bid.bid_ref, who), InvalidInput("hall.key_wrong")
            )
        bid.key_attempts += 1
        await self.record_opened(db, tender, bid, file_key, "bidder", opened)
        return bid

    def _wrong_key(
        self, tender_id: uuid.UUID, bid_id: uuid.UUID, bid_ref: str, who: Subject
    ) -> Callable[[AsyncSession], Awaitable[None]]:
        """The record of a wrong key: the bid's attempts, counted in the refusal's own transaction."""

        async def record(own: AsyncSession) -> None:
            attempts = await own.scalar(
                update(Bid)
                .where(Bid.id == bid_id)
                .values(key_attempts=Bid.key_attempts + 1)
                .returning(Bid.key_attempts)
            )
            await self.ledger.append(
                own,
                "hall.key_rejected",
                {"tender": str(tender_id), "bid": bid_ref, "attempt": attempts},
                actor=who.user_id,
            )

        return record
