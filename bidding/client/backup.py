"""Passphrase-protected backups of the bidder's two private keys, one format for the command-line
client and the browser: an age passphrase (scrypt) file whose plaintext is the JSON object
``{"format": "tenderhall.org/bidder-keys/v1", "opening": "AGE-SECRET-KEY-1...", "signing":
"<base64 Ed25519 seed>"}``.  Any age tool opens it with the passphrase."""

from __future__ import annotations

import base64
import binascii
import io
import json
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bidding.client.keys import BidderKeys, KeyFileError
from bidding.envelope import EnvelopeError, X25519Identity
from bidding.envelope.passphrase import DEFAULT_LOG_N, open_with_passphrase, seal_with_passphrase
from tenderhall.files import write_bytes

__all__ = ["BACKUP_FORMAT", "MAX_BACKUP_SIZE", "read_backup", "write_backup"]

BACKUP_FORMAT = "tenderhall.org/bidder-keys/v1"
MAX_BACKUP_SIZE = 4096  # a backup is about 400 bytes; anything larger is not one


def _plaintext(keys: BidderKeys) -> bytes:
    seed = base64.b64encode(keys.signing.private_bytes_raw()).decode("ascii")
    return json.dumps({"format": BACKUP_FORMAT, "opening": str(keys.opening), "signing": seed}).encode()


def write_backup(keys: BidderKeys, path: Path, passphrase: str, *, log_n: int = DEFAULT_LOG_N) -> None:
    out = io.BytesIO()
    seal_with_passphrase(io.BytesIO(_plaintext(keys)), out, passphrase, log_n)
    write_bytes(path, out.getvalue(), mode=0o600)


def read_backup(path: Path, passphrase: str) -> BidderKeys:
    """The keys in a backup; raises KeyFileError with what went wrong."""
    with path.open("rb") as handle:
        data = handle.read(MAX_BACKUP_SIZE + 1)
    if len(data) > MAX_BACKUP_SIZE:
        raise KeyFileError(f"{path} is larger than a key backup ({MAX_BACKUP_SIZE} bytes)")
    plain = io.BytesIO()
    try:
        open_with_passphrase(io.BytesIO(data), plain, passphrase)
    except EnvelopeError as exc:
        raise KeyFileError(f"{path} does not open with this passphrase: {exc}") from None
    try:
        fields = json.loads(plain.getvalue())
        if not isinstance(fields, dict) or fields.get("format") != BACKUP_FORMAT:
            raise ValueError(f"not a {BACKUP_FORMAT} backup")
        opening = X25519Identity.parse(fields["opening"])
        seed = base64.b64decode(fields["signing"], validate=True)
        return BidderKeys(opening, Ed25519PrivateKey.from_private_bytes(seed))
    except (ValueError, KeyError, TypeError, binascii.Error, EnvelopeError) as exc:
        raise KeyFileError(f"{path} is not a TenderHall key backup: {exc}") from None
