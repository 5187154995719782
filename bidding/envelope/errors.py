"""One exception hierarchy for the envelope codec.

The classes mirror the failure classes of the age test vectors so the server can tell a malformed
upload (HeaderError) from a wrong key (MacError, NoIdentityMatched) or damaged ciphertext
(PayloadError).
"""

from __future__ import annotations

__all__ = [
    "EnvelopeError",
    "HeaderError",
    "MacError",
    "NoIdentityMatched",
    "ParameterError",
    "PayloadError",
    "ShareError",
]


class EnvelopeError(Exception):
    """Base class of every error raised by ``bidding.envelope``."""


class HeaderError(EnvelopeError):
    """The age header is malformed, oversized, non-canonical or structurally not allowed."""


class MacError(EnvelopeError):
    """The file key does not authenticate the header (wrong key or tampered header)."""


class NoIdentityMatched(EnvelopeError):
    """No recipient stanza could be unwrapped with the identities given."""


class PayloadError(EnvelopeError):
    """The STREAM payload is truncated, reordered, tampered or has trailing data."""


class ShareError(EnvelopeError):
    """A custodian share is invalid, duplicated, unbound to this bid, or too few were given."""


class ParameterError(EnvelopeError, ValueError):
    """The caller passed an invalid argument (key length, k/n, identifier ...)."""
