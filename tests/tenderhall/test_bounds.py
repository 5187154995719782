"""The bounds themselves: cheap whatever the input, exact inside."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from tenderhall import bounds
from tenderhall.bounds import OutOfBounds, check, fen, parse_yuan, within_horizon, yuan_text


def test_money_is_plain_yuan_text_and_exact_in_fen() -> None:
    assert fen("0.01") == 1
    assert fen("9999999999999.99") == 999_999_999_999_999 < bounds.INT64
    assert parse_yuan("-12.5", signed=True) == Decimal("-12.5")
    assert yuan_text(1_550_000_000, grouped=True) == "15,500,000.00"
    assert yuan_text(-5) == "-0.05"
    for bad in ("1E+400000", "1e3", "10000000000000", "1.001", "１００", "1.00\n", " 1", "", "+1", "NaN"):
        started = time.monotonic()
        with pytest.raises(OutOfBounds):
            fen(bad)
        assert time.monotonic() - started < 0.1


def test_the_horizon() -> None:
    assert within_horizon(datetime(2000, 1, 1, tzinfo=UTC))
    assert within_horizon(datetime(2099, 12, 31, 23, 59, 59, tzinfo=UTC))
    assert not within_horizon(datetime(2100, 1, 1, tzinfo=UTC))
    west = timezone(-timedelta(hours=23, minutes=59))
    assert not within_horizon(datetime(9999, 12, 31, 23, 59, tzinfo=west))
    assert not within_horizon(datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=23))))
    assert within_horizon(date(2026, 3, 2))
    assert not within_horizon(date(1999, 12, 31))


def test_text_and_free_form_json() -> None:
    check({"a": ["line\r\n\ttab", 1, None]})
    for bad, key in (
        ("a\x00b", "input.control_character"),
        ({"k\x7f": 1}, "input.control_character"),
        ("\ud800", "input.control_character"),
        ({"x": "y" * 10_001}, "input.too_long"),
        ([[[[[[[[[[]]]]]]]]]], "input.too_deep"),
        ({"x": list(range(1001))}, "input.too_many"),
        ({"x": 2**63}, "input.number_range"),
        ({"x": datetime(9999, 1, 1, tzinfo=UTC)}, "input.outside_horizon"),
    ):
        with pytest.raises(OutOfBounds) as caught:
            check(bad)
        assert caught.value.key == key


def test_other_decimals_are_plain_and_bounded() -> None:
    assert bounds.parse_decimal("0.005") == Decimal("0.005")
    assert bounds.parse_decimal(2) == 2
    assert bounds.parse_decimal(0.5) == Decimal("0.5")
    for bad in ("1E-400000", "1E+400000", 1e-7, True, None, "0.0000001", "NaN", [1]):
        with pytest.raises(OutOfBounds):
            bounds.parse_decimal(bad)
