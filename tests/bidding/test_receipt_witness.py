"""A receipt's checkpoint with witness cosignatures: `verify_receipt` checks them against the
witness keys the bidder knows and refuses a checkpoint no known witness cosigned."""

from __future__ import annotations

import base64

import pytest

from bidding.receipt import RECEIPT_PURPOSE, ReceiptError, body_digest, build_receipt, verify_receipt
from tenderhall.ledger import merkle
from tenderhall.ledger.checkpoint import Checkpoint, sign_checkpoint
from tenderhall.ledger.cosignature import CosignatureSigner, add_cosignatures
from tenderhall.ledger.note import Signer

ORIGIN = "a.test/tenderhall/ledger"


def make_receipt(witness: CosignatureSigner | None) -> dict[str, object]:
    log = Signer(ORIGIN, bytes([3]) * 32)
    body = {"purpose": RECEIPT_PURPOSE, "bid": "b1", "envelope_sha256": "00" * 32, "submitted_at": "t"}
    entry = b'{"data":{"receipt":"' + body_digest(body).encode() + b'"},"index":0}'
    root = merkle.leaf_hash(entry)
    note = sign_checkpoint(Checkpoint(ORIGIN, 1, root), log)
    if witness is not None:
        note = add_cosignatures(note, [witness.cosign(Checkpoint(ORIGIN, 1, root).to_text(), 1_800_000_000)])
    return build_receipt(body, log, index=0, entry=entry, size=1, proof=[], checkpoint=note)


def test_cosigned_receipt_verifies_with_the_witness_key() -> None:
    witness = CosignatureSigner("b.test/witness", bytes([9]) * 32)
    log = Signer(ORIGIN, bytes([3]) * 32).verifier()
    receipt = make_receipt(witness)
    assert verify_receipt(receipt, log, ORIGIN, [witness.verifier()], 1)["bid"] == "b1"
    # Without witnesses the receipt still verifies as before.
    assert verify_receipt(receipt, log, ORIGIN)["bid"] == "b1"


def test_uncosigned_or_wrongly_cosigned_receipt_is_refused() -> None:
    witness = CosignatureSigner("b.test/witness", bytes([9]) * 32)
    log = Signer(ORIGIN, bytes([3]) * 32).verifier()
    with pytest.raises(ReceiptError, match="cosigned by 0 of the known witnesses"):
        verify_receipt(make_receipt(None), log, ORIGIN, [witness.verifier()], 1)
    # A cosignature line under the witness's name and key ID whose signature is altered: forged.
    receipt = make_receipt(witness)
    ledger = dict(receipt["ledger"])  # type: ignore[call-overload]
    head, _, last = str(ledger["checkpoint"]).rstrip("\n").rpartition("\n")
    name, blob = last.rsplit(" ", 1)
    raw = bytearray(base64.b64decode(blob))
    raw[-1] ^= 1
    ledger["checkpoint"] = f"{head}\n{name} {base64.b64encode(bytes(raw)).decode()}\n"
    receipt["ledger"] = ledger
    with pytest.raises(ReceiptError, match="does not verify"):
        verify_receipt(receipt, log, ORIGIN, [witness.verifier()], 1)
