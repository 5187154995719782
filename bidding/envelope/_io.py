"""Structural types for the binary streams the codec reads and writes.

Only the methods actually used are required, so BytesIO, buffered files and upload wrappers all fit.
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["Sink", "Source"]


class Source(Protocol):
    """A binary input stream: ``readline`` for the header, ``readinto`` for the payload."""

    def readline(self, size: int = -1, /) -> bytes: ...

    def readinto(self, buffer: memoryview, /) -> int | None: ...


class Sink(Protocol):
    """A binary output stream."""

    def write(self, data: memoryview | bytes, /) -> int | None: ...
