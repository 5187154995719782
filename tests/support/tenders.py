"""Test and benchmark set-up shared by the bidding tests, evaluation's fixtures and the
benchmarks: a tender draft with the one document that publishing asks for.

Benchmarks import this module too (``python -m benchmarks.run`` runs from the repository root),
so it must not depend on pytest or on any fixture."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from tenderhall.tenders.models import TenderDocument
from tenderhall.tenders.service import TenderDraft

# The bytes of the placeholder tender document; a live server's storage serves them back.
TENDER_DOCUMENT = b"tender documents"


async def draft_tender(
    services: Any,
    db: Any,
    who: Any,
    *,
    title: str,
    estimate_fen: int,
    tenderer_id: uuid.UUID,
    centre_id: uuid.UUID,
    rubric: dict[str, Any],
) -> Any:
    """An open tender drafted by ``who`` with a placeholder document recorded (its metadata only:
    publishing checks that a tender has documents), ``documents`` loaded, ready to publish."""
    tender = await services.tenders.create(
        db,
        who,
        TenderDraft(
            title=title,
            procedure="open_tender",
            estimate_fen=estimate_fen,
            tenderer_id=tenderer_id,
            centre_id=centre_id,
            rubric=rubric,
        ),
    )
    db.add(
        TenderDocument(
            tender_id=tender.id,
            name="doc.txt",
            media_type="text/plain",
            sha256=hashlib.sha256(TENDER_DOCUMENT).hexdigest(),
            size=len(TENDER_DOCUMENT),
        )
    )
    await db.flush()
    await db.refresh(tender, ["documents"])
    return tender
