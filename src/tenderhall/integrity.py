"""The platform's integrity, checked end to end (after a restore, or as an audit): the ledger
re-verified from its entries, and every stored file re-hashed against the record that names it.
Domain packages add their own checks through their plugin's ``check_integrity(services, db)``."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

import anyio
from sqlalchemy import select

from tenderhall.ledger.service import verify_log
from tenderhall.storage import CHUNK, Storage, StorageError
from tenderhall.tenders.models import TenderDocument

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from tenderhall.services import Services

DomainCheck = Callable[[Any, Any], AsyncIterator[str]]


def _hash_blob(storage: Storage, key: str) -> str:
    digest = hashlib.sha256()
    with storage.open(key) as handle:
        while chunk := handle.read(4 * CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


async def blob_problem(storage: Storage, key: str, sha256: str) -> str | None:
    """Why the blob under ``key`` is not the file whose SHA-256 is ``sha256``, or None."""
    try:
        actual = await anyio.to_thread.run_sync(_hash_blob, storage, key)
    except StorageError as exc:
        return f"blob {key}: {exc}"
    return None if actual == sha256 else f"blob {key} hashes to {actual}, not {sha256}"


async def check_integrity(
    services: Services, db: AsyncSession, domain_checks: list[DomainCheck]
) -> list[str]:
    """Every problem found, in words; an empty list means the platform is whole."""
    problems: list[str] = []
    report = await verify_log(db, services.ledger.verifier, services.ledger.origin)
    if not report.ok:
        problems.append(f"ledger (index {report.first_bad_index}): {report.problem}")
    for document in (await db.scalars(select(TenderDocument).order_by(TenderDocument.id))).all():
        problem = await blob_problem(services.storage, document.sha256, document.sha256)
        if problem:
            problems.append(f"tender document {document.name} ({document.id}): {problem}")
    for check in domain_checks:
        problems.extend([p async for p in check(services, db)])
    return problems
