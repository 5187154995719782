"""Sealed submission: resumable uploads, acceptance with a signed receipt, withdrawal.

Each method runs in the caller's unit of work.  The deadline is decided under the tender's row
lock with the injected clock, in the same transaction that records the bid.  Streaming and hashing
an upload need no database: ``append`` and ``complete`` end the request's phase first
(``unit_of_work.end_phase``) so that no lock is held meanwhile.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bidding import envelope, queries, signing, uploads
from bidding.access import BidAccess
from bidding.credit_checks import CreditChecks
from bidding.models import (
    Bid,
    BidBond,
    BidderKey,
    BidState,
    BondKind,
    KeyStatus,
    TenderRemedy,
    UploadSession,
    UploadState,
)
from bidding.receipt import RECEIPT_PURPOSE, body_digest, build_receipt
from bidding.sealing import MAX_ENVELOPE, bond_cap
from bidding.sweeps import UPLOAD_EXPIRED
from tenderhall.auth.policy import Resource, Subject, enforce
from tenderhall.clock import Clock
from tenderhall.db import unit_of_work
from tenderhall.errors import Conflict, InvalidInput, NotFound
from tenderhall.ledger.models import LedgerEntry
from tenderhall.ledger.service import Ledger
from tenderhall.ledger.witness import Cosigning
from tenderhall.orgs.models import Company
from tenderhall.storage import Storage
from tenderhall.tenders.lifecycle import TenderState
from tenderhall.tenders.models import Tender
from tenderhall.tenders.service import Tenders

READ_CHUNK = 1 << 20


@dataclasses.dataclass(frozen=True)
class Evidence:
    """Where a submission came from: collusion evidence (DESIGN §7)."""

    ip: str | None
    user_agent: str | None
    device: str | None


@dataclasses.dataclass(frozen=True)
class BondIn:
    kind: str
    amount_fen: int
    payer_bank: str | None = None
    payer_account: str | None = None
    issuer: str | None = None
    number: str | None = None


async def file_chunks(handle: io.BufferedReader) -> AsyncIterator[bytes]:
    """Stream a blocking file in 1 MiB reads (page-cache reads; no whole-file buffering)."""
    while chunk := handle.read(READ_CHUNK):
        yield chunk
        await asyncio.sleep(0)


@dataclasses.dataclass(eq=False)
class Submission:
    clock: Clock
    ledger: Ledger
    tenders: Tenders
    storage: Storage
    partials: uploads.PartialUploads
    access: BidAccess
    credit: CreditChecks
    # Per company, so that one bidder cannot reserve the disk (20 uploads declaring 4 GiB each).
    max_open_uploads: int
    max_upload_bytes: int
    cosigning: Cosigning  # the ledger's witnesses, asked once a bid is in (``submit``)

    async def _open_tender(self, db: AsyncSession, who: Subject, tender_id: uuid.UUID, lock: bool) -> Tender:
        """The tender, with the deadline decided now: refused unless strictly before it."""
        tender = await self.tenders.load(db, who, tender_id, "tender.view", lock=lock)
        now = self.clock.now()
        if (
            tender.state != TenderState.PUBLISHED.value
            or tender.deadline_at is None
            or now >= tender.deadline_at
        ):
            raise Conflict("bid.deadline_passed")
        enforce(who, "bid.submit", await self.tenders.resource(db, tender, who))
        return tender

    def _check_bond(self, bond: BondIn, cap_fen: int) -> None:
        if bond.kind not in {k.value for k in BondKind} or bond.amount_fen <= 0:
            raise InvalidInput("bond.invalid")
        if bond.kind == BondKind.CASH.value and not (bond.payer_bank and bond.payer_account):
            raise InvalidInput("bond.payer_required")
        if bond.kind == BondKind.GUARANTEE.value and not (bond.issuer and bond.number):
            raise InvalidInput("bond.guarantee_required")
        if bond.amount_fen > cap_fen:
            raise InvalidInput("bond.above_cap", cap=f"{cap_fen / 100:.2f}")

    async def start_upload(
        self,
        db: AsyncSession,
        who: Subject,
        tender_id: uuid.UUID,
        manifest: Any,
        signature: str,
        idempotency_key: str,
        bond: BondIn | None,
    ) -> UploadSession:
        tender = await self._open_tender(db, who, tender_id, lock=False)
        company = await queries.company_of(db, who)
        if not 8 <= len(idempotency_key) <= 100:
            raise InvalidInput("bid.idempotency_key_invalid")
        existing = await db.scalar(
            select(UploadSession).where(
                UploadSession.company_id == company.id,
                UploadSession.tender_id == tender.id,
                UploadSession.idempotency_key == idempotency_key,
            )
        )
        if existing is not None:
            if existing.manifest != manifest or existing.manifest_signature != signature:
                raise Conflict("bid.idempotency_mismatch")
            if existing.state == UploadState.OPEN.value:
                self.partials.create(existing.id)  # an upload started before files were made here
            return existing  # the same request again: same upload, same receipt once complete
        key = await queries.active_key(db, company.id)
        if key is None:
            raise Conflict("bid.no_key")
        try:
            checked = signing.check_manifest(manifest)
            signing.verify(key.signing_public, checked, signature)
        except signing.SignatureError:
            raise InvalidInput("bid.manifest_invalid") from None
        if checked["tender"] != str(tender.id) or checked["bidder"] != company.uscc:
            raise InvalidInput("bid.manifest_mismatch")
        if checked["size"] > MAX_ENVELOPE:
            raise InvalidInput("bid.too_large", limit=MAX_ENVELOPE)
        await self._check_quota(db, company.id, checked["size"])
        if await db.scalar(select(Bid.id).where(Bid.tender_id == tender.id, Bid.bid_ref == checked["bid"])):
            raise Conflict("bid.ref_taken")
        if bond is not None:
            rules = await self.tenders.rules(db, tender)
            self._check_bond(bond, bond_cap(tender.estimate_fen, rules.bond_cap_percent))
        check = await self.credit.credit_check(db, tender, company)
        if check.listed:
            await self.credit.refuse_listed(db, check)
        assert who.user_id is not None
        assert tender.deadline_at is not None
        session = UploadSession(
            tender_id=tender.id,
            company_id=company.id,
            user_id=who.user_id,
            key_id=key.id,
            idempotency_key=idempotency_key,
            manifest=checked,
            manifest_signature=signature,
            bond=dataclasses.asdict(bond) if bond else None,
            size=checked["size"],
            state=UploadState.OPEN.value,
            expires_at=tender.deadline_at,
        )
        db.add(session)
        await db.flush()
        self.partials.create(session.id)
        return session

    async def _check_quota(self, db: AsyncSession, company_id: uuid.UUID, size: int) -> None:
        """Refuse a new upload beyond the company's open uploads or declared bytes, before anything
        is written.  The company's row lock makes concurrent starts count one after the other."""
        await db.execute(select(Company.id).where(Company.id == company_id).with_for_update())
        count, declared = (
            await db.execute(
                select(func.count(), func.coalesce(func.sum(UploadSession.size), 0)).where(
                    UploadSession.company_id == company_id,
                    UploadSession.state == UploadState.OPEN.value,
                    UploadSession.expires_at > self.clock.now(),  # expired, if not yet swept
                )
            )
        ).one()
        if count >= self.max_open_uploads:
            raise Conflict("bid.upload_quota_open", limit=self.max_open_uploads)
        if declared + size > self.max_upload_bytes:
            raise Conflict(
                "bid.upload_quota_bytes", limit=self.max_upload_bytes, declared=declared, size=size
            )

    async def upload(self, db: AsyncSession, who: Subject, upload_id: uuid.UUID) -> UploadSession:
        session = await db.get(UploadSession, upload_id)
        if session is None or who.company_id is None or session.company_id != who.company_id:
            raise NotFound("error.not_found", kind="upload")
        enforce(who, "bid.view", Resource(kind="bid", company_id=session.company_id), hide="bid.view")
        return session

    def offset(self, session: UploadSession) -> int:
        return (
            session.size if session.state == UploadState.COMPLETE.value else self.partials.offset(session.id)
        )

    async def _check_open(self, db: AsyncSession, session: UploadSession) -> None:
        """An upload takes bytes only while it is open and its tender's deadline is ahead (the
        deadline may have moved since the upload started: the tender's is the one that counts).
        Acceptance decides the deadline again, under the tender's lock."""
        if session.state == UploadState.COMPLETE.value:
            raise Conflict("bid.upload_complete")
        if session.state == UPLOAD_EXPIRED:
            raise Conflict("bid.upload_expired")
        tender = await db.get(Tender, session.tender_id)
        if (
            tender is None
            or tender.state != TenderState.PUBLISHED.value
            or tender.deadline_at is None
            or self.clock.now() >= tender.deadline_at
        ):
            raise Conflict("bid.deadline_passed")

    async def append(
        self, db: AsyncSession, who: Subject, upload_id: uuid.UUID, offset: int, chunks: AsyncIterable[bytes]
    ) -> int:
        session = await self.upload(db, who, upload_id)
        await self._check_open(db, session)
        # End the phase before streaming: on SQLite every transaction holds the write lock, and an
        # upload may take minutes.
        await unit_of_work.end_phase(db)
        try:
            return await self.partials.append(session.id, offset, chunks, session.size)
        except uploads.OffsetMismatch as exc:
            raise Conflict("bid.upload_offset", offset=exc.current) from None
        except uploads.Busy:
            raise Conflict("bid.upload_busy") from None
        except uploads.Gone:
            raise Conflict("bid.upload_expired") from None
        except uploads.TooLarge:
            raise InvalidInput("bid.upload_too_long", size=session.size) from None

    @staticmethod
    def _structure(remedy: TenderRemedy | None, handle: io.BufferedReader) -> None:
        try:
            header, _ = envelope.parse_header(handle)
            if remedy is None:
                envelope.check_structure(header)
            else:
                envelope.check_structure(
                    header, custodian_ids=[c["id"] for c in remedy.custodians], k=remedy.k
                )
        except envelope.EnvelopeError as exc:
            raise InvalidInput("bid.envelope_invalid", detail=str(exc)) from None
        handle.seek(0)

    async def receipt_of(self, db: AsyncSession, session: UploadSession) -> dict[str, Any] | None:
        """The receipt of the bid an upload became (None while it is not a bid)."""
        if session.bid_id is None:
            return None
        bid = await db.get(Bid, session.bid_id)
        return bid.receipt if bid else None

    async def submit(self, db: AsyncSession, who: Subject, upload_id: uuid.UUID, evidence: Evidence) -> Bid:
        """``complete``, then the ledger's witnesses cosign the checkpoint that holds the bid."""
        bid = await self.complete(db, who, upload_id, evidence)
        # The bid is in once this phase commits (which also drops the partial file).  Witnesses
        # are asked only then, each within its timeout: one that is down delays this answer at
        # most once per back-off and the receipt then carries the log's signature alone (the
        # sweeper retries the checkpoint).  The cosigned receipt commits with the request.
        await unit_of_work.end_phase(db)
        size = int(bid.receipt["ledger"]["size"])
        await self.cosigning.cosign(at_least=size)
        cosigned = await self.cosigning.cosigned_note(db, size)
        if cosigned is not None:
            bid.receipt = {**bid.receipt, "ledger": {**bid.receipt["ledger"], "checkpoint": cosigned}}
        return bid

    async def complete(self, db: AsyncSession, who: Subject, upload_id: uuid.UUID, evidence: Evidence) -> Bid:
        """Verify the upload and accept it as a bid — or refuse it at the deadline, never both."""
        session = await self.upload(db, who, upload_id)
        if session.state == UploadState.COMPLETE.value and session.bid_id is not None:
            bid = await db.get(Bid, session.bid_id)
            assert bid is not None
            return bid  # an idempotent retry: the same bid and receipt
        await self._check_open(db, session)
        remedy = await queries.remedy(db, session.tender_id)
        await unit_of_work.end_phase(db)  # as in append: no transaction (no SQLite lock) while hashing
        try:
            with self.partials.reader(session.id) as handle:
                received = self.partials.offset(session.id)
                if received != session.size:
                    raise Conflict("bid.upload_incomplete", offset=received, size=session.size)
                self._structure(remedy, handle)
                # Hashing and storing happen before the tender lock is taken, so a deadline rush
                # holds the lock only for the database work.  The finished partial file (locked
                # against appends, and full) is hashed off the event loop and linked into
                # storage, not copied: one write of each envelope instead of two.
                stored = await self.storage.put_file(self.partials.path(session.id), session.size)
        except uploads.Busy:
            raise Conflict("bid.upload_busy") from None
        except uploads.Gone:
            # Completed by a concurrent request (which removed the file), or expired.
            await db.refresh(session)
            if session.state == UploadState.COMPLETE.value and session.bid_id is not None:
                bid = await db.get(Bid, session.bid_id)
                assert bid is not None
                return bid
            raise Conflict("bid.upload_expired") from None
        if stored.sha256 != session.manifest["envelope_sha256"]:
            raise InvalidInput("bid.hash_mismatch")
        return await self.accept(db, who, session, stored.key, evidence)

    async def accept(
        self, db: AsyncSession, who: Subject, session: UploadSession, storage_key: str, evidence: Evidence
    ) -> Bid:
        """Accept a verified, stored envelope as a bid — or refuse it at the deadline, never both.

        The second half of :meth:`complete`, in the caller's transaction: the tender's row lock,
        the clock reading that decides the deadline, the key and credit checks, supersession and
        the signed receipt.  ``storage_key`` must hold exactly the manifest's envelope.
        """
        tender = await self._open_tender(db, who, session.tender_id, lock=True)
        now = self.clock.now()  # read under the lock: this instant decides the deadline
        key = await db.get(BidderKey, session.key_id)
        if key is None or key.status == KeyStatus.REVOKED.value:
            raise Conflict("bid.key_revoked")
        company = await queries.company_of(db, who)
        check = await self.credit.credit_check(db, tender, company)
        if check.listed:
            await self.credit.refuse_listed(db, check)
        previous = await db.scalar(
            select(Bid).where(
                Bid.tender_id == tender.id,
                Bid.company_id == company.id,
                Bid.state == BidState.SUBMITTED.value,
            )
        )
        bid = await self._record_bid(db, who, tender, company, session, storage_key, now, evidence, previous)
        check.bid_id = bid.id
        await db.flush()
        return bid

    async def _record_bid(
        self,
        db: AsyncSession,
        who: Subject,
        tender: Tender,
        company: Company,
        session: UploadSession,
        storage_key: str,
        now: datetime,
        evidence: Evidence,
        previous: Bid | None,
    ) -> Bid:
        manifest = session.manifest
        body = {
            "purpose": RECEIPT_PURPOSE,
            "tender": str(tender.id),
            "reference": tender.reference,
            "bid": manifest["bid"],
            "bidder": company.uscc,
            "envelope_sha256": manifest["envelope_sha256"],
            "size": session.size,
            "manifest_sha256": body_digest(manifest),
            "submitted_at": now.isoformat(timespec="microseconds"),
            "supersedes": previous.bid_ref if previous else None,
        }
        assert who.user_id is not None
        bid = Bid(
            tender_id=tender.id,
            company_id=company.id,
            key_id=session.key_id,
            bid_ref=manifest["bid"],
            envelope_sha256=manifest["envelope_sha256"],
            envelope_size=session.size,
            storage_key=storage_key,
            manifest=manifest,
            manifest_signature=session.manifest_signature,
            state=BidState.SUBMITTED.value,
            submitted_at=now,
            submitted_by=who.user_id,
            source_ip=evidence.ip,
            user_agent=(evidence.user_agent or "")[:300] or None,
            device_fingerprint=(evidence.device or "")[:128] or None,
            receipt={},
            ledger_index=-1,
        )
        db.add(bid)
        await db.flush()
        if previous is not None:
            previous.state = BidState.SUPERSEDED.value
            previous.superseded_by = bid.id
        if session.bond:
            db.add(BidBond(bid_id=bid.id, **session.bond))
        session.state = UploadState.COMPLETE.value
        session.bid_id = bid.id
        await db.flush()
        upload_id = session.id  # the partial file goes once the bid is committed, not before
        unit_of_work.after_commit(db, lambda: self.partials.remove(upload_id))
        # Public entry: only the receipt digest — neither the bidder nor the tender (DESIGN §4).
        appended = await self.ledger.append(db, "bid.submitted", {"receipt": body_digest(body)})
        checkpoint = await self.ledger.checkpoint(db, "bid receipt")
        proof = await self.ledger.inclusion_proof(db, appended.index, checkpoint.size)
        entry = await db.get(LedgerEntry, appended.index)
        assert entry is not None
        bid.receipt = build_receipt(
            body,
            self.ledger.signer,
            index=appended.index,
            entry=entry.body,
            size=checkpoint.size,
            proof=proof,
            checkpoint=checkpoint.note,
        )
        bid.ledger_index = appended.index
        await db.flush()
        return bid

    async def withdraw(
        self, db: AsyncSession, who: Subject, tender_id: uuid.UUID, bid_ref: str, signature: str
    ) -> Bid:
        tender = await self.tenders.load(db, who, tender_id, "tender.view", lock=True)
        bid = await self.access.own_bid(db, who, tender, bid_ref, "bid.view")
        if tender.state != TenderState.PUBLISHED.value:
            raise Conflict("bid.deadline_passed")
        enforce(who, "bid.withdraw", await self.access.bid_resource(db, tender, bid, who))
        if bid.state != BidState.SUBMITTED.value:
            raise Conflict("bid.not_withdrawable", state=bid.state)
        key = await queries.active_key(db, bid.company_id)
        statement = signing.withdrawal_statement(str(tender.id), bid.bid_ref, bid.envelope_sha256)
        try:
            if key is None:
                raise signing.SignatureError("no key")
            signing.verify(key.signing_public, statement, signature)
        except signing.SignatureError:
            raise InvalidInput("bid.withdrawal_signature_invalid") from None
        bid.state = BidState.WITHDRAWN.value
        bid.withdrawn_at = self.clock.now()
        bid.withdrawal_signature = signature
        await db.flush()
        await self.ledger.append(
            db,
            "bid.withdrawn",
            {"commitment": self.ledger.blind("withdrawal", str(tender.id), bid.bid_ref, bid.envelope_sha256)},
        )
        return bid

    async def my_bids(self, db: AsyncSession, who: Subject, tender_id: uuid.UUID) -> list[Bid]:
        tender = await self.tenders.load(db, who, tender_id, "tender.view")
        if who.company_id is None:
            raise NotFound("error.not_found", kind="bid")
        rows = await db.execute(
            select(Bid)
            .where(Bid.tender_id == tender.id, Bid.company_id == who.company_id)
            .order_by(Bid.submitted_at)
        )
        return list(rows.scalars())
