"""Bech32 (BIP 173 checksum, not Bech32m) as used by age for keys.

age lifts BIP 173's 90-character limit, so no length limit is applied here; callers check the
decoded length instead.
"""

from __future__ import annotations

from .errors import ParameterError

__all__ = ["decode", "encode"]

_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_REVERSE = {c: i for i, c in enumerate(_CHARSET)}
_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)


def _polymod(values: list[int]) -> int:
    chk = 1
    for v in values:
        top = chk >> 25
        chk = ((chk & 0x1FFFFFF) << 5) ^ v
        for i, g in enumerate(_GENERATOR):
            if (top >> i) & 1:
                chk ^= g
    return chk


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def _convert_bits(data: bytes | list[int], from_bits: int, to_bits: int, pad: bool) -> list[int]:
    acc = 0
    bits = 0
    out: list[int] = []
    maxv = (1 << to_bits) - 1
    for value in data:
        acc = (acc << from_bits) | value
        bits += from_bits
        while bits >= to_bits:
            bits -= to_bits
            out.append((acc >> bits) & maxv)
    if pad:
        if bits:
            out.append((acc << (to_bits - bits)) & maxv)
    elif bits >= from_bits or (acc << (to_bits - bits)) & maxv:
        # Strict: at most from_bits-1 padding bits, all zero, so each string has one decoding.
        raise ParameterError("bech32 data has non-zero or excess padding bits")
    return out


def encode(hrp: str, data: bytes) -> str:
    """Encode ``data`` under human-readable part ``hrp``; the result has the case of ``hrp``."""
    lower = hrp.lower()
    values = _convert_bits(data, 8, 5, pad=True)
    poly = _polymod([*_hrp_expand(lower), *values, 0, 0, 0, 0, 0, 0]) ^ 1
    checksum = [(poly >> 5 * (5 - i)) & 31 for i in range(6)]
    text = lower + "1" + "".join(_CHARSET[v] for v in values + checksum)
    return text.upper() if hrp.isupper() else text


def decode(text: str) -> tuple[str, bytes]:
    """Decode a Bech32 string into (hrp as written, data); raises ParameterError if invalid."""
    if not text.isascii() or any(ord(c) < 33 or ord(c) > 126 for c in text):
        raise ParameterError("bech32 string has characters outside printable ASCII")
    if text.lower() != text and text.upper() != text:
        raise ParameterError("bech32 string mixes upper and lower case")
    pos = text.rfind("1")
    if pos < 1 or pos + 7 > len(text):
        raise ParameterError("bech32 separator misplaced or checksum too short")
    lower = text.lower()
    hrp = lower[:pos]
    try:
        values = [_REVERSE[c] for c in lower[pos + 1 :]]
    except KeyError:
        raise ParameterError("bech32 data has a character outside the alphabet") from None
    if _polymod(_hrp_expand(hrp) + values) != 1:
        raise ParameterError("bech32 checksum mismatch")
    data = bytes(_convert_bits(values[:-6], 5, 8, pad=False))
    return text[:pos], data
