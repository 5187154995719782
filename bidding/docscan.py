"""Document facts of a bid package, read when the opening decrypts it (pure logic).

The collusion detector compares bids by their documents: the same author, creating tool and
creation time (文件属性一致), near-identical text, one bidder's documents naming another.  The only
moment the platform sees a package in the clear is the opening, so the scan runs there, over the
package's plaintext read at random offsets (``bidding.envelope.PlaintextReader``): the zip's central
directory says where each document lies, and only what the scan needs is decrypted — a PDF's
trailer, cross-reference table, metadata and first pages (pypdf reads them through a view of the
document's range, lazily), the first characters of a plain-text file.  A 500 MB scanned proposal
costs a few chunks, and memory stays bounded whatever the documents' size.  Anything it cannot read
is skipped, never an error: these facts are evidence, and a bid is valid without them.

The facts are sealed under the platform's data key like the file key (bid content stays encrypted
at rest); the detector unseals them once, at the end of the opening.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import struct
import zipfile
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from bidding.package import FORM_NAME
from tenderhall.storage.base import ReadOnlyFile

__all__ = ["DocumentFacts", "scan_package"]

log = logging.getLogger(__name__)

_LOCAL = struct.Struct("<IHHHHHIIIHH")
_LOCAL_SIG = 0x04034B50
MAX_MEMBERS = 64  # documents examined per package
MAX_TEXT = 200_000  # characters of text kept per package
MAX_TEXT_BYTES = 1 << 20  # bytes read from one plain-text document
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


class _Range(ReadOnlyFile):
    """A read-only view of ``size`` bytes at ``start`` of a seekable file (one document)."""

    def __init__(self, src: BinaryIO, start: int, size: int) -> None:
        super().__init__()
        self._src, self._start, self._size = src, start, size

    def readinto(self, buffer: memoryview, /) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        want = min(len(view), self._size - self._pos)
        if want <= 0:
            return 0
        self._src.seek(self._start + self._pos)
        data = self._src.read(want)
        view[: len(data)] = data
        self._pos += len(data)
        return len(data)


def scan_package(plaintext: BinaryIO) -> DocumentFacts:
    """The facts of a bid package readable at any offset (a stored zip, as ``bidding.package``
    writes it); empty facts when it is not one."""
    facts = DocumentFacts()
    try:
        members = zipfile.ZipFile(plaintext).infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        log.info("bid package without a readable zip directory: no document facts")
        return facts
    for info in members:
        if info.filename == FORM_NAME or info.is_dir():
            continue
        facts.documents.append(info.filename)
        if len(facts.documents) > MAX_MEMBERS or info.compress_type != zipfile.ZIP_STORED:
            continue
        try:
            document = _Range(plaintext, _data_offset(plaintext, info), info.file_size)
            _read(facts, info.filename, document)
        except Exception:  # evidence is best effort: one unreadable document is not an error
            log.info("document %r of a bid package skipped", info.filename, exc_info=True)
    return facts


def _data_offset(src: BinaryIO, info: zipfile.ZipInfo) -> int:
    """Where a member's bytes start: after its local header, whose extra field may differ from
    the central directory's."""
    src.seek(info.header_offset)
    header = src.read(_LOCAL.size)
    sig, *_, name_len, extra_len = _LOCAL.unpack(header)
    if sig != _LOCAL_SIG:
        raise ValueError("no local file header where the directory says")
    return int(info.header_offset) + _LOCAL.size + int(name_len) + int(extra_len)


def _read(facts: DocumentFacts, name: str, document: _Range) -> None:
    lower = name.lower()
    if lower.endswith(".pdf"):
        if document.read(5) == b"%PDF-":  # pypdf would try to rebuild anything else, at length
            document.seek(0)
            _read_pdf(facts, document)
    elif lower.endswith(TEXT_SUFFIXES):
        _add_text(facts, _decode(document.read(MAX_TEXT_BYTES)))


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", "replace")


def _add_text(facts: DocumentFacts, text: str) -> None:
    room = MAX_TEXT - len(facts.text)
    if room > 0 and text.strip():
        facts.text += (text if not facts.text else "\n" + text)[:room]


def _pdf_date(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return None


def _read_pdf(facts: DocumentFacts, document: io.RawIOBase) -> None:
    from pypdf import PdfReader

    reader = PdfReader(io.BufferedReader(document, 64 * 1024))
    meta = reader.metadata
    if meta is not None and not facts.author and not facts.tool:
        creator, producer = str(meta.creator or ""), str(meta.producer or "")
        facts.author = str(meta.author or "").strip()
        tools = dict.fromkeys((creator.strip(), producer.strip()))  # once each, in order
        facts.tool = " / ".join(t for t in tools if t)
        facts.created = _pdf_date(meta.creation_date)
    for page in reader.pages[:MAX_PAGES]:
        if len(facts.text) >= MAX_TEXT:
            break
        _add_text(facts, page.extract_text() or "")
