"""age's passphrase recipient (``scrypt`` stanza, C2SP age spec), for key backups: a backup is an
age file any age tool opens with the passphrase (``age -d``), and the browser writes it with
typage's own passphrase support.

``-> scrypt <base64(salt, 16 bytes)> <log2 N>``; body = ChaCha20-Poly1305(key = scrypt(passphrase,
salt = "age-encryption.org/v1/scrypt" || salt, N = 2^logN, r = 8, p = 1), nonce = 12 zero bytes,
file key).  As age requires, a scrypt stanza is the only stanza of its file.
"""

from __future__ import annotations

import os
import re

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from ._io import Sink, Source
from .errors import HeaderError, NoIdentityMatched, ParameterError
from .header import FILE_KEY_SIZE, Stanza, b64decode_canonical, b64encode_raw, build_header, parse_header
from .stream import decrypt_payload, encrypt_payload

__all__ = ["DEFAULT_LOG_N", "MAX_LOG_N", "open_with_passphrase", "seal_with_passphrase"]

SCRYPT_STANZA_TYPE = "scrypt"
_LABEL = b"age-encryption.org/v1/scrypt"
_SALT_SIZE = 16
DEFAULT_LOG_N = 18  # age's and typage's default: 256 MiB, about a second
MAX_LOG_N = 22  # what age accepts by default; bounds the work a file can ask of us (4 GiB)
_LOG_N = re.compile(r"[1-9][0-9]?")


def _key(passphrase: str, salt: bytes, log_n: int) -> bytes:
    kdf = Scrypt(salt=_LABEL + salt, length=32, n=2**log_n, r=8, p=1)
    return kdf.derive(passphrase.encode("utf-8"))


def seal_with_passphrase(plaintext: Source, out: Sink, passphrase: str, log_n: int = DEFAULT_LOG_N) -> int:
    """Encrypt ``plaintext`` to ``passphrase``; returns the length written."""
    if not passphrase:
        raise ParameterError("the passphrase is empty")
    if not 1 <= log_n <= MAX_LOG_N:
        raise ParameterError(f"scrypt work factor log2 N must be 1..{MAX_LOG_N}, got {log_n}")
    file_key, salt = os.urandom(FILE_KEY_SIZE), os.urandom(_SALT_SIZE)
    body = ChaCha20Poly1305(_key(passphrase, salt, log_n)).encrypt(bytes(12), file_key, None)
    stanza = Stanza(SCRYPT_STANZA_TYPE, (b64encode_raw(salt).decode("ascii"), str(log_n)), body)
    header = build_header([stanza], file_key).encode()
    out.write(header)
    return len(header) + encrypt_payload(plaintext, out, file_key)


def open_with_passphrase(envelope: Source, out: Sink, passphrase: str) -> int:
    """Decrypt a passphrase-encrypted age file; returns the plaintext length.

    Raises HeaderError (not a lone, well-formed scrypt stanza; work factor above MAX_LOG_N),
    NoIdentityMatched (wrong passphrase), MacError or PayloadError."""
    header, _ = parse_header(envelope)
    stanzas = [s for s in header.stanzas if s.type == SCRYPT_STANZA_TYPE]
    if not stanzas:
        raise NoIdentityMatched("the file is not encrypted to a passphrase")
    if len(header.stanzas) != 1:
        raise HeaderError("a scrypt stanza must be the only stanza of its file")
    stanza = stanzas[0]
    if len(stanza.args) != 2 or not _LOG_N.fullmatch(stanza.args[1]):
        raise HeaderError("scrypt stanza needs a salt and a canonical work factor")
    salt, log_n = b64decode_canonical(stanza.args[0].encode("ascii")), int(stanza.args[1])
    if len(salt) != _SALT_SIZE or len(stanza.body) != FILE_KEY_SIZE + 16:
        raise HeaderError("scrypt stanza salt or body has the wrong size")
    if log_n > MAX_LOG_N:
        raise HeaderError(f"scrypt work factor 2^{log_n} is above the limit 2^{MAX_LOG_N}")
    try:
        file_key = ChaCha20Poly1305(_key(passphrase, salt, log_n)).decrypt(bytes(12), stanza.body, None)
    except InvalidTag:
        raise NoIdentityMatched("wrong passphrase") from None
    header.verify(file_key)
    return decrypt_payload(envelope, out, file_key)
