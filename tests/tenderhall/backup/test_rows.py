"""Row values survive the trip through JSON Lines exactly, and a malformed line is refused."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tenderhall.backup.rows import RowError, decode_row, decode_value, encode_row, encode_value

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=12,
)
values = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.text()
    | st.floats(allow_nan=False)
    | st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=8))]))
    | st.dates()
    | st.decimals(allow_nan=False, allow_infinity=False)
    | st.binary()
    | st.uuids()
    | json_values.filter(lambda v: isinstance(v, dict | list))
)


@given(values)
def test_every_value_round_trips(value: object) -> None:
    assert decode_value(encode_value(value)) == value


def test_a_json_value_that_looks_like_a_tag_stays_json() -> None:
    sneaky = {"$": "bytes", "v": "AAAA"}
    line = encode_row({"manifest": sneaky, "at": datetime(2026, 12, 7, tzinfo=UTC)})
    assert decode_row(line, frozenset({"manifest", "at"})) == {
        "manifest": sneaky,
        "at": datetime(2026, 12, 7, tzinfo=UTC),
    }


def test_non_finite_floats_round_trip() -> None:
    assert math.isnan(decode_value(encode_value(float("nan"))))
    assert decode_value(encode_value(float("-inf"))) == float("-inf")


def test_exact_types_come_back() -> None:
    row = {"id": uuid.UUID(int=7), "d": date(2026, 1, 2), "m": Decimal("1.10"), "b": b"\x00\xff"}
    back = decode_row(encode_row(row), frozenset(row))
    assert back == row
    assert str(back["m"]) == "1.10"


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (b"not json", "not a JSON row"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"other": 1}', "unknown columns"),
        (b'{"id": {"$": "uuid", "v": "nope"}}', "uuid value is malformed"),
        (b'{"id": {"$": "bytes", "v": "!!"}}', "bytes value is malformed"),
        (b'{"id": {"$": "nope", "v": 1}}', "untagged dict"),
        (b'{"id": [1]}', "untagged list"),
        (b'{"id": 1.5}', "untagged float"),
    ],
)
def test_malformed_rows_are_refused(line: bytes, problem: str) -> None:
    with pytest.raises(RowError, match=problem):
        decode_row(line, frozenset({"id"}))


def test_unknown_python_types_are_refused_at_backup_time() -> None:
    with pytest.raises(RowError, match="complex"):
        encode_value(1j)
