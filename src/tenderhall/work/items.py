"""What one package says waits for a user (a work item) and the in-app notices, pure data.

Each domain package's plugin may offer ``work_items(db, services, who) -> list[WorkItem]`` and
``notices(db, services, who) -> list[Notice]``; ``tenderhall.compose`` gathers them for the "my
work" page.  An item names its label by catalogue key (``work.<kind>``, with ``params``) so that
the page renders it in the reader's language; ``title`` and ``reference`` are data (a tender's
title), never interface text.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import IntEnum
from typing import Any, Protocol


class Urgency(IntEnum):
    """How soon an item needs its owner; the page lists the most urgent first."""

    OVERDUE = 0  # its deadline has passed and it still waits
    NOW = 1  # due within a day, or happening now (a hall's decryption window)
    SOON = 2  # due within three days
    LATER = 3  # due later, or with no deadline
    INFO = 4  # nothing to do, only to know (a bid in, a tender in a later stage)


DAY = timedelta(days=1)


def urgency_of(deadline: datetime | None, now: datetime) -> Urgency:
    """The urgency of an item that waits until ``deadline``."""
    if deadline is None:
        return Urgency.LATER
    left = deadline - now
    if left < timedelta(0):
        return Urgency.OVERDUE
    if left <= DAY:
        return Urgency.NOW
    if left <= 3 * DAY:
        return Urgency.SOON
    return Urgency.LATER


class TenderLike(Protocol):
    """What an item needs of a tender (``tenderhall.tenders.models.Tender`` has it)."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def title(self) -> str: ...
    @property
    def reference(self) -> str: ...


@dataclass(frozen=True, slots=True)
class WorkItem:
    """One thing that waits for the user.

    ``kind`` names the catalogue entry ``work.<kind>`` (e.g. ``bid.hall_window``); ``link`` is a
    page or API path of this platform; ``deadline`` is when the item stops waiting (UTC).
    """

    kind: str
    title: str
    link: str
    urgency: Urgency
    deadline: datetime | None = None
    tender_id: uuid.UUID | None = None
    reference: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    # Free text the item quotes (a bidder's question, an objection), shown as written.
    detail: str = ""

    @classmethod
    def about(
        cls,
        tender: TenderLike,
        kind: str,
        urgency: Urgency,
        deadline: datetime | None = None,
        *,
        link: str | None = None,
        detail: str = "",
        params: dict[str, Any] | None = None,
    ) -> WorkItem:
        """An item on ``tender``, linking to its page unless ``link`` says otherwise."""
        return cls(
            kind=kind,
            title=tender.title,
            link=link or f"/tenders/{tender.id}",
            urgency=urgency,
            deadline=deadline,
            tender_id=tender.id,
            reference=tender.reference,
            params=params or {},
            detail=detail,
        )


@dataclass(frozen=True, slots=True)
class Notice:
    """One in-app notification, already in the reader's language."""

    subject: str
    body: str
    created_at: datetime
    unread: bool


def ordered(items: list[WorkItem]) -> list[WorkItem]:
    """Most urgent first; among equals the nearest deadline first, then by tender and kind so the
    page is stable from one visit to the next."""
    return sorted(
        items,
        key=lambda i: (
            i.urgency,
            i.deadline.timestamp() if i.deadline is not None else math.inf,
            i.reference or "",
            i.kind,
            i.title,
        ),
    )
