"""Document facts of a bid package, read while the opening decrypts it (pure logic).

The collusion detector compares bids by their documents: the same author, creating tool and
creation time (文件属性一致), near-identical text, one bidder's documents naming another.  The only
moment the platform sees a package in the clear is the decryption in the opening hall, so a
`DocScanner` rides along as a second sink there: it follows the zip's local file headers through
the stream and looks only at members small enough to hold (``MAX_MEMBER``) — PDFs (metadata and
the text of their first pages, read with pypdf) and plain-text files.  Everything is bounded
(members, bytes, characters); anything it cannot read is skipped, never an error: these facts are
evidence, and a bid is valid without them.

The facts are sealed under the platform's data key like the file key (bid content stays
encrypted at rest); the detector unseals them once, at the end of the opening.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import struct
import zipfile
from dataclasses import dataclass, field
from typing import Any, Protocol

from bidding.package import FORM_NAME

__all__ = ["DocScanner", "DocumentFacts", "scan_seekable"]

log = logging.getLogger(__name__)

_LOCAL = struct.Struct("<IHHHHHIIIHH")
_LOCAL_SIG = 0x04034B50
MAX_MEMBER = 16 << 20  # bytes held for one document
MAX_MEMBERS = 64  # documents examined per package
MAX_TEXT = 200_000  # characters of text kept per package
MAX_PAGES = 30  # PDF pages whose text is extracted
TEXT_SUFFIXES = (".txt", ".md", ".csv", ".json", ".xml", ".html", ".htm")


@dataclass
class DocumentFacts:
    author: str = ""
    tool: str = ""  # creating application, and the producer when it differs
    created: dt.datetime | None = None
    text: str = ""
    documents: list[str] = field(default_factory=list)  # member names, in package order

    def to_json(self) -> dict[str, Any]:
        return {
            "author": self.author,
            "tool": self.tool,
            "created": self.created.isoformat() if self.created else None,
            "text": self.text,
            "documents": self.documents,
        }

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> DocumentFacts:
        created = obj.get("created")
        return cls(
            str(obj.get("author") or ""),
            str(obj.get("tool") or ""),
            dt.datetime.fromisoformat(created) if created else None,
            str(obj.get("text") or ""),
            [str(d) for d in obj.get("documents") or []],
        )


class SeekableReader(Protocol):
    def read(self, size: int = -1, /) -> bytes | None: ...

    def seek(self, offset: int, whence: int = io.SEEK_SET, /) -> int: ...


def scan_seekable(plaintext: SeekableReader, read_size: int = 1 << 20) -> DocumentFacts:
    """Scan a package that can be read at any offset (``bidding.envelope.PlaintextReader``):
    the documents the scanner does not read are jumped over, never decrypted."""
    scanner = DocScanner()
    while not scanner.done:
        skip = scanner.skippable()
        if skip:
            plaintext.seek(skip, io.SEEK_CUR)
            scanner.skip(skip)
            continue
        data = plaintext.read(min(read_size, scanner.wanted))
        if not data:
            break
        scanner.write(data)
    return scanner.facts


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", "replace")


def _pdf_date(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return None


class DocScanner:
    """A decryption sink: ``write`` receives the plaintext in order; ``facts`` afterwards."""

    def __init__(self) -> None:
        self.facts = DocumentFacts()
        self._buf = bytearray()  # header being assembled, or the member being held
        self._need = _LOCAL.size  # bytes still wanted for the current step
        self._step = "header"  # header | name | hold | skip | done
        self._name = ""
        self._size = 0
        self._nlen = 0
        self._seen = 0

    @property
    def done(self) -> bool:
        return self._step == "done"

    @property
    def wanted(self) -> int:
        """Bytes the current step still needs (a header, a name, a document being held)."""
        return max(1, self._need)

    def skippable(self) -> int:
        """How many of the next bytes the scanner would ignore (inside a document it does not
        read), so that a reader that can seek need not decrypt them."""
        return self._need if self._step == "skip" else 0

    def skip(self, count: int) -> None:
        """Account for ``count`` (at most ``skippable()``) bytes jumped over instead of written."""
        if not 0 <= count <= self.skippable():
            raise ValueError("can only skip bytes the scanner would ignore")
        self._need -= count
        if self._step == "skip" and not self._need:
            self._advance()

    def write(self, data: memoryview | bytes, /) -> int:
        view = memoryview(data)
        n = len(view)
        try:
            while view and self._step != "done":
                take = min(self._need, len(view))
                if self._step != "skip":
                    self._buf += view[:take]
                view = view[take:]
                self._need -= take
                if not self._need:
                    self._advance()
        except Exception:  # evidence is best effort: a package we cannot follow is not an error
            log.warning("document scan stopped", exc_info=True)
            self._step = "done"
        return n

    def _advance(self) -> None:
        if self._step == "header":
            sig, _v, flags, method, _t, _d, _crc, csize, _us, nlen, xlen = _LOCAL.unpack(self._buf)
            if sig != _LOCAL_SIG or flags & 0x08 or method != zipfile.ZIP_STORED:
                self._step = "done"  # central directory reached, or sizes we cannot know ahead
                return
            self._size, self._need, self._step = csize, nlen + xlen, "name"
            self._buf.clear()
            self._nlen = nlen
        elif self._step == "name":
            self._name = bytes(self._buf[: self._nlen]).decode("utf-8", "replace")
            self._buf.clear()
            wanted = self._name != FORM_NAME and self._seen < MAX_MEMBERS and self._size <= MAX_MEMBER
            if self._name != FORM_NAME:
                self.facts.documents.append(self._name)
            self._step = "hold" if wanted else "skip"
            self._need = self._size
            if not self._need:
                self._finish_member()
        else:
            self._finish_member()

    def _finish_member(self) -> None:
        if self._step == "hold":
            self._seen += 1
            self._read(self._name, bytes(self._buf))
        self._buf.clear()
        self._step, self._need = "header", _LOCAL.size

    def _read(self, name: str, data: bytes) -> None:
        lower = name.lower()
        if lower.endswith(".pdf"):
            self._read_pdf(data)
        elif lower.endswith(TEXT_SUFFIXES):
            self._add_text(_decode(data))

    def _add_text(self, text: str) -> None:
        room = MAX_TEXT - len(self.facts.text)
        if room > 0 and text.strip():
            self.facts.text += (text if not self.facts.text else "\n" + text)[:room]

    def _read_pdf(self, data: bytes) -> None:
        from pypdf import PdfReader
        from pypdf.errors import PyPdfError

        try:
            reader = PdfReader(io.BytesIO(data))
            meta = reader.metadata
            if meta is not None and not self.facts.author and not self.facts.tool:
                creator, producer = str(meta.creator or ""), str(meta.producer or "")
                self.facts.author = str(meta.author or "").strip()
                tools = dict.fromkeys((creator.strip(), producer.strip()))  # once each, in order
                self.facts.tool = " / ".join(t for t in tools if t)
                self.facts.created = _pdf_date(meta.creation_date)
            for page in reader.pages[:MAX_PAGES]:
                if len(self.facts.text) >= MAX_TEXT:
                    break
                self._add_text(page.extract_text() or "")
        except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError):
            log.info("unreadable PDF in a bid package skipped", exc_info=True)
