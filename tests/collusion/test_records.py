import dataclasses
import datetime as dt

import pytest

from collusion.records import (
    BidRecord,
    CompanyRecord,
    Interner,
    Regime,
    TenderRecord,
    credit_code_check_char,
    is_valid_credit_code,
)


@pytest.mark.parametrize(
    "code", ["91440300708461136T", "91330100799655058B", "914403001922038216", "91350100M000100Y43"]
)
def test_published_credit_codes_validate(code: str) -> None:
    assert is_valid_credit_code(code)
    assert is_valid_credit_code(code.lower())


@pytest.mark.parametrize("code", ["91440300708461136X", "9144030070846113", "91440300708461136I", ""])
def test_bad_credit_codes_rejected(code: str) -> None:
    assert not is_valid_credit_code(code)


def test_check_char_rejects_bad_body() -> None:
    with pytest.raises(ValueError, match="credit code"):
        credit_code_check_char("91O")


def test_interner_is_dense_and_stable() -> None:
    it = Interner()
    assert [it.intern(s) for s in ("a", "b", "a", "c")] == [0, 1, 0, 2]
    assert it.names == ["a", "b", "c"]
    assert "b" in it
    assert "z" not in it
    assert it.get("z") is None
    assert len(it) == 3


def test_records_are_frozen_with_defaults() -> None:
    c = CompanyRecord("A")
    b = BidRecord("T1", "A", 1.0, dt.date(2024, 1, 1))
    t = TenderRecord("T1", dt.date(2024, 1, 1))
    assert t.regime is Regime.BIDDING_LAW
    assert b.doc_meta.created is None
    assert c.shareholders == ()
    with pytest.raises(dataclasses.FrozenInstanceError):
        b.price = 2.0  # type: ignore[misc]
