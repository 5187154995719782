"""The public archive verification page: upload an archive, see every check's verdict.

The upload is bounded before it is read (its declared length, and the route's body limit for a
body that declares none); the file is checked in memory and never stored.  The page checks
against this platform itself: its archive CA, its ledger key, and its ledger's current tree for
consistency (read from the database, not over the network).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import anyio
from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.response import Response, Template
from sqlalchemy.ext.asyncio import AsyncSession

from archive.signing import ArchiveSigning
from archive.verify import Report, Trust, Verdict, verify_archive
from tenderhall.ledger import merkle
from tenderhall.ledger.checkpoint import Checkpoint
from tenderhall.ledger.service import LedgerError
from tenderhall.services import Services
from tenderhall.web.deps import READ
from tenderhall.web.pages import page_context
from tenderhall.web.problems import request_locale

MAX_UPLOAD_BYTES = 48 << 20
# Room for the multipart envelope (boundaries, the CSRF field) around the file itself.
_ENVELOPE = 64 << 10
TEMPLATE = "archive/verify.html.jinja"


def _context(request: Request[Any, Any, Any], **extra: Any) -> dict[str, Any]:
    return page_context(
        request, **{"limit_mb": MAX_UPLOAD_BYTES >> 20, "report": None, "error": None, **extra}
    )


@get("/archive/verify", include_in_schema=False)
async def verify_page(request: Request[Any, Any, Any]) -> Template:
    return Template(TEMPLATE, context=_context(request))


@get("/archive/ca.pem", include_in_schema=False, media_type="application/x-pem-file")
async def ca_certificate(services: Services) -> bytes:
    """The platform's archive root certificate, for `tenderhall archive verify --trust`."""
    return services.get(ArchiveSigning).signer.root_pem()


def _refuse(request: Request[Any, Any, Any], status: int, key: str, **params: Any) -> Template:
    from tenderhall.i18n import translate

    error = translate(key, request_locale(request), **params)
    return Template(TEMPLATE, status_code=status, context=_context(request, error=error))


@post(
    "/archive/verify",
    include_in_schema=False,
    dependencies=READ,
    request_max_body_size=MAX_UPLOAD_BYTES + _ENVELOPE,
    status_code=200,
)
async def verify_upload(
    request: Request[Any, Any, Any],
    services: Services,
    db_session: AsyncSession,
) -> Template | Response[Any]:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_UPLOAD_BYTES + _ENVELOPE:
        return _refuse(request, 413, "archive.page.too_large", limit=MAX_UPLOAD_BYTES >> 20)
    form = await _form(request)
    upload = form.get("file") if form is not None else None
    if not isinstance(upload, UploadFile):
        return _refuse(request, 400, "archive.page.no_file")
    data = await upload.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        return _refuse(request, 413, "archive.page.too_large", limit=MAX_UPLOAD_BYTES >> 20)
    if not data:
        return _refuse(request, 400, "archive.page.no_file")
    archive_signing = services.get(ArchiveSigning)
    trust = Trust(
        signer_roots=(archive_signing.signer.root,),
        tsa_roots=archive_signing.tsa_trust or None,
        ledger_key=services.ledger.verifier,
    )
    # pyHanko works synchronously; a worker thread keeps the event loop serving others.
    report = await anyio.to_thread.run_sync(verify_archive, data, trust)
    report = await _here(report, services, db_session)
    name = (upload.filename or "archive.pdf")[:200]
    return Template(TEMPLATE, context=_context(request, report=report, filename=name))


async def _form(request: Request[Any, Any, Any]) -> Any:
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith(RequestEncodingType.MULTI_PART.value):
        return None
    return await request.form()


async def _here(report: Report, services: Services, db: AsyncSession) -> Report:
    """The online checks, answered by this platform itself: consistency from its own ledger;
    the OCDS record is compared by `tenderhall archive verify --online` (the record's publisher
    is another package's API)."""
    verdicts = []
    for verdict in report.verdicts:
        if verdict.check == "consistency":
            verdict = await _consistency(services, db, report.checkpoint)
        elif verdict.check == "ocds":
            verdict = replace(verdict, message="archive.verify.ocds_page")
        verdicts.append(verdict)
    return Report(tuple(verdicts), report.checkpoint)


async def _consistency(services: Services, db: AsyncSession, checkpoint: Checkpoint | None) -> Verdict:
    if checkpoint is None:
        return Verdict("consistency", "fail", "archive.verify.no_checkpoint")
    size, root = await services.ledger.tree_head(db)
    params = {"size": checkpoint.size, "latest": size}
    if size < checkpoint.size:
        return Verdict("consistency", "fail", "archive.verify.latest_smaller", params)
    try:
        proof = await services.ledger.consistency_proof(db, checkpoint.size, size)
    except LedgerError:
        return Verdict("consistency", "fail", "archive.verify.inconsistent", params)
    if not merkle.verify_consistency(checkpoint.size, size, proof, checkpoint.root, root):
        return Verdict("consistency", "fail", "archive.verify.inconsistent", params)
    return Verdict("consistency", "pass", "archive.verify.consistent", params)


PAGES = [verify_page, verify_upload, ca_certificate]
