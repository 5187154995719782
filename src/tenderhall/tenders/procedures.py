"""Procedure types and their rules, as data.

The defaults follow Chinese law (see DESIGN §3); a region may override any parameter, stored in
the ``procedure_overrides`` table and merged with :func:`rules_for`.  Nothing in the code branches
on a procedure's name: every difference between procedures is a value here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from decimal import Decimal
from enum import StrEnum

from tenderhall.bounds import parse_decimal


class ProcedureType(StrEnum):
    OPEN = "open_tender"  # 公开招标
    INVITED = "invited_tender"  # 邀请招标
    NEGOTIATION = "competitive_negotiation"  # 竞争性谈判
    CONSULTATION = "competitive_consultation"  # 竞争性磋商
    INQUIRY = "inquiry"  # 询价
    SIMPLIFIED = "simplified"  # 简易程序 (small projects)


@dataclass(frozen=True, slots=True)
class ProcedureRules:
    """Parameters of one procedure type.  Durations are in days."""

    min_bidding_period_days: int
    # 实施条例 第二十一条: a change that may affect bid preparation needs this many days before
    # the deadline, else the deadline is pushed.
    amendment_notice_days: int
    min_valid_bids: int
    bond_cap_percent: Decimal
    committee_min_size: int
    committee_expert_share: Decimal
    max_candidates: int
    publicity_days: int
    decryption_window_minutes: int
    archive_retention_years: int
    source: str


_TENDER_LAW = ProcedureRules(
    min_bidding_period_days=20,  # 招标投标法 第二十四条
    amendment_notice_days=15,  # 招标投标法实施条例 第二十一条
    min_valid_bids=3,  # 招标投标法 第二十八条
    bond_cap_percent=Decimal("2"),  # 招标投标法实施条例 第二十六条
    committee_min_size=5,  # 招标投标法 第三十七条
    committee_expert_share=Decimal(2) / Decimal(3),  # 招标投标法 第三十七条
    max_candidates=3,  # 招标投标法实施条例 第五十三条
    publicity_days=3,  # 招标投标法实施条例 第五十四条
    decryption_window_minutes=30,  # 电子招标投标办法 第二十九条: window set in the documents
    archive_retention_years=15,
    source="招标投标法; 招标投标法实施条例",
)

DEFAULT_RULES: Mapping[ProcedureType, ProcedureRules] = {
    ProcedureType.OPEN: _TENDER_LAW,
    ProcedureType.INVITED: _TENDER_LAW,
    # 政府采购非招标采购方式管理办法 第二十九条: at least 3 working days; approximated as 3 days.
    ProcedureType.NEGOTIATION: replace(
        _TENDER_LAW,
        min_bidding_period_days=3,
        amendment_notice_days=3,
        committee_min_size=3,
        max_candidates=3,
        publicity_days=1,
        source="政府采购非招标采购方式管理办法",
    ),
    # 政府采购竞争性磋商采购方式管理暂行办法 第十条: at least 10 days; changes 5 days before.
    ProcedureType.CONSULTATION: replace(
        _TENDER_LAW,
        min_bidding_period_days=10,
        amendment_notice_days=5,
        committee_min_size=3,
        publicity_days=1,
        source="政府采购竞争性磋商采购方式管理暂行办法",
    ),
    # 政府采购非招标采购方式管理办法 第四十五条: at least 3 working days.
    ProcedureType.INQUIRY: replace(
        _TENDER_LAW,
        min_bidding_period_days=3,
        amendment_notice_days=3,
        committee_min_size=3,
        publicity_days=1,
        source="政府采购非招标采购方式管理办法",
    ),
    # Small projects under local simplified rules; values are the common local defaults.
    ProcedureType.SIMPLIFIED: replace(
        _TENDER_LAW,
        min_bidding_period_days=5,
        amendment_notice_days=3,
        committee_min_size=3,
        publicity_days=3,
        source="地方简易程序规定 (check local rules)",
    ),
}

OVERRIDABLE = frozenset(f.name for f in fields(ProcedureRules) if f.name != "source")


class RuleOverrideError(ValueError):
    """An override names an unknown parameter or a value of the wrong kind."""


def rules_for(procedure: ProcedureType, overrides: Mapping[str, str] | None = None) -> ProcedureRules:
    """The rules of ``procedure`` with a region's ``overrides`` (parameter → value text) applied."""
    rules = DEFAULT_RULES[procedure]
    if not overrides:
        return rules
    changes: dict[str, object] = {}
    for name, text in overrides.items():
        if name not in OVERRIDABLE:
            raise RuleOverrideError(f"unknown procedure parameter {name!r}")
        current = getattr(rules, name)
        try:
            value: object = parse_decimal(text) if isinstance(current, Decimal) else int(text)
        except (ArithmeticError, ValueError) as exc:  # OutOfBounds is a ValueError
            raise RuleOverrideError(f"{name} must be a number, got {text!r}") from exc
        if isinstance(value, int | Decimal) and value < 0:
            raise RuleOverrideError(f"{name} must not be negative")
        changes[name] = value
    return replace(rules, **changes)  # type: ignore[arg-type]
