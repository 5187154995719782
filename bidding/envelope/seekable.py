"""Random access to an age payload's plaintext (pure logic on ``cryptography``).

STREAM chunks are independent once the payload key is known (nonce = 11-byte counter || last
flag), so a reader that can seek in the ciphertext can open any chunk alone.  This lets the
opening read a bid package's zip structure and its small documents without decrypting the large
ones (``bidding.docscan``).  Every chunk returned is authenticated; the chunk at the end of the
file must authenticate as the final chunk, so a truncated payload fails there as it does in
``decrypt_payload``.  It is meant for payloads already opened once by the sequential decoder
(which stays the authority on errors and their messages); it holds one chunk in memory.
"""

from __future__ import annotations

import os
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from tenderhall.storage.base import ReadOnlyFile

from .errors import HeaderError, PayloadError
from .stream import CHUNK_SIZE, ENC_CHUNK_SIZE, NONCE_SIZE, TAG_SIZE, payload_key

__all__ = ["PlaintextReader"]


class PlaintextReader(ReadOnlyFile):
    """A read-only, seekable file of the plaintext of the payload that starts at ``payload_at``
    in the seekable ciphertext file ``src`` (the header's length, from ``parse_header``)."""

    def __init__(self, src: BinaryIO, payload_at: int, file_key: bytes) -> None:
        super().__init__()
        self._src = src
        end = src.seek(0, os.SEEK_END)
        src.seek(payload_at)
        nonce = src.read(NONCE_SIZE)
        if len(nonce) != NONCE_SIZE:
            raise HeaderError("file truncated: missing or short payload nonce after the header")
        self._first = payload_at + NONCE_SIZE
        body = end - self._first
        if body < TAG_SIZE:
            raise PayloadError("payload has no chunks (an empty plaintext is still one chunk)")
        self._chunks = -(-body // ENC_CHUNK_SIZE)  # ceil: the last chunk may be short
        self._size = body - self._chunks * TAG_SIZE
        self._aead = ChaCha20Poly1305(payload_key(file_key, nonce))
        self._pos = 0
        self._cached = -1
        self._plain = b""

    @property
    def size(self) -> int:
        return self._size

    def _chunk(self, index: int) -> bytes:
        if index != self._cached:
            last = index == self._chunks - 1
            self._src.seek(self._first + index * ENC_CHUNK_SIZE)
            want = ENC_CHUNK_SIZE if not last else self._size - index * CHUNK_SIZE + TAG_SIZE
            data = self._src.read(want)
            if len(data) != want:
                raise PayloadError(f"chunk {index} truncated")
            nonce = index.to_bytes(11, "big") + (b"\x01" if last else b"\x00")
            try:
                self._plain = self._aead.decrypt(nonce, data, None)
            except InvalidTag:
                raise PayloadError(f"chunk {index} failed authentication") from None
            if last and not self._plain and index > 0:
                raise PayloadError("final chunk is empty (only allowed when the whole payload is empty)")
            self._cached = index
        return self._plain

    def readinto(self, buffer: memoryview, /) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        done = 0
        while done < len(view) and self._pos < self._size:
            index, at = divmod(self._pos, CHUNK_SIZE)
            piece = self._chunk(index)[at : at + len(view) - done]
            view[done : done + len(piece)] = piece
            done += len(piece)
            self._pos += len(piece)
        return done
