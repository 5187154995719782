"""Submission receipts: signed by the platform, anchored in the ledger (pure logic).

The ledger entry carries only the SHA-256 of the receipt body (no bidder, no tender), so the public
log reveals neither who bid nor how many before opening; the receipt carries the entry, an
inclusion proof and the signed checkpoint it is proved against (with the witnesses' cosignatures
when they answered in time), so a bidder can verify it offline.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from tenderhall.ledger.cosignature import CosignatureVerifier, open_cosigned_checkpoint
from tenderhall.ledger.merkle import leaf_hash, verify_inclusion
from tenderhall.ledger.note import NoteError, Signer, Verifier

from .signing import canonical

__all__ = ["RECEIPT_PURPOSE", "ReceiptError", "body_digest", "build_receipt", "verify_receipt"]

RECEIPT_PURPOSE = "tenderhall.org/bid-receipt/v1"


class ReceiptError(ValueError):
    """The receipt does not verify."""


def body_digest(body: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(body)).hexdigest()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def build_receipt(
    body: Mapping[str, Any],
    signer: Signer,
    *,
    index: int,
    entry: bytes,
    size: int,
    proof: Sequence[bytes],
    checkpoint: str,
) -> dict[str, Any]:
    return {
        "body": dict(body),
        "signature": _b64(signer.sign(canonical(body))),
        "ledger": {
            "index": index,
            "entry": _b64(entry),
            "size": size,
            "proof": [_b64(p) for p in proof],
            "checkpoint": checkpoint,
            "key": signer.verifier().key_string(),
        },
    }


def verify_receipt(
    receipt: Mapping[str, Any],
    verifier: Verifier,
    origin: str,
    witnesses: Iterable[CosignatureVerifier] = (),
    quorum: int = 0,
) -> dict[str, Any]:
    """Check the platform signature, the entry's commitment to the body, and the inclusion proof
    against the signed checkpoint; with ``witnesses``, that at least ``quorum`` of them cosigned that
    checkpoint (a witness cosigns only a tree consistent with all it saw before, so a split view
    shown to this bidder would lack their cosignatures). Returns the receipt body."""
    try:
        body = dict(receipt["body"])
        ledger = receipt["ledger"]
        signature = base64.b64decode(receipt["signature"], validate=True)
        entry = base64.b64decode(ledger["entry"], validate=True)
        proof = [base64.b64decode(p, validate=True) for p in ledger["proof"]]
        index, size = int(ledger["index"]), int(ledger["size"])
        note = str(ledger["checkpoint"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ReceiptError(f"the receipt is malformed: {exc}") from None
    if body.get("purpose") != RECEIPT_PURPOSE:
        raise ReceiptError("not a bid receipt")
    if not verifier.verify(canonical(body), signature):
        raise ReceiptError("the platform signature does not verify")
    try:
        event = json.loads(entry)
    except ValueError:
        raise ReceiptError("the ledger entry is not JSON") from None
    if not isinstance(event, dict) or event.get("index") != index:
        raise ReceiptError("the ledger entry is not the one at the receipt's index")
    data = event.get("data")
    if not isinstance(data, dict) or data.get("receipt") != body_digest(body):
        raise ReceiptError("the ledger entry does not commit to this receipt")
    try:
        checkpoint, cosigs = open_cosigned_checkpoint(note, verifier, origin, witnesses)
    except NoteError as exc:
        raise ReceiptError(f"the checkpoint does not verify: {exc}") from None
    if len(cosigs) < quorum:
        raise ReceiptError(
            f"the checkpoint is cosigned by {len(cosigs)} of the known witnesses, {quorum} needed: "
            "it may not be the view everyone else sees"
        )
    if checkpoint.size != size:
        raise ReceiptError("the proof is for another tree size than the checkpoint")
    if not verify_inclusion(leaf_hash(entry), index, size, proof, checkpoint.root):
        raise ReceiptError("the inclusion proof does not verify against the checkpoint")
    return body
