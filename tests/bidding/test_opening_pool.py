"""The parallel decryptor used at opening agrees with the sequential STREAM decoder: it accepts
exactly the payloads the decoder accepts, with the same plaintext, and hands everything else back
(False) so that the decoder gives the verdict.  Real worker processes, real shared memory."""

from __future__ import annotations

import io
import os
import signal
import tempfile
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from bidding import envelope
from bidding.decrypt_pool import SLOT_CHUNKS, DecryptPool
from bidding.envelope.stream import CHUNK_SIZE, NONCE_SIZE, payload_key

KEY = bytes(range(16))
NONCE = bytes(range(100, 116))
SLOT = SLOT_CHUNKS * CHUNK_SIZE
HEADER = b"age-encryption.org/v1\n-> X25519 ...\n--- ...\n"


class Buffer:
    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, data: memoryview | bytes, /) -> int:
        self.data += data
        return len(data)


@pytest.fixture(scope="module")
def pool() -> Iterator[DecryptPool]:
    p = DecryptPool(2)
    yield p
    p.stop()


def sealed(plain: bytes) -> bytes:
    out = io.BytesIO()
    envelope.encrypt_payload(io.BytesIO(plain), out, KEY, NONCE)
    return out.getvalue()


def chunk(index: int, plain: bytes, last: bool) -> bytes:
    aead = ChaCha20Poly1305(payload_key(KEY, NONCE))
    return aead.encrypt(index.to_bytes(11, "big") + (b"\x01" if last else b"\x00"), plain, None)


def sequential(payload: bytes) -> bytes | None:
    out = Buffer()
    try:
        envelope.decrypt_payload(io.BytesIO(payload), out, KEY)
    except envelope.EnvelopeError:
        return None
    return bytes(out.data)


def check(pool: DecryptPool, payload: bytes) -> bytes | None:
    """The pool's verdict, asserted equal to the sequential decoder's: for a reader it must read
    itself and for a file (after a header) that the workers map, for all of the plaintext and for
    a prefix (of none, or of a few chunks plus a bit: opened by the caller, the rest by ranges)."""
    expected = sequential(payload)
    with tempfile.TemporaryFile() as stored:
        stored.write(HEADER + payload)
        for prefix in (None, 0, 3 * CHUNK_SIZE + 7):
            stored.seek(len(HEADER))
            for source in (io.BytesIO(payload), stored):
                out = Buffer()
                ok = pool.decrypt(source, out, KEY, prefix=prefix)
                assert ok is (expected is not None), (source, prefix)
                if expected is not None:
                    assert bytes(out.data) == expected[:prefix]
    return expected


@pytest.mark.parametrize(
    "size",
    [0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, SLOT, SLOT + 1, 2 * SLOT, 7 * SLOT + 12345],
)
def test_valid_payloads_decrypt_as_sequentially(pool: DecryptPool, size: int) -> None:
    plain = os.urandom(size)
    assert check(pool, sealed(plain)) == plain


def test_only_a_prefix_reaches_the_sink(pool: DecryptPool) -> None:
    plain = os.urandom(3 * SLOT + 99)
    for prefix in (0, 10, SLOT, SLOT + 1, 5 * SLOT):
        for source in (io.BytesIO(sealed(plain)), io.BufferedReader(io.BytesIO(sealed(plain)))):
            out = Buffer()
            assert pool.decrypt(source, out, KEY, prefix=prefix)
            assert bytes(out.data) == plain[:prefix]
    bad = bytearray(sealed(plain))
    bad[-1] ^= 1  # damage far beyond the prefix is still found
    assert not pool.decrypt(io.BytesIO(bytes(bad)), Buffer(), KEY, prefix=10)


def test_damaged_payloads_are_handed_back(pool: DecryptPool) -> None:
    plain = os.urandom(3 * SLOT + 777)
    good = sealed(plain)
    enc = CHUNK_SIZE + 16
    cases = {
        "bit in the first chunk": NONCE_SIZE + 5,
        "bit in a later slot": NONCE_SIZE + SLOT_CHUNKS * enc * 2 + 3 * enc + 9,
        "bit in the last chunk": len(good) - 3,
    }
    for name, at in cases.items():
        bad = bytearray(good)
        bad[at] ^= 0x01
        assert check(pool, bytes(bad)) is None, name
    # Cut at a chunk boundary (the last full chunk is not marked final), cut inside a chunk, a
    # trailing byte, no chunk at all, a short nonce.
    full = NONCE_SIZE + SLOT_CHUNKS * enc
    for payload in (good[:full], good[:-100], good + b"\x00", good[:NONCE_SIZE], good[:7]):
        assert check(pool, payload) is None
    # Still in step after refusals.
    assert check(pool, good) == plain


def test_chunk_flags_and_layout(pool: DecryptPool) -> None:
    a, b = os.urandom(CHUNK_SIZE), os.urandom(100)
    assert check(pool, NONCE + chunk(0, a, False) + chunk(1, b, True)) == a + b
    # An empty final chunk is allowed only for an empty plaintext.
    assert check(pool, NONCE + chunk(0, b"", True)) == b""
    assert check(pool, NONCE + chunk(0, a, False) + chunk(1, b"", True)) is None
    # A final chunk followed by more data; a short chunk that is not the last one; chunks swapped.
    assert check(pool, NONCE + chunk(0, a, True) + chunk(1, b, True)) is None
    assert check(pool, NONCE + chunk(0, b, False) + chunk(1, b, True)) is None
    assert check(pool, NONCE + chunk(1, a, False) + chunk(0, b, True)) is None


def test_a_dead_worker_is_replaced(pool: DecryptPool) -> None:
    plain = os.urandom(2 * SLOT)
    assert check(pool, sealed(plain)) == plain
    victim = pool.pids()[0]
    os.kill(victim, signal.SIGKILL)
    os.waitid(os.P_PID, victim, os.WEXITED | os.WNOWAIT)
    # The job that finds the worker gone gives up (the caller decodes sequentially) ...
    assert pool.decrypt(io.BytesIO(sealed(plain)), Buffer(), KEY) is False
    # ... and the next one runs on fresh workers.
    assert check(pool, sealed(plain)) == plain
    assert victim not in pool.pids()
