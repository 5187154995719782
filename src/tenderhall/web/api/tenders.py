"""Tender API: drafting, documents, publication, amendments, clarifications, registration."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Response, get, patch, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Body, Parameter
from litestar.response import Stream
from sqlalchemy.ext.asyncio import AsyncSession

from tenderhall.auth.policy import Resource, Subject, permits
from tenderhall.bounds import clean_text, fen, yuan_text
from tenderhall.errors import InvalidInput, NotFound
from tenderhall.services import Services
from tenderhall.storage import TooLarge
from tenderhall.tenders.lifecycle import TenderState, allowed_transitions
from tenderhall.tenders.models import Amendment, Clarification, Tender, TenderDocument
from tenderhall.tenders.procedures import ProcedureType
from tenderhall.tenders.service import TenderDraft
from tenderhall.web.api.schemas import (
    AmendIn,
    AmendmentOut,
    AnswerIn,
    ClarificationOut,
    DocumentOut,
    PageLimit,
    PageOffset,
    PageOut,
    PublishIn,
    QuestionIn,
    ReasonIn,
    RegistrationOut,
    TenderIn,
    TenderOut,
    TenderPatch,
)
from tenderhall.web.deps import READ
from tenderhall.web.openapi import PUBLIC

MAX_DOCUMENT = 50 * 1024 * 1024
ACTION_OF = {"publish": "tender.publish", "amend": "tender.amend", "terminate": "tender.terminate"}


@dataclass
class DocumentForm:
    """The multipart form of a document upload: one file in the field ``data``."""

    data: UploadFile


async def tender_out(services: Services, db: AsyncSession, who: Subject, tender: Tender) -> TenderOut:
    return (await tenders_out(services, db, who, [tender]))[0]


async def tenders_out(
    services: Services, db: AsyncSession, who: Subject, tenders: Sequence[Tender]
) -> list[TenderOut]:
    """Tenders as the caller sees them, with the policy objects of all of them read at once."""
    resources = await services.tenders.resources(db, tenders, who)
    return [_tender_out(who, t, resources[t.id]) for t in tenders]


def _tender_out(who: Subject, tender: Tender, resource: Resource) -> TenderOut:
    actions = [
        t
        for t in allowed_transitions(TenderState(tender.state))
        if t in ACTION_OF and permits(who, ACTION_OF[t], resource)
    ]
    for extra in ("tender.edit", "tender.register", "clarification.ask", "clarification.answer"):
        if permits(who, extra, resource):
            actions.append(extra.split(".", 1)[1] if extra.startswith("tender.") else extra.replace(".", "_"))
    return TenderOut(
        id=tender.id,
        reference=tender.reference,
        title=tender.title,
        procedure=tender.procedure,
        state=tender.state,
        centre_id=tender.centre_id,
        tenderer_id=tender.tenderer_id,
        agency_id=tender.agency_id,
        estimate=yuan_text(tender.estimate_fen),
        category=tender.category,
        description=tender.description,
        rubric=tender.rubric,
        issued_at=tender.issued_at,
        deadline_at=tender.deadline_at,
        opening_at=tender.opening_at,
        terminated_reason=tender.terminated_reason,
        version=tender.version,
        documents=[
            DocumentOut(id=d.id, name=d.name, media_type=d.media_type, sha256=d.sha256, size=d.size)
            for d in tender.documents
        ],
        allowed_actions=actions,
    )


def amendment_out(a: Amendment) -> AmendmentOut:
    return AmendmentOut(
        number=a.number,
        summary=a.summary,
        affects_preparation=a.affects_preparation,
        issued_at=a.issued_at,
        old_deadline=a.old_deadline,
        new_deadline=a.new_deadline,
    )


def clarification_out(c: Clarification, who: Subject) -> ClarificationOut:
    """Anonymous as to who asked: the caller learns only whether it was itself."""
    return ClarificationOut(
        number=c.number,
        question=c.question,
        asked_at=c.asked_at,
        answer=c.answer,
        answered_at=c.answered_at,
        asked_by_me=who.user_id is not None and c.asked_by == who.user_id,
    )


class TenderController(Controller):
    path = "/api/v1/tenders"
    tags = ["tenders"]

    @get("/", summary="Tenders the caller may see, newest first", opt=PUBLIC, dependencies=READ, cache=True)
    async def list_tenders(
        self,
        who: Subject,
        services: Services,
        db_session: AsyncSession,
        # Enums: an unknown state or procedure is a malformed request (400), not an empty page.
        state_filter: Annotated[TenderState | None, Parameter(query="state")] = None,
        centre_id: uuid.UUID | None = None,
        procedure: ProcedureType | None = None,
        q: Annotated[str | None, Parameter(max_length=100)] = None,
        limit: PageLimit = 20,
        offset: PageOffset = 0,
    ) -> PageOut[TenderOut]:
        page = await services.tenders.search(
            db_session,
            who,
            state=state_filter,
            centre_id=centre_id,
            procedure=procedure,
            q=q,
            limit=limit,
            offset=offset,
        )
        items = await tenders_out(services, db_session, who, page.items)
        return PageOut(items=items, total=page.total, limit=page.limit, offset=page.offset)

    @post("/", summary="Create a draft tender")
    async def create(
        self, data: TenderIn, who: Subject, services: Services, db_session: AsyncSession
    ) -> TenderOut:
        tender = await services.tenders.create(
            db_session,
            who,
            TenderDraft(
                title=data.title,
                procedure=data.procedure,
                estimate_fen=fen(data.estimate),
                tenderer_id=data.tenderer_id,
                centre_id=data.centre_id,
                agency_id=data.agency_id,
                description=data.description,
                category=data.category,
                rubric=data.rubric,
            ),
        )
        return await tender_out(services, db_session, who, tender)

    @get("/{tender_id:uuid}", summary="One tender", opt=PUBLIC, dependencies=READ, cache=True)
    async def get_tender(
        self, tender_id: uuid.UUID, who: Subject, services: Services, db_session: AsyncSession
    ) -> TenderOut:
        tender, resource = await services.tenders.view(db_session, who, tender_id)
        return _tender_out(who, tender, resource)

    @patch("/{tender_id:uuid}", summary="Edit a draft (optimistic: send the version you read)")
    async def edit(
        self,
        tender_id: uuid.UUID,
        data: TenderPatch,
        who: Subject,
        services: Services,
        db_session: AsyncSession,
    ) -> TenderOut:
        changes: dict[str, Any] = {}
        for name in ("title", "description", "category", "rubric"):
            if getattr(data, name) is not None:
                changes[name] = getattr(data, name)
        if data.estimate is not None:
            changes["estimate_fen"] = fen(data.estimate)
        tender = await services.tenders.edit(db_session, who, tender_id, data.version, changes)
        return await tender_out(services, db_session, who, tender)

    @post("/{tender_id:uuid}/documents", summary="Attach a tender document to a draft")
    async def upload(
        self,
        tender_id: uuid.UUID,
        who: Subject,
        services: Services,
        db_session: AsyncSession,
        data: Annotated[DocumentForm, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> DocumentOut:
        tender = await services.tenders.load(db_session, who, tender_id, "tender.edit", lock=True)
        upload = data.data
        name = (upload.filename or "").strip()
        if not name or len(name) > 200 or not clean_text(name) or "/" in name or "\\" in name:
            raise InvalidInput("document.name_invalid")

        async def chunks() -> Any:
            while chunk := await upload.read(1 << 16):
                yield chunk

        try:
            stored = await services.storage.put(chunks(), MAX_DOCUMENT)
        except TooLarge:
            raise InvalidInput("document.too_large", limit=MAX_DOCUMENT) from None
        if stored.size == 0:
            raise InvalidInput("document.empty")
        doc = TenderDocument(
            tender_id=tender.id,
            name=name,
            media_type=upload.content_type or "application/octet-stream",
            sha256=stored.sha256,
            size=stored.size,
        )
        db_session.add(doc)
        tender.version += 1
        await db_session.flush()
        await services.ledger.append(
            db_session,
            "tender.document_added",
            {"tender": str(tender.id), "name": name, "sha256": stored.sha256, "size": stored.size},
            actor=who.user_id,
            subject=f"tender:{tender.id}",
        )
        return DocumentOut(
            id=doc.id, name=doc.name, media_type=doc.media_type, sha256=doc.sha256, size=doc.size
        )

    @get(
        "/{tender_id:uuid}/documents/{document_id:uuid}",
        summary="Download a tender document (its SHA-256 is its ETag)",
        opt=PUBLIC,
        dependencies=READ,
        # The body is the document as uploaded, in its own media type (x-content-sha256: its hash).
        responses={
            200: ResponseSpec(
                bytes, media_type="*/*", description="The document's bytes", generate_examples=False
            ),
            304: ResponseSpec(None, description="Not modified: the copy named in If-None-Match is current"),
        },
    )
    async def download(
        self,
        tender_id: uuid.UUID,
        document_id: uuid.UUID,
        who: Subject,
        services: Services,
        db_session: AsyncSession,
        if_none_match: Annotated[str | None, Parameter(header="if-none-match", max_length=2000)] = None,
    ) -> Response[Any]:
        tender = await services.tenders.load(db_session, who, tender_id)
        doc = next((d for d in tender.documents if d.id == document_id), None)
        if doc is None:
            raise NotFound("error.not_found", kind="document")
        # A document's bytes never change (it is stored by its hash), so its hash is a strong
        # validator.  "no-cache": a cache keeps the copy but asks each time, so access is still
        # decided here on every request.
        etag = f'"{doc.sha256}"'
        headers = {"etag": etag, "cache-control": "no-cache", "x-content-sha256": doc.sha256}
        if if_none_match is not None and _names(if_none_match, etag):
            return Response(b"", status_code=304, headers=headers)
        return Stream(
            services.storage.read(doc.sha256),
            media_type=doc.media_type,
            headers={"content-disposition": f"attachment; filename*=UTF-8''{_quote(doc.name)}", **headers},
        )

    @post(
        "/{tender_id:uuid}/publish",
        summary="Publish the notice; the deadline is checked against the procedure",
    )
    async def publish(
        self,
        tender_id: uuid.UUID,
        data: PublishIn,
        who: Subject,
        services: Services,
        db_session: AsyncSession,
    ) -> TenderOut:
        tender = await services.tenders.publish(db_session, who, tender_id, data.deadline)
        return await tender_out(services, db_session, who, tender)

    @post("/{tender_id:uuid}/amendments", summary="Issue an amendment (may push the deadline)")
    async def amend(
        self, tender_id: uuid.UUID, data: AmendIn, who: Subject, services: Services, db_session: AsyncSession
    ) -> AmendmentOut:
        a = await services.tenders.amend(
            db_session, who, tender_id, data.summary, data.affects_preparation, data.new_deadline
        )
        return amendment_out(a)

    @get("/{tender_id:uuid}/amendments", summary="Amendments of a tender", opt=PUBLIC, dependencies=READ)
    async def amendments(
        self, tender_id: uuid.UUID, who: Subject, services: Services, db_session: AsyncSession
    ) -> list[AmendmentOut]:
        return [amendment_out(a) for a in await services.tenders.amendments(db_session, who, tender_id)]

    @post("/{tender_id:uuid}/terminate", summary="Terminate the tender with a reason")
    async def terminate(
        self, tender_id: uuid.UUID, data: ReasonIn, who: Subject, services: Services, db_session: AsyncSession
    ) -> TenderOut:
        tender = await services.tenders.terminate(db_session, who, tender_id, data.reason)
        return await tender_out(services, db_session, who, tender)

    @post("/{tender_id:uuid}/registrations", summary="Register the caller's company for the tender (报名)")
    async def register(
        self, tender_id: uuid.UUID, who: Subject, services: Services, db_session: AsyncSession
    ) -> RegistrationOut:
        reg = await services.tenders.register(db_session, who, tender_id)
        return RegistrationOut(
            tender_id=reg.tender_id, company_id=reg.company_id, registered_at=reg.registered_at
        )

    @get(
        "/{tender_id:uuid}/registrations",
        summary="Registrations (a bidder sees only its own)",
        dependencies=READ,
    )
    async def registrations(
        self, tender_id: uuid.UUID, who: Subject, services: Services, db_session: AsyncSession
    ) -> list[RegistrationOut]:
        return [
            RegistrationOut(tender_id=r.tender_id, company_id=r.company_id, registered_at=r.registered_at)
            for r in await services.tenders.registrations(db_session, who, tender_id)
        ]

    @get(
        "/{tender_id:uuid}/clarifications",
        summary="Questions and answers (anonymous as to who asked)",
        dependencies=READ,
    )
    async def clarifications(
        self, tender_id: uuid.UUID, who: Subject, services: Services, db_session: AsyncSession
    ) -> list[ClarificationOut]:
        return [
            clarification_out(c, who)
            for c in await services.clarifications.clarifications(db_session, who, tender_id)
        ]

    @post("/{tender_id:uuid}/clarifications", summary="Ask a question")
    async def ask(
        self,
        tender_id: uuid.UUID,
        data: QuestionIn,
        who: Subject,
        services: Services,
        db_session: AsyncSession,
    ) -> ClarificationOut:
        c = await services.clarifications.ask(db_session, who, tender_id, data.question)
        return clarification_out(c, who)

    @post("/{tender_id:uuid}/clarifications/{number:int}/answer", summary="Answer a question")
    async def answer(
        self,
        tender_id: uuid.UUID,
        number: int,
        data: AnswerIn,
        who: Subject,
        services: Services,
        db_session: AsyncSession,
    ) -> ClarificationOut:
        c = await services.clarifications.answer(db_session, who, tender_id, number, data.answer)
        return clarification_out(c, who)


def _names(if_none_match: str, etag: str) -> bool:
    """Whether an If-None-Match header names ``etag`` (weak comparison, RFC 9110 §13.1.2)."""
    tags = [t.strip() for t in if_none_match.split(",")]
    return "*" in tags or etag in (t.removeprefix("W/") for t in tags)


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")
