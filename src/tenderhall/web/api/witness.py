"""The witness role over HTTP (C2SP tlog-witness): submission and monitoring share one prefix.

Refusals keep the status codes the spec prescribes; a 409 answers with the witness's latest size
as ``text/x.tlog.size`` (the spec's format, which a log parses), every other refusal as problem
details.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, MediaType, Request, Response, get, post
from litestar.openapi.datastructures import ResponseSpec
from sqlalchemy.ext.asyncio import AsyncSession

from tenderhall.db import unit_of_work
from tenderhall.errors import DomainError, Forbidden, InvalidInput, NotFound
from tenderhall.ledger.tlog_witness import SIZE_MEDIA_TYPE, Refusal, format_size
from tenderhall.services import Services
from tenderhall.web.openapi import PUBLIC

# Bounds the body read before parsing: a checkpoint note is at most 1 MiB, plus 64 proof lines.
MAX_BODY = (1 << 20) + 64 * 64

_REFUSALS: dict[int, type[DomainError]] = {400: DomainError, 403: Forbidden, 404: NotFound, 422: InvalidInput}


class WitnessController(Controller):
    path = "/api/v1/witness"
    tags = ["witness"]
    opt = PUBLIC  # logs submit without an account: the checkpoint's signature is what counts

    @post(
        "/add-checkpoint",
        summary="Cosign a checkpoint of a witnessed log, given a consistency proof (C2SP tlog-witness)",
        media_type=MediaType.TEXT,
        status_code=200,
        request_max_body_size=MAX_BODY,
        responses={
            409: ResponseSpec(
                str, media_type=SIZE_MEDIA_TYPE, description="The witness has a newer checkpoint: its size"
            )
        },
    )
    async def add_checkpoint(
        self, request: Request[Any, Any, Any], services: Services, db_session: AsyncSession
    ) -> Response[str]:
        body = await request.body()
        try:
            line = await services.witness.add_checkpoint(db_session, body)
        except Refusal as refusal:
            if refusal.status == 409:  # an error answer: the request's unit of work rolls back
                return Response(format_size(refusal.size or 0), status_code=409, media_type=SIZE_MEDIA_TYPE)
            raise _REFUSALS[refusal.status](refusal.key, detail=refusal.detail) from None
        # The spec: the witness persists the new checkpoint before it answers.
        await unit_of_work.end_phase(db_session)
        return Response(line, status_code=200, media_type=MediaType.TEXT)

    @get(
        "/{origin_hash:str}/checkpoint",
        summary="The latest checkpoint this witness cosigned for a log (SHA-256 of its origin, hex)",
        media_type=MediaType.TEXT,
    )
    async def latest(self, origin_hash: str, services: Services, db_session: AsyncSession) -> str:
        note = await services.witness.latest(db_session, origin_hash.lower())
        if note is None:
            raise NotFound("witness.never_cosigned")
        return note

    @get(
        "/key",
        summary="This witness's cosignature verifier key (C2SP tlog-cosignature, type 0x04)",
        media_type=MediaType.TEXT,
    )
    async def key(self, services: Services) -> Response[str]:
        return Response(services.witness.verifier.key_string() + "\n", media_type=MediaType.TEXT)
