"""Scoring rubrics are validated as structured data."""

from __future__ import annotations

from typing import Any

import pytest

from tenderhall.errors import InvalidInput
from tenderhall.tenders.rubric import validate_rubric


def rubric(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "price_method": "lowest_price",
        "items": [
            {"code": "T1", "name": "技术方案", "kind": "technical", "max_points": "60"},
            {"code": "P", "name": "价格", "kind": "price", "max_points": 40},
        ],
    }
    base.update(changes)
    return base


def test_valid_rubric_is_normalised() -> None:
    out = validate_rubric(rubric())
    assert [i["max_points"] for i in out["items"]] == ["60", "40"]


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ([], "rubric.not_object"),
        (rubric(price_method="cheapest"), "rubric.price_method"),
        (rubric(items=[]), "rubric.no_items"),
        (
            rubric(items=[{"code": "P", "name": "价格", "kind": "price", "max_points": "100"}, "x"]),
            "rubric.item_invalid",
        ),
        (
            rubric(
                items=[
                    {"code": "P", "name": "价格", "kind": "price", "max_points": "50"},
                    {"code": "P", "name": "又一个", "kind": "technical", "max_points": "50"},
                ]
            ),
            "rubric.item_code",
        ),
        (rubric(items=[{"code": "P", "name": "", "kind": "price", "max_points": "100"}]), "rubric.item_name"),
        (
            rubric(items=[{"code": "P", "name": "价格", "kind": "vibes", "max_points": "100"}]),
            "rubric.item_kind",
        ),
        (
            rubric(items=[{"code": "P", "name": "价格", "kind": "price", "max_points": "NaN"}]),
            "rubric.item_points",
        ),
        (
            rubric(items=[{"code": "P", "name": "价格", "kind": "price", "max_points": "-5"}]),
            "rubric.item_points",
        ),
        (
            rubric(items=[{"code": "T", "name": "技术", "kind": "technical", "max_points": "100"}]),
            "rubric.one_price_item",
        ),
        (
            rubric(items=[{"code": "P", "name": "价格", "kind": "price", "max_points": "99.5"}]),
            "rubric.total",
        ),
        (  # 经评审的最低投标价法 scores nothing but the evaluated price
            rubric(
                price_method="lowest_evaluated_price",
                items=[
                    {"code": "T", "name": "技术", "kind": "technical", "max_points": "40"},
                    {"code": "P", "name": "价格", "kind": "price", "max_points": "60"},
                ],
            ),
            "rubric.price_only",
        ),
    ],
)
def test_bad_rubrics_name_the_problem(raw: Any, key: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_rubric(raw)
    assert caught.value.key == key
