"""Resumable sealed submission: start (or resume) an upload, append at its offset, complete it
into a bid with its receipt."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, patch, post
from litestar.params import Parameter
from msgspec import UNSET
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.api.bids import bid_out
from bidding.api.deps import evidence_of
from bidding.api.inputs import UploadIn, bond_in
from bidding.api.schemas import BidOut, OffsetOut, StartedUploadOut, UploadOut
from bidding.models import UploadSession
from bidding.service import Bidding
from tenderhall.auth.policy import Subject


def upload_out(bidding: Bidding, session: UploadSession) -> UploadOut:
    return UploadOut(
        id=session.id,
        tender=session.tender_id,
        size=session.size,
        offset=bidding.submission.offset(session),
        state=session.state,
        bid_id=session.bid_id,
    )


class UploadController(Controller):
    path = "/api/v1"
    tags = ["bidding"]

    @post("/tenders/{tender_id:uuid}/uploads", summary="Start (or resume, by idempotency key) an upload")
    async def start(
        self, tender_id: uuid.UUID, data: UploadIn, who: Subject, bidding: Bidding, db_session: AsyncSession
    ) -> StartedUploadOut:
        submission = bidding.submission
        session = await submission.start_upload(
            db_session,
            who,
            tender_id,
            data.manifest,
            data.signature,
            data.idempotency_key,
            bond_in(data.bond),
        )
        # The receipt only when the idempotency key names an upload that is already a bid.
        receipt = UNSET if session.bid_id is None else await submission.receipt_of(db_session, session)
        return StartedUploadOut(**msgspec.structs.asdict(upload_out(bidding, session)), receipt=receipt)

    @get("/uploads/{upload_id:uuid}", summary="An upload's offset (resume from there)")
    async def status(
        self, upload_id: uuid.UUID, who: Subject, bidding: Bidding, db_session: AsyncSession
    ) -> UploadOut:
        return upload_out(bidding, await bidding.submission.upload(db_session, who, upload_id))

    @patch("/uploads/{upload_id:uuid}", summary="Append bytes at Upload-Offset (streamed)")
    async def append(
        self,
        request: Request[Any, Any, Any],
        upload_id: uuid.UUID,
        who: Subject,
        bidding: Bidding,
        db_session: AsyncSession,
        offset: Annotated[int, Parameter(header="upload-offset", ge=0)],
    ) -> OffsetOut:
        size = await bidding.submission.append(db_session, who, upload_id, offset, request.stream())
        return OffsetOut(offset=size)

    @post(
        "/uploads/{upload_id:uuid}/complete",
        summary="Verify the envelope and accept the bid; returns the receipt",
    )
    async def complete(
        self,
        request: Request[Any, Any, Any],
        upload_id: uuid.UUID,
        who: Subject,
        bidding: Bidding,
        db_session: AsyncSession,
    ) -> BidOut:
        return bid_out(await bidding.submission.submit(db_session, who, upload_id, evidence_of(request)))
