"""Sealing a bid package as a tender asks (what ``GET /tenders/{id}/sealing`` answers): to the
bidder's opening key and, when the tender has a custodian remedy, to its custodians' k of n
shares, bound to the tender and the bid.  One recipe for the bidder's client, the demo and the tests."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Mapping
from typing import Any

from bidding import envelope, signing
from bidding.envelope._io import Sink, Source

__all__ = ["manifest", "seal", "seal_bytes"]


def seal(
    src: Source,
    dst: Sink,
    recipient: envelope.X25519Recipient,
    remedy: Mapping[str, Any] | None,
    tender: str,
    bid: str,
) -> int:
    """Seal ``src`` into ``dst`` (streamed); ``remedy`` is the sealing answer's ``remedy``."""
    if not remedy:
        return envelope.seal(src, dst, recipient)
    custodians = [
        envelope.Custodian(c["id"], envelope.X25519Recipient.parse(c["public_key"]).public_key)
        for c in remedy["custodians"]
    ]
    return envelope.seal(src, dst, recipient, custodians, int(remedy["k"]), envelope.Binding(tender, bid))


def seal_bytes(
    plain: bytes, recipient: envelope.X25519Recipient, remedy: Mapping[str, Any] | None, tender: str, bid: str
) -> bytes:
    out = io.BytesIO()
    seal(io.BytesIO(plain), out, recipient, remedy, tender, bid)
    return out.getvalue()


def manifest(blob: bytes, *, tender: str, bidder: str, bid: str, client: Mapping[str, Any]) -> dict[str, Any]:
    """The submission manifest of an envelope held in memory (its SHA-256 and size read off it)."""
    return signing.manifest(
        tender=tender,
        bidder=bidder,
        bid=bid,
        envelope_sha256=hashlib.sha256(blob).hexdigest(),
        size=len(blob),
        client=client,
    )
