"""Reading stored envelopes: a file key checked against the header, the bid form and the
document facts decrypted from the stored ciphertext, the header for custodians.  Blocking: callers
run these in a thread, on every core for large envelopes (``bidding.decrypt_pool``).
"""

from __future__ import annotations

import dataclasses
import io
import logging
from typing import Any

from bidding import envelope
from bidding.decrypt_pool import shared_pool
from bidding.docscan import DocumentFacts, scan_package
from bidding.envelope.seekable import PlaintextReader
from bidding.models import Bid
from bidding.package import FORM_PREFIX, FormError, FormExtractor
from tenderhall.storage import Storage

# Below this a payload is decrypted in the request's thread: waking the workers costs more.
POOL_MIN_BYTES = 8 << 20
log = logging.getLogger("tenderhall.opening")


@dataclasses.dataclass(frozen=True)
class Opened:
    form: dict[str, Any] | None
    form_error: str | None
    damage: str | None = None  # the key is right but the payload does not decrypt
    documents: DocumentFacts | None = None  # evidence for the collusion detector, if readable


@dataclasses.dataclass(eq=False)
class Blobs:
    storage: Storage

    def open(self, storage_key: str, tender_id: str, file_key: bytes, size: int) -> Opened:
        """Check the key against the header MAC (an ``EnvelopeError`` here: the key is wrong), then
        decrypt the STORED ciphertext, keeping only the bid form: a bidder cannot swap content.

        Blocking.  Memory is bounded by the decrypt pool's slots (or one chunk, sequentially)."""
        with self.storage.open(storage_key) as handle:
            header, _ = envelope.parse_header(handle)
            header.verify(file_key)
            sink = FormExtractor()
            pool = shared_pool() if size >= POOL_MIN_BYTES else None
            done = pool is not None and pool.decrypt(handle, sink, file_key, prefix=FORM_PREFIX)
        if not done:
            # Small, no pool here, or the payload did not verify: the sequential decoder decides.
            with self.storage.open(storage_key) as handle:
                envelope.parse_header(handle)
                sink = FormExtractor()
                try:
                    envelope.decrypt_payload(handle, sink, file_key)
                except (envelope.PayloadError, envelope.HeaderError) as exc:  # HeaderError: no nonce
                    return Opened(None, None, damage=str(exc))
        documents = self._scan_documents(storage_key, file_key)
        try:
            return Opened(sink.form(tender_id), None, documents=documents)
        except FormError as exc:
            return Opened(None, str(exc), documents=documents)

    def _scan_documents(self, storage_key: str, file_key: bytes) -> DocumentFacts | None:
        """Document metadata and text of the package just authenticated (``bidding.docscan``),
        by random access: only the parts read are decrypted, whatever the documents' size.  Best
        effort: a bid is valid without these facts."""
        try:
            with self.storage.open(storage_key) as handle:
                _, payload_at = envelope.parse_header(handle)
                return scan_package(io.BufferedReader(PlaintextReader(handle, payload_at, file_key)))
        except Exception:
            log.warning("document scan of blob %s failed", storage_key, exc_info=True)
            return None

    def header_bytes(self, bid: Bid) -> bytes:
        with self.storage.open(bid.storage_key) as handle:
            header, _ = envelope.parse_header(handle)
        return header.encode()


class Lines:
    """A minimal readable over bytes for parse_header."""

    def __init__(self, data: bytes) -> None:
        import io

        self._io = io.BytesIO(data)

    def readline(self, size: int = -1, /) -> bytes:
        return self._io.readline(size)

    def readinto(self, buffer: memoryview, /) -> int | None:
        return self._io.readinto(buffer)
