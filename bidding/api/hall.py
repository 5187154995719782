"""The live opening hall: its snapshot and server-sent events, file keys, custodians' shares, the
causes of bids left sealed, the opening record (唱标) with its signatures and objections."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator

import msgspec
from litestar import Controller, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.response import ServerSentEvent
from litestar.response.sse import ServerSentEventMessage
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.api.inputs import CauseIn, FileKeyIn, ShareIn, SignatureIn, TextIn
from bidding.api.schemas import (
    AnswerOut,
    CauseOut,
    FileKeyOut,
    FinishOut,
    HallOut,
    RecordOut,
    ResponseOut,
    ShareOut,
    ShareRequestOut,
)
from bidding.live import seconds_to_next_step
from bidding.service import Bidding
from tenderhall.auth.policy import Subject
from tenderhall.services import Services

HALL_TICK_SECONDS = 30.0  # safety net only: changes arrive as channel events
CLOCK_SLACK = 0.25  # wake just after a clock-driven step is due, not just before
HALL_COALESCE_SECONDS = 0.2


class HallController(Controller):
    path = "/api/v1/tenders/{tender_id:uuid}/hall"
    tags = ["opening hall"]

    @get("/", summary="The hall now: countdown, window, who has decrypted, record, responses")
    async def snapshot(
        self, tender_id: uuid.UUID, who: Subject, bidding: Bidding, db_session: AsyncSession
    ) -> HallOut:
        return msgspec.convert(await bidding.hall.snapshot(db_session, who, tender_id), HallOut)

    @get(
        "/events",
        summary="The hall, live (server-sent events)",
        # Each ``hall`` event's data is the snapshot of ``GET .../hall`` as JSON text.
        responses={
            200: ResponseSpec(
                str, media_type="text/event-stream", description="hall events", generate_examples=False
            )
        },
    )
    async def events(
        self, tender_id: uuid.UUID, who: Subject, bidding: Bidding, services: Services, once: bool = False
    ) -> ServerSentEvent:
        opening = bidding.hall
        async with services.transaction() as db:
            await opening.snapshot(db, who, tender_id)  # 404/403 before the stream starts

        async def stream() -> AsyncIterator[ServerSentEventMessage]:
            async with opening.live.subscribe(tender_id) as changed:
                while True:
                    changed.clear()  # before reading: a change during the read wakes us again
                    async with services.transaction() as db:
                        snap = await opening.snapshot(db, who, tender_id)
                    yield ServerSentEventMessage(data=json.dumps(snap, ensure_ascii=False), event="hall")
                    if once:
                        return
                    # Changes by the clock alone (countdown, end of the window) announce nothing:
                    # wake up when the next one is due, and on a slow tick as a safety net.
                    due = seconds_to_next_step(snap)
                    wait = HALL_TICK_SECONDS if due is None else min(HALL_TICK_SECONDS, due + CLOCK_SLACK)
                    try:
                        await asyncio.wait_for(changed.wait(), timeout=wait)
                    except TimeoutError:
                        continue
                    # One read for a burst of changes (keys arrive together when the hall opens).
                    await asyncio.sleep(HALL_COALESCE_SECONDS)

        return ServerSentEvent(stream())

    @post("/bids/{bid_ref:str}/key", summary="Send the bid's file key (inside the decryption window)")
    async def file_key(
        self,
        tender_id: uuid.UUID,
        bid_ref: str,
        data: FileKeyIn,
        who: Subject,
        bidding: Bidding,
        db_session: AsyncSession,
    ) -> FileKeyOut:
        bid = await bidding.hall.send_file_key(db_session, who, tender_id, bid_ref, data.file_key)
        return FileKeyOut(bid=bid.bid_ref, state=bid.state, form_error=bid.form_error)

    @get("/share-requests", summary="Bids this custodian is asked to help open (headers only)")
    async def share_requests(
        self, tender_id: uuid.UUID, who: Subject, bidding: Bidding, db_session: AsyncSession
    ) -> list[ShareRequestOut]:
        requests = await bidding.hall.share_requests(db_session, who, tender_id)
        return msgspec.convert(requests, list[ShareRequestOut])

    @post("/bids/{bid_ref:str}/share", summary="Release this custodian's share for one bid")
    async def share(
        self,
        tender_id: uuid.UUID,
        bid_ref: str,
        data: ShareIn,
        who: Subject,
        bidding: Bidding,
        db_session: AsyncSession,
    ) -> ShareOut:
        result = await bidding.hall.release_share(db_session, who, tender_id, bid_ref, data.index, data.value)
        return msgspec.convert(result, ShareOut)

    @post("/bids/{bid_ref:str}/cause", summary="Record why a bid could not be decrypted (staff)")
    async def cause(
        self,
        tender_id: uuid.UUID,
        bid_ref: str,
        data: CauseIn,
        who: Subject,
        bidding: Bidding,
        db_session: AsyncSession,
    ) -> CauseOut:
        bid = await bidding.hall.set_cause(db_session, who, tender_id, bid_ref, data.cause, data.note)
        return CauseOut(bid=bid.bid_ref, cause=bid.failure_cause)

    @post("/record", summary="Publish the opening record (唱标)")
    async def record(
        self, tender_id: uuid.UUID, who: Subject, bidding: Bidding, db_session: AsyncSession
    ) -> RecordOut:
        current = await bidding.hall.publish_record(db_session, who, tender_id)
        return RecordOut(record=current.record, record_sha256=current.record_sha256)

    @post("/record/sign", summary="Sign the opening record (Ed25519)")
    async def sign(
        self,
        tender_id: uuid.UUID,
        data: SignatureIn,
        who: Subject,
        bidding: Bidding,
        db_session: AsyncSession,
    ) -> ResponseOut:
        r = await bidding.hall.respond(db_session, who, tender_id, signature=data.signature)
        return ResponseOut(id=r.id, kind=r.kind)

    @post("/record/objections", summary="Object to the opening record (异议)")
    async def object(
        self, tender_id: uuid.UUID, data: TextIn, who: Subject, bidding: Bidding, db_session: AsyncSession
    ) -> ResponseOut:
        r = await bidding.hall.respond(db_session, who, tender_id, objection=data.text)
        return ResponseOut(id=r.id, kind=r.kind)

    @post("/objections/{response_id:uuid}/answer", summary="Answer an objection (staff)")
    async def answer(
        self,
        tender_id: uuid.UUID,
        response_id: uuid.UUID,
        data: TextIn,
        who: Subject,
        bidding: Bidding,
        db_session: AsyncSession,
    ) -> AnswerOut:
        r = await bidding.hall.answer(db_session, who, tender_id, response_id, data.text)
        return AnswerOut(id=r.id, answer=r.answer)

    @post("/finish", summary="Close the opening once every bidder has signed (staff)")
    async def finish(
        self, tender_id: uuid.UUID, who: Subject, bidding: Bidding, db_session: AsyncSession
    ) -> FinishOut:
        current = await bidding.hall.finish(db_session, who, tender_id)
        return FinishOut(phase=current.phase, outcome=current.outcome)
