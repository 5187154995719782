"""The release feed's paging, pure: a cursor names the last tender of a page by (date, id).

A cursor is opaque to data users (base64url of ``<RFC 3339 date>|<tender id>``) and decoded
strictly: anything that is not one the platform made is refused, never guessed at.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from tenderhall.errors import InvalidInput

DEFAULT_LIMIT = 50
MAX_LIMIT = 100
MAX_CURSOR = 120  # characters; a real one is about 90


@dataclass(frozen=True, order=True)
class Position:
    changed_at: datetime
    tender_id: uuid.UUID


def encode(position: Position) -> str:
    text = f"{position.changed_at.astimezone(UTC).isoformat()}|{position.tender_id}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode(cursor: str) -> Position:
    """The position a cursor names; ``InvalidInput`` (``ocds.cursor_invalid``) for anything else."""
    if not 1 <= len(cursor) <= MAX_CURSOR:
        raise InvalidInput("ocds.cursor_invalid")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        when, _, tender = raw.decode("ascii").partition("|")
        changed_at = datetime.fromisoformat(when)
        tender_id = uuid.UUID(tender)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidInput("ocds.cursor_invalid") from None
    if changed_at.tzinfo is None or encode(Position(changed_at, tender_id)) != cursor:
        raise InvalidInput("ocds.cursor_invalid")  # only the exact form the platform writes
    return Position(changed_at.astimezone(UTC), tender_id)


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput("ocds.limit_invalid", maximum=MAX_LIMIT)
    return limit
