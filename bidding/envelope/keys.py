"""age X25519 identities (``AGE-SECRET-KEY-1...``) and recipients (``age1...``).

Wrapping follows the age spec's X25519 recipient type, so stock age tools open the bidder stanza.
"""

from __future__ import annotations

import hmac

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from . import bech32
from .errors import HeaderError, ParameterError
from .header import FILE_KEY_SIZE, Stanza, b64decode_canonical, b64encode_raw

__all__ = ["X25519_STANZA_TYPE", "X25519Identity", "X25519Recipient", "x25519_exchange"]

X25519_STANZA_TYPE = "X25519"
_IDENTITY_HRP = "AGE-SECRET-KEY-"
_RECIPIENT_HRP = "age"
_WRAP_LABEL = b"age-encryption.org/v1/X25519"
_ZERO_NONCE = bytes(12)
_KEY_SIZE = 32


def x25519_exchange(private: X25519PrivateKey, peer: bytes) -> bytes:
    """X25519 that rejects low-order peer points (all-zero shared secret) with HeaderError."""
    try:
        shared = private.exchange(X25519PublicKey.from_public_bytes(peer))
    except ValueError:
        raise HeaderError("X25519 share is a low-order point (all-zero shared secret)") from None
    if not any(shared):
        raise HeaderError("X25519 share is a low-order point (all-zero shared secret)")
    return shared


def _wrap_key(shared: bytes, share: bytes, recipient: bytes) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=share + recipient, info=_WRAP_LABEL)
    return hkdf.derive(shared)


class X25519Recipient:
    """A public key files are encrypted to; text form ``age1...``."""

    __slots__ = ("_public",)

    def __init__(self, public_key: X25519PublicKey) -> None:
        self._public = public_key

    @classmethod
    def parse(cls, text: str) -> X25519Recipient:
        hrp, data = bech32.decode(text)
        if hrp != _RECIPIENT_HRP or len(data) != _KEY_SIZE:
            raise ParameterError("not an age X25519 recipient (expected lowercase 'age1...')")
        return cls(X25519PublicKey.from_public_bytes(data))

    @property
    def public_key(self) -> X25519PublicKey:
        return self._public

    @property
    def public_bytes(self) -> bytes:
        return self._public.public_bytes(Encoding.Raw, PublicFormat.Raw)

    def __str__(self) -> str:
        return bech32.encode(_RECIPIENT_HRP, self.public_bytes)

    def __repr__(self) -> str:
        return f"X25519Recipient({self})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, X25519Recipient) and self.public_bytes == other.public_bytes

    def __hash__(self) -> int:
        return hash(self.public_bytes)

    def wrap(self, file_key: bytes) -> Stanza:
        """Return an ``X25519`` stanza wrapping ``file_key`` to this recipient."""
        if len(file_key) != FILE_KEY_SIZE:
            raise ParameterError(f"a file key is {FILE_KEY_SIZE} bytes, got {len(file_key)}")
        ephemeral = X25519PrivateKey.generate()
        share = ephemeral.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        recipient = self.public_bytes
        shared = x25519_exchange(ephemeral, recipient)
        body = ChaCha20Poly1305(_wrap_key(shared, share, recipient)).encrypt(_ZERO_NONCE, file_key, None)
        return Stanza(X25519_STANZA_TYPE, (b64encode_raw(share).decode("ascii"),), body)


class X25519Identity:
    """A private key; text form ``AGE-SECRET-KEY-1...``. Its repr never shows the secret."""

    __slots__ = ("_private", "_recipient")

    def __init__(self, private_key: X25519PrivateKey) -> None:
        self._private = private_key
        self._recipient = X25519Recipient(private_key.public_key())

    @classmethod
    def generate(cls) -> X25519Identity:
        return cls(X25519PrivateKey.generate())

    @classmethod
    def parse(cls, text: str) -> X25519Identity:
        hrp, data = bech32.decode(text)
        if hrp != _IDENTITY_HRP or len(data) != _KEY_SIZE:
            raise ParameterError("not an age X25519 identity (expected uppercase 'AGE-SECRET-KEY-1...')")
        return cls(X25519PrivateKey.from_private_bytes(data))

    @property
    def private_key(self) -> X25519PrivateKey:
        return self._private

    @property
    def recipient(self) -> X25519Recipient:
        return self._recipient

    def __str__(self) -> str:
        raw = self._private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        return bech32.encode(_IDENTITY_HRP, raw)

    def __repr__(self) -> str:
        return f"X25519Identity(recipient={self._recipient})"

    def unwrap(self, stanza: Stanza) -> bytes | None:
        """Return the file key if ``stanza`` is an X25519 stanza for this identity, else None.

        A malformed X25519 stanza (or a low-order share) raises HeaderError, as in age.
        """
        if stanza.type != X25519_STANZA_TYPE:
            return None
        if len(stanza.args) != 1:
            raise HeaderError(f"X25519 stanza needs exactly 1 argument, got {len(stanza.args)}")
        share = b64decode_canonical(stanza.args[0].encode("ascii"))
        if len(share) != _KEY_SIZE:
            raise HeaderError(f"X25519 share is {len(share)} bytes, expected {_KEY_SIZE}")
        if len(stanza.body) != FILE_KEY_SIZE + 16:
            raise HeaderError(f"X25519 stanza body is {len(stanza.body)} bytes, expected 32")
        shared = x25519_exchange(self._private, share)
        key = _wrap_key(shared, share, self._recipient.public_bytes)
        try:
            return ChaCha20Poly1305(key).decrypt(_ZERO_NONCE, stanza.body, None)
        except InvalidTag:
            return None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, X25519Identity) and hmac.compare_digest(str(self), str(other))

    def __hash__(self) -> int:
        return hash(self._recipient)
