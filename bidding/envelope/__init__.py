"""Bid envelope codec: age v1 files with custodian Shamir shares sealed with HPKE.

Pure logic on ``cryptography``; see docs/envelope.md for the format.
"""

from __future__ import annotations

from .custodian import SHARE_STANZA_TYPE, Binding, Custodian, Share, share_info
from .envelope import (
    Recovery,
    check_structure,
    open_custodian_share,
    open_with_file_key,
    open_with_identity,
    recover_file_key,
    seal,
    share_stanzas,
    unwrap_file_key,
    verify_file_key,
)
from .errors import (
    EnvelopeError,
    HeaderError,
    MacError,
    NoIdentityMatched,
    ParameterError,
    PayloadError,
    ShareError,
)
from .header import Header, Stanza, parse_header
from .keys import X25519Identity, X25519Recipient
from .stream import decrypt_payload, encrypt_payload

__all__ = [
    "SHARE_STANZA_TYPE",
    "Binding",
    "Custodian",
    "EnvelopeError",
    "Header",
    "HeaderError",
    "MacError",
    "NoIdentityMatched",
    "ParameterError",
    "PayloadError",
    "Recovery",
    "Share",
    "ShareError",
    "Stanza",
    "X25519Identity",
    "X25519Recipient",
    "check_structure",
    "decrypt_payload",
    "encrypt_payload",
    "open_custodian_share",
    "open_with_file_key",
    "open_with_identity",
    "parse_header",
    "recover_file_key",
    "seal",
    "share_info",
    "share_stanzas",
    "unwrap_file_key",
    "verify_file_key",
]
