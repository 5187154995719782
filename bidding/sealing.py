"""What a tender's bidders seal to, published with the notice: the custodian remedy (k of n),
the deadline and opening, the bond cap."""

from __future__ import annotations

import dataclasses
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bidding import queries
from bidding.models import CustodianKey, KeyStatus, TenderRemedy
from tenderhall.auth.models import User
from tenderhall.auth.policy import Subject
from tenderhall.auth.roles import Role
from tenderhall.errors import InvalidInput
from tenderhall.ledger.service import Ledger
from tenderhall.tenders.service import Tenders

MAX_ENVELOPE = 4 * 1024**3  # 4 GiB: generous for scanned documents, bounded for the disk


def bond_cap(estimate_fen: int, percent: Decimal) -> int:
    """招标投标法实施条例 第二十六条: at most 2% of the estimate (rounded down to the fen)."""
    return int(Decimal(estimate_fen) * percent / 100)


@dataclasses.dataclass(eq=False)
class Sealing:
    ledger: Ledger
    tenders: Tenders

    async def set_remedy(
        self, db: AsyncSession, who: Subject, tender_id: uuid.UUID, k: int, custodian_users: list[uuid.UUID]
    ) -> TenderRemedy:
        tender = await self.tenders.load(db, who, tender_id, "tender.remedy.edit", lock=True)
        n = len(custodian_users)
        if len(set(custodian_users)) != n or not 2 <= k <= n or n > 255:
            raise InvalidInput("remedy.threshold_invalid")
        slots = []
        for user_id in custodian_users:
            user = await db.get(User, user_id)
            key = await db.scalar(
                select(CustodianKey).where(
                    CustodianKey.user_id == user_id, CustodianKey.status == KeyStatus.ACTIVE.value
                )
            )
            if user is None or user.role != Role.CUSTODIAN.value or key is None:
                raise InvalidInput("remedy.custodian_unknown", user=str(user_id))
            slots.append({"id": str(user_id), "user_id": str(user_id), "public_key": key.public_key})
        remedy = await queries.remedy(db, tender.id)
        if remedy is None:
            remedy = TenderRemedy(tender_id=tender.id, k=k, custodians=slots)
            db.add(remedy)
        else:
            remedy.k, remedy.custodians = k, slots
        await db.flush()
        await self.ledger.append(
            db,
            "tender.remedy_set",
            {"tender": str(tender.id), "k": k, "custodians": [s["id"] for s in slots]},
            actor=who.user_id,
            subject=f"tender:{tender.id}",
        )
        return remedy

    async def sealing(self, db: AsyncSession, who: Subject, tender_id: uuid.UUID) -> dict[str, Any]:
        """What a bidder needs to seal for this tender (part of the notice)."""
        tender = await self.tenders.load(db, who, tender_id, "tender.sealing.view")
        remedy = await queries.remedy(db, tender.id)
        rules = await self.tenders.rules(db, tender)
        return {
            "tender": str(tender.id),
            "reference": tender.reference,
            "deadline_at": tender.deadline_at,
            "opening_at": tender.opening_at,
            "decryption_window_minutes": rules.decryption_window_minutes,
            "bond_cap": f"{bond_cap(tender.estimate_fen, rules.bond_cap_percent) / 100:.2f}",
            "remedy": None
            if remedy is None
            else {
                "k": remedy.k,
                "n": len(remedy.custodians),
                "custodians": [{"id": c["id"], "public_key": c["public_key"]} for c in remedy.custodians],
            },
            "max_envelope_bytes": MAX_ENVELOPE,
        }
