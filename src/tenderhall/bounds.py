"""The bounds every input keeps, checked at the edge before any work (pure: no web, no database).

- Money is yuan as plain decimal text: at most 13 integer digits and 2 decimals, no exponent.  A
  ``Decimal`` parsed from ``1E+400000`` costs nothing, but turning it into fen (an ``int``) or
  formatting it takes seconds to minutes, and past the context's exponent limit it raises.  13
  digits (under ten trillion yuan) keeps every amount in fen inside a signed 64-bit column.
- Dates and times lie within the horizon [2000-01-01, 2100-01-01) UTC: far beyond any tender, yet
  every value converts to any time zone and formats without overflowing.
- Text carries no control characters but tab, line feed and carriage return (PostgreSQL refuses
  NUL in text, SQLite stores it: refused here, both answer alike), and no lone surrogates (which
  no encoding stores).
- Whole numbers fit a signed 64-bit column.
- Free-form JSON (a manifest, a rubric) is nested at most ``MAX_DEPTH`` deep, with strings of at
  most ``MAX_FREE_TEXT`` characters and containers of at most ``MAX_ITEMS`` entries.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

# [0-9], not \d: \d also matches other scripts' digits (１００), which Decimal reads too.
MONEY_PATTERN = r"^[0-9]{1,13}(\.[0-9]{1,2})?$"
SIGNED_MONEY_PATTERN = r"^[+-]?[0-9]{1,13}(\.[0-9]{1,2})?$"
_MONEY = re.compile(SIGNED_MONEY_PATTERN)
# Other decimals (a percentage, the benchmark's K): plain text, at most 13 digits and 6 places.
_DECIMAL = re.compile(r"[+-]?[0-9]{1,13}(\.[0-9]{1,6})?")

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)  # exclusive

CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
MAX_DEPTH = 8
MAX_FREE_TEXT = 10_000
MAX_ITEMS = 1_000
INT64 = 2**63  # row ids, offsets and counts are signed 64-bit in both databases


class OutOfBounds(ValueError):
    """A value outside the bounds; ``key`` names the catalogue message, ``where`` the field.

    Its text, ``key|where``, survives msgspec's and Litestar's validation errors, which keep only
    text; the problem handler translates it."""

    def __init__(self, key: str, where: str = "") -> None:
        self.key = key
        self.where = where
        super().__init__(f"{key}|{where}")


def parse_yuan(text: str, *, signed: bool = False) -> Decimal:
    """Exact yuan from decimal text within the money bounds (cheap whatever the text)."""
    if not isinstance(text, str) or len(text) > 17 or not _MONEY.fullmatch(text):
        raise OutOfBounds("input.money")
    if not signed and text[0] in "+-":
        raise OutOfBounds("input.money")
    return Decimal(text)


def parse_decimal(value: object) -> Decimal:
    """A decimal number from text or a JSON number, within bounds (never 1E-400000, which would
    make a grid of 10^400000 steps)."""
    text = str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value
    if not isinstance(text, str) or len(text) > 21 or not _DECIMAL.fullmatch(text):
        raise OutOfBounds("input.decimal")
    return Decimal(text)


def fen(text: str, *, signed: bool = False) -> int:
    """Yuan text → whole fen (分)."""
    return int(parse_yuan(text, signed=signed).scaleb(2))


def yuan_text(amount_fen: int, *, grouped: bool = False) -> str:
    """Whole fen → yuan text with two decimals; ``grouped``: with thousands separators, as on a
    notice (15,500,000.00)."""
    value = Decimal(amount_fen).scaleb(-2)
    return f"{value:,.2f}" if grouped else f"{value:.2f}"


def within_horizon(value: date) -> bool:
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        try:
            return EARLIEST <= aware < LATEST
        except OverflowError:  # an offset pushes it past year 1 or 9999
            return False
    return EARLIEST.date() <= value < LATEST.date()


def clean_text(value: str) -> bool:
    return CONTROL_CHARACTERS.search(value) is None


def check(value: Any, where: str = "$", depth: int = 0, *, free: bool = False) -> None:
    """Raise ``OutOfBounds`` for the first value in ``value`` (recursively) outside the bounds.

    ``free``: inside free-form JSON, where no schema limits the size of strings and containers.
    """
    if isinstance(value, str):
        if not clean_text(value):
            raise OutOfBounds("input.control_character", where)
        if free and len(value) > MAX_FREE_TEXT:
            raise OutOfBounds("input.too_long", where)
    elif isinstance(value, int) and not -INT64 <= value < INT64:
        raise OutOfBounds("input.number_range", where)
    elif isinstance(value, date):
        if not within_horizon(value):
            raise OutOfBounds("input.outside_horizon", where)
    elif isinstance(value, dict | list | tuple):
        if depth >= MAX_DEPTH:
            raise OutOfBounds("input.too_deep", where)
        if len(value) > MAX_ITEMS:
            raise OutOfBounds("input.too_many", where)
        if isinstance(value, dict):
            for key, item in value.items():
                check(key, where, depth + 1, free=True)
                check(item, f"{where}.{key}", depth + 1, free=True)
        else:
            for i, item in enumerate(value):
                check(item, f"{where}[{i}]", depth + 1, free=free)
