"""An alert's ledger events.

The ledger is public (DESIGN §5, no confidential facts in public entries): an alert's events name
its tender and bidders only as ``Ledger.blind`` commitments.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from collusion.alert_states import Move
from collusion.models import Alert
from tenderhall.ledger.service import Ledger


def alert_subject(alert_id: uuid.UUID) -> str:
    return f"collusion_alert:{alert_id}"


async def record(
    ledger: Ledger,
    db: AsyncSession,
    alert: Alert,
    move: Move,
    actor: uuid.UUID | None,
    data: dict[str, Any] | None = None,
) -> None:
    await ledger.append(
        db,
        f"collusion.alert_{move.event}",
        {
            "alert": str(alert.id),
            "status": alert.status,
            "tender": ledger.blind("collusion.tender", alert.tender_key),
            "bidders": [ledger.blind("collusion.bidder", s) for s in sorted(alert.suspects or [])],
            **(data or {}),
        },
        actor=actor,
        subject=alert_subject(alert.id),
    )
