"""STREAM payload: round trips across chunk boundaries, short reads, and tampering."""

from __future__ import annotations

import io
import os
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bidding.envelope import HeaderError, PayloadError, decrypt_payload, encrypt_payload
from bidding.envelope.stream import CHUNK_SIZE, ENC_CHUNK_SIZE, NONCE_SIZE

KEY = bytes(range(16))
C = CHUNK_SIZE
BOUNDARIES = [0, 1, 15, 16, 17, C - 1, C, C + 1, 2 * C - 1, 2 * C, 2 * C + 1, 3 * C + 5]


class Trickle(io.RawIOBase):
    """A source that returns at most ``step`` bytes per readinto, like a socket or pipe."""

    def __init__(self, data: bytes, seed: int) -> None:
        self._data = memoryview(data)
        self._pos = 0
        self._rng = random.Random(seed)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        step = min(len(buffer), self._rng.choice([1, 7, 1000, 70000]), len(self._data) - self._pos)
        buffer[:step] = self._data[self._pos : self._pos + step]
        self._pos += step
        return step

    def readline(self, size: int | None = -1) -> bytes:  # not used by the payload code
        raise NotImplementedError


def seal(plain: bytes, nonce: bytes | None = None) -> bytes:
    out = io.BytesIO()
    written = encrypt_payload(io.BytesIO(plain), out, KEY, nonce)
    assert written == len(out.getvalue())
    return out.getvalue()


def unseal(data: bytes) -> bytes:
    out = io.BytesIO()
    assert decrypt_payload(io.BytesIO(data), out, KEY) == len(out.getvalue())
    return out.getvalue()


def chunks(n: int) -> int:
    return max(1, -(-n // C))


@pytest.mark.parametrize("size", BOUNDARIES)
def test_round_trip_at_boundaries(size: int) -> None:
    plain = os.urandom(size)
    sealed = seal(plain)
    assert len(sealed) == NONCE_SIZE + size + 16 * chunks(size)
    assert unseal(sealed) == plain


@settings(max_examples=40, deadline=None)
@given(
    size=st.one_of(st.sampled_from(BOUNDARIES), st.integers(0, 3 * C + 17)),
    seed=st.integers(0, 2**32 - 1),
)
def test_round_trip_property_with_short_reads(size: int, seed: int) -> None:
    plain = random.Random(seed).randbytes(size)
    sealed = io.BytesIO()
    encrypt_payload(Trickle(plain, seed), sealed, KEY)
    out = io.BytesIO()
    decrypt_payload(Trickle(sealed.getvalue(), seed + 1), out, KEY)
    assert out.getvalue() == plain


def test_fixed_nonce_is_deterministic_and_random_nonce_is_not() -> None:
    nonce = bytes(16)
    assert seal(b"abc", nonce) == seal(b"abc", nonce)
    assert seal(b"abc") != seal(b"abc")


def split_chunks(sealed: bytes) -> tuple[bytes, list[bytes]]:
    body = sealed[NONCE_SIZE:]
    return sealed[:NONCE_SIZE], [body[i : i + ENC_CHUNK_SIZE] for i in range(0, len(body), ENC_CHUNK_SIZE)]


def test_reordered_duplicated_and_dropped_chunks_fail() -> None:
    plain = os.urandom(3 * C + 10)
    nonce, parts = split_chunks(seal(plain))
    assert len(parts) == 4
    bad_layouts = {
        "swap 1 and 2": [parts[0], parts[2], parts[1], parts[3]],
        "duplicate 1": [parts[0], parts[1], parts[1], parts[2], parts[3]],
        "drop 2": [parts[0], parts[1], parts[3]],
        "drop last": parts[:3],
        "last first": [parts[3]],
        "repeat last": [*parts, parts[3]],
    }
    for name, layout in bad_layouts.items():
        out = io.BytesIO()
        with pytest.raises(PayloadError):
            decrypt_payload(io.BytesIO(nonce + b"".join(layout)), out, KEY)
        # Only a prefix of the real plaintext may ever be released.
        assert plain.startswith(out.getvalue()), name


@pytest.mark.parametrize("size", [0, 5, C, C + 5])
def test_every_truncation_and_any_trailing_data_fail(size: int) -> None:
    sealed = seal(os.urandom(size))
    cuts = range(len(sealed)) if len(sealed) < 200 else [*range(40), *range(len(sealed) - 40, len(sealed))]
    for cut in cuts:
        with pytest.raises((PayloadError, HeaderError)):
            unseal(sealed[:cut])
    for extra in (b"\x00", os.urandom(17), os.urandom(ENC_CHUNK_SIZE + 3)):
        with pytest.raises(PayloadError):
            unseal(sealed + extra)


def test_every_bit_flip_fails_small() -> None:
    sealed = seal(b"sealed bid: price 1,234,567.00")
    for pos in range(len(sealed)):
        for bit in range(8):
            bad = bytearray(sealed)
            bad[pos] ^= 1 << bit
            with pytest.raises(PayloadError):
                unseal(bytes(bad))


def test_wrong_key_fails() -> None:
    sealed = seal(b"x")
    with pytest.raises(PayloadError):
        decrypt_payload(io.BytesIO(sealed), io.BytesIO(), bytes(16))


def test_empty_final_chunk_only_for_empty_payload() -> None:
    assert unseal(seal(b"")) == b""
    # A full chunk followed by an empty final chunk is what a buggy encoder would write.
    from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

    from bidding.envelope.stream import payload_key

    nonce = os.urandom(16)
    aead = ChaCha20Poly1305(payload_key(KEY, nonce))
    first = aead.encrypt(bytes(11) + b"\x00", bytes(C), None)
    empty_last = aead.encrypt((1).to_bytes(11, "big") + b"\x01", b"", None)
    out = io.BytesIO()
    with pytest.raises(PayloadError, match="empty"):
        decrypt_payload(io.BytesIO(nonce + first + empty_last), out, KEY)
    assert out.getvalue() == bytes(C)
