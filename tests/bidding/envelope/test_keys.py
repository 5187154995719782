"""Bech32 and age X25519 key encodings."""

from __future__ import annotations

import pytest

from bidding.envelope import ParameterError, X25519Identity, X25519Recipient, bech32

# From the CCTV vectors' README-described `identity` key (x25519 vectors).
VECTOR_IDENTITY = "AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0"


def test_identity_text_round_trip() -> None:
    identity = X25519Identity.parse(VECTOR_IDENTITY)
    assert str(identity) == VECTOR_IDENTITY
    recipient = identity.recipient
    assert str(recipient).startswith("age1")
    assert X25519Recipient.parse(str(recipient)) == recipient
    assert VECTOR_IDENTITY not in repr(identity)


def test_generated_keys_round_trip() -> None:
    identity = X25519Identity.generate()
    assert X25519Identity.parse(str(identity)) == identity
    assert len(str(identity)) == 74
    assert len(str(identity.recipient)) == 62


@pytest.mark.parametrize(
    "text",
    [
        VECTOR_IDENTITY.lower(),  # identities are upper case
        VECTOR_IDENTITY[:-1] + ("Q" if VECTOR_IDENTITY[-1] != "Q" else "P"),  # checksum
        VECTOR_IDENTITY[:20] + VECTOR_IDENTITY[20:].lower(),  # mixed case
        "AGE-SECRET-KEY-1" + "Q" * 10,
        "",
        "AGE-SECRET-KEY-PQ-1HZLGZUPT4ETPKDEV8HSGFDCYZ4E522W0A7PU2LHT8EH9W6YLNC3SW78XKG",
    ],
)
def test_bad_identities(text: str) -> None:
    with pytest.raises(ParameterError):
        X25519Identity.parse(text)


def test_bad_recipients() -> None:
    good = str(X25519Identity.generate().recipient)
    for text in (good.upper(), good[:-1] + ("q" if good[-1] != "q" else "p"), "age1", "abc1qqqqqqqqqq"):
        with pytest.raises(ParameterError):
            X25519Recipient.parse(text)
    with pytest.raises(ParameterError):  # an identity is not a recipient
        X25519Recipient.parse(VECTOR_IDENTITY)


def test_bech32_bip173_valid_strings() -> None:
    # Valid Bech32 strings listed in BIP 173.
    for text in ("A12UEL5L", "a12uel5l", "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw"):
        hrp, data = bech32.decode(text)
        assert bech32.encode(hrp, data) == text


def test_bech32_rejects_nonzero_padding() -> None:
    """32 bytes are 52 five-bit groups with 4 padding bits; set one, with a valid checksum."""
    data = bytes(range(32))
    values = bech32._convert_bits(data, 8, 5, pad=True)
    values[-1] |= 1
    poly = bech32._polymod([*bech32._hrp_expand("age"), *values, 0, 0, 0, 0, 0, 0]) ^ 1
    checksum = [(poly >> 5 * (5 - i)) & 31 for i in range(6)]
    text = "age1" + "".join(bech32._CHARSET[v] for v in values + checksum)
    with pytest.raises(ParameterError, match="padding"):
        bech32.decode(text)
