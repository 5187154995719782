"""The public ledger API: checkpoints, entries, inclusion and consistency proofs."""

from __future__ import annotations

import base64
import json
from typing import Annotated

from litestar import Controller, MediaType, get
from litestar.params import Parameter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tenderhall.errors import InvalidInput, NotFound
from tenderhall.ledger.models import LedgerCheckpoint
from tenderhall.ledger.service import LedgerError
from tenderhall.services import Services
from tenderhall.web.api.schemas import (
    BIGINT_MAX,
    CheckpointOut,
    LedgerEntryOut,
    PageLimit,
    PageOffset,
    ProofOut,
    WitnessStateOut,
)
from tenderhall.web.openapi import PUBLIC

MAX_ENTRIES = 1000


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class LedgerController(Controller):
    path = "/api/v1/ledger"
    tags = ["ledger"]
    opt = PUBLIC  # anyone may check the log

    @get(
        "/checkpoint",
        summary="A signed checkpoint of the current tree (C2SP signed note)",
        media_type=MediaType.TEXT,
    )
    async def checkpoint(self, services: Services, db_session: AsyncSession) -> str:
        size, root = await services.ledger.tree_head(db_session)
        return services.ledger.sign(size, root)

    @get(
        "/checkpoint/cosigned",
        summary="The newest checkpoint cosigned by this ledger's witnesses (C2SP tlog-cosignature)",
        media_type=MediaType.TEXT,
        opt={"errors": (404,)},  # none cosigned yet
    )
    async def cosigned(self, services: Services, db_session: AsyncSession) -> str:
        note = await services.cosigning.newest_cosigned(db_session)
        if note is None:
            raise NotFound("ledger.not_cosigned")
        return note

    @get("/witnesses", summary="The witnesses this ledger asks, and how each last answered")
    async def witnesses(self, services: Services, db_session: AsyncSession) -> list[WitnessStateOut]:
        states = {s.witness: s for s in await services.cosigning.states(db_session)}
        out: list[WitnessStateOut] = []
        for w in services.cosigning.witnesses:
            state = states.get(w.key)
            out.append(
                WitnessStateOut(
                    key=w.key,
                    url=w.url,
                    size=state.size if state else 0,
                    cosigned_at=state.cosigned_at if state else None,
                    failures=state.failures if state else 0,
                    last_error=state.last_error if state else None,
                )
            )
        return out

    @get("/key", summary="The ledger's verifier key (C2SP note verifier key)", media_type=MediaType.TEXT)
    async def key(self, services: Services) -> str:
        return services.ledger.verifier.key_string() + "\n"

    @get("/checkpoints", summary="Milestone checkpoints stored with the events that caused them")
    async def checkpoints(
        self,
        db_session: AsyncSession,
        limit: PageLimit = 50,
        offset: PageOffset = 0,
    ) -> list[CheckpointOut]:
        rows = await db_session.execute(
            select(LedgerCheckpoint)
            .order_by(LedgerCheckpoint.size.desc(), LedgerCheckpoint.signed_at.desc())
            .limit(limit)
            .offset(offset)
        )
        return [
            CheckpointOut(size=c.size, root=b64(c.root), reason=c.reason, signed_at=c.signed_at, note=c.note)
            for c in rows.scalars()
        ]

    @get("/entries", summary="Entries in [start, end)")
    async def entries(
        self,
        services: Services,
        db_session: AsyncSession,
        start: Annotated[int, Parameter(ge=0, le=BIGINT_MAX)] = 0,
        end: Annotated[int | None, Parameter(ge=1, le=BIGINT_MAX)] = None,
    ) -> list[LedgerEntryOut]:
        end = min(start + 100, BIGINT_MAX) if end is None else end
        if end <= start or end - start > MAX_ENTRIES:
            raise InvalidInput("ledger.range_invalid", maximum=MAX_ENTRIES)
        return [
            LedgerEntryOut(
                index=e.id,
                kind=e.kind,
                subject=e.subject,
                leaf_hash=b64(e.leaf_hash),
                body=json.loads(e.body),
            )
            for e in await services.ledger.entries(db_session, start, end)
        ]

    @get("/proof/inclusion", summary="Inclusion proof of leaf `index` in the tree of `size`")
    async def inclusion(
        self,
        services: Services,
        db_session: AsyncSession,
        index: Annotated[int, Parameter(ge=0)],
        size: Annotated[int | None, Parameter(ge=1)] = None,
    ) -> ProofOut:
        if size is None:
            size, _ = await services.ledger.tree_head(db_session)
        try:
            proof = await services.ledger.inclusion_proof(db_session, index, size)
            root = await services.ledger.root_at(db_session, size)
        except LedgerError as exc:
            raise InvalidInput("ledger.proof_invalid", detail=str(exc)) from None
        return ProofOut(size=size, root=b64(root), proof=[b64(p) for p in proof], index=index)

    @get("/proof/consistency", summary="Consistency proof between two tree sizes")
    async def consistency(
        self,
        services: Services,
        db_session: AsyncSession,
        first: Annotated[int, Parameter(ge=1)],
        second: Annotated[int | None, Parameter(ge=1)] = None,
    ) -> ProofOut:
        if second is None:
            second, _ = await services.ledger.tree_head(db_session)
        try:
            proof = await services.ledger.consistency_proof(db_session, first, second)
            root1 = await services.ledger.root_at(db_session, first)
            root2 = await services.ledger.root_at(db_session, second)
        except LedgerError as exc:
            raise InvalidInput("ledger.proof_invalid", detail=str(exc)) from None
        return ProofOut(
            size=second, root=b64(root2), proof=[b64(p) for p in proof], first=first, first_root=b64(root1)
        )
