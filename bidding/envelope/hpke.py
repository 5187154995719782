"""RFC 9180 HPKE, base mode, single shot, suite DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 /
ChaCha20-Poly1305 (0x0020 / 0x0001 / 0x0003).

Backed by ``cryptography``'s own HPKE (OpenSSL), which this codebase's cryptography version
provides; the output is ``enc (32 bytes) || ciphertext`` with an empty AAD and sequence number 0.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke as _hpke
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from .errors import EnvelopeError

__all__ = ["ENC_SIZE", "TAG_SIZE", "HpkeError", "open_base", "seal_base"]

ENC_SIZE = 32
TAG_SIZE = 16
_SUITE = _hpke.Suite(_hpke.KEM.X25519, _hpke.KDF.HKDF_SHA256, _hpke.AEAD.CHACHA20_POLY1305)


class HpkeError(EnvelopeError):
    """HPKE decryption failed: wrong key, wrong info, tampered or low-order ``enc``."""


def seal_base(public_key: X25519PublicKey, info: bytes, plaintext: bytes) -> bytes:
    """SealBase(pkR, info, aad="", pt); returns enc || ct."""
    return _SUITE.encrypt(plaintext, public_key, info=info)


def open_base(private_key: X25519PrivateKey, info: bytes, sealed: bytes) -> bytes:
    """OpenBase(enc, skR, info, aad="", ct) for ``sealed = enc || ct``; raises HpkeError."""
    if len(sealed) < ENC_SIZE + TAG_SIZE:
        raise HpkeError(f"HPKE message too short ({len(sealed)} bytes)")
    try:
        return _SUITE.decrypt(sealed, private_key, info=info)
    except (InvalidTag, ValueError):
        raise HpkeError("HPKE decryption failed (wrong key, wrong binding or tampered)") from None
