"""A tender's reference number (e.g. ``SH-2026-0009``: the centre's code, the year, a serial), the
name people use for it, read wherever a UUID is accepted.

A reference that names no tender, and one that names a tender the caller may not see, must be
answered alike: :func:`tender_id_of` gives :data:`NOWHERE` for the first, so both then take the
same path through the handler that looks the tender up and hides it (404).
"""

from __future__ import annotations

import re
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tenderhall.tenders.models import Tender

# The centre's code (``CentreIn.code``: A-Z, 0-9, _ and -), the year, the serial (``Tenders.create``).
REFERENCE_PATTERN = r"[A-Za-z0-9_-]{2,32}-[0-9]{4}-[0-9]{4,6}"
MAX_REFERENCE = 40  # the column's width
_REFERENCE = re.compile(REFERENCE_PATTERN)
# No tender has it (UUIDv7 ids are never all zeros): where an unknown reference leads.
NOWHERE = uuid.UUID(int=0)


def as_reference(text: str) -> str | None:
    """``text`` as a reference number (upper case, as they are made), or None if it is not one."""
    if len(text) > MAX_REFERENCE or not _REFERENCE.fullmatch(text):
        return None
    return text.upper()


def as_uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text) if len(text) <= 36 else None
    except ValueError:
        return None


async def tender_id_of(db: AsyncSession, reference: str) -> uuid.UUID:
    """The id of the tender with this reference number, whoever may see it; else :data:`NOWHERE`.
    The caller's own check of the tender (``tender.view``) decides what is shown."""
    found = await db.scalar(select(Tender.id).where(Tender.reference == reference))
    return found if found is not None else NOWHERE
