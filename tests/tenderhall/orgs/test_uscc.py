"""Unified social credit codes, GB 32100-2015."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tenderhall.orgs import uscc

# Published codes of real organisations (from their public registration notices).
REAL = ["91350100M000100Y43", "91110000600037341L"]


@pytest.mark.parametrize("code", REAL)
def test_real_codes_validate(code: str) -> None:
    assert uscc.validate(code.lower()) == code


def test_wrong_check_character_is_refused_with_the_expected_one() -> None:
    with pytest.raises(uscc.USCCError) as caught:
        uscc.validate("91350100M000100Y44")
    assert caught.value.code == "uscc.check"
    assert "require 3" in str(caught.value)


@pytest.mark.parametrize(
    ("code", "key"),
    [
        ("9135010", "uscc.length"),
        ("91350100M000100YI3", "uscc.charset"),
        ("91350100M000100YO3", "uscc.charset"),
        ("", "uscc.length"),
    ],
)
def test_malformed_codes(code: str, key: str) -> None:
    with pytest.raises(uscc.USCCError) as caught:
        uscc.validate(code)
    assert caught.value.code == key


@given(st.text(alphabet=uscc.ALPHABET, min_size=17, max_size=17))
def test_made_codes_validate_and_any_single_change_is_caught(prefix: str) -> None:
    code = uscc.make(prefix)
    assert uscc.validate(code) == code
    for position in range(18):
        for replacement in uscc.ALPHABET[:3]:
            if replacement == code[position]:
                continue
            altered = code[:position] + replacement + code[position + 1 :]
            with pytest.raises(uscc.USCCError):
                uscc.validate(altered)
