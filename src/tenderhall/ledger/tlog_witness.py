"""The C2SP tlog-witness add-checkpoint protocol (https://c2sp.org/tlog-witness), pure logic.

Request body: ``old <size>`` line, up to 63 base64 consistency-proof lines, an empty line, then
the signed checkpoint. The witness answers 404 for an unknown origin, 403 when no trusted log
signature verifies, 400 when the old size exceeds the checkpoint's, 409 (with its latest size as
``text/x.tlog.size``) when the old size is not the one it last cosigned, 422 when the proof does
not verify, and otherwise 200 with its cosignature lines. Storage and HTTP are the caller's.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from tenderhall.ledger import merkle
from tenderhall.ledger.checkpoint import Checkpoint
from tenderhall.ledger.cosignature import CosignatureVerifier
from tenderhall.ledger.note import (
    MAX_NOTE_SIZE,
    InvalidSignatureError,
    NoteError,
    NoteSignature,
    UnverifiedNoteError,
    Verifier,
    b64decode_canonical,
    open_note,
    parse_note,
)

__all__ = [
    "MAX_PROOF_LINES",
    "SIZE_MEDIA_TYPE",
    "AddCheckpoint",
    "Refusal",
    "check_consistency",
    "encode_add_checkpoint",
    "format_size",
    "open_submission",
    "origin_hash",
    "parse_add_checkpoint",
    "parse_cosignature_lines",
    "parse_size",
    "trusted_logs",
]

MAX_PROOF_LINES = 63
SIZE_MEDIA_TYPE = "text/x.tlog.size"
_OLD_RE = re.compile(r"old (0|[1-9][0-9]{0,19})\Z")
_SIZE_RE = re.compile(r"(0|[1-9][0-9]{0,19})\n\Z")


class Refusal(Exception):
    """The witness will not cosign: ``status`` is the HTTP status the spec prescribes, ``key``
    the i18n message key; ``size`` is the witness's latest size for a 409."""

    def __init__(self, status: int, key: str, detail: str, size: int | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.key = key
        self.detail = detail
        self.size = size


@dataclass(frozen=True)
class AddCheckpoint:
    old_size: int
    proof: tuple[bytes, ...]
    note: str


def origin_hash(origin: str) -> str:
    """The monitoring path component of a log: lowercase hex SHA-256 of its origin."""
    return hashlib.sha256(origin.encode("utf-8")).hexdigest()


def encode_add_checkpoint(old_size: int, proof: Sequence[bytes], note: str) -> bytes:
    if len(proof) > MAX_PROOF_LINES:
        raise ValueError("a consistency proof has at most 63 hashes")
    lines = [f"old {old_size}", *(base64.b64encode(h).decode("ascii") for h in proof)]
    return ("".join(line + "\n" for line in lines) + "\n" + note).encode("utf-8")


def parse_add_checkpoint(body: bytes) -> AddCheckpoint:
    """Split a request body; any syntax error is a 400."""

    def bad(why: str) -> Refusal:
        return Refusal(400, "witness.request_malformed", why)

    if len(body) > MAX_NOTE_SIZE + 64 * (MAX_PROOF_LINES + 1):
        raise bad("the request is too large")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise bad("the request is not UTF-8") from None
    head, sep, note = text.partition("\n\n")
    if not sep:
        raise bad("no empty line before the checkpoint")
    lines = head.split("\n")
    match = _OLD_RE.match(lines[0])
    if not match:
        raise bad("the first line must be 'old <size>'")
    proof = []
    for line in lines[1:]:
        h = b64decode_canonical(line)
        if h is None or len(h) != merkle.HASH_SIZE:
            raise bad("a consistency proof line is not a base64 SHA-256 hash")
        proof.append(h)
    if len(proof) > MAX_PROOF_LINES:
        raise bad("more than 63 consistency proof lines")
    return AddCheckpoint(int(match.group(1)), tuple(proof), note)


def open_submission(request: AddCheckpoint, logs: Mapping[str, Sequence[Verifier]]) -> Checkpoint:
    """Authenticate the submitted checkpoint against the keys trusted for its origin."""
    try:
        text, _ = parse_note(request.note)
        checkpoint = Checkpoint.parse(text)
    except NoteError as exc:
        raise Refusal(400, "witness.request_malformed", f"the checkpoint is malformed: {exc}") from None
    verifiers = logs.get(checkpoint.origin)
    if not verifiers:
        raise Refusal(404, "witness.origin_unknown", f"this witness does not witness {checkpoint.origin!r}")
    try:
        open_note(request.note, verifiers)
    except (InvalidSignatureError, UnverifiedNoteError) as exc:
        raise Refusal(403, "witness.signature_invalid", str(exc)) from None
    except NoteError as exc:
        raise Refusal(400, "witness.request_malformed", str(exc)) from None
    if request.old_size > checkpoint.size:
        raise Refusal(400, "witness.old_size_too_large", "the old size exceeds the checkpoint's size")
    if checkpoint.size == 0 and checkpoint.root != merkle.EMPTY_ROOT:
        raise Refusal(422, "witness.inconsistent", "an empty tree must have the empty root")
    return checkpoint


def check_consistency(
    request: AddCheckpoint, checkpoint: Checkpoint, latest: tuple[int, bytes] | None
) -> None:
    """Require the old size to be the latest cosigned one and the proof to extend it.

    ``latest`` is the witness's record for the origin (size, root), None if it has none.
    """
    size, root = latest if latest is not None else (0, merkle.EMPTY_ROOT)
    if request.old_size != size:
        raise Refusal(
            409,
            "witness.old_size_mismatch",
            f"the latest cosigned size is {size}, not {request.old_size}",
            size,
        )
    if size == 0 and request.proof:
        raise Refusal(422, "witness.inconsistent", "a proof from the empty tree must be empty")
    if size == checkpoint.size and root != checkpoint.root:
        raise Refusal(
            422, "witness.inconsistent", f"a different root was cosigned for size {size}: a split view"
        )
    if not merkle.verify_consistency(size, checkpoint.size, request.proof, root, checkpoint.root):
        raise Refusal(
            422,
            "witness.inconsistent",
            f"the checkpoint of size {checkpoint.size} does not extend the one cosigned at size {size}",
        )


def format_size(size: int) -> str:
    return f"{size}\n"


def parse_size(body: bytes) -> int:
    """The witness's latest size from a 409 answer."""
    match = _SIZE_RE.match(body.decode("ascii", "replace"))
    if not match:
        raise ValueError("the witness answered 409 without a valid text/x.tlog.size body")
    return int(match.group(1))


def parse_cosignature_lines(
    body: bytes, checkpoint_text: str, witness: CosignatureVerifier
) -> list[NoteSignature]:
    """The witness's cosignature lines from a 200 answer, each verified against the checkpoint.

    As the spec suggests, the lines are read as the signatures of a note on the checkpoint text:
    lines by other keys are ignored, a bad line by the witness's key rejects the answer, and at
    least one good line by it is needed.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise NoteError("the witness's answer is not UTF-8") from None
    if not text.startswith("\u2014 "):
        raise NoteError("the witness's answer is not a list of signature lines")
    _, signatures = parse_note(checkpoint_text + "\n" + text)
    good = []
    for sig in signatures:
        if (sig.name, sig.key_id) != (witness.name, witness.key_id):
            continue
        if witness.verify(checkpoint_text, sig) is None:
            raise InvalidSignatureError(sig.name, sig.key_id)
        good.append(sig)
    if not good:
        raise NoteError(f"the answer carries no cosignature by {witness.name}")
    return good


def trusted_logs(verifiers: Iterable[Verifier]) -> dict[str, list[Verifier]]:
    """Log verifier keys grouped by origin: a TenderHall log's key name is its origin."""
    logs: dict[str, list[Verifier]] = {}
    for v in verifiers:
        logs.setdefault(v.name, []).append(v)
    return logs
