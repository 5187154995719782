"""Custodian share stanzas: one Shamir share of the file key, HPKE-sealed to one custodian.

Stanza: ``-> tenderhall.org/share <custodian-id> <index> <k> <n>`` with a 64-byte body
``enc (32) || ChaCha20-Poly1305(share value (16))``. The HPKE ``info`` binds tender, bid,
custodian, index, k and n, so a stanza moved to another bid (or relabelled) does not open.
Stock age tools ignore this stanza type.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from . import hpke
from .errors import HeaderError, ParameterError, ShareError
from .header import FILE_KEY_SIZE, Stanza
from .shamir import MAX_SHARES, check_threshold

__all__ = [
    "SHARE_INFO_LABEL",
    "SHARE_STANZA_TYPE",
    "Binding",
    "Custodian",
    "Share",
    "ShareStanza",
    "open_share",
    "parse_share_stanza",
    "share_info",
    "wrap_share",
]

SHARE_STANZA_TYPE = "tenderhall.org/share"
SHARE_INFO_LABEL = b"tenderhall.org/share/v1"
_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_NUMBER = re.compile(r"[1-9][0-9]{0,2}")
_BODY_SIZE = hpke.ENC_SIZE + FILE_KEY_SIZE + hpke.TAG_SIZE


def check_id(kind: str, value: str) -> None:
    """Identifiers are 1-64 characters of [A-Za-z0-9._:-] (UUIDs, tender codes)."""
    if not _ID.fullmatch(value):
        raise ParameterError(f"{kind} {value!r} must be 1-64 characters of A-Z a-z 0-9 . _ : -")


@dataclass(frozen=True, slots=True)
class Binding:
    """What a sealed share is bound to."""

    tender_id: str
    bid_id: str

    def __post_init__(self) -> None:
        check_id("tender id", self.tender_id)
        check_id("bid id", self.bid_id)


@dataclass(frozen=True, slots=True)
class Custodian:
    """A custodian's identifier and HPKE public key."""

    id: str
    public_key: X25519PublicKey

    def __post_init__(self) -> None:
        check_id("custodian id", self.id)


@dataclass(frozen=True, slots=True)
class ShareStanza:
    """The parsed arguments and body of a custodian stanza."""

    custodian_id: str
    index: int
    k: int
    n: int
    sealed: bytes


@dataclass(frozen=True, slots=True)
class Share:
    """A released share: the Shamir point (index, value) and who released it."""

    custodian_id: str
    index: int
    value: bytes

    def __repr__(self) -> str:  # the value is secret material
        return f"Share(custodian_id={self.custodian_id!r}, index={self.index})"


def share_info(binding: Binding, custodian_id: str, index: int, k: int, n: int) -> bytes:
    """HPKE info: label || 0x00 || len16(tender) || tender || len16(bid) || bid
    || len16(custodian) || custodian || index || k || n (one byte each)."""
    parts = [SHARE_INFO_LABEL, b"\x00"]
    for text in (binding.tender_id, binding.bid_id, custodian_id):
        raw = text.encode("ascii")
        parts += [struct.pack(">H", len(raw)), raw]
    parts.append(bytes((index, k, n)))
    return b"".join(parts)


def wrap_share(binding: Binding, custodian: Custodian, index: int, k: int, n: int, value: bytes) -> Stanza:
    check_threshold(k, n)
    if not 1 <= index <= n:
        raise ParameterError(f"share index must be 1..{n}, got {index}")
    if len(value) != FILE_KEY_SIZE:
        raise ParameterError(f"a share value is {FILE_KEY_SIZE} bytes, got {len(value)}")
    sealed = hpke.seal_base(custodian.public_key, share_info(binding, custodian.id, index, k, n), value)
    return Stanza(SHARE_STANZA_TYPE, (custodian.id, str(index), str(k), str(n)), sealed)


def _number(text: str, what: str) -> int:
    if not _NUMBER.fullmatch(text) or int(text) > MAX_SHARES:
        raise HeaderError(f"share stanza {what} {text!r} is not a canonical number 1..{MAX_SHARES}")
    return int(text)


def parse_share_stanza(stanza: Stanza) -> ShareStanza:
    """Validate a ``tenderhall.org/share`` stanza's shape; raises HeaderError."""
    if stanza.type != SHARE_STANZA_TYPE:
        raise HeaderError(f"not a share stanza: {stanza.type!r}")
    if len(stanza.args) != 4:
        raise HeaderError(f"share stanza needs 4 arguments, got {len(stanza.args)}")
    custodian_id, *numbers = stanza.args
    if not _ID.fullmatch(custodian_id):
        raise HeaderError(f"share stanza custodian id {custodian_id!r} is not valid")
    index, k, n = (_number(v, w) for v, w in zip(numbers, ("index", "k", "n"), strict=True))
    if not (2 <= k <= n and index <= n):
        raise HeaderError(f"share stanza needs 2 <= k <= n and index <= n, got index={index} k={k} n={n}")
    if len(stanza.body) != _BODY_SIZE:
        raise HeaderError(f"share stanza body is {len(stanza.body)} bytes, expected {_BODY_SIZE}")
    return ShareStanza(custodian_id, index, k, n, stanza.body)


def open_share(stanza: ShareStanza, binding: Binding, private_key: X25519PrivateKey) -> Share:
    """Open a custodian's stanza with the custodian's key; raises ShareError if it is not bound
    to ``binding`` (e.g. copied from another bid), not for this key, or tampered."""
    info = share_info(binding, stanza.custodian_id, stanza.index, stanza.k, stanza.n)
    try:
        value = hpke.open_base(private_key, info, stanza.sealed)
    except hpke.HpkeError as exc:
        raise ShareError(
            f"share of custodian {stanza.custodian_id!r} does not open for tender "
            f"{binding.tender_id!r} bid {binding.bid_id!r}: {exc}"
        ) from None
    return Share(stanza.custodian_id, stanza.index, value)
