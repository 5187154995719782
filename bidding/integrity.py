"""Bidding's part of the platform integrity check: every bid's envelope is in storage with the
hash its receipt names, and the receipt is the one the ledger holds (a backup drill's proof)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.models import Bid
from bidding.receipt import ReceiptError, verify_receipt
from tenderhall.integrity import blob_problem
from tenderhall.ledger.checkpoint import open_checkpoint
from tenderhall.ledger.models import LedgerEntry


async def check_bids(services: Any, db: AsyncSession) -> AsyncIterator[str]:
    ledger = services.ledger
    for bid in (await db.scalars(select(Bid).order_by(Bid.id))).all():
        label = f"bid {bid.bid_ref} ({bid.id})"
        problem = await blob_problem(services.storage, bid.storage_key, bid.envelope_sha256)
        if problem:
            yield f"{label}: {problem}"
        try:
            body = verify_receipt(bid.receipt, ledger.verifier, ledger.origin)
        except ReceiptError as exc:
            yield f"{label}: receipt: {exc}"
            continue
        if body.get("envelope_sha256") != bid.envelope_sha256:
            yield f"{label}: the receipt names another envelope"
        entry = await db.get(LedgerEntry, bid.ledger_index)
        if entry is None or base64.b64encode(entry.body).decode() != bid.receipt["ledger"]["entry"]:
            yield f"{label}: the ledger's entry {bid.ledger_index} is not the receipt's"
            continue
        checkpoint = open_checkpoint(bid.receipt["ledger"]["checkpoint"], ledger.verifier, ledger.origin)
        if await ledger.root_at(db, checkpoint.size) != checkpoint.root:
            yield f"{label}: the ledger's tree at size {checkpoint.size} is not the receipt's checkpoint"
