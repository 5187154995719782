"""What every blob store offers: content-addressed blobs named by their SHA-256."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterable, AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

CHUNK = 1 << 16


class StorageError(Exception):
    pass


class TooLarge(StorageError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"the upload exceeds the limit of {limit} bytes")
        self.limit = limit


def seek_position(offset: int, whence: int, current: int, size: int) -> int:
    """The absolute position ``seek(offset, whence)`` asks for, in a read-only file of ``size``
    bytes read up to ``current`` (for readers that implement seeking themselves)."""
    base = {io.SEEK_SET: 0, io.SEEK_CUR: current, io.SEEK_END: size}.get(whence)
    if base is None:
        raise ValueError(f"invalid whence {whence}")
    if base + offset < 0:
        raise ValueError("negative seek position")
    return base + offset


class ReadOnlyFile(io.RawIOBase):
    """A read-only, seekable raw file of known size (``_size``) read at ``_pos``; subclasses
    implement ``readinto`` and may react to a move in ``_moved_to``."""

    _pos: int = 0
    _size: int = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET, /) -> int:
        position = seek_position(offset, whence, self._pos, self._size)
        if position != self._pos:
            self._pos = position
            self._moved_to(position)
        return self._pos

    def _moved_to(self, position: int) -> None:
        """Called when a seek changed the position (nothing to do by default)."""


@dataclass(frozen=True)
class Stored:
    key: str
    sha256: str
    size: int


class Storage(Protocol):
    """A blob's key is the hex SHA-256 of its content.  Writers never leave a partial blob under a
    real key, and never hold a whole blob in memory."""

    async def put(self, chunks: AsyncIterable[bytes], limit: int) -> Stored:
        """Store a stream; ``TooLarge`` (and nothing stored) once it passes ``limit`` bytes."""
        ...

    async def put_file(self, source: Path, limit: int) -> Stored:
        """Store a complete local file that nobody writes any more; ``source`` stays in place."""
        ...

    def exists(self, key: str) -> bool:
        """Blocking."""
        ...

    def open(self, key: str) -> io.BufferedReader:
        """A blocking, streaming binary reader, for consumers that run in a worker thread."""
        ...

    def read(self, key: str) -> AsyncIterator[bytes]:
        """The blob as an async stream of chunks (downloads)."""
        ...

    def blobs(self) -> Iterator[tuple[str, int]]:
        """Every stored blob as (key, size), in key order; blocking (backups)."""
        ...


def check_key(key: str) -> str:
    if len(key) != 64 or any(c not in "0123456789abcdef" for c in key):
        raise StorageError("invalid blob key")
    return key


# S3 bucket naming rules (general purpose buckets): 3-63 of a-z 0-9 . -, starting and ending alnum.
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


def parse_s3_url(url: str) -> tuple[str, str]:
    """``s3://bucket[/prefix]`` → (bucket, prefix ending in "/" or empty)."""
    if not url.startswith("s3://"):
        raise ValueError("must look like s3://bucket or s3://bucket/prefix")
    bucket, _, prefix = url[len("s3://") :].partition("/")
    if not _BUCKET.fullmatch(bucket) or ".." in bucket:
        raise ValueError(f"{bucket!r} is not a valid bucket name")
    prefix = prefix.strip("/")
    if any(part in ("", ".", "..") for part in prefix.split("/")) and prefix:
        raise ValueError("the prefix must not hold empty, '.' or '..' segments")
    return bucket, prefix + "/" if prefix else ""
