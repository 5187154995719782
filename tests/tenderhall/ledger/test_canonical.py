"""The fast canonical JSON writes exactly what the `rfc8785` package writes, or refuses alike."""

from __future__ import annotations

from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from tenderhall.ledger import canonical

# Any code point (lone surrogates included), so key order and escaping are both exercised.
TEXT = st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF), max_size=8)
SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**60), 2**60),
    st.floats(allow_nan=True, allow_infinity=True),
    TEXT,
)
VALUE = st.recursive(
    SCALAR,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(TEXT, inner, max_size=4)),
    max_leaves=20,
)


def outcome(dump: Any, value: Any) -> bytes | str:
    try:
        return dump(value)  # type: ignore[no-any-return]
    except ValueError:  # rfc8785.CanonicalizationError, or UnicodeEncodeError for surrogate keys
        return "refused"


@settings(max_examples=2000, deadline=None)
@given(VALUE)
def test_same_bytes_as_rfc8785(value: Any) -> None:
    assert outcome(canonical.dumps, value) == outcome(rfc8785.dumps, value)


@pytest.mark.parametrize(
    "value",
    [
        {"\ue000": 1, "\U0001f600": 2},  # code point order and UTF-16 order disagree
        {"a\x00\x1f\x7f\u2028": '\b\f\n\r\t"\\'},
        [2**53 - 1, -(2**53) + 1, 1.5, 1e21, -0.0],
        {"data": {"名": "投标", "n": [1, True, None]}},
    ],
)
def test_edge_cases(value: Any) -> None:
    assert canonical.dumps(value) == rfc8785.dumps(value)
