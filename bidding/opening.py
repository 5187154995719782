"""The remote opening hall (不见面开标): decryption window, custodian fallback, classification,
the opening record and its signatures, the outcome.  Pure rules live in ``bidding.hall``.

Every hall action loads the tender under its row lock and first applies what is due by the
injected clock (start of opening, end of the window, end of signing), so time-driven steps are
decided in the transaction that acts on them.  Refusals that must stay on the record (a file key
sent early, a wrong key) roll the request's work back and commit only their ledger event.

Two exceptions keep the lock short: reading the hall takes it only when a step is due, and a
bidder's file key is verified and its bid decrypted between two locked transactions (see
``send_file_key``), on every core (``bidding.decrypt_pool``).  Viewers are told of committed
changes through ``bidding.live``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import dataclasses
import io
import json
import logging
import os
import queue
import threading
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, NoReturn

from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransactionOrigin

from bidding import envelope, hall, signing
from bidding.decrypt_pool import shared_pool
from bidding.docscan import DocumentFacts, scan_package
from bidding.envelope.seekable import PlaintextReader
from bidding.live import HallLive
from bidding.models import (
    Bid,
    BidBond,
    BidState,
    ContentRead,
    DeadlineCheckpoint,
    OpeningHall,
    RecordResponse,
    ShareRelease,
    TenderRemedy,
)
from bidding.package import FORM_PREFIX, FormError, FormExtractor
from tenderhall.auth.models import User
from tenderhall.auth.policy import Resource, Subject, enforce, permits
from tenderhall.auth.roles import Role
from tenderhall.errors import Conflict, DomainError, InvalidInput, NotFound
from tenderhall.keys import derive_key
from tenderhall.orgs.models import Company
from tenderhall.tenders import lifecycle
from tenderhall.tenders.lifecycle import TenderState
from tenderhall.tenders.models import Tender

if TYPE_CHECKING:
    from bidding.service import Bidding

# Below this a payload is decrypted in the request's thread: waking the workers costs more.
POOL_MIN_BYTES = 8 << 20
_PENDING = "tenderhall.hall_events"
_LIVE = "tenderhall.hall_live"
DOCUMENT_FACTS = "document-facts"  # the wrap label of a bid's sealed DocumentFacts
log = logging.getLogger("tenderhall.opening")


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    # Only committed changes are announced; the publisher travels with the session because each
    # app (and its channels plugin) has its own Opening.
    pending = session.info.pop(_PENDING, set())
    live: HallLive | None = session.info.pop(_LIVE, None)
    if live is not None:
        for tender_id, kind in pending:
            live.publish(tender_id, kind)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)
    session.info.pop(_LIVE, None)


@dataclasses.dataclass(frozen=True)
class Opened:
    form: dict[str, Any] | None
    form_error: str | None
    damage: str | None = None  # the key is right but the payload does not decrypt
    documents: DocumentFacts | None = None  # evidence for the collusion detector, if readable


def _autobegun(db: AsyncSession) -> bool:
    """Whether the session's transaction began by itself (so this action may commit it)."""
    if db.in_nested_transaction():
        return False
    transaction = db.sync_session.get_transaction()
    return transaction is None or transaction.origin is SessionTransactionOrigin.AUTOBEGIN


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


class Opening:
    def __init__(self, bidding: Bidding) -> None:
        self.bidding = bidding
        self.services = bidding.services
        self.clock = bidding.clock
        self.ledger = bidding.ledger
        self.tenders = bidding.tenders
        settings = self.services.settings
        self.live = HallLive(settings.extra.get("channel_namespace") or settings.ledger_origin)
        # File keys and shares are kept only wrapped under a purpose key of the platform data key.
        self._wrap = ChaCha20Poly1305(derive_key(self.services.keys.data_key, "bid-file-key"))

    # -- plumbing ---------------------------------------------------------------------------------
    def _notify(self, db: AsyncSession, tender: Tender, kind: str) -> None:
        info = db.sync_session.info
        info.setdefault(_PENDING, set()).add((tender.id, kind))
        info[_LIVE] = self.live

    def wrap(self, secret: bytes, bid: Bid, label: str) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._wrap.encrypt(nonce, secret, f"{label}:{bid.id}".encode())

    def unwrap(self, blob: bytes, bid: Bid, label: str) -> bytes:
        return self._wrap.decrypt(blob[:12], blob[12:], f"{label}:{bid.id}".encode())

    async def _refuse(
        self, db: AsyncSession, kind: str, data: dict[str, Any], who: Subject, error: DomainError
    ) -> NoReturn:
        """Undo the request's work, keep only the ledger event of the refusal, then refuse."""
        await db.rollback()
        await self.ledger.append(db, kind, data, actor=who.user_id)
        await db.commit()
        raise error

    async def _resource(self, db: AsyncSession, tender: Tender, who: Subject) -> Resource:
        resource = await self.tenders.resource(db, tender, who)
        if who.role is Role.CUSTODIAN and await self._slot(db, tender, who) is not None:
            resource = dataclasses.replace(resource, user_id=who.user_id)
        return resource

    async def _slot(self, db: AsyncSession, tender: Tender, who: Subject) -> dict[str, Any] | None:
        remedy = await self.bidding.remedy(db, tender.id)
        if remedy is None:
            return None
        return next((c for c in remedy.custodians if c["user_id"] == str(who.user_id)), None)

    async def load(
        self, db: AsyncSession, who: Subject, tender_id: uuid.UUID, action: str
    ) -> tuple[Tender, OpeningHall | None]:
        tender = await self.tenders.load(db, who, tender_id, "tender.view", lock=True)
        current = await self.advance(db, tender)
        resource = await self._resource(db, tender, who)
        if not permits(who, action, resource):
            enforce(who, action, resource, hide="hall.view")
        return tender, current

    async def _read(
        self, db: AsyncSession, who: Subject, tender_id: uuid.UUID, action: str
    ) -> tuple[Tender, OpeningHall | None]:
        """As :meth:`load`, for reading: the tender's lock is taken only when a time-driven step
        is due, so that viewers (all of them, after every change) do not queue on it."""
        tender = await self.tenders.load(db, who, tender_id, "tender.view")
        due, current = await self._due(db, tender)
        if due:
            for stale in (tender, current):  # the locked read below must see the rows as they are
                if stale is not None:
                    db.expire(stale)
            return await self.load(db, who, tender_id, action)
        resource = await self._resource(db, tender, who)
        if not permits(who, action, resource):
            enforce(who, action, resource, hide="hall.view")
        return tender, current

    async def get_hall(self, db: AsyncSession, tender: Tender) -> OpeningHall | None:
        return await db.scalar(select(OpeningHall).where(OpeningHall.tender_id == tender.id))

    async def participants(self, db: AsyncSession, tender: Tender) -> list[Bid]:
        """Bids in the deadline checkpoint: the only ones the hall can open."""
        cp = await db.scalar(select(DeadlineCheckpoint).where(DeadlineCheckpoint.tender_id == tender.id))
        if cp is None:
            return []
        allowed = set(cp.envelope_hashes)
        rows = await db.execute(
            select(Bid)
            .where(Bid.tender_id == tender.id, Bid.state != BidState.SUPERSEDED.value)
            .order_by(Bid.submitted_at, Bid.id)
        )
        return [
            b
            for b in rows.scalars()
            if b.envelope_sha256 in allowed
            and (b.withdrawn_at is None or b.state != BidState.WITHDRAWN.value)
        ]

    # -- time -------------------------------------------------------------------------------------
    @staticmethod
    def _opening_due(tender: Tender, current: OpeningHall | None, now: datetime) -> bool:
        return (
            current is None
            and tender.state == TenderState.CLOSED.value
            and tender.opening_at is not None
            and now >= tender.opening_at
        )

    async def _due(self, db: AsyncSession, tender: Tender) -> tuple[bool, OpeningHall | None]:
        """Whether :meth:`advance` (or the tender's own deadline) has anything to do now, and the
        hall as read."""
        now = self.clock.now()
        current = await self.get_hall(db, tender)
        if lifecycle.due_transitions(TenderState(tender.state), tender.deadline_at, now):
            return True, current
        if self._opening_due(tender, current, now):
            return True, current
        if current is None or tender.state != TenderState.OPENING.value:
            return False, current
        unanswered = await self._unanswered_if_signing(db, tender, current)
        steps = hall.due_steps(
            hall.Phase(current.phase), now, current.window_ends_at, current.sign_deadline, unanswered
        )
        return bool(steps), current

    async def advance(self, db: AsyncSession, tender: Tender) -> OpeningHall | None:
        """Apply the hall steps due now; the caller holds the tender's row lock."""
        now = self.clock.now()
        current = await self.get_hall(db, tender)
        if self._opening_due(tender, current, now):
            assert tender.opening_at is not None
            rules = await self.tenders.rules(db, tender)
            window_end = tender.opening_at + timedelta(minutes=rules.decryption_window_minutes)
            await self.tenders.transition(
                db,
                tender,
                "start_opening",
                None,
                {"opening_at": _iso(tender.opening_at), "window_ends_at": _iso(window_end)},
            )
            current = OpeningHall(
                tender_id=tender.id,
                phase=hall.Phase.DECRYPTING.value,
                opened_at=tender.opening_at,
                window_ends_at=window_end,
            )
            db.add(current)
            await db.flush()
            self._notify(db, tender, "opened")
        if current is None or tender.state != TenderState.OPENING.value:
            return current
        unanswered = await self._unanswered_if_signing(db, tender, current)
        for step in hall.due_steps(
            hall.Phase(current.phase), now, current.window_ends_at, current.sign_deadline, unanswered
        ):
            if step == "end_window":
                await self._end_window(db, tender, current)
            elif step == "finish":
                await self._finish(db, tender, current, None)
        return current

    async def _end_window(self, db: AsyncSession, tender: Tender, current: OpeningHall) -> None:
        bids = await self.participants(db, tender)
        sealed = [b for b in bids if b.state == BidState.SUBMITTED.value]
        remedy = await self.bidding.remedy(db, tender.id)
        phase = hall.after_window(remedy is not None, len(sealed))
        current.phase = phase.value
        await self.ledger.append(
            db,
            "hall.window_closed",
            {"tender": str(tender.id), "sealed": [b.bid_ref for b in sealed], "next": phase.value},
            subject=f"tender:{tender.id}",
        )
        if phase is hall.Phase.CUSTODIANS:
            assert remedy is not None
            await self.ledger.append(
                db,
                "hall.shares_requested",
                {"tender": str(tender.id), "bids": [b.bid_ref for b in sealed], "k": remedy.k},
                subject=f"tender:{tender.id}",
            )
        else:
            for bid in sealed:
                await self._classify(db, tender, bid)
        await db.flush()
        self._notify(db, tender, "window_closed")

    async def _classify(self, db: AsyncSession, tender: Tender, bid: Bid) -> None:
        cause = hall.Cause(bid.failure_cause or hall.Cause.BIDDER.value)
        bid.failure_cause = cause.value
        bid.state = hall.classify(cause).value
        await self.ledger.append(
            db,
            "bid.classified",
            {"tender": str(tender.id), "bid": bid.bid_ref, "cause": cause.value, "outcome": bid.state},
            subject=f"tender:{tender.id}",
        )

    # -- bidders decrypt ----------------------------------------------------------------------------
    def _open_blob(self, storage_key: str, tender_id: str, file_key: bytes, size: int) -> Opened:
        """Check the key against the header MAC (an ``EnvelopeError`` here: the key is wrong), then
        decrypt the STORED ciphertext, keeping only the bid form: a bidder cannot swap content.

        Blocking.  Memory is bounded by the decrypt pool's slots (or one chunk, sequentially)."""
        with self.services.storage.open(storage_key) as handle:
            header, _ = envelope.parse_header(handle)
            header.verify(file_key)
            sink = FormExtractor()
            pool = shared_pool() if size >= POOL_MIN_BYTES else None
            done = pool is not None and pool.decrypt(handle, sink, file_key, prefix=FORM_PREFIX)
        if not done:
            # Small, no pool here, or the payload did not verify: the sequential decoder decides.
            with self.services.storage.open(storage_key) as handle:
                envelope.parse_header(handle)
                sink = FormExtractor()
                try:
                    envelope.decrypt_payload(handle, sink, file_key)
                except (envelope.PayloadError, envelope.HeaderError) as exc:  # HeaderError: no nonce
                    return Opened(None, None, damage=str(exc))
        documents = self._scan_documents(storage_key, file_key)
        try:
            return Opened(sink.form(tender_id), None, documents=documents)
        except FormError as exc:
            return Opened(None, str(exc), documents=documents)

    def _scan_documents(self, storage_key: str, file_key: bytes) -> DocumentFacts | None:
        """Document metadata and text of the package just authenticated (``bidding.docscan``),
        by random access: only the parts read are decrypted, whatever the documents' size.  Best
        effort: a bid is valid without these facts."""
        try:
            with self.services.storage.open(storage_key) as handle:
                _, payload_at = envelope.parse_header(handle)
                return scan_package(io.BufferedReader(PlaintextReader(handle, payload_at, file_key)))
        except Exception:
            log.warning("document scan of blob %s failed", storage_key, exc_info=True)
            return None

    async def _opened(self, db: AsyncSession, tender: Tender, bid: Bid, file_key: bytes, via: str) -> None:
        opened = await asyncio.to_thread(
            self._open_blob, bid.storage_key, str(tender.id), file_key, bid.envelope_size
        )
        await self._record_opened(db, tender, bid, file_key, via, opened)

    async def _record_opened(
        self, db: AsyncSession, tender: Tender, bid: Bid, file_key: bytes, via: str, opened: Opened
    ) -> None:
        if opened.damage is not None:
            # The key is right but the payload is damaged: the bidder uploaded a broken envelope.
            bid.failure_cause = hall.Cause.BIDDER.value
            bid.classification_note = f"payload: {opened.damage}"
            await self._classify(db, tender, bid)
            return
        bid.state = BidState.DECRYPTED.value
        bid.decrypted_at = self.clock.now()
        bid.decrypted_via = via
        bid.wrapped_file_key = self.wrap(file_key, bid, "file-key")
        bid.bid_form = opened.form
        bid.form_error = opened.form_error
        if opened.documents is not None:  # plaintext facts: sealed like the file key
            facts = json.dumps(opened.documents.to_json(), ensure_ascii=False).encode()
            bid.sealed_documents = self.wrap(facts, bid, DOCUMENT_FACTS)
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
        self._notify(db, tender, "decrypted")

    async def _in_checkpoint(self, db: AsyncSession, tender: Tender, bid: Bid) -> bool:
        """Whether ``bid`` is one of :meth:`participants`, without loading every bid."""
        hashes = await db.scalar(
            select(DeadlineCheckpoint.envelope_hashes).where(DeadlineCheckpoint.tender_id == tender.id)
        )
        return (
            hashes is not None
            and bid.envelope_sha256 in hashes
            and bid.state != BidState.SUPERSEDED.value
            and (bid.withdrawn_at is None or bid.state != BidState.WITHDRAWN.value)
        )

    async def _key_checks(
        self, db: AsyncSession, who: Subject, tender_id: uuid.UUID, bid_ref: str, file_key_b64: str
    ) -> tuple[Tender, OpeningHall, Bid, bytes]:
        """Everything that decides whether a file key may be used now, under the tender's lock."""
        # Not self.load: a key sent early must be refused (and logged) even before the hall opens.
        tender = await self.tenders.load(db, who, tender_id, "tender.view", lock=True)
        current = await self.advance(db, tender)
        # As Bidding.own_bid, keeping the resource for the decrypt check below (one policy read).
        bid = await db.scalar(select(Bid).where(Bid.tender_id == tender.id, Bid.bid_ref == bid_ref))
        if bid is None:
            raise NotFound("error.not_found", kind="bid")
        resource = await self.bidding.bid_resource(db, tender, bid, who)
        enforce(who, "bid.view", resource, hide="bid.view")
        try:
            file_key = base64.b64decode(file_key_b64, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInput("hall.key_malformed") from None
        if current is None or tender.opening_at is None or self.clock.now() < tender.opening_at:
            # Never keep a key sent before opening time; the attempt itself is on the record.
            await self._refuse(
                db,
                "hall.key_refused_early",
                {"commitment": self.ledger.blind("early-key", str(tender_id), bid_ref)},
                who,
                Conflict("hall.key_too_early"),
            )
        if current.phase != hall.Phase.DECRYPTING.value:
            raise Conflict("hall.window_closed")
        enforce(who, "bid.decrypt", resource)
        if bid.state != BidState.SUBMITTED.value:
            raise Conflict("hall.bid_not_sealed", state=bid.state)
        if not await self._in_checkpoint(db, tender, bid):
            raise Conflict("hall.bid_not_in_checkpoint")
        return tender, current, bid, file_key

    async def send_file_key(
        self, db: AsyncSession, who: Subject, tender_id: uuid.UUID, bid_ref: str, file_key_b64: str
    ) -> Bid:
        """Open a bid with the file key its bidder sends.

        The checks run under the tender's row lock, which is then released (commit) while the key
        is verified and the stored ciphertext decrypted: that takes seconds for a large envelope,
        and meanwhile every other action on the hall (on SQLite, every write) would wait.  The lock
        is taken again to record the result, after checking again what may have changed: the
        window may have closed meanwhile, which is decided there, under the lock, by the clock.

        Only a transaction that began on its own (a request's) is split so; a caller that began
        one explicitly composes a larger unit of work, which stays whole (and holds the lock).
        """
        tender, current, bid, file_key = await self._key_checks(db, who, tender_id, bid_ref, file_key_b64)
        split = _autobegun(db)
        blob = (bid.storage_key, str(tender.id), file_key, bid.envelope_size)  # usable after commit
        if split:
            await db.commit()
        opened: Opened | None
        try:
            opened = await asyncio.to_thread(self._open_blob, *blob)
        except envelope.EnvelopeError:
            opened = None  # the key does not authenticate the header
        if split:
            # Under the lock again, what may have changed meanwhile: the time (the window), the
            # hall's phase, the bid's state.  Who may act on the bid and the checkpoint cannot.
            for stale in (tender, current, bid):
                db.expire(stale)
            locked = select(Tender).where(Tender.id == tender_id).with_for_update()
            tender = (await db.execute(locked)).scalar_one()
            await self.tenders.apply_due(db, tender)
            now_hall = await self.advance(db, tender)
            await db.refresh(bid)
            if now_hall is None or now_hall.phase != hall.Phase.DECRYPTING.value:
                raise Conflict("hall.window_closed")
            if bid.state != BidState.SUBMITTED.value:
                raise Conflict("hall.bid_not_sealed", state=bid.state)
        bid.key_attempts += 1
        if opened is None:
            # A wrong key may be retried inside the window; each attempt is on the record.
            await self.ledger.append(
                db,
                "hall.key_rejected",
                {"tender": str(tender.id), "bid": bid.bid_ref, "attempt": bid.key_attempts},
                actor=who.user_id,
            )
            if split:
                await db.commit()
            raise InvalidInput("hall.key_wrong")
        await self._record_opened(db, tender, bid, file_key, "bidder", opened)
        return bid

    async def _after_change(self, db: AsyncSession, tender: Tender, current: OpeningHall) -> None:
        """Leave the custodian phase once no bid is left sealed."""
        if current.phase == hall.Phase.CUSTODIANS.value:
            sealed = [b for b in await self.participants(db, tender) if b.state == BidState.SUBMITTED.value]
            if not sealed:
                current.phase = hall.Phase.READY.value
                await db.flush()

    # -- custodians -------------------------------------------------------------------------------
    async def share_requests(
        self, db: AsyncSession, who: Subject, tender_id: uuid.UUID
    ) -> list[dict[str, Any]]:
        """The bids this custodian is asked to help open, with their headers (no secrets)."""
        tender, current = await self.load(db, who, tender_id, "hall.view")
        slot = await self._slot(db, tender, who)
        if slot is None or current is None or current.phase != hall.Phase.CUSTODIANS.value:
            return []
        out = []
        for bid in await self.participants(db, tender):
            if bid.state != BidState.SUBMITTED.value:
                continue
            header = await asyncio.to_thread(self._header_bytes, bid)
            out.append(
                {"bid": bid.bid_ref, "custodian": slot["id"], "header": base64.b64encode(header).decode()}
            )
        return out

    def _header_bytes(self, bid: Bid) -> bytes:
        with self.services.storage.open(bid.storage_key) as handle:
            header, _ = envelope.parse_header(handle)
        return header.encode()

    async def release_share(
        self, db: AsyncSession, who: Subject, tender_id: uuid.UUID, bid_ref: str, index: int, value_b64: str
    ) -> dict[str, Any]:
        tender, current = await self.load(db, who, tender_id, "hall.view")
        slot = await self._slot(db, tender, who)
        if slot is None:
            raise NotFound("error.not_found", kind="share")
        enforce(who, "share.release", Resource(kind="share", state=tender.state, user_id=who.user_id))
        if current is None or current.phase != hall.Phase.CUSTODIANS.value:
            raise Conflict("hall.no_share_request")
        bid = await db.scalar(select(Bid).where(Bid.tender_id == tender.id, Bid.bid_ref == bid_ref))
        if bid is None or not await self._in_checkpoint(db, tender, bid):
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
                wrapped_value=self.wrap(value, bid, f"share:{slot['id']}"),
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
        self._notify(db, tender, "share")
        return result

    async def _try_recover(self, db: AsyncSession, tender: Tender, bid: Bid) -> dict[str, Any]:
        remedy = await db.scalar(select(TenderRemedy).where(TenderRemedy.tender_id == tender.id))
        assert remedy is not None
        rows = list((await db.execute(select(ShareRelease).where(ShareRelease.bid_id == bid.id))).scalars())
        if len(rows) < remedy.k:
            return {"opened": False, "released": len(rows), "k": remedy.k}
        shares = [
            envelope.Share(
                r.custodian_id, r.share_index, self.unwrap(r.wrapped_value, bid, f"share:{r.custodian_id}")
            )
            for r in rows
        ]
        header_bytes = await asyncio.to_thread(self._header_bytes, bid)
        header, _ = envelope.parse_header(_Lines(header_bytes))
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
        await self._opened(db, tender, bid, recovery.file_key, "custodians")
        return {
            "opened": bid.state == BidState.DECRYPTED.value,
            "released": len(rows),
            "k": remedy.k,
            "bad_custodians": list(recovery.bad_custodians),
        }

    # -- staff ---------------------------------------------------------------------------------------
    async def set_cause(
        self, db: AsyncSession, who: Subject, tender_id: uuid.UUID, bid_ref: str, cause: str, note: str
    ) -> Bid:
        """Staff record why a bid could not be decrypted (e.g. a platform outage → other cause)."""
        tender, _current = await self.load(db, who, tender_id, "hall.run")
        try:
            parsed = hall.Cause(cause)
        except ValueError:
            raise InvalidInput("hall.cause_invalid") from None
        bid = await db.scalar(select(Bid).where(Bid.tender_id == tender.id, Bid.bid_ref == bid_ref))
        if bid is None or not await self._in_checkpoint(db, tender, bid):
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
        tender, current = await self.load(db, who, tender_id, "hall.run")
        assert current is not None
        bids = await self.participants(db, tender)
        sealed = [b for b in bids if b.state == BidState.SUBMITTED.value]
        if current.phase == hall.Phase.DECRYPTING.value and sealed:
            raise Conflict("hall.window_open")
        if current.phase not in (hall.Phase.DECRYPTING, hall.Phase.CUSTODIANS, hall.Phase.READY):
            raise Conflict("hall.record_exists")
        for bid in sealed:  # the custodians could not open it either: 第三十一条
            await self._classify(db, tender, bid)
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
        self._notify(db, tender, "record")
        return current

    async def _unanswered_if_signing(self, db: AsyncSession, tender: Tender, current: OpeningHall) -> int:
        """Objections hold only the end of signing (``hall.due_steps``); other phases skip the query."""
        return await self._unanswered(db, tender) if current.phase == hall.Phase.SIGNING.value else 0

    async def _unanswered(self, db: AsyncSession, tender: Tender) -> int:
        rows = await db.execute(
            select(RecordResponse.id).where(
                RecordResponse.tender_id == tender.id,
                RecordResponse.kind == "objection",
                RecordResponse.answer.is_(None),
            )
        )
        return len(rows.all())

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
        tender, current = await self.load(db, who, tender_id, "hall.view")
        mine = [b for b in await self.participants(db, tender) if b.company_id == who.company_id]
        if not mine:
            raise NotFound("error.not_found", kind="bid")
        enforce(who, "record.respond", await self.bidding.bid_resource(db, tender, mine[0], who))
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
            key = await self.bidding.active_key(db, who.company_id)
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
        self._notify(db, tender, kind)
        return response

    async def answer(
        self, db: AsyncSession, who: Subject, tender_id: uuid.UUID, response_id: uuid.UUID, text: str
    ) -> RecordResponse:
        tender, _current = await self.load(db, who, tender_id, "hall.run")
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
        self._notify(db, tender, "answer")
        return response

    async def finish(self, db: AsyncSession, who: Subject, tender_id: uuid.UUID) -> OpeningHall:
        """Close the opening before the signing deadline once every bidder has signed."""
        tender, current = await self.load(db, who, tender_id, "hall.run")
        if current is None or current.phase != hall.Phase.SIGNING.value:
            raise Conflict("hall.no_record")
        if await self._unanswered(db, tender):
            raise Conflict("hall.paused")
        companies = {b.company_id for b in await self.participants(db, tender)}
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
        await self._finish(db, tender, current, who.user_id)
        return current

    async def _finish(
        self, db: AsyncSession, tender: Tender, current: OpeningHall, actor: uuid.UUID | None
    ) -> None:
        bids = await self.participants(db, tender)
        responded = set(
            (
                await db.execute(
                    select(RecordResponse.company_id).where(RecordResponse.tender_id == tender.id)
                )
            ).scalars()
        )
        now = self.clock.now()
        for company_id in sorted({b.company_id for b in bids} - responded):
            db.add(
                RecordResponse(
                    tender_id=tender.id,
                    company_id=company_id,
                    kind="silent",
                    record_sha256=current.record_sha256 or "",
                    at=now,
                )
            )
        rules = await self.tenders.rules(db, tender)
        valid = int((current.record or {}).get("valid_bids", 0))
        result = hall.outcome(valid, rules.min_valid_bids)
        current.phase = hall.Phase.CLOSED.value
        current.outcome = result
        await db.flush()
        data = {
            "valid_bids": valid,
            "min_valid_bids": rules.min_valid_bids,
            "record_sha256": current.record_sha256,
        }
        await self.tenders.transition(
            db, tender, "finish_opening" if result == "opened" else "fail", actor, data
        )
        self._notify(db, tender, "finished")

    # -- reading -------------------------------------------------------------------------------------
    async def abilities(self, db: AsyncSession, who: Subject, tender_id: uuid.UUID) -> dict[str, bool]:
        """What the subject may do in the hall now (for the page's buttons; each action is still
        decided by its own endpoint): run it (staff), respond to the record (a bidder in it)."""
        tender = await self.tenders.load(db, who, tender_id, "tender.view")
        resource = await self._resource(db, tender, who)
        respond = False
        if who.company_id is not None:
            for bid in await self.participants(db, tender):
                if bid.company_id == who.company_id:
                    bid_resource = await self.bidding.bid_resource(db, tender, bid, who)
                    respond = permits(who, "record.respond", bid_resource)
                    break
        return {"run": permits(who, "hall.run", resource), "respond": respond}

    async def snapshot(self, db: AsyncSession, who: Subject, tender_id: uuid.UUID) -> dict[str, Any]:
        """What every participant sees: countdown, window, who has decrypted; content only in the
        published record."""
        tender, current = await self._read(db, who, tender_id, "hall.view")
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
        remedy = await self.bidding.remedy(db, tender.id)
        out["remedy"] = None if remedy is None else {"k": remedy.k, "n": len(remedy.custodians)}
        if current is None:
            return out
        out["window_ends_at"] = _iso(current.window_ends_at)
        out["seconds_left_in_window"] = max(0.0, (current.window_ends_at - now).total_seconds())
        bids = await self.participants(db, tender)
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

    def documents(self, bid: Bid) -> DocumentFacts | None:
        """The document facts read at the opening (for the collusion detector), unsealed."""
        if bid.sealed_documents is None:
            return None
        return DocumentFacts.from_json(json.loads(self.unwrap(bid.sealed_documents, bid, DOCUMENT_FACTS)))

    async def reads(
        self, db: AsyncSession, who: Subject, tender_id: uuid.UUID
    ) -> list[tuple[ContentRead, str, str]]:
        """The access log of the tender's bid content: each reading with the bid and the reader's
        name, oldest first (the tender's centre staff and the supervisors)."""
        tender = await self.tenders.load(db, who, tender_id, "tender.view")
        enforce(who, "bid.reads.view", await self._resource(db, tender, who), hide="tender.view")
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
        bid = await self.bidding.own_bid(db, who, tender, bid_ref, "bid.content.view")
        if bid.wrapped_file_key is None:
            raise Conflict("hall.bid_not_decrypted")
        file_key = self.unwrap(bid.wrapped_file_key, bid, "file-key")
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
        return _stream_plaintext(self.services.storage.open(bid.storage_key), file_key)


class _Lines:
    """A minimal readable over bytes for parse_header."""

    def __init__(self, data: bytes) -> None:
        import io

        self._io = io.BytesIO(data)

    def readline(self, size: int = -1, /) -> bytes:
        return self._io.readline(size)

    def readinto(self, buffer: memoryview, /) -> int | None:
        return self._io.readinto(buffer)


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
