"""Interoperability with pyrage (the Rust `age` crate), an independent age implementation."""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from typing import Any

import pytest

from bidding.envelope import Binding, X25519Identity, X25519Recipient, open_with_identity

pyrage = pytest.importorskip("pyrage")

SIZES = [0, 1, 65535, 65536, 65537, 2 * 65536, 200_001]


def test_key_strings_are_interchangeable() -> None:
    theirs = pyrage.x25519.Identity.generate()
    ours = X25519Identity.parse(str(theirs))
    assert str(ours) == str(theirs)
    assert str(ours.recipient) == str(theirs.to_public())
    mine = X25519Identity.generate()
    assert str(pyrage.x25519.Identity.from_str(str(mine)).to_public()) == str(mine.recipient)
    assert X25519Recipient.parse(str(theirs.to_public())) == ours.recipient


@pytest.mark.parametrize("size", SIZES)
def test_pyrage_encrypts_we_decrypt(size: int) -> None:
    ours = X25519Identity.generate()
    plain = os.urandom(size)
    other = pyrage.x25519.Identity.generate().to_public()
    data = pyrage.encrypt(plain, [other, pyrage.x25519.Recipient.from_str(str(ours.recipient))])
    out = io.BytesIO()
    open_with_identity(io.BytesIO(data), out, [ours])
    assert out.getvalue() == plain


@pytest.mark.parametrize("size", SIZES)
def test_we_encrypt_with_custodians_pyrage_decrypts(
    size: int,
    parties: list[Any],
    binding: Binding,
    seal_bytes: Callable[..., bytes],
) -> None:
    """Stock age ignores the tenderhall.org/share stanzas and opens the bidder's stanza."""
    bidder = X25519Identity.generate()
    plain = os.urandom(size)
    data = seal_bytes(plain, bidder, parties, 3, binding)
    assert data.count(b"\n-> tenderhall.org/share ") == len(parties)
    assert pyrage.decrypt(data, [pyrage.x25519.Identity.from_str(str(bidder))]) == plain


def test_pyrage_rejects_tampered_custodian_stanza(
    parties: list[Any], binding: Binding, seal_bytes: Callable[..., bytes]
) -> None:
    """The header MAC covers the custodian stanzas for stock age too."""
    bidder = X25519Identity.generate()
    data = seal_bytes(b"bid", bidder, parties, 3, binding)
    tampered = data.replace(b"tenderhall.org/share cust-2 2 3 5", b"tenderhall.org/share cust-2 2 2 5", 1)
    assert tampered != data
    with pytest.raises(pyrage.DecryptError):
        pyrage.decrypt(tampered, [pyrage.x25519.Identity.from_str(str(bidder))])
