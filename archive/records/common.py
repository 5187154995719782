"""What every stage's records share: the edition, names looked up by id, and how a person is shown."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from collusion.alert_views import company_names
from tenderhall.auth.models import User


class Edition(StrEnum):
    """The public edition leaves out personal data (see docs/archive.md); the full one keeps it."""

    PUBLIC = "public"
    FULL = "full"


async def user_names(db: AsyncSession, ids: Iterable[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = await db.execute(select(User.id, User.display_name).where(User.id.in_(wanted)))
    return {i: n for i, n in rows.tuples()}


async def companies(db: AsyncSession, ids: Iterable[uuid.UUID | str | None]) -> dict[str, str]:
    """Company names by id (as text), through collusion's shared lookup."""
    return await company_names(db, (str(i) for i in ids if i is not None))


def person(edition: Edition, names: dict[uuid.UUID, str], user_id: uuid.UUID | None) -> str | None:
    """A natural person's name in the full edition; None (shown as withheld) in the public one."""
    if user_id is None or edition is Edition.PUBLIC:
        return None
    return names.get(user_id, str(user_id))
