"""A company's bids: its list with receipts, withdrawal, and — once opened — the bid package and
the log of who read it."""

from __future__ import annotations

import uuid

from litestar import Controller, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.response import Stream
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.api.inputs import SignatureIn
from bidding.api.schemas import BidOut, ContentReadOut
from bidding.models import Bid
from bidding.service import Bidding
from tenderhall.auth.policy import Subject


def bid_out(bid: Bid) -> BidOut:
    return BidOut(
        id=bid.id,
        bid=bid.bid_ref,
        tender=bid.tender_id,
        state=bid.state,
        envelope_sha256=bid.envelope_sha256,
        size=bid.envelope_size,
        submitted_at=bid.submitted_at.isoformat(),
        receipt=bid.receipt,
    )


class BidController(Controller):
    path = "/api/v1/tenders/{tender_id:uuid}"
    tags = ["bidding"]

    @get("/bids", summary="My company's bids for this tender, with receipts")
    async def my_bids(
        self, tender_id: uuid.UUID, who: Subject, bidding: Bidding, db_session: AsyncSession
    ) -> list[BidOut]:
        return [bid_out(b) for b in await bidding.submission.my_bids(db_session, who, tender_id)]

    @post("/bids/{bid_ref:str}/withdraw", summary="Withdraw a bid (signed)")
    async def withdraw(
        self,
        tender_id: uuid.UUID,
        bid_ref: str,
        data: SignatureIn,
        who: Subject,
        bidding: Bidding,
        db_session: AsyncSession,
    ) -> BidOut:
        return bid_out(await bidding.submission.withdraw(db_session, who, tender_id, bid_ref, data.signature))

    @get(
        "/bids/{bid_ref:str}/content",
        summary="The opened bid package",
        # Decrypted on the fly: the package (a zip) exactly as the bidder sealed it.
        responses={
            200: ResponseSpec(
                bytes, media_type="application/zip", description="The bid package", generate_examples=False
            )
        },
    )
    async def content(
        self, tender_id: uuid.UUID, bid_ref: str, who: Subject, bidding: Bidding, db_session: AsyncSession
    ) -> Stream:
        chunks = await bidding.hall.content(db_session, who, tender_id, bid_ref)
        return Stream(chunks, media_type="application/zip")

    @get("/bid-content-reads", summary="Who read which decrypted bid, when")
    async def content_reads(
        self, tender_id: uuid.UUID, who: Subject, bidding: Bidding, db_session: AsyncSession
    ) -> list[ContentReadOut]:
        return [
            ContentReadOut(bid=ref, reader=name, user_id=r.user_id, role=r.role, at=r.at.isoformat())
            for r, ref, name in await bidding.hall.reads(db_session, who, tender_id)
        ]
