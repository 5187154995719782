"""The bids a tender's opening produced, as the collusion detector reads them.

Bidding captured the evidence at submission (source IP, device fingerprint, the bond payer's
account); this adapter hands it to the detector right after the opening, inside the
``finish_opening`` transition.  Only bids decrypted in the hall count: withdrawn, superseded and
never-opened bids say nothing about this tender's prices.  Registry facts (persons, control) come
from the companies themselves (``history_rows.company_record``), so they are not repeated here; the
document facts read at decryption (``bidding.docscan``: author, tool, creation time, text) and the
project manager the bid form names (with a registration certificate) are.

The import goes collusion → bidding, never the other way round.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.models import BidBond, BidState
from collusion.history_rows import person_key
from collusion.sources import BidEvidence
from tenderhall.tenders.models import Tender

if TYPE_CHECKING:
    from bidding.service import Bidding


def _project_manager(form: dict[str, Any]) -> tuple[str, ...]:
    """The project manager named in the bid form, as a person key (name and registration
    certificate, as the registry's persons): a name alone would match every namesake."""
    name, cert = str(form.get("project_manager") or "").strip(), form.get("project_manager_certificate")
    key = person_key(name, None, str(cert).strip()) if name and cert and str(cert).strip() else ""
    return (key,) if key else ()


class BiddingEvidence:
    """``BidEvidenceSource`` over bidding's tables."""

    def __init__(self, bidding: Bidding) -> None:
        self.bidding = bidding

    async def opened_bid_evidence(self, db: AsyncSession, tender_id: uuid.UUID) -> Sequence[BidEvidence]:
        tender = await db.get(Tender, tender_id)
        if tender is None:
            return []
        bids = [
            b
            for b in await self.bidding.hall.participants(db, tender)
            if b.state == BidState.DECRYPTED.value and b.bid_form is not None and b.form_error is None
        ]
        if not bids:
            return []
        bonds = {
            bond.bid_id: bond
            for bond in (
                await db.execute(select(BidBond).where(BidBond.bid_id.in_([b.id for b in bids])))
            ).scalars()
        }
        out = []
        for bid in bids:
            assert bid.bid_form is not None  # filtered above
            try:
                price = Decimal(str(bid.bid_form["price"]))
            except (KeyError, InvalidOperation):
                continue  # bidding's form check makes this unreachable; never guess a price
            bond = bonds.get(bid.id)
            docs = self.bidding.hall.documents(bid)
            out.append(
                BidEvidence(
                    company_id=bid.company_id,
                    price=float(price),
                    source_ip=bid.source_ip or "",
                    device_fingerprint=bid.device_fingerprint or "",
                    bond_payer_account=(bond.payer_account or "") if bond is not None else "",
                    doc_author=docs.author if docs else "",
                    doc_tool=docs.tool if docs else "",
                    doc_created=docs.created if docs else None,
                    doc_text=docs.text if docs else "",
                    project_managers=_project_manager(bid.bid_form),
                    documents=(bid.envelope_sha256, *(docs.documents if docs else ())),
                )
            )
        return out
