"""What the archive's build job needs from the document side: a builder of the signed file.

The document (WeasyPrint, PDF/A-3b, attachments) and its PAdES signature are built elsewhere in
this package; the job only asks for the finished bytes, so it is tested with any real builder.
"""

from __future__ import annotations

import uuid
from typing import Protocol

from tenderhall.registry import Key


class ArchiveBuilder(Protocol):
    async def build(self, tender_id: uuid.UUID) -> bytes:
        """The tender's signed archive (a PDF file), from its records as they are now."""
        ...


# Provided by the archive plugin (``providers()``); the document and signing work replaces the
# provider of this key with the real builder.
BUILDER: Key[ArchiveBuilder] = Key("archive.builder")


class NoBuilder:
    """The builder until a real one is installed: every build fails with this clear reason (the
    version stays visible as failed, and is built again by ``tenderhall archive build``)."""

    async def build(self, tender_id: uuid.UUID) -> bytes:
        raise LookupError("no archive document builder is installed in this deployment")
