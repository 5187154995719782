"""The signed archive of one tender: the pieces of this package joined (issue 9).

The document (``render.py``) is the full edition in Simplified Chinese, with the machine-readable
evidence inside as PDF/A-3 associated files: the tender's OCDS record (``ocds-record.json``, what
``/api/v1/ocds/records/{ocid}`` publishes) and its ledger evidence (``ledger-evidence.json``: the
events, a signed checkpoint and an inclusion proof for each); then the platform's PAdES signature
(``signing.py``). ``archive verify`` checks each of these by name.
"""

from __future__ import annotations

import json
import uuid

import anyio

from archive.evidence import ledger_evidence
from archive.ocds.records import compiled_record
from archive.records.common import Edition
from archive.render import ArchiveAttachment, render_archive
from archive.signing import ArchiveSigning
from tenderhall.errors import NotFound
from tenderhall.services import Services

OCDS_FILE = "ocds-record.json"
EVIDENCE_FILE = "ledger-evidence.json"


class SignedArchiveBuilder:
    """The build job's builder (``archive.ports.ArchiveBuilder``)."""

    def __init__(self, services: Services, signing: ArchiveSigning) -> None:
        self.services = services
        self.signing = signing

    async def attachments(self, tender_id: uuid.UUID) -> list[ArchiveAttachment]:
        async with self.services.reader() as db:
            evidence = await ledger_evidence(db, self.services, tender_id)
            files = [
                ArchiveAttachment(
                    EVIDENCE_FILE,
                    evidence,
                    "application/json",
                    "Ledger events of this tender, a signed checkpoint and an inclusion proof for each",
                )
            ]
            try:
                record = await compiled_record(db, self.services, tender_id)
            except NotFound:
                # A tender terminated before its notice was never public: it has no OCDS record.
                return files
        data = json.dumps(record, ensure_ascii=False, sort_keys=True).encode()
        about = "The tender's OCDS 1.1 record as published"
        files.append(ArchiveAttachment(OCDS_FILE, data, "application/json", about))
        return files

    async def unsigned(self, tender_id: uuid.UUID, *, edition: Edition, locale: str) -> bytes:
        files = await self.attachments(tender_id)
        async with self.services.reader() as db:
            return await render_archive(
                db, self.services, tender_id, edition=edition, locale=locale, attachments=files
            )

    async def build(self, tender_id: uuid.UUID) -> bytes:
        pdf = await self.unsigned(tender_id, edition=Edition.FULL, locale="zh_CN")
        # pyHanko's API is synchronous (and waits on the TSA when one is configured).
        return await anyio.to_thread.run_sync(self.signing.sign, pdf)
