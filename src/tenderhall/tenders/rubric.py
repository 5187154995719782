"""The scoring rubric published with a tender, validated as structured data."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from tenderhall.errors import InvalidInput

ITEM_KINDS = ("technical", "commercial", "price")
PRICE_METHODS = ("lowest_price", "benchmark_price", "lowest_evaluated_price")


def validate_rubric(raw: Any) -> dict[str, Any]:
    """Return a normalised rubric or raise :class:`InvalidInput` naming the first problem.

    Shape: ``{"price_method": str, "items": [{"code", "name", "kind", "max_points"}]}`` with
    unique codes, positive points adding up to 100, and exactly one price item.
    """
    if not isinstance(raw, dict):
        raise InvalidInput("rubric.not_object")
    method = raw.get("price_method")
    if method not in PRICE_METHODS:
        raise InvalidInput("rubric.price_method", allowed=", ".join(PRICE_METHODS))
    items = raw.get("items")
    if not isinstance(items, list) or not items:
        raise InvalidInput("rubric.no_items")
    seen: set[str] = set()
    total = Decimal(0)
    out = []
    price_items = 0
    for position, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise InvalidInput("rubric.item_invalid", position=position)
        code, name, kind = item.get("code"), item.get("name"), item.get("kind")
        if not isinstance(code, str) or not code.strip() or code in seen:
            raise InvalidInput("rubric.item_code", position=position)
        if not isinstance(name, str) or not name.strip():
            raise InvalidInput("rubric.item_name", position=position)
        if kind not in ITEM_KINDS:
            raise InvalidInput("rubric.item_kind", position=position, allowed=", ".join(ITEM_KINDS))
        try:
            points = Decimal(str(item.get("max_points")))
        except (InvalidOperation, ValueError):
            raise InvalidInput("rubric.item_points", position=position) from None
        if not points.is_finite() or points <= 0:
            raise InvalidInput("rubric.item_points", position=position)
        seen.add(code)
        total += points
        price_items += kind == "price"
        out.append(
            {
                "code": code.strip(),
                "name": name.strip(),
                "kind": kind,
                "max_points": str(points),
                "guidance": str(item.get("guidance", "")),
            }
        )
    if price_items != 1:
        raise InvalidInput("rubric.one_price_item")
    if method == "lowest_evaluated_price" and len(out) != 1:
        # 经评审的最低投标价法 awards no points: technical and commercial terms are pass/fail at
        # review, and bids rank by evaluated price alone.
        raise InvalidInput("rubric.price_only")
    if total != 100:
        raise InvalidInput("rubric.total", total=str(total))
    return {"price_method": method, "items": out}
