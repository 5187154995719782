"""Table rows as JSON Lines, the same on SQLite and PostgreSQL (pure: no database here).

Every value that JSON cannot carry as itself is tagged (``{"$": kind, "v": text}``); JSON column
values are tagged too, so a stored dict that happens to look like a tag is never misread.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any


class RowError(ValueError):
    pass


def encode_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return {"$": "float", "v": repr(value)}  # keeps inf and nan, which JSON has no words for
    if isinstance(value, datetime):
        return {"$": "datetime", "v": value.isoformat()}
    if isinstance(value, date):
        return {"$": "date", "v": value.isoformat()}
    if isinstance(value, time):
        return {"$": "time", "v": value.isoformat()}
    if isinstance(value, timedelta):
        return {"$": "timedelta", "v": repr(value.total_seconds())}
    if isinstance(value, Decimal):
        return {"$": "decimal", "v": str(value)}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$": "bytes", "v": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, uuid.UUID):
        return {"$": "uuid", "v": str(value)}
    if isinstance(value, dict | list):
        return {"$": "json", "v": value}
    raise RowError(f"cannot back up a value of type {type(value).__name__}")


_DECODERS: dict[str, Any] = {
    "float": float,
    "datetime": datetime.fromisoformat,
    "date": date.fromisoformat,
    "time": time.fromisoformat,
    "timedelta": lambda v: timedelta(seconds=float(v)),
    "decimal": Decimal,
    "bytes": lambda v: base64.b64decode(v, validate=True),
    "uuid": uuid.UUID,
    "json": lambda v: v,
}


def decode_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, dict) and set(value) == {"$", "v"} and value["$"] in _DECODERS:
        try:
            return _DECODERS[value["$"]](value["v"])
        except (TypeError, ValueError, ArithmeticError) as exc:
            raise RowError(f"a {value['$']} value is malformed: {exc}") from None
    raise RowError(f"an untagged {type(value).__name__} value")


def encode_row(row: Mapping[str, Any]) -> bytes:
    return json.dumps({k: encode_value(v) for k, v in row.items()}, ensure_ascii=False).encode() + b"\n"


def decode_row(line: bytes, columns: frozenset[str]) -> dict[str, Any]:
    try:
        raw = json.loads(line)
    except ValueError as exc:
        raise RowError(f"not a JSON row: {exc}") from None
    if not isinstance(raw, dict):
        raise RowError("a row is not a JSON object")
    unknown = set(raw) - columns
    if unknown:
        raise RowError(f"unknown columns {sorted(unknown)}")
    return {k: decode_value(v) for k, v in raw.items()}
