"""Key files on the bidder's machine: created 0600, never sent anywhere."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bidding.envelope import X25519Identity
from bidding.signing import public_key_b64
from tenderhall.files import write_text

OPENING_FILE = "opening.key"  # AGE-SECRET-KEY-1..., usable with any age tool
SIGNING_FILE = "signing.key"  # base64 Ed25519 seed


class KeyFileError(RuntimeError):
    pass


@dataclass(frozen=True)
class BidderKeys:
    opening: X25519Identity
    signing: Ed25519PrivateKey

    @property
    def recipient(self) -> str:
        return str(self.opening.recipient)

    @property
    def signing_public(self) -> str:
        return public_key_b64(self.signing)


def _write_secret(path: Path, text: str, *, replace: bool) -> None:
    write_text(path, text + "\n", mode=0o600, replace=replace)


def _read_secret(path: Path) -> str:
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        raise KeyFileError(f"{path} does not exist: run `tenderhall bid keygen` first") from None
    if mode & 0o077:
        raise KeyFileError(f"{path} is readable by others (mode {mode:o}); chmod 600 it")
    return path.read_text().strip()


def generate(directory: Path, *, force: bool = False) -> BidderKeys:
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    opening, sign = directory / OPENING_FILE, directory / SIGNING_FILE
    if not force and (opening.exists() or sign.exists()):
        raise KeyFileError(f"keys already exist in {directory}; move them away to make new ones")
    return save(directory, BidderKeys(X25519Identity.generate(), Ed25519PrivateKey.generate()), force=force)


def save(directory: Path, keys: BidderKeys, *, force: bool = False) -> BidderKeys:
    """Write ``keys`` (new, or restored from a backup) as the two key files, mode 0600."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    opening, sign = directory / OPENING_FILE, directory / SIGNING_FILE
    if not force and (opening.exists() or sign.exists()):
        raise KeyFileError(f"keys already exist in {directory}; move them away to make new ones")
    # Without --force an existing key is never overwritten, even by a concurrent keygen.
    _write_secret(opening, str(keys.opening), replace=force)
    _write_secret(sign, base64.b64encode(keys.signing.private_bytes_raw()).decode(), replace=force)
    return keys


def load(directory: Path) -> BidderKeys:
    identity = X25519Identity.parse(_read_secret(directory / OPENING_FILE))
    seed = base64.b64decode(_read_secret(directory / SIGNING_FILE), validate=True)
    return BidderKeys(identity, Ed25519PrivateKey.from_private_bytes(seed))
