"""Bidding API: keys, the tender's remedy, resumable sealed submission, withdrawal, credit lists,
and the live opening hall (server-sent events).  Thin: every decision is in the services."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import date
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, patch, post, put
from litestar.params import Parameter
from litestar.response import ServerSentEvent, Stream
from litestar.response.sse import ServerSentEventMessage
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.hall import Cause
from bidding.live import seconds_to_next_step
from bidding.models import Bid, BidderKey, BondKind, UploadSession
from bidding.opening import Opening
from bidding.service import Bidding as BiddingService
from bidding.submission import BondIn, Evidence, Submission
from tenderhall.auth.policy import Subject
from tenderhall.bounds import fen
from tenderhall.db import unit_of_work
from tenderhall.services import Services
from tenderhall.web.api.schemas import Input, Money, one_of
from tenderhall.web.openapi import PUBLIC

Short = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Sig = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
HALL_TICK_SECONDS = 30.0  # safety net only: changes arrive as channel events
CLOCK_SLACK = 0.25  # wake just after a clock-driven step is due, not just before
HALL_COALESCE_SECONDS = 0.2


class KeyIn(Input):
    opening: Short
    signing: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    proof: Sig


class ReasonIn(Input):
    reason: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class CustodianKeyIn(Input):
    public_key: Short


class RemedyIn(Input):
    k: int
    custodians: list[uuid.UUID]


class BondJson(Input):
    kind: Annotated[str, msgspec.Meta(max_length=16), one_of(BondKind)]
    amount: Money
    payer_bank: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    payer_account: Annotated[str, msgspec.Meta(max_length=40)] | None = None
    issuer: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    number: Annotated[str, msgspec.Meta(max_length=100)] | None = None


class UploadIn(Input):
    manifest: dict[str, Any]
    signature: Sig
    idempotency_key: Annotated[str, msgspec.Meta(min_length=8, max_length=100)]
    bond: BondJson | None = None


class SignatureIn(Input):
    signature: Sig


class FileKeyIn(Input):
    file_key: Annotated[str, msgspec.Meta(max_length=64)]


class ShareIn(Input):
    index: int
    value: Annotated[str, msgspec.Meta(max_length=64)]


class CauseIn(Input):
    cause: Annotated[str, msgspec.Meta(max_length=16), one_of(Cause)]
    note: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class TextIn(Input):
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=5000)]


class CreditListIn(Input):
    format: Annotated[str, msgspec.Meta(max_length=8), one_of(("csv", "json"))]
    source: Short
    published_on: date
    content: Annotated[str, msgspec.Meta(max_length=20_000_000)]


def bidding_of(services: Services) -> BiddingService:
    return services.get(BiddingService)


def opening_of(services: Services) -> Opening:
    return bidding_of(services).hall


def key_out(key: BidderKey) -> dict[str, Any]:
    return {
        "id": str(key.id),
        "company_id": str(key.company_id),
        "opening": key.opening_recipient,
        "signing": key.signing_public,
        "fingerprint": key.fingerprint,
        "status": key.status,
        "registered_at": key.registered_at.isoformat(),
        "retired_at": key.retired_at.isoformat() if key.retired_at else None,
    }


def bid_out(bid: Bid) -> dict[str, Any]:
    return {
        "id": str(bid.id),
        "bid": bid.bid_ref,
        "tender": str(bid.tender_id),
        "state": bid.state,
        "envelope_sha256": bid.envelope_sha256,
        "size": bid.envelope_size,
        "submitted_at": bid.submitted_at.isoformat(),
        "receipt": bid.receipt,
    }


def upload_out(submission: Submission, session: UploadSession) -> dict[str, Any]:
    return {
        "id": str(session.id),
        "tender": str(session.tender_id),
        "size": session.size,
        "offset": submission.offset(session),
        "state": session.state,
        "bid_id": str(session.bid_id) if session.bid_id else None,
    }


def _bond(data: BondJson | None) -> BondIn | None:
    if data is None:
        return None
    return BondIn(
        kind=data.kind,
        amount_fen=fen(data.amount),  # the schema's pattern has already bounded it
        payer_bank=data.payer_bank,
        payer_account=data.payer_account,
        issuer=data.issuer,
        number=data.number,
    )


class BidderKeyController(Controller):
    path = "/api/v1/bidding"
    tags = ["bidding"]

    @post("/keys", summary="Register the company's opening and signing public keys (rotates the old)")
    async def register(
        self, data: KeyIn, who: Subject, services: Services, db_session: AsyncSession
    ) -> dict[str, Any]:
        key = await bidding_of(services).bidder_keys.register_key(
            db_session, who, data.opening, data.signing, data.proof
        )
        return key_out(key)

    @get("/companies/{company_id:uuid}/keys", summary="A company's bidder keys, with their history")
    async def keys(
        self, company_id: uuid.UUID, who: Subject, services: Services, db_session: AsyncSession
    ) -> list[dict[str, Any]]:
        return [key_out(k) for k in await bidding_of(services).bidder_keys.keys(db_session, who, company_id)]

    @post("/keys/{key_id:uuid}/revoke", summary="Revoke a bidder key (logged)")
    async def revoke(
        self, key_id: uuid.UUID, data: ReasonIn, who: Subject, services: Services, db_session: AsyncSession
    ) -> dict[str, Any]:
        return key_out(
            await bidding_of(services).bidder_keys.revoke_key(db_session, who, key_id, data.reason)
        )

    @post("/custodian-keys", summary="Register the custodian's X25519 public key (age1...)")
    async def custodian_key(
        self, data: CustodianKeyIn, who: Subject, services: Services, db_session: AsyncSession
    ) -> dict[str, Any]:
        key = await bidding_of(services).bidder_keys.register_custodian_key(db_session, who, data.public_key)
        return {"id": str(key.id), "user_id": str(key.user_id), "public_key": key.public_key}

    @post("/credit-lists", summary="Import a credit blacklist version (CSV or JSON)")
    async def credit_list(
        self, data: CreditListIn, who: Subject, services: Services, db_session: AsyncSession
    ) -> dict[str, Any]:
        row = await bidding_of(services).credit.import_credit_list(
            db_session, who, data.content.encode(), data.format, data.source, data.published_on
        )
        return {"id": str(row.id), "version": row.version_hash, "entries": row.entry_count}


class SubmissionController(Controller):
    path = "/api/v1"
    tags = ["bidding"]

    @put("/tenders/{tender_id:uuid}/remedy", summary="Set the custodian remedy (k of n) of a draft")
    async def remedy(
        self, tender_id: uuid.UUID, data: RemedyIn, who: Subject, services: Services, db_session: AsyncSession
    ) -> dict[str, Any]:
        remedy = await bidding_of(services).sealing_terms.set_remedy(
            db_session, who, tender_id, data.k, data.custodians
        )
        return {"k": remedy.k, "custodians": remedy.custodians}

    @get(
        "/tenders/{tender_id:uuid}/sealing",
        summary="What to seal to: custodians, k/n, deadline, bond cap",
        opt=PUBLIC,
    )
    async def sealing(
        self, tender_id: uuid.UUID, who: Subject, services: Services, db_session: AsyncSession
    ) -> dict[str, Any]:
        return await bidding_of(services).sealing_terms.sealing(db_session, who, tender_id)

    @post("/tenders/{tender_id:uuid}/uploads", summary="Start (or resume, by idempotency key) an upload")
    async def start(
        self, tender_id: uuid.UUID, data: UploadIn, who: Subject, services: Services, db_session: AsyncSession
    ) -> dict[str, Any]:
        submission = bidding_of(services).submission
        session = await submission.start_upload(
            db_session, who, tender_id, data.manifest, data.signature, data.idempotency_key, _bond(data.bond)
        )
        out = upload_out(submission, session)
        if session.bid_id is not None:
            bid = await db_session.get(Bid, session.bid_id)
            out["receipt"] = bid.receipt if bid else None
        return out

    @get("/uploads/{upload_id:uuid}", summary="An upload's offset (resume from there)")
    async def status(
        self, upload_id: uuid.UUID, who: Subject, services: Services, db_session: AsyncSession
    ) -> dict[str, Any]:
        submission = bidding_of(services).submission
        return upload_out(submission, await submission.upload(db_session, who, upload_id))

    @patch("/uploads/{upload_id:uuid}", summary="Append bytes at Upload-Offset (streamed)")
    async def append(
        self,
        request: Request[Any, Any, Any],
        upload_id: uuid.UUID,
        who: Subject,
        services: Services,
        db_session: AsyncSession,
        offset: Annotated[int, Parameter(header="upload-offset", ge=0)],
    ) -> dict[str, Any]:
        size = await bidding_of(services).submission.append(
            db_session, who, upload_id, offset, request.stream()
        )
        return {"offset": size}

    @post(
        "/uploads/{upload_id:uuid}/complete",
        summary="Verify the envelope and accept the bid; returns the receipt",
    )
    async def complete(
        self,
        request: Request[Any, Any, Any],
        upload_id: uuid.UUID,
        who: Subject,
        services: Services,
        db_session: AsyncSession,
    ) -> dict[str, Any]:
        evidence = Evidence(
            ip=request.client.host if request.client else None,
            user_agent=request.headers.get("user-agent"),
            device=request.headers.get("x-device-fingerprint"),
        )
        bid = await bidding_of(services).submission.complete(db_session, who, upload_id, evidence)
        # The bid is in once this phase commits (which also drops the partial file).  Witnesses
        # are asked only then, each within its timeout: one that is down delays this answer at
        # most once per back-off and the receipt then carries the log's signature alone (the
        # sweeper retries the checkpoint).  The cosigned receipt commits with the request.
        await unit_of_work.end_phase(db_session)
        size = int(bid.receipt["ledger"]["size"])
        await services.cosigning.cosign(at_least=size)
        cosigned = await services.cosigning.cosigned_note(db_session, size)
        if cosigned is not None:
            bid.receipt = {**bid.receipt, "ledger": {**bid.receipt["ledger"], "checkpoint": cosigned}}
        return bid_out(bid)

    @get("/tenders/{tender_id:uuid}/bids", summary="My company's bids for this tender, with receipts")
    async def my_bids(
        self, tender_id: uuid.UUID, who: Subject, services: Services, db_session: AsyncSession
    ) -> list[dict[str, Any]]:
        return [bid_out(b) for b in await bidding_of(services).submission.my_bids(db_session, who, tender_id)]

    @post("/tenders/{tender_id:uuid}/bids/{bid_ref:str}/withdraw", summary="Withdraw a bid (signed)")
    async def withdraw(
        self,
        tender_id: uuid.UUID,
        bid_ref: str,
        data: SignatureIn,
        who: Subject,
        services: Services,
        db_session: AsyncSession,
    ) -> dict[str, Any]:
        bid = await bidding_of(services).submission.withdraw(
            db_session, who, tender_id, bid_ref, data.signature
        )
        return bid_out(bid)

    @get("/tenders/{tender_id:uuid}/bids/{bid_ref:str}/content", summary="The opened bid package")
    async def content(
        self, tender_id: uuid.UUID, bid_ref: str, who: Subject, services: Services, db_session: AsyncSession
    ) -> Stream:
        chunks = await opening_of(services).content(db_session, who, tender_id, bid_ref)
        return Stream(chunks, media_type="application/zip")

    @get("/tenders/{tender_id:uuid}/bid-content-reads", summary="Who read which decrypted bid, when")
    async def content_reads(
        self, tender_id: uuid.UUID, who: Subject, services: Services, db_session: AsyncSession
    ) -> list[dict[str, Any]]:
        return [
            {"bid": ref, "reader": name, "user_id": str(r.user_id), "role": r.role, "at": r.at.isoformat()}
            for r, ref, name in await opening_of(services).reads(db_session, who, tender_id)
        ]


class HallController(Controller):
    path = "/api/v1/tenders/{tender_id:uuid}/hall"
    tags = ["opening hall"]

    @get("/", summary="The hall now: countdown, window, who has decrypted, record, responses")
    async def snapshot(
        self, tender_id: uuid.UUID, who: Subject, services: Services, db_session: AsyncSession
    ) -> dict[str, Any]:
        return await opening_of(services).snapshot(db_session, who, tender_id)

    @get("/events", summary="The hall, live (server-sent events)")
    async def events(
        self, tender_id: uuid.UUID, who: Subject, services: Services, once: bool = False
    ) -> ServerSentEvent:
        opening = opening_of(services)
        async with services.transaction() as db:
            await opening.snapshot(db, who, tender_id)  # 404/403 before the stream starts

        async def stream() -> Any:
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
        services: Services,
        db_session: AsyncSession,
    ) -> dict[str, Any]:
        bid = await opening_of(services).send_file_key(db_session, who, tender_id, bid_ref, data.file_key)
        return {"bid": bid.bid_ref, "state": bid.state, "form_error": bid.form_error}

    @get("/share-requests", summary="Bids this custodian is asked to help open (headers only)")
    async def share_requests(
        self, tender_id: uuid.UUID, who: Subject, services: Services, db_session: AsyncSession
    ) -> list[dict[str, Any]]:
        return await opening_of(services).share_requests(db_session, who, tender_id)

    @post("/bids/{bid_ref:str}/share", summary="Release this custodian's share for one bid")
    async def share(
        self,
        tender_id: uuid.UUID,
        bid_ref: str,
        data: ShareIn,
        who: Subject,
        services: Services,
        db_session: AsyncSession,
    ) -> dict[str, Any]:
        return await opening_of(services).release_share(
            db_session, who, tender_id, bid_ref, data.index, data.value
        )

    @post("/bids/{bid_ref:str}/cause", summary="Record why a bid could not be decrypted (staff)")
    async def cause(
        self,
        tender_id: uuid.UUID,
        bid_ref: str,
        data: CauseIn,
        who: Subject,
        services: Services,
        db_session: AsyncSession,
    ) -> dict[str, Any]:
        bid = await opening_of(services).set_cause(db_session, who, tender_id, bid_ref, data.cause, data.note)
        return {"bid": bid.bid_ref, "cause": bid.failure_cause}

    @post("/record", summary="Publish the opening record (唱标)")
    async def record(
        self, tender_id: uuid.UUID, who: Subject, services: Services, db_session: AsyncSession
    ) -> dict[str, Any]:
        current = await opening_of(services).publish_record(db_session, who, tender_id)
        return {"record": current.record, "record_sha256": current.record_sha256}

    @post("/record/sign", summary="Sign the opening record (Ed25519)")
    async def sign(
        self,
        tender_id: uuid.UUID,
        data: SignatureIn,
        who: Subject,
        services: Services,
        db_session: AsyncSession,
    ) -> dict[str, Any]:
        r = await opening_of(services).respond(db_session, who, tender_id, signature=data.signature)
        return {"id": str(r.id), "kind": r.kind}

    @post("/record/objections", summary="Object to the opening record (异议)")
    async def object(
        self, tender_id: uuid.UUID, data: TextIn, who: Subject, services: Services, db_session: AsyncSession
    ) -> dict[str, Any]:
        r = await opening_of(services).respond(db_session, who, tender_id, objection=data.text)
        return {"id": str(r.id), "kind": r.kind}

    @post("/objections/{response_id:uuid}/answer", summary="Answer an objection (staff)")
    async def answer(
        self,
        tender_id: uuid.UUID,
        response_id: uuid.UUID,
        data: TextIn,
        who: Subject,
        services: Services,
        db_session: AsyncSession,
    ) -> dict[str, Any]:
        r = await opening_of(services).answer(db_session, who, tender_id, response_id, data.text)
        return {"id": str(r.id), "answer": r.answer}

    @post("/finish", summary="Close the opening once every bidder has signed (staff)")
    async def finish(
        self, tender_id: uuid.UUID, who: Subject, services: Services, db_session: AsyncSession
    ) -> dict[str, Any]:
        current = await opening_of(services).finish(db_session, who, tender_id)
        return {"phase": current.phase, "outcome": current.outcome}


ROUTES = [BidderKeyController, SubmissionController, HallController]
