"""age STREAM payload: 16-byte nonce, then ChaCha20-Poly1305 over 64 KiB chunks.

Memory is bounded by one chunk. The loops reuse one AEAD object, one nonce buffer and
preallocated in/out buffers (readinto / *_into) because decryption speed at bid opening must stay
close to the raw cipher speed. To know whether a chunk is the last one we read one byte past it
and carry that byte over to the next chunk.
"""

from __future__ import annotations

import os
from typing import NoReturn

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ._io import Sink, Source
from .errors import HeaderError, ParameterError, PayloadError
from .header import FILE_KEY_SIZE

__all__ = ["CHUNK_SIZE", "NONCE_SIZE", "decrypt_payload", "encrypt_payload", "payload_key"]

CHUNK_SIZE = 64 * 1024
NONCE_SIZE = 16
TAG_SIZE = 16
ENC_CHUNK_SIZE = CHUNK_SIZE + TAG_SIZE
_MAX_COUNTER = 1 << 88


def payload_key(file_key: bytes, nonce: bytes) -> bytes:
    """HKDF-SHA256(salt=nonce, ikm=file key, info="payload")."""
    if len(file_key) != FILE_KEY_SIZE:
        raise ParameterError(f"a file key is {FILE_KEY_SIZE} bytes, got {len(file_key)}")
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=nonce, info=b"payload").derive(file_key)


def _fill(src: Source, view: memoryview, start: int) -> int:
    """readinto until ``view`` is full or EOF; return the number of bytes now in ``view``."""
    pos = start
    end = len(view)
    while pos < end:
        got = src.readinto(view[pos:])
        if not got:
            break
        pos += got
    return pos


def _set_nonce(nonce: bytearray, counter: int, last: bool) -> None:
    nonce[:11] = counter.to_bytes(11, "big")
    nonce[11] = 1 if last else 0


def encrypt_payload(src: Source, dst: Sink, file_key: bytes, nonce: bytes | None = None) -> int:
    """Encrypt all of ``src`` into ``dst`` (nonce + chunks); return bytes written.

    ``nonce`` is for tests only; by default a fresh random one is used.
    """
    nonce_value = os.urandom(NONCE_SIZE) if nonce is None else nonce
    if len(nonce_value) != NONCE_SIZE:
        raise ParameterError(f"payload nonce must be {NONCE_SIZE} bytes")
    aead = ChaCha20Poly1305(payload_key(file_key, nonce_value))
    dst.write(nonce_value)
    written = NONCE_SIZE
    inbuf = bytearray(CHUNK_SIZE + 1)
    inview = memoryview(inbuf)
    outview = memoryview(bytearray(ENC_CHUNK_SIZE))
    chunk_nonce = bytearray(12)
    counter = 0
    have = _fill(src, inview, 0)
    while True:
        last = have <= CHUNK_SIZE
        size = have if last else CHUNK_SIZE
        _set_nonce(chunk_nonce, counter, last)
        out = outview[: size + TAG_SIZE]
        aead.encrypt_into(chunk_nonce, inview[:size], None, out)
        dst.write(out)
        written += size + TAG_SIZE
        if last:
            return written
        counter += 1
        inbuf[0] = inbuf[CHUNK_SIZE]
        have = _fill(src, inview, 1)


def decrypt_payload(src: Source, dst: Sink, file_key: bytes) -> int:
    """Decrypt the payload in ``src`` (positioned after the header) into ``dst``.

    Each chunk is written only once authenticated; on PayloadError ``dst`` holds exactly the
    chunks verified before the failure (as age releases them). A missing or short nonce raises
    HeaderError, as in age. Returns the plaintext length.
    """
    nonce_view = memoryview(bytearray(NONCE_SIZE))
    if _fill(src, nonce_view, 0) != NONCE_SIZE:
        # age reads the nonce together with the header, so this is a header failure there too.
        raise HeaderError("file truncated: missing or short payload nonce after the header")
    aead = ChaCha20Poly1305(payload_key(file_key, bytes(nonce_view)))
    inbuf = bytearray(ENC_CHUNK_SIZE + 1)
    inview = memoryview(inbuf)
    outview = memoryview(bytearray(CHUNK_SIZE))
    chunk_nonce = bytearray(12)
    full_in = inview[:ENC_CHUNK_SIZE]
    decrypt_into = aead.decrypt_into
    write = dst.write
    counter = 0
    total = 0
    have = _fill(src, inview, 0)
    if have == 0:
        raise PayloadError("payload has no chunks (an empty plaintext is still one chunk)")
    # Hot loop: middle chunks only; the final chunk leaves through the else branch.
    while True:
        if have > ENC_CHUNK_SIZE:
            chunk_nonce[:11] = counter.to_bytes(11, "big")
            try:
                decrypt_into(chunk_nonce, full_in, None, outview)
            except InvalidTag:
                _raise_bad_middle(aead, chunk_nonce, counter, full_in, outview, dst)
        else:
            size = have
            if size < TAG_SIZE:
                raise PayloadError(f"chunk {counter} truncated ({size} bytes, shorter than a tag)")
            out = outview[: size - TAG_SIZE]
            _set_nonce(chunk_nonce, counter, True)
            try:
                aead.decrypt_into(chunk_nonce, inview[:size], None, out)
            except InvalidTag:
                _raise_bad_final(aead, chunk_nonce, counter, inview[:size], out, dst)
            if size == TAG_SIZE and counter > 0:
                raise PayloadError("final chunk is empty (only allowed when the whole payload is empty)")
            write(out)
            return total + size - TAG_SIZE
        write(outview)
        total += CHUNK_SIZE
        counter += 1
        if counter == _MAX_COUNTER:
            raise PayloadError("payload has too many chunks")
        inbuf[0] = inbuf[ENC_CHUNK_SIZE]
        have = _fill(src, inview, 1)


def _raise_bad_final(
    aead: ChaCha20Poly1305,
    chunk_nonce: bytearray,
    counter: int,
    chunk: memoryview,
    out: memoryview,
    dst: Sink,
) -> NoReturn:
    """The chunk at EOF is not a valid final chunk; explain why and release what age would."""
    if len(chunk) == ENC_CHUNK_SIZE:
        _set_nonce(chunk_nonce, counter, False)
        try:
            aead.decrypt_into(chunk_nonce, chunk, None, out)
        except InvalidTag:
            pass
        else:
            # A valid full non-final chunk: release it like any verified chunk; the file is cut.
            dst.write(out)
            raise PayloadError("payload truncated: last chunk is not marked final")
    raise PayloadError(f"chunk {counter} failed authentication (or truncated / not marked final)")


def _raise_bad_middle(
    aead: ChaCha20Poly1305,
    chunk_nonce: bytearray,
    counter: int,
    chunk: memoryview,
    out: memoryview,
    dst: Sink,
) -> NoReturn:
    """A full chunk followed by more data failed as a middle chunk. If it is a valid final chunk,
    release it as age does, then reject the data after it."""
    _set_nonce(chunk_nonce, counter, True)
    try:
        aead.decrypt_into(chunk_nonce, chunk, None, out)
    except InvalidTag:
        raise PayloadError(f"chunk {counter} failed authentication") from None
    dst.write(out)
    raise PayloadError(f"trailing data after the final chunk {counter}")
