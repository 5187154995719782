"""Bidder keys (opening and signing, rotated and revoked on the record) and custodian keys."""

from __future__ import annotations

import dataclasses
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bidding import envelope, queries, signing
from bidding.models import BidderKey, CustodianKey, KeyStatus
from tenderhall.auth.policy import Resource, Subject, enforce
from tenderhall.clock import Clock
from tenderhall.errors import InvalidInput, NotFound
from tenderhall.ledger.service import Ledger
from tenderhall.orgs.models import Company


@dataclasses.dataclass(eq=False)
class Keys:
    clock: Clock
    ledger: Ledger

    async def register_key(
        self, db: AsyncSession, who: Subject, opening: str, signing_public: str, proof: str
    ) -> BidderKey:
        """Register the company's public keys; the previous active key is rotated (logged)."""
        company = await queries.company_of(db, who)
        enforce(who, "bidder_key.register", Resource(kind="bidder_key", company_id=company.id))
        try:
            recipient = str(envelope.X25519Recipient.parse(opening))
            statement = signing.registration_statement(str(company.id), recipient, signing_public)
            signing.verify(signing_public, statement, proof)
        except (envelope.ParameterError, signing.SignatureError):
            raise InvalidInput("bidder_key.invalid") from None
        now = self.clock.now()
        previous = await queries.active_key(db, company.id)
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
