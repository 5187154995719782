"""C2SP transparency-log checkpoints (https://c2sp.org/tlog-checkpoint) as signed notes.

Body: origin line, decimal tree size, base64 RFC 9162 root hash, then optional non-empty
extension lines, each line ending in a newline. Parsing is strict so that every
checkpoint has exactly one textual form: the signature covers the text, and a second
spelling of the same tree head would only invite confusion.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

from tenderhall.ledger.merkle import HASH_SIZE, MAX_TREE_SIZE
from tenderhall.ledger.note import NoteError, Signer, Verifier, b64decode_canonical, open_note, sign

__all__ = ["Checkpoint", "CheckpointError", "open_checkpoint", "sign_checkpoint"]

_SIZE_RE = re.compile(r"(?:0|[1-9][0-9]{0,19})\Z")  # ASCII digits only, no leading zeros
_CONTROL_RE = re.compile(r"[\x00-\x1f]")


class CheckpointError(NoteError):
    """The note verified but its text is not a valid checkpoint, or not for the expected log."""


def _check_line(value: str, what: str) -> None:
    if not isinstance(value, str) or value == "":
        raise CheckpointError(f"{what} must be a non-empty string")
    if _CONTROL_RE.search(value):
        raise CheckpointError(f"{what} must be one line without control characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise CheckpointError(f"{what} is not valid Unicode") from exc


@dataclass(frozen=True)
class Checkpoint:
    """A signed tree head: log ``origin``, tree ``size``, RFC 9162 ``root`` and extension lines."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_line(self.origin, "origin")
        if isinstance(self.size, bool) or not isinstance(self.size, int):
            raise CheckpointError("tree size must be an int")
        if not 0 <= self.size <= MAX_TREE_SIZE:
            raise CheckpointError(f"tree size out of range: {self.size}")
        if not isinstance(self.root, bytes) or len(self.root) != HASH_SIZE:
            raise CheckpointError(f"root hash must be {HASH_SIZE} bytes")
        if not isinstance(self.extensions, tuple):
            # Accept any sequence but keep the dataclass hashable and immutable.
            object.__setattr__(self, "extensions", tuple(self.extensions))
        for line in self.extensions:
            _check_line(line, "extension line")

    def to_text(self) -> str:
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode("ascii"), *self.extensions]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        if not isinstance(text, str) or not text.endswith("\n"):
            raise CheckpointError("checkpoint text must end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise CheckpointError("checkpoint needs origin, size and root hash lines")
        origin, size_line, root_line, *extensions = lines
        if not _SIZE_RE.match(size_line):
            raise CheckpointError("tree size must be decimal digits without leading zeros")
        size = int(size_line)
        if size > MAX_TREE_SIZE:
            raise CheckpointError("tree size exceeds 2**64 - 1")
        root = b64decode_canonical(root_line)
        if root is None or len(root) != HASH_SIZE:
            raise CheckpointError(f"root hash must be canonical base64 of {HASH_SIZE} bytes")
        return cls(origin, size, root, tuple(extensions))


def sign_checkpoint(cp: Checkpoint, signer: Signer) -> str:
    """The checkpoint as a note signed by ``signer`` (whose name should equal the origin)."""
    return sign(cp.to_text(), [signer])


def open_checkpoint(note: str | bytes, verifier: Verifier, origin: str) -> Checkpoint:
    """Verify ``note`` with the log's key and parse it, requiring the expected ``origin``.

    Other signatures (e.g. witness cosignatures) are ignored, as the spec requires.
    Raises a ``NoteError`` subclass; ``CheckpointError`` for a bad body or wrong origin.
    """
    text, _names = open_note(note, [verifier])
    cp = Checkpoint.parse(text)
    if cp.origin != origin:
        raise CheckpointError(f"checkpoint is for origin {cp.origin!r}, expected {origin!r}")
    return cp
