"""Hashing and the deterministic random stream behind every verifiable choice in evaluation (the
expert draw, the benchmark price's K coefficient).

`HashRng`: block i of the stream is HMAC-SHA256(key=seed, msg=label || 0x00 || uint64_be(i)),
read as four big-endian uint64 words, blocks in order.  `below(n)` takes the next word x and
rejects it while x >= 2**64 - (2**64 mod n), then returns x mod n (exactly uniform).
Canonical JSON is RFC 8785, the one serialisation every hash here covers.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from typing import Any

import rfc8785


def canonical_json(obj: Any) -> bytes:
    """RFC 8785 canonical JSON (the one serialisation every hash in this module covers)."""
    return bytes(rfc8785.dumps(obj))


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class HashRng:
    """Deterministic stream from a seed: HMAC-SHA256 in counter mode (see the module docstring)."""

    def __init__(self, seed: bytes, label: bytes) -> None:
        self._key = seed
        self._prefix = label + b"\x00"
        self._block = 0
        self._words: list[int] = []

    def next_u64(self) -> int:
        if not self._words:
            digest = hmac.digest(self._key, self._prefix + self._block.to_bytes(8, "big"), "sha256")
            self._block += 1
            self._words = [int.from_bytes(digest[i : i + 8], "big") for i in (24, 16, 8, 0)]
        return self._words.pop()  # words stored reversed, so pop() yields them in stream order

    def below(self, n: int) -> int:
        """Uniform integer in [0, n) by rejection sampling (no modulo bias)."""
        if not 1 <= n <= 2**64:
            raise ValueError(f"below() needs 1 <= n <= 2**64, got {n}")
        limit = 2**64 - (2**64 % n)
        while True:
            x = self.next_u64()
            if x < limit:
                return x % n


def lazy_permutation(n: int, rng: HashRng) -> Iterator[int]:
    """The positions 0..n-1 in the order of a Fisher-Yates shuffle, generated one at a time."""
    moved: dict[int, int] = {}
    for i in range(n):
        j = i + rng.below(n - i)
        picked = moved.get(j, j)
        moved[j] = moved.pop(i, i)
        yield picked
