"""The tender's range of the ledger: every event about it (by subject, plus the blinded submission
entries and the alerts' events, which carry other subjects) and the latest signed checkpoint that
covers them all.  Inclusion proofs against that checkpoint travel in the attached evidence bundle."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from collusion.alert_ledger import alert_subject
from collusion.models import Alert
from tenderhall.ledger.models import LedgerCheckpoint, LedgerEntry
from tenderhall.tenders.models import Tender


@dataclass(frozen=True)
class Event:
    index: int
    kind: str
    at: datetime
    leaf_sha256: str  # RFC 9162 leaf hash, hex


@dataclass(frozen=True)
class LedgerRecords:
    events: tuple[Event, ...]
    checkpoint_size: int | None
    checkpoint_note: str | None  # C2SP signed note covering every event above
    checkpoint_signed_at: datetime | None

    @property
    def first(self) -> int | None:
        return self.events[0].index if self.events else None

    @property
    def last(self) -> int | None:
        return self.events[-1].index if self.events else None


def tender_subject(tender: Tender) -> str:
    return f"tender:{tender.id}"


async def gather(db: AsyncSession, tender: Tender, extra_indexes: Iterable[int]) -> LedgerRecords:
    """``extra_indexes``: entries that name the tender only through a blinded commitment (bids)."""
    alerts = [
        alert_subject(a) for a in await db.scalars(select(Alert.id).where(Alert.tender_id == tender.id))
    ]
    rows = await db.scalars(
        select(LedgerEntry)
        .where(
            or_(
                LedgerEntry.subject.in_([tender_subject(tender), *alerts]),
                LedgerEntry.id.in_(sorted(set(extra_indexes))),
            )
        )
        .order_by(LedgerEntry.id)
    )
    events = tuple(
        Event(e.id, e.kind, datetime.fromisoformat(json.loads(e.body)["at"]), e.leaf_hash.hex()) for e in rows
    )
    cp = await db.scalar(select(LedgerCheckpoint).order_by(LedgerCheckpoint.size.desc()).limit(1))
    if cp is not None and events and cp.size <= events[-1].index:
        cp = None  # no checkpoint covers the last event yet
    return LedgerRecords(
        events, cp.size if cp else None, cp.note if cp else None, cp.signed_at if cp else None
    )
