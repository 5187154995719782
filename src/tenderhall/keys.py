"""Platform key material: generated on first start into the secrets folder, mode 0600.

Several workers may start at once, so files are created with O_EXCL and a loser of the race
reads the winner's file.  Key material is never logged.
"""

from __future__ import annotations

import base64
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from tenderhall.ledger.cosignature import CosignatureSigner
from tenderhall.ledger.note import Signer

SESSION_KEY = "session.key"
DATA_KEY = "data.key"
LEDGER_KEY = "ledger-signing.key"
WITNESS_KEY = "witness-signing.key"


class KeyFileError(RuntimeError):
    """A key file exists but is unusable (wrong permissions or content)."""


def _read_or_create(path: Path, make: bytes) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            raise KeyFileError(f"{path} is readable by others (mode {mode:o}); chmod 600 it") from None
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as handle:
        handle.write(make + b"\n")
    return make


def derive_key(master: bytes, purpose: str) -> bytes:
    """A separate key per purpose, so no key serves two jobs."""
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=f"tenderhall/{purpose}".encode()
    ).derive(master)


@dataclass(frozen=True)
class PlatformKeys:
    session_key: bytes
    data_key: bytes
    ledger_signer: Signer
    # Cosigns other deployments' checkpoints; a key of its own, as C2SP tlog-cosignature requires.
    witness_signer: CosignatureSigner

    def __repr__(self) -> str:  # never print key material by accident
        return (
            f"PlatformKeys(ledger={self.ledger_signer.verifier().key_string()!r}, "
            f"witness={self.witness_signer.verifier().key_string()!r})"
        )

    @classmethod
    def load(cls, secrets_dir: Path, ledger_name: str, witness_name: str = "") -> PlatformKeys:
        session = _read_or_create(secrets_dir / SESSION_KEY, base64.b64encode(secrets.token_bytes(32)))
        data = _read_or_create(secrets_dir / DATA_KEY, base64.b64encode(secrets.token_bytes(32)))
        ledger = _read_or_create(secrets_dir / LEDGER_KEY, Signer.generate(ledger_name).key_string().encode())
        witness = _read_or_create(
            secrets_dir / WITNESS_KEY,
            CosignatureSigner.generate(witness_name or f"{ledger_name}/witness").key_string().encode(),
        )
        try:
            return cls(
                session_key=base64.b64decode(session, validate=True),
                data_key=base64.b64decode(data, validate=True),
                ledger_signer=Signer.from_key_string(ledger.decode()),
                witness_signer=CosignatureSigner.from_key_string(witness.decode()),
            )
        except ValueError as exc:
            raise KeyFileError(f"a key file in {secrets_dir} is corrupt: {exc}") from None
