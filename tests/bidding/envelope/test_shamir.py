"""Shamir k-of-n over GF(2^8)."""

from __future__ import annotations

import itertools
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bidding.envelope import shamir
from bidding.envelope.errors import ParameterError, ShareError


def test_field_tables_are_consistent() -> None:
    # Every nonzero element has an inverse and multiplication matches carry-less arithmetic.
    def slow_mul(a: int, b: int) -> int:
        out = 0
        while b:
            if b & 1:
                out ^= a
            a <<= 1
            if a & 0x100:
                a ^= 0x11B
            b >>= 1
        return out

    for a in range(256):
        for b in range(0, 256, 7):
            assert shamir.gf_mul(a, b) == slow_mul(a, b)
        if a:
            assert shamir.gf_mul(a, shamir.gf_div(1, a)) == 1


@pytest.mark.parametrize(("k", "n"), [(2, 2), (2, 3), (3, 5), (4, 7), (5, 5)])
def test_every_k_subset_recovers_and_no_smaller_one_does(k: int, n: int) -> None:
    secret = os.urandom(16)
    shares = shamir.split(secret, k, n)
    assert [i for i, _ in shares] == list(range(1, n + 1))
    for subset in itertools.combinations(shares, k):
        assert shamir.combine(subset) == secret
        for order in itertools.islice(itertools.permutations(subset), 3):
            assert shamir.combine(order) == secret
    for subset in itertools.combinations(shares, k - 1):
        # With overwhelming probability a k-1 subset interpolates to something else.
        assert shamir.combine(subset) != secret


@settings(max_examples=30, deadline=None)
@given(st.binary(min_size=1, max_size=32), st.integers(2, 12), st.data())
def test_random_thresholds(secret: bytes, k: int, data: st.DataObject) -> None:
    n = data.draw(st.integers(k, 20))
    shares = shamir.split(secret, k, n)
    chosen = data.draw(st.permutations(shares))[: data.draw(st.integers(k, n))]
    assert shamir.combine(chosen) == secret


def test_k_minus_1_shares_are_consistent_with_every_secret_uniformly_k2() -> None:
    """k=2: one share (x, y). For each candidate secret s exactly one slope a gives s + a*x = y,
    so the share says nothing about s (counted exhaustively over all 256*256 polynomials)."""
    (x, y), _ = shamir.split(b"\x5a", 2, 2)
    counts = [0] * 256
    for s in range(256):
        for a in range(256):
            if s ^ shamir.gf_mul(a, x) == y[0]:
                counts[s] += 1
    assert counts == [1] * 256


def test_k_minus_1_shares_are_consistent_with_every_secret_uniformly_k3() -> None:
    """k=3: two shares. For every secret s and every a1 there is a unique a2 through share 1;
    exactly one a1 then also hits share 2, for every s alike."""
    (x1, y1), (x2, y2), _ = shamir.split(b"\xc3", 3, 3)
    for s in range(256):
        hits = 0
        for a1 in range(256):
            rest = y1[0] ^ s ^ shamir.gf_mul(a1, x1)
            a2 = shamir.gf_div(rest, shamir.gf_mul(x1, x1))
            value = s ^ shamir.gf_mul(a1, x2) ^ shamir.gf_mul(a2, shamir.gf_mul(x2, x2))
            hits += value == y2[0]
        assert hits == 1, s


def test_interpolate_reproduces_shares() -> None:
    shares = shamir.split(os.urandom(16), 3, 6)
    for index, value in shares:
        assert shamir.interpolate(shares[:3], index) == value


@pytest.mark.parametrize(("k", "n"), [(1, 3), (0, 3), (4, 3), (2, 1), (2, 256), (300, 300), (-1, 2)])
def test_bad_thresholds(k: int, n: int) -> None:
    with pytest.raises(ParameterError):
        shamir.split(b"secret", k, n)


def test_duplicate_and_invalid_indices_rejected() -> None:
    shares = shamir.split(os.urandom(16), 2, 3)
    with pytest.raises(ShareError, match="duplicate"):
        shamir.combine([shares[0], shares[0]])
    with pytest.raises(ShareError):
        shamir.combine([(0, shares[0][1]), shares[1]])
    with pytest.raises(ShareError):
        shamir.combine([(256, shares[0][1]), shares[1]])
    with pytest.raises(ShareError):
        shamir.combine([])
    with pytest.raises(ShareError):
        shamir.combine([shares[0], (2, b"short")])
