"""age v1 header: strict parsing, canonical encoding and the header MAC.

Parsing is strict (canonical base64, exact line shapes) and the MAC is computed over the
*re-encoded* header, which must equal the bytes read: one file, one meaning.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
from dataclasses import dataclass
from hashlib import sha256

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ._io import Source
from .errors import HeaderError, MacError, ParameterError

__all__ = [
    "FILE_KEY_SIZE",
    "MAX_HEADER_SIZE",
    "MAX_STANZAS",
    "VERSION_LINE",
    "Header",
    "Stanza",
    "b64decode_canonical",
    "b64encode_raw",
    "build_header",
    "header_mac",
    "parse_header",
]

VERSION_LINE = b"age-encryption.org/v1"
FILE_KEY_SIZE = 16
MAC_SIZE = 32
# A header holding the bidder stanza and 255 custodian stanzas stays well under these limits;
# they exist so an upload cannot make the server buffer an unbounded header.
MAX_HEADER_SIZE = 64 * 1024
MAX_STANZAS = 300
_BODY_COLUMNS = 64
_ARG = re.compile(rb"[\x21-\x7e]+")
_B64 = re.compile(rb"[A-Za-z0-9+/]*")


def b64encode_raw(data: bytes) -> bytes:
    """Standard base64 without padding, as age writes it."""
    return base64.b64encode(data).rstrip(b"=")


def b64decode_canonical(text: bytes) -> bytes:
    """Decode unpadded standard base64, rejecting padding, stray characters and unused bits."""
    if not _B64.fullmatch(text) or len(text) % 4 == 1:
        raise HeaderError(f"invalid base64 {_show(text)}")
    try:
        data = base64.b64decode(text + b"=" * (-len(text) % 4), validate=True)
    except binascii.Error:
        raise HeaderError(f"invalid base64 {_show(text)}") from None
    if b64encode_raw(data) != text:
        raise HeaderError(f"non-canonical base64 {_show(text)} (unused bits are not zero)")
    return data


def _show(raw: bytes, limit: int = 40) -> str:
    shown = raw[:limit].decode("ascii", "backslashreplace")
    return repr(shown + ("..." if len(raw) > limit else ""))


@dataclass(frozen=True, slots=True)
class Stanza:
    """One recipient stanza: ``-> type args...`` followed by a base64 body."""

    type: str
    args: tuple[str, ...]
    body: bytes

    def __post_init__(self) -> None:
        for arg in (self.type, *self.args):
            if not _ARG.fullmatch(arg.encode("ascii", "replace")) or not arg.isascii():
                raise ParameterError(f"stanza argument {arg!r} is empty or not printable ASCII")

    def encode(self) -> bytes:
        """Canonical encoding: 64-column body lines, the last one shorter (possibly empty)."""
        out = [b"-> " + " ".join((self.type, *self.args)).encode("ascii"), b"\n"]
        text = b64encode_raw(self.body)
        for start in range(0, len(text) + 1, _BODY_COLUMNS):
            out += [text[start : start + _BODY_COLUMNS], b"\n"]
        return b"".join(out)


@dataclass(frozen=True, slots=True)
class Header:
    """A parsed header: its stanzas in file order and the 32-byte MAC."""

    stanzas: tuple[Stanza, ...]
    mac: bytes

    def mac_input(self) -> bytes:
        """The bytes the MAC covers: the header up to and including ``---``."""
        return VERSION_LINE + b"\n" + b"".join(s.encode() for s in self.stanzas) + b"---"

    def encode(self) -> bytes:
        return self.mac_input() + b" " + b64encode_raw(self.mac) + b"\n"

    def verify(self, file_key: bytes) -> None:
        """Raise MacError unless ``file_key`` authenticates this header."""
        if len(file_key) != FILE_KEY_SIZE:
            raise MacError(f"a file key is {FILE_KEY_SIZE} bytes, got {len(file_key)}")
        if not hmac.compare_digest(header_mac(file_key, self.mac_input()), self.mac):
            raise MacError("header MAC mismatch: wrong file key or tampered header")


def header_mac(file_key: bytes, mac_input: bytes) -> bytes:
    """HMAC-SHA256 under HKDF(salt=empty, ikm=file key, info="header")."""
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"header").derive(file_key)
    return hmac.new(key, mac_input, sha256).digest()


def build_header(stanzas: list[Stanza], file_key: bytes) -> Header:
    """Build and MAC a header; checks the limits a parser would enforce."""
    if not stanzas or len(stanzas) > MAX_STANZAS:
        raise ParameterError(f"a header needs 1 to {MAX_STANZAS} stanzas, got {len(stanzas)}")
    unsigned = Header(tuple(stanzas), b"")
    header = Header(unsigned.stanzas, header_mac(file_key, unsigned.mac_input()))
    if len(header.encode()) > MAX_HEADER_SIZE:
        raise ParameterError(f"header would exceed {MAX_HEADER_SIZE} bytes")
    return header


class _LineReader:
    """Reads LF-terminated lines while enforcing the total header size limit."""

    def __init__(self, stream: Source) -> None:
        self._stream = stream
        self.consumed = 0

    def line(self) -> bytes:
        room = MAX_HEADER_SIZE - self.consumed
        raw = self._stream.readline(room + 1)
        self.consumed += len(raw)
        if not raw.endswith(b"\n"):
            if len(raw) > room:
                raise HeaderError(f"header exceeds {MAX_HEADER_SIZE} bytes")
            raise HeaderError("truncated header: end of file before the MAC line")
        return raw[:-1]


def parse_header(stream: Source) -> tuple[Header, int]:
    """Read exactly the header from ``stream``; return it and its length in bytes.

    The stream is left positioned at the first payload byte. Raises HeaderError.
    """
    reader = _LineReader(stream)
    version = reader.line()
    if version != VERSION_LINE:
        if version.startswith(b"age-encryption.org/"):
            raise HeaderError(f"unsupported age version {_show(version)}")
        raise HeaderError(f"not an age v1 file: first line is {_show(version)}")
    stanzas: list[Stanza] = []
    while True:
        line = reader.line()
        if line.startswith(b"---"):
            mac = _parse_mac_line(line)
            break
        if len(stanzas) == MAX_STANZAS:
            raise HeaderError(f"header has more than {MAX_STANZAS} stanzas")
        stanzas.append(_parse_stanza(line, reader))
    if not stanzas:
        raise HeaderError("header has no recipient stanza")
    header = Header(tuple(stanzas), mac)
    if len(header.encode()) != reader.consumed:
        # Cannot happen with the checks above; kept so the MAC never covers other bytes.
        raise HeaderError("header is not in canonical form")
    return header, reader.consumed


def _parse_mac_line(line: bytes) -> bytes:
    if not line.startswith(b"--- "):
        raise HeaderError(f"malformed MAC line {_show(line)}: expected '--- ' and the MAC")
    mac = b64decode_canonical(line[4:])
    if len(mac) != MAC_SIZE:
        raise HeaderError(f"header MAC is {len(mac)} bytes, expected {MAC_SIZE}")
    return mac


def _parse_stanza(line: bytes, reader: _LineReader) -> Stanza:
    if not line.startswith(b"-> "):
        raise HeaderError(f"expected a stanza ('-> ...') or the MAC line, got {_show(line)}")
    args = line[3:].split(b" ")
    for arg in args:
        if not _ARG.fullmatch(arg):
            raise HeaderError(f"stanza line {_show(line)} has an empty or non-printable argument")
    body = bytearray()
    while True:
        text = reader.line()
        if len(text) > _BODY_COLUMNS:
            raise HeaderError(f"stanza body line longer than {_BODY_COLUMNS} columns")
        try:
            body += b64decode_canonical(text)
        except HeaderError as exc:
            raise HeaderError(f"bad stanza body line (missing final short line?): {exc}") from None
        if len(text) < _BODY_COLUMNS:
            break
    names = [a.decode("ascii") for a in args]
    return Stanza(names[0], tuple(names[1:]), bytes(body))
