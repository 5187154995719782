"""Bid packages: a zip whose first member is the machine-readable bid form (pure logic).

The bidder packs ``bid-form.json`` first and every member stored (uncompressed; documents are
PDFs and scans that do not compress), so the server can read the form from the first local file
header while the payload streams through decryption, without keeping the package in memory or
writing plaintext to disk.
"""

from __future__ import annotations

import json
import struct
import zipfile
import zlib
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any

__all__ = [
    "FORM_NAME",
    "FORM_PREFIX",
    "MAX_FORM",
    "FormError",
    "FormExtractor",
    "check_form",
    "check_package",
    "pack",
]

FORM_NAME = "bid-form.json"
MAX_FORM = 1 << 20
# The form is read from the package's first zip member (local header, name, at most MAX_FORM
# bytes of form): this much plaintext is all FormExtractor ever needs.
FORM_PREFIX = MAX_FORM + 64 * 1024
_LOCAL_HEADER = struct.Struct("<IHHHHHIIIHH")
_LOCAL_SIG = 0x04034B50
REQUIRED = ("price", "duration_days", "quality", "project_manager")


class FormError(ValueError):
    """The bid form is missing, malformed or incomplete."""


def check_form(form: Any, tender_id: str | None = None) -> dict[str, Any]:
    """Validate a bid form: price (yuan, decimal text), duration in days, quality, project manager."""
    if not isinstance(form, dict):
        raise FormError("the bid form must be a JSON object")
    missing = [k for k in REQUIRED if k not in form]
    if missing:
        raise FormError(f"the bid form lacks {', '.join(missing)}")
    try:
        price = Decimal(str(form["price"]))
    except InvalidOperation:
        raise FormError("price must be a decimal amount in yuan") from None
    if not price.is_finite() or price <= 0 or price.as_tuple().exponent < -2:  # type: ignore[operator]
        raise FormError("price must be positive with at most two decimals")
    days = form["duration_days"]
    if isinstance(days, bool) or not isinstance(days, int) or days <= 0:
        raise FormError("duration_days must be a positive whole number")
    for key in ("quality", "project_manager"):
        if not isinstance(form[key], str) or not form[key].strip():
            raise FormError(f"{key} must be non-empty text")
    if tender_id is not None and form.get("tender") not in (None, tender_id):
        raise FormError("the bid form names another tender")
    return {**form, "price": f"{price:.2f}"}


def pack(form: Mapping[str, Any], documents: Iterable[Path], out: IO[bytes]) -> None:
    """Write a bid package: the form first, then each document under its file name."""
    checked = check_form(dict(form))
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr(FORM_NAME, json.dumps(checked, ensure_ascii=False, sort_keys=True, indent=2))
        seen = {FORM_NAME}
        for path in documents:
            name = path.name
            if name in seen:
                raise FormError(f"two documents are named {name}")
            seen.add(name)
            archive.write(path, arcname=name)


class FormExtractor:
    """A decryption sink that keeps only the first zip member (the form), bounded in size."""

    def __init__(self) -> None:
        self._head = bytearray()
        self._need = _LOCAL_HEADER.size
        self.total = 0

    def write(self, data: memoryview | bytes, /) -> int:
        n = len(data)
        self.total += n
        room = self._need - len(self._head)
        if room > 0:
            self._head += data[:room]
            if len(self._head) == _LOCAL_HEADER.size and self._need == _LOCAL_HEADER.size:
                self._need = self._header_end()
                self._head += data[room : room + self._need - len(self._head)]
        return n

    def _header_end(self) -> int:
        fields: tuple[int, ...] = _LOCAL_HEADER.unpack(self._head)
        sig, _v, flags, method, _t, _d, _crc, csize, _usize, nlen, xlen = fields
        if sig != _LOCAL_SIG or flags & 0x08 or method != zipfile.ZIP_STORED:
            return len(self._head)  # not a stored zip member with known size: form() reports it
        return min(_LOCAL_HEADER.size + nlen + xlen + csize, _LOCAL_HEADER.size + 512 + MAX_FORM)

    def form(self, tender_id: str | None = None) -> dict[str, Any]:
        if len(self._head) < _LOCAL_HEADER.size:
            raise FormError("the bid package is not a zip file")
        sig, _v, flags, method, _t, _d, crc, csize, _usize, nlen, xlen = _LOCAL_HEADER.unpack_from(self._head)
        if sig != _LOCAL_SIG or flags & 0x08 or method != zipfile.ZIP_STORED:
            raise FormError("the bid package must start with a stored bid-form.json")
        start = _LOCAL_HEADER.size
        name = bytes(self._head[start : start + nlen]).decode("utf-8", "replace")
        if name != FORM_NAME:
            raise FormError("the first member of the bid package must be bid-form.json")
        if csize > MAX_FORM:
            raise FormError("the bid form is too large")
        body = bytes(self._head[start + nlen + xlen : start + nlen + xlen + csize])
        if len(body) != csize or zlib.crc32(body) != crc:
            raise FormError("the bid form is truncated or damaged")
        try:
            value = json.loads(body)
        except ValueError:
            raise FormError("the bid form is not JSON") from None
        return check_form(value, tender_id)


def check_package(handle: IO[bytes], tender_id: str | None = None) -> dict[str, Any]:
    """Validate a bid package before it is sealed; returns its checked form.

    The form is read exactly as the opening reads a decrypted package (``FormExtractor``), so a
    package that passes here cannot be refused there for its form; the zip's central directory
    must also be readable (a truncated or empty file is not a package) and list the form first.
    ``handle`` must be seekable; it is left at the start.
    """
    sink = FormExtractor()
    sink.write(handle.read(FORM_PREFIX))
    form = sink.form(tender_id)
    handle.seek(0)
    try:
        with zipfile.ZipFile(handle) as archive:
            names = archive.namelist()
    except zipfile.BadZipFile:
        raise FormError("the bid package is not a complete zip file") from None
    finally:
        handle.seek(0)
    if not names or names[0] != FORM_NAME or names.count(FORM_NAME) != 1:
        raise FormError("the first member of the bid package must be bid-form.json")
    return form
