"""Files that appear whole or not at all.

A file is written to a temporary name in its own folder (so the rename stays on one file system),
flushed and fsynced, then renamed over its real name; the folder is fsynced so the rename itself
survives a crash.  A failure at any point (an exception, a full disk, ``kill -9``) leaves the
real name as it was: never empty, never half-written.  At worst a ``.<name>.*.tmp`` file stays
behind after a hard kill, under a name no reader looks for.

Kept free of heavy imports: the bidder's command-line client uses it.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

__all__ = ["atomic_write", "write_bytes", "write_text"]


@contextlib.contextmanager
def atomic_write(path: Path, *, mode: int = 0o600, replace: bool = True) -> Iterator[BinaryIO]:
    """A binary handle whose content becomes ``path`` only when the block ends without error.

    ``mode`` defaults to private: the client writes a company's bid material, keys and tokens.
    With ``replace=False`` an existing ``path`` is never overwritten (``FileExistsError``), even by
    a concurrent writer: the file is hard-linked into place, which fails if the name exists.
    """
    directory = path.parent
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        if replace:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)
            os.unlink(tmp)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(directory)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:  # some platforms cannot open a folder: the rename is still atomic
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_bytes(path: Path, data: bytes, *, mode: int = 0o600, replace: bool = True) -> None:
    with atomic_write(path, mode=mode, replace=replace) as handle:
        handle.write(data)


def write_text(path: Path, text: str, *, mode: int = 0o600, replace: bool = True) -> None:
    write_bytes(path, text.encode("utf-8"), mode=mode, replace=replace)
