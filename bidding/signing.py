"""What bidders sign, and how: Ed25519 over RFC 8785 canonical JSON (pure logic).

Every signed statement carries a ``purpose`` so a signature made for one statement (a manifest)
can never be replayed as another (a withdrawal, an assent to the opening record).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Mapping
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

__all__ = [
    "BID_REF",
    "SignatureError",
    "canonical",
    "key_fingerprint",
    "manifest",
    "public_key_b64",
    "record_statement",
    "registration_statement",
    "sign",
    "verify",
    "withdrawal_statement",
]

BID_REF = re.compile(r"[A-Za-z0-9._:-]{1,64}")  # same rule as the envelope's binding ids
_HEX64 = re.compile(r"[0-9a-f]{64}")


class SignatureError(ValueError):
    """A statement is malformed or its signature does not verify."""


def canonical(statement: Mapping[str, Any]) -> bytes:
    return rfc8785.dumps(dict(statement))


def public_key_b64(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return base64.b64encode(public.public_bytes_raw()).decode("ascii")


def key_fingerprint(opening_recipient: str, signing_public: str) -> str:
    """A short stable name for a registered key pair (shown to bidders, logged on rotation)."""
    return hashlib.sha256(f"{opening_recipient}\n{signing_public}".encode()).hexdigest()


def sign(key: Ed25519PrivateKey, statement: Mapping[str, Any]) -> str:
    return base64.b64encode(key.sign(canonical(statement))).decode("ascii")


def verify(public_b64: str, statement: Mapping[str, Any], signature_b64: str) -> None:
    try:
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_b64, validate=True))
        signature = base64.b64decode(signature_b64, validate=True)
        public.verify(signature, canonical(statement))
    except (InvalidSignature, ValueError, binascii.Error, TypeError):
        raise SignatureError("signature does not verify") from None


def manifest(
    *,
    tender: str,
    bidder: str,
    bid: str,
    envelope_sha256: str,
    size: int,
    client: Mapping[str, Any],
) -> dict[str, Any]:
    """The submission manifest the bidder signs (DESIGN §4); ``bidder`` is the company's USCC."""
    if not BID_REF.fullmatch(bid):
        raise SignatureError("bid id must be 1-64 characters of A-Z a-z 0-9 . _ : -")
    if not _HEX64.fullmatch(envelope_sha256):
        raise SignatureError("envelope_sha256 must be 64 lower-case hex digits")
    if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
        raise SignatureError("size must be a positive integer")
    return {
        "purpose": "tenderhall.org/bid-manifest/v1",
        "tender": tender,
        "bidder": bidder,
        "bid": bid,
        "envelope_sha256": envelope_sha256,
        "size": size,
        "client": dict(client),
    }


def check_manifest(value: Any) -> dict[str, Any]:
    """Re-build a manifest received over the wire, so unknown or missing fields are refused."""
    if not isinstance(value, dict):
        raise SignatureError("manifest must be an object")
    expected = {"purpose", "tender", "bidder", "bid", "envelope_sha256", "size", "client"}
    if set(value) != expected or value["purpose"] != "tenderhall.org/bid-manifest/v1":
        raise SignatureError("manifest fields are not those of tenderhall.org/bid-manifest/v1")
    if not isinstance(value["client"], dict) or not all(
        isinstance(value[k], str) for k in ("tender", "bidder", "bid", "envelope_sha256")
    ):
        raise SignatureError("manifest fields have the wrong types")
    return manifest(
        tender=value["tender"],
        bidder=value["bidder"],
        bid=value["bid"],
        envelope_sha256=value["envelope_sha256"],
        size=value["size"],
        client=value["client"],
    )


def withdrawal_statement(tender: str, bid: str, envelope_sha256: str) -> dict[str, Any]:
    return {
        "purpose": "tenderhall.org/bid-withdrawal/v1",
        "tender": tender,
        "bid": bid,
        "envelope_sha256": envelope_sha256,
    }


def registration_statement(company: str, opening_recipient: str, signing_public: str) -> dict[str, Any]:
    """Proof of possession of the signing key when registering it."""
    return {
        "purpose": "tenderhall.org/bidder-key/v1",
        "company": company,
        "opening": opening_recipient,
        "signing": signing_public,
    }


def record_statement(tender: str, record_sha256: str) -> dict[str, Any]:
    """A bidder's assent to the opening record (唱标记录) it saw."""
    return {"purpose": "tenderhall.org/opening-record-assent/v1", "tender": tender, "record": record_sha256}
