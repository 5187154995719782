"""C2SP signed notes (https://c2sp.org/signed-note) with Ed25519 keys.

Wire format: the text (ending in a newline), a blank line, then one or more lines
``— <key name> <base64(key ID || signature)>``. The key ID of an Ed25519 key is the
first four bytes of SHA-256(name || "\\n" || 0x01 || public key). Key strings use the
``golang.org/x/mod/sumdb/note`` encodings so keys interoperate with Go tooling:
verifier ``<name>+<hex key ID>+<base64(0x01 || public key)>`` and signer
``PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 || seed)>``.

Opening follows the spec and Go's ``note.Open``: signatures by unknown keys are ignored,
a failing signature by a known key rejects the whole note, and at least one known key
must have signed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar, Self

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

__all__ = [
    "ALG_ED25519",
    "MAX_NOTE_SIZE",
    "MAX_SIGNATURES",
    "InvalidKeyError",
    "InvalidSignatureError",
    "MalformedNoteError",
    "NoteError",
    "NoteSignature",
    "PrivateKey",
    "PublicKey",
    "Signer",
    "UnverifiedNoteError",
    "Verifier",
    "b64decode_canonical",
    "is_valid_name",
    "key_id",
    "open_note",
    "parse_note",
    "sign",
    "split_key_string",
]

ALG_ED25519 = 0x01
# The spec requires accepting at least 16 signatures; Go's note.Open stops at 100.
MAX_SIGNATURES = 100
MAX_NOTE_SIZE = 1 << 20

_SIG_PREFIX = "— "  # em dash U+2014, space
_B64_RE = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?\Z")
_KEY_ID_RE = re.compile(r"[0-9a-fA-F]{8}\Z")
_CONTROL_RE = re.compile(r"[\x00-\x09\x0b-\x1f]")


class NoteError(ValueError):
    """Base class of every signed-note failure."""


class MalformedNoteError(NoteError):
    """The note (or the text to sign) violates the signed-note syntax or size limits."""


class InvalidKeyError(NoteError):
    """A key string or key name is malformed, uses an unknown algorithm, or has a wrong key ID."""


class InvalidSignatureError(NoteError):
    """A signature by a known key does not verify: the whole note is rejected."""

    def __init__(self, name: str, key_id: int) -> None:
        super().__init__(f"invalid signature for key {name}+{key_id:08x}")
        self.name = name
        self.key_id = key_id


class UnverifiedNoteError(NoteError):
    """The note is well formed but no known key signed it."""

    def __init__(self, text: str, signatures: list[NoteSignature]) -> None:
        names = ", ".join(f"{s.name}+{s.key_id:08x}" for s in signatures)
        super().__init__(f"note has no signature by a known key (signed by: {names or 'nobody'})")
        self.text = text
        self.signatures = signatures


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: key name, key ID and the signature bytes (after the key ID)."""

    name: str
    key_id: int
    signature: bytes

    def line(self) -> str:
        blob = self.key_id.to_bytes(4, "big") + self.signature
        return f"{_SIG_PREFIX}{self.name} {base64.b64encode(blob).decode('ascii')}\n"


def is_valid_name(name: str) -> bool:
    """Key names are non-empty and contain no Unicode space, ``+`` or control character."""
    return (
        isinstance(name, str)
        and name != ""
        and "+" not in name
        and not any(c.isspace() for c in name)
        and _CONTROL_RE.search(name) is None
        and _encodable(name)
    )


def key_id(name: str, alg_and_key: bytes) -> int:
    """Key ID = first four bytes, big-endian, of SHA-256(name || "\\n" || alg || public key)."""
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + alg_and_key).digest()
    return int.from_bytes(digest[:4], "big")


def _encodable(s: str) -> bool:
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates
        return False
    return True


def b64decode_canonical(s: str) -> bytes | None:
    """Decode canonical standard base64, or return None: each value has exactly one encoding."""
    if not _B64_RE.match(s):
        return None
    try:
        raw = base64.b64decode(s, validate=True)
    except (binascii.Error, ValueError):
        return None
    if base64.b64encode(raw).decode("ascii") != s:
        return None
    return raw


def split_key_string(s: str, alg: int = ALG_ED25519) -> tuple[str, int, bytes]:
    """Parse ``<name>+<hex key ID>+<base64(alg || key)>``; the key may itself contain ``+``.

    ``alg`` is the signature type byte: 0x01 for note signatures, 0x04 for Ed25519 cosignatures.
    """
    parts = s.split("+", 2)
    if len(parts) != 3:
        raise InvalidKeyError("key string must be <name>+<key id>+<key>")
    name, hex_id, b64 = parts
    if not is_valid_name(name):
        raise InvalidKeyError(f"invalid key name {name!r}")
    if not _KEY_ID_RE.match(hex_id):
        raise InvalidKeyError("key ID must be 8 hex digits")
    raw = b64decode_canonical(b64)
    if not raw:
        raise InvalidKeyError("key is not canonical base64")
    if raw[0] != alg:
        raise InvalidKeyError(f"unsupported key algorithm 0x{raw[0]:02x}")
    if len(raw) != 33:
        raise InvalidKeyError("Ed25519 key must be 32 bytes")
    return name, int(hex_id, 16), raw[1:]


class PublicKey:
    """An Ed25519 public key with its key name and key ID, for the signature type ``ALG``."""

    ALG: ClassVar[int] = ALG_ED25519
    __slots__ = ("_key", "key_id", "name", "public_key")

    def __init__(self, name: str, public_key: bytes) -> None:
        if not is_valid_name(name):
            raise InvalidKeyError(f"invalid key name {name!r}")
        if not isinstance(public_key, bytes) or len(public_key) != 32:
            raise InvalidKeyError("Ed25519 public key must be 32 bytes")
        try:
            self._key = Ed25519PublicKey.from_public_bytes(public_key)
        except ValueError as exc:
            raise InvalidKeyError("invalid Ed25519 public key") from exc
        self.name = name
        self.public_key = public_key
        self.key_id = key_id(name, bytes([self.ALG]) + public_key)

    @classmethod
    def from_key_string(cls, vkey: str) -> Self:
        name, kid, public_key = split_key_string(vkey.strip(), cls.ALG)
        verifier = cls(name, public_key)
        if verifier.key_id != kid:
            raise InvalidKeyError("key ID does not match the key")
        return verifier

    def key_string(self) -> str:
        blob = base64.b64encode(bytes([self.ALG]) + self.public_key).decode("ascii")
        return f"{self.name}+{self.key_id:08x}+{blob}"

    def _verify(self, message: bytes, signature: bytes) -> bool:
        if len(signature) != 64:
            return False
        try:
            self._key.verify(signature, message)
        except InvalidSignature:
            return False
        return True

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.key_string()!r})"


class PrivateKey:
    """An Ed25519 private key with its key name and key ID, for the signature type ``ALG``.
    Never logs the seed."""

    ALG: ClassVar[int] = ALG_ED25519
    __slots__ = ("_key", "_seed", "key_id", "name", "public_key")

    def __init__(self, name: str, seed: bytes) -> None:
        if not is_valid_name(name):
            raise InvalidKeyError(f"invalid key name {name!r}")
        if not isinstance(seed, bytes) or len(seed) != 32:
            raise InvalidKeyError("Ed25519 seed must be 32 bytes")
        self._key = Ed25519PrivateKey.from_private_bytes(seed)
        self._seed = seed
        self.name = name
        self.public_key = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.key_id = key_id(name, bytes([self.ALG]) + self.public_key)

    @classmethod
    def generate(cls, name: str) -> Self:
        seed = Ed25519PrivateKey.generate().private_bytes_raw()
        return cls(name, seed)

    @classmethod
    def from_key_string(cls, skey: str) -> Self:
        if not skey.startswith("PRIVATE+KEY+"):
            raise InvalidKeyError("signer key must start with PRIVATE+KEY+")
        name, kid, seed = split_key_string(skey[len("PRIVATE+KEY+") :], cls.ALG)
        signer = cls(name, seed)
        # The key ID commits to the public key, so check it after deriving that key.
        if signer.key_id != kid:
            raise InvalidKeyError("key ID does not match the key")
        return signer

    def key_string(self) -> str:
        """The secret signer key string; store it like any private key."""
        blob = base64.b64encode(bytes([self.ALG]) + self._seed).decode("ascii")
        return f"PRIVATE+KEY+{self.name}+{self.key_id:08x}+{blob}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, key_id={self.key_id:08x})"


class Verifier(PublicKey):
    """A note verifier key: Ed25519 signatures over the note text."""

    __slots__ = ()

    def verify(self, message: bytes, signature: bytes) -> bool:
        return self._verify(message, signature)


class Signer(PrivateKey):
    """A note signer key."""

    __slots__ = ()

    def verifier(self) -> Verifier:
        return Verifier(self.name, self.public_key)

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)


def _check_text(text: str) -> bytes:
    if not isinstance(text, str) or not text.endswith("\n"):
        raise MalformedNoteError("note text must end with a newline")
    if _CONTROL_RE.search(text):
        raise MalformedNoteError("note text contains a control character")
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise MalformedNoteError("note text is not valid Unicode") from exc


def sign(text: str, signers: Iterable[Signer], *, max_size: int = MAX_NOTE_SIZE) -> str:
    """Sign ``text`` with every signer; the result always satisfies ``open_note``'s limits."""
    message = _check_text(text)
    lines = []
    seen: set[tuple[str, int]] = set()
    for signer in signers:
        ident = (signer.name, signer.key_id)
        if ident in seen:
            raise NoteError(f"duplicate signer {signer.name}+{signer.key_id:08x}")
        seen.add(ident)
        lines.append(NoteSignature(signer.name, signer.key_id, signer.sign(message)).line())
    if not lines:
        raise NoteError("a note needs at least one signer")
    return assemble(text, lines, max_size=max_size)


def assemble(text: str, lines: list[str], *, max_size: int = MAX_NOTE_SIZE) -> str:
    """The note of ``text`` and its signature lines, within ``open_note``'s limits."""
    if len(lines) > MAX_SIGNATURES:
        raise MalformedNoteError(f"more than {MAX_SIGNATURES} signatures")
    note = text + "\n" + "".join(lines)
    if len(note.encode("utf-8")) > max_size:
        raise MalformedNoteError(f"note exceeds {max_size} bytes")
    return note


def parse_note(
    note: str | bytes, *, max_size: int = MAX_NOTE_SIZE, max_signatures: int = MAX_SIGNATURES
) -> tuple[str, list[NoteSignature]]:
    """Split a note into its text and signature lines, checking syntax only (no crypto)."""
    raw = note.encode("utf-8", "surrogatepass") if isinstance(note, str) else bytes(note)
    if len(raw) > max_size:
        raise MalformedNoteError(f"note exceeds {max_size} bytes")
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError as exc:  # also rejects encoded surrogates
        raise MalformedNoteError("note is not valid UTF-8") from exc
    if _CONTROL_RE.search(decoded):
        raise MalformedNoteError("note contains a control character")
    # The text may contain blank lines: the signatures start after the *last* one.
    split = decoded.rfind("\n\n")
    if split < 0:
        raise MalformedNoteError("note has no blank line before its signatures")
    text, block = decoded[: split + 1], decoded[split + 2 :]
    if not block.endswith("\n"):
        raise MalformedNoteError("note has no signature lines or lacks a final newline")
    signatures: list[NoteSignature] = []
    for line in block[:-1].split("\n"):
        if len(signatures) >= max_signatures:
            raise MalformedNoteError(f"more than {max_signatures} signatures")
        if not line.startswith(_SIG_PREFIX):
            raise MalformedNoteError("signature line does not start with an em dash and a space")
        name, sep, b64 = line[len(_SIG_PREFIX) :].partition(" ")
        if not sep or not is_valid_name(name):
            raise MalformedNoteError(f"invalid key name in signature line {line!r}")
        blob = b64decode_canonical(b64)
        if blob is None or len(blob) < 5:
            raise MalformedNoteError(f"invalid signature encoding for key {name!r}")
        signatures.append(NoteSignature(name, int.from_bytes(blob[:4], "big"), blob[4:]))
    return text, signatures


def open_note(
    note: str | bytes,
    verifiers: Iterable[Verifier],
    *,
    max_size: int = MAX_NOTE_SIZE,
    max_signatures: int = MAX_SIGNATURES,
) -> tuple[str, list[str]]:
    """Verify a signed note; return its text and the names of the known keys that signed it.

    Raises ``MalformedNoteError``, ``InvalidSignatureError`` (a known key's signature is
    bad), ``UnverifiedNoteError`` (no known key signed) or ``NoteError`` (two verifiers
    share a name and key ID).
    """
    known: dict[tuple[str, int], Verifier] = {}
    for v in verifiers:
        ident = (v.name, v.key_id)
        if ident in known:
            raise NoteError(f"ambiguous verifiers for key {v.name}+{v.key_id:08x}")
        known[ident] = v
    text, signatures = parse_note(note, max_size=max_size, max_signatures=max_signatures)
    message = text.encode("utf-8")
    verified: list[str] = []
    unknown: list[NoteSignature] = []
    for sig in signatures:
        ident = (sig.name, sig.key_id)
        verifier = known.get(ident)
        if verifier is None:
            # Unknown keys (even sharing a name or a key ID with a known one) are ignored.
            unknown.append(sig)
            continue
        # The spec says a known key's signature MUST be verified, so repeats are checked
        # too (Go skips them); any failure rejects the whole note.
        if not verifier.verify(message, sig.signature):
            raise InvalidSignatureError(sig.name, sig.key_id)
        if sig.name not in verified:
            verified.append(sig.name)
    if not verified:
        raise UnverifiedNoteError(text, unknown)
    return text, verified
