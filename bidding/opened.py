"""Opened bids as the evaluation side reads them (bidding's implementation of
``evaluation.opened.OpenedBidSource``).

Only bids decrypted in the hall of a tender whose opening concluded (outcome ``opened``) are
offered, and only those whose bid form was readable: they are the valid bids of the published
opening record.  Withdrawn, revoked, superseded and never-decrypted bids are not offered.

The price is the bid form's ``price`` (yuan, exact decimal, as read out in the opening record);
``is_sme`` comes from the company's registry entry; ``evidence`` is what was captured at
submission: the credit check of this bid (list version hash and outcome) and the bid bond.

Evaluation imports this module (evaluation → bidding), never the other way round.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bidding import queries
from bidding.models import BidBond, BidState, CreditCheck, OpeningHall
from tenderhall.orgs.models import Company
from tenderhall.tenders.models import Tender

__all__ = ["OpenedBid", "OpenedBids"]


@dataclass(frozen=True)
class OpenedBid:
    company_id: uuid.UUID
    price: Decimal  # the read-out bid price in yuan (唱标价), exact
    is_sme: bool = False  # small/micro enterprise (registry entry): price deduction
    form: Mapping[str, Any] = field(default_factory=dict)  # decrypted bid form fields
    evidence: Mapping[str, Any] = field(default_factory=dict)  # credit check, bond, captured at submission


def _bond(bond: BidBond | None) -> dict[str, Any] | None:
    if bond is None:
        return None
    out: dict[str, Any] = {"kind": bond.kind, "amount": f"{Decimal(bond.amount_fen) / 100:.2f}"}
    for name in ("payer_bank", "payer_account", "issuer", "number"):
        value = getattr(bond, name)
        if value is not None:
            out[name] = value
    return out


def _credit(check: CreditCheck | None) -> dict[str, Any] | None:
    if check is None:
        return None
    return {
        "listed": check.listed,
        "reason": check.reason,
        "list_version_hash": check.list_version_hash,
        "checked_at": check.checked_at.isoformat(),
    }


class OpenedBids:
    """``opened_bids(db, tender_id)``: the tender's valid opened bids, ordered by company."""

    async def opened_bids(self, db: AsyncSession, tender_id: uuid.UUID) -> list[OpenedBid]:
        hall = await db.scalar(select(OpeningHall).where(OpeningHall.tender_id == tender_id))
        if hall is None or hall.outcome != "opened":
            return []
        tender = await db.get(Tender, tender_id)
        assert tender is not None
        # Bids in the deadline checkpoint only (the hall's participants), decrypted, form readable.
        bids = [
            b
            for b in await queries.participants(db, tender)
            if b.state == BidState.DECRYPTED.value and b.bid_form is not None and b.form_error is None
        ]
        out = []
        for bid in bids:
            assert bid.bid_form is not None
            try:
                price = Decimal(str(bid.bid_form["price"]))
            except (KeyError, InvalidOperation):  # pragma: no cover - check_form guarantees it
                continue
            company = await db.get(Company, bid.company_id)
            assert company is not None
            bond = await db.scalar(select(BidBond).where(BidBond.bid_id == bid.id))
            check = await db.scalar(
                select(CreditCheck)
                .where(CreditCheck.bid_id == bid.id)
                .order_by(CreditCheck.checked_at.desc(), CreditCheck.id.desc())
                .limit(1)
            )
            out.append(
                OpenedBid(
                    company_id=bid.company_id,
                    price=price,
                    is_sme=bool(company.sme),
                    form=dict(bid.bid_form),
                    evidence={
                        "bid": bid.bid_ref,
                        "envelope_sha256": bid.envelope_sha256,
                        "submitted_at": bid.submitted_at.isoformat(),
                        "receipt_ledger_index": bid.ledger_index,
                        "decrypted_via": bid.decrypted_via,
                        "credit": _credit(check),
                        "bond": _bond(bond),
                    },
                )
            )
        return sorted(out, key=lambda b: str(b.company_id))
