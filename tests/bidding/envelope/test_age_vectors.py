"""Run the C2SP CCTV age test vectors that only use features the envelope codec implements.

Skips are decided by feature (armor, passphrase, non-X25519 identity, unknown keys), never by
vector name; pytest's -ra summary counts them per reason.
"""

from __future__ import annotations

import hashlib
import io
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bidding.envelope import (
    EnvelopeError,
    HeaderError,
    MacError,
    NoIdentityMatched,
    PayloadError,
    X25519Identity,
    decrypt_payload,
    encrypt_payload,
    open_with_identity,
    parse_header,
)

VECTOR_DIR = Path("/work/shared/vectors/age-cctv")
KNOWN_KEYS = {"expect", "payload", "file key", "identity", "passphrase", "armored", "compressed", "comment"}
FAILURE_CLASS: dict[str, type[EnvelopeError]] = {
    "header failure": HeaderError,
    "HMAC failure": MacError,
    "payload failure": PayloadError,
    "no match": NoIdentityMatched,
}


@dataclass
class Vector:
    name: str
    fields: dict[str, list[str]] = field(default_factory=dict)
    body: bytes = b""

    def one(self, key: str) -> str | None:
        values = self.fields.get(key)
        return values[0] if values else None


def load(path: Path) -> Vector:
    raw = path.read_bytes()
    text, _, body = raw.partition(b"\n\n")
    vector = Vector(path.name)
    for line in text.decode().splitlines():
        key, _, value = line.partition(": ")
        vector.fields.setdefault(key, []).append(value)
    vector.body = zlib.decompress(body) if vector.one("compressed") == "zlib" else body
    return vector


def unsupported_feature(vector: Vector) -> str | None:
    unknown = set(vector.fields) - KNOWN_KEYS
    if unknown:
        return f"unknown vector keys {sorted(unknown)} (README: ignore such files)"
    if vector.one("armored") == "yes":
        return "feature not implemented: ASCII armor"
    if "passphrase" in vector.fields:
        return "feature not implemented: scrypt passphrase recipients"
    identities = vector.fields.get("identity", [])
    if any(not i.startswith("AGE-SECRET-KEY-1") for i in identities):
        return "feature not implemented: hybrid ML-KEM/X25519 identities"
    return None


VECTORS = sorted(p for p in VECTOR_DIR.iterdir() if p.is_file() and p.name != "README.md")


def test_vector_directory_is_complete() -> None:
    """Guards against silently running nothing: the suite must exercise most X25519 vectors."""
    runnable = [v for v in map(load, VECTORS) if unsupported_feature(v) is None]
    expects = {v.one("expect") for v in runnable}
    assert len(VECTORS) >= 140
    assert len(runnable) >= 60, len(runnable)
    assert expects == {"success", "header failure", "HMAC failure", "payload failure", "no match"}


@pytest.mark.parametrize("path", VECTORS, ids=[p.name for p in VECTORS])
def test_vector(path: Path) -> None:
    vector = load(path)
    reason = unsupported_feature(vector)
    if reason is not None:
        pytest.skip(reason)
    check_decryption(vector)
    check_header_round_trip(vector)
    if vector.one("expect") == "success":
        check_stream_reencrypt(vector)


def check_decryption(vector: Vector) -> None:
    identities = [X25519Identity.parse(i) for i in vector.fields.get("identity", [])]
    out = io.BytesIO()
    expect = vector.one("expect")
    if expect == "success":
        open_with_identity(io.BytesIO(vector.body), out, identities)
    else:
        assert expect in FAILURE_CLASS, expect
        with pytest.raises(EnvelopeError) as info:
            open_with_identity(io.BytesIO(vector.body), out, identities)
        # Exact class, not just any EnvelopeError: a parse bug must not pass as a MAC failure.
        assert type(info.value) is FAILURE_CLASS[expect], f"{type(info.value).__name__}: {info.value}"
    expected_hash = vector.one("payload")
    if expected_hash is not None:
        # For payload failures this is what was released before the error (README).
        assert hashlib.sha256(out.getvalue()).hexdigest() == expected_hash
    else:
        assert out.getvalue() == b""


def check_header_round_trip(vector: Vector) -> None:
    """Every parsable header re-encodes to exactly its bytes (README: header round trips)."""
    try:
        header, length = parse_header(io.BytesIO(vector.body))
    except HeaderError:
        assert vector.one("expect") == "header failure"
        return
    assert header.encode() == vector.body[:length]


def check_stream_reencrypt(vector: Vector) -> None:
    """Re-encrypting a success vector's plaintext with its file key and nonce gives the same
    payload bytes: tests the encryption direction of STREAM (README: STREAM round trips)."""
    source = io.BytesIO(vector.body)
    _, length = parse_header(source)
    payload = vector.body[length:]
    file_key = bytes.fromhex(vector.fields["file key"][0])
    plain = io.BytesIO()
    decrypt_payload(io.BytesIO(payload), plain, file_key)
    again = io.BytesIO()
    encrypt_payload(io.BytesIO(plain.getvalue()), again, file_key, nonce=payload[:16])
    assert again.getvalue() == payload
