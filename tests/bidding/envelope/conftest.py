"""Shared fixtures: a bidder identity, custodians and a sealing helper."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from bidding.envelope import Binding, Custodian, X25519Identity, seal


@dataclass
class Party:
    custodian: Custodian
    private_key: X25519PrivateKey


def _make_custodians(n: int, prefix: str = "cust") -> list[Party]:
    parties = []
    for i in range(n):
        key = X25519PrivateKey.generate()
        parties.append(Party(Custodian(f"{prefix}-{i + 1}", key.public_key()), key))
    return parties


def _seal_bytes(
    plain: bytes,
    bidder: X25519Identity,
    parties: list[Party] | None = None,
    k: int | None = None,
    binding: Binding | None = None,
) -> bytes:
    out = io.BytesIO()
    custodians = [p.custodian for p in parties or []]
    written = seal(io.BytesIO(plain), out, bidder.recipient, custodians, k, binding)
    assert written == len(out.getvalue())
    return out.getvalue()


@pytest.fixture
def bidder() -> X25519Identity:
    return X25519Identity.generate()


@pytest.fixture
def parties() -> list[Party]:
    return _make_custodians(5)


# Test modules cannot import each other under --import-mode=importlib; helpers come as fixtures.
@pytest.fixture
def make_custodians() -> Callable[..., list[Party]]:
    return _make_custodians


@pytest.fixture
def seal_bytes() -> Callable[..., bytes]:
    return _seal_bytes


@pytest.fixture
def binding() -> Binding:
    return Binding("ZB-2025-0042", "bid-7f3c")
