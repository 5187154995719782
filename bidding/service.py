"""Bidding use cases before opening: keys, the tender's remedy, credit checks, resumable sealed
submission with signed receipts, withdrawal, and the deadline checkpoint.

Each method runs in the caller's transaction.  The deadline is decided under the tender's row
lock with the injected clock, in the same transaction that records the bid.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bidding import envelope, signing, uploads
from bidding.credit import EMPTY_VERSION, CreditListError, parse_list
from bidding.models import (
    Bid,
    BidBond,
    BidderKey,
    BidState,
    BondKind,
    CreditCheck,
    CreditList,
    CreditListEntry,
    CustodianKey,
    DeadlineCheckpoint,
    KeyStatus,
    TenderRemedy,
    UploadSession,
    UploadState,
)
from bidding.opened import OpenedBids
from bidding.ports import CommitteeLookup
from bidding.receipt import RECEIPT_PURPOSE, body_digest, build_receipt
from tenderhall.auth.models import User
from tenderhall.auth.policy import Resource, Subject, enforce
from tenderhall.auth.roles import Role
from tenderhall.errors import Conflict, InvalidInput, NotFound
from tenderhall.ledger import merkle
from tenderhall.ledger.models import LedgerEntry
from tenderhall.orgs.models import Centre, Company
from tenderhall.tenders.lifecycle import TenderState
from tenderhall.tenders.models import Tender

if TYPE_CHECKING:
    from bidding.opening import Opening
    from tenderhall.services import Services


UPLOAD_EXPIRED = "expired"  # an UploadSession state beside UploadState's open / complete
EXPIRY_BATCH = 500  # uploads expired per sweep; the next sweep takes the rest
MAX_ENVELOPE = 4 * 1024**3  # 4 GiB: generous for scanned documents, bounded for the disk
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


class Bidding:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.clock = services.clock
        self.ledger = services.ledger
        self.tenders = services.tenders
        self.partials = uploads.PartialUploads(services.settings.storage_dir / ".partial")
        # Per company, so that one bidder cannot reserve the disk (20 uploads declaring 4 GiB each).
        self.max_open_uploads = services.settings.upload_max_open
        self.max_upload_bytes = services.settings.upload_max_bytes
        self.opening: Opening | None = None
        self.opened = OpenedBids(self)  # evaluation's OpenedBidSource (see bidding.opened)
        self.committee: CommitteeLookup | None = None

    @classmethod
    def attach(cls, services: Services) -> Bidding:
        from bidding.opening import Opening

        bidding = cls(services)
        bidding.opening = Opening(bidding)
        services.tenders.add_listener(bidding.on_transition)
        return bidding

    def use_committee(self, lookup: CommitteeLookup) -> None:
        """Who sits on a tender's evaluation committee is evaluation's answer; the composition
        root registers it here, so bidding's policy objects can name the committee (the import
        goes evaluation → bidding only).  Without it, no expert ever reads a bid."""
        self.committee = lookup

    @property
    def hall(self) -> Opening:
        assert self.opening is not None
        return self.opening

    # -- shared lookups -----------------------------------------------------------------------
    async def bid_resource(self, db: AsyncSession, tender: Tender, bid: Bid, who: Subject) -> Resource:
        """The bid as the policy sees it; ``user_id`` is the asker's only if the asker holds an
        active seat on the tender's evaluation committee (so SELF reads "my committee")."""
        base = await self.tenders.resource(db, tender, who)
        member = (
            who.role in (Role.EXPERT, Role.TENDERER)  # experts, and the tenderer's representatives
            and who.user_id is not None
            and self.committee is not None
            and await self.committee(db, tender.id, who.user_id)
        )
        return dataclasses.replace(
            base, kind="bid", company_id=bid.company_id, user_id=who.user_id if member else None
        )

    async def own_bid(self, db: AsyncSession, who: Subject, tender: Tender, bid_ref: str, action: str) -> Bid:
        """A bid the subject may act on; 404 when it may not even see it (another company's)."""
        bid = await db.scalar(select(Bid).where(Bid.tender_id == tender.id, Bid.bid_ref == bid_ref))
        if bid is None:
            raise NotFound("error.not_found", kind="bid")
        enforce(who, action, await self.bid_resource(db, tender, bid, who), hide="bid.view")
        return bid

    async def remedy(self, db: AsyncSession, tender_id: uuid.UUID) -> TenderRemedy | None:
        return await db.scalar(select(TenderRemedy).where(TenderRemedy.tender_id == tender_id))

    async def active_key(self, db: AsyncSession, company_id: uuid.UUID) -> BidderKey | None:
        return await db.scalar(
            select(BidderKey).where(
                BidderKey.company_id == company_id, BidderKey.status == KeyStatus.ACTIVE.value
            )
        )

    # -- bidder keys ----------------------------------------------------------------------------
    async def register_key(
        self, db: AsyncSession, who: Subject, opening: str, signing_public: str, proof: str
    ) -> BidderKey:
        """Register the company's public keys; the previous active key is rotated (logged)."""
        company = await self._company(db, who)
        enforce(who, "bidder_key.register", Resource(kind="bidder_key", company_id=company.id))
        try:
            recipient = str(envelope.X25519Recipient.parse(opening))
            statement = signing.registration_statement(str(company.id), recipient, signing_public)
            signing.verify(signing_public, statement, proof)
        except (envelope.ParameterError, signing.SignatureError):
            raise InvalidInput("bidder_key.invalid") from None
        now = self.clock.now()
        previous = await self.active_key(db, company.id)
        if previous is not None:
            previous.status = KeyStatus.ROTATED.value
            previous.retired_at = now
            previous.retired_reason = "rotated"
        assert who.user_id is not None
        key = BidderKey(
            company_id=company.id,
            opening_recipient=recipient,
            signing_public=signing_public,
            fingerprint=signing.key_fingerprint(recipient, signing_public),
            status=KeyStatus.ACTIVE.value,
            registered_by=who.user_id,
            registered_at=now,
        )
        db.add(key)
        await db.flush()
        await self.ledger.append(
            db,
            "bidder_key.rotated" if previous else "bidder_key.registered",
            {
                "company": str(company.id),
                "fingerprint": key.fingerprint,
                "previous": previous.fingerprint if previous else None,
            },
            actor=who.user_id,
            subject=f"company:{company.id}",
        )
        return key

    async def keys(self, db: AsyncSession, who: Subject, company_id: uuid.UUID) -> list[BidderKey]:
        company = await db.get(Company, company_id)
        if company is None:
            raise NotFound("error.not_found", kind="company")
        # The address names a company: a hidden one answers as an unknown one does.
        enforce(
            who,
            "bidder_key.view",
            Resource(kind="company", company_id=company.id, region_id=company.region_id),
            hide="bidder_key.view",
        )
        rows = await db.execute(
            select(BidderKey).where(BidderKey.company_id == company_id).order_by(BidderKey.registered_at)
        )
        return list(rows.scalars())

    async def revoke_key(self, db: AsyncSession, who: Subject, key_id: uuid.UUID, reason: str) -> BidderKey:
        key = await db.get(BidderKey, key_id)
        if key is None:
            raise NotFound("error.not_found", kind="bidder_key")
        enforce(
            who,
            "bidder_key.revoke",
            Resource(kind="bidder_key", company_id=key.company_id),
            hide="bidder_key.view",
        )
        if key.status == KeyStatus.REVOKED.value:
            return key
        key.status = KeyStatus.REVOKED.value
        key.retired_at = self.clock.now()
        key.retired_reason = reason.strip() or "revoked"
        await db.flush()
        await self.ledger.append(
            db,
            "bidder_key.revoked",
            {"company": str(key.company_id), "fingerprint": key.fingerprint},
            actor=who.user_id,
            subject=f"company:{key.company_id}",
        )
        return key

    async def register_custodian_key(self, db: AsyncSession, who: Subject, public_key: str) -> CustodianKey:
        enforce(who, "custodian_key.register", Resource(kind="user", user_id=who.user_id))
        assert who.user_id is not None
        try:
            text = str(envelope.X25519Recipient.parse(public_key))
        except envelope.ParameterError:
            raise InvalidInput("custodian_key.invalid") from None
        rows = await db.execute(
            select(CustodianKey).where(
                CustodianKey.user_id == who.user_id, CustodianKey.status == KeyStatus.ACTIVE.value
            )
        )
        for old in rows.scalars():
            old.status = KeyStatus.ROTATED.value
        key = CustodianKey(
            user_id=who.user_id,
            public_key=text,
            status=KeyStatus.ACTIVE.value,
            registered_at=self.clock.now(),
        )
        db.add(key)
        await db.flush()
        await self.ledger.append(
            db, "custodian_key.registered", {"custodian": str(who.user_id), "key": text}, actor=who.user_id
        )
        return key

    # -- the tender's remedy (published with the notice) ------------------------------------------
    async def set_remedy(
        self, db: AsyncSession, who: Subject, tender_id: uuid.UUID, k: int, custodian_users: list[uuid.UUID]
    ) -> TenderRemedy:
        tender = await self.tenders.load(db, who, tender_id, "tender.remedy.edit", lock=True)
        n = len(custodian_users)
        if len(set(custodian_users)) != n or not 2 <= k <= n or n > 255:
            raise InvalidInput("remedy.threshold_invalid")
        slots = []
        for user_id in custodian_users:
            user = await db.get(User, user_id)
            key = await db.scalar(
                select(CustodianKey).where(
                    CustodianKey.user_id == user_id, CustodianKey.status == KeyStatus.ACTIVE.value
                )
            )
            if user is None or user.role != Role.CUSTODIAN.value or key is None:
                raise InvalidInput("remedy.custodian_unknown", user=str(user_id))
            slots.append({"id": str(user_id), "user_id": str(user_id), "public_key": key.public_key})
        remedy = await self.remedy(db, tender.id)
        if remedy is None:
            remedy = TenderRemedy(tender_id=tender.id, k=k, custodians=slots)
            db.add(remedy)
        else:
            remedy.k, remedy.custodians = k, slots
        await db.flush()
        await self.ledger.append(
            db,
            "tender.remedy_set",
            {"tender": str(tender.id), "k": k, "custodians": [s["id"] for s in slots]},
            actor=who.user_id,
            subject=f"tender:{tender.id}",
        )
        return remedy

    async def sealing(self, db: AsyncSession, who: Subject, tender_id: uuid.UUID) -> dict[str, Any]:
        """What a bidder needs to seal for this tender (part of the notice)."""
        tender = await self.tenders.load(db, who, tender_id, "tender.sealing.view")
        remedy = await self.remedy(db, tender.id)
        rules = await self.tenders.rules(db, tender)
        return {
            "tender": str(tender.id),
            "reference": tender.reference,
            "deadline_at": tender.deadline_at,
            "opening_at": tender.opening_at,
            "decryption_window_minutes": rules.decryption_window_minutes,
            "bond_cap": f"{self.bond_cap(tender.estimate_fen, rules.bond_cap_percent) / 100:.2f}",
            "remedy": None
            if remedy is None
            else {
                "k": remedy.k,
                "n": len(remedy.custodians),
                "custodians": [{"id": c["id"], "public_key": c["public_key"]} for c in remedy.custodians],
            },
            "max_envelope_bytes": MAX_ENVELOPE,
        }

    @staticmethod
    def bond_cap(estimate_fen: int, percent: Decimal) -> int:
        """招标投标法实施条例 第二十六条: at most 2% of the estimate (rounded down to the fen)."""
        return int(Decimal(estimate_fen) * percent / 100)

    # -- credit blacklist -------------------------------------------------------------------------
    async def import_credit_list(
        self,
        db: AsyncSession,
        who: Subject,
        content: bytes,
        fmt: str,
        source: str,
        published_on: date,
    ) -> CreditList:
        enforce(who, "credit.import", Resource(kind="credit_list", region_id=who.region_id))
        try:
            parsed = parse_list(content, fmt, source, published_on)
        except CreditListError as exc:
            raise InvalidInput("credit.list_invalid", detail=str(exc)) from None
        assert who.user_id is not None
        row = CreditList(
            region_id=who.region_id,
            source=parsed.source,
            published_on=parsed.published_on,
            version_hash=parsed.version,
            entry_count=len(parsed.entries),
            imported_by=who.user_id,
            imported_at=self.clock.now(),
        )
        db.add(row)
        await db.flush()
        db.add_all(
            CreditListEntry(
                list_id=row.id,
                uscc=e.uscc,
                name=e.name,
                reason=e.reason,
                listed_on=e.listed_on,
                until=e.until,
            )
            for e in parsed.entries
        )
        await db.flush()
        await self.ledger.append(
            db,
            "credit.list_imported",
            {
                "version": row.version_hash,
                "source": row.source,
                "published_on": row.published_on.isoformat(),
                "entries": row.entry_count,
            },
            actor=who.user_id,
        )
        return row

    async def credit_check(
        self, db: AsyncSession, tender: Tender, company: Company, bid_id: uuid.UUID | None = None
    ) -> CreditCheck:
        """Check against the newest list of the tender's region; the check is stored as evidence."""
        centre = await db.get(Centre, tender.centre_id)
        region = centre.region_id if centre else None
        current = await db.scalar(
            select(CreditList)
            .where((CreditList.region_id == region) | (CreditList.region_id.is_(None)))
            .order_by(CreditList.imported_at.desc(), CreditList.id.desc())
            .limit(1)
        )
        now = self.clock.now()
        reason = None
        if current is not None:
            today = now.date()
            rows = await db.execute(
                select(CreditListEntry).where(
                    CreditListEntry.list_id == current.id, CreditListEntry.uscc == company.uscc
                )
            )
            active = [
                e for e in rows.scalars() if e.listed_on <= today and (e.until is None or today <= e.until)
            ]
            if active:
                reason = "; ".join(e.reason for e in active)
        check = CreditCheck(
            tender_id=tender.id,
            company_id=company.id,
            bid_id=bid_id,
            list_version_hash=current.version_hash if current else EMPTY_VERSION,
            listed=reason is not None,
            reason=reason,
            checked_at=now,
        )
        db.add(check)
        await db.flush()
        return check

    # -- submission ------------------------------------------------------------------------------
    async def _company(self, db: AsyncSession, who: Subject) -> Company:
        company = await db.get(Company, who.company_id) if who.company_id else None
        if company is None:
            raise InvalidInput("user.bidder_needs_company")
        return company

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
        company = await self._company(db, who)
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
        key = await self.active_key(db, company.id)
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
            self._check_bond(bond, self.bond_cap(tender.estimate_fen, rules.bond_cap_percent))
        check = await self.credit_check(db, tender, company)
        if check.listed:
            await db.commit()  # the refusal's evidence is kept
            raise Conflict("bid.credit_listed", reason=check.reason or "")
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
        # End the read transaction before streaming: on SQLite every transaction holds the write
        # lock, and an upload may take minutes.
        await db.commit()
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

    async def complete(self, db: AsyncSession, who: Subject, upload_id: uuid.UUID, evidence: Evidence) -> Bid:
        """Verify the upload and accept it as a bid — or refuse it at the deadline, never both."""
        session = await self.upload(db, who, upload_id)
        if session.state == UploadState.COMPLETE.value and session.bid_id is not None:
            bid = await db.get(Bid, session.bid_id)
            assert bid is not None
            return bid  # an idempotent retry: the same bid and receipt
        await self._check_open(db, session)
        remedy = await self.remedy(db, session.tender_id)
        await db.commit()  # as in append: no transaction (and no SQLite lock) while hashing
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
                stored = await self.services.storage.put_file(self.partials.path(session.id), session.size)
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
        company = await self._company(db, who)
        check = await self.credit_check(db, tender, company)
        if check.listed:
            await db.commit()  # the refusal's evidence is kept
            raise Conflict("bid.credit_listed", reason=check.reason or "")
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
        bid = await self.own_bid(db, who, tender, bid_ref, "bid.view")
        if tender.state != TenderState.PUBLISHED.value:
            raise Conflict("bid.deadline_passed")
        enforce(who, "bid.withdraw", await self.bid_resource(db, tender, bid, who))
        if bid.state != BidState.SUBMITTED.value:
            raise Conflict("bid.not_withdrawable", state=bid.state)
        key = await self.active_key(db, bid.company_id)
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

    # -- the deadline ---------------------------------------------------------------------------
    async def on_transition(self, db: AsyncSession, tender: Tender, transition: str) -> None:
        if transition == "close":
            await self.deadline_checkpoint(db, tender)

    async def deadline_checkpoint(self, db: AsyncSession, tender: Tender) -> DeadlineCheckpoint:
        """Record the set of accepted envelopes at the deadline; only these can ever be opened."""
        rows = await db.execute(
            select(Bid.envelope_sha256).where(
                Bid.tender_id == tender.id, Bid.state == BidState.SUBMITTED.value
            )
        )
        hashes = sorted(rows.scalars())
        root = merkle.root_of(merkle.leaf_hash(bytes.fromhex(h)) for h in hashes).hex()
        appended = await self.ledger.append(
            db,
            "bids.deadline_checkpoint",
            {"tender": str(tender.id), "reference": tender.reference, "envelopes": hashes, "root": root},
            subject=f"tender:{tender.id}",
        )
        checkpoint = await self.ledger.checkpoint(db, f"tender {tender.reference} deadline envelopes")
        row = DeadlineCheckpoint(
            tender_id=tender.id,
            envelope_hashes=hashes,
            set_root=root,
            ledger_index=appended.index,
            checkpoint_note=checkpoint.note,
            taken_at=self.clock.now(),
        )
        db.add(row)
        await db.flush()
        return row

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
        async with self.services.transaction() as db:
            due = await self.expired_uploads(db)
        removed = [u for u in due if await asyncio.to_thread(self.partials.discard, u)]
        if removed:
            async with self.services.transaction() as db:
                await db.execute(
                    update(UploadSession)
                    .where(UploadSession.id.in_(removed), UploadSession.state == UploadState.OPEN.value)
                    .values(state=UPLOAD_EXPIRED)
                )
        return len(removed)
