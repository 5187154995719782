"""Bidder keys (opening and signing, rotated and revoked) and custodians' keys."""

from __future__ import annotations

import uuid

from litestar import Controller, get, post
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.api.inputs import CustodianKeyIn, KeyIn, ReasonIn
from bidding.api.schemas import BidderKeyOut, CustodianKeyOut
from bidding.models import BidderKey
from bidding.service import Bidding
from tenderhall.auth.policy import Subject


def key_out(key: BidderKey) -> BidderKeyOut:
    return BidderKeyOut(
        id=key.id,
        company_id=key.company_id,
        opening=key.opening_recipient,
        signing=key.signing_public,
        fingerprint=key.fingerprint,
        status=key.status,
        registered_at=key.registered_at.isoformat(),
        retired_at=key.retired_at.isoformat() if key.retired_at else None,
    )


class KeyController(Controller):
    path = "/api/v1/bidding"
    tags = ["bidding"]

    @post("/keys", summary="Register the company's opening and signing public keys (rotates the old)")
    async def register(
        self, data: KeyIn, who: Subject, bidding: Bidding, db_session: AsyncSession
    ) -> BidderKeyOut:
        key = await bidding.bidder_keys.register_key(db_session, who, data.opening, data.signing, data.proof)
        return key_out(key)

    @get("/companies/{company_id:uuid}/keys", summary="A company's bidder keys, with their history")
    async def keys(
        self, company_id: uuid.UUID, who: Subject, bidding: Bidding, db_session: AsyncSession
    ) -> list[BidderKeyOut]:
        return [key_out(k) for k in await bidding.bidder_keys.keys(db_session, who, company_id)]

    @post("/keys/{key_id:uuid}/revoke", summary="Revoke a bidder key (logged)")
    async def revoke(
        self, key_id: uuid.UUID, data: ReasonIn, who: Subject, bidding: Bidding, db_session: AsyncSession
    ) -> BidderKeyOut:
        return key_out(await bidding.bidder_keys.revoke_key(db_session, who, key_id, data.reason))

    @post("/custodian-keys", summary="Register the custodian's X25519 public key (age1...)")
    async def custodian_key(
        self, data: CustodianKeyIn, who: Subject, bidding: Bidding, db_session: AsyncSession
    ) -> CustodianKeyOut:
        key = await bidding.bidder_keys.register_custodian_key(db_session, who, data.public_key)
        return CustodianKeyOut(id=key.id, user_id=key.user_id, public_key=key.public_key)
