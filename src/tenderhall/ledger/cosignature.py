"""C2SP Ed25519 checkpoint cosignatures (https://c2sp.org/tlog-cosignature), pure logic.

A cosignature is a signed-note signature line over a checkpoint by a witness. It differs from
the log's own signature in three ways: its key ID is derived with the type byte 0x04 (so no
verifier can mistake one for the other), the signed message is ``cosignature/v1``, a ``time``
line and the checkpoint body, and the signature blob is the 8-byte big-endian timestamp followed
by the 64-byte Ed25519 signature. The v1 format does not commit to the witness's name, so each
witness must have a key of its own.

Key strings follow the vkey encoding with type 0x04: verifier ``<name>+<hex key ID>+<base64(0x04
|| public key)>``; the private key is stored as ``PRIVATE+KEY+<name>+<hex key ID>+<base64(0x04 ||
seed)>``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tenderhall.ledger.checkpoint import Checkpoint, open_checkpoint
from tenderhall.ledger.note import (
    InvalidSignatureError,
    MalformedNoteError,
    NoteError,
    NoteSignature,
    PrivateKey,
    PublicKey,
    Verifier,
    assemble,
    parse_note,
)

__all__ = [
    "ALG_COSIGNATURE_V1",
    "MAX_TIMESTAMP",
    "Cosignature",
    "CosignatureSigner",
    "CosignatureVerifier",
    "add_cosignatures",
    "open_cosigned_checkpoint",
    "signed_message",
    "verify_cosignatures",
]

ALG_COSIGNATURE_V1 = 0x04
MAX_TIMESTAMP = (1 << 63) - 1
_SIG_LEN = 8 + 64


def signed_message(checkpoint_text: str, timestamp: int) -> bytes:
    """The bytes a v1 cosignature signs: header line, time line, then the checkpoint body."""
    if isinstance(timestamp, bool) or not isinstance(timestamp, int) or not 0 <= timestamp <= MAX_TIMESTAMP:
        raise NoteError("cosignature timestamp out of range")
    if not checkpoint_text.endswith("\n"):
        raise MalformedNoteError("checkpoint text must end with a newline")
    return f"cosignature/v1\ntime {timestamp}\n{checkpoint_text}".encode()


@dataclass(frozen=True)
class Cosignature:
    """A verified cosignature: which witness, and when it says it observed the checkpoint."""

    name: str
    key_id: int
    timestamp: int


class CosignatureVerifier(PublicKey):
    """A witness's Ed25519 cosigning public key; its key ID is derived with type 0x04."""

    ALG = ALG_COSIGNATURE_V1
    __slots__ = ()

    def verify(self, checkpoint_text: str, sig: NoteSignature) -> Cosignature | None:
        """The cosignature if ``sig`` is this witness's valid v1 cosignature of the text, else None."""
        if (sig.name, sig.key_id) != (self.name, self.key_id) or len(sig.signature) != _SIG_LEN:
            return None
        timestamp = int.from_bytes(sig.signature[:8], "big")
        if timestamp > MAX_TIMESTAMP:
            return None
        if not self._verify(signed_message(checkpoint_text, timestamp), sig.signature[8:]):
            return None
        return Cosignature(self.name, self.key_id, timestamp)


class CosignatureSigner(PrivateKey):
    """A witness's cosigning private key."""

    ALG = ALG_COSIGNATURE_V1
    __slots__ = ()

    def verifier(self) -> CosignatureVerifier:
        return CosignatureVerifier(self.name, self.public_key)

    def cosign(self, checkpoint_text: str, timestamp: int) -> NoteSignature:
        """The cosignature line of ``checkpoint_text`` (the note body, without signatures)."""
        if timestamp <= 0:
            # tlog-witness: a witness's cosignature must carry a real time.
            raise NoteError("a witness cosignature needs a non-zero timestamp")
        signature = self._key.sign(signed_message(checkpoint_text, timestamp))
        return NoteSignature(self.name, self.key_id, timestamp.to_bytes(8, "big") + signature)


def verify_cosignatures(note: str | bytes, witnesses: Iterable[CosignatureVerifier]) -> list[Cosignature]:
    """The valid cosignatures on ``note`` by the given witnesses, one per witness.

    As for any signed note, lines by unknown keys are ignored, and a line that names a known
    witness key but does not verify rejects the whole note (it is malformed, or forged).
    """
    known = {(w.name, w.key_id): w for w in witnesses}
    text, signatures = parse_note(note)
    found: dict[tuple[str, int], Cosignature] = {}
    for sig in signatures:
        witness = known.get((sig.name, sig.key_id))
        if witness is None:
            continue
        cosig = witness.verify(text, sig)
        if cosig is None:
            raise InvalidSignatureError(sig.name, sig.key_id)
        # Several lines by one witness: keep the newest statement.
        ident = (sig.name, sig.key_id)
        if ident not in found or found[ident].timestamp < cosig.timestamp:
            found[ident] = cosig
    return list(found.values())


def open_cosigned_checkpoint(
    note: str | bytes, log: Verifier, origin: str, witnesses: Iterable[CosignatureVerifier]
) -> tuple[Checkpoint, list[Cosignature]]:
    """Verify the log's signature and every cosignature by a known witness on ``note``."""
    checkpoint = open_checkpoint(note, log, origin)
    return checkpoint, verify_cosignatures(note, witnesses)


def add_cosignatures(note: str, lines: Iterable[NoteSignature]) -> str:
    """``note`` with the signature lines added (a line already present is not repeated)."""
    text, existing = parse_note(note)
    present = {s.line() for s in existing}
    merged = [s.line() for s in existing]
    for sig in lines:
        line = sig.line()
        if line not in present:
            present.add(line)
            merged.append(line)
    return assemble(text, merged)
