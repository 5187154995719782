"""Partial files of resumable uploads.

The bytes received so far are the truth about an upload's offset (not a database counter), so a
dropped connection loses nothing that reached the disk.  An exclusive ``flock`` per upload keeps
two requests (or two workers on one host) from appending to the same file at once, and the sweeper
from deleting a file that a request is still writing or reading.

The file is made when the upload starts and never re-created afterwards: once it has been removed
(the bid accepted, or the upload expired at the deadline) a late request finds it ``Gone`` instead
of leaving a new file behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import os
import uuid
from collections.abc import AsyncIterable, Iterator
from pathlib import Path

__all__ = ["Busy", "Gone", "OffsetMismatch", "PartialUploads", "TooLarge"]


class Busy(Exception):
    """Another request is writing or completing this upload."""


class Gone(Exception):
    """The partial file was removed: the upload was completed or has expired."""


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

    def create(self, upload_id: uuid.UUID) -> None:
        """Make the (empty) partial file of a new upload; a no-op if it exists."""
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.close(os.open(self.path(upload_id), os.O_WRONLY | os.O_CREAT, 0o600))

    @contextlib.contextmanager
    def _locked(self, upload_id: uuid.UUID, flags: int) -> Iterator[int]:
        try:
            fd = os.open(self.path(upload_id), flags)
        except FileNotFoundError:
            raise Gone() from None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise Busy() from None
            if os.fstat(fd).st_nlink == 0:  # removed between our open and our lock
                raise Gone()
            yield fd
        finally:
            os.close(fd)

    async def append(
        self, upload_id: uuid.UUID, offset: int, chunks: AsyncIterable[bytes], total: int
    ) -> int:
        """Append ``chunks`` at ``offset`` (which must be the current size); return the new size.

        Bytes beyond ``total`` are refused; what was written before a failure stays (a full disk
        raises ``OSError`` ENOSPC after a short write: the file's size is still the truth).
        """
        with self._locked(upload_id, os.O_WRONLY | os.O_APPEND) as fd:
            size = os.fstat(fd).st_size
            if size != offset:
                raise OffsetMismatch(size)
            async for chunk in chunks:
                if size + len(chunk) > total:
                    raise TooLarge()
                view = memoryview(chunk)
                while view:  # a short write (a disk filling up) is not the whole chunk
                    written = os.write(fd, view)
                    size += written
                    view = view[written:]
            return size

    @contextlib.contextmanager
    def reader(self, upload_id: uuid.UUID) -> Iterator[io.BufferedReader]:
        """The partial file for reading, locked against concurrent appends."""
        with self._locked(upload_id, os.O_RDONLY) as fd, os.fdopen(os.dup(fd), "rb") as handle:
            yield handle

    def remove(self, upload_id: uuid.UUID) -> None:
        self.path(upload_id).unlink(missing_ok=True)

    def discard(self, upload_id: uuid.UUID) -> bool:
        """Remove the partial file unless a request holds it (then False: try again later).
        True also when it is already gone, so that expiring an upload is idempotent."""
        try:
            with self._locked(upload_id, os.O_RDONLY):
                self.remove(upload_id)  # under the lock: no request is between check and write
        except Gone:
            pass
        except Busy:
            return False
        return True
