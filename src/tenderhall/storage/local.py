"""Blob storage in a local folder (the embedded default).

Writes stream to a temporary file in the same folder, hashing as they go, then rename into place,
so a crash never leaves a half-written blob under a real name and memory use stays flat.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import tempfile
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Iterator
from pathlib import Path

import anyio

from tenderhall.storage.base import CHUNK, StorageError, Stored, TooLarge, check_key


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        check_key(key)
        return self.root / key[:2] / key[2:4] / key

    async def put(self, chunks: AsyncIterable[bytes], limit: int) -> Stored:
        self.root.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > limit:
                        raise TooLarge(limit)
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                # Chunk writes land in the page cache; only the fsync may block for long.
                await anyio.to_thread.run_sync(os.fsync, out.fileno())
            key = digest.hexdigest()
            final = self._path(key)
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, final)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        return Stored(key=key, sha256=key, size=size)

    async def put_file(self, source: Path, limit: int) -> Stored:
        """Store a complete local file that nobody writes any more (e.g. a finished upload).

        Hashed in a worker thread, then hard-linked into place instead of copied (a copy only if
        ``source`` is on another file system); the blob is fsynced before it gets its real name,
        as in ``put``.  ``source`` itself is left in place for its owner to remove.
        """
        return await anyio.to_thread.run_sync(self._put_file, source, limit)

    def _put_file(self, source: Path, limit: int) -> Stored:
        self.root.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        with source.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                size += len(chunk)
                if size > limit:
                    raise TooLarge(limit)
                digest.update(chunk)
        key = digest.hexdigest()
        final = self._path(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f".upload-{uuid.uuid4().hex}"  # os.link and "xb" never overwrite
        try:
            try:
                os.link(source, tmp)
            except OSError:  # another file system, or no hard links: copy
                with source.open("rb") as src, tmp.open("xb") as out:
                    while chunk := src.read(1 << 20):
                        out.write(chunk)
            fd = os.open(tmp, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, final)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return Stored(key=key, sha256=key, size=size)

    def exists(self, key: str) -> bool:
        return self._path(key).exists()

    def open(self, key: str) -> io.BufferedReader:
        """A blocking binary reader, for streaming consumers that run in a worker thread."""
        path = self._path(key)
        if not path.exists():
            raise StorageError("blob not found")
        return path.open("rb")

    def blobs(self) -> Iterator[tuple[str, int]]:
        # Only names that are blob keys, in their xx/yy/ folders: never the ".upload-" temporaries.
        if not self.root.is_dir():
            return
        for path in sorted(self.root.glob("??/??/*")):
            name = path.name
            if path.is_file() and len(name) == 64 and name[:2] == path.parent.parent.name:
                try:
                    check_key(name)
                except StorageError:
                    continue
                yield name, path.stat().st_size

    async def read(self, key: str) -> AsyncIterator[bytes]:
        path = self._path(key)
        if not path.exists():
            raise StorageError("blob not found")
        with path.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                yield chunk
