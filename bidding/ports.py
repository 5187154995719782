"""What bidding asks of the packages that build on it (wired by the composition root).

Who sits on a tender's evaluation committee is evaluation's answer, but bidding's policy objects
must name the committee (only it reads bids after the opening) and the import goes evaluation →
bidding only: evaluation provides :data:`COMMITTEE` and bidding receives it by this key.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from tenderhall.registry import Key

# (db, tender_id, user_id) -> does the user hold an active seat on the tender's committee?
CommitteeLookup = Callable[[AsyncSession, uuid.UUID, uuid.UUID], Awaitable[bool]]
COMMITTEE: Key[CommitteeLookup] = Key("committee-member")
