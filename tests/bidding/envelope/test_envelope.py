"""Sealing/opening envelopes, custodian shares, structure checks and tampering."""

from __future__ import annotations

import base64
import io
import itertools
import os
from collections.abc import Callable
from typing import Any

import pytest

from bidding.envelope import (
    SHARE_STANZA_TYPE,
    Binding,
    EnvelopeError,
    Header,
    HeaderError,
    MacError,
    NoIdentityMatched,
    ParameterError,
    PayloadError,
    Share,
    ShareError,
    Stanza,
    X25519Identity,
    check_structure,
    open_custodian_share,
    open_with_file_key,
    open_with_identity,
    parse_header,
    recover_file_key,
    share_stanzas,
    unwrap_file_key,
    verify_file_key,
)
from bidding.envelope.header import MAX_HEADER_SIZE, MAX_STANZAS, build_header

PLAIN = b"PK\x03\x04 bid form: price=1234567.00 duration=180d" * 3


def header_of(data: bytes) -> tuple[Header, int]:
    return parse_header(io.BytesIO(data))


def open_id(data: bytes, *identities: X25519Identity) -> bytes:
    out = io.BytesIO()
    assert open_with_identity(io.BytesIO(data), out, identities) == len(out.getvalue())
    return out.getvalue()


def release_all(header: Header, parties: list[Any], binding: Binding) -> list[Share]:
    return [open_custodian_share(header, binding, p.custodian.id, p.private_key) for p in parties]


def test_seal_and_open_without_custodians(bidder: X25519Identity, seal_bytes: Callable[..., bytes]) -> None:
    data = seal_bytes(PLAIN, bidder)
    assert data.startswith(b"age-encryption.org/v1\n-> X25519 ")
    assert open_id(data, bidder) == PLAIN
    with pytest.raises(NoIdentityMatched):
        open_id(data, X25519Identity.generate())
    assert open_id(data, X25519Identity.generate(), bidder) == PLAIN
    check_structure(header_of(data)[0])


def test_open_with_unwrapped_file_key(
    bidder: X25519Identity, parties: list[Any], binding: Binding, seal_bytes: Callable[..., bytes]
) -> None:
    data = seal_bytes(PLAIN, bidder, parties, 3, binding)
    header, length = header_of(data)
    assert data[:length] == header.encode()
    file_key = unwrap_file_key(header, [bidder])
    verify_file_key(header, file_key)
    out = io.BytesIO()
    open_with_file_key(io.BytesIO(data), out, file_key)
    assert out.getvalue() == PLAIN
    wrong = bytes(16)
    with pytest.raises(MacError):
        verify_file_key(header, wrong)
    with pytest.raises(MacError):
        open_with_file_key(io.BytesIO(data), io.BytesIO(), wrong)
    with pytest.raises(MacError):
        verify_file_key(header, file_key[:15])


def test_structure_check(
    bidder: X25519Identity, parties: list[Any], binding: Binding, seal_bytes: Callable[..., bytes]
) -> None:
    ids = [p.custodian.id for p in parties]
    data = seal_bytes(PLAIN, bidder, parties, 3, binding)
    header, _ = header_of(data)
    check_structure(header, custodian_ids=ids, k=3)
    check_structure(header, custodian_ids=list(reversed(ids)), k=3)
    failing = [
        dict(custodian_ids=ids, k=2),  # wrong k
        dict(custodian_ids=ids[:4], k=3),  # wrong n / unexpected custodian
        dict(custodian_ids=[*ids, "cust-9"], k=3),  # missing custodian
        dict(custodian_ids=[*ids[:4], "other"], k=3),  # other custodian
        dict(),  # tender without custodians
    ]
    for kwargs in failing:
        with pytest.raises(HeaderError):
            check_structure(header, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ParameterError):
        check_structure(header, custodian_ids=ids)


def restamp(header: Header, stanzas: list[Stanza], file_key: bytes) -> Header:
    return build_header(stanzas, file_key)


def test_structure_check_rejects_extra_or_duplicate_stanzas(
    bidder: X25519Identity, parties: list[Any], binding: Binding, seal_bytes: Callable[..., bytes]
) -> None:
    ids = [p.custodian.id for p in parties]
    header, _ = header_of(seal_bytes(PLAIN, bidder, parties, 3, binding))
    key = unwrap_file_key(header, [bidder])
    x25519, *shares = header.stanzas
    variants = {
        "two X25519": [x25519, X25519Identity.generate().recipient.wrap(key), *shares],
        "no X25519": shares,
        "grease": [x25519, *shares, Stanza("grease-1", ("a",), b"")],
        "duplicate share": [x25519, *shares, shares[0]],
        "missing share": [x25519, *shares[:4]],
    }
    for name, stanzas in variants.items():
        with pytest.raises(HeaderError):
            check_structure(restamp(header, stanzas, key), custodian_ids=ids, k=3)
        assert name


def test_every_k_subset_of_custodians_recovers(
    bidder: X25519Identity,
    binding: Binding,
    seal_bytes: Callable[..., bytes],
    make_custodians: Callable[..., list[Any]],
) -> None:
    parties = make_custodians(5)
    data = seal_bytes(PLAIN, bidder, parties, 3, binding)
    header, _ = header_of(data)
    key = unwrap_file_key(header, [bidder])
    shares = release_all(header, parties, binding)
    assert sorted(s.index for s in shares) == [1, 2, 3, 4, 5]
    for subset in itertools.combinations(shares, 3):
        recovery = recover_file_key(header, list(subset))
        assert recovery.file_key == key
        assert recovery.bad_custodians == ()
    for subset in itertools.combinations(shares, 2):
        with pytest.raises(ShareError, match="at least k=3"):
            recover_file_key(header, list(subset))
    recovery = recover_file_key(header, shares)
    out = io.BytesIO()
    open_with_file_key(io.BytesIO(data), out, recovery.file_key)
    assert out.getvalue() == PLAIN
    assert "file_key" not in repr(recovery)


def test_bad_share_is_identified_when_more_than_k(
    bidder: X25519Identity, parties: list[Any], binding: Binding, seal_bytes: Callable[..., bytes]
) -> None:
    header, _ = header_of(seal_bytes(PLAIN, bidder, parties, 3, binding))
    key = unwrap_file_key(header, [bidder])
    shares = release_all(header, parties, binding)
    for bad_pos in range(5):
        tampered = list(shares)
        wrong = bytearray(tampered[bad_pos].value)
        wrong[3] ^= 0x40
        tampered[bad_pos] = Share(tampered[bad_pos].custodian_id, tampered[bad_pos].index, bytes(wrong))
        recovery = recover_file_key(header, tampered[:4] if bad_pos < 4 else tampered[1:])
        assert recovery.file_key == key
        assert recovery.bad_custodians == (shares[bad_pos].custodian_id,)
        # Two bad among five with k=3 still recovers and names both.
        other = (bad_pos + 2) % 5
        worse = list(tampered)
        worse[other] = Share(shares[other].custodian_id, shares[other].index, os.urandom(16))
        recovery = recover_file_key(header, worse)
        assert recovery.file_key == key
        assert set(recovery.bad_custodians) == {shares[bad_pos].custodian_id, shares[other].custodian_id}
    exactly_k = [shares[0], shares[1], Share(shares[2].custodian_id, shares[2].index, bytes(16))]
    with pytest.raises(ShareError, match="do not reconstruct"):
        recover_file_key(header, exactly_k)


def test_duplicate_shares_rejected(
    bidder: X25519Identity, parties: list[Any], binding: Binding, seal_bytes: Callable[..., bytes]
) -> None:
    header, _ = header_of(seal_bytes(PLAIN, bidder, parties, 3, binding))
    shares = release_all(header, parties, binding)
    with pytest.raises(ShareError, match="duplicate"):
        recover_file_key(header, [shares[0], shares[1], shares[1], shares[2]])
    with pytest.raises(ShareError, match="duplicate"):
        recover_file_key(header, [shares[0], shares[1], Share("x", shares[1].index, shares[2].value)])
    with pytest.raises(ShareError, match="no share stanza"):
        recover_file_key(header, [shares[0], shares[1], Share(shares[2].custodian_id, 9, shares[2].value)])
    with pytest.raises(ShareError, match="no share stanza"):
        recover_file_key(header, [shares[0], shares[1], Share(shares[3].custodian_id, 3, shares[2].value)])


def test_custodian_stanza_copied_into_another_bid_fails(
    bidder: X25519Identity, parties: list[Any], seal_bytes: Callable[..., bytes]
) -> None:
    bind_a = Binding("ZB-2025-0042", "bid-A")
    bind_b = Binding("ZB-2025-0042", "bid-B")
    header_a, _ = header_of(seal_bytes(b"bid A", bidder, parties, 3, bind_a))
    header_b, _ = header_of(seal_bytes(b"bid B", bidder, parties, 3, bind_b))
    key_b = unwrap_file_key(header_b, [bidder])
    # Replace B's stanza for custodian 1 by A's.
    stolen = header_a.stanzas[1]
    assert stolen.type == SHARE_STANZA_TYPE
    assert stolen.args[0] == "cust-1"
    forged = Header((header_b.stanzas[0], stolen, *header_b.stanzas[2:]), header_b.mac)
    # 1. The header MAC covers every stanza, so B's key no longer authenticates the header.
    with pytest.raises(MacError):
        verify_file_key(forged, key_b)
    # 2. Even with a re-MACed header (an attacker holding B's key), the custodian's HPKE info
    #    binds bid A, so opening it as part of bid B fails.
    remaced = build_header(list(forged.stanzas), key_b)
    with pytest.raises(ShareError, match="does not open"):
        open_custodian_share(remaced, bind_b, "cust-1", parties[0].private_key)
    # Same for another tender, and for a relabelled index/k/n.
    with pytest.raises(ShareError):
        open_custodian_share(header_a, Binding("ZB-2025-0043", "bid-A"), "cust-1", parties[0].private_key)
    s = share_stanzas(header_a)[0]
    relabelled = Stanza(SHARE_STANZA_TYPE, (s.custodian_id, "2", "3", "5"), s.sealed)
    with pytest.raises(ShareError):
        open_custodian_share(
            build_header([header_a.stanzas[0], relabelled], bytes(16)),
            bind_a,
            "cust-1",
            parties[0].private_key,
        )
    # And the wrong custodian's key does not open it.
    with pytest.raises(ShareError):
        open_custodian_share(header_a, bind_a, "cust-1", parties[1].private_key)
    assert open_custodian_share(header_a, bind_a, "cust-1", parties[0].private_key).index == 1


def test_every_bit_flip_in_a_whole_envelope_fails(
    bidder: X25519Identity, parties: list[Any], binding: Binding, seal_bytes: Callable[..., bytes]
) -> None:
    data = seal_bytes(b"price 99", bidder, parties[:2], 2, binding)
    header, length = header_of(data)
    file_key = unwrap_file_key(header, [bidder])
    for pos in range(len(data)):
        for bit in range(8):
            bad = bytearray(data)
            bad[pos] ^= 1 << bit
            out = io.BytesIO()
            with pytest.raises(EnvelopeError):
                open_with_identity(io.BytesIO(bytes(bad)), out, [bidder])
            assert out.getvalue() == b""
            # The server's path (file key from the bidder) catches it too.
            with pytest.raises((HeaderError, MacError, PayloadError)):
                open_with_file_key(io.BytesIO(bytes(bad)), io.BytesIO(), file_key)
    assert length < len(data)


def test_truncation_and_trailing_data(
    bidder: X25519Identity, parties: list[Any], binding: Binding, seal_bytes: Callable[..., bytes]
) -> None:
    data = seal_bytes(os.urandom(70000), bidder, parties, 3, binding)
    for cut in [*range(0, len(data), 997), len(data) - 1]:
        with pytest.raises((HeaderError, PayloadError)):
            open_id(data[:cut], bidder)
    with pytest.raises(PayloadError):
        open_id(data + b"\n", bidder)


LOW_ORDER_POINTS = [
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0100000000000000000000000000000000000000000000000000000000000000",
    "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
    "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
]


@pytest.mark.parametrize("point", LOW_ORDER_POINTS)
def test_low_order_x25519_share_rejected(bidder: X25519Identity, point: str) -> None:
    share = base64.b64encode(bytes.fromhex(point)).rstrip(b"=").decode()
    header = build_header([Stanza("X25519", (share,), os.urandom(32))], os.urandom(16))
    data = header.encode() + os.urandom(40)
    with pytest.raises(HeaderError, match="low-order"):
        open_id(data, bidder)


def test_header_limits_and_strictness(bidder: X25519Identity, seal_bytes: Callable[..., bytes]) -> None:
    good = seal_bytes(b"x", bidder)
    _header, length = header_of(good)
    lines = good[:length].split(b"\n")
    cases = {
        "unknown version": good.replace(b"age-encryption.org/v1", b"age-encryption.org/v2", 1),
        "not age": b"hello\n" + good,
        "crlf": good[:length].replace(b"\n", b"\r\n") + good[length:],
        "padding in body": good.replace(lines[2] + b"\n", lines[2] + b"=\n", 1),
        "long body line": good.replace(lines[2] + b"\n", lines[2] + b"A" * 30 + b"\n", 1),
        "no MAC line": b"\n".join(lines[:3]) + b"\n",
        "empty": b"",
        "oversized": b"age-encryption.org/v1\n-> big " + b"a" * MAX_HEADER_SIZE + b"\n",
        "too many stanzas": b"age-encryption.org/v1\n" + b"-> g\n\n" * (MAX_STANZAS + 1) + lines[3] + b"\n",
        "double space": good.replace(b"-> X25519 ", b"-> X25519  ", 1),
    }
    for name, data in cases.items():
        with pytest.raises(HeaderError):
            parse_header(io.BytesIO(data))
        assert name


def test_seal_parameter_validation(
    bidder: X25519Identity,
    binding: Binding,
    seal_bytes: Callable[..., bytes],
    make_custodians: Callable[..., list[Any]],
) -> None:
    parties = make_custodians(3)
    for k in (0, 1, 4):
        with pytest.raises(ParameterError):
            seal_bytes(b"x", bidder, parties, k, binding)
    with pytest.raises(ParameterError):
        seal_bytes(b"x", bidder, parties, None, binding)
    with pytest.raises(ParameterError):
        seal_bytes(b"x", bidder, parties, 2, None)
    with pytest.raises(ParameterError):
        seal_bytes(b"x", bidder, None, 2, binding)
    dup = [parties[0], parties[0], parties[1]]
    with pytest.raises(ParameterError, match="unique"):
        seal_bytes(b"x", bidder, dup, 2, binding)
    with pytest.raises(ParameterError):
        seal_bytes(b"x", bidder, make_custodians(256), 2, binding)
    with pytest.raises(ParameterError):
        Binding("tender with spaces", "b")


def test_255_custodians_with_long_ids_fit(
    bidder: X25519Identity,
    binding: Binding,
    seal_bytes: Callable[..., bytes],
    make_custodians: Callable[..., list[Any]],
) -> None:
    parties = make_custodians(255, prefix="c" * 59)
    data = seal_bytes(PLAIN, bidder, parties, 2, binding)
    header, length = header_of(data)
    assert length < MAX_HEADER_SIZE
    check_structure(header, custodian_ids=[p.custodian.id for p in parties], k=2)
    shares = [open_custodian_share(header, binding, p.custodian.id, p.private_key) for p in parties[-2:]]
    assert recover_file_key(header, shares).file_key == unwrap_file_key(header, [bidder])
