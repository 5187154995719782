"""Partial files of resumable uploads.

The bytes received so far are the truth about an upload's offset (not a database counter), so a
dropped connection loses nothing that reached the disk.  An exclusive ``flock`` per upload keeps
two requests (or two workers on one host) from appending to the same file at once.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import os
import uuid
from collections.abc import AsyncIterable, Iterator
from pathlib import Path

__all__ = ["Busy", "OffsetMismatch", "PartialUploads", "TooLarge"]


class Busy(Exception):
    """Another request is writing or completing this upload."""


class OffsetMismatch(Exception):
    def __init__(self, current: int) -> None:
        super().__init__(f"the upload is at offset {current}")
        self.current = current


class TooLarge(Exception):
    """More bytes than the manifest declared."""


class PartialUploads:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, upload_id: uuid.UUID) -> Path:
        return self.root / f"{upload_id.hex}.part"

    def offset(self, upload_id: uuid.UUID) -> int:
        try:
            return self.path(upload_id).stat().st_size
        except FileNotFoundError:
            return 0

    @contextlib.contextmanager
    def _locked(self, upload_id: uuid.UUID, flags: int) -> Iterator[int]:
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path(upload_id), flags | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise Busy() from None
            yield fd
        finally:
            os.close(fd)

    async def append(
        self, upload_id: uuid.UUID, offset: int, chunks: AsyncIterable[bytes], total: int
    ) -> int:
        """Append ``chunks`` at ``offset`` (which must be the current size); return the new size.

        Bytes beyond ``total`` are refused; what was written before a failure stays.
        """
        with self._locked(upload_id, os.O_WRONLY | os.O_APPEND) as fd:
            size = os.fstat(fd).st_size
            if size != offset:
                raise OffsetMismatch(size)
            async for chunk in chunks:
                if size + len(chunk) > total:
                    raise TooLarge()
                os.write(fd, chunk)
                size += len(chunk)
            return size

    @contextlib.contextmanager
    def reader(self, upload_id: uuid.UUID) -> Iterator[io.BufferedReader]:
        """The partial file for reading, locked against concurrent appends."""
        with self._locked(upload_id, os.O_RDONLY) as fd, os.fdopen(os.dup(fd), "rb") as handle:
            yield handle

    def remove(self, upload_id: uuid.UUID) -> None:
        self.path(upload_id).unlink(missing_ok=True)
