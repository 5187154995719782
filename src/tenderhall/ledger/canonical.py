"""RFC 8785 (JCS) canonical JSON, fast for the values events carry.

The `rfc8785` package serialises in pure Python, a character at a time; it was the largest cost of
an append.  For strings, safe integers, booleans, null, lists and objects whose keys sort the same
by UTF-16 code units as by code points, the standard library's C encoder with sorted keys, no
spaces and no ASCII escaping writes exactly the JCS bytes (it escapes the same characters the same
way).  Anything else (floats, big integers, other key orders, subclasses) goes to `rfc8785`.
"""

from __future__ import annotations

import json
from typing import Any

import rfc8785

_SAFE_INT = 2**53 - 1  # JCS numbers are IEEE doubles
# Code points from here up sort differently by UTF-16 code units (surrogates come before them).
_UTF16_ORDER_DIFFERS = "\ue000"
_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _stdlib_is_jcs(value: object) -> bool:
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        return -_SAFE_INT <= value <= _SAFE_INT  # type: ignore[operator]
    if kind is dict:
        return all(
            type(key) is str
            and (key.isascii() or max(key, default="") < _UTF16_ORDER_DIFFERS)
            and _stdlib_is_jcs(item)
            for key, item in value.items()  # type: ignore[attr-defined]
        )
    if kind is list or kind is tuple:
        return all(_stdlib_is_jcs(item) for item in value)  # type: ignore[attr-defined]
    return False


def dumps(value: Any) -> bytes:
    """The RFC 8785 serialisation of ``value`` (the same bytes `rfc8785.dumps` gives)."""
    if _stdlib_is_jcs(value):
        try:
            return _ENCODER.encode(value).encode("utf-8")
        except UnicodeEncodeError:
            pass  # a lone surrogate: rfc8785 refuses it with its own error
    return rfc8785.dumps(value)
