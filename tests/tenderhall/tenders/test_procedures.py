"""Procedure rules are data with the legal defaults and regional overrides."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tenderhall.tenders.procedures import DEFAULT_RULES, ProcedureType, RuleOverrideError, rules_for


def test_open_tender_defaults_follow_the_law() -> None:
    rules = rules_for(ProcedureType.OPEN)
    assert rules.min_bidding_period_days == 20  # 招标投标法 第二十四条
    assert rules.min_valid_bids == 3  # 第二十八条
    assert rules.bond_cap_percent == Decimal("2")  # 实施条例 第二十六条
    assert rules.committee_min_size == 5  # 第三十七条
    assert rules.max_candidates == 3  # 实施条例 第五十三条
    assert rules.publicity_days == 3  # 实施条例 第五十四条
    assert rules.archive_retention_years == 15


def test_every_procedure_type_has_rules() -> None:
    assert set(DEFAULT_RULES) == set(ProcedureType)


def test_region_overrides_apply_with_their_types() -> None:
    rules = rules_for(ProcedureType.OPEN, {"publicity_days": "5", "bond_cap_percent": "1.5"})
    assert rules.publicity_days == 5
    assert rules.bond_cap_percent == Decimal("1.5")
    assert rules_for(ProcedureType.OPEN).publicity_days == 3  # defaults untouched


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"no_such_rule": "1"}, "unknown"),
        ({"publicity_days": "three"}, "number"),
        ({"publicity_days": "-1"}, "negative"),
        ({"source": "x"}, "unknown"),
    ],
)
def test_bad_overrides_are_refused(overrides: dict[str, str], message: str) -> None:
    with pytest.raises(RuleOverrideError, match=message):
        rules_for(ProcedureType.OPEN, overrides)


def test_an_override_with_an_exponent_is_refused() -> None:
    # A bond cap of 1E+400000 percent would make every bond check build a 400,000-digit number.
    with pytest.raises(RuleOverrideError):
        rules_for(ProcedureType.OPEN, {"bond_cap_percent": "1E+400000"})
