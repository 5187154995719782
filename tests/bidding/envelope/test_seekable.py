"""Random access to a payload's plaintext: every read at every offset equals the sequential
decoder's plaintext; a damaged or cut payload fails where it is read, never returning bad bytes."""

from __future__ import annotations

import io
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bidding.envelope import PayloadError, decrypt_payload, encrypt_payload
from bidding.envelope.errors import HeaderError
from bidding.envelope.seekable import PlaintextReader
from bidding.envelope.stream import CHUNK_SIZE, ENC_CHUNK_SIZE, NONCE_SIZE

KEY = bytes(range(16))
HEADER = b"not-parsed-here\n"  # the reader is told where the payload starts


def sealed(plain: bytes) -> bytes:
    out = io.BytesIO()
    out.write(HEADER)
    encrypt_payload(io.BytesIO(plain), out, KEY)
    return out.getvalue()


def reader(blob: bytes) -> PlaintextReader:
    return PlaintextReader(io.BytesIO(blob), len(HEADER), KEY)


SIZES = [0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 3 * CHUNK_SIZE, 3 * CHUNK_SIZE + 17]


@pytest.mark.parametrize("size", SIZES)
def test_whole_read_equals_sequential_decryption(size: int) -> None:
    plain = os.urandom(size)
    blob = sealed(plain)
    sequential = io.BytesIO()
    src = io.BytesIO(blob)
    src.seek(len(HEADER))
    decrypt_payload(src, sequential, KEY)
    r = reader(blob)
    assert r.size == size
    assert r.read() == plain == sequential.getvalue()
    assert r.read() == b""  # at the end


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_reads_at_any_offset(data: st.DataObject) -> None:
    size = data.draw(st.sampled_from(SIZES[1:]))
    plain = bytes(i % 251 for i in range(size))
    r = reader(sealed(plain))
    for _ in range(5):
        at = data.draw(st.integers(0, size + 10))
        n = data.draw(st.integers(0, 2 * CHUNK_SIZE + 5))
        whence = data.draw(st.sampled_from([io.SEEK_SET, io.SEEK_CUR, io.SEEK_END]))
        if whence == io.SEEK_SET:
            r.seek(at)
        elif whence == io.SEEK_CUR:
            r.seek(at - r.tell() if at >= r.tell() else -(r.tell() - at), io.SEEK_CUR)
        else:
            r.seek(at - size, io.SEEK_END)
        assert r.tell() == at
        assert r.read(n) == plain[at : at + n]


def test_a_damaged_chunk_fails_only_when_read() -> None:
    plain = os.urandom(3 * CHUNK_SIZE)
    blob = bytearray(sealed(plain))
    blob[len(HEADER) + NONCE_SIZE + ENC_CHUNK_SIZE + 5] ^= 1  # inside chunk 1
    r = reader(bytes(blob))
    assert r.read(CHUNK_SIZE) == plain[:CHUNK_SIZE]
    r.seek(2 * CHUNK_SIZE)
    assert r.read() == plain[2 * CHUNK_SIZE :]
    r.seek(CHUNK_SIZE + 1)
    with pytest.raises(PayloadError, match="chunk 1"):
        r.read(1)


def test_a_cut_payload_fails_at_its_end() -> None:
    plain = os.urandom(2 * CHUNK_SIZE + 100)
    blob = sealed(plain)
    # Cut exactly after the second full chunk: that chunk is then read as the final one, and its
    # tag (made for a middle chunk) does not verify as final.
    cut = blob[: len(HEADER) + NONCE_SIZE + 2 * ENC_CHUNK_SIZE]
    r = reader(cut)
    assert r.read(CHUNK_SIZE) == plain[:CHUNK_SIZE]
    with pytest.raises(PayloadError):
        r.read()


def test_wrong_key_and_missing_nonce() -> None:
    blob = sealed(b"hello")
    r = PlaintextReader(io.BytesIO(blob), len(HEADER), bytes(16))
    with pytest.raises(PayloadError):
        r.read()
    with pytest.raises(HeaderError):
        PlaintextReader(io.BytesIO(HEADER + b"short"), len(HEADER), KEY)
    with pytest.raises(PayloadError):
        PlaintextReader(io.BytesIO(HEADER + bytes(NONCE_SIZE + 3)), len(HEADER), KEY)
