"""k-of-n Shamir secret sharing over GF(2^8), byte by byte.

Field: GF(2^8) with the AES polynomial x^8+x^4+x^3+x+1 (0x11B), generator 3. Share ``i`` is the
polynomial evaluated at x = i (1..255); the secret is the value at x = 0. Any k shares determine
the secret; k-1 shares are consistent with every secret equally (information-theoretic).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from .errors import ParameterError, ShareError

__all__ = ["MAX_SHARES", "check_threshold", "combine", "gf_div", "gf_mul", "interpolate", "split"]

MAX_SHARES = 255


def _tables() -> tuple[list[int], list[int]]:
    exp = [0] * 512
    log = [0] * 256
    value = 1
    for power in range(255):
        exp[power] = value
        log[value] = power
        # Multiply by the generator 3: value*2 (reduced) xor value.
        doubled = value << 1
        if doubled & 0x100:
            doubled ^= 0x11B
        value = doubled ^ value
    for power in range(255, 512):
        exp[power] = exp[power - 255]
    return exp, log


_EXP, _LOG = _tables()


def gf_mul(a: int, b: int) -> int:
    if a == 0 or b == 0:
        return 0
    return _EXP[_LOG[a] + _LOG[b]]


def gf_div(a: int, b: int) -> int:
    if b == 0:
        raise ZeroDivisionError("division by zero in GF(2^8)")
    if a == 0:
        return 0
    return _EXP[_LOG[a] + 255 - _LOG[b]]


def check_threshold(k: int, n: int) -> None:
    """Raise ParameterError unless 2 <= k <= n <= 255."""
    if not 2 <= n <= MAX_SHARES:
        raise ParameterError(f"number of custodians n must be 2..{MAX_SHARES}, got {n}")
    if not 2 <= k <= n:
        raise ParameterError(f"threshold k must satisfy 2 <= k <= n ({n}), got {k}")


def split(secret: bytes, k: int, n: int) -> list[tuple[int, bytes]]:
    """Split ``secret`` into n shares ``(index, value)`` with indices 1..n, any k of which recover it."""
    check_threshold(k, n)
    polys = [[byte, *secrets.token_bytes(k - 1)] for byte in secret]
    shares = []
    for x in range(1, n + 1):
        value = bytearray(len(secret))
        for pos, coeffs in enumerate(polys):
            acc = 0
            for coeff in reversed(coeffs):  # Horner
                acc = gf_mul(acc, x) ^ coeff
            value[pos] = acc
        shares.append((x, bytes(value)))
    return shares


def _check_shares(shares: Sequence[tuple[int, bytes]]) -> None:
    if not shares:
        raise ShareError("no shares given")
    seen: set[int] = set()
    for index, value in shares:
        if not 1 <= index <= MAX_SHARES:
            raise ShareError(f"share index must be 1..{MAX_SHARES}, got {index}")
        if index in seen:
            raise ShareError(f"duplicate share index {index}")
        if len(value) != len(shares[0][1]):
            raise ShareError("shares have different lengths")
        seen.add(index)


def interpolate(shares: Sequence[tuple[int, bytes]], x: int) -> bytes:
    """Evaluate at ``x`` the unique polynomial of degree < len(shares) through ``shares``."""
    _check_shares(shares)
    weights = []
    for i, (xi, _) in enumerate(shares):
        weight = 1
        for j, (xj, _) in enumerate(shares):
            if i != j:
                # Lagrange basis: (x - xj) / (xi - xj); subtraction is xor in GF(2^8).
                weight = gf_mul(weight, gf_div(x ^ xj, xi ^ xj))
        weights.append(weight)
    out = bytearray(len(shares[0][1]))
    for weight, (_, value) in zip(weights, shares, strict=True):
        if weight:
            log_w = _LOG[weight]
            for pos, byte in enumerate(value):
                if byte:
                    out[pos] ^= _EXP[log_w + _LOG[byte]]
    return bytes(out)


def combine(shares: Sequence[tuple[int, bytes]]) -> bytes:
    """Recover the secret (value at x = 0). Needs at least k shares to be right; not checked here."""
    return interpolate(shares, 0)
